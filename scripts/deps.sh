#!/usr/bin/env bash
# Installs the system libraries Entente needs (libsodium, SQLite headers, pkg-config) when they are missing, and
# the headless browser the report test uses.
set -euo pipefail
missing=()
pkg-config --version >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists libsodium 2>/dev/null || missing+=(libsodium-dev)
dpkg -s libsqlite3-dev >/dev/null 2>&1 || [ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
# The HTML report test renders the page in a real headless browser (Debian's chromium-headless-shell).
command -v chromium-headless-shell >/dev/null 2>&1 || [ -n "${ENTENTE_CHROMIUM:-}" ] || missing+=(chromium-headless-shell)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "Installing missing packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
