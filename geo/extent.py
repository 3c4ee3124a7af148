"""Is a layer where it can be? Checks of coordinates against their declared CRS, China,
the study area and the other layer of a comparison.

The red-line gate must never pass what it cannot judge because a layer is misplaced:
Gauss-Krüger metres labelled EPSG:3857 land in the Atlantic, a zone prefix present in
the eastings but not in the declared EPSG code does not convert at all, axes swapped
put Suzhou in Central Asia. Each check raises :class:`geo.errors.LayerError` naming the
layer, its extent in degrees, the likely cause and the fix
(:func:`geo.crs.fitting_crs` finds the declarations that would put it in place).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .crs import (
    CHINA_BOX,
    GK_CODES,
    WGS84,
    bbox_gap_m,
    box_inside,
    boxes_intersect,
    extent_wgs84,
    fitting_crs,
    is_chinese_crs,
)
from .errors import LayerError

# --------------------------------------------------------------------------------------

_GCJ_HINTS = ("gcj", "amap", "gaode", "高德", "火星", "mars_")


def _box(b) -> str:
    return f"lon {b[0]:.4f}…{b[2]:.4f}°, lat {b[1]:.4f}…{b[3]:.4f}°"


def check_finite(gdf: gpd.GeoDataFrame, src: str) -> None:
    """Raise :class:`LayerError` naming the features with NaN or infinite coordinates.

    Parameters
    ----------
    gdf
        Any GeoDataFrame with an ``id`` column (any CRS).
    src
        How the message names the layer (file and layer).

    Raises
    ------
    LayerError
        Listing up to five feature ids (and row numbers) and the fix.
    """
    xy, row = shapely.get_coordinates(gdf.geometry.values, return_index=True)
    bad = ~np.isfinite(xy).all(axis=1)
    if not bad.any():
        return
    rows = np.unique(row[bad])
    ids = gdf["id"].to_numpy()[rows] if "id" in gdf else rows + 1
    shown = ", ".join(f"id={i} (row {r + 1})" for i, r in zip(ids[:5], rows[:5], strict=True))
    raise LayerError(f"{src}: {len(rows)} feature(s) have NaN or infinite coordinates "
                     f"({shown}{' …' if len(rows) > 5 else ''}); fix or delete them (QGIS: "
                     "Vertex Editor) and export the layer again")


def check_gcj_hint(gdf: gpd.GeoDataFrame, path: Path, src: str, *, declared: bool) -> None:
    """Refuse a layer whose file or field names say AMap/GCJ-02 but whose datum is not
    declared: read as WGS84 it would be 100–700 m off, and the gate would judge the
    wrong place.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer as read from the file, in its own CRS (only its column names are
        looked at).
    path : Path
        The layer's file; its stem is checked for the hints as well.
    src : str
        How the message names the layer (key and file).
    declared : bool
        The study or command line declares the layer's datum (``coords`` or ``crs``);
        then nothing is checked.

    Raises
    ------
    LayerError
        If the file stem or a column name contains an AMap/Gaode/GCJ-02 hint and no
        datum is declared; the message says to set ``coords = "gcj02"`` (or ``"wgs84"``).
    """
    if declared:
        return
    names = [path.stem.lower(), *(str(c).lower() for c in gdf.columns)]
    hint = next((n for n in names if any(h in n for h in _GCJ_HINTS)), None)
    if hint is not None:
        raise LayerError(f"{src}: {hint!r} suggests AMap/Gaode (GCJ-02) coordinates, which "
                         "are 100–700 m off WGS84, but the layer declares no datum. Declare it: "
                         "coords = \"gcj02\" (or coords = \"wgs84\" if it is not GCJ-02; "
                         "--parks-coords/--zones-coords on the command line)")


def _cause(bounds, crs: CRS, target) -> str:
    """The likely cause and the fix, from the settings under which the raw ``bounds``
    would land inside China (and the study)."""
    fits = fitting_crs(bounds, target=target, exclude=crs)
    epsg = crs.to_epsg() or 0
    if not fits:
        return ("no CGCS2000 Gauss-Krüger zone, WGS84 or swapped axes puts it there: check "
                "the file's CRS (QGIS: Layer Properties ▸ Source) and declare it with crs = "
                "\"EPSG:…\"")
    first = fits[0]
    if first.startswith("swap"):
        why = "the x/y (lon/lat) axes look swapped"
    elif epsg == 3857 and "Gauss" in first:
        why = "Gauss-Krüger metres labelled EPSG:3857"
    elif epsg in GK_CODES and "Gauss" in first:
        code = int(first.split("EPSG:")[1].split('"')[0])
        why = ("the zone prefix is present in the eastings but the declared zone has none"
               if GK_CODES[code][2] and not GK_CODES[epsg][2] else
               "the declared zone has a zone prefix but the eastings have none"
               if GK_CODES[epsg][2] and not GK_CODES[code][2] else
               "a different Gauss-Krüger zone")
    elif "4326" in first:
        why = "degrees labelled with a projected CRS"
    else:
        why = "a wrong CRS"
    more = f" (or {'; '.join(fits[1:4])}{' …' if len(fits) > 4 else ''})" if len(fits) > 1 else ""
    many = sum("Gauss" in f for f in fits) > 1
    note = (" — eastings without a zone prefix fit several zones: pick the one whose central "
            "meridian is your data's") if many else ""
    return f"likely cause: {why}; fix: {first}{more} for this layer{note}"


def check_source_extent(bounds, crs: CRS, src: str, *, chinese: bool = False) -> None:
    """Refuse raw coordinates that cannot be right for their declared CRS.

    Parameters
    ----------
    bounds
        The layer's raw (minx, miny, maxx, maxy) in ``crs`` units.
    crs
        The declared CRS.
    src
        How messages name the layer.
    chinese
        The layer is declared GCJ-02 or CGCS2000 (it must lie in China).

    Raises
    ------
    LayerError
        The extent does not transform to degrees (e.g. a zone-prefix mix-up), lies far
        outside the CRS's area of use, or outside China for a Chinese CRS; the message
        gives the extent in degrees, the likely cause and the fix.
    """
    box = extent_wgs84(bounds, crs)
    raw = f"x {bounds[0]:,.0f}…{bounds[2]:,.0f}, y {bounds[1]:,.0f}…{bounds[3]:,.0f}"
    name = f"{crs.to_string()} ({crs.name})"
    if box is None:
        raise LayerError(f"{src}: coordinates {raw} do not convert to degrees in {name}: "
                         f"they are outside that CRS's domain; {_cause(bounds, crs, None)}")
    if (chinese or is_chinese_crs(crs)) and not box_inside(box, CHINA_BOX):
        raise LayerError(f"{src}: extent {_box(box)} lies outside China, but the layer is "
                         f"declared in a Chinese CRS ({name}); {_cause(bounds, crs, None)}")
    aou = crs.area_of_use
    if aou is not None:
        w, s, e, n = aou.bounds
        grown = (w - 10.0, s - 10.0, e + 10.0, n + 10.0)
        if not boxes_intersect(box, grown):
            raise LayerError(f"{src}: extent {_box(box)} is far outside the area {name} is "
                             f"made for ({aou.name}); {_cause(bounds, crs, None)}")


def _layer_facts(gdf: gpd.GeoDataFrame) -> tuple[str, tuple, CRS]:
    label = str(gdf.attrs.get("label") or gdf.attrs.get("source_path") or "layer")
    if gdf.attrs.get("source_layer"):
        label = f"{label} (layer {gdf.attrs['source_layer']})"
    raw = gdf.attrs.get("source_bounds") or tuple(gdf.total_bounds)
    src = gdf.attrs.get("source_crs")
    crs = WGS84 if src in (None, "GCJ-02") else CRS.from_user_input(src)
    return label, tuple(float(v) for v in raw), crs


def check_layer_extent(gdf: gpd.GeoDataFrame, study_bounds, *, china: bool = True,
                       near_m: float = 0.0) -> None:
    """Refuse a layer (from :func:`read_layer`) that does not reach the study area.

    Parameters
    ----------
    gdf
        A layer in WGS84 as :func:`read_layer` returns it (its ``attrs`` name it).
    study_bounds
        The study's WGS84 box (minx, miny, maxx, maxy), degrees.
    china
        The study is in China: the fix suggestions must land there too.
    near_m
        A layer whose box lies within this distance (m) of the study's box is accepted:
        context layers (the roads and ports of the transport circle around a small
        county) may lie just outside the area, while a CRS mistake moves a layer
        hundreds of km or more. 0 (the default) = the boxes must intersect.

    Raises
    ------
    LayerError
        Naming the layer (key and file), its extent in degrees, the likely cause (wrong
        CRS, swapped axes, zone prefix) and the fix.
    """
    box = tuple(float(v) for v in gdf.total_bounds)
    if boxes_intersect(box, study_bounds):
        return
    gap_m = bbox_gap_m(box, study_bounds)
    if gap_m <= near_m:
        return
    label, raw, crs = _layer_facts(gdf)
    gap = gap_m / 1000.0
    cause = _cause(raw, crs, study_bounds) if china else "check the layer's CRS"
    raise LayerError(f"{label}: extent {_box(box)} does not reach the study area "
                     f"({_box(study_bounds)}; {gap:,.0f} km away) in the declared CRS "
                     f"{crs.to_string()}; {cause}")


def _is_chinese_layer(g: gpd.GeoDataFrame) -> bool:
    src = g.attrs.get("source_crs")
    return src == "GCJ-02" or (src is not None and is_chinese_crs(src))


def _has_cjk(values) -> bool:
    return bool(pd.Series(values, dtype=str).str.contains(r"[\u4e00-\u9fff]").any())


def check_pair_extent(parks: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *,
                      max_gap_m: float = 100_000.0) -> None:
    """Refuse two layers that cannot belong to one study (``parksite redlines A B``).

    Parameters
    ----------
    parks, zones
        Layers from :func:`read_layer` (WGS84).
    max_gap_m
        Largest accepted distance in metres between the two layers' extents (or the
        larger extent's diagonal, if that is larger).

    Raises
    ------
    LayerError
        The parks lie far from the zones, or outside China while either layer is in a
        Chinese CRS or the zones have Chinese names; with extents, cause and fix.
    """
    pb = tuple(float(v) for v in parks.total_bounds)
    zb = tuple(float(v) for v in zones.total_bounds)
    chinese = any(_is_chinese_layer(g) for g in (parks, zones)) or (
        "name" in zones and _has_cjk(zones["name"]))
    for g, b in ((parks, pb), (zones, zb)):
        if chinese and not box_inside(b, CHINA_BOX):
            label, raw, crs = _layer_facts(g)
            other = zb if g is parks else pb
            target = other if box_inside(other, CHINA_BOX) else None
            raise LayerError(f"{label}: extent {_box(b)} lies outside China, but the layers are "
                             "Chinese (a Chinese CRS or Chinese zone names); "
                             f"{_cause(raw, crs, target)}")
    gap = bbox_gap_m(pb, zb)
    diag = max(bbox_gap_m((b[0], b[1], b[0], b[1]), (b[2], b[3], b[2], b[3])) for b in (pb, zb))
    if gap > max(max_gap_m, diag):
        label, raw, crs = _layer_facts(parks)
        raise LayerError(f"{label}: the parks (extent {_box(pb)}) lie {gap / 1000:,.0f} km from "
                         f"the red-line layer (extent {_box(zb)}): they cannot be judged against "
                         f"it. {_cause(raw, crs, zb)[0].upper()}{_cause(raw, crs, zb)[1:]}")
