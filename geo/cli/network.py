"""``parksite network``: checks of a study's road network (``audit``: probable missing
links such as bridges, tunnels and ferries the data lacks)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
import numpy as np
from rich.table import Table

from ..network.audit import AuditResult, AuditSettings, audit_study, write_audit
from ..study import load_study
from ._common import (
    EXIT_FINDINGS,
    add_columns,
    add_row,
    console,
    esc,
    guarded,
    out,
    overwrite_option,
)
from .options import POSITIVE, check_out_file


@click.group("network")
def command() -> None:
    """Road-network checks (see `parksite network audit --help`)."""


def _km(v: float) -> str:
    return "no route" if not np.isfinite(v) else f"{v:,.1f}"


def findings_table(res: AuditResult, top: int) -> Table:
    """The ranked findings (the first ``top``) as a rich table.

    Parameters
    ----------
    res : AuditResult
        The network audit; ``findings`` ranked by gap (km by road, WGS84 ends).
    top : int
        How many findings to show.

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    t = Table(title=f"Probable missing links 疑似缺失连接 ({res.settings.text()})")
    add_columns(t, (("#", "right"), ("gap km", "right"), ("straight km", "right"),
                 ("network km", "right"), ("detour", "right"), ("from lon, lat", "left"),
                 ("to lon, lat", "left"), ("water crossed", "left"),
                 ("hand-added connector nearby", "left"), ("pairs", "right")))
    for r in res.findings.head(top).itertuples():
        add_row(t, r.rank, _km(r.gap_km), f"{r.straight_km:.1f}", _km(r.network_km),
                "—" if not np.isfinite(r.detour) else f"{r.detour:.1f}×",
                f"{r.a_lon:.4f}, {r.a_lat:.4f}", f"{r.b_lon:.4f}, {r.b_lat:.4f}", r.water,
                r.near_connector or "", r.pairs)
    return t


def connectors_table(res: AuditResult) -> Table:
    """Each hand-added connector's end-to-end network distance before/after.

    Parameters
    ----------
    res : AuditResult
        The network audit; its ``connectors`` (None when the study has none)
        give each connector's straight, before and after distances in km.

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    t = Table(title="Hand-added connectors 人工补充连接 (end to end, km)")
    add_columns(t, (("connector", "left"), ("straight", "right"), ("before", "right"),
                 ("after", "right"), ("status", "left")))
    rows = res.connectors.itertuples() if res.connectors is not None else ()
    for r in rows:
        add_row(t, f"{r.name_zh} {r.name_en}", f"{r.straight_km:.1f}", _km(r.before_km),
                _km(r.after_km), r.status)
    return t


@command.command("audit")
@click.argument("study", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the findings: .gpkg (layers findings, connectors) or "
                                 ".csv.")
@click.option("--without-connectors", is_flag=True,
              help="Audit the network without the study's [network] connectors (as it was "
                   "before the hand-added links).")
@click.option("--radius-km", type=POSITIVE, default=None,
              help="Compare node pairs at most this far apart in a straight line "
                   "[default: network.audit_radius_m, 25 km].")
@click.option("--min-detour", type=POSITIVE, default=None,
              help="Report pairs whose network distance is ≥ this × the straight line "
                   "[default: network.audit_min_detour, 3].")
@click.option("--min-gap-km", type=POSITIVE, default=None,
              help="... and ≥ straight + this [default: network.audit_min_gap_m, 20 km].")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="Rows shown (every finding is written to --out).")
@overwrite_option
def audit(study, out_path, without_connectors, radius_km, min_detour, min_gap_km, top,
          overwrite):
    """Probable missing links: node pairs close in a straight line but far by road.

    \b
    A pair is reported when straight ≤ radius, network ≥ min-detour × straight and
    network − straight ≥ min-gap (no route at all included); pairs describing the same
    gap are merged (the worst kept), ranked by gap, with WGS84 coordinates and the
    water body the straight line crosses (the study's water layers). With connectors,
    each one's end-to-end distance before/after is shown.

    \b
    Exit codes: 0 no finding, 1 findings, 2 bad input.
    Example:  parksite network audit layers/yrd.toml --without-connectors --out gaps.gpkg

    \f
    Parameters
    ----------
    study : pathlib.Path
        STUDY: the study file (``layers/*.toml``).
    out_path : pathlib.Path or None
        ``--out``: Write the findings: .gpkg (layers findings, connectors) or
        .csv.
    without_connectors : bool
        ``--without-connectors``: Audit the network without the study's
        [network] connectors (as it was before the hand-added links).
    radius_km : float or None
        ``--radius-km``: Compare node pairs at most this far apart in a straight
        line [default: network.audit_radius_m, 25 km].
    min_detour : float or None
        ``--min-detour``: Report pairs whose network distance is ≥ this × the
        straight line [default: network.audit_min_detour, 3].
    min_gap_km : float or None
        ``--min-gap-km``: ... and ≥ straight + this [default:
        network.audit_min_gap_m, 20 km].
    top : int
        ``--top``: Rows shown (every finding is written to --out). Default
        ``20``.
    overwrite : bool
        ``--overwrite/--no-overwrite``: Replace an existing output file (always
        written atomically). Default ``True``.
    """
    _audit(study, out_path, without_connectors, radius_km, min_detour, min_gap_km, top,
           overwrite)


@guarded
def _audit(study_path, out_path, without_connectors, radius_km, min_detour, min_gap_km, top,
           overwrite) -> int:
    check_out_file(out_path, (".gpkg", ".csv"), "write the findings as .gpkg or .csv",
                   overwrite=overwrite)
    study = load_study(study_path)
    st = AuditSettings.from_study(study)
    over = {"radius_m": radius_km and radius_km * 1000, "min_detour": min_detour,
            "min_gap_m": min_gap_km and min_gap_km * 1000}
    st = dataclasses.replace(st, **{k: v for k, v in over.items() if v is not None})
    if without_connectors and not study.config.network.connectors:
        console.print("note: the study has no [network] connectors; --without-connectors "
                      "changes nothing")
    with console.status("auditing the road network…"):
        res = audit_study(study, with_connectors=not without_connectors, settings=st)
    f = res.findings
    s = res.stats
    console.print(f"network {esc(res.source)}"
                  f"{' without its hand-added connectors' if without_connectors else ''}: "
                  f"{s['nodes']:,} nodes, {s['sources']:,} sources, "
                  f"{s['candidate_pairs']:,} pairs compared, "
                  f"{s['pairs_over_thresholds']:,} over the thresholds")
    water = ", ".join(str(s.options.get("label_en") or s.key) for s in study.by_role("water"))
    console.print(f"water crossed: from the study's water layers ({esc(water or 'none')}); "
                  "'none' means none of them is crossed, not that no river is there")
    if len(f):
        out.print(findings_table(res, top))
        if len(f) > top:
            console.print(f"… {len(f) - top} more (--top, or --out to write all)")
    else:
        console.print(f"[green]✓[/] no probable missing links ({esc(st.text())})")
    if res.connectors is not None:
        out.print(connectors_table(res))
    if out_path is not None:
        write_audit(res, out_path, overwrite=overwrite)
        console.print(f"[green]✓[/] {len(f)} findings → {esc(out_path)}")
    return EXIT_FINDINGS if len(f) else 0
