"""The decision view: which group each layer belongs to, which layers are on when the
map opens, and the banner's three-line summary generated from the results.

Every text returned here that comes from data is HTML-escaped; bounds are display
coordinates ``[[south, west], [north, east]]`` (WGS84, or GCJ-02 when the map is
shifted for AMap tiles).
"""

from __future__ import annotations

import datetime as _dt

import geopandas as gpd
import numpy as np
import pandas as pd

from ..crs import wgs84_to_gcj02
from ._context import _Ctx, _park_geoms
from ._data import MapData
from ._text import _esc, _isnull, _num

#: Layer-control groups in order (thematic first, basemap last) with their i18n key;
#: the third field says whether the group is unfolded at opening.
GROUPS: list[tuple[str, str, bool]] = [
    ("red", "g_red", True), ("parks", "g_parks", True), ("siting", "g_siting", True),
    ("invest", "g_invest", False), ("layout", "g_layout", False), ("base", "g_base", False)]


_ROLE_GROUP = {"redlines": "red", "parks": "parks", "sites": "siting", "plots": "layout",
               "firms": "invest"}


_KEY_GROUP = {"conflicts": "red", "exclusions": "red", "park_grade": "parks",
              "park_dominant": "parks", "service_areas": "parks", "suitability": "siting",
              "stability": "siting", "candidates": "siting", "candidates_top": "siting",
              "symbiosis": "invest", "firms": "invest", "layout": "layout"}


#: Roles whose layers are on at opening, with the top candidate regions.
DECISION_ROLES = ("boundary", "redlines", "parks")


def group_of(ctx: _Ctx, key: str) -> str:
    """The layer-control group of a layer key (a study layer or a result layer).

    Parameters
    ----------
    ctx : _Ctx
        The map being built (study, language, GCJ-02 display flag, labels).
    key : str
        A study layer key (grouped by its role) or a result layer key.

    Returns
    -------
    str
        The group name; ``"base"`` when neither the role nor the key is known.
    """
    spec = ctx.study.layers.get(key) if hasattr(ctx.study, "layers") else None
    if spec is not None:
        return _ROLE_GROUP.get(spec.role, "base")
    if key.startswith("recommend_"):
        return "invest"
    if key.startswith("layout"):
        return "layout"
    return _KEY_GROUP.get(key, "base")


def decision_keys(ctx: _Ctx) -> set[str]:
    """Layer keys on at opening: the study boundary, red lines, parks by red-line status
    and the top candidate regions, less what ``[map] hidden`` names.

    Parameters
    ----------
    ctx : _Ctx
        The map being built (study, language, GCJ-02 display flag, labels).

    Returns
    -------
    set of str
        Layer keys shown when the map opens.
    """
    keys = {s.key for role in DECISION_ROLES for s in ctx.study.by_role(role)}
    keys.add("candidates_top")
    return keys - ctx.user_hidden


def display_bounds(ctx: _Ctx, geoms) -> list[list[float]] | None:
    """``[[s, w], [n, e]]`` of WGS84 geometries in display coordinates, or None.

    Parameters
    ----------
    ctx : _Ctx
        The map being built (study, language, GCJ-02 display flag, labels).
    geoms : iterable of shapely geometries
        Geometries in EPSG:4326 lon/lat; missing and empty ones are ignored.

    Returns
    -------
    list of list of float or None
        ``[[south, west], [north, east]]`` in degrees (lat, lon), rounded to 5
        decimals, shifted to GCJ-02 when the basemap is; None when no geometry is left.
    """
    g = gpd.GeoSeries(list(geoms), crs=4326)
    g = g[g.notna() & ~g.is_empty]
    if len(g) == 0:
        return None
    w, s, e, n = (float(v) for v in g.total_bounds)
    if ctx.gcj:
        (w, e), (s, n) = wgs84_to_gcj02(np.array([w, e]), np.array([s, n]))
    return [[round(float(s), 5), round(float(w), 5)], [round(float(n), 5), round(float(e), 5)]]


def _join(ctx: _Ctx, items: list[str]) -> str:
    return ("、" if ctx.lang == "zh" else ", ").join(items)


