#!/usr/bin/env bash
# Debian packages the test suite needs, installed by `make test` (and so by CI):
# Chromium for the browser checks. Playwright drives it through
# executable_path and never downloads a browser of its own. Set CHROMIUM to an
# existing Chromium/Chrome binary to use that instead (GitHub's runners have
# Google Chrome). Idempotent: does nothing when the browser is present.
set -euo pipefail
if [ -n "${CHROMIUM:-}" ] && [ -x "${CHROMIUM}" ]; then exit 0; fi
command -v chromium >/dev/null 2>&1 && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium
