"""``parksite suitability``: the site-suitability grid on the command line."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..study import load_study
from ..suitability import SuitabilityResult, run_suitability
from ._common import EXIT_OK, add_row, console, esc, guarded, out, overwrite_option, state
from .options import SUITABILITY_FILES, refuse_outputs_over_inputs, study_arg


def model_table(res: SuitabilityResult) -> Table:
    """Criteria, transforms and weights (the model card as a table).

    Parameters
    ----------
    res : SuitabilityResult
        The suitability run; its model card gives criteria, transforms, weights
        and the grid (cell size in metres, metric CRS).

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    card = res.model_card
    w = card["weights"]
    cr = f", CR = {w['ahp']['cr']:.3f}" if "ahp" in w else ""
    t = Table(title=f"Suitability model 适宜性评价模型 ({w['method'].upper()} weights{cr}; "
                    f"{card['aggregation']['method'].upper()})")
    t.add_column("criterion 指标", overflow="fold", min_width=10)
    t.add_column("transform 标准化", overflow="fold", min_width=16)
    t.add_column("weight", justify="right", no_wrap=True)
    t.add_column("median", justify="right", overflow="fold")
    for c in card["criteria"]:
        raw = c["raw_in_scored_cells"]
        med = f"{raw['median']:,.1f} {c['unit']}" if "median" in raw else "-"
        if raw.get("known_share", 1) < 1:
            med += f" ({raw['known_share']:.0%} known)"
        add_row(t, f"{c['name']} {c['label_zh']}", c["transform_text"], f"{c['weight']:.3f}",
                  med)
    g = card["grid"]
    t.caption = (f"grid {g['width']:,} × {g['height']:,} cells of {g['cell_m']:g} m in {g['crs']}; "
                 f"{g['cells_scored']:,} scored")
    return t


def exclusion_table(res: SuitabilityResult) -> Table:
    """Cells and area (km²) per exclusion code of ``exclusion.tif`` (code 1 left
    out) as a rich table.

    Parameters
    ----------
    res : SuitabilityResult
        The suitability run; ``exclusion_counts`` per code (cells, area in km²).

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    t = Table(title="Exclusions 硬约束 (exclusion.tif codes)")
    t.add_column("code", justify="right")
    t.add_column("reason 原因")
    t.add_column("cells", justify="right")
    t.add_column("km²", justify="right")
    for code, v in res.exclusion_counts.items():
        if code == 1:
            continue
        add_row(t, str(code), f"{v['zh']} · {v['en']}", f"{v['cells']:,}", f"{v['area_km2']:,.1f}")
    return t


def candidates_table(res: SuitabilityResult, limit: int = 10) -> Table:
    """The candidate regions (top cells of at least the minimum area) as a rich
    table.

    Parameters
    ----------
    res : SuitabilityResult
        The suitability run; ``candidates`` ranked (mean score 0–1, area in ha and
        亩, distances in metres, stability shares 0–1).
    limit : int, default 10
        Rows shown; the caption counts the rest.

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    st = res.model_card["stability"]
    t = Table(title=f"Candidate regions 候选区域 (top {res.model_card['top_cells']['top_pct']:g}% "
                    f"cells, ≥ {res.model_card['candidates']['min_area_mu']:,.0f} 亩)")
    for col in ("#", "区县", "score", "ha", "亩", "road m", "红线 m",
                f"top{st['top_n']}", "stab."):
        t.add_column(col, justify="left" if col == "区县" else "right", no_wrap=True)
    for r in res.candidates.head(limit).itertuples():
        add_row(t, str(r.rank), r.district, f"{r.mean_score:.3f}",
                  f"{r.area_ha:,.0f}", f"{r.area_mu:,.0f}", f"{r.dist_highway_m:,.0f}",
                  f"{r.dist_redline_m:,.0f}",
                  "-" if r.p_top_n != r.p_top_n else f"{r.p_top_n:.0%}",
                  "-" if r.cell_stability_mean != r.cell_stability_mean
                  else f"{r.cell_stability_mean:.0%}")
    t.caption = (f"score = mean suitability; top{st['top_n']} = share of {st['runs']} weight "
                 f"sets (±{st['perturbation']:.0%}) keeping the region in the top {st['top_n']}; "
                 "stab. = mean cell probability of staying in the top cells")
    if len(res.candidates) > limit:
        t.caption += f"; … {len(res.candidates) - limit} more in candidates.gpkg"
    if res.candidates.empty:
        t.caption = "no region of the top cells reaches the minimum area"
    return t


