"""Road networks: build a routable graph, snap points to it, and answer distance questions.

A :class:`Network` is built once from

* a line layer (:meth:`Network.from_lines`): the bundled YRD highways or a provincial
  road file a user already has (see :mod:`geo.network.build` for how lines join and
  what fields are read);
* an OpenStreetMap XML file (:meth:`Network.from_osm_xml`, through
  :func:`osmnx.graph_from_xml`);
* a study file's ``roads`` layer (:meth:`Network.from_study`), with its ``[network]``
  settings (:mod:`geo.network._settings`).

Costs
-----
Edge length is the geodesic length of the line in metres (WGS84 ellipsoid). Travel time
is length / speed (``maxspeed``, else :data:`DEFAULT_SPEEDS_KMH` by road class, else
``default_speed_kmh``; override in ``[network.speeds]``).

Snapping
--------
Points (firms, parks, sites) snap to the nearest point of the nearest *road*, not node
(``shapely.STRtree.query_nearest`` over the edges in the study's metric CRS, then a
vectorised ``shapely.line_locate_point``), as osmnx/pandana users expect. The access
leg (geodesic metres from the point to the road) is added to every cost (metres for
length, minutes at ``access_speed_kmh`` for time), and the point enters the graph at
both ends of its edge with the partial edge costs: a virtual source row in the CSR,
joined to those ends (only forward on a one-way edge). Two points on one edge may also
go straight along it. A point farther than ``max_snap_m`` from every road is *off
network*: it is reported (a warning with its distance to the nearest road, and a
column), and its answers are NaN — never a silently long or wrong figure. A point in
another connected component than its destination gets ``inf`` and the pair is flagged
``unreachable``.

Engine
------
One ``scipy.sparse`` CSR matrix per cost, built once; every query is
``scipy.sparse.csgraph.dijkstra`` with ``indices`` and ``limit``. Distance queries
(:meth:`Network.node_costs`, :meth:`Network.grouped_costs`) run on a
:class:`ReducedGraph` built once per cost (:mod:`geo.network.reduced`). Routes with
predecessors (:meth:`Network.od`) use the full graph. No Python loop runs over edges,
points or pairs.

Modules: ``_settings`` (the ``[network]`` section), ``_geo`` (geodesy and point
helpers), ``build`` (constructors), ``reduced`` (node elimination), ``snapping``,
``queries`` (OD, reach, multi-source searches) and ``core`` (the :class:`Network`).
"""

from __future__ import annotations

from ._geo import (
    GEOD,
    Metric,
    _as_points_metric,
    geodesic_lengths_m,
    geodesic_m,
    parse_maxspeed,
    parse_oneway,
    transformer,
)
from ._settings import (
    ACCESS_SPEED_KMH,
    DEFAULT_SPEED_KMH,
    DEFAULT_SPEEDS_KMH,
    MAX_SNAP_M,
    SNAP_TOLERANCE_M,
    TRIM_M,
    network_settings,
)
from .core import Network, network_from_option
from .reduced import ReducedGraph
from .snapping import Snapper, SnapResult, warn_snap

__all__ = [
    "ACCESS_SPEED_KMH", "DEFAULT_SPEED_KMH", "DEFAULT_SPEEDS_KMH", "GEOD", "MAX_SNAP_M",
    "SNAP_TOLERANCE_M", "TRIM_M", "Metric", "Network", "ReducedGraph",
    "SnapResult", "Snapper", "_as_points_metric", "geodesic_lengths_m", "geodesic_m",
    "network_from_option", "network_settings", "parse_maxspeed", "parse_oneway",
    "transformer", "warn_snap",
]
