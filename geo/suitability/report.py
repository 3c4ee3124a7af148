"""The result, the model card, terrain warnings and the written outputs."""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio

from .. import __version__
from ..ahp import AHPResult
from ..grid import (
    Grid,
    write_geotiff,
)
from ..io import write_gpkg
from ..units import MU_M2
from .config import (
    CODE_WATER,
    EXCLUSION_CODES,
    EXCLUSION_COLOURS,
    Criterion,
    SuitabilityConfig,
)
from .criteria import _pad_m, _source_info

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


def raster_specs(card: dict, weights: dict[str, float], ahp: AHPResult | None
                 ) -> dict[str, dict[str, Any]]:
    """How each output raster is written: file name → ``write_geotiff`` keywords
    (dtype, nodata, tags, band names, colour table, overview resampling), from the model
    card (study, industry, stability settings) and the weights.

    Parameters
    ----------
    card : dict
        The model card; uses ``study.name``, ``industry``, ``stability`` (``runs``,
        ``perturbation`` as a fraction, ``seed``) and ``top_cells.top_pct`` (percent).
    weights : dict of str to float
        Criterion weights, written as JSON in every raster's tags.
    ahp : AHPResult or None
        The AHP result whose consistency ratio is tagged on ``suitability.tif``; None
        when weights were given directly (tag ``n/a``).

    Returns
    -------
    dict of str to dict
        ``suitability.tif``, ``exclusion.tif`` and ``stability.tif`` → keyword
        arguments for :func:`geo.io.write_geotiff`.
    """
    codes_tag = {f"EXCLUSION_CODE_{k}": f"{en} / {zh}" for k, (zh, en) in EXCLUSION_CODES.items()}
    common = {"PARKSITE_VERSION": __version__, "STUDY": card["study"]["name"],
              "INDUSTRY": card["industry"] or "",
              "WEIGHTS": json.dumps(weights, ensure_ascii=False)}
    st = card["stability"]
    return {
        "suitability.tif": dict(
            dtype="float32", nodata=np.nan, band_names=["suitability"],
            tags={**common, "DESCRIPTION": "site suitability 0-1 (nodata = excluded, "
                  "see exclusion.tif)", "CR": f"{ahp.cr:.4f}" if ahp else "n/a"}),
        "exclusion.tif": dict(
            dtype="uint8", nodata=None, band_names=["exclusion reason"],
            tags={**common, **codes_tag, "DESCRIPTION": "exclusion reason codes"},
            colormap=EXCLUSION_COLOURS, overview_resampling="nearest"),
        "stability.tif": dict(
            dtype="float32", nodata=np.nan, band_names=["p_top"],
            tags={**common, "DESCRIPTION": f"share of {st['runs']} Monte Carlo runs "
                  f"(weights ±{st['perturbation'] * 100:g}%, seed {st['seed']}) in "
                  "which the cell is in the top "
                  f"{card['top_cells']['top_pct']:g}%"}),
    }


def _write_outputs(res: SuitabilityResult, paths: dict[str, Path], overwrite: bool) -> None:
    g = res.grid
    specs = raster_specs(res.model_card, res.weights, res.ahp)
    write_geotiff(paths["suitability.tif"], res.score, g, overwrite=overwrite,
                  **specs["suitability.tif"])
    res.suitability_tif = paths["suitability.tif"]
    write_geotiff(paths["exclusion.tif"], res.exclusion, g, overwrite=overwrite,
                  **specs["exclusion.tif"])
    res.exclusion_tif = paths["exclusion.tif"]
    if res.stability is not None:
        write_geotiff(paths["stability.tif"], res.stability, g, overwrite=overwrite,
                      **specs["stability.tif"])
        res.stability_tif = paths["stability.tif"]
    c = res.candidates.copy()
    write_gpkg({"candidates": c}, paths["candidates.gpkg"], overwrite=overwrite)
    res.candidates_gpkg = paths["candidates.gpkg"]


def _criterion_card(c: Criterion, weight: float, stats: dict) -> dict:
    """One criterion's entry in the model card."""
    return {
        "name": c.name, "label_en": c.label_en, "label_zh": c.label_zh, "kind": c.kind,
        "layer": c.layer, "unit": {"distance": "m", "slope": "degree", "elevation": "m",
                                   "supplier_access": "share 0-1"}.get(c.kind, "category"),
        "transform": c.transform.as_dict(), "transform_text": c.transform.describe(),
        "weight": round(float(weight), 6), "raw_in_scored_cells": stats,
        **({"pad_m": _pad_m(c)} if c.kind == "distance" else {}),
    }


def _exclusion_summary(code: np.ndarray, grid: Grid, water: tuple[str, str] | None = None
                       ) -> tuple[dict[int, dict], dict[int, str]]:
    return exclusion_summary(np.bincount(code.ravel(), minlength=len(EXCLUSION_CODES)), grid,
                             water)


def water_labels(study, report: dict) -> tuple[str, str] | None:
    """(Chinese, English) names of the water layers the exclusions used (the layers'
    labels), for the legend of code 6; None when no water layer was used.

    Parameters
    ----------
    study : Study
        The study whose layer specs give ``label_zh`` / ``label_en`` (the layer key
        when a label is missing).
    report : dict
        The exclusions report filled by :func:`~geo.suitability.exclusions.exclusion_masks`;
        its ``water_layers`` lists the water layers used.

    Returns
    -------
    tuple of (str, str) or None
        Chinese names joined by "、" and English names joined by ", "; None when no
        water layer was used.
    """
    keys = report.get("water_layers") or []
    if not keys:
        return None
    specs = [study.layers[k] for k in keys if k in study.layers]
    zh = "、".join(str(s.options.get("label_zh", s.key)) for s in specs)
    en = ", ".join(str(s.options.get("label_en", s.key)) for s in specs)
    return zh, en


def exclusion_summary(counts: np.ndarray, grid: Grid, water: tuple[str, str] | None = None
                      ) -> tuple[dict[int, dict], dict[int, str]]:
    """Per exclusion code its labels, cells and area, from the cell count of each code.

    Parameters
    ----------
    counts
        Cells per exclusion code (index = code).
    grid
        The study grid (cell area in m², metric CRS).
    water
        (Chinese, English) names of the water layers used: code 6 is labelled with them
        instead of the generic "water".

    Returns
    -------
    (dict, dict)
        Code → ``{"zh", "en", "cells", "area_km2"}``, and code → one-line label.
    """
    names = dict(EXCLUSION_CODES)
    if water is not None:
        names[CODE_WATER] = (f"水域（{water[0]}）", f"water ({water[1]})")
    codes_out: dict[int, dict] = {}
    for c_, (zh, en) in names.items():
        codes_out[c_] = {"zh": zh, "en": en, "cells": int(counts[c_]),
                         "area_km2": round(float(counts[c_]) * grid.cell_area_m2 / 1e6, 3)}
    labels_out = {c_: f"{zh} {en}" for c_, (zh, en) in names.items()}
    return codes_out, labels_out
