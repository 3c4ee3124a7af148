"""Site suitability: where is land suitable for a new park, or for a given industry?

A multi-criteria grid that can be defended in a review meeting (domain notes):

* **Grid** — square cells of ``cell_m`` metres in the study's metric CRS, aligned to
  ``origin``, masked by the study boundary.
* **Criteria** — each a layer turned into a raw value per cell (distance in metres
  to features, exact point-to-geometry distances by blocks of cells with an STRtree
  (:func:`geo.grid.distance_to_features`); slope in degrees from the
  DEM reprojected onto the grid; supplier access for an industry from
  :mod:`geo.sourcing`; a category from a polygon field) and then into a 0–1 score
  by a :class:`Transform` (linear, logistic, Gaussian, class table, categorical map).
* **Weights** — direct, or an AHP pairwise matrix (:mod:`geo.ahp`): principal
  eigenvector, consistency ratio; CR ≥ 0.10 is a :class:`~geo.errors.ModelError`
  naming the most inconsistent pair unless ``allow_inconsistent = true``.
* **Aggregation** — weighted linear combination (``"wlc"``) or ordered weighted
  averaging (``"owa"``, Yager's quantifier-guided OWA with importance weights) with
  a single ANDness (1 = every criterion must be met = min, 0.5 = WLC, 0 = max) or
  explicit order weights.
* **Hard constraints are masks, not scores.** Red-line ``core`` and ``redline``
  zones (and a buffer), water, slope above a threshold and — for a given industry —
  ``restricted`` zones that ban it make a cell *excluded*: nodata in the score,
  with the reason in ``exclusion.tif`` (:data:`EXCLUSION_CODES`). No weight set can
  bring an excluded cell back.
* **Rank stability** — Monte Carlo perturbation of the weights (±20 %, N = 200,
  seeded): per cell the probability of being in the top X %, per candidate region
  the share of runs in which it stays in the top N. The runs reuse the criterion
  stack; nothing is recomputed per run.

Unknown values (cells the DEM does not cover, so slope is unknown) are **skipped**:
the criterion drops out of that cell and the remaining weights are renormalised
(in OWA the cell's quantifier runs over its known criteria only). A cell is never
scored as if its elevation were 0 m. The model card records how many cells were
scored without each criterion.

The whole grid is processed in row blocks; the largest arrays held at once are the
criterion stack (criteria × cells × 4 bytes) and one distance grid.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import difflib
import json
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely

from .. import __version__
from ..ahp import AHPResult, ahp_weights, check_consistency, pairwise_matrix
from ..errors import InputError, ModelError
from ..grid import (
    Grid,
    distance_to_features,
    grid_for_bounds,
    rasterize_mask,
    reproject_to_grid,
    slope_degrees,
    write_geotiff,
)
from ..io import check_writable, write_gpkg, write_text
from ..register import sector_model_for, study_chains
from ..sectors import SectorModel, split_industries
from ..units import MU_M2, m2_to_ha, m2_to_mu

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
_CLASS_CODE = {"core": 2, "redline": 3}

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
    from .study import unknown_keys

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

    def number(key, lo=None, hi=None, integer=False, strict_lo=False):
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

    # constraints
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

    # criteria
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
        cw = f"{w}.criteria[{i}]"
        name = c.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{cw}.name: missing; give each criterion a unique name")
            continue
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
            continue
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
            continue
        tr = parse_transform(tspec, f"{cw}.transform", problems)
        if tr is None:
            continue
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
        criteria.append(Criterion(name, kind, layer, tr, float(weight) if weight is not None
                                  else None, io, opts))
    if crit_tbl and not criteria and not problems:
        problems.append(f"{w}.criteria: no valid criterion")
    kw["criteria"] = tuple(criteria)
    names = [c.name for c in criteria]

    # weights
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
    return SuitabilityConfig(**kw)

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


# --------------------------------------------------------------------------------------
# Weights and aggregation
# --------------------------------------------------------------------------------------

def criterion_weights(cfg: SuitabilityConfig, active: Sequence[Criterion]
                      ) -> tuple[np.ndarray, AHPResult | None]:
    """Weights (summing to 1) of the active criteria, and the AHP result if any.

    With AHP, criteria left out of this run (industry-only ones without an
    industry) are dropped from the matrix before the eigenvector is taken.

    Raises
    ------
    ModelError
        CR ≥ 0.10 without ``allow_inconsistent`` (names the worst pair).
    """
    names = [c.name for c in active]
    if cfg.ahp_matrix is not None and cfg.ahp_names is not None:
        idx = [cfg.ahp_names.index(n) for n in names]
        sub = cfg.ahp_matrix[np.ix_(idx, idx)]
        res = ahp_weights(sub, names)
        check_consistency(res, allow_inconsistent=cfg.allow_inconsistent)
        return res.weights.astype(np.float64), res
    w = np.array([c.weight for c in active], dtype=np.float64)
    if w.sum() <= 0:
        raise ModelError("suitability.criteria: the weights of the criteria used sum to 0")
    return w / w.sum(), None


def andness_to_alpha(andness: float) -> float:
    """Exponent α of the RIM quantifier Q(r) = r^α whose ANDness (1 − Yager's orness
    ∫Q = 1/(1+α)) is ``andness``: α = andness / (1 − andness)."""
    if andness >= 1.0:
        return math.inf
    return andness / (1.0 - andness)


def orness(order_weights: Sequence[float]) -> float:
    """Yager's orness of order weights (best score first): 1 = max, 0 = min."""
    v = np.asarray(order_weights, dtype=float)
    v = v / v.sum()
    n = len(v)
    return float(np.sum((n - 1 - np.arange(n)) * v) / (n - 1)) if n > 1 else 0.5