def _parks_line(ctx: _Ctx, results: MapData, names: dict, geoms: dict) -> dict:
    rp = results.redline_parks
    t = ctx.t
    keys = [s.key for s in ctx.study.by_role("parks")]
    if rp is None or len(rp) == 0 or "status" not in rp:
        return {"kind": "parks", "html": _esc(t("sum_unchecked")), "keys": keys,
                "bounds": display_bounds(ctx, geoms.values()), "ids": []}
    st = rp.drop_duplicates("park_id").set_index(rp.drop_duplicates("park_id")["park_id"]
                                                 .astype(str))["status"].astype(str)

    def named(ids: list[str]) -> str:
        shown = [_esc(names.get(i, i)) for i in ids[:4]]
        more = "…" if len(ids) > 4 else ""
        return f"（{_join(ctx, shown)}{more}）" if ctx.lang == "zh" and ids else \
            f" ({_join(ctx, shown)}{more})" if ids else ""

    conf = list(st.index[st == "conflict"])
    rev = list(st.index[st == "review"])
    ok = list(st.index[st == "pass"])
    allowed: list[str] = []
    if "restricted_allowed" in rp:
        ra = rp.drop_duplicates("park_id").set_index(st.index)["restricted_allowed"]
        allowed = [i for i in ok if not _isnull(ra.get(i)) and str(ra.get(i)).strip()]
    html_ = t("sum_parks").format(n=len(st), nc=len(conf), conf=named(conf), nr=len(rev),
                                  rev=named(rev), np=len(ok))
    if allowed:
        html_ += t("sum_allowed").format(n=len(allowed), names=named(allowed))
    flagged = conf + rev + allowed
    where = [geoms[i] for i in (flagged or list(st.index)) if i in geoms]
    return {"kind": "parks", "html": html_, "keys": keys, "ids": flagged,
            "bounds": display_bounds(ctx, where)}


def _sites_line(ctx: _Ctx, results: MapData) -> dict:
    cand = results.suitability.candidates if results.suitability is not None else None
    if cand is None or len(cand) == 0:
        return {"kind": "sites", "html": _esc(ctx.t("sum_no_sites")), "keys": [], "ids": [],
                "bounds": None}
    c = cand.sort_values("rank") if "rank" in cand else cand
    c = c.to_crs(4326) if c.crs is not None else c
    top = c.head(3)
    parts = []
    for _, r in top.iterrows():
        where = f" {_esc(r['district'])}" if "district" in top and not _isnull(
            r.get("district")) else ""
        size = f" {_num(r.get('area_ha'), 0)} {ctx.t('ha')}（{_num(r.get('area_mu'), 0)} " \
               f"{ctx.t('mu')}）" if ctx.lang == "zh" else \
            f" {_num(r.get('area_ha'), 0)} ha ({_num(r.get('area_mu'), 0)} mu)"
        size = "" if _isnull(r.get("area_ha")) else size
        parts.append(f"#{_esc(r.get('rank'))}{where}{size}")
    html_ = ctx.t("sum_sites").format(n=len(c), top="；".join(parts) if ctx.lang == "zh"
                                      else "; ".join(parts))
    ids = [f"cand{r}" for r in top["rank"]] if "rank" in top else []
    return {"kind": "sites", "html": html_, "keys": ["candidates_top"], "ids": ids,
            "bounds": display_bounds(ctx, top.geometry)}


def _gaps_line(ctx: _Ctx, results: MapData, names: dict, geoms: dict) -> dict:
    gaps = results.chain_gaps
    if gaps is None or len(gaps) == 0 or "input_industry" not in gaps:
        return {"kind": "gaps", "html": _esc(ctx.t("sum_no_gaps")), "keys": [], "ids": [],
                "bounds": None}
    g = gaps.sort_values("rank", kind="stable") if "rank" in gaps else gaps
    r = g.iloc[0]
    col = "input_name_zh" if ctx.lang == "zh" else "input_name_en"
    what = r.get(col) if not _isnull(r.get(col)) else ctx.ind(r["input_industry"])
    pid = str(r.get("park_id", ""))
    park = ctx.t("outside_parks") if pid.startswith("(") else names.get(pid, pid)
    value = _num(r.get("anchor_input_value_myuan"), 1)
    km = _num(r.get("nearest_supplier_km"), 0)
    html_ = ctx.t("sum_gaps").format(n=len(g), what=_esc(what), park=_esc(park),
                                     value=value, km=km)
    where = [geoms[i] for i in (pid, str(r.get("nearest_supplier_park", ""))) if i in geoms]
    firms = results.firms
    fid = "firm_id" if firms is not None and "firm_id" in firms else "id"
    if firms is not None and len(firms) and fid in firms:
        want = {str(r.get("nearest_supplier_id", ""))} | set(str(r.get("anchors", "")).split(";"))
        f = firms[firms[fid].astype(str).isin(want)]
        where += list((f.to_crs(4326) if f.crs is not None else f).geometry)
    ids = [i for i in (pid, str(r.get("nearest_supplier_park", ""))) if i in geoms]
    return {"kind": "gaps", "html": html_, "keys": [s.key for s in ctx.study.by_role("parks")],
            "ids": ids, "bounds": display_bounds(ctx, where)}


