#!/usr/bin/env bash
# Debian's GMT and GSHHG full-resolution shorelines and rivers, for `parksite init`'s lakes
# and rivers (geo/national.py: gshhg_water reads them through `gmt coast`).
#
# Optional: without them `parksite init` still works and says, in the console, the study
# file and its README, that lakes and rivers are missing. apt-get runs only when
# /usr/bin/gmt or /usr/share/gmt-gshhg/binned_GSHHS_f.nc is missing. Needs root (CI runs
# as root) or sudo; otherwise it prints the command and exits 0.
set -euo pipefail

if command -v gmt >/dev/null 2>&1 && [ -f /usr/share/gmt-gshhg/binned_GSHHS_f.nc ]; then
    echo "gshhg: $(gmt --version 2>/dev/null) with GSHHG full resolution present"
    exit 0
fi

SUDO=""
if ! command -v apt-get >/dev/null 2>&1; then
    echo "gshhg: no apt-get here; install GMT and GSHHG yourself (parksite init then has lakes and rivers)"
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else
        echo "gshhg: run as root: apt-get install --no-install-recommends gmt gmt-gshhg-full"
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "gshhg: installing Debian's gmt gmt-gshhg-full"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends gmt gmt-gshhg-full >/dev/null \
    || echo "gshhg: could not install gmt gmt-gshhg-full (parksite init will say lakes and rivers are missing)"
