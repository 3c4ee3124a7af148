"""``parksite layout``: plots, firm assignment and shared facilities inside one park."""

from __future__ import annotations

import warnings
from pathlib import Path

import click
from rich.table import Table

from ..layout import layout_park, read_incoming, write_layout
from ..study import load_study
from ..webmap import check_map_path, write_layout_map
from ._common import EXIT_OK, add_row, console, esc, guarded, out, overwrite_option, state
from .options import (
    NON_NEGATIVE,
    POSITIVE,
    MapOptions,
    check_out_file,
    map_options,
    refuse_outputs_over_inputs,
    study_arg,
)


def summary_table(s: dict) -> Table:
    """The layout summary as a two-column rich table (park and buildable 亩,
    plots, firms placed, objective vs random and greedy, search, facilities).

    Parameters
    ----------
    s : dict
        ``LayoutResult.summary`` of :func:`geo.layout.layout_park` (areas in 亩,
        road area in m², objective in chain-weighted metres, times in s).

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    t = Table(title=f"Layout 园区布局: {esc(s['park_id'])} {esc(s['park_name'])}",
              show_header=False)
    t.add_column("what")
    t.add_column("value", overflow="fold")
    o = s["objective"]
    rows = [
        ("park / buildable", f"{s['park_mu']:,.0f} 亩 / {s['buildable_mu']:,.0f} 亩 "
                             f"(red lines, water and setbacks removed)"),
        ("plots", f"{s['n_usable_plots']:,} usable of {s['n_plots']:,} (≈ {s['plot_size_mu']:.0f} "
                  f"亩 each; {s['plots_mu']:,.0f} 亩 in plots, roads "
                  f"{s['road_m2'] / 666.6667:,.0f} 亩)"),
        ("firms", f"{s['n_placed']} of {s['n_incoming']} incoming placed; "
                  f"{s['n_existing']} existing firms kept in place"),
        ("objective", f"random {o['random']:,.0f} · greedy {o['greedy']:,.0f} · local search "
                      f"{o['final']:,.0f} (chain-weighted metres, {o['n_firms_compared']} firms)"),
        ("improvement", f"{s['improvement_vs_random_pct']}% vs random, "
                        f"{s['improvement_vs_greedy_pct']}% vs the greedy start"),
        ("search", f"{s['search']['passes']} passes, {s['search']['swaps']} swaps, "
                   f"{s['search']['moves']} moves ({s['search']['stopped']}); "
                   f"{s['seconds']['total']:.1f} s in all"),
    ]
    for f in s["facilities"]:
        rows.append((f"{f['name_zh']} {f['name_en']}",
                     f"plot {f['plot_id']}: {f['n_users']} users, mean "
                     f"{f['mean_distance_m']:,.0f} m, max {f['max_distance_m']:,.0f} m "
                     f"({'optimal' if f['optimal'] else 'best found'})"))
    for k, v in rows:
        add_row(t, k, v)
    return t


def unplaced_table(s: dict) -> Table:
    """The incoming firms that found no plot, with their land need (亩) and why.

    Parameters
    ----------
    s : dict
        ``LayoutResult.summary``; its ``unplaced`` list (``firm_id``, ``industry``,
        ``land_need_mu`` in 亩, ``reason``) is shown.

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    t = Table(title="Unplaced firms 未落位企业")
    for c in ("firm", "industry", "亩", "reason"):
        t.add_column(c, overflow="fold")
    for u in s["unplaced"]:
        add_row(t, u["firm_id"], u["industry"], f"{u['land_need_mu']:,.0f}", u["reason"])
    return t


@click.command("layout")
@study_arg
@click.option("--park", "park_id", required=True, metavar="ID", help="Park id (e.g. chongming).")
@click.option("--firms", "firms_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Incoming firms CSV: firm_id, name, industry (chain-map id), land_mu (亩).")
@click.option("--plot-mu", type=POSITIVE, default=None,
              help="Target plot size in 亩 [default: [layout] plot_mu or 50].")
@click.option("--road-spacing-m", type=POSITIVE, default=None,
              help="Internal road spacing in metres [default: [layout] or 400].")
@click.option("--road-width-m", type=NON_NEGATIVE, default=None,
              help="Internal road width in metres [default: [layout] or 24].")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed of the random baseline and search order [default 0].")
@click.option("--time-limit-s", type=POSITIVE, default=None,
              help="Local search time limit in seconds [default 50].")
@click.option("--existing/--no-existing", default=None,
              help="Keep the register's firms of the park on their plots [default: yes].")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("layout.gpkg"), show_default=True,
              help="GeoPackage with layers plots, assignments, facilities, roads, setbacks, "
                   "links, unplaced and summary.")
@click.option("--map", "map_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the layout as an offline HTML map (plots by industry, "
                   "facilities, setbacks, links), e.g. maps/layout_chongming.html.")
