"""geo.partitioned: the red-line gate, snapping, the supply index and the supply rates on
Dask partitions equal the single-process results (2-worker LocalCluster)."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import compute
from geo.errors import InputError
from geo.network import Network
from geo.partitioned import (
    NEAR_ZONE_COST,
    _PackedGeoms,
    _unpack_geoms,
    hilbert_partitions,
    redline_conflicts_partitioned,
    redline_costs,
    snap_partitioned,
    supply_index_partitioned,
    supply_rates_partitioned,
)
from geo.redline import redline_conflicts
from geo.register import load_firms, study_chains
from geo.sourcing import SupplyIndex, run_sourcing
from geo.study import load_study

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def yrd():
    st = load_study(ROOT / "layers" / "yrd.toml")
    return st, st.load_role("parks"), st.load_role("redlines")


@pytest.fixture(scope="module")
def two_workers():
    """One 2-worker LocalCluster (worker processes) for the module's tests."""
    with compute.client(n_workers=2, processes=True, memory_gb=2.0, dashboard=False) as c:
        yield c


@pytest.fixture(scope="module")
def yrd_firms(yrd):
    """The YRD study's network, chain maps and firm register (387 firms, 44 industries)."""
    st = yrd[0]
    return Network.from_study(st), study_chains(st), load_firms(st)


def _same(a, b):
    pd.testing.assert_frame_equal(a.parks, b.parks)
    ca = pd.DataFrame(a.conflicts.drop(columns="geometry"))
    cb = pd.DataFrame(b.conflicts.drop(columns="geometry"))
    pd.testing.assert_frame_equal(ca, cb)
    assert shapely.equals_exact(a.conflicts.geometry.values, b.conflicts.geometry.values,
                                tolerance=1e-9).all()


def test_partitioned_gate_equals_single_process_on_yrd(yrd, two_workers):
    st, parks, zones = yrd
    kw = dict(buffer_m=1000.0, empty_bans="review", area_crs=st.area_crs)
    single = redline_conflicts(parks, zones, **kw)
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


def test_partitioned_supply_rates_equal_run_sourcing(tmp_path, two_workers):
    """Firm-level supply rates on Hilbert partitions = geo.sourcing.run_sourcing's."""
    from test_sourcing import make_fixture

    study = load_study(make_fixture(tmp_path))
    single = run_sourcing(study, with_service_areas=False).firms
    part = supply_rates_partitioned(study, npartitions=3, industry_tasks=2)
    assert part["firm_id"].tolist() == single["firm_id"].tolist()
    for col in ("local_supply_rate", "local_supply_rate_crow"):
        np.testing.assert_array_equal(part[col].to_numpy(), single[col].to_numpy())
    assert np.isfinite(part["local_supply_rate"]).any()


def test_partitioned_supply_rates_equal_run_sourcing_on_yrd(yrd, two_workers):
    """The same on the YRD register: 5 partitions, the 44 industries' searches in 3 tasks."""
    st = yrd[0]
    single = run_sourcing(st, with_service_areas=False).firms
    part = supply_rates_partitioned(st, npartitions=5, industry_tasks=3)
    assert part["firm_id"].tolist() == single["firm_id"].tolist()
    for col in ("local_supply_rate", "local_supply_rate_crow"):
        np.testing.assert_array_equal(part[col].to_numpy(), single[col].to_numpy())
    assert np.isfinite(part["local_supply_rate"]).mean() > 0.5


def test_partitioned_snap_equals_network_snap_with_its_warnings(yrd_firms, two_workers):
    """Snapping on partitions (one Snapper sent to the workers) = Network.snap, row for
    row in register order, warnings included (three firms moved 3° east, off network)."""
    net, _, firms = yrd_firms
    firms = firms.copy()
    far = firms.index[[5, 100, 300]]
    firms.loc[far, "geometry"] = shapely.transform(firms.geometry.loc[far].values,
                                                   lambda c: c + [3.0, 0.0])
    with pytest.warns(UserWarning) as w_single:
        single = net.snap(firms, what="firms")
    with pytest.warns(UserWarning) as w_part:
        part = snap_partitioned(net, firms, npartitions=4, what="firms")
    pd.testing.assert_frame_equal(single, part)
    assert (~part["on_network"]).sum() == 3
    assert [str(w.message) for w in w_single] == [str(w.message) for w in w_part]


