#!/usr/bin/env bash
# Debian's chromium and chromium-driver for parksite's browser tests (tests/test_browser.py).
# apt-get runs only when /usr/bin/chromium or /usr/bin/chromedriver is missing, or when no
# Chinese font is installed (then the small fonts-wqy-microhei, so that the test
# screenshots show 中文 labels instead of boxes). Otherwise it does nothing.
# Needs root (CI runs as root) or sudo. No browser is downloaded from anywhere else
# (no Selenium Manager, no Playwright download).
set -euo pipefail

pkgs=()
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    pkgs+=(chromium chromium-driver)
fi
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh 2>/dev/null | head -1)" ]; then
    pkgs+=(fonts-wqy-microhei)
fi

if [ ${#pkgs[@]} -eq 0 ]; then
    echo "browser: $(/usr/bin/chromium --version 2>/dev/null | head -1), chromedriver and a Chinese font present"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser: missing ${pkgs[*]} and apt-get is not available; install them with your" \
         "system's package manager" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "browser: installing ${pkgs[*]} needs root; run: apt-get install ${pkgs[*]}" >&2
        exit 1
    fi
fi

echo "browser: installing Debian's ${pkgs[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
/usr/bin/chromium --version
