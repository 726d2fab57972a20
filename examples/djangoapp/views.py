"""Views that advance and read a thread's counter through the shared checkpointer."""
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from redis_checkpoint.contrib.django import get_checkpointer


def add(amount: int) -> Any:
    def step(state: Any) -> Any:
        state = state or {"count": 0, "steps": 0}
        return {"count": state["count"] + amount, "steps": state["steps"] + 1}

    return step


@csrf_exempt
@require_POST
def advance(request: HttpRequest, thread_id: str) -> JsonResponse:
    """POST /threads/<id>/advance?by=N[&request_id=R]: add N to the thread's counter."""
    try:
        amount = int(request.GET.get("by", "1"))
    except ValueError:
        return JsonResponse({"error": "by must be an integer"}, status=400)
    meta = get_checkpointer().advance(
        thread_id, add(amount), checkpoint_id=request.GET.get("request_id"),
        metadata={"source": "django", "by": amount},
    )
    return JsonResponse({"id": meta.id, "parent_id": meta.parent_id})


@require_GET
def state(request: HttpRequest, thread_id: str) -> JsonResponse:
    latest = get_checkpointer().load(thread_id)
    if latest is None:
        return JsonResponse({"error": "no such thread"}, status=404)
    return JsonResponse({"id": latest.id, "state": latest.state})


@require_GET
def history(request: HttpRequest, thread_id: str) -> JsonResponse:
    metas = get_checkpointer().list(thread_id, limit=int(request.GET.get("limit", "100")))
    return JsonResponse({"history": [{"id": m.id, "parent_id": m.parent_id, "metadata": m.metadata} for m in metas]})
