"""The package type-checks (mypy, settings in pyproject.toml) and lints (ruff) clean, so
a wrong type or an unused import fails the suite, not a reviewer's read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_mypy_is_clean_on_geo():
    api = pytest.importorskip("mypy.api")
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                str(ROOT / "geo")])
    assert status == 0, out + err


def test_ruff_is_clean():
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "geo", "tests", "benchmarks"],
                       cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0 and "No module named ruff" in r.stderr:
        pytest.skip("ruff is not installed")
    assert r.returncode == 0, r.stdout + r.stderr
