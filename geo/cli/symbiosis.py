"""``parksite symbiosis``: by-product → input pairs of firms within a road distance."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from ..study import load_study
from ..symbiosis import find_pairs, park_summary
from ._common import (
    EXIT_OK,
    add_columns,
    add_row,
    console,
    esc,
    guarded,
    notes_and_write,
    out,
    overwrite_option,
)
from .options import POSITIVE, check_out_file, refuse_outputs_over_inputs, study_arg


def pairs_table(df, limit: int = 25) -> Table:
    """By-product → input firm pairs as a rich table.

    Parameters
    ----------
    df : pandas.DataFrame
        Pairs of :func:`geo.symbiosis.find_pairs` (``network_km`` by road,
        ``crow_km``); ``attrs["max_km"]`` is the search radius in km.
    limit : int, default 25
        Rows shown; the caption counts the rest.

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    t = Table(title=f"Industrial symbiosis 产业共生: by-product → input within "
                    f"{df.attrs.get('max_km', 30):g} km by road")
    add_columns(t, (("from 副产品来源", "left"), ("material 物料", "left"), ("to 使用方", "left"),
                 ("road km", "right"), ("crow km", "right"), ("park(s)", "left")))
    for r in df.head(limit).itertuples():
        parks = r.from_park if r.same_park else \
            f"{r.from_park or '(outside)'} → {r.to_park or '(outside)'}"
        add_row(t, f"{r.from_firm_id} {r.from_industry}", f"{r.material_zh} {r.material}",
                  f"{r.to_firm_id} {r.to_industry}", f"{r.network_km:.1f}", f"{r.crow_km:.1f}",
                  parks)
    if len(df) > limit:
        t.caption = f"… {len(df) - limit} more pairs in the output file"
    return t


@click.command("symbiosis")
@study_arg
@click.option("--max-km", type=POSITIVE, default=30.0, show_default=True,
              help="Largest road distance between the two firms (km).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the pairs as CSV.")
@overwrite_option
def command(study, max_km, out_path, overwrite):
    """Firm pairs of STUDY where one's by-product is the other's input.

    \b
    By-products come from the chain maps (e.g. battery recycling's recovered metal
    salts → cathode materials, as on Chongming). Per pair: the material, the road
    and straight-line distances and the park(s) of the two firms.

    \b
    Example:  parksite symbiosis layers/yrd.toml --max-km 30 --out out/symbiosis.csv

    \f
    Parameters
    ----------
    study : pathlib.Path
        STUDY: the study file (``layers/*.toml``).
    max_km : float
        ``--max-km``: Largest road distance between the two firms (km). Default
        ``30.0``.
    out_path : pathlib.Path or None
        ``--out``: Write the pairs as CSV.
    overwrite : bool
        ``--overwrite/--no-overwrite``: Replace an existing output file (always
        written atomically). Default ``True``.
    """
    _run(study, max_km, out_path, overwrite)


@guarded
def _run(study_path, max_km, out_path, overwrite) -> int:
    check_out_file(out_path, (".csv",), "the pairs are written as .csv", overwrite=overwrite)
    study = load_study(study_path)
    refuse_outputs_over_inputs([out_path], study=study)
    with console.status("matching by-products…"):
        df = find_pairs(study, max_km)
    out.print(pairs_table(df))
    ps = park_summary(df)
    if len(ps):
        out.print("pairs per park: " + "; ".join(f"{esc(r.park_id)} {r.n_pairs}" for r in
                                                 ps.itertuples()))
    notes_and_write(df, out_path, overwrite=overwrite, noun="pairs",
                    synthetic_note="the firm register is synthetic (made-up firms for the demo)")
    return EXIT_OK
