"""Hostile geometry and CRS inputs for the red-line gate and ``parksite check``.

Every input is built in ``tmp_path`` from the bundled real data (data/yrd), reprojected
or mislabelled the way real files are; the bundled files are never modified. Each case
asserts the exit code, what the message names (layer, file, extent, fix) and, through
:func:`attack`, no traceback, no changed input and no partial output.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from pyproj import Geod

from geo.crs import geoms_wgs84_to_gcj02

from ._harness import BAD_INPUT, FINDINGS, OK, attack

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "yrd"
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def parks() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "parks.gpkg")


@pytest.fixture(scope="module")
def zones() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "redlines.gpkg")


def relabel(gdf: gpd.GeoDataFrame, real: int, label: int | str) -> gpd.GeoDataFrame:
    """Coordinates of ``real``, with the CRS ``label`` written in the file."""
    return gdf.to_crs(real).set_crs(label, allow_override=True)


def write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    gdf.to_file(path, engine="pyogrio")
    return path


def study(tmp: Path, *, parks_path: Path | None = None, zones_path: Path | None = None,
          parks_opts: str = "", zones_opts: str = "", study_opts: str = "",
          boundary: Path | None = None) -> Path:
    """A small study file in ``tmp``: the bundled study area, parks and red lines."""
    b = boundary or DATA / "base.gpkg"
    layer = 'layer = "study_area"\n' if boundary is None else ""
    text = f'''[study]
name = "hostile"
boundary = "area"
{study_opts}

[layers.area]
path = "{b}"
{layer}role = "boundary"

[layers.parks]
path = "{parks_path or DATA / 'parks.gpkg'}"
role = "parks"
id = "park_id"
industry = "industries"
{parks_opts}

[layers.redlines]
path = "{zones_path or DATA / 'redlines.gpkg'}"
role = "redlines"
id = "zone_id"
{zones_opts}

[redlines]
buffer_m = 1000
industry_field = "industries"
'''
    p = tmp / "study.toml"
    p.write_text(text, encoding="utf-8")
    return p


def gate(tmp: Path, args: list, inputs: list[Path], expect: int):
    """``parksite redlines ARGS --out tmp/out/c.csv`` through the harness."""
    out = tmp / "out"
    out.mkdir(exist_ok=True)
    return attack(["redlines", *args, "--out", out / "c.csv"], inputs=inputs, out_dir=out,
                  expect=expect)


# --- layers where they cannot be ------------------------------------------------------

def test_gk_metres_labelled_3857_in_a_study_are_refused_by_check(tmp_path, parks):
    p = write(relabel(parks, 4549, 3857), tmp_path / "parks.gpkg")
    s = study(tmp_path, parks_path=p)
    r = attack(["check", s], inputs=[p, s], expect=BAD_INPUT)
    assert r.says("layers.parks", "parks.gpkg", "does not reach the study area", "lon ",
                  "Gauss-Krüger metres labelled EPSG:3857", 'crs = "EPSG:4549"')


def test_gk_metres_labelled_3857_do_not_pass_the_gate(tmp_path, parks):
    p = write(relabel(parks, 4549, 3857), tmp_path / "parks.gpkg")
    s = study(tmp_path, parks_path=p)
    r = gate(tmp_path, ["--study", s], [p, s], BAD_INPUT)
    assert r.says("layers.parks", "EPSG:4549") and not r.says("pass.")


def test_gk_metres_declared_3857_in_the_study_file(tmp_path, parks):
    p = write(parks.to_crs(4549), tmp_path / "parks.gpkg")
    s = study(tmp_path, parks_path=p, parks_opts='crs = "EPSG:3857"')
    r = attack(["check", s], inputs=[p, s], expect=BAD_INPUT)
    assert r.says("layers.parks", "labelled EPSG:3857", 'crs = "EPSG:4549"')


def test_two_files_gk_labelled_3857_far_from_the_zones(tmp_path, parks):
    p = write(relabel(parks, 4549, 3857), tmp_path / "parks.gpkg")
    r = gate(tmp_path, [p, DATA / "redlines.gpkg"], [p], BAD_INPUT)
    assert r.says(str(p), "outside China", "lat ", "labelled EPSG:3857", 'crs = "EPSG:4549"')


def test_swapped_axes_in_degrees(tmp_path, parks):
    sw = parks.copy()
    sw["geometry"] = shapely.transform(sw.geometry.values, lambda xy: xy[:, ::-1])
    p = write(sw, tmp_path / "parks.gpkg")
    r = gate(tmp_path, [p, DATA / "redlines.gpkg"], [p], BAD_INPUT)
    assert r.says(str(p), "swap")


def test_zone_prefix_present_but_declared_without(tmp_path, parks):
    """Data in EPSG:4528 (eastings 40 5xx xxx) declared 4549: was CRSError lat_0=inf, exit 3."""
    p = write(relabel(parks, 4528, 4549), tmp_path / "parks.gpkg")
    s = study(tmp_path, parks_path=p)
    r = gate(tmp_path, ["--study", s], [p, s], BAD_INPUT)
    assert r.says("layers.parks", "do not convert to degrees", "zone prefix is present",
                  'crs = "EPSG:4528"')


def test_zone_prefix_declared_but_missing(tmp_path, parks):
    p = write(relabel(parks, 4549, 4528), tmp_path / "parks.gpkg")
    r = gate(tmp_path, [p, DATA / "redlines.gpkg"], [p], BAD_INPUT)
    assert r.says(str(p), "has a zone prefix but the eastings have none", 'crs = "EPSG:4549"')


def test_zone_prefix_mixup_in_the_red_line_file(tmp_path, zones):
    z = write(relabel(zones, 4528, 4549), tmp_path / "zones.gpkg")
    r = gate(tmp_path, [DATA / "parks.gpkg", z], [z], BAD_INPUT)
    assert r.says(str(z), 'crs = "EPSG:4528"')


def test_gk_zone_7_degrees_off_is_outside_the_study(tmp_path, parks):
    p = write(relabel(parks, 4549, 4547), tmp_path / "parks.gpkg")
    s = study(tmp_path, parks_path=p)
    r = attack(["check", s], inputs=[p, s], expect=BAD_INPUT)
    assert r.says("layers.parks", "does not reach the study area", "a different Gauss-Krüger",
                  'crs = "EPSG:4549"')


def test_chinese_crs_outside_china(tmp_path, parks):
    far = parks.to_crs(4326)
    far["geometry"] = shapely.transform(far.geometry.values, lambda xy: xy - [110.0, 0.0])
    p = write(far.set_crs(4490, allow_override=True), tmp_path / "parks.gpkg")
    r = gate(tmp_path, [p, DATA / "redlines.gpkg"], [p], BAD_INPUT)
    assert r.says(str(p), "outside China", "EPSG:4490")


def test_both_files_mislabelled_alike_with_chinese_zone_names(tmp_path, parks, zones):
    p = write(relabel(parks, 4549, 3857), tmp_path / "parks.gpkg")
    z = write(relabel(zones, 4549, 3857), tmp_path / "zones.gpkg")
    r = gate(tmp_path, [p, z], [p, z], BAD_INPUT)
    assert r.says("outside China", "Chinese zone names", "labelled EPSG:3857",
                  "fit several zones", 'crs = "EPSG:45')


def test_two_files_hundreds_of_km_apart(tmp_path, parks):
    far = parks.copy()
    far["geometry"] = shapely.transform(far.geometry.values, lambda xy: xy + [-8.0, 3.0])
    p = write(far, tmp_path / "parks.gpkg")
    r = gate(tmp_path, [p, DATA / "redlines.gpkg"], [p], BAD_INPUT)
    assert r.says(str(p), "km from the red-line layer", "cannot be judged")


# --- GCJ-02 and per-file coords --------------------------------------------------------

def test_undeclared_gcj02_layer_beside_wgs84_zones(tmp_path, parks):
    g = parks.copy()
    g["geometry"] = geoms_wgs84_to_gcj02(g.geometry.values)
    p = write(g, tmp_path / "parks_amap.geojson")
    r = gate(tmp_path, [p, DATA / "redlines.gpkg"], [p], BAD_INPUT)
    assert r.says("parks_amap", "GCJ-02", 'coords = "gcj02"', "--parks-coords")


def test_coords_for_both_files_is_refused(tmp_path):
    r = gate(tmp_path, [DATA / "parks.gpkg", DATA / "redlines.gpkg", "--coords", "gcj02"],
             [], BAD_INPUT)
    assert r.says("--coords gcj02 is ambiguous", "--parks-coords gcj02", "--zones-coords gcj02")


def test_parks_coords_shifts_only_the_parks(tmp_path, parks):
    """GCJ-02 parks + WGS84 zones with --parks-coords: the same answer as all-WGS84."""
    g = parks.copy()
    g["geometry"] = geoms_wgs84_to_gcj02(g.geometry.values)
    p = write(g, tmp_path / "parks_g.gpkg")
    base = tmp_path / "base.csv"
    attack(["redlines", DATA / "parks.gpkg", DATA / "redlines.gpkg", "--buffer-m", "20000",
            "--out", base], expect=FINDINGS)
    shifted = tmp_path / "shifted.csv"
    attack(["redlines", p, DATA / "redlines.gpkg", "--buffer-m", "20000", "--parks-coords",
            "gcj02", "--out", shifted], inputs=[p], expect=FINDINGS)
    a, b = pd.read_csv(base), pd.read_csv(shifted)
    assert list(a.park_id) == list(b.park_id) and list(a.kind) == list(b.kind)
    np.testing.assert_allclose(b.min_distance_m, a.min_distance_m, atol=0.5)
    np.testing.assert_allclose(b.in_buffer_m2, a.in_buffer_m2, rtol=1e-3, atol=50)


def test_parks_coords_with_study_is_refused(tmp_path):
    s = study(tmp_path)
    r = gate(tmp_path, ["--study", s, "--parks-coords", "gcj02"], [s], BAD_INPUT)
    assert r.says("--parks-coords", 'coords = "..."')


# --- the study CRS ---------------------------------------------------------------------

@pytest.mark.parametrize("crs, words", [
    ("EPSG:3857", ("Pseudo-Mercator", "distorts distances", "18%", 'crs = "EPSG:4549"')),
    ("EPSG:4547", ("CM 114E", "distorts distances", 'crs = "EPSG:4549"')),
    ("EPSG:4326", ("geographic (degrees)", "EPSG:4549")),
])
def test_study_crs_far_from_the_study(tmp_path, crs, words):
    s = study(tmp_path, study_opts=f'crs = "{crs}"')
    r = attack(["check", s], inputs=[s], expect=BAD_INPUT)
    assert r.says("study.crs", *words)


def test_study_outside_china_with_a_chinese_zone(tmp_path, parks, zones):
    shift = [-110.0, 17.0]  # Suzhou to the Pyrenees

    def moved(g: gpd.GeoDataFrame, name: str) -> Path:
        m = g.copy()
        m["geometry"] = shapely.transform(m.geometry.values, lambda xy: xy + shift)
        return write(m, tmp_path / name)

    area = moved(gpd.read_file(DATA / "base.gpkg", layer="study_area"), "area.gpkg")
    s = study(tmp_path, parks_path=moved(parks, "p.gpkg"), zones_path=moved(zones, "z.gpkg"),
              boundary=area, study_opts='crs = "EPSG:4549"')
    r = attack(["check", s], inputs=[s], expect=BAD_INPUT)
    assert r.says("study.crs", "outside China", 'crs = "EPSG:32632"')
    # Without the override the metric CRS is the local UTM zone, not a clamped GK zone.
    s.write_text(s.read_text(encoding="utf-8").replace('crs = "EPSG:4549"', ""),
                 encoding="utf-8")
    r = attack(["check", s], inputs=[s], expect=OK)
    assert r.says("EPSG:32632", "UTM zone 32N") and not r.says("Gauss-Kruger CM 75E")


# --- broken coordinates and files ------------------------------------------------------

def test_nan_coordinates_name_the_feature(tmp_path, parks):
    g = parks.copy()
    poly = g.geometry.iloc[2]
    xy = np.asarray(poly.exterior.coords)
    xy[3] = [np.nan, np.nan]
    g.loc[2, "geometry"] = shapely.Polygon(xy)
    p = write(g, tmp_path / "parks.gpkg")
    r = gate(tmp_path, [p, DATA / "redlines.gpkg"], [p], BAD_INPUT)
    assert r.says(str(p), "NaN or infinite", f"id={parks.park_id.iloc[2]}", "row 3")


def test_inf_coordinates_in_a_csv_name_the_row(tmp_path):
    src = (ROOT / "data/yrd/universities.csv").read_text(encoding="utf-8").splitlines()
    head, rows = src[0], src[1:4]
    cols = head.split(",")
    bad = rows[1].split(",")
    bad[cols.index("lon")] = "inf"
    p = tmp_path / "unis.csv"
    p.write_text("\n".join([head, rows[0], ",".join(bad), rows[2]]) + "\n", encoding="utf-8")
    s = study(tmp_path)
    s.write_text(s.read_text(encoding="utf-8") + f'''
[layers.unis]
path = "{p}"
role = "universities"
coords = "wgs84"
id = "id"
''', encoding="utf-8")
    r = attack(["check", s], inputs=[s, p], expect=BAD_INPUT)
    assert r.says("layers.unis", "unis.csv") and (r.says("inf") or r.says("numeric"))
    assert r.says(bad[0])


def test_empty_geometry_is_named(tmp_path, parks):
    g = parks.copy()
    g.loc[4, "geometry"] = shapely.Polygon()
    p = write(g, tmp_path / "parks.gpkg")
    r = gate(tmp_path, [p, DATA / "redlines.gpkg"], [p], BAD_INPUT)
    assert r.says(str(p), "no geometry", parks.park_id.iloc[4])


def test_bow_tie_park_is_repaired_and_judged(tmp_path, parks, zones):
    """A self-crossing park over Taihu's first-level zone: repaired, said so, judged."""
    taihu = zones.loc[zones.zone_id == "taihu_l1", "geometry"].iloc[0]
    c = taihu.representative_point()
    x, y, d = c.x, c.y, 0.01
    bow = shapely.Polygon([(x - d, y - d), (x + d, y + d), (x + d, y - d), (x - d, y + d)])
    g = gpd.GeoDataFrame({"park_id": ["bow"], "name": ["bow-tie"],
                          "industries": ["chemicals"]}, geometry=[bow], crs=4326)
    p = write(g, tmp_path / "bow.gpkg")
    r = gate(tmp_path, [p, DATA / "redlines.gpkg", "--industry-field", "industries"], [p],
             FINDINGS)
    assert r.says("repaired 1 invalid geometry", "bow")
    assert (pd.read_csv(tmp_path / "out" / "c.csv").zone_id == "taihu_l1").any()


