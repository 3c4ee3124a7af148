"""``parksite redlines``: the red-line gate on the command line."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from ..crs import COORDS
from ..errors import InputError
from ..extent import check_pair_extent
from ..layers import read_layer
from ..redline import (
    RedlineResult,
    check_study,
    park_industries_from,
    redline_conflicts,
    write_result,
)
from ..register import bundled_sector_model
from ..study import load_study
from ._common import (
    EXIT_FINDINGS,
    EXIT_OK,
    add_row,
    console,
    esc,
    guarded,
    out,
    overwrite_option,
    styled,
)
from .options import check_out_file, refuse_outputs_over_inputs


def summary_table(result: RedlineResult, *, limit: int = 30) -> Table:
    """A rich table of the conflicts (m², ha, 亩, % of park, distance).

    Parameters
    ----------
    result : RedlineResult
        The red-line gate's result; ``conflicts`` areas in m², ha and 亩,
        distances in metres.
    limit : int, default 30
        Rows shown; the caption counts the rest.

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    t = Table(title=f"Red-line conflicts 生态红线冲突 (buffer {result.buffer_m:g} m)",
              show_lines=False)
    t.add_column("park 园区", no_wrap=True, overflow="ellipsis", max_width=14)
    t.add_column("zone 红线区", no_wrap=True, overflow="ellipsis", max_width=12)
    for col in ("class", "kind"):
        t.add_column(col)
    for col in ("overlap m²", "ha", "亩", "% park", "dist. m"):
        t.add_column(col, justify="right", no_wrap=True)
    t.add_column("note", overflow="fold")
    for r in result.conflicts.head(limit).itertuples():
        note = "review: no industry data" if r.review else (f"banned: {r.banned_hit}"
                                                            if r.banned_hit else "")
        add_row(t, f"{r.park_id} {r.park_name}", f"{r.zone_id}", r.zone_class, r.kind,
                  f"{r.overlap_m2:,.0f}", f"{r.overlap_ha:,.2f}", f"{r.overlap_mu:,.1f}",
                  f"{r.pct_of_park:.2f}", f"{r.min_distance_m:,.0f}", note, style=None)
    if len(result.conflicts) > limit:
        t.caption = f"… {len(result.conflicts) - limit} more rows in the output file"
    return t


