"""The model card and the chain-gap panel (HTML, every data string escaped).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import pandas as pd

from .. import __version__
from ._context import _Ctx, _park_names
from ._data import MapData
from ._i18n import _label
from ._layout import _layout_card
from ._text import _esc, _isnull, _num

_GAP_ROWS = 40


def _gap_panel(ctx: _Ctx, gaps: pd.DataFrame | None) -> str:
    """The chain-gap table (geo.sourcing) as a collapsible panel: ranked missing input
    industries with the anchor input value they would add and the nearest supplier by
    road. Every cell is escaped."""
    if gaps is None or len(gaps) == 0 or "input_industry" not in gaps:
        return ""
    gaps = gaps.assign(_chain=[_chain_of(ctx, v) for v in gaps["input_industry"]])
    g = gaps.sort_values("rank", kind="stable") if "rank" in gaps else gaps
    park_names = _park_names(ctx)

    def park(v: Any) -> str:
        if _isnull(v) or str(v) == "":
            return ""
        v = str(v)
        if v.startswith("(") and "outside" in v:
            return _esc(ctx.t("outside_parks"))
        return _esc(park_names.get(v, v))

    main, second = ("input_name_zh", "input_name_en") if ctx.lang == "zh" else \
        ("input_name_en", "input_name_zh")
    t = ctx.t
    head = (f"<tr><th>#</th><th>{_esc(t('park'))}</th><th>{_esc(t('gap_input'))}</th>"
            f"<th>{_esc(t('gap_anchors'))}</th><th>{_esc(t('gap_value'))}</th>"
            f"<th>{_esc(t('gap_supplier'))}</th><th>{_esc(t('gap_km'))}</th></tr>")
    body = []
    for _, r in g.head(_GAP_ROWS).iterrows():
        name = r.get(main) if not _isnull(r.get(main)) else r.get("input_industry")
        sub = r.get(second) if not _isnull(r.get(second)) else ""
        sub = "" if str(sub) == str(name) else sub
        km = f"{_num(r.get('nearest_supplier_km'), 0)} km" \
            if not _isnull(r.get("nearest_supplier_km")) else "–"
        sup = park(r.get("nearest_supplier_park"))
        if not _isnull(r.get("nearest_supplier_id")) and str(r.get("nearest_supplier_id")):
            sup = f"{sup} <span class=\"ps-sub\">{_esc(r['nearest_supplier_id'])}</span>"
        n_anchors = _esc(int(r["n_anchors"])) if not _isnull(r.get("n_anchors")) else ""
        attrs = " ".join(f'data-{k}="{_esc(r.get(c, "") if not _isnull(r.get(c)) else "")}"'
                         for k, c in (("park", "park_id"), ("supplier", "nearest_supplier_id"),
                                      ("supplier-park", "nearest_supplier_park"),
                                      ("anchors", "anchors"), ("input", "input_industry"),
                                      ("chain", "_chain")))
        body.append(
            f"<tr class=\"ps-row\" {attrs}><td class=\"n\">{_esc(r.get('rank', ''))}</td>"
            f"<td>{park(r.get('park_id'))}</td>"
            f"<td>{_esc(name)}<br><span class=\"ps-sub\">{_esc(sub)}</span></td>"
            f"<td class=\"n\">{n_anchors}</td>"
            f"<td class=\"n\">{_num(r.get('anchor_input_value_myuan'), 1)}</td>"
            f"<td>{sup or '–'}</td><td class=\"n\">{km}</td></tr>")
    more = ""
    if len(g) > _GAP_ROWS:
        more = f"<div class=\"ps-lg-n\">{_esc(t('gap_more').format(n=len(g) - _GAP_ROWS))}</div>"
    return (f"<details><summary><span class=\"ps-long\">{_esc(t('gap_panel'))} · {len(g)}"
            f"</span><span class=\"ps-short\">{_esc(t('gap_short'))} · {len(g)}</span>"
            f"</summary><div class=\"ps-card-b\">{_gap_filters(ctx, g, park)}"
            f"<table>{head}{''.join(body)}</table>{more}</div></details>")


def _gap_filters(ctx: _Ctx, g: pd.DataFrame, park) -> str:
    """Selects that filter the chain-gap rows by park and by chain (map.js)."""
    out = []
    parks = list(dict.fromkeys(str(v) for v in g["park_id"].dropna())) if "park_id" in g \
        else []
    if parks:
        opts = "".join(f'<option value="{_esc(p)}">{park(p)}</option>' for p in parks)
        out.append(f'<select data-filter="park" aria-label="{_esc(ctx.t("park"))}">'
                   f'<option value="">{_esc(ctx.t("park"))}: {_esc(ctx.t("all"))}</option>'
                   f'{opts}</select>')
    chains = [c for c in dict.fromkeys(g["_chain"].dropna().astype(str)) if c] \
        if "_chain" in g else []
    if chains:
        opts = "".join(f'<option value="{_esc(c)}">{_esc(ctx.chain_name(c))}</option>'
                       for c in chains)
        out.append(f'<select data-filter="chain" aria-label="{_esc(ctx.t("chain"))}">'
                   f'<option value="">{_esc(ctx.t("chain"))}: {_esc(ctx.t("all"))}</option>'
                   f'{opts}</select>')
    return "<div>" + "".join(out) + "</div>" if out else ""


def _chain_of(ctx: _Ctx, industry: Any) -> str:
    """Chains an industry belongs to in the chain map (``;``-separated), or ''."""
    ch = ctx.chains
    if ch is None or _isnull(industry) or industry not in ch or \
            "chain" not in ch.industries:
        return ""
    v = ch.industries.at[industry, "chain"]
    return "" if _isnull(v) else str(v)


def _card_value(v: Any) -> str:
    if isinstance(v, dict):
        return "<table>" + "".join(f"<tr><th>{_esc(k)}</th><td>{_card_value(x)}</td></tr>"
                                   for k, x in v.items()) + "</table>"
    if isinstance(v, (list, tuple)):
        return ", ".join(_card_value(x) for x in v)
    if isinstance(v, float):
        return _esc(f"{v:g}")
    return _esc(v)


_CARD_SKIP = {"model", "parksite_version", "study", "grid", "criteria", "weights",
              "exclusion_codes", "data_sources", "timings_s", "units", "top_cells",
              "candidates", "stability", "aggregation", "constraints", "created_utc"}


def _small(d: dict, depth: int = 0) -> dict:
    """A model-card dict without long lists of records (those belong in the tables)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            out[k] = f"{len(v)} records"
        elif isinstance(v, dict):
            out[k] = _small(v, depth + 1) if depth < 2 else "…"
        else:
            out[k] = v
    return out