def test_corrupt_geotiff_tile_is_named(tmp_path):
    dem = tmp_path / "dem.tif"
    shutil.copy(DATA / "dem_suzhou_aster_600m.tif", dem)
    with rasterio.open(dem) as r:  # where the second tile's compressed bytes start
        off = int(r.get_tag_item("BLOCK_OFFSET_1_0", "TIFF", bidx=1))
    raw = bytearray(dem.read_bytes())
    raw[off:off + 64] = bytes(64)  # its deflate header and first bytes are gone
    dem.write_bytes(bytes(raw))
    s = study(tmp_path)
    s.write_text(s.read_text(encoding="utf-8") + f'\n[layers.dem]\npath = "{dem}"\n'
                 'role = "dem"\n', encoding="utf-8")
    r = attack(["check", s], inputs=[s, dem], expect=BAD_INPUT)
    assert r.says("layers.dem", "dem.tif", "corrupt", "block at row 0, column 256")


# --- slivers ---------------------------------------------------------------------------

def _sliver_inputs(tmp: Path, offset_m: float) -> tuple[Path, Path, float]:
    """A zone with one 12 km edge along 31.4°N (4 vertices) and a surveyed park (a vertex
    every ~10 m) whose south edge lies ``offset_m`` north of it (negative: overlapping)."""
    lat0, lon0, lon1 = 31.4, 120.50, 120.6262
    dlat = offset_m / 110_900.0
    zone = shapely.box(lon0, lat0 - 0.05, lon1, lat0)
    lons = np.linspace(lon0, lon1, 1201)
    south = np.c_[lons, np.full_like(lons, lat0 + dlat)]
    north = np.c_[lons[::-1], np.full_like(lons, lat0 + 0.02)]
    park = shapely.Polygon(np.r_[south, north])
    z = write(gpd.GeoDataFrame({"zone_id": ["z"], "name": ["zone"], "class": ["redline"]},
                               geometry=[zone], crs=4326), tmp / "zone.gpkg")
    p = write(gpd.GeoDataFrame({"park_id": ["p"], "name": ["park"]}, geometry=[park], crs=4326),
              tmp / "park.gpkg")
    # The geodesic area of the overlap as drawn (edges straight in lon/lat): Geod on the
    # overlap densified to 1e-5° (1 m), so that Geod's geodesic edges follow the drawing.
    inter = shapely.segmentize(shapely.intersection(park, zone), 1e-5)
    truth = abs(GEOD.geometry_area_perimeter(inter)[0]) if not inter.is_empty else 0.0
    return p, z, truth


