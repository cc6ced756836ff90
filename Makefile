# cimd: the two commands of the README are `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
NETNS := scripts/netns
# One release build serves the CLI and the Keycloak extension's native library (the jni feature only adds the
# JNI exports), so switching between them never rebuilds the crate.
RELEASE_FEATURES := --features jni
# Maven: batch mode, quiet, and a repository cache inside the worktree (gitignored), never ~/.m2.
MVN := mvn -B -q -Dmaven.repo.local=$(CURDIR)/.cache/m2
JAR := java-spi/target/cimd-keycloak-0.1.0.jar
# The test origin (tests/origin/origin.rs): the one loopback HTTPS origin, with one throwaway CA per run, that the C,
# Python, Go and Java tests and the Keycloak drivers start as a child process; its clients find it here.
TEST_ORIGIN := target/debug/examples/test-origin
export CIMD_TEST_ORIGIN := $(CURDIR)/$(TEST_ORIGIN)

.PHONY: demo demo-cli test rust-deps test-origin lint rust-test conformance build release bench c-deps c-test header \
	python-venv python-test python-bench-venv python-bench go-deps go-lib go-test go-bench \
	java-deps java-native java-jar java-unit java-e2e java-test keycloak-cluster-test keycloak-cluster-soak keycloak-builtin-e2e keycloak-bench keycloak-profile \
	hardening-test proptest fuzz-smoke fuzz soak-short soak memory-bench plots bench-smoke keycloak-bench-smoke \
	mcp-deps mcp-e2e \
	asan-lib sanitizer-test c-asan python-asan go-asan

## make demo: Keycloak with the extension, a sample client document on a loopback HTTPS host, a scripted login, then
## the Python MCP SDK's client logging in to a demo MCP server through the same realm.
demo: java-jar test-origin mcp-deps
	MCP_VENV=$(MCP_VENV) scripts/keycloak-demo.sh

## make demo-cli: the CLI against sample client documents on a throwaway loopback HTTPS host.
demo-cli: release
	scripts/demo.sh

## make test: every test of every part, the fuzz and fault-soak smokes, every benchmark once in a smoke mode (no
## figure asserted) and the bindings under AddressSanitizer.
test: lint rust-test c-test conformance python-test go-test fuzz-smoke soak-short sanitizer-test java-test \
	keycloak-cluster-test mcp-e2e bench-smoke
	@echo "make test: all suites passed"

rust-deps:
	@command -v $(CARGO) >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
	rustup component add rustfmt clippy >/dev/null 2>&1 || true
	$(CARGO) fetch

test-origin: rust-deps
	$(CARGO) build --example test-origin

lint: rust-deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --all-targets --features ffi-test-panic -- -D warnings
	$(CARGO) clippy --all-targets --features jni -- -D warnings

# Tests are built outside and run inside an isolated network namespace (only loopback exists there).
rust-test: rust-deps
	$(CARGO) test --no-run
	$(NETNS) $(CARGO) test --offline

release: rust-deps
	$(CARGO) build --release $(RELEASE_FEATURES)

# The shared conformance kit lives beside the clone (../shared, as in CI); a plain clone has no such folder, and
# then the step says so and is skipped: tests/cli.rs and tests/cli_contract.rs cover the same CLI contract.
CONFORMANCE_KIT ?= ../shared/conformance/harness.py
conformance: release
	@if [ -f $(CONFORMANCE_KIT) ]; then \
	  python3 $(CONFORMANCE_KIT) --cimd target/release/cimd; \
	else \
	  echo "conformance: skipped, $(CONFORMANCE_KIT) is not here (a clone without ../shared); the project's own"; \
	  echo "conformance: CLI contract tests (tests/cli.rs, tests/cli_contract.rs) ran in rust-test"; \
	fi

# The C ABI (src/ffi, include/cimd.h). The C tests link a release library built with the test-only export
# cimd_test_panic (cargo feature ffi-test-panic) in its own target directory, so that the library in
# target/release stays the production one; the example links the production library, shared and static.
C_TEST_LIB := target/c-test/release
C_BIN := target/c
C_FLAGS := -std=c11 -Wall -Wextra -Werror -pedantic -g -O1 -Iinclude

c-deps:
	@command -v gcc >/dev/null && command -v valgrind >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq && apt-get install -y -qq gcc valgrind; \
	  else echo "c-test needs gcc and valgrind (apt-get install gcc valgrind)"; exit 1; fi; }

## make header: regenerate include/cimd.h from src/ffi after changing the ABI (commit it with the change).
header: rust-deps
	CIMD_UPDATE_HEADER=1 $(CARGO) test --test c_header

