"""The red-line gate over spatially partitioned ``dask_geopandas`` frames.

Parks (or plots) are partitioned by Hilbert distance
(``dask_geopandas.GeoDataFrame.hilbert_distance``, split into equal-count runs along
the curve); the red-line zones
are broadcast to every partition; each partition runs the single-process gate
(:func:`geo.redline.redline_conflicts`) unchanged, in one equal-area CRS fixed for
the whole frame, and the tables are reassembled in the input order — the same
tables as the single-process path.
"""

from __future__ import annotations

from typing import Any

import dask
import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .crs import WGS84
from .network import Network, SnapResult, _as_points_metric, geodesic_m, transformer
from .redline import RedlineResult, area_crs_of, redline_conflicts
from .register import load_firms, study_chains
from .sourcing import SupplyIndex, _check_radius, _rates


def redline_conflicts_partitioned(
    parks: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    npartitions: int = 8,
    area_crs=None,
    **kwargs: Any,
) -> RedlineResult:
    """:func:`geo.redline.redline_conflicts` on Hilbert-partitioned parks.

    Parameters
    ----------
    parks, zones
        As for :func:`geo.redline.redline_conflicts` (any CRS).
    npartitions
        Spatial partitions of ``parks``.
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
    order = pd.Series(np.arange(len(parks)), index=parks["id"].astype(str).to_numpy())
    n = max(1, min(npartitions, len(parks)))
    # Partition membership by Hilbert distance (computed by dask_geopandas per input
    # partition), split into n runs of equal count along the curve — what
    # spatial_shuffle(by="hilbert") does, without its all-to-all shuffle, which cost
    # ~10 s of fixed overhead on a LocalCluster. The tasks get slices of the input
    # frame itself so every column keeps its dtype.
    ddf = dask_geopandas.from_geopandas(parks[["geometry"]], npartitions=n)
    hd = ddf.hilbert_distance(total_bounds=parks.total_bounds).compute().to_numpy()
    members = np.array_split(np.argsort(hd, kind="stable"), n)
    zones_d = dask.delayed(zones, pure=True)  # one copy in the graph, sent to every task
    tasks = [
        dask.delayed(redline_conflicts)(parks.iloc[np.sort(m)], zones_d, area_crs=area_crs,
                                        **kwargs)
        for m in members if len(m)
    ]
    results = [r for r in dask.compute(*tasks) if len(r.parks)]
    first = results[0]
    park_table = pd.concat([r.parks for r in results], ignore_index=True)
    park_table = park_table.iloc[np.argsort(order[park_table["park_id"].astype(str)].to_numpy(),
                                            kind="stable")].reset_index(drop=True)
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



def _rate_block(reach_m, radius_m, cols, ends, arrive, on, xy, lonlat, ind_pos, W,
                supplier_xy, crs):
    """Road and straight-line supply rates of one partition of firms (arrays only)."""
    n, m = len(ends), W.shape[1]
    cov = np.zeros((n, m), dtype=bool)
    crow = np.zeros((n, m), dtype=bool)
    to_w = transformer(crs, WGS84)
    for c, (p, sxy) in enumerate(zip(cols, supplier_xy, strict=True)):
        if p >= 0:
            cost = np.minimum(reach_m[p, ends[:, 0]] + arrive[:, 0],
                              reach_m[p, ends[:, 1]] + arrive[:, 1])
            cov[:, c] = (cost <= radius_m) & on
        if sxy is not None and len(sxy) and n:
            _, nn = cKDTree(sxy).query(xy)
            slon, slat = to_w.transform(sxy[nn, 0], sxy[nn, 1])
            crow[:, c] = geodesic_m(lonlat[:, 0], lonlat[:, 1], slon, slat) <= radius_m
    rate = _rates(W, ind_pos, cov)
    rate[~on] = np.nan
    return rate, _rates(W, ind_pos, crow)


def supply_rates_partitioned(study, radius_km: float | None = None, *,
                             npartitions: int = 8) -> pd.DataFrame:
    """Firm-level local supply rates (road and straight line) on Hilbert partitions.

    The road search (:class:`geo.sourcing.SupplyIndex`, one multi-source Dijkstra per
    input industry) runs once in this process; the firms are then rated per partition
    of the register, each task getting only arrays (its firms' snaps, coordinates and
    industries, the shared ``(k, n_nodes)`` reach matrix and supplier coordinates) —
    never the ``Study`` or the network.

    Parameters
    ----------
    study
        A :class:`geo.study.Study` with firms, roads and chain maps.
    radius_km
        Sourcing radius, km by road (and km straight line for the ``_crow`` rate);
        default ``[sourcing] radius_km``.
    npartitions
        Number of Hilbert-ordered partitions (capped at the number of firms).

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
    r_km = _check_radius(radius_km if radius_km is not None
                         else study.config.sourcing.radius_km)
    net = Network.from_study(study)
    chains = study_chains(study)
    firms = load_firms(study)
    snap = net.snap(firms, what="firms")
    idx = SupplyIndex.build(net, chains, firms, snap, r_km)
    ids = chains.ids
    W, _ = chains.weight_matrix(ids)
    pos = {j: i for i, j in enumerate(ids)}
    ind_pos = np.array([pos.get(j, -1) for j in firms["industry"].to_numpy(dtype=object)])
    sr = SnapResult.from_frame(snap, net.max_snap_m)
    ends, _, arrive = net.entry(sr, "length")
    xy, lonlat = _as_points_metric(firms, net.crs, "firms")
    kpos = {j: i for i, j in enumerate(idx.industries)}
    cols = [kpos.get(j, -1) for j in ids]
    sup = [idx.supplier_xy.get(j) for j in ids]
    n = max(1, min(npartitions, len(firms)))
    ddf = dask_geopandas.from_geopandas(firms[["geometry"]], npartitions=n)
    hd = ddf.hilbert_distance(total_bounds=firms.total_bounds).compute().to_numpy()
    members = [np.sort(m) for m in np.array_split(np.argsort(hd, kind="stable"), n) if len(m)]
    reach_d = dask.delayed(idx.reach_m, pure=True)
    sup_d = dask.delayed(sup, pure=True)
    W_d = dask.delayed(W, pure=True)
    on = sr.on_network
    tasks = [dask.delayed(_rate_block)(reach_d, idx.radius_m, cols, ends[m], arrive[m], on[m],
                                       xy[m], lonlat[m], ind_pos[m], W_d, sup_d, net.crs)
             for m in members]
    rate = np.full(len(firms), np.nan)
    crow = np.full(len(firms), np.nan)
    for m, (r, c) in zip(members, dask.compute(*tasks), strict=True):
        rate[m], crow[m] = r, c
    return pd.DataFrame({"firm_id": firms["firm_id"].to_numpy(), "local_supply_rate": rate,
                         "local_supply_rate_crow": crow})
