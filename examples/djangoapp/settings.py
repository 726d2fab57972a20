"""Settings of the example Django project: no database, one checkpointer."""
import os

SECRET_KEY = "example-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "examples.djangoapp.urls"
INSTALLED_APPS: list = ["redis_checkpoint.contrib.django"]  # its system check and manage.py checkpoints
MIDDLEWARE: list = []
DATABASES: dict = {}
USE_TZ = True
TIME_ZONE = "UTC"

REDIS_CHECKPOINT = {
    "URL": os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
    "OPTIONS": {"key_prefix": os.environ.get("CHECKPOINT_PREFIX", "example")},
}
