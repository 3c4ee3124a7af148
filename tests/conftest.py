"""Shared fixtures: the bundled study and small layer writers."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import geopandas as gpd
import pytest
from hypothesis import settings

# CI runs the property tests on a fixed sequence of examples (a red CI run is then a
# change's fault, reproducible by CI=true pytest); a developer's run explores anew and
# pins what it finds with @example
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
YRD = ROOT / "layers" / "yrd.toml"
DATA = ROOT / "data"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def yrd_study():
    """The bundled YRD study, loaded once (layers are cached inside)."""
    from geo.study import load_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_study(YRD)


@pytest.fixture(scope="session")
def yrd_parks(yrd_study) -> gpd.GeoDataFrame:
    return yrd_study.load("parks")


@pytest.fixture(scope="session")
def yrd_redlines(yrd_study) -> gpd.GeoDataFrame:
    return yrd_study.load("redlines")


@pytest.fixture(scope="module")
def driver():
    """A headless Chromium with the network cut, one per test module (skipped without
    Chromium; under CI the browser tests must run)."""
    from _browser import chromium, require_browser

    require_browser()
    with chromium(offline=True) as d:
        yield d
