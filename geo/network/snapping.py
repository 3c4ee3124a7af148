"""Snapping points to the network."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..crs import WGS84
from ._geo import _as_points_metric, _xy, geodesic_m, transformer
from ._state import NetworkState


@dataclass
class SnapResult:
    """Where points meet the network (see :meth:`Network.snap`).

    Every point snaps to the nearest point of the nearest edge (not to a node): it
    enters the graph at both ends of that edge, with the partial edge costs.
    """

    edge: np.ndarray          # edge index (int64)
    frac: np.ndarray          # position along the edge, 0 at edge_u … 1 at edge_v
    ends: np.ndarray          # (n, 2) end nodes [edge_u, edge_v] of the edge
    snap_m: np.ndarray        # geodesic metres from the point to the road
    component: np.ndarray     # component label of the edge
    on_network: np.ndarray    # snap_m <= max_snap_m
    in_main: np.ndarray       # edge in the largest component
    max_snap_m: float

    @property
    def node(self) -> np.ndarray:
        """The nearer end node of each point's edge (int64)."""
        return np.where(self.frac <= 0.5, self.ends[:, 0], self.ends[:, 1])

    def frame(self, index: Any = None) -> pd.DataFrame:
        """The snap as a table.

        Parameters
        ----------
        index
            Index of the frame (e.g. the points' index); default a range.

        Returns
        -------
        pandas.DataFrame
            ``node`` (nearer end), ``snap_m`` (geodesic metres to the road),
            ``component``, ``on_network``, ``in_main_component``, ``edge``, ``frac``
            (0 at ``node_u`` … 1 at ``node_v``), ``node_u``, ``node_v``.
        """
        return pd.DataFrame({"node": self.node, "snap_m": self.snap_m,
                             "component": self.component, "on_network": self.on_network,
                             "in_main_component": self.in_main, "edge": self.edge,
                             "frac": self.frac, "node_u": self.ends[:, 0],
                             "node_v": self.ends[:, 1]}, index=index)

    def take(self, idx: Any) -> SnapResult:
        """The snaps of the points ``idx`` (an index array, a mask or a slice).

        Parameters
        ----------
        idx
            Anything that indexes a numpy array of the points.

        Returns
        -------
        SnapResult
            The selected points, same ``max_snap_m``.
        """
        return SnapResult(self.edge[idx], self.frac[idx], self.ends[idx], self.snap_m[idx],
                          self.component[idx], self.on_network[idx], self.in_main[idx],
                          self.max_snap_m)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, max_snap_m: float) -> SnapResult:
        """The inverse of :meth:`frame`.

        Parameters
        ----------
        frame
            A :meth:`frame` table (e.g. the result of :meth:`Network.snap`).
        max_snap_m
            The snap limit used, metres.

        Returns
        -------
        SnapResult
        """
        return cls(edge=frame["edge"].to_numpy(np.int64), frac=frame["frac"].to_numpy(float),
                   ends=frame[["node_u", "node_v"]].to_numpy(np.int64),
                   snap_m=frame["snap_m"].to_numpy(float),
                   component=frame["component"].to_numpy(),
                   on_network=frame["on_network"].to_numpy(bool),
                   in_main=frame["in_main_component"].to_numpy(bool), max_snap_m=max_snap_m)


