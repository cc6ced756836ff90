# cimd: the two commands of the README are `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
NETNS := scripts/netns

.PHONY: demo test rust-deps lint rust-test conformance build release bench

## make demo: build the CLI, serve sample client documents on a throwaway loopback HTTPS host, resolve them.
demo: release
	scripts/demo.sh

## make test: every test of every part.
test: lint rust-test conformance
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
