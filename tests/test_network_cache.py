"""geo.network.cache: the YRD road network built once, cached to disk and loaded equal."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo.network import Network
from geo.study import load_study

pytestmark = [pytest.mark.slow,  # each YRD network build takes ~5-10 s here
              pytest.mark.filterwarnings("ignore:study .cache. straddles")]

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "yrd"

STUDY = f"""
[study]
name = "cache"
boundary = "study_area"

[layers.study_area]
path = "{DATA / 'base.gpkg'}"
layer = "study_area"
role = "boundary"

[layers.highways]
path = "{DATA / 'base.gpkg'}"
layer = "highways"
role = "roads"

[network]
snap_tolerance_m = 1.0
max_snap_m = 5000
default_speed_kmh = {{speed}}
connectors = "{DATA / 'connectors.gpkg'}"
{{compute}}
"""


def _study(tmp: Path, *, speed: float = 70, cache: bool = True):
    p = tmp / "study.toml"
    p.write_text(STUDY.format(speed=speed, compute='[compute]\ncache_dir = "cache"' if cache
                              else ""), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_study(p)


def _same(a: Network, b: Network) -> None:
    for k in ("node_lonlat", "edge_u", "edge_v", "edge_length_m", "edge_time_min",
              "edge_oneway"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=k)
    assert shapely.equals_exact(a.edge_geometry, b.edge_geometry, tolerance=0).all()
    assert a.crs == b.crs and a.max_snap_m == b.max_snap_m
    assert (a._graph("time").primary != b._graph("time").primary).nnz == 0


def test_network_is_cached_and_loaded_equal(tmp_path, monkeypatch):
    built = Network.from_study(_study(tmp_path))
    files = list((tmp_path / "cache").glob("network-*.npz"))
    assert len(files) == 1 and built.summary()["cache"] == str(files[0])
    assert built.summary()["connectors"] >= 3  # the hand-added bridges and tunnel

    def no_build(*a, **k):
        raise AssertionError("rebuilt although cached")

    with monkeypatch.context() as m:
        m.setattr(Network, "from_lines", no_build)
        loaded = Network.from_study(_study(tmp_path))
    _same(built, loaded)
    assert loaded.summary()["nodes"] == built.summary()["nodes"]
    # a changed setting is another key: built afresh, beside the first file
    other = Network.from_study(_study(tmp_path, speed=35))
    assert len(list((tmp_path / "cache").glob("network-*.npz"))) == 2
    np.testing.assert_allclose(other.edge_length_m, built.edge_length_m)
    # the roads have no class field: all run at the default speed, now half of it
    assert np.median(other.edge_time_min / built.edge_time_min) == pytest.approx(2.0)


def test_unreadable_cache_is_said_and_rebuilt(tmp_path):
    built = Network.from_study(_study(tmp_path))
    f = next((tmp_path / "cache").glob("network-*.npz"))
    f.write_bytes(b"not a cache")
    with pytest.warns(UserWarning, match="unreadable network cache.*rebuilding"):
        again = Network.from_study(_study(tmp_path))
    _same(built, again)
    Network.from_study(_study(tmp_path))  # the rewritten file loads without a warning


def test_without_cache_dir_nothing_is_written(tmp_path):
    Network.from_study(_study(tmp_path, cache=False))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.toml"]


def test_bad_cache_dir_is_a_study_error(tmp_path):
    from geo.errors import InputError

    p = tmp_path / "study.toml"
    p.write_text(STUDY.format(speed=70, compute="[compute]\ncache_dir = 3"), encoding="utf-8")
    with pytest.raises(InputError, match=r"compute.cache_dir: must be a non-empty text, got 3"):
        load_study(p)
