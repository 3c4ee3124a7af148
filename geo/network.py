"""Road networks: build a routable graph, snap points to it, and answer distance questions.

A :class:`Network` is built once from

* a line layer (:meth:`Network.from_lines`): the bundled YRD highways or a provincial
  road file a user already has. Lines join where their end points coincide within
  ``snap_tolerance_m`` metres; lines that cross without a shared end point (bridges, or
  data not split at junctions) do not join — split them at junctions first (QGIS:
  *Vector ▸ Geometry tools ▸ Split with lines*). Optional fields: a road class
  (``highway``/``class``/``fclass``/``道路等级``), ``maxspeed`` (km/h) and ``oneway``;
* an OpenStreetMap XML file (:meth:`Network.from_osm_xml`, through
  :func:`osmnx.graph_from_xml`);
* a study file's ``roads`` layer (:meth:`Network.from_study`), with its ``[network]``
  settings.

Costs
-----
Edge length is the geodesic length of the line in metres (``pyproj.Geod`` on the
WGS84 ellipsoid, vectorised over all segments). Travel time is length / speed, the
speed being the line's ``maxspeed`` if it has one, else :data:`DEFAULT_SPEEDS_KMH` by
road class, else ``default_speed_kmh`` (70 km/h: the bundled highways carry no class
and are main roads). Any speed can be overridden in the study file's
``[network.speeds]`` table.

Points (firms, parks, sites) snap to the nearest node (``scipy.spatial.cKDTree`` in
the study's metric CRS, then the exact geodesic distance). The snap distance is
recorded and added to every cost: metres for length, minutes at
``access_speed_kmh`` for time. A point farther than ``max_snap_m`` from every node is
*off network*: it is reported (a warning and a column), and its answers are NaN —
never a silently long or wrong figure. A point whose node lies in another connected
component than its destination gets ``inf`` and the pair is flagged ``unreachable``.

Engine: one ``scipy.sparse`` CSR matrix per cost, built once; every query is
``scipy.sparse.csgraph.dijkstra`` with ``indices`` and ``limit``. Distance queries
(:meth:`Network.node_costs`, :meth:`Network.grouped_costs`) run on a
:class:`ReducedGraph` built once per cost: trees, chains and most low-degree junctions
are eliminated into shortcuts, csgraph searches the small core (plus the arcs up from
the sources), and a vectorised downward pass recovers the exact distance of every
eliminated node. Routes with predecessors (:meth:`Network.od`) use the full graph. No
Python loop runs over edges, points or pairs.
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from pyproj import CRS, Geod, Transformer
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from .crs import WGS84, metric_crs_for
from .errors import InputError, NetworkError

if TYPE_CHECKING:  # pragma: no cover
    from .study import Study

Metric = Literal["length", "time"]

GEOD = Geod(ellps="WGS84")

#: Default speeds (km/h) by road class: OSM ``highway`` values and the Chinese
#: technical grades of highways (公路技术等级, JTG B01). Rough free-flow speeds for
#: trucks; override them in the study file's ``[network.speeds]``.
DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "motorway": 100.0, "motorway_link": 60.0, "trunk": 80.0, "trunk_link": 50.0,
    "primary": 60.0, "primary_link": 40.0, "secondary": 50.0, "secondary_link": 35.0,
    "tertiary": 40.0, "tertiary_link": 30.0, "unclassified": 30.0, "road": 30.0,
    "residential": 25.0, "living_street": 10.0, "service": 20.0, "track": 15.0,
    "expressway": 100.0, "高速公路": 100.0, "高速": 100.0, "一级公路": 80.0, "一级": 80.0,
    "二级公路": 60.0, "二级": 60.0, "三级公路": 40.0, "三级": 40.0, "四级公路": 30.0,
    "四级": 30.0, "国道": 70.0, "省道": 60.0, "县道": 40.0, "乡道": 30.0,
}
#: Speed for lines without a class or maxspeed (km/h).
DEFAULT_SPEED_KMH = 70.0
#: Speed between a point and its snapped node (km/h): the last leg on local roads.
ACCESS_SPEED_KMH = 20.0
#: End points closer than this (metres) are the same node.
SNAP_TOLERANCE_M = 1.0
#: Points farther than this (metres) from every node are off network.
MAX_SNAP_M = 5000.0
#: Service areas: buffer (metres) around reached roads.
TRIM_M = 1000.0

CLASS_FIELDS = ("highway", "class", "fclass", "road_class", "type", "道路等级", "等级", "kind")
MAXSPEED_FIELDS = ("maxspeed", "max_speed", "speed", "speed_kmh", "限速")
ONEWAY_FIELDS = ("oneway", "one_way", "单行")
_TRUE = {"yes", "true", "1", "y", "t", "是", "f"}  # "F" = from→to in some national data
_REVERSE = {"-1", "reverse", "t_f", "tf", "-1.0"}

NETWORK_KEYS = {
    "layer": "key of the roads layer to route on (default: the study's only roads layer)",
    "snap_tolerance_m": "end points closer than this join (metres, default 1)",
    "max_snap_m": "points farther than this from a road node are off network (metres, "
                  "default 5000)",
    "default_speed_kmh": "speed of lines without class or maxspeed (default 70)",
    "access_speed_kmh": "speed of the leg between a point and its node (default 20)",
    "class_field": "field holding the road class",
    "maxspeed_field": "field holding the speed limit in km/h",
    "oneway_field": "field holding the one-way flag (yes/true/1, -1 = reversed)",
    "trim_m": "service areas: buffer around reached roads (metres, default 1000)",
    "speeds": "table of speeds (km/h) by road class, overriding the defaults",
}


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate_section(table: dict, study: Study) -> list[str]:
    """Check a study file's ``[network]`` table; return the problems found."""
    from .study import unknown_keys

    problems: list[str] = []
    for k, v in table.items():
        if k not in NETWORK_KEYS:  # reported in file order with the other problems
            problems.extend(unknown_keys({k: v}, NETWORK_KEYS, "network"))
            continue
        if k in ("snap_tolerance_m",) and not (_num(v) and v >= 0):
            problems.append(f"network.{k}: must be a number ≥ 0 (metres), got {v!r}")
        elif k in ("max_snap_m", "default_speed_kmh", "access_speed_kmh", "trim_m") and \
                not (_num(v) and v > 0):
            problems.append(f"network.{k}: must be a number > 0, got {v!r}")
        elif k in ("class_field", "maxspeed_field", "oneway_field") and \
                not (isinstance(v, str) and v):
            problems.append(f"network.{k}: must be a field name, got {v!r}")
        elif k == "layer":
            spec = study.layers.get(v) if isinstance(v, str) else None
            if spec is None:
                problems.append(f"network.layer: no layer {v!r}; roads layers: "
                                f"{', '.join(s.key for s in study.by_role('roads')) or 'none'}")
            elif spec.role != "roads":
                problems.append(f"network.layer: layer {v!r} has role {spec.role!r}; it must "
                                "have role = \"roads\"")
        elif k == "speeds":
            if not isinstance(v, dict):
                problems.append("network.speeds: must be a table, e.g. [network.speeds] "
                                "motorway = 100")
            else:
                for c, s in v.items():
                    if not (_num(s) and s > 0):
                        problems.append(f"network.speeds.{c}: must be a speed > 0 km/h, "
                                        f"got {s!r}")
    if "layer" not in table and len(study.by_role("roads")) > 1:
        problems.append("network.layer: the study has several roads layers ("
                        f"{', '.join(s.key for s in study.by_role('roads'))}); name one")
    return problems


