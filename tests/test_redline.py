"""The red-line gate: properties, real cases on the bundled data, and its errors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo.crs import densify
from geo.errors import InputError
from geo.redline import check_study, redline_conflicts
from geo.sectors import is_banned
from geo.units import MU_M2

GEOD = Geod(ellps="WGS84")

GK = 4549  # CGCS2000 GK CM 120°E: metres around Suzhou


def _boxes(draw, n, prefix, x0=500_000, y0=3_460_000):
    geoms = []
    for _ in range(n):
        x = draw(st.floats(0, 20_000))
        y = draw(st.floats(0, 20_000))
        w = draw(st.floats(50, 8_000))
        h = draw(st.floats(50, 8_000))
        rot = draw(st.floats(0, 90))
        from shapely import affinity

        geoms.append(affinity.rotate(shapely.box(x0 + x, y0 + y, x0 + x + w, y0 + y + h), rot))
    return gpd.GeoDataFrame({"id": [f"{prefix}{i}" for i in range(n)],
                             "name": [f"{prefix} {i}" for i in range(n)]},
                            geometry=geoms, crs=GK)


@st.composite
def layers(draw):
    parks = _boxes(draw, draw(st.integers(1, 8)), "p")
    zones = _boxes(draw, draw(st.integers(1, 6)), "z")
    zones["class"] = draw(st.lists(st.sampled_from(["core", "redline"]), min_size=len(zones),
                                   max_size=len(zones)))
    return parks, zones


PROP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(layers(), st.sampled_from([0.0, 250.0, 2000.0]))
@PROP
def test_overlap_never_exceeds_either_area(data, buffer_m):
    parks, zones = data
    r = redline_conflicts(parks, zones, buffer_m=buffer_m)
    pa = dict(zip(parks["id"], parks.area, strict=True))
    za = dict(zip(zones["id"], zones.area, strict=True))
    for row in r.conflicts.itertuples():
        assert row.overlap_m2 <= min(pa[row.park_id], za[row.zone_id]) * (1 + 1e-6) + 1e-6
        assert 0 <= row.pct_of_park <= 100 + 1e-9
        if row.kind == "buffer":
            assert row.overlap_m2 == 0 and 0 <= row.min_distance_m <= buffer_m + 1e-6
        else:
            assert row.overlap_m2 > 0 and row.min_distance_m == 0


def _key(r):
    c = r.conflicts
    return sorted(zip(c.park_id, c.zone_id, c.kind, np.round(c.overlap_m2, 3),
                      np.round(c.min_distance_m, 3), strict=True))


@given(layers(), st.randoms(use_true_random=False))
@PROP
def test_result_does_not_depend_on_input_order(data, rnd):
    parks, zones = data
    a = redline_conflicts(parks, zones, buffer_m=500)
    pi = list(range(len(parks)))
    zi = list(range(len(zones)))
    rnd.shuffle(pi)
    rnd.shuffle(zi)
    b = redline_conflicts(parks.iloc[pi], zones.iloc[zi], buffer_m=500)
    assert _key(a) == _key(b)


@given(layers())
@PROP
def test_result_does_not_depend_on_input_crs(data):
    parks, zones = data
    a = redline_conflicts(parks, zones, buffer_m=300)
    # Converted as read_layer converts (densified in the source CRS first): the same
    # polygons in degrees. (A bare to_crs turns each long GK edge into a lon/lat chord,
    # another polygon, by centimetres: enough to change a 1 m² sliver by 15%.)
    b = redline_conflicts(*(gpd.GeoDataFrame(g.drop(columns="geometry"), crs=g.crs,
                                             geometry=densify(g.geometry.values, g.crs))
                            .to_crs(4326) for g in (parks, zones)), buffer_m=300)
    ka = {(p, z): (o, d) for p, z, _, o, d in _key(a)}
    kb = {(p, z): (o, d) for p, z, _, o, d in _key(b)}
    # A pair exactly at the buffer edge may flip; every pair with real overlap agrees.
    for k, (o, _) in ka.items():
        if o > 1.0:
            assert k in kb
            assert kb[k][0] == pytest.approx(o, rel=1e-3)
    # And the areas match the planar areas of the GK input to 0.1%.
    planar = gpd.overlay(parks, zones, how="intersection", keep_geom_type=True)
    for row in planar.itertuples():
        if row.geometry.area > 1.0:
            assert ka[(row.id_1, row.id_2)][0] == pytest.approx(row.geometry.area, rel=1e-3)


def _parcel(lon, lat, half_m, pid="p1", name="test plot", industries=""):
    g = gpd.GeoDataFrame({"id": [pid], "name": [name], "industries": [industries]},
                         geometry=[shapely.Point(lon, lat)], crs=4326).to_crs(GK)
    g["geometry"] = g.buffer(half_m, cap_style="square")
    return g.to_crs(4326)


def test_bundled_parks_pass_and_snd_lies_in_the_taihu_zone_with_allowed_industries(yrd_study):
    r = check_study(yrd_study)
    assert set(r.parks["status"]) == {"pass"}
    snd = r.parks.set_index("park_id").loc["snd"]
    assert snd["nearest_zone_id"] == "taihu_l1" and snd["nearest_zone_m"] == 0
    assert "taihu_l1" in snd["restricted_allowed"]
    pct = float(snd["restricted_allowed"].split("(")[1].split("%")[0])
    assert 20 < pct < 40
    # SIP, east of Suzhou's old town, is a few km outside Taihu's 5 km belt.
    sip = r.parks.set_index("park_id").loc["sip"]
    assert 3_000 < sip["nearest_zone_m"] < 10_000


def test_chemical_plant_in_the_taihu_belt_is_a_restricted_conflict(yrd_redlines):
    # 2 km × 2 km plot on the east shore of Taihu, near Xukou (inside the 5 km belt).
    plot = _parcel(120.48, 31.16, 1000, industries="fine chemicals")
    r = redline_conflicts(plot, yrd_redlines, buffer_m=1000,
                          park_industries={"p1": ["fine chemicals"]})
    row = r.conflicts.set_index("zone_id").loc["taihu_l1"]
    assert row["kind"] == "restricted" and row["banned_hit"] == "fine chemicals"
    assert row["overlap_m2"] == pytest.approx(4e6, rel=0.02)
    assert row["overlap_mu"] == pytest.approx(row["overlap_m2"] / MU_M2)
    assert row["overlap_ha"] == pytest.approx(row["overlap_m2"] / 1e4)
    # The same plot for electronics is not a conflict; without industry data it is for review.
    ok = redline_conflicts(plot, yrd_redlines, park_industries={"p1": ["electronics"]})
    assert len(ok.conflicts) == 0 and ok.parks["status"].iloc[0] == "pass"
    rev = redline_conflicts(plot, yrd_redlines)
    assert rev.conflicts["review"].all() and rev.parks["status"].iloc[0] == "review"
    assert rev.exit_code == 1


def test_plot_on_dongtan_overlaps_the_core_zone(yrd_redlines):
    # On the tidal flats east of Chongming's seawall.
    plot = _parcel(122.007, 31.527, 1500)
    r = redline_conflicts(plot, yrd_redlines, buffer_m=1000)
    kinds = dict(zip(r.conflicts.zone_id, r.conflicts.kind, strict=True))
    assert kinds.get("dongtan_flats") == "overlap"
    row = r.conflicts.set_index("zone_id").loc["dongtan_flats"]
    assert row["zone_class"] == "core" and row["pct_of_park"] > 50
    assert r.parks["status"].iloc[0] == "conflict"
    assert r.conflicts["pct_of_park"].sum() <= 100 + 1e-6


def test_plot_near_a_reservoir_is_a_buffer_conflict_with_its_distance(yrd_redlines):
    zone = yrd_redlines[yrd_redlines["id"] == "dongfengxisha"].to_crs(GK).geometry.iloc[0]
    # A 400 m square whose west edge is 600 m east of the reservoir's easternmost point.
    east = max(shapely.get_coordinates(zone.exterior), key=lambda c: c[0])
    sq = shapely.box(east[0] + 600, east[1] - 200, east[0] + 1000, east[1] + 200)
    plot = gpd.GeoDataFrame({"id": ["p1"], "name": ["near"]}, geometry=[sq], crs=GK)
    r = redline_conflicts(plot, yrd_redlines, buffer_m=1000)
    row = r.conflicts.set_index("zone_id").loc["dongfengxisha"]
    assert row["kind"] == "buffer" and row["overlap_m2"] == 0
    assert row["min_distance_m"] == pytest.approx(600, abs=2)
    assert row["in_buffer_m2"] > 0
    none = redline_conflicts(plot, yrd_redlines, buffer_m=500)
    assert "dongfengxisha" not in set(none.conflicts.zone_id)


def test_industry_matching_uses_sectors():
    banned = ["chemicals", "pharmaceuticals"]
    v = is_banned(["biomedicine", "electronics"], banned)
    assert v.banned == (("biomedicine", "pharmaceuticals"),) and v.allowed == ("electronics",)
    assert is_banned(["Petrochemicals"], banned).status == "banned"
    assert is_banned(["electronics"], banned).status == "allowed"
    assert is_banned(["anything"], ["all"]).status == "banned"


def test_bad_inputs(yrd_parks, yrd_redlines):
    with pytest.raises(InputError, match=r"buffer_m = -1"):
        redline_conflicts(yrd_parks, yrd_redlines, buffer_m=-1)
    z = yrd_redlines.copy()
    z.loc[0, "class"] = "strict"
    with pytest.raises(InputError, match=r"unknown class 'strict' \(zones dongtan_flats\)"):
        redline_conflicts(yrd_parks, z)
    with pytest.raises(InputError, match=r"no class field 'kind'"):
        redline_conflicts(yrd_parks, yrd_redlines, class_field="kind")
    pts = yrd_parks.copy()
    pts["geometry"] = pts.representative_point()
    with pytest.raises(InputError, match=r"feature id=sip is not a polygon"):
        redline_conflicts(pts, yrd_redlines)


def test_output_columns_and_units(yrd_redlines):
    plot = _parcel(122.007, 31.527, 1500)
    r = redline_conflicts(plot, yrd_redlines, buffer_m=1000)
    c = r.conflicts
    assert len(c) >= 1
    assert list(c.columns[:11]) == ["park_id", "park_name", "zone_id", "zone_name",
                                    "zone_class", "kind", "overlap_m2", "overlap_ha",
                                    "overlap_mu", "pct_of_park", "min_distance_m"]
    assert np.allclose(c.overlap_mu * MU_M2, c.overlap_m2)
    assert isinstance(r.parks, pd.DataFrame)


# --- exact areas for thin slivers (edges stored in lon/lat are densified) --------------

def _sliver_pair(lat0: float, offset_m: float):
    """A zone whose north edge is one 12 km edge along ``lat0`` (two vertices) and a
    surveyed park (a vertex every ~10 m) whose south edge is ``offset_m`` north of it."""
    lon0, lon1 = 120.50, 120.50 + 12_000 / (111_320 * np.cos(np.radians(lat0)))
    dlat = offset_m / 110_900.0
    zone = shapely.box(lon0, lat0 - 0.05, lon1, lat0)
    lons = np.linspace(lon0, lon1, 1201)
    park = shapely.Polygon(np.r_[np.c_[lons, np.full_like(lons, lat0 + dlat)],
                                 np.c_[lons[::-1], np.full_like(lons, lat0 + 0.02)]])
    z = gpd.GeoDataFrame({"id": ["z"], "name": ["z"], "class": ["redline"]}, geometry=[zone],
                         crs=4326)
    p = gpd.GeoDataFrame({"id": ["p"], "name": ["p"]}, geometry=[park], crs=4326)
    return p, z, shapely.intersection(park, zone)


@pytest.mark.parametrize("lat0", [23.0, 31.4, 45.0, 53.0])
@pytest.mark.parametrize("width_m", [5.0, 20.0, 100.0])
def test_sliver_overlaps_match_geodesic_areas_to_0_1_percent(lat0, width_m):
    parks, zones, inter = _sliver_pair(lat0, -width_m)
    r = redline_conflicts(parks, zones)
    # Geod on the overlap densified to 1 m: its geodesic edges follow the drawn edges.
    truth = abs(GEOD.geometry_area_perimeter(shapely.segmentize(inter, 1e-5))[0])
    assert truth == pytest.approx(width_m * 12_000, rel=0.01)
    assert r.conflicts["overlap_m2"].sum() == pytest.approx(truth, rel=1e-3)
    assert r.parks["area_m2"].iloc[0] == pytest.approx(
        abs(GEOD.geometry_area_perimeter(shapely.segmentize(parks.geometry.iloc[0], 1e-5))[0]),
        rel=1e-4)


@pytest.mark.parametrize("offset_m", [0.25, 0.5, 1.0])
def test_parks_a_metre_or_less_outside_a_zone_do_not_conflict(offset_m):
    """Undensified, the zone's 12 km chord cut 3,600–11,700 m² out of these parks."""
    parks, zones, _ = _sliver_pair(31.4, offset_m)
    r = redline_conflicts(parks, zones)
    assert r.parks["status"].iloc[0] == "pass" and not r.has_conflicts
    assert r.parks["nearest_zone_m"].iloc[0] == pytest.approx(offset_m, abs=0.05)


def test_unknown_or_empty_class_names_the_file_and_says_empty(tmp_path):
    import geopandas as gpd
    import shapely

    from geo.errors import InputError
    from geo.layers import read_layer
    from geo.redline import redline_conflicts

    sq = shapely.box(120.0, 31.0, 120.01, 31.01)
    zones = gpd.GeoDataFrame({"zone_id": ["z1", "z2"], "name": ["a", "b"],
                              "class": ["core", None]}, geometry=[sq, sq], crs=4326)
    path = tmp_path / "zones.gpkg"
    zones.to_file(path)
    z = read_layer(path, role="redlines")
    parks = gpd.GeoDataFrame({"id": ["p"], "name": ["p"]}, geometry=[sq], crs=4326)
    with pytest.raises(InputError, match=r"zones\.gpkg.*unknown class \(empty\) \(zones z2\)"):
        redline_conflicts(parks, z)
