"""Local supply rates, chain gaps and the synthetic firm register (geo.sourcing)."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from geo.cli import main
from geo.errors import InputError, ModelError, StudyError
from geo.pipeline import StudyRun
from geo.sourcing import input_share_within, run_sourcing, write_sourcing
from geo.study import load_study
from geo.webmap import MapData

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "layers" / "yrd.toml"
GK = "EPSG:4549"
X0, Y0 = 500_000.0, 3_430_000.0

CHAINS = """
[chain]
id = "fx"
name_zh = "测试链"
name_en = "Fixture chain"
note = "illustrative unless sourced"

[industries.assembly]
name_zh = "整机"
name_en = "Assembly"
anchor = true
input_ratio = 0.5
inputs = { parts = 0.5, metal = 0.3, paint = 0.2 }

[industries.parts]
name_zh = "零件"
name_en = "Parts"

[industries.metal]
name_zh = "金属"
name_en = "Metal"

[industries.paint]
name_zh = "涂料"
name_en = "Paint"
"""


def _segments(a, b, step=10_000):
    """A straight road from a to b as 10 km lines (nodes every 10 km)."""
    n = int(round(np.hypot(b[0] - a[0], b[1] - a[1]) / step))
    pts = [(a[0] + (b[0] - a[0]) * i / n, a[1] + (b[1] - a[1]) * i / n) for i in range(n + 1)]
    return [shapely.LineString([(X0 + p[0], Y0 + p[1]), (X0 + q[0], Y0 + q[1])])
            for p, q in zip(pts[:-1], pts[1:], strict=True)]


def make_fixture(tmp_path: Path, extra: str = "") -> Path:
    """A hand-checkable study: road O(0,0) → P(80 km, 0) → Q(80, 60) → S(20, 60).

    B1 (assembly, at O, output 1000): parts A1 at 50 km by road ✓; metal S1 at 200 km by
    road ✗ (63 km straight) → rate 0.5, crow 0.8. B2 (assembly, at Q, output 2000):
    parts 90 km ✓, metal 60 km ✓ → 0.8. Nobody makes paint.
    """
    roads = _segments((0, 0), (80_000, 0)) + _segments((80_000, 0), (80_000, 60_000)) + \
        _segments((80_000, 60_000), (20_000, 60_000))
    gpd.GeoDataFrame({"road_id": [f"r{i}" for i in range(len(roads))]}, geometry=roads,
                     crs=GK).to_file(tmp_path / "roads.gpkg")
    parks = [shapely.box(X0 - 5000, Y0 - 5000, X0 + 5000, Y0 + 5000),
             shapely.box(X0 + 75_000, Y0 + 55_000, X0 + 85_000, Y0 + 65_000)]
    gpd.GeoDataFrame({"park_id": ["west", "east"]}, geometry=parks, crs=GK).to_file(
        tmp_path / "parks.gpkg")
    firms = gpd.GeoDataFrame({
        "firm_id": ["B1", "B2", "A1", "S1"],
        "industry": ["assembly", "assembly", "parts", "metal"],
        "anchor": [True, True, False, False],
        "annual_output_myuan": [1000.0, 2000.0, 50.0, np.nan]},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in
                  [(0, 100), (80_000, 59_900), (50_000, 100), (20_000, 60_100)]], crs=GK)
    firms.to_file(tmp_path / "firms.gpkg")
    (tmp_path / "chains.toml").write_text(CHAINS, encoding="utf-8")
    p = tmp_path / "fixture.toml"
    p.write_text(f"""
[study]
name = "fixture"

[layers.roads]
path = "roads.gpkg"
role = "roads"

[layers.parks]
path = "parks.gpkg"
role = "parks"
id = "park_id"

[layers.firms]
path = "firms.gpkg"
role = "firms"
id = "firm_id"
industry = "industry"
synthetic = true

