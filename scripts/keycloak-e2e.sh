#!/usr/bin/env bash
# The Keycloak end-to-end test (issue 4): Keycloak and the test document host run inside an isolated network
# namespace (scripts/netns: only loopback exists), with test host names from a generated hosts file.
#   scripts/keycloak-e2e.sh [--builtin] [e2e.py options]
# Needs: the jar (make java-jar), the distribution (scripts/keycloak-dist.sh), python3 with `cryptography` (for the
# test's own keys); the document host is the test origin (tests/origin/), which scripts/keycloak-netns builds.
set -euo pipefail
cd "$(dirname "$0")/.."
dist=$(scripts/keycloak-dist.sh)
jar=java-spi/target/cimd-keycloak-0.1.0.jar
mode=ours
for a in "$@"; do [ "$a" = --builtin ] && mode=builtin; done
work=.cache/e2e-$mode
scripts/keycloak-netns "$work" python3 tests/keycloak/e2e.py \
  --dist "$dist" --jar "$jar" --work "$PWD/$work" --results "$PWD/$work/results.json" "$@"
