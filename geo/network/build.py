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
from typing import TYPE_CHECKING, Any, cast

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
from .cache import cached as cached_network

if TYPE_CHECKING:  # pragma: no cover
    from ..study import Study
    from .core import Network


def _read_connectors(study: Study, value: str) -> gpd.GeoDataFrame:
    """The ``[network] connectors`` layer: a study layer key or a line file."""
    if value in study.layers:
        g = study.load(value)
        g.attrs["source_path"] = f"{study.path} layers.{value}"
        return g
    p = Path(value)
    p = p if p.is_absolute() else study.root / p
    g = read_layer(check_exists(p, what="connectors file"), role="roads")
    g.attrs["source_path"] = str(p)
    return g


def join_connectors(roads: gpd.GeoDataFrame, conn: gpd.GeoDataFrame, crs: Any,
                    max_join_m: float) -> gpd.GeoDataFrame:
    """Roads plus hand-added links (bridges, tunnels, ferries) joined at their ends.

    Parameters
    ----------
    roads
        Road lines (any CRS).
    conn
        Connector lines: fields ``penalty_min`` (minutes added to the travel time,
        ≥ 0; default 0), ``kind``, ``name_zh``, ``name_en``, ``source``.
    crs
        The metric CRS in which end points are matched.
    max_join_m
        Each connector end moves to the nearest road end point within this (metres).

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 roads and connectors; connectors carry ``added = True`` and
        ``join_m`` (the larger of their two end moves, metres).

    Raises
    ------
    NetworkError
        A connector that is not a line, has non-finite coordinates, a negative or
        non-numeric penalty, or an end farther than ``max_join_m`` from every road end.
    """
    src = str(conn.attrs.get("source_path", "connectors"))
    c = conn.to_crs(WGS84).explode(index_parts=False, ignore_index=True)
    geoms = np.asarray(c.geometry.values, dtype=object)
    name = c["name_en"].astype(str).to_numpy() if "name_en" in c else \
        np.array([f"feature {i}" for i in range(len(c))])
    bad = ~np.isin(shapely.get_type_id(geoms), [1]) | shapely.is_empty(geoms)
    xy = shapely.get_coordinates(geoms[~bad]) if (~bad).any() else np.zeros((0, 2))
    if bad.any() or not np.isfinite(xy).all():
        i = int(np.flatnonzero(bad)[0]) if bad.any() else 0
        raise NetworkError(f"{src}: connector {name[i]!r} has no usable line geometry "
                           "(empty, not a line, or non-finite coordinates); draw it as a "
                           "line from one road end to the other")
    pen = pd.to_numeric(c["penalty_min"], errors="coerce").to_numpy(float) \
        if "penalty_min" in c else np.zeros(len(c))
    if "penalty_min" in c and (~np.isfinite(pen) | (pen < 0)).any():
        i = int(np.flatnonzero(~np.isfinite(pen) | (pen < 0))[0])
        raise NetworkError(f"{src}: connector {name[i]!r}: penalty_min must be a number of "
                           f"minutes ≥ 0, got {c['penalty_min'].iloc[i]!r}")
    r = roads.to_crs(WGS84)
    rg = np.asarray(r.geometry.values, dtype=object)
    rends = np.vstack([shapely.get_coordinates(shapely.get_point(rg, 0)),
                       shapely.get_coordinates(shapely.get_point(rg, -1))])
    to_m = transformer(WGS84, crs)
    tree = cKDTree(np.column_stack(to_m.transform(rends[:, 0], rends[:, 1])))
    a = shapely.get_coordinates(shapely.get_point(geoms, 0))
    b = shapely.get_coordinates(shapely.get_point(geoms, -1))
    da, ia = tree.query(np.column_stack(to_m.transform(a[:, 0], a[:, 1])))
    db, ib = tree.query(np.column_stack(to_m.transform(b[:, 0], b[:, 1])))
    far = (da > max_join_m) | (db > max_join_m)
    if far.any():
        i = int(np.flatnonzero(far)[0])
        raise NetworkError(f"{src}: connector {name[i]!r} ends {max(da[i], db[i]):.0f} m from "
                           f"the nearest road end (more than {max_join_m:g} m); move its end "
                           "points onto the roads it links")
    mid = [shapely.get_coordinates(g)[1:-1] for g in geoms]  # a few lines, a few vertices
    parts = [np.vstack([rends[i0], m, rends[i1]]) for i0, m, i1 in zip(ia, mid, ib, strict=True)]
    # connectors may have different vertex counts: one ragged call with indices
    new = shapely.linestrings(np.vstack(parts),
                              indices=np.repeat(np.arange(len(parts)), [len(p) for p in parts]))
    out = c.drop(columns="geometry").assign(penalty_min=pen, added=True,
                                            join_m=np.maximum(da, db))
    out = gpd.GeoDataFrame(out, geometry=new, crs=WGS84)
    base = r.assign(penalty_min=0.0, added=False)
    return gpd.GeoDataFrame(pd.concat([base, out], ignore_index=True), geometry="geometry",
                            crs=WGS84)


