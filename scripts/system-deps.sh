#!/usr/bin/env bash
# What the test suite needs outside Python, installed by `make test` (and so by CI):
# * Chromium for the browser checks and Lighthouse. Playwright drives it through
#   executable_path and never downloads a browser of its own. Set CHROMIUM to an
#   existing Chromium/Chrome binary to use that instead (GitHub's runners have
#   Google Chrome).
# * Java (Debian's openjdk-17-jre-headless) for the W3C Nu HTML Checker, if
#   `java` is absent.
# * npm (Debian's nodejs and npm) if absent, then the pinned Node tools of
#   package-lock.json (vnu-jar, lighthouse) with `npm ci`, when node_modules is
#   missing or older than the lock. --ignore-scripts: no package may download
#   anything at install time (vnu-jar's would fetch a Java runtime).
# * Pango and the DejaVu fonts for WeasyPrint (the PDF of the printable edition),
#   if absent (Chromium usually brings Pango along).
# Idempotent and quiet: does nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
if ! { [ -n "${CHROMIUM:-}" ] && [ -x "${CHROMIUM}" ]; } && ! command -v chromium >/dev/null 2>&1; then
  packages+=(chromium)
fi
command -v java >/dev/null 2>&1 || packages+=(openjdk-17-jre-headless)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
/sbin/ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' || packages+=(libpango-1.0-0 libpangoft2-1.0-0)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf ] || packages+=(fonts-dejavu-core)

if [ "${#packages[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
fi