# --------------------------------------------------------------------------- helpers

def geodesic_lengths_m(geoms: Any) -> np.ndarray:
    """Geodesic lengths (metres, WGS84 ellipsoid) of WGS84 (Multi)LineStrings.

    Vectorised: one ``Geod.inv`` call over every segment of every line.
    """
    geoms = np.asarray(geoms, dtype=object)
    parts, pidx = shapely.get_parts(geoms, return_index=True)
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    out = np.zeros(len(geoms))
    if len(coords) < 2:
        return out
    same = cidx[1:] == cidx[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    _, _, d = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    per_part = np.bincount(cidx[1:][same], weights=d, minlength=len(parts))
    return np.bincount(pidx, weights=per_part, minlength=len(geoms))


def geodesic_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Geodesic distance in metres between WGS84 points (arrays broadcast)."""
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in
                                                   (lon1, lat1, lon2, lat2)))
    _, _, d = GEOD.inv(lon1.ravel(), lat1.ravel(), lon2.ravel(), lat2.ravel())
    return np.asarray(d).reshape(lon1.shape)


def _pick_field(columns: Any, wanted: str | None, candidates: tuple[str, ...], what: str,
                source: str) -> str | None:
    cols = [str(c) for c in columns]
    if wanted is not None:
        if wanted not in cols:
            raise NetworkError(f"{source}: {what} field {wanted!r} not found; fields: "
                               f"{', '.join(cols)}")
        return wanted
    lower = {c.lower(): c for c in cols}
    for c in candidates:
        if c.lower() in lower:
            return lower[c.lower()]
    return None


def _first(v: Any) -> Any:
    return v[0] if isinstance(v, (list, tuple)) and v else v


def parse_maxspeed(values: Any) -> np.ndarray:
    """Speed limits in km/h from text such as ``"60"``, ``"60 mph"``, ``"60;80"``; NaN if
    none."""
    s = pd.Series([_first(v) for v in values], dtype=object).astype("string")
    num = pd.to_numeric(s.str.extract(r"(\d+(?:\.\d+)?)", expand=False), errors="coerce")
    mph = s.str.contains("mph", case=False, na=False)
    out = num.to_numpy(dtype=float, na_value=np.nan)
    out[mph.to_numpy()] *= 1.609344
    out[(out <= 0) | (out > 200)] = np.nan
    return out


def parse_oneway(values: Any) -> np.ndarray:
    """+1 one-way along the line, -1 against it, 0 both ways."""
    s = pd.Series([_first(v) for v in values], dtype=object)
    txt = s.map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v))
                else str(v).strip().lower())
    out = np.zeros(len(s), dtype=np.int8)
    out[txt.isin(_TRUE).to_numpy()] = 1
    out[txt.isin(_REVERSE).to_numpy()] = -1
    return out


@functools.lru_cache(maxsize=64)
def _transformer_wkt(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(src), CRS.from_wkt(dst), always_xy=True)


def transformer(src: Any, dst: Any) -> Transformer:
    """A cached always-xy Transformer (building one costs milliseconds)."""
    return _transformer_wkt(CRS.from_user_input(src).to_wkt(), CRS.from_user_input(dst).to_wkt())


def _xy(tr: Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = tr.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def _as_points_metric(gdf: gpd.GeoDataFrame, crs: CRS, what: str) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """(metric xy, WGS84 lonlat) of points; polygons give their centroid (metric)."""
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise NetworkError(f"{what}: expected a GeoDataFrame of points")
    if gdf.crs is None:
        raise NetworkError(f"{what}: the points have no CRS; set one (e.g. "
                           "gdf.set_crs('EPSG:4326') or coords = \"wgs84\" in the study file)")
    geoms = np.asarray(gdf.geometry.values)
    bad_mask = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad_mask.any():
        bad = np.flatnonzero(bad_mask)
        ids = gdf["id"].iloc[bad[:5]].tolist() if "id" in gdf else bad[:5].tolist()
        raise NetworkError(f"{what}: {len(bad)} feature(s) have no geometry (e.g. {ids}); "
                           "remove them or give them a location")
    src = gdf.crs
    if len(geoms) and (shapely.get_type_id(geoms) == 0).all():
        c = shapely.get_coordinates(geoms)
        if src.equals(WGS84) if hasattr(src, "equals") else src == WGS84:
            lonlat = c
        else:
            lonlat = _xy(transformer(src, WGS84), c)
        return _xy(transformer(WGS84, crs), lonlat), lonlat
    to_m = transformer(src, crs)
    m = shapely.transform(geoms, lambda c: _xy(to_m, c))
    xy = shapely.get_coordinates(shapely.centroid(m))
    return xy, _xy(transformer(crs, WGS84), xy)


def _ids(gdf: pd.DataFrame, id_field: str | None, what: str) -> np.ndarray:
    col = id_field or ("id" if "id" in gdf.columns else None)
    if col is None:
        raise NetworkError(f"{what}: no id field; name one (e.g. --id-field firm_id); fields: "
                           f"{', '.join(map(str, gdf.columns))}")
    if col not in gdf.columns:
        raise NetworkError(f"{what}: id field {col!r} not found; fields: "
                           f"{', '.join(map(str, gdf.columns))}")
    return gdf[col].astype(str).to_numpy()


@dataclass
class _Graph:
    """One cost's CSR graph (min over parallel edges) and the other cost on the same
    edges, for costs along a chosen path."""

    primary: sparse.csr_matrix
    secondary: sparse.csr_matrix
    keys: np.ndarray  # row * n + col of each stored entry, sorted


def _build_graph(n: int, u: np.ndarray, v: np.ndarray, wp: np.ndarray,
                 ws: np.ndarray) -> _Graph:
    order = np.lexsort((wp, v, u))
    u, v, wp, ws = u[order], v[order], wp[order], ws[order]
    keep = np.ones(len(u), dtype=bool)
    keep[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, wp, ws = u[keep], v[keep], wp[keep], ws[keep]
    p = sparse.csr_matrix((wp, (u, v)), shape=(n, n))
    s = sparse.csr_matrix((ws, (u, v)), shape=(n, n))
    p.sort_indices()
    s.sort_indices()
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(p.indptr))
    return _Graph(p, s, rows * n + p.indices.astype(np.int64))


# --------------------------------------------------------------------------- reduction

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
        slack
            A node is eliminated only if its shortcuts outnumber its arcs by at most
            ``slack`` (the core grows denser, but a search settles fewer nodes).
        max_rounds
            At most this many rounds (each adds a level to the downward pass).
        min_share
            Stop when a round would eliminate fewer than this share of the remaining
            nodes.
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
            sel = cand & ~lose
            n_sel = int(sel.sum())
            if n_sel == 0 or n_sel < min_share * int(alive.sum()):
                break
            rounds += 1
            alive &= ~sel
            into, out = sel[v], sel[u]  # no arc joins two selected nodes
            down.append((v[into], u[into], w[into]))
            up.append((u[out], v[out], w[out]))
            iu, iv, iw = u[into], v[into], w[into]
            o = np.argsort(u[out], kind="stable")
            ou, ov, ow = u[out][o], v[out][o], w[out][o]
            cnt_out = np.bincount(ou, minlength=n)
            first_out = np.concatenate([[0], np.cumsum(cnt_out)[:-1]])
            cnt = cnt_out[iv]
            rep = np.repeat(np.arange(len(iu)), cnt)
            start = np.concatenate([[0], np.cumsum(cnt)[:-1]])
            j = first_out[iv][rep] + (np.arange(len(rep)) - start[rep])
            su, sv, sw = iu[rep], ov[j], iw[rep] + ow[j]
            ok = su != sv
            keep = ~(into | out)
            u, v, w = _dedup_arcs(np.concatenate([u[keep], su[ok]]),
                                  np.concatenate([v[keep], sv[ok]]),
                                  np.concatenate([w[keep], sw[ok]]))
        core_arcs = len(u)
        su = np.concatenate([u] + [a[0] for a in up])
        sv = np.concatenate([v] + [a[1] for a in up])
        sw = np.concatenate([w] + [a[2] for a in up])
        search = sparse.csr_matrix((sw, (su, sv)), shape=(n, n))
        search.sort_indices()
        # Downward levels: level(x) = 1 + max level of the nodes it is reached from.
        level = np.zeros(n, dtype=np.int64)
        for x, a, _w in reversed(down):
            np.maximum.at(level, x, level[a] + 1)
        levels: list[tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, int]]]] = []
        dx = np.concatenate([np.zeros(0, dtype=np.int64)] + [d[0] for d in down])
        if len(dx):
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
                # Nodes by decreasing number of incoming arcs: slot k (the k-th arc of
                # each node) then covers a prefix of the level's nodes.
                o = np.argsort(-cnt, kind="stable")
                st, cnt = st[o], cnt[o]
                slots = [(a[st[:m] + k], w[st[:m] + k], m) for k in range(int(cnt[0]))
                         if (m := int((cnt > k).sum()))]
                levels.append((x[st], slots))
        return cls(n, search, levels, int(alive.sum()), core_arcs, rounds)

    def finish(self, d: np.ndarray, limit: float = np.inf) -> np.ndarray:
        """The downward pass on search results ``d`` (n,) or (k, n), in place if
        ``d`` is C-contiguous; returns the distances."""
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
        min_only=…)`` on the full graph (distances only)."""
        d = csgraph.dijkstra(self.search, directed=True, indices=indices, limit=limit,
                             min_only=min_only)
        return self.finish(d, limit)

    def grouped(self, group: np.ndarray, nodes: np.ndarray, offsets: np.ndarray,
                n_groups: int, *, limit: float = np.inf) -> np.ndarray:
        """(n_groups, n) costs from the nearest source of each group, starting at
        ``offsets`` (> 0) on ``nodes``: one virtual source per group, all groups in
        one csgraph call."""
        n, k = self.n, int(n_groups)
        if k == 0:
            return np.full((0, n), np.inf)
        group = np.asarray(group, dtype=np.int64)
        nodes = np.asarray(nodes, dtype=np.int64)
        offsets = np.asarray(offsets, dtype=float)
        # Several sources of a group on one node: keep the smallest (CSR would sum).
        o = np.lexsort((offsets, nodes, group))
        group, nodes, offsets = group[o], nodes[o], offsets[o]
        first = np.ones(len(group), dtype=bool)
        first[1:] = (group[1:] != group[:-1]) | (nodes[1:] != nodes[:-1])
        group, nodes, offsets = group[first], nodes[first], offsets[first]
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


@dataclass
class SnapResult:
    """Where points meet the network (see :meth:`Network.snap`)."""

    node: np.ndarray          # node index (int64)
    snap_m: np.ndarray        # geodesic metres to the node
    component: np.ndarray     # component label of the node
    on_network: np.ndarray    # snap_m <= max_snap_m
    in_main: np.ndarray       # node in the largest component
    max_snap_m: float

    def frame(self, index: Any = None) -> pd.DataFrame:
        return pd.DataFrame({"node": self.node, "snap_m": self.snap_m,
                             "component": self.component, "on_network": self.on_network,
                             "in_main_component": self.in_main}, index=index)


@dataclass
class Network:
    """A routable road network (nodes, directed edges, CSR graphs). Build with the
    ``from_*`` constructors.

    Attributes
    ----------
    node_lonlat : ndarray (n, 2)
        WGS84 node coordinates.
    edge_u, edge_v : ndarray
        Edge end nodes (an edge runs u → v; two-way unless ``edge_oneway``).
    edge_length_m, edge_time_min : ndarray
    edge_geometry : ndarray of shapely LineStrings (WGS84)
    edge_oneway : ndarray of bool
    crs : pyproj.CRS
        The metric CRS used for snapping and service areas.
    source : str
        What the network was built from (for messages).
    """

    node_lonlat: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_time_min: np.ndarray
    edge_geometry: np.ndarray
    edge_oneway: np.ndarray
    crs: CRS
    source: str = "network"
    max_snap_m: float = MAX_SNAP_M
    access_speed_kmh: float = ACCESS_SPEED_KMH
    trim_m: float = TRIM_M
    info: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ building
    def __post_init__(self) -> None:
        n = len(self.node_lonlat)
        if len(self.edge_u) == 0 or n == 0:
            raise NetworkError(f"{self.source}: the network has no edges; give a line layer "
                               "with at least one road (lines with two distinct end points)")
        two = ~self.edge_oneway
        u = np.concatenate([self.edge_u, self.edge_v[two]]).astype(np.int64)
        v = np.concatenate([self.edge_v, self.edge_u[two]]).astype(np.int64)
        length = np.concatenate([self.edge_length_m, self.edge_length_m[two]])
        time = np.concatenate([self.edge_time_min, self.edge_time_min[two]])
        # csgraph drops zero weights from sparse input: keep every edge strictly positive.
        length = np.maximum(length, 1e-3)
        time = np.maximum(time, 1e-6)
        self.directed = bool(self.edge_oneway.any())
        self._graphs = {"length": _build_graph(n, u, v, length, time),
                        "time": _build_graph(n, u, v, time, length)}
        self.n_components, labels = csgraph.connected_components(
            self._graphs["length"].primary, directed=True, connection="weak")
        self.component = labels
        sizes = np.bincount(labels)
        self.component_sizes = np.sort(sizes)[::-1]
        self.main_component = int(np.argmax(sizes))
        self.node_xy = _xy(transformer(WGS84, self.crs), self.node_lonlat)
        self._tree = cKDTree(self.node_xy)

    @property
    def n_nodes(self) -> int:
        return len(self.node_lonlat)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    def summary(self) -> dict[str, Any]:
        """Size and connectivity figures (for reports and the CLI)."""
        sizes = self.component_sizes
        return {"source": self.source, "nodes": self.n_nodes, "edges": self.n_edges,
                "directed": self.directed,
                "road_km": float(self.edge_length_m.sum() / 1000.0),
                "components": int(self.n_components),
                "largest_component_nodes": int(sizes[0]),
                "largest_component_share": float(sizes[0] / sizes.sum()),
                "component_sizes_top5": [int(s) for s in sizes[:5]], **self.info}

    @classmethod
    def _from_edges(cls, node_lonlat: np.ndarray, u: np.ndarray, v: np.ndarray,
                    geoms: np.ndarray, classes: np.ndarray | None,
                    maxspeed: np.ndarray | None, oneway: np.ndarray, *, crs: CRS | None,
                    source: str, speeds: dict[str, float] | None,
                    default_speed_kmh: float, max_snap_m: float,
                    access_speed_kmh: float, trim_m: float,
                    info: dict[str, Any]) -> Network:
        # nodes without edges cannot be routed: drop them
        used = np.zeros(len(node_lonlat), dtype=bool)
        used[u] = True
        used[v] = True
        if not used.all():
            info["dropped_isolated_nodes"] = int((~used).sum())
            newid = np.cumsum(used) - 1
            node_lonlat = node_lonlat[used]
            u, v = newid[u], newid[v]
        # one-way against the drawing direction: swap ends
        rev = oneway < 0
        u, v = np.where(rev, v, u), np.where(rev, u, v)
        geoms = np.where(rev, shapely.reverse(geoms), geoms) if rev.any() else geoms
        loop = u == v
        if loop.any():
            info["dropped_loops"] = int(loop.sum())
            u, v, geoms, oneway = u[~loop], v[~loop], geoms[~loop], oneway[~loop]
            classes = classes[~loop] if classes is not None else None
            maxspeed = maxspeed[~loop] if maxspeed is not None else None
        length = geodesic_lengths_m(geoms)
        table = dict(DEFAULT_SPEEDS_KMH)
        if speeds:
            table.update({str(k): float(s) for k, s in speeds.items()})
        speed = np.full(len(u), float(default_speed_kmh))
        if classes is not None:
            cls_s = pd.Series([_first(c) for c in classes], dtype=object).astype("string")
            mapped = cls_s.str.strip().map(table).astype(float).to_numpy()
            speed = np.where(np.isnan(mapped), speed, mapped)
        if maxspeed is not None:
            speed = np.where(np.isnan(maxspeed), speed, maxspeed)
        time_min = length / (speed * 1000.0 / 60.0)
        if crs is None:
            b = (node_lonlat[:, 0].min(), node_lonlat[:, 1].min(), node_lonlat[:, 0].max(),
                 node_lonlat[:, 1].max())
            crs = metric_crs_for(b, warn=False)
        return cls(node_lonlat=node_lonlat, edge_u=u.astype(np.int64), edge_v=v.astype(np.int64),
                   edge_length_m=length, edge_time_min=time_min, edge_geometry=geoms,
                   edge_oneway=oneway != 0, crs=CRS.from_user_input(crs), source=source,
                   max_snap_m=max_snap_m, access_speed_kmh=access_speed_kmh, trim_m=trim_m,
                   info=info)

    @classmethod
    def from_lines(cls, gdf: gpd.GeoDataFrame, *, snap_tolerance_m: float = SNAP_TOLERANCE_M,
                   crs: Any = None, class_field: str | None = None,
                   maxspeed_field: str | None = None, oneway_field: str | None = None,
                   speeds: dict[str, float] | None = None,
                   default_speed_kmh: float = DEFAULT_SPEED_KMH,
                   max_snap_m: float = MAX_SNAP_M, access_speed_kmh: float = ACCESS_SPEED_KMH,
                   trim_m: float = TRIM_M, source: str | None = None) -> Network:
        """Build a network from a line layer.

        Parameters
        ----------
        gdf
            (Multi)LineStrings in any CRS (it must have one). Multi-lines are split into
            their parts. Each line is one edge between its first and last point.
        snap_tolerance_m
            End points within this distance (metres, in ``crs``) become one node.
        crs
            Metric CRS for snapping (default: the GK zone of the data).
        class_field, maxspeed_field, oneway_field
            Fields for road class, speed limit (km/h) and one-way flag; found by their
            usual names (``highway``, ``class``, ``maxspeed``, ``oneway``, …) if omitted.
        speeds
            Speeds (km/h) by class overriding :data:`DEFAULT_SPEEDS_KMH`.

        Raises
        ------
        NetworkError
            No CRS, no lines, no edges left after dropping loops, a named field missing.
        """
        src = source or str(gdf.attrs.get("source_path", "road lines"))
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise NetworkError(f"{src}: expected a GeoDataFrame of lines")
        if gdf.crs is None:
            raise NetworkError(f"{src}: the road lines have no CRS; set one (coords = "
                               "\"wgs84\" or crs = \"EPSG:…\")")
        if not (snap_tolerance_m >= 0):
            raise NetworkError(f"{src}: snap tolerance must be ≥ 0 m, got {snap_tolerance_m}")
        g = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
        types = set(g.geom_type.unique())
        if types - {"LineString", "MultiLineString"}:
            raise NetworkError(f"{src}: a road network needs lines; found "
                               f"{', '.join(sorted(types))}")
        g = g.explode(index_parts=False, ignore_index=True)
        if len(g) == 0:
            raise NetworkError(f"{src}: the network has no edges (no lines); give a line "
                               "layer with at least one road")
        g = g.to_crs(WGS84)
        if crs is None:
            b = g.total_bounds
            crs = metric_crs_for(tuple(b), warn=False)
        crs = CRS.from_user_input(crs)
        geoms = np.asarray(g.geometry.values, dtype=object)
        ends = np.vstack([shapely.get_coordinates(shapely.get_point(geoms, 0)),
                          shapely.get_coordinates(shapely.get_point(geoms, -1))])
        x, y = transformer(WGS84, crs).transform(ends[:, 0],
                                                                          ends[:, 1])
        exy = np.column_stack([x, y])
        # Join end points within the tolerance: clusters of the "within tolerance" graph.
        key_xy = np.round(exy, 6)
        _, first, inv = np.unique(key_xy, axis=0, return_index=True, return_inverse=True)
        inv = inv.ravel()
        uxy = exy[first]
        if snap_tolerance_m > 0 and len(uxy) > 1:
            pairs = cKDTree(uxy).query_pairs(snap_tolerance_m, output_type="ndarray")
            m = len(uxy)
            adj = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                                    shape=(m, m)) if len(pairs) else sparse.coo_matrix((m, m))
            _, lab = csgraph.connected_components(adj, directed=False)
        else:
            lab = np.arange(len(uxy))
        node_of_end = lab[inv]
        n_nodes = int(lab.max()) + 1
        cnt = np.bincount(node_of_end, minlength=n_nodes)
        lon = np.bincount(node_of_end, weights=ends[:, 0], minlength=n_nodes) / cnt
        lat = np.bincount(node_of_end, weights=ends[:, 1], minlength=n_nodes) / cnt
        ne = len(geoms)
        u, v = node_of_end[:ne], node_of_end[ne:]
        cf = _pick_field(g.columns, class_field, CLASS_FIELDS, "road class", src)
        mf = _pick_field(g.columns, maxspeed_field, MAXSPEED_FIELDS, "maxspeed", src)
        of = _pick_field(g.columns, oneway_field, ONEWAY_FIELDS, "oneway", src)
        classes = g[cf].to_numpy(dtype=object) if cf else None
        maxspeed = parse_maxspeed(g[mf].to_numpy(dtype=object)) if mf else None
        oneway = parse_oneway(g[of].to_numpy(dtype=object)) if of else np.zeros(ne, np.int8)
        info = {"snap_tolerance_m": float(snap_tolerance_m), "input_lines": int(ne),
                "end_points_joined": int(2 * ne - n_nodes), "class_field": cf,
                "maxspeed_field": mf, "oneway_field": of}
        net = cls._from_edges(np.column_stack([lon, lat]), u, v, geoms, classes, maxspeed,
                              oneway, crs=crs, source=src, speeds=speeds,
                              default_speed_kmh=default_speed_kmh, max_snap_m=max_snap_m,
                              access_speed_kmh=access_speed_kmh, trim_m=trim_m, info=info)
        return net

    @classmethod
    def from_osm_xml(cls, path: str | os.PathLike, *, crs: Any = None,
                     retain_all: bool = False,
                     speeds: dict[str, float] | None = None,
                     default_speed_kmh: float = DEFAULT_SPEED_KMH,
                     max_snap_m: float = MAX_SNAP_M,
                     access_speed_kmh: float = ACCESS_SPEED_KMH,
                     trim_m: float = TRIM_M) -> Network:
        """Build a network from an OpenStreetMap XML file (``.osm``) with osmnx.

        osmnx gives one directed edge per travel direction; ``highway``, ``maxspeed``
        and ``oneway`` come from the OSM tags. As in osmnx, only the largest weakly
        connected part is kept unless ``retain_all`` (an extract's clip edge leaves
        fragments); nodes without edges are dropped.

        Raises
        ------
        MissingFileError, NetworkError
        """
        import osmnx as ox

        from .layers import check_exists

        p = check_exists(path, what="OSM XML file")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                G = ox.graph_from_xml(p, bidirectional=False, simplify=True,
                                      retain_all=retain_all)
        except Exception as exc:  # osmnx raises many kinds on bad XML
            raise NetworkError(f"{p}: not a usable OSM XML file ({type(exc).__name__}: {exc}); "
                               "export it from openstreetmap.org or overpass as .osm") from exc
        if G.number_of_edges() == 0:
            raise NetworkError(f"{p}: the OSM file has no drivable roads (the network has no "
                               "edges)")
        nodes, edges = ox.graph_to_gdfs(G)
        edges = edges.reset_index()
        pos = pd.Series(np.arange(len(nodes)), index=nodes.index)
        u = pos.loc[edges["u"].to_numpy()].to_numpy()
        v = pos.loc[edges["v"].to_numpy()].to_numpy()
        lonlat = np.column_stack([nodes["x"].to_numpy(float), nodes["y"].to_numpy(float)])
        classes = edges["highway"].to_numpy(dtype=object) if "highway" in edges else None
        maxspeed = parse_maxspeed(edges["maxspeed"].to_numpy(dtype=object)) \
            if "maxspeed" in edges else None
        info = {"osm_nodes": int(G.number_of_nodes()), "osm_edges": int(G.number_of_edges())}
        # osmnx already gives both directions of two-way ways: every edge is one-way here.
        return cls._from_edges(lonlat, u, v, np.asarray(edges.geometry.values, dtype=object),
                               classes, maxspeed, np.ones(len(u), dtype=np.int8), crs=crs,
                               source=str(p), speeds=speeds, default_speed_kmh=default_speed_kmh,
                               max_snap_m=max_snap_m, access_speed_kmh=access_speed_kmh,
                               trim_m=trim_m, info=info)

    @classmethod
    def from_file(cls, path: str | os.PathLike, *, layer: str | None = None,
                  **kwargs: Any) -> Network:
        """A line file (GeoPackage, Shapefile, GeoJSON, …) or an ``.osm`` file."""
        p = Path(path)
        if p.suffix.lower() in (".osm", ".xml"):
            kw = {k: v for k, v in kwargs.items() if k in ("crs", "speeds", "default_speed_kmh",
                                                          "max_snap_m", "access_speed_kmh",
                                                          "trim_m")}
            return cls.from_osm_xml(p, **kw)
        from .layers import read_layer

        g = read_layer(p, role="roads", layer=layer)
        return cls.from_lines(g, source=str(p) + (f" (layer {layer})" if layer else ""),
                              **kwargs)

    @classmethod
    def from_study(cls, study: Study) -> Network:
        """The network of a study: its roads layer with the ``[network]`` settings."""
        sec = study.section("network")
        key = sec.get("layer")
        if key is None:
            roads = study.by_role("roads")
            if not roads:
                raise NetworkError(f"{study.path}: the study has no roads layer; add a "
                                   "[layers.roads] table with role = \"roads\"")
            key = roads[0].key
        cache = study.__dict__.setdefault("_network_cache", {})
        if key in cache:
            return cache[key]
        g = study.load(key)
        net = cls.from_lines(
            g, snap_tolerance_m=float(sec.get("snap_tolerance_m", SNAP_TOLERANCE_M)),
            crs=study.metric_crs, class_field=sec.get("class_field"),
            maxspeed_field=sec.get("maxspeed_field"), oneway_field=sec.get("oneway_field"),
            speeds=sec.get("speeds"),
            default_speed_kmh=float(sec.get("default_speed_kmh", DEFAULT_SPEED_KMH)),
            max_snap_m=float(sec.get("max_snap_m", MAX_SNAP_M)),
            access_speed_kmh=float(sec.get("access_speed_kmh", ACCESS_SPEED_KMH)),
            trim_m=float(sec.get("trim_m", TRIM_M)),
            source=f"{study.path} layers.{key}")
        cache[key] = net
        return net

    # ------------------------------------------------------------------ snapping
    def snap_xy(self, lonlat: np.ndarray, *, max_snap_m: float | None = None) -> SnapResult:
        """Snap WGS84 coordinates (n, 2) to the nearest node; see :meth:`snap`."""
        ms = self.max_snap_m if max_snap_m is None else float(max_snap_m)
        lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
        x, y = transformer(WGS84, self.crs).transform(lonlat[:, 0],
                                                                               lonlat[:, 1])
        _, node = self._tree.query(np.column_stack([x, y]))
        node = np.asarray(node, dtype=np.int64)
        d = geodesic_m(lonlat[:, 0], lonlat[:, 1], self.node_lonlat[node, 0],
                       self.node_lonlat[node, 1]) if len(node) else np.zeros(0)
        comp = self.component[node]
        return SnapResult(node=node, snap_m=d, component=comp, on_network=d <= ms,
                          in_main=comp == self.main_component, max_snap_m=ms)

    def snap(self, points: gpd.GeoDataFrame, *, max_snap_m: float | None = None,
             what: str = "points", warn: bool = True) -> pd.DataFrame:
        """Snap points (polygons: their centroid) to the nearest network node.

        Parameters
        ----------
        points
            Any CRS (it must have one).
        max_snap_m
            Points farther than this (metres) are off network: ``on_network`` False and a
            warning naming them (default: the network's ``max_snap_m``).

        Returns
        -------
        pandas.DataFrame
            Aligned with ``points``: ``node``, ``snap_m`` (geodesic metres),
            ``component``, ``on_network``, ``in_main_component``.
        """
        _, lonlat = _as_points_metric(points, self.crs, what)
        res = self.snap_xy(lonlat, max_snap_m=max_snap_m)
        if warn:
            self._warn_snap(res, points, what)
        return res.frame(index=points.index)

    def _warn_snap(self, res: SnapResult, points: pd.DataFrame, what: str) -> None:
        ids = points["id"].astype(str).to_numpy() if "id" in points else \
            np.asarray(points.index.astype(str))
        off = ~res.on_network
        if off.any():
            ex = ", ".join(f"{i} ({d / 1000:.1f} km)" for i, d in
                           zip(ids[off][:5], res.snap_m[off][:5], strict=True))
            warnings.warn(f"{what}: {int(off.sum())} point(s) are farther than "
                          f"{res.max_snap_m:g} m from any road of {self.source} and were not "
                          f"snapped (e.g. {ex}); their costs are NaN. Check their coordinates "
                          "or raise max_snap_m.", UserWarning, stacklevel=3)
        small = res.on_network & ~res.in_main
        if small.any():
            warnings.warn(f"{what}: {int(small.sum())} point(s) snap to a small disconnected "
                          f"part of the network (e.g. {', '.join(ids[small][:5])}); pairs that "
                          "cannot be reached are flagged 'unreachable'.", UserWarning,
                          stacklevel=3)

    # ------------------------------------------------------------------ routing
    def _graph(self, metric: str) -> _Graph:
        if metric not in self._graphs:
            raise InputError(f"metric must be 'length' or 'time', got {metric!r}")
        return self._graphs[metric]

    def snap_cost(self, snap_m: np.ndarray, metric: str) -> np.ndarray:
        """Cost of the leg between a point and its node: metres or minutes."""
        return snap_m if metric == "length" else snap_m / (self.access_speed_kmh * 1000 / 60)

    def node_costs(self, sources: np.ndarray, *, metric: Metric = "length",
                   limit: float = np.inf, offsets: np.ndarray | None = None,
                   min_only: bool = False) -> np.ndarray:
        """Dijkstra from node(s): (len(sources), n_nodes) costs, or (n_nodes,) if
        ``min_only`` (multi-source: the cost from the nearest source).

        ``offsets`` (same length as ``sources``) are start costs at the sources (e.g.
        suppliers' own snap distances); they need ``min_only``. ``inf`` beyond
        ``limit`` and where there is no route.

        Runs on the network's :class:`ReducedGraph` (built on first use): the same
        distances as ``csgraph.dijkstra`` on the full graph, a few times faster.
        """
        red = self.reduced(metric)
        sources = np.asarray(sources, dtype=np.int64)
        if offsets is None or not np.any(offsets):
            return red.dijkstra(sources, limit=limit, min_only=min_only)
        if not min_only:
            raise ValueError("offsets need min_only=True")
        # A virtual source joined to every source node by its offset.
        return red.grouped(np.zeros(len(sources), dtype=np.int64), sources,
                           np.maximum(np.asarray(offsets, float), 1e-9), 1, limit=limit)[0]

    def grouped_costs(self, group: np.ndarray, nodes: np.ndarray, offsets: np.ndarray,
                      n_groups: int, *, metric: Metric = "length",
                      limit: float = np.inf) -> np.ndarray:
        """Multi-source costs for several groups of sources at once: row ``k`` is the
        cost from the nearest source of group ``k`` (sources ``nodes[group == k]``
        starting at ``offsets``, clipped to ≥ 1e-9), ``inf`` beyond ``limit``.

        One csgraph call for all groups (a virtual source per group) on the reduced
        graph (:meth:`reduced`).
        """
        return self.reduced(metric).grouped(group, nodes,
                                            np.maximum(np.asarray(offsets, float), 1e-9),
                                            n_groups, limit=limit)

    def reduced(self, metric: Metric = "length") -> ReducedGraph:
        """The :class:`ReducedGraph` of a cost (built on first use, then cached)."""
        g = self._graph(metric)
        cache = self.__dict__.setdefault("_reduced", {})
        if metric not in cache:
            cache[metric] = ReducedGraph.from_csr(g.primary)
        return cache[metric]

    def _secondary_along(self, pred: np.ndarray, metric: str) -> np.ndarray:
        """The other cost along the shortest-path trees ``pred`` (rows), by pointer
        jumping: log2(depth) vectorised steps, no loop over nodes."""
        g = self._graph(metric)
        k, n = pred.shape
        valid = pred >= 0
        rows = np.broadcast_to(np.arange(n, dtype=np.int64), (k, n))
        key = np.where(valid, pred.astype(np.int64) * n + rows, 0)
        pos = np.searchsorted(g.keys, key)
        pos = np.minimum(pos, len(g.keys) - 1)
        val = np.where(valid, g.secondary.data[pos], 0.0)
        ptr = np.where(valid, pred, -1).astype(np.int64)
        base = (np.arange(k, dtype=np.int64) * n)[:, None]
        flat_val = val.ravel()
        while True:
            m = ptr >= 0
            if not m.any():
                break
            idx = np.where(m, base + np.maximum(ptr, 0), 0)
            add = np.where(m, flat_val[idx.ravel()].reshape(k, n), 0.0)
            nptr = np.where(m, ptr.ravel()[idx.ravel()].reshape(k, n), -1)
            val = val + add
            ptr = nptr
            flat_val = val.ravel()
        return val

    def od(self, origins: gpd.GeoDataFrame, dests: gpd.GeoDataFrame, *,
           metric: Metric = "length", limit_km: float | None = None,
           limit_min: float | None = None, origin_id: str | None = None,
           dest_id: str | None = None, max_snap_m: float | None = None,
           chunk: int = 256, progress: Callable[[int, int], None] | None = None
           ) -> pd.DataFrame:
        """Origin–destination costs as a long table.

        Routes minimise ``metric``; ``network_m`` and ``time_min`` are both measured along
        that route, snap legs included.

        Returns
        -------
        pandas.DataFrame
            ``origin_id, dest_id, network_m, time_min, crow_m, detour_ratio, status``.
            ``crow_m`` is the geodesic distance between the points; ``status`` is ``ok``,
            ``unreachable`` (no route: different components or one-way streets) or
            ``off_network`` (a point beyond ``max_snap_m``; costs NaN). Pairs farther
            than ``limit_km`` (or ``limit_min``) are omitted.

        Raises
        ------
        NetworkError
            No CRS, no id field, or a limit ≤ 0.
        """
        for name, lim in (("limit_km", limit_km), ("limit_min", limit_min)):
            if lim is not None and not lim > 0:
                raise NetworkError(f"{name} must be > 0, got {lim}")
        oid = _ids(origins, origin_id, "origins")
        did = _ids(dests, dest_id, "destinations")
        _, o_ll = _as_points_metric(origins, self.crs, "origins")
        _, d_ll = _as_points_metric(dests, self.crs, "destinations")
        so = self.snap_xy(o_ll, max_snap_m=max_snap_m)
        sd = self.snap_xy(d_ll, max_snap_m=max_snap_m)
        self._warn_snap(so, origins, "origins")
        self._warn_snap(sd, dests, "destinations")
        other = "time" if metric == "length" else "length"
        g = self._graph(metric)
        lim = np.inf
        if metric == "length" and limit_km is not None:
            lim = limit_km * 1000.0
        if metric == "time" and limit_min is not None:
            lim = limit_min
        uo, inv_o = np.unique(so.node, return_inverse=True)
        inv_o = inv_o.ravel()
        prim = np.empty((len(uo), len(did)))
        sec = np.empty((len(uo), len(did)))
        for start in range(0, len(uo), chunk):
            src = uo[start:start + chunk]
            d, pred = csgraph.dijkstra(g.primary, directed=True, indices=src, limit=lim,
                                       return_predecessors=True)
            s = self._secondary_along(pred, metric)
            prim[start:start + len(src)] = d[:, sd.node]
            sec[start:start + len(src)] = s[:, sd.node]
            if progress:
                progress(min(start + chunk, len(uo)), len(uo))
        prim = prim[inv_o]
        sec = sec[inv_o]
        so_p, sd_p = self.snap_cost(so.snap_m, metric), self.snap_cost(sd.snap_m, metric)
        so_s, sd_s = self.snap_cost(so.snap_m, other), self.snap_cost(sd.snap_m, other)
        reach = np.isfinite(prim)
        prim = prim + so_p[:, None] + sd_p[None, :]
        sec = np.where(reach, sec + so_s[:, None] + sd_s[None, :], np.nan)
        length, time = (prim, sec) if metric == "length" else (sec, prim)
        same_comp = so.component[:, None] == sd.component[None, :]
        # In the same weak component but no finite cost: beyond the Dijkstra limit, or a
        # one-way dead end (then it is unreachable, not beyond the limit).
        unreach = ~same_comp | (~reach & ~np.isfinite(lim))
        off = ~so.on_network[:, None] | ~sd.on_network[None, :]
        beyond = np.zeros_like(reach)
        if limit_km is not None:
            beyond |= reach & (length > limit_km * 1000.0)
        if limit_min is not None:
            beyond |= reach & (time > limit_min)
        beyond |= ~reach & ~unreach
        keep = ~beyond | off
        oi, di = np.nonzero(keep)
        crow = geodesic_m(o_ll[oi, 0], o_ll[oi, 1], d_ll[di, 0], d_ll[di, 1])
        L = length[oi, di]
        T = time[oi, di]
        status = np.where(off[oi, di], "off_network",
                          np.where(unreach[oi, di] | ~np.isfinite(L), "unreachable", "ok"))
        okm = status == "ok"
        # a point to itself (same coordinates) costs nothing, not two snap legs
        same = okm & (crow == 0)
        L = np.where(okm, np.where(same, 0.0, L), np.nan)
        T = np.where(okm, np.where(same, 0.0, T), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(crow > 0, L / crow, np.nan)
        df = pd.DataFrame({"origin_id": oid[oi], "dest_id": did[di], "network_m": L,
                           "time_min": T, "crow_m": crow, "detour_ratio": ratio,
                           "status": status})
        n_un = int((status == "unreachable").sum())
        if n_un:
            warnings.warn(f"{n_un} origin–destination pair(s) have no route on {self.source} "
                          "(disconnected parts of the network); they are listed with status "
                          "'unreachable' and no cost.", UserWarning, stacklevel=2)
        return df

    def distances(self, origins: gpd.GeoDataFrame, dests: gpd.GeoDataFrame, *,
                  metric: Metric = "length", limit_km: float | None = None,
                  max_snap_m: float | None = None, warn: bool = True) -> np.ndarray:
        """Dense cost matrix (metres or minutes), snap legs included (also for a point
        to itself: use :meth:`od` for zero self-distances).

        ``inf`` where there is no route (or beyond ``limit_km`` for length), ``NaN``
        for points off the network.
        """
        if limit_km is not None and not limit_km > 0:
            raise NetworkError(f"limit_km must be > 0, got {limit_km}")
        _, o_ll = _as_points_metric(origins, self.crs, "origins")
        _, d_ll = _as_points_metric(dests, self.crs, "destinations")
        so = self.snap_xy(o_ll, max_snap_m=max_snap_m)
        sd = self.snap_xy(d_ll, max_snap_m=max_snap_m)
        if warn:
            self._warn_snap(so, origins, "origins")
            self._warn_snap(sd, dests, "destinations")
        lim = limit_km * 1000.0 if (limit_km is not None and metric == "length") else np.inf
        uo, inv = np.unique(so.node, return_inverse=True)
        d = self.node_costs(uo, metric=metric, limit=lim)[:, sd.node][inv.ravel()]
        d = d + self.snap_cost(so.snap_m, metric)[:, None] + \
            self.snap_cost(sd.snap_m, metric)[None, :]
        if np.isfinite(lim):
            d[d > lim] = np.inf
        d[~so.on_network, :] = np.nan
        d[:, ~sd.on_network] = np.nan
        return d

    def reach(self, sites: gpd.GeoDataFrame, radius_km: float = 100.0, *,
              metric: Metric = "length", radius_min: float | None = None,
              firms: gpd.GeoDataFrame | None = None, industry_field: str = "industry",
              site_id: str | None = None, trim_m: float | None = None,
              progress: Callable[[int, int], None] | None = None) -> gpd.GeoDataFrame:
        """Service areas: what each site reaches within ``radius_km`` on the network.

        The polygon is the reached roads (partly reached edges cut where the budget
        runs out) buffered by ``trim_m`` metres. ``metric="time"`` uses ``radius_min``
        minutes instead of a distance.

        Returns
        -------
        geopandas.GeoDataFrame (EPSG:4326)
            ``site_id, name, metric, radius_km`` (or ``radius_min``), ``road_km``
            (length of road reached), ``reached_nodes, area_km2, n_firms,
            firms_by_industry`` (``"industry=count;…"``, most first), ``snap_m``,
            ``status`` (``ok`` or ``off_network``) and the polygon.
        """
        if metric == "length":
            if not (radius_km is not None and radius_km > 0):
                raise NetworkError(f"radius must be > 0 km, got {radius_km}")
            budget = radius_km * 1000.0
        elif metric == "time":
            if not (radius_min is not None and radius_min > 0):
                raise NetworkError(f"metric 'time' needs radius_min > 0 minutes, got "
                                   f"{radius_min}")
            budget = float(radius_min)
        else:
            raise NetworkError(f"metric must be 'length' or 'time', got {metric!r}")
        trim = self.trim_m if trim_m is None else float(trim_m)
        ids = _ids(sites, site_id, "sites")
        names = sites["name"].astype(str).to_numpy() if "name" in sites else ids
        sxy, s_ll = _as_points_metric(sites, self.crs, "sites")
        sn = self.snap_xy(s_ll)
        self._warn_snap(sn, sites, "sites")
        start = self.snap_cost(sn.snap_m, metric)
        to_m = transformer(WGS84, self.crs)
        to_w = transformer(self.crs, WGS84)
        egeo_m = shapely.transform(self.edge_geometry, lambda c: np.column_stack(
            to_m.transform(c[:, 0], c[:, 1])))
        ecost = self.edge_length_m if metric == "length" else self.edge_time_min
        fxy = None
        if firms is not None and len(firms):
            fxy, _ = _as_points_metric(firms, self.crs, "firms")
            find = firms[industry_field].astype(str).to_numpy() if industry_field in firms \
                else np.full(len(firms), "unknown")
        rows = []
        for i in range(len(ids)):  # one Dijkstra per site (sites are few)
            rec: dict[str, Any] = {"site_id": ids[i], "name": names[i], "metric": metric}
            if metric == "length":
                rec["radius_km"] = budget / 1000.0
            else:
                rec["radius_min"] = budget
            if not sn.on_network[i]:
                rows.append({**rec, "road_km": np.nan, "reached_nodes": 0,
                             "area_km2": np.nan, "n_firms": 0, "firms_by_industry": "",
                             "snap_m": float(sn.snap_m[i]), "status": "off_network",
                             "geometry": None})
                continue
            left = budget - start[i]
            d = self.node_costs(np.array([sn.node[i]]), metric=metric,
                                limit=max(left, 0.0))[0] + start[i]
            du, dv = d[self.edge_u], d[self.edge_v]
            full = (du <= budget) & (dv <= budget)
            with np.errstate(invalid="ignore"):
                fu = np.clip((budget - du) / ecost, 0, 1)
                fv = np.clip((budget - dv) / ecost, 0, 1)
            fu[~np.isfinite(fu)] = 0
            fv[~np.isfinite(fv)] = 0
            if self.directed:
                # one-way edges are only entered from u
                fv = np.where(self.edge_oneway, 0.0, fv)
            frac = np.where(full, 1.0, np.minimum(fu + fv, 1.0))
            reached_km = float((frac * self.edge_length_m).sum() / 1000.0)
            parts = [egeo_m[full]]
            pu = ~full & (fu > 0)
            if pu.any():
                a = shapely.get_point(egeo_m[pu], 0)
                b = shapely.line_interpolate_point(egeo_m[pu], fu[pu], normalized=True)
                parts.append(shapely.linestrings(np.stack([shapely.get_coordinates(a),
                                                           shapely.get_coordinates(b)], 1)))
            pv = ~full & (fv > 0)
            if pv.any():
                a = shapely.get_point(egeo_m[pv], -1)
                b = shapely.line_interpolate_point(egeo_m[pv], 1 - fv[pv], normalized=True)
                parts.append(shapely.linestrings(np.stack([shapely.get_coordinates(a),
                                                           shapely.get_coordinates(b)], 1)))
            node_xy = self.node_xy[sn.node[i]]
            parts.append(np.array([shapely.linestrings([sxy[i], node_xy])
                                   if sn.snap_m[i] > 0 else shapely.Point(sxy[i])]))
            poly = _service_polygon(np.concatenate(parts), sxy[i], trim)
            area_km2 = float(shapely.area(poly) / 1e6)
            n_f, by = 0, ""
            if fxy is not None:
                inside = shapely.contains_xy(poly, fxy[:, 0], fxy[:, 1])
                n_f = int(inside.sum())
                vc = pd.Series(find[inside]).value_counts()
                by = ";".join(f"{k}={int(c)}" for k, c in vc.items())
            rows.append({**rec, "road_km": reached_km,
                         "reached_nodes": int((d <= budget).sum()), "area_km2": area_km2,
                         "n_firms": n_f, "firms_by_industry": by,
                         "snap_m": float(sn.snap_m[i]), "status": "ok",
                         "geometry": shapely.transform(poly, lambda c: np.column_stack(
                             to_w.transform(c[:, 0], c[:, 1])))})
            if progress:
                progress(i + 1, len(ids))
        return gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)

    def to_networkx(self, metric: Metric = "length") -> Any:
        """The same graph as a ``networkx.DiGraph`` (for checks and benchmarks)."""
        import networkx as nx

        g = self._graph(metric).primary.tocoo()
        G = nx.DiGraph()
        G.add_nodes_from(range(self.n_nodes))
        G.add_weighted_edges_from(zip(g.row.tolist(), g.col.tolist(), g.data.tolist(),
                                      strict=True))
        return G

    def without_edges(self, mask: np.ndarray) -> Network:
        """A copy without the edges where ``mask`` is True (same nodes)."""
        keep = ~np.asarray(mask, dtype=bool)
        return Network(node_lonlat=self.node_lonlat, edge_u=self.edge_u[keep],
                       edge_v=self.edge_v[keep], edge_length_m=self.edge_length_m[keep],
                       edge_time_min=self.edge_time_min[keep],
                       edge_geometry=self.edge_geometry[keep],
                       edge_oneway=self.edge_oneway[keep], crs=self.crs, source=self.source,
                       max_snap_m=self.max_snap_m, access_speed_kmh=self.access_speed_kmh,
                       trim_m=self.trim_m, info=dict(self.info))

    def edges_frame(self) -> gpd.GeoDataFrame:
        """Edges as a GeoDataFrame (WGS84): u, v, length_m, time_min, oneway, component."""
        return gpd.GeoDataFrame({"u": self.edge_u, "v": self.edge_v,
                                 "length_m": self.edge_length_m, "time_min": self.edge_time_min,
                                 "oneway": self.edge_oneway,
                                 "component": self.component[self.edge_u]},
                                geometry=self.edge_geometry, crs=WGS84)



