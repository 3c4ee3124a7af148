"""Analysis results: red-line conflicts, firms, symbiosis pairs,
recommendations and candidate regions.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ._context import _add_group, _display_geoms, _geojson, _layer, _result_frame, _zone_names
from ._style import _KIND_STYLE, _PALETTE, _legend_html, _sw_fill, _sw_line, _sw_point
from ._symbiosis import (
    MAX_PAIR_LINES,
    _chain_colours,
    _draw_symbiosis_flows,
    _symbiosis_label,
)
from ._text import _esc, _isnull, _num, _nz, _popup, _truthy


def _draw_conflicts(ctx, m, conflicts: gpd.GeoDataFrame):
    gdf = _result_frame(conflicts)
    if gdf is None:
        return
    label = ctx.t("conflicts")
    fg, geoms, _, _ = _layer(ctx, m, "conflicts", label, gdf)
    props, styles = [], []
    kinds = gdf["kind"].astype(str) if "kind" in gdf else pd.Series("overlap", index=gdf.index)
    for i in range(len(gdf)):
        r = gdf.iloc[i]
        k = kinds.iloc[i] if kinds.iloc[i] in _KIND_STYLE else "overlap"
        rows = _conflict_rows(ctx, r, k)
        notes = [_esc(ctx.t("review"))] if _truthy(r.get("review", False)) else []
        tip = f"{_esc(r.get('park_name'))} × {_esc(r.get('zone_name'))}"
        props.append({"t": tip, "p": _popup(_esc(ctx.t("conflicts")), tip, rows, notes)})
        styles.append({**_KIND_STYLE[k], "className": f"ps-conflict ps-conflict-{k}"})
    _geojson(ctx, fg, geoms, props, styles)
    entries = [(_sw_fill(_KIND_STYLE[k]["fillColor"], _KIND_STYLE[k]["color"], 0.8,
                         "dashArray" in _KIND_STYLE[k]), _esc(ctx.t("k_" + k)))
               for k in _KIND_STYLE if (kinds == k).any()]
    ctx.legend.append(("conflicts", fg, _legend_html(_esc(label), entries)))


def _conflict_rows(ctx, r, kind: str) -> list[tuple[str, str]]:
    """Popup rows of one conflict: park and zone by name, class, what kind of hit (a
    buffer hit says its distance and that nothing overlaps), overlap in ha and 亩, the
    banned industry behind a restricted conflict and the gate's reason."""
    cls = r.get("zone_class")
    zone = r.get("zone_name") if not _isnull(r.get("zone_name")) else \
        _zone_names(ctx).get(str(r.get("zone_id")), r.get("zone_id"))
    dist = r.get("min_distance_m")
    hit = _esc(ctx.t("k_" + kind))
    if kind == "buffer" and not _isnull(dist):
        d = f"{_num(dist, 0)} m"
        hit = _esc(ctx.t("buffer_hit").format(d=d))
    banned = r.get("banned_hit")
    rows = [(ctx.t("park"), _esc(r.get("park_name"))),
            (ctx.t("zone"), _esc(zone)),
            (ctx.t("class"), _esc(ctx.t(cls) if cls in ("core", "redline", "restricted")
                                  else cls)),
            (ctx.t("kind"), hit)]
    if kind != "buffer" and not _isnull(r.get("overlap_ha")):
        rows.append((ctx.t("overlap"), f"{_num(r.get('overlap_ha'), 2)} {ctx.t('ha')} · "
                                       f"{_num(r.get('overlap_mu'))} {ctx.t('mu')}"))
        if not _isnull(r.get("pct_of_park")):
            rows.append((ctx.t("pct_of_park"), f"{_num(r.get('pct_of_park'), 1)} %"))
    if not _isnull(banned) and str(banned).strip():
        rows.append((ctx.t("banned_hit"), "、".join(
            _esc(ctx.ind(b.strip())) for b in str(banned).split(";") if b.strip())))
    if not _isnull(r.get("reason")) and str(r.get("reason")).strip():
        rows.append((ctx.t("reason_l"), _esc(r.get("reason"))))
    return rows


def _as_wgs84(gdf) -> gpd.GeoDataFrame | None:
    if gdf is None or len(gdf) == 0 or not isinstance(gdf, gpd.GeoDataFrame):
        return None
    g = gdf.reset_index(drop=True)
    if g.crs is None:
        g = g.set_crs(4326)
    return g[g.geometry.notna() & ~g.geometry.is_empty].reset_index(drop=True)


