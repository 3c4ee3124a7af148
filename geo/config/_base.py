"""The machinery of :mod:`geo.config`: settings declared as dataclass fields, one
generic validator driven by their metadata, and a validating ``replace``.

A section is a frozen dataclass whose fields are made by :func:`setting`; the field's
annotation is the type, the metadata the unit, bounds, layer role, doc. A section may
define ``check(self, study)`` for checks that need several fields or the study (``study``
is None when an override is checked without one); it returns problems.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from ..errors import InputError

__all__ = ["INVALID", "Setting", "StudyContext", "is_number", "parse_section", "replace",
           "setting", "suggest", "unknown_keys"]


class StudyContext(Protocol):
    """What section checks need of a study (a :class:`geo.study.Study`)."""

    root: Path
    layers: Mapping[str, Any]

    @property
    def declared_roles(self) -> set[str]: ...

    @property
    def declared_layers(self) -> list[str]: ...

    def by_role(self, role: str) -> list[Any]:
        """The layer specs of the study with this role.

        Parameters
        ----------
        role
            A layer role (``"parks"``, ``"roads"``, …).

        Returns
        -------
        list
            :class:`geo.layers.LayerSpec`-like objects, in study-file order.
        """
        ...


# --------------------------------------------------------------------------- metadata

@dataclass(frozen=True)
class Setting:
    """The declaration of one key: what :func:`setting` stores in a field's metadata.

    Attributes
    ----------
    doc : str
        One line: what the key means.
    unit : str
        Unit of the value ("m", "km", "亩", "km/h", "M yuan/亩", "%", "s", …) or "".
    gt, ge, lt, le : float or None
        Bounds of a number (or of each number of a list/table of numbers).
    role : str or None
        The value (or each value) is a layer key whose layer has this role
        ("" = any layer).
    path : bool
        The value (or each value) is a file path relative to the study file.
    key : str or None
        The TOML key, where it differs from the field name.
    parse : callable or None
        ``parse(value, where, study, problems)`` for values no annotation describes
        (criteria, transforms); returns the field value or :data:`INVALID`.
    required : str or None
        The key must be given; this is the fix named when it is missing.
    """

    doc: str
    unit: str = ""
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    role: str | None = None
    path: bool = False
    key: str | None = None
    parse: Callable[[Any, str, Any, list[str]], Any] | None = None
    required: str | None = None

    def range_text(self) -> str:
        """The bounds as text: ``"> 0"``, ``"≥ 0"``, ``"in (0, 1]"``, ``"from 3 to 8"``.

        Returns
        -------
        str
            ``""`` when the setting has no bounds (the unit is not included).
        """
        lo = (self.gt, "(", ">") if self.gt is not None else \
            (self.ge, "[", "≥") if self.ge is not None else None
        hi = (self.lt, ")", "<") if self.lt is not None else \
            (self.le, "]", "≤") if self.le is not None else None
        if lo and hi:
            if lo[1] == "[" and hi[1] == "]":
                return f"from {lo[0]:g} to {hi[0]:g}"
            return f"in {lo[1]}{lo[0]:g}, {hi[0]:g}{hi[1]}"
        b = lo or hi
        return f"{b[2]} {b[0]:g}" if b else ""

    def in_range(self, v: float) -> bool:
        """Whether a number lies within the setting's bounds.

        Parameters
        ----------
        v
            The value, in the setting's unit (:attr:`unit`).

        Returns
        -------
        bool
            True when every bound given (``gt``, ``ge``, ``lt``, ``le``) holds.
        """
        return not ((self.gt is not None and v <= self.gt) or (self.ge is not None and v < self.ge)
                    or (self.lt is not None and v >= self.lt)
                    or (self.le is not None and v > self.le))


def setting(default: Any, doc: str, *, unit: str = "", gt: float | None = None,
            ge: float | None = None, lt: float | None = None, le: float | None = None,
            role: str | None = None, path: bool = False, key: str | None = None,
            parse: Callable[[Any, str, Any, list[str]], Any] | None = None,
            required: str | None = None) -> Any:
    """A dataclass field declaring one study-file key (see :class:`Setting`).

    Parameters
    ----------
    default
        The default value; a list, dict or dataclass instance is used through a
        default factory.
    doc, unit, gt, ge, lt, le, role, path, key, parse, required
        See :class:`Setting`.

    Returns
    -------
    dataclasses.Field
    """
    meta = {"setting": Setting(doc, unit, gt, ge, lt, le, role, path, key, parse, required)}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    if dataclasses.is_dataclass(default):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


#: A value :func:`_convert` rejected (the problem has been recorded).
INVALID = object()


def suggest(name: object, choices: Iterable[object]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``, or ``""``.

    Parameters
    ----------
    name
        The name as written (read as str).
    choices
        The valid names.

    Returns
    -------
    str
        The hint, to append to a message; ``""`` when nothing is close.
    """
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown_keys(table: Mapping[str, Any], known: Iterable[str], where: str) -> list[str]:
    """One problem per key of ``table`` not in ``known`` ("where.key: unknown key; …").

    Parameters
    ----------
    table
        A TOML table.
    known
        Its valid keys.
    where
        The table's dotted name in messages.

    Returns
    -------
    list of str
        One sentence per unknown key, with a did-you-mean or the known keys.
    """
    known = list(known)
    return [f"{where}.{k}: unknown key" + (suggest(k, known) or
                                           f"; known keys: {', '.join(sorted(known))}")
            for k in table if k not in known]


