"""``parksite run``: the main job on a study — validate, gate, analyse, map."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..io import check_dir_writable, safe_component, staged_dir
from ..pipeline import ANALYSES, run_study
from ..study import load_study
from ..webmap import MapData, check_map_path, write_layout_map, write_map
from ._common import Prints, Terminated, console, esc, guarded, out, render_prints
from .options import (
    RUN_FILES,
    MapOptions,
    check_print_paths,
    map_options,
    outside_card,
    print_options,
    refuse_outputs_over_inputs,
    study_arg,
)
from .redlines import park_table, summary_table
from .sourcing import gaps_table
from .sourcing import parks_table as sourcing_parks_table


@click.command("run")
@study_arg
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the tables and rasters [default: out/<study name>].")
@click.option("--map", "map_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML map to write [default: maps/<study name>.html].")
@map_options
@click.option("--skip", multiple=True,
              type=click.Choice(ANALYSES),
              help="Leave out an analysis the study file declares (repeatable).")
@click.option("--audit-network", is_flag=True,
              help="Also audit the road network (probable missing links; about 15 s on the "
                   "bundled study): network_audit.gpkg and a map layer, off by default.")
@print_options
def command(study, out_dir, map_path, map_opts, skip, audit_network, prints):
    """Run everything STUDY (layers/*.toml) declares and write the map.

    \b
    1. validate the study file and read every layer;
    2. the red-line gate (parks vs red lines; table + GeoPackage);
    3. sourcing within the transport circle, if the study has [sourcing];
    4. park evaluation and symbiosis pairs, if the study has [parks];
    5. site suitability, if the study has [suitability];
    6. recommendations ([parks.recommend]) and a park layout ([layout]);
    7. the interactive map (offline by default): maps/<name>.html.

    \b
    The tables are written into a staging folder beside --out-dir and moved into place
    only when everything (maps included) succeeded; Ctrl-C or SIGTERM removes it and
    leaves --out-dir as it was. A read-only --out-dir is exit 2 before any work.

    Exit code 0 when the run completes (conflicts are reported, see
    `parksite redlines` for a gate that exits 1 on conflicts); 2 on bad input.

    \f
    Parameters
    ----------
    study : pathlib.Path
        STUDY: the study file (``layers/*.toml``).
    out_dir : pathlib.Path or None
        ``--out-dir``: Folder for the tables and rasters [default: out/<study
        name>].
    map_path : pathlib.Path or None
        ``--map``: The HTML map to write [default: maps/<study name>.html].
    map_opts : MapOptions
        The shared map options (``--offline/--online``, ``--basemap``, ``--lang``,
        ``--tiles``, ``--tianditu-key``), already checked.
    skip : tuple of {"sourcing", "suitability", "parks", "layout"}
        ``--skip``: Leave out an analysis the study file declares (repeatable).
    audit_network : bool
        ``--audit-network``: Also audit the road network (probable missing
        links; about 15 s on the bundled study): network_audit.gpkg and a map
        layer, off by default.
    prints : dict
        ``--pdf`` / ``--png``: files to render the map's A4 landscape print layout
        to (headless Chromium), ``{"pdf": path or None, "png": path or None}``.
    """
    _run(study, out_dir, map_path, map_opts, set(skip), audit_network, prints)


@guarded
def _run(study_path, out_dir, map_path, map_opts: MapOptions, skip,
         audit_network: bool = False, prints: Prints | None = None) -> int:
    t0 = time.perf_counter()
    study = load_study(study_path)
    stem = safe_component(study.name, fallback=safe_component(study_path.stem))
    out_dir = out_dir or Path("out") / stem
    map_path = map_path or Path("maps") / f"{stem}.html"
    # Every output checked before any computing: a read-only folder is exit 2 now,
    # not after minutes of analysis.
    refuse_outputs_over_inputs([map_path], study=study, folder=out_dir, names=RUN_FILES)
    refuse_outputs_over_inputs(study=study, folder=map_path.parent, names=("layout_*.html",))
    check_dir_writable(out_dir)
    check_map_path(map_path)
    prints = prints or {}
    check_print_paths(prints, study)
    map_opts.check(study)
    opts = map_opts.kwargs()
    with staged_dir(out_dir) as stage:
        try:
            with console.status("running the study…"):
                run = run_study(study, out_dir, skip=skip, progress=_progress, staging=stage,
                                audit=audit_network)
            if run.redlines is not None:
                out.print(park_table(run.redlines))
                if run.redlines.has_conflicts:
                    out.print(summary_table(run.redlines))
            for msg in run.warnings:
                console.print(f"[bold yellow]NOT JUDGED:[/] {esc(msg)}")
            if run.sourcing is not None:
                out.print(sourcing_parks_table(run.sourcing))
                out.print(gaps_table(run.sourcing))
            if run.layout is not None:
                name = f"layout_{safe_component(run.layout.summary['park_id'])}.html"
                lm = write_layout_map(study, run.layout, map_path.parent / name, **opts)
                console.print(f"[green]✓[/] layout map → {esc(lm['path'])} "
                              f"({lm['bytes'] / 1e6:.1f} MB)")
            info = write_map(study, map_path, MapData.from_run(run, outside_card(study)),
                             **opts)
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, Terminated)):
                console.print(f"parksite: stopped; staging folder {esc(stage)} removed, "
                              f"{esc(out_dir)} left as it was")
            raise
    console.print(f"[green]✓[/] tables → {esc(out_dir)}")
    console.print(f"[green]✓[/] map → {esc(info['path'])} ({info['bytes'] / 1e6:.1f} MB, "
                  f"{len(info['layers'])} layers, {'offline' if map_opts.offline else 'online'}) "
                  f"in {time.perf_counter() - t0:.1f} s")
    render_prints(info, prints)
    return 0


def _progress(step: str, summary: str, seconds: float) -> None:
    mark = "[bold yellow]✗[/]" if "NOT RUN" in summary else "[green]✓[/]"
    console.print(f"{mark} {esc(summary)} ({seconds:.1f} s)")
