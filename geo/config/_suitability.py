"""The ``[suitability]`` section of :mod:`geo.config`: transforms, criteria, exclusion
constraints, AHP and aggregation settings, and the section itself.

Part of the configuration model (foundation): imports errors, ahp and the settings
machinery only. :mod:`geo.suitability` re-exports these names.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..ahp import pairwise_matrix
from ..errors import ModelError
from ._base import INVALID, is_number, setting, unknown_keys

__all__ = ["AHPConfig", "CRITERION_KINDS", "Constraints", "Criterion", "LandUseRule",
           "SLOPE_CLASSES", "SuitabilityConfig", "Transform", "parse_transform"]

TransformKind = Literal["linear", "logistic", "gaussian", "classes", "categorical", "identity"]
CriterionKind = Literal["distance", "slope", "elevation", "supplier_access", "category"]
CRITERION_KINDS = ("distance", "slope", "elevation", "supplier_access", "category")

#: Default class table for slope (degrees → score), after the scoring used in
#: published dual-evaluation (双评价) practice: 0–2° 1.0, 2–8° 0.8, 8–15° 0.6, > 15° 0.4.
SLOPE_CLASSES = {"type": "classes", "breaks": [2, 8, 15], "scores": [1.0, 0.8, 0.6, 0.4]}


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
        """Scores of categories (for ``categorical``).

        Parameters
        ----------
        values
            Category values of the cells (compared as text with the ``map`` keys).

        Returns
        -------
        numpy.ndarray
            float32 scores 0–1, ``default`` for categories not in ``map``.
        """
        m = {str(k): float(v) for k, v in dict(self.params.get("map", {})).items()}
        d = float(self.params.get("default", 0.0))
        return np.array([m.get(str(v), d) for v in values], dtype=np.float32)

    def saturation(self) -> float | None:
        """The raw value beyond which the score no longer changes (for padding the
        grid when computing distances), or None.

        Returns
        -------
        float or None
            In the raw value's unit (e.g. metres for a distance criterion): ``max(low,
            high)`` for linear, midpoint + 6 spreads for logistic, ideal + 4 sigma for
            gaussian, the last break for classes; None for the other kinds.
        """
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
        """The transform in words, for reports: ``"linear 1→0 from 0 to 5000"``.

        Returns
        -------
        str
        """
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
        """The transform as a TOML-style table (``type`` plus its parameters).

        Returns
        -------
        dict
            ``{"type": kind, **params}``; :func:`parse_transform` reads it back.
        """
        return {"type": self.kind, **{k: v for k, v in self.params.items()}}


_TRANSFORM_PARAMS = {
    "linear": ({"low", "high"}, {"direction"}),
    "logistic": ({"midpoint", "spread"}, {"direction"}),
    "gaussian": ({"ideal", "sigma"}, set()),
    "classes": ({"breaks", "scores"}, set()),
    "categorical": ({"map"}, {"default"}),
    "identity": (set(), set()),
}


def parse_transform(spec: object, where: str, problems: list[str]) -> Transform | None:
    """A :class:`Transform` from a TOML value (``"identity"`` or a table with ``type``).

    Parameters
    ----------
    spec
        A kind name, or a table ``{type = "linear", low = 0, high = 10000, …}``;
        parameters are in the raw value's unit (metres, degrees, …).
    where
        The value's dotted name in messages.
    problems
        Appended to: one sentence per problem (unknown type, missing or unknown
        parameter, bad bounds, scores outside 0–1).

    Returns
    -------
    Transform or None
        None when any problem was found.
    """
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
        if not (is_number(params["low"]) and is_number(params["high"])) or \
                params["low"] >= params["high"]:
            problems.append(f"{where}: low ({params['low']!r}) must be a number below high "
                            f"({params['high']!r}); use direction = \"decreasing\" to reverse")
    elif kind == "logistic":
        if not is_number(params["midpoint"]) or not is_number(params["spread"]) or \
                params["spread"] <= 0:
            problems.append(f"{where}: midpoint must be a number and spread a number > 0")
    elif kind == "gaussian":
        if not is_number(params["ideal"]) or not is_number(params["sigma"]) or params["sigma"] <= 0:
            problems.append(f"{where}: ideal must be a number and sigma a number > 0")
    elif kind == "classes":
        b, s = params["breaks"], params["scores"]
        if not isinstance(b, list) or not all(is_number(v) for v in b) or \
                any(b2 <= b1 for b1, b2 in zip(b, b[1:], strict=False)) or not b:
            problems.append(f"{where}.breaks: must be ascending numbers, e.g. [2, 8, 15]")
        elif not isinstance(s, list) or len(s) != len(b) + 1 or \
                not all(is_number(v) and 0 <= v <= 1 for v in s):
            problems.append(f"{where}.scores: must be {len(b) + 1} scores in 0–1 (one more "
                            "than breaks)")
    elif kind == "categorical":
        m = params["map"]
        if not isinstance(m, dict) or not m or \
                not all(is_number(v) and 0 <= v <= 1 for v in m.values()):
            problems.append(f"{where}.map: must be a table of category = score (0–1)")
        d = params.get("default", 0.0)
        if not is_number(d) or not 0 <= d <= 1:
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


_CRITERION_KEYS = ("name", "kind", "layer", "transform", "weight", "industry_only", "pad_m",
                   "field", "radius_km", "sample_m", "label_zh", "label_en")


def _layer_exists(study: Any, key: str) -> bool:
    return key in study.declared_layers or key in study.declared_roles


def _criterion(c: dict[str, Any], cw: str, study: Any, problems: list[str]) -> Criterion | None:
    """One ``[[suitability.criteria]]`` table, or None (problems recorded)."""
    name = c["name"]
    problems.extend(unknown_keys(c, _CRITERION_KEYS, cw))
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
            close = difflib.get_close_matches(layer, list(study.declared_layers), n=1)
            problems.append(f"{cw}.layer: the study has no layer {layer!r}" +
                            (f"; did you mean {close[0]!r}?" if close else
                             f"; layers: {', '.join(study.declared_layers)}"))
    if kind == "category" and not isinstance(c.get("field"), str):
        problems.append(f"{cw}.field: a category criterion needs the field holding the "
                        "category")
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
    if weight is not None and (not is_number(weight) or weight < 0):
        problems.append(f"{cw}.weight: {weight!r} must be a number ≥ 0")
        weight = None
    opts: dict[str, Any] = {k: c[k] for k in ("pad_m", "field", "radius_km", "sample_m",
                                              "label_zh", "label_en") if k in c}
    for k in ("pad_m", "radius_km", "sample_m"):
        if k in opts and (not is_number(opts[k]) or opts[k] <= 0):
            problems.append(f"{cw}.{k}: {opts[k]!r} must be a positive number")
    io = bool(c.get("industry_only", kind == "supplier_access"))
    if kind == "supplier_access" and not io:
        problems.append(f"{cw}.industry_only: supplier access needs an industry; it cannot "
                        "be false")
    return Criterion(name, kind, layer, tr, float(weight) if weight is not None else None,
                     io, opts)


def _criteria(v: Any, where: str, study: Any, problems: list[str]) -> Any:
    """The ``[[suitability.criteria]]`` array: the valid criteria (problems recorded)."""
    if not isinstance(v, list) or not all(isinstance(c, dict) for c in v):
        problems.append(f"{where}: must be an array of tables [[suitability.criteria]]")
        return INVALID
    out: list[Criterion] = []
    seen: set[str] = set()
    n0 = len(problems)
    for i, c in enumerate(v):
        name = c.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}[{i}].name: missing; give each criterion a unique name")
            continue
        cw = f"{where}[{i}] ({name})"
        if name in seen:
            problems.append(f"{cw}.name: {name!r} is used twice; names must be unique")
        seen.add(name)
        crit = _criterion(c, cw, study, problems)
        if crit is not None:
            out.append(crit)
    if v and not out and len(problems) == n0:
        problems.append(f"{where}: no valid criterion")
    return tuple(out)


def _max_slope(v: Any, where: str, study: Any, problems: list[str]) -> Any:
    if v is False:
        return None
    if not is_number(v) or not 0 < v <= 90:
        problems.append(f"{where}: {v!r} must be degrees in (0, 90] (or false for no slope "
                        "limit)")
        return INVALID
    return float(v)


def _matrix(v: Any, where: str, study: Any, problems: list[str]) -> Any:
    if not isinstance(v, list) or not all(isinstance(r, list) for r in v):
        problems.append(f"{where}: must be a list of rows, e.g. [[1, 3], [\"1/3\", 1]]")
        return INVALID
    return tuple(tuple(r) for r in v)


@dataclass(frozen=True)
class Constraints:
    """``[suitability.constraints]``: cells excluded before scoring."""

    SECTION = "suitability.constraints"
    redline_classes: tuple[Literal["core", "redline"], ...] = setting(
        ("core", "redline"), "zone classes excluded everywhere (restricted zones apply per "
        "industry)")
    redline_buffer_m: float | None = setting(None, "buffer around those zones (default: "
                                             "[redlines] buffer_m)", unit="m", ge=0)
    water: tuple[str, ...] | None = setting(None, "layer keys (or roles) of water excluded "
                                            "(default: every water layer)", role="*")
    max_slope_deg: float | None = setting(25.0, "steeper cells are excluded (false: no "
                                          "limit)", unit="°", parse=_max_slope)
    parks_occupied: bool = setting(True, "existing parks' land is occupied (excluded)")
    outside_urban_boundary: Literal["exclude", "allow"] = setting(
        "exclude", "cells outside the urban development boundary 城镇开发边界: \"exclude\" "
        "or \"allow\" (candidates outside are flagged for review)")


@dataclass(frozen=True)
class AHPConfig:
    """``[suitability.ahp]``: criterion weights from a pairwise comparison matrix."""

    SECTION = "suitability.ahp"
    criteria: tuple[str, ...] | None = setting(None, "criterion names in the order of the "
                                               "matrix rows (default: file order)")
    matrix: tuple[tuple[Any, ...], ...] | None = setting(
        None, "rows of Saaty 1–9 judgements (numbers or \"1/3\"), one per criterion",
        parse=_matrix)
    allow_inconsistent: bool = setting(False, "accept a consistency ratio above 0.1")


def _penalise(v: Any, where: str, study: Any, problems: list[str]) -> Any:
    if not isinstance(v, dict):
        problems.append(f"{where}: must be a table {{\"class\" = factor}}")
        return INVALID
    n0 = len(problems)
    factors: list[tuple[int, float]] = []
    for k, f in v.items():
        if not str(k).strip().lstrip("-").isdigit() or not is_number(f) or not 0 < f <= 1:
            problems.append(f"{where}.{k}: must map a class value to a factor in (0, 1], "
                            f"got {f!r}")
        else:
            factors.append((int(k), float(f)))
    return tuple(factors) if len(problems) == n0 else INVALID


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
        (class value, factor in (0, 1]) pairs multiplying the suitability score
        (cropland as an approximate stand-in for farmland, for instance).
    label_zh, label_en
        What the classes are, for the legend and the model card.
    """

    SECTION = "suitability.landuse"
    layer: str = setting("", "key of a raster layer with role = \"landuse\"", role="landuse",
                         required="name the land-use raster, e.g. layer = \"landcover\"")
    exclude: tuple[int, ...] = setting((), "class values excluded (built-up land, water, …)")
    penalise: tuple[tuple[int, float], ...] = setting(
        (), "table \"class\" = factor in (0, 1] multiplying the score", parse=_penalise)
    label_zh: str = setting("土地利用", "Chinese name of the classes for legend and model card")
    label_en: str = setting("land use", "English name of the classes")


