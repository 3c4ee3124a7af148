"""The park layout model: :class:`LayoutProblem` (build from a park, solve) and the
function API :func:`layout_park` / :func:`layout_from_study` over it.

Works in the study's metric CRS (Gauss–Krüger, metres); areas from the study's
equal-area CRS; the result tables are EPSG:4326.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import LayoutConfig, replace
from ..errors import InputError, ModelError
from ..register import park_frame, study_chains
from ..units import MU_M2
from .assign import (
    SectorRule,
    _feasibility,
    _is_polluting,
    _local_search,
    _pair_weights,
    _place,
    _Problem,
    objective,
    sector_rule,
)
from .facilities import _site_facilities
from .firms import check_incoming, read_incoming
from .plots import _existing, _footprints, _Plots, _plots, _polys_only, _Site, _site
from .tables import LayoutResult, _assignment_frame, _links, _plot_frame, _summary

if TYPE_CHECKING:  # pragma: no cover
    from ..study import Study


def layout_config(study: Study | None, *, plot_mu: float | None = None,
                  road_spacing_m: float | None = None, road_width_m: float | None = None,
                  seed: int | None = None, time_limit_s: float | None = None,
                  include_existing: bool | None = None,
                  facilities: list[dict[str, Any]] | None = None,
                  overrides: dict[str, Any] | None = None) -> LayoutConfig:
    """The study's ``[layout]`` settings with explicit overrides (None: the study's value).

    Parameters
    ----------
    study
        The study (None: the defaults).
    plot_mu, road_spacing_m, road_width_m, seed, time_limit_s, include_existing, facilities
        Overrides of the ``[layout]`` settings (亩, metres, seconds); None keeps the
        study's value, or the default when the study sets none.
    overrides
        Any other :class:`LayoutConfig` field, e.g. ``{"polluter_setback_m": 800}``.

    Returns
    -------
    LayoutConfig

    Raises
    ------
    InputError
        An unknown override or a value out of range.
    """
    explicit: dict[str, Any] = {
        "plot_mu": plot_mu, "road_spacing_m": road_spacing_m, "road_width_m": road_width_m,
        "seed": seed, "time_limit_s": time_limit_s, "include_existing": include_existing,
        "facilities": tuple(facilities) if facilities is not None else None}
    explicit.update(overrides or {})
    base = study.config.layout if study is not None else LayoutConfig()
    return replace(base, study, where="layout", **explicit)


def _park_row(study: Study, park_id: str) -> pd.Series:
    """The park's row of the parks layer (EPSG:4326), or an error naming the fix."""
    parks = park_frame(study)
    ids = parks["park_id"].tolist()
    if str(park_id) not in ids:
        close = difflib.get_close_matches(str(park_id), ids, n=1)
        raise InputError(f"--park {park_id}: no such park in {study.path}" +
                         (f"; did you mean {close[0]!r}?" if close else
                          f"; parks: {', '.join(ids)}"))
    return parks[parks["park_id"] == str(park_id)].iloc[0]


