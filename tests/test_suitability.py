"""Site suitability (geo.suitability, geo.grid).

Synthetic fixtures (a 20 km square study in EPSG:4549 with a road, ports, red-line
zones, a lake and a DEM stored in EPSG:4326) test each rule in isolation; the last
tests run the bundled YRD study at a coarse cell size.
"""

from __future__ import annotations

import json
import math
import textwrap
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Transformer

from geo.crs import ZoneWarning
from geo.errors import ModelError, StudyError
from geo.grid import (
    Grid,
    distance_to_features,
    grid_for_bounds,
    reproject_to_grid,
    slope_degrees,
)
from geo.study import load_study
from geo.suitability import (
    EXCLUSION_CODES,
    Transform,
    aggregate,
    parse_transform,
    perturbed_weights,
    run_suitability,
)
from geo.units import MU_M2
from geo.webmap import SuitabilityLayers

ROOT = Path(__file__).resolve().parents[1]
YRD = ROOT / "layers" / "yrd.toml"
M = CRS.from_epsg(4549)
X0, Y0 = 500_000.0, 3_450_000.0  # lower-left of the synthetic study (lon ≈ 120.0, lat ≈ 31.2)

# ----------------------------------------------------------------------------- fixtures


def _plane_dem(path: Path, *, slope_deg: float, aspect_deg: float = 0.0,
               hole: bool = False) -> None:
    """A DEM in EPSG:4326 whose surface is a plane in EPSG:4549 metres: elevation rises
    by tan(slope) per metre towards ``aspect`` (0 = north, 90 = east)."""
    to_m = Transformer.from_crs(4326, M, always_xy=True)
    lon0, lat0 = 119.96, 31.14
    res = 0.0025  # ≈ 250 m
    n = 120
    lon = lon0 + (np.arange(n) + 0.5) * res
    lat = lat0 + 0.3 - (np.arange(n) + 0.5) * res
    glon, glat = np.meshgrid(lon, lat)
    x, y = to_m.transform(glon, glat)
    a = math.radians(aspect_deg)
    z = 50.0 + math.tan(math.radians(slope_deg)) * ((x - X0) * math.sin(a) + (y - Y0) * math.cos(a))
    z = z.astype(np.float32)
    nodata = -32768.0
    if hole:
        z[40:60, 40:60] = nodata
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1, dtype="float32",
                       crs="EPSG:4326", transform=Affine(res, 0, lon0, 0, -res, lat0 + 0.3),
                       nodata=nodata) as dst:
        dst.write(z, 1)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("suit")
    gpkg = d / "synthetic.gpkg"
    area = gpd.GeoDataFrame({"name": ["area"]},
                            geometry=[shapely.box(X0, Y0, X0 + 20_000, Y0 + 20_000)], crs=M)
    roads = gpd.GeoDataFrame(
        {"road_id": ["h1", "v1"], "name": ["east-west", "north-south"]},
        geometry=[shapely.LineString([(X0 - 5000, Y0 + 10_000), (X0 + 25_000, Y0 + 10_000)]),
                  shapely.LineString([(X0 + 4000, Y0 - 5000), (X0 + 4000, Y0 + 25_000)])],
        crs=M)
    ports = gpd.GeoDataFrame({"port_id": ["p1", "p2"], "name": ["P1", "P2"]},
                             geometry=[shapely.Point(X0 + 4000, Y0 + 4000),
                                       shapely.Point(X0 + 30_000, Y0 + 10_000)], crs=M)
    zones = gpd.GeoDataFrame(
        {"zone_id": ["core1", "red1", "res1"], "name": ["Core", "Red", "Restricted"],
         "class": ["core", "redline", "restricted"],
         "banned_industries": ["all", "all", "chemicals;pharmaceuticals"]},
        geometry=[shapely.box(X0 + 2000, Y0 + 2000, X0 + 6000, Y0 + 6000),   # on road + port
                  shapely.box(X0 + 12_000, Y0 + 8000, X0 + 16_000, Y0 + 12_000),  # on road
                  shapely.box(X0, Y0 + 15_000, X0 + 5000, Y0 + 20_000)], crs=M)
    lake = gpd.GeoDataFrame({"name": ["lake"]},
                            geometry=[shapely.box(X0 + 15_000, Y0 + 1000, X0 + 19_000,
                                                  Y0 + 5000)], crs=M)
    area.to_file(gpkg, layer="area")
    roads.to_file(gpkg, layer="roads")
    ports.to_file(gpkg, layer="ports")
    zones.to_file(gpkg, layer="zones")
    lake.to_file(gpkg, layer="lake")
    _plane_dem(d / "dem.tif", slope_deg=3.0, aspect_deg=30.0)
    _plane_dem(d / "dem_hole.tif", slope_deg=3.0, aspect_deg=30.0, hole=True)
    _plane_dem(d / "dem_steep.tif", slope_deg=30.0, aspect_deg=0.0)
    return d


LAYERS = """
[study]
name = "synthetic"
boundary = "area"
crs = "EPSG:4549"

[layers.area]
path = "synthetic.gpkg"
layer = "area"
role = "boundary"

[layers.roads]
path = "synthetic.gpkg"
layer = "roads"
role = "roads"

[layers.ports]
path = "synthetic.gpkg"
layer = "ports"
role = "ports"

[layers.zones]
path = "synthetic.gpkg"
layer = "zones"
role = "redlines"
class = "class"

[layers.lake]
path = "synthetic.gpkg"
layer = "lake"
role = "water"

[layers.dem]
path = "{dem}"
role = "dem"
"""

SUIT = """
[suitability]
cell_m = 500
min_area_mu = 300
top_pct = 10
runs = 40
seed = 3
{extra}

[suitability.constraints]
redline_buffer_m = 0
max_slope_deg = 25

[[suitability.criteria]]
name = "road"
kind = "distance"
layer = "roads"
transform = {{ type = "linear", low = 0, high = 6000, direction = "decreasing" }}
{w_road}

[[suitability.criteria]]
name = "port"
kind = "distance"
layer = "ports"
transform = {{ type = "linear", low = 0, high = 20000, direction = "decreasing" }}
{w_port}

[[suitability.criteria]]
name = "slope"
kind = "slope"
{w_slope}
"""


