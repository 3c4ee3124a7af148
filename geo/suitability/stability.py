"""Rank stability: Monte Carlo perturbation of the weights, exact top-X % thresholds per run."""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse

from ..grid import (
    Grid,
)
from .config import SuitabilityConfig
from .criteria import Progress
from .mcda import aggregate, scorer


def _top_threshold(values: np.ndarray, top_pct: float) -> tuple[float, int]:
    """The score of the k-th best of ``values`` with k = ceil(top_pct % of them)."""
    n = values.size
    k = max(1, int(math.ceil(n * top_pct / 100.0)))
    k = min(k, n)
    return float(np.partition(values, n - k)[n - k]), k


def _block_scores(stack, rows, keep, weights, cfg) -> np.ndarray:
    k = stack.shape[0]
    x = stack[:, rows, :].reshape(k, -1).T[keep]
    return aggregate(x, weights, method=cfg.aggregation, andness=cfg.andness,
                     order_weights=cfg.order_weights)


def _kth_largest_per_run(v: np.ndarray, r: np.ndarray, need: np.ndarray,
                         runs: np.ndarray) -> np.ndarray:
    """For each run in ``runs``, the ``need``-th largest of the values ``v`` of that run
    (``r`` gives each value's run: a stable radix sort on the run, then
    :func:`_kth_grouped`)."""
    order = np.argsort(r, kind="stable")
    counts = np.bincount(r, minlength=int(runs.max()) + 1 if len(runs) else 0)
    return _kth_grouped(v[order], counts, need, runs)


def _kth_grouped(v: np.ndarray, counts: np.ndarray, need: np.ndarray, runs: np.ndarray
                 ) -> np.ndarray:
    """For each run ``runs[i]``, the ``need[i]``-th largest of its values (``v`` grouped
    by run in run order, ``counts`` values per run): one partition per run."""
    start = np.cumsum(counts) - counts
    out = np.empty(len(runs), dtype=np.float32)
    for i, (j, n) in enumerate(zip(runs, need, strict=True)):
        seg = v[start[j]:start[j] + counts[j]]
        kth = seg.size - int(n)
        out[i] = np.partition(seg, kth)[kth]
    return out


def _run_ids(ri: np.ndarray, runs: int) -> np.ndarray:
    return ri.astype(np.uint16 if runs <= 65535 else np.int32)


def _top_bin(hist: np.ndarray, k_top: int) -> tuple[np.ndarray, np.ndarray]:
    """For per-run histograms (runs × bins, low to high), the bin holding each run's
    ``k_top``-th best value and the count of values in the bins above it."""
    runs, nb = hist.shape
    cum = np.cumsum(hist[:, ::-1], axis=1)  # from the top bin down
    pos = np.argmax(cum >= k_top, axis=1)  # first (top-down) bin reaching k
    above = np.where(pos > 0, cum[np.arange(runs), pos - 1], 0)
    return nb - 1 - pos, above


