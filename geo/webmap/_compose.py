"""Building the folium map: the layers in drawing order, then the controls, the view,
the offline check and the size budget.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement

from ..crs import ZoneWarning, wgs84_to_gcj02
from ..errors import InputError
from ..io import write_text
from ..pipeline import StudyRun
from ._assets import _asset_html, _check_offline, _strip_cdn
from ._audit import _draw_audit
from ._base import (
    _draw_boundaries,
    _draw_boundary,
    _draw_generic,
    _draw_lines,
    _draw_ports,
    _draw_water,
)
from ._card import _gap_panel, _model_card
from ._context import SEARCHED_ROLES, _Ctx
from ._controls import _Attribution, _Controls, _css, _js_head
from ._data import MapData
from ._decision import GROUPS, banner, decision_keys, group_of, print_notes
from ._firms import _draw_firms
from ._layout import _draw_layout
from ._parks import _draw_parks, _draw_redlines
from ._picker import _picker_panel
from ._rasters import _draw_dem, _draw_landuse, _draw_suitability
from ._reach import _draw_service_areas
from ._results import (
    _as_wgs84,
    _draw_conflicts,
    _draw_recommendations,
    _draw_symbiosis,
)
from ._settings import DEFAULTS, MapSizeWarning, _settings, check_map_path, check_options
from ._text import _esc
from ._tiles import _tiles_layer


def _build(study, results: MapData | None, *, offline: bool, basemap: str | None,
           lang: str | None, tiles: str | None, tianditu_key: str | None,
           out_dir: Path | None = None, layout_focus: Any = None) -> tuple[str, dict]:
    results = MapData(layout=layout_focus) if layout_focus is not None else \
        results or MapData()
    sec, basemap, lang, tiles = _settings(study, basemap, lang, tiles)
    check_options(study, basemap=basemap, lang=lang, tiles=tiles, tianditu_key=tianditu_key)
    if basemap == "tianditu":
        tianditu_key = tianditu_key or os.environ.get("TIANDITU_KEY")
    ctx = _context(study, sec, basemap=basemap, tiles=tiles, lang=lang, offline=offline)
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
        pm = gpd.GeoSeries([shapely.box(*plots.total_bounds)], crs=4326).to_crs(ctx.metric_crs)
        clip = gpd.GeoSeries(pm.buffer(2000), crs=ctx.metric_crs).to_crs(4326).iloc[0]
        w, s, e, n = shapely.box(*plots.total_bounds).bounds
    m, assets = _new_map(title, (w, s, e, n), offline=offline,
                         blank=basemap == "none" and not tiles)
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
        _draw_focus(ctx, m, study, load)
        _draw_layout(ctx, m, layout_focus, split=True)
        return _finish(_Page(ctx, m, results, title, sec, tile_layers, assets, basemap_text,
                             offline, basemap, lang, (w, s, e, n), decision=False))

    _draw_study(ctx, m, study, results, load)
    return _finish(_Page(ctx, m, results, title, sec, tile_layers, assets, basemap_text,
                         offline, basemap, lang, (w, s, e, n)))


def _context(study, sec: dict, *, basemap: str, tiles: str | None, lang: str,
             offline: bool) -> _Ctx:
    """The drawing context from the resolved options and ``[map]`` (display datum,
    simplification, hidden layers, the study's metric and equal-area CRS)."""
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
               has_tiles=bool(tiles) or basemap != "none", metric_crs=metric, area_crs=area,
               user_hidden=set(sec.get("hidden", [])))
    if offline and not tiles and basemap in ("osm", "amap", "tianditu"):
        ctx.warn(f"basemap {basemap} loads its tiles from the internet: the map's own code is "
                 "inlined, but its background stays blank without a connection; use "
                 "--basemap none or --tiles FOLDER on an intranet PC")
    return ctx


def _new_map(title: str, bounds, *, offline: bool, blank: bool
             ) -> tuple[folium.Map, str]:
    """An empty Leaflet map with the page head: charset, inlined assets, our CSS and JS.
    ``bounds`` (w, s, e, n) WGS84; ``blank`` paints the vector-basemap background.
    Returns the map and the assets' HTML (left out of the offline check)."""
    w, s, e, n = bounds
    m = folium.Map(location=[(s + n) / 2, (w + e) / 2], zoom_start=8, tiles=None,
                   control_scale=False, prefer_canvas=False, zoom_control=True,
                   attribution_control=True, maxZoom=18, minZoom=4)
    root: Any = m.get_root()
    root.title = _esc(title)
    header = root.header
    header.add_child(Element('<meta charset="utf-8"/>'), name="ps_charset")
    assets = _asset_html(offline)
    header.add_child(Element(assets), name="ps_assets")
    bg = "#e9e9e4" if blank else "#ffffff"
    header.add_child(Element(f"<style>:root {{ --ps-bg: {bg}; }}\n{_css()}</style>"),
                     name="ps_css")
    header.add_child(Element(f"<script>{_js_head()}</script>"), name="ps_js")
    return m, assets


