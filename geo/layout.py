"""Lay out a park: plots along an internal road grid, firms on plots, shared facilities.

:func:`layout_park` works in the study's metric CRS (Gauss–Krüger, metres); areas are
reported from the study's equal-area CRS.

1. **Buildable land** = the park minus core/red-line zones grown by
   ``redline_setback_m``, minus water (polygons and lines) grown by
   ``water_setback_m``.
2. **Road grid**: road centre lines every ``road_spacing_m`` (on multiples of the
   spacing in the metric CRS), ``road_width_m`` wide. Each block between roads is
   cut into k × k equal plots, k = round((spacing − width) / √(plot_mu in m²)).
   Plots are the cells intersected with the buildable land, cut again at restricted
   zone boundaries (so a plot is wholly inside or wholly outside each zone, and no
   plot straddles a red line) and split into their parts. Pieces smaller than
   ``min_plot_mu`` are kept as residual (green) land, not given to firms. Plots and
   road surface together are exactly the buildable land.
3. **Assignment**: every incoming firm (industry, land need in 亩) gets a
   *footprint*: one plot, or several adjacent plots of one block grown from a seed
   plot, whose area covers its need. Hard rules: a polluting firm (its industry or
   sector in ``polluting``) only gets plots at least ``polluter_setback_m`` from every
   red-line zone (any class) and from residential/service areas (layers of role
   ``residential`` and ``amenities``); a firm whose industry a restricted zone bans
   gets no plot inside it. Existing firms of the register inside the park occupy the
   plots at their locations (their land from the register) and pull their partners.

   The objective is the chain-weighted distance
   ``Σ_pairs a_ij · d(i, j)``, d = rectilinear (grid-road) distance between footprint
   centroids in metres, and ``a_ij = W[i←j] / n_j + W[j←i] / n_i``: W the chain-map
   share of the buyer's input value supplied by the other's industry, n the number
   of firms of the supplier's industry in the layout (so a buyer's pull on one input
   is shared among the firms that can supply it). Pairs with an existing firm count
   the same way (its position fixed).

   A greedy start places the most-linked firms first, each on the feasible free
   footprint of least added cost; then a local search applies the best improving
   move per firm — swap footprints with a firm of the same size class, or move to a
   free feasible footprint — until no move improves or the time limit passes. Every
   move's change of objective is evaluated for all candidates at once with numpy
   (matrix–vector products over the pairwise distance matrix): no Python loop runs
   over firm pairs. A random feasible assignment of the same firms (same run, same
   seed) is the baseline.
4. **Facilities** (e.g. one wastewater plant, one pilot base) are sited on free
   plots by the p-median: minimise Σ_users weight × distance to the nearest of p
   facilities, solved exactly (p = 1 by enumeration, p > 1 as an integer program
   with HiGHS through :func:`scipy.optimize.milp`).
"""

from __future__ import annotations

import difflib
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from .errors import InputError, MissingFileError, ModelError
from .units import MU_M2

if TYPE_CHECKING:  # pragma: no cover
    from .study import Study

#: Sectors (see :func:`geo.parks.study_sectors`) or industries that keep the polluter
#: setback: chemicals, dyeing, electroplating (the issue's examples), papermaking and
#: pharmaceutical production, and battery recycling (hydrometallurgy).
POLLUTING = ("chemicals", "pharmaceuticals", "dyeing", "electroplating", "papermaking",
             "battery_recycling")

#: Shared facilities sited by default. ``users``: "all" or a list of industries;
#: ``weight``: "land" (亩) or "count"; ``polluting``: keeps the polluter setback.
DEFAULT_FACILITIES: tuple[dict[str, Any], ...] = (
    {"id": "wastewater", "name_zh": "污水处理厂", "name_en": "Wastewater treatment plant",
     "users": "all", "weight": "land", "p": 1, "polluting": True},
    {"id": "pilot_base", "name_zh": "共享中试基地", "name_en": "Shared pilot base",
     "users": ["smart_equipment", "precision_machinery", "pilot_production", "biomed_rd", "cro",
               "battery_recycling", "cathode_materials"],
     "weight": "count", "p": 1, "polluting": False},
)

LAYOUT_KEYS: dict[str, str] = {
    "plot_mu": "target plot size (亩, default 50)",
    "road_spacing_m": "distance between internal road centre lines (m, default 400)",
    "road_width_m": "width of internal roads (m, default 24)",
    "min_plot_mu": "pieces smaller than this stay green land (亩, default 5)",
    "water_setback_m": "setback from water (m, default 30)",
    "redline_setback_m": "setback of every plot from core/red-line zones (m, default 100)",
    "polluter_setback_m": "setback of polluting firms from red lines and residential/service "
                          "areas (m, default 500)",
    "polluting": "sectors or industries that are polluting (default chemicals, "
                 "pharmaceuticals, dyeing, electroplating, papermaking, battery_recycling)",
    "sensitive_roles": "layer roles that polluters keep away from (default residential, "
                       "amenities)",
    "include_existing": "existing firms of the register occupy plots (default true)",
    "time_limit_s": "local search time limit (s, default 50)",
    "max_passes": "local search passes at most (default 100)",
    "seed": "random seed of the baseline and the search order (default 0)",
    "facilities": "list of {id, name_zh, name_en, users, weight, p, polluting}",
    "park": "park laid out by `parksite run` (with firms)",
    "firms": "incoming firms CSV for `parksite run` (relative to the study file)",
}
#: Keys only `parksite run` reads (not LayoutConfig fields).
RUN_KEYS = ("park", "firms")


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class LayoutConfig:
    """The ``[layout]`` settings (all distances in metres, areas in 亩)."""

    plot_mu: float = 50.0
    road_spacing_m: float = 400.0
    road_width_m: float = 24.0
    min_plot_mu: float = 5.0
    water_setback_m: float = 30.0
    redline_setback_m: float = 100.0
    polluter_setback_m: float = 500.0
    polluting: tuple[str, ...] = POLLUTING
    sensitive_roles: tuple[str, ...] = ("residential", "amenities")
    include_existing: bool = True
    time_limit_s: float = 50.0
    max_passes: int = 100
    seed: int = 0
    facilities: tuple[dict[str, Any], ...] = DEFAULT_FACILITIES

    @classmethod
    def from_study(cls, study: Study | None, **overrides: Any) -> LayoutConfig:
        sec = dict(study.section("layout")) if study is not None else {}
        for k in ("polluting", "sensitive_roles", "facilities"):
            if k in sec:
                sec[k] = tuple(sec[k])
        kw = {k: v for k, v in sec.items() if k in cls.__dataclass_fields__}
        kw.update({k: v for k, v in overrides.items() if v is not None})
        cfg = cls(**kw)
        problems = _check_values(cfg)
        if problems:
            raise InputError("layout settings: " + "; ".join(problems))
        return cfg