def _draw_symbiosis(ctx, m, pairs):
    """Symbiosis pairs: a line from supplier firm to user firm, coloured by chain; more
    than :data:`~geo.webmap._symbiosis.MAX_PAIR_LINES` pairs are drawn as flows between
    parks (districts for firms outside parks), one line per place pair."""
    gdf = _as_wgs84(pairs)
    if gdf is None or len(gdf) == 0:
        return
    if len(gdf) > MAX_PAIR_LINES:
        _draw_symbiosis_flows(ctx, m, gdf)
        return
    label = _symbiosis_label(ctx, gdf, aggregated=False)
    fg = _add_group(ctx, m, "symbiosis", label)
    chains, colour = _chain_colours(gdf)
    mat = "material_zh" if ctx.lang == "zh" and "material_zh" in gdf else "material"
    props, styles = [], []
    for i in range(len(gdf)):
        r = gdf.iloc[i]
        title = f"{_esc(r.get('from_name'))} → {_esc(r.get('to_name'))}"
        rows = [(ctx.t("material"), _esc(r.get(mat))),
                (ctx.t("industry"), f"{_esc(r.get('from_industry'))} → "
                                    f"{_esc(r.get('to_industry'))}"),
                (ctx.t("park"), f"{_esc(r.get('from_park'))} → {_esc(r.get('to_park'))}"),
                (ctx.t("road_dist"), f"{_num(r.get('network_km'), 1)} km"
                 if not _isnull(r.get("network_km")) else "")]
        notes = [_esc(ctx.t("synthetic"))] if _truthy(r.get("synthetic", False)) else []
        props.append({"t": f"{title} · {_esc(r.get(mat))}", "p": _popup(title, "", rows, notes)})
        styles.append({"color": colour[chains.iloc[i]], "weight": 2.5, "opacity": 0.85,
                       "dashArray": "6 3", "className": "ps-symbiosis"})
    _geojson(ctx, fg, _display_geoms(ctx, gdf, simplify=False), props, styles)
    entries = [(_sw_line(colour[c], 2.5, True), _esc(c or ctx.t("other")))
               for c in list(colour)[:12]]
    ctx.legend.append(("symbiosis", fg, _legend_html(_esc(label), entries)))


def _draw_recommendations(ctx, m, recs):
    """Ranked sites per incoming industry: numbered points with the reasons (zh or en);
    excluded sites in grey with the reason they were excluded."""
    if not isinstance(recs, dict):
        return
    for j, (industry, df) in enumerate(recs.items()):
        if df is None or len(df) == 0 or not {"lon", "lat"} <= set(df.columns):
            continue
        attrs = dict(getattr(df, "attrs", {}) or {})
        df = df[df["lon"].notna() & df["lat"].notna()].reset_index(drop=True)
        if len(df) == 0:
            continue
        colour = _PALETTE[(j * 5 + 1) % len(_PALETTE)]
        ind_name = attrs.get(f"industry_{ctx.lang}") or ctx.ind(industry)
        label = f"{ctx.t('recommend')}：{ind_name}" if ctx.lang == "zh" else \
            f"{ctx.t('recommend')}: {ind_name}"
        key = f"recommend_{industry}"
        fg = _add_group(ctx, m, key, label, also="recommendations")
        gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)
        reason = "reason_zh" if ctx.lang == "zh" and "reason_zh" in df else "reason_en"
        status = df["status"].astype("string").fillna("ok") if "status" in df else \
            pd.Series("ok", index=df.index, dtype="string")
        props, styles = [], []
        for i in range(len(gdf)):
            r = gdf.iloc[i]
            st = str(status.iloc[i])
            site = r.get("site_name") if not _isnull(r.get("site_name")) else r.get("site_id")
            if _isnull(r.get("rank")):
                title = f"× {_esc(site)}"
            else:
                title = f"#{_esc(r.get('rank'))} {_esc(site)}"
            st_txt = ctx.t(st) if st in ("excluded", "flagged") else ""
            rows = [(ctx.t("industry"), _esc(ind_name)),
                    (ctx.t("status"), _esc(st_txt)),
                    (ctx.t("score_w"), _num(r.get("score"), 3)),
                    (ctx.t("local_supply_rate"), f"{float(r['supply_rate']) * 100:.0f} %"
                     if not _isnull(r.get("supply_rate")) else ""),
                    (ctx.t("free_land"), f"{_num(r.get('free_land_mu'), 0)} {ctx.t('mu')}"
                     if not _isnull(r.get("free_land_mu")) else ""),
                    (ctx.t("reason"), _esc(r.get(reason)))]
            if st == "excluded" and not _isnull(r.get("admissibility")) and \
                    str(r.get("admissibility")).strip():
                rows.append((ctx.t("note"), _esc(r["admissibility"])))
            kind = {"park": ctx.t("park"), "candidate": ctx.t("candidate")}.get(
                str(r.get("kind")), r.get("kind"))
            props.append({"t": title + (f" · {_esc(st_txt)}" if st_txt else ""),
                          "p": _popup(title, _esc(kind), rows)})
            if st == "excluded":
                styles.append({"color": "#000000", "weight": 1.5, "fillColor": "#9e9e9e",
                               "fillOpacity": 0.8, "dashArray": "2 2", "radius": 6,
                               "className": "ps-recommend ps-recommend-excluded"})
            else:
                styles.append({"color": "#000000", "weight": 2 if st == "ok" else 1.5,
                               "fillColor": colour, "fillOpacity": 0.95,
                               "radius": max(5.0, 11.0 - _nz(r.get("rank"), 6)),
                               "className": "ps-recommend"})
        _geojson(ctx, fg, _display_geoms(ctx, gdf, simplify=False), props, styles,
                 pane="ps-points", point_radius=8)
        entries = [(_sw_point(colour), _esc(label))]
        if (status == "excluded").any():
            entries.append((_sw_point("#9e9e9e"), _esc(ctx.t("excluded"))))
        ctx.legend.append((key, fg, _legend_html(_esc(label), entries,
                                                  "#1 … #n" if len(entries) else "")))


