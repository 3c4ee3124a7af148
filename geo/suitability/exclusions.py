"""Hard constraints as masks: red lines, control lines, water, slope and land use, with the
reason code per cell.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import shapely

from ..errors import InputError
from ..grid import (
    Grid,
    rasterize_mask,
    reproject_to_grid,
)
from .config import (
    _CLASS_CODE,
    CODE_FARMLAND,
    CODE_LANDUSE,
    CODE_OUTSIDE_STUDY,
    CODE_OUTSIDE_URBAN,
    CODE_PARKS_OCCUPIED,
    CODE_REDLINE_BUFFER,
    CODE_RESTRICTED,
    CODE_WATER,
    SuitabilityConfig,
)
from .criteria import IndustryProfile, _layer_metric


def _landuse_grid(study, cfg: SuitabilityConfig, grid: Grid) -> np.ndarray | None:
    """The ``[suitability.landuse]`` raster's classes on the grid (nearest neighbour;
    NaN where it has no data), read once for the exclusions and the penalties."""
    if cfg.landuse is None:
        return None
    spec = study.layers[cfg.landuse.layer]
    return reproject_to_grid(spec.path, grid, resampling="nearest", label=spec.label)


def _control_lines(study, cfg: SuitabilityConfig, masks: list[Mask],
                   layers: list[str]) -> None:
    """Existing parks, the urban development boundary and permanent basic farmland
    (三区三线) as masks, in that order of priority (farmland last)."""
    if cfg.parks_occupied and study.has_role("parks"):
        parks = study.load_role("parks").to_crs(study.metric_crs)
        masks.append(Mask(CODE_PARKS_OCCUPIED, parks.geometry.values))
        layers.append(study.by_role("parks")[0].key)
    if study.has_role("urban_boundary") and cfg.outside_urban_boundary == "exclude":
        ub = study.load_role("urban_boundary").to_crs(study.metric_crs)
        masks.append(Mask(CODE_OUTSIDE_URBAN, ub.geometry.values, outside=True))
        layers.append(study.by_role("urban_boundary")[0].key)
    if study.has_role("farmland"):
        fl = study.load_role("farmland").to_crs(study.metric_crs)
        masks.append(Mask(CODE_FARMLAND, fl.geometry.values))
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


@dataclass(frozen=True)
class Mask:
    """One hard constraint: cells covered by ``geoms`` (shapely, the grid's metric CRS)
    get ``code`` (with ``outside``: the cells they do not cover)."""

    code: int
    geoms: np.ndarray
    outside: bool = False


def exclusion_masks(study, cfg: SuitabilityConfig, industry: IndustryProfile | None,
                    report: dict) -> list[Mask]:
    """The hard constraints of the study as masks (metric CRS), lowest priority first:
    a later mask overwrites an earlier one. Land use (a raster) and the study boundary
    are painted by :func:`paint_exclusions`. Fills ``report`` with the layers used.

    Parameters
    ----------
    study : Study
        The study; every layer used is reprojected to its metric CRS.
    cfg : SuitabilityConfig
        Which land-use, control-line and water layers to use (``water_layers`` None =
        every layer of role ``water``).
    industry : IndustryProfile or None
        The industry judged against restricted-zone bans; None when no ``--industry``.
    report : dict
        Filled in place: ``exclusion_layers``, ``water_layers`` (when any water polygon
        is used), ``restricted_zones_banning_industry`` and the red-line details.

    Returns
    -------
    list of Mask
        Masks (exclusion code, geometries in the study's metric CRS, ``outside``),
        lowest priority first.

    Raises
    ------
    InputError
        A configured layer is not in the study.
    """
    masks: list[Mask] = []
    layers: list[str] = []
    if cfg.landuse is not None:
        layers.append(cfg.landuse.layer)
    _control_lines(study, cfg, masks, layers)
    water_keys = cfg.water_layers
    if water_keys is None:
        water_keys = tuple(s.key for s in study.by_role("water"))
    for key in water_keys:
        g = _layer_metric(study, key)
        polys = g.geometry.values[shapely.get_type_id(g.geometry.values) >= 3]
        if len(polys):
            masks.append(Mask(CODE_WATER, polys))
            layers.append(key)
            report.setdefault("water_layers", []).append(key)
    zones_spec = study.by_role("redlines")
    banned_zones: list[str] = []
    if zones_spec:
        banned_zones = _redline_masks(study, cfg, industry, report, masks)
        layers.append(zones_spec[0].key)
    report["exclusion_layers"] = layers
    report["restricted_zones_banning_industry"] = banned_zones
    return masks


def _redline_masks(study, cfg: SuitabilityConfig, industry: IndustryProfile | None,
                   report: dict, masks: list[Mask]) -> list[str]:
    """Red-line buffer, restricted zones banning ``industry``, red lines and core zones
    appended to ``masks``; returns the ids of the restricted zones banning it."""
    zones_spec = study.by_role("redlines")
    zones = study.load_role("redlines").to_crs(study.metric_crs)
    class_field = zones_spec[0].options.get("class") or "class"
    if class_field not in zones.columns:
        raise InputError(f"{zones_spec[0].label}: no class field {class_field!r}; the "
                         f"fields are {', '.join(map(str, zones.columns))}")
    cls = zones[class_field].astype(str).str.strip().str.lower().to_numpy()
    hard = np.isin(cls, list(cfg.redline_classes))
    restricted = np.zeros(len(zones), dtype=bool)
    banned_zones: list[str] = []
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
                          "chain-map industry to judge it", stacklevel=3)
    geoms = zones.geometry.values
    excl = hard | restricted
    if cfg.redline_buffer_m > 0 and excl.any():
        masks.append(Mask(CODE_REDLINE_BUFFER, shapely.buffer(geoms[excl],
                                                              cfg.redline_buffer_m)))
    if restricted.any():
        masks.append(Mask(CODE_RESTRICTED, geoms[restricted]))
    for c in ("redline", "core"):
        sel = cls == c
        if c in cfg.redline_classes and sel.any():
            masks.append(Mask(_CLASS_CODE[c], geoms[sel]))
    return banned_zones


def paint_exclusions(masks: list[Mask], cfg: SuitabilityConfig, grid: Grid,
                     inside: np.ndarray, landuse: np.ndarray | None = None) -> np.ndarray:
    """The reason-code raster (uint8, :data:`EXCLUSION_CODES`) of ``grid``, before slope.

    Parameters
    ----------
    masks
        From :func:`exclusion_masks`, geometries in ``grid``'s metric CRS.
    grid
        The whole study grid or one tile of it (metres).
    inside
        Cells of ``grid`` inside the study boundary.
    landuse
        The land-use classes on ``grid`` (NaN = no data), or None.

    Returns
    -------
    numpy.ndarray
        uint8 codes, ``grid.shape``.
    """
    code = np.zeros(grid.shape, dtype=np.uint8)
    rule = cfg.landuse
    if rule is not None and landuse is not None:
        code[np.isin(landuse, np.array(rule.exclude, dtype=np.float32))] = CODE_LANDUSE
    for m in masks:
        hit = rasterize_mask(m.geoms, grid)
        code[~hit if m.outside else hit] = m.code
    code[~inside] = CODE_OUTSIDE_STUDY
    return code


def _exclusions(study, cfg: SuitabilityConfig, grid: Grid, inside: np.ndarray,
                industry: IndustryProfile | None, report: dict,
                landuse: np.ndarray | None = None) -> np.ndarray:
    """The reason-code raster (uint8, :data:`EXCLUSION_CODES`), before slope."""
    return paint_exclusions(exclusion_masks(study, cfg, industry, report), cfg, grid,
                            inside, landuse)