def _suitability_card(ctx: _Ctx, mc: dict) -> str:
    """The suitability model card, in brief: criteria and weights, aggregation, hard
    constraints, candidates and the stability check."""
    t = ctx.t
    parts = [f"<h4>{_esc(t('suitability'))} · {_esc(t('weights'))}</h4>"]
    w = mc.get("weights")
    values: dict[str, Any] = (w["values"] if isinstance(w.get("values"), dict) else w) \
        if isinstance(w, dict) else {}
    crit = [c for c in (mc.get("criteria") or []) if isinstance(c, dict)]
    rows = []
    if crit:
        for c in crit:
            name = c.get("name", "")
            lab = c.get(f"label_{ctx.lang}") or c.get("label_en") or name
            wt = values.get(name, c.get("weight"))
            rows.append((lab, wt, c.get("transform_text", "")))
    else:
        rows = [(k, v, "") for k, v in values.items() if not isinstance(v, dict)]
    if rows:
        parts.append(f"<table><tr><th>{_esc(t('criterion'))}</th><th>{_esc(t('weight'))}"
                     "</th><th></th></tr>")
        for lab, wt, tr in rows:
            wtxt = f"{float(wt):.3f}" if isinstance(wt, (int, float)) else _esc(wt)
            parts.append(f"<tr><td>{_esc(lab)}</td><td>{wtxt}</td><td>{_esc(tr)}</td></tr>")
        parts.append("</table>")
    items = []
    if isinstance(w, dict) and w.get("method"):
        cr = (w.get("ahp") or {}).get("cr") if isinstance(w.get("ahp"), dict) else None
        items.append(f"{_esc(t('weight'))}: {_esc(w['method'])}"
                     + (f" (CR = {float(cr):.3f})" if isinstance(cr, (int, float)) else ""))
    agg = mc.get("aggregation")
    if isinstance(agg, dict) and agg.get("method"):
        items.append(f"{_esc(t('aggregation'))}: {_esc(agg['method'])}")
    con = mc.get("constraints")
    if isinstance(con, dict) and con:
        txt = "; ".join(f"{_esc(k)} = {_card_value(v)}" for k, v in con.items())
        items.append(f"{_esc(t('constraints'))}: {txt}")
    cand = mc.get("candidates")
    if isinstance(cand, dict) and "count" in cand:
        items.append(f"{_esc(t('candidates'))}: {_esc(cand['count'])}"
                     + (f" (≥ {_num(cand.get('min_area_mu'), 0)} {_esc(t('mu'))})"
                        if cand.get("min_area_mu") is not None else ""))
    st = mc.get("stability")
    if isinstance(st, dict) and st.get("runs"):
        items.append(f"{_esc(t('stability'))}: {_esc(st['runs'])} × ±"
                     f"{float(st.get('perturbation', 0)) * 100:.0f} %")
    rest = {k: v for k, v in mc.items() if k not in _CARD_SKIP and not _isnull(v)
            and v not in ({}, [], "")}
    if items:
        parts.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
    if rest:
        parts.append(_card_value(_small(rest)))
    return "".join(parts)


