"""``parksite recommend``: which park fits an incoming firm of an industry."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd
from rich.table import Table

from ..recommend import recommend
from ..study import load_study
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
    styled,
)
from .options import POSITIVE, check_out_file, refuse_outputs_over_inputs, study_arg


def ranking_table(df) -> Table:
    """The site ranking for an incoming firm as a rich table, with the score formula.

    Parameters
    ----------
    df : pandas.DataFrame
        The ranking of :func:`geo.recommend.recommend` (``rank``, ``site_id``,
        ``score``, ``supply_rate`` 0–1, ``customers_radius``, ``chain_lq``,
        ``free_land_mu`` in 亩, ``status``); ``attrs`` give the industry names,
        ``land_mu`` (亩) and the weights.

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    a = df.attrs
    t = Table(title=f"Where should a {esc(a.get('industry_en', ''))} firm go? "
                    f"{esc(a.get('industry_zh', ''))}项目选址推荐 "
                    f"(need {a.get('land_mu', 0):,.0f} 亩)")
    add_columns(t, (("#", "right"), ("site 园区/候选区", "left"), ("score", "right"),
                 ("supply", "right"), ("buyers ≤100 km", "right"), ("chain LQ", "right"),
                 ("free 亩", "right"), ("status", "left")))
    colour = {"ok": "green", "flagged": "yellow", "excluded": "red"}
    for r in df.itertuples():
        add_row(t, "—" if pd.isna(r.rank) else str(r.rank), f"{r.site_id} {r.site_name}",
                  "—" if r.score != r.score else f"{r.score:.3f}",
                  "—" if r.supply_rate != r.supply_rate else f"{r.supply_rate:.0%}",
                  str(r.customers_radius),
                  "—" if r.chain_lq != r.chain_lq else f"{r.chain_lq:.1f}",
                  f"{r.free_land_mu:,.0f}", styled(r.status, colour.get(r.status, "white")))
    w = a.get("weights", {})
    t.caption = "score = " + " + ".join(f"{v:g}·{esc(k)}" for k, v in w.items()) + \
        " (criteria without data drop out)"
    return t


@click.command("recommend")
@study_arg
@click.option("--industry", required=True, metavar="NAME",
              help="Industry of the incoming firm: a chain-map id (e.g. cathode_materials) or "
                   "its English/Chinese name.")
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many admissible sites to list (excluded ones are always listed).")
@click.option("--candidates", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="candidates.gpkg from `parksite suitability` to rank with the parks.")
@click.option("--land-mu", type=POSITIVE, default=None,
              help="The firm's land need in 亩 [default: median of its industry in the "
                   "register].")
@click.option("--radius-km", type=POSITIVE, default=None,
              help="Sourcing radius by road [default: [sourcing] radius_km or 100].")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the ranking as CSV.")
@overwrite_option
def command(study, industry, top, candidates, land_mu, radius_km, out_path, overwrite):
    """Rank the parks of STUDY (and candidate regions) for an incoming firm.

    \b
    Criteria: the local supply rate the firm would have (inputs within the radius by
    road), its customers within the radius, specialisation (location quotient of its
    chain and industry), free land; a park inside a restricted zone that bans the
    industry (e.g. chemicals or pharmaceuticals in the Taihu first-level zone) is
    excluded with the reason, and a park partly inside is kept only if the land
    outside the zone is enough (flagged). Every row gives its reasons in Chinese and
    English.

    \b
    Example:  parksite recommend layers/yrd.toml --industry cathode_materials --top 3

    \f
    Parameters
    ----------
    study : pathlib.Path
        STUDY: the study file (``layers/*.toml``).
    industry : str
        ``--industry``: Industry of the incoming firm: a chain-map id (e.g.
        cathode_materials) or its English/Chinese name.
    top : int
        ``--top``: How many admissible sites to list (excluded ones are always
        listed). Default ``5``.
    candidates : pathlib.Path or None
        ``--candidates``: candidates.gpkg from `parksite suitability` to rank
        with the parks.
    land_mu : float or None
        ``--land-mu``: The firm's land need in 亩 [default: median of its
        industry in the register].
    radius_km : float or None
        ``--radius-km``: Sourcing radius by road [default: [sourcing] radius_km
        or 100].
    out_path : pathlib.Path or None
        ``--out``: Write the ranking as CSV.
    overwrite : bool
        ``--overwrite/--no-overwrite``: Replace an existing output file (always
        written atomically). Default ``True``.
    """
    _run(study, industry, top, candidates, land_mu, radius_km, out_path, overwrite)


@guarded
def _run(study_path, industry, top, candidates, land_mu, radius_km, out_path, overwrite) -> int:
    check_out_file(out_path, (".csv",), "the ranking is written as .csv", overwrite=overwrite)
    study = load_study(study_path)
    refuse_outputs_over_inputs([out_path], study=study, files=[candidates])
    with console.status("ranking sites…"):
        df = recommend(study, industry, top=top, candidates=candidates, land_mu=land_mu,
                       radius_km=radius_km)
    out.print(ranking_table(df))
    for r in df.itertuples():
        head = "excluded" if pd.isna(r.rank) else f"#{r.rank}"
        out.print(f"[bold]{head} {esc(r.site_id)}[/] {esc(r.reason_en)}", markup=True,
                  highlight=False)
        out.print(f"    {r.reason_zh}", markup=False, highlight=False)
    notes_and_write(df, out_path, overwrite=overwrite, noun="sites",
                    synthetic_note="the firm register is synthetic (made-up firms for the demo); "
                                   "chain weights are illustrative unless sourced")
    return EXIT_OK