def park_table(result: RedlineResult) -> Table:
    """Each park's red-line status (pass, conflict, review) as a rich table.

    Parameters
    ----------
    result : RedlineResult
        The red-line gate's result; ``parks`` (area in 亩, status, nearest zone
        in metres, NaN beyond ``nearest_within_m``).

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    t = Table(title="Parks 园区: red-line status 红线准入")
    t.add_column("park", no_wrap=True, overflow="ellipsis", max_width=18)
    t.add_column("area 亩", justify="right", no_wrap=True)
    t.add_column("status", no_wrap=True)
    t.add_column("n", justify="right", no_wrap=True)
    t.add_column("nearest zone", no_wrap=True, overflow="ellipsis", max_width=13)
    t.add_column("dist. m", justify="right", no_wrap=True)
    t.add_column("note", overflow="fold")
    colour = {"pass": "green", "conflict": "red", "review": "yellow"}
    for r in result.parks.itertuples():
        note = r.restricted_allowed
        far = r.nearest_zone_m != r.nearest_zone_m  # NaN: none within the search distance
        add_row(t, f"{r.park_id} {r.park_name}", f"{r.area_mu:,.0f}",
                  styled(r.status, colour.get(r.status, "white")), str(r.n_conflicts),
                  "—" if far else r.nearest_zone_id,
                  f"> {result.nearest_within_m / 1000:g} km" if far else f"{r.nearest_zone_m:,.0f}",
                  note)
    return t


@click.command("redlines")
@click.argument("parks", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.argument("redlines", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--study", type=click.Path(dir_okay=False, path_type=Path),
              help="Take parks and red lines (and settings) from a study file instead.")
@click.option("--buffer-m", type=click.FloatRange(min=0), default=None,
              help="Buffer around core/redline zones that also counts, in metres "
                   "[default: the study's, else 0].")
@click.option("--industry-field", metavar="FIELD",
              help="Park field listing its industries (';'-separated) for restricted zones.")
@click.option("--park-id", "park_id", metavar="FIELD", help="Park id field [park_id/id].")
@click.option("--zone-id", "zone_id", metavar="FIELD", help="Zone id field [zone_id/id].")
@click.option("--name-field", metavar="FIELD", help="Name field of both layers [name].")
@click.option("--class-field", metavar="FIELD", default="class", show_default=True,
              help="Zone class field: core, redline or restricted.")
@click.option("--parks-coords", type=click.Choice(COORDS),
              help="Datum of the PARKS file's coordinates (gcj02 = AMap/Gaode, converted to "
                   "WGS84); only that file is shifted.")
@click.option("--zones-coords", type=click.Choice(COORDS),
              help="Datum of the REDLINES file's coordinates; only that file is shifted.")
@click.option("--coords", type=click.Choice(COORDS), hidden=True,
              help="Deprecated: ambiguous with two files; use --parks-coords/--zones-coords.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the conflicts: FILE.csv, or FILE.gpkg with geometries.")
@overwrite_option
def command(parks, redlines, study, buffer_m, industry_field, park_id, zone_id, name_field,
            class_field, parks_coords, zones_coords, coords, out_path=None, overwrite=True,
            **kw):
    """Check parks (plots, sites) against ecological red lines (生态保护红线).

    \b
    PARKS and REDLINES are polygon files (GeoPackage, Shapefile, GeoJSON, GeoParquet).
    One row per (park, zone) conflict: kind overlap | buffer | restricted, with the
    overlap in m², ha and 亩, the % of the park and the distance. Restricted zones
    (e.g. Taihu's first-level zone) conflict only when a park industry is banned
    there; parks without industry data are reported for review.

    \b
    Examples:
      parksite redlines --study layers/yrd.toml --out redlines.gpkg
      parksite redlines plots.gpkg zones.shp --buffer-m 500 --out conflicts.csv

    GCJ-02 (AMap) files: --parks-coords gcj02 and/or --zones-coords gcj02, per file.
    Layers that cannot be judged together (far apart, outside China while Chinese, a
    wrong CRS) are an error (exit 2), never a pass.

    Exit code 0: no conflict; 1: conflicts found; 2: bad input.

    \f
    Parameters
    ----------
    parks : pathlib.Path or None
        PARKS: the park polygon file (or take it from ``--study``).
    redlines : pathlib.Path or None
        REDLINES: the red-line polygon file (or take it from ``--study``).
    study : pathlib.Path or None
        ``--study``: Take parks and red lines (and settings) from a study file
        instead.
    buffer_m : float or None
        ``--buffer-m``: Buffer around core/redline zones that also counts, in
        metres [default: the study's, else 0].
    industry_field : str or None
        ``--industry-field``: Park field listing its industries (';'-separated)
        for restricted zones.
    park_id : str or None
        ``--park-id``: Park id field [park_id/id].
    zone_id : str or None
        ``--zone-id``: Zone id field [zone_id/id].
    name_field : str or None
        ``--name-field``: Name field of both layers [name].
    class_field : str
        ``--class-field``: Zone class field: core, redline or restricted.
        Default ``class``.
    parks_coords : {"wgs84", "cgcs2000", "gcj02"} or None
        ``--parks-coords``: Datum of the PARKS file's coordinates (gcj02 =
        AMap/Gaode, converted to WGS84); only that file is shifted.
    zones_coords : {"wgs84", "cgcs2000", "gcj02"} or None
        ``--zones-coords``: Datum of the REDLINES file's coordinates; only that
        file is shifted.
    coords : {"wgs84", "cgcs2000", "gcj02"} or None
        ``--coords``: Deprecated: ambiguous with two files; use
        --parks-coords/--zones-coords.
    out_path : pathlib.Path or None, default None
        The conflicts file when called directly (``--out`` arrives in ``kw``).
    overwrite : bool
        ``--overwrite/--no-overwrite``: Replace an existing output file (always
        written atomically). Default ``True``.
    **kw
        ``out`` (pathlib.Path or None): ``--out``: Write the conflicts: FILE.csv, or
        FILE.gpkg with geometries.
    """
    return _run(parks, redlines, study, buffer_m, industry_field, park_id, zone_id, name_field,
                class_field, (parks_coords, zones_coords, coords), kw.get("out") or out_path,
                overwrite)


@guarded
def _run(parks, redlines, study, buffer_m, industry_field, park_id, zone_id, name_field,
         class_field, coords, out_file, overwrite):
    parks_coords, zones_coords, both = coords
    if both is not None:
        raise InputError(f"--coords {both} is ambiguous with two files (it used to shift both, "
                         "which moves a WGS84 red-line file 100–700 m): say which file it is "
                         f"for with --parks-coords {both} and/or --zones-coords {both} (with "
                         "--study: coords = \"...\" in the layer's table)")
    if study is not None and (parks_coords or zones_coords):
        raise InputError("--parks-coords/--zones-coords apply to PARKS and REDLINES files; with "
                         "--study set coords = \"...\" in the layer's table")
    check_out_file(out_file, (".csv", ".gpkg"),
                   "write .csv (the table) or .gpkg (table and geometries)", overwrite=overwrite)
    if study is not None:
        if parks or redlines:
            raise InputError("give either --study or PARKS and REDLINES, not both")

        s = load_study(study)
        refuse_outputs_over_inputs([out_file], study=s)
        result = check_study(s, buffer_m=buffer_m, industry_field=industry_field)
        parks_gdf = s.load_role("parks")
    else:
        if parks is None or redlines is None:
            raise InputError("give PARKS and REDLINES files, or --study layers/yrd.toml")
        refuse_outputs_over_inputs([out_file], files=[parks, redlines])
        parks_gdf = read_layer(parks, role="parks", id_field=park_id, name_field=name_field,
                               coords=parks_coords)
        zones = read_layer(redlines, role="redlines", id_field=zone_id, name_field=name_field,
                           coords=zones_coords)
        check_pair_extent(parks_gdf, zones)
        inds = park_industries_from(parks_gdf, industry_field) if industry_field else None
        result = redline_conflicts(parks_gdf, zones, buffer_m=buffer_m or 0.0,
                                   park_industries=inds, class_field=class_field,
                                   sectors=bundled_sector_model())
    out.print(park_table(result))
    if result.has_conflicts:
        out.print(summary_table(result))
    n_conf = int((result.parks.status == "conflict").sum())
    n_rev = int((result.parks.status == "review").sum())
    out.print(f"{len(result.parks)} parks: {n_conf} in conflict, {n_rev} for review, "
              f"{len(result.parks) - n_conf - n_rev} pass. Areas in {result.area_crs.split()[0]} "
              "(equal-area).")
    if out_file is not None:
        write_result(result, out_file, parks_gdf, overwrite=overwrite)
        console.print(f"wrote {esc(out_file)}")
    return EXIT_FINDINGS if result.has_conflicts else EXIT_OK
