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

.PHONY: demo demo-cli test rust-deps lint rust-test conformance build release bench \
	java-deps java-native java-jar java-unit java-e2e java-test keycloak-builtin-e2e keycloak-bench

## make demo: Keycloak with the extension, a sample client document on a loopback HTTPS host, a scripted login.
demo: java-jar
	scripts/keycloak-demo.sh

## make demo-cli: the CLI against sample client documents on a throwaway loopback HTTPS host.
demo-cli: release
	scripts/demo.sh

## make test: every test of every part.
test: lint rust-test conformance java-test
	@echo "make test: all suites passed"

rust-deps:
	@command -v $(CARGO) >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
	rustup component add rustfmt clippy >/dev/null 2>&1 || true
	$(CARGO) fetch

lint: rust-deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --all-targets --features jni -- -D warnings

# Tests are built outside and run inside an isolated network namespace (only loopback exists there).
rust-test: rust-deps
	$(CARGO) test --no-run
	$(NETNS) $(CARGO) test --offline

release: rust-deps
	$(CARGO) build --release $(RELEASE_FEATURES)

conformance: release
	python3 ../shared/conformance/harness.py --cimd target/release/cimd

bench: rust-deps
	$(NETNS) $(CARGO) bench --offline

## The Keycloak extension (java-spi/): native library, jar and unit tests, then the end-to-end test against a real
## Keycloak downloaded from Maven Central, run inside an isolated network namespace.
java-deps:
	@command -v mvn >/dev/null && command -v javac >/dev/null || { \
	  echo "java-deps: installing maven and a JDK (Debian packages)"; \
	  apt-get update -qq && apt-get install -y -qq maven openjdk-17-jdk-headless >/dev/null; }
	@python3 -c "import cryptography" 2>/dev/null || python3 -m pip install --quiet cryptography

java-native: rust-deps
	$(CARGO) build --release $(RELEASE_FEATURES)
	mkdir -p target/jni
	strip --strip-debug -o target/jni/libcimd.so target/release/libcimd.so

java-jar: java-deps java-native
	cd java-spi && $(MVN) package -DskipTests

java-unit: java-deps java-native
	cd java-spi && $(MVN) package
	@python3 scripts/surefire-summary.py java-spi/target/surefire-reports

java-e2e: java-unit
	scripts/keycloak-dist.sh >/dev/null
	scripts/keycloak-e2e.sh

java-test: java-e2e

## The same flows against Keycloak's own experimental CIMD feature (--features=cimd), for docs/keycloak.md.
keycloak-builtin-e2e: java-jar
	scripts/keycloak-dist.sh >/dev/null
	scripts/keycloak-e2e.sh --builtin --port 8180

## The Keycloak performance figures of docs/benchmarks-keycloak.md.
keycloak-bench: java-jar
	scripts/keycloak-dist.sh >/dev/null
	scripts/keycloak-bench.sh
