"""A LangGraph graph for the saver tests: messages, a subgraph with an interrupt.

``python -m tests.lg_graph URL PREFIX THREAD ANSWER`` resumes the thread in a
fresh process, as a worker that picks the run up would.
"""
from __future__ import annotations

import sys
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import Command, interrupt

try:
    from langgraph.channels.delta import DeltaChannel
except ImportError:  # before langgraph 1.2: the tests of delta channels skip
    DeltaChannel = None


def build(saver: Any) -> Any:
    def echo(state: MessagesState) -> Any:
        return {"messages": [AIMessage(content=f"echo: {state['messages'][-1].content}")]}

    def approve(state: MessagesState) -> Any:
        answer = interrupt({"question": "approve?", "last": state["messages"][-1].content})
        return {"messages": [HumanMessage(content=f"approved: {answer}")]}

    sub = StateGraph(MessagesState)
    sub.add_node("echo", echo)
    sub.add_node("approve", approve)
    sub.add_edge(START, "echo")
    sub.add_edge("echo", "approve")
    sub.add_edge("approve", END)

    def finish(state: MessagesState) -> Any:
        return {"messages": [AIMessage(content=f"done after {len(state['messages'])} messages")]}

    graph = StateGraph(MessagesState)
    graph.add_node("review", sub.compile())
    graph.add_node("finish", finish)
    graph.add_edge(START, "review")
    graph.add_edge("review", "finish")
    graph.add_edge("finish", END)
    return graph.compile(checkpointer=saver)


def start(saver: Any, thread: str) -> Any:
    config = {"configurable": {"thread_id": thread}}
    return build(saver).invoke({"messages": [HumanMessage(content="refund order 7")]}, config)


def resume(saver: Any, thread: str, answer: str) -> Any:
    config = {"configurable": {"thread_id": thread}}
    return build(saver).invoke(Command(resume=answer), config)


if __name__ == "__main__":
    from redis_checkpoint.langgraph import RedisSaver

    url, prefix, thread, answer = sys.argv[1:5]
    with_cluster = url.endswith("#cluster")
    saver = RedisSaver.from_url(url.split("#")[0], key_prefix=prefix, cluster=True if with_cluster else None)
    result = resume(saver, thread, answer)
    print("|".join(m.content for m in result["messages"]))
    saver.close()


def _extend(state: Any, writes: Any) -> Any:
    out = list(state or [])
    for write in writes:
        out.extend(write)
    return out


def build_delta(saver: Any) -> Any:
    """A graph on two of LangGraph's DeltaChannels, stored as snapshots every 50 and 7
    updates and rebuilt in between from the writes of the ancestors."""
    class State(TypedDict):
        items: Annotated[list, DeltaChannel(_extend, snapshot_frequency=50)]
        other: Annotated[list, DeltaChannel(_extend, snapshot_frequency=7)]

    def step(state: Any) -> Any:
        n = len(state["items"])
        return {"items": [n], "other": [n] if n % 3 else []}

    graph = StateGraph(State)
    graph.add_node("step", step)
    graph.add_edge(START, "step")
    graph.add_edge("step", END)
    return graph.compile(checkpointer=saver)


def run_delta(saver: Any, thread: str) -> Any:
    """Ten runs, a fork from the third newest checkpoint, six runs on the fork: the values."""
    config: Any = {"configurable": {"thread_id": thread}}
    for i in range(10):
        build_delta(saver).invoke({"items": [100 + i]}, config)
    fork = list(saver.list(config))[2].config
    for i in range(6):
        build_delta(saver).invoke({"items": [200 + i]}, fork)
        fork = config
    return build_delta(saver).get_state(config).values
