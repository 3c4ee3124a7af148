"""Geodesy, coordinate transforms, point and field helpers shared by the network package."""

from __future__ import annotations

import functools
import math
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod, Transformer

from ..crs import WGS84
from ..errors import NetworkError

Metric = Literal["length", "time"]

GEOD = Geod(ellps="WGS84")

CLASS_FIELDS = ("highway", "class", "fclass", "road_class", "type", "道路等级", "等级", "kind")
MAXSPEED_FIELDS = ("maxspeed", "max_speed", "speed", "speed_kmh", "限速")
ONEWAY_FIELDS = ("oneway", "one_way", "单行")
_TRUE = {"yes", "true", "1", "y", "t", "是", "f"}  # "F" = from→to in some national data
_REVERSE = {"-1", "reverse", "t_f", "tf", "-1.0"}


def geodesic_lengths_m(geoms: Any) -> np.ndarray:
    """Geodesic lengths (metres, WGS84 ellipsoid) of WGS84 (Multi)LineStrings.

    Vectorised: one ``Geod.inv`` call over every segment of every line.

    Parameters
    ----------
    geoms
        Array-like of shapely (Multi)LineStrings in EPSG:4326 lon/lat degrees.

    Returns
    -------
    numpy.ndarray
        float64 lengths in metres, one per geometry (0 for empty ones).
    """
    geoms = np.asarray(geoms, dtype=object)
    parts, pidx = shapely.get_parts(geoms, return_index=True)
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    out = np.zeros(len(geoms))
    if len(coords) < 2:
        return out
    same = cidx[1:] == cidx[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    _, _, d = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    per_part = np.bincount(cidx[1:][same], weights=d, minlength=len(parts))
    return np.bincount(pidx, weights=per_part, minlength=len(geoms))


def geodesic_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Geodesic distance in metres between WGS84 points (arrays broadcast).

    Parameters
    ----------
    lon1, lat1, lon2, lat2
        Scalars or arrays of EPSG:4326 lon/lat degrees, broadcast together.

    Returns
    -------
    numpy.ndarray
        Distances in metres on the WGS84 ellipsoid, of the broadcast shape.
    """
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in
                                                   (lon1, lat1, lon2, lat2)))
    _, _, d = GEOD.inv(lon1.ravel(), lat1.ravel(), lon2.ravel(), lat2.ravel())
    return np.asarray(d).reshape(lon1.shape)


def _pick_field(columns: Any, wanted: str | None, candidates: tuple[str, ...], what: str,
                source: str) -> str | None:
    cols = [str(c) for c in columns]
    if wanted is not None:
        if wanted not in cols:
            raise NetworkError(f"{source}: {what} field {wanted!r} not found; fields: "
                               f"{', '.join(cols)}")
        return wanted
    lower = {c.lower(): c for c in cols}
    for c in candidates:
        if c.lower() in lower:
            return lower[c.lower()]
    return None


def _first(v: Any) -> Any:
    return v[0] if isinstance(v, (list, tuple)) and v else v


def parse_maxspeed(values: Any) -> np.ndarray:
    """Speed limits in km/h from text such as ``"60"``, ``"60 mph"``, ``"60;80"``; NaN if
    none.

    Parameters
    ----------
    values
        A road layer's speed field (numbers, text or lists; the first of a list and
        the first number of a text are used).

    Returns
    -------
    numpy.ndarray
        float64 km/h (mph converted); NaN where missing, ≤ 0 or above 200 km/h.
    """
    s = pd.Series([_first(v) for v in values], dtype=object).astype("string")
    num = pd.to_numeric(s.str.extract(r"(\d+(?:\.\d+)?)", expand=False), errors="coerce")
    mph = s.str.contains("mph", case=False, na=False)
    out = num.to_numpy(dtype=float, na_value=np.nan)
    out[mph.to_numpy()] *= 1.609344
    out[(out <= 0) | (out > 200)] = np.nan
    return out


def parse_oneway(values: Any) -> np.ndarray:
    """+1 one-way along the line, -1 against it, 0 both ways.

    Parameters
    ----------
    values
        A road layer's one-way field (``yes``/``true``/``1``/``是``/``F`` along,
        ``-1``/``reverse``/``TF`` against, anything else both ways).

    Returns
    -------
    numpy.ndarray
        int8 direction per road.
    """
    s = pd.Series([_first(v) for v in values], dtype=object)
    txt = s.map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v))
                else str(v).strip().lower())
    out = np.zeros(len(s), dtype=np.int8)
    out[txt.isin(_TRUE).to_numpy()] = 1
    out[txt.isin(_REVERSE).to_numpy()] = -1
    return out


@functools.lru_cache(maxsize=64)
def _transformer_wkt(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(src), CRS.from_wkt(dst), always_xy=True)


def transformer(src: Any, dst: Any) -> Transformer:
    """A cached always-xy Transformer (building one costs milliseconds).

    Parameters
    ----------
    src, dst
        Source and target CRS (anything :meth:`pyproj.CRS.from_user_input` accepts).

    Returns
    -------
    pyproj.Transformer
        x/lon first, y/lat second, whatever the CRSs' axis order.
    """
    return _transformer_wkt(CRS.from_user_input(src).to_wkt(), CRS.from_user_input(dst).to_wkt())


def _xy(tr: Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = tr.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def _as_points_metric(gdf: gpd.GeoDataFrame, crs: CRS, what: str) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """(metric xy, WGS84 lonlat) of points; polygons give their centroid (metric)."""
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise NetworkError(f"{what}: expected a GeoDataFrame of points")
    if gdf.crs is None:
        raise NetworkError(f"{what}: the points have no CRS; set one (e.g. "
                           "gdf.set_crs('EPSG:4326') or coords = \"wgs84\" in the study file)")
    geoms = np.asarray(gdf.geometry.values)
    bad_mask = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad_mask.any():
        bad = np.flatnonzero(bad_mask)
        ids = gdf["id"].iloc[bad[:5]].tolist() if "id" in gdf else bad[:5].tolist()
        raise NetworkError(f"{what}: {len(bad)} feature(s) have no geometry (e.g. {ids}); "
                           "remove them or give them a location")
    src = gdf.crs
    if len(geoms) and (shapely.get_type_id(geoms) == 0).all():
        c = shapely.get_coordinates(geoms)
        if src.equals(WGS84) if hasattr(src, "equals") else src == WGS84:
            lonlat = c
        else:
            lonlat = _xy(transformer(src, WGS84), c)
        return _xy(transformer(WGS84, crs), lonlat), lonlat
    to_m = transformer(src, crs)
    m = shapely.transform(geoms, lambda c: _xy(to_m, c))
    xy = shapely.get_coordinates(shapely.centroid(m))
    return xy, _xy(transformer(crs, WGS84), xy)


def _ids(gdf: pd.DataFrame, id_field: str | None, what: str) -> np.ndarray:
    col = id_field or ("id" if "id" in gdf.columns else None)
    if col is None:
        raise NetworkError(f"{what}: no id field; name one (e.g. --id-field firm_id); fields: "
                           f"{', '.join(map(str, gdf.columns))}")
    if col not in gdf.columns:
        raise NetworkError(f"{what}: id field {col!r} not found; fields: "
                           f"{', '.join(map(str, gdf.columns))}")
    return gdf[col].astype(str).to_numpy()

