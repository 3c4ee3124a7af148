"""Today's ``[layout]`` settings: the keys, their checks and :class:`LayoutConfig`.

Kept verbatim in one module so that the typed study configuration (``geo.config``) can
replace it in one place. Distances in metres (study metric CRS), areas in 亩.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..study import unknown_keys

if TYPE_CHECKING:  # pragma: no cover
    from ..study import Study

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

LAYOUT_KEYS: dict[str, str] = {
    "plot_mu": "target plot size (亩, default 50)",
    "road_spacing_m": "distance between internal road centre lines (m, default 400)",
    "road_width_m": "width of internal roads (m, default 24)",
    "min_plot_mu": "pieces smaller than this stay green land (亩, default 5)",
    "water_setback_m": "setback from water (m, default 30)",
    "redline_setback_m": "setback of every plot from core/red-line zones (m, default 100)",
    "polluter_setback_m": "setback of polluting firms from red lines and residential/service "
                          "areas (m, default 500)",
    "polluting": "sectors or industries that are polluting (default chemicals, "
                 "pharmaceuticals, dyeing, electroplating, papermaking, battery_recycling)",
    "sensitive_roles": "layer roles that polluters keep away from (default residential, "
                       "amenities)",
    "include_existing": "existing firms of the register occupy plots (default true)",
    "time_limit_s": "local search time limit (s, default 50)",
    "max_passes": "local search passes at most (default 100)",
    "seed": "random seed of the baseline and the search order (default 0)",
    "facilities": "list of {id, name_zh, name_en, users, weight, p, polluting}",
    "park": "park laid out by `parksite run` (with firms)",
    "firms": "incoming firms CSV for `parksite run` (relative to the study file)",
}
#: Keys only `parksite run` reads (not LayoutConfig fields).
RUN_KEYS = ("park", "firms")


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class LayoutConfig:
    """The ``[layout]`` settings (all distances in metres, areas in 亩)."""

    plot_mu: float = 50.0
    road_spacing_m: float = 400.0
    road_width_m: float = 24.0
    min_plot_mu: float = 5.0
    water_setback_m: float = 30.0
    redline_setback_m: float = 100.0
    polluter_setback_m: float = 500.0
    polluting: tuple[str, ...] = POLLUTING
    sensitive_roles: tuple[str, ...] = ("residential", "amenities")
    include_existing: bool = True
    time_limit_s: float = 50.0
    max_passes: int = 100
    seed: int = 0
    facilities: tuple[dict[str, Any], ...] = DEFAULT_FACILITIES

    @classmethod
    def from_study(cls, study: Study | None, **overrides: Any) -> LayoutConfig:
        """The study's ``[layout]`` values, then ``overrides`` (None values are skipped).

        Raises
        ------
        InputError
            A value out of range (every problem at once).
        """
        sec = dict(study.section("layout")) if study is not None else {}
        for k in ("polluting", "sensitive_roles", "facilities"):
            if k in sec:
                sec[k] = tuple(sec[k])
        kw = {k: v for k, v in sec.items() if k in cls.__dataclass_fields__}
        kw.update({k: v for k, v in overrides.items() if v is not None})
        cfg = cls(**kw)
        problems = _check_values(cfg)
        if problems:
            raise InputError("layout settings: " + "; ".join(problems))
        return cfg


def _check_values(cfg: LayoutConfig) -> list[str]:
    p = []
    for k in ("plot_mu", "road_spacing_m", "time_limit_s"):
        v = getattr(cfg, k)
        if not (_num(v) and v > 0):
            p.append(f"layout.{k}: must be a number > 0, got {v!r}")
    for k in ("road_width_m", "min_plot_mu", "water_setback_m", "redline_setback_m",
              "polluter_setback_m"):
        v = getattr(cfg, k)
        if not (_num(v) and v >= 0):
            p.append(f"layout.{k}: must be a number ≥ 0, got {v!r}")
    if _num(cfg.road_spacing_m) and _num(cfg.road_width_m) and \
            cfg.road_width_m >= cfg.road_spacing_m:
        p.append(f"layout.road_width_m: {cfg.road_width_m} m leaves no land between roads "
                 f"{cfg.road_spacing_m} m apart; make it smaller than road_spacing_m")
    if not (isinstance(cfg.max_passes, int) and cfg.max_passes >= 0):
        p.append(f"layout.max_passes: must be a whole number ≥ 0, got {cfg.max_passes!r}")
    for i, f in enumerate(cfg.facilities):
        if not isinstance(f, dict) or "id" not in f:
            p.append(f"layout.facilities[{i}]: must be a table with at least id")
            continue
        if not (isinstance(f.get("p", 1), int) and f.get("p", 1) >= 1):
            p.append(f"layout.facilities[{i}].p: must be a whole number ≥ 1")
        if f.get("weight", "count") not in ("count", "land"):
            p.append(f"layout.facilities[{i}].weight: \"count\" or \"land\"")
        u = f.get("users", "all")
        if not (u == "all" or (isinstance(u, (list, tuple)) and all(isinstance(x, str)
                                                                     for x in u))):
            p.append(f"layout.facilities[{i}].users: \"all\" or a list of industries")
    return p


def validate_section(table: dict, study: Study) -> list[str]:
    """Check a study file's ``[layout]`` table; return the problems found."""
    problems = unknown_keys(table, LAYOUT_KEYS, "layout")
    known = {k: v for k, v in table.items() if k in LAYOUT_KEYS and k not in RUN_KEYS}
    if ("park" in table) != ("firms" in table):
        problems.append("layout.park / layout.firms: give both (the park to lay out and the "
                        "incoming firms CSV) or neither")
    if "park" in table and not (isinstance(table["park"], str) and table["park"]):
        problems.append(f"layout.park: must be a park id, got {table['park']!r}")
    if "firms" in table:
        f = table["firms"]
        if not (isinstance(f, str) and f):
            problems.append(f"layout.firms: must be a path, got {f!r}")
        elif not (study.root / f).exists():
            problems.append(f"layout.firms: {f} not found (paths are relative to the study "
                            "file)")
    for k in ("polluting", "sensitive_roles"):
        if k in known and not (isinstance(known[k], list) and
                               all(isinstance(x, str) for x in known[k])):
            problems.append(f"layout.{k}: must be a list of names, got {known[k]!r}")
            known.pop(k)
    if "facilities" in known and not isinstance(known["facilities"], list):
        problems.append("layout.facilities: must be a list of tables ([[layout.facilities]])")
        known.pop("facilities")
    if "include_existing" in known and not isinstance(known["include_existing"], bool):
        problems.append("layout.include_existing: true or false")
        known.pop("include_existing")
    for k in ("polluting", "sensitive_roles", "facilities"):
        if k in known:
            known[k] = tuple(known[k])
    try:
        problems.extend(_check_values(LayoutConfig(**known)))
    except TypeError as exc:  # pragma: no cover - guarded by the key check
        problems.append(f"layout: {exc}")
    if "parks" not in study.declared_roles:
        problems.append("layout: the study has no layer with role = \"parks\"")
    return problems