def _check_values(cfg: LayoutConfig) -> list[str]:
    p = []
    for k in ("plot_mu", "road_spacing_m", "time_limit_s"):
        v = getattr(cfg, k)
        if not (_num(v) and v > 0):
            p.append(f"layout.{k}: must be a number > 0, got {v!r}")
    for k in ("road_width_m", "min_plot_mu", "water_setback_m", "redline_setback_m",
              "polluter_setback_m"):
        v = getattr(cfg, k)
        if not (_num(v) and v >= 0):
            p.append(f"layout.{k}: must be a number ≥ 0, got {v!r}")
    if _num(cfg.road_spacing_m) and _num(cfg.road_width_m) and \
            cfg.road_width_m >= cfg.road_spacing_m:
        p.append(f"layout.road_width_m: {cfg.road_width_m} m leaves no land between roads "
                 f"{cfg.road_spacing_m} m apart; make it smaller than road_spacing_m")
    if not (isinstance(cfg.max_passes, int) and cfg.max_passes >= 0):
        p.append(f"layout.max_passes: must be a whole number ≥ 0, got {cfg.max_passes!r}")
    for i, f in enumerate(cfg.facilities):
        if not isinstance(f, dict) or "id" not in f:
            p.append(f"layout.facilities[{i}]: must be a table with at least id")
            continue
        if not (isinstance(f.get("p", 1), int) and f.get("p", 1) >= 1):
            p.append(f"layout.facilities[{i}].p: must be a whole number ≥ 1")
        if f.get("weight", "count") not in ("count", "land"):
            p.append(f"layout.facilities[{i}].weight: \"count\" or \"land\"")
        u = f.get("users", "all")
        if not (u == "all" or (isinstance(u, (list, tuple)) and all(isinstance(x, str)
                                                                     for x in u))):
            p.append(f"layout.facilities[{i}].users: \"all\" or a list of industries")
    return p


def validate_section(table: dict, study: Study) -> list[str]:
    """Check a study file's ``[layout]`` table; return the problems found."""
    from .study import unknown_keys

    problems = unknown_keys(table, LAYOUT_KEYS, "layout")
    known = {k: v for k, v in table.items() if k in LAYOUT_KEYS and k not in RUN_KEYS}
    if ("park" in table) != ("firms" in table):
        problems.append("layout.park / layout.firms: give both (the park to lay out and the "
                        "incoming firms CSV) or neither")
    if "park" in table and not (isinstance(table["park"], str) and table["park"]):
        problems.append(f"layout.park: must be a park id, got {table['park']!r}")
    if "firms" in table:
        f = table["firms"]
        if not (isinstance(f, str) and f):
            problems.append(f"layout.firms: must be a path, got {f!r}")
        elif not (study.root / f).exists():
            problems.append(f"layout.firms: {f} not found (paths are relative to the study "
                            "file)")
    for k in ("polluting", "sensitive_roles"):
        if k in known and not (isinstance(known[k], list) and
                               all(isinstance(x, str) for x in known[k])):
            problems.append(f"layout.{k}: must be a list of names, got {known[k]!r}")
            known.pop(k)
    if "facilities" in known and not isinstance(known["facilities"], list):
        problems.append("layout.facilities: must be a list of tables ([[layout.facilities]])")
        known.pop("facilities")
    if "include_existing" in known and not isinstance(known["include_existing"], bool):
        problems.append("layout.include_existing: true or false")
        known.pop("include_existing")
    for k in ("polluting", "sensitive_roles", "facilities"):
        if k in known:
            known[k] = tuple(known[k])
    try:
        problems.extend(_check_values(LayoutConfig(**known)))
    except TypeError as exc:  # pragma: no cover - guarded by the key check
        problems.append(f"layout: {exc}")
    if "parks" not in study.declared_roles:
        problems.append("layout: the study has no layer with role = \"parks\"")
    return problems


# --------------------------------------------------------------------------- input

def read_incoming(path: str | os.PathLike) -> pd.DataFrame:
    """Read an incoming-firms CSV: ``industry`` and ``land_mu`` (亩) per row, optionally
    ``firm_id``, ``name``, ``polluting`` (true/false overrides the sector rule).

    Raises
    ------
    MissingFileError, InputError
    """
    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"--firms {p}: not found; give a CSV with columns firm_id, name, "
                               "industry, land_mu (see data/examples/incoming_firms.csv)")
    try:
        df = pd.read_csv(p, dtype=str, encoding="utf-8-sig", comment="#")
    except UnicodeDecodeError:
        df = pd.read_csv(p, dtype=str, encoding="gb18030", comment="#")
    except Exception as exc:  # noqa: BLE001 - any unreadable CSV
        raise InputError(f"--firms {p}: not a readable CSV ({exc})") from exc
    df.attrs["source"] = str(p)
    return df


