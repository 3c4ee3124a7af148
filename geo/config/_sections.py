"""The sections of a study file, one frozen dataclass each (see :mod:`geo.config`).

Every key is declared once, as a field made by :func:`~geo.config._base.setting`: the
annotation is its type; unit, bounds, layer role, default and a one-line doc are its
metadata. Foundation module: imports errors and the settings machinery only.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pyproj import CRS
from pyproj.exceptions import CRSError

from ._base import INVALID, is_number, replace, setting, suggest


def _no_role(study: Any, role: str, section: str) -> list[str]:
    return [] if study is None or role in study.declared_roles else \
        [f"{section}: the study has no layer with role = \"{role}\""]


# --------------------------------------------------------------------------- [study]

@dataclass(frozen=True)
class StudyMeta:
    """``[study]``: what the study is and its metric CRS."""

    SECTION = "study"
    name: str | None = setting(None, "short name (default: the study file's name)")
    title: str | None = setting(None, "title of maps and tables (default: the name)")
    description: str = setting("", "one paragraph for the model card")
    boundary: str | None = setting(None, "key of the layer that bounds the study (default: "
                                   "the boundary layer, else the extent of all layers)", role="")
    crs: str | None = setting(None, "metric CRS of distances and grids, e.g. \"EPSG:4549\" "
                              "(default: the Gauss–Krüger zone of the centroid)")
    sources: tuple[str, ...] = setting((), "data sources and dates listed in the model card")

    def check(self, study: Any) -> list[str]:
        """Problems that need several keys or the study (run by ``parse_section``).

        Checked: ``crs`` must be a CRS in metres, not degrees.

        Parameters
        ----------
        study
            The study the section belongs to (its layers and roles), or None when an
            override is checked without one (study checks are then skipped).

        Returns
        -------
        list of str
            One ``"section.key: what is wrong; fix"`` sentence per problem (``[]`` if none).
        """
        if self.crs is None:
            return []
        try:
            if CRS.from_user_input(self.crs).is_geographic:
                return [f"study.crs: {self.crs!r} is geographic (degrees); the study CRS must "
                        "be in metres, e.g. \"EPSG:4549\""]
        except CRSError:
            return [f"study.crs: {self.crs!r} is not a CRS; e.g. \"EPSG:4549\""]
        return []


# --------------------------------------------------------------------------- [layers.X]

def _text_that(ok: Callable[[str], bool], fix: str) -> Callable[..., Any]:
    """A ``parse`` hook: a non-empty text for which ``ok(text)`` holds, else the problem
    ``"{where}: {text!r} " + fix``."""
    def parse(v: Any, where: str, study: Any, problems: list[str]) -> Any:
        if not isinstance(v, str) or not v.strip():
            problems.append(f"{where}: must be a non-empty text, got {v!r}")
            return INVALID
        if not ok(v):
            problems.append(f"{where}: {v!r} {fix}")
            return INVALID
        return v
    return parse


def _accepted_by(call: Callable[[str], object], error: type[Exception]) -> Callable[[str], bool]:
    """``v → True`` when ``call(v)`` does not raise ``error``."""
    def ok(v: str) -> bool:
        try:
            call(v)
        except error:
            return False
        return True
    return ok


_crs_text = _text_that(_accepted_by(CRS.from_user_input, CRSError),
                       "is not a CRS; write it as \"EPSG:4549\"")
_encoding = _text_that(_accepted_by(codecs.lookup, LookupError),
                       "is not a known encoding; e.g. \"gb18030\"")


@dataclass(frozen=True)
class LayerConfig:
    """``[layers.KEY]``: one input layer (the study loader checks the file itself)."""

    SECTION = "layers.KEY"
    path: str = setting("", "file path, relative to the study file",
                        required="add path = \"../data/…\" (relative to the study file)")
    role: str = setting("", "what the layer is (parks, redlines, roads, firms, dem, landuse, "
                        "…; see the README's roles)", required="name what the layer is, e.g. "
                        "role = \"parks\"")
    layer: str | None = setting(None, "layer name inside a GeoPackage")
    coords: Literal["wgs84", "cgcs2000", "gcj02"] | None = setting(
        None, "datum of the coordinates (GCJ-02 is AMap/Gaode's datum)")
    crs: str | None = setting(None, "CRS override, e.g. \"EPSG:4549\"", parse=_crs_text)
    encoding: str | None = setting(None, "text encoding override, e.g. \"gb18030\"",
                                   parse=_encoding)
    id: str | None = setting(None, "field holding the feature id")
    name: str | None = setting(None, "field holding the feature name")
    lon: str | None = setting(None, "CSV: longitude column")
    lat: str | None = setting(None, "CSV: latitude column")
    label_zh: str | None = setting(None, "Chinese label for maps")
    label_en: str | None = setting(None, "English label for maps")
    synthetic: bool = setting(False, "the layer is synthetic (said so in maps and tables)")
    industry: str | None = setting(None, "field holding the industry (firms) or industries "
                                   "(parks)")
    class_: str | None = setting(None, "field holding the class (red lines: core, redline, "
                                 "restricted)", key="class")
    classes: Literal["igbp"] | None = setting(None, "class scheme of a landuse raster: "
                                              "\"igbp\" (MODIS) names its values on maps; "
                                              "otherwise maps show the values as codes")


# --------------------------------------------------------------------------- [redlines]

@dataclass(frozen=True)
class RedlinesConfig:
    """``[redlines]``: the red-line gate."""

    SECTION = "redlines"
    buffer_m: float = setting(0.0, "buffer around every zone counted as a conflict",
                              unit="m", ge=0)
    industry_field: str | None = setting(None, "park field holding its industries (default: "
                                         "the parks layer's industry option)")
    class_field: str | None = setting(None, "zone field holding the class core/redline/"
                                      "restricted (default: the layer's class option, else "
                                      "class)")
    use_firms: bool = setting(True, "add the industries of each park's firms (firms layer)")
    sectors: dict[str, tuple[str, ...]] = setting(
        {}, "table sector = [\"industry\", …] extending the built-in sector aliases")
    empty_ban_list: Literal["error", "review"] = setting(
        "error", "a restricted zone with no ban list: \"error\" (stop) or \"review\" (every "
        "park in it is flagged for review)")
    outside_urban_boundary: Literal["conflict", "review"] = setting(
        "conflict", "parks outside the urban development boundary 城镇开发边界: \"conflict\" "
        "or \"review\"")

    def check(self, study: Any) -> list[str]:
        """Problems that need several keys or the study (run by ``parse_section``).

        Checked: the study must have a redlines and a parks layer.

        Parameters
        ----------
        study
            The study the section belongs to (its layers and roles), or None when an
            override is checked without one (study checks are then skipped).

        Returns
        -------
        list of str
            One ``"section.key: what is wrong; fix"`` sentence per problem (``[]`` if none).
        """
        return _no_role(study, "redlines", "redlines") + _no_role(study, "parks", "redlines")


# --------------------------------------------------------------------------- [network]

def _layer_or_file(v: Any, where: str, study: Any, problems: list[str]) -> Any:
    if not isinstance(v, str) or not v:
        problems.append(f"{where}: must be a layer key or a file path, got {v!r}")
        return INVALID
    if v not in study.declared_layers and not (study.root / v).exists():
        problems.append(f"{where}: {v!r} is neither a layer of the study nor a file (paths are "
                        "relative to the study file)" + suggest(v, study.declared_layers))
        return INVALID
    return v


@dataclass(frozen=True)
class NetworkConfig:
    """``[network]``: the road network routed on."""

    SECTION = "network"
    layer: str | None = setting(None, "key of the roads layer to route on (default: the "
                                "study's only roads layer)", role="roads")
    snap_tolerance_m: float = setting(1.0, "end points closer than this join", unit="m", ge=0)
    max_snap_m: float = setting(5000.0, "points farther than this from every road are off "
                                "network", unit="m", gt=0)
    default_speed_kmh: float = setting(70.0, "speed of lines without class or maxspeed",
                                       unit="km/h", gt=0)
    access_speed_kmh: float = setting(20.0, "speed of the leg between a point and its road",
                                      unit="km/h", gt=0)
    class_field: str | None = setting(None, "field holding the road class (default: found "
                                      "among highway, class, fclass, …)")
    maxspeed_field: str | None = setting(None, "field holding the speed limit in km/h")
    oneway_field: str | None = setting(None, "field holding the one-way flag (yes/true/1, "
                                       "-1 = reversed)")
    trim_m: float = setting(1000.0, "service areas: buffer around reached roads", unit="m",
                            gt=0)
    speeds: dict[str, float] = setting({}, "table road class → speed overriding the "
                                       "defaults", unit="km/h", gt=0)
    connectors: str | None = setting(None, "key of a line layer (or a file) of added links: "
                                     "bridges, tunnels, ferries; fields penalty_min, kind, "
                                     "name_zh, name_en, source", parse=_layer_or_file)
    audit_radius_m: float = setting(25_000.0, "network audit: compare node pairs closer than "
                                    "this in a straight line", unit="m", gt=0)
    audit_min_detour: float = setting(3.0, "network audit: report pairs whose network "
                                      "distance is at least this many times the straight "
                                      "line", gt=1)
    audit_min_gap_m: float = setting(20_000.0, "network audit: … and at least this much "
                                     "longer", unit="m", gt=0)
    audit_sample_m: float = setting(2_000.0, "network audit: one source node per square of "
                                    "this side", unit="m", gt=0)
    audit_cluster_m: float = setting(15_000.0, "network audit: findings whose two ends both "
                                     "lie within this of another finding's ends describe the "
                                     "same gap", unit="m", gt=0)

    def check(self, study: Any) -> list[str]:
        """Problems that need several keys or the study (run by ``parse_section``).

        Checked: ``layer`` must be given when the study has several roads layers.

        Parameters
        ----------
        study
            The study the section belongs to (its layers and roles), or None when an
            override is checked without one (study checks are then skipped).

        Returns
        -------
        list of str
            One ``"section.key: what is wrong; fix"`` sentence per problem (``[]`` if none).
        """
        roads = [] if study is None else study.by_role("roads")
        if self.layer is None and len(roads) > 1:
            return [f"network.layer: the study has several roads layers "
                    f"({', '.join(s.key for s in roads)}); name one"]
        return []


# --------------------------------------------------------------------------- [sourcing]

def _one_or_many_paths(v: Any, where: str, study: Any, problems: list[str]) -> Any:
    items = v if isinstance(v, list) else [v]
    n0 = len(problems)
    for it in items:
        if not isinstance(it, str) or not it:
            problems.append(f"{where}: must be a path (text), got {it!r}")
        elif not (study.root / it).exists():
            problems.append(f"{where}: {it} not found (paths are relative to the study file)")
    return tuple(items) if len(problems) == n0 else INVALID


@dataclass(frozen=True)
class SourcingConfig:
    """``[sourcing]``: local supply rates and chain gaps."""

    SECTION = "sourcing"
    radius_km: float = setting(100.0, "sourcing radius by road", unit="km", gt=0)
    chains: tuple[str, ...] | None = setting(None, "chain map file or folder, or a list of "
                                             "them (default: the bundled chain maps)",
                                             parse=_one_or_many_paths)
    io_table: str | None = setting(None, "input–output coefficient CSV replacing the "
                                   "chain-map weights", path=True)
    supplier_edges: str | None = setting(None, "firm→supplier edge list CSV (firm_id, "
                                         "supplier_id, value)", path=True)
    firms: str | None = setting(None, "key of the firms layer (default: every layer with "
                                "role firms)", role="firms")
    targets: tuple[float, ...] = setting((0.4, 0.5), "local supply rate targets reported "
                                         "per park (shares)", gt=0, le=1)
    value_field: str = setting("annual_output_myuan", "firm field with annual output (M "
                               "yuan) for gap ranking")

    def check(self, study: Any) -> list[str]:
        """Problems that need several keys or the study (run by ``parse_section``).

        Checked: ``targets`` must list at least one share.

        Parameters
        ----------
        study
            The study the section belongs to (its layers and roles), or None when an
            override is checked without one (study checks are then skipped).

        Returns
        -------
        list of str
            One ``"section.key: what is wrong; fix"`` sentence per problem (``[]`` if none).
        """
        return [] if self.targets else ["sourcing.targets: must list at least one share, "
                                        "e.g. [0.4, 0.5]"]


# --------------------------------------------------------------------------- [parks]

#: Recommendation criteria and their default weights.
RECOMMEND_WEIGHTS: dict[str, float] = {"supply": 0.35, "customers": 0.25,
                                       "specialisation": 0.25, "land": 0.15}


def _weights(v: Any, where: str, study: Any, problems: list[str]) -> Any:
    if not isinstance(v, dict):
        problems.append(f"{where}: must be a table, e.g. {{ supply = 0.35, customers = 0.25, "
                        "specialisation = 0.25, land = 0.15 }")
        return INVALID
    n0 = len(problems)
    for c, w in v.items():
        if c not in RECOMMEND_WEIGHTS:
            problems.append(f"{where}.{c}: unknown criterion; use "
                            f"{', '.join(RECOMMEND_WEIGHTS)}{suggest(c, RECOMMEND_WEIGHTS)}")
        elif not (is_number(w) and w >= 0):
            problems.append(f"{where}.{c}: must be a number ≥ 0, got {w!r}")
    if v and len(problems) == n0 and not any(w > 0 for w in v.values()):
        problems.append(f"{where}: at least one weight must be > 0")
    return {**RECOMMEND_WEIGHTS, **v} if len(problems) == n0 else INVALID


@dataclass(frozen=True)
class RecommendConfig:
    """``[parks.recommend]``: ranking parks for an incoming firm."""

    SECTION = "parks.recommend"
    weights: dict[str, float] = setting(RECOMMEND_WEIGHTS, "table supply/customers/"
                                        "specialisation/land → weight (missing ones keep "
                                        "0.35/0.25/0.25/0.15)", parse=_weights)
    near_km: float = setting(40.0, "customers count as nearby within this distance by road",
                             unit="km", gt=0)
    neighbourhood_km: float = setting(10.0, "candidate regions: firms within this "
                                      "straight-line distance form their cluster for the "
                                      "location quotient", unit="km", gt=0)
    lq_cap: float = setting(3.0, "location quotient giving a full specialisation score", gt=0)
    land_factor: float = setting(10.0, "free land / need giving a full land score", gt=0)
    land_mu: float | None = setting(None, "land need of an incoming firm when not given "
                                    "(default: the median of its industry, else 50)",
                                    unit="亩", gt=0)
    industries: tuple[str, ...] = setting((), "industries `parksite run` ranks parks for "
                                          "(chain-map ids)")
    top: int = setting(5, "how many sites `parksite run` lists per industry (its tables and the "
                               "map's picker)", ge=1)


@dataclass(frozen=True)
class ParksConfig:
    """``[parks]``: park grading, land and chain completeness."""

    SECTION = "parks"
    investment_myuan_per_mu: float = setting(1.5, "grade threshold: fixed investment per 亩",
                                             unit="M yuan/亩", gt=0)
    output_myuan_per_mu: float = setting(2.5, "grade threshold: annual output per 亩",
                                         unit="M yuan/亩", gt=0)
    tax_myuan_per_mu: float | None = setting(None, "optional grade threshold: annual tax "
                                             "per 亩 (default unused)", unit="M yuan/亩", gt=0)
    d_ratio: float = setting(0.5, "grade D when every value/threshold ratio is below this",
                             gt=0, le=1)
    radius_km: float | None = setting(None, "radius by road for supply rates and chain "
                                      "completeness (default: [sourcing] radius_km)",
                                      unit="km", gt=0)
    net_land_share: float = setting(0.7, "share of a park's land that can go to firms after "
                                    "roads, green and public land", gt=0, le=1)
    land_field: str = setting("land_mu", "firm field: land (亩)")
    investment_field: str = setting("fixed_investment_myuan", "firm field: fixed investment "
                                    "(M yuan)")
    output_field: str = setting("annual_output_myuan", "firm field: annual output (M yuan)")
    tax_field: str = setting("annual_tax_myuan", "firm field: annual tax (M yuan)")
    recommend: RecommendConfig = setting(RecommendConfig(), "table [parks.recommend]: "
                                         "recommendation weights and distances")

    def check(self, study: Any) -> list[str]:
        """Problems that need several keys or the study (run by ``parse_section``).

        Checked: the study must have a parks layer.

        Parameters
        ----------
        study
            The study the section belongs to (its layers and roles), or None when an
            override is checked without one (study checks are then skipped).

        Returns
        -------
        list of str
            One ``"section.key: what is wrong; fix"`` sentence per problem (``[]`` if none).
        """
        return _no_role(study, "parks", "parks")

    def thresholds(self) -> dict[str, float]:
        """Measure → threshold (M yuan per 亩) of the measures graded on.

        Returns
        -------
        dict of str to float
            ``investment`` and ``output``, plus ``tax`` when ``tax_myuan_per_mu`` is set.
        """
        t = {"investment": float(self.investment_myuan_per_mu),
             "output": float(self.output_myuan_per_mu)}
        if self.tax_myuan_per_mu is not None:
            t["tax"] = float(self.tax_myuan_per_mu)
        return t


# --------------------------------------------------------------------------- [layout]

#: Sectors or industries that keep the polluter setback: chemicals, dyeing,
#: electroplating, papermaking and pharmaceutical production, battery recycling.
POLLUTING = ("chemicals", "pharmaceuticals", "dyeing", "electroplating", "papermaking",
             "battery_recycling")

#: Shared facilities sited by default. ``users``: "all" or a list of industries;
#: ``weight``: "land" (亩) or "count"; ``polluting``: keeps the polluter setback.
DEFAULT_FACILITIES: tuple[dict[str, Any], ...] = (
    {"id": "wastewater", "name_zh": "污水处理厂", "name_en": "Wastewater treatment plant",
     "users": "all", "weight": "land", "p": 1, "polluting": True},
    {"id": "pilot_base", "name_zh": "共享中试基地", "name_en": "Shared pilot base",
     "users": ["smart_equipment", "precision_machinery", "pilot_production", "biomed_rd", "cro",
               "battery_recycling", "cathode_materials"],
     "weight": "count", "p": 1, "polluting": False},
)


def _facilities(v: Any, where: str, study: Any, problems: list[str]) -> Any:
    if not isinstance(v, (list, tuple)):
        problems.append(f"{where}: must be a list of tables ([[layout.facilities]])")
        return INVALID
    n0 = len(problems)
    for i, f in enumerate(v):
        if not isinstance(f, dict) or "id" not in f:
            problems.append(f"{where}[{i}]: must be a table with at least id")
            continue
        p = f.get("p", 1)
        if not (isinstance(p, int) and not isinstance(p, bool) and p >= 1):
            problems.append(f"{where}[{i}].p: must be a whole number ≥ 1")
        if f.get("weight", "count") not in ("count", "land"):
            problems.append(f"{where}[{i}].weight: \"count\" or \"land\"")
        u = f.get("users", "all")
        if not (u == "all" or (isinstance(u, (list, tuple)) and
                               all(isinstance(x, str) for x in u))):
            problems.append(f"{where}[{i}].users: \"all\" or a list of industries")
    return tuple(v) if len(problems) == n0 else INVALID


@dataclass(frozen=True)
class LayoutConfig:
    """``[layout]``: subdividing a park into plots and siting firms and facilities."""

    SECTION = "layout"
    plot_mu: float = setting(50.0, "target plot size", unit="亩", gt=0)
    road_spacing_m: float = setting(400.0, "distance between internal road centre lines",
                                    unit="m", gt=0)
    road_width_m: float = setting(24.0, "width of internal roads", unit="m", ge=0)
    min_plot_mu: float = setting(5.0, "pieces smaller than this stay green land", unit="亩",
                                 ge=0)
    water_setback_m: float = setting(30.0, "setback from water", unit="m", ge=0)
    redline_setback_m: float = setting(100.0, "setback of every plot from core/red-line "
                                       "zones", unit="m", ge=0)
    polluter_setback_m: float = setting(500.0, "setback of polluting firms from red lines "
                                        "and residential/service areas", unit="m", ge=0)
    polluting: tuple[str, ...] = setting(POLLUTING, "sectors or industries that are "
                                         "polluting")
    sensitive_roles: tuple[str, ...] = setting(("residential", "amenities"), "layer roles "
                                               "that polluters keep away from")
    include_existing: bool = setting(True, "existing firms of the register occupy plots")
    time_limit_s: float = setting(50.0, "local search time limit", unit="s", gt=0)
    max_passes: int = setting(100, "local search passes at most", ge=0)
    seed: int = setting(0, "random seed of the baseline and the search order", ge=0)
    facilities: tuple[dict[str, Any], ...] = setting(
        DEFAULT_FACILITIES, "list of {id, name_zh, name_en, users, weight, p, polluting}",
        parse=_facilities)
    park: str | None = setting(None, "park laid out by `parksite run` (with firms)")
    firms: str | None = setting(None, "incoming firms CSV for `parksite run` (relative to "
                                "the study file)", path=True)

    def check(self, study: Any) -> list[str]:
        """Problems that need several keys or the study (run by ``parse_section``).

        Checked: ``road_width_m`` below ``road_spacing_m``,
        ``park`` and ``firms`` given together, a parks layer.

        Parameters
        ----------
        study
            The study the section belongs to (its layers and roles), or None when an
            override is checked without one (study checks are then skipped).

        Returns
        -------
        list of str
            One ``"section.key: what is wrong; fix"`` sentence per problem (``[]`` if none).
        """
        p = []
        if self.road_width_m >= self.road_spacing_m:
            p.append(f"layout.road_width_m: {self.road_width_m:g} m leaves no land between "
                     f"roads {self.road_spacing_m:g} m apart; make it smaller than "
                     "road_spacing_m")
        if (self.park is None) != (self.firms is None) and study is not None:
            p.append("layout.park / layout.firms: give both (the park to lay out and the "
                     "incoming firms CSV) or neither")
        return p + _no_role(study, "parks", "layout")

    @classmethod
    def from_study(cls, study: Any, **overrides: Any) -> LayoutConfig:
        """The study's ``[layout]`` (defaults if ``study`` is None) with validated
        overrides; see :func:`replace`.

        Parameters
        ----------
        study
            The study, or None for the defaults.
        **overrides
            Field name → value (units as declared, e.g. ``plot_mu`` in 亩,
            ``road_spacing_m`` in metres); None values are ignored.

        Returns
        -------
        LayoutConfig

        Raises
        ------
        InputError
            An override is unknown or out of range, listing every problem.
        """
        base = study.config.layout if study is not None else cls()
        return replace(base, study, **overrides)


# --------------------------------------------------------------------------- [map]

BASEMAPS = ("none", "osm", "amap", "tianditu")
LANGS = ("zh", "en")
RESULT_LAYERS = ("conflicts", "firms", "service_areas", "suitability", "exclusions",
                 "stability", "candidates", "candidates_top", "symbiosis",
                 "recommendations", "layout", "park_grade", "park_dominant", "network_audit")


@dataclass(frozen=True)
class MapConfig:
    """``[map]``: the offline HTML map."""

    SECTION = "map"
    basemap: Literal["none", "osm", "amap", "tianditu"] = setting("none", "default "
                                                                  "background")
    lang: Literal["zh", "en"] = setting("zh", "default language of labels")
    tiles: str | None = setting(None, "a local tile folder ({z}/{x}/{y}.png inside) or tile "
                                "URL template")
    tiles_coords: Literal["wgs84", "gcj02"] = setting("wgs84", "datum of those tiles (gcj02 "
                                                      "= AMap-style tiles)")
    tiles_attribution: str | None = setting(None, "attribution text shown for those tiles")
    simplify_m: float = setting(25.0, "display simplification tolerance (0 = none)",
                                unit="m", ge=0, le=5000)
    digits: int = setting(5, "decimals kept in display coordinates (5 ≈ 1 m)", ge=3, le=8)
    size_budget_mb: float = setting(10.0, "warn when the HTML file is larger than this",
                                    unit="MB", ge=0.1, le=500)
    max_image_px: int = setting(1024, "longest side of raster overlays", unit="px", ge=64,
                                le=8192)
    hidden: tuple[str, ...] | None = setting(None, "layer keys or result layers ("
                                             + ", ".join(RESULT_LAYERS) + ") hidden when "
                                             "the map opens")
    title: str | None = setting(None, "map title (default: the study title)")
    attribution: str | None = setting(None, "data attribution shown at the bottom of the map")
    sources: tuple[str, ...] = setting((), "data sources and dates listed in the model card")
    data_date: str | None = setting(None, "date of the data shown in the title banner and on "
                                    "the print page (default: the newest layer file's date)")

    def check(self, study: Any) -> list[str]:
        """Problems that need several keys or the study (run by ``parse_section``).

        Checked: every ``hidden`` name is a layer key or a result layer.

        Parameters
        ----------
        study
            The study the section belongs to (its layers and roles), or None when an
            override is checked without one (study checks are then skipped).

        Returns
        -------
        list of str
            One ``"section.key: what is wrong; fix"`` sentence per problem (``[]`` if none).
        """
        if self.hidden is None or study is None:
            return []
        known = sorted(set(study.declared_layers) | set(RESULT_LAYERS))
        return [f"map.hidden: no layer {x!r}" + (suggest(x, known) or
                                                 f"; layers: {', '.join(known)}")
                for x in self.hidden if x not in known]



# --------------------------------------------------------------------------- [compute]

_address = _text_that(lambda v: "://" in v,
                      "is not a scheduler address; write it like \"tcp://host:8786\"")
#: How a local cluster's workers run (``[compute] workers``).
WORKER_KINDS = ("processes", "threads")
_worker_kind = _text_that(lambda v: v in WORKER_KINDS,
                          f"is not one of {', '.join(WORKER_KINDS)}")


@dataclass(frozen=True)
class ComputeConfig:
    """``[compute]``: where the scale path (Dask) runs and the in-memory budget."""

    SECTION = "compute"
    scheduler: str | None = setting(None, "address of an existing dask.distributed "
                                    "scheduler, e.g. \"tcp://host:8786\" (default: a "
                                    "LocalCluster on this machine)", parse=_address)
    memory_gb: float | None = setting(None, "memory budget of the in-memory engine; larger "
                                      "grids run chunked (default: a share of RAM)",
                                      unit="GiB", gt=0)
    n_workers: int | None = setting(None, "workers of the local cluster (default: one per "
                                    "core)", ge=1)
    workers: str = setting("processes", "how the local cluster's workers run: \"processes\" "
                           "(default) or \"threads\" of one process (the lowest memory: one "
                           "interpreter and one copy of the layers; numpy and shapely release "
                           "the GIL)", parse=_worker_kind)
    cache_dir: str | None = setting(None, "folder (relative to the study file) where built "
                                    "road networks are cached (geo.network.cache); default: "
                                    "no cache, nothing written")