@dataclass
class Snapper:
    """What putting points on a network needs, and nothing more: the edges in the metric
    CRS with their spatial index, end nodes, costs, one-way flags and components.

    :class:`~geo.network.Network` snaps through one (:attr:`SnappingMixin.snapper`), so
    a Dask task that snaps a partition of points with a copy of it gets the same
    answer as :meth:`Network.snap_xy` on all of them. It pickles without its STRtree
    (rebuilt on arrival, a few ms per 10⁵ edges): send it to the workers once.
    """

    crs: CRS
    edge_geom_m: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_time_min: np.ndarray
    edge_oneway: np.ndarray
    component: np.ndarray
    main_component: int
    max_snap_m: float
    access_speed_kmh: float
    edge_tree: shapely.STRtree | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.edge_tree is None:
            self.edge_tree = shapely.STRtree(self.edge_geom_m)

    def __getstate__(self) -> dict[str, Any]:
        # the edges as one vectorised WKB array (exact coordinates): pickling 10⁵
        # geometries one by one costs more than the snapping of a partition
        return {**self.__dict__, "edge_geom_m": shapely.to_wkb(self.edge_geom_m),
                "edge_tree": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, edge_geom_m=shapely.from_wkb(state["edge_geom_m"]))
        self.__post_init__()

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        # dask's generic token pickles every edge geometry (~1 s per 3·10⁴ edges): hash
        # their coordinates and the numeric arrays instead
        from dask.base import tokenize

        return ("Snapper", self.crs.to_wkt(), self.main_component, self.max_snap_m,
                self.access_speed_kmh, tokenize(
                    shapely.get_coordinates(self.edge_geom_m),
                    shapely.get_num_coordinates(self.edge_geom_m), self.edge_u, self.edge_v,
                    self.edge_length_m, self.edge_time_min, self.edge_oneway,
                    self.component))

    def snap_xy(self, lonlat: np.ndarray, *, max_snap_m: float | None = None) -> SnapResult:
        """Snap WGS84 coordinates (n, 2) to the nearest point of the nearest road.

        One ``STRtree.query_nearest`` over the edges (metric CRS) and one vectorised
        ``shapely.line_locate_point``; the snap distance is the geodesic distance to
        the located point. Non-finite coordinates are off network (``snap_m`` inf).

        Parameters
        ----------
        lonlat
            (n, 2) EPSG:4326 lon/lat degrees (reshaped from any array of 2n values).
        max_snap_m
            Points farther than this from every road (geodesic metres) are off network;
            default :attr:`max_snap_m`.

        Returns
        -------
        SnapResult
        """
        ms = self.max_snap_m if max_snap_m is None else float(max_snap_m)
        lonlat = np.asarray(lonlat, dtype=float).reshape(-1, 2)
        n = len(lonlat)
        edge = np.zeros(n, dtype=np.int64)
        frac = np.zeros(n)
        snap_m = np.full(n, np.inf)
        ok = np.isfinite(lonlat).all(axis=1)
        if ok.any():
            assert self.edge_tree is not None  # set in __post_init__
            xy = _xy(transformer(WGS84, self.crs), lonlat[ok])
            pts = shapely.points(xy)
            qi, ei = self.edge_tree.query_nearest(pts, all_matches=False)
            idx = np.flatnonzero(ok)[qi]
            lines = self.edge_geom_m[ei]
            f = shapely.line_locate_point(lines, pts[qi], normalized=True)
            f = np.where(np.isfinite(f), f, 0.0)
            at = _xy(transformer(self.crs, WGS84), shapely.get_coordinates(
                shapely.line_interpolate_point(lines, f, normalized=True)))
            edge[idx], frac[idx] = ei, f
            snap_m[idx] = geodesic_m(lonlat[idx, 0], lonlat[idx, 1], at[:, 0], at[:, 1])
        comp = self.component[self.edge_u[edge]]
        return SnapResult(edge=edge, frac=frac,
                          ends=np.column_stack([self.edge_u[edge], self.edge_v[edge]]),
                          snap_m=snap_m, component=comp, on_network=snap_m <= ms,
                          in_main=comp == self.main_component, max_snap_m=ms)

    def entry(self, snap: SnapResult, metric: str) -> tuple[np.ndarray, np.ndarray,
                                                            np.ndarray]:
        """How snapped points enter and leave the graph (see :meth:`Network.entry`).

        Parameters
        ----------
        snap
            Snapped points.
        metric
            ``"length"`` (metres) or ``"time"`` (minutes).

        Returns
        -------
        ends, leave, arrive : ndarray (n, 2)
            End nodes [u, v] of each point's edge; cost from the point to each end and
            from each end to the point (``inf`` against a one-way edge).
        """
        acc = self.snap_cost(snap.snap_m, metric)
        c = (self.edge_length_m if metric == "length" else self.edge_time_min)[snap.edge]
        one = self.edge_oneway[snap.edge]
        to_u = acc + snap.frac * c
        to_v = acc + (1.0 - snap.frac) * c
        leave = np.column_stack([np.where(one, np.inf, to_u), to_v])
        arrive = np.column_stack([to_u, np.where(one, np.inf, to_v)])
        return snap.ends, leave, arrive

    def snap_cost(self, snap_m: np.ndarray, metric: str) -> np.ndarray:
        """Cost of the access leg between a point and its road: metres, or minutes at
        ``access_speed_kmh``.

        Parameters
        ----------
        snap_m
            Snap distances, geodesic metres.
        metric : {"length", "time"}
            Cost: metres, or minutes at ``access_speed_kmh``.

        Returns
        -------
        numpy.ndarray
            Metres (``"length"``, ``snap_m`` itself) or minutes (``"time"``).
        """
        return snap_m if metric == "length" else snap_m / (self.access_speed_kmh * 1000 / 60)