def aggregate(x: np.ndarray, weights: np.ndarray, *, method: str = "wlc",
              andness: float | None = None, order_weights: Sequence[float] | None = None
              ) -> np.ndarray:
    """Combine criterion scores into suitability, for one or many weight sets.

    Parameters
    ----------
    x : (m, k) array
        Criterion scores 0–1 of m cells; NaN = unknown (skipped, weights renormalised).
    weights : (k,) or (r, k) array
        Criterion (importance) weights; r weight sets give r scores per cell.
    method : {"wlc", "owa"}
        ``"owa"``: Yager's (1996) quantifier-guided OWA with importance weights.
        Scores are ordered from best to worst; with S_j the cumulative normalised
        weight of the j best, order weight v_j = Q(S_j) − Q(S_{j−1}). Q(r) = r^α
        from ``andness`` (α = andness/(1−andness): 1 → min, 0.5 → WLC, 0 → max) or
        the piecewise-linear quantifier through the cumulative ``order_weights``.

    Returns
    -------
    (m,) or (m, r) float32 array; NaN where no criterion is known.
    """
    x = np.asarray(x, dtype=np.float32)
    single = np.ndim(weights) == 1
    wt = np.atleast_2d(np.asarray(weights, dtype=np.float32))  # (r, k)
    valid = ~np.isnan(x)
    xf = np.where(valid, x, 0.0).astype(np.float32)
    vf = valid.astype(np.float32)
    if method == "wlc" or (andness is not None and order_weights is None and
                           abs(andness - 0.5) < 1e-12):
        num = xf @ wt.T
        if valid.all():  # common case: no unknown value in the block
            out = num / wt.sum(axis=1)[None, :]
        else:
            den = vf @ wt.T
            with np.errstate(invalid="ignore", divide="ignore"):
                out = np.where(den > 0, num / den, np.nan)
        out = out.astype(np.float32, copy=False)
        return out[:, 0] if single else out
    # OWA
    m, k = x.shape
    order = np.argsort(-np.where(valid, x, -np.inf), axis=1, kind="stable")  # best first
    xs = np.take_along_axis(xf, order, axis=1)  # (m, k)
    vs = np.take_along_axis(vf, order, axis=1)
    u = wt[:, order] * vs[None, :, :]  # (r, m, k)
    tot = u.sum(axis=2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.cumsum(u, axis=2) / tot
    s = np.clip(np.nan_to_num(s, nan=0.0), 0.0, 1.0)
    if order_weights is not None:
        ow = np.asarray(order_weights, dtype=np.float64)
        ow = ow / ow.sum()
        qx = np.linspace(0.0, 1.0, len(ow) + 1)
        qy = np.concatenate([[0.0], np.cumsum(ow)])
        q = np.interp(s, qx, qy).astype(np.float32)
    else:
        alpha = andness_to_alpha(float(andness if andness is not None else 0.5))
        if math.isinf(alpha):
            q = (s >= 1.0 - 1e-6).astype(np.float32)
        elif alpha == 0.0:
            q = (s > 1e-9).astype(np.float32)
        else:
            q = np.power(s, np.float32(alpha), dtype=np.float32)
    # importance-0 criteria (unknown in the cell) add no step to Q
    q = np.where(u > 0, q, 0.0)
    q = np.maximum.accumulate(q, axis=2)
    v = np.diff(q, axis=2, prepend=np.float32(0.0)).astype(np.float32, copy=False)
    out = np.einsum("rmk,mk->mr", v, xs, dtype=np.float32)
    out[tot[:, :, 0].T <= 0] = np.nan
    return out[:, 0] if single else out


def perturbed_weights(weights: np.ndarray, runs: int, perturbation: float,
                      seed: int) -> np.ndarray:
    """``runs`` weight sets: each weight × U(1 − p, 1 + p), renormalised (seeded)."""
    rng = np.random.default_rng(seed)
    f = rng.uniform(1.0 - perturbation, 1.0 + perturbation, size=(runs, len(weights)))
    w = weights[None, :] * f
    return w / w.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------

@dataclass
class SuitabilityResult:
    """What :func:`run_suitability` produced.

    Attributes
    ----------
    suitability_tif, exclusion_tif, stability_tif : Path | None
        GeoTIFFs (None if no ``out_dir`` was given).
    candidates_gpkg, model_card_json : Path | None
    candidates : geopandas.GeoDataFrame
        Ranked candidate regions, EPSG:4326.
    model_card : dict
    exclusion_codes : dict[int, str]
        code → label (``"生态保护红线 ecological red line"``), :data:`EXCLUSION_CODES`.
    exclusion_counts : dict[int, dict]
        code → {"zh", "en", "cells", "area_km2"}.
    grid : Grid
    score, exclusion, stability : numpy.ndarray
        The rasters in memory (score/stability NaN where excluded).
    """

    grid: Grid
    score: np.ndarray
    exclusion: np.ndarray
    stability: np.ndarray | None
    candidates: gpd.GeoDataFrame
    model_card: dict
    exclusion_codes: dict[int, str]
    exclusion_counts: dict[int, dict]
    weights: dict[str, float]
    ahp: AHPResult | None = None
    suitability_tif: Path | None = None
    exclusion_tif: Path | None = None
    stability_tif: Path | None = None
    candidates_gpkg: Path | None = None
    model_card_json: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def as_map_results(self) -> dict:
        """What the map module draws: rasters, code table, regions, model card."""
        return {
            "suitability_tif": self.suitability_tif,
            "exclusion_tif": self.exclusion_tif,
            "exclusion_codes": self.exclusion_codes,
            "candidates": self.candidates,
            "model_card": self.model_card,
            "stability_tif": self.stability_tif,
        }


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------

Progress = Callable[[str, float, float], None]


def _noop(desc: str, done: float, total: float) -> None:  # noqa: ARG001
    return None


def study_grid(study, cfg: SuitabilityConfig) -> Grid:
    """The analysis grid: ``cell_m`` cells aligned to ``origin`` covering the study
    boundary in the study's metric CRS."""
    crs = study.metric_crs
    b = gpd.GeoSeries([study.boundary], crs=4326).to_crs(crs).total_bounds
    return grid_for_bounds(tuple(b), crs, cfg.cell_m, origin=cfg.origin)


def memory_estimate_bytes(grid: Grid, n_criteria: int, pad_cells: int = 0) -> int:
    """Rough peak memory of a run (criterion stack + fixed per-cell arrays + one
    distance transform on the padded grid)."""
    padded = (grid.width + 2 * pad_cells) * (grid.height + 2 * pad_cells)
    return int(grid.size * (4 * n_criteria + _BYTES_PER_CELL_FIXED) + padded * 16)


def _check_memory(grid: Grid, cfg: SuitabilityConfig, n_criteria: int, pad_cells: int) -> None:
    need = memory_estimate_bytes(grid, n_criteria, pad_cells) + 300e6  # + interpreter, libs
    limit = cfg.max_memory_gb * 1e9
    if need > limit:
        cell = cfg.cell_m * math.sqrt(need / limit) * 1.05
        raise ModelError(
            f"suitability: a grid of {grid.width:,} × {grid.height:,} = {grid.size:,} cells of "
            f"{cfg.cell_m:g} m with {n_criteria} criteria needs about {need / 1e9:.1f} GB, over "
            f"max_memory_gb = {cfg.max_memory_gb:g}. Use cell_m ≥ {math.ceil(cell):d} (or "
            "raise max_memory_gb if the machine has the memory)")


def _layer_metric(study, key: str) -> gpd.GeoDataFrame:
    g = study.load(key) if key in study.layers else study.load_role(key)
    if g is None:
        raise InputError(f"{study.path}: no layer {key!r}")
    return g.to_crs(study.metric_crs)


def _source_info(study, key: str) -> dict:
    spec = study.spec(key) if key in study.layers or key != "dem" else \
        study.by_role("dem")[0]
    p = Path(spec.path).resolve()
    base = study.root.resolve().parent
    info = {"layer": spec.key, "path": p.relative_to(base).as_posix()
            if p.is_relative_to(base) else str(p), "role": spec.role}
    if spec.layer:
        info["gpkg_layer"] = spec.layer
    with contextlib.suppress(OSError):
        info["file_date"] = _dt.date.fromtimestamp(p.stat().st_mtime).isoformat()
    if spec.options.get("label_en"):
        info["label_en"] = spec.options["label_en"]
    if spec.options.get("label_zh"):
        info["label_zh"] = spec.options["label_zh"]
    if spec.options.get("synthetic"):
        info["synthetic"] = True
    return info


@dataclass(frozen=True)
class IndustryProfile:
    """How ``--industry`` is understood: the names judged against zone bans, their
    regulated sectors (GB/T 4754-2017, :mod:`geo.sectors`), and the chain-map industry
    used for supplier access (None if unknown)."""

    given: str
    names: tuple[str, ...]
    sectors: frozenset[str]
    supply_industry: str | None
    model: SectorModel

    def verdict(self, banned: object) -> str:
        """{"banned", "review", "allowed"} in a restricted zone banning ``banned``.

        ``review`` (an industry the model does not recognise, or one only partly under a
        ban) excludes the zone too: a grid cannot be reviewed cell by cell, so the
        doubt goes to the red line and the model card says so.
        """
        bans = split_industries(banned)
        return self.model.is_banned(self.names, bans).status if bans else "review"

    def banned_by(self, banned: object) -> bool:
        """Whether a restricted zone banning ``banned`` (";"-separated) excludes it."""
        return self.verdict(banned) != "allowed"

    def as_dict(self) -> dict:
        return {"given": self.given, "names": list(self.names),
                "sectors": sorted(self.sectors), "supplier_access_industry": self.supply_industry}


def industry_profile(study, industry: str) -> IndustryProfile:
    """Resolve ``industry``: a chain-map industry id (``biopharma_manufacturing``), a
    chain id (``biomedicine``: its anchor industry is used for supplier access), a GB/T
    4754-2017 code or a free name ("petrochemicals", "化工新材料")."""
    names = [industry]
    supply: str | None = None
    ch = study_chains(study)
    ind = ch.industries
    if industry in ind.index:
        supply = industry
    elif industry in ch.chains.index:
        anchors = ind[(ind["chain"] == industry) & ind["anchor"].astype(bool)]
        if len(anchors):
            supply = str(anchors.index[0])
            names = [supply]
    model = sector_model_for(study)
    sectors = frozenset().union(*(model.sectors_of(n) for n in names))
    return IndustryProfile(industry, tuple(dict.fromkeys(names)), sectors, supply, model)


def _landuse_grid(study, cfg: SuitabilityConfig, grid: Grid) -> np.ndarray | None:
    """The ``[suitability.landuse]`` raster's classes on the grid (nearest neighbour;
    NaN where it has no data), read once for the exclusions and the penalties."""
    if cfg.landuse is None:
        return None
    spec = study.layers[cfg.landuse.layer]
    return reproject_to_grid(spec.path, grid, resampling="nearest", label=spec.label)


def _control_lines(study, cfg: SuitabilityConfig, grid: Grid, code: np.ndarray,
                   layers: list[str], landuse: np.ndarray | None) -> None:
    """Land use, existing parks, the urban development boundary and permanent basic
    farmland (三区三线) into ``code``, in that order of priority (farmland last)."""
    rule = cfg.landuse
    if rule is not None and landuse is not None:
        code[np.isin(landuse, np.array(rule.exclude, dtype=np.float32))] = 11
        layers.append(rule.layer)
    if cfg.parks_occupied and study.has_role("parks"):
        parks = study.load_role("parks").to_crs(study.metric_crs)
        code[rasterize_mask(parks.geometry.values, grid)] = 12
        layers.append(study.by_role("parks")[0].key)
    if study.has_role("urban_boundary") and cfg.outside_urban_boundary == "exclude":
        ub = study.load_role("urban_boundary").to_crs(study.metric_crs)
        code[~rasterize_mask(ub.geometry.values, grid)] = 10
        layers.append(study.by_role("urban_boundary")[0].key)
    if study.has_role("farmland"):
        fl = study.load_role("farmland").to_crs(study.metric_crs)
        code[rasterize_mask(fl.geometry.values, grid)] = 9
        layers.append(study.by_role("farmland")[0].key)


def _landuse_factor(cfg: SuitabilityConfig, landuse: np.ndarray | None) -> np.ndarray | None:
    """Per-cell factor (float32, 1 where no penalty) from ``[suitability.landuse]``."""
    rule = cfg.landuse
    if rule is None or not rule.penalise or landuse is None:
        return None
    factor = np.ones(landuse.shape, dtype=np.float32)
    for cls, f in rule.penalise:  # a handful of classes
        factor[landuse == cls] = f
    return factor


def _exclusions(study, cfg: SuitabilityConfig, grid: Grid, inside: np.ndarray,
                industry: IndustryProfile | None, report: dict,
                landuse: np.ndarray | None = None) -> np.ndarray:
    """The reason-code raster (uint8, :data:`EXCLUSION_CODES`), before slope."""
    code = np.zeros(grid.shape, dtype=np.uint8)
    layers: list[str] = []
    # lowest priority first: later masks overwrite earlier ones
    _control_lines(study, cfg, grid, code, layers, landuse)
    water_keys = cfg.water_layers
    if water_keys is None:
        water_keys = tuple(s.key for s in study.by_role("water"))
    for key in water_keys:
        g = _layer_metric(study, key)
        polys = g.geometry.values[shapely.get_type_id(g.geometry.values) >= 3]
        if len(polys):
            code[rasterize_mask(polys, grid)] = 6
            layers.append(key)
    zones_spec = study.by_role("redlines")
    banned_zones: list[str] = []
    if zones_spec:
        zones = study.load_role("redlines").to_crs(study.metric_crs)
        class_field = zones_spec[0].options.get("class") or "class"
        if class_field not in zones.columns:
            raise InputError(f"{zones_spec[0].label}: no class field {class_field!r}; the "
                             f"fields are {', '.join(map(str, zones.columns))}")
        cls = zones[class_field].astype(str).str.strip().str.lower().to_numpy()
        hard = np.isin(cls, list(cfg.redline_classes))
        restricted = np.zeros(len(zones), dtype=bool)
        if industry:
            if "banned_industries" not in zones.columns:
                raise InputError(f"{zones_spec[0].label}: restricted zones need a "
                                 "banned_industries field (\";\"-separated) to score for an "
                                 "industry")
            verdict = np.array([industry.verdict(b) for b in zones["banned_industries"]])
            restricted = (cls == "restricted") & (verdict != "allowed")
            banned_zones = zones.loc[restricted, "id"].astype(str).tolist()
            doubt = zones.loc[(cls == "restricted") & (verdict == "review"), "id"]
            if len(doubt):
                report["restricted_review"] = doubt.astype(str).tolist()
                warnings.warn(f"industry {industry.given!r} could not be judged against the "
                              f"bans of {', '.join(report['restricted_review'])}: excluded "
                              "there as a precaution; name it by its GB/T 4754-2017 code or a "
                              "chain-map industry to judge it", stacklevel=2)
        geoms = zones.geometry.values
        excl = hard | restricted
        if cfg.redline_buffer_m > 0 and excl.any():
            buf = shapely.buffer(geoms[excl], cfg.redline_buffer_m)
            code[rasterize_mask(buf, grid)] = 5
        if restricted.any():
            code[rasterize_mask(geoms[restricted], grid)] = 4
        for c in ("redline", "core"):
            sel = cls == c
            if c in cfg.redline_classes and sel.any():
                code[rasterize_mask(geoms[sel], grid)] = _CLASS_CODE[c]
        layers.append(zones_spec[0].key)
    code[~inside] = 1
    report["exclusion_layers"] = layers
    report["restricted_zones_banning_industry"] = banned_zones
    return code


def _sourcing(c: Criterion):
    """The sourcing engine module (issue: road-network sourcing radius), or a
    :class:`ModelError` saying it is unavailable."""
    import importlib.util

    spec = importlib.util.find_spec("geo.sourcing")
    mod = importlib.import_module("geo.sourcing") if spec is not None else None
    if mod is None or not hasattr(mod, "input_share_within"):
        raise ModelError(
            f"suitability.criteria ({c.name}): supplier access needs the sourcing engine "
            "(geo.sourcing.input_share_within), which this parksite build does not have; "
            "remove the criterion or run without --industry")
    return mod


def _supplier_access(study, c: Criterion, grid: Grid, profile: IndustryProfile) -> np.ndarray:
    mod = _sourcing(c)
    industry = profile.supply_industry
    if industry is None:
        chains = mod.study_chains(study)
        raise ModelError(
            f"suitability.criteria ({c.name}): industry {profile.given!r} is not in the chain "
            f"maps; supplier access needs an industry id ({', '.join(chains.ids[:8])}, …) or a "
            f"chain id ({', '.join(map(str, chains.chains.index))}) for its anchor industry")
    sample_m = float(c.options.get("sample_m", 5000.0))
    radius_km = float(c.options.get("radius_km", 100.0))
    step = max(1, int(round(sample_m / grid.cell_m)))
    rows = np.arange(step // 2, grid.height, step)
    cols = np.arange(step // 2, grid.width, step)
    xs = grid.x0 + (cols + 0.5) * grid.cell_m
    ys = grid.y0 - (rows + 0.5) * grid.cell_m
    gx, gy = np.meshgrid(xs, ys)
    pts = gpd.GeoDataFrame(geometry=shapely.points(gx.ravel(), gy.ravel()),
                           crs=grid.crs).to_crs(4326)
    share = np.asarray(mod.input_share_within(pts, industry, study, radius_km=radius_km),
                       dtype=np.float64).reshape(gx.shape)
    if np.isnan(share).all():
        raise ModelError(f"suitability.criteria ({c.name}): the sourcing engine returned no "
                         f"supplier access for industry {industry!r}")
    from scipy import ndimage

    # fill unknown samples with the nearest known one, then interpolate bilinearly
    nan = np.isnan(share)
    if nan.any():
        idx = ndimage.distance_transform_edt(nan, return_distances=False, return_indices=True)
        share = share[tuple(idx)]
    out = np.empty(grid.shape, dtype=np.float32)
    cc = (np.arange(grid.width) - step // 2) / step
    for rs in grid.row_blocks(2_000_000):
        rr = (np.arange(rs.start, rs.stop) - step // 2) / step
        R, C = np.meshgrid(rr, cc, indexing="ij")
        out[rs] = ndimage.map_coordinates(share, [R.ravel(), C.ravel()], order=1,
                                          mode="nearest").reshape(R.shape)
    return out


def _category(study, c: Criterion, grid: Grid) -> np.ndarray:
    from rasterio import features

    g = _layer_metric(study, c.layer)  # type: ignore[arg-type]
    fld = c.options["field"]
    if fld not in g.columns:
        raise InputError(f"suitability.criteria ({c.name}): layer {c.layer!r} has no field "
                         f"{fld!r}; the fields are {', '.join(map(str, g.columns))}")
    cats = pd.unique(g[fld].astype(str))
    scores = c.transform.map_categories(cats)
    codes = pd.Categorical(g[fld].astype(str), categories=cats).codes + 1
    idx = features.rasterize(zip(g.geometry.values, codes.astype("int32"), strict=False),
                             out_shape=grid.shape,
                             transform=grid.transform, fill=0, dtype="int32")
    lut = np.concatenate([[np.nan], scores]).astype(np.float32)
    return lut[idx]


def _pad_m(c: Criterion) -> float:
    if "pad_m" in c.options:
        return float(c.options["pad_m"])
    sat = c.transform.saturation()
    return float(min(sat, 50_000.0)) if sat is not None else 20_000.0


def _raw_stats(v: np.ndarray, eligible: np.ndarray) -> dict:
    a = v[eligible]
    known = a[~np.isnan(a)]
    if not known.size:
        return {"known_share": 0.0}
    q = np.percentile(known, [0, 50, 100])
    return {"min": round(float(q[0]), 3), "median": round(float(q[1]), 3),
            "max": round(float(q[2]), 3), "known_share": round(known.size / max(a.size, 1), 4)}


def _top_threshold(values: np.ndarray, top_pct: float) -> tuple[float, int]:
    """The score of the k-th best of ``values`` with k = ceil(top_pct % of them)."""
    n = values.size
    k = max(1, int(math.ceil(n * top_pct / 100.0)))
    k = min(k, n)
    return float(np.partition(values, n - k)[n - k]), k


def _block_scores(stack, rows, keep, weights, cfg) -> np.ndarray:
    k = stack.shape[0]
    x = stack[:, rows, :].reshape(k, -1).T[keep]
    return aggregate(x, weights, method=cfg.aggregation, andness=cfg.andness,
                     order_weights=cfg.order_weights)


def _kth_largest_per_run(v: np.ndarray, r: np.ndarray, need: np.ndarray,
                         runs: np.ndarray) -> np.ndarray:
    """For each run in ``runs``, the ``need``-th largest of the values ``v`` of that run
    (``r`` gives each value's run; a stable radix sort on the run, then one partition
    per run)."""
    order = np.argsort(r, kind="stable")
    vs = v[order]
    rs = r[order]
    del order
    lo = np.searchsorted(rs, runs, side="left")
    hi = np.searchsorted(rs, runs, side="right")
    out = np.empty(len(runs), dtype=np.float32)
    for i, (a, b, n) in enumerate(zip(lo, hi, need, strict=False)):
        seg = vs[a:b]
        kth = seg.size - int(n)
        out[i] = np.partition(seg, kth)[kth]
    return out


def _run_ids(ri: np.ndarray, runs: int) -> np.ndarray:
    return ri.astype(np.uint16 if runs <= 65535 else np.int32)


def _thresholds_hist(scores_of, blocks, runs_w: np.ndarray, k_top: int, tick) -> np.ndarray:
    """Exact per-run thresholds in two passes: per-run histograms (8192 bins) find the
    bin holding the k-th best score, a second pass collects that bin's values."""
    runs = runs_w.shape[0]
    nb = 8192
    hist = np.zeros(runs * nb, dtype=np.int64)
    offs = (np.arange(runs) * nb)[None, :]

    def bins(sc):
        # scored cells are never NaN (a weight set only rescales known criteria)
        return np.minimum((sc * nb).astype(np.int32), nb - 1)

    for rows in blocks:
        sc = scores_of(rows, runs_w)
        if sc is not None:
            hist += np.bincount((bins(sc) + offs).ravel(), minlength=runs * nb)
        tick()
    h = hist.reshape(runs, nb)[:, ::-1]  # from the top bin down
    cum = np.cumsum(h, axis=1)
    pos = np.argmax(cum >= k_top, axis=1)  # first (top-down) bin reaching k
    tbin = nb - 1 - pos
    above = np.where(pos > 0, cum[np.arange(runs), pos - 1], 0)
    got_v, got_r = [], []
    for rows in blocks:
        sc = scores_of(rows, runs_w)
        if sc is not None:
            ci, ri = np.nonzero(bins(sc) == tbin[None, :])
            got_v.append(sc[ci, ri])
            got_r.append(_run_ids(ri, runs))
        tick()
    v = np.concatenate(got_v) if got_v else np.zeros(0, np.float32)
    r = np.concatenate(got_r) if got_r else np.zeros(0, np.int64)
    return _kth_largest_per_run(v, r, k_top - above, np.arange(runs))


def _thresholds_bracket(scores_of, blocks, sample_x: np.ndarray, n_elig: int, wruns, cfg,
                        k_top: int, tick) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-run thresholds in one pass: a random sample of scored cells brackets
    each run's k-th best score; the pass counts the cells above the bracket and keeps
    the values inside it. Returns thresholds and a mask of runs whose bracket missed
    (their thresholds must be found another way)."""
    runs = wruns.shape[0]
    ns = sample_x.shape[0]
    ssc = aggregate(sample_x, wruns, method=cfg.aggregation, andness=cfg.andness,
                    order_weights=cfg.order_weights)  # (ns, runs)
    ssc = -np.sort(-ssc, axis=0)  # best first
    p = k_top / n_elig
    delta = 4.0 * math.sqrt(p * (1.0 - p) / ns) + 2.0 / ns  # a miss falls back, exactly
    i_hi = max(0, int(math.floor((p - delta) * ns)) - 1)
    i_lo = min(ns - 1, int(math.ceil((p + delta) * ns)))
    hi = ssc[i_hi] if p - delta > 0 else np.full(runs, np.inf, np.float32)
    lo = ssc[i_lo] if p + delta < 1 else np.full(runs, -np.inf, np.float32)
    above = np.zeros(runs, dtype=np.int64)
    inside = np.zeros(runs, dtype=np.int64)
    got_v, got_r = [], []
    for rows in blocks:
        sc = scores_of(rows, wruns)
        if sc is not None:
            above += (sc > hi[None, :]).sum(axis=0)
            ci, ri = np.nonzero((sc >= lo[None, :]) & (sc <= hi[None, :]))
            got_v.append(sc[ci, ri])
            inside += np.bincount(ri, minlength=runs)
            got_r.append(_run_ids(ri, runs))
            del ci, ri
        tick()
    need = k_top - above
    ok = (need >= 1) & (need <= inside)
    thr = np.full(runs, np.nan, dtype=np.float32)
    if ok.any():
        v = np.concatenate(got_v) if got_v else np.zeros(0, np.float32)
        r = np.concatenate(got_r) if got_r else np.zeros(0, np.int64)
        if not ok.all():
            keep = ok[r]
            v, r = v[keep], r[keep]
        thr[ok] = _kth_largest_per_run(v, r, need[ok], np.nonzero(ok)[0])
    return thr, ~ok


def _monte_carlo(stack: np.ndarray, eligible: np.ndarray, grid: Grid, cfg: SuitabilityConfig,
                 wruns: np.ndarray, k_top: int, labels: np.ndarray, n_regions: int,
                 progress: Progress) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-cell count of runs in the top k cells, per-run thresholds, per-region mean
    scores per run.

    Each block's scores for all runs come from one matrix product on the criterion
    stack (nothing is recomputed per run). The per-run thresholds (the k-th best
    score of each run) are exact: one pass bracketed by a 100,000-cell sample
    (:func:`_thresholds_bracket`), with the two-pass histogram method as the fallback
    for any run whose bracket missed; then one pass counts.
    """
    from scipy import sparse

    runs = wruns.shape[0]
    k = stack.shape[0]
    cell_budget = max(2_000, int(48e6 / (4 * runs * (k if cfg.aggregation == "owa" else 1))))
    blocks = list(grid.row_blocks(cell_budget))
    n_elig = int(eligible.sum())

    def scores_of(rows, w):
        keep = eligible[rows].ravel()
        if not keep.any():
            return None
        return _block_scores(stack, rows, keep, w, cfg)

    state = {"done": 0, "total": 2 * len(blocks)}

    def tick():
        state["done"] += 1
        progress("stability: thresholds", min(state["done"], state["total"]), state["total"])

    flat = np.flatnonzero(eligible)
    rng = np.random.default_rng(cfg.seed + 7919)
    ns = min(100_000, flat.size)
    if ns == flat.size:  # every scored cell fits in the sample: thresholds directly
        x = stack.reshape(k, -1)[:, flat].T
        ssc = aggregate(x, wruns, method=cfg.aggregation, andness=cfg.andness,
                        order_weights=cfg.order_weights)
        thr = (-np.sort(-ssc, axis=0))[k_top - 1].astype(np.float32)
        state["total"] = len(blocks)
    else:
        idx = np.sort(rng.choice(flat, ns, replace=False))
        thr, missed = _thresholds_bracket(scores_of, blocks, stack.reshape(k, -1)[:, idx].T,
                                          n_elig, wruns, cfg, k_top, tick)
        if missed.any():
            state["total"] += 2 * len(blocks)
            thr[missed] = _thresholds_hist(scores_of, blocks, wruns[missed], k_top, tick)
    count = np.zeros(grid.shape, dtype=np.uint16)
    reg_sum = np.zeros((n_regions + 1, runs), dtype=np.float64)
    for rows in blocks:
        keep = eligible[rows].ravel()
        sc = scores_of(rows, wruns)
        if sc is not None:
            c = np.zeros(keep.size, dtype=np.uint16)
            c[keep] = (sc >= thr[None, :]).sum(axis=1)
            count[rows] = c.reshape(-1, grid.width)
            if n_regions:
                lab = labels[rows].ravel()[keep]
                inr = np.nonzero(lab > 0)[0]
                if inr.size:
                    ind = sparse.csr_matrix((np.ones(inr.size), (lab[inr], inr)),
                                            shape=(n_regions + 1, sc.shape[0]))
                    reg_sum += ind @ sc.astype(np.float64)
        state["done"] += 1
        progress("stability: counting", min(state["done"], state["total"]), state["total"])
    return count, thr, reg_sum


def _regions(top: np.ndarray, grid: Grid, min_cells: int, max_cells: int | None = None
             ) -> tuple[np.ndarray, int, np.ndarray]:
    """Label 4-connected regions of ``top`` cells; keep those of ≥ ``min_cells``.

    With ``max_cells``, a region larger than that is cut by square tiles of
    ⌊√max_cells⌋ cells a side (aligned to the grid's first row and column, so the cut
    is reproducible): each 4-connected part inside one tile is a region of its own
    (at most ``max_cells``), kept if ≥ ``min_cells``.

    Returns the labels (0 = none, 1…n), n, and for each region 1…n the id of the
    contiguous top-cell region it comes from (``parent[i - 1]``; parents numbered
    1… in their own order; the parts cut from one region share it).
    """
    from scipy import ndimage

    lab, n = ndimage.label(top)
    lab = lab.astype(np.int32, copy=False)
    parent_of = np.arange(n + 1, dtype=np.int32)
    if n and max_cells is not None:
        sizes = np.bincount(lab.ravel(), minlength=n + 1)
        big = sizes > max_cells
        big[0] = False
        if big.any():
            s = max(1, math.isqrt(int(max_cells)))
            inbig = big[lab]
            # a blank row/column after every tile edge cuts 4-connectivity there
            h, w = lab.shape
            rcut = np.arange(s, h, s)
            ccut = np.arange(s, w, s)
            gapped = np.insert(np.insert(inbig, rcut, False, axis=0), ccut, False, axis=1)
            plab, m = ndimage.label(gapped)
            keep_r = np.ones(gapped.shape[0], dtype=bool)
            keep_r[rcut + np.arange(rcut.size)] = False
            keep_c = np.ones(gapped.shape[1], dtype=bool)
            keep_c[ccut + np.arange(ccut.size)] = False
            plab = plab[keep_r][:, keep_c]
            del gapped
            # parent of each part: the big region its cells belong to
            ppar = np.zeros(m + 1, dtype=np.int32)
            ppar[plab[inbig]] = lab[inbig]
            lab = np.where(inbig, plab + n, lab).astype(np.int32)
            parent_of = np.concatenate([parent_of, ppar[1:]])
            n = n + m
    if n == 0:
        return lab, 0, np.zeros(0, dtype=np.int32)
    sizes = np.bincount(lab.ravel(), minlength=n + 1)
    keep = sizes >= min_cells
    keep[0] = False
    newid = np.zeros(n + 1, dtype=np.int32)
    newid[keep] = np.arange(1, int(keep.sum()) + 1)
    # parents numbered 1… in the order of the original labels
    par = parent_of[keep]
    _, parent = np.unique(par, return_inverse=True)
    return newid[lab], int(keep.sum()), (parent + 1).astype(np.int32)


def _polygons(labels: np.ndarray, grid: Grid, n: int) -> np.ndarray:
    """Polygons (grid CRS) of region labels 1…n, vectorised in one pass."""
    from rasterio import features

    out: list[list] = [[] for _ in range(n + 1)]
    rows = np.nonzero(labels.any(axis=1))[0]
    if not rows.size:
        return np.array([None] * n, dtype=object)
    r0, r1 = int(rows.min()), int(rows.max()) + 1
    sub = labels[r0:r1]
    tr = Grid(grid.crs, grid.x0, grid.y0 - r0 * grid.cell_m, grid.cell_m, grid.width,
              r1 - r0).transform
    for geom, val in features.shapes(sub, mask=sub > 0, transform=tr, connectivity=4):
        out[int(val)].append(shapely.geometry.shape(geom))
    return np.array([shapely.union_all(p) if len(p) > 1 else p[0] for p in out[1:]],
                    dtype=object)


def _nearest_distance(geoms: np.ndarray, targets: np.ndarray) -> np.ndarray:
    if not len(targets):
        return np.full(len(geoms), np.nan)
    tree = shapely.STRtree(targets)
    (gi, ti), d = tree.query_nearest(geoms, return_distance=True, all_matches=False)
    out = np.full(len(geoms), np.nan)
    out[gi] = d
    return out


def run_suitability(study, *, industry: str | None = None, out_dir: str | Path | None = None,
                    min_area_mu: float | None = None, top_pct: float | None = None,
                    runs: int | None = None, seed: int | None = None,
                    cell_m: float | None = None, top_n: int | None = None,
                    max_area_mu: float | None = None, overwrite: bool = True,
                    progress: Progress | None = None) -> SuitabilityResult:
    """Score the study's grid, exclude hard constraints, find candidate regions and
    measure their stability under weight perturbation.

    Parameters
    ----------
    study : geo.study.Study
        A loaded study with a ``[suitability]`` section.
    industry
        Score for this industry: adds industry-only criteria (supplier access) and
        excludes ``restricted`` zones that ban it.
    out_dir
        Folder for ``suitability.tif``, ``exclusion.tif``, ``stability.tif``,
        ``candidates.gpkg``, ``model_card.json`` (written atomically); None keeps
        the results in memory only.
    min_area_mu, top_pct, runs, seed, cell_m, top_n, max_area_mu
        Override the study's settings (亩, %, count, seed, metres, count, 亩).

    Returns
    -------
    SuitabilityResult

    Raises
    ------
    ModelError
        Bad model (weights, AHP consistency, grid too large for memory, no
        scored cells).
    InputError
        Missing layers or fields.
    """
    progress = progress or _noop
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    cfg = load_config(study)
    over = {k: v for k, v in dict(min_area_mu=min_area_mu, top_pct=top_pct, runs=runs,
                                     seed=seed, cell_m=cell_m, top_n=top_n,
                                     max_area_mu=max_area_mu).items()
            if v is not None}
    if over:
        import dataclasses

        cfg = dataclasses.replace(cfg, **over)
    if not 0 < cfg.top_pct <= 100:
        raise ModelError(f"top_pct {cfg.top_pct!r} must be in (0, 100]")
    if cfg.runs < 0 or cfg.cell_m <= 0 or cfg.min_area_mu < 0 or cfg.top_n < 1:
        raise ModelError("runs must be ≥ 0, cell size > 0, minimum area ≥ 0, top N ≥ 1")
    if cfg.max_area_mu is not None and cfg.max_area_mu < 2 * cfg.min_area_mu:
        raise ModelError(f"max_area_mu {cfg.max_area_mu:g} 亩 must be at least twice "
                         f"min_area_mu ({cfg.min_area_mu:g} 亩); raise it")
    industry = industry.strip() if industry else None
    profile = industry_profile(study, industry) if industry else None
    active = [c for c in cfg.criteria if industry or not c.industry_only]
    if not active:
        raise ModelError("suitability: no criterion applies (all are industry-only); give "
                         "--industry or add criteria")
    if cfg.order_weights is not None and len(cfg.order_weights) != len(active):
        raise ModelError(f"suitability.order_weights: {len(cfg.order_weights)} order weights "
                         f"for {len(active)} criteria used in this run")
    weights, ahp = criterion_weights(cfg, active)
    for c in active:
        if c.kind == "supplier_access":
            _sourcing(c)  # fail before any expensive work
            if profile is not None and profile.supply_industry is None:
                _supplier_access(study, c, None, profile)  # type: ignore[arg-type]
    out_paths: dict[str, Path] = {}
    if out_dir is not None:
        od = Path(out_dir)
        for name in ("suitability.tif", "exclusion.tif", "stability.tif", "candidates.gpkg",
                     "model_card.json"):
            out_paths[name] = check_writable(od / name, overwrite=overwrite)

    grid = study_grid(study, cfg)  # a ZoneWarning if the study straddles GK zones
    pads = [int(math.ceil(_pad_m(c) / grid.cell_m)) for c in active if c.kind == "distance"]
    _check_memory(grid, cfg, len(active), max(pads, default=0))
    progress("grid", 0, 1)
    report: dict[str, Any] = {}
    bmetric = gpd.GeoSeries([study.boundary], crs=4326).to_crs(grid.crs).values
    inside = rasterize_mask(bmetric, grid)
    if not inside.any():
        raise ModelError(f"suitability: no cell centre of the {cfg.cell_m:g} m grid falls "
                         "inside the study boundary; use a smaller cell_m")
    landuse = _landuse_grid(study, cfg, grid)
    code = _exclusions(study, cfg, grid, inside, profile, report, landuse)
    if profile is not None:
        report["industry"] = profile.as_dict()
    timings["grid_and_constraints_s"] = time.perf_counter() - t_start
    progress("grid", 1, 1)

    # criterion stack
    t0 = time.perf_counter()
    stack = np.empty((len(active), grid.height, grid.width), dtype=np.float32)
    crit_cards: list[dict] = []
    slope: np.ndarray | None = None
    sources: dict[str, dict] = {}
    for i, c in enumerate(active):
        progress(f"criterion {c.name}", i, len(active))
        if c.kind == "distance":
            g = _layer_metric(study, c.layer)  # type: ignore[arg-type]
            raw = distance_to_features(g.geometry.values, grid, pad_m=_pad_m(c))
            if np.isinf(raw).all():
                raise ModelError(f"suitability.criteria ({c.name}): layer {c.layer!r} has no "
                                 f"feature within {_pad_m(c) / 1000:g} km of the grid")
            raw[np.isinf(raw)] = np.float32(1e9)
        elif c.kind in ("slope", "elevation"):
            spec = study.spec(c.layer) if c.layer in study.layers else study.by_role(c.layer)[0]
            dem = reproject_to_grid(spec.path, grid.padded(1), label=spec.label)
            if c.kind == "slope":
                raw = slope_degrees(dem, grid.cell_m)[1:-1, 1:-1].copy()
                slope = raw
            else:
                raw = dem[1:-1, 1:-1].copy()
            del dem
        elif c.kind == "supplier_access":
            raw = _supplier_access(study, c, grid, profile)  # type: ignore[arg-type]
        else:
            raw = None
        if c.kind == "category":
            stack[i] = _category(study, c, grid)
            stats: dict = {}
        else:
            stats = _raw_stats(raw, code == 0)
            for rs in grid.row_blocks(4_000_000):
                stack[i, rs] = c.transform(raw[rs])
        if c.layer:
            with contextlib.suppress(Exception):
                sources[c.layer] = _source_info(study, c.layer)
        crit_cards.append({
            "name": c.name, "label_en": c.label_en, "label_zh": c.label_zh, "kind": c.kind,
            "layer": c.layer, "unit": {"distance": "m", "slope": "degree", "elevation": "m",
                                       "supplier_access": "share 0-1"}.get(c.kind, "category"),
            "transform": c.transform.as_dict(), "transform_text": c.transform.describe(),
            "weight": round(float(weights[i]), 6), "raw_in_scored_cells": stats,
            **({"pad_m": _pad_m(c)} if c.kind == "distance" else {}),
        })
        del raw
    if cfg.max_slope_deg is not None:
        if slope is None and study.by_role("dem"):
            spec = study.by_role("dem")[0]
            dem = reproject_to_grid(spec.path, grid.padded(1), label=spec.label)
            slope = slope_degrees(dem, grid.cell_m)[1:-1, 1:-1].copy()
            del dem
        if slope is not None:
            steep = (code == 0) & (np.nan_to_num(slope, nan=0.0) > cfg.max_slope_deg)
            code[steep] = 7
    slope_known = float(np.mean(~np.isnan(slope[inside]))) if slope is not None else None
    del slope
    report["terrain_warnings"] = _terrain_warnings(study, cfg, grid, active, weights,
                                                   slope_known)
    for msg in report["terrain_warnings"]:
        warnings.warn(msg, stacklevel=2)
    timings["criteria_s"] = time.perf_counter() - t0

    factor = _landuse_factor(cfg, landuse)
    del landuse
    if factor is not None:
        # WLC and OWA are homogeneous of degree 1: scaling every criterion of a cell by f
        # scales its score by f, in the base run and in every Monte Carlo run alike
        stack *= factor[None]
        report["landuse_penalties"] = {str(c): f for c, f in cfg.landuse.penalise}

    # base score
    t0 = time.perf_counter()
    score = np.full(grid.shape, np.nan, dtype=np.float32)
    for rows in grid.row_blocks(2_000_000):
        keep = (code[rows] == 0).ravel()
        if keep.any():
            s = np.full(keep.size, np.nan, dtype=np.float32)
            s[keep] = _block_scores(stack, rows, keep, weights, cfg)
            score[rows] = s.reshape(-1, grid.width)
    nodata_cells = (code == 0) & np.isnan(score)
    code[nodata_cells] = 8
    eligible = code == 0
    n_elig = int(eligible.sum())
    if n_elig == 0:
        raise ModelError("suitability: every cell of the study is excluded (see "
                         "exclusion.tif); relax the constraints")
    thr, k_top = _top_threshold(score[eligible], cfg.top_pct)
    top = eligible & (score >= thr)
    min_cells = max(1, int(math.floor(cfg.min_area_mu * MU_M2 / grid.cell_area_m2 * 0.98)))
    max_cells = None
    if cfg.max_area_mu is not None:
        max_cells = int(math.floor(cfg.max_area_mu * MU_M2 / grid.cell_area_m2))
        if math.isqrt(max(max_cells, 0)) ** 2 < min_cells:
            raise ModelError(f"suitability: with {grid.cell_m:g} m cells a tile of at most "
                             f"max_area_mu = {cfg.max_area_mu:g} 亩 cannot hold min_area_mu = "
                             f"{cfg.min_area_mu:g} 亩; use a smaller cell_m or a larger "
                             "max_area_mu")
    labels, n_reg, parent = _regions(top, grid, min_cells, max_cells)
    timings["score_s"] = time.perf_counter() - t0

    # Monte Carlo
    t0 = time.perf_counter()
    stability = None
    reg_runs = None
    thr_runs = None
    if cfg.runs > 0:
        wruns = perturbed_weights(weights, cfg.runs, cfg.perturbation, cfg.seed)
        count, thr_runs, reg_sum = _monte_carlo(stack, eligible, grid, cfg, wruns, k_top,
                                                labels, n_reg, progress)
        stability = np.where(eligible, count.astype(np.float32) / cfg.runs, np.nan)
        del count
        if n_reg:
            ncell = np.bincount(labels[eligible], minlength=n_reg + 1).astype(np.float64)
            reg_runs = reg_sum[1:] / np.maximum(ncell[1:, None], 1)
    del stack
    timings["stability_s"] = time.perf_counter() - t0

    # candidates
    t0 = time.perf_counter()
    cands = _candidates(study, cfg, grid, labels, n_reg, score, stability, reg_runs, parent)
    timings["candidates_s"] = time.perf_counter() - t0

    codes_out: dict[int, dict] = {}
    counts = np.bincount(code.ravel(), minlength=len(EXCLUSION_CODES))
    for c_, (zh, en) in EXCLUSION_CODES.items():
        codes_out[c_] = {"zh": zh, "en": en, "cells": int(counts[c_]),
                         "area_km2": round(float(counts[c_]) * grid.cell_area_m2 / 1e6, 3)}
    labels_out = {c_: f"{zh} {en}" for c_, (zh, en) in EXCLUSION_CODES.items()}
    wdict = {c.name: round(float(w), 6) for c, w in zip(active, weights, strict=False)}
    card = _model_card(study, cfg, grid, industry, active, crit_cards, wdict, ahp, report,
                       codes_out, n_elig, thr, k_top, thr_runs, cands, sources, slope_known,
                       int(inside.sum()))
    res = SuitabilityResult(grid=grid, score=score, exclusion=code, stability=stability,
                            candidates=cands, model_card=card, exclusion_codes=labels_out,
                            exclusion_counts=codes_out,
                            weights=wdict, ahp=ahp, timings=timings)
    if out_dir is not None:
        t0 = time.perf_counter()
        progress("writing", 0, 1)
        _write_outputs(res, out_paths, overwrite)
        timings["write_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - t_start
    card["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
    if out_dir is not None:
        write_text(out_paths["model_card.json"],
                   json.dumps(card, ensure_ascii=False, indent=2, default=str), overwrite=overwrite)
        res.model_card_json = out_paths["model_card.json"]
    progress("done", 1, 1)
    return res


def _candidates(study, cfg: SuitabilityConfig, grid: Grid, labels: np.ndarray, n: int,
                score: np.ndarray, stability: np.ndarray | None,
                reg_runs: np.ndarray | None, parent: np.ndarray | None = None
                ) -> gpd.GeoDataFrame:
    cols = ["rank", "mean_score", "area_ha", "area_mu", "p_top_n", "cell_stability_mean",
            "dist_highway_m", "dist_redline_m", "district", "min_score", "max_score",
            "mc_rank_median", "n_cells", "area_m2", "region_id", "parent_region", "lon", "lat"]
    if n == 0:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=4326)
    lab = labels.ravel()
    sel = lab > 0
    li = lab[sel]
    sc = score.ravel()[sel].astype(np.float64)
    ncell = np.bincount(li, minlength=n + 1)[1:]
    smean = np.bincount(li, weights=sc, minlength=n + 1)[1:] / ncell
    smin = np.full(n + 1, np.inf)
    np.minimum.at(smin, li, sc)
    smax = np.full(n + 1, -np.inf)
    np.maximum.at(smax, li, sc)
    polys = _polygons(labels, grid, n)
    g = gpd.GeoDataFrame({"region_id": np.arange(1, n + 1),
                          "parent_region": parent if parent is not None and len(parent) == n
                          else np.arange(1, n + 1), "mean_score": smean,
                          "min_score": smin[1:], "max_score": smax[1:], "n_cells": ncell},
                         geometry=polys, crs=grid.crs)
    area = g.to_crs(study.area_crs).area.to_numpy()
    g["area_m2"] = area
    g["area_ha"] = m2_to_ha(area)
    g["area_mu"] = m2_to_mu(area)
    g = g[g["area_m2"] >= cfg.min_area_mu * MU_M2 - 1e-6].copy()
    if g.empty:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=4326)
    # distances (metric CRS, exact geometry-to-geometry)
    road_key = cfg.road_layer or next((s.key for s in study.by_role("roads")), None)
    geoms = g.geometry.values
    g["dist_highway_m"] = _nearest_distance(geoms, _layer_metric(study, road_key).geometry.values) \
        if road_key else np.nan
    zones = study.load_role("redlines")
    if zones is not None:
        zspec = study.by_role("redlines")[0]
        cf = zspec.options.get("class") or "class"
        zm = zones.to_crs(grid.crs)
        hard = zm[cf].astype(str).str.lower().isin(["core", "redline"]).to_numpy() \
            if cf in zm.columns else np.ones(len(zm), bool)
        g["dist_redline_m"] = _nearest_distance(geoms, zm.geometry.values[hard])
    else:
        g["dist_redline_m"] = np.nan
    g = g.sort_values(["mean_score", "area_m2"], ascending=[False, False]).reset_index(drop=True)
    g.insert(0, "rank", np.arange(1, len(g) + 1))
    rid = g["region_id"].to_numpy()
    if reg_runs is not None:
        sub = reg_runs[rid - 1]  # (regions kept, runs)
        ranks = (-sub).argsort(axis=0).argsort(axis=0) + 1
        g["p_top_n"] = (ranks <= cfg.top_n).mean(axis=1)
        g["mc_rank_median"] = np.median(ranks, axis=1)
        st = stability.ravel()[sel]  # type: ignore[union-attr]
        stab = np.bincount(li, weights=st.astype(np.float64), minlength=labels.max() + 1)
        g["cell_stability_mean"] = stab[rid] / g["n_cells"].to_numpy()
    else:
        g["p_top_n"] = np.nan
        g["mc_rank_median"] = np.nan
        g["cell_stability_mean"] = np.nan
    g = g.to_crs(4326)
    cen = g.geometry.representative_point()
    g["lon"] = cen.x.round(5)
    g["lat"] = cen.y.round(5)
    g["district"] = ""
    if study.by_role("boundaries"):
        d = study.load_role("boundaries")[["name", "geometry"]]
        j = gpd.sjoin(gpd.GeoDataFrame(geometry=cen, crs=4326), d, predicate="within",
                      how="left")
        j = j[~j.index.duplicated()]
        g["district"] = j["name"].fillna("").astype(str).to_numpy()
    for c in ("mean_score", "min_score", "max_score", "cell_stability_mean"):
        g[c] = g[c].astype(float).round(4)
    for c in ("area_m2", "dist_highway_m", "dist_redline_m"):
        g[c] = g[c].astype(float).round(1)
    g["area_ha"] = g["area_ha"].round(2)
    g["area_mu"] = g["area_mu"].round(1)
    return g[cols + ["geometry"]]

def _dem_cell_m(path: Path) -> float:
    """The DEM's native cell size in metres (degrees converted at the raster's centre)."""
    with rasterio.open(path) as ds:
        res = float(max(abs(ds.res[0]), abs(ds.res[1])))
        if ds.crs is not None and ds.crs.is_geographic:
            lat = (ds.bounds.top + ds.bounds.bottom) / 2
            return res * 111_320.0 * max(math.cos(math.radians(lat)), 0.01)
        return res


def _terrain_warnings(study, cfg: SuitabilityConfig, grid: Grid, active: Sequence[Criterion],
                      weights: np.ndarray, slope_known: float | None) -> list[str]:
    """What the terrain and land use really contributed, for the console and the model
    card: no land-use layer, no DEM, a DEM that covers little of the study (so the slope
    weight and the slope limit act nowhere there), a DEM much coarser than the grid.
    """
    out: list[str] = []
    terrain = [(c, float(w)) for c, w in zip(active, weights, strict=True)
               if c.kind in ("slope", "elevation")]
    if cfg.landuse is None and not study.has_role("farmland"):
        out.append("no land-use layer: built-up land and farmland are not excluded, so city "
                   "cores can rank as new industrial sites; add a raster with role = "
                   "\"landuse\" and [suitability.landuse], or a farmland layer")
    dems = study.by_role("dem")
    if not dems:
        return out + ["no DEM in the study: slope is not scored and no cell is excluded as "
                      "too steep; in hilly terrain add a DEM layer (role = \"dem\")"]
    if slope_known is not None and slope_known < 0.95:
        used = ", ".join(f"{c.name} (weight {w:.2f})" for c, w in terrain) or "none"
        out.append(f"the DEM covers {slope_known:.0%} of the study area: elsewhere slope is "
                   f"unknown, so the terrain criteria ({used}) drop out there and the slope "
                   f"limit ({cfg.max_slope_deg} degrees) excludes nothing there")
    dem_m = _dem_cell_m(dems[0].path)
    if dem_m > 4 * grid.cell_m:
        out.append(f"the DEM's cells ({dem_m:,.0f} m) are {dem_m / grid.cell_m:.0f}× the grid's "
                   f"({grid.cell_m:g} m): slopes are smoothed and steep ground is "
                   "under-estimated; use a finer DEM or a coarser grid")
    return out


def _model_card(study, cfg, grid, industry, active, crit_cards, wdict, ahp, report, codes,
                n_elig, thr, k_top, thr_runs, cands, sources, slope_known, n_inside) -> dict:
    card: dict[str, Any] = {
        "model": "parksite site suitability",
        "parksite_version": __version__,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "study": {"name": study.name, "title": study.title, "file": str(study.path)},
        "industry": industry,
        "grid": {"crs": f"EPSG:{grid.crs.to_epsg()}" if grid.crs.to_epsg() else grid.crs.to_wkt(),
                 "cell_m": grid.cell_m, "origin": list(cfg.origin), "width": grid.width,
                 "height": grid.height, "cells": grid.size, "cells_in_study": n_inside,
                 "cells_scored": n_elig, "upper_left": [grid.x0, grid.y0]},
        "criteria": crit_cards,
        "weights": {"method": "ahp" if ahp is not None else "direct", "values": wdict,
                    **({"ahp": ahp.as_dict()} if ahp is not None else {})},
        "aggregation": {"method": cfg.aggregation,
                        **({"andness": cfg.andness} if cfg.aggregation == "owa" and
                           cfg.andness is not None else {}),
                        **({"order_weights": list(cfg.order_weights)}
                           if cfg.order_weights else {}),
                        "unknown_values": "skipped: the criterion drops out of the cell and "
                                          "the other weights are renormalised"},
        "constraints": {"redline_classes": list(cfg.redline_classes),
                        "redline_buffer_m": cfg.redline_buffer_m,
                        "water_layers": list(cfg.water_layers) if cfg.water_layers else
                        [s.key for s in study.by_role("water")],
                        "max_slope_deg": cfg.max_slope_deg,
                        "slope_known_share_in_study": round(slope_known, 4)
                        if slope_known is not None else None,
                        **report},
        "exclusion_codes": {str(k): v for k, v in codes.items()},
        "top_cells": {"top_pct": cfg.top_pct, "k": k_top, "score_threshold": round(thr, 6)},
        "candidates": {"min_area_mu": cfg.min_area_mu,
                       "min_area_ha": round(cfg.min_area_mu * MU_M2 / 1e4, 3),
                       "max_area_mu": cfg.max_area_mu,
                       "split": None if cfg.max_area_mu is None else
                       "regions above max_area_mu cut by square tiles of at most that area "
                       "aligned to the grid; parent_region names the region cut",
                       "connectivity": "4 (cells sharing an edge)", "count": int(len(cands)),
                       "top": [{k: (v if not isinstance(v, (np.floating, np.integer)) else v.item())
                                for k, v in r.items() if k != "geometry"}
                               for r in cands.head(10).to_dict("records")]},
        "stability": {"runs": cfg.runs, "perturbation": cfg.perturbation, "seed": cfg.seed,
                      "method": "each weight × U(1 − p, 1 + p), renormalised; per cell the "
                                "share of runs in the top X % of scored cells; per region the "
                                "share of runs in which its mean score ranks in the top N",
                      "top_n": cfg.top_n,
                      **({"threshold_p05_p50_p95": [round(float(q), 4) for q in
                                                    np.percentile(thr_runs, [5, 50, 95])]}
                         if thr_runs is not None else {})},
        "data_sources": list(sources.values()) + [
            _source_info(study, k) for k in report.get("exclusion_layers", [])
            if k not in sources],
        "units": {"distance": "m", "area": "m², ha, 亩 (1 亩 = 666.67 m²)", "slope": "degree"},
        "warnings": list(report.get("terrain_warnings", [])),
    }
    study_sources = study.data.get("study", {}).get("sources")
    if study_sources:
        card["study_sources"] = study_sources
    return card


def _write_outputs(res: SuitabilityResult, paths: dict[str, Path], overwrite: bool) -> None:
    g = res.grid
    codes_tag = {f"EXCLUSION_CODE_{k}": f"{en} / {zh}" for k, (zh, en) in EXCLUSION_CODES.items()}
    common = {"PARKSITE_VERSION": __version__, "STUDY": res.model_card["study"]["name"],
              "INDUSTRY": res.model_card["industry"] or "",
              "WEIGHTS": json.dumps(res.weights, ensure_ascii=False)}
    write_geotiff(paths["suitability.tif"], res.score, g, dtype="float32", nodata=np.nan,
                  tags={**common, "DESCRIPTION": "site suitability 0-1 (nodata = excluded, "
                        "see exclusion.tif)", "CR": f"{res.ahp.cr:.4f}" if res.ahp else "n/a"},
                  band_names=["suitability"], overwrite=overwrite)
    res.suitability_tif = paths["suitability.tif"]
    write_geotiff(paths["exclusion.tif"], res.exclusion, g, dtype="uint8", nodata=None,
                  tags={**common, **codes_tag, "DESCRIPTION": "exclusion reason codes"},
                  band_names=["exclusion reason"], colormap=EXCLUSION_COLOURS,
                  overview_resampling="nearest", overwrite=overwrite)
    res.exclusion_tif = paths["exclusion.tif"]
    if res.stability is not None:
        st = res.model_card["stability"]
        write_geotiff(paths["stability.tif"], res.stability, g, dtype="float32", nodata=np.nan,
                      tags={**common, "DESCRIPTION": f"share of {st['runs']} Monte Carlo runs "
                            f"(weights ±{st['perturbation'] * 100:g}%, seed {st['seed']}) in "
                            "which the cell is in the top "
                            f"{res.model_card['top_cells']['top_pct']:g}%"},
                      band_names=["p_top"], overwrite=overwrite)
        res.stability_tif = paths["stability.tif"]
    c = res.candidates.copy()
    write_gpkg({"candidates": c}, paths["candidates.gpkg"], overwrite=overwrite)
    res.candidates_gpkg = paths["candidates.gpkg"]
