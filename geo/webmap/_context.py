"""The drawing context (language, display CRS and precision, legend, messages) and the
GeoJSON helpers every layer uses.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element
from folium.utilities import JsCode

from ..crs import geoms_wgs84_to_gcj02
from ..errors import ParksiteError
from ..register import study_chains
from ._i18n import _T, _names
from ._style import _PALETTE, industry_colours
from ._text import _esc, _isnull


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
    groups: list[tuple[str, Any]] = field(default_factory=list)
    user_hidden: set[str] = field(default_factory=set)

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

    def colour(self, industry: Any) -> str:
        """The industry's colour, the same in every layer (keyed by the chain map; an
        industry the chain map lacks gets a colour from its name's checksum)."""
        if "_colours" not in self.__dict__:
            self.__dict__["_colours"] = industry_colours(
                self.chains.ids if self.chains is not None else [])
        key = "" if _isnull(industry) else str(industry)
        known = self.__dict__["_colours"].get(key)
        return known or _PALETTE[zlib.crc32(key.encode("utf-8")) % len(_PALETTE)]

    def chain_name(self, chain_id: str) -> str:
        ch = self.chains
        if ch is not None and chain_id in ch.chains.index:
            return str(ch.chains.at[chain_id, "name_zh" if self.lang == "zh" else "name_en"])
        return chain_id


def _study_chains(study):
    """The chain maps the study's sourcing uses (bundled ones by default), or None when
    they cannot be read (names then stay ids)."""
    try:
        return study_chains(study)
    except (ParksiteError, OSError):
        return None


def _park_geoms(ctx: _Ctx) -> tuple[dict[str, str], dict[str, Any]]:
    """Park id → name in the map's language (not escaped), and id → WGS84 geometry."""
    names: dict[str, str] = {}
    geoms: dict[str, Any] = {}
    for spec in ctx.study.by_role("parks"):
        pk = ctx.study.load(spec.key)
        if "id" not in pk:
            continue
        nm, _ = _names(pk, ctx.lang)
        ids = pk["id"].astype(str)
        names.update(zip(ids, nm.astype(str), strict=True))
        geoms.update(zip(ids, pk.to_crs(4326).geometry, strict=True))
    return names, geoms


def _zone_names(ctx: _Ctx) -> dict[str, str]:
    """Red-line zone id → name in the map's language (not escaped); cached."""
    if "_zones" not in ctx.__dict__:
        out: dict[str, str] = {}
        for spec in ctx.study.by_role("redlines"):
            z = ctx.study.load(spec.key)
            if "id" in z:
                nm, _ = _names(z, ctx.lang)
                out.update(zip(z["id"].astype(str), nm.astype(str), strict=True))
        ctx.__dict__["_zones"] = out
    return ctx.__dict__["_zones"]


def _park_names(ctx: _Ctx) -> dict[str, str]:
    """Park id → name in the map's language (not escaped)."""
    return _park_geoms(ctx)[0]


