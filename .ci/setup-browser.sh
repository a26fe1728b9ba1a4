#!/usr/bin/env bash
# Headless Chromium for the browser tests (the client library running in a real page): Debian's
# `chromium` package, the system binary the tests drive; nothing is downloaded by npm. Idempotent:
# installs only when /usr/bin/chromium is missing.
#   bash .ci/setup-browser.sh
# Then export TRUSTTAP_REQUIRE_BROWSER=1 for `npm test`, so the browser tests fail (instead of
# skipping with a message, as they do locally) if Chromium is still missing.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
echo "browser ready: $(/usr/bin/chromium --version 2>/dev/null || echo '/usr/bin/chromium')"