@pytest.mark.parametrize("offset_m", [0.25, 1.0])
def test_parks_just_outside_a_zone_are_not_in_conflict(tmp_path, offset_m):
    p, z, _ = _sliver_inputs(tmp_path, offset_m)
    r = gate(tmp_path, [p, z], [p, z], OK)
    assert r.says("0 in conflict", "1 pass")


def test_a_5_m_sliver_overlap_is_measured_to_0_1_percent(tmp_path):
    p, z, truth = _sliver_inputs(tmp_path, -5.0)
    r = gate(tmp_path, [p, z], [p, z], FINDINGS)
    got = pd.read_csv(tmp_path / "out" / "c.csv").overlap_m2.iloc[0]
    assert truth == pytest.approx(5.0 * 12_000, rel=0.01)
    assert got == pytest.approx(truth, rel=1e-3), r.output


def test_every_command_refuses_a_layer_outside_the_study(tmp_path, parks):
    """Not only ``check`` and the gate: any command that reads a misplaced layer."""
    p = write(relabel(parks, 4549, 3857), tmp_path / "parks.gpkg")
    s = study(tmp_path, parks_path=p)
    out = tmp_path / "maps"
    out.mkdir()
    r = attack(["map", s, "--out", out / "m.html"], inputs=[p, s], out_dir=out,
               expect=BAD_INPUT)
    assert r.says("parks", "does not reach the study area")