@dataclass
class LayoutProblem:
    """Lay out one park: incoming firms on plot footprints, shared facilities on free plots.

    Sets: firms i, j ∈ F (incoming), existing firms e ∈ E of the register (fixed),
    footprints q ∈ Q (one plot, or adjacent plots of one block, grown from a seed plot
    to cover a size class's largest need), plots k ∈ K.

    Parameters (data): a_ij = W[i←j]/n_j + W[j←i]/n_i the chain weight of a pair (W the
    chain-map share of the buyer's input value from the other's industry, n the number
    of firms of the supplier's industry); v_ie the same for an existing firm; d(q, r)
    the rectilinear (grid-road) distance in metres between footprint centroids;
    feasible(i, q) the hard rules: size class, area ≥ need, polluting firms only on
    plots ``polluter_setback_m`` from red lines and residential/service areas, no plot
    in a restricted zone that bans the firm's industry.

    Variables: z_iq ∈ {0, 1}, firm i on footprint q (at most one per firm; firms left
    without a footprint are *unplaced*, each with its reason).

    Objective::

        minimise  Σ_{i<j} a_ij d(q_i, q_j) + Σ_i Σ_e v_ie d(q_i, e)

    Constraints::

        Σ_q z_iq ≤ 1                      for every firm i
        Σ_i Σ_{q ∋ k} z_iq ≤ 1            for every plot k (no plot shared)
        z_iq = 0 unless feasible(i, q)    (hard rules, never penalties)

    Solved heuristically: a greedy start (most-linked firms first, each on the feasible
    free footprint of least added cost), then best-improvement swaps (same size class)
    and moves to free footprints until no move improves or ``time_limit_s`` passes; a
    random feasible assignment of the same firms is the baseline. Each facility is then
    sited by an exact :class:`~geo.layout.facilities.PMedian` over the free plots.

    Build it with :meth:`from_park`; :meth:`solve` returns the fitted model with
    ``plots``, ``assignment``, ``facilities``, ``objective`` (the final value, all
    placed firms), ``objectives`` (random, greedy, final), ``unplaced`` (firm_id,
    industry, land_need_mu, reason) and ``result`` (the :class:`LayoutResult`).
    """

    study: Study
    park_id: str
    prow: pd.Series
    cfg: LayoutConfig
    inc: pd.DataFrame
    site: _Site
    grid: _Plots
    ex: pd.DataFrame | None
    ex_plots: list[list[int]]
    arrays: dict[str, np.ndarray]
    prob: _Problem
    notes: list[str]
    say: Callable[[str], None]
    t_start: float
    result: LayoutResult | None = None
    objectives: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_park(cls, study: Study, park_id: str, firms: pd.DataFrame, *,
                  config: LayoutConfig | None = None,
                  progress: Callable[[str], None] | None = None) -> LayoutProblem:
        """The layout problem of one park of a study.

        Parameters
        ----------
        study
            A study with a parks layer; red lines, water, residential/amenities and
            firms layers are used when present (any CRS; worked in the metric CRS).
        park_id
            The park's id.
        firms
            Incoming firms: ``industry`` (chain-map id) and ``land_mu`` (亩) per row;
            optional ``firm_id``, ``name``, ``polluting``.
        config
            The settings (None: the study's ``[layout]``, see :func:`layout_config`).
        progress
            Called with the name of each phase.

        Returns
        -------
        LayoutProblem
            The unsolved model.

        Raises
        ------
        InputError
            Unknown park, bad firms table, bad settings, no buildable land, no plot.
        ModelError
            Industries not in the chain maps.
        """
        t_start = time.perf_counter()
        say = progress or (lambda s: None)
        cfg = config if config is not None else layout_config(study)
        chains = study_chains(study)
        inc = check_incoming(firms, chains, str(firms.attrs.get("source", "incoming firms")))
        prow = _park_row(study, park_id)
        banned = sector_rule(study)
        notes: list[str] = []
        say("buildable land")
        site = _site(study, prow.geometry, cfg)
        if shapely.is_empty(site.buildable) or \
                shapely.area(site.buildable) < cfg.plot_mu * MU_M2 * 0.1:
            raise InputError(f"park {park_id}: no buildable land left after red lines, water "
                             "and setbacks; check the park outline or lower the setbacks")
        say("plots along the road grid")
        grid = _plots(site, cfg)
        if not grid.usable.any():
            raise InputError(f"park {park_id}: no plot of at least {cfg.min_plot_mu:g} 亩 on "
                             f"its buildable land ({shapely.area(site.buildable) / MU_M2:,.1f} "
                             "亩 between roads and setbacks); lower layout.min_plot_mu or "
                             "road_width_m, or check the park outline")
        say("firms and chain weights")
        ex_plots: list[list[int]] = []
        ex, occ0, ex_x, ex_y = None, np.where(grid.usable, -1, -2).astype(np.int64), \
            np.zeros(0), np.zeros(0)
        if cfg.include_existing and study.has_role("firms"):
            ex, ex_plots, occ0, ex_x, ex_y = _existing(study, str(park_id), grid, site, notes)
        say("footprints")
        arrays, prob = _arrays(chains, inc, ex, ex_x, ex_y, occ0, grid, site, cfg, banned)
        _check_placeable(str(park_id), inc, prob.feas, arrays["reason"])
        return cls(study=study, park_id=str(park_id), prow=prow, cfg=cfg, inc=inc, site=site,
                   grid=grid, ex=ex, ex_plots=ex_plots, arrays=arrays, prob=prob, notes=notes,
                   say=say, t_start=t_start)

    def solve(self) -> LayoutProblem:
        """Greedy start, local search, random baseline, then the facilities' p-medians.

        Returns
        -------
        LayoutProblem
            This model, fitted: ``plots``, ``assignment``, ``facilities``,
            ``objective``, ``objectives``, ``unplaced`` and ``result``.

        Raises
        ------
        ModelError
            A facility's p-median found no solution.
        """
        prob, cfg, ar = self.prob, self.cfg, self.arrays
        A, V, need = prob.A, prob.V, prob.need
        self.say("greedy start")
        rng = np.random.default_rng(cfg.seed)
        t0 = time.perf_counter()
        order = np.lexsort((-need, -(A.sum(axis=1) + V.sum(axis=1))))  # most linked first
        fp_g, occ_g = _place(prob, order, None)
        t_greedy = time.perf_counter() - t0
        self.say("local search")
        fp_f, occ_f, stats = _local_search(prob, fp_g, occ_g, time_limit_s=cfg.time_limit_s,
                                           max_passes=cfg.max_passes, rng=rng)
        fp_r = _baseline(prob, fp_g, rng)
        self.objectives = _objectives(prob, fp_r, fp_g, fp_f)
        reason = ar["reason"]
        for r in np.flatnonzero(fp_f < 0):
            if not reason[r]:
                left = float(self.grid.area_mu[occ_f == -1].sum())
                reason[r] = (f"park full: {left:,.0f} 亩 of plots left, but no {need[r]:,.0f} "
                             "亩 of them contiguous and meeting the hard rules")
        self.say("shared facilities")
        occ = occ_f.copy()
        placed = fp_f >= 0
        ex_land = self.ex["_land"].to_numpy(float) if self.ex is not None else np.zeros(0)
        fac_rows, plot_fac = _site_facilities(
            cfg, self.grid, self.site, occ, np.r_[prob.fp_cx[fp_f[placed]], prob.ex],
            np.r_[prob.fp_cy[fp_f[placed]], prob.ey], np.r_[ar["ind_in"][placed], ar["ind_ex"]],
            np.r_[need[placed], ex_land], self.notes)
        self.say("writing tables")
        self.result = self._tables(fp_f, occ, fac_rows, plot_fac, stats,
                                   {"greedy": t_greedy,
                                    "local_search": float(stats.get("seconds", 0.0))})
        return self

    def _tables(self, fp_f: np.ndarray, occ: np.ndarray, fac_rows: list[dict[str, Any]],
                plot_fac: np.ndarray, stats: dict[str, Any], seconds: dict[str, float]
                ) -> LayoutResult:
        """The result tables (EPSG:4326) and the summary."""
        prob, ar, inc, ex, site, P = self.prob, self.arrays, self.inc, self.ex, self.site, \
            self.grid
        n = len(inc)
        ex_ids = ex["firm_id"].astype(str).to_numpy(dtype=object) if ex is not None \
            else np.empty(0, dtype=object)
        plots = _plot_frame(P, site, occ, inc["firm_id"].to_numpy(dtype=object), ar["ind_in"],
                            ex_ids, ar["ind_ex"], plot_fac)
        assignments = _assignment_frame(P, site, inc, fp_f, prob.fp_plots, ar["polluting"],
                                        ar["reason"], ex, self.ex_plots)
        facilities_gdf = gpd.GeoDataFrame(
            fac_rows or {c: [] for c in ("facility", "name_zh", "name_en", "plot_id", "n_users",
                                         "weight", "mean_distance_m", "max_distance_m",
                                         "objective", "optimal")},
            geometry="geometry" if fac_rows else [], crs=4326)
        placed = fp_f >= 0
        links = _links(ar["Afull"], n,
                       np.r_[np.where(placed, prob.fp_cx[np.maximum(fp_f, 0)], np.nan), prob.ex],
                       np.r_[np.where(placed, prob.fp_cy[np.maximum(fp_f, 0)], np.nan), prob.ey],
                       np.r_[inc["firm_id"].to_numpy(dtype=object), ex_ids], site)
        roads = gpd.GeoDataFrame({"kind": ["internal roads"],
                                  "area_m2": [round(float(shapely.area(site.to_a(P.roads))), 1)]},
                                 geometry=[site.to_w(P.roads)], crs=4326)
        setbacks = None
        if P.setback_zone is not None:
            sb = _polys_only(shapely.intersection(P.setback_zone, site.park_m))
            if not shapely.is_empty(sb):
                setbacks = gpd.GeoDataFrame({"kind": ["polluter setback"],
                                             "setback_m": [self.cfg.polluter_setback_m]},
                                            geometry=[site.to_w(sb)], crs=4326)
        seconds["total"] = time.perf_counter() - self.t_start
        summary = _summary(self.study, self.park_id, self.prow, self.cfg, site, P,
                           prob.fp_plots, n, len(self.ex_plots), fp_f, self.objectives, stats,
                           inc, prob.need, ar["reason"], fac_rows, self.notes, seconds)
        return LayoutResult(plots, assignments, facilities_gdf, summary, roads, setbacks, links)

    def _fitted(self) -> LayoutResult:
        if self.result is None:
            raise RuntimeError("LayoutProblem: call solve() first")
        return self.result

    @property
    def plots(self) -> gpd.GeoDataFrame:
        """Plots with their status, firm and facility (EPSG:4326), after :meth:`solve`."""
        return self._fitted().plots

    @property
    def assignment(self) -> gpd.GeoDataFrame:
        """One row per firm, placed or not (EPSG:4326), after :meth:`solve`."""
        return self._fitted().assignments

    @property
    def facilities(self) -> gpd.GeoDataFrame:
        """Facility sites (plot centroids, EPSG:4326), after :meth:`solve`."""
        return self._fitted().facilities

    @property
    def objective(self) -> float:
        """Final chain-weighted rectilinear distance over all placed firms (weight × m)."""
        self._fitted()
        return float(self.objectives["final_all_placed"])

    @property
    def unplaced(self) -> pd.DataFrame:
        """Firms without a footprint: ``firm_id, industry, land_need_mu, reason``."""
        return pd.DataFrame(self._fitted().summary["unplaced"],
                            columns=["firm_id", "industry", "land_need_mu", "reason"])


