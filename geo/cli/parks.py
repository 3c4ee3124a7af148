"""``parksite parks``: evaluate the region's parks."""

from __future__ import annotations

from pathlib import Path

import click
import geopandas as gpd
from rich.table import Table
from rich.text import Text

from ..io import write_csv, write_gpkg
from ..parks import evaluate_parks, park_industries
from ..register import park_frame
from ..study import load_study
from ._common import (
    EXIT_OK,
    add_columns,
    add_row,
    console,
    esc,
    guarded,
    out,
    overwrite_option,
    styled,
)
from .options import POSITIVE, check_out_file, refuse_outputs_over_inputs, study_arg


def _pct(v: float) -> str:
    return "—" if v != v else f"{v:.0%}"


def parks_table(df) -> Table:
    """The evaluation as a rich table (the file has every column).

    Parameters
    ----------
    df : pandas.DataFrame
        The park evaluation of :func:`geo.parks.evaluate_parks` (area in 亩, shares
        0–1; ``attrs`` give ``radius_km``, km by road, and the grade thresholds in
        million yuan per 亩).

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    r_km = df.attrs.get("radius_km", 100)
    t = Table(title=f"Parks 园区评价 (supply and chains within {r_km:g} km by road)")
    cols = [("park 园区", "left"), ("亩", "right"), ("firms", "right"),
            ("dominant industry (LQ)", "left"), ("HHI", "right"),
            ("supply median (IQR)", "right"), ("chains ≥ 80%", "left"),
            ("亩均 grade (A/B/C/D/not graded)", "left"), ("red line", "left")]
    add_columns(t, cols)
    chain_cols = [c for c in df.columns if c.startswith("chain_") and c != "chain_lq"]
    colour = {"pass": "green", "conflict": "red", "review": "yellow"}
    for r in df.itertuples():
        d = getattr(r, "dominant_industry", "")
        dom = f"{d} ({r.dominant_lq:.1f})" if d else "—"
        sup = "—"
        if "supply_rate_median" in df.columns and r.supply_rate_median == r.supply_rate_median:
            sup = f"{_pct(r.supply_rate_median)} ({_pct(r.supply_rate_iqr)})"
        full = [c.removeprefix("chain_") for c in chain_cols if getattr(r, c) >= 0.8 - 1e-9]
        grades = _grades(r) if "grade" in df.columns else "—"
        rl = getattr(r, "redline_status", "")
        rl_txt = styled(rl, colour.get(rl, "white")) if rl else Text("—")
        if getattr(r, "redline_note", ""):
            rl_txt += " *"
        add_row(t, f"{r.park_id} {r.park_name}", f"{r.area_mu:,.0f}",
                  str(getattr(r, "n_firms", "—")), dom,
                  "—" if getattr(r, "hhi", float("nan")) != getattr(r, "hhi", 0) else
                  f"{r.hhi:.2f}", sup, ", ".join(full) or "—", grades, rl_txt)
    th = df.attrs.get("thresholds", {})
    t.caption = ("grade: A every threshold met, B some, C none (≥ half), D none; thresholds "
                 + ", ".join(f"{k} ≥ {v:g} M¥/亩" for k, v in th.items())
                 + "; the fifth count = not graded (missing fields, named, are never counted "
                 "as zero); "
                 "* restricted zone overlaps, allowed for the park's industries")
    return t


def _grades(r) -> str:
    """``B (3/5/2/0/2); not graded: land_mu 2`` or ``not graded: no firms``."""
    miss = getattr(r, "not_graded_missing", "") or ""
    if r.n_firms == 0:
        return "not graded: no firms"
    if r.n_graded == 0:
        return f"not graded: {r.n_not_graded} firms lack {miss or 'the grade fields'}"
    text = f"{r.grade} ({r.n_grade_A}/{r.n_grade_B}/{r.n_grade_C}/{r.n_grade_D}/{r.n_not_graded})"
    return text + (f"; not graded: {miss}" if r.n_not_graded and miss else "")


def absent_fields_note(df) -> str | None:
    """One line naming the grade fields the firm register lacks, with the fix.

    Parameters
    ----------
    df : pandas.DataFrame
        The park evaluation; ``attrs["absent_fields"]`` lists the missing fields.

    Returns
    -------
    str or None
        The note; None when no grade field is missing.
    """
    absent = df.attrs.get("absent_fields") or []
    if not absent:
        return None
    return (f"亩均 grades: the firm register has no field {', '.join(absent)}; add them "
            "(land in 亩, money in million yuan) or name your fields in [parks] land_field, "
            "investment_field, output_field, tax_field")


@click.command("parks")
@study_arg
@click.option("--radius-km", type=POSITIVE, default=None,
              help="Radius by road for supply rates and chain completeness "
                   "[default: [parks] radius_km, [sourcing] radius_km or 100].")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the evaluation: FILE.csv (and FILE_industries.csv, "
                                 "one row per park and industry with its LQ), or FILE.gpkg "
                                 "with the park outlines and that table.")
@overwrite_option
def command(study, radius_km, out_path, overwrite):
    """Evaluate every park of STUDY: size, firms, specialisation, supply, chains, 亩均.

    \b
    Per park: area (ha, 亩); firm count; each industry's location quotient against
    the study region, the dominant industry and the concentration index (HHI); the
    median and spread of its firms' local supply rates; per chain map the share of
    the chain's industries within the radius by road; red-line status; and 亩均
    figures (investment, output, tax per 亩) with an A–D grade from the [parks]
    thresholds (default: investment ≥ 1.5, output ≥ 2.5 M yuan per 亩). Firms
    missing a field are "not graded", never counted as zero.

    \b
    Example:  parksite parks layers/yrd.toml --out out/parks.csv

    \f
    Parameters
    ----------
    study : pathlib.Path
        STUDY: the study file (``layers/*.toml``).
    radius_km : float or None
        ``--radius-km``: Radius by road for supply rates and chain completeness
        [default: [parks] radius_km, [sourcing] radius_km or 100].
    out_path : pathlib.Path or None
        ``--out``: Write the evaluation: FILE.csv (and FILE_industries.csv, one
        row per park and industry with its LQ), or FILE.gpkg with the park
        outlines and that table.
    overwrite : bool
        ``--overwrite/--no-overwrite``: Replace an existing output file (always
        written atomically). Default ``True``.
    """
    _run(study, radius_km, out_path, overwrite)


@guarded
def _run(study_path, radius_km, out_path, overwrite) -> int:
    check_out_file(out_path, (".csv", ".gpkg"),
                   "write .csv (the table) or .gpkg (with the park outlines)",
                   overwrite=overwrite)
    study = load_study(study_path)
    if out_path is not None:
        refuse_outputs_over_inputs([out_path, out_path.with_name(out_path.stem + "_industries"
                                                                 ".csv")], study=study)
    with console.status("evaluating parks…"):
        df = evaluate_parks(study, radius_km)
    out.print(parks_table(df))
    if (note := absent_fields_note(df)) is not None:
        console.print(f"[yellow]note:[/] {esc(note)}")
    if df.attrs.get("synthetic_firms"):
        console.print("[yellow]note:[/] the firm register is synthetic (made-up firms for the "
                      "demo): firm counts, quotients and 亩均 grades illustrate the method only")
    if out_path is not None:
        inds = park_industries(study)
        if out_path.suffix.lower() == ".csv":
            write_csv(df, out_path, overwrite=overwrite)
            side = out_path.with_name(out_path.stem + "_industries.csv")
            write_csv(inds, side, overwrite=overwrite)
            console.print(f"[green]✓[/] park × industry quotients → {esc(side)}")
        else:
            parks = park_frame(study)[["park_id", "geometry"]]
            g = gpd.GeoDataFrame(parks.merge(df, on="park_id"), geometry="geometry", crs=4326)
            write_gpkg({"parks": g, "park_industries": inds}, out_path, overwrite=overwrite)
        console.print(f"[green]✓[/] {len(df)} parks → {esc(out_path)}")
    return EXIT_OK