def make_study(data_dir: Path, name: str, *, dem: str = "dem.tif", extra: str = "",
               weights=(0.5, 0.3, 0.2), suit: str | None = None):
    w = {k: (f"weight = {v}" if v is not None else "") for k, v in
         zip(("w_road", "w_port", "w_slope"), weights, strict=True)}
    text = LAYERS.format(dem=dem) + (suit if suit is not None else SUIT.format(extra=extra, **w))
    p = data_dir / f"{name}.toml"
    p.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_study(p)


# ----------------------------------------------------------------------------- transforms


def test_transforms():
    x = np.array([0, 1000, 2500, 5000, 9000, np.nan])
    lin = Transform("linear", {"low": 1000, "high": 5000, "direction": "decreasing"})
    assert lin(x)[:5] == pytest.approx([1, 1, 0.625, 0, 0])
    assert np.isnan(lin(x)[5])
    inc = Transform("linear", {"low": 1000, "high": 5000})
    assert inc(x)[:5] == pytest.approx([0, 0, 0.375, 1, 1])
    lg = Transform("logistic", {"midpoint": 2500, "spread": 500, "direction": "decreasing"})
    v = lg(x)
    assert v[2] == pytest.approx(0.5) and v[0] > 0.99 and v[4] < 0.01 and np.all(np.diff(v[:5]) < 0)
    ga = Transform("gaussian", {"ideal": 2500, "sigma": 1000})
    assert ga(np.array([2500, 3500, 1500]))[0] == pytest.approx(1.0)
    assert ga(np.array([3500]))[0] == pytest.approx(math.exp(-0.5), rel=1e-6)
    cl = Transform("classes", {"breaks": [2, 8, 15], "scores": [1.0, 0.8, 0.6, 0.4]})
    assert cl(np.array([0, 2, 2.01, 8, 14.9, 15, 15.1, 40, np.nan]))[:8] == \
        pytest.approx([1.0, 1.0, 0.8, 0.8, 0.6, 0.6, 0.4, 0.4])
    assert np.isnan(cl(np.array([np.nan]))[0])
    cat = Transform("categorical", {"map": {"industrial": 1.0, "farm": 0.3}, "default": 0.1})
    assert cat.map_categories(["farm", "industrial", "forest"]) == pytest.approx([0.3, 1, 0.1])


@pytest.mark.parametrize("spec, message", [
    ({"type": "linar", "low": 0, "high": 1}, "did you mean 'linear'"),
    ({"type": "linear", "low": 5, "high": 1}, "must be a number below high"),
    ({"type": "linear", "low": 0}, "high: missing"),
    ({"type": "gaussian", "ideal": 0, "sigma": 0}, "sigma a number > 0"),
    ({"type": "classes", "breaks": [2, 8], "scores": [1, 0.5]}, "must be 3 scores"),
    ({"type": "classes", "breaks": [8, 2], "scores": [1, 0.5, 0]}, "ascending"),
])
def test_bad_transforms(spec, message):
    problems: list[str] = []
    assert parse_transform(spec, "t", problems) is None
    assert any(message in p for p in problems), problems


# ----------------------------------------------------------------------------- aggregation


def test_owa_andness_extremes_and_mean():
    rng = np.random.default_rng(1)
    x = rng.random((200, 4)).astype(np.float32)
    w = np.full(4, 0.25)
    assert aggregate(x, w, method="owa", andness=1.0) == pytest.approx(x.min(axis=1), abs=1e-6)
    assert aggregate(x, w, method="owa", andness=0.0) == pytest.approx(x.max(axis=1), abs=1e-6)
    assert aggregate(x, w, method="owa", andness=0.5) == pytest.approx(x.mean(axis=1), abs=1e-6)
    assert aggregate(x, w, method="owa", order_weights=[0, 0, 0, 1]) == \
        pytest.approx(x.min(axis=1), abs=1e-6)
    assert aggregate(x, w, method="owa", order_weights=[1, 0, 0, 0]) == \
        pytest.approx(x.max(axis=1), abs=1e-6)
    # equal criterion weights: OWA = plain ordered weighted average (Yager 1988)
    ow = np.array([0.1, 0.2, 0.3, 0.4])
    expect = (np.sort(x, axis=1)[:, ::-1] * ow).sum(axis=1)
    assert aggregate(x, w, method="owa", order_weights=ow) == pytest.approx(expect, abs=1e-5)
    # ANDness between: between mean and min
    mid = aggregate(x, w, method="owa", andness=0.8)
    assert np.all(mid <= x.mean(axis=1) + 1e-6) and np.all(mid >= x.min(axis=1) - 1e-6)
    # with unequal weights andness 0.5 is WLC
    w2 = np.array([0.4, 0.3, 0.2, 0.1])
    assert aggregate(x, w2, method="owa", andness=0.5 + 1e-9) == \
        pytest.approx(aggregate(x, w2, method="wlc"), abs=1e-5)


def test_unknown_values_are_skipped_not_zero():
    x = np.array([[1.0, np.nan], [1.0, 0.0], [np.nan, np.nan]], dtype=np.float32)
    s = aggregate(x, np.array([0.5, 0.5]))
    assert s[0] == pytest.approx(1.0)  # unknown slope does not count as a bad (0) score
    assert s[1] == pytest.approx(0.5)
    assert np.isnan(s[2])
    so = aggregate(x, np.array([0.5, 0.5]), method="owa", andness=1.0)
    assert so[0] == pytest.approx(1.0) and so[1] == pytest.approx(0.0) and np.isnan(so[2])


