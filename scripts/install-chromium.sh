#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the browser tests (tests/browser).
#
# Idempotent: does nothing when a Chromium binary is already present. Installs only
# where it can (running as root with apt-get available); otherwise it prints why it
# did not and exits 0, and the browser tests skip with their own clear reason.
set -euo pipefail

for candidate in "${GREENLIGHT_CHROMIUM:-}" chromium chromium-browser google-chrome; do
    if [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null 2>&1; then
        echo "install-chromium: found $(command -v "$candidate"); nothing to install"
        exit 0
    fi
done

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: skipped: apt-get not found (not a Debian-based system);" \
        "install Chromium yourself or set GREENLIGHT_CHROMIUM to its path," \
        "otherwise the browser tests are skipped"
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "install-chromium: skipped: installing packages needs root;" \
        "run 'sudo apt-get install --no-install-recommends chromium'," \
        "otherwise the browser tests are skipped"
    exit 0
fi

echo "install-chromium: installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium
echo "install-chromium: installed $(command -v chromium)"