def _address(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse a scheduler that is not an address (``tcp://host:8786``)."""
    del ctx, param
    if value is not None and "://" not in value:
        raise click.BadParameter(f"{value!r} is not a scheduler address; give one like "
                                 "tcp://host:8786", param_hint="'--scheduler'")
    return value


@click.command("suitability")
@study_arg
@click.option("--industry", metavar="NAME", default=None,
              help="Score for this industry: adds supplier access and excludes restricted "
                   "zones that ban it (e.g. biomedicine → pharmaceuticals).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out/suitability"), show_default=True,
              help="Folder for suitability.tif, exclusion.tif, stability.tif, "
                   "candidates.gpkg, model_card.json.")
@click.option("--min-area-mu", type=click.FloatRange(min=0), default=None,
              help="Smallest candidate region in 亩 [study: min_area_mu, default 1500].")
@click.option("--max-area-mu", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Largest candidate region in 亩: larger regions are cut into square-tile "
                   "parts [study: max_area_mu].")
@click.option("--top-pct", type=click.FloatRange(min=0, max=100, min_open=True), default=None,
              help="Candidate cells are the top X % of scored cells [study: top_pct].")
@click.option("--top-n", type=click.IntRange(min=1), default=None,
              help="Stability: share of runs in which a region stays in the top N.")
@click.option("--runs", type=click.IntRange(min=0), default=None,
              help="Monte Carlo runs for rank stability (0 = skip) [study: runs, default 200].")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Monte Carlo seed [study: seed, default 0].")
@click.option("--cell-m", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Grid cell size in metres [study: cell_m, default 250].")
@click.option("--engine", type=click.Choice(["auto", "memory", "dask"]), default="auto",
              show_default=True,
              help="memory: numpy in this process; dask: on tiles with Dask (same results, "
                   "never the full grid in memory; COG outputs); auto: dask when the grid's "
                   "memory estimate exceeds [compute] memory_gb or a scheduler is given.")
@click.option("--scheduler", metavar="tcp://HOST:8786", default=None, callback=_address,
              help="Run the dask engine on this existing dask.distributed scheduler "
                   "[study: [compute] scheduler; default a local cluster].")
@overwrite_option
@guarded
def command(study: Path, industry: str | None, out_dir: Path, min_area_mu: float | None,
            max_area_mu: float | None, top_pct: float | None, top_n: int | None, runs: int | None,
            seed: int | None, cell_m: float | None, engine: str, scheduler: str | None,
            overwrite: bool) -> int:
    """Site suitability grid: where is land suitable for a new park or an industry?

    \b
    Reads the [suitability] section of STUDY (criteria, transforms, AHP or direct
    weights, WLC/OWA, hard constraints) and writes to --out:
      suitability.tif   score 0–1 (nodata = excluded)
      exclusion.tif     reason codes (red line, buffer, restricted, water, slope)
      stability.tif     share of Monte Carlo weight sets keeping the cell in the top X %
      candidates.gpkg   ranked contiguous candidate regions (ha, 亩, distances, stability)
      model_card.json   criteria, transforms, weights, CR, data sources, version

    \b
    Example:
      parksite suitability layers/yrd.toml --industry biomedicine --min-area-mu 1500

    \f
    Parameters
    ----------
    study : pathlib.Path
        STUDY: the study file (``layers/*.toml``).
    industry : str or None
        ``--industry``: Score for this industry: adds supplier access and
        excludes restricted zones that ban it (e.g. biomedicine →
        pharmaceuticals).
    out_dir : pathlib.Path
        ``--out``: Folder for suitability.tif, exclusion.tif, stability.tif,
        candidates.gpkg, model_card.json. Default ``out/suitability``.
    min_area_mu : float or None
        ``--min-area-mu``: Smallest candidate region in 亩 [study: min_area_mu,
        default 1500].
    max_area_mu : float or None
        ``--max-area-mu``: Largest candidate region in 亩: larger regions are cut
        into square-tile parts [study: max_area_mu].
    top_pct : float or None
        ``--top-pct``: Candidate cells are the top X % of scored cells [study:
        top_pct].
    top_n : int or None
        ``--top-n``: Stability: share of runs in which a region stays in the top
        N.
    runs : int or None
        ``--runs``: Monte Carlo runs for rank stability (0 = skip) [study: runs,
        default 200].
    seed : int or None
        ``--seed``: Monte Carlo seed [study: seed, default 0].
    cell_m : float or None
        ``--cell-m``: Grid cell size in metres [study: cell_m, default 250].
    engine : {"auto", "memory", "dask"}
        ``--engine``: memory: numpy in this process; dask: on tiles with Dask
        (same results, never the full grid in memory; COG outputs); auto: dask
        when the grid's memory estimate exceeds [compute] memory_gb or a
        scheduler is given. Default ``auto``.
    scheduler : str or None
        ``--scheduler``: Run the dask engine on this existing dask.distributed
        scheduler [study: [compute] scheduler; default a local cluster].
    overwrite : bool
        ``--overwrite/--no-overwrite``: Replace an existing output file (always
        written atomically). Default ``True``.

    Returns
    -------
    int
        The exit code (0) for :func:`~geo.cli._common.guarded`, which exits with it.
    """
    st = load_study(study)
    refuse_outputs_over_inputs(study=st, folder=out_dir, names=SUITABILITY_FILES)
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=state.quiet) as prog:
        task = prog.add_task("suitability", total=1.0)

        def progress(desc: str, done: float, total: float) -> None:
            prog.update(task, description=desc, completed=done / total if total else 1.0)

        res = run_suitability(st, industry=industry, out_dir=out_dir, min_area_mu=min_area_mu,
                              max_area_mu=max_area_mu, top_pct=top_pct, runs=runs, seed=seed,
                              cell_m=cell_m, top_n=top_n, overwrite=overwrite, progress=progress,
                              engine=engine, scheduler=scheduler,
                              log=lambda msg: console.print(esc(msg)))
    out.print(model_table(res))
    out.print(exclusion_table(res))
    out.print(candidates_table(res))
    eng = res.model_card.get("engine")
    if eng:
        out.print(f"dask engine: {eng['tiles']} tiles of {eng['tile_side_cells']} cells on "
                  f"{eng['workers']} workers ({esc(eng['scheduler'])}); rasters written as "
                  "Cloud-Optimized GeoTIFFs")
    out.print(f"wrote {esc(res.suitability_tif)}, {esc(res.exclusion_tif)}, "
              f"{esc(res.stability_tif or '-')}, {esc(res.candidates_gpkg)}, "
              f"{esc(res.model_card_json)} "
              f"({res.timings.get('total_s', 0):.1f} s)")
    return EXIT_OK
