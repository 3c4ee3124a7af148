"""Study files (``layers/*.toml``): a study area, its layers, and the settings of
each analysis.

A study file looks like this (paths are relative to the study file)::

    [study]
    name = "yrd"
    title = "长三角核心区 Yangtze River Delta core"
    boundary = "study_area"          # key of the layer that bounds the study
    # crs = "EPSG:4549"              # metric CRS; default: the GK zone of the centroid

    [layers.parks]
    path = "../data/yrd/parks.gpkg"
    role = "parks"
    id = "park_id"
    name = "name"

    [redlines]                       # settings of one analysis; see its module
    buffer_m = 1000

:func:`load_study` validates the whole file before anything expensive runs and
raises one :class:`~geo.errors.StudyError` listing every problem with its key and a
fix. Sections other than ``[study]`` and ``[layers.*]`` belong to analyses; each is
checked by the validator registered for it in :data:`SECTION_VALIDATORS`.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from .crs import COORDS, area_crs_for, check_metric_crs, in_china, metric_crs_for
from .errors import InputError, LayerError, StudyError
from .extent import check_layer_extent
from .layers import (
    RASTER_ROLES,
    RASTER_SUFFIXES,
    ROLES,
    VECTOR_SUFFIXES,
    check_raster,
    did_you_mean,
    gpkg_layers,
    read_layer,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Keys a ``[layers.X]`` table may hold, with what they mean.
LAYER_KEYS: dict[str, str] = {
    "path": "file path, relative to the study file",
    "layer": "layer name inside a GeoPackage",
    "role": "what the layer is: " + ", ".join(sorted(ROLES) + sorted(RASTER_ROLES)),
    "coords": "datum of the coordinates: " + ", ".join(COORDS),
    "crs": "CRS override, e.g. \"EPSG:4549\"",
    "encoding": "text encoding override, e.g. \"gb18030\"",
    "id": "field holding the feature id",
    "name": "field holding the feature name",
    "lon": "CSV: longitude column",
    "lat": "CSV: latitude column",
    "label_zh": "Chinese label for maps",
    "label_en": "English label for maps",
    "synthetic": "true if the layer is synthetic (said so in maps and tables)",
    "industry": "field holding the industry (firms) or industries (parks)",
    "class": "field holding the class (red lines: core, redline, restricted)",
    "classes": "class scheme of a landuse raster: \"igbp\" (MODIS) names its values on "
               "maps; otherwise maps show the values as codes",
}
STUDY_KEYS = {"name", "title", "boundary", "crs", "description", "sources"}

#: Analyses' sections: section name → "module:function". The function takes
#: (the section's table, the Study) and returns a list of problems (strings starting
#: with the key, e.g. "suitability.weights: ...").
SECTION_VALIDATORS: dict[str, str] = {
    "redlines": "geo.redline:validate_section",
    "network": "geo.network:validate_section",
    "sourcing": "geo.sourcing:validate_section",
    "suitability": "geo.suitability:validate_section",
    "compute": "geo.compute:validate_section",
    "map": "geo.webmap:validate_section",
    "parks": "geo.parks:validate_section",
    "layout": "geo.layout:validate_section",
}


def suggest(name: object, choices) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown_keys(table: dict, known, where: str) -> list[str]:
    """One problem per key of ``table`` not in ``known`` ("where.key: unknown key; …")."""
    known = list(known)
    return [f"{where}.{k}: unknown key" + (suggest(k, known) or
                                           f"; known keys: {', '.join(sorted(known))}")
            for k in table if k not in known]


@dataclass(frozen=True)
class LayerSpec:
    """One ``[layers.KEY]`` table, with the path resolved against the study file."""

    key: str
    path: Path
    role: str
    layer: str | None = None
    coords: str | None = None
    crs: str | None = None
    encoding: str | None = None
    id: str | None = None
    name: str | None = None
    lon: str | None = None
    lat: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_raster(self) -> bool:
        return self.role in RASTER_ROLES

    @property
    def label(self) -> str:
        return f"layers.{self.key}"

    def read(self) -> gpd.GeoDataFrame:
        """Read this layer (WGS84); see :func:`geo.layers.read_layer`."""
        if self.is_raster:
            raise LayerError(f"{self.label}: {self.path} is a raster; open it with rasterio")
        gdf = read_layer(self.path, role=self.role, layer=self.layer, coords=self.coords,
                         crs=self.crs, encoding=self.encoding, id_field=self.id,
                         name_field=self.name, lon=self.lon, lat=self.lat,
                         label=f"{self.label} ({self.path})")
        gdf.attrs["layer_key"] = self.key
        gdf.attrs["synthetic"] = bool(self.options.get("synthetic", False))
        return gdf


class Study:
    """A loaded, validated study file. Layers are read lazily and cached.

    Attributes
    ----------
    path : Path
        The study file.
    name, title : str
    layers : dict[str, LayerSpec]
        By key (the ``X`` of ``[layers.X]``).
    sections : dict[str, dict]
        Every other top-level table (``redlines``, ``suitability``, ``map``, …).
    """

    def __init__(self, path: Path, data: dict[str, Any], layers: dict[str, LayerSpec]):
        self.path = path
        self.data = data
        meta = data.get("study", {})
        self.name: str = meta.get("name") or path.stem
        self.title: str = meta.get("title") or self.name
        self.description: str = meta.get("description", "")
        self.layers = layers
        self.boundary_key: str | None = meta.get("boundary")
        self._crs_override: str | None = meta.get("crs")
        self.sections = {k: v for k, v in data.items() if k not in ("study", "layers")}

    def __repr__(self) -> str:
        return f"Study({self.path!s}, layers={list(self.layers)})"

    @property
    def root(self) -> Path:
        """The folder of the study file: relative paths start here."""
        return self.path.parent

    def section(self, name: str) -> dict[str, Any]:
        """An analysis' table (``{}`` if the study file has none)."""
        value = self.sections.get(name, {})
        return value if isinstance(value, dict) else {}

    def by_role(self, role: str) -> list[LayerSpec]:
        """The layers of one role, in file order."""
        return [s for s in self.layers.values() if s.role == role]

    def has_role(self, role: str) -> bool:
        return bool(self.by_role(role))

    @property
    def declared_roles(self) -> set[str]:
        """Roles named in the file, valid layers or not (for section validators, so that
        a broken layer is reported once, not again as a missing role)."""
        tbl = self.data.get("layers", {})
        return {v.get("role") for v in tbl.values() if isinstance(v, dict)} if \
            isinstance(tbl, dict) else set()

    def spec(self, key_or_role: str) -> LayerSpec:
        """A layer by key, or the single layer of a role."""
        if key_or_role in self.layers:
            return self.layers[key_or_role]
        found = self.by_role(key_or_role)
        if len(found) == 1:
            return found[0]
        if not found:
            raise InputError(f"{self.path}: no layer {key_or_role!r} (by key or role); layers: "
                             f"{', '.join(self.layers)}. Add a [layers.{key_or_role}] table.")
        raise InputError(f"{self.path}: {len(found)} layers have role {key_or_role!r} "
                         f"({', '.join(s.key for s in found)}); name one by its key")

    def load(self, key_or_role: str) -> gpd.GeoDataFrame:
        """A layer (by key or single role) as a GeoDataFrame in WGS84, cached."""
        return self._load(self.spec(key_or_role).key).copy()

    def load_role(self, role: str) -> gpd.GeoDataFrame | None:
        """All layers of a role concatenated (WGS84) with a ``layer_key`` column, or None."""
        specs = self.by_role(role)
        if not specs:
            return None
        frames = []
        for s in specs:
            g = self._load(s.key).copy()
            g["layer_key"] = s.key
            frames.append(g)
        if len(frames) == 1:
            out = frames[0]
        else:
            import pandas as pd

            out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
        out.attrs = dict(frames[0].attrs)
        return out

    @functools.cache  # noqa: B019 - a Study lives as long as its run
    def _load(self, key: str) -> gpd.GeoDataFrame:
        g = self.layers[key].read()
        area = self._area_key()
        if len(g) and area is not None and key != area:
            # every layer must reach the study area: a misplaced layer is an error,
            # never a silent "no conflict"
            check_layer_extent(g, self.bounds,
                               china=bool(in_china(*self.boundary.centroid.xy)))
        return g

    @functools.cached_property
    def boundary(self) -> shapely.Geometry:
        """The study area (WGS84): the boundary layer dissolved, or the extent of all
        vector layers' bounding box if the study names no boundary."""
        if self.boundary_key:
            g = self._load(self.boundary_key)
            return shapely.union_all(g.geometry.values)
        polys = [s for s in self.layers.values() if not s.is_raster and s.role in
                 ("boundary", "boundaries")]
        if polys:
            return shapely.union_all(self._load(polys[0].key).geometry.values)
        bounds = [self._load(s.key).total_bounds for s in self.layers.values() if not s.is_raster]
        import numpy as np

        b = np.array(bounds)
        return shapely.box(b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())

    def _area_key(self) -> str | None:
        """The layer that defines the study area, or None when it is every layer's box."""
        if self.boundary_key:
            return self.boundary_key
        polys = [s.key for s in self.layers.values() if not s.is_raster and s.role in
                 ("boundary", "boundaries")]
        return polys[0] if polys else None

    @functools.cached_property
    def bounds(self) -> tuple[float, float, float, float]:
        """WGS84 bounds of the study area."""
        return tuple(float(v) for v in self.boundary.bounds)  # type: ignore[return-value]

    @functools.cached_property
    def metric_crs(self) -> CRS:
        """The CRS for distances and grids: the ``[study] crs`` or the GK zone of the
        study centroid (a :class:`~geo.crs.ZoneWarning` if the study straddles zones)."""
        if self._crs_override:
            return check_metric_crs(self._crs_override, self.bounds,
                                    what=f"{self.path}: study.crs")
        return metric_crs_for(self.bounds, what=f"study {self.name!r}")

    @functools.cached_property
    def area_crs(self) -> CRS:
        """An equal-area CRS centred on the study, for areas (see geo.crs)."""
        return area_crs_for(self.bounds)