def _result_frame(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """A result table ready to draw (fresh index; WGS84 when it has no CRS), or None when
    there is nothing to draw."""
    if gdf is None or len(gdf) == 0:
        return None
    gdf = gdf.reset_index(drop=True)
    return gdf.set_crs(4326) if gdf.crs is None else gdf


#: Basemap-like layers (districts, water, roads, service areas) are simplified this many
#: times harder and kept with one decimal fewer (about 10 m): they are context, not data.
COARSE = 3.0


def _display_geoms(ctx: _Ctx, gdf: gpd.GeoDataFrame, *, merge_lines: bool = False,
                   simplify: bool = True, coarse: bool = False,
                   tolerance_m: float | None = None) -> np.ndarray:
    """WGS84 geometries → display copies: simplified in metres (``[map] simplify_m``, or
    :data:`COARSE` times that for context layers, or ``tolerance_m``), shifted, rounded."""
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
    tol = ctx.simplify_m * (COARSE if coarse else 1.0) if tolerance_m is None else tolerance_m
    if simplify and not is_point and tol > 0 and len(geoms):
        m = np.asarray(gpd.GeoSeries(geoms, crs=4326).to_crs(ctx.metric_crs).values,
                       dtype=object)
        m = shapely.simplify(m, tol, preserve_topology=True)
        geoms = np.asarray(gpd.GeoSeries(m, crs=ctx.metric_crs).to_crs(4326).values,
                           dtype=object)
    if ctx.gcj:
        geoms = geoms_wgs84_to_gcj02(geoms)
    d = ctx.digits - 1 if coarse else ctx.digits
    return shapely.transform(geoms, lambda c: np.round(c, d))


def _chunk_lines(geoms: np.ndarray, cells: int = 8) -> np.ndarray:
    """Line parts gathered into at most ``cells``² MultiLineStrings by the grid cell of
    their centre (few features, each with tight bounds, so a canvas skips what is out
    of view)."""
    parts = shapely.get_parts(geoms)
    parts = parts[shapely.length(parts) > 0]
    if len(parts) == 0:
        return parts
    c = shapely.centroid(parts)
    x, y = shapely.get_x(c), shapely.get_y(c)
    ix = np.minimum(((x - x.min()) / max(np.ptp(x), 1e-9) * cells).astype(int), cells - 1)
    iy = np.minimum(((y - y.min()) / max(np.ptp(y), 1e-9) * cells).astype(int), cells - 1)
    cell = ix * cells + iy
    order = np.argsort(cell, kind="stable")
    _, idx = np.unique(cell[order], return_inverse=True)
    return shapely.multilinestrings(parts[order], indices=idx)


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

#: The roles whose features the map's search indexes at opening: their layers are built
#: at load even when hidden; every other hidden layer is built when first shown.
SEARCHED_ROLES = ("parks", "redlines", "boundaries", "firms")


class _CompactGeoJson(folium.GeoJson):
    """:class:`folium.GeoJson` whose embedded data is written without the blanks
    ``json.dumps`` puts after ``,`` and ``:`` (a tenth of a map's bytes). The policy of
    folium's template environment is changed only while this layer renders.

    A ``lazy`` layer in a group hidden at opening adds its features when the group is
    first shown (``parksiteLater`` in ``map.js``): the browser then only pre-parses its
    data at load instead of building a Leaflet layer per feature."""

    lazy = False

    def render(self, **kwargs):
        policies = self._template.environment.policies
        before = policies["json.dumps_kwargs"]
        policies["json.dumps_kwargs"] = {**before, "separators": (",", ":")}
        try:
            super().render(**kwargs)
        finally:
            policies["json.dumps_kwargs"] = before
        if self.lazy and not getattr(self._parent, "show", True):
            self._defer_data()

    def _defer_data(self) -> None:
        """Wrap the rendered ``<name>_add(data);`` line (one line: the data is JSON) in
        ``parksiteLater(<group>, function() {…})``."""
        script = self.get_root().script  # type: ignore[attr-defined]
        name = self.get_name()
        lines = script._children[name].render().split("\n")
        call = f"{name}_add("
        at = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith(call))
        group = self._parent
        assert group is not None  # rendered inside its feature group
        lines[at] = (f"parksiteLater({group.get_name()}, function() {{ "
                     f"{lines[at].strip()} }});")
        script.add_child(_Text("\n".join(lines)), name=name)


class _Text(Element):
    """Finished script text, rendered as it is (not again as a template)."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


def _geojson(ctx: _Ctx, group: folium.FeatureGroup, geoms: np.ndarray, props: list[dict],
             styles: list[dict], *, pane: str | None = None, point_radius: float | None = None,
             interactive: bool = True, canvas: bool = False) -> int:
    """Add one GeoJSON layer to ``group``; props hold escaped ``t`` (tooltip) and ``p``
    (popup) HTML, and for searchable features ``q`` (search text) and ``n`` (name);
    styles[i] is feature i's Leaflet path style. ``canvas`` draws the layer on one canvas
    per pane (dense lines), simplified per zoom. Returns features drawn."""
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
    if canvas:
        kwargs["renderer"] = JsCode(f"parksiteCanvas({json.dumps(pane or 'overlayPane')})")
        kwargs["smooth_factor"] = 1.5
    marker = folium.CircleMarker(radius=point_radius, fill=True) \
        if point_radius is not None else None
    gj = _CompactGeoJson(fc, style_function=style_fn, control=False, marker=marker,
                        on_each_feature=_BIND if interactive else None, **kwargs)
    key = next((k for k, g in ctx.groups if g is group), None)
    spec = ctx.study.layers.get(key) if key is not None else None
    gj.lazy = spec is None or spec.role not in SEARCHED_ROLES
    gj.add_to(group)
    return len(fc["features"])


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
    fg.add_to(m)
    ctx.groups.append((key, fg))
    return fg


def _layer(ctx: _Ctx, m: folium.Map, key: str, label: str, gdf: gpd.GeoDataFrame, *,
           simplify: bool = True, coarse: bool = False, also: str | None = None
           ) -> tuple[folium.FeatureGroup, np.ndarray, pd.Series, pd.Series]:
    """The opening every layer shares: its group in the layer control, its display
    geometries (WGS84 in → display CRS out) and its names in the map's language and the
    other one (not escaped)."""
    fg = _add_group(ctx, m, key, label, also=also)
    names, other = _names(gdf, ctx.lang)
    return fg, _display_geoms(ctx, gdf, simplify=simplify, coarse=coarse), names, other

