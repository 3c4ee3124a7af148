#!/usr/bin/env bash
# Fetch the JavaScript/CSS that parksite inlines into offline HTML maps.
#
# Source of truth: tools/assets/package.json + package-lock.json (committed; exact
# versions and sha512 integrity of Leaflet and Leaflet.markercluster). The packages
# come from the npm registry at install time, never from a CDN at view time:
#   * with npm on PATH: `npm ci` in a temporary folder (npm checks the lock's integrity);
#   * without npm: tools/assets/fetch_npm.py downloads the same tarballs from the
#     registry with Python's standard library and checks the same sha512 integrity.
# The needed files are copied into geo/assets/vendor/ (git-ignored) with a
# MANIFEST.json (package versions, file sizes and sha256). Idempotent: when the stamp
# in geo/assets/vendor/.stamp matches the lock file, it exits at once.
#
# Environment: PARKSITE_ASSETS_FORCE=1 refetches; PARKSITE_ASSETS_NO_NPM=1 uses the
# Python path even if npm exists; npm_config_registry picks another registry (mirror).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
LOCK="$ROOT/tools/assets/package-lock.json"
VENDOR="$ROOT/geo/assets/vendor"
STAMP="$VENDOR/.stamp"

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PY="$ROOT/.venv/bin/python"; else PY="python3"; fi
fi

want="$("$PY" - "$LOCK" "$ROOT/tools/fetch_assets.sh" "$ROOT/tools/assets/fetch_npm.py" <<'EOF'
import hashlib, sys
h = hashlib.sha256()
for p in sys.argv[1:]:
    with open(p, "rb") as f:
        h.update(f.read())
print(h.hexdigest())
EOF
)"

if [ "${PARKSITE_ASSETS_FORCE:-0}" != "1" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] \
   && [ -f "$VENDOR/MANIFEST.json" ]; then
    # Check every file of the manifest is still there (cheap: names only).
    if "$PY" - "$VENDOR" <<'EOF'
import json, os, sys
v = sys.argv[1]
m = json.load(open(os.path.join(v, "MANIFEST.json"), encoding="utf-8"))
sys.exit(0 if all(os.path.isfile(os.path.join(v, f)) for f in m["files"]) else 1)
EOF
    then
        echo "map assets: up to date ($VENDOR)"
        exit 0
    fi
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp "$ROOT/tools/assets/package.json" "$LOCK" "$WORK/"

if command -v npm >/dev/null 2>&1 && [ "${PARKSITE_ASSETS_NO_NPM:-0}" != "1" ]; then
    echo "map assets: npm ci (tools/assets/package-lock.json)"
    (cd "$WORK" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
else
    echo "map assets: npm not found; fetching the locked tarballs from the npm registry with Python"
    "$PY" "$ROOT/tools/assets/fetch_npm.py" "$LOCK" "$WORK/node_modules"
fi

"$PY" - "$WORK/node_modules" "$VENDOR" "$LOCK" <<'EOF'
"""Copy the files maps need from node_modules into geo/assets/vendor with a manifest."""
import hashlib, json, os, shutil, sys

nm, vendor, lock = sys.argv[1:4]
FILES = {
    "leaflet": ["dist/leaflet.js", "dist/leaflet.css", "dist/images/layers.png",
                "dist/images/layers-2x.png", "dist/images/marker-icon.png",
                "dist/images/marker-icon-2x.png", "dist/images/marker-shadow.png", "LICENSE"],
    "leaflet.markercluster": ["dist/leaflet.markercluster.js", "dist/MarkerCluster.css",
                              "dist/MarkerCluster.Default.css", "MIT-LICENCE.txt"],
}
tmp = vendor + ".tmp"
shutil.rmtree(tmp, ignore_errors=True)
os.makedirs(tmp)
manifest = {"source": "npm registry; versions and sha512 integrity pinned in "
                      "tools/assets/package-lock.json",
            "packages": {}, "files": {}}
locked = json.load(open(lock, encoding="utf-8"))["packages"]
for pkg, files in FILES.items():
    meta = json.load(open(os.path.join(nm, pkg, "package.json"), encoding="utf-8"))
    want = locked[f"node_modules/{pkg}"]["version"]
    if meta["version"] != want:
        sys.exit(f"map assets: {pkg} {meta['version']} installed but the lock says {want}")
    manifest["packages"][pkg] = {"version": meta["version"], "license": meta.get("license"),
                                 "integrity": locked[f"node_modules/{pkg}"]["integrity"]}
    for f in files:
        src = os.path.join(nm, pkg, f)
        rel = f"{pkg}/{f.removeprefix('dist/')}"
        dst = os.path.join(tmp, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        data = open(dst, "rb").read()
        manifest["files"][rel] = {"bytes": len(data),
                                  "sha256": hashlib.sha256(data).hexdigest()}
with open(os.path.join(tmp, "MANIFEST.json"), "w", encoding="utf-8") as fh:
    json.dump(manifest, fh, indent=1, sort_keys=True)
# Swap the folder into place in one step (a failed run leaves the old one).
old = vendor + ".old"
shutil.rmtree(old, ignore_errors=True)
if os.path.isdir(vendor):
    os.rename(vendor, old)
os.rename(tmp, vendor)
shutil.rmtree(old, ignore_errors=True)
n = len(manifest["files"])
size = sum(v["bytes"] for v in manifest["files"].values())
vers = ", ".join(f"{k} {v['version']}" for k, v in manifest["packages"].items())
print(f"map assets: {n} files, {size / 1024:.0f} KiB ({vers}) -> {vendor}")
EOF

echo "$want" > "$STAMP"
