"""Park layout: plots, hard rules, assignment, p-median, CLI (geo/layout/)."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.config import section_problems
from geo.errors import InputError, ModelError
from geo.layout import (
    LayoutConfig,
    LayoutProblem,
    PMedian,
    check_incoming,
    layout_park,
    objective,
    p_median,
    read_incoming,
    swap_deltas,
    write_layout,
)

ROOT = Path(__file__).resolve().parent.parent
X0, Y0 = 550_000.0, 3_430_000.0  # EPSG:4549 (CGCS2000 GK CM 120°E), near 120.5°E 31°N
CRS = "EPSG:4549"


def _box(x1, y1, x2, y2):
    return shapely.box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


@pytest.fixture(scope="module")
def fixture_study(tmp_path_factory):
    """A 2 km × 2 km park: a red line over its east edge, a restricted zone (bans
    chemicals) over its north part, homes west of it. Built in metres, stored in WGS84."""
    d = tmp_path_factory.mktemp("layoutstudy")
    park = gpd.GeoDataFrame({"park_id": ["p1"], "name": ["测试园区 Test park"],
                             "industries": ["chemicals;batteries"]},
                            geometry=[_box(0, 0, 2000, 2000)], crs=CRS).to_crs(4326)
    zones = gpd.GeoDataFrame({
        "zone_id": ["wetland", "lake_belt"], "name": ["湿地 Wetland", "湖滨带 Lake belt"],
        "class": ["redline", "restricted"], "banned_industries": ["all", "chemicals"]},
        geometry=[_box(1700, -500, 2600, 2500), _box(-500, 1450, 1650, 2600)],
        crs=CRS).to_crs(4326)
    homes = gpd.GeoDataFrame({"id": ["h1"], "name": ["村庄 Village"]},
                             geometry=[_box(-600, 200, -80, 900)], crs=CRS).to_crs(4326)
    park.to_file(d / "parks.gpkg", driver="GPKG")
    zones.to_file(d / "redlines.gpkg", driver="GPKG")
    homes.to_file(d / "homes.gpkg", driver="GPKG")
    (d / "study.toml").write_text(f"""
[study]
name = "fixture"
crs = "{CRS}"

[layers.parks]
path = "parks.gpkg"
role = "parks"
id = "park_id"
name = "name"

[layers.redlines]
path = "redlines.gpkg"
role = "redlines"
id = "zone_id"
name = "name"
class = "class"

[layers.homes]
path = "homes.gpkg"
role = "residential"
id = "id"
name = "name"

[sourcing]
chains = "{(ROOT / 'data' / 'chains').as_posix()}"

