"""Layer loading: formats, CRS handling, GCJ-02, encodings, and every bad input."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo.crs import DENSIFY_M, geoms_wgs84_to_gcj02
from geo.errors import LayerError, MissingFileError
from geo.layers import detect_shapefile_encoding, read_layer

GEOD = Geod(ellps="WGS84")


@pytest.fixture
def parks_small(yrd_parks) -> gpd.GeoDataFrame:
    """Three real bundled parks, with the file's fields."""
    return yrd_parks[yrd_parks["id"].isin(["sip", "kunshan", "chongming"])][
        ["park_id", "name", "industries", "geometry"]].reset_index(drop=True)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".parquet"])
def test_reads_every_vector_format_in_wgs84(tmp_path, parks_small, suffix):
    p = tmp_path / f"parks{suffix}"
    if suffix == ".parquet":
        parks_small.to_parquet(p)
    else:
        parks_small.to_file(p, engine="pyogrio")
    g = read_layer(p, role="parks")
    assert g.crs.to_epsg() == 4326
    assert list(g["id"]) == ["sip", "kunshan", "chongming"]
    assert g.attrs["id_field"] == "park_id"
    assert g["name"].iloc[0].startswith("苏州工业园区")
    assert g.attrs["source_crs"] == "EPSG:4326"


def test_projected_input_is_returned_in_wgs84_with_source_crs_recorded(tmp_path, parks_small):
    p = tmp_path / "parks_gk.gpkg"
    parks_small.to_crs(4549).to_file(p)
    g = read_layer(p, role="parks")
    assert g.attrs["source_crs"] == "EPSG:4549"
    assert g.crs.to_epsg() == 4326
    # The file's edges are straight in EPSG:4549; they are densified there (DENSIFY_M) before
    # conversion, so they follow the file's chords: exactly, and within 0.1 m of the
    # lon/lat original (whose edges were straight in degrees).
    gk = parks_small.to_crs(4549)
    expected = gpd.GeoSeries(shapely.segmentize(gk.geometry.values, DENSIFY_M),
                             crs=4549).to_crs(4326)
    assert shapely.hausdorff_distance(g.geometry.iloc[0], expected.iloc[0]) < 1e-9
    assert shapely.hausdorff_distance(g.geometry.iloc[0], parks_small.geometry.iloc[0]) < 1e-6


def test_csv_points_with_declared_coords(tmp_path):
    p = tmp_path / "firms.csv"
    p.write_text("firm_id,name,经度,纬度\nf1,甲公司,120.72,31.31\nf2,乙公司,121.0,31.36\n",
                 encoding="utf-8")
    g = read_layer(p, role="firms", coords="wgs84")
    assert list(g["id"]) == ["f1", "f2"] and g["name"].iloc[0] == "甲公司"
    assert g.geometry.iloc[0].x == pytest.approx(120.72)


def test_gcj02_layer_is_converted_to_wgs84_on_load(tmp_path, yrd_study):
    """Real district outlines shifted to GCJ-02 come back to WGS84 within 0.5 m."""
    d = yrd_study.load("districts")
    d = d[d["province"] == "上海市"][["adcode", "name", "geometry"]].reset_index(drop=True)
    gcj = d.copy()
    gcj["geometry"] = geoms_wgs84_to_gcj02(d.geometry.values)
    p = tmp_path / "shanghai_gcj02.geojson"
    gcj.to_file(p)
    g = read_layer(p, role="boundaries", coords="gcj02", id_field="adcode")
    assert g.attrs["source_crs"] == "GCJ-02"
    a = shapely.get_coordinates(g.geometry.values)
    b = shapely.get_coordinates(d.geometry.values)
    _, _, dist = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    assert dist.max() < 0.5
    # Without the declaration the same file would be off by hundreds of metres.
    raw = shapely.get_coordinates(gcj.geometry.values)
    _, _, off = GEOD.inv(raw[:, 0], raw[:, 1], b[:, 0], b[:, 1])
    assert 300 < np.median(off) < 700


def test_gbk_shapefile_without_cpg_is_decoded(tmp_path):
    g = gpd.GeoDataFrame({"park_id": ["p1", "p2"], "name": ["苏州工业园区", "昆山开发区"]},
                         geometry=[shapely.box(120.7, 31.3, 120.8, 31.4),
                                   shapely.box(121.0, 31.3, 121.1, 31.4)], crs=4326)
    p = tmp_path / "gbk.shp"
    g.to_file(p, engine="pyogrio", encoding="GBK")
    cpg = p.with_suffix(".cpg")
    if cpg.exists():
        cpg.unlink()
    assert detect_shapefile_encoding(p) == "GB18030"
    out = read_layer(p, role="parks")
    assert list(out["name"]) == ["苏州工业园区", "昆山开发区"]
    # A wrong override is not obeyed silently: the garbled names are refused (issue 10).
    with pytest.raises(LayerError, match=r"garbled text .*'name'.*'苏州工业园区'.*"
                                         r"encoding = 'latin1' is wrong"):
        read_layer(p, role="parks", encoding="latin1")


