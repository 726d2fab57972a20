"""Realistic states: conversation-like dicts of a given encoded size."""
from __future__ import annotations

import random
from typing import Any, Dict

WORDS = (
    "the agent called a tool and the result was an order invoice refund for the customer "
    "shipment pending paris weather status ticket escalated resolved message user assistant"
).split()


def conversation(size: int, seed: int = 1) -> Dict[str, Any]:
    """A chat-agent state whose JSON text is about ``size`` bytes."""
    rng = random.Random(seed)
    messages = []
    total = 0
    while total < size * 0.85:
        content = " ".join(rng.choice(WORDS) + (str(rng.randint(0, 999)) if rng.random() < 0.2 else "")
                           for _ in range(rng.randint(8, 40)))
        msg = {"id": f"msg-{len(messages)}", "role": rng.choice(["user", "assistant", "tool"]), "content": content}
        messages.append(msg)
        total += len(content) + 40
    return {"messages": messages, "step": len(messages), "channel_versions": {"messages": len(messages)}}
