"""``parksite reach``: service areas (what a site reaches within a radius by road)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from ..errors import InputError
from ..io import check_writable, write_gpkg
from ..network import network_from_option
from ..register import load_firms
from ..study import load_study
from ._common import add_columns, add_row, console, esc, guarded, out, overwrite_option
from .od import network_table, progress_bar, read_points
from .options import POSITIVE, refuse_outputs_over_inputs


@click.command("reach")
@click.argument("sites")
@click.option("--radius-km", type=POSITIVE, default=100.0, show_default=True,
              help="Distance budget by road (metric length).")
@click.option("--radius-min", type=POSITIVE, default=None,
              help="Time budget in minutes (metric time).")
@click.option("--metric", type=click.Choice(["length", "time"]), default="length",
              show_default=True)
@click.option("--study", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Study file: its roads, [network] settings and firms (counted by industry "
                   "inside each area).")
@click.option("--network-layer", default=None,
              help="Layer of a multi-layer --network file (e.g. highways in base.gpkg).")
@click.option("--network", "network", metavar="LAYER_OR_FILE",
              help="Roads: a study layer key, a line file or an .osm file.")
@click.option("--id-field", default=None, help="Id field of SITES.")
@click.option("--coords", type=click.Choice(["wgs84", "cgcs2000", "gcj02"]), default=None,
              help="Datum of a site file without a CRS.")
@click.option("--trim-m", type=POSITIVE, default=None,
              help="Buffer around reached roads (metres) [default: 1000].")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("reach.gpkg"), show_default=True, help="GeoPackage (layer reach).")
@overwrite_option
def command(sites, radius_km, radius_min, metric, study, network_layer, network, id_field, coords,
            trim_m,
            out_path, overwrite):
    """One service-area polygon per site: the area reachable within the radius by road.

    \b
    SITES is a point or polygon file (polygons: centroid) or a layer key of --study
    (e.g. parks). Each area carries the road length reached and, with --study, the
    number of firms inside by industry.

    \b
    Example:  parksite reach parks --study layers/yrd.toml --radius-km 100

    \f
    Parameters
    ----------
    sites : str
        SITES: a point or polygon file, or a layer key of ``--study``.
    radius_km : float
        ``--radius-km``: Distance budget by road (metric length). Default
        ``100.0``.
    radius_min : float or None
        ``--radius-min``: Time budget in minutes (metric time).
    metric : {"length", "time"}
        ``--metric``. Default ``length``.
    study : pathlib.Path or None
        ``--study``: Study file: its roads, [network] settings and firms
        (counted by industry inside each area).
    network_layer : str or None
        ``--network-layer``: Layer of a multi-layer --network file (e.g.
        highways in base.gpkg).
    network : str or None
        ``--network``: Roads: a study layer key, a line file or an .osm file.
    id_field : str or None
        ``--id-field``: Id field of SITES.
    coords : {"wgs84", "cgcs2000", "gcj02"} or None
        ``--coords``: Datum of a site file without a CRS.
    trim_m : float or None
        ``--trim-m``: Buffer around reached roads (metres) [default: 1000].
    out_path : pathlib.Path
        ``--out``: GeoPackage (layer reach). Default ``reach.gpkg``.
    overwrite : bool
        ``--overwrite/--no-overwrite``: Replace an existing output file (always
        written atomically). Default ``True``.
    """
    _run(sites, radius_km, radius_min, metric, study, network_layer, network, id_field, coords,
         trim_m,
         out_path, overwrite)


@guarded
def _run(sites, radius_km, radius_min, metric, study_path, network_layer, network, id_field,
         coords, trim_m,
         out_path, overwrite) -> int:
    if out_path.suffix.lower() != ".gpkg":
        raise InputError(f"--out {out_path}: service areas are polygons; write a .gpkg")
    if metric == "time" and radius_min is None:
        raise InputError("--metric time needs --radius-min (minutes), e.g. --radius-min 60")
    check_writable(out_path, overwrite=overwrite)
    study = load_study(study_path) if study_path else None
    refuse_outputs_over_inputs([out_path], study=study, files=[sites, network])
    s = read_points(sites, study, id_field=id_field, what="sites", coords=coords, crs=None)
    firms = None
    if study is not None and study.has_role("firms"):
        firms = load_firms(study)
    with console.status("building the road network…"):
        net = network_from_option(network, study, layer=network_layer)
    out.print(network_table(net.summary()))
    with progress_bar() as bar:
        task = bar.add_task("service areas", total=len(s))
        sa = net.reach(s, radius_km, metric=metric, radius_min=radius_min, firms=firms,
                       trim_m=trim_m, progress=lambda i, n: bar.update(task, completed=i))
    write_gpkg({"reach": sa}, out_path, overwrite=overwrite)
    t = Table(title=f"Service areas 公路可达范围 ({metric}, "
                    f"{radius_km:g} km)" if metric == "length" else
                    f"Service areas 公路可达范围 (time, {radius_min:g} min)")
    add_columns(t, (("site", "left"), ("road km", "right"), ("area km²", "right"),
                 ("firms", "right"), ("top industries", "left"), ("status", "left")))
    for r in sa.itertuples():
        top = ";".join(str(r.firms_by_industry).split(";")[:3]) if r.firms_by_industry else ""
        num = (lambda v: "—" if v != v else f"{v:,.0f}")  # noqa: E731
        add_row(t, f"{r.site_id} {r.name}", num(r.road_km), num(r.area_km2),
                  str(r.n_firms), top, r.status)
    out.print(t)
    console.print(f"[green]✓[/] {len(sa)} service areas → {esc(out_path)}")
    return 0