# --- bad input: one test each, asserting the message names file, feature and fix ---

def test_missing_file_suggests_the_right_one(root):
    with pytest.raises(MissingFileError, match=r"parkz\.gpkg not found; did you mean "
                       r".*parks\.gpkg"):
        read_layer(root / "data/yrd/parkz.gpkg")


def test_unknown_format(tmp_path):
    p = tmp_path / "parks.xyz"
    p.write_text("nothing")
    with pytest.raises(LayerError, match=r"unknown format '\.xyz'.*ogr2ogr"):
        read_layer(p)


def test_no_crs_and_none_declared(tmp_path):
    p = tmp_path / "firms.csv"
    p.write_text("id,lon,lat\na,120.7,31.3\n")
    with pytest.raises(LayerError, match=r"firms\.csv.*no CRS and none is declared.*gcj02"):
        read_layer(p, role="firms")


def test_shapefile_without_prj_has_no_crs(tmp_path, parks_small):
    p = tmp_path / "noprj.shp"
    parks_small.to_file(p)
    p.with_suffix(".prj").unlink()
    with pytest.raises(LayerError, match="no CRS and none is declared"):
        read_layer(p, role="parks")
    assert len(read_layer(p, role="parks", coords="cgcs2000")) == 3


def test_swapped_lon_lat(tmp_path):
    p = tmp_path / "firms.csv"
    p.write_text("id,lon,lat\na,31.3,120.7\nb,31.4,121.0\n")
    with pytest.raises(LayerError, match=r"latitude and longitude look swapped"):
        read_layer(p, role="firms", coords="wgs84")


def test_projected_metres_declared_as_degrees(tmp_path, parks_small):
    gk = parks_small.to_crs(4549)
    gk = gk.set_crs(4326, allow_override=True)
    p = tmp_path / "wrong.gpkg"
    gk.to_file(p)
    with pytest.raises(LayerError, match=r"projected metres.*EPSG:4549"):
        read_layer(p, role="parks")


def test_degrees_declared_as_projected(tmp_path, parks_small):
    p = tmp_path / "parks.gpkg"
    parks_small.to_file(p)
    with pytest.raises(LayerError, match=r"look like degrees but the layer's CRS is projected"):
        read_layer(p, role="parks", crs="EPSG:4549")


def test_empty_layer(tmp_path, parks_small):
    p = tmp_path / "empty.gpkg"
    parks_small.iloc[:0].to_file(p)
    with pytest.raises(LayerError, match=r"empty\.gpkg.*the layer is empty"):
        read_layer(p, role="parks")


def test_wrong_geometry_type_for_role(tmp_path, yrd_study):
    ports = yrd_study.load("ports")[["id", "name", "geometry"]]
    p = tmp_path / "ports.gpkg"
    ports.to_file(p)
    with pytest.raises(LayerError, match=r"role 'parks'.*feature id=\w+ is a Point"):
        read_layer(p, role="parks")


def test_duplicate_ids(tmp_path, parks_small):
    dup = parks_small.copy()
    dup.loc[1, "park_id"] = "sip"
    p = tmp_path / "dup.gpkg"
    dup.to_file(p)
    with pytest.raises(LayerError, match=r"duplicate ids in field park_id: "
                       r"sip.*make the ids unique"):
        read_layer(p, role="parks")


def test_invalid_geometries_are_repaired_with_a_counted_warning(tmp_path, parks_small):
    bowtie = shapely.Polygon([(120.0, 31.0), (120.1, 31.1), (120.1, 31.0), (120.0, 31.1)])
    g = parks_small.copy()
    g.loc[0, "geometry"] = bowtie
    g.loc[1, "geometry"] = bowtie
    p = tmp_path / "bowtie.gpkg"
    g.to_file(p)
    with pytest.warns(UserWarning, match=r"repaired 2 invalid geometries"):
        out = read_layer(p, role="parks")
    assert out.is_valid.all()
    assert out.geometry.iloc[0].geom_type == "MultiPolygon"


