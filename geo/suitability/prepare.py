"""What both suitability engines settle before any expensive work: the configuration
with the caller's overrides, the industry profile and the criteria that apply with their
weights, the output files (checked writable) and the size of a candidate region in cells.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..config import replace
from ..errors import ModelError
from ..grid import Grid
from ..io import check_writable
from ..units import MU_M2
from .config import SuitabilityConfig, load_config
from .criteria import _sourcing, _supplier_access, industry_profile
from .mcda import criterion_weights


def _run_config(study, overrides: dict[str, Any]) -> SuitabilityConfig:
    """The study's configuration with the keyword overrides that are not None,
    validated like the study file (:func:`geo.config.replace`)."""
    return replace(load_config(study), study, where="suitability", error=ModelError,
                   **overrides)


def _model_inputs(study, cfg: SuitabilityConfig, industry: str | None):
    """(industry profile, active criteria, weights, AHP result), checked before any
    expensive work."""
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
    return profile, active, weights, ahp


def _output_paths(out_dir: str | Path | None, overwrite: bool) -> dict[str, Path]:
    """The output files, each checked writable; empty without ``out_dir``."""
    out_paths: dict[str, Path] = {}
    if out_dir is not None:
        od = Path(out_dir)
        for name in ("suitability.tif", "exclusion.tif", "stability.tif", "candidates.gpkg",
                     "model_card.json"):
            out_paths[name] = check_writable(od / name, overwrite=overwrite)
    return out_paths


def _region_cells(cfg: SuitabilityConfig, grid: Grid) -> tuple[int, int | None]:
    """(minimum, maximum or None) cells of a candidate region."""
    min_cells = max(1, int(math.floor(cfg.min_area_mu * MU_M2 / grid.cell_area_m2 * 0.98)))
    max_cells = None
    if cfg.max_area_mu is not None:
        max_cells = int(math.floor(cfg.max_area_mu * MU_M2 / grid.cell_area_m2))
        if math.isqrt(max(max_cells, 0)) ** 2 < min_cells:
            raise ModelError(f"suitability: with {grid.cell_m:g} m cells a tile of at most "
                             f"max_area_mu = {cfg.max_area_mu:g} 亩 cannot hold min_area_mu = "
                             f"{cfg.min_area_mu:g} 亩; use a smaller cell_m or a larger "
                             "max_area_mu")
    return min_cells, max_cells