[sourcing]
chains = "chains.toml"
{extra}
""", encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def fixture_result(tmp_path_factory):
    p = make_fixture(tmp_path_factory.mktemp("fx"))
    study = load_study(p)
    return study, run_sourcing(study)


def test_hand_checked_rates(fixture_result):
    _, res = fixture_result
    f = res.firms.set_index("firm_id")
    assert f.at["B1", "local_supply_rate"] == pytest.approx(0.5)
    assert f.at["B1", "local_supply_rate_crow"] == pytest.approx(0.8)
    assert f.at["B1", "missing_inputs"] == "metal;paint"
    assert f.at["B1", "missing_inputs_crow"] == "paint"
    assert f.at["B2", "local_supply_rate"] == pytest.approx(0.8)
    assert f.at["B2", "missing_inputs"] == "paint"
    assert f.at["B1", "park_id"] == "west" and f.at["B2", "park_id"] == "east"
    assert f.at["A1", "park_id"] == ""
    assert np.isnan(f.at["A1", "local_supply_rate"])  # no inputs in the map
    assert f.at["A1", "rate_basis"] == "no_inputs"
    assert f["synthetic"].all() and res.firms.attrs["synthetic"]


def test_chain_gap_ranking(fixture_result):
    _, res = fixture_result
    g = res.gaps
    # value = output × input_ratio × weight: east paint 2000·.5·.2 = 200,
    # west metal 1000·.5·.3 = 150, west paint 1000·.5·.2 = 100
    got = list(zip(g.park_id, g.input_industry, strict=True))
    assert got == [("east", "paint"), ("west", "metal"), ("west", "paint")]
    assert g["anchor_input_value_myuan"].tolist() == pytest.approx([200, 150, 100])
    assert g["rank"].tolist() == [1, 2, 3]
    metal = g.iloc[1]
    assert metal.nearest_supplier_id == "S1"
    assert metal.nearest_supplier_km == pytest.approx(200.2, abs=0.3)
    assert metal.nearest_supplier_crow_km == pytest.approx(63.2, abs=0.3)
    assert metal.parks_with_supplier_within_radius == "east"
    assert g.iloc[0].nearest_supplier_park == "(none in the register)"
    assert metal.mean_rate_gain == pytest.approx(0.3)


def test_park_and_chain_tables(fixture_result):
    _, res = fixture_result
    p = res.parks.set_index("park_id")
    assert p.at["west", "median_rate"] == pytest.approx(0.5)
    assert p.at["east", "share_ge_50pct"] == 1.0 and p.at["west", "share_ge_50pct"] == 1.0
    assert p.at["west", "histogram"].startswith("0-20%:0;20-40%:0;40-60%:1")
    assert not res.chains["complete_within_radius"].any()


def test_radius_changes_the_answer(fixture_result):
    study, _ = fixture_result
    res = run_sourcing(study, radius_km=250, with_service_areas=False)
    f = res.firms.set_index("firm_id")
    assert f.at["B1", "local_supply_rate"] == pytest.approx(0.8)
    with pytest.raises(InputError, match="radius must be > 0"):
        run_sourcing(study, radius_km=0)
    with pytest.raises(InputError, match="radius must be > 0"):
        run_sourcing(study, radius_km=-5)


def test_input_share_within(fixture_result):
    study, _ = fixture_result
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0), shapely.Point(X0 + 80_000,
                                                                          Y0 + 60_000),
                                     shapely.Point(X0 + 500_000, Y0)], crs=GK)
    share = input_share_within(pts, "assembly", study, radius_km=100)
    assert share[:2] == pytest.approx([0.5, 0.8])
    assert np.isnan(share[2])  # 420 km from any road: off network
    with pytest.raises(ModelError, match="not in the chain maps"):
        input_share_within(pts, "nope", study)


def test_io_table(tmp_path):
    (tmp_path / "io.csv").write_text("supplier,assembly\nparts,0.1\nmetal,0.4\n",
                                     encoding="utf-8")
    study = load_study(make_fixture(tmp_path, 'io_table = "io.csv"'))
    f = run_sourcing(study, with_service_areas=False).firms.set_index("firm_id")
    assert f.at["B1", "local_supply_rate"] == pytest.approx(0.2)  # 0.1 / (0.1 + 0.4)
    assert f.at["B2", "local_supply_rate"] == pytest.approx(1.0)
    assert f.at["B1", "rate_basis"] == "io_table"


def test_supplier_edge_list(tmp_path):
    (tmp_path / "edges.csv").write_text("firm_id,supplier_id,value\nB1,A1,60\nB1,S1,40\n",
                                        encoding="utf-8")
    study = load_study(make_fixture(tmp_path, 'supplier_edges = "edges.csv"'))
    f = run_sourcing(study, with_service_areas=False).firms.set_index("firm_id")
    assert f.at["B1", "local_supply_rate"] == pytest.approx(0.6)
    assert f.at["B1", "local_supply_rate_crow"] == pytest.approx(1.0)
    assert f.at["B1", "missing_inputs"] == "metal"
    assert f.at["B1", "rate_basis"] == "supplier_edges"
    assert f.at["B2", "rate_basis"] == "chain_map"
    (tmp_path / "edges.csv").write_text("firm_id,supplier_id\nB1,ZZ\n", encoding="utf-8")
    with pytest.raises(ModelError, match="not in the firm register"):
        run_sourcing(load_study(tmp_path / "fixture.toml"), with_service_areas=False)


def test_section_validation(tmp_path):
    with pytest.raises(StudyError, match=r"sourcing\.radius_km: must be a number > 0"):
        load_study(make_fixture(tmp_path, "radius_km = 0"))
    with pytest.raises(StudyError, match=r"sourcing\.io_table: nope\.csv not found"):
        load_study(make_fixture(tmp_path, 'io_table = "nope.csv"'))
    with pytest.raises(StudyError, match=r"sourcing\.radius: unknown key; did you mean "
                                         r"'radius_km'"):
        load_study(make_fixture(tmp_path, "radius = 10"))


def test_missing_industry_field(tmp_path):
    p = make_fixture(tmp_path)
    p.write_text(p.read_text(encoding="utf-8").replace('industry = "industry"',
                                                       'industry = "sector"'), encoding="utf-8")
    with pytest.raises(InputError, match="industry field 'sector' not found"):
        run_sourcing(load_study(p))


# --------------------------------------------------------------------------- bundled data

@pytest.fixture(scope="module")
def yrd_result():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(STUDY)
        return study, run_sourcing(study)


def test_yrd_sourcing(yrd_result):
    _, res = yrd_result
    f = res.firms
    assert len(f) == 387 and f["local_supply_rate"].notna().sum() >= 370
    assert (f["status"] == "ok").all()
    # straight-line supply is never worse than supply by road
    both = f.dropna(subset=["local_supply_rate"])
    assert (both["local_supply_rate_crow"] >= both["local_supply_rate"] - 1e-9).all()
    ch = res.chains.set_index(["chain", "park_id"])
    assert ch.at[("electronics", "kunshan"), "complete_within_radius"]
    assert ch.at[("biomedicine", "zhangjiang"), "complete_within_radius"]
    assert not ch.at[("wind", "chongming"), "complete_within_radius"]
    assert "core_materials" in ch.at[("wind", "chongming"), "missing_inputs"]
    kunshan = f[(f.park_id == "kunshan") & (f.industry == "notebook_assembly")]
    assert len(kunshan) == 6 and (kunshan["local_supply_rate"] == 1).all()
    # Chongming: even with the hand-added G40 tunnel-bridge to Pudong, road supply is
    # below straight-line supply (the island is an end of the network).
    p = res.parks.set_index("park_id")
    assert p.at["chongming", "median_rate"] < 0.5 < p.at["chongming", "median_rate_crow"]
    g = res.gaps
    assert g["anchor_input_value_myuan"].is_monotonic_decreasing
    assert (g["nearest_supplier_km"].dropna() > res.radius_km).all()
    # Before the G40 connector, Chongming's pilot production was a "gap" 330 km by road
    # from Zhangjiang (50 km straight): an artefact of the missing crossing, now gone.
    assert not ((g.park_id == "chongming") & (g.input_industry == "pilot_production")).any()
    assert res.service_areas is not None and len(res.service_areas) == 10


def test_input_share_within_matches_firm_rates(yrd_result):
    study, res = yrd_result
    firms = res.firms[res.firms.industry == "biopharma_manufacturing"]
    share = input_share_within(firms, "biopharma_manufacturing", study)
    assert share == pytest.approx(firms["local_supply_rate"].to_numpy())
    rng = np.random.default_rng(1)
    minx, miny, maxx, maxy = study.bounds
    x, y = rng.uniform(minx, maxx, 30_000), rng.uniform(miny, maxy, 30_000)
    land = shapely.contains_xy(study.boundary, x, y)  # the study area (no sea)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x[land], y[land]), crs="EPSG:4326")
    s = input_share_within(pts, "notebook_assembly", study)
    assert s.shape == (land.sum(),) and np.nanmax(s) == 1.0 and np.nanmin(s) >= 0
    from geo.network import Network

    snap = Network.from_study(study).snap(pts, warn=False)
    # NaN exactly where the point is > max_snap_m (5 km) from a node of the simplified
    # network (about 1 in 6 points of the study area)
    assert np.array_equal(np.isnan(s), snap["snap_m"].to_numpy() > 5000)
    assert np.isfinite(s).mean() > 0.75


def test_write_sourcing(yrd_result, tmp_path):
    study, res = yrd_result
    paths = write_sourcing(res, tmp_path / "s.csv")
    assert [p.name for p in paths] == ["s.csv", "s_parks.csv", "s_gaps.csv", "s_chains.csv"]
    df = pd.read_csv(paths[0], encoding="utf-8-sig")
    for c in ("firm_id", "park_id", "industry", "local_supply_rate", "local_supply_rate_crow",
              "missing_inputs", "lon", "lat"):
        assert c in df.columns
    d = write_sourcing(res, tmp_path / "outdir")
    assert {p.name for p in d} >= {"sourcing.csv", "sourcing.gpkg"}
    import pyogrio

    names = [n for n, _ in pyogrio.list_layers(tmp_path / "outdir" / "sourcing.gpkg")]
    assert set(names) == {"firms", "parks", "gaps", "chains", "service_areas"}
    m = MapData.from_run(StudyRun(study, tmp_path, sourcing=res))
    assert m.firms is res.firms and m.chain_gaps is res.gaps
    assert m.service_areas is res.service_areas and m.sourcing_parks is res.parks


def test_cli_sourcing(tmp_path):
    r = CliRunner().invoke(main, ["sourcing", str(STUDY), "--out", str(tmp_path / "s.csv"),
                                  "--no-service-areas"])
    assert r.exit_code == 0, r.output
    assert "synthetic" in r.output and (tmp_path / "s_gaps.csv").exists()
    r = CliRunner().invoke(main, ["sourcing", str(STUDY), "--radius-km", "0", "--out",
                                  str(tmp_path / "t.csv")])
    assert r.exit_code == 2 and "must be > 0" in r.output


# --------------------------------------------------------------------------- firm register

def _make_firms():
    spec = importlib.util.spec_from_file_location("make_firms", ROOT / "data" / "make_firms.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_firm_register_is_reproducible():
    mod = _make_firms()
    a, b = mod.build_firms(), mod.build_firms()
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                  pd.DataFrame(b.drop(columns="geometry")))
    assert a.geometry.geom_equals(b.geometry).all()
    bundled = gpd.read_file(ROOT / "data" / "yrd" / "firms.gpkg", layer="firms")
    assert list(bundled["firm_id"]) == list(a["firm_id"])
    for c in ("industry", "park_id", "name", "anchor"):
        assert list(bundled[c]) == list(a[c]), c
    for c in ("land_mu", "annual_output_myuan", "annual_tax_myuan", "fixed_investment_myuan"):
        assert np.allclose(bundled[c], a[c], equal_nan=True), c
    assert np.allclose(shapely.get_coordinates(bundled.geometry.values),
                       shapely.get_coordinates(a.geometry.values))
    c = mod.build_firms(seed=1)
    assert not np.allclose(shapely.get_coordinates(c.geometry.values),
                           shapely.get_coordinates(a.geometry.values))


def test_firm_register_calibration():
    f = gpd.read_file(ROOT / "data" / "yrd" / "firms.gpkg", layer="firms")
    n = f.groupby(["park_id", "industry"]).size()
    # domain notes: SIP 31 / 27 / 12
    assert n[("sip", "microelectronics")] == 31
    assert n[("sip", "precision_machinery")] == 27
    assert n[("sip", "medical_supplies")] == 12
    # Chongming: biomedicine 20+, wind 1 anchor + 8 suppliers, recycling → cathode
    cm = f[f.park_id == "chongming"]
    assert (cm.chain == "biomedicine").sum() >= 20
    assert ((cm.industry == "wind_blades") & cm.anchor).sum() == 1
    assert cm.industry.isin(["blade_materials", "blade_moulds", "wind_om"]).sum() == 8
    assert (cm.industry == "battery_recycling").any() and (cm.industry == "cathode_materials").any()
    assert (cm.industry == "smart_equipment").sum() == 5
    # Kunshan: six notebook makers; SND: 75% electronics
    assert n[("kunshan", "notebook_assembly")] == 6
    snd = f[f.park_id == "snd"]
    assert snd.industry.isin(["electronic_components", "pcb", "display_modules"]).mean() == 0.75
    assert f["synthetic"].all()
    # firms in parks lie inside their park
    parks = gpd.read_file(ROOT / "data" / "yrd" / "parks.gpkg").set_index("park_id")
    inpark = f[f.park_id != ""]
    poly = parks.geometry.loc[inpark.park_id].values
    assert shapely.contains(poly, inpark.geometry.values).all()
    # some values left empty on purpose (missing means not graded), never for anchors
    assert f["annual_output_myuan"].isna().sum() > 0
    assert f.loc[f.anchor, "annual_output_myuan"].notna().all()
    mu_out = f["annual_output_myuan"] / f["land_mu"]
    assert 0.3 < mu_out.median() < 30  # million yuan per 亩: plausible


def test_bundled_examples_apply_to_yrd(tmp_path):
    text = STUDY.read_text(encoding="utf-8").replace('"../', f'"{ROOT.as_posix()}/')
    ex = (ROOT / "data" / "chains" / "examples").as_posix()
    p = tmp_path / "yrd_io.toml"
    p.write_text(text.replace('chains = "', f'io_table = "{ex}/io_table_example.csv"\n'
                              f'supplier_edges = "{ex}/supplier_edges_example.csv"\nchains = "'),
                 encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_sourcing(load_study(p), with_service_areas=False)
    f = res.firms.set_index("firm_id")
    assert f.at["F0101", "rate_basis"] == "supplier_edges"
    # F0101 (Kunshan) buys 740; only the Hangzhou storage supplier (60) is more than
    # 100 km away by road (the Jiaxing cell maker is 86 km)
    assert f.at["F0101", "local_supply_rate"] == pytest.approx(680 / 740)
    assert f.at["F0101", "missing_inputs"] == "storage_devices"
    # F0320 (Jiaxing cells): cathode (Chongming), separators (Nanjing), anode (Taicang)
    assert f.at["F0320", "local_supply_rate"] == 0.0
    # other firms use the input-output columns: components .01 and electrolyte .09 of
    # .68 are near Jiaxing
    assert f.at["F0321", "rate_basis"] == "io_table"
    assert f.at["F0321", "local_supply_rate"] == pytest.approx(0.10 / 0.68)
    assert f.at["F0102", "local_supply_rate"] == pytest.approx(1.0)


def test_off_network_supplier_counts_in_the_straight_line_rate(tmp_path):
    """Issue 10: a paint maker 8 km from any road (max_snap_m 5000) is still a supplier
    in a straight line, and the gap table names it as off the network, never as
    "(none in the register)"."""
    p = make_fixture(tmp_path)
    firms = gpd.read_file(tmp_path / "firms.gpkg")
    extra = gpd.GeoDataFrame({"firm_id": ["P9"], "industry": ["paint"], "anchor": [False],
                              "annual_output_myuan": [10.0]},
                             geometry=[shapely.Point(X0 + 3000, Y0 - 8000)], crs=GK)
    pd.concat([firms, extra], ignore_index=True).to_file(tmp_path / "firms.gpkg")
    with pytest.warns(UserWarning, match="P9: 8.0 km from the nearest road"):
        res = run_sourcing(load_study(p), with_service_areas=False)
    f = res.firms.set_index("firm_id")
    assert f.at["P9", "status"] == "off_network"
    assert f.at["B1", "local_supply_rate_crow"] == pytest.approx(1.0)  # was 0.8
    assert f.at["B1", "missing_inputs_crow"] == ""
    assert f.at["B1", "local_supply_rate"] == pytest.approx(0.5)  # by road: unchanged
    paint = res.gaps.set_index(["park_id", "input_industry"]).loc[("west", "paint")]
    assert paint.nearest_supplier_id == "P9"
    assert paint.nearest_supplier_park == \
        "in the register but off the network (8.0 km from a road)"
    assert np.isnan(paint.nearest_supplier_km)
    assert paint.nearest_supplier_crow_km == pytest.approx(np.hypot(3, 8.1), abs=0.05)