def _draw_focus(ctx: _Ctx, m: folium.Map, study, load) -> None:
    """The layout map's context: the study's layers within 2 km of the park."""
    focus_order = [
        ("boundaries", _draw_boundaries), ("water", _draw_water),
        ("roads", lambda c, mm, sp, g: _draw_lines(c, mm, sp, g, colour="#c8874a",
                                                   weight=1.5, dash=None)),
        ("residential", _draw_generic), ("amenities", _draw_generic),
        ("redlines", _draw_redlines),
        ("parks", lambda c, mm, sp, g: _draw_parks(c, mm, sp, g, None, outline=True))]
    for role, fn in focus_order:
        for spec in study.by_role(role):
            g = load(spec)
            if len(g):
                fn(ctx, m, spec, g)


def _draw_study(ctx: _Ctx, m: folium.Map, study, results: MapData, load) -> None:
    """Every layer of the study map, in drawing order (basemap first, points last)."""
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
    if results.suitability is not None:
        _draw_suitability(ctx, m, results.suitability)
    for role in ("residential", "amenities", "universities", "sites", "plots"):
        for spec in study.by_role(role):
            _draw_generic(ctx, m, spec, load(spec))
    _draw_service_areas(ctx, m, results.service_areas)
    for spec in study.by_role("redlines"):
        _draw_redlines(ctx, m, spec, load(spec))
    for spec in study.by_role("parks"):
        _draw_parks(ctx, m, spec, load(spec), results.redline_parks, results.sourcing_parks,
                    results.chain_gaps, results.park_evaluation)
    if results.layout is not None:
        _draw_layout(ctx, m, results.layout)
    _draw_conflicts(ctx, m, results.redline_conflicts)
    _draw_symbiosis(ctx, m, results.symbiosis)
    _draw_audit(ctx, m, results.network_audit)
    _draw_recommendations(ctx, m, results.recommendations)
    _draw_firms(ctx, m, study, results)


@dataclass
class _Page:
    """What :func:`_finish` needs of a drawn map: the context and map, the results, the
    ``[map]`` section and the resolved options; ``bounds`` (w, s, e, n) WGS84."""

    ctx: _Ctx
    m: folium.Map
    results: MapData
    title: str
    sec: dict
    tile_layers: list
    assets: str
    basemap_text: str
    offline: bool
    basemap: str
    lang: str
    bounds: tuple[float, float, float, float]
    decision: bool = True


class _OrderedLayerControl(folium.LayerControl):
    """Folium's layer control with the overlays in a given order (the groups' order),
    whatever order the layers were drawn in."""

    def __init__(self, ordered: list, **kwargs):
        super().__init__(**kwargs)
        self._ordered = ordered

    def render(self, **kwargs):
        self.reset()
        for fg in self._ordered:
            self.overlays[fg.layer_name] = fg.get_name()
        MacroElement.render(self, **kwargs)


def _opening(page: _Page) -> list[tuple[str, folium.FeatureGroup, str]]:
    """Each layer's group, and which are on: on the study map only the decision set
    (the layout map keeps every layer on). Returns the layers in group order."""
    ctx = page.ctx
    rank = {g: i for i, (g, _, _) in enumerate(GROUPS)}
    if page.decision:
        on = decision_keys(ctx)
        for key, fg in ctx.groups:
            fg.show = key in on
    grouped = [(key, fg, group_of(ctx, key)) for key, fg in ctx.groups]
    return sorted(grouped, key=lambda kg: rank.get(kg[2], len(rank)))


