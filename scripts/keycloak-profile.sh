#!/usr/bin/env bash
# Where a login page's CPU goes on the Keycloak with the extension, per client kind (benches/keycloak/profile.py):
# async-profiler (from Maven Central, cached in .cache/) attached to the bench server, inside scripts/netns.
#   scripts/keycloak-profile.sh [--seconds N] [--reps N] [--a TARGET --b TARGET] [--grep FRAME]
#   python3 benches/keycloak/profile.py --report .cache/profile/profile.json [--a T --b T --grep S]  # read again
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
dist=$(scripts/keycloak-dist.sh)
jar=java-spi/target/cimd-keycloak-0.1.0.jar
[ -f "$jar" ] || make java-jar
ver=4.1
prof=.cache/async-profiler-$ver
if [ ! -f "$prof/linux-x64/libasyncProfiler.so" ]; then
  mkdir -p "$prof"
  curl -fsSL -o "$prof/async-profiler.jar" \
    "https://repo1.maven.org/maven2/tools/profiler/async-profiler/$ver/async-profiler-$ver.jar"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2], [n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.startswith("linux-x64/")])' "$prof/async-profiler.jar" "$prof"
fi
# --smoke (make test): every step once, briefly, in its own folder, so that a real run's output is never overwritten.
work=.cache/profile
case " $* " in *" --smoke "*) work=.cache/profile-smoke ;; esac
scripts/keycloak-netns "$work" python3 benches/keycloak/profile.py \
  --dist "$dist" --jar "$jar" --work "$PWD/$work" --profiler "$PWD/$prof/linux-x64/libasyncProfiler.so" "$@"