def check_incoming(firms: pd.DataFrame, chains, source: str = "incoming firms") -> pd.DataFrame:
    """Normalise and validate incoming firms; every problem is raised at once.

    Returns a frame with ``firm_id, name, industry, land_mu, polluting_override``.
    """
    cols = {str(c).strip().lower(): c for c in firms.columns}
    problems = []
    for need in ("industry", "land_mu"):
        if need not in cols:
            problems.append(f"{source}: no {need!r} column (columns: "
                            f"{', '.join(map(str, firms.columns))})")
    if problems:
        raise InputError("; ".join(problems) + ". Each row needs industry (a chain-map id) and "
                         "land_mu (land need in 亩)")
    n = len(firms)
    if n == 0:
        raise InputError(f"{source}: no firms (the table is empty)")
    fid = firms[cols["firm_id"]].astype(str).str.strip() if "firm_id" in cols else \
        firms[cols["id"]].astype(str).str.strip() if "id" in cols else \
        pd.Series([f"N{i + 1:03d}" for i in range(n)], index=firms.index)
    name = firms[cols["name"]].fillna("").astype(str) if "name" in cols else fid
    ind = firms[cols["industry"]].fillna("").astype(str).str.strip()
    land = pd.to_numeric(firms[cols["land_mu"]], errors="coerce")
    bad = ~(land > 0)
    for i in np.flatnonzero(bad.to_numpy())[:5]:
        problems.append(f"{source}: row {i + 2} (firm {fid.iat[i]}): land_mu "
                        f"{firms[cols['land_mu']].iat[i]!r} must be a number of 亩 > 0")
    empty = ind == ""
    for i in np.flatnonzero(empty.to_numpy())[:5]:
        problems.append(f"{source}: row {i + 2} (firm {fid.iat[i]}): industry is empty")
    dup = fid[fid.duplicated()].unique()
    if len(dup):
        problems.append(f"{source}: firm_id repeated: {', '.join(dup[:5])}")
    if problems:
        raise InputError("\n".join(problems))
    unknown = sorted(set(ind) - set(chains.ids))
    if unknown:
        hint = "; ".join(f"{u!r}" + (f" (did you mean {c[0]!r}?)" if (c := difflib.
                         get_close_matches(u, chains.ids, n=1)) else "") for u in unknown[:5])
        raise ModelError(f"{source}: industries not in the chain maps: {hint}. Use chain-map "
                         "ids (data/chains/*.toml) or add the industries to a chain map")
    pol = None
    if "polluting" in cols:
        pol = firms[cols["polluting"]].fillna("").astype(str).str.strip().str.lower().map(
            lambda v: True if v in ("1", "true", "yes", "y", "是") else
            False if v in ("0", "false", "no", "n", "否") else None)
    return pd.DataFrame({"firm_id": fid.to_numpy(), "name": name.to_numpy(),
                         "industry": ind.to_numpy(), "land_mu": land.to_numpy(float),
                         "polluting_override": pol.to_numpy() if pol is not None else None})


# --------------------------------------------------------------------------- result

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


# --------------------------------------------------------------------------- geometry

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

    Returns
    -------
    plots : ndarray of Polygons
        Every piece of buildable land off the roads, each wholly inside or outside
        each restricted zone.
    block : ndarray of str
        Block label "x_y" of each plot.
    roads : Polygon
        The road surface on buildable land.
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

def p_median(cost: np.ndarray, p: int) -> tuple[np.ndarray, float, bool]:
    """Exact p-median: choose ``p`` of the candidate rows of ``cost`` (candidates × users,
    already weighted) minimising Σ_users min over chosen rows.

    Returns (chosen candidate indices, objective, optimal flag). p = 1 enumerates; p > 1
    solves the classic integer program with HiGHS (:func:`scipy.optimize.milp`).

    Raises
    ------
    ModelError
        Fewer candidates than p.
    """
    cost = np.asarray(cost, dtype=float)
    m, n = cost.shape
    if p < 1 or m < p:
        raise ModelError(f"p-median: {m} candidate site(s) for p = {p}; free more plots or "
                         "lower p")
    if n == 0:
        return np.arange(p), 0.0, True
    if p == 1:
        s = cost.sum(axis=1)
        j = int(np.argmin(s))
        return np.array([j]), float(s[j]), True
    if p >= m:
        return np.arange(m), float(cost.min(axis=0).sum()), True
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    # variables: y (m), then x[j, i] (m × n) row-major
    nv = m + m * n
    c = np.concatenate([np.zeros(m), cost.ravel()])
    xi = np.arange(m * n)
    jj = xi // n
    ii = xi % n
    # Σ_j x_ji = 1 for every user i
    a1 = sparse.csr_matrix((np.ones(m * n), (ii, m + xi)), shape=(n, nv))
    # x_ji − y_j ≤ 0
    a2 = sparse.csr_matrix((np.r_[np.ones(m * n), -np.ones(m * n)],
                            (np.r_[xi, xi], np.r_[m + xi, jj])), shape=(m * n, nv))
    # Σ y = p
    a3 = sparse.csr_matrix((np.ones(m), (np.zeros(m, int), np.arange(m))), shape=(1, nv))
    cons = [LinearConstraint(a1, 1, 1), LinearConstraint(a2, -np.inf, 0),
            LinearConstraint(a3, p, p)]
    integ = np.r_[np.ones(m), np.zeros(m * n)]
    res = milp(c, constraints=cons, integrality=integ, bounds=Bounds(0, 1),
               options={"time_limit": 60})
    if res.x is None:
        raise ModelError(f"p-median: the solver found no solution ({res.message})")
    y = res.x[:m]
    chosen = np.sort(np.argsort(-y)[:p])
    obj = float(cost[chosen].min(axis=0).sum())
    return chosen, obj, bool(res.status == 0)


# --------------------------------------------------------------------------- search

