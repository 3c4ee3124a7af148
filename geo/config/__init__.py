"""One typed model of a study file's settings: a frozen dataclass per section.

Every key is declared once, as a field made by :func:`~geo.config._base.setting`
(type = the annotation; unit, bounds, layer role, default and a one-line doc = the
metadata). :func:`build_config` validates the whole file with one generic validator
and returns a :class:`StudyConfig` (``study.config``) plus every problem found;
:func:`replace` re-validates overrides (command-line options); :func:`reference`
lists every key for ``parksite check --keys`` and the README's "Study file
reference", so the documentation cannot drift from the code.

Foundation package: it imports errors and ahp, never an analysis module.
"""

from __future__ import annotations

import dataclasses
import types
import typing
import warnings
from dataclasses import dataclass
from typing import Any, Literal

from ._base import (
    INVALID,
    Setting,
    is_number,
    parse_section,
    replace,
    setting,
    suggest,
    unknown_keys,
)
from ._sections import (
    BASEMAPS,
    DEFAULT_FACILITIES,
    LANGS,
    POLLUTING,
    RECOMMEND_WEIGHTS,
    RESULT_LAYERS,
    ComputeConfig,
    LayerConfig,
    LayoutConfig,
    MapConfig,
    NetworkConfig,
    ParksConfig,
    RecommendConfig,
    RedlinesConfig,
    SourcingConfig,
    StudyMeta,
)
from ._suitability import (
    CRITERION_KINDS,
    SLOPE_CLASSES,
    AHPConfig,
    Constraints,
    Criterion,
    LandUseRule,
    SuitabilityConfig,
    Transform,
    parse_transform,
)

__all__ = ["BASEMAPS", "CRITERION_KINDS", "DEFAULT_FACILITIES", "INVALID", "LANGS", "POLLUTING",
           "RECOMMEND_WEIGHTS", "RESULT_LAYERS", "SECTIONS", "SLOPE_CLASSES", "AHPConfig",
           "ComputeConfig", "Constraints", "Criterion", "LandUseRule", "LayerConfig",
           "LayoutConfig",
           "MapConfig", "NetworkConfig", "ParksConfig", "RecommendConfig", "RedlinesConfig",
           "Setting", "SourcingConfig", "StudyConfig", "StudyMeta", "SuitabilityConfig",
           "Transform", "build_config", "is_number", "parse_section", "parse_transform",
           "reference", "reference_markdown", "replace", "section_problems", "setting",
           "suggest", "unknown_keys"]


# --------------------------------------------------------------------------- the study

#: Section name → its class, in the order of the reference (``[layers.KEY]`` tables are
#: checked by the study loader with :class:`LayerConfig`).
SECTIONS: dict[str, type[Any]] = {
    "study": StudyMeta, "redlines": RedlinesConfig, "network": NetworkConfig,
    "sourcing": SourcingConfig, "suitability": SuitabilityConfig, "parks": ParksConfig,
    "layout": LayoutConfig, "map": MapConfig, "compute": ComputeConfig,
}


@dataclass(frozen=True)
class StudyConfig:
    """Every section of a study file, validated (``study.config``).

    ``suitability`` is None when the file has no ``[suitability]`` section (its
    criteria have no default); every other section falls back to its defaults.
    """

    study: StudyMeta = dataclasses.field(default_factory=StudyMeta)
    redlines: RedlinesConfig = dataclasses.field(default_factory=RedlinesConfig)
    network: NetworkConfig = dataclasses.field(default_factory=NetworkConfig)
    sourcing: SourcingConfig = dataclasses.field(default_factory=SourcingConfig)
    suitability: SuitabilityConfig | None = None
    parks: ParksConfig = dataclasses.field(default_factory=ParksConfig)
    layout: LayoutConfig = dataclasses.field(default_factory=LayoutConfig)
    map: MapConfig = dataclasses.field(default_factory=MapConfig)
    compute: ComputeConfig = dataclasses.field(default_factory=ComputeConfig)


