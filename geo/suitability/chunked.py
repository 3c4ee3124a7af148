"""Suitability on tiles with Dask: the same model as :func:`.run.run_suitability`, never
holding the full grid.

The grid is cut into square tiles (:func:`.tiles.windows`); each tile's criteria,
exclusions and scores are computed on a ``dask.distributed`` cluster
(:func:`geo.compute.client`: a ``LocalCluster`` or an existing scheduler by address) in
three passes over the tiles, each pass a set of tasks whose small results are reduced
here:

1. counts, the base-score histogram and a Bernoulli sample of scored cells;
2. the values that fix the exact top-X % threshold and, per Monte Carlo run, the values
   inside a bracket drawn from the sample (the in-memory engine's method; runs whose
   bracket missed get two more exact histogram passes);
3. per-cell Monte Carlo counts (stability), candidate-region parts per tile with their
   sums and polygons, and the output tiles, written as they arrive into tiled GeoTIFFs
   that are then copied to Cloud-Optimized GeoTIFFs with overviews.

Region labels are merged across tile borders by a standard two-pass merge: labels per
tile, then ``scipy.sparse.csgraph.connected_components`` over the pairs of labels that
touch across a border; regions are numbered by their first cell in raster order, as
``scipy.ndimage.label`` numbers them on the whole grid, so the candidate table is the
in-memory engine's. The weight sets of the Monte Carlo runs are drawn once here and
broadcast, so every tile scores the same runs. Criterion stacks are kept on the workers
between passes (spilled to disk by Dask when memory runs short) when they fit half the
memory budget, else recomputed per pass.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .. import compute
from ..errors import InputError, ModelError
from ..grid import Grid
from ..io import write_gpkg, write_text
from .cog import TileWriter
from .config import SuitabilityConfig
from .criteria import (
    Progress,
    _layer_metric,
    _noop,
    _pad_m,
    _source_info,
    category_features,
    study_grid,
    supplier_samples,
)
from .exclusions import exclusion_masks
from .mcda import aggregate, perturbed_weights
from .prepare import _model_inputs, _output_paths, _region_cells, _run_config
from .regions import RegionStats, candidate_table
from .report import (
    SuitabilityResult,
    _criterion_card,
    _model_card,
    _terrain_warnings,
    exclusion_summary,
    raster_specs,
    water_labels,
)
from .stability import _bracket, _kth_grouped, _top_bin
from .tiles import (
    DISTANCE_BLOCK,
    TilePlan,
    Window,
    tile_regions,
    tile_stack,
    tile_summary,
    tile_thresholds,
    windows,
)

SAMPLE_CELLS = 150_000
"""Grids with at most this many cells are sampled whole (their thresholds need no
bracket); it is also the expected size of the raw-value median sample."""

BRACKET_CELLS = 1_000_000
"""Expected cells in the Monte Carlo bracket sample of larger grids: the bracket's
width, and so the values the driver gathers per run, shrink as 1/√(sample)."""

MAX_CELLS = 1_500_000_000
"""Largest grid the dask engine runs (China at 100 m is about 10⁹ cells)."""

WORKER_BASELINE_GB = 0.4
"""Memory of an idle worker holding the plan (interpreter, libraries, vector layers)."""

TILE_BYTES_PER_CELL = 300
"""Peak bytes per cell of one tile task (criterion stack, distance scratch, Monte Carlo
blocks, region parts; measured about 150 B/cell on 1024-cell tiles of the YRD at 50 m,
doubled for safety)."""

TILES_PER_WORKER = 2
"""Tiles per worker an automatic tile size aims at, so that every worker has work and a
slow tile does not leave the others idle (a grid that fits in one tile would run on one
worker)."""

MIN_AUTO_TILE = 512
"""Smallest automatic tile side (cells): below it the per-tile overhead (plan lookups,
STRtree queries, result transfer) outweighs what a second worker gains."""

Log = Callable[[str], None]


def compute_settings(study) -> compute.ComputeSettings:
    """The study's ``[compute]`` settings (validated when the study was loaded, see
    :class:`geo.config.ComputeConfig`) with the resolved memory budget.

    Parameters
    ----------
    study : Study
        The loaded study.

    Returns
    -------
    compute.ComputeSettings
        Its ``[compute]`` settings (defaults when the section is absent).
    """
    return compute.ComputeSettings(**dataclasses.asdict(study.config.compute))


def choose_engine(study, cfg: SuitabilityConfig, engine: str,
                  settings: compute.ComputeSettings) -> str:
    """Which engine runs the study.

    Parameters
    ----------
    study, cfg
        The study and its suitability settings (the grid in its metric CRS).
    engine : {"auto", "memory", "dask"}
        Asked for; ``"auto"`` gives ``"dask"`` when the in-memory estimate
        (:func:`geo.compute.grid_memory_gb`) exceeds ``[compute] memory_gb`` or a
        scheduler address is set, else ``"memory"``.
    settings
        The ``[compute]`` settings.

    Returns
    -------
    str
        ``"memory"`` or ``"dask"``.

    Raises
    ------
    ModelError
        An unknown engine.
    """
    if engine not in ("auto", "memory", "dask"):
        raise ModelError(f"engine must be one of auto, memory, dask; got {engine!r}")
    if engine != "auto":
        return engine
    if settings.scheduler is not None:
        return "dask"
    n = study_grid(study, cfg).size
    return "dask" if compute.needs_chunks(n, settings.budget_gb) else "memory"


def _distance_targets(study, c, grid: Grid) -> np.ndarray:
    """A distance criterion's features (metric CRS), refused when none lies within its
    search distance of the grid (the in-memory engine's check)."""
    geoms = _layer_metric(study, c.layer).geometry.values
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    pad = _pad_m(c)
    box = shapely.box(*grid.bounds)
    if not len(geoms) or (pad > 0 and shapely.distance(box, geoms).min() > pad):
        raise ModelError(f"suitability.criteria ({c.name}): layer {c.layer!r} has no "
                         f"feature within {pad / 1000:g} km of the grid")
    return geoms


def _raster(study, key: str) -> tuple[str, str]:
    spec = study.spec(key) if key in study.layers else study.by_role(key)[0]
    return str(spec.path), spec.label


def build_plan(study, cfg: SuitabilityConfig, grid: Grid, active, weights: np.ndarray,
               profile, report: dict) -> TilePlan:
    """Everything a tile needs, read once here: vector layers in the grid's metric CRS,
    raster paths, supplier-access samples and the Monte Carlo weight sets.

    Parameters
    ----------
    study, cfg, grid
        The study, its settings and grid (metric CRS, metres).
    active, weights
        The criteria of this run and their weights (summing to 1).
    profile
        The industry profile, or None.
    report
        Filled with the exclusion layers used (for the model card).

    Returns
    -------
    TilePlan

    Raises
    ------
    ModelError, InputError
        A distance layer with no feature within reach, missing layers or fields.
    """
    boundary = gpd.GeoSeries([study.boundary], crs=4326).to_crs(grid.crs).values
    plan = TilePlan(grid=grid, cfg=cfg, active=list(active), weights=weights,
                    boundary=boundary, masks=exclusion_masks(study, cfg, profile, report),
                    sample_p=1.0 if grid.size <= SAMPLE_CELLS else
                    min(1.0, BRACKET_CELLS / grid.size),
                    raw_sample_p=min(1.0, SAMPLE_CELLS / grid.size))
    if cfg.landuse is not None:
        plan.landuse = _raster(study, cfg.landuse.layer)
    if study.by_role("dem"):
        plan.dem = _raster(study, "dem")
    for c in active:
        if c.kind == "distance":
            plan.targets[c.name] = _distance_targets(study, c, grid)
            plan.pads[c.name] = _pad_m(c)
        elif c.kind in ("slope", "elevation"):
            plan.rasters[c.name] = _raster(study, c.layer)
        elif c.kind == "category":
            plan.categories[c.name] = category_features(study, c)
        elif c.kind == "supplier_access":
            plan.supplier[c.name] = supplier_samples(study, c, grid, profile)
    if cfg.runs > 0:
        plan.wruns = perturbed_weights(weights, cfg.runs, cfg.perturbation, cfg.seed)
    return plan


# --------------------------------------------------------------------------------------
# Tasks: one per tile, the stack kept on the workers or recomputed
# --------------------------------------------------------------------------------------

def _identity(x):
    return x


def _fresh(fn, plan: TilePlan, win: Window, *args):
    """``fn`` on a tile's stack computed in this task (stacks not kept)."""
    return fn(tile_stack(plan, win), plan, *args)


class _Tiles:
    """Submits one task per tile for each pass, with the plan scattered to the workers
    once and, when ``keep``, each tile's criterion stack computed once and kept."""

    def __init__(self, client, plan: TilePlan, wins: list[Window], keep: bool,
                 progress: Progress) -> None:
        self.client, self.wins, self.progress = client, wins, progress
        # a task holding the plan (not scattered data): a worker lost to memory
        # pressure gets it back from the scheduler instead of failing the run
        self.plan = client.submit(_identity, plan, pure=False)
        self.stacks = [client.submit(tile_stack, self.plan, w, pure=False) for w in wins] \
            if keep else None

    def run(self, desc: str, fn, *args, on_result: Callable[[int, Any], None] | None = None
            ) -> list[Any]:
        """``fn(stack, plan, *args)`` on every tile; results in tile order (or handed to
        ``on_result`` as they arrive and not kept)."""
        from distributed import as_completed

        if self.stacks is not None:
            futs = [self.client.submit(fn, s, self.plan, *args, pure=False)
                    for s in self.stacks]
        else:
            futs = [self.client.submit(_fresh, fn, self.plan, w, *args, pure=False)
                    for w in self.wins]
        index = {f.key: i for i, f in enumerate(futs)}
        out: list[Any] = [None] * len(futs)
        self.progress(desc, 0, len(futs))
        for done, f in enumerate(as_completed(futs), start=1):
            i = index[f.key]
            res = _result_of(f, desc)
            if on_result is not None:
                on_result(i, res)
            else:
                out[i] = res
            f.release()
            self.progress(desc, done, len(futs))
        compute.release_memory()  # a pass's freed scratch goes back to the system
        return out

    def close(self) -> None:
        """Release the kept stacks (idempotent)."""
        for s in self.stacks or []:
            s.release()
        self.stacks = None


def _result_of(f, desc: str) -> Any:
    """A finished task's result; a task lost with its worker (killed for memory) is a
    :class:`ModelError` with the fix, an error inside a task is raised as it was."""
    from distributed import KilledWorker

    if f.status == "cancelled":
        raise ModelError(f"suitability ({desc}): the Dask cluster lost a tile task (its "
                         "worker was restarted or the cluster shut down); rerun, give the "
                         "workers more memory ([compute] memory_gb) or fewer cells per tile")
    try:
        return f.result()
    except KilledWorker as exc:
        raise ModelError(f"suitability ({desc}): a tile task killed its Dask workers "
                         f"({exc}); give them more memory ([compute] memory_gb) or "
                         "use smaller tiles") from exc


# --------------------------------------------------------------------------------------
# Thresholds
# --------------------------------------------------------------------------------------

def _kth(values: np.ndarray, need: int) -> float:
    """The ``need``-th largest of ``values``."""
    return float(np.partition(values, values.size - need)[values.size - need])


def _mc_thresholds(tiles: _Tiles, plan: TilePlan, summaries: list[dict], n_elig: int,
                   k_top: int, base_bin: int) -> tuple[np.ndarray | None, np.ndarray]:
    """(exact per-run thresholds or None without runs, base scores holding the k-th:
    all of them on a small grid, else those in the base bin)."""
    cfg = plan.cfg
    if plan.sample_p >= 1:  # every scored cell is in pass 1's results: no pass here
        base = np.concatenate([s["base"] for s in summaries])
        if plan.wruns is None:
            return None, base
        ssc = aggregate(np.concatenate([s["sample"] for s in summaries]), plan.wruns,
                        method=cfg.aggregation, andness=cfg.andness,
                        order_weights=cfg.order_weights)
        return (-np.sort(-ssc, axis=0))[k_top - 1].astype(np.float32), base
    if plan.wruns is None:
        res = tiles.run("thresholds", tile_thresholds, base_bin, None, None, None)
        return None, np.concatenate([r["base"] for r in res])
    lo, hi = _bracket(_pop_sample(summaries), n_elig, plan.wruns, cfg, k_top)
    res = tiles.run("stability: thresholds", tile_thresholds, base_bin, (lo, hi), None, None)
    base = np.concatenate([r["base"] for r in res])
    need = k_top - np.sum([r["above"] for r in res], axis=0)
    v, counts = _run_major(res)
    ok = (need >= 1) & (need <= counts)
    thr = np.full(plan.wruns.shape[0], np.nan, dtype=np.float32)
    thr[ok] = _kth_grouped(v, counts, need[ok], np.flatnonzero(ok))
    del v
    if not ok.all():  # exact fallback: per-run histograms, then the values in the bin
        missed = np.flatnonzero(~ok)
        hist = np.sum([r["hist"] for r in tiles.run("stability: histograms",
                                                    tile_thresholds, base_bin, None,
                                                    missed, None)], axis=0)
        tbin, above_m = _top_bin(hist, k_top)
        res = tiles.run("stability: bins", tile_thresholds, base_bin, None, missed, tbin)
        thr[missed] = _kth_grouped(*_run_major(res), k_top - above_m,
                                   np.arange(missed.size))
    return thr, base


def _pop_sample(summaries: list[dict]) -> np.ndarray:
    """The tiles' Bernoulli samples (cells × criteria) in one array, each tile's let go
    as it is copied: the driver's largest array (4 B × criteria × BRACKET_CELLS) is
    never held twice."""
    n = sum(len(s["sample"]) for s in summaries)
    out = np.empty((n, summaries[0]["sample"].shape[1]), dtype=np.float32)
    at = 0
    for s in summaries:  # a few hundred tiles
        part = s.pop("sample")
        out[at:at + len(part)] = part
        at += len(part)
    return out


def _run_major(res: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """The tiles' values (each tile's grouped by run, with its ``counts``) in one array
    grouped by run, and the values per run: one copy, no sort over all of them."""
    counts = np.array([r["counts"] for r in res], dtype=np.int64)  # tiles × runs
    total = counts.sum(axis=0)
    # where run j of tile t starts: run j's start plus the runs j of the tiles before t
    start = np.cumsum(total) - total
    at = start[None, :] + np.cumsum(counts, axis=0) - counts
    out = np.empty(int(total.sum()), dtype=np.float32)
    for r, a, c in zip(res, at, counts, strict=True):  # a few hundred tiles
        if c.sum():
            dest = np.repeat(a - (np.cumsum(c) - c), c) + np.arange(c.sum())
            out[dest] = r.pop("values")
    return out, total


# --------------------------------------------------------------------------------------
# Regions: two-pass merge across tile borders
# --------------------------------------------------------------------------------------

def _border_pairs(recs: list[dict], wins: list[Window], key: str, offs: np.ndarray,
                  cut: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Global ids of labels that touch across tile borders (not across a cut line of the
    study grid when ``cut`` is given)."""
    at = {(w.row, w.col): w.index for w in wins}
    a_all, b_all = [], []
    for w in wins:
        for (dr, dc), (ea, eb), start in (((0, 1), (3, 2), "c0"), ((1, 0), (1, 0), "r0")):
            j = at.get((w.row + dr, w.col + dc))
            if j is None or (cut is not None and getattr(wins[j], start) % cut == 0):
                continue
            a, b = recs[w.index][key][ea], recs[j][key][eb]
            m = (a > 0) & (b > 0)
            a_all.append(a[m].astype(np.int64) - 1 + offs[w.index])
            b_all.append(b[m].astype(np.int64) - 1 + offs[j])
    if not a_all:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(a_all), np.concatenate(b_all)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    g = sparse.coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n))
    return connected_components(g, directed=False)[1]


def _cat(recs: list[dict], key: str) -> np.ndarray:
    return np.concatenate([r[key] for r in recs])


def merge_regions(recs: list[dict], wins: list[Window], grid: Grid, min_cells: int,
                  max_cells: int | None) -> tuple[RegionStats | None, np.ndarray | None,
                                                  np.ndarray]:
    """Candidate regions of the whole grid from the tiles' parts.

    Parameters
    ----------
    recs
        :func:`.tiles.tile_regions` results in tile order.
    wins
        The tiles.
    grid
        The study grid (metric CRS, metres).
    min_cells, max_cells
        Smallest region; largest before a region is cut by ⌊√max_cells⌋-cell squares.

    Returns
    -------
    stats : RegionStats or None
        Regions numbered 1… as :func:`.regions._regions` numbers them on the whole grid,
        polygons in the grid's CRS; None without a region.
    reg_runs : numpy.ndarray or None
        (regions, runs) mean score per Monte Carlo run.
    parent : numpy.ndarray
        The contiguous region each region was cut from (1…).
    """
    nl = np.array([len(r["l_size"]) for r in recs])
    npart = np.array([len(r["p_size"]) for r in recs])
    offl = np.r_[0, np.cumsum(nl)[:-1]]
    offp = np.r_[0, np.cumsum(npart)[:-1]]
    if not npart.sum():
        return None, None, np.zeros(0, np.int32)
    cut = max(1, math.isqrt(int(max_cells))) if max_cells is not None else None
    gl = _components(int(nl.sum()), *_border_pairs(recs, wins, "l_edges", offl, None))
    gp = _components(int(npart.sum()), *_border_pairs(recs, wins, "p_edges", offp, cut))
    p_l = np.concatenate([r["p_l"].astype(np.int64) - 1 + o for r, o in zip(recs, offl,
                                                                              strict=True)])
    lg = gl[p_l]
    lg_size = np.bincount(gl, weights=_cat(recs, "l_size"))
    lg_first = np.full(lg_size.size, np.iinfo(np.int64).max)
    np.minimum.at(lg_first, gl, _cat(recs, "l_first"))
    pg_first = np.full(int(gp.max()) + 1, np.iinfo(np.int64).max)
    np.minimum.at(pg_first, gp, _cat(recs, "p_first"))
    big = (lg_size > max_cells)[lg] if max_cells is not None else np.zeros(lg.size, bool)
    # small regions first by their first cell, then the cut parts (ndimage's numbering)
    key = np.where(big, grid.size + pg_first[gp], lg_first[lg])
    ukey, rid = np.unique(key, return_inverse=True)
    size = np.bincount(rid, weights=_cat(recs, "p_size"))
    keep = size >= min_cells
    if not keep.any():
        return None, None, np.zeros(0, np.int32)
    newid = np.full(ukey.size, -1)
    newid[keep] = np.arange(int(keep.sum()))
    rid = newid[rid]
    sel = rid >= 0
    rid, n = rid[sel], int(keep.sum())
    par = np.zeros(n, dtype=np.int64)
    par[rid] = lg_first[lg[sel]]
    parent = (np.unique(par, return_inverse=True)[1] + 1).astype(np.int32)
    stats = _region_sums(recs, sel, rid, n, grid)
    reg_runs = None
    if recs[0]["p_runs"] is not None or any(r["p_runs"] is not None for r in recs):
        runs = np.concatenate([r["p_runs"] for r in recs if r["p_runs"] is not None])[sel]
        ind = sparse.csr_matrix((np.ones(rid.size), (rid, np.arange(rid.size))),
                                shape=(n, rid.size))
        reg_runs = (ind @ runs) / np.maximum(stats.n_cells[:, None], 1)
    return stats, reg_runs, parent


def _region_sums(recs: list[dict], sel: np.ndarray, rid: np.ndarray, n: int,
                 grid: Grid) -> RegionStats:
    """Per-region sums of the kept parts (``sel``) with region index ``rid``; polygons
    unioned and moved from cell coordinates to the grid's CRS."""
    smin = np.full(n, np.inf)
    np.minimum.at(smin, rid, _cat(recs, "p_min")[sel])
    smax = np.full(n, -np.inf)
    np.maximum.at(smax, rid, _cat(recs, "p_max")[sel])
    stab = None
    if any(r["p_stab"] is not None for r in recs):
        stab = np.bincount(rid, weights=np.concatenate(
            [r["p_stab"] for r in recs if r["p_stab"] is not None])[sel], minlength=n)
    parts = gpd.GeoDataFrame({"rid": rid}, geometry=_cat(recs, "p_poly")[sel])
    # exact in integer cell coordinates: the vertices left on the tile borders are
    # collinear and dropped, so a region has the vertices of the whole grid's polygon
    polys = shapely.simplify(parts.dissolve(by="rid").geometry.values, 0.0)
    h = grid.cell_m
    polys = shapely.transform(np.asarray(polys, dtype=object),
                              lambda xy: np.c_[grid.x0 + xy[:, 0] * h, grid.y0 - xy[:, 1] * h])
    return RegionStats(polys, np.bincount(rid, weights=_cat(recs, "p_size")[sel],
                                          minlength=n).astype(np.int64),
                       np.bincount(rid, weights=_cat(recs, "p_sum")[sel], minlength=n),
                       smin, smax, stab)


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------

def cluster_memory_gb(client, settings: compute.ComputeSettings) -> tuple[float, int]:
    """The cluster's memory for tiles.

    Parameters
    ----------
    client
        A ``distributed.Client``.
    settings
        ``[compute]``: its budget is used when the workers declare no memory limit.

    Returns
    -------
    tuple
        (summed memory limit of the workers in GiB, number of workers).
    """
    workers = client.scheduler_info()["workers"].values()
    limit = sum(float(w.get("memory_limit") or 0) for w in workers) / compute.GB
    return (limit if limit > 0 else settings.budget_gb), max(1, len(workers))


def _tile_side(budget_gb: float, tile_side: int | None, n_workers: int, n_cells: int) -> int:
    """Cells per tile side: given, else what one worker's memory holds beside its
    baseline (:data:`WORKER_BASELINE_GB`) at :data:`TILE_BYTES_PER_CELL`, made smaller
    (down to :data:`MIN_AUTO_TILE`) until the grid of ``n_cells`` has
    :data:`TILES_PER_WORKER` tiles per worker — a grid that fits in one tile would
    otherwise keep all but one worker idle —, a multiple of 256 (the COG block); always a
    multiple of :data:`.tiles.DISTANCE_BLOCK`."""
    if not tile_side:
        free = max(budget_gb / n_workers - WORKER_BASELINE_GB, 0.05) * compute.GB
        by_memory = max(256, int(math.sqrt(free / TILE_BYTES_PER_CELL)) // 256 * 256)
        balanced = math.ceil(math.sqrt(n_cells / (TILES_PER_WORKER * n_workers)) / 256) * 256
        tile_side = min(by_memory, max(MIN_AUTO_TILE, balanced))
    side = tile_side
    if side < DISTANCE_BLOCK or side % DISTANCE_BLOCK:
        raise ModelError(f"tile side {side} cells must be a positive multiple of "
                         f"{DISTANCE_BLOCK}")
    return side


def _check_size(grid: Grid) -> None:
    """Refuse a grid over :data:`MAX_CELLS` before any cluster starts."""
    if grid.size > MAX_CELLS:
        cell = grid.cell_m * math.sqrt(grid.size / MAX_CELLS) * 1.05
        raise ModelError(f"suitability: a grid of {grid.width:,} × {grid.height:,} = "
                         f"{grid.size:,} cells of {grid.cell_m:g} m is over the dask engine's "
                         f"{MAX_CELLS:,} cells (China at 100 m). Use cell_m ≥ "
                         f"{math.ceil(cell):d}")


def _raw_card(parts: list[dict | None]) -> dict:
    """A criterion's raw-value statistics in the scored cells from the tiles' partials
    (the median from the tiles' Bernoulli sample: exact when every cell was sampled)."""
    present: list[dict] = [p for p in parts if p is not None]
    n = sum(p["n"] for p in present)
    known = sum(p["known"] for p in present)
    if not known:
        return {"known_share": 0.0}
    sample = np.concatenate([p["sample"] for p in present])
    med = float(np.median(sample)) if sample.size else float("nan")
    out = {"min": round(min(p["min"] for p in present), 3), "median": round(med, 3),
           "max": round(max(p["max"] for p in present), 3),
           "known_share": round(known / max(n, 1), 4)}
    if sample.size < known:  # said, never passed off as the exact median
        out["median_from_sample_of_cells"] = int(sample.size)
    return out


def run_chunked(study, *, industry: str | None = None, out_dir: str | Path | None = None,
                overwrite: bool = True, progress: Progress | None = None,
                scheduler: str | None = None, tile_side: int | None = None,
                keep_stacks: bool | None = None, log: Log | None = None,
                **overrides: Any) -> SuitabilityResult:
    """:func:`geo.suitability.run_suitability` on tiles with Dask.

    Parameters
    ----------
    study : geo.study.Study
        A loaded study with a ``[suitability]`` section (and optionally ``[compute]``).
    industry, out_dir, overwrite, progress
        As for :func:`~geo.suitability.run_suitability`; ``out_dir`` is required (the
        rasters are written tile by tile, never held).
    scheduler
        ``tcp://host:8786`` of an existing ``dask.distributed`` cluster; default
        ``[compute] scheduler``, else a ``LocalCluster`` (``[compute] n_workers``,
        ``memory_gb``). Inside an active ``distributed.Client`` that client is used.
    tile_side
        Cells per tile side (a multiple of 16); default from one worker's memory.
    keep_stacks
        Keep each tile's criterion stack on the workers between passes; default when
        the stacks fit half the workers' memory.
    log
        Called with one-line messages (the dashboard link).
    **overrides
        ``min_area_mu``, ``top_pct``, ``runs``, ``seed``, ``cell_m``, ``top_n``,
        ``max_area_mu`` as for the in-memory engine.

    Returns
    -------
    SuitabilityResult
        With ``score``, ``exclusion`` and ``stability`` None (they are in the files).

    Raises
    ------
    ModelError, InputError
        As the in-memory engine; also without ``out_dir``, and when the scheduler
        cannot be reached.
    """
    if out_dir is None:
        raise ModelError("the dask engine writes its rasters tile by tile: give an output "
                         "folder (--out)")
    progress = progress or _noop
    log = log or (lambda msg: None)
    settings = compute_settings(study)
    _check_size(study_grid(study, _run_config(study, overrides)))
    scheduler = scheduler or settings.scheduler
    try:
        from distributed import get_client

        client = get_client() if scheduler is None else None
    except (ImportError, ValueError):
        client = None
    if client is not None:
        return _run_on(client, study, industry, out_dir, overwrite, progress, settings,
                       tile_side, keep_stacks, log, overrides)
    with contextlib.ExitStack() as stack:
        try:
            c = stack.enter_context(compute.client(
                scheduler, settings.memory_gb, n_workers=settings.n_workers,
                processes=settings.workers == "processes"))
        except OSError as exc:  # distributed's connection timeout
            where = f"reach the Dask scheduler {scheduler}" if scheduler else \
                "start a local Dask cluster"
            raise InputError(f"suitability --engine dask: could not {where} ({exc}); start "
                             "it (`dask scheduler`) or fix --scheduler / [compute] "
                             "scheduler") from exc
        return _run_on(c, study, industry, out_dir, overwrite, progress, settings,
                       tile_side, keep_stacks, log, overrides)


def _run_on(client, study, industry, out_dir, overwrite, progress, settings, tile_side,
            keep_stacks, log, overrides) -> SuitabilityResult:
    """The chunked run on ``client`` (see :func:`run_chunked`)."""
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    link = compute.dashboard_link(client)
    if link:
        log(f"Dask dashboard: {link}")
    cfg = _run_config(study, overrides)
    industry = industry.strip() if industry else None
    profile, active, weights, ahp = _model_inputs(study, cfg, industry)
    out_paths = _output_paths(out_dir, overwrite)
    grid = study_grid(study, cfg)
    report: dict[str, Any] = {}
    plan = build_plan(study, cfg, grid, active, weights, profile, report)
    budget_gb, n_workers = cluster_memory_gb(client, settings)
    side = _tile_side(budget_gb, tile_side, n_workers, grid.size)
    wins = windows(grid, side)
    if keep_stacks is None:
        keep_stacks = grid.size * (4 * len(active) + 5) < budget_gb * compute.GB / 2
    timings["plan_s"] = time.perf_counter() - t_start
    engine = {"engine": "dask", "scheduler": client.scheduler.address, "workers": n_workers,
              "tile_side_cells": side, "tiles": len(wins), "stacks_kept": bool(keep_stacks),
              "dashboard": link}
    wdict = {c.name: round(float(w), 6) for c, w in zip(active, weights, strict=True)}
    specs = raster_specs({"study": {"name": study.name}, "industry": industry,
                          "stability": {"runs": cfg.runs, "perturbation": cfg.perturbation,
                                        "seed": cfg.seed},
                          "top_cells": {"top_pct": cfg.top_pct}}, wdict, ahp)
    names = ["suitability.tif", "exclusion.tif"] + (["stability.tif"] if cfg.runs else [])
    tiles = _Tiles(client, plan, wins, keep_stacks, progress)
    writer = TileWriter(out_paths, grid, specs, names)
    try:
        summaries, n_elig, k_top, thr, thr_runs = _thresholds(tiles, plan, timings)
        min_cells, max_cells = _region_cells(cfg, grid)
        t0 = time.perf_counter()
        recs = _regions_pass(tiles, writer, thr, thr_runs, min_cells, max_cells)
        timings["stability_regions_s"] = time.perf_counter() - t0
        tiles.close()
        t0 = time.perf_counter()
        stats, reg_runs, parent = merge_regions(recs, wins, grid, min_cells, max_cells)
        cands = candidate_table(study, cfg, grid, stats, reg_runs, parent)
        timings["candidates_s"] = time.perf_counter() - t0
        res = _result(study, cfg, grid, industry, active, weights, ahp, report, n_elig, thr,
                      k_top, thr_runs, cands, summaries, engine)
        t0 = time.perf_counter()
        progress("writing", 0, 1)
        writer.finish(overwrite)
        timings["write_s"] = time.perf_counter() - t0
    except BaseException:
        writer.abort()
        raise
    finally:
        tiles.close()
    _write_tables(res, out_paths, overwrite, timings, t_start)
    progress("done", 1, 1)
    return res


def _thresholds(tiles: _Tiles, plan: TilePlan, timings: dict[str, float]):
    """Passes 1 and 2: (tile summaries, scored cells, k, exact top-k threshold, exact
    per-run thresholds or None)."""
    t0 = time.perf_counter()
    summaries = tiles.run("criteria and scores", tile_summary)
    n_elig = sum(s["n_elig"] for s in summaries)
    if not n_elig:
        raise ModelError("suitability: every cell of the study is excluded (see "
                         "exclusion.tif); relax the constraints")
    k_top = min(n_elig, max(1, int(math.ceil(n_elig * plan.cfg.top_pct / 100.0))))
    tbin, above = _top_bin(np.sum([s["hist"] for s in summaries], axis=0)[None], k_top)
    timings["criteria_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    thr_runs, base = _mc_thresholds(tiles, plan, summaries, n_elig, k_top, int(tbin[0]))
    thr = _kth(base, int(k_top if plan.sample_p >= 1 else k_top - above[0]))
    timings["thresholds_s"] = time.perf_counter() - t0
    return summaries, n_elig, k_top, thr, thr_runs


def _regions_pass(tiles: _Tiles, writer: TileWriter, thr: float,
                  thr_runs: np.ndarray | None, min_cells: int, max_cells: int | None
                  ) -> list[dict]:
    """Pass 3: each tile's output rasters written as it arrives; its region parts kept."""
    recs: list[dict] = [{}] * len(tiles.wins)

    def keep(i: int, res: dict) -> None:
        for name, key in (("suitability.tif", "score"), ("exclusion.tif", "code"),
                          ("stability.tif", "stability")):
            arr = res.pop(key)
            if name in writer.ds:
                writer.write(name, tiles.wins[i], arr)
        recs[i] = res

    tiles.run("stability and regions", tile_regions, thr, thr_runs, min_cells, max_cells,
              on_result=keep)
    return recs


def _result(study, cfg, grid, industry, active, weights, ahp, report, n_elig, thr, k_top,
            thr_runs, cands, summaries, engine) -> SuitabilityResult:
    """The result and its model card (the in-memory engine's, plus ``engine``)."""
    counts = np.sum([s["codes"] for s in summaries], axis=0)
    slope = [s["slope_known"] for s in summaries]
    n_inside = sum(s["n_inside"] for s in summaries)
    slope_known = sum(slope) / n_inside if None not in slope and n_inside else None
    report["terrain_warnings"] = _terrain_warnings(study, cfg, grid, active, weights,
                                                   slope_known)
    for msg in report["terrain_warnings"]:
        warnings.warn(msg, stacklevel=3)
    if cfg.landuse is not None and cfg.landuse.penalise:
        report["landuse_penalties"] = {str(c): f for c, f in cfg.landuse.penalise}
    crit_cards, sources = [], {}
    for i, c in enumerate(active):
        raw = {} if c.kind == "category" else _raw_card([s["raw"][i] for s in summaries])
        crit_cards.append(_criterion_card(c, weights[i], raw))
        if c.layer:
            with contextlib.suppress(Exception):
                sources[c.layer] = _source_info(study, c.layer)
    codes_out, labels_out = exclusion_summary(counts[:max(len(counts), 1)], grid,
                                              water_labels(study, report))
    wdict = {c.name: round(float(w), 6) for c, w in zip(active, weights, strict=False)}
    card = _model_card(study, cfg, grid, industry, active, crit_cards, wdict, ahp, report,
                       codes_out, n_elig, thr, k_top, thr_runs, cands, sources, slope_known,
                       n_inside)
    card["engine"] = engine
    # the chunked engine never holds a full grid: its rasters are the COGs on disk
    return SuitabilityResult(grid=grid, score=None, exclusion=None,  # type: ignore[arg-type]
                             stability=None,
                             candidates=cands, model_card=card, exclusion_codes=labels_out,
                             exclusion_counts=codes_out, weights=wdict, ahp=ahp)


def _write_tables(res: SuitabilityResult, paths: dict[str, Path], overwrite: bool,
                  timings: dict[str, float], t_start: float) -> None:
    """Record the written rasters, write candidates.gpkg and model_card.json."""
    res.suitability_tif = paths["suitability.tif"]
    res.exclusion_tif = paths["exclusion.tif"]
    if res.model_card["stability"]["runs"]:
        res.stability_tif = paths["stability.tif"]
    write_gpkg({"candidates": res.candidates.copy()}, paths["candidates.gpkg"],
               overwrite=overwrite)
    res.candidates_gpkg = paths["candidates.gpkg"]
    timings["total_s"] = time.perf_counter() - t_start
    res.timings = timings
    res.model_card["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
    write_text(paths["model_card.json"],
               json.dumps(res.model_card, ensure_ascii=False, indent=2, default=str),
               overwrite=overwrite)
    res.model_card_json = paths["model_card.json"]