@map_options
@overwrite_option
def command(study, park_id, firms_path, plot_mu, road_spacing_m, road_width_m, seed,
            time_limit_s, existing, out_path, map_path, map_opts, overwrite):
    """Lay out a park: plots on a road grid, firms on plots, shared facilities.

    \b
    Buildable land = the park minus red lines, water and setbacks; internal roads every
    --road-spacing-m; each block cut into plots of about --plot-mu 亩. Incoming firms
    get contiguous plots covering their land need so that chain-linked firms (chain
    maps, existing firms included) sit close: a greedy start, then a local search of
    swaps and moves; polluting industries keep their setback from red lines and
    residential/service areas; no firm straddles a red line or sits in a restricted
    zone that bans it. Shared facilities (wastewater plant, pilot base) go to free
    plots by an exact p-median. The summary compares the objective with a random
    assignment and with the greedy start of the same run.

    \b
    Example:
      parksite layout layers/yrd.toml --park chongming \\
          --firms data/examples/incoming_firms.csv --out out/layout.gpkg \\
          --map maps/layout_chongming.html

    \f
    Parameters
    ----------
    study : pathlib.Path
        STUDY: the study file (``layers/*.toml``).
    park_id : str
        ``--park``: Park id (e.g. chongming).
    firms_path : pathlib.Path
        ``--firms``: Incoming firms CSV: firm_id, name, industry (chain-map id),
        land_mu (亩).
    plot_mu : float or None
        ``--plot-mu``: Target plot size in 亩 [default: [layout] plot_mu or 50].
    road_spacing_m : float or None
        ``--road-spacing-m``: Internal road spacing in metres [default: [layout]
        or 400].
    road_width_m : float or None
        ``--road-width-m``: Internal road width in metres [default: [layout] or
        24].
    seed : int or None
        ``--seed``: Seed of the random baseline and search order [default 0].
    time_limit_s : float or None
        ``--time-limit-s``: Local search time limit in seconds [default 50].
    existing : bool
        ``--existing/--no-existing``: Keep the register's firms of the park on
        their plots [default: yes].
    out_path : pathlib.Path
        ``--out``: GeoPackage with layers plots, assignments, facilities, roads,
        setbacks, links, unplaced and summary. Default ``layout.gpkg``.
    map_path : pathlib.Path or None
        ``--map``: Also write the layout as an offline HTML map (plots by
        industry, facilities, setbacks, links), e.g. maps/layout_chongming.html.
    map_opts : MapOptions
        The shared map options (``--offline/--online``, ``--basemap``, ``--lang``,
        ``--tiles``, ``--tianditu-key``), already checked.
    overwrite : bool
        ``--overwrite/--no-overwrite``: Replace an existing output file (always
        written atomically). Default ``True``.
    """
    _run(study, park_id, firms_path, plot_mu, road_spacing_m, road_width_m, seed,
         time_limit_s, existing, out_path, overwrite, map_path, map_opts)


@guarded
def _run(study_path, park_id, firms_path, plot_mu, road_spacing_m, road_width_m, seed,
         time_limit_s, existing, out_path, overwrite, map_path=None,
         map_opts: MapOptions | None = None) -> int:
    map_opts = map_opts or MapOptions()
    check_out_file(out_path, (".gpkg",), "a layout is written as a GeoPackage (.gpkg)",
                   overwrite=overwrite)
    study = load_study(study_path)
    refuse_outputs_over_inputs([out_path, map_path], study=study, files=[firms_path])
    if map_path is not None:
        check_map_path(map_path, overwrite=overwrite)
        map_opts.check(study)
    firms = read_incoming(firms_path)
    with console.status("layout…") as st:
        res = layout_park(study, park_id, firms, plot_mu=plot_mu,
                          road_spacing_m=road_spacing_m, road_width_m=road_width_m, seed=seed,
                          time_limit_s=time_limit_s, include_existing=existing,
                          progress=None if state.quiet else
                          (lambda s: st.update(f"layout: {s}…")))
    write_layout(res, out_path, overwrite=overwrite)
    s = res.summary
    out.print(summary_table(s))
    if s["unplaced"]:
        out.print(unplaced_table(s))
    for n in s["notes"]:
        console.print(f"note: {esc(n)}")
    console.print(f"[green]✓[/] {s['n_placed']} firms on {s['n_usable_plots']} plots → "
                  f"{esc(out_path)}")
    if map_path is not None:


        with console.status("drawing the layout map…"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # reported below, once
            info = write_layout_map(study, res, map_path, **map_opts.kwargs(),
                                    overwrite=overwrite)
        for msg in info["warnings"]:
            console.print(f"[yellow]warning:[/] {esc(msg)}")
        console.print(f"[green]✓[/] layout map → {esc(info['path'])} "
                      f"({info['bytes'] / 1e6:.2f} MB, "
                      f"{len(info['layers'])} layers, "
                      f"{'offline' if info['offline'] else 'online'})")
    return EXIT_OK
