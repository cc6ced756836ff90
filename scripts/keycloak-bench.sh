#!/usr/bin/env bash
# The Keycloak performance figures (docs/benchmarks-keycloak.md): JNI cost of a cache-hit resolve, authorization
# endpoint throughput (URL client vs database client vs Keycloak's built-in CIMD), 200 concurrent first requests.
# Keycloak, wrk and the document host run inside scripts/netns (only loopback exists).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
dist=$(scripts/keycloak-dist.sh)
jar=java-spi/target/cimd-keycloak-0.1.0.jar
mvn="mvn -B -q -Dmaven.repo.local=$PWD/.cache/m2"
(cd java-spi && $mvn test-compile && $mvn dependency:build-classpath -Dmdep.outputFile=target/classpath.txt)
cp="$PWD/java-spi/target/test-classes:$PWD/java-spi/target/classes:$(cat java-spi/target/classpath.txt)"
# --smoke (make test): every step once, briefly, in its own folder, so that a real run's output is never overwritten.
work=.cache/bench
case " $* " in *" --smoke "*) work=.cache/bench-smoke ;; esac
scripts/keycloak-netns "$work" python3 benches/keycloak/bench.py \
  --dist "$dist" --jar "$jar" --work "$PWD/$work" --classpath "$cp" "$@"
