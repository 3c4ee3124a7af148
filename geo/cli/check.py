"""``parksite check``: validate a study file and read every layer, without analysis."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from ..config import reference, reference_markdown
from ..crs import in_china
from ..extent import check_layer_extent
from ..layers import check_raster
from ..pipeline import NO_PARKS, NO_REDLINES
from ..register import industry_report
from ..study import CONTEXT_NEAR_M, CONTEXT_ROLES, load_study
from ._common import add_row, console, esc, guarded, out
from .options import _regular_file


@click.command("check")
@click.argument("study", type=click.Path(dir_okay=False, path_type=Path), required=False,
                callback=_regular_file)
@click.option("--keys", is_flag=True,
              help="List every key a study file may hold (section, type, unit, default, "
                   "meaning), generated from geo.config, and exit.")
@click.option("--markdown", is_flag=True, help="With --keys: as Markdown tables (the "
                                               "README's study file reference).")
def command(study: Path | None, keys: bool, markdown: bool) -> None:
    """Validate STUDY (layers/*.toml) and read every layer it declares.

    Reports every problem of the study file at once; then reads each layer, and
    prints its feature count, geometry types, source CRS and the study's metric CRS.
    Exit code 0: the study is usable; 2: it is not.
    """
    if keys:
        _keys(markdown)
        return
    if study is None:
        raise click.UsageError("give a study file (e.g. layers/yrd.toml), or --keys")
    _run(study)


def _keys(markdown: bool) -> None:
    """Print the study file reference (:func:`geo.config.reference`)."""
    if markdown:
        click.echo(reference_markdown(), nl=False)
        return
    tables: dict[str, Table] = {}
    for sec, key, tp, unit, default, doc in reference():
        if sec not in tables:
            tables[sec] = Table(title=esc(f"[{sec}]"), title_justify="left")
            for col in ("key", "type", "unit", "default", "meaning"):
                tables[sec].add_column(col, overflow="fold")
        add_row(tables[sec], key, tp, unit, default, doc)
    for t in tables.values():
        out.print(t)


@guarded
def _run(study: Path) -> int:
    s = load_study(study)
    china = bool(in_china(*s.boundary.centroid.xy))
    t = Table(title=f"{esc(s.title)} — {esc(s.path)}")
    for col in ("layer", "role", "features", "geometry", "source CRS", "file"):
        t.add_column(col, overflow="fold")
    for key, spec in s.layers.items():
        if spec.is_raster:
            info = check_raster(spec.path, label=spec.label)
            add_row(t, key, spec.role, f"{info['width']}×{info['height']}", f"raster "
                      f"{info['dtype']}, nodata {info['nodata']}", str(info["crs"]),
                      spec.path.name)
            continue
        g = s.load(key)
        check_layer_extent(g, s.bounds, china=china,
                           near_m=CONTEXT_NEAR_M if spec.role in CONTEXT_ROLES else 0.0)
        add_row(t, key, spec.role, f"{len(g):,}", ", ".join(sorted(g.geom_type.unique())),
                  str(g.attrs.get("source_crs")), spec.path.name +
                  (f":{g.attrs['source_layer']}" if g.attrs.get("source_layer") else ""))
    out.print(t)
    out.print(f"metric CRS (distances, grids): {s.metric_crs.to_string()} {s.metric_crs.name}; "
              f"areas: equal-area {s.area_crs.srs}")
    findings = industry_report(s).lines() if s.has_role("firms") or s.has_role("parks") \
        else []
    for line in findings:
        console.print(Text("warning: ", style="yellow") + Text(line))
    if not (s.has_role("firms") or s.has_role("parks")):
        out.print("industries: no firms or parks layer, nothing to match")
    else:
        out.print(f"industries: {len(findings)} finding(s)" if findings else
                  "industries: every firm and park industry is known to the chain maps and "
                  "GB/T 4754-2017")
    for role, msg in (("redlines", NO_REDLINES), ("parks", NO_PARKS)):
        if not s.has_role(role):
            console.print(Text("warning: ", style="bold yellow") + Text(msg))
    return 0
