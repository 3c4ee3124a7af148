"""Multi-criteria decision analysis: criterion weights, WLC and OWA aggregation, perturbed
weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from ..ahp import AHPResult, ahp_weights, check_consistency
from ..errors import ModelError
from .config import Criterion, SuitabilityConfig

# --------------------------------------------------------------------------------------
# Weights and aggregation
# --------------------------------------------------------------------------------------

def criterion_weights(cfg: SuitabilityConfig, active: Sequence[Criterion]
                      ) -> tuple[np.ndarray, AHPResult | None]:
    """Weights (summing to 1) of the active criteria, and the AHP result if any.

    With AHP, criteria left out of this run (industry-only ones without an
    industry) are dropped from the matrix before the eigenvector is taken.

    Parameters
    ----------
    cfg
        The study's ``[suitability]`` settings (direct weights or an AHP matrix).
    active
        The criteria used in this run, in grid-column order.

    Returns
    -------
    tuple of (numpy.ndarray, AHPResult or None)
        float64 weights aligned with ``active`` (dimensionless, sum 1), and the AHP
        result when the weights come from a pairwise matrix.

    Raises
    ------
    ModelError
        CR ≥ 0.10 without ``allow_inconsistent`` (names the worst pair), or direct
        weights of the active criteria that sum to 0.
    """
    names = [c.name for c in active]
    if cfg.ahp_matrix is not None and cfg.ahp_names is not None:
        idx = [cfg.ahp_names.index(n) for n in names]
        sub = cfg.ahp_matrix[np.ix_(idx, idx)]
        res = ahp_weights(sub, names)
        check_consistency(res, allow_inconsistent=cfg.allow_inconsistent)
        return res.weights.astype(np.float64), res
    w = np.array([c.weight for c in active], dtype=np.float64)
    if w.sum() <= 0:
        raise ModelError("suitability.criteria: the weights of the criteria used sum to 0")
    return w / w.sum(), None


def andness_to_alpha(andness: float) -> float:
    """Exponent α of the RIM quantifier Q(r) = r^α whose ANDness (1 − Yager's orness
    ∫Q = 1/(1+α)) is ``andness``: α = andness / (1 − andness).

    Parameters
    ----------
    andness
        ANDness in [0, 1]: 1 = min (all criteria must be good), 0.5 = WLC, 0 = max.

    Returns
    -------
    float
        α ≥ 0; ``inf`` for andness ≥ 1.
    """
    if andness >= 1.0:
        return math.inf
    return andness / (1.0 - andness)


def orness(order_weights: Sequence[float]) -> float:
    """Yager's orness of order weights (best score first): 1 = max, 0 = min.

    Parameters
    ----------
    order_weights
        Non-negative OWA order weights, best-ranked score first (normalised here).

    Returns
    -------
    float
        Orness in [0, 1]; 0.5 for a single weight.
    """
    v = np.asarray(order_weights, dtype=float)
    v = v / v.sum()
    n = len(v)
    return float(np.sum((n - 1 - np.arange(n)) * v) / (n - 1)) if n > 1 else 0.5


def aggregate(x: np.ndarray, weights: np.ndarray, *, method: str = "wlc",
              andness: float | None = None, order_weights: Sequence[float] | None = None
              ) -> np.ndarray:
    """Combine criterion scores into suitability, for one or many weight sets.

    Parameters
    ----------
    x : (m, k) array
        Criterion scores 0–1 of m cells; NaN = unknown (skipped, weights renormalised).
    weights : (k,) or (r, k) array
        Criterion (importance) weights; r weight sets give r scores per cell.
    method : {"wlc", "owa"}
        ``"owa"``: Yager's (1996) quantifier-guided OWA with importance weights.
        Scores are ordered from best to worst; with S_j the cumulative normalised
        weight of the j best, order weight v_j = Q(S_j) − Q(S_{j−1}). Q(r) = r^α
        from ``andness`` (α = andness/(1−andness): 1 → min, 0.5 → WLC, 0 → max) or
        the piecewise-linear quantifier through the cumulative ``order_weights``.
    andness
        OWA ANDness in [0, 1] (see :func:`andness_to_alpha`); default 0.5 (WLC).
    order_weights
        OWA order weights, best-ranked score first (normalised); overrides
        ``andness``.

    Returns
    -------
    numpy.ndarray
        (m,) or (m, r) float32 suitability 0–1; NaN where no criterion is known.
    """
    return scorer(x, method=method, andness=andness, order_weights=order_weights)(weights)


def scorer(x: np.ndarray, *, method: str = "wlc", andness: float | None = None,
           order_weights: Sequence[float] | None = None
           ) -> Callable[[np.ndarray], np.ndarray]:
    """:func:`aggregate` of the cells ``x`` as a function of the weights, ``x`` read
    once: scoring one sample for a few weight sets at a time (the Monte Carlo bracket)
    then costs one matrix product per call.

    Parameters
    ----------
    x : (m, k) array
        Criterion scores 0–1 of m cells; NaN = unknown.
    method, andness, order_weights
        As for :func:`aggregate`.

    Returns
    -------
    callable
        ``weights`` ((k,) or (r, k)) → what :func:`aggregate` returns.
    """
    x = np.asarray(x, dtype=np.float32)
    valid = ~np.isnan(x)
    xf = np.where(valid, x, 0.0).astype(np.float32)
    if not (method == "wlc" or (andness is not None and order_weights is None and
                                abs(andness - 0.5) < 1e-12)):
        return lambda weights: _owa(xf, valid, weights, andness, order_weights)
    vf = None if valid.all() else valid.astype(np.float32)  # None: no unknown value

    def wlc(weights: np.ndarray) -> np.ndarray:
        wt = np.atleast_2d(np.asarray(weights, dtype=np.float32))  # (r, k)
        out = xf @ wt.T  # (m, r) float32; divided in place: two (m, r) arrays at most
        if vf is None:
            out /= wt.sum(axis=1)[None, :]
        else:
            den = vf @ wt.T
            with np.errstate(invalid="ignore", divide="ignore"):
                out /= den
            out[den <= 0] = np.nan
        return out[:, 0] if np.ndim(weights) == 1 else out

    return wlc


def _owa(xf: np.ndarray, valid: np.ndarray, weights: np.ndarray, andness: float | None,
         order_weights: Sequence[float] | None) -> np.ndarray:
    """Yager's OWA of :func:`aggregate` (``xf``: scores with unknowns as 0)."""
    single = np.ndim(weights) == 1
    wt = np.atleast_2d(np.asarray(weights, dtype=np.float32))  # (r, k)
    vf = valid.astype(np.float32)
    order = np.argsort(-np.where(valid, xf, -np.inf), axis=1, kind="stable")  # best first
    xs = np.take_along_axis(xf, order, axis=1)  # (m, k)
    vs = np.take_along_axis(vf, order, axis=1)
    u = wt[:, order] * vs[None, :, :]  # (r, m, k)
    tot = u.sum(axis=2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.cumsum(u, axis=2) / tot
    s = np.clip(np.nan_to_num(s, nan=0.0), 0.0, 1.0)
    if order_weights is not None:
        ow = np.asarray(order_weights, dtype=np.float64)
        ow = ow / ow.sum()
        qx = np.linspace(0.0, 1.0, len(ow) + 1)
        qy = np.concatenate([[0.0], np.cumsum(ow)])
        q = np.interp(s, qx, qy).astype(np.float32)
    else:
        alpha = andness_to_alpha(float(andness if andness is not None else 0.5))
        if math.isinf(alpha):
            q = (s >= 1.0 - 1e-6).astype(np.float32)
        elif alpha == 0.0:
            q = (s > 1e-9).astype(np.float32)
        else:
            q = np.power(s, np.float32(alpha), dtype=np.float32)
    # importance-0 criteria (unknown in the cell) add no step to Q
    q = np.where(u > 0, q, 0.0)
    q = np.maximum.accumulate(q, axis=2)
    v = np.diff(q, axis=2, prepend=np.float32(0.0)).astype(np.float32, copy=False)
    out = np.einsum("rmk,mk->mr", v, xs, dtype=np.float32)
    out[tot[:, :, 0].T <= 0] = np.nan
    return out[:, 0] if single else out


def perturbed_weights(weights: np.ndarray, runs: int, perturbation: float,
                      seed: int) -> np.ndarray:
    """``runs`` weight sets: each weight × U(1 − p, 1 + p), renormalised (seeded).

    Parameters
    ----------
    weights
        (k,) criterion weights.
    runs
        Number of weight sets r.
    perturbation
        p, the relative half-width of the uniform factor (0.2 = ±20 %).
    seed
        Seed of :func:`numpy.random.default_rng` (same seed, same sets).

    Returns
    -------
    numpy.ndarray
        (r, k) float64 weights, each row summing to 1.
    """
    rng = np.random.default_rng(seed)
    f = rng.uniform(1.0 - perturbation, 1.0 + perturbation, size=(runs, len(weights)))
    w = weights[None, :] * f
    return w / w.sum(axis=1, keepdims=True)
