"""Road service areas (100 km reach areas of candidate sites): the fills and the
outlines of their holes as one image, the outer outlines as a light vector layer that
carries the popups.

Drawn as vectors, the bundled study's ten areas were 47k vertices and 3,184 holes (908
kB of the page); every pan and zoom redrew them all, the slowest layer of the map. The
image keeps every hole at its pixel size (``[map] max_image_px`` on the long side); the
vector outlines are simplified at :data:`OUTLINE_FACTOR` × ``[map] simplify_m``.
"""

from __future__ import annotations

import base64

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio.features import rasterize
from rasterio.transform import from_bounds

from ._context import _add_group, _display_geoms, _geojson, _result_frame
from ._i18n import _T, _names
from ._rasters import _image_bounds, _png
from ._style import _PALETTE, _legend_html, _sw_fill
from ._text import _esc, _isnull, _num, _popup

#: The outer outlines are simplified at this many times ``[map] simplify_m`` (500 m by
#: default: a pixel at the zooms that show a 100 km area).
OUTLINE_FACTOR = 20.0
#: Opacity of an area's fill and of its holes' outlines in the image.
FILL_ALPHA = 0.04
HOLE_ALPHA = 0.6


def _reach_image(geoms: np.ndarray, colours: list[str], max_px: int
                 ) -> tuple[np.ndarray, tuple[float, float, float, float], float]:
    """The areas (Web Mercator) painted in order over one another: each fill at
    :data:`FILL_ALPHA` with its holes left clear, each hole outlined at
    :data:`HOLE_ALPHA`. Returns RGBA (h, w, 4) uint8, (west, south, east, north) in Web
    Mercator and the pixel size in Web Mercator metres."""
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    px = max(x1 - x0, y1 - y0) / max_px
    w, h = max(1, int(np.ceil((x1 - x0) / px))), max(1, int(np.ceil((y1 - y0) / px)))
    x1, y0 = x0 + w * px, y1 - h * px
    tf = from_bounds(x0, y0, x1, y1, w, h)
    prem = np.zeros((h, w, 3))  # premultiplied colour, composited "over"
    alpha = np.zeros((h, w))
    for g, colour in zip(geoms, colours, strict=True):
        rgb = np.array([int(colour[k:k + 2], 16) for k in (1, 3, 5)], float)
        fill = rasterize([g], (h, w), transform=tf, dtype="uint8").astype(bool)
        rings, idx = shapely.get_rings(shapely.get_parts(g), return_index=True)
        holes = rings[np.r_[False, idx[1:] == idx[:-1]]]  # all but each polygon's first
        edge = rasterize(list(holes), (h, w), transform=tf, all_touched=True,
                         dtype="uint8").astype(bool) if len(holes) else np.zeros((h, w), bool)
        a = np.where(edge, HOLE_ALPHA, np.where(fill, FILL_ALPHA, 0.0))
        prem = rgb * a[..., None] + prem * (1 - a[..., None])
        alpha = a + alpha * (1 - a)
    rgba = np.zeros((h, w, 4), np.uint8)
    ok = alpha > 0
    rgba[ok, :3] = np.clip(prem[ok] / alpha[ok, None], 0, 255).round()
    rgba[..., 3] = np.clip(alpha * 255, 0, 255).round()
    return rgba, (x0, y0, x1, y1), px


def _outlines(ctx, gdf: gpd.GeoDataFrame) -> np.ndarray:
    """The areas' outer rings as polygons (their holes are in the image), simplified at
    :data:`OUTLINE_FACTOR` × ``[map] simplify_m`` in the display copy."""
    parts = shapely.get_parts(np.asarray(gdf.geometry.values, dtype=object),
                              return_index=True)
    shells = shapely.polygons(shapely.get_exterior_ring(parts[0]))
    outer = shapely.multipolygons(shells, indices=parts[1])
    return _display_geoms(ctx, gdf.set_geometry(gpd.GeoSeries(outer, crs=gdf.crs)),
                          coarse=True, tolerance_m=OUTLINE_FACTOR * ctx.simplify_m)


