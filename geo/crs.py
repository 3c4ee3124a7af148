"""Coordinate systems met in Chinese data, and the metric CRS parksite works in.

* WGS84 (EPSG:4326): what every layer is converted to on load.
* CGCS2000 (EPSG:4490) and its 3° Gauss-Krüger zones (EPSG:4534–4554, central
  meridians 75°E…135°E): the same as WGS84 to within centimetres for mapping.
* GCJ-02 ("Mars coordinates", AMap/Gaode, Tencent, many portals): an obfuscated
  datum with no EPSG code. Offsets are about 100–700 m; AMap tiles need the reverse
  shift of WGS84 overlays. Converted here with the published forward formula and a
  fixed-point inverse (round trip below a centimetre).

Distances and grids use :func:`metric_crs_for` (the CGCS2000 3° GK zone of the study
centroid). Areas use :func:`area_crs_for` (a Lambert azimuthal equal-area projection
centred on the study), which matches ``pyproj.Geod`` areas to far better than 0.1%.
"""

from __future__ import annotations

import functools
import warnings
from typing import Literal

import numpy as np
import shapely
from pyproj import CRS, Geod, Proj, Transformer
from pyproj.exceptions import CRSError, ProjError

from .errors import InputError

Coords = Literal["wgs84", "cgcs2000", "gcj02"]
COORDS: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02")

WGS84 = CRS.from_epsg(4326)
CGCS2000 = CRS.from_epsg(4490)

# Krasovsky 1940 ellipsoid, the constants of the GCJ-02 formula.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323

# The box used by every published GCJ-02 implementation to decide "inside China".
# Points outside it are returned unshifted.
CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)


class ZoneWarning(UserWarning):
    """The study area straddles a Gauss-Krüger zone boundary."""


def in_china(lon, lat) -> np.ndarray:
    """True where (lon, lat) lies inside the GCJ-02 box (see ``CHINA_BOX``).

    Parameters
    ----------
    lon, lat
        Scalars or array-likes of longitude and latitude, EPSG:4326 (or GCJ-02)
        degrees; broadcast together.

    Returns
    -------
    numpy.ndarray
        Boolean array of the broadcast shape.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    w, s, e, n = CHINA_BOX
    return (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84, in degrees, at WGS84 positions (lon, lat)."""
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Shift WGS84 degrees to GCJ-02 degrees (vectorised; outside China unchanged).

    Parameters
    ----------
    lon, lat
        Scalars or array-likes of WGS84 (EPSG:4326) longitude and latitude, degrees.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in GCJ-02 degrees (float arrays); points outside
        :data:`CHINA_BOX` are returned unshifted.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat, *, iterations: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Shift GCJ-02 degrees back to WGS84 degrees (vectorised fixed-point inverse).

    Each iteration divides the error by about 10⁴ (the offset field varies slowly), so
    the default leaves well under a millimetre. Points outside China are unchanged.

    Parameters
    ----------
    lon, lat
        Scalars or array-likes of GCJ-02 longitude and latitude, degrees (AMap data).
    iterations
        Number of fixed-point steps.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in WGS84 (EPSG:4326) degrees.
    """
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(iterations):
        dlon, dlat = _gcj_delta(wlon, wlat)
        wlon = glon - dlon
        wlat = glat - dlat
    return wlon, wlat


def _transform_geoms(geoms, func):
    def _xy(coords: np.ndarray) -> np.ndarray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), _xy)


def geoms_gcj02_to_wgs84(geoms) -> np.ndarray:
    """Shapely geometries in GCJ-02 degrees → WGS84 degrees (all vertices, vectorised).

    Parameters
    ----------
    geoms
        Array-like of shapely geometries with GCJ-02 lon/lat coordinates (degrees).

    Returns
    -------
    numpy.ndarray
        Object array of the same geometries in WGS84 (EPSG:4326) degrees.
    """
    return _transform_geoms(geoms, gcj02_to_wgs84)


def geoms_wgs84_to_gcj02(geoms) -> np.ndarray:
    """Shapely geometries in WGS84 degrees → GCJ-02 degrees, for display on AMap tiles.

    Analysis data is never shifted; only a rendered copy is.

    Parameters
    ----------
    geoms
        Array-like of shapely geometries in WGS84 (EPSG:4326) lon/lat degrees.

    Returns
    -------
    numpy.ndarray
        Object array of the same geometries in GCJ-02 degrees.
    """
    return _transform_geoms(geoms, wgs84_to_gcj02)


def gk_zone_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3° Gauss-Krüger zone (no zone prefix) containing ``lon``.

    Zones are EPSG:4534 (CM 75°E) … EPSG:4554 (CM 135°E).

    Parameters
    ----------
    lon
        Longitude, degrees east (WGS84/CGCS2000). Values outside 75–135°E are clamped
        to the nearest zone.

    Returns
    -------
    int
        An EPSG code in 4534–4554.
    """
    cm = 3 * int(np.floor(lon / 3.0 + 0.5))
    cm = min(max(cm, 75), 135)
    return 4534 + (cm - 75) // 3


