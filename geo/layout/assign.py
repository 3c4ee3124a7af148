"""Assignment of firms to plot footprints: greedy start, then local search.

The objective is the chain-weighted rectilinear distance (metres, study metric CRS)
``Σ_{i<j} A_ij d(i, j) + Σ_i Σ_e V_ie d(i, e)`` over placed incoming firms i, j and
existing firms e; the polluter setback and the bans of restricted zones are hard rules
(the feasibility matrix), never penalties.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..config import LayoutConfig
from ..register import sector_model_for
from ..units import MU_M2

if TYPE_CHECKING:  # pragma: no cover
    from ..study import Study
    from .plots import _Plots, _Site

#: ``banned(industry, bans)``: whether a list of banned sectors/industries covers an
#: industry (the study's sector rule).
SectorRule = Callable[[str, Sequence[str]], bool]


def sector_rule(study: Study) -> SectorRule:
    """The study's rule for "does this ban cover (or may it cover) this industry?".

    Parameters
    ----------
    study
        The study (its ``[redlines.sectors]`` and the chain-map sectors).

    Returns
    -------
    SectorRule
        ``banned(industry, bans) -> bool``.
    """
    model = sector_model_for(study)

    def banned(industry: str, bans: Sequence[str]) -> bool:
        # an industry the model cannot judge is kept out of the zone, like a banned one
        return model.is_banned([industry], list(bans)).status != "allowed"

    return banned


def _rect(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Rectilinear distances between point sets a (rows) and b (columns)."""
    return np.abs(ax[:, None] - bx[None, :]) + np.abs(ay[:, None] - by[None, :])


def objective(px: np.ndarray, py: np.ndarray, A: np.ndarray, ex: np.ndarray, ey: np.ndarray,
              V: np.ndarray, placed: np.ndarray) -> float:
    """Σ_{i<j} A_ij d(i, j) + Σ_i Σ_e V_ie d(i, e) over placed incoming firms i, j.

    ``d`` is the rectilinear distance between positions.

    Parameters
    ----------
    px, py
        (n,) positions of the incoming firms, metres in the study's metric CRS (values
        of unplaced firms are ignored).
    A
        (n, n) symmetric chain-link weights among incoming firms (dimensionless).
    ex, ey
        (n_e,) positions of existing firms, metres in the same CRS.
    V
        (n, n_e) chain-link weights from incoming to existing firms.
    placed
        (n,) bool (or 0/1): which incoming firms have a footprint.

    Returns
    -------
    float
        The objective, weight × metres; 0 when no firm is placed.
    """
    m = placed.astype(bool)
    if not m.any():
        return 0.0
    D = _rect(px[m], py[m], px[m], py[m])
    val = 0.5 * float((A[np.ix_(m, m)] * D).sum())
    if V.shape[1]:
        val += float((V[m] * _rect(px[m], py[m], ex, ey)).sum())
    return val


def _swap_delta(a: int, A: np.ndarray, D: np.ndarray, rowWD: np.ndarray, V: np.ndarray,
                DE: np.ndarray, rowVE: np.ndarray) -> np.ndarray:
    """Change of the objective if firm ``a`` swapped positions with each firm b.

    With d the pairwise distances D and c_i(p) = Σ_e V_ie d(p, e) the pull of fixed
    firms: Δ_b = Σ_k (A_ak − A_bk)(D_bk − D_ak) + 2 A_ab D_ab
    + c_a(p_b) − c_a(p_a) + c_b(p_a) − c_b(p_b); all b in a few matrix–vector products.
    ``rowWD = (A∘D).sum(1)`` and ``rowVE = (V∘DE).sum(1)`` are kept up to date by the caller.
    """
    Aa = A[a]
    delta = D @ Aa - float(Aa @ D[a]) - rowWD + A @ D[a] + 2.0 * Aa * D[a]
    if V.shape[1]:
        delta += DE @ V[a] - rowVE[a] + V @ DE[a] - rowVE
    return delta