def _area_rows(ctx, r, counts: list[str]) -> list[tuple[str, str]]:
    """Popup rows of one area: site, radius, metric, road km, firm counts."""
    rows = [(ctx.t("site"), _esc(r.get("site_id"))),
            (ctx.t("radius"), f"{_num(r.get('radius_km'), 0)} km"
             if not _isnull(r.get("radius_km")) else ""),
            (ctx.t("metric"), _esc(r.get("metric"))),
            (ctx.t("road_km"), f"{_num(r.get('road_km'), 0)} km"
             if not _isnull(r.get("road_km")) else "")]
    rows += [(_esc(ctx.t(c) if c in _T else c),
              _num(r.get(c), 0 if float(r.get(c) or 0).is_integer() else 2))
             for c in counts]
    fbi = r.get("firms_by_industry")
    if not _isnull(fbi) and str(fbi).strip():
        pairs = [x.split("=", 1) for x in str(fbi).split(";") if "=" in x]
        shown = [f"{_esc(ctx.ind(k.strip()))} {_esc(v.strip())}" for k, v in pairs[:8]]
        more = f" … (+{len(pairs) - 8})" if len(pairs) > 8 else ""
        rows.append((ctx.t("firms"), "; ".join(shown) + more))
    return rows


def _draw_service_areas(ctx, m, sa: gpd.GeoDataFrame):
    gdf = _result_frame(sa)
    if gdf is None:
        return
    gdf = gdf[~shapely.is_missing(gdf.geometry.values) & ~gdf.geometry.is_empty]
    gdf = gdf.reset_index(drop=True)
    if len(gdf) == 0:
        return
    label = ctx.t("service_areas")
    if len(gdf) > 2 and not ctx.explicit_hidden:
        ctx.hidden.add("service_areas")  # many 100 km areas would blanket the map
    fg = _add_group(ctx, m, "service_areas", label)
    colours = [_PALETTE[i % len(_PALETTE)] for i in range(len(gdf))]
    merc = np.asarray(gdf.to_crs(3857).geometry.values, dtype=object)
    rgba, (x0, y0, x1, y1), px = _reach_image(merc, colours, ctx.max_image_px)
    wgs = gpd.GeoSeries([shapely.Point(x0, y0), shapely.Point(x1, y1)], crs=3857).to_crs(4326)
    bounds = (wgs.y.iloc[0], wgs.x.iloc[0], wgs.y.iloc[1], wgs.x.iloc[1])
    url = "data:image/png;base64," + base64.b64encode(_png(rgba)).decode()
    folium.raster_layers.ImageOverlay(url, _image_bounds(ctx, bounds), opacity=1.0,
                                      pane="ps-raster", interactive=False,
                                      className="ps-reach").add_to(fg)
    known = {"site_id", "name", "radius_km", "metric", "road_km", "geometry", "name_zh",
             "name_en", "id"}
    counts = [c for c in gdf.columns if c not in known and pd.api.types.is_numeric_dtype(gdf[c])]
    names, other = _names(gdf.assign(id=gdf.get("site_id", gdf.index.astype(str))), ctx.lang)
    props, styles, entries = [], [], []
    for i in range(len(gdf)):
        r = gdf.iloc[i]
        tip = _esc(names.iloc[i])
        props.append({"t": tip, "p": _popup(tip, _esc(other.iloc[i]),
                                            _area_rows(ctx, r, counts))})
        styles.append({"color": colours[i], "weight": 2, "dashArray": "5 4", "fill": True,
                       "fillOpacity": 0})  # the fill is in the image; clicks hit the shape
        if i < 12:
            radius = f" · {_num(r.get('radius_km'), 0)} km" if not _isnull(r.get("radius_km")) \
                else ""
            entries.append((_sw_fill(colours[i], colours[i], 0.3, True), tip + radius))
    _geojson(ctx, fg, _outlines(ctx, gdf), props, styles, canvas=True)
    ctx.card_notes.append(ctx.t("reach_note").format(
        px=f"{px * np.cos(np.radians(float(wgs.y.mean()))):.0f}",
        tol=f"{OUTLINE_FACTOR * ctx.simplify_m:g}"))
    ctx.legend.append(("service_areas", fg, _legend_html(_esc(label), entries)))
