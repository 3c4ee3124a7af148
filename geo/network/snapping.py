"""Snapping points to the network."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..crs import WGS84
from ._geo import _as_points_metric, geodesic_m, transformer


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



class SnappingMixin:
    """Snapping methods of :class:`~geo.network.Network`."""

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


    def snap_cost(self, snap_m: np.ndarray, metric: str) -> np.ndarray:
        """Cost of the leg between a point and its node: metres or minutes."""
        return snap_m if metric == "length" else snap_m / (self.access_speed_kmh * 1000 / 60)