class BuildMixin:
    """The ``from_*`` constructors of :class:`~geo.network.Network`."""

    @classmethod
    def _from_edges(cls, node_lonlat: np.ndarray, u: np.ndarray, v: np.ndarray,
                    geoms: np.ndarray, classes: np.ndarray | None,
                    maxspeed: np.ndarray | None, oneway: np.ndarray, *, crs: CRS | None,
                    source: str, speeds: dict[str, float] | None,
                    default_speed_kmh: float, max_snap_m: float,
                    access_speed_kmh: float, trim_m: float,
                    info: dict[str, Any],
                    penalty_min: np.ndarray | None = None) -> Network:
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
            penalty_min = penalty_min[~loop] if penalty_min is not None else None
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
        if penalty_min is not None:  # connectors: ferry waits, tolls (minutes)
            time_min = time_min + penalty_min
        if crs is None:
            b = (node_lonlat[:, 0].min(), node_lonlat[:, 1].min(), node_lonlat[:, 0].max(),
                 node_lonlat[:, 1].max())
            crs = metric_crs_for(b, warn=False)
        net = cast("type[Network]", cls)
        return net(node_lonlat=node_lonlat, edge_u=u.astype(np.int64), edge_v=v.astype(np.int64),
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
        default_speed_kmh, access_speed_kmh
            Speed of lines without class or limit, and of the leg between a point and
            its road (km/h).
        max_snap_m
            Points farther than this from every road are off the network (metres).
        trim_m
            Service areas: buffer around reached roads (metres).
        source
            What the network was built from, for messages (default: the layer's path).

        Returns
        -------
        Network
            Nodes in EPSG:4326, edges with geodesic lengths (m) and times (min).

        Raises
        ------
        NetworkError
            No CRS, no lines, no edges left after dropping loops, a named field missing.
        """
        src = source or str(gdf.attrs.get("source_path", "road lines"))
        g = _road_lines(gdf, src, snap_tolerance_m)
        if crs is None:
            b = g.total_bounds
            crs = metric_crs_for(tuple(b), warn=False)
        crs = CRS.from_user_input(crs)
        geoms = np.asarray(g.geometry.values, dtype=object)
        ends = np.vstack([shapely.get_coordinates(shapely.get_point(geoms, 0)),
                          shapely.get_coordinates(shapely.get_point(geoms, -1))])
        node_of_end, lon, lat, n_nodes = _join_ends(ends, crs, snap_tolerance_m)
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
        penalty = pd.to_numeric(g["penalty_min"], errors="coerce").fillna(0.0).to_numpy(float) \
            if "penalty_min" in g.columns else None
        if "added" in g.columns:
            info["connectors"] = int(g["added"].fillna(False).astype(bool).sum())
        net = cls._from_edges(np.column_stack([lon, lat]), u, v, geoms, classes, maxspeed,
                              oneway, crs=crs, source=src, speeds=speeds,
                              default_speed_kmh=default_speed_kmh, max_snap_m=max_snap_m,
                              access_speed_kmh=access_speed_kmh, trim_m=trim_m, info=info,
                              penalty_min=penalty)
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

        Parameters
        ----------
        path : str or os.PathLike
            The ``.osm`` file (OSM XML, EPSG:4326 lon/lat by definition).
        crs : pyproj.CRS or anything pyproj reads, optional
            Metric CRS the network measures and snaps in; default the Gauss-Krüger zone
            of the data.
        retain_all : bool, optional
            Keep every connected part, not only the largest.
        speeds : dict of str to float, optional
            Speeds (km/h) by ``highway`` class overriding :data:`DEFAULT_SPEEDS_KMH`.
        default_speed_kmh : float, optional
            Speed (km/h) of edges with neither ``maxspeed`` nor a known class.
        max_snap_m : float, optional
            Points farther than this (metres) from every road are off the network.
        access_speed_kmh : float, optional
            Speed (km/h) of the leg between a point and its nearest road.
        trim_m : float, optional
            Service areas: buffer (metres) around the reached roads.

        Returns
        -------
        Network
            Directed network with geodesic edge lengths (m) and travel times (min); its
            ``info`` holds ``osm_nodes`` and ``osm_edges`` (osmnx's graph size).

        Raises
        ------
        MissingFileError
            If ``path`` does not exist.
        LayerError
            If ``path`` is a pipe, socket or device.
        NetworkError
            If osmnx cannot read the file as OSM XML, or the file has no drivable roads.
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
        """A line file (GeoPackage, Shapefile, GeoJSON, …) or an ``.osm`` file.

        Parameters
        ----------
        path : str or os.PathLike
            A line layer in any CRS it declares (read with role ``roads`` and converted to
            WGS84), or an ``.osm``/``.xml`` OSM file (see :meth:`from_osm_xml`).
        layer : str or None, optional
            Layer name inside a multi-layer vector file; ignored for OSM files.
        **kwargs
            Passed to :meth:`from_lines` (``snap_tolerance_m``, ``crs``, field names,
            ``speeds``, speeds in km/h and distances in metres); for an OSM file only
            ``crs``, ``speeds``, ``default_speed_kmh``, ``max_snap_m``,
            ``access_speed_kmh`` and ``trim_m`` are passed on, the rest are ignored.

        Returns
        -------
        Network
            The network built from the file; its ``source`` names the file (and layer).

        Raises
        ------
        MissingFileError
            If ``path`` does not exist.
        LayerError
            If the line file cannot be read or is not a line layer.
        NetworkError
            If no network can be built from it (see :meth:`from_lines`,
            :meth:`from_osm_xml`).
        """
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
    def from_study(cls, study: Study, *, connectors: bool = True) -> Network:
        """The network of a study: its roads layer with the ``[network]`` settings.

        ``connectors=False`` leaves out the ``[network] connectors`` layer (the network as
        it was before the hand-added links; for :func:`geo.network.audit.audit_study`).
        The network is built in the study's metric CRS (``study.metric_crs``), cached in
        ``study.cache["network"]`` and, when ``[compute] cache_dir`` is set, on disk
        (:mod:`geo.network.cache`, keyed by the input files and settings).

        Parameters
        ----------
        study : Study
            A loaded study (:func:`geo.study.load_study`). The roads layer is
            ``[network] layer``, or else the study's first layer of role ``roads``.
        connectors : bool, optional
            Join the ``[network] connectors`` lines (bridges, tunnels, ferries) to the
            roads (default True).

        Returns
        -------
        Network
            The study's network (the same object on repeated calls with the same
            ``connectors``).

        Raises
        ------
        NetworkError
            If the study has no roads layer, or no network can be built from it.
        LayerError
            If the roads or connectors layer cannot be read or lies outside the study area.
        MissingFileError
            If a connectors file does not exist.
        """
        sec = network_settings(study)
        key = sec["layer"]
        if key is None:
            roads = study.by_role("roads")
            if not roads:
                raise NetworkError(f"{study.path}: the study has no roads layer; add a "
                                   "[layers.roads] table with role = \"roads\"")
            key = roads[0].key
        cache = study.cache.setdefault("network", {})
        ckey = key if connectors else (key, "without connectors")
        if ckey in cache:
            return cache[ckey]
        if not connectors:
            sec = {**sec, "connectors": None}

        def build() -> Network:
            g = study.load(key)
            if sec["connectors"]:
                g = join_connectors(g, _read_connectors(study, sec["connectors"]),
                                    study.metric_crs, sec["max_snap_m"])
            return cls.from_lines(
                g, snap_tolerance_m=sec["snap_tolerance_m"], crs=study.metric_crs,
                class_field=sec["class_field"], maxspeed_field=sec["maxspeed_field"],
                oneway_field=sec["oneway_field"], speeds=sec["speeds"],
                default_speed_kmh=sec["default_speed_kmh"], max_snap_m=sec["max_snap_m"],
                access_speed_kmh=sec["access_speed_kmh"], trim_m=sec["trim_m"],
                source=f"{study.path} layers.{key}")

        cache_dir = study.config.compute.cache_dir
        if cache_dir:  # opt-in disk cache (geo.network.cache)
            inputs = [study.spec(key).path]
            if sec["connectors"]:
                c = sec["connectors"]
                inputs.append(study.spec(c).path if c in study.layers else
                              Path(c) if Path(c).is_absolute() else study.root / c)
            net = cached_network(cls, study.root / cache_dir, inputs, sec, study.metric_crs,
                                 build)
        else:
            net = build()
        cache[ckey] = net
        return net


def _road_lines(gdf: gpd.GeoDataFrame, src: str, snap_tolerance_m: float) -> gpd.GeoDataFrame:
    """The road lines as single LineStrings in WGS84 (empty geometries dropped), after
    checking there are lines, a CRS and a valid snap tolerance."""
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
    return g.to_crs(WGS84)


def _join_ends(ends: np.ndarray, crs: CRS, tolerance_m: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Nodes from line end points (WGS84 lon/lat): ends within ``tolerance_m`` metres
    (in ``crs``) of each other — clusters of that graph — are one node at their mean.
    Returns each end's node, the nodes' lon and lat, and the node count."""
    x, y = transformer(WGS84, crs).transform(ends[:, 0], ends[:, 1])
    exy = np.column_stack([x, y])
    _, first, inv = np.unique(np.round(exy, 6), axis=0, return_index=True,
                              return_inverse=True)
    inv = inv.ravel()
    uxy = exy[first]
    if tolerance_m > 0 and len(uxy) > 1:
        pairs = cKDTree(uxy).query_pairs(tolerance_m, output_type="ndarray")
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
    return node_of_end, lon, lat, n_nodes

