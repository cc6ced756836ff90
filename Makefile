# cimd: the two commands of the README are `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
NETNS := scripts/netns

.PHONY: demo test rust-deps lint rust-test conformance build release bench python-test python-bench

## make demo: build the CLI, serve sample client documents on a throwaway loopback HTTPS host, resolve them.
demo: release
	scripts/demo.sh

## make test: every test of every part.
test: lint rust-test conformance python-test
	@echo "make test: all suites passed"

rust-deps:
	@command -v $(CARGO) >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
	rustup component add rustfmt clippy >/dev/null 2>&1 || true
	$(CARGO) fetch

lint: rust-deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

# Tests are built outside and run inside an isolated network namespace (only loopback exists there).
rust-test: rust-deps
	$(CARGO) test --no-run
	$(NETNS) $(CARGO) test --offline

release: rust-deps
	$(CARGO) build --release

conformance: release
	python3 ../shared/conformance/harness.py --cimd target/release/cimd

bench: rust-deps
	$(NETNS) $(CARGO) bench --offline

# -- Python binding (bindings/python) -------------------------------------------------------------------------------
# pip installs the package from its directory (its build runs cargo on this crate and ships libcimd in the wheel)
# and the test tools from PyPI, outside the namespace; pytest then runs inside scripts/netns, where only loopback
# exists and tests/hosts maps the test host names.
PYTHON ?= python3
PY_DIR := bindings/python
PY_VENV := .cache/python-venv
PY_BENCH_VENV := .cache/python-bench-venv
PY_TEST_DEPS := pytest pytest-benchmark cryptography authlib flask gunicorn mypy

# pytest's exit 5 ("no tests ran") is a failure here, with a message, never a silent pass.
define run_pytest
	cd $(PY_DIR) && status=0 && CIMD_HOSTS=$(CURDIR)/$(PY_DIR)/tests/hosts $(CURDIR)/$(NETNS) \
	  $(CURDIR)/$(1)/bin/python -m pytest -p no:cacheprovider $(2) || status=$$?; \
	if [ $$status = 5 ]; then echo "$(PY_DIR): pytest collected no tests" >&2; fi; exit $$status
endef

python-test: rust-deps
	test -x $(PY_VENV)/bin/python || $(PYTHON) -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install --quiet $(PY_TEST_DEPS)
	CARGO=$(CARGO) $(PY_VENV)/bin/pip install --quiet --force-reinstall --no-deps ./$(PY_DIR)
	$(PY_VENV)/bin/mypy --strict --no-incremental $(PY_DIR)/src/cimd_engine
	$(call run_pytest,$(PY_VENV),--benchmark-disable)

## make python-bench: times a cache-hit resolve against FastMCP's pure-Python CIMD resolver (docs/benchmarks-python.md).
python-bench: export CIMD_BENCH_ASSERT := 1
python-bench: rust-deps
	test -x $(PY_BENCH_VENV)/bin/python || $(PYTHON) -m venv $(PY_BENCH_VENV)
	$(PY_BENCH_VENV)/bin/pip install --quiet $(PY_TEST_DEPS) fastmcp
	CARGO=$(CARGO) $(PY_BENCH_VENV)/bin/pip install --quiet --force-reinstall --no-deps ./$(PY_DIR)
	$(call run_pytest,$(PY_BENCH_VENV),tests/test_benchmark.py --benchmark-only --benchmark-columns=min,median,mean,ops,rounds)
