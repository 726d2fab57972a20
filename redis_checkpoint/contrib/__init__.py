"""Integrations with optional dependencies, each importing its framework lazily.

``redis_checkpoint.contrib.django`` needs the ``django`` extra and
``redis_checkpoint.contrib.celery`` the ``celery`` extra; importing one without
its framework raises ``ImportError`` naming the extra to install.
"""
from __future__ import annotations


def require(module: str, extra: str, feature: str) -> None:
    """Import ``module`` or raise ``ImportError`` naming the extra that provides it."""
    try:
        __import__(module)
    except ImportError as exc:
        raise ImportError(
            f"{feature} needs {module}: pip install 'redis-checkpoint[{extra}]'"
        ) from exc
