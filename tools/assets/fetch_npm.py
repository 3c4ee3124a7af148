"""Install the packages of a package-lock.json without npm (standard library only).

Used by tools/fetch_assets.sh when npm is not on PATH. For each
``node_modules/<name>`` entry of the lock it downloads the registry tarball
(``<registry>/<name>/-/<basename>-<version>.tgz``, or the lock's ``resolved`` URL),
checks it against the lock's ``integrity`` (sha512, as npm does) and unpacks it into
``<dest>/<name>``. A tarball that does not match is refused.

Usage: python fetch_npm.py package-lock.json DEST_NODE_MODULES
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.request


def registry() -> str:
    for k in ("npm_config_registry", "NPM_CONFIG_REGISTRY"):
        if os.environ.get(k):
            return os.environ[k].rstrip("/")
    return "https://registry.npmjs.org"


def fetch(url: str) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": "parksite-fetch-assets"})
    with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - registry URL
        return resp.read()


def check_integrity(data: bytes, integrity: str, what: str) -> None:
    algo, _, b64 = integrity.partition("-")
    if algo not in ("sha512", "sha384", "sha256", "sha1"):
        sys.exit(f"{what}: unsupported integrity {integrity!r}")
    got = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if got != b64:
        sys.exit(f"{what}: integrity mismatch (lock {integrity}, got {algo}-{got}); refusing it")


def main(lock_path: str, dest: str) -> None:
    lock = json.load(open(lock_path, encoding="utf-8"))
    for key, meta in lock["packages"].items():
        if not key.startswith("node_modules/"):
            continue
        name = key[len("node_modules/"):]
        version = meta["version"]
        base = name.split("/")[-1]
        url = meta.get("resolved") or f"{registry()}/{name}/-/{base}-{version}.tgz"
        data = fetch(url)
        check_integrity(data, meta["integrity"], f"{name}@{version}")
        out = os.path.join(dest, name)
        os.makedirs(out, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for m in tar.getmembers():
                # npm tarballs hold everything under "package/"; refuse anything else.
                parts = m.name.split("/", 1)
                if len(parts) != 2 or ".." in parts[1].split("/") or parts[1].startswith("/"):
                    continue
                if not (m.isfile() or m.isdir()):
                    continue
                target = os.path.join(out, parts[1])
                if m.isdir():
                    os.makedirs(target, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                src = tar.extractfile(m)
                assert src is not None
                with open(target, "wb") as fh:
                    fh.write(src.read())
        print(f"  {name}@{version}: {len(data) / 1024:.0f} KiB, integrity ok")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
