"""Candidate regions: connected top cells, their polygons, areas and nearest features."""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from rasterio import features
from scipy import ndimage

from ..grid import (
    Grid,
)
from ..units import MU_M2, m2_to_ha, m2_to_mu
from .config import SuitabilityConfig
from .criteria import _layer_metric


def _label_cut(mask: np.ndarray, rcut: np.ndarray, ccut: np.ndarray
               ) -> tuple[np.ndarray, int]:
    """4-connected labels of ``mask`` as if cut just before the rows ``rcut`` and the
    columns ``ccut`` (ascending): a blank row/column inserted there cuts 4-connectivity,
    and is dropped again from the labels. Returns the labels (``mask``'s shape) and
    their count."""
    gapped = np.insert(np.insert(mask, rcut, False, axis=0), ccut, False, axis=1)
    lab, m = ndimage.label(gapped)
    keep_r = np.ones(gapped.shape[0], dtype=bool)
    keep_r[rcut + np.arange(rcut.size)] = False
    keep_c = np.ones(gapped.shape[1], dtype=bool)
    keep_c[ccut + np.arange(ccut.size)] = False
    return lab[keep_r][:, keep_c], m


def _regions(top: np.ndarray, grid: Grid, min_cells: int, max_cells: int | None = None
             ) -> tuple[np.ndarray, int, np.ndarray]:
    """Label 4-connected regions of ``top`` cells; keep those of ≥ ``min_cells``.

    With ``max_cells``, a region larger than that is cut by square tiles of
    ⌊√max_cells⌋ cells a side (aligned to the grid's first row and column, so the cut
    is reproducible): each 4-connected part inside one tile is a region of its own
    (at most ``max_cells``), kept if ≥ ``min_cells``.

    Returns the labels (0 = none, 1…n), n, and for each region 1…n the id of the
    contiguous top-cell region it comes from (``parent[i - 1]``; parents numbered
    1… in their own order; the parts cut from one region share it).
    """
    lab, n = ndimage.label(top)
    lab = lab.astype(np.int32, copy=False)
    parent_of = np.arange(n + 1, dtype=np.int32)
    if n and max_cells is not None:
        sizes = np.bincount(lab.ravel(), minlength=n + 1)
        big = sizes > max_cells
        big[0] = False
        if big.any():
            s = max(1, math.isqrt(int(max_cells)))
            inbig = big[lab]
            h, w = lab.shape
            plab, m = _label_cut(inbig, np.arange(s, h, s), np.arange(s, w, s))
            # parent of each part: the big region its cells belong to
            ppar = np.zeros(m + 1, dtype=np.int32)
            ppar[plab[inbig]] = lab[inbig]
            lab = np.where(inbig, plab + n, lab).astype(np.int32)
            parent_of = np.concatenate([parent_of, ppar[1:]])
            n = n + m
    if n == 0:
        return lab, 0, np.zeros(0, dtype=np.int32)
    sizes = np.bincount(lab.ravel(), minlength=n + 1)
    keep = sizes >= min_cells
    keep[0] = False
    newid = np.zeros(n + 1, dtype=np.int32)
    newid[keep] = np.arange(1, int(keep.sum()) + 1)
    # parents numbered 1… in the order of the original labels
    par = parent_of[keep]
    _, parent = np.unique(par, return_inverse=True)
    return newid[lab], int(keep.sum()), (parent + 1).astype(np.int32)


def _polygons(labels: np.ndarray, grid: Grid, n: int) -> np.ndarray:
    """Polygons (grid CRS) of region labels 1…n, vectorised in one pass."""
    out: list[list] = [[] for _ in range(n + 1)]
    rows = np.nonzero(labels.any(axis=1))[0]
    if not rows.size:
        return np.array([None] * n, dtype=object)
    r0, r1 = int(rows.min()), int(rows.max()) + 1
    sub = labels[r0:r1]
    tr = Grid(grid.crs, grid.x0, grid.y0 - r0 * grid.cell_m, grid.cell_m, grid.width,
              r1 - r0).transform
    for geom, val in features.shapes(sub, mask=sub > 0, transform=tr, connectivity=4):
        out[int(val)].append(shapely.geometry.shape(geom))
    return np.array([shapely.union_all(p) if len(p) > 1 else p[0] for p in out[1:]],
                    dtype=object)


