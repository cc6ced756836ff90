#!/usr/bin/env bash
# Downloads the Keycloak distribution from Maven Central once (cached under .cache/keycloak, checked against the
# published SHA-1) and prints the path of the unpacked directory. Runs outside the network namespace: it is the
# only step of the Keycloak tests that uses the network, and it talks only to Maven Central.
#   scripts/keycloak-dist.sh [VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-${KEYCLOAK_VERSION:-26.7.3}}
cache=.cache/keycloak
zip=$cache/keycloak-quarkus-dist-$version.zip
base=https://repo1.maven.org/maven2/org/keycloak/keycloak-quarkus-dist/$version/keycloak-quarkus-dist-$version.zip
mkdir -p "$cache"
if [ ! -f "$zip" ]; then
  echo "keycloak-dist: downloading keycloak-quarkus-dist $version from Maven Central" >&2
  curl -fsS --retry 3 -o "$zip.part" "$base"
  curl -fsS --retry 3 -o "$zip.sha1" "$base.sha1"
  echo "$(cut -c1-40 "$zip.sha1")  $zip.part" | sha1sum -c --quiet
  mv "$zip.part" "$zip"
fi
if [ ! -x "$cache/keycloak-$version/bin/kc.sh" ]; then
  rm -rf "$cache/keycloak-$version"
  unzip -q -d "$cache" "$zip"
fi
echo "$PWD/$cache/keycloak-$version"
