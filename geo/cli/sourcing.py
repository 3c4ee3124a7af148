"""``parksite sourcing``: local supply rates within the sourcing radius, chain gaps."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click
from rich.console import JustifyMethod
from rich.table import Table

from ..io import check_dir_writable, check_writable
from ..sourcing import run_sourcing, write_sourcing
from ..study import load_study
from ._common import add_columns, add_row, console, esc, guarded, out, overwrite_option, styled
from .od import network_table
from .options import POSITIVE, SOURCING_FILES, refuse_outputs_over_inputs, study_arg


def parks_table(res) -> Table:
    """Local supply rates per park (median, p25–p75, anchors, crow-fly median,
    shares over targets) as a rich table.

    Parameters
    ----------
    res : SourcingResult
        The sourcing result; ``parks`` local supply rates (0–1) within
        ``radius_km`` km by road.

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    tgt = [c for c in res.parks.columns if c.startswith("share_ge_")]
    t = Table(title=f"Local supply rate 本地配套率 within {res.radius_km:g} km by road, per park")
    for c, j in (("park 园区", "left"), ("firms", "right"), ("median", "right"),
                 ("p25–p75", "right"), ("anchors", "right"), ("crow median", "right")):
        t.add_column(c, justify=cast(JustifyMethod, j), no_wrap=True)
    for c in tgt:
        t.add_column("≥" + c.removeprefix("share_ge_").replace("pct", "%"), justify="right")
    for r in res.parks.itertuples():
        fmt = (lambda v: "—" if v != v else f"{v:.0%}")  # noqa: E731
        row = [r.park_id, f"{r.n_rated}/{r.n_firms}", fmt(r.median_rate),
               f"{fmt(r.p25_rate)}–{fmt(r.p75_rate)}", fmt(r.anchor_median_rate),
               fmt(r.median_rate_crow)] + [fmt(getattr(r, c)) for c in tgt]
        add_row(t, *row)
    return t


def gaps_table(res, limit: int = 12) -> Table:
    """The chain gaps (anchor inputs missing within the radius) as a rich table.

    Parameters
    ----------
    res : SourcingResult
        The sourcing result; ``gaps`` ranked (value in million yuan, distances in km
        by road and crow-fly).
    limit : int, default 12
        Rows shown; the caption counts the rest.

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    t = Table(title="Chain gaps 补链 targets (anchor input value missing within the radius)")
    add_columns(t, (("#", "right"), ("park", "left"), ("missing input 缺失环节", "left"),
                    ("anchors", "right"), ("value M¥", "right"), ("nearest supplier", "left"),
                    ("road km", "right"), ("crow km", "right")))
    for r in res.gaps.head(limit).itertuples():
        park = r.nearest_supplier_park if str(r.nearest_supplier_park).startswith("(") \
            else f"({r.nearest_supplier_park})"
        near = f"{r.nearest_supplier_id} {park}" if \
            r.nearest_supplier_id else str(r.nearest_supplier_park)
        add_row(t, str(r.rank), r.park_id, f"{r.input_name_zh} {r.input_name_en}",
                  str(r.n_anchors), f"{r.anchor_input_value_myuan:,.0f}", near,
                  "—" if r.nearest_supplier_km != r.nearest_supplier_km else
                  f"{r.nearest_supplier_km:,.0f}",
                  "—" if r.nearest_supplier_crow_km != r.nearest_supplier_crow_km else
                  f"{r.nearest_supplier_crow_km:,.0f}")
    if len(res.gaps) > limit:
        t.caption = f"… {len(res.gaps) - limit} more rows in the gaps table"
    return t


def chains_table(res) -> Table:
    """Whether each chain is complete within the radius, per park, as a rich table.

    Parameters
    ----------
    res : SourcingResult
        The sourcing result; ``chains`` per chain and park (anchor median rate 0–1).

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    t = Table(title="Chains: complete within the radius? 产业链本地完整性 (anchor firms)")
    for c in ("chain", "park", "anchors", "median rate", "complete", "missing inputs"):
        t.add_column(c, overflow="fold")
    for r in res.chains.itertuples():
        add_row(t, r.chain, r.park_id, str(r.n_anchors), f"{r.anchor_median_rate:.0%}",
                  styled("yes", "green") if r.complete_within_radius else styled("no", "red"),
                  r.missing_inputs)
    return t


