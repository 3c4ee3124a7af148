"""Building the folium map: the layers in drawing order, then the controls, the view,
the offline check and the size budget.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element

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
from ._context import _Ctx
from ._controls import _CSS, _JS_HEAD, _Attribution, _Controls
from ._firms import _draw_firms
from ._layout import _draw_layout
from ._parks import _draw_parks, _draw_redlines
from ._rasters import _draw_dem, _draw_landuse, _draw_suitability
from ._results import (
    _as_wgs84,
    _draw_conflicts,
    _draw_recommendations,
    _draw_service_areas,
    _draw_symbiosis,
)
from ._settings import DEFAULTS, MapSizeWarning, _settings, check_map_path, check_options
from ._text import _esc
from ._tiles import _tiles_layer


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
    _draw_audit(ctx, m, results.get("network_audit"))
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
    candidates, model card), ``recommendations``, ``layout`` and ``network_audit``
    (the network audit's findings); ``model_card`` lists what the run could not judge
    (``StudyRun.warnings``: "no red-line layer: gate not run").
    """
    res: dict[str, Any] = {}
    if run.redlines is not None:
        res.update(redline_conflicts=run.redlines.conflicts,
                   redline_parks=run.redlines.parks)
    if run.warnings:
        res["model_card"] = {"not judged / 未评估": list(run.warnings)}
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
    if run.audit is not None:
        res["network_audit"] = run.audit.findings
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