c-test: rust-deps c-deps release test-origin
	$(CARGO) test --test c_header
	$(CARGO) build --release --lib --features ffi-test-panic --target-dir target/c-test
	mkdir -p $(C_BIN)
	for test in tests/c/test_*.c; do \
	  gcc $(C_FLAGS) "$$test" -o $(C_BIN)/"$$(basename "$$test" .c)" \
	    -L$(C_TEST_LIB) -Wl,-rpath,$(CURDIR)/$(C_TEST_LIB) -lcimd -lpthread; \
	done
	gcc $(C_FLAGS) examples/c/resolve.c -o $(C_BIN)/resolve-shared \
	  -Ltarget/release -Wl,-rpath,$(CURDIR)/target/release -lcimd
	gcc $(C_FLAGS) examples/c/resolve.c -o $(C_BIN)/resolve-static target/release/libcimd.a -lpthread -ldl -lm
	CIMD_HOSTS=$(FIXTURE_HOSTS) $(NETNS) tests/c/run.sh $(TEST_ORIGIN) $(C_BIN)

bench: rust-deps
	$(CARGO) bench --no-run
	$(NETNS) $(CARGO) bench --offline --bench engine --bench ffi

# Every benchmark of every front end once, as briefly as it goes, so that none can rot: criterion's test mode (each
# benchmark run once), the memory bench on 2,000 clients into target/, one iteration of each Go benchmark, the
# Python benchmarks once with the comparison resolver installed, and the Keycloak drivers (keycloak-bench-smoke).
# Nothing is timed or compared here; the figures come from the targets each results page names.
bench-smoke: rust-deps test-origin go-deps go-lib python-bench-venv keycloak-bench-smoke
	$(CARGO) bench --no-run
	$(NETNS) $(CARGO) bench --offline --bench engine --bench ffi -- --test
	mkdir -p target/bench-smoke
	$(NETNS) $(CARGO) bench --offline --bench memory -- --clients 2000 --out $(CURDIR)/target/bench-smoke
	cd bindings/go && $(CURDIR)/$(NETNS) $(GO_OFFLINE) $(GO) test -run '^$$' -bench . -benchtime 1x .
	$(call run_pytest,$(PY_BENCH_VENV),tests/test_benchmark.py --benchmark-disable)

# -- Python binding (bindings/python) -------------------------------------------------------------------------------
# pip installs the package from its directory (its build runs cargo on this crate and ships libcimd in the wheel)
# and the test tools from PyPI, outside the namespace; pytest then runs inside scripts/netns, where only loopback
# exists and tests/hosts maps the test host names.
PYTHON ?= python3
PY_DIR := bindings/python
PY_VENV := .cache/python-venv
PY_BENCH_VENV := .cache/python-bench-venv
PY_TEST_DEPS := pytest pytest-benchmark authlib flask gunicorn mypy

# pytest's exit 5 ("no tests ran") is a failure here, with a message, never a silent pass.
# $(3), if given, is a command prefix inside the namespace (python-asan: `env LD_PRELOAD=...`).
define run_pytest
	cd $(PY_DIR) && status=0 && CIMD_HOSTS=$(CURDIR)/$(PY_DIR)/tests/hosts $(CURDIR)/$(NETNS) \
	  $(3) $(CURDIR)/$(1)/bin/python -m pytest -p no:cacheprovider $(2) || status=$$?; \
	if [ $$status = 5 ]; then echo "$(PY_DIR): pytest collected no tests" >&2; fi; exit $$status
endef

python-venv: rust-deps
	test -x $(PY_VENV)/bin/python || $(PYTHON) -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install --quiet $(PY_TEST_DEPS)
	CARGO=$(CARGO) $(PY_VENV)/bin/pip install --quiet --force-reinstall --no-deps ./$(PY_DIR)

python-test: python-venv test-origin
	$(PY_VENV)/bin/mypy --strict --no-incremental $(PY_DIR)/src/cimd_engine
	$(call run_pytest,$(PY_VENV),--benchmark-disable)

## make python-bench: times a cache-hit resolve against FastMCP's pure-Python CIMD resolver (docs/benchmarks-python.md).
# The columns are a variable: a comma inside $(call ...) would split its arguments.
PY_BENCH_ARGS := tests/test_benchmark.py --benchmark-only --benchmark-columns=min,median,iqr,mean,ops,rounds
python-bench-venv: rust-deps test-origin
	test -x $(PY_BENCH_VENV)/bin/python || $(PYTHON) -m venv $(PY_BENCH_VENV)
	$(PY_BENCH_VENV)/bin/pip install --quiet $(PY_TEST_DEPS) fastmcp
	CARGO=$(CARGO) $(PY_BENCH_VENV)/bin/pip install --quiet --force-reinstall --no-deps ./$(PY_DIR)