def test_partitioned_supply_index_equals_build(yrd_firms, two_workers):
    """The per-industry searches as 4 Dask tasks (snaps from 6 partitions) give the
    reach matrix of SupplyIndex.build, bit for bit, and the same supplier tables."""
    net, chains, firms = yrd_firms
    snap = net.snap(firms, what="firms", warn=False)
    single = SupplyIndex.build(net, chains, firms, snap, 60.0)
    part, psnap = supply_index_partitioned(net, chains, firms, 60.0, npartitions=6,
                                           industry_tasks=4)
    pd.testing.assert_frame_equal(snap, psnap)
    assert part.industries == single.industries and len(part.industries) == 44
    np.testing.assert_array_equal(part.reach_m, single.reach_m)
    assert np.isfinite(part.reach_m).any() and np.isinf(part.reach_m).any()
    for j in single.industries:
        np.testing.assert_array_equal(part.supplier_rows[j], single.supplier_rows[j])
        np.testing.assert_array_equal(part.supplier_xy[j], single.supplier_xy[j])


def test_grouped_search_of_a_run_of_groups_is_those_rows(yrd_firms):
    """ReducedGraph.grouped(first=…) on a run of groups = those rows of the full search
    (what lets the industries be split into tasks), and the Snapper survives pickling."""
    import pickle

    from geo.sourcing import supplier_codes, supplier_sources

    net, chains, firms = yrd_firms
    inds, code = supplier_codes(firms, chains)
    snapper = pickle.loads(pickle.dumps(net.snapper))
    sr = snapper.snap_xy(np.column_stack([firms.geometry.x, firms.geometry.y]))
    pd.testing.assert_frame_equal(sr.frame(index=firms.index),
                                  net.snap(firms, warn=False))
    grp, nodes, w = supplier_sources(snapper, sr, code)
    red = net.reduced("length")
    full = red.grouped(grp, nodes, w, len(inds), limit=50_000.0)
    np.testing.assert_array_equal(red.grouped(grp, nodes, w, 7, limit=50_000.0, first=10),
                                  full[10:17])


def _odd_plots(st, n: int = 600) -> gpd.GeoDataFrame:
    """SYNTHETIC plots of every polygon kind the gate takes: squares, squares with a
    hole, two-part multipolygons, 3-D squares; integer ids, an extra field and a
    shuffled index, in lon/lat."""
    rng = np.random.default_rng(7)
    crs = st.area_crs
    bnd = gpd.GeoSeries([st.boundary], crs=4326).to_crs(crs).iloc[0]
    x0, y0, x1, y1 = bnd.bounds
    pts = shapely.points(rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n))
    pts = pts[shapely.contains(bnd, pts)][:n]
    sq = shapely.buffer(pts, 150, cap_style="square")
    kind = np.arange(len(sq)) % 4
    geoms = sq.copy()
    geoms[kind == 1] = shapely.difference(sq[kind == 1],
                                          shapely.buffer(pts[kind == 1], 40, cap_style="square"))
    geoms[kind == 2] = shapely.union(sq[kind == 2], shapely.buffer(
        shapely.transform(pts[kind == 2], lambda c: c + 400.0), 100, cap_style="square"))
    geoms[kind == 3] = shapely.force_3d(sq[kind == 3], 5.0)
    return gpd.GeoDataFrame(
        {"id": np.arange(len(sq)) * 10, "name": "synthetic plot", "extra": kind},
        geometry=geoms, crs=crs, index=rng.permutation(len(sq)),
    ).to_crs(4326)


def test_partitioned_gate_on_odd_polygons(yrd, two_workers):
    """Holes, multipolygons, 3-D rings, integer ids and park industries: the compact
    transport (coordinates of the simple polygons, WKB of the rest) keeps the tables."""
    st, _, zones = yrd
    plots = _odd_plots(st)
    assert set(shapely.get_type_id(plots.geometry.values)) == {3, 6}
    inds = {str(i): ["chemicals"] for i in plots["id"][::3]}
    kw = dict(buffer_m=800.0, empty_bans="review", park_industries=inds,
              nearest_within_m=5_000.0)
    single = redline_conflicts(plots, zones, **kw)
    part = redline_conflicts_partitioned(plots, zones, npartitions=5, **kw)
    assert single.has_conflicts
    _same(single, part)