def gk_central_meridian(epsg: int) -> int:
    """Central meridian (°E) of a CGCS2000 3° GK zone given by its EPSG code.

    Parameters
    ----------
    epsg
        EPSG code of a 3° zone without prefix, 4534–4554.

    Returns
    -------
    int
        Central meridian, degrees east (75–135).

    Raises
    ------
    ValueError
        ``epsg`` is not in 4534–4554.
    """
    if not 4534 <= epsg <= 4554:
        raise ValueError(f"EPSG:{epsg} is not a CGCS2000 3° Gauss-Krüger zone (4534–4554)")
    return 75 + 3 * (epsg - 4534)


def utm_crs_for(lon: float, lat: float) -> CRS:
    """The WGS84 UTM zone (EPSG:326xx north, 327xx south) containing (lon, lat) degrees.

    Parameters
    ----------
    lon, lat
        A WGS84 (EPSG:4326) position, degrees.

    Returns
    -------
    pyproj.CRS
        The UTM zone's CRS (metres).
    """
    zone = int(np.floor(((lon + 180.0) % 360.0) / 6.0)) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + min(max(zone, 1), 60))


def metric_crs_for(bounds: tuple[float, float, float, float], *, warn: bool = True,
                   what: str = "the study area") -> CRS:
    """The metric CRS for a WGS84 bounding box (minx, miny, maxx, maxy), in metres.

    Inside China (:data:`CHINA_BOX`) the CGCS2000 3° GK zone of the box centre.
    Outside China the WGS84 UTM zone of the centre: never a clamped Chinese zone,
    which 10° out of range makes distances 1–20% wrong.
    If the box reaches past the GK zone's edges (central meridian ± 1.5°), a
    :class:`ZoneWarning` names the neighbouring zone: distances stay good to about
    0.1% a few hundred km out, but areas should be taken from :func:`area_crs_for`.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` in EPSG:4326 lon/lat degrees.
    warn
        Emit the :class:`ZoneWarning` when the box straddles a zone boundary.
    what
        How the warning names the area.

    Returns
    -------
    pyproj.CRS
        EPSG:4534–4554 inside China, else a WGS84 UTM zone; units metres.
    """
    minx, miny, maxx, maxy = bounds
    clon, clat = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    if not bool(in_china(clon, clat)):
        return utm_crs_for(clon, clat)
    epsg = gk_zone_epsg(clon)
    cm = gk_central_meridian(epsg)
    if warn and (minx < cm - 1.5 or maxx > cm + 1.5):
        side = []
        if minx < cm - 1.5:
            side.append(f"west of {cm - 1.5:g}°E (zone EPSG:{epsg - 1}, CM {cm - 3}°E)")
        if maxx > cm + 1.5:
            side.append(f"east of {cm + 1.5:g}°E (zone EPSG:{epsg + 1}, CM {cm + 3}°E)")
        warnings.warn(
            f"{what} straddles a Gauss-Krüger zone boundary: it is centred in EPSG:{epsg} "
            f"(CM {cm}°E) but reaches {' and '.join(side)}. parksite keeps EPSG:{epsg} for "
            "distances and grids and uses an equal-area projection for areas.",
            ZoneWarning,
            stacklevel=2,
        )
    return CRS.from_epsg(epsg)


def area_crs_for(bounds: tuple[float, float, float, float]) -> CRS:
    """A Lambert azimuthal equal-area CRS centred on a WGS84 bounding box.

    Equal-area on the WGS84 ellipsoid: polygon areas agree with ``pyproj.Geod``
    geodesic areas to within 1e-6 relative for regions of a few hundred km, and
    distances within 300 km of the centre are off by less than 0.1%.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` in EPSG:4326 lon/lat degrees.

    Returns
    -------
    pyproj.CRS
        A LAEA CRS in metres (centre rounded to 1e-4°, so equal boxes give equal CRSs).
    """
    minx, miny, maxx, maxy = bounds
    lon0 = round((minx + maxx) / 2.0, 4)
    lat0 = round((miny + maxy) / 2.0, 4)
    return CRS.from_proj4(
        f"+proj=laea +lat_0={lat0} +lon_0={lon0} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    )


def geodesic_area_m2(geoms) -> np.ndarray:
    """Geodesic area in m² of WGS84 polygons (pyproj.Geod; a Python loop: for checks only).

    Parameters
    ----------
    geoms
        Iterable of shapely polygons in EPSG:4326 lon/lat degrees.

    Returns
    -------
    numpy.ndarray
        Float array of areas, m² on the WGS84 ellipsoid.
    """
    geod = Geod(ellps="WGS84")
    return np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in geoms], dtype=float)


