#!/usr/bin/env bash
# Spark 4 needs Java 17+. Install Debian's headless JRE when it is missing and we may.
set -euo pipefail
version_ok() {
  local v
  v=$(java -version 2>&1 | awk -F'"' '/version/ {print $2}' | cut -d. -f1)
  [ -n "$v" ] && [ "$v" -ge 17 ]
}
if command -v java >/dev/null 2>&1 && version_ok; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "earlyfuse: installing Java 17 (openjdk-17-jre-headless) for Spark" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  version_ok && exit 0
fi
echo "earlyfuse: Java 17 or newer is required by Spark 4; install it (e.g. apt-get install openjdk-17-jre-headless) and retry" >&2
exit 1