#: Candidate regions on at opening (the rest in a layer of their own, off).
TOP_CANDIDATES = 5


_CAND_FIELDS = {"district": "district", "p_top_n": "p_top", "cell_stability_mean": "cell_stab",
                "dist_highway_m": "dist_highway", "dist_redline_m": "dist_redline",
                "mc_rank_median": "mc_rank", "min_score": "min_score",
                "max_score": "max_score"}


def _candidate_rows(ctx, r) -> list[tuple[str, str]]:
    """Popup rows of a candidate region: translated names, rounded figures with units."""
    rows = [(ctx.t("rank"), _esc(r.get("rank"))),
            (ctx.t("area"), f"{_num(r.get('area_ha'))} {ctx.t('ha')} · "
                            f"{_num(r.get('area_mu'), 0)} {ctx.t('mu')}"
             if not _isnull(r.get("area_ha")) else ""),
            (ctx.t("mean_score"), _num(r.get("mean_score"), 3))]
    for col, key in _CAND_FIELDS.items():
        v = r.get(col)
        if _isnull(v):
            continue
        if col.endswith("_m"):
            txt = f"{_num(float(v) / 1000, 1)} km"
        elif col in ("p_top_n", "cell_stability_mean"):
            txt = f"{float(v) * 100:.0f} %"
        elif isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
            txt = _num(v, 0 if col == "mc_rank_median" else 3)
        else:
            txt = _esc(v)
        rows.append((ctx.t(key), txt))
    return rows


def _draw_candidates(ctx, m, cand: gpd.GeoDataFrame):
    """Candidate regions: the top :data:`TOP_CANDIDATES` by rank in their own layer (on
    at opening), the others in a second layer (off)."""
    gdf = _result_frame(cand)
    if gdf is None:
        return
    if "rank" in gdf:
        gdf = gdf.sort_values("rank", kind="stable").reset_index(drop=True)
    top = np.arange(len(gdf)) < TOP_CANDIDATES
    for key, label, sel, colour in (
            ("candidates_top", ctx.t("candidates_top").format(n=int(top.sum())), top,
             "#08519c"),
            ("candidates", ctx.t("candidates"), ~top, "#4292c6")):
        if not sel.any():
            continue
        sub = gdf[sel].reset_index(drop=True)
        fg = _add_group(ctx, m, key, label)
        props, styles = [], []
        for i in range(len(sub)):
            r = sub.iloc[i]
            rank = r.get("rank", i + 1)
            title = f"{_esc(ctx.t('candidates'))} #{_esc(rank)}"
            where = f" · {_esc(r['district'])}" if not _isnull(r.get("district")) else ""
            props.append({"t": f"#{_esc(rank)}{where}", "id": f"cand{rank}",
                          "p": _popup(title, where.strip(" ·"), _candidate_rows(ctx, r))})
            styles.append({"color": colour, "weight": 2.5 if key == "candidates_top" else 1.5,
                           "fillColor": "#6baed6", "fillOpacity": 0.35,
                           "className": "ps-candidate"})
        _geojson(ctx, fg, _display_geoms(ctx, sub), props, styles)
        ctx.legend.append((key, fg, _legend_html(
            _esc(label), [(_sw_fill("#6baed6", colour, 0.6), _esc(label))])))