def _str_or_none(tbl: dict, key: str, where: str, problems: list[str]) -> str | None:
    v = tbl.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or not v.strip():
        problems.append(f"{where}.{key}: must be a non-empty text, got {v!r}")
        return None
    return v


def _validate_layer(key: str, tbl: Any, study_dir: Path, problems: list[str]) -> LayerSpec | None:
    where = f"layers.{key}"
    if not isinstance(tbl, dict):
        problems.append(f"{where}: must be a table ([layers.{key}] with path and role)")
        return None
    problems.extend(unknown_keys(tbl, LAYER_KEYS, where))
    n0 = len(problems)
    path_s = _str_or_none(tbl, "path", where, problems)
    if path_s is None and "path" not in tbl:
        problems.append(f"{where}.path: missing; add path = \"../data/…\" (relative to the "
                        "study file)")
    role = _str_or_none(tbl, "role", where, problems)
    if role is None and "role" not in tbl:
        problems.append(f"{where}.role: missing; one of {', '.join(sorted(ROLES))}, dem")
    elif role is not None and role not in ROLES and role not in RASTER_ROLES:
        close = difflib.get_close_matches(role, list(ROLES) + list(RASTER_ROLES), n=1)
        hint = f"did you mean {close[0]!r}?" if close else \
            f"roles: {', '.join(sorted(ROLES))}, dem"
        problems.append(f"{where}.role: unknown role {role!r}; {hint}")
    coords = _str_or_none(tbl, "coords", where, problems)
    if coords is not None and coords not in COORDS:
        problems.append(f"{where}.coords: {coords!r} is not one of {', '.join(COORDS)} (GCJ-02 "
                        "is AMap/Gaode's datum)")
    crs = _str_or_none(tbl, "crs", where, problems)
    if crs is not None:
        try:
            CRS.from_user_input(crs)
        except CRSError:
            problems.append(f"{where}.crs: {crs!r} is not a CRS; write it as \"EPSG:4549\"")
    enc = _str_or_none(tbl, "encoding", where, problems)
    if enc is not None:
        import codecs

        try:
            codecs.lookup(enc)
        except LookupError:
            problems.append(f"{where}.encoding: {enc!r} is not a known encoding; e.g. "
                            "\"gb18030\"")
    strs = {k: _str_or_none(tbl, k, where, problems) for k in ("layer", "id", "name", "lon", "lat")}
    path = (study_dir / path_s).resolve() if path_s else None
    if path is not None:
        shown = path_s
        if not path.exists():
            hint = did_you_mean(study_dir / path_s)
            fix = f"did you mean {os.path.relpath(hint, study_dir)}?" if hint else \
                "paths are relative to the study file's folder"
            problems.append(f"{where}.path: file {shown} not found; {fix}")
        else:
            suffix = path.suffix.lower()
            if suffix not in VECTOR_SUFFIXES and suffix not in RASTER_SUFFIXES:
                known = " ".join(sorted(set(VECTOR_SUFFIXES) | set(RASTER_SUFFIXES)))
                problems.append(f"{where}.path: {shown}: unknown format {suffix!r}; parksite "
                                f"reads {known}")
            elif role in RASTER_ROLES:
                if suffix not in RASTER_SUFFIXES:
                    problems.append(f"{where}.path: role {role!r} needs a raster (GeoTIFF), "
                                    f"got {shown}")
                else:
                    try:
                        check_raster(path, label=where)
                    except LayerError as exc:
                        problems.append(str(exc))
            elif suffix in RASTER_SUFFIXES and role is not None:
                problems.append(f"{where}.path: {shown} is a raster; role {role!r} needs a "
                                "vector layer (use role = \"dem\" for elevation)")
            elif suffix in (".gpkg", ".fgb") and strs["layer"] is not None:
                try:
                    names = gpkg_layers(path)
                    if strs["layer"] not in names:
                        close = difflib.get_close_matches(strs["layer"], names, n=1)
                        hint = f"did you mean {close[0]!r}?" if close else \
                            f"layers: {', '.join(names)}"
                        problems.append(f"{where}.layer: {shown} has no layer "
                                        f"{strs['layer']!r}; {hint}")
                except LayerError as exc:
                    problems.append(f"{where}.path: {exc}")
            if "classes" in tbl and (role != "landuse" or tbl["classes"] != "igbp"):
                problems.append(f"{where}.classes: only role = \"landuse\" takes classes, "
                                f"and the one scheme known is \"igbp\"; got "
                                f"{tbl['classes']!r}")
            if suffix != ".csv" and (strs["lon"] or strs["lat"]):
                problems.append(f"{where}: lon/lat apply to CSV point files only; remove them")
    if len(problems) > n0 or path is None or role is None:
        return None
    extra = {k: v for k, v in tbl.items() if k not in
             ("path", "role", "layer", "coords", "crs", "encoding", "id", "name", "lon", "lat")}
    return LayerSpec(key=key, path=path, role=role, layer=strs["layer"], coords=coords, crs=crs,
                     encoding=enc, id=strs["id"], name=strs["name"], lon=strs["lon"],
                     lat=strs["lat"], options=extra)