@settings(max_examples=60, deadline=None)
@given(w=st.lists(st.floats(0.01, 1.0), min_size=3, max_size=3),
       bump=st.floats(0.01, 2.0), j=st.integers(0, 2),
       others=st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4),
       andness=st.sampled_from([None, 0.0, 0.3, 0.5, 0.7, 1.0]))
def test_raising_a_weight_favours_the_cell_that_meets_it(w, bump, j, others, andness):
    a = np.array([others[0], others[1], others[2]], dtype=np.float32)
    b = np.array([others[3], others[1], others[2]], dtype=np.float32)
    a[j], b[j] = 1.0, 0.0
    b[(j + 1) % 3] = others[3]
    x = np.stack([a, b])
    w0 = np.array(w)
    w1 = w0.copy()
    w1[j] += bump
    kw = {"method": "wlc"} if andness is None else {"method": "owa", "andness": andness}
    s0, s1 = aggregate(x, w0, **kw), aggregate(x, w1, **kw)
    assert s1[0] >= s0[0] - 1e-5  # the cell scoring 1 on criterion j never loses
    assert s1[1] <= s0[1] + 1e-5  # the cell scoring 0 never gains
    assert (s1[0] - s1[1]) >= (s0[0] - s0[1]) - 1e-5


def test_perturbed_weights_are_seeded_and_bounded():
    w = np.array([0.5, 0.3, 0.2])
    a, b = perturbed_weights(w, 50, 0.2, 7), perturbed_weights(w, 50, 0.2, 7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, perturbed_weights(w, 50, 0.2, 8))
    assert a.sum(axis=1) == pytest.approx(np.ones(50))
    ratio = a / w[None, :]  # within a run, weights move by at most ×1.2 / ×0.8 relative
    assert (ratio.max(axis=1) / ratio.min(axis=1)).max() <= 1.2 / 0.8 + 1e-9


# ----------------------------------------------------------------------------- grid maths