def _config(page: _Page, grouped: list) -> dict:
    """The JSON ``map.js`` starts from (every data string escaped)."""
    ctx, results = page.ctx, page.results
    w, s, e, n = page.bounds
    study_b = [[s, w], [n, e]]
    if ctx.gcj:
        (w2, e2), (s2, n2) = wgs84_to_gcj02(np.array([w, e]), np.array([s, n]))
        study_b = [[float(s2), float(w2)], [float(n2), float(e2)]]
    group = {key: g for key, _, g in grouped}
    rank = {key: i for i, (key, _, _) in enumerate(grouped)}
    legend = sorted(ctx.legend, key=lambda it: rank.get(it[0], len(rank)))
    bn = banner(ctx, page.title, results, page.sec)
    parks_key = next((sp.key for sp in ctx.study.by_role("parks")), "parks")
    firms_key = next((sp.key for sp in ctx.study.by_role("firms")), "firms")
    kinds = {"parks": "kind_park", "redlines": "kind_zone", "boundaries": "kind_district",
             "firms": "kind_firm"}
    search = [(sp.key, ctx.t(kinds[role])) for role in SEARCHED_ROLES
              for sp in ctx.study.by_role(role)]
    if not ctx.study.by_role("firms"):
        search.append(("firms", ctx.t("kind_firm")))
    words = ("search", "search_hint", "measure", "clear", "distance", "area_w", "mu",
             "measure_hint", "north", "tiles_failed", "layers", "zoom_in", "zoom_out")
    return {
        "t": {k: _esc(ctx.t(k)) for k in words},
        "items": [{"key": key, "group": group.get(key, "base"), "html": html_}
                  for key, _, html_ in legend],
        "groups": [(g, _esc(ctx.t(lab)), opened or not page.decision)
                   for g, lab, opened in GROUPS],
        "names": {key: fg.layer_name for key, fg, _ in ctx.legend},
        "radio": [k for k in (parks_key, "park_grade", "park_dominant") if k in group],
        "decision": sorted(k for k, fg in ctx.groups if fg.show),
        "legend_title": _esc(ctx.t("legend")),
        "card": _model_card(ctx, ctx.study, results, page.title, page.sec,
                            page.basemap_text),
        "gaps": _gap_panel(ctx, results.chain_gaps),
        "picker": _picker_panel(ctx, results.ranking),
        "banner": bn, "study": study_b, "search": search,
        "parks_key": parks_key, "firms_key": firms_key,
        "notes": print_notes(ctx, page.title, bn["date"], ctx.study),
    }


def _finish(page: _Page) -> tuple[str, dict]:
    """Groups and opening layers, layer control, panels, view; render and check
    offline and size."""
    ctx, m = page.ctx, page.m
    grouped = _opening(page)
    control = _OrderedLayerControl([fg for _, fg, _ in grouped], position="topright",
                                   collapsed=False)
    control.add_to(m)
    if page.sec.get("attribution"):
        m.add_child(_Attribution(_esc(page.sec["attribution"])))
    cfg = _config(page, grouped)
    _Controls(cfg, [(key, fg.get_name()) for key, fg in ctx.groups],
              control.get_name()).add_to(m)
    # the view is fitted by map.js (under the banner, at fractional zoom)
    _strip_cdn(m.get_root())
    html_ = m.get_root().render()
    if page.offline and not page.tile_layers:
        _check_offline(html_.replace(page.assets, ""))
    size = len(html_.encode("utf-8"))
    budget = float(page.sec.get("size_budget_mb", DEFAULTS["size_budget_mb"]))
    if size > budget * 1e6:
        ctx.messages.append(
            f"the map is {size / 1e6:.1f} MB, over its {budget:g} MB budget ([map] "
            f"size_budget_mb): raise [map] simplify_m (now {ctx.simplify_m:g} m), lower "
            "[map] digits or max_image_px, or hide layers")
    plain = {id(fg): name for (_, fg), name in zip(ctx.groups, ctx.layers, strict=True)}
    info = {"bytes": size, "layers": [plain[id(fg)] for _, fg, _ in grouped],
            "warnings": list(ctx.messages), "basemap": page.basemap, "lang": page.lang,
            "offline": page.offline, "opening": cfg["decision"]}
    return html_, info


def build_map(study, results: StudyRun | MapData | None = None, *, offline: bool = True,
              basemap: str | None = None, lang: str | None = None, tiles: str | None = None,
              tianditu_key: str | None = None) -> str:
    """The study's map as one HTML page.

    Parameters
    ----------
    study : geo.study.Study
        Layers are drawn by role (boundary, boundaries, water, roads, rail, ports,
        parks, redlines, firms); ``label_zh`` / ``label_en`` name them.
    results : StudyRun or MapData, optional
        What to draw besides the study's layers: a finished run (``parksite run``) or
        the parts of one (:class:`MapData`: the gate, firms, sourcing tables,
        suitability layers, …); None draws the study's layers only.
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
    TypeError
        ``results`` is neither a StudyRun nor a MapData.
    """
    page, info = _build(study, _map_data(results), offline=offline, basemap=basemap, lang=lang,
                        tiles=tiles, tianditu_key=tianditu_key)
    _emit(info["warnings"])
    return page


def _map_data(results: StudyRun | MapData | None) -> MapData | None:
    """A run's map parts; a MapData as it is; anything else (a dict) is refused."""
    if results is None or isinstance(results, MapData):
        return results
    if isinstance(results, StudyRun):
        return MapData.from_run(results)
    raise TypeError("results must be a geo.pipeline.StudyRun or a geo.webmap.MapData, not "
                    f"{type(results).__name__}")


def _emit(messages: list[str]) -> None:
    for msg in messages:
        cat = MapSizeWarning if "budget" in msg else UserWarning
        warnings.warn(msg, cat, stacklevel=3)