def _bracket(sample_x: np.ndarray, n_elig: int, wruns: np.ndarray, cfg, k_top: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per run: a bracket around each run's ``k_top``-th best score of
    ``n_elig`` cells, from the scores of a random sample of them (criteria rows
    ``sample_x``); wide enough that a miss is rare (a miss falls back, exactly). The
    sample is scored for a few runs at a time (≤ 4 MB of scores at once: with a
    1 M-cell sample, one run at a time)."""
    runs = wruns.shape[0]
    ns = sample_x.shape[0]
    p = k_top / n_elig
    delta = 4.0 * math.sqrt(p * (1.0 - p) / ns) + 2.0 / ns
    # the i-th best of ns values is the (ns - 1 - i)-th smallest
    j_hi = ns - 1 - max(0, int(math.floor((p - delta) * ns)) - 1)
    j_lo = ns - 1 - min(ns - 1, int(math.ceil((p + delta) * ns)))
    hi = np.full(runs, np.inf, np.float32)
    lo = np.full(runs, -np.inf, np.float32)
    step = max(1, int(4e6 // (4 * ns)))
    score = scorer(sample_x, method=cfg.aggregation, andness=cfg.andness,
                   order_weights=cfg.order_weights)  # the sample read once
    for r0 in range(0, runs, step):
        ssc = score(wruns[r0:r0 + step])  # (ns, step)
        if p - delta > 0:
            hi[r0:r0 + step] = np.partition(ssc, j_hi, axis=0)[j_hi]
        if p + delta < 1:
            lo[r0:r0 + step] = np.partition(ssc, j_lo, axis=0)[j_lo]
    return lo, hi


def _thresholds_hist(scores_of, blocks, runs_w: np.ndarray, k_top: int, tick) -> np.ndarray:
    """Exact per-run thresholds in two passes: per-run histograms (8192 bins) find the
    bin holding the k-th best score, a second pass collects that bin's values."""
    runs = runs_w.shape[0]
    nb = 8192
    hist = np.zeros(runs * nb, dtype=np.int64)
    offs = (np.arange(runs) * nb)[None, :]

    def bins(sc):
        # scored cells are never NaN (a weight set only rescales known criteria)
        return np.minimum((sc * nb).astype(np.int32), nb - 1)

    for rows in blocks:
        sc = scores_of(rows, runs_w)
        if sc is not None:
            hist += np.bincount((bins(sc) + offs).ravel(), minlength=runs * nb)
        tick()
    tbin, above = _top_bin(hist.reshape(runs, nb), k_top)
    got_v, got_r = [], []
    for rows in blocks:
        sc = scores_of(rows, runs_w)
        if sc is not None:
            ci, ri = np.nonzero(bins(sc) == tbin[None, :])
            got_v.append(sc[ci, ri])
            got_r.append(_run_ids(ri, runs))
        tick()
    v = np.concatenate(got_v) if got_v else np.zeros(0, np.float32)
    r = np.concatenate(got_r) if got_r else np.zeros(0, np.int64)
    return _kth_largest_per_run(v, r, k_top - above, np.arange(runs))


def _thresholds_bracket(scores_of, blocks, sample_x: np.ndarray, n_elig: int, wruns, cfg,
                        k_top: int, tick) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-run thresholds in one pass: a random sample of scored cells brackets
    each run's k-th best score; the pass counts the cells above the bracket and keeps
    the values inside it. Returns thresholds and a mask of runs whose bracket missed
    (their thresholds must be found another way)."""
    runs = wruns.shape[0]
    lo, hi = _bracket(sample_x, n_elig, wruns, cfg, k_top)
    above = np.zeros(runs, dtype=np.int64)
    inside = np.zeros(runs, dtype=np.int64)
    got_v, got_r = [], []
    for rows in blocks:
        sc = scores_of(rows, wruns)
        if sc is not None:
            above += (sc > hi[None, :]).sum(axis=0)
            ci, ri = np.nonzero((sc >= lo[None, :]) & (sc <= hi[None, :]))
            got_v.append(sc[ci, ri])
            inside += np.bincount(ri, minlength=runs)
            got_r.append(_run_ids(ri, runs))
            del ci, ri
        tick()
    need = k_top - above
    ok = (need >= 1) & (need <= inside)
    thr = np.full(runs, np.nan, dtype=np.float32)
    if ok.any():
        v = np.concatenate(got_v) if got_v else np.zeros(0, np.float32)
        r = np.concatenate(got_r) if got_r else np.zeros(0, np.int64)
        if not ok.all():
            keep = ok[r]
            v, r = v[keep], r[keep]
        thr[ok] = _kth_largest_per_run(v, r, need[ok], np.nonzero(ok)[0])
    return thr, ~ok


def _monte_carlo(stack: np.ndarray, eligible: np.ndarray, grid: Grid, cfg: SuitabilityConfig,
                 wruns: np.ndarray, k_top: int, labels: np.ndarray, n_regions: int,
                 progress: Progress) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-cell count of runs in the top k cells, per-run thresholds, per-region mean
    scores per run.

    Each block's scores for all runs come from one matrix product on the criterion
    stack (nothing is recomputed per run). The per-run thresholds (the k-th best
    score of each run) are exact: one pass bracketed by a 100,000-cell sample
    (:func:`_thresholds_bracket`), with the two-pass histogram method as the fallback
    for any run whose bracket missed; then one pass counts.
    """
    runs = wruns.shape[0]
    k = stack.shape[0]
    cell_budget = max(2_000, int(48e6 / (4 * runs * (k if cfg.aggregation == "owa" else 1))))
    blocks = list(grid.row_blocks(cell_budget))
    n_elig = int(eligible.sum())

    def scores_of(rows, w):
        keep = eligible[rows].ravel()
        if not keep.any():
            return None
        return _block_scores(stack, rows, keep, w, cfg)

    state = {"done": 0, "total": 2 * len(blocks)}

    def tick():
        state["done"] += 1
        progress("stability: thresholds", min(state["done"], state["total"]), state["total"])

    flat = np.flatnonzero(eligible)
    rng = np.random.default_rng(cfg.seed + 7919)
    ns = min(100_000, flat.size)
    if ns == flat.size:  # every scored cell fits in the sample: thresholds directly
        x = stack.reshape(k, -1)[:, flat].T
        ssc = aggregate(x, wruns, method=cfg.aggregation, andness=cfg.andness,
                        order_weights=cfg.order_weights)
        thr = (-np.sort(-ssc, axis=0))[k_top - 1].astype(np.float32)
        state["total"] = len(blocks)
    else:
        idx = np.sort(rng.choice(flat, ns, replace=False))
        thr, missed = _thresholds_bracket(scores_of, blocks, stack.reshape(k, -1)[:, idx].T,
                                          n_elig, wruns, cfg, k_top, tick)
        if missed.any():
            state["total"] += 2 * len(blocks)
            thr[missed] = _thresholds_hist(scores_of, blocks, wruns[missed], k_top, tick)
    count = np.zeros(grid.shape, dtype=np.uint16)
    reg_sum = np.zeros((n_regions + 1, runs), dtype=np.float64)
    for rows in blocks:
        keep = eligible[rows].ravel()
        sc = scores_of(rows, wruns)
        if sc is not None:
            c = np.zeros(keep.size, dtype=np.uint16)
            c[keep] = (sc >= thr[None, :]).sum(axis=1)
            count[rows] = c.reshape(-1, grid.width)
            if n_regions:
                lab = labels[rows].ravel()[keep]
                inr = np.nonzero(lab > 0)[0]
                if inr.size:
                    ind = sparse.csr_matrix((np.ones(inr.size), (lab[inr], inr)),
                                            shape=(n_regions + 1, sc.shape[0]))
                    reg_sum += ind @ sc.astype(np.float64)
        state["done"] += 1
        progress("stability: counting", min(state["done"], state["total"]), state["total"])
    return count, thr, reg_sum
