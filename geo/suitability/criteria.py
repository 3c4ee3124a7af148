"""Criterion rasters: the study grid, memory check, layer sources, industry profiles, supplier
access and category values.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib.util
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features
from scipy import ndimage

from ..errors import InputError, ModelError
from ..grid import (
    Grid,
    grid_for_bounds,
)
from ..register import sector_model_for, study_chains
from ..sectors import SectorModel, split_industries
from .config import _BYTES_PER_CELL_FIXED, Criterion, SuitabilityConfig

# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------

Progress = Callable[[str, float, float], None]


def _noop(desc: str, done: float, total: float) -> None:  # noqa: ARG001
    return None


def study_grid(study, cfg: SuitabilityConfig) -> Grid:
    """The analysis grid: ``cell_m`` cells aligned to ``origin`` covering the study
    boundary in the study's metric CRS.

    Parameters
    ----------
    study : Study
        The study; its ``boundary`` (EPSG:4326 lon/lat) is reprojected to its
        ``metric_crs``.
    cfg : SuitabilityConfig
        Supplies ``cell_m`` (cell size, metres) and ``origin`` (grid alignment point,
        metres in the study's metric CRS).

    Returns
    -------
    Grid
        A north-up grid in the study's metric CRS covering the boundary's bounds.
    """
    crs = study.metric_crs
    b = gpd.GeoSeries([study.boundary], crs=4326).to_crs(crs).total_bounds
    ox, oy = cfg.origin
    return grid_for_bounds(tuple(b), crs, cfg.cell_m, origin=(ox, oy))


def memory_estimate_bytes(grid: Grid, n_criteria: int, pad_cells: int = 0) -> int:
    """Rough peak memory of a run (criterion stack + fixed per-cell arrays + one
    distance transform on the padded grid).

    Parameters
    ----------
    grid : Grid
        The analysis grid.
    n_criteria : int
        Number of criterion rasters held at once (float32 each).
    pad_cells : int, default 0
        Padding added on every side for the distance transform, in cells.

    Returns
    -------
    int
        Estimated peak bytes, not counting the interpreter and libraries.
    """
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

        Parameters
        ----------
        banned : object
            The zone's banned-industries value (";"-separated names or codes, or empty /
            NaN when the zone names no ban).

        Returns
        -------
        str
            ``"banned"``, ``"review"`` or ``"allowed"``; ``"review"`` when the zone names
            no ban at all.
        """
        bans = split_industries(banned)
        return self.model.is_banned(self.names, bans).status if bans else "review"

    def banned_by(self, banned: object) -> bool:
        """Whether a restricted zone banning ``banned`` (";"-separated) excludes it.

        Parameters
        ----------
        banned : object
            The zone's banned-industries value, as for :meth:`verdict`.

        Returns
        -------
        bool
            True unless :meth:`verdict` is ``"allowed"`` (``"review"`` excludes too).
        """
        return self.verdict(banned) != "allowed"

    def as_dict(self) -> dict:
        """The profile for the model card.

        Returns
        -------
        dict
            ``given``, ``names`` (list), ``sectors`` (sorted list of GB/T 4754-2017
            codes) and ``supplier_access_industry`` (str or None).
        """
        return {"given": self.given, "names": list(self.names),
                "sectors": sorted(self.sectors), "supplier_access_industry": self.supply_industry}


def industry_profile(study, industry: str) -> IndustryProfile:
    """Resolve ``industry``: a chain-map industry id (``biopharma_manufacturing``), a
    chain id (``biomedicine``: its anchor industry is used for supplier access), a GB/T
    4754-2017 code or a free name ("petrochemicals", "化工新材料").

    Parameters
    ----------
    study : Study
        The study; supplies the chain maps and the sector model.
    industry : str
        The ``--industry`` value as given.

    Returns
    -------
    IndustryProfile
        The names judged against zone bans, their sectors, and the chain-map industry
        for supplier access (None when ``industry`` is neither an industry nor a chain
        id, or a chain without an anchor industry).
    """
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


def _sourcing(c: Criterion):
    """The sourcing engine module (issue: road-network sourcing radius), or a
    :class:`ModelError` saying it is unavailable."""
    spec = importlib.util.find_spec("geo.sourcing")
    mod = importlib.import_module("geo.sourcing") if spec is not None else None
    if mod is None or not hasattr(mod, "input_share_within"):
        raise ModelError(
            f"suitability.criteria ({c.name}): supplier access needs the sourcing engine "
            "(geo.sourcing.input_share_within), which this parksite build does not have; "
            "remove the criterion or run without --industry")
    return mod


def _supplier_access(study, c: Criterion, grid: Grid, profile: IndustryProfile) -> np.ndarray:
    share, step = supplier_samples(study, c, grid, profile)
    return supplier_interpolate(share, step, grid, 0, 0)


def supplier_samples(study, c: Criterion, grid: Grid, profile: IndustryProfile
                     ) -> tuple[np.ndarray, int]:
    """Supplier access (share 0–1 of input value within ``radius_km`` by road) at sample
    cells every ``sample_m`` metres of ``grid`` (metric CRS), unknown samples filled
    from the nearest known one.

    Parameters
    ----------
    study : Study
        The study (layers, chain maps and road network for the sourcing engine).
    c : Criterion
        The supplier-access criterion; options ``sample_m`` (metres between samples,
        default 5000) and ``radius_km`` (km by road, default 100).
    grid : Grid
        The analysis grid (study's metric CRS); sample points are sent to the sourcing
        engine in EPSG:4326 lon/lat.
    profile : IndustryProfile
        The industry; its ``supply_industry`` is the one whose inputs are sourced.

    Returns
    -------
    share : numpy.ndarray
        float64 (sample rows, sample columns); sample (i, j) is cell
        (step // 2 + i·step, step // 2 + j·step) of ``grid``.
    step : int
        Cells between samples.

    Raises
    ------
    ModelError
        The sourcing engine is unavailable, the industry is not in the chain maps, or
        the engine returned no supplier access at any sample.
    """
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
    # fill unknown samples with the nearest known one, then interpolate bilinearly
    nan = np.isnan(share)
    if nan.any():
        idx = ndimage.distance_transform_edt(nan, return_distances=False, return_indices=True)
        share = share[tuple(idx)]
    return share, step


def supplier_interpolate(share: np.ndarray, step: int, tile: Grid, row0: int, col0: int
                         ) -> np.ndarray:
    """Bilinear interpolation of :func:`supplier_samples` onto ``tile``, whose first cell
    is cell (``row0``, ``col0``) of the sampled grid: float32 shares, ``tile.shape``.

    Parameters
    ----------
    share : numpy.ndarray
        Sample shares (0–1) from :func:`supplier_samples`.
    step : int
        Cells between samples, from :func:`supplier_samples`.
    tile : Grid
        The grid or tile to fill (same cell size and CRS as the sampled grid).
    row0, col0 : int
        Row and column of ``tile``'s first cell in the sampled grid.

    Returns
    -------
    numpy.ndarray
        float32 shares 0–1, shape ``tile.shape``; beyond the outer samples the nearest
        sample's value is used.
    """
    out = np.empty(tile.shape, dtype=np.float32)
    cc = (np.arange(col0, col0 + tile.width) - step // 2) / step
    for rs in tile.row_blocks(2_000_000):
        rr = (np.arange(row0 + rs.start, row0 + rs.stop) - step // 2) / step
        R, C = np.meshgrid(rr, cc, indexing="ij")
        out[rs] = ndimage.map_coordinates(share, [R.ravel(), C.ravel()], order=1,
                                          mode="nearest").reshape(R.shape)
    return out


def _category(study, c: Criterion, grid: Grid) -> np.ndarray:
    return paint_category(category_features(study, c), grid)


def category_features(study, c: Criterion) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A category criterion's features: (geometries in the study's metric CRS, class
    index 1… per feature, score per class index with NaN at 0 for "no feature").

    Parameters
    ----------
    study : Study
        The study; the criterion's layer is loaded and reprojected to its metric CRS.
    c : Criterion
        A category criterion; option ``field`` names the class field, and its transform
        maps class values to scores.

    Returns
    -------
    geoms : numpy.ndarray
        Shapely geometries, study's metric CRS.
    codes : numpy.ndarray
        int32 class index (1…) per feature.
    lut : numpy.ndarray
        float32 score per class index; entry 0 is NaN.

    Raises
    ------
    InputError
        When the layer has no ``field``.
    """
    g = _layer_metric(study, c.layer)  # type: ignore[arg-type]
    fld = c.options["field"]
    if fld not in g.columns:
        raise InputError(f"suitability.criteria ({c.name}): layer {c.layer!r} has no field "
                         f"{fld!r}; the fields are {', '.join(map(str, g.columns))}")
    cats = pd.unique(g[fld].astype(str))
    scores = c.transform.map_categories(cats)
    codes = pd.Categorical(g[fld].astype(str), categories=cats).codes + 1
    lut = np.concatenate([[np.nan], scores]).astype(np.float32)
    return g.geometry.values, codes.astype("int32"), lut


def paint_category(feats: tuple[np.ndarray, np.ndarray, np.ndarray], grid: Grid
                   ) -> np.ndarray:
    """Scores (float32, NaN outside every feature) of :func:`category_features` on
    ``grid`` (the whole grid or a tile; metric CRS).

    Parameters
    ----------
    feats : tuple of numpy.ndarray
        ``(geoms, codes, lut)`` from :func:`category_features` (geometries in the
        grid's metric CRS).
    grid : Grid
        The grid or tile to paint.

    Returns
    -------
    numpy.ndarray
        float32 scores, shape ``grid.shape``; where features overlap the last one
        painted wins.
    """
    geoms, codes, lut = feats
    idx = features.rasterize(zip(geoms, codes, strict=False), out_shape=grid.shape,
                             transform=grid.transform, fill=0, dtype="int32")
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
