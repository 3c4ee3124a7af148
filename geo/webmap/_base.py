"""Study layers drawn as the vector basemap: boundary, districts, water, roads, rail,
ports and any other vector role.
"""

from __future__ import annotations

import numpy as np
import shapely

from ._context import _add_group, _chunk_lines, _Ctx, _display_geoms, _geojson, _layer
from ._i18n import _label, _names
from ._style import _legend_html, _sw_fill, _sw_line, _sw_point
from ._text import _esc, _isnull, _popup, _truthy


def _base_polygons(ctx: _Ctx, m, spec, gdf, *, style: dict, legend_sw: str, tooltip: bool,
                   coarse: bool = False):
    fg, geoms, names, other = _layer(ctx, m, spec.key, _label(spec, ctx.lang), gdf,
                                     coarse=coarse)
    label = _label(spec, ctx.lang)
    props = []
    ids = gdf["id"].astype(str) if "id" in gdf else [""] * len(gdf)
    for n, o, i in zip(names, other, ids, strict=True):
        tip = _esc(n) + (f" · {_esc(o)}" if o else "")
        props.append({"t": tip, "n": _esc(n), "q": _esc(f"{n} {o} {i}")}
                     if (tooltip and tip) else {})
    _geojson(ctx, fg, geoms, props, [style] * len(gdf), pane="ps-base", interactive=tooltip,
             canvas=True)
    ctx.legend.append((spec.key, fg, _legend_html(_esc(label), [(legend_sw, _esc(label))])))


def _draw_boundary(ctx, m, spec, gdf):
    fill = not ctx.has_tiles
    style = {"color": "#252525", "weight": 2, "fill": fill, "fillColor": "#fbf8ef",
             "fillOpacity": 1.0 if fill else 0}
    _base_polygons(ctx, m, spec, gdf, style=style, tooltip=False,
                   legend_sw=_sw_fill("#fbf8ef" if fill else "transparent", "#252525", 1))


def _draw_boundaries(ctx, m, spec, gdf):
    style = {"color": "#8c8c8c", "weight": 0.8, "fill": True, "fillColor": "#ffffff",
             "fillOpacity": 0.0}
    _base_polygons(ctx, m, spec, gdf, style=style, tooltip=True, coarse=True,
                   legend_sw=_sw_fill("transparent", "#8c8c8c", 1))


def _draw_water(ctx, m, spec, gdf):
    label = _label(spec, ctx.lang)
    fg, geoms, names, other = _layer(ctx, m, spec.key, label, gdf, coarse=True)
    lines = np.isin(shapely.get_type_id(np.asarray(gdf.geometry.values)), (1, 2, 5))
    props = [{"t": _esc(n) + (f" · {_esc(o)}" if o else "")} if n else {}
             for n, o in zip(names, other, strict=True)]
    poly_style = {"color": "#6baed6", "weight": 0.8, "fillColor": "#b3d4ec",
                  "fillOpacity": 0.85 if not ctx.has_tiles else 0.5}
    line_style = {"color": "#4a90c8", "weight": 1.6, "fill": False}
    styles = [line_style if ln else poly_style for ln in lines]
    _geojson(ctx, fg, geoms, props, styles, pane="ps-base", canvas=True)
    entries = []
    if (~lines).any():
        entries.append((_sw_fill("#b3d4ec", "#6baed6", 1), _esc(label)))
    if lines.any():
        entries.append((_sw_line("#4a90c8", 2), _esc(label)))
    ctx.legend.append((spec.key, fg, _legend_html(_esc(label), entries)))


def _draw_lines(ctx, m, spec, gdf, *, colour: str, weight: float, dash: str | None):
    """Roads or railways on a canvas (one renderer for the dense line layers). Thousands
    of unnamed 2-point edges are merged into their longest runs and drawn as one
    feature each (not one 44k-vertex feature): the canvas redraws only what is in view
    and Leaflet simplifies each run per zoom (``smoothFactor``)."""
    label = _label(spec, ctx.lang)
    fg = _add_group(ctx, m, spec.key, label)
    many = len(gdf) > 2000 or "name" not in gdf or gdf["name"].isna().all()
    style = {"color": colour, "weight": weight, "opacity": 0.6, "fill": False}
    if dash:
        style["dashArray"] = dash
    if many:
        geoms = _chunk_lines(_display_geoms(ctx, gdf, merge_lines=True, coarse=True))
        _geojson(ctx, fg, geoms, [{} for _ in geoms], [style] * len(geoms), pane="ps-base",
                 interactive=False, canvas=True)
    else:
        geoms = _display_geoms(ctx, gdf, coarse=True)
        names, other = _names(gdf, ctx.lang)
        props = [{"t": _esc(n)} if n else {} for n in names]
        _geojson(ctx, fg, geoms, props, [style] * len(gdf), pane="ps-base", canvas=True)
    ctx.legend.append((spec.key, fg, _legend_html(
        _esc(label), [(_sw_line(colour, weight, bool(dash)), _esc(label))])))