def build_config(data: dict[str, Any], study: Any, *, source: str = "study file"
                 ) -> tuple[StudyConfig, list[str]]:
    """Validate every section of a parsed study file.

    Parameters
    ----------
    data
        The whole TOML document (``[layers.*]`` is the study loader's and skipped).
    study
        The study being loaded (its layers, declared roles and folder).
    source
        Named in the warning about an unused section.

    Returns
    -------
    (StudyConfig, list of str)
        The configuration (defaults where a value was bad) and every problem found.
    """
    problems: list[str] = []
    kw: dict[str, Any] = {}
    for name, tbl in data.items():
        if name == "layers":
            continue
        cls = SECTIONS.get(name)
        if cls is None:
            close = suggest(name, SECTIONS)
            if close:
                problems.append(f"{name}: unknown section; did you mean "
                                f"[{close.split(chr(39))[1]}]?")
            else:
                warnings.warn(f"{source}: section [{name}] is not used by this parksite "
                              "version", UserWarning, stacklevel=3)
        elif not isinstance(tbl, dict):
            problems.append(f"{name}: must be a table ([{name}])")
        else:
            kw[name] = parse_section(cls, tbl, name, study, problems)
    cfg = StudyConfig(**kw)
    sc = cfg.suitability
    if sc is not None and sc.constraints.redline_buffer_m is None:
        cons = dataclasses.replace(sc.constraints, redline_buffer_m=cfg.redlines.buffer_m)
        cfg = dataclasses.replace(cfg, suitability=dataclasses.replace(sc, constraints=cons))
    return cfg, problems


def section_problems(section: str, table: dict[str, Any], study: Any) -> list[str]:
    """Every problem of one section's TOML table.

    Parameters
    ----------
    section
        A key of :data:`SECTIONS` (``"parks"``, ``"layout"``, …).
    table
        The section's table as read from TOML.
    study
        The study the references are checked against.

    Returns
    -------
    list of str
        Empty when the table is valid.
    """
    problems: list[str] = []
    parse_section(SECTIONS[section], table, section, study, problems)
    return problems


# --------------------------------------------------------------------------- reference

def _type_text(tp: Any, s: Setting) -> str:
    names = {float: "number", int: "whole number", bool: "true/false", str: "text"}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return _type_text(next(a for a in args if a is not type(None)), s)
    if origin is Literal:
        return " | ".join(f'"{a}"' for a in args)
    if origin is tuple:
        inner = args[0]
        nested = dataclasses.is_dataclass(inner) or typing.get_origin(inner) in (dict, tuple)
        return "list of tables" if nested else f"list of {_type_text(inner, s)}"
    if origin is dict:
        return f"table of {_type_text(args[1], s)}"
    if dataclasses.is_dataclass(tp):
        return "table"
    base = names.get(tp, "table")
    rng = s.range_text()
    return f"{base} {rng}" if rng else base


def _default_text(f: dataclasses.Field[Any]) -> str:
    factory = f.default_factory
    v = f.default if f.default is not dataclasses.MISSING else \
        (factory() if callable(factory) else None)
    if v is None:
        return "–"
    if dataclasses.is_dataclass(v):
        return "(table)"
    if isinstance(v, tuple) and v and isinstance(v[0], dict):
        return f"{len(v)} tables"
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(f'"{x}"' if isinstance(x, str) else f"{x:g}" for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {x:g}" for k, x in v.items()) + "}" if v else "{}"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, str):
        return f'"{v}"'
    return f"{v:g}"


def _nested(tp: Any) -> type[Any] | None:
    """The section class a field's type holds (``X`` or ``X | None``), if any."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    for t in [tp, *args]:
        if isinstance(t, type) and dataclasses.is_dataclass(t) and hasattr(t, "SECTION"):
            return t
    return None


def reference() -> list[tuple[str, str, str, str, str, str]]:
    """Every key of a study file: ``(section, key, type, unit, default, doc)`` rows.

    Nested tables appear as their own sections (``parks.recommend``,
    ``suitability.constraints``, ``suitability.criteria``, ``suitability.ahp``).

    Returns
    -------
    list of tuple of str
    """
    rows = []
    todo: list[tuple[str, type[Any]]] = list(SECTIONS.items())
    todo.insert(1, ("layers.KEY", LayerConfig))
    while todo:
        name, cls = todo.pop(0)
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            s = f.metadata.get("setting")
            if s is None:
                continue
            key = s.key or f.name
            rows.append((name, key, _type_text(hints[f.name], s), s.unit, _default_text(f),
                         s.doc))
            nested = _nested(hints[f.name])
            if nested is not None:
                todo.append((f"{name}.{key}", nested))
    return rows


def reference_markdown() -> str:
    """The README's "Study file reference": one Markdown table per section.

    Returns
    -------
    str
    """
    out = ["<!-- generated by geo.config.reference_markdown(); do not edit by hand -->", ""]
    section = None
    for sec, key, tp, unit, default, doc in reference():
        if sec != section:
            section = sec
            out += ["", f"`[{sec}]`", "", "| key | type | unit | default | meaning |",
                    "|---|---|---|---|---|"]
        cell = [key, tp, unit, default, doc]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cell) + " |")
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"

