"""Distance queries: node searches, origin–destination tables, service areas."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
import shapely.ops
from rasterio import features
from rasterio.transform import from_origin
from scipy import ndimage, sparse
from scipy.sparse import csgraph

from ..crs import WGS84
from ..errors import NetworkError
from ._geo import Metric, _as_points_metric, _ids, geodesic_m, transformer
from .reduced import MIN_OFFSET, ReducedGraph
from .snapping import SnappingMixin, SnapResult


class QueriesMixin(SnappingMixin):
    """Distance queries of :class:`~geo.network.Network`."""

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

        Parameters
        ----------
        sources
            Node indices.
        metric : {"length", "time"}
            Cost: metres along roads, or minutes at the edges' speeds.
        limit
            Search radius in the metric's unit (metres or minutes).
        offsets
            Start cost at each source (metres or minutes), with ``min_only``.
        min_only
            Return one row: the cost from the nearest source.

        Returns
        -------
        numpy.ndarray
            float64 costs in metres or minutes, ``inf`` where not reached.

        Raises
        ------
        ValueError
            ``offsets`` given without ``min_only``.
        InputError
            ``metric`` is not ``"length"`` or ``"time"``.
        """
        red = self.reduced(metric)
        sources = np.asarray(sources, dtype=np.int64)
        if offsets is None or not np.any(offsets):
            return red.dijkstra(sources, limit=limit, min_only=min_only)
        if not min_only:
            raise ValueError("offsets need min_only=True")
        # A virtual source joined to every source node by its offset.
        return red.grouped(np.zeros(len(sources), dtype=np.int64), sources, offsets, 1,
                           limit=limit)[0]

    def grouped_costs(self, group: np.ndarray, nodes: np.ndarray, offsets: np.ndarray,
                      n_groups: int, *, metric: Metric = "length",
                      limit: float = np.inf) -> np.ndarray:
        """Multi-source costs for several groups of sources at once: row ``k`` is the
        cost from the nearest source of group ``k`` (sources ``nodes[group == k]``
        starting at ``offsets``, clipped to ≥
        :data:`~geo.network.reduced.MIN_OFFSET`), ``inf`` beyond ``limit``.

        One csgraph call for all groups (a virtual source per group) on the reduced
        graph (:meth:`reduced`).

        Parameters
        ----------
        group
            Group index (0…n_groups−1) of each source.
        nodes
            Node index of each source.
        offsets
            Start cost of each source (metres or minutes, e.g. its snap leg).
        n_groups
            Number of groups.
        metric : {"length", "time"}
            Cost: metres along roads, or minutes at the edges' speeds.
        limit
            Search radius (metres or minutes).

        Returns
        -------
        numpy.ndarray
            (n_groups, n_nodes) float64 costs.

        Raises
        ------
        InputError
            ``metric`` is not ``"length"`` or ``"time"``.
        """
        return self.reduced(metric).grouped(group, nodes, offsets, n_groups, limit=limit)

    def reduced(self, metric: Metric = "length") -> ReducedGraph:
        """The :class:`ReducedGraph` of a cost (built on first use, then cached).

        Parameters
        ----------
        metric : {"length", "time"}
            Cost: metres along roads, or minutes at the edges' speeds.

        Returns
        -------
        ReducedGraph

        Raises
        ------
        InputError
            ``metric`` is not ``"length"`` or ``"time"``.
        """
        g = self._graph(metric)
        cache = self.__dict__.setdefault("_reduced", {})
        if metric not in cache:
            cache[metric] = ReducedGraph.from_csr(g.primary)
        return cache[metric]

    def point_costs(self, snap: SnapResult, *, metric: Metric = "length",
                    limit: float = np.inf) -> np.ndarray:
        """(len(snap), n_nodes) costs from each snapped point to every node.

        Each point is a virtual source joined to both ends of its edge by the access
        leg plus the partial edge cost (not against a one-way edge); one csgraph call on
        the reduced graph. ``inf`` beyond ``limit`` (metres or minutes).

        Parameters
        ----------
        snap
            Snapped points (:meth:`snap_xy`).
        metric : {"length", "time"}
            Cost: metres along roads, or minutes at the edges' speeds.
        limit
            Search radius (metres or minutes).

        Returns
        -------
        numpy.ndarray
            float64 costs in metres or minutes, access legs included.
        """
        ends, leave, _ = self.entry(snap, metric)
        k = len(ends)
        grp = np.repeat(np.arange(k, dtype=np.int64), 2)
        off = leave.ravel()
        ok = np.isfinite(off)
        return self.reduced(metric).grouped(grp[ok], ends.ravel()[ok], off[ok], k,
                                            limit=limit)

    def to_points(self, node_cost: np.ndarray, snap: SnapResult,
                  metric: Metric = "length") -> np.ndarray:
        """Costs to snapped points from node costs ``(k, n_nodes)``: the cheaper of
        arriving through either end of each point's edge (``(k, len(snap))``).

        Parameters
        ----------
        node_cost
            (k, n_nodes) costs to every node (e.g. :meth:`point_costs`).
        snap
            The snapped destination points.
        metric : {"length", "time"}
            Cost: metres along roads, or minutes at the edges' speeds.

        Returns
        -------
        numpy.ndarray
            (k, len(snap)) costs, same unit as ``node_cost``, arrival legs included.
        """
        ends, _, arrive = self.entry(snap, metric)
        return np.minimum(node_cost[:, ends[:, 0]] + arrive[:, 0],
                          node_cost[:, ends[:, 1]] + arrive[:, 1])

    def _od_costs(self, so: SnapResult, sd: SnapResult, metric: str, lim: float, chunk: int,
                  progress: Callable[[int, int], None] | None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """(primary, secondary) cost matrices between snapped points along the route
        that minimises ``metric``: virtual source rows on the full graph, csgraph with
        predecessors, the other cost by pointer jumping; pairs on one edge may go
        straight along it."""
        other = "time" if metric == "length" else "length"
        g = self._graph(metric)
        n = self.n_nodes
        ends_o, lp, _ = self.entry(so, metric)
        ls = self.entry(so, other)[1]
        ends_d, _, ap = self.entry(sd, metric)
        as_ = self.entry(sd, other)[2]
        k, m = len(ends_o), len(ends_d)
        prim = np.full((k, m), np.inf)
        sec = np.full((k, m), np.nan)
        for start in range(0, k, chunk):
            c = min(chunk, k - start)
            grp = np.repeat(np.arange(c, dtype=np.int64), 2)
            nodes = ends_o[start:start + c].ravel()
            wp, ws = lp[start:start + c].ravel(), ls[start:start + c].ravel()
            ok = np.isfinite(wp)
            o = np.lexsort((nodes[ok], grp[ok]))
            grp, nodes, wp, ws = grp[ok][o], nodes[ok][o], wp[ok][o], ws[ok][o]
            big_p = _append_rows(g.primary, grp, nodes, np.maximum(wp, MIN_OFFSET), c)
            big_s = _append_rows(g.secondary, grp, nodes, ws, c)
            d, pred = csgraph.dijkstra(big_p, directed=True, indices=np.arange(n, n + c),
                                       limit=lim, return_predecessors=True)
            rows = np.repeat(np.arange(n + c, dtype=np.int64), np.diff(big_p.indptr))
            keys = rows * (n + c) + big_p.indices.astype(np.int64)
            s = _secondary_along(pred, keys, big_s.data)
            p0 = d[:, ends_d[:, 0]] + ap[:, 0]
            p1 = d[:, ends_d[:, 1]] + ap[:, 1]
            first = p0 <= p1
            prim[start:start + c] = np.where(first, p0, p1)
            sec[start:start + c] = np.where(first, s[:, ends_d[:, 0]] + as_[:, 0],
                                            s[:, ends_d[:, 1]] + as_[:, 1])
            if progress:
                progress(start + c, k)
        direct_p = self.same_edge(so, sd, metric)
        direct_s = self.same_edge(so, sd, other)
        use = direct_p < prim
        prim = np.where(use, direct_p, prim)
        sec = np.where(use, direct_s, sec)
        if np.isfinite(lim):
            prim[prim > lim] = np.inf
        return prim, np.where(np.isfinite(prim), sec, np.nan)

    def od(self, origins: gpd.GeoDataFrame, dests: gpd.GeoDataFrame, *,
           metric: Metric = "length", limit_km: float | None = None,
           limit_min: float | None = None, origin_id: str | None = None,
           dest_id: str | None = None, max_snap_m: float | None = None,
           chunk: int = 256, progress: Callable[[int, int], None] | None = None
           ) -> pd.DataFrame:
        """Origin–destination costs as a long table.

        Routes minimise ``metric``; ``network_m`` and ``time_min`` are both measured along
        that route, snap legs included.

        Parameters
        ----------
        origins, dests
            Points (polygons: their centroid), any CRS (reprojected); they must have a CRS.
        metric : {"length", "time"}
            Cost: metres along roads, or minutes at the edges' speeds.
        limit_km
            Drop pairs farther than this by road (km).
        limit_min
            Drop pairs farther than this in travel time (minutes).
        origin_id, dest_id
            Id fields (default ``id``).
        max_snap_m
            Points farther than this from every road (metres) are ``off_network``;
            default the network's ``max_snap_m``.
        chunk
            Origins per Dijkstra call (memory: chunk × n_nodes floats).
        progress
            ``progress(done, total)`` called after each chunk of origins.

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
        lim = np.inf
        if metric == "length" and limit_km is not None:
            lim = limit_km * 1000.0
        if metric == "time" and limit_min is not None:
            lim = limit_min
        prim, sec = self._od_costs(so, sd, metric, lim, chunk, progress)
        length, time = (prim, sec) if metric == "length" else (sec, prim)
        unreach = self._unreachable(so, sd, prim, metric, lim, chunk)
        reach = np.isfinite(prim)
        beyond = ~reach & ~unreach
        if limit_km is not None:
            beyond |= reach & (length > limit_km * 1000.0)
        if limit_min is not None:
            beyond |= reach & (time > limit_min)
        off = ~so.on_network[:, None] | ~sd.on_network[None, :]
        oi, di = np.nonzero(~beyond | off)
        df = _od_frame(oid[oi], did[di], o_ll[oi], d_ll[di], length[oi, di], time[oi, di],
                       off[oi, di], unreach[oi, di])
        n_un = int((df["status"] == "unreachable").sum())
        if n_un:
            warnings.warn(f"{n_un} origin–destination pair(s) have no route on {self.source} "
                          "(disconnected parts of the network); they are listed with status "
                          "'unreachable' and no cost.", UserWarning, stacklevel=2)
        return df

    def _unreachable(self, so, sd, prim: np.ndarray, metric: Metric, lim: float,
                     chunk: int) -> np.ndarray:
        """Pairs with no route at all: in different weak components, or in the same one
        with no finite cost even without the limit (one-way dead ends)."""
        reach = np.isfinite(prim)
        same_comp = so.component[:, None] == sd.component[None, :]
        unreach = ~same_comp | (~reach & ~np.isfinite(lim))
        amb = same_comp & ~reach & np.isfinite(lim)
        if amb.any():  # not reached within the limit: search those origins unlimited
            rows = np.flatnonzero(amb.any(axis=1))
            p2, _ = self._od_costs(so.take(rows), sd, metric, np.inf, chunk, None)
            unreach[rows] |= amb[rows] & ~np.isfinite(p2)
        return unreach

    def distances(self, origins: gpd.GeoDataFrame, dests: gpd.GeoDataFrame, *,
                  metric: Metric = "length", limit_km: float | None = None,
                  max_snap_m: float | None = None, warn: bool = True) -> np.ndarray:
        """Dense cost matrix (metres or minutes), access legs included (also for a
        point to itself: use :meth:`od` for zero self-distances).

        ``inf`` where there is no route (or beyond ``limit_km`` for length), ``NaN``
        for points off the network.

        Parameters
        ----------
        origins, dests
            Points (polygons: their centroid), any CRS (reprojected); they must have a CRS.
        metric : {"length", "time"}
            Cost: metres along roads, or minutes at the edges' speeds.
        limit_km
            Search radius by road, km (used with ``"length"`` only).
        max_snap_m
            Snap limit, metres (default the network's ``max_snap_m``).
        warn
            Warn about points off the network or on small disconnected parts.

        Returns
        -------
        numpy.ndarray
            (len(origins), len(dests)) float64 metres or minutes.

        Raises
        ------
        NetworkError
            ``limit_km`` ≤ 0, or points without a CRS or geometry.
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
        d = np.empty((len(so.edge), len(sd.edge)))
        for start in range(0, len(so.edge), 256):  # bounded memory: 256 rows × nodes
            sl = slice(start, start + 256)
            d[sl] = self.to_points(self.point_costs(so.take(sl), metric=metric, limit=lim),
                                   sd, metric)
        d = np.minimum(d, self.same_edge(so, sd, metric))
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

        Parameters
        ----------
        sites
            Site points (polygons: their centroid), any CRS (reprojected).
        radius_km
            Budget by road, km (``metric="length"``).
        metric : {"length", "time"}
            Budget in distance or in travel time.
        radius_min
            Budget in minutes (``metric="time"``).
        firms
            Firm points (any CRS) counted inside each area, by ``industry_field``.
        industry_field
            Field of ``firms`` holding the industry.
        site_id
            Id field of ``sites`` (default ``id``).
        trim_m
            Buffer around reached roads, metres in the network's metric CRS (default the
            network's ``trim_m``).
        progress
            ``progress(done, total)`` called after each site.

        Returns
        -------
        geopandas.GeoDataFrame (EPSG:4326)
            ``site_id, name, metric, radius_km`` (or ``radius_min``), ``road_km``
            (length of road reached), ``reached_nodes, area_km2`` (km², metric CRS),
            ``n_firms, firms_by_industry`` (``"industry=count;…"``, most first),
            ``snap_m``, ``status`` (``ok`` or ``off_network``) and the polygon.

        Raises
        ------
        NetworkError
            A radius ≤ 0 (or no ``radius_min`` for ``"time"``), an unknown metric, sites
            without a CRS, geometry or id field.
        """
        budget = _reach_budget(metric, radius_km, radius_min)
        trim = self.trim_m if trim_m is None else float(trim_m)
        ids = _ids(sites, site_id, "sites")
        names = sites["name"].astype(str).to_numpy() if "name" in sites else ids
        sxy, s_ll = _as_points_metric(sites, self.crs, "sites")
        sn = self.snap_xy(s_ll)
        self._warn_snap(sn, sites, "sites")
        to_w = transformer(self.crs, WGS84)
        fxy, find = _firm_points(firms, industry_field, self.crs)
        rows = []
        for i in range(len(ids)):  # one Dijkstra per site (sites are few)
            rec: dict[str, Any] = {"site_id": ids[i], "name": names[i], "metric": metric,
                                   ("radius_km" if metric == "length" else "radius_min"):
                                   budget / 1000.0 if metric == "length" else budget}
            snap = {"snap_m": float(sn.snap_m[i])}
            if not sn.on_network[i]:
                rows.append({**rec, "road_km": np.nan, "reached_nodes": 0,
                             "area_km2": np.nan, "n_firms": 0, "firms_by_industry": "",
                             **snap, "status": "off_network", "geometry": None})
                continue
            poly, road_km, n_nodes = self._service_area(sn, i, sxy[i], metric, budget, trim)
            n_f, by = _firms_inside(poly, fxy, find)
            rows.append({**rec, "road_km": road_km, "reached_nodes": n_nodes,
                         "area_km2": float(shapely.area(poly) / 1e6), "n_firms": n_f,
                         "firms_by_industry": by, **snap, "status": "ok",
                         "geometry": shapely.transform(poly, lambda c: np.column_stack(
                             to_w.transform(c[:, 0], c[:, 1])))})
            if progress:
                progress(i + 1, len(ids))
        return gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)

    def _service_area(self, sn, i: int, site_xy: np.ndarray, metric: Metric, budget: float,
                      trim: float) -> tuple[shapely.Geometry, float, int]:
        """Site ``i``'s service area (metric polygon), road km reached and nodes reached:
        edges reached in full, partly reached edges cut where the budget runs out, the
        site's own edge piece and its access leg, buffered by ``trim`` metres."""
        egeo_m = self.edge_geom_m
        ecost = self.edge_length_m if metric == "length" else self.edge_time_min
        start = self.snap_cost(sn.snap_m[i:i + 1], metric)[0]
        d = self.point_costs(sn.take(slice(i, i + 1)), metric=metric, limit=budget)[0]
        du, dv = d[self.edge_u], d[self.edge_v]
        full = (du <= budget) & (dv <= budget)
        with np.errstate(invalid="ignore", divide="ignore"):
            fu = np.nan_to_num(np.clip((budget - du) / ecost, 0, 1), nan=0.0, posinf=0.0)
            fv = np.nan_to_num(np.clip((budget - dv) / ecost, 0, 1), nan=0.0, posinf=0.0)
        if self.directed:
            fv = np.where(self.edge_oneway, 0.0, fv)  # one-way edges are only entered from u
        frac = np.where(full, 1.0, np.minimum(fu + fv, 1.0))
        e = sn.edge[i]
        own = _own_edge_piece(egeo_m, sn, i, (budget - start) / ecost[e],
                              bool(self.edge_oneway[e]))
        frac[e] = max(frac[e], own[1])
        at = shapely.get_coordinates(shapely.line_interpolate_point(
            egeo_m[e], sn.frac[i], normalized=True))[0]
        access = shapely.linestrings([site_xy, at]) if sn.snap_m[i] > 0 else \
            shapely.Point(site_xy)
        parts = [egeo_m[full], _partial_pieces(egeo_m, ~full & (fu > 0), fu, 0),
                 _partial_pieces(egeo_m, ~full & (fv > 0), 1 - fv, -1),
                 np.array([own[0], access])]
        poly = _service_polygon(np.concatenate(parts), site_xy, trim)
        return poly, float((frac * self.edge_length_m).sum() / 1000.0), int((d <= budget).sum())


def _od_frame(oid: np.ndarray, did: np.ndarray, o_ll: np.ndarray, d_ll: np.ndarray,
              length: np.ndarray, time: np.ndarray, off: np.ndarray,
              unreach: np.ndarray) -> pd.DataFrame:
    """The OD table of the kept pairs: costs, geodesic straight line, detour, status."""
    crow = geodesic_m(o_ll[:, 0], o_ll[:, 1], d_ll[:, 0], d_ll[:, 1])
    status = np.where(off, "off_network",
                      np.where(unreach | ~np.isfinite(length), "unreachable", "ok"))
    okm = status == "ok"
    same = okm & (crow == 0)  # a point to itself costs nothing, not two access legs
    L = np.where(okm, np.where(same, 0.0, length), np.nan)
    T = np.where(okm, np.where(same, 0.0, time), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(crow > 0, L / crow, np.nan)
    return pd.DataFrame({"origin_id": oid, "dest_id": did, "network_m": L, "time_min": T,
                         "crow_m": crow, "detour_ratio": ratio, "status": status})


def _reach_budget(metric: str, radius_km: float | None, radius_min: float | None) -> float:
    """The search budget: metres for ``length``, minutes for ``time``."""
    if metric == "length":
        if not (radius_km is not None and radius_km > 0):
            raise NetworkError(f"radius must be > 0 km, got {radius_km}")
        return radius_km * 1000.0
    if metric == "time":
        if not (radius_min is not None and radius_min > 0):
            raise NetworkError(f"metric 'time' needs radius_min > 0 minutes, got {radius_min}")
        return float(radius_min)
    raise NetworkError(f"metric must be 'length' or 'time', got {metric!r}")


def _partial_pieces(egeo_m: np.ndarray, sel: np.ndarray, frac: np.ndarray,
                    end: int) -> np.ndarray:
    """Straight pieces of the edges ``sel`` from their vertex ``end`` (0 = u, −1 = v) to
    the point at ``frac`` (normalised) along them."""
    if not sel.any():
        return np.empty(0, dtype=object)
    a = shapely.get_point(egeo_m[sel], end)
    b = shapely.line_interpolate_point(egeo_m[sel], frac[sel], normalized=True)
    return shapely.linestrings(np.stack([shapely.get_coordinates(a),
                                         shapely.get_coordinates(b)], 1))


def _firm_points(firms: gpd.GeoDataFrame | None, industry_field: str, crs
                 ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Firms' metric xy and industries (``"unknown"`` without the field), or Nones."""
    if firms is None or not len(firms):
        return None, None
    fxy, _ = _as_points_metric(firms, crs, "firms")
    find = firms[industry_field].astype(str).to_numpy() if industry_field in firms \
        else np.full(len(firms), "unknown")
    return fxy, find


def _firms_inside(poly: shapely.Geometry, fxy: np.ndarray | None,
                  industries: np.ndarray | None) -> tuple[int, str]:
    """How many firms lie in ``poly`` and ``"industry=count;…"`` (most first)."""
    if fxy is None or industries is None:
        return 0, ""
    inside = shapely.contains_xy(poly, fxy[:, 0], fxy[:, 1])
    vc = pd.Series(industries[inside]).value_counts()
    return int(inside.sum()), ";".join(f"{k}={int(c)}" for k, c in vc.items())


def _append_rows(p: sparse.csr_matrix, group: np.ndarray, nodes: np.ndarray,
                 weights: np.ndarray, k: int) -> sparse.csr_matrix:
    """``p`` with ``k`` rows (and columns) appended: row ``n + g`` holds the arcs
    ``weights`` to ``nodes`` of ``group == g`` (sorted by group, then node)."""
    n = p.shape[0]
    counts = np.bincount(group, minlength=k)
    itype = np.int64 if p.nnz + len(nodes) >= 2 ** 31 - 1 else np.int32
    return sparse.csr_matrix(
        (np.concatenate([p.data, weights]), np.concatenate([p.indices, nodes]).astype(itype),
         np.concatenate([p.indptr, p.nnz + np.cumsum(counts)]).astype(itype)),
        shape=(n + k, n + k))


def _secondary_along(pred: np.ndarray, keys: np.ndarray, sec: np.ndarray) -> np.ndarray:
    """The other cost along the shortest-path trees ``pred`` (rows), by pointer
    jumping: log2(depth) vectorised steps, no loop over nodes. ``keys`` are
    ``row * N + col`` of the graph's stored arcs (sorted), ``sec`` their other cost."""
    k, n = pred.shape
    valid = pred >= 0
    cols = np.broadcast_to(np.arange(n, dtype=np.int64), (k, n))
    key = np.where(valid, pred.astype(np.int64) * n + cols, 0)
    pos = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
    val = np.where(valid, sec[pos], 0.0)
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


def _own_edge_piece(egeo_m: np.ndarray, sn: SnapResult, i: int, reach_frac: float,
                    oneway: bool) -> tuple[Any, float]:
    """The stretch of a site's own edge reached straight from the site: (line in the
    metric CRS, its share of the edge)."""
    f = float(sn.frac[i])
    r = max(float(reach_frac), 0.0)
    lo, hi = (f if oneway else max(f - r, 0.0)), min(f + r, 1.0)
    line = shapely.ops.substring(egeo_m[sn.edge[i]], lo, hi, normalized=True)
    return line, hi - lo


def _service_polygon(lines: np.ndarray, site_xy: np.ndarray, trim_m: float) -> Any:
    """The area within ``trim_m`` of the reached roads (metric CRS), by rasterising the
    lines on a grid of trim_m / 2 cells, dilating by ``trim_m`` and polygonising:
    linear in the number of lines, unlike a union of thousands of buffers."""
    lines = lines[~shapely.is_empty(lines)]
    cell = trim_m / 2.0
    b = shapely.total_bounds(lines) if len(lines) else np.array([*site_xy, *site_xy])
    pad = 2 * trim_m + cell
    x0, y1 = b[0] - pad, b[3] + pad
    w = int(np.ceil((b[2] - b[0] + 2 * pad) / cell))
    h = int(np.ceil((b[3] - b[1] + 2 * pad) / cell))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tr = from_origin(x0, y1, cell, cell)
    shapes = [(g, 1) for g in lines] + [(shapely.Point(site_xy), 1)]
    r = features.rasterize(shapes, out_shape=(h, w), transform=tr, all_touched=True,
                           dtype="uint8")
    k = int(np.ceil(trim_m / cell))
    yy, xx = np.mgrid[-k:k + 1, -k:k + 1]
    disk = (xx ** 2 + yy ** 2) <= k * k
    r = ndimage.binary_dilation(r.astype(bool), structure=disk).astype("uint8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # affine's "use @ instead of *" inside rasterio
        polys = [shapely.geometry.shape(g) for g, v in features.shapes(r, mask=r == 1,
                                                                        transform=tr)]
    poly = shapely.union_all(polys)
    return shapely.simplify(poly, cell / 2)

