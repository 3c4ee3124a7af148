#!/usr/bin/env bash
# Debian's chromium and chromium-driver for parksite's browser tests (tests/test_browser.py).
#
# apt-get runs only when /usr/bin/chromium or /usr/bin/chromedriver is missing (needed:
# failure is an error), or when no Chinese font is installed (then the small
# fonts-wqy-microhei, best effort, so that the test screenshots show 中文 labels rather
# than boxes; the maps themselves load no fonts). Otherwise it does nothing.
# Needs root (CI runs as root) or sudo. No browser is downloaded from anywhere else
# (no Selenium Manager, no Playwright download).
set -euo pipefail

need=()
want=()
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    need+=(chromium chromium-driver)
fi
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh 2>/dev/null | head -1)" ]; then
    want+=(fonts-wqy-microhei)
fi

if [ ${#need[@]} -eq 0 ] && [ ${#want[@]} -eq 0 ]; then
    echo "browser: $(/usr/bin/chromium --version 2>/dev/null | head -1), chromedriver and a Chinese font present"
    exit 0
fi

SUDO=""
can_install=1
if ! command -v apt-get >/dev/null 2>&1; then
    can_install=0
elif [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else can_install=0; fi
fi

if [ $can_install -eq 0 ]; then
    if [ ${#need[@]} -gt 0 ]; then
        echo "browser: ${need[*]} missing and cannot be installed here (needs apt-get as root);" \
             "run: apt-get install ${need[*]}" >&2
        exit 1
    fi
    echo "browser: no Chinese font (screenshots will show boxes); install ${want[*]} as root"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "browser: installing Debian's ${need[*]} ${want[*]}"
$SUDO apt-get update -qq
if [ ${#need[@]} -gt 0 ]; then
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ${#want[@]} -gt 0 ]; then
    $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null \
        || echo "browser: could not install ${want[*]} (screenshots will show boxes)"
fi
/usr/bin/chromium --version