def _study_text(p: Path) -> str:
    """The study file as text: UTF-8, with or without the byte-order mark Windows editors
    write; anything else is a :class:`StudyError` that names the encoding when it reads
    as GBK/GB18030 (Chinese Windows' default)."""
    raw = p.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        text = ""
    gbk = bool(re.search(r"[\u4e00-\u9fff]", text))
    raise StudyError(p, ["the file is not UTF-8 text" +
                         (" (it reads as GBK/GB18030, Chinese Windows' default encoding)"
                          if gbk else "") +
                         "; save it as UTF-8 (in Notepad: Save as → Encoding: UTF-8)"])


def load_study(path: str | os.PathLike) -> Study:
    """Read and validate a study file; raise :class:`StudyError` listing every problem.

    Only the headers of layer files are opened here; features are read on first use
    (:meth:`Study.load`).
    """
    p = Path(path)
    if not p.exists():
        hint = did_you_mean(p)
        raise StudyError(p, [f"study file {p} not found" +
                             (f"; did you mean {hint}?" if hint else "; the bundled one is "
                              "layers/yrd.toml")])
    try:
        data = tomllib.loads(_study_text(p))
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(p, [f"not valid TOML: {exc}"]) from None
    problems: list[str] = []
    study_dir = p.resolve().parent
    meta = data.get("study", {})
    if not isinstance(meta, dict):
        problems.append("study: must be a table ([study] with name, title, boundary)")
        meta = {}
    problems.extend(unknown_keys(meta, STUDY_KEYS, "study"))
    if "crs" in meta:
        try:
            c = CRS.from_user_input(meta["crs"])
            if c.is_geographic:
                problems.append(f"study.crs: {meta['crs']!r} is geographic (degrees); the study "
                                "CRS must be in metres, e.g. \"EPSG:4549\"")
        except (CRSError, TypeError):
            problems.append(f"study.crs: {meta['crs']!r} is not a CRS; e.g. \"EPSG:4549\"")
    layers_tbl = data.get("layers", {})
    if not isinstance(layers_tbl, dict) or not layers_tbl:
        problems.append("layers: the study declares no layers; add [layers.NAME] tables "
                        "with path and role")
        layers_tbl = {}
    layers: dict[str, LayerSpec] = {}
    for key, tbl in layers_tbl.items():
        spec = _validate_layer(key, tbl, study_dir, problems)
        if spec is not None:
            layers[key] = spec
    b = meta.get("boundary")
    if b is not None and b not in layers_tbl:
        close = difflib.get_close_matches(str(b), list(layers_tbl), n=1)
        problems.append(f"study.boundary: no layer {b!r}" +
                        (f"; did you mean {close[0]!r}?" if close else
                         f"; layers: {', '.join(layers_tbl)}"))
    study = Study(p, data, layers)
    for section, tbl in study.sections.items():
        target = SECTION_VALIDATORS.get(section)
        if target is None:
            close = difflib.get_close_matches(section, list(SECTION_VALIDATORS), n=1)
            if close:
                problems.append(f"{section}: unknown section; did you mean [{close[0]}]?")
            else:
                warnings.warn(f"{p}: section [{section}] is not used by this parksite version",
                              UserWarning, stacklevel=2)
            continue
        if not isinstance(tbl, dict):
            problems.append(f"{section}: must be a table")
            continue
        mod, func = target.split(":")
        problems.extend(getattr(importlib.import_module(mod), func)(tbl, study))
    if problems:
        raise StudyError(p, problems)
    return study
