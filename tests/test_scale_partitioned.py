"""geo.partitioned: the dask-geopandas red-line gate equals the single-process gate."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import compute
from geo.partitioned import redline_conflicts_partitioned
from geo.redline import redline_conflicts
from geo.study import load_study

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def yrd():
    st = load_study(ROOT / "layers" / "yrd.toml")
    return st, st.load_role("parks"), st.load_role("redlines")


def _same(a, b):
    pd.testing.assert_frame_equal(a.parks, b.parks)
    ca = pd.DataFrame(a.conflicts.drop(columns="geometry"))
    cb = pd.DataFrame(b.conflicts.drop(columns="geometry"))
    pd.testing.assert_frame_equal(ca, cb)
    assert shapely.equals_exact(a.conflicts.geometry.values, b.conflicts.geometry.values,
                                tolerance=1e-9).all()


def test_partitioned_gate_equals_single_process_on_yrd(yrd):
    st, parks, zones = yrd
    kw = dict(buffer_m=1000.0, empty_bans="review", area_crs=st.area_crs)
    single = redline_conflicts(parks, zones, **kw)
    with compute.client(n_workers=2, processes=True, memory_gb=2.0, dashboard=False):
        part = redline_conflicts_partitioned(parks, zones, npartitions=3, **kw)
    _same(single, part)


def test_partitioned_gate_on_a_synthetic_plot_register(yrd):
    """SYNTHETIC plots (made-up 300 m squares) placed inside the real YRD study area."""
    st, _, zones = yrd
    rng = np.random.default_rng(13)
    crs = st.area_crs
    bnd = gpd.GeoSeries([st.boundary], crs=4326).to_crs(crs).iloc[0]
    x0, y0, x1, y1 = bnd.bounds
    pts = shapely.points(rng.uniform(x0, x1, 4000), rng.uniform(y0, y1, 4000))
    pts = pts[shapely.contains(bnd, pts)][:1500]
    plots = gpd.GeoDataFrame(
        {"id": [f"syn{i}" for i in range(len(pts))], "name": "synthetic plot"},
        geometry=shapely.buffer(pts, 150, cap_style="square"), crs=crs,
    )
    kw = dict(buffer_m=500.0, empty_bans="review")
    single = redline_conflicts(plots, zones, **kw)
    part = redline_conflicts_partitioned(plots, zones, npartitions=6, **kw)
    assert single.has_conflicts
    _same(single, part)



def test_partitioned_supply_rates_equal_run_sourcing(tmp_path):
    """Firm-level supply rates on Hilbert partitions = geo.sourcing.run_sourcing's."""
    from test_sourcing import make_fixture

    from geo.partitioned import supply_rates_partitioned
    from geo.sourcing import run_sourcing

    study = load_study(make_fixture(tmp_path))
    single = run_sourcing(study, with_service_areas=False).firms
    with compute.client(n_workers=2, processes=True, memory_gb=2.0, dashboard=False):
        part = supply_rates_partitioned(study, npartitions=3)
    assert part["firm_id"].tolist() == single["firm_id"].tolist()
    for col in ("local_supply_rate", "local_supply_rate_crow"):
        np.testing.assert_array_equal(part[col].to_numpy(), single[col].to_numpy())
    assert np.isfinite(part["local_supply_rate"]).any()