def _service_polygon(lines: np.ndarray, site_xy: np.ndarray, trim_m: float) -> Any:
    """The area within ``trim_m`` of the reached roads (metric CRS), by rasterising the
    lines on a grid of trim_m / 2 cells, dilating by ``trim_m`` and polygonising:
    linear in the number of lines, unlike a union of thousands of buffers."""
    import warnings as _w

    from rasterio import features
    from rasterio.transform import from_origin
    from scipy import ndimage

    lines = lines[~shapely.is_empty(lines)]
    cell = trim_m / 2.0
    b = shapely.total_bounds(lines) if len(lines) else np.array([*site_xy, *site_xy])
    pad = 2 * trim_m + cell
    x0, y1 = b[0] - pad, b[3] + pad
    w = int(np.ceil((b[2] - b[0] + 2 * pad) / cell))
    h = int(np.ceil((b[3] - b[1] + 2 * pad) / cell))
    with _w.catch_warnings():
        _w.simplefilter("ignore")
        tr = from_origin(x0, y1, cell, cell)
    shapes = [(g, 1) for g in lines] + [(shapely.Point(site_xy), 1)]
    r = features.rasterize(shapes, out_shape=(h, w), transform=tr, all_touched=True,
                           dtype="uint8")
    k = int(np.ceil(trim_m / cell))
    yy, xx = np.mgrid[-k:k + 1, -k:k + 1]
    disk = (xx ** 2 + yy ** 2) <= k * k
    r = ndimage.binary_dilation(r.astype(bool), structure=disk).astype("uint8")
    with _w.catch_warnings():
        _w.simplefilter("ignore")  # affine's "use @ instead of *" inside rasterio
        polys = [shapely.geometry.shape(g) for g, v in features.shapes(r, mask=r == 1,
                                                                        transform=tr)]
    poly = shapely.union_all(polys)
    return shapely.simplify(poly, cell / 2)


def network_from_option(value: str | None, study: Study | None, *,
                        layer: str | None = None) -> Network:
    """``--network``: a study layer key, a line file (``layer`` inside a GeoPackage), or
    an ``.osm`` file; default the study's roads."""
    if value is None:
        if study is None:
            raise NetworkError("no network given: pass --network FILE (a road line file or "
                               ".osm) or --study layers/….toml")
        return Network.from_study(study)
    if study is not None and value in study.layers:
        spec = study.layers[value]
        if spec.role != "roads":
            raise NetworkError(f"--network {value}: layer has role {spec.role!r}, not roads")
        return Network.from_lines(study.load(value), crs=study.metric_crs,
                                  source=f"{study.path} layers.{value}")
    return Network.from_file(value, layer=layer)