# --------------------------------------------------------------------------------------
# Densifying before projecting
# --------------------------------------------------------------------------------------

#: Longest edge kept when densifying geometries stored in degrees (≈ 280 m).
DENSIFY_DEG = 0.0025
#: Longest edge kept when densifying geometries stored in projected metres.
DENSIFY_M = 250.0


def densify(geoms, crs: CRS | None) -> np.ndarray:
    """Add vertices so that no edge is longer than :data:`DENSIFY_DEG` (degrees) or
    :data:`DENSIFY_M` (metres), in the geometries' own CRS, before they are projected.

    A projection maps vertices, not edges: a 12 km edge stored in lon/lat becomes one
    straight chord in the target CRS, while the edge it stands for (straight in the
    source CRS) is curved there, by up to 1.7 m at 31°N. The chord of an edge of length
    s departs from the true edge by at most s²·κ/8, where κ, the curvature of a
    source-CRS line in the target (Gauss-Krüger, UTM or the study's equal-area CRS), is
    below about tan(φ)/R ≤ 2.7e-7 /m at |φ| ≤ 60°. With s ≤ 280 m the bound is 2.6 mm:
    the area of a 5 m sliver along a 12 km edge is then off by at most 0.035%, and a
    park 0.25 m outside a zone cannot be drawn into it.

    Parameters
    ----------
    geoms
        Array of shapely geometries (points pass through unchanged).
    crs
        Their CRS; geographic → the degree tolerance, projected → the metre one.

    Returns
    -------
    numpy.ndarray
        Densified geometries (object array), same CRS.
    """
    arr = np.asarray(geoms, dtype=object)
    if crs is None or not len(arr):
        return arr
    tol = DENSIFY_DEG if CRS.from_user_input(crs).is_geographic else DENSIFY_M
    return shapely.segmentize(arr, tol)


# --------------------------------------------------------------------------------------
# Is a layer where it can be?
# --------------------------------------------------------------------------------------

#: CGCS2000 Gauss-Krüger EPSG codes: code → (central meridian °E, zone width °, prefix).
#: 4491–4501 6° zones 13–23 with the zone number prefixed to the easting; 4502–4512 the
#: same without prefix; 4513–4533 3° zones 25–45 with prefix; 4534–4554 without.
GK_CODES: dict[int, tuple[int, int, bool]] = {
    **{4491 + i: (75 + 6 * i, 6, True) for i in range(11)},
    **{4502 + i: (75 + 6 * i, 6, False) for i in range(11)},
    **{4513 + i: (75 + 3 * i, 3, True) for i in range(21)},
    **{4534 + i: (75 + 3 * i, 3, False) for i in range(21)},
}
_CHINESE_DATUMS = ("CGCS2000", "Beijing 1954", "Xian 1980", "New Beijing")


def is_chinese_crs(crs: CRS | str | int | None) -> bool:
    """True for CGCS2000 (EPSG:4490), its Gauss-Krüger zones (EPSG:4491–4554) and the
    older Beijing 1954 / Xian 1980 systems: coordinates in them must lie in China.

    Parameters
    ----------
    crs
        Anything :meth:`pyproj.CRS.from_user_input` accepts, or None.

    Returns
    -------
    bool
        False for None.
    """
    if crs is None:
        return False
    c = CRS.from_user_input(crs)
    epsg = c.to_epsg() or 0
    return epsg == 4490 or epsg in GK_CODES or any(d in c.name for d in _CHINESE_DATUMS)


def gk_false_easting(epsg: int) -> float:
    """False easting (m) of a CGCS2000 GK code: 500 000, plus zone × 10⁶ with prefix.

    Parameters
    ----------
    epsg
        A key of :data:`GK_CODES` (EPSG:4491–4554).

    Returns
    -------
    float
        False easting, metres.
    """
    cm, width, prefix = GK_CODES[epsg]
    zone = cm // 3 if width == 3 else (cm + 3) // 6
    return 500_000.0 + (zone * 1_000_000.0 if prefix else 0.0)


@functools.lru_cache(maxsize=256)
def _to_wgs84(crs_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(crs_wkt), WGS84, always_xy=True)


