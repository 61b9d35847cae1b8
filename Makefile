# Two entry points for a fresh machine: `make demo` and `make test`. Everything else is a step of those.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install demo serve test test-fast test-hostile test-scale services services-stop lint bench clean

$(STAMP): pyproject.toml
	@free=$$(df -Pk . | awk 'NR==2 {print $$4}'); [ "$$free" -ge 9000000 ] || echo "make install:" \
		"$$((free / 1024)) MiB free here; the packages take ~7 GiB (torch's CUDA build and its libraries)" >&2
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

demo: install
	$(BIN)/discovery demo

serve: install
	$(BIN)/discovery serve

services:
	scripts/services start

services-stop:
	scripts/services stop

# The whole suite against real Redis, PostgreSQL and OpenSearch; a skipped service test fails the run.
# Lint (ruff, mypy) runs first; the dependency audit fails on a known vulnerability that has a fix
# (it warns when offline).
test: install lint services
	scripts/audit
	DISCOVERY_TEST_REQUIRE_SERVICES=1 $(BIN)/python -m pytest

# The hostile-input and crash suites alone (docs/RELIABILITY.md): what a hostile caller or an
# unlucky operator tried, on both engines.
test-hostile: install services
	DISCOVERY_TEST_REQUIRE_SERVICES=1 $(BIN)/python -m pytest tests/security \
		tests/integration/test_crash_recovery.py tests/integration/test_jobs_cancel.py tests/integration/test_retention.py

# Node loss on the scale-out stack (tests/scale): a 3-node OpenSearch cluster beside the single
# node (scripts/services cluster), real server and Celery worker processes, a data node and then
# a throwaway PostgreSQL killed with -9 mid-import. About 10 minutes on 2 cores; not in `make test`.
test-scale: install services
	scripts/services cluster start 3
	DISCOVERY_TEST_REQUIRE_SERVICES=1 $(BIN)/python -m pytest -m scale -v -s -p no:cacheprovider tests/scale

test-fast: install
	$(BIN)/python -m pytest -m "not opensearch and not redis and not postgres and not browser"

lint: install
	$(BIN)/ruff check discovery indexer models tests bench
	$(BIN)/mypy

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
