"""Shared facilities (wastewater plant, pilot base, …) sited on free plots by the p-median.

Distances are rectilinear metres between plot centroids in the study's metric CRS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from ..config import LayoutConfig
from ..errors import ModelError
from .assign import _rect

if TYPE_CHECKING:  # pragma: no cover
    from .plots import _Plots, _Site


@dataclass
class PMedian:
    """The p-median problem: open ``p`` of the candidate sites so that the weighted
    distance of every user to its nearest open site is least.

    Sets: candidate sites j ∈ J (rows of the cost matrix), users i ∈ I (columns).

    Parameters (data): d_ji ≥ 0 the cost (e.g. metres) of serving user i from site j;
    w_i ≥ 0 the weight of user i (亩 of land or 1 per firm); p ≥ 1 the number of sites.

    Variables: y_j ∈ {0, 1}, 1 when site j is opened; x_ji ∈ [0, 1], the share of user i
    served from site j.

    Objective::

        minimise  Σ_i Σ_j w_i d_ji x_ji

    Constraints::

        Σ_j x_ji = 1        for every user i   (each user is served)
        x_ji ≤ y_j          for every j, i     (only from an open site)
        Σ_j y_j = p                            (exactly p sites)

    Solved exactly: p = 1 by enumeration (the column sums), p ≥ |J| trivially, else as the
    integer program above with HiGHS through :func:`scipy.optimize.milp`. Build it with
    :meth:`from_cost_matrix` and call :meth:`solve`, which fills ``sites``,
    ``assignment``, ``objective`` and ``optimal`` and returns the fitted model.

    Attributes
    ----------
    cost
        (|J|, |I|) costs d_ji, unweighted.
    weights
        (|I|,) user weights w_i.
    p
        Number of sites to open.
    sites
        Indices of the open candidate rows (sorted), after :meth:`solve`.
    assignment
        For every user, the position in ``sites`` of the site that serves it.
    objective
        Σ_i w_i min_{j open} d_ji.
    optimal
        False when the solver stopped at its time limit with a feasible answer.
    """

    cost: np.ndarray
    weights: np.ndarray
    p: int
    time_limit_s: float = 60.0
    sites: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    assignment: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    objective: float = float("nan")
    optimal: bool = False

    @classmethod
    def from_cost_matrix(cls, cost: np.ndarray, weights: np.ndarray, p: int, *,
                         time_limit_s: float = 60.0) -> PMedian:
        """A p-median problem from a cost matrix.

        Parameters
        ----------
        cost
            (candidates, users) costs, e.g. distances in metres (any unit; the
            objective is in the unit of cost × weight).
        weights
            (users,) non-negative weights.
        p
            Number of sites to open (≥ 1).
        time_limit_s
            Time limit of the integer program (s).

        Returns
        -------
        PMedian
            The unsolved model.

        Raises
        ------
        ModelError
            Fewer candidates than ``p``, ``p`` < 1, or weights that do not match the
            users.
        """
        cost = np.asarray(cost, dtype=float)
        weights = np.asarray(weights, dtype=float)
        m = cost.shape[0]
        if p < 1 or m < p:
            raise ModelError(f"p-median: {m} candidate site(s) for p = {p}; free more plots "
                             "or lower p")
        if weights.shape != (cost.shape[1],):
            raise ModelError(f"p-median: {weights.shape[0]} weight(s) for {cost.shape[1]} "
                             "user(s); give one weight per column of the cost matrix")
        return cls(cost=cost, weights=weights, p=int(p), time_limit_s=time_limit_s)

    def solve(self) -> PMedian:
        """Solve the model exactly (see the class docstring).

        Returns
        -------
        PMedian
            This model, with ``sites``, ``assignment``, ``objective`` and ``optimal``.

        Raises
        ------
        ModelError
            The solver found no solution.
        """
        wc = self.cost * self.weights[None, :]
        m, n = wc.shape
        p = self.p
        self.optimal = True
        if n == 0:
            sites, self.objective = np.arange(p), 0.0
        elif p == 1:
            s = wc.sum(axis=1)
            sites = np.array([int(np.argmin(s))])
            self.objective = float(s[sites[0]])
        else:
            sites, self.optimal = (np.arange(m), True) if p >= m else self._milp(wc)
            self.objective = float(wc[sites].min(axis=0).sum())
        self.sites = sites
        self.assignment = np.argmin(self.cost[sites], axis=0) if n else \
            np.zeros(0, dtype=np.int64)
        return self

    def _milp(self, wc: np.ndarray) -> tuple[np.ndarray, bool]:
        """The integer program of the class docstring (y then x row-major) with HiGHS."""
        m, n = wc.shape
        nv = m + m * n
        c = np.concatenate([np.zeros(m), wc.ravel()])
        xi = np.arange(m * n)
        jj = xi // n
        ii = xi % n
        # Σ_j x_ji = 1 for every user i
        a1 = sparse.csr_matrix((np.ones(m * n), (ii, m + xi)), shape=(n, nv))
        # x_ji − y_j ≤ 0
        a2 = sparse.csr_matrix((np.r_[np.ones(m * n), -np.ones(m * n)],
                                (np.r_[xi, xi], np.r_[m + xi, jj])), shape=(m * n, nv))
        # Σ y = p
        a3 = sparse.csr_matrix((np.ones(m), (np.zeros(m, int), np.arange(m))), shape=(1, nv))
        cons = [LinearConstraint(a1, 1, 1), LinearConstraint(a2, -np.inf, 0),
                LinearConstraint(a3, self.p, self.p)]
        integ = np.r_[np.ones(m), np.zeros(m * n)]
        res = milp(c, constraints=cons, integrality=integ, bounds=Bounds(0, 1),
                   options={"time_limit": self.time_limit_s})
        if res.x is None:
            raise ModelError(f"p-median: the solver found no solution ({res.message})")
        return np.sort(np.argsort(-res.x[:m])[:self.p]), bool(res.status == 0)


def p_median(cost: np.ndarray, p: int) -> tuple[np.ndarray, float, bool]:
    """Exact p-median on an already weighted cost matrix (see :class:`PMedian`).

    Parameters
    ----------
    cost
        (candidates, users) weighted costs.
    p
        Number of sites.

    Returns
    -------
    tuple
        (chosen candidate indices, objective, optimal flag).

    Raises
    ------
    ModelError
        Fewer candidates than p.
    """
    cost = np.asarray(cost, dtype=float)
    pm = PMedian.from_cost_matrix(cost, np.ones(cost.shape[1]), p).solve()
    return pm.sites, pm.objective, pm.optimal


def _site_facilities(cfg: LayoutConfig, P: _Plots, site: _Site, occ: np.ndarray,
                     ux: np.ndarray, uy: np.ndarray, uind: np.ndarray, uland: np.ndarray,
                     notes: list[str]) -> tuple[list[dict[str, Any]], np.ndarray]:
    """p-median siting of each facility on free plots; occupancy updated in place (-3)."""
    rows: list[dict[str, Any]] = []
    plot_fac = np.full(len(P.geom), "", dtype=object)
    for f in cfg.facilities:  # a few facilities
        users = f.get("users", "all")
        sel = np.ones(len(uind), bool) if users == "all" else np.isin(uind, list(users))
        if not sel.any():
            notes.append(f"facility {f['id']}: no user firms in the park; not sited")
            continue
        wgt = uland[sel] if f.get("weight", "count") == "land" else np.ones(int(sel.sum()))
        cand = np.flatnonzero((occ == -1) & P.usable &
                              (P.polluter_ok if f.get("polluting", False) else True))
        p = int(f.get("p", 1))
        if len(cand) < p:
            notes.append(f"facility {f['id']}: fewer than {p} free plot(s) "
                         f"{'outside the polluter setback ' if f.get('polluting') else ''}left;"
                         " not sited")
            continue
        dist = _rect(P.cx[cand], P.cy[cand], ux[sel], uy[sel])
        pm = PMedian.from_cost_matrix(dist, wgt, p).solve()
        chosen, val, optimal, nearest = pm.sites, pm.objective, pm.optimal, pm.assignment
        near_d = dist[chosen].min(axis=0)
        for i, c in enumerate(chosen):
            q = int(cand[c])
            occ[q] = -3
            plot_fac[q] = f["id"]
            mine = nearest == i
            rows.append({
                "facility": f["id"], "name_zh": f.get("name_zh", f["id"]),
                "name_en": f.get("name_en", f["id"]), "plot_id": f"P{q + 1:04d}",
                "n_users": int(mine.sum()), "weight": f.get("weight", "count"),
                "mean_distance_m": round(float(np.average(near_d[mine], weights=wgt[mine]))
                                         if mine.any() else 0.0, 1),
                "max_distance_m": round(float(near_d[mine].max()) if mine.any() else 0.0, 1),
                "objective": round(val, 1), "optimal": optimal,
                "geometry": site.to_w(shapely.Point(P.cx[q], P.cy[q]))})
    return rows, plot_fac