@dataclass(frozen=True)
class SuitabilityConfig:
    """``[suitability]``: the multi-criteria site suitability model."""

    SECTION = "suitability"
    cell_m: float = setting(250.0, "grid cell size", unit="m", gt=0)
    origin: tuple[float, ...] = setting((0.0, 0.0), "[x, y] in the study CRS that cell "
                                        "edges align to", unit="m")
    criteria: tuple[Criterion, ...] = setting(
        (), "array of tables [[suitability.criteria]] (name, kind, layer, transform, weight, "
        "industry_only, pad_m, field, radius_km, sample_m, label_zh, label_en)",
        parse=_criteria, required="add [[suitability.criteria]] tables with name, kind, "
        "layer, transform")
    ahp: AHPConfig | None = setting(None, "table [suitability.ahp]: weights by pairwise "
                                    "comparison instead of weight = …")
    aggregation: Literal["wlc", "owa"] = setting("wlc", "\"wlc\" (weighted linear "
                                                 "combination) or \"owa\" (ordered weighted "
                                                 "averaging)")
    andness: float | None = setting(None, "OWA: 0 = max (any criterion), 0.5 = WLC, 1 = min "
                                    "(all criteria met); default 0.5 with owa", ge=0, le=1)
    order_weights: tuple[float, ...] | None = setting(None, "OWA: weights by rank from the "
                                                      "best to the worst criterion score",
                                                      ge=0)
    constraints: Constraints = setting(Constraints(), "table [suitability.constraints]")
    min_area_mu: float = setting(1500.0, "smallest candidate region", unit="亩", ge=0)
    max_area_mu: float | None = setting(None, "largest candidate region: larger ones are cut "
                                        "into the parts lying in grid-aligned square tiles "
                                        "of that area (default: no limit)", unit="亩", gt=0)
    top_pct: float = setting(10.0, "candidate cells are the top X % of scored cells",
                             unit="%", gt=0, le=100)
    top_n: int = setting(5, "stability: share of runs in which a region stays in the top N",
                         ge=1)
    runs: int = setting(200, "Monte Carlo runs for stability", ge=0, le=100_000)
    perturbation: float = setting(0.2, "Monte Carlo: each weight × U(1 − p, 1 + p), "
                                  "renormalised", ge=0, le=0.99)
    seed: int = setting(0, "Monte Carlo seed", ge=0)
    max_memory_gb: float = setting(3.0, "refuse grids that would need more memory",
                                   unit="GB", gt=0)
    road_layer: str | None = setting(None, "layer key of the road network for candidates' "
                                     "distance (default: role roads)", role="")
    landuse: LandUseRule | None = setting(None, "table [suitability.landuse]: land-use "
                                          "classes excluded or penalised")

    def __post_init__(self) -> None:
        if self.aggregation == "owa" and self.andness is None and self.order_weights is None:
            object.__setattr__(self, "andness", 0.5)

    # Flat names used by the model (the nested tables are the file's structure).
    @property
    def redline_classes(self) -> tuple[str, ...]:
        return tuple(self.constraints.redline_classes)

    @property
    def redline_buffer_m(self) -> float:
        return float(self.constraints.redline_buffer_m or 0.0)

    @property
    def water_layers(self) -> tuple[str, ...] | None:
        return self.constraints.water

    @property
    def max_slope_deg(self) -> float | None:
        return self.constraints.max_slope_deg

    @property
    def parks_occupied(self) -> bool:
        return self.constraints.parks_occupied

    @property
    def outside_urban_boundary(self) -> str:
        return self.constraints.outside_urban_boundary

    @property
    def allow_inconsistent(self) -> bool:
        return self.ahp is not None and self.ahp.allow_inconsistent

    @property
    def ahp_names(self) -> tuple[str, ...] | None:
        if self.ahp is None or self.ahp.matrix is None:
            return None
        return self.ahp.criteria or tuple(c.name for c in self.criteria)

    @property
    def ahp_matrix(self) -> np.ndarray | None:
        """The pairwise matrix (validated by :meth:`check`), or None."""
        names = self.ahp_names
        if names is None or self.ahp is None or self.ahp.matrix is None:
            return None
        return pairwise_matrix([list(r) for r in self.ahp.matrix], list(names),
                               where="suitability.ahp.matrix")

    def check(self, study: Any) -> list[str]:
        """Problems that need several keys or the study (run by ``parse_section``).

        Checked: ``max_area_mu`` at least twice ``min_area_mu`` (亩), ``origin`` an
        ``[x, y]`` pair in metres, ``andness``/``order_weights`` only with OWA (and not
        both), and the weights (and AHP matrix) against the criteria.

        Parameters
        ----------
        study
            The study, or None when an override is checked without one.

        Returns
        -------
        list of str
            One ``"suitability.key: what is wrong; fix"`` sentence per problem.
        """
        w = "suitability"
        p: list[str] = []
        if self.max_area_mu is not None and self.max_area_mu < 2 * self.min_area_mu:
            p.append(f"{w}.max_area_mu: {self.max_area_mu:g} 亩 must be at least twice "
                     f"min_area_mu ({self.min_area_mu:g} 亩) so that tile parts can reach the "
                     "minimum; raise it or remove it")
        if len(self.origin) != 2:
            p.append(f"{w}.origin: must be [x, y] in metres, e.g. [0, 0]")
        if self.aggregation == "wlc" and (self.andness is not None or
                                          self.order_weights is not None):
            p.append(f"{w}.andness/order_weights: only used with aggregation = \"owa\"")
        elif self.order_weights is not None and self.andness is not None:
            p.append(f"{w}: give andness or order_weights, not both")
        return p + self._check_weights()

    def _check_weights(self) -> list[str]:
        w, crit = "suitability", self.criteria
        names = [c.name for c in crit]
        p: list[str] = []
        if self.ahp is not None:
            an = list(self.ahp.criteria) if self.ahp.criteria is not None else names
            if sorted(an) != sorted(names):
                p.append(f"{w}.ahp.criteria: must name every criterion once (missing: "
                         f"{', '.join(sorted(set(names) - set(an))) or '-'}; not a criterion: "
                         f"{', '.join(sorted(set(an) - set(names))) or '-'})")
            elif self.ahp.matrix is None:
                p.append(f"{w}.ahp.matrix: missing; one row per criterion in the order of "
                         f"ahp.criteria ({', '.join(an)})")
            else:
                try:
                    self.ahp_matrix  # noqa: B018 - validates
                except ModelError as exc:
                    p.append(str(exc))
            if any(c.weight is not None for c in crit):
                p.append(f"{w}.criteria: weights are given both directly (weight = …) and by "
                         "[suitability.ahp]; keep one")
        elif crit:
            missing = [c.name for c in crit if c.weight is None]
            if missing:
                p.append(f"{w}.criteria: no weight for {', '.join(missing)}; give every "
                         "criterion a weight = …, or a [suitability.ahp] matrix")
            elif sum(c.weight or 0.0 for c in crit if not c.industry_only) <= 0:
                p.append(f"{w}.criteria: the weights sum to 0")
        ow = self.order_weights
        if ow is not None and (len(ow) != len(crit) or sum(ow) <= 0):
            p.append(f"{w}.order_weights: must be {len(crit)} numbers ≥ 0 (one per rank, best "
                     "score first), e.g. [0, …, 1] for \"all criteria met\"")
        return p
