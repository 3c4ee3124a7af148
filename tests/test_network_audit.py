"""Network audit (geo/network/audit.py): probable missing links, before and after
hand-added connectors."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _mapdata import features_by, geojson_layers
from click.testing import CliRunner

from geo.cli import main
from geo.errors import NetworkError
from geo.network import Network
from geo.network.audit import AuditSettings, audit_network, audit_study, water_crossed
from geo.network.build import join_connectors
from geo.study import load_study
from tests._gk import GK, X0, Y0, gk_lines

# Two 1 km road grids, 0–16 km east–west: the south bank y = 0…10 km, the north bank
# y = 12…22 km, a 2 km wide river between. The only bridge is at x = 0, so nodes facing
# each other at x = 16 km are 2 km apart in a straight line and 16 + 2 + 16 = 34 km
# apart by road: a gap of 32 km, the largest of any pair.
W_KM = 16
BANKS = ((0, 10), (12, 22))


def _grid_lines() -> list[list[tuple[float, float]]]:
    lines = []
    for y0, y1 in BANKS:
        for y in range(y0, y1 + 1):
            lines += [[(x * 1000, y * 1000), ((x + 1) * 1000, y * 1000)] for x in range(W_KM)]
        for x in range(W_KM + 1):
            lines += [[(x * 1000, y * 1000), (x * 1000, (y + 1) * 1000)] for y in range(y0, y1)]
    return lines + [[(0, 10_000), (0, 12_000)]]  # the one bridge, at the west end


def _river() -> gpd.GeoDataFrame:
    poly = shapely.box(X0 - 5000, Y0 + 10_100, X0 + 25_000, Y0 + 11_900)
    return gpd.GeoDataFrame({"name": ["测试河 Test River"]}, geometry=[poly], crs=GK)


def _bridge() -> gpd.GeoDataFrame:
    return gk_lines([[(W_KM * 1000 + 20, 10_010), (W_KM * 1000 - 10, 11_990)]],
                    kind=["bridge"], name_zh=["测试大桥"], name_en=["Test bridge"],
                    source=["fixture"], penalty_min=[0.0])


@pytest.fixture(scope="module")
def roads() -> gpd.GeoDataFrame:
    return gk_lines(_grid_lines())


def test_the_missing_bridge_is_found_and_the_river_named(roads):
    net = Network.from_lines(roads, crs=GK)
    res = audit_network(net, water=[("Rivers", _river())])
    f = res.findings
    assert len(f) >= 1
    top = f.iloc[0]
    assert top["rank"] == 1 and top["route"] == "longer"
    assert top["gap_km"] == pytest.approx(32.0, abs=0.05)
    assert top["network_km"] - top["straight_km"] == pytest.approx(top["gap_km"])
    assert top["detour"] == pytest.approx(top["network_km"] / top["straight_km"])
    assert top["water"] == "测试河 Test River (Rivers)"
    # both ends at the east end of the grid (x = 16 km), one on each bank
    xy = np.column_stack(gpd.GeoSeries(gpd.points_from_xy([top.a_lon, top.b_lon],
                                                           [top.a_lat, top.b_lat]),
                                       crs=4326).to_crs(GK).get_coordinates().to_numpy().T)
    assert np.allclose(xy[:, 0] - X0, W_KM * 1000, atol=1.0)
    assert sorted((xy[:, 1] - Y0) < 11_000) == [False, True]
    # every finding meets the stated thresholds
    st = res.settings
    assert (f["straight_km"] * 1000 <= st.radius_m + 1e-6).all()
    assert (f["detour"] >= st.min_detour).all()
    assert (f["gap_km"] * 1000 >= st.min_gap_m).all()
    # de-duplicated: kept findings are never within cluster_m of each other at both ends
    assert f["pairs"].sum() <= res.stats["sources"] and len(f) <= 3


def test_a_connector_closes_the_gap(roads):
    lines = join_connectors(roads, _bridge(), GK, 100.0)
    net = Network.from_lines(lines, crs=GK)
    res = audit_network(net, water=[("Rivers", _river())], connectors=_bridge())
    assert len(res.findings) == 0
    assert res.stats["candidate_pairs"] > 1000  # it did look


def test_without_the_connector_the_finding_names_it(roads):
    res = audit_network(Network.from_lines(roads, crs=GK), connectors=_bridge(),
                        with_connectors=False)
    assert res.findings.iloc[0]["near_connector"] == "测试大桥"
    assert not res.with_connectors


def test_a_tighter_threshold_reports_nothing(roads):
    res = audit_network(Network.from_lines(roads, crs=GK),
                        settings=AuditSettings(min_gap_m=33_000))
    assert len(res.findings) == 0


def test_an_island_without_a_route_is_one_finding(roads):
    island = gk_lines([[(5000, 13_000), (6000, 13_000)], [(6000, 13_000), (6000, 14_000)]])
    south = gk_lines([ln for ln in _grid_lines() if ln[0][1] <= 10_000 and ln[-1][1] <= 10_000])
    net = Network.from_lines(gpd.GeoDataFrame(
        {"geometry": list(south.geometry) + list(island.geometry)}, crs=GK), crs=GK)
    f = audit_network(net).findings
    none = f[f["route"] == "no route"]
    assert len(none) == 1  # one per pair of components
    assert none.iloc[0]["straight_km"] == pytest.approx(3.0, abs=0.01)  # the shortest link
    assert np.isinf(none.iloc[0]["network_km"])


def test_water_crossed_lists_every_body_or_none():
    line = shapely.LineString([(120.0, 31.0), (120.1, 31.0)])
    away = shapely.LineString([(121.0, 31.0), (121.1, 31.0)])
    lake = gpd.GeoDataFrame({"name": ["甲湖 Lake A", ""]},
                            geometry=[shapely.box(120.02, 30.9, 120.03, 31.1),
                                      shapely.box(120.05, 30.9, 120.06, 31.1)], crs=4326)
    got = water_crossed(np.array([line, away]), [("Lakes", lake)])
    assert got.tolist() == ["甲湖 Lake A (Lakes); unnamed (Lakes)", "none"]


@pytest.mark.parametrize("kw", [{"min_detour": 1.0}, {"radius_m": 0.0},
                                {"cluster_m": float("nan")}])
def test_bad_settings_are_refused(kw):
    with pytest.raises(NetworkError, match="min_detour > 1"):
        AuditSettings(**kw)


def _study(tmp_path: Path, roads: gpd.GeoDataFrame) -> Path:
    roads.to_file(tmp_path / "roads.gpkg")
    _river().to_file(tmp_path / "river.gpkg")
    _bridge().to_file(tmp_path / "connectors.gpkg")
    p = tmp_path / "river.toml"
    p.write_text('[study]\nname = "river"\n\n[layers.roads]\npath = "roads.gpkg"\n'
                 'role = "roads"\n\n[layers.river]\npath = "river.gpkg"\nrole = "water"\n'
                 'label_en = "Rivers"\n\n[network]\nconnectors = "connectors.gpkg"\n',
                 encoding="utf-8")
    return p


def test_cli_audit_before_and_after(tmp_path, roads):
    p = _study(tmp_path, roads)
    r = CliRunner().invoke(main, ["network", "audit", str(p), "--without-connectors",
                                  "--out", str(tmp_path / "before.csv")])
    assert r.exit_code == 1, r.output  # findings
    assert "测试河 Test River" in r.output and "测试大桥" in r.output
    before = (tmp_path / "before.csv").read_text(encoding="utf-8-sig")
    assert before.count("\n") >= 2 and "gap_km" in before
    r = CliRunner().invoke(main, ["network", "audit", str(p), "--out",
                                  str(tmp_path / "after.gpkg")])
    assert r.exit_code == 0, r.output
    assert "no probable missing links" in r.output and "closed" in r.output
    assert len(gpd.read_file(tmp_path / "after.gpkg", layer="findings")) == 0


def test_cli_refuses_a_bad_output_suffix(tmp_path, roads):
    p = _study(tmp_path, roads)
    r = CliRunner().invoke(main, ["network", "audit", str(p), "--out",
                                  str(tmp_path / "x.shp")])
    assert r.exit_code == 2 and ".gpkg or .csv" in r.output
    assert not (tmp_path / "x.shp").exists()


# ----------------------------------------------------------------- the bundled study

CHENGQIAO = (121.397, 31.623)  # 城桥镇, Chongming's seat
JIANGYIN_BRIDGE = "江阴长江公路大桥"


def _near(f: gpd.GeoDataFrame, lonlat: tuple[float, float], km: float) -> gpd.GeoDataFrame:
    ends = np.hypot(f[["a_lon", "b_lon"]].to_numpy() - lonlat[0],
                    f[["a_lat", "b_lat"]].to_numpy() - lonlat[1]) * 100  # ~km at 31°N
    return f[(ends < km).any(axis=1)]


@pytest.mark.slow
def test_bundled_gaps_found_before_and_fixed_after(yrd_study):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = audit_study(yrd_study, with_connectors=False)
        after = audit_study(yrd_study)
    b, a = before.findings, after.findings
    # Chongming's seat across the Yangtze from Baoshan: ~300 km by road before the G40
    cq = _near(b, CHENGQIAO, 3)
    assert len(cq) and cq["gap_km"].max() > 250 and "海域" in cq.iloc[0]["water"]
    after_cq = _near(a, CHENGQIAO, 3)["gap_km"]  # what remains: no Chongming–Taicang link
    assert after_cq.max() < cq["gap_km"].max() - 100
    # Jiangyin: ~4 km across the river, > 100 km by road before the bridge
    jy = b[b["near_connector"].str.contains(JIANGYIN_BRIDGE)]
    assert len(jy) and (jy["straight_km"] < 15).any() and jy["gap_km"].max() > 100
    assert not a["near_connector"].str.contains(JIANGYIN_BRIDGE).any()
    c = after.connectors.set_index("name_zh")
    assert c.loc["上海长江隧道", "before_km"] > 250 and c.loc["上海长江隧道", "after_km"] < 15
    assert c.loc[JIANGYIN_BRIDGE, "before_km"] > 100 and c.loc[JIANGYIN_BRIDGE, "after_km"] < 5
    assert (c.loc[["上海长江隧道", JIANGYIN_BRIDGE], "status"] == "closed").all()
    assert c.loc["崇启大桥", "after_km"] < c.loc["崇启大桥", "before_km"]
    assert len(a) < len(b)


def test_the_map_draws_the_findings_off_by_default(tmp_path, roads):
    from geo import webmap

    study = load_study(_study(tmp_path, roads))
    f = audit_network(Network.from_lines(roads, crs=GK)).findings
    f.loc[0, "water"] = "<script>alert(1)</script>"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = webmap.write_map(study, tmp_path / "m.html", webmap.MapData(network_audit=f),
                                lang="zh")
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "疑似缺失连接" in info["layers"]
    assert "<script>alert(1)" not in page
    feats = features_by(geojson_layers(page),
                        lambda f: f["properties"].get("t", "").startswith("疑似缺失连接 #"))
    assert len(feats) == len(f)
    assert "&lt;script&gt;alert(1)" in feats[0]["properties"]["p"]
    assert feats[0]["properties"]["t"].startswith("疑似缺失连接 #1 · ")
    # off by default: not among the layers on at opening (the decision view's set)
    assert "network_audit" not in info["opening"]
    groups = re.findall(r"var (feature_group_\w+) = L\.featureGroup\(", page)
    added = set(re.findall(r"(feature_group_\w+)\.addTo\(", page))
    assert len(groups) == len(info["layers"]) and len(added) == len(info["opening"])


def test_cli_a_study_without_roads_is_exit_2(tmp_path):
    _river().to_file(tmp_path / "river.gpkg")
    p = tmp_path / "s.toml"
    p.write_text('[study]\nname = "s"\n\n[layers.river]\npath = "river.gpkg"\nrole = "water"\n',
                 encoding="utf-8")
    r = CliRunner().invoke(main, ["network", "audit", str(p)])
    assert r.exit_code == 2 and "no roads layer" in r.output


def test_run_study_with_audit_keeps_the_result_and_writes_it(tmp_path, roads):
    from geo.pipeline import run_study
    from geo.webmap import MapData

    p = _study(tmp_path, roads)
    box = shapely.box(X0 + 2000, Y0 + 2000, X0 + 4000, Y0 + 4000)
    gpd.GeoDataFrame({"park_id": ["p1"], "name": ["P"]}, geometry=[box], crs=GK).to_file(
        tmp_path / "parks.gpkg")
    gpd.GeoDataFrame({"zone_id": ["z1"], "name": ["Z"], "class": ["redline"]},
                     geometry=[box.buffer(-500)], crs=GK).to_file(tmp_path / "zones.gpkg")
    p.write_text(p.read_text(encoding="utf-8") + '\n[layers.parks]\npath = "parks.gpkg"\n'
                 'role = "parks"\nid = "park_id"\n\n[layers.zones]\npath = "zones.gpkg"\n'
                 'role = "redlines"\nid = "zone_id"\n', encoding="utf-8")
    study = load_study(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = run_study(study, tmp_path / "out", audit=True)
        skipped = run_study(study, tmp_path / "out2")
    assert run.audit is not None and len(run.audit) == 0  # the connector closes the gap
    assert run.audit.connectors.at[0, "status"] == "closed"
    assert gpd.read_file(tmp_path / "out" / "network_audit.gpkg", layer="findings").empty
    assert MapData.from_run(run).network_audit is run.audit.findings
    assert skipped.audit is None and not (tmp_path / "out2" / "network_audit.gpkg").exists()


def test_study_settings_are_read_and_checked(tmp_path, roads):
    from geo.errors import StudyError

    p = _study(tmp_path, roads)
    base = p.read_text(encoding="utf-8")
    p.write_text(base + "audit_radius_m = 10000\naudit_cluster_m = 3000\n", encoding="utf-8")
    st = AuditSettings.from_study(load_study(p))
    assert (st.radius_m, st.cluster_m, st.min_detour, st.sample_m) == (10_000, 3000, 3, 2000)
    p.write_text(base + "audit_min_detour = 1\naudit_sample_m = -5\n", encoding="utf-8")
    with pytest.raises(StudyError, match=r"(?s)audit_min_detour: must be a number > 1.*"
                                         r"audit_sample_m: must be a number > 0"):
        load_study(p)