def swap_deltas(a: int, px: np.ndarray, py: np.ndarray, A: np.ndarray,
                ex: np.ndarray | None = None, ey: np.ndarray | None = None,
                V: np.ndarray | None = None) -> np.ndarray:
    """Objective change of swapping firm ``a`` with every firm (see :func:`objective`),
    from positions (metric) and weights: the vectorised evaluation the local search uses.

    Parameters
    ----------
    a
        Index of the firm whose swaps are evaluated.
    px, py
        (n,) positions of all incoming firms, metres in the study's metric CRS.
    A
        (n, n) symmetric chain-link weights among incoming firms.
    ex, ey, V
        Positions of existing firms (metres, same CRS) and the (n, n_e) weights to
        them; None for no existing firms.

    Returns
    -------
    numpy.ndarray
        (n,) change of the objective (weight × metres) if ``a`` and firm b exchanged
        positions; 0 at ``a`` itself.
    """
    D = _rect(px, py, px, py)
    if V is None or ex is None or ey is None:
        V = np.zeros((len(px), 0))
        DE = np.zeros((len(px), 0))
    else:
        DE = _rect(px, py, ex, ey)
    return _swap_delta(a, A, D, (A * D).sum(1), V, DE, (V * DE).sum(1))


@dataclass
class _Problem:
    """Arrays of one assignment problem (metric coordinates)."""

    fp_plots: np.ndarray    # (n_fp, kmax) plot indices, -1 padded
    fp_area: np.ndarray     # 亩
    fp_cx: np.ndarray
    fp_cy: np.ndarray
    fp_class: np.ndarray    # size class of each footprint
    firm_class: np.ndarray  # size class of each firm
    need: np.ndarray        # 亩
    feas: np.ndarray        # (n_firms, n_fp) bool: class, area and hard rules
    A: np.ndarray           # (n, n) pair weights among incoming firms
    V: np.ndarray           # (n, n_e) weights to existing firms
    ex: np.ndarray
    ey: np.ndarray
    n_plots: int
    occ0: np.ndarray        # plot occupancy before assignment: -1 free, -2 taken
    centre: tuple[float, float]


def _free_mask(P: _Problem, occ: np.ndarray, firm: int) -> np.ndarray:
    """Footprints whose plots are all free (or already the firm's own)."""
    occ_ext = np.r_[occ, -1]
    o = occ_ext[P.fp_plots]  # -1 pads map to the extra free slot
    return ((o == -1) | (o == firm)).all(axis=1)


def _place(P: _Problem, order: np.ndarray, rng: np.random.Generator | None,
           ) -> tuple[np.ndarray, np.ndarray]:
    """Greedy (rng None) or random (rng given) construction: footprint index per firm
    (-1 unplaced) and plot occupancy."""
    n = len(P.need)
    fp_of = np.full(n, -1, dtype=np.int64)
    occ = P.occ0.copy()
    px = np.zeros(n)
    py = np.zeros(n)
    placed = np.zeros(n, bool)
    dcentre = np.abs(P.fp_cx - P.centre[0]) + np.abs(P.fp_cy - P.centre[1])
    for a in order:  # one vectorised choice per firm
        ok = P.feas[a] & _free_mask(P, occ, a)
        cand = np.flatnonzero(ok)
        if len(cand) == 0:
            continue
        if rng is not None:
            q = int(rng.choice(cand))
        else:
            cost = np.zeros(len(cand))
            if placed.any():
                cost += _rect(P.fp_cx[cand], P.fp_cy[cand], px[placed], py[placed]) @ \
                    P.A[a, placed]
            if P.V.shape[1]:
                cost += _rect(P.fp_cx[cand], P.fp_cy[cand], P.ex, P.ey) @ P.V[a]
            # ties: little wasted land; linked firms towards the centre, unlinked ones to
            # the edge (so they leave the centre to the clusters)
            side = 1.0 if (P.A[a].any() or P.V[a].any()) else -1.0
            cost += 1e-9 * (P.fp_area[cand] - P.need[a]) + side * 1e-12 * dcentre[cand]
            q = int(cand[np.argmin(cost)])
        fp_of[a] = q
        pl = P.fp_plots[q]
        occ[pl[pl >= 0]] = a
        px[a], py[a] = P.fp_cx[q], P.fp_cy[q]
        placed[a] = True
    return fp_of, occ



