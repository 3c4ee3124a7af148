"""Adversarial cases for the road network: snapping, one-way edges, components, bad
connectors and bad network files (``parksite od`` / ``parksite reach``)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._harness import BAD_INPUT, OK, attack

GK = "EPSG:4549"
X0, Y0 = 500_000.0, 3_430_000.0


def _lines(path, coords_list, **fields):
    geoms = [shapely.LineString([(X0 + x, Y0 + y) for x, y in c]) for c in coords_list]
    gpd.GeoDataFrame(fields, geometry=geoms, crs=GK).to_file(path)
    return path


def _points(path, xy, ids):
    gpd.GeoDataFrame({"id": ids}, geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy],
                     crs=GK).to_file(path)
    return path


def _od(tmp_path, roads, o, d, expect):
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    r = attack(["od", o, d, "--network", roads, "--id-field", "id", "--out",
                out / "od.csv"], inputs=[roads, o, d], out_dir=out, expect=expect)
    return r, out / "od.csv"


def test_firm_far_from_any_road_is_reported_with_its_distance(tmp_path):
    roads = _lines(tmp_path / "r.gpkg", [[(0, 0), (60_000, 0)]])
    o = _points(tmp_path / "o.gpkg", [(30_000, 142)], ["near"])
    d = _points(tmp_path / "d.gpkg", [(30_000, 9000)], ["far"])
    r, csv = _od(tmp_path, roads, o, d, OK)
    assert r.says("far: 9.0 km from the nearest road", "not snapped")
    assert pd.read_csv(csv, encoding="utf-8-sig").status.tolist() == ["off_network"]


def test_firm_142_m_from_a_long_road_is_on_the_network(tmp_path):
    roads = _lines(tmp_path / "r.gpkg", [[(0, 0), (60_000, 0)]])
    o = _points(tmp_path / "o.gpkg", [(20_000, 142)], ["a"])
    d = _points(tmp_path / "d.gpkg", [(39_100, -50)], ["b"])
    r, csv = _od(tmp_path, roads, o, d, OK)
    row = pd.read_csv(csv, encoding="utf-8-sig").iloc[0]
    assert row.status == "ok" and abs(row.network_m - (19_100 + 192)) < 10
    assert not r.says("not snapped")


def test_one_way_dead_end_is_unreachable_not_silent(tmp_path):
    roads = _lines(tmp_path / "r.gpkg", [[(0, 0), (1000, 0)]], oneway=["yes"])
    o = _points(tmp_path / "o.gpkg", [(700, 0)], ["q"])
    d = _points(tmp_path / "d.gpkg", [(300, 0)], ["p"])
    r, csv = _od(tmp_path, roads, o, d, OK)
    assert r.says("no route")
    row = pd.read_csv(csv, encoding="utf-8-sig").iloc[0]
    assert row.status == "unreachable" and np.isnan(row.network_m)


def test_disconnected_components_are_flagged(tmp_path):
    roads = _lines(tmp_path / "r.gpkg", [[(0, 0), (1000, 0)], [(5000, 0), (6000, 0)]])
    o = _points(tmp_path / "o.gpkg", [(500, 10)], ["a"])
    d = _points(tmp_path / "d.gpkg", [(5500, 10)], ["b"])
    r, csv = _od(tmp_path, roads, o, d, OK)
    assert r.says("small disconnected part") or r.says("no route")
    assert pd.read_csv(csv, encoding="utf-8-sig").status.tolist() == ["unreachable"]


def test_network_of_points_is_refused(tmp_path):
    roads = _points(tmp_path / "r.gpkg", [(0, 0), (10, 10)], ["x", "y"])
    o = _points(tmp_path / "o.gpkg", [(0, 0)], ["a"])
    r, _ = _od(tmp_path, roads, o, o, BAD_INPUT)
    assert r.says("r.gpkg")


def test_unknown_id_field_is_named(tmp_path):
    roads = _lines(tmp_path / "r.gpkg", [[(0, 0), (1000, 0)]])
    o = _points(tmp_path / "o.gpkg", [(0, 0)], ["a"])
    out = tmp_path / "out"
    out.mkdir()
    r = attack(["od", o, o, "--network", roads, "--id-field", "nope", "--out", out / "x.csv"],
               inputs=[roads, o], out_dir=out, expect=BAD_INPUT)
    assert r.says("'nope' not found")


def _study_with_connectors(tmp_path, conn_coords, **fields):
    _lines(tmp_path / "roads.gpkg", [[(0, 0), (20_000, 0)], [(0, 2000), (20_000, 2000)]])
    _lines(tmp_path / "conn.gpkg", [conn_coords], **fields)
    _points(tmp_path / "pts.gpkg", [(100, 0), (100, 2000)], ["a", "b"])
    p = tmp_path / "s.toml"
    p.write_text('[study]\nname = "s"\n\n[layers.roads]\npath = "roads.gpkg"\nrole = "roads"\n'
                 '\n[layers.conn]\npath = "conn.gpkg"\nrole = "roads"\n\n[layers.pts]\n'
                 'path = "pts.gpkg"\nrole = "sites"\nid = "id"\n\n[network]\nlayer = "roads"\n'
                 'connectors = "conn"\n', encoding="utf-8")
    return p


def _od_study(tmp_path, study, expect):
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return attack(["od", "pts", "pts", "--study", study, "--out", out / "od.csv"],
                  inputs=[tmp_path / "roads.gpkg", tmp_path / "conn.gpkg", study],
                  out_dir=out, expect=expect)


def test_connector_with_negative_penalty_is_refused(tmp_path):
    s = _study_with_connectors(tmp_path, [(0, 0), (0, 2000)], name_en=["Ferry X"],
                               penalty_min=[-5.0])
    r = _od_study(tmp_path, s, BAD_INPUT)
    assert r.says("Ferry X", "penalty_min must be a number of minutes")


def test_connector_far_from_the_roads_is_refused(tmp_path):
    s = _study_with_connectors(tmp_path, [(0, 30_000), (0, 40_000)], name_en=["Bridge Y"])
    r = _od_study(tmp_path, s, BAD_INPUT)
    assert r.says("Bridge Y", "from the nearest road end", "move its end points")


def test_connector_joins_and_shortens(tmp_path):
    s = _study_with_connectors(tmp_path, [(5, 5), (3, 1995)], name_en=["Bridge Z"],
                               penalty_min=[0.0])
    _od_study(tmp_path, s, OK)
    df = pd.read_csv(tmp_path / "out" / "od.csv", encoding="utf-8-sig")
    ab = df[(df.origin_id == "a") & (df.dest_id == "b")].iloc[0]
    assert ab.status == "ok" and abs(ab.network_m - 2200) < 5