def is_number(v: object) -> bool:
    """A finite int or float, not a bool.

    Parameters
    ----------
    v
        Any value.

    Returns
    -------
    bool
    """
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _fields(cls: type) -> dict[str, tuple[dataclasses.Field[Any], Setting, Any]]:
    """TOML key → (field, setting, resolved type) of a section class."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        s = f.metadata.get("setting")
        if s is not None:
            out[s.key or f.name] = (f, s, hints[f.name])
    return out


def _strip_none(tp: Any) -> Any:
    args = typing.get_args(tp)
    if (typing.get_origin(tp) in (typing.Union, types.UnionType)) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0]
    return tp


def _convert(v: Any, tp: Any, s: Setting, where: str, study: Any, problems: list[str]) -> Any:
    """``v`` checked against type ``tp`` and setting ``s``; INVALID (problem recorded)."""
    if s.parse is not None:
        return s.parse(v, where, study, problems)
    tp = _strip_none(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    unit = f" ({s.unit})" if s.unit and s.unit not in ("%",) else ""
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(v, dict):
            problems.append(f"{where}: must be a table ([{where}])")
            return INVALID
        return parse_section(tp, v, where, study, problems)
    if origin is Literal:
        if v not in args:
            problems.append(f"{where}: {v!r} is not one of {', '.join(map(str, args))}"
                            + suggest(v, args))
            return INVALID
        return v
    if tp is bool:
        if not isinstance(v, bool):
            problems.append(f"{where}: must be true or false, got {v!r}")
            return INVALID
        return v
    if tp in (int, float):
        whole = tp is int
        ok = is_number(v) and (not whole or float(v).is_integer()) and s.in_range(v)
        if not ok:
            rng = s.range_text()
            problems.append(f"{where}: must be {'a whole number' if whole else 'a number'}"
                            f"{' ' + rng if rng else ''}{unit}, got {v!r}")
            return INVALID
        return tp(v)
    if tp is str:
        if not isinstance(v, str) or not v.strip():
            what = "a field name" if where.endswith("field") else \
                "a path (text)" if s.path else "a non-empty text"
            problems.append(f"{where}: must be {what}, got {v!r}")
            return INVALID
        return v if _refs_ok([v], s, where, study, problems) else INVALID
    if origin is tuple and args and args[-1] is Ellipsis:
        item = args[0]
        if not isinstance(v, list):
            what = "texts" if item is str else "numbers" if item in (int, float) else "values"
            problems.append(f"{where}: must be a list of {what}, e.g. [{_example(item)}], "
                            f"got {v!r}")
            return INVALID
        if item is str:
            if not all(isinstance(x, str) and x for x in v):
                problems.append(f"{where}: must be a list of texts, got {v!r}")
                return INVALID
            return tuple(v) if _refs_ok(v, s, where, study, problems) else INVALID
        vals = [_convert(x, item, s, f"{where}[{i}]", study, problems) for i, x in enumerate(v)]
        return INVALID if any(x is INVALID for x in vals) else tuple(vals)
    if origin is dict:
        if not isinstance(v, dict):
            problems.append(f"{where}: must be a table, e.g. [{where}]")
            return INVALID
        table = {k: _convert(x, args[1], s, f"{where}.{k}", study, problems)
                 for k, x in v.items()}
        return INVALID if any(x is INVALID for x in table.values()) else table
    raise TypeError(f"{where}: no validator for type {tp!r}")  # pragma: no cover


def _example(tp: Any) -> str:
    return '"…"' if tp is str else "1, 2"


def _refs_ok(values: list[str], s: Setting, where: str, study: Any, problems: list[str]) -> bool:
    """Layer and path references of ``values`` exist (problems recorded)."""
    n0 = len(problems)
    for x in values:
        if s.path and not (study.root / x).exists():
            problems.append(f"{where}: {x} not found (paths are relative to the study file)")
        if s.role is not None:
            _layer_ref(x, s.role, where, study, problems)
    return len(problems) == n0


def _layer_ref(x: str, role: str, where: str, study: Any, problems: list[str]) -> None:
    """``x`` names a layer of ``role`` ("" any layer; "*" a layer key or a role)."""
    declared = study.declared_layers
    if role == "*":
        if x not in declared and x not in study.declared_roles:
            problems.append(f"{where}: no layer {x!r} in the study" + suggest(x, declared))
        return
    if x not in declared:
        pool = [s.key for s in study.by_role(role)] if role else declared
        problems.append(f"{where}: no layer {x!r}" + (
            suggest(x, declared) or f"; {role or 'study'} layers: {', '.join(pool) or 'none'}"))
    elif role and x in study.layers and study.layers[x].role != role:
        problems.append(f"{where}: layer {x!r} has role {study.layers[x].role!r}; it must "
                        f"have role = \"{role}\"")


def parse_section(cls: type[Any], table: Mapping[str, Any], where: str, study: Any,
                  problems: list[str], **fixed: Any) -> Any:
    """Build section ``cls`` from a TOML table, appending every problem to ``problems``.

    Keys are checked in file order (unknown keys with a did-you-mean); a bad value
    keeps its default so that later checks can still run; then ``cls.check(study)``
    adds the checks that need several fields or the study.

    Parameters
    ----------
    cls
        A section dataclass of this module.
    table
        The TOML table.
    where
        Its dotted name, e.g. ``"parks.recommend"``.
    study
        The study (layers, roles, folder) the references are checked against.
    problems
        Appended to; each ``"where.key: what is wrong; fix"``.
    **fixed
        Field values set by the caller, not read from the table.

    Returns
    -------
    An instance of ``cls``.
    """
    spec = _fields(cls)
    kw: dict[str, Any] = dict(fixed)
    for k, v in table.items():
        if k not in spec:
            problems.extend(unknown_keys({k: v}, spec, where))
            continue
        f, s, tp = spec[k]
        val = _convert(v, tp, s, f"{where}.{k}", study, problems)
        if val is not INVALID:
            kw[f.name] = val
    problems.extend(f"{where}.{k}: missing; {s.required}" for k, (_, s, _) in spec.items()
                    if s.required and k not in table)
    obj = cls(**kw)
    check = getattr(obj, "check", None)
    if check is not None:
        problems.extend(check(study))
    return obj


def replace(obj: Any, study: Any = None, *, where: str | None = None,
            error: type[InputError] = InputError, **changes: Any) -> Any:
    """``dataclasses.replace`` that validates the changed values like the study file.

    Parameters
    ----------
    obj
        A section of a :class:`StudyConfig` (e.g. ``study.config.layout``).
    study
        The study, for checks that need it (layer references); None skips those.
    where
        Name of the section in messages (default: the class' ``SECTION``).
    error
        The exception raised (an :class:`InputError` subclass, e.g. ``ModelError``).
    **changes
        Field name → new value; None values are ignored (an option left unset).

    Returns
    -------
    A new instance of ``type(obj)``.

    Raises
    ------
    InputError
        Listing every bad value (and unknown names, with the known ones).
    """
    cls = type(obj)
    name = where or getattr(cls, "SECTION", cls.__name__)
    by_field = {f.name: (k, s, tp) for k, (f, s, tp) in _fields(cls).items()}
    problems: list[str] = []
    kw: dict[str, Any] = {}
    for k, v in changes.items():
        if v is None:
            continue
        if k not in by_field:
            problems.append(f"{name}: unknown setting {k!r}{suggest(k, by_field)}; known: "
                            f"{', '.join(by_field)}")
            continue
        key, s, tp = by_field[k]
        if isinstance(v, tuple) and typing.get_origin(_strip_none(tp)) is tuple:
            v = list(v)
        val = _convert(v, tp, s, f"{name}.{key}", study or _NoStudy(), problems)
        if val is not INVALID:
            kw[k] = val
    new = dataclasses.replace(obj, **kw) if not problems else obj
    check = getattr(new, "check", None)
    if check is not None and not problems:
        problems.extend(check(study))
    if problems:
        raise error(f"{name} settings: " + "; ".join(problems))
    return new


class _NoStudy:
    """Stands in for a study when overrides are checked without one."""

    root = Path(".")
    layers: dict[str, Any] = {}
    declared_roles: set[str] = set()
    declared_layers: list[str] = []

    def by_role(self, role: str) -> list[Any]:
        return []

