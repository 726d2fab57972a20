"""``manage.py check``: the ``REDIS_CHECKPOINT`` setting, validated without connecting.

* ``checkpoint.E001`` — the setting is missing or not shaped as documented;
* ``checkpoint.E002`` — a dotted path in ``types`` or ``upgrade`` cannot be imported;
* ``checkpoint.E003`` — an option is refused: a checkpointer keyword or value, or a
  connection option redis-py does not take (a misspelling gets a suggestion).
"""
from __future__ import annotations

from typing import Any, List

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from ...connection import connect, unknown_option
from ...store import OWN_OPTIONS, RedisCheckpointer, take_own
from . import SETTING, configured, resolved


@checks.register("redis_checkpoint")  # type: ignore[untyped-decorator]
def check_settings(app_configs: Any = None, **kwargs: Any) -> List[checks.CheckMessage]:
    try:
        entries = configured()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint="See redis_checkpoint.contrib.django", id="checkpoint.E001")]
    found: List[checks.CheckMessage] = []
    for name, entry in entries.items():
        where = f"settings.{SETTING}[{name!r}]"
        try:
            options = resolved(entry)
        except ValueError as exc:
            found.append(checks.Error(f"{where}: {exc}", id="checkpoint.E002"))
            continue
        try:
            RedisCheckpointer.options_for(**take_own(options))
            # cluster=False builds the pool and a connection object, and opens nothing
            connect(entry["URL"], **{**options, "cluster": False}).close()
        except TypeError as exc:
            found.append(checks.Error(f"{where}: {unknown_option(exc, OWN_OPTIONS)}", id="checkpoint.E003"))
        except ValueError as exc:
            found.append(checks.Error(f"{where}: {exc}", id="checkpoint.E003"))
    return found
