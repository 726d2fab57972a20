"""``python -m redis_checkpoint``: the ``redis-checkpoint`` command line."""
from .cli import run

run()
