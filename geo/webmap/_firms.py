"""Firms: clustered points coloured by industry and sized by local supply rate.

Each firm is one row ``[lat, lon, {named fields}]`` of a :class:`FastMarkerCluster`
(``c`` colour index, ``name``, ``id``, ``ind`` industry, ``park`` park name, ``rate``
local supply rate text, ``syn`` synthetic flag, ``r`` radius in px, ``miss`` missing
inputs, ``q`` extra search text); the popup is built in the browser by
``parksiteFirm`` (``geo/assets/map.js``) from those fields, every text of which is
escaped here.
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.plugins import FastMarkerCluster

from ._context import _add_group, _display_geoms, _park_names
from ._data import MapData
from ._i18n import _label, _names
from ._style import _OTHER, _legend_html, _sw_point
from ._text import _esc, _isnull, _truthy


def _firm_frame(study, results: MapData
                ) -> tuple[gpd.GeoDataFrame | None, bool, str | None]:
    """Firms to draw (results first, else the study's firms layers), synthetic flag, label."""
    firms = results.firms
    label = None
    synth_layer = False
    specs = study.by_role("firms")
    if specs:
        label = specs[0]
        synth_layer = any(bool(s.options.get("synthetic")) for s in specs)
    if firms is None and specs:
        firms = study.load_role("firms")
    if firms is None or len(firms) == 0:
        return None, False, None
    synth_layer = synth_layer or bool(getattr(firms, "attrs", {}).get("synthetic", False))
    return firms, synth_layer, label


def _draw_firms(ctx, m, study, results):
    firms, synth_layer, spec = _firm_frame(study, results)
    if firms is None:
        return
    gdf = firms.reset_index(drop=True)
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.notna()].reset_index(drop=True)
    gdf = gdf.set_geometry(gdf.geometry.representative_point())
    base_label = _label(spec, ctx.lang) if spec is not None else ctx.t("firms")
    synth_rows = gdf["synthetic"].map(_truthy).to_numpy() if "synthetic" in gdf else \
        np.zeros(len(gdf), dtype=bool)
    synth_rows = synth_rows | synth_layer
    any_synth = bool(synth_rows.any())
    label = base_label
    if any_synth and not re.search(r"合成|synthetic", base_label, re.I):
        label = f"{base_label}（{ctx.t('synthetic')}）" if ctx.lang == "zh" else \
            f"{base_label} ({ctx.t('synthetic')})"
    key = spec.key if spec is not None else "firms"
    fg = _add_group(ctx, m, key, label, also="firms")
    ind_field = None
    if spec is not None and spec.options.get("industry") in gdf:
        ind_field = spec.options["industry"]
    elif "industry" in gdf:
        ind_field = "industry"
    inds = gdf[ind_field].astype("string").fillna("") if ind_field else \
        pd.Series("", index=gdf.index, dtype="string")
    rows, colours, colour_i, rate = _firm_rows(ctx, gdf, inds, synth_rows)
    lbl = {k: _esc(ctx.t(k)) for k in ("id", "industry", "park", "local_supply_rate",
                                        "synthetic", "missing_inputs", "not_rated")}
    callback = ("parksiteFirm(" + json.dumps(colours) + ", " + json.dumps(_OTHER)
                + ", " + json.dumps(lbl, ensure_ascii=False).replace("<", "\\u003c") + ")")
    FastMarkerCluster(rows, callback=callback, control=False, maxClusterRadius=45,
                      disableClusteringAtZoom=13, chunkedLoading=True,
                      spiderfyOnMaxZoom=False, showCoverageOnHover=False,
                      # clusters split and merge at the end of a zoom, not in an animation
                      # of their own (that forced a layout per frame: a 100 ms+ frame
                      # with every layer on)
                      animate=False).add_to(fg)
    ctx.legend.append((key, fg, _firm_legend(ctx, label, inds, colour_i, rate, any_synth)))


