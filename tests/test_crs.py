"""GCJ-02 conversion, Gauss-Krüger zones and equal-area areas."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod, Transformer

from geo.crs import (
    GK_CODES,
    ZoneWarning,
    area_crs_for,
    check_metric_crs,
    densify,
    extent_wgs84,
    fitting_crs,
    gcj02_to_wgs84,
    geodesic_area_m2,
    geoms_gcj02_to_wgs84,
    geoms_wgs84_to_gcj02,
    gk_false_easting,
    gk_zone_epsg,
    metric_crs_for,
    wgs84_to_gcj02,
)
from geo.errors import InputError

GEOD = Geod(ellps="WGS84")

# Real places of the Yangtze River Delta (WGS84, approximate).
YRD_PLACES = {
    "People's Square, Shanghai": (121.4737, 31.2304),
    "Jinji Lake, SIP": (120.70, 31.31),
    "Kunshan": (121.00, 31.36),
    "Chengqiao, Chongming": (121.40, 31.63),
    "Jiaxing": (120.75, 30.75),
    "Nantong": (120.89, 31.98),
}


@given(lon=st.floats(73.6, 134.7), lat=st.floats(18.2, 53.5))
@settings(max_examples=400, deadline=None)
def test_round_trip_within_half_a_metre_anywhere_in_china(lon, lat):
    g = wgs84_to_gcj02(lon, lat)
    back = gcj02_to_wgs84(*g)
    _, _, d = GEOD.inv(lon, lat, float(back[0]), float(back[1]))
    assert d < 0.5


def test_round_trip_on_a_dense_grid_over_china():
    lon, lat = np.meshgrid(np.linspace(73.6, 134.7, 200), np.linspace(18.2, 53.5, 200))
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon.ravel(), lat.ravel()))
    _, _, d = GEOD.inv(lon.ravel(), lat.ravel(), back[0], back[1])
    assert d.max() < 0.5


@pytest.mark.parametrize("place", sorted(YRD_PLACES))
def test_yrd_offsets_are_400_to_600_m_towards_east_south_east(place):
    lon, lat = YRD_PLACES[place]
    glon, glat = wgs84_to_gcj02(lon, lat)
    az, _, d = GEOD.inv(lon, lat, float(glon), float(glat))
    assert 400 < d < 600, f"{place}: offset {d:.0f} m"
    # GCJ-02 moves YRD points east and slightly south (azimuth about 110–125°).
    assert glon > lon and glat < lat
    assert 100 < az < 135


@pytest.mark.parametrize("lonlat", [(2.35, 48.85), (-74.0, 40.7), (151.2, -33.9),
                                    (139.77, 35.68)])
def test_points_outside_china_are_not_shifted(lonlat):
    g = wgs84_to_gcj02(*lonlat)
    assert (float(g[0]), float(g[1])) == lonlat
    w = gcj02_to_wgs84(*lonlat)
    assert (float(w[0]), float(w[1])) == lonlat


def test_geometry_conversion_moves_every_vertex_and_round_trips():
    poly = shapely.box(121.40, 31.20, 121.50, 31.30)
    shifted = geoms_wgs84_to_gcj02([poly])[0]
    assert shifted.bounds[0] > poly.bounds[0]
    back = geoms_gcj02_to_wgs84([shifted])[0]
    assert shapely.hausdorff_distance(back, poly) < 1e-8


def test_gk_zones():
    assert gk_zone_epsg(120.0) == 4549
    assert gk_zone_epsg(121.49) == 4549
    assert gk_zone_epsg(121.51) == 4550
    assert gk_zone_epsg(75.0) == 4534 and gk_zone_epsg(135.0) == 4554


def test_yrd_study_uses_cm120_and_warns_it_straddles_121_5(yrd_study):
    with pytest.warns(ZoneWarning, match=r"121\.5°E.*EPSG:4550"):
        crs = metric_crs_for(yrd_study.bounds)
    assert crs.to_epsg() == 4549


def test_chongming_straddles_the_zone_boundary(yrd_study):
    d = yrd_study.load("districts")
    cm = d[d["name"] == "崇明区"]
    minx, _, maxx, _ = cm.total_bounds
    assert minx < 121.5 < maxx
    with pytest.warns(ZoneWarning, match="straddles"):
        metric_crs_for(tuple(cm.total_bounds), what="Chongming")


def test_no_warning_inside_one_zone():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metric_crs_for((120.5, 31.0, 121.0, 31.5)).to_epsg() == 4549


@pytest.mark.parametrize("key", ["parks", "redlines", "districts", "lakes"])
def test_equal_area_matches_geodesic_area_to_0_1_percent(yrd_study, key):
    g = yrd_study.load(key)
    ea = g.to_crs(area_crs_for(yrd_study.bounds)).area.to_numpy()
    geo = geodesic_area_m2(g.geometry.values)
    rel = np.abs(ea - geo) / geo
    assert rel.max() < 1e-3, f"worst {rel.max():.2e}"


# --- metric CRS outside China, declared CRS checks, fitting codes, densify ------------

@pytest.mark.parametrize("bounds, epsg", [
    ((2.2, 48.8, 2.5, 48.9), 32631),       # Paris: UTM 31N, not a clamped EPSG:4534
    ((150.9, -34.0, 151.3, -33.7), 32756),  # Sydney: UTM 56S
    ((119.86, 30.47, 122.24, 32.38), 4549),  # the YRD study: GK CM 120°E
])
def test_metric_crs_is_utm_outside_china_and_gk_inside(bounds, epsg):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZoneWarning)
        assert metric_crs_for(bounds).to_epsg() == epsg


def test_paris_distance_in_the_chosen_crs_is_within_0_1_percent_of_geodesic():
    crs = metric_crs_for((2.2, 48.8, 2.5, 48.9))
    pts = gpd.GeoSeries(shapely.points([2.25, 2.45], [48.82, 48.88]), crs=4326).to_crs(crs)
    d = pts.iloc[0].distance(pts.iloc[1])
    _, _, g = GEOD.inv(2.25, 48.82, 2.45, 48.88)
    assert d == pytest.approx(g, rel=1e-3)


YRD = (119.86, 30.47, 122.24, 32.38)


@pytest.mark.parametrize("crs, fragment", [
    ("EPSG:3857", "18%"), ("EPSG:4547", "0.78%"), ("EPSG:4548", "0.31%"),
    ("EPSG:4326", "degrees"), ("EPSG:32650", "%"),
])
def test_check_metric_crs_refuses_a_distorting_crs_and_names_the_right_one(crs, fragment):
    with pytest.raises(InputError, match=r"EPSG:4549") as e:
        check_metric_crs(crs, YRD)
    assert fragment in str(e.value)


def test_check_metric_crs_accepts_the_zone_and_warns_for_the_neighbour():
    assert check_metric_crs("EPSG:4549", YRD).to_epsg() == 4549
    with pytest.warns(ZoneWarning, match="EPSG:4549"):
        check_metric_crs("EPSG:4550", YRD)


def test_check_metric_crs_refuses_a_chinese_zone_outside_china():
    with pytest.raises(InputError, match=r"outside China.*EPSG:32631"):
        check_metric_crs("EPSG:4534", (2.2, 48.8, 2.5, 48.9))


def test_fitting_crs_tells_the_zone_prefix_and_the_zone(yrd_parks):
    with_prefix = tuple(yrd_parks.to_crs(4528).total_bounds)
    assert fitting_crs(with_prefix)[0].startswith('crs = "EPSG:4528"')
    plain = tuple(yrd_parks.to_crs(4549).total_bounds)
    assert fitting_crs(plain, target=YRD)[0].startswith('crs = "EPSG:4549"')
    # Declared 4528 but without prefix: the same meridian without prefix comes first.
    assert fitting_crs(plain, exclude=CRS.from_epsg(4528))[0].startswith('crs = "EPSG:4549"')
    assert extent_wgs84(with_prefix, 4549) is None


def test_gk_code_table_matches_epsg():
    for code, (cm, _width, _prefix) in GK_CODES.items():
        params = {p.name: p.value for p in CRS.from_epsg(code).coordinate_operation.params}
        assert (params["Longitude of natural origin"], params["False easting"]) == (
            cm, gk_false_easting(code)), code


def test_densify_bounds_the_chord_error_below_a_millimetre():
    """A 12 km edge along 31.4°N stored in lon/lat, taken to the study's equal-area CRS:
    the densified chords stay within 1 mm of the edge (sampled every 1e-6°)."""
    laea = area_crs_for(YRD)
    edge = shapely.LineString([(120.50, 31.4), (120.6262, 31.4)])
    t = Transformer.from_crs(4326, laea, always_xy=True)
    dense = shapely.transform(densify([edge], CRS.from_epsg(4326))[0], lambda xy: np.c_[
        t.transform(xy[:, 0], xy[:, 1])])
    lon = np.linspace(120.50, 120.6262, 126_201)
    truth = np.c_[t.transform(lon, np.full_like(lon, 31.4))]
    assert shapely.hausdorff_distance(dense, shapely.LineString(truth)) < 1e-3
    chord = shapely.LineString(truth[[0, -1]])
    assert shapely.hausdorff_distance(chord, shapely.LineString(truth)) > 1.0  # what it fixes
