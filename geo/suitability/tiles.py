"""One tile of the suitability grid: criteria, exclusions, scores, Monte Carlo counts and
candidate-region parts, computed with only the halo each step needs.

A :class:`TilePlan` holds everything a tile needs (the grid, the model, the vector
layers in the grid's metric CRS, the raster paths) and travels to the Dask workers once.
Every function here takes one :class:`Window` and returns arrays of that window only, so
no worker ever holds the full grid:

- slope reads the DEM on the tile grown by one cell (central differences);
- a distance criterion is exact across tile borders: the features within the tile's box
  grown by the criterion's search distance (its saturation distance) and the block
  diagonal are passed to :func:`geo.grid.distance_to_features`, which is exact per block;
- exclusions, the land-use factor, aggregation (WLC/OWA) and the Monte Carlo scores are
  per cell (the random weight sets are drawn once, by the caller, and broadcast).

Used by :mod:`geo.suitability.chunked`; the in-memory engine is :mod:`.run`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from affine import Affine
from rasterio import features
from scipy import ndimage, sparse

from ..grid import (
    Grid,
    distance_to_features,
    rasterize_mask,
    reproject_to_grid,
    slope_degrees,
)
from .config import CODE_NO_DATA, CODE_SCORED, CODE_STEEP, Criterion, SuitabilityConfig
from .criteria import paint_category, supplier_interpolate
from .exclusions import Mask, _landuse_factor, paint_exclusions
from .regions import _label_cut
from .stability import _block_scores

DISTANCE_BLOCK = 16
"""Block side of :func:`geo.grid.distance_to_features`; tiles are multiples of it so
that a tile's blocks are the whole grid's blocks."""

MC_BLOCK_BYTES = 4e6
"""Bytes of one block of Monte Carlo scores (cells × runs float32) in a tile task: with
its few temporaries of the same size, a tile task's Monte Carlo step holds about
3 × this per worker thread (a twelfth of the in-memory engine's 48 MB blocks; smaller
blocks cost no measurable time on 512-cell tiles)."""

HIST_BINS = 8192
"""Bins of the per-run score histograms (scores 0–1) used for exact thresholds."""


@dataclass(frozen=True)
class Window:
    """Rows ``r0:r0 + height`` and columns ``c0:c0 + width`` of the study grid."""

    index: int
    row: int
    col: int
    r0: int
    c0: int
    height: int
    width: int

    def grid(self, g: Grid) -> Grid:
        """The tile as a grid of its own (same CRS and cell size, metres).

        Parameters
        ----------
        g : Grid
            The study grid the window was cut from.

        Returns
        -------
        Grid
            A grid of ``height`` × ``width`` cells whose top-left corner is cell
            (``r0``, ``c0``) of ``g``.
        """
        return Grid(g.crs, g.x0 + self.c0 * g.cell_m, g.y0 - self.r0 * g.cell_m, g.cell_m,
                    self.width, self.height)


def windows(grid: Grid, side: int) -> list[Window]:
    """Square tiles of ``side`` cells covering ``grid`` row by row.

    Parameters
    ----------
    grid
        The study grid (metric CRS, metres).
    side
        Cells per tile side, a multiple of :data:`DISTANCE_BLOCK`.

    Returns
    -------
    list of Window
        Row-major; the last row and column of tiles are cut to the grid.
    """
    out: list[Window] = []
    for i, r0 in enumerate(range(0, grid.height, side)):
        for j, c0 in enumerate(range(0, grid.width, side)):
            out.append(Window(len(out), i, j, r0, c0, min(side, grid.height - r0),
                              min(side, grid.width - c0)))
    return out


@dataclass
class TilePlan:
    """What every tile needs; built once by the driver and shipped to the workers.

    Geometries are shapely arrays in the grid's metric CRS; distances in metres.
    STRtrees are built lazily on each worker (they are not pickled).
    """

    grid: Grid
    cfg: SuitabilityConfig
    active: list[Criterion]
    weights: np.ndarray
    boundary: np.ndarray
    masks: list[Mask]
    landuse: tuple[str, str] | None = None
    dem: tuple[str, str] | None = None
    rasters: dict[str, tuple[str, str]] = field(default_factory=dict)
    targets: dict[str, np.ndarray] = field(default_factory=dict)
    pads: dict[str, float] = field(default_factory=dict)
    categories: dict[str, tuple] = field(default_factory=dict)
    supplier: dict[str, tuple[np.ndarray, int]] = field(default_factory=dict)
    wruns: np.ndarray | None = None
    sample_p: float = 1.0
    raw_sample_p: float = 1.0
    _trees: dict = field(default_factory=dict, repr=False)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_trees"] = {}
        return state

    def near(self, name: str, tile: Grid) -> np.ndarray:
        """Features of criterion ``name`` within its search distance (plus one distance
        block's diagonal) of ``tile``'s box: all that can be nearest to one of its cells,
        or give :func:`distance_to_features` the same upper bounds as on the whole grid.

        Parameters
        ----------
        name : str
            A distance criterion's name (a key of ``targets`` and ``pads``).
        tile : Grid
            The tile (study's metric CRS).

        Returns
        -------
        numpy.ndarray
            The criterion's shapely geometries (metric CRS) within the reach, in their
            original order; all of them when the criterion has no search distance.
        """
        geoms = self.targets[name]
        tree = self._trees.get(name)
        if tree is None:
            tree = self._trees[name] = shapely.STRtree(geoms)
        pad = self.pads[name]
        reach = (pad if pad > 0 else np.inf) + 2 * DISTANCE_BLOCK * tile.cell_m * 1.5
        if not np.isfinite(reach):
            return geoms
        return geoms[np.sort(tree.query(shapely.box(*tile.bounds), predicate="dwithin",
                                        distance=reach))]


def _dem_on(path_label: tuple[str, str], tile: Grid, kind: str) -> np.ndarray:
    """Slope (degrees) or elevation (m) of ``tile`` from the DEM read with a one-cell halo."""
    dem = reproject_to_grid(path_label[0], tile.padded(1), label=path_label[1])
    if kind == "slope":
        return slope_degrees(dem, tile.cell_m)[1:-1, 1:-1].copy()
    return dem[1:-1, 1:-1].copy()


def _raw(plan: TilePlan, c: Criterion, tile: Grid, win: Window, scored: np.ndarray
         ) -> np.ndarray | None:
    """The raw value of a (non-category) criterion on the tile: metres, degrees or a
    share; distances only in the blocks holding a ``scored`` cell (+inf elsewhere: no
    score, sample or statistic reads an excluded cell)."""
    if c.kind == "distance":
        raw = distance_to_features(plan.near(c.name, tile), tile, pad_m=plan.pads[c.name],
                                   block=DISTANCE_BLOCK, where=scored)
        raw[np.isinf(raw)] = np.float32(1e9)
        return raw
    if c.kind in ("slope", "elevation"):
        return _dem_on(plan.rasters[c.name], tile, c.kind)
    if c.kind == "supplier_access":
        share, step = plan.supplier[c.name]
        return supplier_interpolate(share, step, tile, win.r0, win.c0)
    return None


@dataclass
class TileStack:
    """A tile's criterion scores (criteria × rows × columns, float32), exclusion codes
    (after slope and no-data), base score (NaN where excluded) and per-tile summaries."""

    win: Window
    stack: np.ndarray
    code: np.ndarray
    score: np.ndarray
    n_inside: int
    slope_known: int | None
    raw_stats: list[dict | None]


def _raw_partial(raw: np.ndarray, eligible: np.ndarray, rng: np.random.Generator,
                 p: float) -> dict:
    """Count, known count, min, max and a Bernoulli(p) sample of a criterion's raw values
    in the tile's scored cells (for the model card's statistics)."""
    a = raw[eligible]
    known = a[~np.isnan(a)]
    sample = known if p >= 1 else known[rng.random(known.size) < p]
    return {"n": int(a.size), "known": int(known.size),
            "min": float(known.min()) if known.size else np.inf,
            "max": float(known.max()) if known.size else -np.inf, "sample": sample}


def tile_stack(plan: TilePlan, win: Window) -> TileStack:
    """Criteria, exclusions and the base score of one tile (the in-memory engine's
    steps, in the same order, on the tile grid).

    Parameters
    ----------
    plan
        The run's plan (grid in a metric CRS, model, layers).
    win
        The tile.

    Returns
    -------
    TileStack
        Arrays of the tile only.

    Raises
    ------
    geo.errors.LayerError
        A raster without a CRS.
    """
    cfg = plan.cfg
    tile = win.grid(plan.grid)
    inside = rasterize_mask(plan.boundary, tile)
    landuse = None
    if plan.landuse is not None:
        landuse = reproject_to_grid(plan.landuse[0], tile, resampling="nearest",
                                    label=plan.landuse[1])
    code = paint_exclusions(plan.masks, cfg, tile, inside, landuse)
    stack = np.empty((len(plan.active), tile.height, tile.width), dtype=np.float32)
    rng = np.random.default_rng([cfg.seed, win.index, 1])
    slope = None
    stats: list[dict | None] = []
    for i, c in enumerate(plan.active):
        if c.kind == "category":
            stack[i] = paint_category(plan.categories[c.name], tile)
            stats.append(None)
            continue
        raw = _raw(plan, c, tile, win, code == CODE_SCORED)
        assert raw is not None  # only category criteria have no raw value
        if c.kind == "slope":
            slope = raw
        stats.append(_raw_partial(raw, code == CODE_SCORED, rng, plan.raw_sample_p))
        stack[i] = c.transform(raw)
    if cfg.max_slope_deg is not None:
        if slope is None and plan.dem is not None:
            slope = _dem_on(plan.dem, tile, "slope")
        if slope is not None:
            steep = (code == CODE_SCORED) & (np.nan_to_num(slope, nan=0.0) > cfg.max_slope_deg)
            code[steep] = CODE_STEEP
    slope_known = int((~np.isnan(slope[inside])).sum()) if slope is not None else None
    factor = _landuse_factor(cfg, landuse)
    if factor is not None:
        stack *= factor[None]
    score = np.full(tile.shape, np.nan, dtype=np.float32)
    keep = (code == CODE_SCORED).ravel()
    if keep.any():
        s = np.full(keep.size, np.nan, dtype=np.float32)
        s[keep] = _block_scores(stack, slice(None), keep, plan.weights, cfg)
        score[:] = s.reshape(tile.shape)
    code[(code == CODE_SCORED) & np.isnan(score)] = CODE_NO_DATA
    return TileStack(win, stack, code, score, int(inside.sum()), slope_known, stats)


def _hist(sc: np.ndarray, nb: int = HIST_BINS) -> np.ndarray:
    """Per-column histograms (``nb`` bins over 0–1) of scores ``sc`` (cells × runs)."""
    runs = sc.shape[1]
    b = np.minimum((sc * nb).astype(np.int32), nb - 1) + (np.arange(runs) * nb)[None, :]
    return np.bincount(b.ravel(), minlength=runs * nb).reshape(runs, nb)


def _in_bin(sc: np.ndarray, tbin: np.ndarray, nb: int = HIST_BINS
            ) -> tuple[np.ndarray, np.ndarray]:
    """(values, run ids) of the scores ``sc`` (cells × runs) in each run's bin ``tbin``."""
    ci, ri = np.nonzero(np.minimum((sc * nb).astype(np.int32), nb - 1) == tbin[None, :])
    return sc[ci, ri], ri.astype(np.int32)


def tile_summary(ts: TileStack, plan: TilePlan) -> dict:
    """Pass 1 of a tile: counts, the base-score histogram, the raw-value statistics and
    a Bernoulli sample of the scored cells' criterion scores (Monte Carlo bracket).

    Parameters
    ----------
    ts
        The tile's stack.
    plan
        The run's plan (its ``sample_p`` is the sampling probability).

    Returns
    -------
    dict
        ``n_elig``, ``n_inside``, ``slope_known``, ``codes`` (cells per exclusion code),
        ``hist`` (:data:`HIST_BINS` bins of the base score), ``raw`` (per criterion),
        ``sample`` (cells × criteria) and ``base`` (all base scores when every cell is
        sampled, else None).
    """
    eligible = ts.code == CODE_SCORED
    rng = np.random.default_rng([plan.cfg.seed, ts.win.index, 2])
    x = ts.stack[:, eligible].T
    if plan.sample_p < 1:
        x = x[rng.random(x.shape[0]) < plan.sample_p]
    base = ts.score[eligible]
    return {"n_elig": int(eligible.sum()), "n_inside": ts.n_inside,
            "slope_known": ts.slope_known,
            "codes": np.bincount(ts.code.ravel(), minlength=256),
            "hist": _hist(base[:, None])[0], "raw": ts.raw_stats,
            "sample": np.ascontiguousarray(x),
            # every cell sampled (a small grid): the base scores fix the threshold here
            "base": base if plan.sample_p >= 1 else None}


def mc_blocks(ts: TileStack, plan: TilePlan, wruns: np.ndarray):
    """Monte Carlo scores of a tile by blocks of rows, each one matrix product on the
    criterion stack (as :func:`.stability._monte_carlo`).

    Parameters
    ----------
    ts
        The tile's stack.
    plan
        The run's plan (aggregation settings).
    wruns
        (runs, criteria) weight sets.

    Yields
    ------
    tuple
        (row slice of the tile, scored-cell mask of those rows, float32 scores of the
        scored cells × runs); blocks without a scored cell are skipped.
    """
    cfg = plan.cfg
    k = ts.stack.shape[0]
    budget = max(2_000, int(MC_BLOCK_BYTES / (4 * wruns.shape[0] *
                                              (k if cfg.aggregation == "owa" else 1))))
    step = max(1, budget // max(ts.win.width, 1))
    for r0 in range(0, ts.win.height, step):
        rows = slice(r0, min(ts.win.height, r0 + step))
        keep = (ts.code[rows] == CODE_SCORED).ravel()
        if keep.any():
            yield rows, keep, _block_scores(ts.stack, rows, keep, wruns, cfg)


def tile_thresholds(ts: TileStack, plan: TilePlan, base_bin: int,
                    brackets: tuple[np.ndarray, np.ndarray] | None,
                    hist_runs: np.ndarray | None, bins: np.ndarray | None) -> dict:
    """Pass 2 of a tile: the base scores in the threshold's bin; per Monte Carlo run the
    count above its bracket and the values inside it; or, the fallback for runs whose
    bracket missed, per-run histograms (``bins`` None) or the values in ``bins``.

    Parameters
    ----------
    ts, plan
        The tile's stack and the run's plan.
    base_bin
        The :data:`HIST_BINS` bin holding the base score's k-th best.
    brackets
        (low, high) per run, or None.
    hist_runs
        Indices of the runs of the fallback, or None.
    bins
        Their bins holding the k-th best, or None for the histogram pass.

    Returns
    -------
    dict
        ``base``; and with runs ``above``, ``hist``, ``values`` (grouped by run, in the
        order of the runs asked for) and ``counts`` (values per run).
    """
    eligible = ts.code == CODE_SCORED
    base = ts.score[eligible][:, None]
    out: dict = {"base": _in_bin(base, np.array([base_bin]))[0]}
    if brackets is None and hist_runs is None:
        return out
    assert plan.wruns is not None  # set whenever the Monte Carlo runs
    runs = plan.wruns.shape[0]
    lo, hi = brackets if brackets is not None else (np.full(runs, np.nan),
                                                    np.full(runs, np.nan))
    above = np.zeros(runs, dtype=np.int64)
    vals, rids = [], []
    wsel = plan.wruns if hist_runs is None else plan.wruns[hist_runs]
    # zeros, not None, in a tile without a scored cell: the driver sums them
    hist = np.zeros((wsel.shape[0], HIST_BINS), np.int64) \
        if hist_runs is not None and bins is None else None
    for _, _, sc in mc_blocks(ts, plan, wsel):
        if hist is not None:
            hist += _hist(sc)
        elif hist_runs is not None:
            assert bins is not None
            v, r = _in_bin(sc, bins)
            vals.append(v)
            rids.append(r)
        else:
            above += (sc > hi[None, :]).sum(axis=0)
            ci, ri = np.nonzero((sc >= lo[None, :]) & (sc <= hi[None, :]))
            vals.append(sc[ci, ri])
            rids.append(ri.astype(np.int32))
    v = np.concatenate(vals) if vals else np.zeros(0, np.float32)
    r = np.concatenate(rids) if rids else np.zeros(0, np.int32)
    # grouped by run here, so the driver never sorts all tiles' values at once
    out.update(above=above, hist=hist, values=v[np.argsort(r, kind="stable")],
               counts=np.bincount(r, minlength=wsel.shape[0]))
    return out


def _cut_labels(top: np.ndarray, win: Window, side: int) -> tuple[np.ndarray, int]:
    """4-connected labels of ``top`` cut along the rows and columns of the study grid
    that are multiples of ``side`` (the square tiles of ``max_area_mu``)."""
    h, w = top.shape
    rcut = np.flatnonzero((np.arange(win.r0, win.r0 + h) % side == 0)[1:]) + 1
    ccut = np.flatnonzero((np.arange(win.c0, win.c0 + w) % side == 0)[1:]) + 1
    lab, m = _label_cut(top, rcut, ccut)
    return lab.astype(np.int32), m


def _edges(lab: np.ndarray) -> tuple[np.ndarray, ...]:
    """A label raster's first row, last row, first column and last column."""
    return lab[0].copy(), lab[-1].copy(), lab[:, 0].copy(), lab[:, -1].copy()


def _part_polygons(plab: np.ndarray, win: Window, n: int) -> np.ndarray:
    """Polygons of part labels 1…n in cell coordinates of the study grid (x = column,
    y = row, integers, so parts of one region meet exactly across tile borders)."""
    out: list[list] = [[] for _ in range(n + 1)]
    tr = Affine(1.0, 0.0, float(win.c0), 0.0, 1.0, float(win.r0))
    for geom, val in features.shapes(plab, mask=plab > 0, transform=tr, connectivity=4):
        out[int(val)].append(shapely.geometry.shape(geom))
    return np.array([shapely.union_all(p) if len(p) > 1 else p[0] for p in out[1:]],
                    dtype=object)


def tile_regions(ts: TileStack, plan: TilePlan, thr: float, thr_runs: np.ndarray | None,
                 min_cells: int, max_cells: int | None) -> dict:
    """Pass 3 of a tile: per-cell Monte Carlo counts (stability), the output tiles, and
    the candidate-region parts of the tile with their sums, polygons and border labels
    (merged across tiles by :func:`geo.suitability.chunked.merge_regions`).

    Labels ``L`` are the 4-connected top cells of the tile; parts ``P`` are the same cut
    along the ``max_area_mu`` squares (equal to ``L`` without ``max_cells``). Regions
    of the tile that touch no tile border and are smaller than ``min_cells`` are dropped
    here (they can only grow across a border).

    Parameters
    ----------
    ts, plan
        The tile's stack and the run's plan.
    thr
        The exact top-X % score threshold of the whole grid.
    thr_runs
        Per Monte Carlo run thresholds, or None without runs.
    min_cells, max_cells
        Smallest region; largest before a region is cut (None: never cut).

    Returns
    -------
    dict
        ``score``, ``code``, ``stability`` tiles and the part records (sizes, first
        cells, score sums, polygons in cell coordinates, border labels).
    """
    eligible = ts.code == CODE_SCORED
    top = eligible & (ts.score >= thr)
    lab, nl = ndimage.label(top)
    lab = lab.astype(np.int32)
    if max_cells is not None:
        plab, npart = _cut_labels(top, ts.win, max(1, int(np.sqrt(max_cells))))
    else:
        plab, npart = lab, nl
    rec, plab = _part_records(ts, plan, lab, nl, plab, npart, min_cells, max_cells)
    stability = None
    if thr_runs is not None:
        stability = _mc_counts(ts, plan, thr_runs, plab, rec)
    return {"score": ts.score, "code": ts.code, "stability": stability, **rec}


def _mc_counts(ts: TileStack, plan: TilePlan, thr_runs: np.ndarray, plab: np.ndarray,
               rec: dict) -> np.ndarray:
    """The tile's stability (share of runs in the top cells; NaN where not scored) and,
    into ``rec``, each part's score sum per run and stability sum — by blocks of rows,
    so memory stays bounded however many top cells the tile holds."""
    n = len(rec["p_size"])
    assert plan.wruns is not None  # set whenever the Monte Carlo runs
    count = np.zeros(ts.code.shape, dtype=np.uint16)
    runs_sum = np.zeros((n, thr_runs.size), dtype=np.float64)
    for rows, keep, sc in mc_blocks(ts, plan, plan.wruns):
        c = np.zeros(keep.size, dtype=np.uint16)
        c[keep] = (sc >= thr_runs[None, :]).sum(axis=1)
        count[rows] = c.reshape(-1, ts.win.width)
        lab = plab[rows].ravel()[keep]
        inr = np.flatnonzero(lab)
        if inr.size:
            ind = sparse.csr_matrix((np.ones(inr.size), (lab[inr] - 1, inr)),
                                    shape=(n, sc.shape[0]))
            runs_sum += ind @ sc.astype(np.float64)
    stability = np.where(ts.code == CODE_SCORED, count.astype(np.float32) / plan.cfg.runs,
                         np.nan).astype(np.float32)
    sel = plab.ravel() > 0
    rec["p_stab"] = np.bincount(plab.ravel()[sel] - 1, minlength=n,
                                weights=stability.ravel()[sel].astype(np.float64))
    rec["p_runs"] = runs_sum
    return stability


def _first_cells(lab: np.ndarray, n: int, win: Window, width: int) -> np.ndarray:
    """Raster index in the study grid (row × width + column) of each label's first cell."""
    flat = lab.ravel()
    nz = np.flatnonzero(flat)
    ids, first = np.unique(flat[nz], return_index=True)
    r, c = np.divmod(nz[first], win.width)
    out = np.zeros(n + 1, dtype=np.int64)
    out[ids] = (r + win.r0).astype(np.int64) * width + (c + win.c0)
    return out


def _part_records(ts: TileStack, plan: TilePlan, lab, nl, plab, npart, min_cells: int,
                  max_cells: int | None) -> tuple[dict, np.ndarray]:
    """The kept labels and parts of a tile, renumbered 1…, with their sums and edges;
    and the renumbered part labels."""
    width = plan.grid.width
    lsize = np.bincount(lab.ravel(), minlength=nl + 1)
    on_edge = np.zeros(nl + 1, dtype=bool)
    for e in _edges(lab):
        on_edge[e] = True
    small = lsize < min_cells
    big = lsize > max_cells if max_cells is not None else np.zeros(nl + 1, bool)
    keep_l = on_edge | ~small
    keep_l[0] = False
    p_of = np.zeros(npart + 1, dtype=np.int32)
    p_of[plab.ravel()] = lab.ravel()
    psize = np.bincount(plab.ravel(), minlength=npart + 1)
    keep_p = keep_l[p_of] & (on_edge[p_of] | ~big[p_of] | (psize >= min_cells))
    keep_p[0] = False
    lnew = np.zeros(nl + 1, dtype=np.int32)
    lnew[keep_l] = np.arange(1, int(keep_l.sum()) + 1)
    pnew = np.zeros(npart + 1, dtype=np.int32)
    pnew[keep_p] = np.arange(1, int(keep_p.sum()) + 1)
    lab, plab = lnew[lab], pnew[plab]
    n = int(keep_p.sum())
    sel = plab.ravel() > 0
    li = plab.ravel()[sel]
    sc = ts.score.ravel()[sel].astype(np.float64)
    smin = np.full(n + 1, np.inf)
    np.minimum.at(smin, li, sc)
    smax = np.full(n + 1, -np.inf)
    np.maximum.at(smax, li, sc)
    rec = {"l_size": lsize[keep_l], "l_first": _first_cells(lab, int(keep_l.sum()), ts.win,
                                                             width)[1:],
           "p_l": lnew[p_of[keep_p]], "p_size": psize[keep_p],
           "p_first": _first_cells(plab, n, ts.win, width)[1:],
           "p_sum": np.bincount(li, weights=sc, minlength=n + 1)[1:],
           "p_min": smin[1:], "p_max": smax[1:], "p_poly": _part_polygons(plab, ts.win, n),
           "l_edges": _edges(lab), "p_edges": _edges(plab), "p_stab": None, "p_runs": None}
    return rec, plab
