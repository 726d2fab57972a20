"""A FastAPI app on ``AsyncRedisCheckpointer``: every request runs on the event loop.

    REDIS_URL=redis://localhost:6379/0 uvicorn --workers 2 examples.asgi_app:app

``POST /threads/{id}/advance`` adds one to the thread's counter with ``advance``
(compare-and-set: concurrent requests on one thread all count, whichever worker
process serves them); ``GET /threads/{id}`` shows the latest state.
"""
import os
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict

from fastapi import FastAPI, HTTPException, Request

from redis_checkpoint import AsyncRedisCheckpointer, StorageError


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # one checkpointer per worker process, built on its own event loop, closed at shutdown
    async with AsyncRedisCheckpointer.from_url(
        os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
        key_prefix=os.environ.get("CHECKPOINT_PREFIX", "example"),
    ) as checkpointer:
        app.state.checkpointer = checkpointer
        yield


app = FastAPI(lifespan=lifespan)


async def count(state: Any) -> Dict[str, int]:
    return {"count": (state or {"count": 0})["count"] + 1}


@app.post("/threads/{thread_id}/advance")
async def advance(thread_id: str, request: Request) -> Dict[str, Any]:
    try:
        meta = await request.app.state.checkpointer.advance(thread_id, count, metadata={"pid": os.getpid()})
    except ValueError as exc:  # a thread id the checkpointer refuses: the client's mistake
        raise HTTPException(status_code=400, detail=str(exc)) from None
    except StorageError as exc:  # Redis unreachable after the retry budget
        raise HTTPException(status_code=503, detail=str(exc)) from None
    return {"id": meta.id, "pid": os.getpid()}


@app.get("/threads/{thread_id}")
async def show(thread_id: str, request: Request) -> Dict[str, Any]:
    latest = await request.app.state.checkpointer.load(thread_id)
    if latest is None:
        raise HTTPException(status_code=404, detail="no such thread")
    return {"id": latest.id, "state": latest.state}
