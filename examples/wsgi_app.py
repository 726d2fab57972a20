"""A plain WSGI app for gunicorn: the checkpointer is built at import, before the fork.

    REDIS_URL=redis://localhost:6379/0 gunicorn --preload -w 4 examples.wsgi_app:app
"""
import json
import os
from typing import Any, Callable, Iterable, List, Tuple

from redis_checkpoint import RedisCheckpointer

cp = RedisCheckpointer.from_url(
    os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
    key_prefix=os.environ.get("CHECKPOINT_PREFIX", "example"),
)
cp.client.ping()  # a connection exists before gunicorn forks: children must not reuse it

StartResponse = Callable[[str, List[Tuple[str, str]]], Any]


def _json(start_response: StartResponse, status: str, body: Any) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def app(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
    method, parts = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/").strip("/").split("/")
    if method == "POST" and len(parts) == 2 and parts[0] == "advance":
        def step(state: Any) -> Any:
            state = state or {"count": 0}
            return {"count": state["count"] + 1}

        meta = cp.advance(parts[1], step, metadata={"pid": os.getpid()})
        return _json(start_response, "200 OK", {"id": meta.id, "pid": os.getpid()})
    if method == "GET" and len(parts) == 2 and parts[0] == "state":
        latest = cp.load(parts[1])
        if latest is None:
            return _json(start_response, "404 Not Found", {"error": "no such thread"})
        return _json(start_response, "200 OK", {"id": latest.id, "state": latest.state})
    if method == "GET" and parts == ["whoami"]:
        # the server-side id of the connection this process used: never shared across processes
        return _json(start_response, "200 OK", {"pid": os.getpid(), "client_id": cp.client.client_id()})
    return _json(start_response, "404 Not Found", {"error": "unknown route"})
