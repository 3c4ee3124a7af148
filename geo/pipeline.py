"""The main job on a study: validate, gate, analyse — one typed result.

:func:`run_study` runs every analysis the study file declares, in the order planners
read them (the red-line gate first: it is the admission threshold), writes each
analysis' tables into ``out_dir`` and returns a :class:`StudyRun` holding each
analysis' result object. The map (:mod:`geo.webmap`) and the CLI read that object;
nothing here prints or draws.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd

from .io import safe_component, write_csv
from .layout import LayoutResult, layout_from_study, write_layout
from .network.audit import AuditResult, audit_study, write_audit
from .parks import evaluate_parks, park_industries
from .recommend import rank_industries, recommend_study
from .redline import CONFLICT_COLUMNS, RedlineResult, check_study, write_result
from .sourcing import SourcingResult, run_sourcing, write_sourcing
from .study import Study
from .suitability import SuitabilityResult, run_suitability
from .symbiosis import find_pairs, pairs_geodataframe

#: Analyses that ``skip`` may leave out; the red-line gate always runs.
Analysis = Literal["sourcing", "suitability", "parks", "layout"]
ANALYSES: tuple[str, ...] = ("sourcing", "suitability", "parks", "layout")

#: Called after each step with (step name, one-line summary, seconds taken).
Progress = Callable[[str, str, float], None]


def _quiet(step: str, summary: str, seconds: float) -> None:  # noqa: ARG001
    """The default progress callback: says nothing."""


@dataclass
class StudyRun:
    """Everything one run of a study produced.

    Attributes
    ----------
    study
        The study that was run.
    out_dir
        Where the tables and rasters were written.
    redlines
        The red-line gate, or None when the study has no red-line layer or no parks
        layer: then :attr:`warnings` says "gate not run", loudly, never a silent pass.
    firms
        The firm register as read (EPSG:4326), or None when the study has none.
    sourcing
        Supply rates, park summaries, chain gaps and service areas ([sourcing]).
    parks
        One row per park: area, firms, LQ, HHI, 亩均 grade, red-line status ([parks]).
    park_industries
        Firms per (park, industry) with location quotients ([parks]).
    symbiosis
        By-product → input firm pairs with their connecting lines ([parks]).
    suitability
        Grids, candidate regions and the model card ([suitability]).
    recommendations
        Ranked parks and sites per industry of ``[parks.recommend]``.
    ranking
        Rankings for every industry of the chain maps
        (:func:`geo.recommend.rank_industries`: industry, rank, site id and name, score,
        its parts and the reasons; excluded sites unranked), for the map's picker; None
        when the step did not run.
    layout
        The park layout ([layout]).
    audit
        The network audit's probable missing links (``run_study(audit=True)``).
    seconds
        Time per step, in seconds.
    warnings
        What the run could not judge (no red-line layer: gate not run, …), for the
        console and the model card.
    """

    study: Study
    out_dir: Path
    redlines: RedlineResult | None = None
    firms: gpd.GeoDataFrame | None = None
    sourcing: SourcingResult | None = None
    parks: pd.DataFrame | None = None
    park_industries: pd.DataFrame | None = None
    symbiosis: gpd.GeoDataFrame | None = None
    suitability: SuitabilityResult | None = None
    recommendations: dict[str, pd.DataFrame] = field(default_factory=dict)
    ranking: pd.DataFrame | None = None
    layout: LayoutResult | None = None
    audit: AuditResult | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def parks_with_findings(self) -> int:
        """Parks whose red-line status is not ``pass`` (conflict or review); 0 when the
        gate did not run (see :attr:`warnings`)."""
        if self.redlines is None:
            return 0
        return int((self.redlines.parks.status != "pass").sum())


def _declared(study: Study, name: str, skip: frozenset[str]) -> bool:
    return name in study.sections and name not in skip


def _check_skip(skip: Iterable[str]) -> frozenset[str]:
    out = frozenset(skip)
    unknown = sorted(out - set(ANALYSES))
    if unknown:
        raise ValueError(f"skip: unknown analyses {unknown}; choose from {list(ANALYSES)}")
    return out


#: What a study without red lines or parks gets instead of a gate result.
NO_REDLINES = ("no red-line layer: gate not run. No park or site has been checked against "
               "ecological red lines (生态保护红线); add a layer with role = \"redlines\" "
               "before using any answer as a red-line clearance")
NO_PARKS = ("no parks layer: red-line gate not run on parks (there are none to check); add "
            "a layer with role = \"parks\"")


class GateNotRunWarning(UserWarning):
    """The red-line gate could not run (no red-line layer or no parks layer)."""


def _gate_or_warn(study: Study) -> tuple[RedlineResult | None, list[str]]:
    """The gate's result, or None with the reason when it cannot run."""
    missing = [m for role, m in (("redlines", NO_REDLINES), ("parks", NO_PARKS))
               if not study.has_role(role)]
    if missing:
        for m in missing:
            warnings.warn(m, GateNotRunWarning, stacklevel=3)
        return None, missing
    return check_study(study), []


def _gate(run: StudyRun, dest: Path) -> str:
    red = run.redlines
    if red is None:
        return "red-line gate NOT RUN: " + "; ".join(m.split(":")[0] for m in run.warnings)
    write_result(red, dest / "redline_conflicts.gpkg", run.study.load_role("parks"))
    write_csv(red.conflicts[CONFLICT_COLUMNS], dest / "redline_conflicts.csv")
    return (f"red-line gate: {run.parks_with_findings} of {len(red.parks)} parks with "
            f"findings → {run.out_dir}/redline_conflicts.*")


