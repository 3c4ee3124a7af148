"""The red-line gate, snapping and firm-level supply rates on Dask partitions.

Parks, plots or firms are partitioned by Hilbert distance
(``dask_geopandas.GeoDataFrame.hilbert_distance``, split into equal-count runs along
the curve, or runs of equal estimated cost: :func:`hilbert_partitions`). Each task runs
the single-process rule on its partition with one copy of what it shares — the red-line
zones, the network's :class:`~geo.network.Snapper`, its
:class:`~geo.network.ReducedGraph` — and the tables are reassembled in the input order,
equal to the single-process ones:

* :func:`redline_conflicts_partitioned` = :func:`geo.redline.redline_conflicts`;
* :func:`snap_partitioned` = :meth:`geo.network.Network.snap`;
* :func:`supply_index_partitioned` = :meth:`geo.sourcing.SupplyIndex.build` (snapping per
  partition, the per-industry multi-source searches as one task per run of
  industries);
* :func:`supply_rates_partitioned` = the rates of :func:`geo.sourcing.run_sourcing`,
  snapping, searching and rating in one task graph (the snaps stay on the workers).

Everything runs on the active ``dask.distributed`` client if there is one
(:func:`geo.compute.client`), else on dask's default scheduler.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import dask
import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from .chains import Chains
from .crs import WGS84
from .network import (
    Network,
    ReducedGraph,
    Snapper,
    SnapResult,
    _as_points_metric,
    geodesic_m,
    transformer,
    warn_snap,
)
from .redline import RedlineResult, area_crs_of, redline_conflicts
from .register import load_firms, study_chains
from .sourcing import (
    SupplyIndex,
    _check_radius,
    _rates,
    _rows_by_code,
    supplier_codes,
    supplier_sources,
)

INDUSTRY_TASKS = 4
"""Default number of tasks the per-industry searches are split into."""


def hilbert_partitions(gdf: gpd.GeoDataFrame, npartitions: int,
                       weights: np.ndarray | None = None) -> list[np.ndarray]:
    """Row positions of ``npartitions`` runs along the Hilbert curve, of equal count or
    of equal total weight.

    What ``spatial_shuffle(by="hilbert")`` does, without its all-to-all shuffle (~10 s
    of fixed overhead on a LocalCluster). The key (dask_geopandas' Hilbert distance of
    the bounding-box centres) is computed in this process: it is cheap arithmetic, and
    sending the geometries to the workers for it cost more.

    Parameters
    ----------
    gdf
        Any geometries (none empty or missing).
    npartitions
        Runs wanted (capped at the number of rows; at least one).
    weights
        Each row's estimated cost (> 0): runs of about equal total cost instead of
        equal count.

    Returns
    -------
    list of numpy.ndarray
        Ascending row positions of each non-empty run, covering every row once.
    """
    n = max(1, min(npartitions, len(gdf)))
    ddf = dask_geopandas.from_geopandas(gdf[["geometry"]], npartitions=n)
    hd = ddf.hilbert_distance(total_bounds=gdf.total_bounds).compute(scheduler="sync")
    order = np.argsort(hd.to_numpy(), kind="stable")
    if weights is None:
        runs = np.array_split(order, n)
    else:
        cum = np.cumsum(weights[order])
        runs = np.split(order, np.searchsorted(cum, cum[-1] * np.arange(1, n) / n))
    return [np.sort(m) for m in runs if len(m)]


#: Estimated cost in the red-line gate of a park near a zone (its bounding-box centre
#: within ``buffer_m`` + ``nearest_within_m`` of a zone's bounding box: the pair tests
#: and the nearest-zone search), relative to 1 for the others. Measured on 10⁶
#: synthetic plots in the YRD study (64 Hilbert runs: ~32 µs vs ~4 µs a plot).
NEAR_ZONE_COST = 7.0


def redline_costs(parks: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, area_crs, *,
                  buffer_m: float = 0.0, nearest_within_m: float = 20_000.0
                  ) -> np.ndarray | None:
    """Each park's estimated relative cost in the red-line gate (1 or
    :data:`NEAR_ZONE_COST`), from bounding boxes: cheap and vectorised.

    Parameters
    ----------
    parks, zones
        As for :func:`geo.redline.redline_conflicts`.
    area_crs
        The gate's equal-area CRS (metres).
    buffer_m, nearest_within_m
        The gate's distances (m).

    Returns
    -------
    numpy.ndarray or None
        One weight per park; None when a layer has no CRS (the gate reports it).
    """
    if parks.crs is None or zones.crs is None:
        return None
    b = shapely.bounds(np.asarray(parks.geometry.values))
    x, y = (b[:, 0] + b[:, 2]) / 2.0, (b[:, 1] + b[:, 3]) / 2.0
    if not parks.crs.equals(area_crs):
        x, y = transformer(parks.crs, area_crs).transform(x, y)
    d = max(float(nearest_within_m), 0.0) + max(float(buffer_m), 0.0)
    zb = shapely.bounds(np.asarray(zones.geometry.to_crs(area_crs).values))
    zb = zb[np.isfinite(zb).all(axis=1)]  # missing, empty or unprojectable zones
    reach = shapely.union_all(shapely.box(zb[:, 0] - d, zb[:, 1] - d, zb[:, 2] + d,
                                          zb[:, 3] + d))
    shapely.prepare(reach)
    return np.where(shapely.intersects_xy(reach, x, y), NEAR_ZONE_COST, 1.0)  # NaN: 1


@dataclass
class _PackedGeoms:
    """Geometries in a compact form for tasks' arguments: the coordinates of the simple
    polygons (one ring, 2-D, not empty) and the WKB of the rest.

    Pickling shapely objects (or a GeoDataFrame: its WKB) cost the driver ~2 s per
    million plots; the coordinates, read once in input order (the geometries' memory
    order: a Hilbert run's plots lie all over the heap), cost ~0.4 s and travel as one
    buffer per task. :meth:`part` gives a task's share, :func:`_unpack_geoms` rebuilds
    the geometries with the same coordinates, bit for bit.
    """

    simple: np.ndarray   # bool per geometry
    xy: np.ndarray       # coordinates of the simple ones, in input order
    start: np.ndarray    # first row in xy of each geometry (simple ones)
    count: np.ndarray    # its number of coordinates (0 for the others)
    wkb: np.ndarray      # WKB of the others (None for the simple ones)

    @classmethod
    def pack(cls, geoms: np.ndarray) -> _PackedGeoms:
        simple = (shapely.get_type_id(geoms) == 3) & ~shapely.has_z(geoms)
        simple[simple] = shapely.get_num_interior_rings(geoms[simple]) == 0
        count = np.zeros(len(geoms), dtype=np.int64)
        count[simple] = shapely.get_num_coordinates(geoms[simple])
        simple &= count > 0  # empty polygons go as WKB
        wkb = np.full(len(geoms), None, dtype=object)
        wkb[~simple] = shapely.to_wkb(geoms[~simple])
        return cls(simple, shapely.get_coordinates(geoms[simple]),
                   np.cumsum(count) - count, count, wkb)

    def part(self, m: np.ndarray) -> tuple[np.ndarray, ...]:
        """The arguments of :func:`_unpack_geoms` for the geometries at positions ``m``."""
        sm = self.simple[m]
        start, count = self.start[m[sm]], self.count[m[sm]]
        first = np.cumsum(count) - count  # rows of each geometry in the part's xy
        rows = np.repeat(start - first, count) + np.arange(count.sum())
        return sm, self.xy[rows], count, self.wkb[m[~sm]]


def _unpack_geoms(simple: np.ndarray, xy: np.ndarray, count: np.ndarray,
                  wkb: np.ndarray) -> np.ndarray:
    """The geometries of :meth:`_PackedGeoms.part`, in its order."""
    out = np.empty(len(simple), dtype=object)
    rings = shapely.linearrings(xy, indices=np.repeat(np.arange(len(count)), count))
    out[simple] = shapely.polygons(rings)
    out[~simple] = shapely.from_wkb(wkb)
    return out


def _redline_block(cols: pd.DataFrame, geoms: tuple, crs, shared: tuple) -> RedlineResult:
    """:func:`geo.redline.redline_conflicts` on one partition (``cols`` = its ``id`` and
    ``name``, ``geoms`` from :meth:`_PackedGeoms.part`); ``shared`` = (zones, area CRS,
    keyword arguments), one copy per worker."""
    zones, area_crs, kwargs = shared
    parks = gpd.GeoDataFrame(cols, geometry=_unpack_geoms(*geoms), crs=crs)
    return redline_conflicts(parks, zones, area_crs=area_crs, **kwargs)


def _identity(x):
    return x


def _active_client():
    """The ``dask.distributed`` client ``dask.compute`` would use, or None (none
    active, or another scheduler set in dask's configuration)."""
    if dask.config.get("scheduler", None) not in (None, "dask.distributed", "distributed"):
        return None
    try:
        from distributed import default_client
        return default_client()
    except (ImportError, ValueError):
        return None


def _run_blocks(fn, blocks, shared) -> list:
    """``fn(*block, shared)`` for every block, results in block order.

    On a ``dask.distributed`` client the tasks are submitted one by one (the workers
    start on the first while the driver cuts the next; the scheduler hands each task
    to the next free worker) and gathered as they finish, straight from the workers of
    a cluster this process started (not through the scheduler). ``shared`` goes to the
    cluster once, as a task (a worker lost to memory pressure gets it back from the
    scheduler). Without a client: one graph on dask's default scheduler.
    """
    c = _active_client()
    if c is None:
        shared_d = dask.delayed(shared, traverse=False)
        return list(dask.compute(*[dask.delayed(fn)(*b, shared_d) for b in blocks]))
    from distributed import as_completed

    shared_f = c.submit(_identity, shared, pure=False)
    futs = [c.submit(fn, *b, shared_f, pure=False) for b in blocks]
    index = {f.key: i for i, f in enumerate(futs)}
    direct = c.direct_to_workers if c.direct_to_workers is not None else \
        getattr(c, "cluster", None) is not None
    out: list = [None] * len(futs)
    for f in as_completed(futs):
        out[index[f.key]] = c.gather(f, direct=direct)
        f.release()
    shared_f.release()
    return out


def redline_conflicts_partitioned(
    parks: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    npartitions: int = 8,
    area_crs=None,
    **kwargs: Any,
) -> RedlineResult:
    """:func:`geo.redline.redline_conflicts` on Hilbert-partitioned parks.

    The Hilbert runs have about equal estimated cost (:func:`redline_costs`: parks near
    a zone cost more), and with several partitions per worker a free worker takes the
    next one, so the workers finish together. Each task gets its partition's ``id`` and
    ``name`` (the only fields the gate reads) and its geometries packed as coordinates
    (:class:`_PackedGeoms`); the zones and the keyword arguments go to the cluster once.

    Parameters
    ----------
    parks, zones
        As for :func:`geo.redline.redline_conflicts` (any CRS).
    npartitions
        Spatial partitions of ``parks`` (tasks; several per worker balance the load).
    area_crs
        The equal-area CRS; default the one the single-process gate would pick.
    **kwargs
        Passed to :func:`geo.redline.redline_conflicts`.

    Returns
    -------
    RedlineResult
        Equal to the single-process result (rows in the single-process order).
        Runs on the active ``dask.distributed`` client if there is one
        (:func:`geo.compute.client`), else on dask's default scheduler.
    """
    if area_crs is None:
        area_crs = area_crs_of(parks, zones)
    geoms = np.asarray(parks.geometry.values)
    if not len(geoms) or (shapely.is_missing(geoms) | shapely.is_empty(geoms)).any():
        # nothing to partition, or a plot without a shape: the gate's own answer (its
        # empty tables, or its error naming the plot), never a partitioning error
        return redline_conflicts(parks, zones, area_crs=area_crs, **kwargs)
    costs = redline_costs(parks, zones, area_crs, buffer_m=kwargs.get("buffer_m", 0.0),
                          nearest_within_m=kwargs.get("nearest_within_m", 20_000.0))
    members = hilbert_partitions(parks, npartitions, costs)
    # the fields keep their dtypes; a missing one fails in the task as it does in the gate
    cols = parks[[c for c in ("id", "name") if c in parks.columns]]
    packed = _PackedGeoms.pack(geoms)
    blocks = ((cols.iloc[m].reset_index(drop=True), packed.part(m), parks.crs)
              for m in members)
    results = _run_blocks(_redline_block, blocks, (zones, area_crs, kwargs))
    return _assemble_redline(members, results)


def _assemble_redline(members: list[np.ndarray], results: list[RedlineResult]
                      ) -> RedlineResult:
    """One :class:`RedlineResult` in the single-process order from the partitions'."""
    first = results[0]
    # each partition's park table has one row per park in the partition's (ascending)
    # order, so the input order is the inverse of the concatenated row positions
    park_table = pd.concat([r.parks for r in results], ignore_index=True)
    park_table = park_table.iloc[np.argsort(np.concatenate(members))].reset_index(drop=True)
    # partitions without conflicts give empty frames of object columns: leave them out
    # so the columns keep the dtypes the single-process gate gives
    conflicts = pd.concat([r.conflicts for r in results if len(r.conflicts)]
                          or [first.conflicts], ignore_index=True)
    # the single-process order (geo.redline sorts its conflicts the same way)
    rank = {"overlap": 0, "restricted": 1, "buffer": 2}
    conflicts = conflicts.assign(_k=conflicts["kind"].map(rank)).sort_values(
        ["_k", "overlap_m2", "min_distance_m", "park_id", "zone_id"],
        ascending=[True, False, True, True, True], kind="mergesort",
    ).drop(columns="_k").reset_index(drop=True)
    conflicts = gpd.GeoDataFrame(conflicts, geometry="geometry", crs=first.conflicts.crs)
    notes = list(dict.fromkeys(x for r in results for x in r.notes))
    return RedlineResult(conflicts=conflicts, parks=park_table, buffer_m=first.buffer_m,
                         area_crs=first.area_crs, nearest_within_m=first.nearest_within_m,
                         notes=notes)


def _reassemble(members: list[np.ndarray], parts: list[SnapResult], n: int) -> SnapResult:
    """One :class:`SnapResult` in input order from the partitions' snaps."""
    first = parts[0]
    out = {}
    for f in dataclasses.fields(SnapResult):
        if f.name == "max_snap_m":
            continue
        a = getattr(first, f.name)
        arr = np.empty((n, *a.shape[1:]), dtype=a.dtype)
        for m, part in zip(members, parts, strict=True):  # a few partitions
            arr[m] = getattr(part, f.name)
        out[f.name] = arr
    return SnapResult(**out, max_snap_m=first.max_snap_m)


def snap_partitioned(net: Network, points: gpd.GeoDataFrame, *, npartitions: int = 8,
                     what: str = "points", warn: bool = True) -> pd.DataFrame:
    """:meth:`geo.network.Network.snap` on Hilbert partitions of the points.

    Parameters
    ----------
    net
        The network (its :class:`~geo.network.Snapper` goes into the graph once).
    points
        Any CRS (it must have one); polygons snap by their centroid.
    npartitions
        Spatial partitions (capped at the number of points).
    what, warn
        As for :meth:`~geo.network.Network.snap`.

    Returns
    -------
    pandas.DataFrame
        Equal to ``net.snap(points)``.

    Raises
    ------
    NetworkError
        Points without a CRS or without geometry.
    """
    _, lonlat = _as_points_metric(points, net.crs, what)
    members = hilbert_partitions(points, npartitions)
    snapper = dask.delayed(net.snapper, pure=True)
    parts = dask.compute(*[dask.delayed(Snapper.snap_xy)(snapper, lonlat[m])
                           for m in members])
    res = _reassemble(members, list(parts), len(points))
    if warn:
        warn_snap(res.on_network, res.in_main, res.snap_m, res.max_snap_m, points, what,
                  net.source)
    return res.frame(index=points.index)


def _snap_block(snapper: Snapper, lonlat: np.ndarray, code: np.ndarray, bounds: np.ndarray
                ) -> tuple[SnapResult, list[tuple[np.ndarray, ...]]]:
    """One partition's snaps and its supplier sources split by industry task."""
    sr = snapper.snap_xy(lonlat)
    grp, nodes, w = supplier_sources(snapper, sr, code)
    task = np.searchsorted(bounds, grp, side="right") - 1
    return sr, [(grp[task == t], nodes[task == t], w[task == t])
                for t in range(len(bounds) - 1)]


def _reach_block(reduced: ReducedGraph, sources: list[tuple[np.ndarray, ...]], first: int,
                 k: int, limit: float) -> np.ndarray:
    """Rows ``first … first + k − 1`` of the reach matrix, from every partition's sources."""
    grp, nodes, w = (np.concatenate([s[i] for s in sources]) for i in range(3))
    return reduced.grouped(grp, nodes, w, k, limit=limit, first=first)


@dataclass
class _Plan:
    """The delayed snaps (one per Hilbert partition) and reach rows (one per run of
    industries) of a register, with what the driver knows of it."""

    industries: list[str]
    code: np.ndarray
    xy: np.ndarray
    lonlat_parts: list[Any]     # each partition's lon/lat, one copy in the graph
    members: list[np.ndarray]
    bounds: np.ndarray          # reach task t has industries bounds[t] … bounds[t+1]−1
    snapper: Any
    snaps: list[Any]
    reach: list[Any]

    @classmethod
    def make(cls, net: Network, chains: Chains, firms: gpd.GeoDataFrame, radius_m: float,
             npartitions: int, industry_tasks: int) -> _Plan:
        inds, code = supplier_codes(firms, chains)
        xy, lonlat = _as_points_metric(firms, net.crs, "firms")
        members = hilbert_partitions(firms, npartitions)
        k = len(inds)
        bounds = np.linspace(0, k, min(max(1, industry_tasks), k) + 1).round().astype(int)
        snapper = dask.delayed(net.snapper, pure=True)   # one copy each, in the graph
        reduced = dask.delayed(net.reduced("length"), pure=True)
        lonlat_parts = [dask.delayed(lonlat[m], pure=True) for m in members]
        blocks = [dask.delayed(_snap_block, nout=2)(snapper, ll, code[m], bounds)
                  for ll, m in zip(lonlat_parts, members, strict=True)]
        reach = [dask.delayed(_reach_block)(reduced, [b[1][t] for b in blocks],
                                            int(bounds[t]), int(bounds[t + 1] - bounds[t]),
                                            radius_m)
                 for t in range(len(bounds) - 1)]
        return cls(inds, code, xy, lonlat_parts, members, bounds, snapper, [b[0] for b in blocks],
                   reach)

    def where(self, industry: str) -> tuple[int, int]:
        """(reach task, row in it) of an industry; (−1, −1) if it supplies nothing."""
        if industry not in self.industries:
            return -1, -1
        p = self.industries.index(industry)
        t = int(np.searchsorted(self.bounds, p, side="right") - 1)
        return t, p - int(self.bounds[t])


def supply_index_partitioned(net: Network, chains: Chains, firms: gpd.GeoDataFrame,
                             radius_km: float, *, npartitions: int = 8,
                             industry_tasks: int = INDUSTRY_TASKS
                             ) -> tuple[SupplyIndex, pd.DataFrame]:
    """:meth:`geo.sourcing.SupplyIndex.build` with the snapping and the searches on Dask.

    The firms snap per Hilbert partition (one copy of the network's
    :class:`~geo.network.Snapper` in the graph); the per-industry multi-source searches
    run as ``industry_tasks`` tasks of consecutive industries on one copy of the
    network's reduced CSR graph, each fed the partitions' supplier sources of its
    industries.

    Parameters
    ----------
    net, chains, firms
        As for :meth:`~geo.sourcing.SupplyIndex.build` (``firms`` from
        :func:`geo.register.load_firms`).
    radius_km
        The sourcing radius (km, > 0).
    npartitions
        Spatial partitions of the firms.
    industry_tasks
        Tasks the searches are split into (capped at the number of industries).

    Returns
    -------
    index : SupplyIndex
        Equal to ``SupplyIndex.build(net, chains, firms, net.snap(firms), radius_km)``
        (the same reach matrix).
    snap : pandas.DataFrame
        Equal to ``net.snap(firms, what="firms", warn=False)``.

    Raises
    ------
    InputError
        ``radius_km`` is not a positive number.
    """
    radius_m = _check_radius(radius_km) * 1000.0
    plan = _Plan.make(net, chains, firms, radius_m, npartitions, industry_tasks)
    snaps, reach = dask.compute(plan.snaps, plan.reach)
    sr = _reassemble(plan.members, list(snaps), len(firms))
    d = np.concatenate(reach) if reach else np.full((0, net.n_nodes), np.inf)
    rows_of = _rows_by_code(plan.code, plan.industries)
    idx = SupplyIndex(net, chains, plan.industries, radius_m, d,
                      {j: plan.xy[rows_of[j]] for j in plan.industries}, rows_of)
    return idx, sr.frame(index=firms.index)


def _rate_block(sr, reach, loc, radius_m, snapper, xy, lonlat, ind_pos, W, supplier_xy):
    """Road and straight-line supply rates of one partition of firms (arrays only), and
    its snap distances and main-component flags (for the driver's warnings)."""
    n, m = len(xy), W.shape[1]
    ends, _, arrive = snapper.entry(sr, "length")
    on = sr.on_network
    cov = np.zeros((n, m), dtype=bool)
    crow = np.zeros((n, m), dtype=bool)
    to_w = transformer(snapper.crs, WGS84)
    for c, ((t, p), sxy) in enumerate(zip(loc, supplier_xy, strict=True)):  # industries
        if t >= 0:
            r = reach[t][p]
            cost = np.minimum(r[ends[:, 0]] + arrive[:, 0], r[ends[:, 1]] + arrive[:, 1])
            cov[:, c] = (cost <= radius_m) & on
        if sxy is not None and len(sxy) and n:
            _, nn = cKDTree(sxy).query(xy)
            slon, slat = to_w.transform(sxy[nn, 0], sxy[nn, 1])
            crow[:, c] = geodesic_m(lonlat[:, 0], lonlat[:, 1], slon, slat) <= radius_m
    rate = _rates(W, ind_pos, cov)
    rate[~on] = np.nan
    return rate, _rates(W, ind_pos, crow), sr.snap_m, sr.in_main


def supply_rates_partitioned(study, radius_km: float | None = None, *,
                             npartitions: int = 8,
                             industry_tasks: int = INDUSTRY_TASKS) -> pd.DataFrame:
    """Firm-level local supply rates (road and straight line) on Hilbert partitions.

    One task graph: each partition of the register snaps its firms
    (:func:`supply_index_partitioned`'s snapping), the per-industry searches run as
    ``industry_tasks`` tasks, and each partition then rates its firms with its own
    snaps (they never leave the worker), the reach rows and the supplier coordinates —
    never the ``Study`` or the network. The register is read in this process.

    Parameters
    ----------
    study
        A :class:`geo.study.Study` with firms, roads and chain maps.
    radius_km
        Sourcing radius, km by road (and km straight line for the ``_crow`` rate);
        default ``[sourcing] radius_km``.
    npartitions
        Number of Hilbert-ordered partitions (capped at the number of firms).
    industry_tasks
        Tasks the per-industry searches are split into.

    Returns
    -------
    pandas.DataFrame
        ``firm_id``, ``local_supply_rate``, ``local_supply_rate_crow`` in register
        order (shares 0–1 of input value; NaN for firms off the network), equal to
        those columns of :func:`geo.sourcing.run_sourcing`'s firm table (without a
        ``[sourcing] supplier_edges`` list, which overrides them there).

    Raises
    ------
    InputError
        ``radius_km`` is not a positive number, or the firms layer is missing.
    NetworkError
        The road network cannot be built.
    """
    radius_m = _check_radius(radius_km if radius_km is not None
                              else study.config.sourcing.radius_km) * 1000.0
    net = Network.from_study(study)
    chains = study_chains(study)
    firms = load_firms(study)
    plan = _Plan.make(net, chains, firms, radius_m, npartitions, industry_tasks)
    ids = chains.ids
    W, _ = chains.weight_matrix(ids)
    ind_pos = pd.Index(ids).get_indexer(firms["industry"].to_numpy(dtype=object))
    rows_of = _rows_by_code(plan.code, plan.industries)
    sup = dask.delayed([plan.xy[rows_of[j]] if j in rows_of else None for j in ids],
                       pure=True)
    loc = [plan.where(j) for j in ids]
    W_d = dask.delayed(W, pure=True)
    tasks = [dask.delayed(_rate_block)(s, plan.reach, loc, radius_m, plan.snapper,
                                       plan.xy[m], ll, ind_pos[m], W_d, sup)
             for s, ll, m in zip(plan.snaps, plan.lonlat_parts, plan.members, strict=True)]
    n = len(firms)
    rate, crow, snap_m = np.empty(n), np.empty(n), np.empty(n)
    in_main = np.empty(n, dtype=bool)
    for m, (r, c, d, im) in zip(plan.members, dask.compute(*tasks), strict=True):
        rate[m], crow[m], snap_m[m], in_main[m] = r, c, d, im
    warn_snap(snap_m <= net.max_snap_m, in_main, snap_m, net.max_snap_m, firms, "firms",
              net.source)
    return pd.DataFrame({"firm_id": firms["firm_id"].to_numpy(), "local_supply_rate": rate,
                         "local_supply_rate_crow": crow})
