"""The three control lines (三区三线) beside the red line: permanent basic farmland and
the urban development boundary in the gate and in suitability; land use classes."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from geo.cli import main

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "yrd"


def _study(tmp: Path, extra_layers: str = "", redlines: str = "") -> Path:
    text = f'''[study]
name = "controls"
boundary = "area"

[layers.area]
path = "{DATA / 'base.gpkg'}"
layer = "study_area"
role = "boundary"

[layers.parks]
path = "{DATA / 'parks.gpkg'}"
role = "parks"
id = "park_id"
industry = "industries"

[layers.redlines]
path = "{DATA / 'redlines.gpkg'}"
role = "redlines"
id = "zone_id"
{extra_layers}
[redlines]
buffer_m = 1000
industry_field = "industries"
{redlines}
'''
    p = tmp / "study.toml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture
def control_layers(tmp_path):
    parks = gpd.read_file(DATA / "parks.gpkg").set_index("park_id")
    chong = parks.loc[["chongming"]].to_crs(4549)
    farm = gpd.GeoDataFrame({"id": ["jbnt_1"], "name": ["崇明永久基本农田（测试）"]},
                            geometry=[chong.geometry.iloc[0].centroid.buffer(600)], crs=4549)
    farm.to_crs(4326).to_file(tmp_path / "farmland.gpkg", engine="pyogrio")
    sip = parks.loc[["sip"]].to_crs(4549)
    ub = gpd.GeoDataFrame({"id": ["udb"], "name": ["城镇开发边界（测试）"]},
                          geometry=[sip.geometry.iloc[0].buffer(2000)], crs=4549)
    ub.to_crs(4326).to_file(tmp_path / "udb.gpkg", engine="pyogrio")
    return tmp_path / "farmland.gpkg", tmp_path / "udb.gpkg"


def _gate(study: Path, out: Path):
    r = CliRunner().invoke(main, ["redlines", "--study", str(study), "--out", str(out)])
    return r, pd.read_csv(out, encoding="utf-8-sig")


def test_farmland_overlap_is_a_conflict_row_with_its_own_class(tmp_path, control_layers):
    farm, _ = control_layers
    s = _study(tmp_path, f'[layers.farmland]\npath = "{farm}"\nrole = "farmland"\n')
    r, t = _gate(s, tmp_path / "c.csv")
    assert r.exit_code == 1, r.output
    row = t[t.zone_class == "farmland"].iloc[0]
    assert row["park_id"] == "chongming" and row["kind"] == "overlap"
    assert row["overlap_m2"] == pytest.approx(3.14159 * 600 ** 2, rel=0.01)
    assert "永久基本农田" in row["reason"] and not row["review"]


def test_parks_outside_the_urban_boundary_conflict_or_go_to_review(tmp_path, control_layers):
    _, udb = control_layers
    layer = f'[layers.udb]\npath = "{udb}"\nrole = "urban_boundary"\n'
    r, t = _gate(_study(tmp_path, layer), tmp_path / "c.csv")
    out = t[t.zone_class == "outside_urban_boundary"]
    assert r.exit_code == 1 and "sip" not in set(out.park_id) and len(out) == 9
    assert not out["review"].any()
    (tmp_path / "r").mkdir()
    r, t = _gate(_study(tmp_path / "r", layer, 'outside_urban_boundary = "review"'),
                 tmp_path / "r" / "c.csv")
    assert t[t.zone_class == "outside_urban_boundary"]["review"].all()
    assert "9 for review" in r.output


def test_no_control_lines_changes_nothing(tmp_path):
    r, t = _gate(_study(tmp_path), tmp_path / "c.csv")
    assert r.exit_code == 0 and t.empty


def test_farmland_is_a_suitability_exclusion(tmp_path):
    from geo.suitability import EXCLUSION_CODES

    assert EXCLUSION_CODES[9][0] == "永久基本农田" and EXCLUSION_CODES[11][1].startswith("land use")
    box = shapely.box(120.5, 31.2, 120.7, 31.35)
    gpd.GeoDataFrame({"id": ["f"], "name": ["f"]}, geometry=[box], crs=4326).to_file(
        tmp_path / "farm.gpkg", engine="pyogrio")
    text = (ROOT / "layers" / "yrd.toml").read_text(encoding="utf-8").replace(
        '"../', f'"{ROOT}/')
    text = text.replace("[layers.universities]", f'[layers.farmland]\npath = '
                        f'"{tmp_path / "farm.gpkg"}"\nrole = "farmland"\n\n[layers.universities]')
    s = tmp_path / "yrd.toml"
    s.write_text(text, encoding="utf-8")
    out = tmp_path / "suit"
    r = CliRunner().invoke(main, ["suitability", str(s), "--out", str(out), "--runs", "0",
                                  "--cell-m", "1000"])
    assert r.exit_code == 0, r.output
    import rasterio

    with rasterio.open(out / "exclusion.tif") as ds:
        ex = ds.read(1)
        row, col = ds.index(*_to(ds.crs, 120.62, 31.25))
    assert ex[row, col] == 9


def _to(crs, lon, lat):
    from pyproj import Transformer

    return Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)


@pytest.mark.parametrize("original, hostile", [
    ('layer = "landcover"', 'layer = "dem"', ),
    ('penalise = { "11" = 0.5, "12" = 0.6, "14" = 0.8 }', 'penalise = { "12" = 1.5 }'),
    ("exclude = [13]", 'exclude = ["built-up"]'),
])
def test_bad_landuse_settings_are_study_errors(tmp_path, original, hostile):
    text = (ROOT / "layers" / "yrd.toml").read_text(encoding="utf-8").replace(
        '"../', f'"{ROOT}/')
    assert original in text
    s = tmp_path / "yrd.toml"
    s.write_text(text.replace(original, hostile, 1), encoding="utf-8")
    r = CliRunner().invoke(main, ["check", str(s)])
    assert r.exit_code == 2 and "suitability.landuse" in r.output, r.output