def _draw_ports(ctx, m, spec, gdf):
    label = _label(spec, ctx.lang)
    fg, geoms, names, other = _layer(ctx, m, spec.key, label, gdf, simplify=False)
    props = []
    for i, (n, o) in enumerate(zip(names, other, strict=True)):
        row = gdf.iloc[i]
        rows = [(ctx.t("id"), _esc(row.get("id")))]
        if "note" in gdf and not _isnull(row.get("note")):
            rows.append((ctx.t("note"), _esc(row["note"])))
        props.append({"t": _esc(n), "p": _popup(_esc(n), _esc(o), rows)})
    style = {"color": "#ffffff", "weight": 1, "fillColor": "#08306b", "fillOpacity": 0.95}
    _geojson(ctx, fg, geoms, props, [style] * len(gdf), pane="ps-points", point_radius=4.5)
    ctx.legend.append((spec.key, fg, _legend_html(_esc(label),
                                                  [(_sw_point("#08306b"), _esc(label))])))


_GENERIC_COLOUR = {"universities": "#6a51a3", "amenities": "#238b45", "residential": "#cc4c02",
                   "sites": "#0570b0", "plots": "#525252"}


def _draw_generic(ctx, m, spec, gdf):
    """Any other vector role (universities, amenities, residential, sites, plots)."""
    label = _label(spec, ctx.lang)
    fg = _add_group(ctx, m, spec.key, label)
    colour = _GENERIC_COLOUR.get(spec.role, "#737373")
    points = np.isin(shapely.get_type_id(np.asarray(gdf.geometry.values)), (0, 4))
    names, other = _names(gdf, ctx.lang)
    shown = [c for c in ("kind", "class", "city", "district", "address") if c in gdf]
    props = []
    for i in range(len(gdf)):
        row = gdf.iloc[i]
        rows = [(ctx.t("id"), _esc(row.get("id")))]
        rows += [(_esc(ctx.t(f"col_{c}")), _esc(row.get(c))) for c in shown
                 if not _isnull(row.get(c))]
        notes = []
        if _truthy(row.get("approximate", False)):
            notes.append(_esc(ctx.t("approximate")))
        if _truthy(row.get("synthetic", False)) or spec.options.get("synthetic"):
            notes.append(_esc(ctx.t("synthetic")))
        props.append({"t": _esc(names.iloc[i]),
                      "p": _popup(_esc(names.iloc[i]), _esc(other.iloc[i]), rows, notes)})
    entries = []
    if points.any():
        idx = np.flatnonzero(points)
        sub = gdf.iloc[idx]
        style = {"color": "#ffffff", "weight": 1, "fillColor": colour, "fillOpacity": 0.95}
        _geojson(ctx, fg, _display_geoms(ctx, sub, simplify=False), [props[i] for i in idx],
                 [style] * len(idx), pane="ps-points", point_radius=4.5)
        entries.append((_sw_point(colour), _esc(label)))
    if (~points).any():
        idx = np.flatnonzero(~points)
        sub = gdf.iloc[idx]
        style = {"color": colour, "weight": 1.5, "fillColor": colour, "fillOpacity": 0.2}
        _geojson(ctx, fg, _display_geoms(ctx, sub), [props[i] for i in idx],
                 [style] * len(idx))
        entries.append((_sw_fill(colour, colour, 0.4), _esc(label)))
    note = ""
    if "approximate" in gdf and gdf["approximate"].map(_truthy).any():
        note = _esc(ctx.t("approximate"))
    ctx.legend.append((spec.key, fg, _legend_html(_esc(label), entries, note)))

