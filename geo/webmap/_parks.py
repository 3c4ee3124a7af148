"""Parks (red-line status, sourcing, evaluation; by 亩均 grade and by dominant industry)
and red-line zones.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd

from ._context import _add_group, _Ctx, _geojson, _layer, _zone_names
from ._i18n import _T, _label, _names
from ._style import (
    _CLASS_STYLE,
    _GRADE_COLOUR,
    _OTHER,
    _STATUS_COLOUR,
    _STATUS_STYLE,
    _legend_html,
    _sw_fill,
)
from ._text import _esc, _isnull, _num, _pct, _popup, _truthy


def _area_m2(ctx: _Ctx, gdf: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(gdf.geometry.to_crs(ctx.area_crs).area, dtype=float)


def _by_park(df: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    if df is None or len(df) == 0 or "park_id" not in df:
        return {}
    return {str(k): g for k, g in df.groupby(df["park_id"].astype(str), sort=False)}


def _sourcing_rows(ctx: _Ctx, pid: str, src: dict, gaps: dict,
                   ev: pd.Series | None = None) -> tuple[list, list]:
    rows: list[tuple[str, str]] = []
    notes: list[str] = []
    ev = ev if ev is not None else pd.Series(dtype=object)
    if pid in src:  # unless the evaluation has the firm count and the median already
        r = src[pid].iloc[0]
        if not _isnull(r.get("n_firms")) and _isnull(ev.get("n_firms")):
            rows.append((ctx.t("n_firms"), _esc(int(r["n_firms"]))))
        if not _isnull(r.get("median_rate")) and _isnull(ev.get("supply_rate_median")):
            rows.append((ctx.t("median_rate"), f"{float(r['median_rate']) * 100:.0f} %"))
    if pid in src:
        r = src[pid].iloc[0]
        if not _isnull(r.get("share_ge_40pct")):
            rows.append((ctx.t("share_40"), f"{float(r['share_ge_40pct']) * 100:.0f} %"))
    if pid in gaps:
        g = gaps[pid]
        if "rank" in g:
            g = g.sort_values("rank")
        col = "input_name_zh" if ctx.lang == "zh" and "input_name_zh" in g else \
            "input_name_en" if "input_name_en" in g else "input_industry"
        items = []
        for _, r in g.head(3).iterrows():
            txt = _esc(r.get(col) if not _isnull(r.get(col)) else r.get("input_industry"))
            if not _isnull(r.get("nearest_supplier_km")):
                txt += f" ({_num(r['nearest_supplier_km'], 0)} km)"
            items.append(txt)
        if items:
            rows.append((ctx.t("gaps"), "; ".join(items)))
    return rows, notes


def _evaluation_rows(ctx: _Ctx, pid: str, ev: dict,
                     has_status: bool = False) -> list[tuple[str, str]]:
    """Popup rows of a park's evaluation (geo.parks.evaluate_parks); "not graded" where
    the firm records lack the 亩均 fields, never a zero."""
    if pid not in ev:
        return []
    r = ev[pid].iloc[0]
    rows = []
    if not _isnull(r.get("n_firms")):
        n = f"{int(r['n_firms'])}"
        if not _isnull(r.get("n_anchors")) and int(r["n_anchors"]):
            n += f" ({_esc(int(r['n_anchors']))} anchor)" if ctx.lang == "en" else \
                f"（锚点 {_esc(int(r['n_anchors']))}）"
        rows.append((ctx.t("n_firms"), n))
    if not _isnull(r.get("dominant_industry")) and str(r["dominant_industry"]):
        lq = f" (LQ {_num(r.get('dominant_lq'), 2)})" if not _isnull(r.get("dominant_lq")) \
            else ""
        share = f", {_pct(r.get('dominant_share'))}" if not _isnull(r.get("dominant_share")) \
            else ""
        rows.append((ctx.t("dominant"), _esc(ctx.ind(r["dominant_industry"])) + lq + share))
    if not _isnull(r.get("hhi")):
        rows.append((ctx.t("hhi"), _num(r["hhi"], 3)))
    if not _isnull(r.get("supply_rate_median")):
        iqr = ""
        if not (_isnull(r.get("supply_rate_p25")) or _isnull(r.get("supply_rate_p75"))):
            iqr = f" ({_pct(r['supply_rate_p25'])} – {_pct(r['supply_rate_p75'])})"
        rows.append((ctx.t("supply_median"), _pct(r["supply_rate_median"]) + iqr))
    chains = [(c[6:], r.get(c)) for c in r.index if c.startswith("chain_") and c != "chain_lq"
              and not _isnull(r.get(c))]
    if chains:
        rows.append((ctx.t("chain_complete"), "; ".join(
            f"{_esc(ctx.chain_name(c))} {_pct(v)}" for c, v in chains)))
    if not has_status and not _isnull(r.get("redline_status")) and str(r["redline_status"]):
        st = str(r["redline_status"])
        key = {"review": "review_s"}.get(st, st)
        rows.append((ctx.t("redline_s"), _esc(ctx.t(key) if key in _T else st)))
    if not _isnull(r.get("redline_note")) and str(r["redline_note"]).strip() and \
            not has_status:
        rows.append((ctx.t("restricted_in"), _allowed_text(ctx, r["redline_note"])))
    grade = r.get("grade")
    if _isnull(grade) or not str(grade).strip():
        rows.append((ctx.t("grade"), _esc(ctx.t("not_graded"))))
    else:
        rows.append((ctx.t("grade"), f"<b>{_esc(grade)}</b>"))
    if not _isnull(r.get("n_graded")):
        miss = int(r["n_not_graded"]) if not _isnull(r.get("n_not_graded")) else 0
        rows.append((ctx.t("graded_firms"), f"{int(r['n_graded'])}"
                     + (f" · {miss} {_esc(ctx.t('n_missing'))}" if miss else "")))
    inv, outp = r.get("investment_myuan_per_mu"), r.get("output_myuan_per_mu")
    if not (_isnull(inv) and _isnull(outp)):
        rows.append((ctx.t("per_mu"), f"{_num(inv, 2) or '–'} / {_num(outp, 2) or '–'}"))
    if not _isnull(r.get("free_land_mu")):
        rows.append((ctx.t("free_land"), f"{_num(r['free_land_mu'], 0)} {ctx.t('mu')}"))
    return rows


_ALLOWED = re.compile(r"\s*(?P<zone>[^;()]+?) \((?P<pct>[\d.]+)% of park\)(?::\s*(?P<why>[^;]*))?")


def _allowed_text(ctx: _Ctx, note: str) -> str:
    """The gate's note on restricted zones a park lies in whose bans do not cover its
    industries ("taihu_l1 (28.3% of park): …"), with zone names, in the map's language;
    escaped. A note in another shape is shown as it is."""
    zones = _zone_names(ctx)
    parts = []
    for piece in str(note).split(";"):
        mo = _ALLOWED.fullmatch(piece.strip()) or _ALLOWED.match(piece)
        if not mo:
            parts.append(_esc(piece.strip()))
            continue
        zone = zones.get(mo["zone"].strip(), mo["zone"].strip())
        parts.append(_esc(ctx.t("allowed_fmt").format(zone=zone, pct=mo["pct"])))
    return "<br>".join(p for p in parts if p)


def _status_rows(ctx: _Ctx, r: pd.Series, st: str | None) -> list[tuple[str, str]]:
    """Popup rows of a park's red-line verdict: status, conflicts, overlap (亩), the
    nearest zone by name with its distance, restricted zones whose bans do not apply."""
    st_key = "review_s" if st == "review" else st
    rows = [(ctx.t("status"), _esc(ctx.t(st_key)) if st_key in _T else _esc(st))]
    if not _isnull(r.get("n_conflicts")):
        rows.append((ctx.t("n_conflicts"), _esc(int(r["n_conflicts"]))))
    if not _isnull(r.get("overlap_mu_total")) and float(r["overlap_mu_total"]) > 0:
        rows.append((ctx.t("overlap_total"), f"{_num(r['overlap_mu_total'])} {ctx.t('mu')}"))
    zid = r.get("nearest_zone_id")
    if not _isnull(zid) and str(zid) not in ("", "nan"):
        d = r.get("nearest_zone_m")
        where = ctx.t("inside") if not _isnull(d) and float(d) == 0 else \
            f"{_num(float(d) / 1000, 1)} km" if not _isnull(d) and float(d) >= 1000 else \
            f"{_num(d, 0)} m"
        rows.append((ctx.t("nearest_zone"),
                     f"{_esc(_zone_names(ctx).get(str(zid), zid))} · {where}"))
    ra = r.get("restricted_allowed")
    if not _isnull(ra) and str(ra).strip():
        rows.append((ctx.t("restricted_in"), _allowed_text(ctx, ra)))
    return rows


def _park_props(ctx, spec, gdf, park_status, sourcing, gaps, evaluation):
    """Per park: popup/tooltip properties (escaped) and the red-line status."""
    names, other = _names(gdf, ctx.lang)
    area = _area_m2(ctx, gdf)
    ind_field = spec.options.get("industry") or ("industries" if "industries" in gdf else None)
    status = None
    if park_status is not None and len(park_status) and "park_id" in park_status:
        status = park_status.drop_duplicates("park_id").set_index(
            park_status.drop_duplicates("park_id")["park_id"].astype(str))
    src_by, gaps_by, ev_by = _by_park(sourcing), _by_park(gaps), _by_park(evaluation)
    props, states = [], []
    for i in range(len(gdf)):
        row = gdf.iloc[i]
        pid = str(row.get("id"))
        rows = [(ctx.t("id"), _esc(pid))]
        if ind_field and ind_field in gdf and not _isnull(row.get(ind_field)):
            inds = [s.strip() for s in str(row[ind_field]).split(";") if s.strip()]
            rows.append((ctx.t("industries"), "、".join(_esc(ctx.ind(s)) for s in inds)
                         if ctx.lang == "zh" else ", ".join(_esc(ctx.ind(s)) for s in inds)))
        rows.append((ctx.t("area"), f"{_num(area[i] / 1e4)} {ctx.t('ha')} · "
                                    f"{_num(area[i] * 15 / 1e4, 0)} {ctx.t('mu')}"))
        st = None
        if status is not None and pid in status.index:
            r = status.loc[pid]
            st = str(r.get("status")) if not _isnull(r.get("status")) else None
            rows += _status_rows(ctx, r, st)
        elif pid in ev_by and not _isnull(ev_by[pid].iloc[0].get("redline_status")):
            s0 = str(ev_by[pid].iloc[0]["redline_status"])
            st = s0 if s0 in _STATUS_COLOUR else None
        more, notes = _sourcing_rows(ctx, pid, src_by, gaps_by,
                                     ev_by[pid].iloc[0] if pid in ev_by else None)
        rows += _evaluation_rows(ctx, pid, ev_by, has_status=status is not None) + more
        if _truthy(row.get("illustrative", False)) or spec.options.get("illustrative"):
            notes.append(_esc(ctx.t("illustrative")))
        states.append(st if st in _STATUS_COLOUR else None)
        props.append({"t": _esc(names.iloc[i]), "id": pid,
                      "q": _esc(f"{names.iloc[i]} {other.iloc[i]} {pid}"),
                      "p": _popup(_esc(names.iloc[i]), _esc(other.iloc[i]), rows, notes)})
    return props, states


def _draw_parks(ctx, m, spec, gdf, park_status: pd.DataFrame | None,
                sourcing: pd.DataFrame | None = None, gaps: pd.DataFrame | None = None,
                evaluation: pd.DataFrame | None = None, *, outline: bool = False):
    label = _label(spec, ctx.lang)
    fg, geoms, _, _ = _layer(ctx, m, spec.key, label, gdf)
    props, states = _park_props(ctx, spec, gdf, park_status, sourcing, gaps, evaluation)
    styles = []
    for st in states:
        colour = _STATUS_COLOUR.get(st, _STATUS_COLOUR[None])
        styles.append({"color": colour, "fillColor": colour, **_STATUS_STYLE[st],
                       "className": f"ps-park ps-park-{st or 'unchecked'}"} if not outline else
                      {"color": "#252525", "weight": 3, "fill": False, "className": "ps-park"})
    _geojson(ctx, fg, geoms, [dict(p) for p in props], styles, interactive=not outline)
    seen = set(states)
    entries = []
    for st, key in (("pass", "pass"), ("review", "review_s"), ("conflict", "conflict"),
                    (None, "not_checked")):
        if st in seen and not outline:
            entries.append((_sw_fill(_STATUS_COLOUR[st], opacity=0.6,
                                     dash="dashArray" in _STATUS_STYLE[st]), _esc(ctx.t(key))))
    if outline:
        entries.append((_sw_fill("transparent", "#252525", 1), _esc(ctx.t("park_outline"))))
    illus = ("illustrative" in gdf and gdf["illustrative"].map(_truthy).any())
    ctx.legend.append((spec.key, fg, _legend_html(
        _esc(label), entries, _esc(ctx.t("illustrative")) if illus else "")))
    if evaluation is not None and len(evaluation) and "park_id" in evaluation:
        _draw_park_evaluation(ctx, m, gdf, geoms, props, evaluation)


def _draw_park_evaluation(ctx, m, gdf, geoms, props, evaluation: pd.DataFrame):
    """Two switchable views of the parks: by 亩均 grade and by dominant industry, with
    the park's evaluation in the popup (the same popup as the park layer)."""
    ev = evaluation.drop_duplicates("park_id").set_index(
        evaluation.drop_duplicates("park_id")["park_id"].astype(str))
    pids = [p["id"] for p in props]
    grades = [None if pid not in ev.index or _isnull(ev.at[pid, "grade"]) or
              str(ev.at[pid, "grade"]).strip() not in _GRADE_COLOUR
              else str(ev.at[pid, "grade"]).strip()
              for pid in pids] if "grade" in ev else [None] * len(pids)
    # by grade (off at opening unless the study says otherwise)
    if "park_grade" not in ctx.hidden and not ctx.explicit_hidden:
        ctx.hidden.add("park_grade")
    label = ctx.t("park_grade")
    fg = _add_group(ctx, m, "park_grade", label)
    styles = [{"color": "#252525", "weight": 1.5, "fillColor": _GRADE_COLOUR[g],
               "fillOpacity": 0.7, "className": "ps-park ps-park-grade"} for g in grades]
    _geojson(ctx, fg, geoms, [dict(p) for p in props], styles)
    entries = [(_sw_fill(_GRADE_COLOUR[g], "#252525", 0.8), _esc(g) if g else
                _esc(ctx.t("not_graded"))) for g in ("A", "B", "C", "D", None) if g in grades]
    ctx.legend.append(("park_grade", fg, _legend_html(_esc(label), entries)))
    # by dominant industry
    doms = [str(ev.at[pid, "dominant_industry"]) if pid in ev.index and
            "dominant_industry" in ev and not _isnull(ev.at[pid, "dominant_industry"]) and
            str(ev.at[pid, "dominant_industry"]) else "" for pid in pids]
    uniq = [d for d in dict.fromkeys(doms) if d]
    colour = {d: ctx.colour(d) for d in uniq}
    colour[""] = _OTHER
    label = ctx.t("park_dominant")
    fg = _add_group(ctx, m, "park_dominant", label)
    styles = [{"color": "#252525", "weight": 1.5, "fillColor": colour[d], "fillOpacity": 0.6,
               "className": "ps-park ps-park-dominant"} for d in doms]
    _geojson(ctx, fg, geoms, [dict(p) for p in props], styles)
    entries = [(_sw_fill(colour[d], "#252525", 0.8), _esc(ctx.ind(d))) for d in uniq]
    if "" in doms:
        entries.append((_sw_fill(_OTHER, "#252525", 0.8), _esc(ctx.t("none"))))
    ctx.legend.append(("park_dominant", fg, _legend_html(_esc(label), entries)))