def _nearest_distance(geoms: np.ndarray, targets: np.ndarray) -> np.ndarray:
    if not len(targets):
        return np.full(len(geoms), np.nan)
    tree = shapely.STRtree(targets)
    (gi, ti), d = tree.query_nearest(geoms, return_distance=True, all_matches=False)
    out = np.full(len(geoms), np.nan)
    out[gi] = d
    return out


@dataclass
class RegionStats:
    """Per-region sums of candidate regions 1…n (index i is region i + 1).

    Attributes
    ----------
    polygons : numpy.ndarray
        shapely polygons in the grid's metric CRS.
    n_cells : numpy.ndarray
        Cells per region.
    score_sum, score_min, score_max : numpy.ndarray
        Sum, minimum and maximum of the cells' scores (float64).
    stability_sum : numpy.ndarray or None
        Sum of the cells' stability (share of Monte Carlo runs in the top cells).
    """

    polygons: np.ndarray
    n_cells: np.ndarray
    score_sum: np.ndarray
    score_min: np.ndarray
    score_max: np.ndarray
    stability_sum: np.ndarray | None = None


def _region_stats(labels: np.ndarray, grid: Grid, n: int, score: np.ndarray,
                  stability: np.ndarray | None) -> RegionStats:
    """:class:`RegionStats` of region labels 1…n of a whole grid."""
    lab = labels.ravel()
    sel = lab > 0
    li = lab[sel]
    sc = score.ravel()[sel].astype(np.float64)
    smin = np.full(n + 1, np.inf)
    np.minimum.at(smin, li, sc)
    smax = np.full(n + 1, -np.inf)
    np.maximum.at(smax, li, sc)
    stab = None
    if stability is not None:
        st = stability.ravel()[sel].astype(np.float64)
        stab = np.bincount(li, weights=st, minlength=n + 1)[1:]
    return RegionStats(_polygons(labels, grid, n), np.bincount(li, minlength=n + 1)[1:],
                       np.bincount(li, weights=sc, minlength=n + 1)[1:], smin[1:], smax[1:],
                       stab)


def _candidates(study, cfg: SuitabilityConfig, grid: Grid, labels: np.ndarray, n: int,
                score: np.ndarray, stability: np.ndarray | None,
                reg_runs: np.ndarray | None, parent: np.ndarray | None = None
                ) -> gpd.GeoDataFrame:
    stats = _region_stats(labels, grid, n, score, stability) if n else None
    return candidate_table(study, cfg, grid, stats, reg_runs, parent)


def _add_distances(g: gpd.GeoDataFrame, study, cfg: SuitabilityConfig, grid: Grid) -> None:
    """``dist_highway_m`` and ``dist_redline_m`` (core/redline zones) of each region:
    exact geometry-to-geometry metres in the grid's metric CRS (NaN without the layer)."""
    road_key = cfg.road_layer or next((s.key for s in study.by_role("roads")), None)
    geoms = g.geometry.values
    g["dist_highway_m"] = _nearest_distance(geoms, _layer_metric(study, road_key).geometry.values) \
        if road_key else np.nan
    zones = study.load_role("redlines")
    if zones is None:
        g["dist_redline_m"] = np.nan
        return
    cf = study.by_role("redlines")[0].options.get("class") or "class"
    zm = zones.to_crs(grid.crs)
    hard = zm[cf].astype(str).str.lower().isin(["core", "redline"]).to_numpy() \
        if cf in zm.columns else np.ones(len(zm), bool)
    g["dist_redline_m"] = _nearest_distance(geoms, zm.geometry.values[hard])


