"""A disk cache of built road networks: build a national graph once, load it in seconds.

Opt-in with ``[compute] cache_dir = "cache"`` in the study file (relative to the study
file's folder): :meth:`geo.network.Network.from_study` then stores the network it builds
as one ``network-<key>.npz`` there and loads it on the next run. The key is a SHA-256 of
the input files (resolved path, size and modification time of the roads layer and any
connector layer), the ``[network]`` settings, the metric CRS, the cache format and the
parksite version, so a changed file or setting builds afresh and never reads a stale
graph. The file holds the nodes, directed edges, costs, one-way flags, edge geometries
(coordinates and offsets) and build facts; loading skips reading and joining the lines
and the geodesic lengths, and the constructor rebuilds the CSR matrices and the
snapping trees. Nothing is written unless ``cache_dir`` is set; a cache file that cannot
be read is reported (a warning naming it) and rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

from .. import __version__
from ..io import atomic_path

CACHE_FORMAT = 1
"""Bumped when the stored arrays change meaning."""

_PARAMS = ("source", "max_snap_m", "access_speed_kmh", "trim_m")


def cache_key(paths: Iterable[str | Path], settings: Mapping[str, Any], crs: Any) -> str:
    """A hex key for a network built from ``paths`` with ``settings`` in ``crs``.

    Parameters
    ----------
    paths
        The input files (their resolved path, size and modification time enter the key).
    settings
        The ``[network]`` settings used for the build.
    crs
        The metric CRS of the network.

    Returns
    -------
    str
        24 hex characters.
    """
    h = hashlib.sha256()
    h.update(json.dumps({"format": CACHE_FORMAT, "parksite": __version__,
                         "settings": settings, "crs": CRS.from_user_input(crs).to_wkt()},
                        sort_keys=True, default=str).encode())
    for p in paths:
        p = Path(p).resolve()
        st = p.stat()
        h.update(f"|{p}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:24]


def save_network(net: Any, path: str | Path) -> Path:
    """Write ``net`` (a :class:`~geo.network.Network`) to ``path`` (``.npz``) atomically.

    Parameters
    ----------
    net : geo.network.Network
        The network: nodes (EPSG:4326 lon/lat), directed edges with lengths (m),
        times (min), one-way flags and LineString geometries (EPSG:4326), its metric
        CRS (stored as WKT), ``source``, ``max_snap_m``, ``access_speed_kmh``,
        ``trim_m`` and ``info``.
    path : str or Path
        Output file; written under a temporary name and renamed into place.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        If an edge geometry is not a LineString (only such networks are cached).
    OutputError
        If ``path`` cannot be written (from :func:`geo.io.atomic_path`).
    """
    if not (shapely.get_type_id(net.edge_geometry) == 1).all():
        raise ValueError("only networks of LineString edges are cached")
    xy, idx = shapely.get_coordinates(net.edge_geometry, return_index=True)
    meta = {k: getattr(net, k) for k in _PARAMS}
    meta.update(crs=net.crs.to_wkt(), info=net.info, format=CACHE_FORMAT)
    buf = io.BytesIO()
    np.savez(buf, node_lonlat=net.node_lonlat, edge_u=net.edge_u, edge_v=net.edge_v,
             edge_length_m=net.edge_length_m, edge_time_min=net.edge_time_min,
             edge_oneway=net.edge_oneway, edge_xy=xy, edge_xy_index=idx,
             meta=np.frombuffer(json.dumps(meta, default=str).encode(), dtype=np.uint8))
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())
    return Path(path)


def load_network(cls: type, path: str | Path) -> Any:
    """The network stored by :func:`save_network` (an instance of ``cls``).

    Parameters
    ----------
    cls : type
        The network class to build (:class:`~geo.network.Network`); its constructor
        rebuilds the CSR matrices and snapping trees.
    path : str or Path
        A ``.npz`` file written by :func:`save_network`.

    Returns
    -------
    geo.network.Network
        The stored network, with ``info["cache"]`` set to ``path``.

    Raises
    ------
    ValueError, OSError, KeyError
        When the file is not a network cache of this format.
    """
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(z["meta"].tobytes().decode())
        if meta.get("format") != CACHE_FORMAT:
            raise ValueError(f"cache format {meta.get('format')!r}, expected {CACHE_FORMAT}")
        geoms = shapely.linestrings(z["edge_xy"], indices=z["edge_xy_index"])
        return cls(node_lonlat=z["node_lonlat"], edge_u=z["edge_u"], edge_v=z["edge_v"],
                   edge_length_m=z["edge_length_m"], edge_time_min=z["edge_time_min"],
                   edge_geometry=geoms, edge_oneway=z["edge_oneway"],
                   crs=CRS.from_wkt(meta["crs"]), info={**meta["info"], "cache": str(path)},
                   **{k: meta[k] for k in _PARAMS})


def cached(cls: type, cache_dir: str | Path, paths: Iterable[str | Path],
           settings: Mapping[str, Any], crs: Any, build: Callable[[], Any]) -> Any:
    """The network from ``cache_dir`` when its key matches, else ``build()`` stored there.

    Parameters
    ----------
    cls
        :class:`~geo.network.Network`.
    cache_dir
        Folder of the cache files (created if missing).
    paths, settings, crs
        What the network is built from (see :func:`cache_key`).
    build
        Builds the network when there is no usable cache file.

    Returns
    -------
    geo.network.Network
    """
    d = Path(cache_dir)
    path = d / f"network-{cache_key(paths, settings, crs)}.npz"
    if path.is_file():
        try:
            return load_network(cls, path)
        except (OSError, ValueError, KeyError) as exc:
            warnings.warn(f"{path}: unreadable network cache ({exc}); rebuilding it",
                          stacklevel=2)
    net = build()
    try:
        d.mkdir(parents=True, exist_ok=True)
        save_network(net, path)
    except (OSError, ValueError) as exc:  # the network is right; only the cache failed
        warnings.warn(f"{path}: network not cached ({exc})", stacklevel=2)
        return net
    net.info["cache"] = str(path)
    return net