def test_unrepairable_geometry_is_an_error(tmp_path, parks_small):
    g = parks_small.copy()
    g.loc[2, "geometry"] = shapely.Polygon([(120, 31), (120.1, 31), (120.2, 31), (120, 31)])
    p = tmp_path / "flat.gpkg"
    g.to_file(p)
    with pytest.raises(LayerError, match=r"could not be repaired \(features chongming\)"):
        read_layer(p, role="parks")


def test_missing_geometry_names_the_feature(tmp_path, parks_small):
    g = parks_small.copy()
    g.loc[1, "geometry"] = None
    p = tmp_path / "nogeom.gpkg"
    g.to_file(p)
    with pytest.raises(LayerError, match=r"no geometry \(id kunshan\)"):
        read_layer(p, role="parks")


def test_multi_layer_file_needs_a_layer_name(root):
    with pytest.raises(LayerError, match=r"holds \d+ layers .*name one with layer"):
        read_layer(root / "data/yrd/base.gpkg")


def test_unknown_layer_name_suggests(root):
    with pytest.raises(LayerError, match=r"no layer 'highway'; did you mean 'highways'"):
        read_layer(root / "data/yrd/base.gpkg", layer="highway")


def test_zero_length_lines_are_dropped_with_a_warning(tmp_path):
    g = gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[
        shapely.LineString([(120.0, 31.0), (120.1, 31.0)]),
        shapely.LineString([(120.2, 31.0), (120.2, 31.0)])], crs=4326)
    p = tmp_path / "roads.geojson"
    g.to_file(p)
    with pytest.warns(UserWarning, match="dropped 1 zero-length line"):
        out = read_layer(p, role="roads")
    assert list(out["id"]) == ["a"]


def test_csv_non_numeric_coordinates_name_the_rows(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("firm_id,lon,lat\na,120.7,31.3\nb,,31.4\n")
    with pytest.raises(LayerError, match=r"1 row\(s\) have no numeric lon/lat \(firm_id=b\)"):
        read_layer(p, role="firms", coords="wgs84", id_field="firm_id")


def test_gbk_csv_is_read(tmp_path):
    p = tmp_path / "gbk.csv"
    p.write_bytes("id,name,lon,lat\n1,苏州工业园区,120.7,31.3\n".encode("gbk"))
    g = read_layer(p, role="firms", coords="gcj02")
    assert g["name"].iloc[0] == "苏州工业园区"
    assert g.geometry.iloc[0].x < 120.7  # GCJ-02 → WGS84 moves YRD points west


def test_bundled_layers_all_load_cleanly(yrd_study):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for key, spec in yrd_study.layers.items():
            if not spec.is_raster:
                g = yrd_study.load(key)
                assert len(g) > 0 and g.crs.to_epsg() == 4326 and g["id"].is_unique
    assert len(yrd_study.load("highways")) == 22656


# --- coordinates that cannot be right ---------------------------------------------------

def test_zone_prefix_mixup_is_an_error_naming_the_code_that_fits(tmp_path, parks_small):
    p = tmp_path / "parks.gpkg"
    parks_small.to_crs(4528).set_crs(4549, allow_override=True).to_file(p)
    with pytest.raises(LayerError, match=r'do not convert to degrees.*zone prefix is present'
                                         r'.*crs = "EPSG:4528"'):
        read_layer(p, role="parks")


def test_nan_and_inf_coordinates_name_the_features(tmp_path, parks_small):
    g = parks_small.copy()
    for i, bad in ((0, np.nan), (2, np.inf)):
        xy = np.asarray(g.geometry.iloc[i].exterior.coords)
        xy[1, 0] = bad
        g.loc[i, "geometry"] = shapely.Polygon(xy)
    p = tmp_path / "parks.gpkg"
    g.to_file(p)
    with pytest.raises(LayerError, match=r"2 feature\(s\) have NaN or infinite coordinates "
                                         r"\(id=sip \(row 1\), id=chongming \(row 3\)"):
        read_layer(p, role="parks")


def test_cgcs2000_layer_outside_china_is_refused(tmp_path, parks_small):
    g = parks_small.copy()
    g["geometry"] = shapely.transform(g.geometry.values, lambda xy: xy - [110.0, 0.0])
    p = tmp_path / "parks.gpkg"
    g.set_crs(4490, allow_override=True).to_file(p)
    with pytest.raises(LayerError, match=r"lon 10\.\d+…\d+\.\d+°.*outside China.*EPSG:4490"):
        read_layer(p, role="parks")


def test_source_bounds_are_recorded_in_the_file_units(tmp_path, parks_small):
    p = tmp_path / "parks.gpkg"
    parks_small.to_crs(4549).to_file(p)
    g = read_layer(p, role="parks")
    np.testing.assert_allclose(g.attrs["source_bounds"], parks_small.to_crs(4549).total_bounds)