python-bench: python-bench-venv
	$(call run_pytest,$(PY_BENCH_VENV),$(PY_BENCH_ARGS))

# -- Go binding (bindings/go) and its fosite example. Modules are downloaded here, outside the namespace; inside it
# GOPROXY=off, so a test that needed the network would fail instead of reaching out.
GO ?= go
GO_MODULES := bindings/go bindings/go/examples/fosite
# Go's build cache does not see C libraries named in #cgo LDFLAGS, so a rebuilt libcimd.a would not be relinked;
# its checksum in CGO_CFLAGS makes a changed library rebuild the cgo package and everything linked with it.
GO_LIB_SUM = $(shell sha256sum $(1) | cut -c1-16)
GO_OFFLINE = env GOFLAGS=-mod=mod GOPROXY=off CGO_CFLAGS="-O2 -g -DCIMD_LIBRARY_SUM=$(call GO_LIB_SUM,target/release/libcimd.a)"

go-deps:
	@command -v $(GO) >/dev/null || { echo "go is required (https://go.dev/dl)"; exit 1; }
	for m in $(GO_MODULES); do (cd $$m && GOFLAGS=-mod=mod $(GO) mod download); done

# The static library the cgo package links: target/release/libcimd.a.
go-lib: rust-deps
	$(CARGO) build --release --lib

# Inside the namespace the Go and C tests see tests/fixtures/hosts as /etc/hosts (the published documents' hosts).
FIXTURE_HOSTS := $(CURDIR)/tests/fixtures/hosts
GO_NETNS = env CIMD_HOSTS=$(FIXTURE_HOSTS) $(CURDIR)/$(NETNS)

go-test: go-deps go-lib test-origin
	@unformatted="$$(gofmt -l bindings/go)"; if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	for m in $(GO_MODULES); do \
	  (cd $$m && $(GO_NETNS) $(GO_OFFLINE) $(GO) vet ./... && \
	   $(GO_NETNS) $(GO_OFFLINE) $(GO) test -race -count=1 ./...) || exit 1; \
	done

## make go-bench: the Go binding's cache-hit benchmark (docs/benchmarks-go.md).
go-bench: go-deps go-lib test-origin
	cd bindings/go && $(CURDIR)/$(NETNS) $(GO_OFFLINE) $(GO) test -run '^$$' -bench 'ResolveCacheHit|CgoCrossing' -benchmem -count 5 .

## The Keycloak extension (java-spi/): native library, jar and unit tests, then the end-to-end test against a real
## Keycloak downloaded from Maven Central, run inside an isolated network namespace.
java-deps:
	@command -v mvn >/dev/null && command -v javac >/dev/null || { \
	  echo "java-deps: installing maven and a JDK (Debian packages)"; \
	  apt-get update -qq && apt-get install -y -qq maven openjdk-17-jdk-headless >/dev/null; }
	@# The Keycloak drivers sign their test clients' JWTs with `cryptography` (tests/keycloak/kc.py).
	@python3 -c "import cryptography" 2>/dev/null || python3 -m pip install --quiet cryptography

java-native: rust-deps
	$(CARGO) build --release $(RELEASE_FEATURES)
	mkdir -p target/jni
	strip --strip-debug -o target/jni/libcimd.so target/release/libcimd.so

java-jar: java-deps java-native
	cd java-spi && $(MVN) package -DskipTests

java-unit: java-deps java-native test-origin
	cd java-spi && $(MVN) package
	@python3 scripts/surefire-summary.py java-spi/target/surefire-reports

java-e2e: java-unit
	scripts/keycloak-dist.sh >/dev/null
	scripts/keycloak-e2e.sh

java-test: java-e2e

## Two production-mode Keycloak nodes clustered on one PostgreSQL (installed with apt-get if missing), logins split
## across nodes, a node stopped mid-login (scripts/keycloak-cluster.sh, inside scripts/netns; docs/keycloak.md).
keycloak-cluster-test: java-jar test-origin
	scripts/keycloak-dist.sh >/dev/null
	scripts/keycloak-cluster.sh

## The cluster soak (not part of make test): the same two nodes, logins spread over both for SOAK_SECONDS while the
## documents change (30 s lifetimes) and node a is stopped and started again; results in .cache/cluster-soak/.
SOAK_SECONDS ?= 240
keycloak-cluster-soak: java-jar test-origin
	scripts/keycloak-dist.sh >/dev/null
	scripts/keycloak-cluster.sh --soak $(SOAK_SECONDS)

