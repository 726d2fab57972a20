# make test  - create .venv, install the package with its test extras, make sure a
#              redis-server binary exists, run the whole suite in parallel (xdist)
# make demo  - the end-to-end scenario (throwaway redis-server, else fakeredis)
# make bench - the side-by-side benchmark against raw redis-py
# make example-django / example-celery / example-gunicorn - one example, end to end
# make fuzz   - a longer fuzzing campaign (FUZZ_SECONDS, default 600) on a copy of fuzz/corpus

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?= -n auto

.PHONY: fuzz install test demo bench bench-micro clean example-django example-celery example-gunicorn

$(VENV)/.installed: setup.cfg setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

install: $(VENV)/.installed

test: $(VENV)/.installed
	sh scripts/ensure-redis-server
	$(PY) -m mypy redis_checkpoint tests/typed_usage.py
	$(PY) -m pytest $(PYTEST_ARGS)

demo: $(VENV)/.installed
	$(PY) -m redis_checkpoint.demo

bench: $(VENV)/.installed
	sh scripts/ensure-redis-server
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis

bench-micro: $(VENV)/.installed
	$(PY) -m pytest benchmarks/test_codec_micro.py -m benchmark -p no:xdist

example-django example-celery example-gunicorn: $(VENV)/.installed
	$(PY) -m examples $(subst example-,,$@)

FUZZ_SECONDS ?= 600
fuzz: $(VENV)/.installed
	rm -rf .fuzz-corpus && cp -r fuzz/corpus .fuzz-corpus
	$(PY) fuzz/fuzz_codec.py .fuzz-corpus -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 -malloc_limit_mb=256 -artifact_prefix=fuzz-crash-