def data_date(ctx: _Ctx, sec: dict) -> str:
    """``[map] data_date``, else the newest layer file's date (labelled as such).

    Parameters
    ----------
    ctx : _Ctx
        The map being built (study, language, GCJ-02 display flag, labels).
    sec : dict
        The study's ``[map]`` table.

    Returns
    -------
    str
        Escaped HTML text: the labelled date (file dates as UTC ``YYYY-MM-DD``), or
        ``""`` when no layer file can be read.
    """
    if sec.get("data_date"):
        return f"{ctx.t('data_date')} {_esc(sec['data_date'])}"
    dates = []
    for spec in ctx.study.layers.values():
        try:
            dates.append(spec.path.stat().st_mtime)
        except OSError:
            continue
    if not dates:
        return ""
    day = _dt.datetime.fromtimestamp(max(dates), _dt.timezone.utc).strftime("%Y-%m-%d")
    return f"{ctx.t('file_date')} {day}"


def banner(ctx: _Ctx, title: str, results: MapData, sec: dict) -> dict:
    """The banner: escaped title, data date, and the three summary lines (parks and
    their red-line status; top candidate sites; chain gaps and the largest), each with
    the bounds, layers and feature ids its link shows.

    Parameters
    ----------
    ctx : _Ctx
        The map being built (study, language, GCJ-02 display flag, labels).
    title : str
        The map title (escaped here).
    results : MapData
        What the map draws besides the study's layers.
    sec : dict
        The study's ``[map]`` table.

    Returns
    -------
    dict
        ``title`` and ``short`` (escaped HTML), ``date`` (see :func:`data_date`) and
        ``lines``: three dicts with ``kind``, ``html``, ``keys``, ``ids`` and
        ``bounds`` (see :func:`display_bounds`).
    """
    names, geoms = _park_geoms(ctx)
    lines = [_parks_line(ctx, results, names, geoms), _sites_line(ctx, results),
             _gaps_line(ctx, results, names, geoms)]
    short = _esc(title.split(" ")[0]) if title else ""
    return {"title": _esc(title), "short": short, "date": data_date(ctx, sec),
            "lines": lines}


def print_notes(ctx: _Ctx, title: str, date_text: str, study) -> str:
    """The print page's footer: title, data date, what the outlines are, generated at.

    Parameters
    ----------
    ctx : _Ctx
        The map being built (study, language, GCJ-02 display flag, labels).
    title : str
        The map title (escaped here).
    date_text : str
        The data date, already escaped HTML (from :func:`data_date`).
    study : geo.study.Study
        The study; its ``description``, if any, is added (escaped).

    Returns
    -------
    str
        HTML lines joined by ``<br>``; generated time in UTC.
    """
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    notes = [_esc(title), date_text, _esc(ctx.t("print_note")),
             f"{_esc(ctx.t('generated'))} {now}"]
    if getattr(study, "description", ""):
        notes.insert(1, _esc(study.description))
    return "<br>".join(n for n in notes if n)


def series_ids(df: pd.DataFrame | None, col: str) -> list[str]:
    """Distinct non-empty values of ``df[col]`` as text (for the panel filters).

    Parameters
    ----------
    df : pandas.DataFrame or None
        The table (None allowed).
    col : str
        The column to read.

    Returns
    -------
    list of str
        Values in first-seen order (not escaped); empty when ``df`` is None or has no
        ``col``.
    """
    if df is None or col not in df:
        return []
    vals = df[col].dropna().astype(str)
    return list(dict.fromkeys(v for v in vals if v))
