#!/usr/bin/env bash
# The HTML-report test renders the page in headless Chromium. Install Debian's package when
# it is missing and we may; otherwise say so (that one test then reports itself skipped).
set -uo pipefail
for b in chromium chromium-browser google-chrome; do command -v "$b" >/dev/null 2>&1 && exit 0; done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "earlyfuse: installing Chromium (Debian package chromium) for the HTML-report test" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && exit 0
fi
echo "earlyfuse: no Chromium and no way to install it here; the HTML screenshot test will be skipped" >&2
exit 0