def _sourcing(run: StudyRun, dest: Path) -> str:
    run.sourcing = run_sourcing(run.study)
    write_sourcing(run.sourcing, dest)
    run.firms = run.sourcing.firms
    return f"sourcing within the transport circle → {run.out_dir}/sourcing*"


def _parks(run: StudyRun, dest: Path) -> str:
    study, out = run.study, dest
    run.parks = evaluate_parks(study)
    run.park_industries = park_industries(study)
    write_csv(run.parks, out / "parks.csv")
    write_csv(run.park_industries, out / "parks_industries.csv")
    pairs = find_pairs(study)
    write_csv(pairs, out / "symbiosis.csv")
    run.symbiosis = pairs_geodataframe(study, pairs)
    return (f"park evaluation and {len(pairs)} symbiosis pairs → {run.out_dir}/parks.csv, "
            "symbiosis.csv")


def _suitability(run: StudyRun, dest: Path) -> str:
    run.suitability = run_suitability(run.study, out_dir=dest / "suitability")
    return f"suitability → {run.out_dir / 'suitability'}"


def _recommend(run: StudyRun, dest: Path) -> str:
    cand = dest / "suitability" / "candidates.gpkg"
    sites = cand if cand.exists() else None
    run.recommendations = recommend_study(run.study, candidates=sites)
    for industry, table in run.recommendations.items():
        write_csv(table, dest / f"recommend_{safe_component(industry)}.csv")
    run.ranking = rank_industries(run.study, candidates=sites,
                                  top=run.study.config.parks.recommend.top)
    write_csv(run.ranking, dest / "recommend_all.csv")
    n = run.ranking["industry"].nunique()
    return (f"recommendations for {', '.join(run.recommendations) or 'no industry'} → "
            f"{run.out_dir}/recommend_*.csv; rankings for all {n} industries "
            f"({run.ranking.attrs['seconds']:.1f} s) → {run.out_dir}/recommend_all.csv")


def _layout(run: StudyRun, dest: Path) -> str:
    run.layout = layout_from_study(run.study)
    if run.layout is None:
        return "layout: no park to lay out"
    write_layout(run.layout, dest / "layout.gpkg")
    return f"layout of park {run.layout.summary.get('park_id', '')} → {run.out_dir}/layout.gpkg"


def _audit(run: StudyRun, dest: Path) -> str:
    run.audit = audit_study(run.study)
    write_audit(run.audit, dest / "network_audit.gpkg")
    return (f"network audit: {len(run.audit)} probable missing links → "
            f"{run.out_dir}/network_audit.gpkg")


def run_study(study: Study, out_dir: str | Path, *, skip: Iterable[str] = (),
              progress: Progress = _quiet, staging: str | Path | None = None,
              audit: bool = False) -> StudyRun:
    """Run every analysis ``study`` declares and write their tables into ``out_dir``.

    Steps, in order: the red-line gate (not run, with a :class:`GateNotRunWarning` and a
    line in ``StudyRun.warnings``, when the study has no red-line or no parks layer);
    sourcing ([sourcing]); park evaluation and
    symbiosis ([parks]); suitability ([suitability]); recommendations ([parks], after
    suitability so that its candidate regions compete with the parks); layout ([layout]).

    Parameters
    ----------
    study : Study
        A loaded study (:func:`geo.study.load_study`); its layers are read here.
    out_dir : str or Path
        Folder for the tables and rasters; created if missing.
    skip : iterable of str, optional
        Analyses to leave out even though the study declares them, from
        ``{"sourcing", "suitability", "parks", "layout"}``.
    progress : callable, optional
        Called after each step with (step name, one-line summary, seconds taken);
        default silent.
    staging : str or Path, optional
        Write the files here instead of ``out_dir`` (a staging folder that the caller
        renames into place when the whole run succeeded, see
        :func:`geo.io.staged_dir`); summaries and ``StudyRun.out_dir`` still name
        ``out_dir``.
    audit : bool, optional
        Also audit the road network (:func:`geo.network.audit.audit_study`, about 15 s
        on the bundled study; needs a roads layer) and write ``network_audit.gpkg``.

    Returns
    -------
    StudyRun
        Each analysis' result object (None for those not run), the time per step in
        seconds and what the run could not judge (:attr:`StudyRun.warnings`).

    Raises
    ------
    geo.errors.ParksiteError
        Bad input found by any step (nothing of that step is written).
    ValueError
        An unknown name in ``skip``.
    """
    skipped = _check_skip(skip)
    out = Path(out_dir)
    dest = Path(staging) if staging is not None else out
    dest.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for key, spec in study.layers.items():
        if not spec.is_raster:
            study.load(key)
    firms = study.load_role("firms") if study.has_role("firms") else None
    gate, not_run = _gate_or_warn(study)
    run = StudyRun(study=study, out_dir=out, redlines=gate, firms=firms, warnings=not_run)
    run.seconds["layers"] = time.perf_counter() - t0
    progress("layers", f"{len(study.layers)} layers read and valid", run.seconds["layers"])
    steps: list[tuple[str, Callable[[StudyRun, Path], str], bool]] = [
        ("redlines", _gate, True),
        ("sourcing", _sourcing, _declared(study, "sourcing", skipped)),
        ("parks", _parks, _declared(study, "parks", skipped)),
        ("suitability", _suitability, _declared(study, "suitability", skipped)),
        ("recommend", _recommend, _declared(study, "parks", skipped)),
        ("layout", _layout, _declared(study, "layout", skipped)),
        ("audit", _audit, audit),
    ]
    for name, step, wanted in steps:
        if wanted:
            t = time.perf_counter()
            summary = step(run, dest)
            run.seconds[name] = time.perf_counter() - t
            progress(name, summary, run.seconds[name])
    return run
