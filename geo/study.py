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
declared once in :mod:`geo.config` (a frozen dataclass per section) and validated by
its one generic validator; the result is :attr:`Study.config`.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .config import LayerConfig, StudyConfig, build_config, parse_section
from .crs import area_crs_for, check_metric_crs, in_china, metric_crs_for
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

#: Roles of context layers that may lie just outside the study area (the network and
#: ports of the transport circle): accepted within CONTEXT_NEAR_M of the study's box.
CONTEXT_ROLES = frozenset({"roads", "rail", "ports", "water", "universities"})
CONTEXT_NEAR_M = 100_000.0


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
        """Whether the role is a raster one (``dem``, ``landuse``): open it with rasterio,
        not :meth:`read`."""
        return self.role in RASTER_ROLES

    @property
    def label(self) -> str:
        """How messages name this layer: ``layers.KEY``."""
        return f"layers.{self.key}"

    def read(self) -> gpd.GeoDataFrame:
        """Read this layer's features; see :func:`geo.layers.read_layer`.

        Returns
        -------
        geopandas.GeoDataFrame
            The features in EPSG:4326 (WGS84 lon/lat), with ``id`` and ``name`` columns;
            ``attrs["layer_key"]`` is this spec's key and ``attrs["synthetic"]`` the
            ``synthetic`` option (False if unset).

        Raises
        ------
        LayerError
            If the layer is a raster role (open rasters with rasterio), or the file cannot
            be read or fails validation (raised by :func:`geo.layers.read_layer`).
        MissingFileError
            If the file does not exist.
        """
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
        #: Every section's settings, validated (:mod:`geo.config`); set by :func:`load_study`.
        self.config = StudyConfig()
        #: What analyses have read or built for this study (network, chain maps, firm
        #: register, supply indexes), by name; dropped with the study.
        self.cache: dict[str, Any] = {}
        meta = data.get("study", {})
        meta = meta if isinstance(meta, dict) else {}
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
        """An analysis' table (``{}`` if the study file has none).

        Parameters
        ----------
        name : str
            Top-level table name, e.g. ``"redlines"``, ``"suitability"``, ``"map"``.

        Returns
        -------
        dict
            The raw table as parsed from TOML; ``{}`` if it is absent or not a table.
        """
        value = self.sections.get(name, {})
        return value if isinstance(value, dict) else {}

    def by_role(self, role: str) -> list[LayerSpec]:
        """The layers of one role, in file order.

        Parameters
        ----------
        role : str
            A layer role (``parks``, ``redlines``, ``roads``, …).

        Returns
        -------
        list of LayerSpec
            Every valid layer with that role; empty if none.
        """
        return [s for s in self.layers.values() if s.role == role]

    def has_role(self, role: str) -> bool:
        """Whether the study has at least one valid layer of a role.

        Parameters
        ----------
        role : str
            A layer role (``parks``, ``redlines``, ``roads``, …).

        Returns
        -------
        bool
            True if :meth:`by_role` is non-empty.
        """
        return bool(self.by_role(role))

    @property
    def declared_layers(self) -> list[str]:
        """Layer keys named in the file, valid layers or not (for reference checks)."""
        tbl = self.data.get("layers", {})
        return list(tbl) if isinstance(tbl, dict) else []

    @property
    def declared_roles(self) -> set[str]:
        """Roles named in the file, valid layers or not (for section validators, so that
        a broken layer is reported once, not again as a missing role)."""
        tbl = self.data.get("layers", {})
        return {str(v["role"]) for v in tbl.values() if isinstance(v, dict) and "role" in v} \
            if isinstance(tbl, dict) else set()

    def spec(self, key_or_role: str) -> LayerSpec:
        """A layer by key, or the single layer of a role.

        Parameters
        ----------
        key_or_role : str
            A layer key (the ``X`` of ``[layers.X]``), tried first, or a role that exactly
            one layer has.

        Returns
        -------
        LayerSpec
            The matching layer.

        Raises
        ------
        InputError
            If no layer has that key or role (the message lists the layer keys), or if
            several layers have that role (name one by its key).
        """
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
        """A layer (by key or single role) as a GeoDataFrame in WGS84, cached.

        The first read checks that the layer reaches the study area (context roles may lie
        up to ``CONTEXT_NEAR_M`` metres outside its box); later calls return a copy of the
        cached frame.

        Parameters
        ----------
        key_or_role : str
            A layer key or a role that exactly one layer has (see :meth:`spec`).

        Returns
        -------
        geopandas.GeoDataFrame
            A copy of the layer in EPSG:4326 (WGS84 lon/lat) with ``id`` and ``name``
            columns.

        Raises
        ------
        InputError
            If the key or role matches no layer or several (from :meth:`spec`).
        LayerError
            If the file cannot be read, fails validation or lies outside the study area.
        """
        return self._load(self.spec(key_or_role).key).copy()

    def load_role(self, role: str) -> gpd.GeoDataFrame | None:
        """All layers of a role concatenated (WGS84) with a ``layer_key`` column, or None.

        Parameters
        ----------
        role : str
            A layer role (``parks``, ``roads``, ``water``, …).

        Returns
        -------
        geopandas.GeoDataFrame or None
            Every layer of the role, in file order, in EPSG:4326 (WGS84 lon/lat), with the
            layers' own columns plus ``layer_key`` (the ``X`` of ``[layers.X]``); ``attrs``
            are the first layer's. None if the study has no layer of that role.

        Raises
        ------
        LayerError
            If a layer file cannot be read, fails validation or lies outside the study area.
        """
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
                               china=bool(in_china(*self.boundary.centroid.xy)),
                               near_m=CONTEXT_NEAR_M if self.layers[key].role in
                               CONTEXT_ROLES else 0.0)
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


