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

import warnings
from typing import Literal

import numpy as np
import shapely
from pyproj import CRS

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
    """True where (lon, lat) lies inside the GCJ-02 box (see ``CHINA_BOX``)."""
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
    """Shift WGS84 degrees to GCJ-02 degrees (vectorised; outside China unchanged)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat, *, iterations: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Shift GCJ-02 degrees back to WGS84 degrees (vectorised fixed-point inverse).

    Each iteration divides the error by about 10⁴ (the offset field varies slowly), so
    the default leaves well under a millimetre. Points outside China are unchanged.
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
    """Shapely geometries in GCJ-02 degrees → WGS84 degrees (all vertices, vectorised)."""
    return _transform_geoms(geoms, gcj02_to_wgs84)


def geoms_wgs84_to_gcj02(geoms) -> np.ndarray:
    """Shapely geometries in WGS84 degrees → GCJ-02 degrees, for display on AMap tiles.

    Analysis data is never shifted; only a rendered copy is.
    """
    return _transform_geoms(geoms, wgs84_to_gcj02)


def gk_zone_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3° Gauss-Krüger zone (no zone prefix) containing ``lon``.

    Zones are EPSG:4534 (CM 75°E) … EPSG:4554 (CM 135°E).
    """
    cm = 3 * int(np.floor(lon / 3.0 + 0.5))
    cm = min(max(cm, 75), 135)
    return 4534 + (cm - 75) // 3


def gk_central_meridian(epsg: int) -> int:
    """Central meridian (°E) of a CGCS2000 3° GK zone given by its EPSG code."""
    if not 4534 <= epsg <= 4554:
        raise ValueError(f"EPSG:{epsg} is not a CGCS2000 3° Gauss-Krüger zone (4534–4554)")
    return 75 + 3 * (epsg - 4534)


def metric_crs_for(bounds: tuple[float, float, float, float], *, warn: bool = True,
                   what: str = "the study area") -> CRS:
    """The CGCS2000 3° GK zone for a WGS84 bounding box (minx, miny, maxx, maxy).

    The zone is the one of the box centre. If the box reaches past the zone's edges
    (central meridian ± 1.5°), a :class:`ZoneWarning` names the neighbouring zone:
    distances stay good to about 0.1% a few hundred km out, but areas should be taken
    from :func:`area_crs_for`.
    """
    minx, _, maxx, _ = bounds
    epsg = gk_zone_epsg((minx + maxx) / 2.0)
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
    """
    minx, miny, maxx, maxy = bounds
    lon0 = round((minx + maxx) / 2.0, 4)
    lat0 = round((miny + maxy) / 2.0, 4)
    return CRS.from_proj4(
        f"+proj=laea +lat_0={lat0} +lon_0={lon0} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    )


def geodesic_area_m2(geoms) -> np.ndarray:
    """Geodesic area in m² of WGS84 polygons (pyproj.Geod; a Python loop: for checks only)."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    return np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in geoms], dtype=float)
