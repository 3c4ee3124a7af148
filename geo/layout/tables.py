"""Result tables of a layout (EPSG:4326; areas from the equal-area CRS) and its summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import LayoutConfig
from ..units import MU_M2

if TYPE_CHECKING:  # pragma: no cover
    from ..study import Study
    from .plots import _Plots, _Site


@dataclass
class LayoutResult:
    """What :func:`layout_park` returns. GeoDataFrames are EPSG:4326.

    Attributes
    ----------
    plots
        ``plot_id, block, area_m2, area_mu, usable, restricted_zone, polluter_ok,
        status`` (free, incoming, existing, facility, residual), ``firm_id, industry,
        facility``; polygons.
    assignments
        One row per firm (incoming and existing): ``firm_id, name, industry, kind,
        land_need_mu, status`` (placed, unplaced), ``plots, n_plots, area_mu,
        polluting, reason``; the union of its plots (None when unplaced).
    facilities
        ``facility, name_zh, name_en, plot_id, n_users, weight, mean_distance_m,
        max_distance_m, optimal``; the plot centroid.
    summary
        Areas, parameters, objective values (random, greedy, final), improvement,
        unplaced firms with reasons, timings.
    roads, setbacks, links
        Road surface; the polluter setback area inside the park; lines between
        linked placed firms with their weight (for maps).
    """

    plots: gpd.GeoDataFrame
    assignments: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    summary: dict[str, Any]
    roads: gpd.GeoDataFrame | None = None
    setbacks: gpd.GeoDataFrame | None = None
    links: gpd.GeoDataFrame | None = None


def _plot_frame(P: _Plots, site: _Site, occ: np.ndarray, inc_ids: np.ndarray,
                ind_in: np.ndarray, ex_ids: np.ndarray, ind_ex: np.ndarray,
                plot_fac: np.ndarray) -> gpd.GeoDataFrame:
    status = np.where(~P.usable, "residual", "free").astype(object)
    firm = np.full(len(P.geom), "", dtype=object)
    ind = np.full(len(P.geom), "", dtype=object)
    m = occ >= 0
    status[m], firm[m], ind[m] = "incoming", inc_ids[occ[m]], ind_in[occ[m]]
    m = occ <= -10
    k = -occ[m] - 10
    status[m], firm[m], ind[m] = "existing", ex_ids[k], ind_ex[k]
    status[occ == -3] = "facility"
    return gpd.GeoDataFrame({
        "plot_id": P.ids, "block": P.block, "area_m2": P.area_m2.round(1),
        "area_mu": P.area_mu.round(2), "usable": P.usable, "restricted_zone": P.zone.astype(str),
        "polluter_ok": P.polluter_ok, "status": status.astype(str), "firm_id": firm.astype(str),
        "industry": ind.astype(str), "facility": plot_fac.astype(str)},
        geometry=site.to_w(P.geom), crs=4326)


def _assignment_frame(P: _Plots, site: _Site, inc: pd.DataFrame, fp_f: np.ndarray,
                      fp_plots: np.ndarray, polluting: np.ndarray, reason: np.ndarray,
                      ex: pd.DataFrame | None, ex_plots: list[list[int]]) -> gpd.GeoDataFrame:
    ids = P.ids
    rows = []

    def row(fid, name, ind, kind, need, pl, pol, why):
        return {"firm_id": fid, "name": name, "industry": ind, "kind": kind,
                "land_need_mu": round(float(need), 2), "status": "placed" if pl else "unplaced",
                "plots": ";".join(ids[pl]), "n_plots": len(pl),
                "area_mu": round(float(P.area_mu[pl].sum()), 2) if pl else 0.0,
                "polluting": bool(pol), "reason": "" if pl else why,
                "geometry": site.to_w(shapely.union_all(P.geom[pl])) if pl else None}

    for i in range(len(inc)):  # firms (hundreds): table rows
        pl = [int(x) for x in fp_plots[fp_f[i]] if x >= 0] if fp_f[i] >= 0 else []
        rows.append(row(inc["firm_id"].iat[i], inc["name"].iat[i], inc["industry"].iat[i],
                        "incoming", inc["land_mu"].iat[i], pl, polluting[i], reason[i]))
    for k, pl in enumerate(ex_plots if ex is not None else []):
        e = ex.iloc[k]  # type: ignore[union-attr]  # ex_plots is empty without ex
        rows.append(row(str(e["firm_id"]), str(e["name"]) if "name" in e else "",
                        str(e["industry"]), "existing", e["_land"], pl, False,
                        "stands on land that is not buildable (red line, water, road)"))
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def _links(Afull: np.ndarray, n: int, ax: np.ndarray, ay: np.ndarray, ids: np.ndarray,
           site: _Site) -> gpd.GeoDataFrame:
    """Lines between linked placed firms (at least one incoming), with weight and
    distance."""
    li, lj = np.nonzero(np.triu(Afull, 1) > 0)
    ok = np.isfinite(ax[li]) & np.isfinite(ax[lj]) & ((li < n) | (lj < n))
    li, lj = li[ok], lj[ok]
    geoms = site.to_w(shapely.linestrings(np.stack([np.c_[ax[li], ay[li]],
                                                    np.c_[ax[lj], ay[lj]]], axis=1))) \
        if len(li) else []
    return gpd.GeoDataFrame({
        "from_id": ids[li], "to_id": ids[lj], "weight": Afull[li, lj].round(4),
        "distance_m": (np.abs(ax[li] - ax[lj]) + np.abs(ay[li] - ay[lj])).round(1)},
        geometry=geoms, crs=4326)


def _summary(study: Study, park_id: str, prow: pd.Series, cfg: LayoutConfig, site: _Site, P: _Plots,
             fp_plots: np.ndarray, n: int, n_existing: int, fp_f: np.ndarray,
             objs: dict[str, float], stats: dict[str, Any], inc: pd.DataFrame,
             need: np.ndarray, reason: np.ndarray, fac_rows: list[dict[str, Any]],
             notes: list[str], seconds: dict[str, float]) -> dict[str, Any]:
    park_area = float(shapely.area(site.to_a(site.park_m)))
    build_area = float(shapely.area(site.to_a(site.buildable)))

    def pct(a: float, b: float) -> float | None:
        return round(100.0 * (a - b) / a, 2) if a > 0 else None

    return {
        "park_id": str(park_id), "park_name": str(prow["name"]),
        "crs": study.metric_crs.to_string(), "area_crs": "equal-area (study area_crs)",
        "distance": "rectilinear metres between footprint centroids (grid roads)",
        "parameters": {"plot_mu": cfg.plot_mu, "road_spacing_m": cfg.road_spacing_m,
                       "road_width_m": cfg.road_width_m, "min_plot_mu": cfg.min_plot_mu,
                       "water_setback_m": cfg.water_setback_m,
                       "redline_setback_m": cfg.redline_setback_m,
                       "polluter_setback_m": cfg.polluter_setback_m,
                       "polluting": list(cfg.polluting), "seed": cfg.seed,
                       "include_existing": cfg.include_existing},
        "park_m2": round(park_area, 1), "park_mu": round(park_area / MU_M2, 1),
        "buildable_m2": round(build_area, 1), "buildable_mu": round(build_area / MU_M2, 1),
        "road_m2": round(float(shapely.area(site.to_a(P.roads))), 1),
        "plots_m2": round(float(P.area_m2.sum()), 1),
        "plots_mu": round(float(P.area_mu.sum()), 1),
        "n_plots": int(len(P.geom)), "n_usable_plots": int(P.usable.sum()),
        "plot_size_mu": round(P.cell_m2 / MU_M2, 2), "n_footprints": int(len(fp_plots)),
        "restricted_zones": [z for z, _, _ in site.restricted],
        "n_incoming": int(n), "n_existing": int(n_existing),
        "n_placed": int((fp_f >= 0).sum()), "n_unplaced": int((fp_f < 0).sum()),
        "objective": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in objs.items()},
        "improvement_vs_random_pct": pct(objs["random"], objs["final"]),
        "improvement_vs_greedy_pct": pct(objs["greedy"], objs["final"]),
        "greedy_vs_random_pct": pct(objs["random"], objs["greedy"]),
        "search": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in stats.items()},
        "unplaced": [{"firm_id": inc["firm_id"].iat[i], "industry": inc["industry"].iat[i],
                      "land_need_mu": float(need[i]), "reason": reason[i]}
                     for i in np.flatnonzero(fp_f < 0)],
        "facilities": [{k: v for k, v in r.items() if k != "geometry"} for r in fac_rows],
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "notes": notes,
    }
