"""Django: checkpointers configured in settings, one shared instance per process.

Settings, either one checkpointer::

    REDIS_CHECKPOINT = {"URL": "redis://localhost:6379/0", "OPTIONS": {"ttl_seconds": 86400}}

or several by name, like ``CACHES``::

    REDIS_CHECKPOINT = {
        "default": {"URL": "redis://localhost:6379/0"},
        "audit": {"URL": "redis+sentinel://s1:26379/audit/0", "OPTIONS": {"min_replicas": 1}},
    }

``OPTIONS`` are the keywords of ``RedisCheckpointer.from_url``; ``types`` and ``upgrade``
may name their classes and function by dotted path (``"orders.models.Order"``).

Listed in ``INSTALLED_APPS`` as ``"redis_checkpoint.contrib.django"``, it adds a system
check of the setting (``manage.py check``, without connecting) and the command
``manage.py checkpoints [--using NAME] <command> ...`` (the command line's commands, on a
configured checkpointer). In a view::

    from redis_checkpoint.contrib.django import get_checkpointer
    cp = get_checkpointer()            # or get_checkpointer("audit")

The instance is built on first use and shared by every thread of the process
(it is thread-safe); processes forked later (gunicorn ``--preload``) reconnect
by themselves. Changing the setting (``override_settings`` in tests) closes and
forgets the instances built from the old value.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping

from .. import require

require("django", "django", "redis_checkpoint.contrib.django")

from django.conf import settings  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.core.signals import setting_changed  # noqa: E402

from ...locks import ForkSafeLock  # noqa: E402
from ...store import RedisCheckpointer  # noqa: E402
from ...types import load_object  # noqa: E402

SETTING = "REDIS_CHECKPOINT"

_lock = ForkSafeLock()
_instances: Dict[str, RedisCheckpointer] = {}


def configured() -> Dict[str, Mapping[str, Any]]:
    """The ``REDIS_CHECKPOINT`` setting as ``{name: {"URL": ..., "OPTIONS": {...}}}``."""
    value = getattr(settings, SETTING, None)
    if value is None:
        raise ImproperlyConfigured(f"settings.{SETTING} is not set; see redis_checkpoint.contrib.django")
    if not isinstance(value, Mapping):
        raise ImproperlyConfigured(f"settings.{SETTING} must be a dict, not {type(value).__name__}")
    if "URL" in value:  # the single-checkpointer form
        value = {"default": value}
    for name, entry in value.items():
        where = f"settings.{SETTING}[{name!r}]"
        if not isinstance(entry, Mapping):
            raise ImproperlyConfigured(f"{where} must be a dict with a 'URL', not {type(entry).__name__}")
        unknown = set(entry) - {"URL", "OPTIONS"}
        if unknown:
            raise ImproperlyConfigured(f"{where} has unknown keys {sorted(unknown)}; only URL and OPTIONS")
        if not isinstance(entry.get("URL"), str) or not entry["URL"]:
            raise ImproperlyConfigured(f"{where}['URL'] must be a non-empty redis:// URL")
        if not isinstance(entry.get("OPTIONS", {}), Mapping):
            raise ImproperlyConfigured(f"{where}['OPTIONS'] must be a dict")
    return dict(value)


def get_checkpointer(name: str = "default") -> RedisCheckpointer:
    """The process-wide checkpointer called ``name`` in ``settings.REDIS_CHECKPOINT``."""
    found = _instances.get(name)
    if found is not None:
        return found
    with _lock:
        found = _instances.get(name)
        if found is None:
            found = _instances[name] = _build(name)
        return found


def _build(name: str) -> RedisCheckpointer:
    entries = configured()
    if name not in entries:
        raise ImproperlyConfigured(
            f"no checkpointer {name!r} in settings.{SETTING}; configured: {sorted(entries)}"
        )
    entry = entries[name]
    try:
        return RedisCheckpointer.from_url(entry["URL"], **resolved(entry))
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"settings.{SETTING}[{name!r}]: {exc}") from exc


def resolved(entry: Mapping[str, Any]) -> Dict[str, Any]:
    """An entry's ``OPTIONS``, with the classes and function its dotted paths name
    (``"orders.models.Order"``); ``ValueError`` naming a path that cannot be imported."""
    options = dict(entry.get("OPTIONS", {}))
    if isinstance(options.get("types"), (list, tuple)):
        options["types"] = [load_object(t, "types") if isinstance(t, str) else t for t in options["types"]]
    if isinstance(options.get("upgrade"), str):
        options["upgrade"] = load_object(options["upgrade"], "upgrade")
    return options


def reset() -> None:
    """Close and forget every instance (the next ``get_checkpointer`` builds anew)."""
    with _lock:
        for cp in _instances.values():
            cp.close()
        _instances.clear()


def _on_setting_changed(*, setting: str, **_kwargs: Any) -> None:
    if setting == SETTING:
        reset()


setting_changed.connect(_on_setting_changed, dispatch_uid="redis_checkpoint.contrib.django")
