"""What the parts of :class:`~geo.network.Network` share: the attributes the network
sets when it is built, declared once for the mixins that read them (snapping, queries)
and for type checkers. Nothing here runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from pyproj import CRS


class NetworkState:
    """The built network's arrays and settings (see :class:`~geo.network.Network`)."""

    node_lonlat: np.ndarray
    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_time_min: np.ndarray
    edge_geometry: np.ndarray
    edge_geom_m: np.ndarray
    edge_oneway: np.ndarray
    crs: CRS
    source: str
    max_snap_m: float
    access_speed_kmh: float
    trim_m: float
    directed: bool
    component: np.ndarray
    main_component: int
    _edge_tree: shapely.STRtree

    if TYPE_CHECKING:  # defined by Network
        @property
        def n_nodes(self) -> int: ...

        def _graph(self, metric: str) -> Any: ...