@dataclass
class _Search:
    """State of the local search: positions (metric), pairwise distances and the weighted
    row sums ``rowWD = (A∘D).sum(1)``, ``rowVE = (V∘DE).sum(1)`` kept up to date."""

    P: _Problem
    fp_of: np.ndarray
    occ: np.ndarray
    placed: np.ndarray
    A: np.ndarray
    V: np.ndarray
    px: np.ndarray
    py: np.ndarray
    D: np.ndarray
    DE: np.ndarray
    rowWD: np.ndarray
    rowVE: np.ndarray

    @classmethod
    def start(cls, P: _Problem, fp_of: np.ndarray, occ: np.ndarray) -> _Search:
        """The state of an assignment (copied: the caller's arrays stay as they are)."""
        placed = fp_of >= 0
        A = P.A * placed[:, None] * placed[None, :]
        V = P.V * placed[:, None]
        px = np.where(placed, P.fp_cx[np.maximum(fp_of, 0)], 0.0)
        py = np.where(placed, P.fp_cy[np.maximum(fp_of, 0)], 0.0)
        D = _rect(px, py, px, py)
        DE = _rect(px, py, P.ex, P.ey) if V.shape[1] > 0 else np.zeros((len(px), 0))
        return cls(P=P, fp_of=fp_of.copy(), occ=occ.copy(), placed=placed, A=A, V=V, px=px,
                   py=py, D=D, DE=DE, rowWD=(A * D).sum(axis=1), rowVE=(V * DE).sum(axis=1))

    def update(self, i: int) -> None:
        """Distances and row sums after firm ``i`` moved."""
        px, py, D = self.px, self.py, self.D
        d_new = np.abs(px - px[i]) + np.abs(py - py[i])
        # row sums of A∘D change where column i changed
        self.rowWD += self.A[:, i] * (d_new - D[:, i])
        D[i, :] = d_new
        D[:, i] = d_new
        self.rowWD[i] = float(self.A[i] @ d_new)
        if self.V.shape[1] > 0:
            self.DE[i] = np.abs(self.P.ex - px[i]) + np.abs(self.P.ey - py[i])
            self.rowVE[i] = float(self.V[i] @ self.DE[i])

    def best_move(self, a: int, same_class: np.ndarray, eps: float
                  ) -> tuple[str, int] | None:
        """The best improving move of firm ``a``: ``("swap", b)`` with a firm of the same
        size class, ``("move", q)`` to a free feasible footprint, or None."""
        P, fp_of = self.P, self.fp_of
        fa = fp_of[a]
        cand_b = self.placed & same_class & P.feas[a, np.maximum(fp_of, 0)] & P.feas[:, fa]
        cand_b[a] = False
        best_d, best = 0.0, None
        if cand_b.any():  # swaps: Δ for all b at once
            delta = np.where(cand_b, _swap_delta(a, self.A, self.D, self.rowWD, self.V,
                                                 self.DE, self.rowVE), np.inf)
            b = int(np.argmin(delta))
            if delta[b] < best_d - eps:
                best_d, best = float(delta[b]), ("swap", b)
        free = P.feas[a] & _free_mask(P, self.occ, a)
        free[fa] = False
        cand_q = np.flatnonzero(free)
        if len(cand_q):  # moves to free feasible footprints
            cq = _rect(P.fp_cx[cand_q], P.fp_cy[cand_q], self.px, self.py) @ self.A[a] - \
                self.rowWD[a]
            if self.V.shape[1] > 0:
                cq += _rect(P.fp_cx[cand_q], P.fp_cy[cand_q], P.ex, P.ey) @ self.V[a] - \
                    self.rowVE[a]
            j = int(np.argmin(cq))
            if cq[j] < best_d - eps:
                best = ("move", int(cand_q[j]))
        return best

    def apply(self, a: int, move: tuple[str, int]) -> None:
        """Carry out a move found by :meth:`best_move`."""
        P, fp_of, occ, px, py = self.P, self.fp_of, self.occ, self.px, self.py
        fa = fp_of[a]
        kind, t = move
        if kind == "swap":
            b, fb = t, fp_of[t]
            for f, firm in ((fa, b), (fb, a)):
                pl = P.fp_plots[f]
                occ[pl[pl >= 0]] = firm
            fp_of[a], fp_of[b] = fb, fa
            px[a], py[a], px[b], py[b] = px[b], py[b], px[a], py[a]
            self.update(a)
            self.update(b)
            return
        pl = P.fp_plots[fa]
        occ[pl[pl >= 0]] = -1
        pl = P.fp_plots[t]
        occ[pl[pl >= 0]] = a
        fp_of[a] = t
        px[a], py[a] = P.fp_cx[t], P.fp_cy[t]
        self.update(a)