def write_map(study, out_path, results: StudyRun | MapData | None = None, *,
              offline: bool = True,
              basemap: str | None = None, lang: str | None = None, tiles: str | None = None,
              tianditu_key: str | None = None, overwrite: bool = True) -> dict:
    """Build the map (see :func:`build_map`) and write it atomically to ``out_path``.

    ``results`` is a :class:`~geo.pipeline.StudyRun` (what ``parksite run`` passes) or,
    for a map of parts, a :class:`MapData`.

    Parameters
    ----------
    study : geo.study.Study
        The study, as for :func:`build_map`.
    out_path : str or pathlib.Path
        The HTML file to write (``.html`` or ``.htm``).
    results : StudyRun or MapData, optional
        What to draw; None draws the study's layers only.
    offline : bool, default True
        Inline every asset (needs ``make assets``), as for :func:`build_map`.
    basemap : {"none", "osm", "amap", "tianditu"}, optional
        Default: ``[map] basemap`` or ``"none"``; ``amap`` shifts overlays to GCJ-02.
    lang : {"zh", "en"}, optional
        Default: ``[map] lang`` or ``"zh"``.
    tiles : str, optional
        A local tile folder or a URL template; overrides ``basemap``.
    tianditu_key : str, optional
        Tianditu key (or env ``TIANDITU_KEY``); required for ``basemap="tianditu"``.
    overwrite : bool, default True
        Whether an existing ``out_path`` may be replaced.

    Returns
    -------
    dict
        ``path`` (str), ``bytes`` (int), ``layers`` (names in the layer control, in
        order), ``warnings`` (list of str; also issued with :func:`warnings.warn`),
        ``basemap``, ``lang``, ``offline``.

    Raises
    ------
    InputError
        Bad settings, unreadable rasters, a missing Tianditu key.
    OutputError
        ``out_path`` is not ``.html``, exists and ``overwrite`` is False, or cannot be
        written; offline assets missing.
    TypeError
        ``results`` is neither a StudyRun nor a MapData.
    """
    results = _map_data(results)
    out = check_map_path(out_path, overwrite=overwrite)
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

    Parameters
    ----------
    study : geo.study.Study
        The study whose layers are drawn around the park.
    layout : geo.layout.LayoutResult
        The park layout (plots, roads, setback, links, facilities).
    offline : bool, default True
        Inline every asset (needs ``make assets``), as for :func:`build_map`.
    basemap : {"none", "osm", "amap", "tianditu"}, optional
        Default: ``[map] basemap`` or ``"none"``; ``amap`` shifts overlays to GCJ-02.
    lang : {"zh", "en"}, optional
        Default: ``[map] lang`` or ``"zh"``.
    tiles : str, optional
        A local tile folder or a URL template; overrides ``basemap``.
    tianditu_key : str, optional
        Tianditu key (or env ``TIANDITU_KEY``); required for ``basemap="tianditu"``.

    Returns
    -------
    str
        The HTML text; problems are issued as warnings.

    Raises
    ------
    InputError
        The layout has no plots; bad settings.
    OutputError
        Offline assets missing (run ``make assets``).
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
    as :func:`write_map`.

    Parameters
    ----------
    study : geo.study.Study
        The study whose layers are drawn around the park.
    layout : geo.layout.LayoutResult
        The park layout.
    out_path : str or pathlib.Path
        The HTML file to write (``.html`` or ``.htm``).
    offline : bool, default True
        Inline every asset (needs ``make assets``), as for :func:`build_map`.
    basemap : {"none", "osm", "amap", "tianditu"}, optional
        Default: ``[map] basemap`` or ``"none"``; ``amap`` shifts overlays to GCJ-02.
    lang : {"zh", "en"}, optional
        Default: ``[map] lang`` or ``"zh"``.
    tiles : str, optional
        A local tile folder or a URL template; overrides ``basemap``.
    tianditu_key : str, optional
        Tianditu key (or env ``TIANDITU_KEY``); required for ``basemap="tianditu"``.
    overwrite : bool, default True
        Whether an existing ``out_path`` may be replaced.

    Returns
    -------
    dict
        As for :func:`write_map`: ``path``, ``bytes``, ``layers``, ``warnings``,
        ``basemap``, ``lang``, ``offline``.

    Raises
    ------
    InputError
        Bad settings, unreadable rasters, a missing Tianditu key, a layout
        without plots.
    OutputError
        ``out_path`` is not ``.html``, exists and ``overwrite`` is False, or cannot be
        written; offline assets missing.
    """
    out = check_map_path(out_path, overwrite=overwrite)
    page, info = _build(study, None, offline=offline, basemap=basemap, lang=lang,
                        tiles=tiles, tianditu_key=tianditu_key, out_dir=out.parent,
                        layout_focus=layout)
    write_text(out, page, overwrite=overwrite)
    _emit(info["warnings"])
    return {"path": str(out), **info}

