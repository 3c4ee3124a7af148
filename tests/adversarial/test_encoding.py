"""Garbled text (mojibake): a wrong ``.cpg``, a wrong ``encoding``, text garbled before
it was saved. Every case reads without a decoding error in GDAL, so without a check the
industries and names would be garbage that matches nothing (a banned chemicals plot in
Taihu's first-level zone would come out "review: not recognised" or worse, a pass).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from ._harness import BAD_INPUT, FINDINGS, attack

ROOT = Path(__file__).resolve().parents[2]
ZONES = ROOT / "data" / "yrd" / "redlines.gpkg"
CHEM = "化学原料和化学制品制造业"


def plots(tmp: Path, *, suffix: str = ".shp", encoding: str = "GBK", cpg: str | None = None,
          name: str = "胥口地块", industry: str = CHEM) -> Path:
    """One 1.6 km plot inside the Taihu belt, saved in ``encoding`` with ``cpg``."""
    g = gpd.GeoDataFrame({"plot_id": ["xukou"], "name": [name], "industries": [industry]},
                         geometry=[shapely.Point(120.48, 31.16)], crs=4326).to_crs(4549)
    g["geometry"] = g.buffer(800, cap_style="square")
    p = tmp / f"plots{suffix}"
    g.to_crs(4326).to_file(p, engine="pyogrio", encoding=encoding)
    if suffix == ".shp":
        c = p.with_suffix(".cpg")
        if cpg is None:
            c.unlink(missing_ok=True)
        else:
            c.write_text(cpg, encoding="ascii")
    return p


def sidecars(shp: Path) -> list[Path]:
    return sorted(shp.parent.glob(shp.stem + ".*"))


def gate(tmp: Path, p: Path, expect: int):
    out = tmp / "out"
    out.mkdir(exist_ok=True)
    return attack(["redlines", p, ZONES, "--industry-field", "industries", "--out",
                   out / "c.csv"], inputs=sidecars(p) if p.suffix == ".shp" else [p],
                  out_dir=out, expect=expect)


@pytest.mark.parametrize("cpg", ["1252", "ISO-8859-1", "LATIN1"])
def test_gbk_shapefile_with_a_latin_cpg_is_named_with_the_fix(tmp_path, cpg):
    r = gate(tmp_path, plots(tmp_path, cpg=cpg), BAD_INPUT)
    assert r.says("plots.shp", "garbled text", "'industries'", "'name'", "胥口地块",
                  f"its .cpg says '{cpg}'", "add/repair the .cpg", "GBK")


def test_gbk_shapefile_with_a_utf8_cpg_is_named_with_the_fix(tmp_path):
    r = gate(tmp_path, plots(tmp_path, cpg="UTF-8"), BAD_INPUT)
    assert r.says("plots.shp", "not utf-8", "its .cpg says 'UTF-8'", "add/repair the .cpg",
                  "GBK")
    assert not r.says("open it in QGIS")  # the old, unhelpful message


def test_utf8_shapefile_with_a_gbk_cpg_is_named(tmp_path):
    r = gate(tmp_path, plots(tmp_path, encoding="UTF-8", cpg="GBK"), BAD_INPUT)
    assert r.says("plots.shp", "its .cpg says 'GBK'", "UTF-8")


def test_gbk_shapefile_without_a_cpg_is_still_read(tmp_path):
    r = gate(tmp_path, plots(tmp_path), FINDINGS)
    assert r.says("1 in conflict")


def test_text_garbled_before_saving_is_named(tmp_path):
    garbled = CHEM.encode("gb18030").decode("latin-1")
    p = plots(tmp_path, suffix=".geojson", encoding="UTF-8", industry=garbled,
              name="胥口地块".encode("gb18030").decode("latin-1"))
    assert json.loads(p.read_text(encoding="utf-8"))["features"][0]["properties"][
        "industries"] == garbled
    r = gate(tmp_path, p, BAD_INPUT)
    assert r.says("plots.geojson", "garbled text", "胥口地块", "re-export", "UTF-8")


def test_csv_read_with_a_wrong_declared_encoding(tmp_path):
    csv = tmp_path / "firms.csv"
    csv.write_text("firm_id,name,industry,lon,lat\nf1,苏州化工厂,化学原料,120.6,31.3\n"
                   "f2,无锡电子,电子,120.3,31.5\n", encoding="gbk")
    study = tmp_path / "s.toml"
    study.write_text('[study]\nname = "t"\n[layers.firms]\npath = "firms.csv"\nrole = "firms"\n'
                     'coords = "wgs84"\nencoding = "latin-1"\n', encoding="utf-8")
    r = attack(["check", study], inputs=[csv, study], expect=BAD_INPUT)
    assert r.says("layers.firms", "firms.csv", "garbled text", "苏州化工厂",
                  "encoding = 'latin-1' is wrong", "encoding = \"gbk\"")


@pytest.mark.parametrize("name", ["Zürich Park", "São Paulo Industrial", "Café Crème 园区",
                                  "Ōsaka–Kōbe", "苏州工业园区 SIP"])
def test_real_accented_and_chinese_names_are_not_called_garbled(tmp_path, name):
    r = gate(tmp_path, plots(tmp_path, suffix=".gpkg", encoding="UTF-8", name=name),
             FINDINGS)
    assert not r.says("garbled")


def test_a_few_garbled_values_among_clean_ones_are_said_and_reviewed(tmp_path):
    """One industry garbled in a merged register of three plots: a warning naming it; the
    garbled industry matches nothing, so the Taihu plot is review, never pass."""
    g = gpd.GeoDataFrame({"plot_id": ["a", "b", "c"],
                          "name": ["胥口地块", "光福地块", "东山地块"],
                          "industries": [CHEM.encode("gb18030").decode("latin-1"), "电子",
                                         "集成电路"]},
                         geometry=[shapely.Point(120.48, 31.16), shapely.Point(120.40, 31.29),
                                   shapely.Point(120.41, 31.06)], crs=4326).to_crs(4549)
    g["geometry"] = g.buffer(500, cap_style="square")
    p = tmp_path / "plots.gpkg"
    g.to_crs(4326).to_file(p, engine="pyogrio")
    r = gate(tmp_path, p, FINDINGS)
    assert r.says("warning", "'industries' has 1 garbled value(s)", CHEM)
    assert r.says("for review") and not r.says("3 pass")


def test_big5_shapefile_behind_a_gbk_cpg_is_named(tmp_path):
    """Taiwan/Hong Kong data: Big5 bytes read as GBK give rare characters and kana."""
    p = plots(tmp_path, encoding="big5", cpg="GBK", name="鴻海精密工業園",
              industry="電子零組件")
    r = gate(tmp_path, p, BAD_INPUT)
    # GDAL's GBK decoding loses a byte or two, so the repair shown is approximate.
    assert r.says("plots.shp", "garbled text", "精密", "as Big5", "its .cpg says 'GBK'",
                  "add/repair the .cpg", "BIG5")


@pytest.mark.parametrize("name", ["ソニー株式会社 苏州", "α-烯烃 新材料园", "Москва 工业园",
                                  "β-内酰胺类抗生素"])
def test_japanese_greek_and_russian_with_chinese_are_not_called_garbled(tmp_path, name):
    r = gate(tmp_path, plots(tmp_path, suffix=".gpkg", encoding="UTF-8", name=name),
             FINDINGS)
    assert not r.says("garbled")


def test_garbled_chinese_field_names_are_named(tmp_path):
    """ASCII values but Chinese field names (行业, 名称) behind a Latin-1 .cpg: the
    fields themselves are garbled, so --industry-field 行业 could never be found."""
    g = gpd.GeoDataFrame({"plot_id": ["xukou"], "名称": ["xukou"], "行业": ["chemicals"]},
                         geometry=[shapely.Point(120.48, 31.16).buffer(0.008)], crs=4326)
    p = tmp_path / "plots.shp"
    g.to_file(p, engine="pyogrio", encoding="GBK")
    p.with_suffix(".cpg").write_text("1252", encoding="ascii")
    out = tmp_path / "out"
    out.mkdir()
    r = attack(["redlines", p, ZONES, "--industry-field", "行业", "--out", out / "c.csv"],
               inputs=sidecars(p), out_dir=out, expect=BAD_INPUT)
    assert r.says("plots.shp", "garbled text", "'(field names)'", "名称",
                  "add/repair the .cpg", "GBK")


def test_csv_with_a_declared_utf8_that_is_gbk_says_the_declaration_is_wrong(tmp_path):
    csv = tmp_path / "firms.csv"
    csv.write_text("firm_id,name,industry,lon,lat\nf1,苏州化工厂,化学原料,120.6,31.3\n",
                   encoding="gbk")
    study = tmp_path / "s.toml"
    study.write_text('[study]\nname = "t"\n[layers.firms]\npath = "firms.csv"\nrole = "firms"\n'
                     'coords = "wgs84"\nencoding = "utf-8"\n', encoding="utf-8")
    r = attack(["check", study], inputs=[csv, study], expect=BAD_INPUT)
    assert r.says("firms.csv", "not utf-8", "encoding = 'utf-8' is wrong",
                  "encoding = \"gb18030\"")
    assert not r.says("neither UTF-8 nor GB18030")


def test_geojson_saved_in_gbk_says_to_resave_it_as_utf8(tmp_path):
    p = plots(tmp_path, suffix=".geojson", encoding="UTF-8")
    p.write_bytes(p.read_text(encoding="utf-8").encode("gbk"))
    r = gate(tmp_path, p, BAD_INPUT)
    assert r.says("plots.geojson", "saved in GBK", "must be UTF-8", "iconv -f GB18030")
    assert not r.says("before this file was saved")


def test_utf8_shapefile_with_a_cut_character_is_not_called_gbk(tmp_path):
    """One UTF-8 character cut in the .dbf (a field-width truncation): the advice is to
    fix that value, not to relabel the whole file GBK."""
    p = plots(tmp_path, encoding="UTF-8", cpg="UTF-8", name="苏州工业园区胥口地块",
              industry="集成电路与电子元件")
    dbf = p.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    i = raw.find("块".encode())
    raw[i + 1:i + 3] = b"  "
    dbf.write_bytes(bytes(raw))
    r = gate(tmp_path, p, BAD_INPUT)
    assert r.says("plots.shp", "the text is UTF-8 but 1 character(s) are broken",
                  "GeoPackage")
    assert not r.says("holding the single word GBK")