def extent_wgs84(bounds, crs: CRS | str | int) -> tuple[float, float, float, float] | None:
    """A (minx, miny, maxx, maxy) box in ``crs`` as a WGS84 degree box, or None when
    it does not transform to finite degrees (far outside the CRS's domain).

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` in the units of ``crs``.
    crs
        The CRS of ``bounds`` (anything :meth:`pyproj.CRS.from_user_input` accepts).

    Returns
    -------
    tuple of float or None
        ``(minx, miny, maxx, maxy)`` in EPSG:4326 degrees (edges densified with 11
        points), or None when the box cannot be transformed.
    """
    c = CRS.from_user_input(crs)
    if c.equals(WGS84):
        out = tuple(float(v) for v in bounds)
    else:
        try:
            x0, y0, x1, y1 = (float(v) for v in bounds)
            out = _to_wgs84(c.to_wkt()).transform_bounds(x0, y0, x1, y1, densify_pts=11)
        except (ProjError, CRSError, ValueError):
            return None
    if not np.all(np.isfinite(out)) or abs(out[1]) > 90 or abs(out[3]) > 90:
        return None
    return tuple(float(v) for v in out)  # type: ignore[return-value]


def box_inside(box, target) -> bool:
    """True when box (minx, miny, maxx, maxy) lies inside ``target``.

    Parameters
    ----------
    box, target
        ``(minx, miny, maxx, maxy)`` boxes in the same CRS (any units).

    Returns
    -------
    bool
    """
    return box[0] >= target[0] and box[1] >= target[1] and box[2] <= target[2] \
        and box[3] <= target[3]