class SnappingMixin(NetworkState):
    """Snapping methods of :class:`~geo.network.Network`."""

    @property
    def snapper(self) -> Snapper:
        """The network's :class:`Snapper` (its current arrays and settings, the built
        STRtree shared; a new small object on each access)."""
        return Snapper(crs=self.crs, edge_geom_m=self.edge_geom_m, edge_u=self.edge_u,
                       edge_v=self.edge_v, edge_length_m=self.edge_length_m,
                       edge_time_min=self.edge_time_min, edge_oneway=self.edge_oneway,
                       component=self.component, main_component=self.main_component,
                       max_snap_m=self.max_snap_m, access_speed_kmh=self.access_speed_kmh,
                       edge_tree=self._edge_tree)

    def snap_xy(self, lonlat: np.ndarray, *, max_snap_m: float | None = None) -> SnapResult:
        """Snap WGS84 coordinates (n, 2) to the nearest point of the nearest road
        (:meth:`Snapper.snap_xy`). See :meth:`snap`.

        Parameters
        ----------
        lonlat
            (n, 2) EPSG:4326 lon/lat degrees (reshaped from any array of 2n values).
        max_snap_m
            Points farther than this from every road (geodesic metres) are off network;
            default the network's ``max_snap_m``.

        Returns
        -------
        SnapResult
        """
        return self.snapper.snap_xy(lonlat, max_snap_m=max_snap_m)

    def snap(self, points: gpd.GeoDataFrame, *, max_snap_m: float | None = None,
             what: str = "points", warn: bool = True) -> pd.DataFrame:
        """Snap points (polygons: their centroid) to the nearest point of the nearest road.

        Parameters
        ----------
        points
            Any CRS (it must have one).
        max_snap_m
            Points farther than this (metres) from every road are off network:
            ``on_network`` False and a warning naming them (default: the network's
            ``max_snap_m``).
        what
            What the points are, for messages.
        warn
            Warn about points off the network or on a small disconnected part.

        Returns
        -------
        pandas.DataFrame
            Aligned with ``points``: see :meth:`SnapResult.frame` (``snap_m`` in
            geodesic metres to the road).

        Raises
        ------
        NetworkError
            Points without a CRS or without geometry.
        """
        _, lonlat = _as_points_metric(points, self.crs, what)
        res = self.snap_xy(lonlat, max_snap_m=max_snap_m)
        if warn:
            self._warn_snap(res, points, what)
        return res.frame(index=points.index)

    def entry(self, snap: SnapResult, metric: str) -> tuple[np.ndarray, np.ndarray,
                                                            np.ndarray]:
        """How snapped points enter and leave the graph.

        Parameters
        ----------
        snap
            Snapped points.
        metric
            ``"length"`` (metres) or ``"time"`` (minutes).

        Returns
        -------
        ends : ndarray (n, 2)
            The end nodes [u, v] of each point's edge.
        leave : ndarray (n, 2)
            Cost from the point to each end: the access leg plus the partial edge;
            ``inf`` against a one-way edge.
        arrive : ndarray (n, 2)
            Cost from each end to the point (``inf`` against a one-way edge).
        """
        return self.snapper.entry(snap, metric)

    def same_edge(self, so: SnapResult, sd: SnapResult, metric: str) -> np.ndarray:
        """(len(so), len(sd)) costs along the shared edge for pairs on one edge (the
        access legs included), ``inf`` for other pairs or against a one-way edge.

        Parameters
        ----------
        so, sd
            Snapped origins and destinations.
        metric : {"length", "time"}
            Cost: metres, or minutes at the edges' speeds (access legs at
            ``access_speed_kmh``).

        Returns
        -------
        numpy.ndarray
            float64 (len(so), len(sd)) costs in metres or minutes.
        """
        out = np.full((len(so.edge), len(sd.edge)), np.inf)
        oi, di = np.nonzero(so.edge[:, None] == sd.edge[None, :])
        if len(oi):
            e = so.edge[oi]
            c = (self.edge_length_m if metric == "length" else self.edge_time_min)[e]
            df = sd.frac[di] - so.frac[oi]
            ok = ~self.edge_oneway[e] | (df >= 0)
            out[oi, di] = np.where(ok, np.abs(df) * c + self.snap_cost(so.snap_m, metric)[oi]
                                   + self.snap_cost(sd.snap_m, metric)[di], np.inf)
        return out

    def _warn_snap(self, res: SnapResult, points: pd.DataFrame, what: str) -> None:
        warn_snap(res.on_network, res.in_main, res.snap_m, res.max_snap_m, points, what,
                  self.source, stacklevel=4)

    def snap_cost(self, snap_m: np.ndarray, metric: str) -> np.ndarray:
        """Cost of the access leg between a point and its road: metres, or minutes at
        ``access_speed_kmh``.

        Parameters
        ----------
        snap_m
            Snap distances, geodesic metres.
        metric : {"length", "time"}
            Cost: metres, or minutes at the edges' speeds (access legs at
            ``access_speed_kmh``).

        Returns
        -------
        numpy.ndarray
            Metres (``"length"``, ``snap_m`` itself) or minutes (``"time"``).
        """
        return self.snapper.snap_cost(snap_m, metric)


