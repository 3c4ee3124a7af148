"""Graph reduction by node elimination: exact Dijkstra searches on a small core."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

MIN_OFFSET = 1e-9
"""Smallest start cost of a multi-source search (:meth:`ReducedGraph.grouped`): csgraph
drops zero-cost arcs from sparse input, so a source exactly on a node starts here."""


def _dedup_arcs(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """Keep the cheapest of parallel arcs u → v."""
    o = np.lexsort((w, v, u))
    u, v, w = u[o], v[o], w[o]
    keep = np.ones(len(u), dtype=bool)
    keep[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    return u[keep], v[keep], w[keep]


@dataclass
class ReducedGraph:
    """A graph reduced to a small *core* for fast exact Dijkstra searches.

    Built once from a CSR cost matrix (:meth:`from_csr`). Nodes are eliminated in
    rounds: each round takes an independent set (no two adjacent) of nodes whose
    elimination does not add more than ``slack`` arcs — dangling trees (degree 1),
    chains (degree 2) and most low-degree junctions of a road network (the bundled YRD
    highways: 13,950 nodes, a core of 1,700). Eliminating node
    ``x`` removes its arcs and adds a shortcut ``a → b`` of cost ``w(a→x) + w(x→b)``
    for every in-neighbour ``a`` and out-neighbour ``b ≠ a`` (the cheaper of it and an
    existing arc ``a → b``), so one-way arcs are handled exactly. What remains is the
    core.

    A search (:meth:`dijkstra`) is then

    1. one ``scipy.sparse.csgraph.dijkstra`` call on ``search``: the core arcs plus the
       *upward* arcs from each eliminated node to its neighbours at elimination time.
       Only the core and the nodes above the sources are settled; sources on eliminated
       nodes reach the core through their upward arcs;
    2. a *downward* pass, vectorised with numpy in ``levels`` (eliminated nodes grouped
       so that a level depends only on earlier levels and the core):
       ``d(x) = min(d(x), min_a d(a) + w(a→x))``.

    This is the upward/downward decomposition of contraction hierarchies (every
    shortest path is an upward part, a core part and a downward part in the graph with
    shortcuts), so distances equal those of a Dijkstra on the full graph; with a
    ``limit``, every node on a path within the limit is itself within it, and nodes
    beyond it are ``inf``.
    """

    n: int
    search: sparse.csr_matrix
    levels: list[tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, int]]]]
    core_nodes: int
    core_arcs: int
    rounds: int

    @classmethod
    def from_csr(cls, graph: sparse.csr_matrix, *, slack: int = 20, max_rounds: int = 16,
                 min_share: float = 0.002, seed: int = 0) -> ReducedGraph:
        """Reduce a directed cost graph (all stored costs > 0).

        Parameters
        ----------
        graph
            (n, n) CSR matrix of arc costs (e.g. metres or minutes; any one unit), row =
            tail node, column = head node.
        slack
            A node is eliminated only if its shortcuts outnumber its arcs by at most
            ``slack`` (the core grows denser, but a search settles fewer nodes).
        max_rounds
            At most this many rounds (each adds a level to the downward pass).
        min_share
            Stop when a round would eliminate fewer than this share of the remaining
            nodes.
        seed
            Seed of the random tie-break between nodes of equal degree.

        Returns
        -------
        ReducedGraph
            Distances from it equal those of a Dijkstra on ``graph``.
        """
        g = graph.tocoo()
        n = graph.shape[0]
        u, v, w = _dedup_arcs(g.row.astype(np.int64), g.col.astype(np.int64),
                              g.data.astype(float))
        loop = u == v
        u, v, w = u[~loop], v[~loop], w[~loop]
        alive = np.ones(n, dtype=bool)
        prio_tie = np.random.default_rng(seed).permutation(n)
        up: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        down: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        rounds = 0
        for _ in range(max_rounds):  # a dozen rounds at most, each vectorised
            sel = _independent_low_degree(u, v, n, alive, prio_tie, slack)
            n_sel = int(sel.sum())
            if n_sel == 0 or n_sel < min_share * int(alive.sum()):
                break
            rounds += 1
            alive &= ~sel
            into, out = sel[v], sel[u]  # no arc joins two selected nodes
            down.append((v[into], u[into], w[into]))
            up.append((u[out], v[out], w[out]))
            su, sv, sw = _shortcuts(u[into], v[into], w[into], u[out], v[out], w[out], n)
            keep = ~(into | out)
            u, v, w = _dedup_arcs(np.concatenate([u[keep], su]), np.concatenate([v[keep], sv]),
                                  np.concatenate([w[keep], sw]))
        su = np.concatenate([u] + [a[0] for a in up])
        sv = np.concatenate([v] + [a[1] for a in up])
        sw = np.concatenate([w] + [a[2] for a in up])
        search = sparse.csr_matrix((sw, (su, sv)), shape=(n, n))
        search.sort_indices()
        return cls(n, search, _down_levels(down, n), int(alive.sum()), len(u), rounds)

    def finish(self, d: np.ndarray, limit: float = np.inf) -> np.ndarray:
        """The downward pass on search results ``d`` (n,) or (k, n), in place if
        ``d`` is C-contiguous; returns the distances.

        Parameters
        ----------
        d
            Distances from a Dijkstra on :attr:`search`, in the graph's cost unit.
        limit
            Distances above it become ``inf`` (same unit).

        Returns
        -------
        numpy.ndarray
            Exact distances on the full graph, same shape as ``d``.
        """
        if d.ndim == 1:
            t = d
            for xs, slots in self.levels:  # a dozen levels, a few slots each
                acc = np.take(t, xs)
                for a, w, m in slots:
                    g = np.take(t, a)
                    g += w
                    np.minimum(acc[:m], g, out=acc[:m])
                t[xs] = acc
            if np.isfinite(limit):
                t[t > limit] = np.inf
            return t
        d = np.ascontiguousarray(d)
        for xs, slots in self.levels:  # the same, for every row at once
            acc = np.take(d, xs, axis=1)
            for a, w, m in slots:
                g = np.take(d, a, axis=1)
                g += w
                np.minimum(acc[:, :m], g, out=acc[:, :m])
            d[:, xs] = acc
        if np.isfinite(limit):
            np.copyto(d, np.inf, where=d > limit)
        return d

    def dijkstra(self, indices: Any, *, limit: float = np.inf,
                 min_only: bool = False) -> np.ndarray:
        """Like ``csgraph.dijkstra(graph, directed=True, indices=…, limit=…,
        min_only=…)`` on the full graph (distances only).

        Parameters
        ----------
        indices
            Source node index or indices.
        limit
            Search radius in the graph's cost unit; nodes beyond it are ``inf``.
        min_only
            One row: the distance from the nearest source.

        Returns
        -------
        numpy.ndarray
            (n,) for one source or ``min_only``, else (k, n) distances in the cost unit.
        """
        d = csgraph.dijkstra(self.search, directed=True, indices=indices, limit=limit,
                             min_only=min_only)
        return self.finish(d, limit)

    def grouped(self, group: np.ndarray, nodes: np.ndarray, offsets: np.ndarray,
                n_groups: int, *, limit: float = np.inf, first: int = 0) -> np.ndarray:
        """(n_groups, n) costs from the nearest source of each group, starting at
        ``offsets`` on ``nodes``: one virtual source per group, all groups in one
        csgraph call.

        Each row is its own search (no arc enters a virtual source), so a run of groups
        searched alone (``first``) gives exactly those rows of the search over all
        groups: Dask tasks split the groups this way.

        Parameters
        ----------
        group
            Group index (0…n_groups−1) of each source.
        nodes
            Node index of each source.
        offsets
            Cost already spent at each source (e.g. the snap leg), in the graph's cost
            unit; clipped to ≥ :data:`MIN_OFFSET` (csgraph drops zero arcs).
        n_groups
            Number of groups k searched.
        limit
            Search radius (cost unit); farther nodes are ``inf``.
        first
            The groups searched are ``first`` … ``first + k − 1``; sources of other
            groups are left out.

        Returns
        -------
        numpy.ndarray
            (k, n) float64 cost from each group's nearest source to every node (row
            ``i``: group ``first + i``).
        """
        n, k = self.n, int(n_groups)
        if k == 0:
            return np.full((0, n), np.inf)
        group = np.asarray(group, dtype=np.int64) - int(first)
        mine = (group >= 0) & (group < k)
        group = group[mine]
        nodes = np.asarray(nodes, dtype=np.int64)[mine]
        offsets = np.maximum(np.asarray(offsets, dtype=float)[mine], MIN_OFFSET)
        # Several sources of a group on one node: keep the smallest (CSR would sum).
        o = np.lexsort((offsets, nodes, group))
        group, nodes, offsets = group[o], nodes[o], offsets[o]
        lead = np.ones(len(group), dtype=bool)
        lead[1:] = (group[1:] != group[:-1]) | (nodes[1:] != nodes[:-1])
        group, nodes, offsets = group[lead], nodes[lead], offsets[lead]
        # The search graph's CSR arrays with k rows appended (no generic sparse stacking).
        p = self.search
        counts = np.bincount(group, minlength=k)
        itype = np.int64 if p.nnz + len(nodes) >= 2 ** 31 - 1 else np.int32
        big = sparse.csr_matrix(
            (np.concatenate([p.data, offsets]),
             np.concatenate([p.indices, nodes]).astype(itype),
             np.concatenate([p.indptr, p.nnz + np.cumsum(counts)]).astype(itype)),
            shape=(n + k, n + k))
        d = csgraph.dijkstra(big, directed=True, indices=np.arange(n, n + k), limit=limit)
        # np.take is slow on a strided view: one contiguous copy first
        return self.finish(np.ascontiguousarray(d[:, :n]), limit)


def _independent_low_degree(u: np.ndarray, v: np.ndarray, n: int, alive: np.ndarray,
                            prio_tie: np.ndarray, slack: int) -> np.ndarray:
    """Nodes to eliminate this round: alive nodes whose shortcuts outnumber their arcs by
    at most ``slack``, no two adjacent (the lower degree, then the random tie, wins)."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    pair = np.unique(lo * n + hi)
    deg = np.bincount(pair // n, minlength=n) + np.bincount(pair % n, minlength=n)
    indeg = np.bincount(v, minlength=n)
    outdeg = np.bincount(u, minlength=n)
    both = np.isin(u * n + v, v * n + u)
    n_back = np.bincount(u[both], minlength=n)  # a → x → a needs no shortcut
    shortcuts = indeg * outdeg - n_back
    cand = alive & (shortcuts <= indeg + outdeg + slack)
    prio = deg.astype(np.int64) * n + prio_tie
    m = cand[u] & cand[v]
    pu, pv = prio[u[m]], prio[v[m]]
    lose = np.zeros(n, dtype=bool)
    lose[u[m][pv < pu]] = True
    lose[v[m][pu < pv]] = True
    return cand & ~lose


def _shortcuts(iu: np.ndarray, iv: np.ndarray, iw: np.ndarray, ou: np.ndarray,
               ov: np.ndarray, ow: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """Every arc a → x (``iu → iv``) joined with every arc x → b (``ou → ov``) of the
    eliminated node x: the shortcuts a → b with the summed cost, loops dropped."""
    o = np.argsort(ou, kind="stable")
    ou, ov, ow = ou[o], ov[o], ow[o]
    cnt_out = np.bincount(ou, minlength=n)
    first_out = np.concatenate([[0], np.cumsum(cnt_out)[:-1]])
    cnt = cnt_out[iv]
    rep = np.repeat(np.arange(len(iu)), cnt)
    start = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    j = first_out[iv][rep] + (np.arange(len(rep)) - start[rep])
    su, sv, sw = iu[rep], ov[j], iw[rep] + ow[j]
    ok = su != sv
    return su[ok], sv[ok], sw[ok]


def _down_levels(down: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n: int
                 ) -> list[tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, int]]]]:
    """The downward pass as levels: level(x) = 1 + max level of the nodes it is reached
    from; within a level, slot k holds the k-th incoming arc of a prefix of its nodes."""
    level = np.zeros(n, dtype=np.int64)
    for x, a, _w in reversed(down):
        np.maximum.at(level, x, level[a] + 1)
    levels: list[tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, int]]]] = []
    dx = np.concatenate([np.zeros(0, dtype=np.int64)] + [d[0] for d in down])
    if not len(dx):
        return levels
    da = np.concatenate([d[1] for d in down])
    dw = np.concatenate([d[2] for d in down])
    lv = level[dx]
    o = np.lexsort((dx, lv))
    dx, da, dw, lv = dx[o], da[o], dw[o], lv[o]
    bounds = np.searchsorted(lv, np.arange(1, int(lv.max()) + 2))
    for s0, s1 in zip(bounds[:-1], bounds[1:], strict=True):
        x, a, w = dx[s0:s1], da[s0:s1], dw[s0:s1]
        st = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
        cnt = np.diff(np.r_[st, len(x)])
        # nodes by decreasing number of incoming arcs: slot k (the k-th arc of each
        # node) then covers a prefix of the level's nodes
        o = np.argsort(-cnt, kind="stable")
        st, cnt = st[o], cnt[o]
        slots = [(a[st[:m] + k], w[st[:m] + k], m) for k in range(int(cnt[0]))
                 if (m := int((cnt > k).sum()))]
        levels.append((x[st], slots))
    return levels
