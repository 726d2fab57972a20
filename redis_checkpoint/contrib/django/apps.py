"""The Django app: ``INSTALLED_APPS = [..., "redis_checkpoint.contrib.django"]``."""
from django.apps import AppConfig


class RedisCheckpointConfig(AppConfig):  # type: ignore[misc]  # Django has no type hints here
    name = "redis_checkpoint.contrib.django"
    label = "redis_checkpoint"
    verbose_name = "Redis checkpoints"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system check)
