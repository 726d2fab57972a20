"""Runnable examples: a Django project, a Celery app and a gunicorn WSGI app.

Each advances per-thread counters with ``Checkpointer.advance`` (load, compute,
compare-and-set save). ``python -m examples {django,celery,gunicorn}`` runs one
end to end against ``REDIS_URL`` or a throwaway redis-server.
"""
