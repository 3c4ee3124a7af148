"""The recommendation picker: choose an industry, read its ranked parks and candidate
regions with their reasons, click a row to zoom to the site.

The rankings (:func:`geo.recommend.rank_industries`, one row per industry and site) go
into the page as one compact JSON object inside the map's configuration; every string
from data is HTML-escaped here (:func:`geo.webmap._text._esc`) and ``map.js``
(``psPicker``) only inserts it. Nothing is fetched: the page works offline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..crs import wgs84_to_gcj02
from ._context import _Ctx
from ._text import _esc, _isnull

#: Ranked sites shown per industry.
PICKER_ROWS = 10

#: The panel's words, Chinese first (the panel is bilingual whatever the map's language).
_WORDS = {
    "title": "选址推荐 / Recommend for…",
    "short": "推荐 Recommend",
    "choose": "选择产业 Choose an industry…",
    "site": "园区/候选区域 Site",
    "score": "得分 Score",
    "reasons": "理由 Reasons",
    "park": "园区 park",
    "candidate": "候选区域 candidate",
    "flagged": "有条件 flagged",
    "excluded": "未排名（不可准入或用地不足） Not ranked (inadmissible or short of land)",
    "none": "无可推荐的地块 No admissible site",
    "note": ("得分 = 配套、客户、专业化、用地加权（[parks.recommend] weights）；限制区禁止的"
             "产业不在该区排名。Score = weighted supply, customers, specialisation and land "
             "([parks.recommend] weights); a site a restricted zone bans the industry from "
             "is never ranked for it."),
}


def _picker_panel(ctx: _Ctx, ranking: pd.DataFrame | None,
                  rows: int = PICKER_ROWS) -> dict[str, Any] | None:
    """The picker for ``map.js``: ``html`` (the folded panel with the industry select,
    escaped) and ``data`` (per industry, its ranked rows and its unranked sites), or None
    when there is no ranking.

    Parameters
    ----------
    ctx
        The drawing context (display datum: a GCJ-02 map shifts the sites' points).
    ranking
        :func:`geo.recommend.rank_industries` (``industry, industry_zh, industry_en,
        rank, site_id, site_name, kind, status, score, reason_zh, reason_en, lon, lat``;
        lon/lat EPSG:4326 degrees), or None.
    rows
        Ranked sites kept per industry.

    Returns
    -------
    dict or None
        ``{"html": str, "data": {"order": [industry id, …], "rows": {id: [[rank,
        name, kind, score, reason_zh, reason_en, status, layer id, lat, lon], …]},
        "ex": {id: [[name, reason], …]}}}``; every string escaped; lat/lon in the
        map's display datum, 5 decimals.
    """
    need = {"industry", "rank", "site_id", "site_name", "kind", "status", "score"}
    if ranking is None or len(ranking) == 0 or not need <= set(ranking.columns):
        return None
    df = ranking.reset_index(drop=True)
    lat, lon = _display_points(ctx, df)
    order: list[str] = []
    labels: dict[str, str] = {}
    ranked: dict[str, list] = {}
    excluded: dict[str, list] = {}
    for i, r in enumerate(df.itertuples(index=False)):
        ind = str(r.industry)
        if ind not in labels:
            order.append(ind)
            labels[ind] = _industry_label(ctx, df.iloc[i], ind)
            ranked[ind], excluded[ind] = [], []
        name = r.site_name if not _isnull(r.site_name) else r.site_id
        if _isnull(r.rank):
            why = df.at[i, "admissibility"] if "admissibility" in df else ""
            excluded[ind].append([_esc(name), _esc("" if _isnull(why) else why)])
            continue
        if len(ranked[ind]) >= rows:
            continue
        ranked[ind].append([
            int(r.rank), _esc(name), _esc(r.kind),
            None if _isnull(r.score) else round(float(r.score), 3),
            _esc(_text(df, i, "reason_zh")), _esc(_text(df, i, "reason_en")),
            _esc(r.status), _esc(_feature_id(r.kind, r.site_id)),
            None if np.isnan(lat[i]) else round(float(lat[i]), 5),
            None if np.isnan(lon[i]) else round(float(lon[i]), 5)])
    opts = "".join(f'<option value="{_esc(k)}">{labels[k]}</option>' for k in order)
    w = {k: _esc(v) for k, v in _WORDS.items()}
    html = (f'<details><summary><span class="ps-long">{w["title"]} · {len(order)}</span>'
            f'<span class="ps-short">{w["short"]}</span></summary>'
            f'<div class="ps-card-b"><div><select data-picker="industry" '
            f'aria-label="{w["choose"]}"><option value="">{w["choose"]}</option>{opts}'
            f'</select></div><table><thead><tr><th>#</th><th>{w["site"]}</th>'
            f'<th>{w["score"]}</th><th>{w["reasons"]}</th></tr></thead><tbody></tbody>'
            f'</table><div class="ps-pick-ex"></div><div class="ps-lg-n">{w["note"]}</div>'
            '</div></details>')
    return {"html": html,
            "data": {"order": [_esc(k) for k in order],
                     "rows": {_esc(k): v for k, v in ranked.items()},
                     "ex": {_esc(k): v for k, v in excluded.items() if v},
                     "t": {k: w[k] for k in ("park", "candidate", "flagged", "excluded",
                                             "none")}}}


def _industry_label(ctx: _Ctx, row: pd.Series, ind: str) -> str:
    """"中文名 English name" of an industry (escaped), from the ranking or the chain map."""
    zh = row.get("industry_zh")
    en = row.get("industry_en")
    ch = ctx.chains
    if _isnull(zh) and ch is not None and ind in ch:
        zh = ch.name(ind, "zh")
    if _isnull(en) and ch is not None and ind in ch:
        en = ch.name(ind, "en")
    zh = ind if _isnull(zh) else str(zh)
    en = "" if _isnull(en) or str(en) == zh else str(en)
    return _esc(f"{zh} {en}".strip())


def _text(df: pd.DataFrame, i: int, col: str) -> str:
    if col not in df:
        return ""
    v = df.at[i, col]
    return "" if _isnull(v) else str(v)


def _feature_id(kind: Any, site_id: Any) -> str:
    """The id the site's polygon carries on the map: a park's id; ``cand<rank>`` for the
    candidate region ``candidate-<rank>`` (geo.webmap._results._draw_candidates)."""
    sid = str(site_id)
    if str(kind) == "candidate" and sid.startswith("candidate-"):
        return "cand" + sid[len("candidate-"):]
    return sid


def _display_points(ctx: _Ctx, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The sites' centroids (lat, lon) in the map's display datum (GCJ-02 on an AMap
    basemap), NaN where the ranking has none."""
    n = len(df)
    if not {"lon", "lat"} <= set(df.columns):
        return np.full(n, np.nan), np.full(n, np.nan)
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(float)
    if ctx.gcj:
        ok = np.isfinite(lon) & np.isfinite(lat)
        if ok.any():
            glon, glat = wgs84_to_gcj02(lon[ok], lat[ok])
            lon, lat = lon.copy(), lat.copy()
            lon[ok], lat[ok] = glon, glat
    return lat, lon