def _local_search(P: _Problem, fp_of: np.ndarray, occ: np.ndarray, *, time_limit_s: float,
                  max_passes: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray,
                                                                      dict[str, Any]]:
    """Best-improvement swaps and moves per firm until no move improves."""
    t0 = time.perf_counter()
    S = _Search.start(P, fp_of, occ)
    idx = np.flatnonzero(S.placed)
    linked = (S.A.sum(axis=1) + S.V.sum(axis=1)) > 0
    same_class = P.firm_class[:, None] == P.firm_class[None, :]
    stats: dict[str, Any] = {"passes": 0, "swaps": 0, "moves": 0, "stopped": "converged"}
    scale = float(np.abs(S.A).sum() + np.abs(S.V).sum()) or 1.0
    eps = 1e-12 * scale * (np.abs(S.D).max() + 1.0)
    for _ in range(max_passes):
        stats["passes"] += 1
        improved = False
        for a in rng.permutation(idx):  # one vectorised evaluation per firm
            if not linked[a]:
                continue
            if time.perf_counter() - t0 > time_limit_s:
                stats["stopped"] = "time limit"
                stats["seconds"] = time.perf_counter() - t0
                return S.fp_of, S.occ, stats
            best = S.best_move(a, same_class[a], eps)
            if best is None:
                continue
            improved = True
            S.apply(a, best)
            stats["swaps" if best[0] == "swap" else "moves"] += 1
        if not improved:
            break
    else:
        stats["stopped"] = "max passes"
    stats["seconds"] = time.perf_counter() - t0
    return S.fp_of, S.occ, stats


def _pair_weights(chains: Any, industries: np.ndarray) -> np.ndarray:
    """Symmetric pair weights a_ij = W[i←j]/n_j + W[j←i]/n_i (see the module doc)."""
    W, wids = chains.weight_matrix()
    pos = {j: i for i, j in enumerate(wids)}
    ip = np.array([pos.get(j, -1) for j in industries], dtype=np.int64)
    ok = ip >= 0
    Wf = np.where(ok[:, None] & ok[None, :],
                  W[np.ix_(np.maximum(ip, 0), np.maximum(ip, 0))], 0.0)
    n_of = pd.Series(industries).value_counts().reindex(industries).to_numpy(float)
    Ws = Wf / n_of[None, :]  # buyer row i, supplier column j
    A = Ws + Ws.T
    np.fill_diagonal(A, 0.0)
    return A


def _is_polluting(industries: np.ndarray, cfg: LayoutConfig, banned: SectorRule
                  ) -> np.ndarray:
    """Whether each industry is polluting (its industry or sector in ``cfg.polluting``)."""
    pol = list(cfg.polluting)
    cache: dict[str, bool] = {}
    out = np.zeros(len(industries), bool)
    for i, ind in enumerate(industries):  # distinct lookups, cached
        if ind not in cache:
            cache[ind] = banned(ind, pol)
        out[i] = cache[ind]
    return out



def _feasibility(inc_ind: np.ndarray, polluting: np.ndarray, need: np.ndarray,
                 fclass: np.ndarray, fp: np.ndarray, fp_cls: np.ndarray, fp_area: np.ndarray,
                 P: _Plots, site: _Site, cfg: LayoutConfig, is_banned: SectorRule
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(firms × footprints) allowed by size, area and the hard rules; and a reason for
    firms with no footprint at all."""
    n = len(inc_ind)
    feas = np.zeros((n, len(fp)), bool)
    reason = np.full(n, "", dtype=object)
    banned = {ind: {z for z, _, ban in site.restricted
                    if is_banned(ind, ban)}
              for ind in np.unique(inc_ind)}
    kinds = {(int(c), bool(p), ind) for c, p, ind in zip(fclass, polluting, inc_ind,
                                                          strict=True)}
    for c, p, ind in kinds:  # distinct (size class, polluting, industry)
        ok_pl = np.ones(len(P.geom), bool)
        if p:
            ok_pl &= P.polluter_ok
        if banned[ind]:
            ok_pl &= ~np.isin(P.zone, list(banned[ind]))
        fok = (fp_cls == c) & np.r_[ok_pl, True][fp].all(axis=1) if len(fp) else \
            np.zeros(0, bool)
        rows = np.flatnonzero((fclass == c) & (polluting == p) & (inc_ind == ind))
        feas[rows] = fok[None, :] & (fp_area[None, :] >= need[rows, None] - 1e-9)
        if fok.any():
            continue
        for r in rows:
            if not (fp_cls == c).any():
                reason[r] = (f"needs {need[r]:,.0f} 亩 of contiguous land; no block of this "
                             f"park offers that much free land (a whole block is about "
                             f"{(cfg.road_spacing_m - cfg.road_width_m) ** 2 / MU_M2:,.0f} "
                             "亩: widen road_spacing_m)")
            elif p and not (P.polluter_ok & P.usable).any():
                reason[r] = (f"polluting: no plot is {cfg.polluter_setback_m:g} m from red "
                             "lines and residential/service areas")
            elif banned[ind]:
                reason[r] = (f"banned in {', '.join(sorted(banned[ind]))}; no contiguous "
                             "plots of its size outside")
            else:
                reason[r] = "no contiguous plots of its size meet the hard rules"
    return feas, reason
