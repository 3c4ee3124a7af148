"""``parksite check``: validate a study file and read every layer, without analysis."""

from __future__ import annotations

import difflib
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from ..chains import read_supplier_edges
from ..config import reference, reference_markdown
from ..crs import in_china
from ..errors import InputError, NetworkError
from ..extent import check_layer_extent
from ..layers import check_exists, check_raster
from ..layout.firms import check_incoming, read_incoming
from ..parks import firm_land_figures
from ..pipeline import NO_PARKS, NO_REDLINES
from ..register import industry_report, load_firms, park_frame, study_chains
from ..study import CONTEXT_NEAR_M, CONTEXT_ROLES, load_study
from ..suitability import criterion_weights, load_config, study_grid
from ._common import add_row, console, esc, guarded, out
from .options import _regular_file, layers_outside


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
    Then loads the chain maps, matches the firm register's industries (Chinese or
    English names, GB/T 4754 codes) and runs the input checks of the analyses the study
    declares: the firm figures [parks] grades (unreadable ones named, negatives refused),
    the [suitability] weights (AHP consistency) and the [layout] park and incoming firms,
    so that a study check passes does not fail in `parksite run`. Layers read from
    outside the study's project folder are listed.
    Exit code 0: the study is usable; 2: it is not.

    \f
    Parameters
    ----------
    study : pathlib.Path or None
        STUDY: the study file (``layers/*.toml``).
    keys : bool
        ``--keys``: List every key a study file may hold (section, type, unit,
        default, meaning), generated from geo.config, and exit.
    markdown : bool
        ``--markdown``: With --keys: as Markdown tables (the README's study file
        reference).

    Raises
    ------
    click.UsageError
        Neither STUDY nor ``--keys`` given (exit 2).
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
    for line in analysis_checks(s):
        out.print(Text(line))
    outside = layers_outside(s)
    if outside:
        console.print(Text("note: ", style="yellow") + Text(
            f"{len(outside)} file(s) are read from outside the study's project folder "
            f"{s.root.resolve().parent}: {'; '.join(map(str, outside))} (allowed; the model "
            "card lists them; copy them into the project to hand the study on whole)"))
    return 0


def analysis_checks(study) -> list[str]:
    """Run the input checks of each analysis ``study`` declares, without the analysis.

    Parameters
    ----------
    study
        A loaded :class:`geo.study.Study`.

    Returns
    -------
    list of str
        One line per check that ran, saying what was checked (figures in 亩, cells in m).

    Raises
    ------
    geo.errors.InputError
        What ``parksite sourcing``, ``parks``, ``suitability`` or ``run`` would refuse: no
        roads for [sourcing], an unreadable supplier edge list; a negative land,
        investment, output or tax figure; inconsistent AHP judgements (CR ≥ 0.10) or
        weights summing to 0; a [layout] park that does not exist; an incoming firm
        without land or with an industry no chain map knows.
    """
    return _firm_checks(study) + _suitability_checks(study) + _layout_checks(study)


def _firm_checks(study) -> list[str]:
    """The register as sourcing and parks read it: industries matched, a road network
    and a readable supplier edge list for [sourcing], figures parsed for [parks]."""
    if not study.has_role("firms") or not ({"parks", "sourcing"} & set(study.sections)):
        return []
    firms = load_firms(study)
    done = [f"firms: {len(firms):,} firms matched to the chain maps' industries"]
    cfg = study.config
    if "sourcing" in study.sections:
        if cfg.network.layer is None and not study.has_role("roads"):
            raise NetworkError(f"{study.path}: [sourcing] rates firms by road, but the study "
                               "has no roads layer; add a [layers.roads] table with role = "
                               "\"roads\"")
        if cfg.sourcing.supplier_edges:
            edges = read_supplier_edges(study.root / cfg.sourcing.supplier_edges)
            done.append(f"sourcing: supplier edge list readable ({len(edges):,} edges)")
    if "parks" in study.sections:
        fig = firm_land_figures(firms, cfg.parks)
        done.append(f"parks: firm figures parsed; {int(fig['land_mu'].notna().sum()):,} of "
                    f"{len(firms):,} firms have a land area (亩) to grade on")
    return done


def _suitability_checks(study) -> list[str]:
    """The [suitability] configuration and the weights of the criteria used without
    --industry (the AHP consistency check included)."""
    if "suitability" not in study.sections:
        return []
    cfg = load_config(study)
    active = [c for c in cfg.criteria if not c.industry_only]
    if not active:
        return ["suitability: every criterion is industry-only; run it with --industry"]
    weights, ahp = criterion_weights(cfg, active)
    grid = study_grid(study, cfg)
    cr = f", AHP CR {ahp.cr:.3f}" if ahp is not None else ""
    return [f"suitability: {len(active)} criteria (weights "
            f"{', '.join(f'{c.name} {w:.2f}' for c, w in zip(active, weights, strict=True))}"
            f"{cr}); grid {grid.width:,} × {grid.height:,} cells of {cfg.cell_m:g} m"]


def _layout_checks(study) -> list[str]:
    """The [layout] park exists and its incoming firms are readable and known."""
    lay = study.config.layout
    if lay.park is None or lay.firms is None:
        return []
    ids = park_frame(study)["park_id"].tolist()
    park = lay.park
    if park not in ids:
        close = difflib.get_close_matches(park, ids, n=1)
        raise InputError(f"{study.path}: [layout] park = {park!r} is not a park of the "
                         "parks layer" + (f"; did you mean {close[0]!r}?" if close else
                                          f"; parks: {', '.join(ids)}"))
    path = study.root / lay.firms
    check_exists(path, what=f"{study.path}: [layout] firms = {lay.firms!r}:")
    inc = check_incoming(read_incoming(path), study_chains(study), str(path))
    return [f"layout: park {park}, {len(inc)} incoming firms readable"]
