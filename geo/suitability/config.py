"""The ``[suitability]`` section: exclusion codes, transforms, criteria and
:class:`SuitabilityConfig`, parsed and validated.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..ahp import pairwise_matrix
from ..errors import ModelError
from ..study import unknown_keys

# --------------------------------------------------------------------------------------
# Exclusion codes
# --------------------------------------------------------------------------------------

#: Reason codes of ``exclusion.tif``: code → (Chinese, English). 0 = scored.
EXCLUSION_CODES: dict[int, tuple[str, str]] = {
    0: ("参与评价", "scored (not excluded)"),
    1: ("研究区外", "outside the study area"),
    2: ("生态保护红线核心区", "ecological red line: core zone"),
    3: ("生态保护红线", "ecological red line"),
    4: ("限制区禁止该产业", "restricted zone that bans this industry"),
    5: ("红线缓冲区", "red-line buffer"),
    6: ("水域（海域、湖泊）", "water (sea, lakes)"),
    7: ("坡度超限", "slope above the threshold"),
    8: ("无评价数据", "no criterion has data"),
    9: ("永久基本农田", "permanent basic farmland"),
    10: ("城镇开发边界外", "outside the urban development boundary"),
    11: ("土地利用不宜建设（建成区、水域等）", "land use excluded (built-up, water, …)"),
    12: ("现有园区用地", "land of existing parks (occupied)"),
}
#: Colours (RGBA) of the codes in ``exclusion.tif``'s colour table (QGIS shows them).
EXCLUSION_COLOURS: dict[int, tuple[int, int, int, int]] = {
    0: (255, 255, 255, 0), 1: (0, 0, 0, 0), 2: (128, 0, 38, 255), 3: (215, 48, 39, 255),
    4: (244, 109, 67, 255), 5: (253, 174, 97, 255), 6: (69, 117, 180, 255),
    7: (140, 81, 10, 255), 8: (150, 150, 150, 255), 9: (255, 217, 47, 255),
    10: (190, 186, 218, 255), 11: (99, 99, 99, 255), 12: (166, 86, 40, 255),
}
#: Names of the codes of :data:`EXCLUSION_CODES`, for the code that sets them.
CODE_SCORED = 0
CODE_OUTSIDE_STUDY = 1
CODE_REDLINE_CORE = 2
CODE_REDLINE = 3
CODE_RESTRICTED = 4
CODE_REDLINE_BUFFER = 5
CODE_WATER = 6
CODE_STEEP = 7
CODE_NO_DATA = 8
CODE_FARMLAND = 9
CODE_OUTSIDE_URBAN = 10
CODE_LANDUSE = 11
CODE_PARKS_OCCUPIED = 12
_CLASS_CODE = {"core": CODE_REDLINE_CORE, "redline": CODE_REDLINE}

TransformKind = Literal["linear", "logistic", "gaussian", "classes", "categorical", "identity"]
CriterionKind = Literal["distance", "slope", "elevation", "supplier_access", "category"]
CRITERION_KINDS = ("distance", "slope", "elevation", "supplier_access", "category")

#: Default class table for slope (degrees → score), after the scoring used in
#: published dual-evaluation (双评价) practice: 0–2° 1.0, 2–8° 0.8, 8–15° 0.6, > 15° 0.4.
SLOPE_CLASSES = {"type": "classes", "breaks": [2, 8, 15], "scores": [1.0, 0.8, 0.6, 0.4]}

_BYTES_PER_CELL_FIXED = 36  # masks, codes, score, stability, labels, raw values, DEM


# --------------------------------------------------------------------------------------
# Transforms
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Transform:
    """A value → 0–1 score function. NaN (unknown) stays NaN.

    Kinds and parameters (units are those of the raw value: metres, degrees, …)

    ``linear``       ``low``, ``high``, ``direction`` {"increasing", "decreasing"}:
                     0 at ``low`` → 1 at ``high`` (or the reverse), clipped.
    ``logistic``     ``midpoint``, ``spread`` (> 0), ``direction``: a sigmoid,
                     0.5 at the midpoint, 0.27/0.73 one spread away.
    ``gaussian``     ``ideal``, ``sigma`` (> 0): 1 at the ideal value.
    ``classes``      ``breaks`` (ascending), ``scores`` (one more than breaks):
                     value ≤ breaks[0] → scores[0], ≤ breaks[1] → scores[1], …
    ``categorical``  ``map`` {category: score}, ``default`` (score of others).
    ``identity``     the value is already a 0–1 score (clipped).
    """

    kind: TransformKind
    params: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        p = self.params
        x = np.asarray(x)
        if self.kind == "categorical":
            raise TypeError("categorical transforms map categories; use map_categories()")
        xf = x.astype(np.float64, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.kind == "linear":
                lo, hi = float(p["low"]), float(p["high"])
                s = np.clip((xf - lo) / (hi - lo), 0.0, 1.0)
                if p.get("direction", "increasing") == "decreasing":
                    s = 1.0 - s
            elif self.kind == "logistic":
                z = (xf - float(p["midpoint"])) / float(p["spread"])
                if p.get("direction", "increasing") == "decreasing":
                    z = -z
                s = 1.0 / (1.0 + np.exp(-z))
            elif self.kind == "gaussian":
                s = np.exp(-0.5 * ((xf - float(p["ideal"])) / float(p["sigma"])) ** 2)
            elif self.kind == "classes":
                scores = np.asarray(p["scores"], dtype=np.float64)
                idx = np.digitize(np.where(np.isnan(xf), 0.0, xf),
                                  np.asarray(p["breaks"], dtype=np.float64), right=True)
                s = scores[idx]
            elif self.kind == "identity":
                s = np.clip(xf, 0.0, 1.0)
            else:  # pragma: no cover - validated
                raise ModelError(f"unknown transform {self.kind!r}")
        s = np.where(np.isnan(xf), np.nan, s)
        return s.astype(np.float32)

    def map_categories(self, values: Sequence[object]) -> np.ndarray:
        """Scores of categories (for ``categorical``)."""
        m = {str(k): float(v) for k, v in dict(self.params.get("map", {})).items()}
        d = float(self.params.get("default", 0.0))
        return np.array([m.get(str(v), d) for v in values], dtype=np.float32)

    def saturation(self) -> float | None:
        """The raw value beyond which the score no longer changes (for padding the
        grid when computing distances), or None."""
        p = self.params
        if self.kind == "linear":
            return max(float(p["low"]), float(p["high"]))
        if self.kind == "logistic":
            return float(p["midpoint"]) + 6 * float(p["spread"])
        if self.kind == "gaussian":
            return float(p["ideal"]) + 4 * float(p["sigma"])
        if self.kind == "classes":
            return float(p["breaks"][-1]) if p["breaks"] else None
        return None

    def describe(self) -> str:
        p = self.params
        if self.kind == "linear":
            arrow = "1→0" if p.get("direction", "increasing") == "decreasing" else "0→1"
            return f"linear {arrow} from {p['low']:g} to {p['high']:g}"
        if self.kind == "logistic":
            return (f"logistic {p.get('direction', 'increasing')}, midpoint {p['midpoint']:g}, "
                    f"spread {p['spread']:g}")
        if self.kind == "gaussian":
            return f"gaussian ideal {p['ideal']:g}, sigma {p['sigma']:g}"
        if self.kind == "classes":
            edges = [f"≤{b:g}" for b in p["breaks"]] + [f">{p['breaks'][-1]:g}"]
            return "classes " + ", ".join(f"{e}→{s:g}" for e, s in
                                          zip(edges, p["scores"], strict=False))
        if self.kind == "categorical":
            return "categorical " + ", ".join(f"{k}→{v:g}" for k, v in p["map"].items()) + \
                f", other→{float(p.get('default', 0)):g}"
        return "identity (0–1)"

    def as_dict(self) -> dict:
        return {"type": self.kind, **{k: v for k, v in self.params.items()}}


_TRANSFORM_PARAMS = {
    "linear": ({"low", "high"}, {"direction"}),
    "logistic": ({"midpoint", "spread"}, {"direction"}),
    "gaussian": ({"ideal", "sigma"}, set()),
    "classes": ({"breaks", "scores"}, set()),
    "categorical": ({"map"}, {"default"}),
    "identity": (set(), set()),
}


def _num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def parse_transform(spec: object, where: str, problems: list[str]) -> Transform | None:
    """A :class:`Transform` from a TOML value (``"identity"`` or a table with ``type``)."""
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict):
        problems.append(f"{where}: must be a table such as {{ type = \"linear\", low = 0, "
                        "high = 10000, direction = \"decreasing\" }")
        return None
    kind = spec.get("type")
    if kind not in _TRANSFORM_PARAMS:
        close = difflib.get_close_matches(str(kind), list(_TRANSFORM_PARAMS), n=1)
        problems.append(f"{where}.type: {kind!r} is not a transform; " +
                        (f"did you mean {close[0]!r}?" if close else
                         f"one of {', '.join(_TRANSFORM_PARAMS)}"))
        return None
    need, opt = _TRANSFORM_PARAMS[kind]
    params = {k: v for k, v in spec.items() if k != "type"}
    n0 = len(problems)
    for k in need - set(params):
        problems.append(f"{where}.{k}: missing for a {kind} transform")
    for k in set(params) - need - opt:
        problems.append(f"{where}.{k}: not a parameter of a {kind} transform (it takes "
                        f"{', '.join(sorted(need | opt)) or 'none'})")
    if len(problems) > n0:
        return None
    if "direction" in params and params["direction"] not in ("increasing", "decreasing"):
        problems.append(f"{where}.direction: {params['direction']!r} must be \"increasing\" "
                        "or \"decreasing\"")
    if kind == "linear":
        if not (_num(params["low"]) and _num(params["high"])) or params["low"] >= params["high"]:
            problems.append(f"{where}: low ({params['low']!r}) must be a number below high "
                            f"({params['high']!r}); use direction = \"decreasing\" to reverse")
    elif kind == "logistic":
        if not _num(params["midpoint"]) or not _num(params["spread"]) or params["spread"] <= 0:
            problems.append(f"{where}: midpoint must be a number and spread a number > 0")
    elif kind == "gaussian":
        if not _num(params["ideal"]) or not _num(params["sigma"]) or params["sigma"] <= 0:
            problems.append(f"{where}: ideal must be a number and sigma a number > 0")
    elif kind == "classes":
        b, s = params["breaks"], params["scores"]
        if not isinstance(b, list) or not all(_num(v) for v in b) or \
                any(b2 <= b1 for b1, b2 in zip(b, b[1:], strict=False)) or not b:
            problems.append(f"{where}.breaks: must be ascending numbers, e.g. [2, 8, 15]")
        elif not isinstance(s, list) or len(s) != len(b) + 1 or \
                not all(_num(v) and 0 <= v <= 1 for v in s):
            problems.append(f"{where}.scores: must be {len(b) + 1} scores in 0–1 (one more "
                            "than breaks)")
    elif kind == "categorical":
        m = params["map"]
        if not isinstance(m, dict) or not m or \
                not all(_num(v) and 0 <= v <= 1 for v in m.values()):
            problems.append(f"{where}.map: must be a table of category = score (0–1)")
        d = params.get("default", 0.0)
        if not _num(d) or not 0 <= d <= 1:
            problems.append(f"{where}.default: must be a score in 0–1")
    if len(problems) > n0:
        return None
    return Transform(kind, params)


# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Criterion:
    """One criterion of the model.

    Attributes
    ----------
    name : str
        Unique name (used in the AHP matrix and the model card).
    kind : {"distance", "slope", "elevation", "supplier_access", "category"}
    layer : str | None
        Layer key or role (``distance``, ``category``; the DEM for ``slope``).
    transform : Transform
    weight : float | None
        Direct weight (ignored with AHP).
    industry_only : bool
        Used only when scoring for an industry (``supplier_access`` always is).
    options : dict
        ``pad_m`` (distance), ``field`` (category), ``radius_km``, ``sample_m``
        (supplier access), ``label_zh``, ``label_en``.
    """

    name: str
    kind: CriterionKind
    layer: str | None
    transform: Transform
    weight: float | None = None
    industry_only: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label_en(self) -> str:
        return str(self.options.get("label_en", self.name))

    @property
    def label_zh(self) -> str:
        return str(self.options.get("label_zh", self.name))


@dataclass(frozen=True)
class SuitabilityConfig:
    """The ``[suitability]`` section, validated. Every field is documented in
    :data:`SECTION_KEYS` (key → meaning, unit and default)."""

    cell_m: float = 250.0
    origin: tuple[float, float] = (0.0, 0.0)
    criteria: tuple[Criterion, ...] = ()
    ahp_names: tuple[str, ...] | None = None
    ahp_matrix: np.ndarray | None = None
    allow_inconsistent: bool = False
    aggregation: Literal["wlc", "owa"] = "wlc"
    andness: float | None = None
    order_weights: tuple[float, ...] | None = None
    redline_classes: tuple[str, ...] = ("core", "redline")
    redline_buffer_m: float = 0.0
    water_layers: tuple[str, ...] | None = None
    max_slope_deg: float | None = 25.0
    min_area_mu: float = 1500.0
    max_area_mu: float | None = None
    top_pct: float = 10.0
    top_n: int = 5
    runs: int = 200
    perturbation: float = 0.2
    seed: int = 0
    max_memory_gb: float = 3.0
    road_layer: str | None = None
    landuse: LandUseRule | None = None
    parks_occupied: bool = True
    outside_urban_boundary: Literal["exclude", "allow"] = "exclude"


@dataclass(frozen=True)
class LandUseRule:
    """``[suitability.landuse]``: how the classes of a categorical land-use raster count.

    Attributes
    ----------
    layer
        Key of a raster layer with role ``landuse``.
    exclude
        Class values that are hard exclusions (built-up land, water, wetlands…).
    penalise
        Class value → factor in (0, 1] multiplying the suitability score (cropland as an
        approximate stand-in for farmland, for instance).
    label_zh, label_en
        What the classes are, for the legend and the model card.
    """

    layer: str
    exclude: tuple[int, ...] = ()
    penalise: tuple[tuple[int, float], ...] = ()
    label_zh: str = "土地利用"
    label_en: str = "land use"


#: Keys of ``[suitability]`` with their meaning (unit, default).
SECTION_KEYS: dict[str, str] = {
    "cell_m": "grid cell size in metres (default 250)",
    "origin": "[x, y] metres in the study CRS that cell edges align to (default [0, 0])",
    "criteria": "array of tables [[suitability.criteria]] (name, kind, layer, transform, weight)",
    "ahp": "table: criteria = [names], matrix = [[…]] on Saaty's 1–9 scale, allow_inconsistent",
    "aggregation": "\"wlc\" (weighted linear combination, default) or \"owa\"",
    "andness": "OWA: 0 = max (any criterion), 0.5 = WLC, 1 = min (all criteria must be met)",
    "order_weights": "OWA: weights by rank from the best to the worst criterion score",
    "constraints": "table: redline_classes, redline_buffer_m, water, max_slope_deg",
    "min_area_mu": "smallest candidate region in 亩 (default 1500)",
    "max_area_mu": "largest candidate region in 亩: larger regions are cut into the parts "
                   "lying in square tiles of that area (side √max_area, tiles aligned to the "
                   "grid), each part a candidate if ≥ min_area_mu (default: no limit)",
    "top_pct": "candidate cells are the top X % of scored cells (default 10)",
    "top_n": "stability: share of runs in which a region stays in the top N (default 5)",
    "runs": "Monte Carlo runs for stability (default 200)",
    "perturbation": "Monte Carlo: each weight × U(1 − p, 1 + p), renormalised (default 0.2)",
    "seed": "Monte Carlo seed (default 0)",
    "max_memory_gb": "refuse grids that would need more memory (default 3)",
    "road_layer": "layer key of the road network for candidates' distance (default: role roads)",
    "landuse": "table: layer (a raster with role landuse), exclude = [class values], "
               "penalise = {\"class\" = factor in (0, 1]}, label_zh, label_en",
}
_CONSTRAINT_KEYS = {"redline_classes", "redline_buffer_m", "water", "max_slope_deg",
                    "parks_occupied", "outside_urban_boundary"}
_LANDUSE_KEYS = {"layer", "exclude", "penalise", "label_zh", "label_en"}
_CRITERION_KEYS = {"name", "kind", "layer", "transform", "weight", "industry_only", "pad_m",
                   "field", "radius_km", "sample_m", "label_zh", "label_en"}


def _unknown(keys, known, where, problems):
    problems.extend(unknown_keys(keys, known, where))


def _layer_exists(study, key: str) -> bool:
    if key in study.layers:
        return True
    if hasattr(study, "declared_roles") and key in study.declared_roles:
        return True
    return any(s.role == key for s in study.layers.values())


def parse_section(table: Mapping[str, Any], study, problems: list[str]) -> SuitabilityConfig:
    """Parse ``[suitability]``, appending every problem (``"suitability.KEY: …; fix"``)."""
    w = "suitability"
    _unknown(table, SECTION_KEYS, w, problems)
    kw: dict[str, Any] = {}
    _parse_settings(table, study, w, kw, problems)
    _parse_constraints(table, study, w, kw, problems)
    criteria = _parse_criteria(table, study, w, problems)
    kw["criteria"] = tuple(criteria)
    _parse_weights(table, criteria, w, kw, problems)
    return SuitabilityConfig(**kw)


def _number(table: Mapping[str, Any], key: str, w: str, kw: dict[str, Any],
            problems: list[str], lo=None, hi=None, integer=False, strict_lo=False) -> None:
    """``kw[key]`` = the number ``table[key]`` if it is in range, else a problem."""
    if key not in table:
        return
    v = table[key]
    ok = _num(v) and (not integer or float(v).is_integer())
    if ok and lo is not None:
        ok = v > lo if strict_lo else v >= lo
    if ok and hi is not None:
        ok = v <= hi
    if not ok:
        rng = f" in {'(' if strict_lo else '['}{lo}, {hi if hi is not None else '∞'}]" \
            if lo is not None else ""
        problems.append(f"{w}.{key}: {v!r} must be a{'n integer' if integer else ' number'}"
                        f"{rng}")
    else:
        kw[key] = int(v) if integer else float(v)


def _parse_settings(table: Mapping[str, Any], study, w: str, kw: dict[str, Any],
                    problems: list[str]) -> None:
    """The scalar settings of ``[suitability]``: grid, areas, runs, aggregation, roads."""
    def number(key, lo=None, hi=None, integer=False, strict_lo=False):
        _number(table, key, w, kw, problems, lo, hi, integer, strict_lo)

    number("cell_m", 0, None, strict_lo=True)
    number("min_area_mu", 0)
    number("max_area_mu", 0, None, strict_lo=True)
    if "max_area_mu" in kw and kw["max_area_mu"] < 2 * kw.get("min_area_mu", 1500.0):
        problems.append(f"{w}.max_area_mu: {kw['max_area_mu']:g} 亩 must be at least twice "
                        f"min_area_mu ({kw.get('min_area_mu', 1500.0):g} 亩) so that tile parts "
                        "can reach the minimum; raise it or remove it")
    number("top_pct", 0, 100, strict_lo=True)
    number("top_n", 1, None, integer=True)
    number("runs", 0, 100_000, integer=True)
    number("perturbation", 0, 0.99)
    number("seed", 0, None, integer=True)
    number("max_memory_gb", 0, None, strict_lo=True)
    number("andness", 0, 1)
    if "origin" in table:
        o = table["origin"]
        if not isinstance(o, list) or len(o) != 2 or not all(_num(v) for v in o):
            problems.append(f"{w}.origin: must be [x, y] in metres, e.g. [0, 0]")
        else:
            kw["origin"] = (float(o[0]), float(o[1]))
    agg = table.get("aggregation", "wlc")
    if agg not in ("wlc", "owa"):
        problems.append(f"{w}.aggregation: {agg!r} must be \"wlc\" or \"owa\"")
    else:
        kw["aggregation"] = agg
    if agg == "wlc" and ("andness" in table or "order_weights" in table):
        problems.append(f"{w}.andness/order_weights: only used with aggregation = \"owa\"")
    if "andness" in table and "order_weights" in table:
        problems.append(f"{w}: give andness or order_weights, not both")
    if "road_layer" in table:
        rl = table["road_layer"]
        if not isinstance(rl, str) or rl not in study.layers:
            problems.append(f"{w}.road_layer: {rl!r} is not a layer key of the study")
        else:
            kw["road_layer"] = rl


def _parse_constraints(table: Mapping[str, Any], study, w: str, kw: dict[str, Any],
                       problems: list[str]) -> None:
    """``[suitability.constraints]`` and ``[suitability.landuse]``."""
    cons = table.get("constraints", {})
    if not isinstance(cons, dict):
        problems.append(f"{w}.constraints: must be a table")
        cons = {}
    _unknown(cons, _CONSTRAINT_KEYS, f"{w}.constraints", problems)
    rc = cons.get("redline_classes", ["core", "redline"])
    if not isinstance(rc, list) or not all(c in _CLASS_CODE for c in rc):
        problems.append(f"{w}.constraints.redline_classes: {rc!r} must list classes among "
                        "\"core\", \"redline\" (restricted zones apply per industry)")
    else:
        kw["redline_classes"] = tuple(rc)
    if "redline_buffer_m" in cons:
        b = cons["redline_buffer_m"]
        if not _num(b) or b < 0:
            problems.append(f"{w}.constraints.redline_buffer_m: {b!r} must be metres ≥ 0")
        else:
            kw["redline_buffer_m"] = float(b)
    else:
        rb = study.section("redlines").get("buffer_m", 0.0)
        kw["redline_buffer_m"] = float(rb) if _num(rb) and rb >= 0 else 0.0
    if "water" in cons:
        wl = cons["water"]
        if not isinstance(wl, list) or not all(isinstance(k, str) for k in wl):
            problems.append(f"{w}.constraints.water: must be a list of layer keys, e.g. "
                            "[\"sea\", \"lakes\"]")
        else:
            for k in wl:
                if k not in study.layers and not _layer_exists(study, k):
                    problems.append(f"{w}.constraints.water: no layer {k!r} in the study")
            kw["water_layers"] = tuple(wl)
    if "max_slope_deg" in cons:
        s = cons["max_slope_deg"]
        if s is False:
            kw["max_slope_deg"] = None
        elif not _num(s) or not 0 < s <= 90:
            problems.append(f"{w}.constraints.max_slope_deg: {s!r} must be degrees in (0, 90] "
                            "(or false for no slope limit)")
        else:
            kw["max_slope_deg"] = float(s)

    if "parks_occupied" in cons:
        if not isinstance(cons["parks_occupied"], bool):
            problems.append(f"{w}.constraints.parks_occupied: must be true or false")
        else:
            kw["parks_occupied"] = cons["parks_occupied"]
    if "outside_urban_boundary" in cons:
        v = cons["outside_urban_boundary"]
        if v not in ("exclude", "allow"):
            problems.append(f"{w}.constraints.outside_urban_boundary: {v!r}; choose "
                            "\"exclude\" (default) or \"allow\" (candidates outside are "
                            "flagged for review)")
        else:
            kw["outside_urban_boundary"] = v
    if "landuse" in table:
        kw["landuse"] = _parse_landuse(table["landuse"], study, f"{w}.landuse", problems)


def _parse_criteria(table: Mapping[str, Any], study, w: str,
                    problems: list[str]) -> list[Criterion]:
    """``[[suitability.criteria]]``: the valid criteria, in order."""
    crit_tbl = table.get("criteria")
    criteria: list[Criterion] = []
    if crit_tbl is None:
        problems.append(f"{w}.criteria: missing; add [[suitability.criteria]] tables with "
                        "name, kind, layer, transform")
        crit_tbl = []
    elif not isinstance(crit_tbl, list) or not all(isinstance(c, dict) for c in crit_tbl):
        problems.append(f"{w}.criteria: must be an array of tables [[suitability.criteria]]")
        crit_tbl = []
    names_seen: set[str] = set()
    for i, c in enumerate(crit_tbl):
        crit = _parse_criterion(c, i, study, w, names_seen, problems)
        if crit is not None:
            criteria.append(crit)
    if crit_tbl and not criteria and not problems:
        problems.append(f"{w}.criteria: no valid criterion")
    return criteria


def _parse_criterion(c: dict, i: int, study, w: str, names_seen: set[str],
                     problems: list[str]) -> Criterion | None:
    """One ``[[suitability.criteria]]`` table, or None after appending its problems."""
    cw = f"{w}.criteria[{i}]"
    name = c.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{cw}.name: missing; give each criterion a unique name")
        return None
    cw = f"{w}.criteria[{i}] ({name})"
    if name in names_seen:
        problems.append(f"{cw}.name: {name!r} is used twice; names must be unique")
    names_seen.add(name)
    _unknown(c, _CRITERION_KEYS, cw, problems)
    kind = c.get("kind")
    if kind not in CRITERION_KINDS:
        close = difflib.get_close_matches(str(kind), CRITERION_KINDS, n=1)
        problems.append(f"{cw}.kind: {kind!r} is not a criterion kind; " +
                        (f"did you mean {close[0]!r}?" if close else
                         f"one of {', '.join(CRITERION_KINDS)}"))
        return None
    layer = c.get("layer")
    if kind in ("slope", "elevation") and layer is None:
        layer = "dem"
    if kind in ("distance", "category", "slope", "elevation"):
        if not isinstance(layer, str):
            problems.append(f"{cw}.layer: missing; the layer key (or role) to measure from")
        elif not _layer_exists(study, layer):
            close = difflib.get_close_matches(layer, list(study.layers), n=1)
            problems.append(f"{cw}.layer: the study has no layer {layer!r}" +
                            (f"; did you mean {close[0]!r}?" if close else
                             f"; layers: {', '.join(study.layers)}"))
    if kind == "category" and not isinstance(c.get("field"), str):
        problems.append(f"{cw}.field: a category criterion needs the field holding "
                        "the category")
    tdefault = SLOPE_CLASSES if kind == "slope" else \
        ("identity" if kind == "supplier_access" else None)
    tspec = c.get("transform", tdefault)
    if tspec is None:
        problems.append(f"{cw}.transform: missing; e.g. {{ type = \"linear\", low = 0, "
                        "high = 10000, direction = \"decreasing\" }")
        return None
    tr = parse_transform(tspec, f"{cw}.transform", problems)
    if tr is None:
        return None
    if (tr.kind == "categorical") != (kind == "category"):
        problems.append(f"{cw}.transform: categorical transforms go with kind = "
                        "\"category\" (and only them)")
    weight = c.get("weight")
    if weight is not None and (not _num(weight) or weight < 0):
        problems.append(f"{cw}.weight: {weight!r} must be a number ≥ 0")
        weight = None
    opts = {k: c[k] for k in ("pad_m", "field", "radius_km", "sample_m", "label_zh",
                              "label_en") if k in c}
    for k in ("pad_m", "radius_km", "sample_m"):
        if k in opts and (not _num(opts[k]) or opts[k] <= 0):
            problems.append(f"{cw}.{k}: {opts[k]!r} must be a positive number")
    io = bool(c.get("industry_only", kind == "supplier_access"))
    if kind == "supplier_access" and not io:
        problems.append(f"{cw}.industry_only: supplier access needs an industry; it "
                        "cannot be false")
    return Criterion(name, kind, layer, tr, float(weight) if weight is not None else None,
                     io, opts)


def _parse_weights(table: Mapping[str, Any], criteria: list[Criterion], w: str,
                   kw: dict[str, Any], problems: list[str]) -> None:
    """Weights: ``[suitability.ahp]`` or direct ``weight = …``, and OWA order weights."""
    names = [c.name for c in criteria]
    ahp = table.get("ahp")
    if ahp is not None:
        if not isinstance(ahp, dict):
            problems.append(f"{w}.ahp: must be a table with criteria and matrix")
        else:
            _unknown(ahp, {"criteria", "matrix", "allow_inconsistent"}, f"{w}.ahp", problems)
            an = ahp.get("criteria", names)
            if not isinstance(an, list) or sorted(map(str, an)) != sorted(names):
                missing = sorted(set(names) - set(an if isinstance(an, list) else []))
                extra = sorted(set(an if isinstance(an, list) else []) - set(names))
                problems.append(f"{w}.ahp.criteria: must name every criterion once (missing: "
                                f"{', '.join(missing) or '-'}; not a criterion: "
                                f"{', '.join(map(str, extra)) or '-'})")
            elif "matrix" not in ahp:
                problems.append(f"{w}.ahp.matrix: missing; one row per criterion in the order "
                                f"of ahp.criteria ({', '.join(an)})")
            else:
                try:
                    kw["ahp_matrix"] = pairwise_matrix(ahp["matrix"], an,
                                                       where=f"{w}.ahp.matrix")
                    kw["ahp_names"] = tuple(an)
                except ModelError as exc:
                    problems.append(str(exc))
            ai = ahp.get("allow_inconsistent", False)
            if not isinstance(ai, bool):
                problems.append(f"{w}.ahp.allow_inconsistent: must be true or false")
            else:
                kw["allow_inconsistent"] = ai
        if any(c.weight is not None for c in criteria):
            problems.append(f"{w}.criteria: weights are given both directly (weight = …) and "
                            "by [suitability.ahp]; keep one")
    elif criteria:
        missing = [c.name for c in criteria if c.weight is None]
        if missing:
            problems.append(f"{w}.criteria: no weight for {', '.join(missing)}; give every "
                            "criterion a weight = …, or a [suitability.ahp] matrix")
        elif sum(c.weight for c in criteria if not c.industry_only) <= 0:
            problems.append(f"{w}.criteria: the weights sum to 0")
    if "order_weights" in table:
        ow = table["order_weights"]
        if not isinstance(ow, list) or len(ow) != len(criteria) or \
                not all(_num(v) and v >= 0 for v in ow) or sum(ow) <= 0:
            problems.append(f"{w}.order_weights: must be {len(criteria)} numbers ≥ 0 (one per "
                            "rank, best score first), e.g. [0, …, 1] for \"all criteria met\"")
        else:
            kw["order_weights"] = tuple(float(v) for v in ow)
    if kw.get("aggregation") == "owa" and "andness" not in kw and "order_weights" not in kw:
        kw["andness"] = 0.5


def _parse_landuse(tbl: object, study, w: str, problems: list[str]) -> LandUseRule | None:
    """``[suitability.landuse]`` → :class:`LandUseRule` (problems appended)."""
    if not isinstance(tbl, dict):
        problems.append(f"{w}: must be a table (layer, exclude, penalise)")
        return None
    _unknown(tbl, _LANDUSE_KEYS, w, problems)
    layer = tbl.get("layer")
    if not isinstance(layer, str) or layer not in study.layers or \
            study.layers[layer].role != "landuse":
        problems.append(f"{w}.layer: {layer!r} must be the key of a layer with role = "
                        "\"landuse\"")
        return None
    ex = tbl.get("exclude", [])
    if not isinstance(ex, list) or not all(isinstance(v, int) for v in ex):
        problems.append(f"{w}.exclude: must be a list of class values, e.g. [13, 0]")
        ex = []
    pen = tbl.get("penalise", {})
    factors: list[tuple[int, float]] = []
    if not isinstance(pen, dict):
        problems.append(f"{w}.penalise: must be a table {{\"class\" = factor}}")
        pen = {}
    for k, v in pen.items():
        if not str(k).strip().lstrip("-").isdigit() or not _num(v) or not 0 < v <= 1:
            problems.append(f"{w}.penalise.{k}: must map a class value to a factor in (0, 1], "
                            f"got {v!r}")
        else:
            factors.append((int(k), float(v)))
    return LandUseRule(layer, tuple(ex), tuple(factors),
                       str(tbl.get("label_zh", "土地利用")), str(tbl.get("label_en", "land use")))


def validate_section(table: dict, study) -> list[str]:
    """Problems in a study file's ``[suitability]`` section (the study loader calls
    this); each names the key and the fix. The AHP consistency ratio is checked when
    the model runs (:class:`~geo.errors.ModelError`)."""
    problems: list[str] = []
    parse_section(table, study, problems)
    return problems


def load_config(study) -> SuitabilityConfig:
    """The study's ``[suitability]`` section as a config (defaults if it has none).

    Raises
    ------
    ModelError
        Listing every problem.
    """
    problems: list[str] = []
    table = study.section("suitability")
    if not table:
        raise ModelError(f"{study.path}: no [suitability] section; add one with "
                         "[[suitability.criteria]] tables (see layers/yrd.toml)")
    cfg = parse_section(table, study, problems)
    if problems:
        raise ModelError(f"{study.path}: [suitability] has {len(problems)} problem(s):\n" +
                         "\n".join(f"  - {p}" for p in problems))
    return cfg
