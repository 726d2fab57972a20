"""Benchmarks for redis-checkpoint: ``python -m benchmarks`` (``make bench``)."""