def _districts(study, points: gpd.GeoSeries) -> np.ndarray:
    """The name of the district (role ``boundaries``) each point lies in ("" outside)."""
    d = study.load_role("boundaries")
    if d is None:
        return np.full(len(points), "", dtype=object)
    j = gpd.sjoin(gpd.GeoDataFrame(geometry=points, crs=4326), d[["name", "geometry"]],
                  predicate="within", how="left")
    j = j[~j.index.duplicated()]
    return j["name"].fillna("").astype(str).to_numpy()


def candidate_table(study, cfg: SuitabilityConfig, grid: Grid, stats: RegionStats | None,
                    reg_runs: np.ndarray | None, parent: np.ndarray | None = None
                    ) -> gpd.GeoDataFrame:
    """The ranked candidate regions (EPSG:4326) from their per-region sums.

    Parameters
    ----------
    stats
        Per-region sums (polygons in ``grid``'s metric CRS), None when there is no region.
    reg_runs
        (regions, runs) mean score of each region in each Monte Carlo run, or None.
    parent
        The contiguous top-cell region each region was cut from (1…), or None.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per region of at least ``min_area_mu`` (areas in m², ha and 亩 in the
        study's equal-area CRS), best mean score first.
    """
    cols = ["rank", "mean_score", "area_ha", "area_mu", "p_top_n", "cell_stability_mean",
            "dist_highway_m", "dist_redline_m", "district", "min_score", "max_score",
            "mc_rank_median", "n_cells", "area_m2", "region_id", "parent_region", "lon", "lat"]
    if stats is None or not len(stats.n_cells):
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=4326)
    n = len(stats.n_cells)
    ncell = stats.n_cells
    g = gpd.GeoDataFrame({"region_id": np.arange(1, n + 1),
                          "parent_region": parent if parent is not None and len(parent) == n
                          else np.arange(1, n + 1), "mean_score": stats.score_sum / ncell,
                          "min_score": stats.score_min, "max_score": stats.score_max,
                          "n_cells": ncell}, geometry=stats.polygons, crs=grid.crs)
    area = g.to_crs(study.area_crs).area.to_numpy()
    g["area_m2"] = area
    g["area_ha"] = m2_to_ha(area)
    g["area_mu"] = m2_to_mu(area)
    g = g[g["area_m2"] >= cfg.min_area_mu * MU_M2 - 1e-6].copy()
    if g.empty:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=4326)
    _add_distances(g, study, cfg, grid)
    g = g.sort_values(["mean_score", "area_m2"], ascending=[False, False]).reset_index(drop=True)
    g.insert(0, "rank", np.arange(1, len(g) + 1))
    rid = g["region_id"].to_numpy()
    if reg_runs is not None:
        sub = reg_runs[rid - 1]  # (regions kept, runs)
        ranks = (-sub).argsort(axis=0).argsort(axis=0) + 1
        g["p_top_n"] = (ranks <= cfg.top_n).mean(axis=1)
        g["mc_rank_median"] = np.median(ranks, axis=1)
        assert stats.stability_sum is not None  # kept whenever the Monte Carlo ran
        g["cell_stability_mean"] = stats.stability_sum[rid - 1] / g["n_cells"].to_numpy()
    else:
        g["p_top_n"] = np.nan
        g["mc_rank_median"] = np.nan
        g["cell_stability_mean"] = np.nan
    g = g.to_crs(4326)
    cen = g.geometry.representative_point()
    g["lon"] = cen.x.round(5)
    g["lat"] = cen.y.round(5)
    g["district"] = _districts(study, cen)
    for c in ("mean_score", "min_score", "max_score", "cell_stability_mean"):
        g[c] = g[c].astype(float).round(4)
    for c in ("area_m2", "dist_highway_m", "dist_redline_m"):
        g[c] = g[c].astype(float).round(1)
    g["area_ha"] = g["area_ha"].round(2)
    g["area_mu"] = g["area_mu"].round(1)
    return g[cols + ["geometry"]]