def _restricted_example(study) -> str:
    """The name of one of the study's own restricted zones (for the rule's example), or
    "" when it has none: never another region's zone."""
    specs = study.by_role("redlines")
    if not specs:
        return ""
    zones = study.load_role("redlines")
    field = specs[0].options.get("class") or "class"
    if zones is None or field not in zones.columns:
        return ""
    names = zones.loc[zones[field].astype(str).str.strip().str.lower() == "restricted", "name"]
    return str(names.iloc[0]) if len(names) else ""


def _model_card(ctx: _Ctx, study, results: MapData, title: str, sec: dict,
                basemap_text: str) -> str:
    t = ctx.t
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"<details><summary><span class=\"ps-long\">{_esc(title)} · "
             f"{_esc(t('model_card'))}</span><span class=\"ps-short\">{_esc(t('card_short'))}"
             "</span></summary>"
             '<div class="ps-card-b">']
    if study.description:
        parts.append(f"<div>{_esc(study.description)}</div>")
    # Sources: [study] sources and [map] sources, then each layer's file.
    srcs: list[Any] = []
    for s in (study.data.get("study", {}).get("sources"), sec.get("sources")):
        if isinstance(s, (list, tuple)):
            srcs.extend(s)
        elif isinstance(s, dict):
            srcs.extend(f"{k}: {v}" for k, v in s.items())
        elif isinstance(s, str):
            srcs.append(s)
    parts.append(f"<h4>{_esc(t('sources'))}</h4><ul>")
    parts.extend(f"<li>{_card_value(s)}</li>" for s in srcs)
    for spec in study.layers.values():
        flags = []
        if spec.options.get("synthetic"):
            flags.append(t("synthetic"))
        try:
            mtime = _dt.datetime.fromtimestamp(spec.path.stat().st_mtime, _dt.timezone.utc)
            date = mtime.strftime("%Y-%m-%d")
        except OSError:
            date = ""
        where = spec.path.name + (f" ({spec.layer})" if spec.layer else "")
        flag = f" — {_esc('; '.join(flags))}" if flags else ""
        dated = f" · {_esc(t('file_date'))} {_esc(date)}" if date else ""
        parts.append(f"<li>{_esc(_label(spec, ctx.lang))}: <code>{_esc(where)}</code>"
                     f"{dated}{flag}</li>")
    parts.append("</ul>")
    # Red-line rules.
    red = study.section("redlines")
    parts.append(f"<h4>{_esc(t('redline_rules'))}</h4><ul>")
    parts.append(f"<li>{_esc(t('red_first'))}</li>")
    for k in ("rule_core", "rule_redline"):
        parts.append(f"<li>{_esc(t(k))}</li>")
    zone = _restricted_example(study)
    rule = t("rule_restricted_eg").format(zone=zone) if zone else t("rule_restricted")
    parts.append(f"<li>{_esc(rule)}</li>")
    if "buffer_m" in red:
        parts.append(f"<li>{_esc(t('buffer_m'))}: {_card_value(red['buffer_m'])} m</li>")
    for k, v in red.items():
        if k != "buffer_m":
            parts.append(f"<li>{_esc(k)}: {_card_value(v)}</li>")
    parts.append("</ul>")
    # Weights and analysis settings.
    suit_mc = results.suitability.model_card if results.suitability is not None else None
    if suit_mc:
        parts.append(_suitability_card(ctx, suit_mc))
    elif isinstance(study.section("suitability").get("weights"), dict):
        parts.append(f"<h4>{_esc(t('weights'))}</h4>"
                     f"{_card_value(study.section('suitability')['weights'])}")
    if results.layout is not None:
        parts.append(_layout_card(ctx, getattr(results.layout, "summary", {}) or {}))
    extra = results.model_card
    if extra:
        parts.append(f"<h4>{_esc(t('analysis'))}</h4>{_card_value(_small(extra))}")
    parts.append(f"<h4>{_esc(t('display'))}</h4><ul>"
                 f"<li>{_esc(t('simplify'))}: {ctx.simplify_m:g} m "
                 f"({_esc(study.metric_crs.to_string())}), {ctx.digits} d.p.</li>"
                 f"<li>{_esc(basemap_text)}</li>")
    parts.extend(f"<li>{_esc(n)}</li>" for n in ctx.card_notes)
    parts.append("</ul>")
    parts.append(f"<div style='margin-top:6px'>{_esc(t('generated'))}: {_esc(now)} · "
                 f"{_esc(t('version'))}: parksite {_esc(__version__)}</div>")
    parts.append("</div></details>")
    return "".join(parts)