def _rect(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Rectilinear distances between point sets a (rows) and b (columns)."""
    return np.abs(ax[:, None] - bx[None, :]) + np.abs(ay[:, None] - by[None, :])


def objective(px: np.ndarray, py: np.ndarray, A: np.ndarray, ex: np.ndarray, ey: np.ndarray,
              V: np.ndarray, placed: np.ndarray) -> float:
    """Σ_{i<j} A_ij d(i, j) + Σ_i Σ_e V_ie d(i, e) over placed incoming firms i, j."""
    m = placed.astype(bool)
    if not m.any():
        return 0.0
    D = _rect(px[m], py[m], px[m], py[m])
    val = 0.5 * float((A[np.ix_(m, m)] * D).sum())
    if V.shape[1]:
        val += float((V[m] * _rect(px[m], py[m], ex, ey)).sum())
    return val


def _swap_delta(a: int, A: np.ndarray, D: np.ndarray, rowWD: np.ndarray, V: np.ndarray,
                DE: np.ndarray, rowVE: np.ndarray) -> np.ndarray:
    """Change of the objective if firm ``a`` swapped positions with each firm b.

    With d the pairwise distances D and c_i(p) = Σ_e V_ie d(p, e) the pull of fixed
    firms: Δ_b = Σ_k (A_ak − A_bk)(D_bk − D_ak) + 2 A_ab D_ab
    + c_a(p_b) − c_a(p_a) + c_b(p_a) − c_b(p_b); all b in a few matrix–vector products.
    ``rowWD = (A∘D).sum(1)`` and ``rowVE = (V∘DE).sum(1)`` are kept up to date by the caller.
    """
    Aa = A[a]
    delta = D @ Aa - float(Aa @ D[a]) - rowWD + A @ D[a] + 2.0 * Aa * D[a]
    if V.shape[1]:
        delta += DE @ V[a] - rowVE[a] + V @ DE[a] - rowVE
    return delta


def swap_deltas(a: int, px: np.ndarray, py: np.ndarray, A: np.ndarray,
                ex: np.ndarray | None = None, ey: np.ndarray | None = None,
                V: np.ndarray | None = None) -> np.ndarray:
    """Objective change of swapping firm ``a`` with every firm (see :func:`objective`),
    from positions (metric) and weights: the vectorised evaluation the local search uses."""
    D = _rect(px, py, px, py)
    if V is None or ex is None or ey is None:
        V = np.zeros((len(px), 0))
        DE = np.zeros((len(px), 0))
    else:
        DE = _rect(px, py, ex, ey)
    return _swap_delta(a, A, D, (A * D).sum(1), V, DE, (V * DE).sum(1))


@dataclass
class _Problem:
    """Arrays of one assignment problem (metric coordinates)."""

    fp_plots: np.ndarray    # (n_fp, kmax) plot indices, -1 padded
    fp_area: np.ndarray     # 亩
    fp_cx: np.ndarray
    fp_cy: np.ndarray
    fp_class: np.ndarray    # size class of each footprint
    firm_class: np.ndarray  # size class of each firm
    need: np.ndarray        # 亩
    feas: np.ndarray        # (n_firms, n_fp) bool: class, area and hard rules
    A: np.ndarray           # (n, n) pair weights among incoming firms
    V: np.ndarray           # (n, n_e) weights to existing firms
    ex: np.ndarray
    ey: np.ndarray
    n_plots: int
    occ0: np.ndarray        # plot occupancy before assignment: -1 free, -2 taken
    centre: tuple[float, float]


def _free_mask(P: _Problem, occ: np.ndarray, firm: int) -> np.ndarray:
    """Footprints whose plots are all free (or already the firm's own)."""
    occ_ext = np.r_[occ, -1]
    o = occ_ext[P.fp_plots]  # -1 pads map to the extra free slot
    return ((o == -1) | (o == firm)).all(axis=1)


def _place(P: _Problem, order: np.ndarray, rng: np.random.Generator | None,
           ) -> tuple[np.ndarray, np.ndarray]:
    """Greedy (rng None) or random (rng given) construction: footprint index per firm
    (-1 unplaced) and plot occupancy."""
    n = len(P.need)
    fp_of = np.full(n, -1, dtype=np.int64)
    occ = P.occ0.copy()
    px = np.zeros(n)
    py = np.zeros(n)
    placed = np.zeros(n, bool)
    dcentre = np.abs(P.fp_cx - P.centre[0]) + np.abs(P.fp_cy - P.centre[1])
    for a in order:  # one vectorised choice per firm
        ok = P.feas[a] & _free_mask(P, occ, a)
        cand = np.flatnonzero(ok)
        if len(cand) == 0:
            continue
        if rng is not None:
            q = int(rng.choice(cand))
        else:
            cost = np.zeros(len(cand))
            if placed.any():
                cost += _rect(P.fp_cx[cand], P.fp_cy[cand], px[placed], py[placed]) @ \
                    P.A[a, placed]
            if P.V.shape[1]:
                cost += _rect(P.fp_cx[cand], P.fp_cy[cand], P.ex, P.ey) @ P.V[a]
            # ties: little wasted land; linked firms towards the centre, unlinked ones to
            # the edge (so they leave the centre to the clusters)
            side = 1.0 if (P.A[a].any() or P.V[a].any()) else -1.0
            cost += 1e-9 * (P.fp_area[cand] - P.need[a]) + side * 1e-12 * dcentre[cand]
            q = int(cand[np.argmin(cost)])
        fp_of[a] = q
        pl = P.fp_plots[q]
        occ[pl[pl >= 0]] = a
        px[a], py[a] = P.fp_cx[q], P.fp_cy[q]
        placed[a] = True
    return fp_of, occ


def _local_search(P: _Problem, fp_of: np.ndarray, occ: np.ndarray, *, time_limit_s: float,
                  max_passes: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray,
                                                                      dict[str, Any]]:
    """Best-improvement swaps and moves per firm until no move improves."""
    t0 = time.perf_counter()
    fp_of = fp_of.copy()
    occ = occ.copy()
    placed = fp_of >= 0
    idx = np.flatnonzero(placed)
    A = P.A * placed[:, None] * placed[None, :]
    V = P.V * placed[:, None]
    px = np.where(placed, P.fp_cx[np.maximum(fp_of, 0)], 0.0)
    py = np.where(placed, P.fp_cy[np.maximum(fp_of, 0)], 0.0)
    D = _rect(px, py, px, py)
    has_e = V.shape[1] > 0
    DE = _rect(px, py, P.ex, P.ey) if has_e else np.zeros((len(px), 0))
    rowWD = (A * D).sum(axis=1)
    rowVE = (V * DE).sum(axis=1)
    linked = (A.sum(axis=1) + V.sum(axis=1)) > 0
    same_class = P.firm_class[:, None] == P.firm_class[None, :]
    stats = {"passes": 0, "swaps": 0, "moves": 0, "stopped": "converged"}
    scale = float(np.abs(A).sum() + np.abs(V).sum()) or 1.0
    eps = 1e-12 * scale * (np.abs(D).max() + 1.0)

    def update(i: int) -> None:
        nonlocal rowWD
        d_new = np.abs(px - px[i]) + np.abs(py - py[i])
        # row sums of A∘D change where column i changed
        rowWD += A[:, i] * (d_new - D[:, i])
        D[i, :] = d_new
        D[:, i] = d_new
        rowWD[i] = float(A[i] @ d_new)
        if has_e:
            DE[i] = np.abs(P.ex - px[i]) + np.abs(P.ey - py[i])
            rowVE[i] = float(V[i] @ DE[i])

    for _ in range(max_passes):
        stats["passes"] += 1
        improved = False
        for a in rng.permutation(idx):  # one vectorised evaluation per firm
            if not linked[a]:
                continue
            if time.perf_counter() - t0 > time_limit_s:
                stats["stopped"] = "time limit"
                stats["seconds"] = time.perf_counter() - t0
                return fp_of, occ, stats
            Aa = A[a]
            # --- swaps with every firm b of the same size class (Δ for all b at once)
            fa = fp_of[a]
            cand_b = placed & same_class[a] & P.feas[a, np.maximum(fp_of, 0)] & \
                P.feas[:, fa]
            cand_b[a] = False
            best_d, best = 0.0, None
            if cand_b.any():
                delta = np.where(cand_b, _swap_delta(a, A, D, rowWD, V, DE, rowVE), np.inf)
                b = int(np.argmin(delta))
                if delta[b] < best_d - eps:
                    best_d, best = float(delta[b]), ("swap", b)
            # --- moves to free feasible footprints
            free = P.feas[a] & _free_mask(P, occ, a)
            free[fa] = False
            cand_q = np.flatnonzero(free)
            if len(cand_q):
                cq = _rect(P.fp_cx[cand_q], P.fp_cy[cand_q], px, py) @ Aa - rowWD[a]
                if has_e:
                    cq += _rect(P.fp_cx[cand_q], P.fp_cy[cand_q], P.ex, P.ey) @ V[a] - rowVE[a]
                j = int(np.argmin(cq))
                if cq[j] < best_d - eps:
                    best_d, best = float(cq[j]), ("move", int(cand_q[j]))
            if best is None:
                continue
            improved = True
            if best[0] == "swap":
                b = best[1]
                fb = fp_of[b]
                for f, firm in ((fa, b), (fb, a)):
                    pl = P.fp_plots[f]
                    occ[pl[pl >= 0]] = firm
                fp_of[a], fp_of[b] = fb, fa
                px[a], py[a], px[b], py[b] = px[b], py[b], px[a], py[a]
                update(a)
                update(b)
                stats["swaps"] += 1
            else:
                q = best[1]
                pl = P.fp_plots[fa]
                occ[pl[pl >= 0]] = -1
                pl = P.fp_plots[q]
                occ[pl[pl >= 0]] = a
                fp_of[a] = q
                px[a], py[a] = P.fp_cx[q], P.fp_cy[q]
                update(a)
                stats["moves"] += 1
        if not improved:
            break
    else:
        stats["stopped"] = "max passes"
    stats["seconds"] = time.perf_counter() - t0
    return fp_of, occ, stats


# --------------------------------------------------------------------------- main

def _is_polluting(industries: np.ndarray, cfg: LayoutConfig, sectors) -> np.ndarray:
    from .redline import industry_banned

    pol = list(cfg.polluting)
    cache: dict[str, bool] = {}
    out = np.zeros(len(industries), bool)
    for i, ind in enumerate(industries):  # distinct lookups, cached
        if ind not in cache:
            cache[ind] = bool(industry_banned([ind], pol, aliases=sectors))
        out[i] = cache[ind]
    return out


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
    from .redline import split_industries

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
    from .parks import ParksConfig, occupied_land_mu
    from .sourcing import load_firms

    occ = np.where(P.usable, -1, -2).astype(np.int64)
    allf = load_firms(study)
    ex = allf[allf["park_id"].astype(str) == str(park_id)].copy()
    if not len(ex):
        return None, [], occ, np.zeros(0), np.zeros(0)
    land, n_fill = occupied_land_mu(ex, ParksConfig.from_study(study))
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


def _pair_weights(chains, industries: np.ndarray) -> np.ndarray:
    """Symmetric pair weights a_ij = W[i←j]/n_j + W[j←i]/n_i (see the module doc)."""
    W, wids = chains.weight_matrix()
    pos = {j: i for i, j in enumerate(wids)}
    ip = np.array([pos.get(j, -1) for j in industries], dtype=np.int64)
    ok = ip >= 0
    Wf = np.where(ok[:, None] & ok[None, :],
                  W[np.ix_(np.maximum(ip, 0), np.maximum(ip, 0))], 0.0)
    n_of = pd.Series(industries).value_counts().reindex(industries).to_numpy(float)
    Ws = Wf / n_of[None, :]  # buyer row i, supplier column j
    A = Ws + Ws.T
    np.fill_diagonal(A, 0.0)
    return A


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


def _feasibility(inc_ind: np.ndarray, polluting: np.ndarray, need: np.ndarray,
                 fclass: np.ndarray, fp: np.ndarray, fp_cls: np.ndarray, fp_area: np.ndarray,
                 P: _Plots, site: _Site, cfg: LayoutConfig, sectors
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(firms × footprints) allowed by size, area and the hard rules; and a reason for
    firms with no footprint at all."""
    from .redline import industry_banned

    n = len(inc_ind)
    feas = np.zeros((n, len(fp)), bool)
    reason = np.full(n, "", dtype=object)
    banned = {ind: {z for z, _, ban in site.restricted
                    if industry_banned([ind], ban, aliases=sectors)}
              for ind in np.unique(inc_ind)}
    kinds = {(int(c), bool(p), ind) for c, p, ind in zip(fclass, polluting, inc_ind,
                                                          strict=True)}
    for c, p, ind in kinds:  # distinct (size class, polluting, industry)
        ok_pl = np.ones(len(P.geom), bool)
        if p:
            ok_pl &= P.polluter_ok
        if banned[ind]:
            ok_pl &= ~np.isin(P.zone, list(banned[ind]))
        fok = (fp_cls == c) & np.r_[ok_pl, True][fp].all(axis=1) if len(fp) else \
            np.zeros(0, bool)
        rows = np.flatnonzero((fclass == c) & (polluting == p) & (inc_ind == ind))
        feas[rows] = fok[None, :] & (fp_area[None, :] >= need[rows, None] - 1e-9)
        if fok.any():
            continue
        for r in rows:
            if not (fp_cls == c).any():
                reason[r] = (f"needs {need[r]:,.0f} 亩 of contiguous land; no block of this "
                             f"park offers that much free land (a whole block is about "
                             f"{(cfg.road_spacing_m - cfg.road_width_m) ** 2 / MU_M2:,.0f} "
                             "亩: widen road_spacing_m)")
            elif p and not (P.polluter_ok & P.usable).any():
                reason[r] = (f"polluting: no plot is {cfg.polluter_setback_m:g} m from red "
                             "lines and residential/service areas")
            elif banned[ind]:
                reason[r] = (f"banned in {', '.join(sorted(banned[ind]))}; no contiguous "
                             "plots of its size outside")
            else:
                reason[r] = "no contiguous plots of its size meet the hard rules"
    return feas, reason


def _site_facilities(cfg: LayoutConfig, P: _Plots, site: _Site, occ: np.ndarray,
                     ux: np.ndarray, uy: np.ndarray, uind: np.ndarray, uland: np.ndarray,
                     notes: list[str]) -> tuple[list[dict[str, Any]], np.ndarray]:
    """p-median siting of each facility on free plots; occupancy updated in place (-3)."""
    rows: list[dict[str, Any]] = []
    plot_fac = np.full(len(P.geom), "", dtype=object)
    for f in cfg.facilities:  # a few facilities
        users = f.get("users", "all")
        sel = np.ones(len(uind), bool) if users == "all" else np.isin(uind, list(users))
        if not sel.any():
            notes.append(f"facility {f['id']}: no user firms in the park; not sited")
            continue
        wgt = uland[sel] if f.get("weight", "count") == "land" else np.ones(int(sel.sum()))
        cand = np.flatnonzero((occ == -1) & P.usable &
                              (P.polluter_ok if f.get("polluting", False) else True))
        p = int(f.get("p", 1))
        if len(cand) < p:
            notes.append(f"facility {f['id']}: fewer than {p} free plot(s) "
                         f"{'outside the polluter setback ' if f.get('polluting') else ''}left;"
                         " not sited")
            continue
        dist = _rect(P.cx[cand], P.cy[cand], ux[sel], uy[sel])
        chosen, val, optimal = p_median(dist * wgt[None, :], p)
        near_d = dist[chosen].min(axis=0)
        nearest = np.argmin(dist[chosen], axis=0)
        for i, c in enumerate(chosen):
            q = int(cand[c])
            occ[q] = -3
            plot_fac[q] = f["id"]
            mine = nearest == i
            rows.append({
                "facility": f["id"], "name_zh": f.get("name_zh", f["id"]),
                "name_en": f.get("name_en", f["id"]), "plot_id": f"P{q + 1:04d}",
                "n_users": int(mine.sum()), "weight": f.get("weight", "count"),
                "mean_distance_m": round(float(np.average(near_d[mine], weights=wgt[mine]))
                                         if mine.any() else 0.0, 1),
                "max_distance_m": round(float(near_d[mine].max()) if mine.any() else 0.0, 1),
                "objective": round(val, 1), "optimal": optimal,
                "geometry": site.to_w(shapely.Point(P.cx[q], P.cy[q]))})
    return rows, plot_fac


def layout_park(study: Study, park_id: str, firms_df: pd.DataFrame,
                plot_mu: float | None = 50, *,
                road_spacing_m: float | None = None, road_width_m: float | None = None,
                seed: int | None = None, time_limit_s: float | None = None,
                include_existing: bool | None = None,
                facilities: list[dict[str, Any]] | None = None,
                overrides: dict[str, Any] | None = None,
                progress: Callable[[str], None] | None = None) -> LayoutResult:
    """Subdivide a park into plots, assign incoming firms, site shared facilities.

    Parameters
    ----------
    study
        A study with a parks layer; red lines, water, residential/amenities and firms
        layers are used when present.
    park_id
        The park's id.
    firms_df
        Incoming firms: ``industry`` (chain-map id) and ``land_mu`` (亩) per row;
        optional ``firm_id``, ``name``, ``polluting``.
    plot_mu
        Target plot size in 亩. None, or the default 50, defer to ``[layout] plot_mu``
        when the study sets one (to force 50 there, pass ``overrides={"plot_mu": 50}``).
    road_spacing_m, road_width_m, seed, time_limit_s, include_existing, facilities
        Override the ``[layout]`` settings.
    overrides
        Any other :class:`LayoutConfig` field, e.g. ``{"polluter_setback_m": 800}``.

    Returns
    -------
    LayoutResult

    Raises
    ------
    InputError
        Unknown park, bad firms table, bad settings, no buildable land.
    ModelError
        Industries not in the chain maps.
    """
    from .parks import park_frame, study_sectors
    from .sourcing import study_chains

    t_start = time.perf_counter()
    say = progress or (lambda s: None)
    sec_plot = study.section("layout").get("plot_mu")
    explicit: dict[str, Any] = {
        "plot_mu": plot_mu if (plot_mu is not None and (plot_mu != 50 or sec_plot is None))
        else None,
        "road_spacing_m": road_spacing_m, "road_width_m": road_width_m, "seed": seed,
        "time_limit_s": time_limit_s, "include_existing": include_existing,
        "facilities": tuple(facilities) if facilities is not None else None}
    unknown = sorted(set(overrides or {}) - set(LayoutConfig.__dataclass_fields__))
    if unknown:
        raise InputError(f"layout overrides: unknown setting(s) {', '.join(unknown)}; known: "
                         f"{', '.join(LayoutConfig.__dataclass_fields__)}")
    explicit.update({k: (tuple(v) if isinstance(v, list) else v)
                     for k, v in (overrides or {}).items()})
    cfg = LayoutConfig.from_study(study, **explicit)
    chains = study_chains(study)
    inc = check_incoming(firms_df, chains, str(firms_df.attrs.get("source", "incoming firms")))
    parks = park_frame(study)
    ids = parks["park_id"].tolist()
    if str(park_id) not in ids:
        close = difflib.get_close_matches(str(park_id), ids, n=1)
        raise InputError(f"--park {park_id}: no such park in {study.path}" +
                         (f"; did you mean {close[0]!r}?" if close else
                          f"; parks: {', '.join(ids)}"))
    prow = parks[parks["park_id"] == str(park_id)].iloc[0]
    sectors = study_sectors(study)
    notes: list[str] = []

    say("buildable land")
    site = _site(study, prow.geometry, cfg)
    if shapely.is_empty(site.buildable) or \
            shapely.area(site.buildable) < cfg.plot_mu * MU_M2 * 0.1:
        raise InputError(f"park {park_id}: no buildable land left after red lines, water and "
                         "setbacks; check the park outline or lower the setbacks")
    say("plots along the road grid")
    P = _plots(site, cfg)
    n_pl = len(P.geom)

    say("firms and chain weights")
    ex, ex_plots, occ0, ex_x, ex_y = (None, [], np.where(P.usable, -1, -2).astype(np.int64),
                                      np.zeros(0), np.zeros(0))
    if cfg.include_existing and study.has_role("firms"):
        ex, ex_plots, occ0, ex_x, ex_y = _existing(study, str(park_id), P, site, notes)
    n = len(inc)
    ind_in = inc["industry"].to_numpy(dtype=object)
    ind_ex = ex["industry"].astype(str).to_numpy(dtype=object) if ex is not None \
        else np.empty(0, dtype=object)
    Afull = _pair_weights(chains, np.r_[ind_in, ind_ex])
    A, V = Afull[:n, :n], Afull[:n, n:]

    say("footprints")
    need = inc["land_mu"].to_numpy(float)
    fclass, fp_plots, fp_cls, fp_area, fp_cx, fp_cy = _footprints(need, P, occ0 == -1)
    override = inc["polluting_override"].to_numpy(dtype=object)
    polluting = np.array([bool(o) if o is not None and o == o else p for o, p in
                          zip(override, _is_polluting(ind_in, cfg, sectors), strict=True)])
    feas, reason = _feasibility(ind_in, polluting, need, fclass, fp_plots, fp_cls, fp_area, P,
                                site, cfg, sectors)
    prob = _Problem(fp_plots=fp_plots, fp_area=fp_area, fp_cx=fp_cx, fp_cy=fp_cy,
                    fp_class=fp_cls, firm_class=fclass, need=need, feas=feas, A=A, V=V,
                    ex=ex_x, ey=ex_y, n_plots=n_pl, occ0=occ0,
                    centre=(float(np.average(P.cx, weights=P.area_mu)),
                            float(np.average(P.cy, weights=P.area_mu))))

    say("greedy start")
    rng = np.random.default_rng(cfg.seed)
    t0 = time.perf_counter()
    order = np.lexsort((-need, -(A.sum(axis=1) + V.sum(axis=1))))  # most linked first
    fp_g, occ_g = _place(prob, order, None)
    t_greedy = time.perf_counter() - t0
    say("local search")
    fp_f, occ_f, stats = _local_search(prob, fp_g, occ_g, time_limit_s=cfg.time_limit_s,
                                       max_passes=cfg.max_passes, rng=rng)
    # random baseline: the same firms, random order, random feasible footprints
    fp_r = _place(prob, rng.permutation(np.flatnonzero(fp_g >= 0)), rng)[0]
    for _try in range(9):
        if ((fp_r >= 0) == (fp_g >= 0)).all():
            break
        fr = _place(prob, rng.permutation(np.flatnonzero(fp_g >= 0)), rng)[0]
        if (fr >= 0).sum() > (fp_r >= 0).sum():
            fp_r = fr

    def obj(fp: np.ndarray, mask: np.ndarray) -> float:
        ok = (fp >= 0) & mask
        return objective(np.where(ok, fp_cx[np.maximum(fp, 0)], 0),
                         np.where(ok, fp_cy[np.maximum(fp, 0)], 0), A, ex_x, ex_y, V, ok)

    common = (fp_g >= 0) & (fp_r >= 0)
    objs = {"random": obj(fp_r, common), "greedy": obj(fp_g, common),
            "final": obj(fp_f, common), "n_firms_compared": int(common.sum()),
            "greedy_all_placed": obj(fp_g, fp_g >= 0), "final_all_placed": obj(fp_f, fp_f >= 0)}
    for r in np.flatnonzero(fp_f < 0):
        if not reason[r]:
            left = float(P.area_mu[occ_f == -1].sum())
            reason[r] = (f"park full: {left:,.0f} 亩 of plots left, but no {need[r]:,.0f} 亩 "
                         "of them contiguous and meeting the hard rules")

    say("shared facilities")
    occ = occ_f.copy()
    placed = fp_f >= 0
    fac_rows, plot_fac = _site_facilities(
        cfg, P, site, occ, np.r_[fp_cx[fp_f[placed]], ex_x], np.r_[fp_cy[fp_f[placed]], ex_y],
        np.r_[ind_in[placed], ind_ex],
        np.r_[need[placed], ex["_land"].to_numpy(float) if ex is not None else np.zeros(0)],
        notes)

    say("writing tables")
    ex_ids = ex["firm_id"].astype(str).to_numpy(dtype=object) if ex is not None \
        else np.empty(0, dtype=object)
    plots = _plot_frame(P, site, occ, inc["firm_id"].to_numpy(dtype=object), ind_in, ex_ids,
                        ind_ex, plot_fac)
    assignments = _assignment_frame(P, site, inc, fp_f, fp_plots, polluting, reason, ex,
                                    ex_plots)
    facilities_gdf = gpd.GeoDataFrame(
        fac_rows or {c: [] for c in ("facility", "name_zh", "name_en", "plot_id", "n_users",
                                     "weight", "mean_distance_m", "max_distance_m",
                                     "objective", "optimal")},
        geometry="geometry" if fac_rows else [], crs=4326)
    links = _links(Afull, n, np.r_[np.where(placed, fp_cx[np.maximum(fp_f, 0)], np.nan), ex_x],
                   np.r_[np.where(placed, fp_cy[np.maximum(fp_f, 0)], np.nan), ex_y],
                   np.r_[inc["firm_id"].to_numpy(dtype=object), ex_ids], site)
    roads = gpd.GeoDataFrame({"kind": ["internal roads"],
                              "area_m2": [round(float(shapely.area(site.to_a(P.roads))), 1)]},
                             geometry=[site.to_w(P.roads)], crs=4326)
    setbacks = None
    if P.setback_zone is not None:
        sb = _polys_only(shapely.intersection(P.setback_zone, site.park_m))
        if not shapely.is_empty(sb):
            setbacks = gpd.GeoDataFrame({"kind": ["polluter setback"],
                                         "setback_m": [cfg.polluter_setback_m]},
                                        geometry=[site.to_w(sb)], crs=4326)
    summary = _summary(study, park_id, prow, cfg, site, P, fp_plots, n, len(ex_plots), fp_f,
                       objs, stats, inc, need, reason, fac_rows, notes,
                       {"greedy": t_greedy, "local_search": float(stats.get("seconds", 0.0)),
                        "total": time.perf_counter() - t_start})
    return LayoutResult(plots, assignments, facilities_gdf, summary, roads, setbacks, links)


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
    for k, pl in enumerate(ex_plots):
        rows.append(row(str(ex["firm_id"].iat[k]),
                        str(ex["name"].iat[k]) if "name" in ex else "",
                        str(ex["industry"].iat[k]), "existing", ex["_land"].iat[k], pl, False,
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


def _summary(study, park_id, prow, cfg: LayoutConfig, site: _Site, P: _Plots,
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


def layout_from_study(study: Study, **kwargs: Any) -> LayoutResult | None:
    """The layout a study file asks for (``[layout] park`` and ``firms``), or None.

    For ``parksite run``; keyword arguments go to :func:`layout_park`.
    """
    sec = study.section("layout")
    if not sec.get("park") or not sec.get("firms"):
        return None
    firms = read_incoming(study.root / sec["firms"])
    return layout_park(study, str(sec["park"]), firms, **kwargs)


def write_layout(res: LayoutResult, path: str | os.PathLike, *, overwrite: bool = True) -> Path:
    """Write a layout as one GeoPackage: layers plots, assignments, facilities, roads,
    setbacks, links and an attribute table ``summary`` (key, value as JSON)."""
    import json

    from .io import write_gpkg

    p = Path(path)
    if p.suffix.lower() != ".gpkg":
        raise InputError(f"--out {p}: a layout is written as a GeoPackage (.gpkg)")
    layers: dict[str, Any] = {"plots": res.plots}
    a = res.assignments
    layers["assignments"] = a[a.geometry.notna()] if a.geometry.notna().any() else a
    unpl = pd.DataFrame(a[a.geometry.isna()].drop(columns="geometry"))
    if len(res.facilities):
        layers["facilities"] = res.facilities
    for name in ("roads", "setbacks", "links"):
        g = getattr(res, name)
        if g is not None and len(g):
            layers[name] = g
    if len(unpl):
        layers["unplaced"] = unpl
    layers["summary"] = pd.DataFrame(
        [{"key": k, "value": json.dumps(v, ensure_ascii=False, default=str)}
         for k, v in res.summary.items()])
    return write_gpkg(layers, p, overwrite=overwrite)


__all__ = ["LayoutConfig", "LayoutResult", "layout_park", "layout_from_study", "p_median",
           "objective", "swap_deltas", "read_incoming", "check_incoming", "subdivide",
           "validate_section", "write_layout"]