def test_distance_to_features_matches_brute_force():
    rng = np.random.default_rng(0)
    grid = grid_for_bounds((0, 0, 3000, 2000), M, 100.0)
    pts = shapely.points(rng.uniform(-500, 3500, 6), rng.uniform(-500, 2500, 6))
    line = shapely.LineString([(0, 0), (3000, 1700), (2000, 2300)])
    poly = shapely.Polygon([(1000, 300), (1800, 500), (1500, 900)])
    geoms = np.concatenate([pts, [line, poly]])
    cx, cy = grid.centres()
    # brute force: every cell centre against every feature (shapely)
    true = shapely.distance(shapely.points(cx.ravel(), cy.ravel())[:, None],
                            geoms[None, :]).min(axis=1).reshape(grid.shape)
    for block in (1, 3, 16):  # partial blocks at the grid edge, one-cell blocks
        d = distance_to_features(geoms, grid, pad_m=1000, block=block)
        assert np.abs(d - true).max() < 0.01  # exact up to float32 rounding
    # inside the polygon: 0
    assert d[int((2000 - 600) // 100), int(1400 // 100)] == 0.0


def test_distance_where_computes_only_the_needed_blocks():
    """``where`` (the chunked engine's scored cells): exact in every block holding a
    needed cell, +inf in the others; nothing needed gives +inf everywhere."""
    rng = np.random.default_rng(3)
    grid = grid_for_bounds((0, 0, 4000, 3000), M, 100.0)  # 30 × 40 cells
    geoms = np.concatenate([shapely.points(rng.uniform(-500, 4500, 8),
                                           rng.uniform(-500, 3500, 8)),
                            [shapely.Polygon([(1000, 300), (1800, 500), (1500, 900)])]])
    full = distance_to_features(geoms, grid, pad_m=0, block=7)
    where = np.zeros(grid.shape, dtype=bool)
    where[2, 3] = where[29, 39] = where[15, 20] = True  # first, last (partial) and middle
    d = distance_to_features(geoms, grid, pad_m=0, block=7, where=where)
    blocks = np.zeros(grid.shape, dtype=bool)
    for r, c in zip(*np.nonzero(where), strict=True):
        blocks[r // 7 * 7:r // 7 * 7 + 7, c // 7 * 7:c // 7 * 7 + 7] = True
    assert np.array_equal(d[blocks], full[blocks])
    outside = ~blocks & (full > 0)  # polygons are painted 0 wherever they lie
    assert np.isinf(d[outside]).all()
    assert np.isinf(distance_to_features(geoms, grid, where=np.zeros(grid.shape, bool))).all()


def test_distance_beyond_pad_is_never_underestimated():
    grid = grid_for_bounds((0, 0, 5000, 1000), M, 100.0)
    p = np.array([shapely.Point(-50.0, 500.0)])
    d = distance_to_features(p, grid, pad_m=1000)
    cx, cy = grid.centres()
    true = np.hypot(cx + 50.0, cy - 500.0)
    near = true <= 1000
    assert np.abs(d[near] - true[near]).max() < 0.01
    assert (d[~near] >= true[~near] - 0.01).all()  # +inf or a real distance
    assert np.isinf(distance_to_features(p, grid_for_bounds((9000, 0, 9500, 500), M, 100.0),
                                         pad_m=1000)).all()
    assert np.isinf(distance_to_features(np.array([], dtype=object), grid)).all()


_coord = st.floats(-3000, 3000, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(segs=st.lists(st.tuples(_coord, _coord, _coord, _coord), min_size=1, max_size=12),
       pts=st.lists(st.tuples(_coord, _coord), max_size=4),
       cell=st.sampled_from([37.0, 100.0, 250.0]), block=st.integers(1, 20),
       ox=st.floats(-1000, 1000), oy=st.floats(-1000, 1000),
       pad=st.sampled_from([0.0, 300.0, 5000.0]))
# found by CI: a line 1e-174 m long is not two equal points, but GEOS measures it as NaN
@example(segs=[(1.3958639930389815e-174, 0.0, 0.0, 1.3958639930389815e-174)], pts=[],
         cell=37.0, block=1, ox=0.0, oy=0.0, pad=0.0)
def test_distance_to_features_within_half_a_cell_property(segs, pts, cell, block, ox, oy,
                                                          pad):
    """Random segments and points (duplicates, zero-length, crossing, outside the grid)
    against shapely's exact distance: every cell within half a cell (in fact exact)
    wherever the true distance is within the pad, never below it beyond."""
    grid = grid_for_bounds((ox, oy, ox + 1500, oy + 1100), M, cell)
    geoms = np.array([shapely.LineString([(a, b), (c, e)]) for a, b, c, e in segs]
                     + [shapely.Point(x, y) for x, y in pts], dtype=object)
    d = distance_to_features(geoms, grid, pad_m=pad, block=block)
    cx, cy = grid.centres()
    # the oracle: GEOS returns NaN for lines of sub-nanometre length (1e-163 m); such a
    # line is its first point
    tiny = np.array([math.hypot(c - a, e - b) < 1e-9 for a, b, c, e in segs] +
                    [False] * len(pts))
    ref = geoms.copy()
    ref[tiny] = shapely.get_point(geoms[tiny], 0)
    with np.errstate(divide="ignore", invalid="ignore"):  # GEOS on zero-length lines
        true = shapely.distance(shapely.points(cx.ravel(), cy.ravel())[:, None],
                                ref[None, :]).min(axis=1).reshape(grid.shape)
    near = true <= pad if pad > 0 else np.ones(grid.shape, dtype=bool)
    err = np.abs(d[near] - true[near])
    assert err.max(initial=0.0) <= cell / 2
    assert err.max(initial=0.0) < 0.01
    assert (d[~near] >= true[~near] - 0.01).all()


def test_distance_to_points_is_exact():
    grid = grid_for_bounds((0, 0, 2000, 1000), M, 50.0)
    p = np.array([shapely.Point(123.4, 567.8), shapely.Point(1890.1, 10.2)])
    d = distance_to_features(p, grid)
    cx, cy = grid.centres()
    true = np.minimum(np.hypot(cx - 123.4, cy - 567.8), np.hypot(cx - 1890.1, cy - 10.2))
    assert d == pytest.approx(true, abs=0.01)


def test_grid_is_aligned_to_the_origin():
    g = grid_for_bounds((1010.0, 2020.0, 1990.0, 2990.0), M, 250.0, origin=(0, 0))
    assert (g.x0, g.y0, g.width, g.height) == (1000.0, 3000.0, 4, 4)
    g = grid_for_bounds((1010.0, 2020.0, 1990.0, 2990.0), M, 250.0, origin=(100, 100))
    assert g.x0 % 250 == 100 and g.y0 % 250 == 100


@pytest.mark.parametrize("slope, aspect", [(3.0, 30.0), (30.0, 0.0)])
def test_slope_of_a_tilted_plane_after_reprojection(data_dir, slope, aspect, tmp_path):
    path = tmp_path / "plane.tif"
    _plane_dem(path, slope_deg=slope, aspect_deg=aspect)
    grid = grid_for_bounds((X0, Y0, X0 + 20_000, Y0 + 20_000), M, 250.0)
    dem = reproject_to_grid(path, grid)  # EPSG:4326 → EPSG:4549, not misread as metres
    s = slope_degrees(dem, grid.cell_m)
    inner = s[5:-5, 5:-5]
    assert np.isfinite(inner).all()
    assert np.median(inner) == pytest.approx(slope, abs=0.05)
    assert np.abs(inner - slope).max() < 0.3


def test_dem_nodata_stays_nodata(data_dir):
    grid = grid_for_bounds((X0, Y0, X0 + 20_000, Y0 + 20_000), M, 250.0)
    dem = reproject_to_grid(data_dir / "dem_hole.tif", grid)
    ok = dem[~np.isnan(dem)]
    assert np.isnan(dem).sum() > 100  # the hole survived the warp
    # no blend with the nodata value (-32768) and no zero-filled cells
    with rasterio.open(data_dir / "dem.tif") as src:
        full = src.read(1)
    assert ok.min() >= full.min() - 1 and ok.max() <= full.max() + 1
    s = slope_degrees(dem, grid.cell_m)
    assert np.isnan(s[np.isnan(dem)]).all()
    assert np.nanmax(s) < 3.5  # no cliff at the hole's edge


# ----------------------------------------------------------------------------- model runs


def _cell_at(res, x: float, y: float) -> tuple[int, int]:
    g = res.grid
    return int((g.y0 - y) // g.cell_m), int((x - g.x0) // g.cell_m)


def test_run_on_synthetic_study(data_dir, tmp_path):
    study = make_study(data_dir, "basic")
    res = run_suitability(study, out_dir=tmp_path / "out")
    core = _cell_at(res, X0 + 4250, Y0 + 4250)   # on the road and next to a port
    red = _cell_at(res, X0 + 14_250, Y0 + 10_250)  # on the road
    lake = _cell_at(res, X0 + 17_250, Y0 + 3250)
    assert res.exclusion[core] == 2 and np.isnan(res.score[core])
    assert res.exclusion[red] == 3 and np.isnan(res.score[red])
    assert res.exclusion[lake] == 6 and np.isnan(res.score[lake])
    # restricted zone: only for an industry it bans
    res_zone = _cell_at(res, X0 + 2250, Y0 + 17_250)
    assert res.exclusion[res_zone] == 0 and np.isfinite(res.score[res_zone])
    sc = res.score[res.exclusion == 0]
    assert np.isfinite(sc).all() and sc.min() >= 0 and sc.max() <= 1
    # outputs open as GeoTIFFs with CRS, transform, nodata and overviews
    with rasterio.open(res.suitability_tif) as ds:
        assert ds.crs.to_epsg() == 4549 and ds.dtypes[0] == "float32"
        assert ds.transform == res.grid.transform and np.isnan(ds.nodata)
        assert np.array_equal(np.isnan(ds.read(1)), np.isnan(res.score))
    with rasterio.open(res.exclusion_tif) as ds:
        assert ds.dtypes[0] == "uint8" and "EXCLUSION_CODE_2" in ds.tags()
        assert np.array_equal(ds.read(1), res.exclusion)
        assert ds.colormap(1)[6][:3] == (69, 117, 180)
    with rasterio.open(res.stability_tif) as ds:
        st_ = ds.read(1)
        assert np.nanmin(st_) >= 0 and np.nanmax(st_) <= 1
    card = json.loads(Path(res.model_card_json).read_text(encoding="utf-8"))
    import geo

    assert card["parksite_version"] == geo.__version__
    assert set(card["exclusion_codes"]) == {str(k) for k in EXCLUSION_CODES}
    assert [c["name"] for c in card["criteria"]] == ["road", "port", "slope"]
    assert card["weights"]["values"] == pytest.approx({"road": 0.5, "port": 0.3, "slope": 0.2})
    cands = gpd.read_file(res.candidates_gpkg, layer="candidates")
    assert len(cands) == len(res.candidates) > 0 and cands.crs.to_epsg() == 4326
    layers = SuitabilityLayers.of(res)
    assert layers.suitability_tif == res.suitability_tif and layers.exclusion_tif.exists()
    assert layers.candidates is res.candidates and layers.model_card is res.model_card


def test_restricted_zone_excluded_only_for_banned_industry(data_dir):
    study = make_study(data_dir, "industry")
    cell = None
    for industry, expect in (("biomedicine", 4), ("petrochemicals", 4), ("electronics", 0),
                             ("fine_chemicals", 4), ("medical_supplies", 0)):
        res = run_suitability(study, industry=industry, runs=0)
        cell = cell or _cell_at(res, X0 + 2250, Y0 + 17_250)
        assert res.exclusion[cell] == expect, industry
        assert np.isnan(res.score[cell]) == (expect != 0)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(w=st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3).filter(lambda v: sum(v) > 0.05),
       agg=st.sampled_from(["wlc", "owa_and", "owa_or"]))
def test_red_line_cells_are_nodata_for_every_weight_set(data_dir, w, agg):
    extra = {"wlc": "", "owa_and": 'aggregation = "owa"\nandness = 0.9',
             "owa_or": 'aggregation = "owa"\nandness = 0.0'}[agg]
    study = make_study(data_dir, f"prop_{agg}", weights=w, extra=extra)
    res = run_suitability(study, runs=0)
    inside_core = res.exclusion == 2
    assert inside_core.sum() >= 50  # 4 km × 4 km at 500 m
    assert np.isnan(res.score[(res.exclusion == 2) | (res.exclusion == 3)]).all()
    # the red-line cells lie on the road: the best score elsewhere never brings them back
    assert not (res.exclusion[np.isfinite(res.score)] != 0).any()


def test_stability_is_reproducible_with_a_seed(data_dir):
    study = make_study(data_dir, "seed")
    a = run_suitability(study, runs=30, seed=5)
    b = run_suitability(study, runs=30, seed=5)
    c = run_suitability(study, runs=30, seed=6, top_pct=30)
    assert np.array_equal(a.stability, b.stability, equal_nan=True)
    assert a.candidates["p_top_n"].tolist() == b.candidates["p_top_n"].tolist()
    ok = a.exclusion == 0
    assert np.isnan(a.stability[~ok]).all() and np.isfinite(a.stability[ok]).all()
    # the cells of the base top set are mostly stable; share of top cells per run ≈ top_pct
    top = ok & (a.score >= a.model_card["top_cells"]["score_threshold"])
    assert a.stability[top].mean() > 0.5
    assert np.nansum(a.stability) / ok.sum() == pytest.approx(0.10, abs=0.02)
    assert not np.array_equal(a.stability, c.stability, equal_nan=True)


def test_stability_thresholds_are_exact(data_dir):
    """Per run exactly ceil(top_pct % of scored cells) cells reach the threshold (no
    ties in this continuous field), so the mean stability is exactly that share."""
    study = make_study(data_dir, "exact")
    res = run_suitability(study, runs=25, seed=1, top_pct=7)
    ok = res.exclusion == 0
    k = math.ceil(ok.sum() * 0.07)
    assert np.nansum(res.stability) * 25 == pytest.approx(25 * k, abs=25 * 2)


def test_candidate_areas_in_ha_and_mu(data_dir):
    study = make_study(data_dir, "areas")
    res = run_suitability(study, runs=10, min_area_mu=600, top_pct=15)
    c = res.candidates
    assert len(c) >= 1
    assert (c["area_mu"] >= 600 - 0.1).all()
    assert c["area_mu"].to_numpy() == pytest.approx(c["area_m2"].to_numpy() / MU_M2, abs=0.1)
    assert c["area_ha"].to_numpy() == pytest.approx(c["area_m2"].to_numpy() / 1e4, abs=0.01)
    assert c["area_mu"].to_numpy() == pytest.approx(c["area_ha"].to_numpy() * 15, rel=1e-3)
    cells_m2 = c["n_cells"].to_numpy() * 500.0 ** 2
    assert c["area_m2"].to_numpy() == pytest.approx(cells_m2, rel=0.005)
    assert list(c["rank"]) == list(range(1, len(c) + 1))
    assert (np.diff(c["mean_score"].to_numpy()) <= 1e-9).all()
    assert (c["min_score"] <= c["mean_score"]).all()
    assert c["p_top_n"].between(0, 1).all()
    # candidate regions never overlap a red line (with buffer 0 they may touch it)
    zones = gpd.read_file(data_dir / "synthetic.gpkg", layer="zones")
    hard = zones[zones["class"].isin(["core", "redline"])].union_all()
    assert c.to_crs(4549).intersection(hard).area.max() < 1.0
    assert (c["dist_redline_m"] >= 0).all()


def test_dem_holes_skip_slope_and_renormalise(data_dir):
    study = make_study(data_dir, "hole", dem="dem_hole.tif")
    res = run_suitability(study, runs=0)
    assert res.model_card["constraints"]["slope_known_share_in_study"] < 1
    assert (res.exclusion == 8).sum() == 0
    assert np.isfinite(res.score[res.exclusion == 0]).all()


def test_slope_threshold_excludes_steep_cells(data_dir):
    # a 30° plane over the whole study: every cell is too steep
    study = make_study(data_dir, "steep", dem="dem_steep.tif")
    with pytest.raises(ModelError, match="every cell of the study is excluded"):
        run_suitability(study, runs=0)
    relaxed = make_study(data_dir, "steep35", dem="dem_steep.tif", suit=SUIT.format(
        extra="", w_road="weight = 1", w_port="weight = 1", w_slope="weight = 1").replace(
        "max_slope_deg = 25", "max_slope_deg = 35"))
    res = run_suitability(relaxed, runs=0)
    assert (res.exclusion == 7).sum() == 0 and (res.exclusion == 0).sum() > 1000
    card = next(c for c in res.model_card["criteria"] if c["name"] == "slope")
    assert card["raw_in_scored_cells"]["median"] == pytest.approx(30, abs=0.3)


# ----------------------------------------------------------------------------- bad input


def test_regions_larger_than_max_area_are_cut_into_tiles():
    from scipy import ndimage

    from geo.suitability import _regions

    grid = grid_for_bounds((0, 0, 6000, 5000), M, 100.0)
    top = np.zeros(grid.shape, dtype=bool)
    top[3:33, 2:42] = True  # a 1,200-cell blob
    top[40:46, 50:56] = True  # 36 cells: under the limit, kept whole
    top[45:47, 5:6] = True  # 2 cells: under the minimum
    labels, n, parent = _regions(top, grid, min_cells=4, max_cells=50)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    assert n == len(parent) and (sizes <= 49).all() and (sizes >= 4).all()  # tiles of 7 × 7
    blob = np.unique(labels[3:33, 2:42])
    for i in range(1, n + 1):  # each part is contiguous, a blob's part inside one tile
        r, c = np.nonzero(labels == i)
        assert ndimage.label(labels == i)[1] == 1
        if i in blob:
            assert len(set(r // 7)) == 1 and len(set(c // 7)) == 1
    small = labels[40:46, 50:56]  # spans two tiles, but is not cut
    assert (small == small[0, 0]).all() and (labels == small[0, 0]).sum() == 36
    assert labels[45, 5] == 0
    assert 0 not in blob and len(set(parent[blob - 1])) == 1
    assert parent[small[0, 0] - 1] != parent[blob[0] - 1]
    # every blob cell is in a kept part except parts of tiles cut below 4 cells
    assert (labels[3:33, 2:42] > 0).sum() >= 1200 - 4 * 3 * 12
    # without a limit: two regions, the blob whole
    labels2, n2, parent2 = _regions(top, grid, min_cells=4)
    assert n2 == 2 and list(parent2) == [1, 2]


def test_max_area_mu_bounds_candidate_regions(data_dir):
    study = make_study(data_dir, "maxarea")
    whole = run_suitability(study, runs=10, top_pct=25).candidates
    assert whole["area_mu"].max() > 4000  # the test needs a region to cut
    cut = run_suitability(study, runs=10, top_pct=25, max_area_mu=4000).candidates
    cell_mu = 500.0 ** 2 / MU_M2
    side = math.isqrt(int(4000 // cell_mu))
    assert len(cut) > len(whole)
    assert (cut["n_cells"] <= side * side).all() and (cut["area_mu"] <= 4000 * 1.01).all()
    assert (cut["area_mu"] >= 300 - 0.1).all()
    assert (cut.geometry.geom_type == "Polygon").all()  # contiguous
    assert cut["parent_region"].nunique() < len(cut)  # parts share their parent
    assert cut["p_top_n"].between(0, 1).all()
    with pytest.raises(ModelError, match=r"max_area_mu: 500 亩 must be at least twice"):
        run_suitability(study, runs=0, max_area_mu=500)
    with pytest.raises(StudyError, match=r"suitability.max_area_mu: 400 亩 must be at least "
                                         r"twice min_area_mu \(300 亩\)"):
        make_study(data_dir, "maxbad", extra="max_area_mu = 400")


def test_weights_must_match_criteria(data_dir):
    with pytest.raises(StudyError, match=r"no weight for slope"):
        make_study(data_dir, "noweight", weights=(0.5, 0.5, None))
    ahp = SUIT.format(extra="", w_road="", w_port="", w_slope="") + textwrap.dedent("""
        [suitability.ahp]
        criteria = ["road", "port"]
        matrix = [[1, 3], ["1/3", 1]]
        """)
    with pytest.raises(StudyError, match=r"ahp.criteria: must name every criterion once "
                                         r"\(missing: slope"):
        make_study(data_dir, "ahpmiss", suit=ahp)


def test_missing_layer_is_named(data_dir):
    bad = SUIT.format(extra="", w_road="weight = 1", w_port="weight = 1",
                      w_slope="weight = 1").replace('layer = "ports"', 'layer = "portz"')
    with pytest.raises(StudyError, match=r"\(port\)\.layer: the study has no layer 'portz'; "
                                         r"did you mean 'ports'"):
        make_study(data_dir, "missing", suit=bad)


def test_inconsistent_ahp_is_a_model_error(data_dir):
    ahp = SUIT.format(extra="", w_road="", w_port="", w_slope="") + textwrap.dedent("""
        [suitability.ahp]
        criteria = ["road", "port", "slope"]
        matrix = [[1, 9, "1/9"], [0, 1, 9], [0, 0, 1]]
        """)
    study = make_study(data_dir, "incons", suit=ahp)
    with pytest.raises(ModelError, match=r"CR = .* most inconsistent pair is \w+ vs \w+"):
        run_suitability(study, runs=0)
    allowed = make_study(data_dir, "incons_ok", suit=ahp.replace(
        "matrix = [[1", "allow_inconsistent = true\nmatrix = [[1"))
    res = run_suitability(allowed, runs=0)
    assert res.model_card["weights"]["ahp"]["cr"] >= 0.1


def test_grid_too_large_names_the_cell_size(data_dir):
    study = make_study(data_dir, "huge", extra="max_memory_gb = 0.5")
    with pytest.raises(ModelError, match=r"needs about .* GB, over max_memory_gb = 0.5\. "
                                         r"Use cell_m ≥ \d+"):
        run_suitability(study, cell_m=2.0, runs=0)


def test_cli(data_dir, tmp_path):
    from geo.cli import main

    make_study(data_dir, "cli")
    r = CliRunner().invoke(main, ["suitability", str(data_dir / "cli.toml"), "--out",
                                  str(tmp_path / "o"), "--runs", "10"])
    assert r.exit_code == 0, r.output
    assert "Candidate regions" in r.output and "CR" not in r.output.split("\n")[0]
    assert (tmp_path / "o" / "suitability.tif").exists()
    r = CliRunner().invoke(main, ["suitability", str(data_dir / "cli.toml"), "--out",
                                  str(tmp_path / "o"), "--industry", "biomedicine",
                                  "--cell-m", "0.5"])
    assert r.exit_code == 2 and "Use cell_m ≥" in r.output


# ----------------------------------------------------------------------------- the YRD study


@pytest.fixture(scope="module")
def yrd_result(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(YRD)
    out = tmp_path_factory.mktemp("yrd")
    # the study straddles the 121.5°E zone boundary: the grid stays in EPSG:4549, said once
    with pytest.warns(ZoneWarning, match="straddles"):
        res = run_suitability(study, cell_m=1000, runs=50, out_dir=out)
    return study, res


def test_yrd_bundled_study_is_plausible(yrd_result):
    study, res = yrd_result
    card = res.model_card
    assert card["grid"]["crs"] == "EPSG:4549" and card["grid"]["cell_m"] == 1000
    assert card["weights"]["ahp"]["cr"] < 0.10
    w = card["weights"]["values"]
    assert set(w) == {"highway", "railway", "port", "university", "slope"}
    assert max(w, key=w.get) == "highway"
    # Dongtan and Jiuduansha (core) and the drinking-water sources (redline) are out
    codes = res.exclusion_counts
    assert res.exclusion_codes[2] == "生态保护红线核心区 ecological red line: core zone"
    assert codes[2]["cells"] > 0 and codes[3]["cells"] > 0 and codes[6]["cells"] > 0
    lon_lat = Transformer.from_crs(4326, 4549, always_xy=True)
    x, y = lon_lat.transform(121.97, 31.52)  # Dongtan on Chongming's east tip
    r, c = int((res.grid.y0 - y) // 1000), int((x - res.grid.x0) // 1000)
    assert res.exclusion[r, c] in (2, 3, 5, 6) and np.isnan(res.score[r, c])
    x, y = lon_lat.transform(120.60, 31.30)  # Suzhou's old town: built-up land, excluded
    r, c = int((res.grid.y0 - y) // 1000), int((x - res.grid.x0) // 1000)
    assert res.exclusion[r, c] == 11 and np.isnan(res.score[r, c])
    assert codes[11]["cells"] > 0 and codes[12]["cells"] > 0  # built-up land, existing parks
    cands = res.candidates
    assert len(cands) >= 3
    top3 = cands.head(3)
    assert (top3["area_mu"] >= 1500).all() and (top3["dist_redline_m"] >= 900).all()
    # max_area_mu = 15000 in the study: planner-sized parts, not 10,000-ha blobs
    assert (cands["area_mu"] <= 15000 * 1.01).all() and cands["parent_region"].notna().all()
    # the best regions lie in the Shanghai–Suzhou–Wuxi–Nantong core, not in the sea
    assert top3["lon"].between(120.0, 122.0).all() and top3["lat"].between(30.7, 32.1).all()
    assert (top3["p_top_n"] >= 0).all() and cands["district"].str.len().gt(0).all()
    boundary = study.boundary
    assert shapely.contains(boundary, shapely.points(top3["lon"], top3["lat"])).all()
    # no longer the city cores (姑苏区, 杨浦区) that nothing used to exclude
    assert not cands.head(5)["district"].str.contains("姑苏|杨浦|黄浦|静安").any()


def test_yrd_industry_needs_sourcing_or_uses_it(yrd_result):
    import importlib.util

    study, _ = yrd_result
    has = importlib.util.find_spec("geo.sourcing") is not None and \
        hasattr(__import__("geo.sourcing", fromlist=["x"]), "input_share_within")
    if has:
        res = run_suitability(study, industry="biomedicine", cell_m=2000, runs=0)
        assert res.exclusion_counts[4]["cells"] > 0  # Taihu zone bans pharmaceuticals
        assert "supplier_access" in res.weights
        ind = res.model_card["constraints"]["industry"]
        assert ind["sectors"] == ["pharmaceuticals"]
        assert ind["supplier_access_industry"] == "biopharma_manufacturing"
        sa = next(c for c in res.model_card["criteria"] if c["name"] == "supplier_access")
        assert 0 <= sa["raw_in_scored_cells"]["min"] <= sa["raw_in_scored_cells"]["max"] <= 1
        assert set(res.model_card["constraints"]["restricted_zones_banning_industry"]) == \
            {"taihu_l1", "dianshan"}
        res = run_suitability(study, industry="notebook_assembly", cell_m=2000, runs=0)
        assert res.exclusion_counts[4]["cells"] == 0
    else:
        with pytest.raises(ModelError, match="sourcing engine"):
            run_suitability(study, industry="biomedicine", cell_m=2000, runs=0)


@pytest.mark.parametrize("quantised", [False, True])
def test_monte_carlo_thresholds_are_exact_on_a_large_grid(quantised):
    """Both threshold methods (sample bracket, histogram fallback) against a brute-force
    sort of every run's scores, on a grid larger than the 100,000-cell sample; with
    quantised criteria (many ties) too."""
    from geo.suitability import (
        SuitabilityConfig,
        _block_scores,
        _monte_carlo,
        _thresholds_hist,
    )

    rng = np.random.default_rng(2)
    grid = Grid(M, 0.0, 0.0, 100.0, 500, 300)
    stack = rng.random((4, 300, 500)).astype(np.float32)
    if quantised:
        stack = np.round(stack * 4) / 4
    stack[3, :50] = np.nan  # unknown values: skipped per cell
    eligible = np.ones(grid.shape, bool)
    eligible[100:140, 200:260] = False
    cfg = SuitabilityConfig(seed=4)
    w = perturbed_weights(np.array([0.4, 0.3, 0.2, 0.1]), 30, 0.2, 4)
    n = int(eligible.sum())
    k_top = math.ceil(0.03 * n)
    allx = stack.reshape(4, -1)[:, eligible.ravel()].T
    brute = -np.sort(-aggregate(allx, w), axis=0)[k_top - 1]
    labels = np.zeros(grid.shape, np.int32)
    labels[10:20, 10:20] = 1
    count, thr, reg = _monte_carlo(stack, eligible, grid, cfg, w, k_top, labels, 1,
                                   lambda *a: None)
    assert thr == pytest.approx(brute, abs=0)
    s_all = aggregate(allx, w)
    assert count[eligible].sum() == (s_all >= brute[None, :]).sum()
    assert np.all(count[~eligible] == 0)
    region = stack.reshape(4, -1)[:, labels.ravel() == 1].T
    assert reg[1] == pytest.approx(aggregate(region, w).sum(axis=0), rel=1e-5)
    blocks = list(grid.row_blocks(20_000))

    def scores_of(rows, ww):
        keep = eligible[rows].ravel()
        return _block_scores(stack, rows, keep, ww, cfg)

    hist = _thresholds_hist(scores_of, blocks, w, k_top, lambda: None)
    assert hist == pytest.approx(brute, abs=0)


def test_monte_carlo_falls_back_when_the_bracket_misses(monkeypatch):
    import geo.suitability as su
    import geo.suitability.stability as stability

    rng = np.random.default_rng(3)
    grid = Grid(M, 0.0, 0.0, 100.0, 400, 300)
    stack = rng.random((3, 300, 400)).astype(np.float32)
    eligible = np.ones(grid.shape, bool)
    w = perturbed_weights(np.array([0.5, 0.3, 0.2]), 12, 0.2, 1)
    k_top = math.ceil(0.05 * eligible.sum())
    brute = -np.sort(-aggregate(stack.reshape(3, -1).T, w), axis=0)[k_top - 1]
    real = su._thresholds_bracket
    calls = []

    def half_missed(*a, **kw):
        calls.append(1)
        thr, missed = real(*a, **kw)
        missed = missed.copy()
        missed[::2] = True  # pretend the sample missed every other run
        thr = thr.copy()
        thr[missed] = np.nan
        return thr, missed

    monkeypatch.setattr(stability, "_thresholds_bracket", half_missed)
    _, thr, _ = su._monte_carlo(stack, eligible, grid, su.SuitabilityConfig(), w, k_top,
                                np.zeros(grid.shape, np.int32), 0, lambda *a: None)
    assert calls, "the patched bracket was not used"
    assert thr == pytest.approx(brute, abs=0)


# ----------------------------------------------------------------------------- terrain notes


def _write_dem(path: Path, z: np.ndarray, res: float) -> None:
    lon0, lat0 = 119.96, 31.14
    with rasterio.open(path, "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1,
                       dtype="float32", crs="EPSG:4326", nodata=-32768.0,
                       transform=Affine(res, 0, lon0, 0, -res, lat0 + 0.3)) as dst:
        dst.write(z.astype(np.float32), 1)


def test_an_all_nodata_dem_is_said_in_the_model_card_and_the_console(data_dir):
    _write_dem(data_dir / "dem_nodata.tif", np.full((120, 120), -32768.0), 0.0025)
    study = make_study(data_dir, "dem_nodata", dem="dem_nodata.tif")
    with pytest.warns(UserWarning, match=r"the DEM covers 0% of the study area.*slope \(weight"):
        res = run_suitability(study, runs=0)
    assert any("covers 0%" in w for w in res.model_card["warnings"])


def test_a_dem_much_coarser_than_the_grid_is_said(data_dir):
    _write_dem(data_dir / "dem_coarse.tif", np.full((12, 12), 50.0), 0.025)  # ≈ 2.4 km
    study = make_study(data_dir, "dem_coarse", dem="dem_coarse.tif")
    with pytest.warns(UserWarning, match=r"the DEM's cells \(2,\d{3} m\) are \d× the grid's"):
        run_suitability(study, runs=0)


def test_a_study_without_a_dem_says_slope_is_not_used(data_dir):
    text = (LAYERS.split("[layers.dem]")[0] + SUIT.split("[[suitability.criteria]]\nname = "
            '"slope"')[0]).format(extra="", w_road="weight = 0.6", w_port="weight = 0.4")
    p = data_dir / "nodem.toml"
    p.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(p)
    with pytest.warns(UserWarning, match="no DEM in the study: slope is not scored"):
        res = run_suitability(study, runs=0)
    assert any(w.startswith("no DEM") for w in res.model_card["warnings"])


def test_a_full_dem_at_grid_resolution_gives_no_terrain_note(data_dir):
    res = run_suitability(make_study(data_dir, "dem_ok"), runs=0)
    assert not [w for w in res.model_card["warnings"] if "DEM" in w]
    # the synthetic study has no land-use layer: that is said
    assert any(w.startswith("no land-use layer") for w in res.model_card["warnings"])