## The same flows against Keycloak's own experimental CIMD feature (--features=cimd), for docs/keycloak.md.
keycloak-builtin-e2e: java-jar test-origin
	scripts/keycloak-dist.sh >/dev/null
	scripts/keycloak-e2e.sh --builtin --port 8180

## The Keycloak performance figures of docs/benchmarks-keycloak.md.
keycloak-bench: java-jar test-origin
	scripts/keycloak-dist.sh >/dev/null
	scripts/keycloak-bench.sh

# Both Keycloak drivers with --smoke (every step once, a second each; two servers started), then the report of the
# bench's output, so that the commands of docs/benchmarks-keycloak.md keep working.
keycloak-bench-smoke: java-jar test-origin
	scripts/keycloak-dist.sh >/dev/null
	scripts/keycloak-bench.sh --smoke
	python3 benches/keycloak/bench_report.py .cache/bench-smoke/bench.json >/dev/null
	scripts/keycloak-profile.sh --smoke

## Where a login page's CPU goes per client kind (async-profiler in the bench server; docs/benchmarks-keycloak.md).
keycloak-profile: java-jar test-origin
	scripts/keycloak-profile.sh

## The MCP end-to-end suite (tests/mcp/harness.py): each MCP SDK's own client (Python; TypeScript and Go when
## tests/mcp/clients/build.sh is here) against Keycloak with the extension, a loopback HTTPS document host and a
## minimal MCP server, the user's part done by headless chromium; inside the namespace (scripts/mcp-e2e.sh).
# Every Python package pinned in tests/mcp/requirements.txt (mcp 2.3.0, PyJWT 2.15.1, selenium 4.51.0 and what they
# pull in), in the suite's own venv. Debian's chromium and chromium-driver are installed with apt-get only when
# missing (the suite drives /usr/bin/chromium through /usr/bin/chromedriver; Selenium Manager downloads nothing).
MCP_VENV := .cache/mcp-venv
mcp-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "mcp-deps: installing chromium and chromium-driver (Debian packages)"; \
	  apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }
	test -x $(MCP_VENV)/bin/python || $(PYTHON) -m venv $(MCP_VENV)
	$(MCP_VENV)/bin/pip install --quiet -r tests/mcp/requirements.txt

mcp-e2e: java-jar test-origin mcp-deps
	scripts/keycloak-dist.sh >/dev/null
	MCP_VENV=$(MCP_VENV) scripts/mcp-e2e.sh

# -- Hardening (issue 7): property tests, fuzz smoke, fault soak, memory bounds, sanitizers (docs/security.md).
# `make test` runs fuzz-smoke, soak-short and sanitizer-test (the property tests run there through `cargo test`,
# with fewer cases than `make proptest`).
hardening-test: proptest fuzz-smoke soak-short sanitizer-test

PROPTEST_CASES ?= 8192
proptest: rust-deps
	PROPTEST_CASES=$(PROPTEST_CASES) $(CARGO) test --offline --test properties --test regressions

FUZZ_SECONDS ?= 30
fuzz-smoke: rust-deps
	scripts/fuzz $(FUZZ_SECONDS)

# The recorded run of docs/security.md: 10 minutes per target, one target at a time.
fuzz: rust-deps
	FUZZ_REPORT=target/fuzz-report.tsv scripts/fuzz 600

soak-short: rust-deps
	$(CARGO) bench --bench soak --no-run
	$(NETNS) $(CARGO) bench --offline --bench soak -- --short

soak: rust-deps
	$(CARGO) bench --bench soak --no-run
	$(NETNS) $(CARGO) bench --offline --bench soak

## 100,000 distinct client_ids through a small cache, then the plots of docs/benchmarks.md.
memory-bench: rust-deps
	$(CARGO) bench --bench memory --no-run
	$(NETNS) $(CARGO) bench --offline --bench memory
	scripts/plot-hardening

plots:
	scripts/plot-hardening