def _arrays(chains: Any, inc: pd.DataFrame, ex: pd.DataFrame | None, ex_x: np.ndarray,
            ex_y: np.ndarray, occ0: np.ndarray, P: _Plots, site: _Site, cfg: LayoutConfig,
            banned: SectorRule) -> tuple[dict[str, np.ndarray], _Problem]:
    """Chain weights, footprints and the hard rules of the firms (metric CRS)."""
    n = len(inc)
    ind_in = inc["industry"].to_numpy(dtype=object)
    ind_ex = ex["industry"].astype(str).to_numpy(dtype=object) if ex is not None \
        else np.empty(0, dtype=object)
    Afull = _pair_weights(chains, np.r_[ind_in, ind_ex])
    A, V = Afull[:n, :n], Afull[:n, n:]
    need = inc["land_mu"].to_numpy(float)
    fclass, fp_plots, fp_cls, fp_area, fp_cx, fp_cy = _footprints(need, P, occ0 == -1)
    override = inc["polluting_override"].to_numpy(dtype=object)
    polluting = np.array([bool(o) if o is not None and o == o else p for o, p in
                          zip(override, _is_polluting(ind_in, cfg, banned), strict=True)])
    feas, reason = _feasibility(ind_in, polluting, need, fclass, fp_plots, fp_cls, fp_area, P,
                                site, cfg, banned)
    prob = _Problem(fp_plots=fp_plots, fp_area=fp_area, fp_cx=fp_cx, fp_cy=fp_cy,
                    fp_class=fp_cls, firm_class=fclass, need=need, feas=feas, A=A, V=V,
                    ex=ex_x, ey=ex_y, n_plots=len(P.geom), occ0=occ0,
                    centre=(float(np.average(P.cx, weights=P.area_mu)),
                            float(np.average(P.cy, weights=P.area_mu))))
    return {"ind_in": ind_in, "ind_ex": ind_ex, "Afull": Afull, "polluting": polluting,
            "reason": reason}, prob


