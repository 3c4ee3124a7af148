"""Plots: the buildable land of a park cut into plots along an internal road grid.

Everything here works in the study's metric CRS (Gauss–Krüger, metres); plot areas are
measured in the study's equal-area CRS and reported in 亩 and m².
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from ..config import LayoutConfig
from ..parks import occupied_land_mu
from ..redline import split_industries
from ..register import load_firms
from ..units import MU_M2

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..study import Study


def _to(crs_from, crs_to):
    t = Transformer.from_crs(crs_from, crs_to, always_xy=True)
    return lambda g: shapely.transform(g, lambda c: np.column_stack(t.transform(c[:, 0],
                                                                                c[:, 1])))


def _polys_only(g):
    """Polygonal parts of a geometry (intersections can add lines and points)."""
    if g is None or shapely.is_empty(g):
        return shapely.Polygon()
    parts = shapely.get_parts(g)
    keep = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    return shapely.union_all(keep) if len(keep) else shapely.Polygon()


def _clip_layer(gdf: gpd.GeoDataFrame | None, to_m, window) -> np.ndarray:
    """Geometries of a layer (metric) that touch ``window`` (a metric polygon)."""
    if gdf is None or len(gdf) == 0:
        return np.empty(0, dtype=object)
    g = np.asarray(to_m(np.asarray(gdf.geometry.values, dtype=object)), dtype=object)
    g = g[~shapely.is_missing(g) & ~shapely.is_empty(g)]
    hit = shapely.STRtree(g).query(window, predicate="intersects")
    return g[np.sort(hit)]


def subdivide(buildable, cfg: LayoutConfig, restricted: list[tuple[str, Any]] | None = None
              ) -> tuple[np.ndarray, np.ndarray, Any, float]:
    """Cut buildable land (metric polygon) into plots along a road grid.

    Roads of ``road_width_m`` run every ``road_spacing_m`` (grid aligned on multiples of
    the spacing); each block is cut into k × k plots of about ``plot_mu`` 亩.

    Parameters
    ----------
    buildable
        The buildable land, a shapely (Multi)Polygon in metres in the study's metric
        CRS.
    cfg
        The ``[layout]`` settings (``road_spacing_m``, ``road_width_m`` in metres,
        ``plot_mu`` in 亩).
    restricted
        ``(zone id, polygon)`` pairs of restricted zones in the same metric CRS; plots
        are split along their edges.

    Returns
    -------
    plots : ndarray of Polygons
        Every piece of buildable land off the roads, each wholly inside or outside
        each restricted zone (metric CRS).
    block : ndarray of str
        Block label "x_y" of each plot.
    roads : Polygon
        The road surface on buildable land (metric CRS).
    cell_m2 : float
        Area of a whole plot (m²).
    """
    S, w = float(cfg.road_spacing_m), float(cfg.road_width_m)
    inner = S - w
    k = max(1, int(round(inner / math.sqrt(cfg.plot_mu * MU_M2))))
    step = inner / k
    minx, miny, maxx, maxy = shapely.bounds(buildable)
    bx = np.arange(math.floor(minx / S), math.ceil(maxx / S) + 1)
    by = np.arange(math.floor(miny / S), math.ceil(maxy / S) + 1)
    BX, BY, CI, CJ = np.meshgrid(bx, by, np.arange(k), np.arange(k), indexing="ij")
    x0 = BX.ravel() * S + w / 2 + CI.ravel() * step
    y0 = BY.ravel() * S + w / 2 + CJ.ravel() * step
    cells = shapely.box(x0, y0, x0 + step, y0 + step)
    blabel = np.char.add(np.char.add(BX.ravel().astype(str), "_"), BY.ravel().astype(str))
    shapely.prepare(buildable)
    hit = shapely.STRtree(cells).query(buildable, predicate="intersects")
    hit = np.sort(hit)
    cells, blabel = cells[hit], blabel[hit]
    inside = shapely.contains_properly(buildable, cells)
    pieces = cells.copy()
    edge = ~inside
    pieces[edge] = [_polys_only(g) for g in shapely.intersection(cells[edge], buildable)]
    # roads: the strips on the grid lines
    xs = bx * S
    ys = by * S
    strips = np.concatenate([shapely.box(xs - w / 2, by[0] * S - w, xs + w / 2, by[-1] * S + w),
                             shapely.box(bx[0] * S - w, ys - w / 2, bx[-1] * S + w, ys + w / 2)])
    roads = _polys_only(shapely.intersection(buildable, shapely.union_all(strips))) if w > 0 \
        else shapely.Polygon()
    for _zid, zone in restricted or []:  # one cut per restricted zone (a handful)
        shapely.prepare(zone)
        cross = shapely.intersects(zone, pieces) & ~shapely.contains_properly(zone, pieces)
        if not cross.any():
            continue
        pc = pieces[cross]
        a = np.array([_polys_only(g) for g in shapely.intersection(pc, zone)], dtype=object)
        b = np.array([_polys_only(g) for g in shapely.difference(pc, zone)], dtype=object)
        lab = blabel[cross]
        pieces = np.concatenate([pieces[~cross], a, b])
        blabel = np.concatenate([blabel[~cross], lab, lab])
    parts, src = shapely.get_parts(pieces, return_index=True)
    keep = shapely.area(parts) > 1e-3
    return parts[keep], blabel[src[keep]], roads, step * step


def _adjacency(plots: np.ndarray) -> list[np.ndarray]:
    """Neighbours of each plot: plots sharing more than 0.5 m of boundary."""
    tree = shapely.STRtree(plots)
    a, b = tree.query(plots, predicate="touches")
    keep = a < b
    a, b = a[keep], b[keep]
    if len(a):
        shared = shapely.length(shapely.intersection(shapely.boundary(plots[a]),
                                                     shapely.boundary(plots[b])))
        ok = shared > 0.5
        a, b = a[ok], b[ok]
    nb: list[list[int]] = [[] for _ in range(len(plots))]
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        nb[i].append(j)
        nb[j].append(i)
    return [np.asarray(x, dtype=np.int64) for x in nb]


def _grow(seed: int, target: float, area: np.ndarray, cx: np.ndarray, cy: np.ndarray,
          nbrs: list[np.ndarray], allowed: np.ndarray, max_plots: int = 64,
          partial: bool = False) -> list[int] | None:
    """A compact connected set of allowed plots from ``seed`` whose area ≥ target (None if
    there is none; with ``partial``, the largest set reached instead)."""
    if not allowed[seed]:
        return None
    chosen = [seed]
    have = {seed}
    tot = area[seed]
    frontier: set[int] = set()
    while tot < target - 1e-9:
        frontier.update(int(j) for j in nbrs[chosen[-1]] if allowed[j] and j not in have)
        if not frontier or len(chosen) >= max_plots:
            return chosen if partial else None
        fr = np.fromiter(frontier, dtype=np.int64)
        cmx = np.average(cx[chosen], weights=area[chosen])
        cmy = np.average(cy[chosen], weights=area[chosen])
        nxt = int(fr[np.argmin(np.abs(cx[fr] - cmx) + np.abs(cy[fr] - cmy))])
        frontier.discard(nxt)
        chosen.append(nxt)
        have.add(nxt)
        tot += area[nxt]
    return chosen


# --------------------------------------------------------------------------- p-median


@dataclass
class _Site:
    """A park's land in the metric CRS: what is buildable, what is restricted, what polluters
    keep away from; and the transforms between CRSs."""

    park_m: Any
    buildable: Any
    restricted: list[tuple[str, Any, list[str]]]   # (zone id, geometry, banned sectors)
    sensitive: Any                                  # red lines and homes near the park
    to_m: Callable[[Any], Any]
    to_w: Callable[[Any], Any]
    to_a: Callable[[Any], Any]


@dataclass
class _Plots:
    """Plots of one park (metric CRS) and what each allows."""

    geom: np.ndarray
    block: np.ndarray
    roads: Any
    cell_m2: float
    area_m2: np.ndarray
    area_mu: np.ndarray
    usable: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    zone: np.ndarray          # restricted zone id ("" outside)
    polluter_ok: np.ndarray
    setback_zone: Any
    nbrs: list[np.ndarray]

    @property
    def ids(self) -> np.ndarray:
        return np.array([f"P{i + 1:04d}" for i in range(len(self.geom))], dtype=object)


def _site(study: Study, park_geom_wgs84: Any, cfg: LayoutConfig) -> _Site:
    """Buildable land: the park minus core/red-line zones (grown by the red-line setback)
    and water (grown by the water setback); restricted zones and sensitive areas near it."""
    mcrs = study.metric_crs
    to_m = _to(4326, mcrs)
    park_m = to_m(park_geom_wgs84)
    window = shapely.buffer(park_m, max(cfg.polluter_setback_m, cfg.redline_setback_m,
                                        cfg.water_setback_m) + 10.0)
    excl: list[Any] = []
    restricted: list[tuple[str, Any, list[str]]] = []
    sens: list[Any] = []
    zones = study.load_role("redlines") if study.has_role("redlines") else None
    if zones is not None and len(zones):
        cf = study.by_role("redlines")[0].options.get("class") or "class"
        zg = np.asarray(to_m(np.asarray(zones.geometry.values, dtype=object)), dtype=object)
        zcls = zones[cf].astype(str).str.strip().str.lower().to_numpy() if cf in zones \
            else np.full(len(zones), "redline")
        zban = zones["banned_industries"].to_numpy() if "banned_industries" in zones \
            else np.full(len(zones), "")
        zid = zones["id"].astype(str).to_numpy()
        for z in np.flatnonzero(shapely.intersects(zg, window)):  # zones near the park
            zc = shapely.intersection(zg[z], window)
            sens.append(zc)
            if zcls[z] == "restricted":
                restricted.append((zid[z], _polys_only(zc), split_industries(zban[z])))
            else:
                excl.append(shapely.buffer(zc, cfg.redline_setback_m) if cfg.redline_setback_m
                            else zc)
    wg = _clip_layer(study.load_role("water") if study.has_role("water") else None, to_m,
                     window)
    if len(wg):
        excl.extend(shapely.buffer(shapely.intersection(wg, window),
                                   max(cfg.water_setback_m, 0.01)).tolist())
    buildable = _polys_only(shapely.difference(park_m, shapely.union_all(excl))) if excl \
        else park_m
    for role in cfg.sensitive_roles:
        if study.has_role(role):
            sens.extend(_clip_layer(study.load_role(role), to_m, window).tolist())
    return _Site(park_m=park_m, buildable=buildable, restricted=restricted,
                 sensitive=shapely.union_all(sens) if sens else None, to_m=to_m,
                 to_w=_to(mcrs, 4326), to_a=_to(mcrs, study.area_crs))


def _plots(site: _Site, cfg: LayoutConfig) -> _Plots:
    """Plots on the road grid with their areas (equal-area CRS), zones and setbacks."""
    geom, block, roads, cell_m2 = subdivide(site.buildable, cfg,
                                            [(z, g) for z, g, _ in site.restricted])
    area_m2 = shapely.area(site.to_a(geom))
    cen = shapely.centroid(geom)
    zone = np.full(len(geom), "", dtype=object)
    for z, g, _ in site.restricted:  # a handful of zones
        zone[shapely.area(shapely.intersection(geom, g)) > 0.5 * shapely.area(geom)] = z
    setback_zone = None
    pol_ok = np.ones(len(geom), bool)
    if site.sensitive is not None and cfg.polluter_setback_m > 0:
        setback_zone = shapely.buffer(site.sensitive, cfg.polluter_setback_m)
        shapely.prepare(setback_zone)
        pol_ok = ~shapely.intersects(setback_zone, geom)
    return _Plots(geom=geom, block=block, roads=roads, cell_m2=cell_m2, area_m2=area_m2,
                  area_mu=area_m2 / MU_M2, usable=area_m2 / MU_M2 >= cfg.min_plot_mu,
                  cx=shapely.get_x(cen), cy=shapely.get_y(cen), zone=zone,
                  polluter_ok=pol_ok, setback_zone=setback_zone, nbrs=_adjacency(geom))


def _existing(study: Study, park_id: str, P: _Plots, site: _Site, notes: list[str]
              ) -> tuple[pd.DataFrame | None, list[list[int]], np.ndarray, np.ndarray,
                         np.ndarray]:
    """The register's firms of the park on the plots at their locations.

    Returns (firms or None, plots of each, occupancy (-1 free, -2 residual, -(10 + k)
    existing firm k), x and y of each firm (its plots' centroid, else its point)).
    """
    occ = np.where(P.usable, -1, -2).astype(np.int64)
    allf = load_firms(study)
    ex = allf[allf["park_id"].astype(str) == str(park_id)].copy()
    if not len(ex):
        return None, [], occ, np.zeros(0), np.zeros(0)
    land, n_fill = occupied_land_mu(ex, study.config.parks)
    ex["_land"] = land
    if n_fill:
        notes.append(f"{n_fill} existing firm(s) without land_mu take their industry's median "
                     "land")
    pts = site.to_m(shapely.points(ex.geometry.x.to_numpy(), ex.geometry.y.to_numpy()))
    px, py = shapely.get_x(pts), shapely.get_y(pts)
    plots: list[list[int]] = []
    for k in range(len(ex)):  # existing firms of one park (tens)
        allowed = occ == -1
        got: list[int] = []
        if allowed.any():
            d = np.abs(P.cx - px[k]) + np.abs(P.cy - py[k])
            seed = int(np.argmin(np.where(allowed, d, np.inf)))
            # short of contiguous land: it keeps what its block offers
            got = _grow(seed, float(land[k]), P.area_mu, P.cx, P.cy, P.nbrs, allowed,
                        partial=True) or []
            occ[got] = -(10 + k)
        plots.append(got)
    x = np.array([np.average(P.cx[p], weights=P.area_mu[p]) if p else px[k]
                  for k, p in enumerate(plots)])
    y = np.array([np.average(P.cy[p], weights=P.area_mu[p]) if p else py[k]
                  for k, p in enumerate(plots)])
    return ex, plots, occ, x, y


def _footprints(need: np.ndarray, P: _Plots, free: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                           np.ndarray]:
    """Candidate footprints per size class: from every free plot, the compact set of
    adjacent free plots covering the largest need of the class (duplicates dropped).

    Returns (firm size class, footprint plots (-1 padded), footprint class, area (亩),
    centroid x, centroid y).
    """
    fclass = np.maximum(1, np.ceil(need / (P.cell_m2 / MU_M2) - 1e-9)).astype(np.int64)
    fps: list[list[int]] = []
    cls: list[int] = []
    for k in np.unique(fclass):  # size classes (a few) × seed plots: set-up, not the search
        target = float(need[fclass == k].max())
        seen: set[tuple[int, ...]] = set()
        for q in np.flatnonzero(free):
            got = _grow(int(q), target, P.area_mu, P.cx, P.cy, P.nbrs, free)
            if got is None or (key := tuple(sorted(got))) in seen:
                continue
            seen.add(key)
            fps.append(got)
            cls.append(int(k))
    kmax = max((len(f) for f in fps), default=1)
    fp = np.full((len(fps), kmax), -1, dtype=np.int64)
    for i, f in enumerate(fps):
        fp[i, :len(f)] = f
    w = np.r_[P.area_mu, 0.0][fp]
    area = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        fx = (np.r_[P.cx, 0.0][fp] * w).sum(axis=1) / area
        fy = (np.r_[P.cy, 0.0][fp] * w).sum(axis=1) / area
    return fclass, fp, np.asarray(cls, dtype=np.int64), area, fx, fy
