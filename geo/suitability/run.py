"""``run_suitability``: the whole model from a study to its outputs."""

from __future__ import annotations

import contextlib
import json
import math
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from ..errors import ModelError
from ..grid import (
    Grid,
    distance_to_features,
    rasterize_mask,
    reproject_to_grid,
    slope_degrees,
)
from ..io import write_text
from .chunked import choose_engine, compute_settings, run_chunked
from .config import (
    CODE_NO_DATA,
    CODE_SCORED,
    CODE_STEEP,
    Criterion,
    SuitabilityConfig,
)
from .criteria import (
    Progress,
    _category,
    _check_memory,
    _layer_metric,
    _noop,
    _pad_m,
    _raw_stats,
    _source_info,
    _supplier_access,
    study_grid,
)
from .exclusions import _exclusions, _landuse_factor, _landuse_grid
from .mcda import perturbed_weights
from .prepare import _model_inputs, _output_paths, _region_cells, _run_config
from .regions import _candidates, _regions
from .report import (
    SuitabilityResult,
    _criterion_card,
    _exclusion_summary,
    _model_card,
    _terrain_warnings,
    _write_outputs,
    water_labels,
)
from .stability import _block_scores, _monte_carlo, _top_threshold


def run_suitability(study, *, industry: str | None = None, out_dir: str | Path | None = None,
                    min_area_mu: float | None = None, top_pct: float | None = None,
                    runs: int | None = None, seed: int | None = None,
                    cell_m: float | None = None, top_n: int | None = None,
                    max_area_mu: float | None = None, overwrite: bool = True,
                    progress: Progress | None = None, engine: str = "auto",
                    scheduler: str | None = None, log=None) -> SuitabilityResult:
    """Score the study's grid, exclude hard constraints, find candidate regions and
    measure their stability under weight perturbation.

    Parameters
    ----------
    study : geo.study.Study
        A loaded study with a ``[suitability]`` section.
    industry
        Score for this industry: adds industry-only criteria (supplier access) and
        excludes ``restricted`` zones that ban it.
    out_dir
        Folder for ``suitability.tif``, ``exclusion.tif``, ``stability.tif``,
        ``candidates.gpkg``, ``model_card.json`` (written atomically); None keeps
        the results in memory only.
    min_area_mu, top_pct, runs, seed, cell_m, top_n, max_area_mu
        Override the study's settings (亩, %, count, seed, metres, count, 亩).
    engine : {"auto", "memory", "dask"}
        ``"dask"`` computes on tiles (:func:`.chunked.run_chunked`, same results, the
        rasters written tile by tile as Cloud-Optimized GeoTIFFs); ``"auto"`` chooses
        it when the grid's memory estimate exceeds ``[compute] memory_gb`` or a
        scheduler is given.
    scheduler
        ``tcp://host:8786`` of a ``dask.distributed`` cluster for the dask engine
        (default ``[compute] scheduler``, else a local cluster).
    log
        Called with one-line messages of the dask engine (the dashboard link).

    Returns
    -------
    SuitabilityResult

    Raises
    ------
    ModelError
        Bad model (weights, AHP consistency, grid too large for memory, no
        scored cells).
    InputError
        Missing layers or fields.
    """
    progress = progress or _noop
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    overrides: dict[str, Any] = dict(min_area_mu=min_area_mu, top_pct=top_pct, runs=runs,
                                     seed=seed, cell_m=cell_m, top_n=top_n,
                                     max_area_mu=max_area_mu)
    cfg = _run_config(study, overrides)
    if engine != "memory" or scheduler is not None:
        chunked = _on_dask(study, cfg, engine, scheduler, overrides, industry=industry,
                           out_dir=out_dir, overwrite=overwrite, progress=progress, log=log)
        if chunked is not None:
            return chunked
    industry = industry.strip() if industry else None
    profile, active, weights, ahp = _model_inputs(study, cfg, industry)
    out_paths = _output_paths(out_dir, overwrite)

    report: dict[str, Any] = {}
    grid, inside, landuse, code = _grid_and_constraints(study, cfg, active, profile, report,
                                                        progress)
    timings["grid_and_constraints_s"] = time.perf_counter() - t_start

    t0 = time.perf_counter()
    stack, crit_cards, sources, slope_known = _scored_stack(
        study, cfg, grid, active, weights, code, inside, landuse, profile, report, progress)
    del landuse
    timings["criteria_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    score, eligible, thr, k_top, (labels, n_reg, parent) = _score_and_regions(
        stack, code, grid, weights, cfg)
    n_elig = int(eligible.sum())
    timings["score_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    stability, reg_runs, thr_runs = _stability(stack, eligible, grid, cfg, weights, k_top,
                                               labels, n_reg, progress)
    del stack
    timings["stability_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    cands = _candidates(study, cfg, grid, labels, n_reg, score, stability, reg_runs, parent)
    timings["candidates_s"] = time.perf_counter() - t0

    codes_out, labels_out = _exclusion_summary(code, grid, water_labels(study, report))
    wdict = {c.name: round(float(w), 6) for c, w in zip(active, weights, strict=False)}
    card = _model_card(study, cfg, grid, industry, active, crit_cards, wdict, ahp, report,
                       codes_out, n_elig, thr, k_top, thr_runs, cands, sources, slope_known,
                       int(inside.sum()))
    res = SuitabilityResult(grid=grid, score=score, exclusion=code, stability=stability,
                            candidates=cands, model_card=card, exclusion_codes=labels_out,
                            exclusion_counts=codes_out,
                            weights=wdict, ahp=ahp, timings=timings)
    _write(res, out_paths if out_dir is not None else None, overwrite, timings, t_start,
           progress)
    progress("done", 1, 1)
    return res


def _score_and_regions(stack: np.ndarray, code: np.ndarray, grid: Grid, weights: np.ndarray,
                       cfg: SuitabilityConfig):
    """The base score, the scored cells, the top-X % threshold and its rank, and the
    candidate regions (labels, count, parent region) of the top cells."""
    score = _base_score(stack, code, grid, weights, cfg)
    eligible = code == CODE_SCORED
    thr, k_top = _top_threshold(score[eligible], cfg.top_pct)
    min_cells, max_cells = _region_cells(cfg, grid)
    regions = _regions(eligible & (score >= thr), grid, min_cells, max_cells)
    return score, eligible, thr, k_top, regions


def _on_dask(study, cfg: SuitabilityConfig, engine: str, scheduler: str | None,
             overrides: dict[str, Any], **kw: Any) -> SuitabilityResult | None:
    """The chunked engine's result when ``engine``/``scheduler``/the memory budget choose
    it, else None (the in-memory engine runs)."""
    settings = compute_settings(study)
    if scheduler is not None and engine == "memory":
        raise ModelError("--scheduler runs on a Dask cluster: use it with --engine dask "
                         "or auto, not memory")
    if scheduler is not None or choose_engine(study, cfg, engine, settings) == "dask":
        return run_chunked(study, scheduler=scheduler, **kw, **overrides)
    return None


def _scored_stack(study, cfg: SuitabilityConfig, grid: Grid, active: list[Criterion],
                  weights: np.ndarray, code: np.ndarray, inside: np.ndarray,
                  landuse: np.ndarray | None, profile, report: dict[str, Any],
                  progress: Progress):
    """The criteria's 0–1 scores (k, h, w) with the land-use penalties applied, their
    model-card entries and sources, and the share of the study with a known slope; steep
    cells are excluded in ``code`` and the terrain warnings raised and reported."""
    stack, crit_cards, sources, slope = _criterion_stack(study, grid, active, weights, code,
                                                         profile, progress)
    slope = _exclude_steep(study, cfg, grid, code, slope)
    slope_known = float(np.mean(~np.isnan(slope[inside]))) if slope is not None else None
    report["terrain_warnings"] = _terrain_warnings(study, cfg, grid, active, weights,
                                                   slope_known)
    for msg in report["terrain_warnings"]:
        warnings.warn(msg, stacklevel=3)
    factor = _landuse_factor(cfg, landuse)
    if factor is not None:
        # WLC and OWA are homogeneous of degree 1: scaling every criterion of a cell by f
        # scales its score by f, in the base run and in every Monte Carlo run alike
        stack *= factor[None]
        assert cfg.landuse is not None  # a factor comes only from a land-use rule
        report["landuse_penalties"] = {str(c): f for c, f in cfg.landuse.penalise}
    return stack, crit_cards, sources, slope_known


def _grid_and_constraints(study, cfg: SuitabilityConfig, active: list[Criterion], profile,
                          report: dict[str, Any], progress: Progress):
    """(grid, inside-boundary mask, land-use grid or None, exclusion codes)."""
    grid = study_grid(study, cfg)  # a ZoneWarning if the study straddles GK zones
    pads = [int(math.ceil(_pad_m(c) / grid.cell_m)) for c in active if c.kind == "distance"]
    _check_memory(grid, cfg, len(active), max(pads, default=0))
    progress("grid", 0, 1)
    bmetric = gpd.GeoSeries([study.boundary], crs=4326).to_crs(grid.crs).values
    inside = rasterize_mask(bmetric, grid)
    if not inside.any():
        raise ModelError(f"suitability: no cell centre of the {cfg.cell_m:g} m grid falls "
                         "inside the study boundary; use a smaller cell_m")
    landuse = _landuse_grid(study, cfg, grid)
    code = _exclusions(study, cfg, grid, inside, profile, report, landuse)
    if profile is not None:
        report["industry"] = profile.as_dict()
    progress("grid", 1, 1)
    return grid, inside, landuse, code


def _raw_values(study, c: Criterion, grid: Grid, profile) -> np.ndarray | None:
    """The raw value of a (non-category) criterion per cell: metres, degrees or a share."""
    if c.kind == "distance":
        g = _layer_metric(study, c.layer)  # type: ignore[arg-type]
        raw = distance_to_features(g.geometry.values, grid, pad_m=_pad_m(c))
        if np.isinf(raw).all():
            raise ModelError(f"suitability.criteria ({c.name}): layer {c.layer!r} has no "
                             f"feature within {_pad_m(c) / 1000:g} km of the grid")
        raw[np.isinf(raw)] = np.float32(1e9)
        return raw
    if c.kind in ("slope", "elevation"):
        spec = study.spec(c.layer) if c.layer in study.layers else study.by_role(c.layer)[0]
        dem = reproject_to_grid(spec.path, grid.padded(1), label=spec.label)
        if c.kind == "slope":
            return slope_degrees(dem, grid.cell_m)[1:-1, 1:-1].copy()
        return dem[1:-1, 1:-1].copy()
    if c.kind == "supplier_access":
        return _supplier_access(study, c, grid, profile)
    return None


def _criterion_stack(study, grid: Grid, active: list[Criterion], weights: np.ndarray,
                     code: np.ndarray, profile, progress: Progress):
    """(criterion scores, criteria × rows × columns; model-card entries; layer sources;
    the slope grid in degrees if a criterion computed it, else None)."""
    stack = np.empty((len(active), grid.height, grid.width), dtype=np.float32)
    crit_cards: list[dict] = []
    slope: np.ndarray | None = None
    sources: dict[str, dict] = {}
    for i, c in enumerate(active):
        progress(f"criterion {c.name}", i, len(active))
        raw = _raw_values(study, c, grid, profile)
        if c.kind == "slope":
            slope = raw
        if c.kind == "category":
            stack[i] = _category(study, c, grid)
            stats: dict = {}
        else:
            assert raw is not None  # only category criteria have no raw value
            stats = _raw_stats(raw, code == CODE_SCORED)
            for rs in grid.row_blocks(4_000_000):
                stack[i, rs] = c.transform(raw[rs])
        if c.layer:
            with contextlib.suppress(Exception):
                sources[c.layer] = _source_info(study, c.layer)
        crit_cards.append(_criterion_card(c, weights[i], stats))
        del raw
    return stack, crit_cards, sources, slope


def _exclude_steep(study, cfg: SuitabilityConfig, grid: Grid, code: np.ndarray,
                   slope: np.ndarray | None) -> np.ndarray | None:
    """Mark scored cells steeper than ``max_slope_deg`` in ``code`` (computing the slope
    from the study's DEM if no criterion did); return the slope grid or None."""
    if cfg.max_slope_deg is not None:
        if slope is None and study.by_role("dem"):
            spec = study.by_role("dem")[0]
            dem = reproject_to_grid(spec.path, grid.padded(1), label=spec.label)
            slope = slope_degrees(dem, grid.cell_m)[1:-1, 1:-1].copy()
            del dem
        if slope is not None:
            steep = (code == CODE_SCORED) & (np.nan_to_num(slope, nan=0.0) > cfg.max_slope_deg)
            code[steep] = CODE_STEEP
    return slope


def _base_score(stack: np.ndarray, code: np.ndarray, grid: Grid, weights: np.ndarray,
                cfg: SuitabilityConfig) -> np.ndarray:
    """The score of every scored cell (NaN elsewhere); cells with no criterion value get
    :data:`CODE_NO_DATA` in ``code``. Raises ModelError if no cell is left."""
    score = np.full(grid.shape, np.nan, dtype=np.float32)
    for rows in grid.row_blocks(2_000_000):
        keep = (code[rows] == CODE_SCORED).ravel()
        if keep.any():
            s = np.full(keep.size, np.nan, dtype=np.float32)
            s[keep] = _block_scores(stack, rows, keep, weights, cfg)
            score[rows] = s.reshape(-1, grid.width)
    code[(code == CODE_SCORED) & np.isnan(score)] = CODE_NO_DATA
    if not (code == CODE_SCORED).any():
        raise ModelError("suitability: every cell of the study is excluded (see "
                         "exclusion.tif); relax the constraints")
    return score


def _stability(stack: np.ndarray, eligible: np.ndarray, grid: Grid, cfg: SuitabilityConfig,
               weights: np.ndarray, k_top: int, labels: np.ndarray, n_reg: int,
               progress: Progress):
    """(per-cell top-X % share, per-region per-run mean score, per-run thresholds);
    all None when ``cfg.runs`` is 0."""
    stability = reg_runs = thr_runs = None
    if cfg.runs > 0:
        wruns = perturbed_weights(weights, cfg.runs, cfg.perturbation, cfg.seed)
        count, thr_runs, reg_sum = _monte_carlo(stack, eligible, grid, cfg, wruns, k_top,
                                                labels, n_reg, progress)
        stability = np.where(eligible, count.astype(np.float32) / cfg.runs, np.nan)
        del count
        if n_reg:
            ncell = np.bincount(labels[eligible], minlength=n_reg + 1).astype(np.float64)
            reg_runs = reg_sum[1:] / np.maximum(ncell[1:, None], 1)
    return stability, reg_runs, thr_runs


def _write(res: SuitabilityResult, out_paths: dict[str, Path] | None, overwrite: bool,
           timings: dict[str, float], t_start: float, progress: Progress) -> None:
    """Write the outputs (if any), then the model card with the final timings."""
    if out_paths is not None:
        t0 = time.perf_counter()
        progress("writing", 0, 1)
        _write_outputs(res, out_paths, overwrite)
        timings["write_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - t_start
    res.model_card["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
    if out_paths is not None:
        write_text(out_paths["model_card.json"],
                   json.dumps(res.model_card, ensure_ascii=False, indent=2, default=str),
                   overwrite=overwrite)
        res.model_card_json = out_paths["model_card.json"]