def warn_snap(on_network: np.ndarray, in_main: np.ndarray, snap_m: np.ndarray,
              max_snap_m: float, points: pd.DataFrame, what: str, source: str, *,
              stacklevel: int = 2) -> None:
    """Warn about points off the network or on a small disconnected part of it.

    Parameters
    ----------
    on_network, in_main, snap_m
        The points' :class:`SnapResult` flags and snap distances (metres).
    max_snap_m
        The snap limit used, metres.
    points
        The points (their ``id`` column, else the index, names them).
    what
        What the points are, for messages.
    source
        What the network was built from, for messages.
    stacklevel
        Of the warnings (2: the caller's line).
    """
    off = ~on_network
    small = on_network & ~in_main
    if not (off.any() or small.any()):
        return
    ids = points["id"].astype(str).to_numpy() if "id" in points else \
        np.asarray(points.index.astype(str))
    if off.any():
        ex = ", ".join(f"{i}: {d / 1000:.1f} km from the nearest road" for i, d in
                       zip(ids[off][:5], snap_m[off][:5], strict=True))
        warnings.warn(f"{what}: {int(off.sum())} point(s) are farther than "
                      f"{max_snap_m:g} m from any road of {source} and were not "
                      f"snapped (e.g. {ex}); their costs are NaN. Check their coordinates "
                      "or raise max_snap_m.", UserWarning, stacklevel=stacklevel)
    if small.any():
        warnings.warn(f"{what}: {int(small.sum())} point(s) snap to a small disconnected "
                      f"part of the network (e.g. {', '.join(ids[small][:5])}); pairs that "
                      "cannot be reached are flagged 'unreachable'.", UserWarning,
                      stacklevel=stacklevel)