def _draw_redlines(ctx, m, spec, gdf):
    label = _label(spec, ctx.lang)
    fg, geoms, names, other = _layer(ctx, m, spec.key, label, gdf)
    cfield = spec.options.get("class") or "class"
    classes = gdf[cfield].astype("string").str.strip().str.lower() if cfield in gdf else \
        pd.Series(pd.NA, index=gdf.index, dtype="string")
    area = _area_m2(ctx, gdf)
    props, styles = [], []
    for i in range(len(gdf)):
        row = gdf.iloc[i]
        c = classes.iloc[i]
        c = c if (not _isnull(c) and c in _CLASS_STYLE) else None
        cls_text = ctx.t(c) if c else _esc(classes.iloc[i]) if not _isnull(classes.iloc[i]) \
            else ""
        rows = [(ctx.t("id"), _esc(row.get("id"))), (ctx.t("class"), _esc(cls_text))]
        if "basis" in gdf:
            rows.append((ctx.t("basis"), _esc(row.get("basis"))))
        if "banned_industries" in gdf and not _isnull(row.get("banned_industries")):
            b = [s.strip() for s in str(row["banned_industries"]).split(";") if s.strip()]
            rows.append((ctx.t("banned"), ", ".join(_esc(s) for s in b)))
        rows.append((ctx.t("area"), f"{_num(area[i] / 1e6)} km² · "
                                    f"{_num(area[i] * 15 / 1e4, 0)} {ctx.t('mu')}"))
        notes = [_esc(ctx.t("approximate"))] if _truthy(row.get("approximate", False)) else []
        if "method" in gdf and not _isnull(row.get("method")) and notes:
            notes.append(_esc(row["method"]))
        styles.append({**_CLASS_STYLE[c], "className": f"ps-zone ps-zone-{c or 'other'}"})
        tip = _esc(names.iloc[i]) + (f" · {_esc(cls_text)}" if cls_text else "")
        props.append({"t": tip, "n": _esc(names.iloc[i]),
                      "q": _esc(f"{names.iloc[i]} {other.iloc[i]} {row.get('id')}"),
                      "p": _popup(_esc(names.iloc[i]), _esc(other.iloc[i]), rows,
                                            notes)})
    _geojson(ctx, fg, geoms, props, styles)
    present = {c if c in _CLASS_STYLE else None for c in classes.dropna()}
    if classes.isna().any():
        present.add(None)
    entries = []
    for c in ("core", "redline", "restricted", None):
        if c in present:
            s = _CLASS_STYLE[c]
            entries.append((_sw_fill(s["fillColor"], s["color"], 0.7, "dashArray" in s),
                            _esc(ctx.t(c) if c else ctx.t("other"))))
    approx = "approximate" in gdf and gdf["approximate"].map(_truthy).any()
    ctx.legend.append((spec.key, fg, _legend_html(
        _esc(label), entries, _esc(ctx.t("approximate")) if approx else "")))