def _firm_rows(ctx, gdf, inds: pd.Series, synth_rows: np.ndarray):
    """Each firm as ``[lat, lon, {named fields}]`` (display coordinates; every text
    escaped, map.js inserts them), the colours used (one per chain-map industry, the
    same as in every other layer), each firm's colour index and its local supply rate."""
    # one colour per chain-map industry (the same as in every other layer)
    uniq = list(dict.fromkeys(v for v in inds if v))
    colours = list(dict.fromkeys(ctx.colour(v) for v in uniq))
    cidx = {v: colours.index(ctx.colour(v)) for v in uniq}
    colour_i = inds.map(lambda v: cidx.get(v, -1)).to_numpy()
    geoms = _display_geoms(ctx, gdf, simplify=False)
    x = shapely.get_x(geoms)
    y = shapely.get_y(geoms)
    names, other = _names(gdf, ctx.lang)
    ids = gdf["firm_id"] if "firm_id" in gdf else gdf["id"] if "id" in gdf else \
        pd.Series(gdf.index.astype(str))
    parks = gdf["park_id"] if "park_id" in gdf else pd.Series("", index=gdf.index)
    park_names = _park_names(ctx)
    rate = pd.to_numeric(gdf["local_supply_rate"], errors="coerce") \
        if "local_supply_rate" in gdf else None
    rate_txt = [""] * len(gdf) if rate is None else \
        [f"{float(v) * 100:.0f} %" if not _isnull(v) else "" for v in rate]
    # dot size (radius, px) by local supply rate: 3 px at 0 %, 9 px at 100 %
    radius = np.full(len(gdf), 5.0) if rate is None else \
        np.where(rate.isna(), 3.0, _firm_radius(rate.fillna(0).clip(0, 1).to_numpy()))
    sep = "、" if ctx.lang == "zh" else ", "
    missing = [""] * len(gdf)
    if "missing_inputs" in gdf:
        missing = ["" if _isnull(s) else sep.join(ctx.ind(v) for v in str(s).split(";")
                                                   if v.strip())
                   for s in gdf["missing_inputs"]]
    ind_txt = [ctx.ind(v) for v in inds]
    rows = [[float(a), float(b), {
        "c": int(c), "name": _esc(n), "id": _esc(i), "ind": _esc(ind),
        "park": _esc(park_names.get(str(p), p)), "rate": r, "syn": int(s),
        "r": round(float(rad), 1), "miss": _esc(mi), "q": _esc(f"{o} {p}")}]
        for a, b, c, n, o, i, ind, p, r, s, rad, mi in zip(
            y, x, colour_i, names, other, ids, ind_txt, parks.fillna(""), rate_txt,
            synth_rows, radius, missing, strict=True)]
    return rows, colours, colour_i, rate


def _firm_legend(ctx, label: str, inds: pd.Series, colour_i: np.ndarray, rate,
                 any_synth: bool) -> str:
    """The firms' legend: industries by colour, dot sizes by local supply rate."""
    counts = inds[inds != ""].value_counts()
    entries = [(_sw_point(ctx.colour(v)), _esc(ctx.ind(v))) for v in counts.index[:16]]
    if len(counts) > 16:
        entries.append((_sw_point(_OTHER), _esc(f"… +{len(counts) - 16}")))
    if (colour_i < 0).any():
        entries.append((_sw_point(_OTHER), _esc(ctx.t("other"))))
    note = _esc(ctx.t("synthetic")) if any_synth else ""
    html_ = _legend_html(_esc(label), entries, note)
    if rate is not None and rate.notna().any():
        sizes = "".join(
            f'<span class="ps-sz"><i class="ps-sw-c" style="width:{2 * r:.0f}px;'
            f'height:{2 * r:.0f}px"></i>{lab}</span>'
            for r, lab in ((float(_firm_radius(0.0)), "0 %"), (float(_firm_radius(0.5)), "50 %"),
                           (float(_firm_radius(1.0)), "100 %")))
        html_ += (f'<div class="ps-lg-t ps-lg-size">{_esc(ctx.t("size_rate"))}</div>'
                  f'<div class="ps-lg-r ps-sizes">{sizes}</div>')
        if rate.isna().any():
            html_ += (f'<div class="ps-lg-r"><i class="ps-sw ps-sw-p" style="background:'
                      f'{_OTHER};opacity:0.55;width:6px;height:6px"></i><span>'
                      f'{_esc(ctx.t("not_rated"))}</span></div>')
    return html_


def _firm_radius(rate) -> np.ndarray:
    """Firm dot radius in pixels for a local supply rate in [0, 1]: 3 px to 9 px."""
    return 3.0 + 6.0 * np.asarray(rate, dtype=float)