[layout]
plot_mu = 30
road_spacing_m = 300
road_width_m = 20
redline_setback_m = 50
polluter_setback_m = 300
""", encoding="utf-8")
    from geo.study import load_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_study(d / "study.toml")


FIRMS = pd.DataFrame({
    "firm_id": [f"T{i:02d}" for i in range(12)],
    "name": [f"firm {i}" for i in range(12)],
    "industry": ["battery_cells", "cathode_materials", "battery_recycling", "electrolyte",
                 "fine_chemicals", "anode_materials", "separators", "copper_foil",
                 "energy_storage", "cathode_precursors", "lithium_salts", "battery_cells"],
    "land_mu": [55, 40, 25, 20, 30, 20, 15, 15, 60, 25, 20, 28],
})


def _metric(g):
    return gpd.GeoSeries(g, crs=4326).to_crs(CRS).values


@pytest.fixture(scope="module")
def fixture_layout(fixture_study):
    return layout_park(fixture_study, "p1", FIRMS, plot_mu=30, seed=3)


def test_plots_partition_buildable_land(fixture_layout, fixture_study):
    s = fixture_layout.summary
    # plots and road surface are exactly the buildable land (areas in the equal-area CRS)
    assert s["plots_m2"] + s["road_m2"] == pytest.approx(s["buildable_m2"], rel=1e-6)
    assert s["n_plots"] == len(fixture_layout.plots)
    # the park (4 km²) minus the red line grown by 50 m: x ≥ 1650 m is gone
    assert s["buildable_m2"] == pytest.approx(1650 * 2000, rel=2e-3)
    plots_m = _metric(fixture_layout.plots.geometry.values)
    park_m = _box(0, 0, 2000, 2000)
    assert shapely.within(plots_m, shapely.buffer(park_m, 0.01)).all()
    # no two plots overlap
    tree = shapely.STRtree(plots_m)
    a, b = tree.query(plots_m, predicate="overlaps")
    assert len(a) == 0


def test_no_plot_straddles_a_red_line_or_zone_edge(fixture_layout):
    plots_m = _metric(fixture_layout.plots.geometry.values)
    redline = _box(1700, -500, 2600, 2500)
    assert shapely.area(shapely.intersection(plots_m, redline)).max() < 1e-6
    lake = _box(-500, 1450, 1650, 2600)
    frac = shapely.area(shapely.intersection(plots_m, lake)) / shapely.area(plots_m)
    assert np.all((frac < 1e-6) | (frac > 1 - 1e-6))
    inzone = fixture_layout.plots["restricted_zone"].to_numpy() == "lake_belt"
    assert np.array_equal(inzone, frac > 0.5)


def test_hard_rules_and_land_need(fixture_layout, fixture_study):
    plots = fixture_layout.plots.set_index("plot_id")
    a = fixture_layout.assignments
    inc = a[a["kind"] == "incoming"]
    placed = inc[inc["status"] == "placed"]
    assert len(placed) >= 10
    sensitive = shapely.union_all([_box(-600, 200, -80, 900), _box(1700, -500, 2600, 2500),
                                   _box(-500, 1450, 1650, 2600)])
    for r in placed.itertuples():
        ids = r.plots.split(";")
        geoms = _metric(plots.loc[ids].geometry.values)
        # every placed firm gets at least its land need, on plots given to it alone
        assert plots.loc[ids, "area_mu"].sum() >= r.land_need_mu - 1e-6
        assert (plots.loc[ids, "firm_id"] == r.firm_id).all()
        if r.polluting:  # polluters keep the setback from red lines and homes
            assert shapely.distance(shapely.union_all(geoms), sensitive) >= 300 - 1e-6
        if r.industry in ("fine_chemicals", "electrolyte", "lithium_salts",
                          "cathode_precursors"):  # chemicals: banned in the lake belt
            assert (plots.loc[ids, "restricted_zone"] != "lake_belt").all()
    assert set(placed["industry"]) >= {"fine_chemicals", "electrolyte"}
    assert inc.set_index("firm_id").loc["T04", "polluting"]  # fine chemicals
    assert not inc.set_index("firm_id").loc["T00", "polluting"]  # battery cells


def test_objectives_local_search_never_worse(fixture_layout):
    o = fixture_layout.summary["objective"]
    assert o["final"] <= o["greedy"] + 1e-9
    assert o["final"] < o["random"]
    assert fixture_layout.summary["improvement_vs_random_pct"] > 0


def test_facilities_on_free_plots(fixture_layout):
    f = fixture_layout.facilities
    # the pilot base has no users among these battery-chain firms except recyclers/cathode
    assert set(f["facility"]) == {"wastewater", "pilot_base"}
    plots = fixture_layout.plots.set_index("plot_id")
    for r in f.itertuples():
        assert plots.loc[r.plot_id, "status"] == "facility"
    ww = f[f["facility"] == "wastewater"].iloc[0]
    assert plots.loc[ww.plot_id, "polluter_ok"]  # the wastewater plant keeps the setback


def test_unplaced_firm_gets_a_reason(fixture_study):
    big = pd.DataFrame({"firm_id": ["BIG", "S1"], "industry": ["battery_cells", "separators"],
                        "land_mu": [5000, 10]})
    res = layout_park(fixture_study, "p1", big, plot_mu=30)
    a = res.assignments.set_index("firm_id")
    assert a.loc["BIG", "status"] == "unplaced"
    assert "contiguous" in a.loc["BIG", "reason"]
    assert a.loc["S1", "status"] == "placed"
    assert res.summary["unplaced"][0]["firm_id"] == "BIG"


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["battery_cells", "fine_chemicals", "electrolyte",
                                            "cathode_materials", "battery_recycling",
                                            "separators", "energy_storage"]),
                          st.floats(5, 90)), min_size=1, max_size=25),
       st.integers(0, 5), st.sampled_from([150.0, 300.0, 600.0]))
def test_hard_rules_property(fixture_study, firms, seed, setback):
    df = pd.DataFrame(firms, columns=["industry", "land_mu"])
    res = layout_park(fixture_study, "p1", df, plot_mu=30, seed=seed, time_limit_s=5,
                      overrides={"polluter_setback_m": setback})
    plots = res.plots.set_index("plot_id")
    sensitive = shapely.union_all([_box(-600, 200, -80, 900), _box(1700, -500, 2600, 2500),
                                   _box(-500, 1450, 1650, 2600)])
    used: list[str] = []
    for r in res.assignments[(res.assignments["kind"] == "incoming") &
                             (res.assignments["status"] == "placed")].itertuples():
        ids = r.plots.split(";")
        used += ids
        assert plots.loc[ids, "area_mu"].sum() >= r.land_need_mu - 1e-6
        if r.polluting:
            g = shapely.union_all(_metric(plots.loc[ids].geometry.values))
            assert shapely.distance(g, sensitive) >= setback - 1e-6
        if r.industry in ("fine_chemicals", "electrolyte"):
            assert (plots.loc[ids, "restricted_zone"] == "").all()
    assert len(used) == len(set(used))  # no plot given twice
    o = res.summary["objective"]
    assert o["final"] <= o["greedy"] + 1e-9


def test_p_median_matches_brute_force():
    rng = np.random.default_rng(1)
    for p in (1, 2, 3):
        cost = rng.uniform(0, 100, (9, 14)) * rng.uniform(0.5, 2, 14)[None, :]
        chosen, val, optimal = p_median(cost, p)
        best = min(cost[list(c)].min(axis=0).sum() for c in
                   itertools.combinations(range(9), p))
        assert optimal
        assert val == pytest.approx(best, rel=1e-9)
        assert cost[chosen].min(axis=0).sum() == pytest.approx(best, rel=1e-9)
    with pytest.raises(ModelError, match="candidate site"):
        p_median(np.ones((2, 3)), 3)


def test_pmedian_model_weights_sites_and_assignment():
    rng = np.random.default_rng(2)
    dist = rng.uniform(0, 1000, (8, 12))  # metres, candidates × users
    w = rng.uniform(1, 50, 12)  # 亩
    for p in (1, 3):
        pm = PMedian.from_cost_matrix(dist, w, p).solve()
        best = min((dist[list(c)] * w).min(axis=0).sum() for c in
                   itertools.combinations(range(8), p))
        assert pm.optimal and len(pm.sites) == p
        assert pm.objective == pytest.approx(best, rel=1e-9)
        # every user is served by its nearest open site
        assert (dist[pm.sites[pm.assignment], np.arange(12)] == dist[pm.sites].min(axis=0)).all()
    with pytest.raises(ModelError, match="one weight per column"):
        PMedian.from_cost_matrix(dist, w[:5], 1)
    with pytest.raises(ModelError, match="9 candidate|8 candidate"):
        PMedian.from_cost_matrix(dist, w, 9)


def test_layout_problem_model_equals_layout_park(fixture_study):
    small = FIRMS.iloc[:6]
    model = LayoutProblem.from_park(fixture_study, "p1", small).solve()
    res = layout_park(fixture_study, "p1", small)
    assert model.plots["status"].tolist() == res.plots["status"].tolist()
    assert model.assignment["plots"].tolist() == res.assignments["plots"].tolist()
    assert model.facilities["plot_id"].tolist() == res.facilities["plot_id"].tolist()
    assert model.objective == pytest.approx(res.summary["objective"]["final_all_placed"],
                                            abs=1e-3)
    assert list(model.unplaced.columns) == ["firm_id", "industry", "land_need_mu", "reason"]
    with pytest.raises(RuntimeError, match="solve"):
        _ = LayoutProblem.from_park(fixture_study, "p1", small).plots


def test_explicit_plot_size_50_is_not_a_sentinel(fixture_study):
    # the old default plot_mu=50 meant "defer to the study": an explicit 50 was ignored
    small = pd.DataFrame({"industry": ["pcb"], "land_mu": [5]})
    assert layout_park(fixture_study, "p1", small, plot_mu=50).summary[
        "parameters"]["plot_mu"] == 50
    assert layout_park(fixture_study, "p1", small).summary["parameters"]["plot_mu"] == 30


def test_swap_deltas_equal_full_recomputation():
    rng = np.random.default_rng(5)
    n, ne = 30, 6
    px, py = rng.uniform(0, 3000, n), rng.uniform(0, 3000, n)
    A = rng.random((n, n)) * (rng.random((n, n)) < 0.3)
    A = A + A.T
    np.fill_diagonal(A, 0)
    ex, ey = rng.uniform(0, 3000, ne), rng.uniform(0, 3000, ne)
    V = rng.random((n, ne)) * (rng.random((n, ne)) < 0.3)
    allp = np.ones(n, bool)
    base = objective(px, py, A, ex, ey, V, allp)
    for a in (0, 7, 29):
        d = swap_deltas(a, px, py, A, ex, ey, V)
        for b in range(n):
            qx, qy = px.copy(), py.copy()
            qx[[a, b]], qy[[a, b]] = qx[[b, a]], qy[[b, a]]
            assert d[b] == pytest.approx(objective(qx, qy, A, ex, ey, V, allp) - base,
                                         abs=1e-6)


def test_bundled_chongming_layout_and_gpkg(yrd_study, tmp_path):
    firms = read_incoming(ROOT / "data" / "examples" / "incoming_firms.csv")
    res = layout_park(yrd_study, "chongming", firms)
    s = res.summary
    assert s["n_placed"] == len(firms) == 20
    assert s["n_existing"] == 40
    assert s["improvement_vs_random_pct"] > 20
    assert s["objective"]["final"] <= s["objective"]["greedy"] + 1e-9
    assert s["plots_m2"] + s["road_m2"] == pytest.approx(s["buildable_m2"], rel=1e-6)
    out = write_layout(res, tmp_path / "layout.gpkg")
    import pyogrio

    layers = {r[0] for r in pyogrio.list_layers(out)}
    assert {"plots", "assignments", "facilities", "summary", "roads", "links"} <= layers
    assert gpd.read_file(out, layer="plots").crs.to_epsg() == 4326


def test_incoming_firms_errors(yrd_study, tmp_path):
    from geo.register import study_chains

    ch = study_chains(yrd_study)
    with pytest.raises(InputError, match="no 'land_mu' column"):
        check_incoming(pd.DataFrame({"industry": ["pcb"]}), ch, "x.csv")
    with pytest.raises(InputError, match="row 2 .*land_mu"):
        check_incoming(pd.DataFrame({"industry": ["pcb"], "land_mu": ["-3"]}), ch, "x.csv")
    with pytest.raises(ModelError, match="did you mean 'pcb'"):
        check_incoming(pd.DataFrame({"industry": ["pcbb"], "land_mu": [3]}), ch, "x.csv")
    with pytest.raises(InputError, match="no such park.*did you mean 'chongming'"):
        layout_park(yrd_study, "chongmin", pd.DataFrame({"industry": ["pcb"], "land_mu": [3]}))
    with pytest.raises(InputError, match="not found"):
        read_incoming(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="road_width_m"):
        LayoutConfig.from_study(None, road_spacing_m=20, road_width_m=30)


def test_validate_section(yrd_study):
    assert section_problems("layout", yrd_study.section("layout"), yrd_study) == []
    probs = section_problems("layout", {"plot_muu": 3, "road_spacing_m": -1,
                                        "polluting": "chemicals"}, yrd_study)
    text = "\n".join(probs)
    assert "did you mean 'plot_mu'" in text
    assert "layout.road_spacing_m" in text
    assert "layout.polluting" in text


def test_cli_layout(tmp_path):
    from geo.cli import main

    out = tmp_path / "l.gpkg"
    r = CliRunner().invoke(main, ["layout", str(ROOT / "layers" / "yrd.toml"), "--park",
                                  "chongming", "--firms",
                                  str(ROOT / "data" / "examples" / "incoming_firms.csv"),
                                  "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "vs random" in r.output
    assert out.exists()
    r = CliRunner().invoke(main, ["layout", str(ROOT / "layers" / "yrd.toml"), "--park", "x",
                                  "--firms", str(tmp_path / "missing.csv"),
                                  "--out", str(tmp_path / "m.gpkg")])
    assert r.exit_code == 2
    assert "not found" in r.output


def test_layout_from_study(yrd_study, fixture_study):
    from geo.layout import layout_from_study

    res = layout_from_study(yrd_study)  # [layout] park = "chongming", firms = example CSV
    assert res is not None and res.summary["park_id"] == "chongming"
    assert layout_from_study(fixture_study) is None  # no park/firms keys
    probs = section_problems("layout", {"park": "chongming"}, yrd_study)
    assert any("give both" in p for p in probs)
    probs = section_problems("layout", {"park": "chongming", "firms": "nope.csv"}, yrd_study)
    assert any("nope.csv not found" in p for p in probs)


def test_plot_size_from_option_and_study(fixture_study):
    small = pd.DataFrame({"industry": ["pcb"], "land_mu": [5]})
    # the fixture study says plot_mu = 30; the default defers to it, an override wins
    a = layout_park(fixture_study, "p1", small, plot_mu=None)
    b = layout_park(fixture_study, "p1", small, overrides={"plot_mu": 80})
    assert a.summary["parameters"]["plot_mu"] == 30
    assert b.summary["parameters"]["plot_mu"] == 80
    assert b.summary["n_plots"] < a.summary["n_plots"]
    with pytest.raises(InputError, match="unknown setting"):
        layout_park(fixture_study, "p1", small, overrides={"plot_size": 5})