def _validate_layer(key: str, tbl: Any, study_dir: Path, problems: list[str]) -> LayerSpec | None:
    """One ``[layers.KEY]`` table: its keys by :class:`geo.config.LayerConfig`, then its
    file (exists, readable format for its role, GeoPackage layer); None if invalid."""
    where = f"layers.{key}"
    if not isinstance(tbl, dict):
        problems.append(f"{where}: must be a table ([layers.{key}] with path and role)")
        return None
    n0 = len(problems)
    cfg = parse_section(LayerConfig, tbl, where, None, problems)
    if cfg.role and cfg.role not in ROLES and cfg.role not in RASTER_ROLES:
        close = difflib.get_close_matches(cfg.role, list(ROLES) + list(RASTER_ROLES), n=1)
        hint = f"did you mean {close[0]!r}?" if close else \
            f"roles: {', '.join(sorted(ROLES))}, dem"
        problems.append(f"{where}.role: unknown role {cfg.role!r}; {hint}")
    if cfg.classes is not None and cfg.role != "landuse":
        problems.append(f"{where}.classes: only role = \"landuse\" takes classes; got "
                        f"{tbl['classes']!r} on role {cfg.role!r}")
    path = (study_dir / cfg.path).resolve() if cfg.path else None
    if path is not None:
        _check_layer_file(cfg, path, where, study_dir, problems)
    if len(problems) > n0 or path is None or not cfg.role:
        return None
    extra = {k: v for k, v in tbl.items() if k not in
             ("path", "role", "layer", "coords", "crs", "encoding", "id", "name", "lon", "lat")}
    return LayerSpec(key=key, path=path, role=cfg.role, layer=cfg.layer, coords=cfg.coords,
                     crs=cfg.crs, encoding=cfg.encoding, id=cfg.id, name=cfg.name,
                     lon=cfg.lon, lat=cfg.lat, options=extra)


def _check_layer_file(cfg: LayerConfig, path: Path, where: str, study_dir: Path,
                      problems: list[str]) -> None:
    """The file of a layer: exists, a format parksite reads, a raster exactly when the
    role needs one, the named GeoPackage layer present, lon/lat only for CSV."""
    shown, role = cfg.path, cfg.role
    if not path.exists():
        hint = did_you_mean(study_dir / cfg.path)
        fix = f"did you mean {os.path.relpath(hint, study_dir)}?" if hint else \
            "paths are relative to the study file's folder"
        problems.append(f"{where}.path: file {shown} not found; {fix}")
        return
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES and suffix not in RASTER_SUFFIXES:
        known = " ".join(sorted(set(VECTOR_SUFFIXES) | set(RASTER_SUFFIXES)))
        problems.append(f"{where}.path: {shown}: unknown format {suffix!r}; parksite "
                        f"reads {known}")
    elif role in RASTER_ROLES:
        if suffix not in RASTER_SUFFIXES:
            problems.append(f"{where}.path: role {role!r} needs a raster (GeoTIFF), got {shown}")
        else:
            try:
                check_raster(path, label=where)
            except LayerError as exc:
                problems.append(str(exc))
    elif suffix in RASTER_SUFFIXES and role:
        problems.append(f"{where}.path: {shown} is a raster; role {role!r} needs a vector "
                        "layer (use role = \"dem\" for elevation)")
    elif suffix in (".gpkg", ".fgb") and cfg.layer is not None:
        try:
            names = gpkg_layers(path)
            if cfg.layer not in names:
                close = difflib.get_close_matches(cfg.layer, names, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"layers: {', '.join(names)}"
                problems.append(f"{where}.layer: {shown} has no layer {cfg.layer!r}; {hint}")
        except LayerError as exc:
            problems.append(f"{where}.path: {exc}")
    if suffix != ".csv" and (cfg.lon or cfg.lat):
        problems.append(f"{where}: lon/lat apply to CSV point files only; remove them")


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

    Parameters
    ----------
    path : str or os.PathLike
        The study file (TOML, UTF-8), e.g. ``layers/yrd.toml``. Relative layer paths in
        it are resolved against its folder.

    Returns
    -------
    Study
        The validated study, with :attr:`Study.config` set from its sections.

    Raises
    ------
    StudyError
        If the file does not exist (with a did-you-mean hint), is not UTF-8 (GBK is
        named), is not valid TOML, declares no layers, or has any invalid layer table
        or section; every problem found is listed at once.
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
    study = Study(p, data, layers)
    study.config, section_problems = build_config(data, study, source=str(p))
    problems.extend(section_problems)
    if problems:
        raise StudyError(p, problems)
    return study
