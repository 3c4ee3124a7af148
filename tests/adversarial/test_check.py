"""`parksite check` passes only studies that the analyses accept; study names never
become unsafe paths; layers outside the project folder are listed, not hidden;
"N firms rated" counts the firms actually rated.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import geo.cli.map
import geo.cli.run as run_cli
from geo.cli.options import layers_outside
from geo.pipeline import StudyRun
from geo.redline import check_study
from geo.study import load_study

from ._harness import BAD_INPUT, OK, attack

ROOT = Path(__file__).resolve().parents[2]
YRD = ROOT / "layers" / "yrd.toml"


def yrd_copy(tmp: Path, *, firms: Path | None = None, replace: dict | None = None) -> Path:
    """The bundled study in ``tmp`` with absolute data paths (and ``firms`` if given)."""
    text = YRD.read_text(encoding="utf-8")
    if firms is not None:
        text = text.replace('"../data/yrd/firms.gpkg"', f'"{firms}"')
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    text = text.replace('"../', f'"{ROOT}/')
    s = tmp / "study.toml"
    s.write_text(text, encoding="utf-8")
    return s


@pytest.fixture(scope="module")
def firms() -> gpd.GeoDataFrame:
    return gpd.read_file(ROOT / "data" / "yrd" / "firms.gpkg")


def test_check_refuses_a_negative_land_figure_that_parks_would_refuse(tmp_path, firms):
    g = firms.copy()
    g.loc[4, "land_mu"] = -20.0
    f = tmp_path / "firms.gpkg"
    g.to_file(f, engine="pyogrio")
    s = yrd_copy(tmp_path, firms=f)
    r = attack(["check", s], inputs=[s, f], expect=BAD_INPUT)
    assert r.says("layer 'firms'", "land_mu", "F0005 (-20)", "cannot be negative")


def test_check_names_unreadable_figures_by_firm(tmp_path, firms):
    g = firms.copy()
    g["annual_output_myuan"] = g["annual_output_myuan"].astype(object)
    g.loc[0, "annual_output_myuan"] = "about 3000"
    f = tmp_path / "firms.gpkg"
    g.to_file(f, engine="pyogrio")
    s = yrd_copy(tmp_path, firms=f)
    r = attack(["check", s], inputs=[s, f], expect=OK)
    assert r.says("annual_output_myuan", "F0001: 'about 3000'", "firm figures parsed")


def test_check_refuses_a_layout_park_that_does_not_exist(tmp_path):
    s = yrd_copy(tmp_path, replace={'park = "chongming"': 'park = "chongmin"'})
    r = attack(["check", s], inputs=[s], expect=BAD_INPUT)
    assert r.says("[layout] park = 'chongmin'", "did you mean 'chongming'")


def test_check_refuses_incoming_firms_no_chain_map_knows(tmp_path):
    inc = tmp_path / "incoming.csv"
    inc.write_text("firm_id,name,industry,land_mu\nN1,正极材料厂,cathode_material,80\n",
                   encoding="utf-8")
    s = yrd_copy(tmp_path, replace={'"../data/examples/incoming_firms.csv"': f'"{inc}"'})
    r = attack(["check", s], inputs=[s, inc], expect=BAD_INPUT)
    assert r.says("incoming.csv", "not in the chain maps", "did you mean 'cathode_materials'")


def test_check_refuses_inconsistent_ahp_judgements_that_suitability_would_refuse(tmp_path):
    """highway ≫ port stated as 1/9 while the other judgements imply about 1/2."""
    s = yrd_copy(tmp_path, replace={
        '  [1,     3, 2,     2,     3, 1    ],\n  ["1/3"':
            '  [1,     3, "1/9", 2,     3, 1    ],\n  ["1/3"',
        '  ["1/2", 2, 1,     1,     2, "1/2"],\n  ["1/2", 2, 1,':
            '  [9,     2, 1,     1,     2, "1/2"],\n  ["1/2", 2, 1,'})
    r = attack(["check", s], inputs=[s], expect=BAD_INPUT)
    assert r.says("suitability.ahp", "inconsistent", "CR = 0.239", "highway vs port",
                  "allow_inconsistent")


def test_check_of_a_consistent_study_reports_the_suitability_weights():
    r = attack(["check", YRD], inputs=[YRD], expect=OK)
    assert r.says("suitability: 5 criteria", "highway 0.", "AHP CR", "cells of 250 m")


def test_check_refuses_a_supplier_edge_list_sourcing_would_refuse(tmp_path):
    edges = tmp_path / "edges.csv"
    edges.write_text("firm,supplier\nF0001,F0002\n", encoding="utf-8")
    s = yrd_copy(tmp_path, replace={'radius_km = 100\nchains':
                                    f'radius_km = 100\nsupplier_edges = "{edges}"\nchains'})
    r = attack(["check", s], inputs=[s, edges], expect=BAD_INPUT)
    assert r.says("edges.csv", "missing column(s) firm_id, supplier_id")


def test_check_refuses_sourcing_without_roads(tmp_path):
    s = yrd_copy(tmp_path, replace={'role = "roads"': 'role = "rail"'})
    r = attack(["check", s], inputs=[s], expect=BAD_INPUT)
    assert r.says("[sourcing] rates firms by road", "no roads layer", "role = \"roads\"")


def test_check_names_the_study_key_of_missing_incoming_firms(tmp_path):
    s = yrd_copy(tmp_path, replace={'"../data/examples/incoming_firms.csv"':
                                    '"../data/examples/incoming_firm.csv"'})
    r = attack(["check", s], inputs=[s], expect=BAD_INPUT)
    assert r.says("layout.firms", "incoming_firm.csv", "not found")
    assert not r.says("--firms")  # the study key, not an option the user did not give


def test_check_lists_layers_outside_the_project_folder(tmp_path):
    s = yrd_copy(tmp_path)
    r = attack(["check", s], inputs=[s], expect=OK)
    assert r.says("outside the study's project folder", "base.gpkg", "firms.gpkg",
                  "allowed")


def test_check_of_the_bundled_study_lists_nothing_outside():
    r = attack(["check", YRD], inputs=[YRD], expect=OK)
    assert not r.says("outside the study's project folder")
    assert r.says("layout: park chongming, 20 incoming firms readable")


def _capture_map(monkeypatch) -> dict:
    seen: dict = {}

    def fake_write_map(study, out_path, results, **kw):
        seen.update(path=Path(out_path), results=results)
        return {"path": out_path, "bytes": 0, "layers": [], "offline": True,
                "basemap": "none", "lang": "zh", "warnings": []}

    monkeypatch.setattr(geo.cli.map, "write_map", fake_write_map)
    return seen


def test_map_model_card_lists_layers_outside_the_project_folder(tmp_path, monkeypatch):
    seen = _capture_map(monkeypatch)
    s = yrd_copy(tmp_path)
    attack(["map", s, "--no-redlines", "--out", tmp_path / "m.html"], inputs=[s], expect=OK)
    (key, files), = seen["results"].model_card.items()
    assert "outside the project folder" in key
    assert str(ROOT / "data" / "yrd" / "base.gpkg") in files


def test_run_map_model_card_lists_layers_outside_the_project_folder(tmp_path, monkeypatch):
    seen: dict = {}

    def gate_only(study, out_dir, *, staging, **kw):
        return StudyRun(study=study, out_dir=Path(out_dir), redlines=check_study(study))

    def fake_write_map(study, out_path, results, **kw):
        seen.update(results=results)
        Path(out_path).write_text("<html></html>", encoding="utf-8")
        return {"path": str(out_path), "bytes": 13, "layers": [], "offline": True}

    monkeypatch.setattr(run_cli, "run_study", gate_only)
    monkeypatch.setattr(run_cli, "write_map", fake_write_map)
    s = yrd_copy(tmp_path)
    attack(["run", s, "--out-dir", tmp_path / "out", "--map", tmp_path / "m.html"],
           inputs=[s], expect=OK)
    (key, files), = seen["results"].model_card.items()
    assert "outside the project folder" in key
    assert str(ROOT / "data" / "yrd" / "firms.gpkg") in files
    assert seen["results"].redline_parks is not None  # the run's own results are all still there


@pytest.mark.parametrize("name", ["../../evil", "/tmp/evil", "..", "a/../../b", "C:\\\\x",
                                  "maps/../../../etc/cron.d/x"])
def test_study_name_never_leaves_the_default_map_folder(tmp_path, monkeypatch, name):
    seen = _capture_map(monkeypatch)
    s = yrd_copy(tmp_path, replace={'name = "yrd"': f'name = "{name}"'})
    work = tmp_path / "work"
    work.mkdir()
    attack(["map", s, "--no-redlines"], inputs=[s], cwd=work, expect=OK)
    out = (work / seen["path"]).resolve()
    assert out.parent == (work / "maps").resolve() and out.suffix == ".html"
    assert ".." not in seen["path"].parts


@pytest.mark.parametrize("name", ["../../evil", "/tmp/evil", "a/../../b"])
def test_study_name_never_leaves_the_default_run_folders(tmp_path, monkeypatch, name):
    seen: dict = {}

    def stop(study, out_dir, *, staging, **kw):
        seen.update(out_dir=Path(out_dir), staging=Path(staging))
        raise KeyboardInterrupt

    monkeypatch.setattr(run_cli, "run_study", stop)
    s = yrd_copy(tmp_path, replace={'name = "yrd"': f'name = "{name}"'})
    work = tmp_path / "work"
    work.mkdir()
    attack(["run", s], inputs=[s], cwd=work, expect=130)
    assert (work / seen["out_dir"]).resolve().parent == (work / "out").resolve()
    assert seen["staging"].resolve().parent == (work / "out").resolve()
    # Staging removed, no map, nothing anywhere else (the checks made the empty folders).
    assert [p for p in work.rglob("*") if not p.is_dir()] == []
    assert {p.name for p in work.iterdir()} <= {"out", "maps"}


CHAINS = """
[chain]
id = "fx"
name_zh = "测试链"
name_en = "Fixture chain"
[industries.assembly]
name_zh = "整机"
name_en = "Assembly"
inputs = { parts = 1.0 }
[industries.parts]
name_zh = "零件"
name_en = "Parts"
"""


def test_sourcing_with_no_rated_firm_says_zero(tmp_path):
    """Every firm makes parts, which have no inputs: nobody is rated, and the summary
    must say 0 (not the register's size)."""
    gk, x0, y0 = "EPSG:4549", 500_000.0, 3_430_000.0
    roads = [shapely.LineString([(x0 + i * 10_000, y0), (x0 + (i + 1) * 10_000, y0)])
             for i in range(5)]
    gpd.GeoDataFrame({"road_id": [f"r{i}" for i in range(5)]}, geometry=roads,
                     crs=gk).to_file(tmp_path / "roads.gpkg")
    gpd.GeoDataFrame({"park_id": ["p"]}, geometry=[shapely.box(x0, y0 - 5000, x0 + 20_000,
                                                               y0 + 5000)],
                     crs=gk).to_file(tmp_path / "parks.gpkg")
    gpd.GeoDataFrame({"firm_id": ["F1", "F2", "F3"], "industry": ["parts"] * 3,
                      "annual_output_myuan": [10.0, 20.0, np.nan]},
                     geometry=[shapely.Point(x0 + 1000 * i, y0 + 100) for i in range(3)],
                     crs=gk).to_file(tmp_path / "firms.gpkg")
    (tmp_path / "chains.toml").write_text(CHAINS, encoding="utf-8")
    s = tmp_path / "s.toml"
    s.write_text('[study]\nname = "z"\n[layers.roads]\npath = "roads.gpkg"\nrole = "roads"\n'
                 '[layers.parks]\npath = "parks.gpkg"\nrole = "parks"\nid = "park_id"\n'
                 '[layers.firms]\npath = "firms.gpkg"\nrole = "firms"\nid = "firm_id"\n'
                 'industry = "industry"\n[sourcing]\nchains = "chains.toml"\n',
                 encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    r = attack(["sourcing", s, "--no-service-areas", "--out", out / "s.csv"],
               inputs=[s, tmp_path / "firms.gpkg"], out_dir=out, expect=OK)
    assert r.says("0 of 3 firms rated")
    assert "3 firms rated" not in r.output.replace("0 of 3 firms rated", "")
    assert "✓ 0" not in r.output


def test_layers_outside_is_empty_inside_and_lists_each_file_once(tmp_path):
    assert layers_outside(load_study(YRD)) == []
    outside = layers_outside(load_study(yrd_copy(tmp_path)))
    assert len(outside) == len(set(outside)) and ROOT / "data" / "yrd" / "base.gpkg" in outside
