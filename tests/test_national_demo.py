"""The national demo (geo.national_demo): a synthetic register on real districts, the
scgraph highway network built, snapped and cached, and the province demo end to end.

Fast tests use one small province (宁夏回族自治区, 22 county-level units) and 10⁴ firms,
and the highways of a 2° box; the slow test writes and runs a province demo."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo import national_demo as nd
from geo.crs import geodesic_area_m2
from geo.errors import InputError
from geo.national import admin_units, read_boundaries
from geo.network import Network

PROVINCE = "宁夏回族自治区"
BOX = (105.5, 37.0, 107.5, 39.0)      # around Yinchuan, WGS84 degrees


@pytest.fixture(scope="module")
def dists():
    return nd.districts(PROVINCE)


@pytest.fixture(scope="module")
def firms(dists):
    return nd.synthetic_firms(dists, 10_000, seed=7)


def test_districts_are_the_provinces_counties_with_equal_area_sizes(dists):
    assert len(dists) > 15 and set(dists["province"]) == {PROVINCE}
    assert dists.crs.to_epsg() == 4326
    # the districts tile the province: their equal-area sum is the province's geodesic
    # area (AMap's Ningxia: about 51,900 km²) to 0.5 %
    prov = read_boundaries([u for u in admin_units()
                            if u.level == "province" and u.name == PROVINCE])
    assert dists["area_m2"].sum() == pytest.approx(geodesic_area_m2(prov.geometry)[0],
                                                   rel=0.005)
    assert 50_000 < dists["area_m2"].sum() / 1e6 < 54_000


def test_same_seed_same_register_other_seed_other(dists, firms):
    again = nd.synthetic_firms(dists, 10_000, seed=7)
    assert (again["id"] == firms["id"]).all() and (again["industry"] == firms["industry"]).all()
    assert shapely.equals_exact(again.geometry.values, firms.geometry.values, 0).all()
    other = nd.synthetic_firms(dists, 10_000, seed=8)
    assert not shapely.equals_exact(other.geometry.values[:100],
                                    firms.geometry.values[:100], 0).all()


def test_every_firm_lies_inside_its_district(dists, firms):
    assert len(firms) == 10_000 and firms["id"].is_unique
    geom = dists.set_index("adcode").geometry.loc[firms["adcode"]].to_numpy()
    assert shapely.contains(geom, firms.geometry.values).all()


def test_every_firm_is_labelled_synthetic(firms):
    assert firms["synthetic"].astype(bool).all()
    assert firms.attrs["synthetic"] is True and "SYNTHETIC" in firms.attrs["note"]
    assert set(firms["name"]) == {"合成企业 synthetic firm"}


def test_industries_are_the_chain_maps_and_counts_follow_the_rule(dists, firms):
    from geo.chains import load_chains

    ids = set(load_chains(None).ids)
    assert len(ids) == 45 and set(firms["industry"]) == ids
    per = firms["adcode"].value_counts().reindex(dists["adcode"]).fillna(0).to_numpy()
    exp = 10_000 / len(dists)      # "equal": same expectation per district
    assert np.all(np.abs(per - exp) < 5 * np.sqrt(exp))
    big = nd.synthetic_firms(dists, 10_000, seed=7, weight="area")
    per_a = big["adcode"].value_counts().reindex(dists["adcode"]).fillna(0).to_numpy()
    share = dists["area_m2"].to_numpy() / dists["area_m2"].sum()
    assert np.all(np.abs(per_a - 10_000 * share) < 5 * np.sqrt(10_000 * share) + 1)


def test_bad_requests_say_what_is_wrong(dists):
    with pytest.raises(InputError, match="n ≥ 1"):
        nd.synthetic_firms(dists, 0)
    with pytest.raises(InputError, match="weight"):
        nd.synthetic_firms(dists, 10, weight="people")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no county units for province"):
        nd.districts("火星省")


def test_the_highway_network_builds_snaps_and_round_trips_the_cache(tmp_path, firms):
    net = nd.national_highways(tmp_path / "cache", bbox=BOX)
    files = list((tmp_path / "cache").glob("network-*.npz"))
    assert len(files) == 1 and net.info["cache"] == str(files[0])
    assert net.n_nodes > 100 and net.crs.equals(nd.national_crs())
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # a usable cache is read without warnings
        again = nd.national_highways(tmp_path / "cache", bbox=BOX)
    assert again.info["cache"] == str(files[0]) and again is not net
    assert (again.edge_u == net.edge_u).all() and np.allclose(again.edge_length_m,
                                                              net.edge_length_m)
    inside = firms[shapely.contains_xy(shapely.box(*BOX), firms.geometry.x, firms.geometry.y)]
    with pytest.warns(UserWarning, match="not snapped"):   # a few firms far from roads
        a = net.snap(inside.iloc[:500], what="firms")
    with pytest.warns(UserWarning, match="not snapped"):
        b = again.snap(inside.iloc[:500], what="firms")
    assert a["on_network"].any()
    assert (a["on_network"] == b["on_network"]).all()
    assert np.allclose(a["snap_m"], b["snap_m"], equal_nan=True)
    # a different box is a different network: a new cache file, never the stale one
    nd.national_highways(tmp_path / "cache", bbox=(105.5, 37.0, 107.0, 39.0))
    assert len(list((tmp_path / "cache").glob("network-*.npz"))) == 2


def test_network_lengths_agree_with_scgraph_road_km():
    net = Network.from_lines(nd.highway_lines(BOX), crs=nd.national_crs())
    km = nd.highway_lines(BOX)["length_km"].sum()
    # two-point edges: geodesic chord lengths, within a few per cent of scgraph's road km
    # (which follow the road between the simplified nodes, so are a little longer)
    assert 0.95 * km < net.edge_length_m.sum() / 1000 <= km * 1.001


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_province_demo_runs_chunked_suitability_and_sourcing(tmp_path):
    from geo import compute
    from geo.register import load_firms
    from geo.sourcing import run_sourcing
    from geo.study import load_study
    from geo.suitability.chunked import run_chunked

    path = nd.write_province_demo(PROVINCE, tmp_path / "demo", n_firms=5_000, cell_m=2000)
    assert path.parent == tmp_path / "demo"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = load_study(path)
    f = load_firms(st)
    assert len(f) == 5_000 and f.attrs["synthetic"] and f["synthetic"].all()
    with compute.client(n_workers=2, memory_gb=2, processes=False, dashboard=False):
        res = run_chunked(st, out_dir=tmp_path / "out", runs=10)
    assert res.model_card["engine"]["engine"] == "dask"
    assert (tmp_path / "out" / "suitability.tif").is_file() and len(res.candidates)
    # six criteria: init's three and the demo's three, the stand-ins labelled APPROXIMATE
    weights = res.model_card["weights"]["values"]
    assert set(weights) >= {"highway", "railway", "river", "county_seat", "urban"}, weights
    assert len(weights) >= 5 and abs(sum(weights.values()) - 1) < 1e-5
    assert "APPROXIMATE" in st.layers["county_points"].options["label_en"]
    assert "APPROXIMATE" in st.layers["urban"].options["label_en"]
    seats = st.layers["county_points"].read()
    counties = read_boundaries([u for u in admin_units() if u.level == "county"
                                and u.province == PROVINCE])
    assert len(seats) == len(counties) and shapely.within(
        seats.geometry.to_numpy(), shapely.union_all(counties.geometry.to_numpy())).all()
    assert "# Grid of 2000 m cells" in path.read_text(encoding="utf-8")
    src = run_sourcing(st)
    assert src.firms["local_supply_rate"].notna().any()
    assert list((tmp_path / "demo" / "cache").glob("network-*.npz"))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_national_grid_mosaic_reports_each_unit(tmp_path, monkeypatch):
    """A unit that fits a worker runs whole as one task (in-memory engine, COGs); the
    same unit forced onto tiles (no unit fits: the chunked engine from the driver)
    gives the same rasters and candidates."""
    import rasterio

    from geo import compute

    units = [u for u in nd.admin_units() if u.level == "province" and u.name == PROVINCE]
    tables = {}
    with compute.client(n_workers=2, memory_gb=2, processes=False, dashboard=False) as c:
        for share in (nd.UNIT_TASK_SHARE, 0.0):
            monkeypatch.setattr(nd, "UNIT_TASK_SHARE", share)
            tables[share] = nd.run_national_grid(tmp_path / str(share), cell_m=2000, runs=5,
                                                 units=units, client=c, log=lambda _: None)
    task, tiles = tables.values()
    assert list(task["engine"]) == ["memory"] and list(tiles["engine"]) == ["dask"]
    for t in (task, tiles):
        assert list(t["adcode"]) == ["640000"] and t["error"].iloc[0] == ""
        assert t["cells"].iloc[0] > 10_000
    assert task["candidates"].iloc[0] == tiles["candidates"].iloc[0] > 0
    for name in ("suitability.tif", "exclusion.tif", "stability.tif"):
        with rasterio.open(Path(task["out"].iloc[0]) / name) as a, \
                rasterio.open(Path(tiles["out"].iloc[0]) / name) as b:
            assert a.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG", name
            assert a.overviews(1), name
            u, v = a.read(1), b.read(1)
            assert (np.isnan(u) == np.isnan(v)).all() if u.dtype.kind == "f" else \
                (u == v).all(), name
            np.testing.assert_allclose(u[u == u], v[v == v], atol=1e-6, err_msg=name)
