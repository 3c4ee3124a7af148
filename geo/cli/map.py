"""``parksite map``: write a study's interactive map (offline HTML by default)."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import click

from ..io import safe_component
from ..pipeline import NO_PARKS, NO_REDLINES
from ..redline import check_study
from ..study import load_study
from ..webmap import MapData, check_map_path, write_map
from ._common import Prints, console, esc, guarded, out, overwrite_option, render_prints
from .options import (
    MapOptions,
    check_print_paths,
    map_options,
    outside_card,
    print_options,
    refuse_outputs_over_inputs,
    study_arg,
)


@click.command("map")
@study_arg
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML file to write [default: maps/<study name>.html].")
@map_options
@click.option("--redlines/--no-redlines", default=True, show_default=True,
              help="Run the red-line gate and show its conflicts and park status.")
@print_options
@overwrite_option
def command(study, out_path, map_opts, redlines, prints, overwrite):
    """Write the interactive map of STUDY (layers/*.toml) as one HTML file.

    \b
    The map shows the study's layers by role (study area, districts, water, roads,
    railways, ports, red lines by class, parks, firms) with a layer control, legends
    that follow their layers, popups in Chinese or English and a model-card panel.
    With --offline (the default) the file makes no network request: copy it to an
    intranet PC and open it in any browser.

    \b
    Examples:
      parksite map layers/yrd.toml
      parksite map layers/yrd.toml --lang en --out maps/yrd_en.html
      parksite map layers/yrd.toml --basemap amap --online
      parksite map layers/yrd.toml --pdf maps/yrd_a4.pdf --png maps/yrd_a4.png

    \f
    Parameters
    ----------
    study : pathlib.Path
        STUDY: the study file (``layers/*.toml``).
    out_path : pathlib.Path or None
        ``--out``: The HTML file to write [default: maps/<study name>.html].
    map_opts : MapOptions
        The shared map options (``--offline/--online``, ``--basemap``, ``--lang``,
        ``--tiles``, ``--tianditu-key``), already checked.
    redlines : bool
        ``--redlines/--no-redlines``: Run the red-line gate and show its
        conflicts and park status. Default ``True``.
    prints : dict
        ``--pdf`` / ``--png``: files to render the A4 landscape print layout to
        (headless Chromium), ``{"pdf": path or None, "png": path or None}``.
    overwrite : bool
        ``--overwrite/--no-overwrite``: Replace an existing output file (always
        written atomically). Default ``True``.
    """
    _run(study, out_path, map_opts, redlines, overwrite, prints)


@guarded
def _run(study_path, out_path, map_opts: MapOptions, redlines, overwrite,
         prints: Prints) -> int:
    t0 = time.perf_counter()
    study = load_study(study_path)
    out_path = out_path or Path("maps") / f"{safe_component(study.name)}.html"
    refuse_outputs_over_inputs([out_path], study=study)
    check_map_path(out_path, overwrite=overwrite)
    check_print_paths(prints, study, overwrite=overwrite)
    map_opts.check(study)
    not_run = [msg for role, msg in (("redlines", NO_REDLINES), ("parks", NO_PARKS))
               if redlines and not study.has_role(role)]
    for msg in not_run:
        console.print(f"[bold yellow]NOT JUDGED:[/] {esc(msg)}")
    card = {"not judged / 未评估": not_run} if not_run else {}
    red = None
    if redlines and study.has_role("parks") and study.has_role("redlines"):
        with console.status("red-line gate…"):
            red = check_study(study)
        n = int((red.parks["status"] != "pass").sum()) if "status" in red.parks else 0
        console.print(f"[green]✓[/] red-line gate: {len(red.conflicts)} conflicts, "
                      f"{n} of {len(red.parks)} parks with findings")
    results = MapData(redline_conflicts=red.conflicts if red else None,
                      redline_parks=red.parks if red else None,
                      model_card={**card, **outside_card(study)})
    with console.status("drawing the map…"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reported below, once, without a traceback line
        info = write_map(study, out_path, results, **map_opts.kwargs(), overwrite=overwrite)
    for msg in info["warnings"]:
        console.print(f"[yellow]warning:[/] {esc(msg)}")
    out.print(f"{esc(info['path'])}  {info['bytes'] / 1e6:.2f} MB  {len(info['layers'])} layers  "
              f"{'offline' if info['offline'] else 'online'}  basemap {info['basemap']}  "
              f"lang {info['lang']}")
    render_prints(info, prints, overwrite=overwrite)
    console.print(f"[green]✓[/] map written in {time.perf_counter() - t0:.1f} s")
    return 0