def test_partitioned_gate_reports_a_non_polygon_as_the_gate_does(yrd, two_workers):
    st, _, zones = yrd
    plots = _odd_plots(st, 50)
    plots.geometry.values[7] = shapely.Point(121.0, 31.0)
    with pytest.raises(InputError, match="is not a polygon"):
        redline_conflicts(plots, zones)
    with pytest.raises(InputError, match="is not a polygon"):
        redline_conflicts_partitioned(plots, zones, npartitions=3)


@pytest.mark.parametrize("case", ["no plots", "missing", "empty"])
def test_partitioned_gate_gives_the_gates_answer_on_degenerate_input(yrd, two_workers, case):
    """No plots, or a plot without a geometry: the partitioned gate answers as the
    single-process gate does (same tables, or the same error), never a partitioning
    error from dask_geopandas."""
    st, _, zones = yrd
    plots = _odd_plots(st, 20)
    if case == "no plots":
        plots = plots.iloc[:0]
    else:
        plots.geometry.values[4] = None if case == "missing" else shapely.Polygon()
    try:
        single = redline_conflicts(plots, zones)
    except InputError as exc:
        with pytest.raises(InputError, match=re.escape(str(exc)[:60])):
            redline_conflicts_partitioned(plots, zones, npartitions=3)
        return
    _same(single, redline_conflicts_partitioned(plots, zones, npartitions=3))


def test_packed_geometries_are_the_same_bit_for_bit():
    sq, z = shapely.box(0, 0, 1, 1), shapely.Polygon([(0, 0, 1), (1, 0, 2), (1, 1, 3)])
    hole = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2)]])
    geoms = np.array([sq, hole, shapely.MultiPolygon([sq, shapely.box(5, 5, 6, 7)]),
                      shapely.Polygon(), None, z, shapely.Point(1, 2), shapely.box(2, 2, 3, 5)],
                     dtype=object)
    packed = _PackedGeoms.pack(geoms)
    assert packed.simple.tolist() == [True, False, False, False, False, False, False, True]
    for m in (np.arange(len(geoms)), np.array([0, 3, 7]), np.array([4]), np.array([], int)):
        out = _unpack_geoms(*packed.part(m))
        assert [g is None for g in out] == [g is None for g in geoms[m]]
        have = [g is not None for g in out]
        assert shapely.to_wkb(out[have]).tolist() == shapely.to_wkb(geoms[m][have]).tolist()


def test_cost_weighted_hilbert_runs(yrd):
    """Runs of equal estimated cost: every row once, the heavy rows spread out."""
    st, _, zones = yrd
    plots = _odd_plots(st)
    w = redline_costs(plots, zones, st.area_crs, buffer_m=800.0)
    assert set(np.unique(w)) <= {1.0, NEAR_ZONE_COST} and (w > 1).any() and (w == 1).any()
    runs = hilbert_partitions(plots, 4, w)
    np.testing.assert_array_equal(np.sort(np.concatenate(runs)), np.arange(len(plots)))
    cost = [w[m].sum() for m in runs]
    assert max(cost) - min(cost) <= 2 * NEAR_ZONE_COST
    assert [len(m) for m in hilbert_partitions(plots, 4)] == [150] * 4


def test_partitioned_gate_on_dask_threads_with_a_client_active(yrd, two_workers):
    """A scheduler set in dask's configuration wins over the active client, as it does
    for dask.compute: the one-graph path."""
    import dask

    st, parks, zones = yrd
    kw = dict(buffer_m=1000.0, empty_bans="review", area_crs=st.area_crs)
    single = redline_conflicts(parks, zones, **kw)
    with dask.config.set(scheduler="threads"):
        part = redline_conflicts_partitioned(parks, zones, npartitions=4, **kw)
    _same(single, part)
