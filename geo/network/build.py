"""Building a network: from a line layer, an OpenStreetMap XML file or a study.

Lines join where their end points coincide within ``snap_tolerance_m`` metres; lines
that cross without a shared end point (bridges, or data not split at junctions) do not
join — split them at junctions first (QGIS: *Vector ▸ Geometry tools ▸ Split with
lines*). Optional fields: a road class (``highway``/``class``/``fclass``/``道路等级``),
``maxspeed`` (km/h) and ``oneway``.

Edge length is the geodesic length of the line in metres (``pyproj.Geod`` on the WGS84
ellipsoid, vectorised over all segments). Travel time is length / speed, the speed being
the line's ``maxspeed`` if it has one, else :data:`DEFAULT_SPEEDS_KMH` by road class,
else ``default_speed_kmh``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from ..crs import WGS84, metric_crs_for
from ..errors import NetworkError
from ..layers import check_exists, read_layer
from ._geo import (
    CLASS_FIELDS,
    MAXSPEED_FIELDS,
    ONEWAY_FIELDS,
    _first,
    _pick_field,
    geodesic_lengths_m,
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

if TYPE_CHECKING:  # pragma: no cover
    from ..study import Study
    from .core import Network


class BuildMixin:
    """The ``from_*`` constructors of :class:`~geo.network.Network`."""

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
        import osmnx as ox  # optional heavy dependency: only for .osm files

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
        g = read_layer(p, role="roads", layer=layer)
        return cls.from_lines(g, source=str(p) + (f" (layer {layer})" if layer else ""),
                              **kwargs)

    @classmethod
    def from_study(cls, study: Study) -> Network:
        """The network of a study: its roads layer with the ``[network]`` settings."""
        sec = network_settings(study)
        key = sec["layer"]
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
            g, snap_tolerance_m=sec["snap_tolerance_m"], crs=study.metric_crs,
            class_field=sec["class_field"], maxspeed_field=sec["maxspeed_field"],
            oneway_field=sec["oneway_field"], speeds=sec["speeds"],
            default_speed_kmh=sec["default_speed_kmh"], max_snap_m=sec["max_snap_m"],
            access_speed_kmh=sec["access_speed_kmh"], trim_m=sec["trim_m"],
            source=f"{study.path} layers.{key}")
        cache[key] = net
        return net
