"""The :class:`Network` object: nodes, directed edges and one CSR graph per cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from ..crs import WGS84
from ..errors import InputError, NetworkError
from ..study import Study
from ._geo import Metric, _xy, transformer
from ._settings import ACCESS_SPEED_KMH, MAX_SNAP_M, TRIM_M
from .build import BuildMixin
from .queries import QueriesMixin


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



@dataclass
class Network(BuildMixin, QueriesMixin):
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
        to_m = transformer(WGS84, self.crs)
        self.edge_geom_m = shapely.transform(self.edge_geometry, lambda c: _xy(to_m, c))
        self._edge_tree = shapely.STRtree(self.edge_geom_m)

    @property
    def n_nodes(self) -> int:
        return len(self.node_lonlat)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    def summary(self) -> dict[str, Any]:
        """Size and connectivity figures (for reports and the CLI).

        Returns
        -------
        dict
            ``source``, ``nodes``, ``edges``, ``directed``, ``road_km`` (sum of edge
            lengths, km), ``components``, ``largest_component_nodes``,
            ``largest_component_share`` (0–1), ``component_sizes_top5``, plus the build
            notes in :attr:`info`.
        """
        sizes = self.component_sizes
        return {"source": self.source, "nodes": self.n_nodes, "edges": self.n_edges,
                "directed": self.directed,
                "road_km": float(self.edge_length_m.sum() / 1000.0),
                "components": int(self.n_components),
                "largest_component_nodes": int(sizes[0]),
                "largest_component_share": float(sizes[0] / sizes.sum()),
                "component_sizes_top5": [int(s) for s in sizes[:5]], **self.info}

    def _graph(self, metric: str) -> _Graph:
        if metric not in self._graphs:
            raise InputError(f"metric must be 'length' or 'time', got {metric!r}")
        return self._graphs[metric]

    def to_networkx(self, metric: Metric = "length") -> Any:
        """The same graph as a ``networkx.DiGraph`` (for checks and benchmarks).

        Parameters
        ----------
        metric : {"length", "time"}
            Edge weight: metres or minutes (the shorter of parallel edges).

        Returns
        -------
        networkx.DiGraph
            Nodes 0…n−1, both directions of two-way edges, weight attribute ``weight``.

        Raises
        ------
        InputError
            ``metric`` is not ``"length"`` or ``"time"``.
        """
        import networkx as nx  # optional: only for checks and benchmarks

        g = self._graph(metric).primary.tocoo()
        G = nx.DiGraph()
        G.add_nodes_from(range(self.n_nodes))
        G.add_weighted_edges_from(zip(g.row.tolist(), g.col.tolist(), g.data.tolist(),
                                      strict=True))
        return G

    def without_edges(self, mask: np.ndarray) -> Network:
        """A copy without the edges where ``mask`` is True (same nodes).

        Parameters
        ----------
        mask
            (n_edges,) bool: the edges to drop.

        Returns
        -------
        Network
            A new network with the same nodes, CRS and settings (graphs rebuilt).

        Raises
        ------
        NetworkError
            Every edge is dropped.
        """
        keep = ~np.asarray(mask, dtype=bool)
        return Network(node_lonlat=self.node_lonlat, edge_u=self.edge_u[keep],
                       edge_v=self.edge_v[keep], edge_length_m=self.edge_length_m[keep],
                       edge_time_min=self.edge_time_min[keep],
                       edge_geometry=self.edge_geometry[keep],
                       edge_oneway=self.edge_oneway[keep], crs=self.crs, source=self.source,
                       max_snap_m=self.max_snap_m, access_speed_kmh=self.access_speed_kmh,
                       trim_m=self.trim_m, info=dict(self.info))


def network_from_option(value: str | None, study: Study | None, *,
                        layer: str | None = None) -> Network:
    """``--network``: a study layer key, a line file (``layer`` inside a GeoPackage), or
    an ``.osm`` file; default the study's roads.

    Parameters
    ----------
    value
        The option's value (a layer key of ``study``, or a file path), or None.
    study
        The study, or None when no study is given.
    layer
        The layer inside a multi-layer file.

    Returns
    -------
    Network
        Built in the study's metric CRS (a layer key or the study's roads), or in the
        metric CRS of the file's extent.

    Raises
    ------
    NetworkError
        Neither ``value`` nor ``study`` is given, the layer key names a layer whose role
        is not roads, or the network cannot be built.
    MissingFileError, LayerError
        The file does not exist or cannot be read as a line layer.
    """
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