def boxes_intersect(a, b) -> bool:
    """True when two (minx, miny, maxx, maxy) boxes overlap or touch.

    Parameters
    ----------
    a, b
        ``(minx, miny, maxx, maxy)`` boxes in the same CRS (any units).

    Returns
    -------
    bool
    """
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def fitting_crs(bounds, *, target=None, exclude: CRS | None = None) -> list[str]:
    """The declarations under which raw coordinates ``bounds`` land where they should.

    Tries the CGCS2000 Gauss-Krüger codes (3°/6°, with and without the zone prefix),
    WGS84 degrees, the same with the axes swapped, and EPSG:3857. A candidate fits when
    the transformed box lies inside China and, if given, intersects ``target`` (a WGS84
    box, e.g. the study's extent).

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` of a layer's raw coordinates, in whatever units
        the file holds (degrees or metres).
    target
        Optional EPSG:4326 degree box the layer should intersect.
    exclude
        The CRS the layer declared (already known not to fit); skipped.

    Returns
    -------
    list of str
        Fixes as study-file settings, best first, e.g. ``['crs = "EPSG:4549"']``;
        ``[]`` when nothing fits.
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    want = CHINA_BOX

    def good(box) -> bool:
        return box is not None and box_inside(box, want) and (
            target is None or boxes_intersect(box, target))

    out: list[str] = []
    if good(extent_wgs84((minx, miny, maxx, maxy), WGS84)):
        out.append('crs = "EPSG:4326" (or coords = "wgs84"/"gcj02")')
    if good(extent_wgs84((miny, minx, maxy, maxx), WGS84)):
        out.append("swap the x/y (lon/lat) axes")
    plausible_gk = 1e5 <= minx and maxx <= 46e6 and 1e5 <= miny and maxy <= 6.2e6
    declared = exclude.to_epsg() if exclude is not None else None
    ranked: list[tuple[tuple, str]] = []
    for code in GK_CODES if plausible_gk else ():
        fe = gk_false_easting(code)
        if code == declared or abs(minx - fe) > 1e6 or abs(maxx - fe) > 1e6:
            continue
        box = extent_wgs84((minx, miny, maxx, maxy), CRS.from_epsg(code))
        if box is None or not good(box):
            continue
        cm, width, _ = GK_CODES[code]
        use = CRS.from_epsg(code).area_of_use
        if use is None:  # pragma: no cover - every GK zone has one
            continue
        w, s_, e, n = use.bounds
        in_use = box[0] >= w - 0.5 and box[2] <= e + 0.5 and box[1] >= s_ - 0.5 and \
            box[3] <= n + 0.5
        same_cm = declared in GK_CODES and GK_CODES[declared][0] == cm
        # Best first: the declared zone's meridian (a prefix mix-up), inside the zone's
        # area of use, 3° zones (the usual ones for planning data), then by meridian.
        ranked.append(((not same_cm, not in_use, width != 3, cm),
                       f'crs = "EPSG:{code}" ({CRS.from_epsg(code).name})'))
    out += [text for _, text in sorted(ranked)]
    if (exclude is None or exclude.to_epsg() != 3857) and good(
            extent_wgs84((minx, miny, maxx, maxy), CRS.from_epsg(3857))):
        out.append('crs = "EPSG:3857" (web mercator)')
    return out


def bbox_gap_m(a, b) -> float:
    """Shortest distance in metres between two WGS84 boxes (0 when they intersect),
    measured geodesically between their nearest edges' clamped points.

    Parameters
    ----------
    a, b
        ``(minx, miny, maxx, maxy)`` boxes in EPSG:4326 lon/lat degrees.

    Returns
    -------
    float
        Geodesic gap on the WGS84 ellipsoid, metres.
    """
    if boxes_intersect(a, b):
        return 0.0
    lon1 = min(max(b[0], a[0]), a[2])
    lat1 = min(max(b[1], a[1]), a[3])
    lon2 = min(max(lon1, b[0]), b[2])
    lat2 = min(max(lat1, b[1]), b[3])
    return float(Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2])


# --------------------------------------------------------------------------------------
# Is a declared metric CRS fit for the study?
# --------------------------------------------------------------------------------------

#: Largest scale error (|k − 1|) of a metric CRS over the study that is accepted;
#: above :data:`SCALE_WARN` it is accepted with a warning.
SCALE_REFUSE = 2e-3
SCALE_WARN = 1e-3


def scale_error(crs: CRS, bounds) -> float:
    """Largest |k − 1| of ``crs`` (meridian and parallel scale) over a WGS84 box,
    sampled on a 5 × 5 grid; ``inf`` where the CRS cannot represent the box.

    Parameters
    ----------
    crs
        The projected CRS to judge.
    bounds
        ``(minx, miny, maxx, maxy)`` in EPSG:4326 lon/lat degrees.

    Returns
    -------
    float
        Dimensionless scale error (1e-3 = 0.1% distance error), or ``inf``.
    """
    lon, lat = np.meshgrid(np.linspace(bounds[0], bounds[2], 5),
                           np.linspace(bounds[1], bounds[3], 5))
    try:
        f = Proj(crs).get_factors(lon.ravel(), lat.ravel())
    except (ProjError, CRSError, RuntimeError):
        return float("inf")
    k = np.r_[np.asarray(f.meridional_scale), np.asarray(f.parallel_scale)]
    return float(np.max(np.abs(k - 1.0))) if np.all(np.isfinite(k)) else float("inf")


def check_metric_crs(crs: CRS | str | int, bounds, *, what: str = "the study") -> CRS:
    """Refuse (or warn about) a declared metric CRS that distorts the study's distances.

    Parameters
    ----------
    crs
        The declared CRS (``[study] crs``).
    bounds
        The study's WGS84 box (minx, miny, maxx, maxy), degrees.
    what
        How messages name the study.

    Returns
    -------
    pyproj.CRS
        ``crs``, when its scale error over the study is at most :data:`SCALE_REFUSE`
        (a :class:`ZoneWarning` above :data:`SCALE_WARN`).

    Raises
    ------
    InputError
        Geographic CRS, scale error above 0.2% (EPSG:3857, a GK zone 7° away), or a
        Chinese CRS for a study outside China; the message names the right CRS.
    """
    c = CRS.from_user_input(crs)
    right = metric_crs_for(bounds, warn=False)
    fix = f'set crs = "EPSG:{right.to_epsg()}" ({right.name}) in the study table, or remove crs'
    name = f"{c.to_string()} ({c.name})"
    if c.is_geographic:
        raise InputError(f"{what}: crs {name} is in degrees, not metres; {fix}")
    clon, clat = (bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0
    if is_chinese_crs(c) and not bool(in_china(clon, clat)):
        raise InputError(f"{what}: crs {name} is a Chinese system but the study lies outside "
                         f"China (centre {clon:.3f}°E, {clat:.3f}°N); {fix}")
    k = scale_error(c, bounds)
    if k > SCALE_REFUSE:
        raise InputError(f"{what}: crs {name} distorts distances over the study by up to "
                         f"{100 * k:.2g}% (scale error; at most {100 * SCALE_REFUSE:g}% is "
                         f"accepted); {fix}")
    if k > SCALE_WARN:
        better = f"EPSG:{right.to_epsg()} ({right.name}) fits it better" if \
            not right.equals(c) else "the study is wide for one 3° zone (no zone fits " \
            "better; split it for distances better than 0.1%)"
        warnings.warn(f"{what}: crs {name} distorts distances by up to {100 * k:.2g}% over "
                      f"the study; {better}", ZoneWarning, stacklevel=2)
    return c