# -- Sanitizers: the C tests, the Python binding's tests and the Go binding's tests once more, against a libcimd
# built with AddressSanitizer (scripts/nightly-cargo: nightly, or RUSTC_BOOTSTRAP=1 on stable). A Rust cdylib or
# staticlib carries no sanitizer runtime, so the host provides it: gcc's libasan, linked into the C programs
# (-fsanitize=address), preloaded into CPython, and linked by `go test -asan`. Leaks are checked too (LSan).
ASAN_TRIPLE := x86_64-unknown-linux-gnu
ASAN_LIB := target/asan/$(ASAN_TRIPLE)/release
LIBASAN = $(shell gcc -print-file-name=libasan.so)
# Frame pointers everywhere, so that LSan's fast unwinder gives full allocation stacks.
ASAN_RUSTFLAGS := -Zsanitizer=address -Cforce-frame-pointers=yes
ASAN_CFLAGS := -fsanitize=address -fno-omit-frame-pointer
# Any report fails the run; abort_on_error=0 so that the exit status is ASan's, not a core dump.
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1

sanitizer-test: c-asan python-asan go-asan

## make asan-lib: libcimd (shared and static, with the test-only cimd_test_panic) built with AddressSanitizer.
asan-lib: rust-deps
	RUSTFLAGS="$(ASAN_RUSTFLAGS)" scripts/nightly-cargo build --release --lib --features ffi-test-panic \
	  --target $(ASAN_TRIPLE) --target-dir target/asan

# The C tests and the example (tests/c/run.sh --asan: ASan and LSan instead of valgrind).
c-asan: rust-deps c-deps asan-lib test-origin
	mkdir -p target/c-asan
	for test in tests/c/test_*.c; do \
	  gcc $(C_FLAGS) $(ASAN_CFLAGS) "$$test" -o target/c-asan/"$$(basename "$$test" .c)" \
	    -L$(ASAN_LIB) -Wl,-rpath,$(CURDIR)/$(ASAN_LIB) -lcimd -lpthread; \
	done
	gcc $(C_FLAGS) $(ASAN_CFLAGS) examples/c/resolve.c -o target/c-asan/resolve-shared \
	  -L$(ASAN_LIB) -Wl,-rpath,$(CURDIR)/$(ASAN_LIB) -lcimd
	gcc $(C_FLAGS) $(ASAN_CFLAGS) examples/c/resolve.c -o target/c-asan/resolve-static $(ASAN_LIB)/libcimd.a \
	  -lpthread -ldl -lm
	CIMD_HOSTS=$(FIXTURE_HOSTS) $(NETNS) tests/c/run.sh --asan $(TEST_ORIGIN) target/c-asan

# The installed package of python-test, loading the ASan libcimd (CIMD_ENGINE_LIBRARY), in CPython under the
# preloaded libasan, with PYTHONMALLOC=malloc so that Python's objects are in the sanitizer's view too. Every
# process (pytest, and the gunicorn master and workers it starts) writes its reports to its own file in
# target/python-asan/ rather than to a stderr that a test may hold in a pipe; any such file fails the run.
# Allocations that two third-party extension modules keep until exit are suppressed by
# bindings/python/tests/lsan.supp (the comment there says why that cannot hide a leak of libcimd).
PY_ASAN_LOGS := target/python-asan
PY_ASAN_ENV = env LD_PRELOAD=$(LIBASAN) CIMD_ENGINE_LIBRARY=$(CURDIR)/$(ASAN_LIB)/libcimd.so \
	$(ASAN_ENV):log_path=$(CURDIR)/$(PY_ASAN_LOGS)/asan \
	LSAN_OPTIONS=suppressions=$(CURDIR)/$(PY_DIR)/tests/lsan.supp:print_suppressions=0 PYTHONMALLOC=malloc
python-asan: python-venv asan-lib test-origin
	rm -rf $(PY_ASAN_LOGS) && mkdir -p $(PY_ASAN_LOGS)
	$(call run_pytest,$(PY_VENV),--benchmark-disable,$(PY_ASAN_ENV))
	@if [ -n "$$(ls -A $(PY_ASAN_LOGS))" ]; then head -c 20000 $(PY_ASAN_LOGS)/*; \
	  echo "python-asan: sanitizer reports above (one file per process in $(PY_ASAN_LOGS)/)" >&2; exit 1; fi
	@echo "python-asan: no sanitizer report from any process"

# `go test -asan` (gcc's libasan; the asan build tag selects link_asan.go). Not combined with -race, which Go
# refuses together with -asan; go-test runs -race.
go-asan: go-deps asan-lib test-origin
	for m in $(GO_MODULES); do \
	  (cd $$m && $(GO_NETNS) env GOFLAGS=-mod=mod GOPROXY=off $(ASAN_ENV) \
	    CGO_CFLAGS="-O1 -g -DCIMD_LIBRARY_SUM=$(call GO_LIB_SUM,$(ASAN_LIB)/libcimd.a)" \
	    $(GO) test -asan -count=1 ./...) || exit 1; \
	done