def _check_placeable(park_id: str, inc: pd.DataFrame, feas: np.ndarray,
                     reason: np.ndarray) -> None:
    """Raise when no incoming firm has a feasible footprint (an empty layout is no answer).

    Raises
    ------
    ModelError
        Naming every firm (up to ten) with its reason and the fix.
    """
    if feas.any():
        return
    lines = [f"  firm {inc['firm_id'].iat[i]} ({inc['industry'].iat[i]}, "
             f"{inc['land_mu'].iat[i]:,.0f} 亩): {reason[i] or 'no free plots left'}"
             for i in range(min(len(inc), 10))]
    more = f"\n  … and {len(inc) - 10} more" if len(inc) > 10 else ""
    raise ModelError(f"park {park_id}: none of the {len(inc)} incoming firm(s) can be placed:\n"
                     + "\n".join(lines) + more + "\nFix: lower the firms' land_mu, lay them "
                     "out in a larger park, or relax the setbacks of the study's layout section")


def _baseline(prob: _Problem, fp_g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random baseline: the same firms, random order, random feasible footprints."""
    fp_r = _place(prob, rng.permutation(np.flatnonzero(fp_g >= 0)), rng)[0]
    for _try in range(9):
        if ((fp_r >= 0) == (fp_g >= 0)).all():
            break
        fr = _place(prob, rng.permutation(np.flatnonzero(fp_g >= 0)), rng)[0]
        if (fr >= 0).sum() > (fp_r >= 0).sum():
            fp_r = fr
    return fp_r


def _objectives(prob: _Problem, fp_r: np.ndarray, fp_g: np.ndarray, fp_f: np.ndarray
                ) -> dict[str, Any]:
    """Objective of the random, greedy and final assignments over the firms all three
    placed, and of greedy and final over all the firms each placed."""
    def obj(fp: np.ndarray, mask: np.ndarray) -> float:
        ok = (fp >= 0) & mask
        return objective(np.where(ok, prob.fp_cx[np.maximum(fp, 0)], 0),
                         np.where(ok, prob.fp_cy[np.maximum(fp, 0)], 0), prob.A, prob.ex,
                         prob.ey, prob.V, ok)

    common = (fp_g >= 0) & (fp_r >= 0)
    return {"random": obj(fp_r, common), "greedy": obj(fp_g, common),
            "final": obj(fp_f, common), "n_firms_compared": int(common.sum()),
            "greedy_all_placed": obj(fp_g, fp_g >= 0), "final_all_placed": obj(fp_f, fp_f >= 0)}


def layout_park(study: Study, park_id: str, firms_df: pd.DataFrame,
                plot_mu: float | None = None, *,
                road_spacing_m: float | None = None, road_width_m: float | None = None,
                seed: int | None = None, time_limit_s: float | None = None,
                include_existing: bool | None = None,
                facilities: list[dict[str, Any]] | None = None,
                overrides: dict[str, Any] | None = None,
                progress: Callable[[str], None] | None = None) -> LayoutResult:
    """Subdivide a park into plots, assign incoming firms, site shared facilities.

    ``LayoutProblem.from_park(...).solve().result`` with the settings of
    :func:`layout_config`.

    Parameters
    ----------
    study, park_id, firms_df
        The study, the park's id and the incoming firms, as in
        :meth:`LayoutProblem.from_park`.
    plot_mu
        Target plot size in 亩; None: ``[layout] plot_mu`` of the study (default 50).
    road_spacing_m, road_width_m, seed, time_limit_s, include_existing, facilities
        Override the ``[layout]`` settings (metres, seconds); None: the study's value.
    overrides
        Any other :class:`LayoutConfig` field, e.g. ``{"polluter_setback_m": 800}``.
    progress
        Called with the name of each phase.

    Returns
    -------
    LayoutResult
        Tables in EPSG:4326, areas from the equal-area CRS.

    Raises
    ------
    InputError
        Unknown park, bad firms table, bad settings, no buildable land.
    ModelError
        Industries not in the chain maps.
    """
    cfg = layout_config(study, plot_mu=plot_mu, road_spacing_m=road_spacing_m,
                        road_width_m=road_width_m, seed=seed, time_limit_s=time_limit_s,
                        include_existing=include_existing, facilities=facilities,
                        overrides=overrides)
    model = LayoutProblem.from_park(study, park_id, firms_df, config=cfg, progress=progress)
    return model.solve()._fitted()


def layout_from_study(study: Study, **kwargs: Any) -> LayoutResult | None:
    """The layout a study file asks for (``[layout] park`` and ``firms``), or None.

    Parameters
    ----------
    study
        The study; ``[layout] firms`` is relative to the study file.
    **kwargs
        Passed to :func:`layout_park`.

    Returns
    -------
    LayoutResult or None
        None when the study names no park and firms.

    Raises
    ------
    InputError, MissingFileError, ModelError
        As :func:`layout_park` and :func:`~geo.layout.firms.read_incoming`.
    """
    cfg = study.config.layout
    if cfg.park is None or cfg.firms is None:
        return None
    firms = read_incoming(study.root / cfg.firms)
    return layout_park(study, cfg.park, firms, **kwargs)
