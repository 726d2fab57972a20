"""Views that advance and read a thread's counter through the shared checkpointer.

Bad input (a malformed id, a limit that is not a number) gets a 400 that says what
is wrong: the checkpointer checks every argument before it sends anything and
names the one at fault. Anything unexpected is logged and answered with a 500.
"""
import functools
import logging
from typing import Any, Callable

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from redis_checkpoint import StorageError
from redis_checkpoint.contrib.django import get_checkpointer

logger = logging.getLogger(__name__)


def json_errors(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
            return view(request, *args, **kwargs)
        except (ValueError, TypeError) as exc:  # the request's fault: nothing was written
            return JsonResponse({"error": str(exc)}, status=400)
        except StorageError:
            logger.exception("Redis failed for %s", request.path)
            return JsonResponse({"error": "storage unavailable, try again"}, status=503)
        except Exception:
            logger.exception("unexpected error for %s", request.path)
            return JsonResponse({"error": "internal error"}, status=500)

    return wrapped


def number(request: HttpRequest, name: str, default: int) -> int:
    text = request.GET.get(name, str(default))
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {text[:40]!r}") from None


def add(amount: int) -> Any:
    def step(state: Any) -> Any:
        state = state or {"count": 0, "steps": 0}
        return {"count": state["count"] + amount, "steps": state["steps"] + 1}

    return step


@csrf_exempt
@require_POST
@json_errors
def advance(request: HttpRequest, thread_id: str) -> JsonResponse:
    """POST /threads/<id>/advance?by=N[&request_id=R]: add N to the thread's counter."""
    amount = number(request, "by", 1)
    meta = get_checkpointer().advance(
        thread_id, add(amount), checkpoint_id=request.GET.get("request_id"),
        metadata={"source": "django", "by": amount},
    )
    return JsonResponse({"id": meta.id, "parent_id": meta.parent_id})


@require_GET
@json_errors
def state(request: HttpRequest, thread_id: str) -> JsonResponse:
    latest = get_checkpointer().load(thread_id)
    if latest is None:
        return JsonResponse({"error": "no such thread"}, status=404)
    return JsonResponse({"id": latest.id, "state": latest.state})


@require_GET
@json_errors
def history(request: HttpRequest, thread_id: str) -> JsonResponse:
    metas = get_checkpointer().list(thread_id, limit=number(request, "limit", 100))
    return JsonResponse({"history": [{"id": m.id, "parent_id": m.parent_id, "metadata": m.metadata} for m in metas]})