@click.command("sourcing")
@study_arg
@click.option("--radius-km", type=POSITIVE, default=None,
              help="Sourcing radius by road [default: [sourcing] radius_km or 100].")
@click.option("--out", "out_path", type=click.Path(path_type=Path),
              default=Path("sourcing.csv"), show_default=True,
              help="Per-firm CSV (park, gap and chain tables beside it as *_parks.csv, "
                   "*_gaps.csv, *_chains.csv), a .gpkg with all of them and the parks' "
                   "service areas, or a folder.")
@click.option("--no-service-areas", is_flag=True,
              help="Skip the parks' service-area polygons (faster).")
@overwrite_option
def command(study, radius_km, out_path, no_service_areas, overwrite):
    """Local supply rates (本地配套率) of the firms of STUDY within a radius by road.

    \b
    Per firm: the value-weighted share of its inputs (from the chain maps, an
    input–output table or a supplier edge list named in [sourcing]) with at least one
    supplier within the radius by road, the same by straight line, and the missing
    inputs. Per park: median and distribution. Chain gaps: inputs missing near anchor
    firms, ranked by the anchor input value they would bring within the radius.

    \b
    Example:  parksite sourcing layers/yrd.toml --radius-km 100 --out out/sourcing.csv

    \f
    Parameters
    ----------
    study : pathlib.Path
        STUDY: the study file (``layers/*.toml``).
    radius_km : float or None
        ``--radius-km``: Sourcing radius by road [default: [sourcing] radius_km
        or 100].
    out_path : pathlib.Path
        ``--out``: Per-firm CSV (park, gap and chain tables beside it as
        *_parks.csv, *_gaps.csv, *_chains.csv), a .gpkg with all of them and the
        parks' service areas, or a folder. Default ``sourcing.csv``.
    no_service_areas : bool
        ``--no-service-areas``: Skip the parks' service-area polygons (faster).
    overwrite : bool
        ``--overwrite/--no-overwrite``: Replace an existing output file (always
        written atomically). Default ``True``.
    """
    _run(study, radius_km, out_path, no_service_areas, overwrite)


@guarded
def _run(study_path, radius_km, out_path, no_service_areas, overwrite) -> int:
    if out_path.is_dir() or not out_path.suffix:
        check_dir_writable(out_path)  # a folder: an existing file of that name is exit 2
    else:
        check_writable(out_path, overwrite=overwrite)
    study = load_study(study_path)
    if out_path.is_dir() or not out_path.suffix:
        refuse_outputs_over_inputs(study=study, folder=out_path, names=SOURCING_FILES)
    else:
        refuse_outputs_over_inputs([out_path] + ([] if out_path.suffix.lower() == ".gpkg" else
                                   [out_path.with_name(out_path.stem + s) for s in
                                    ("_parks.csv", "_gaps.csv", "_chains.csv")]), study=study)
    with console.status("sourcing…") as st:
        res = run_sourcing(study, radius_km, with_service_areas=not no_service_areas,
                           progress=lambda s: st.update(f"sourcing: {s}…"))
    paths = write_sourcing(res, out_path, overwrite=overwrite)
    out.print(network_table(res.network))
    out.print(parks_table(res))
    out.print(chains_table(res))
    out.print(gaps_table(res))
    if res.firms.attrs.get("synthetic"):
        console.print("[yellow]note:[/] the firm register is synthetic (made-up firms for the "
                      "demo); chain weights are illustrative unless sourced")
    for n in res.notes:
        console.print(f"note: {esc(n)}")
    rated = int(res.firms["local_supply_rate"].notna().sum())
    mark = "[green]✓[/]" if rated else "[yellow]![/]"
    console.print(f"{mark} {rated:,} of {len(res.firms):,} firms rated (the others have no "
                  f"mapped inputs or no road) → {', '.join(esc(p) for p in paths)}")
    return 0
