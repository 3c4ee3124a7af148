"""``parksite od``: origin–destination costs on a road network."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..errors import InputError
from ..io import check_writable, write_csv
from ..layers import read_layer
from ..network import network_from_option
from ..study import load_study
from ._common import add_row, console, esc, guarded, out, overwrite_option
from .options import NON_NEGATIVE, POSITIVE, refuse_outputs_over_inputs


def read_points(value: str, study, *, id_field: str | None, what: str, coords: str | None,
                crs: str | None):
    """A point layer: a study layer key (with --study) or a file (GeoPackage, CSV, …).

    Parameters
    ----------
    value : str
        A layer key of ``study`` or the path of a point file.
    study : geo.study.Study or None
        The study whose layers ``value`` may name; None for a file only.
    id_field : str or None
        The id field (copied to ``id``); None uses the file's id field, else the first
        unique, complete one of ``site_id``, ``firm_id``, ``park_id``, ``plot_id``,
        ``locode``.
    what : str
        What the points are ("origins", "sites", …), for error messages.
    coords : str or None
        Datum of a file without a CRS (``wgs84``, ``cgcs2000``, ``gcj02``).
    crs : str or None
        The file's CRS when it has none (overrides ``coords``).

    Returns
    -------
    geopandas.GeoDataFrame
        The points in EPSG:4326 lon/lat (a study layer, or a file read by
        :func:`geo.layers.read_layer`), with an ``id`` column when an id field is
        named or found.

    Raises
    ------
    InputError
        ``id_field`` is not a field of the study layer; a file that is missing or
        cannot be read (``MissingFileError`` / ``LayerError`` from
        :func:`geo.layers.read_layer`, both subclasses of ``InputError``).
    """
    if study is not None and value in study.layers:
        g = study.load(value)
        if id_field:
            if id_field not in g.columns:
                raise InputError(f"{what} {value}: id field {id_field!r} not found; fields: "
                                 f"{', '.join(map(str, g.columns))}")
            g["id"] = g[id_field].astype(str)
        return g
    g = read_layer(value, id_field=id_field, coords=coords, crs=crs, label=f"{what} {value}")
    if id_field is None and g.attrs.get("id_field") is None:
        # no generic id field: use the usual id of a parksite layer if there is one
        for c in ("site_id", "firm_id", "park_id", "plot_id", "locode"):
            if c in g.columns and g[c].notna().all() and g[c].astype(str).is_unique:
                g["id"] = g[c].astype(str)
                break
    return g


def progress_bar() -> Progress:
    """A transient progress bar on the console (description, bar, done/total, time).

    Returns
    -------
    rich.progress.Progress
        Use as a context manager.
    """
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


def network_table(summary: dict) -> Table:
    """The road network's size and connectivity as a one-row rich table.

    Parameters
    ----------
    summary : dict
        ``RoadNetwork.summary()``: ``source``, ``nodes``, ``edges``, ``road_km`` (km),
        ``components``, ``largest_component_nodes``, ``largest_component_share``
        (0–1).

    Returns
    -------
    rich.table.Table
        The table to print.
    """
    t = Table(title="Road network 路网")
    t.add_column("source")
    for c in ("nodes", "edges", "road km", "components", "largest"):
        t.add_column(c, justify="right")
    add_row(t, str(summary["source"]), f"{summary['nodes']:,}", f"{summary['edges']:,}",
              f"{summary['road_km']:,.0f}", str(summary["components"]),
              f"{summary['largest_component_nodes']:,} ({summary['largest_component_share']:.1%})")
    return t


@click.command("od")
@click.argument("origins")
@click.argument("destinations")
@click.option("--network-layer", default=None,
              help="Layer of a multi-layer --network file (e.g. highways in base.gpkg).")
@click.option("--network", "network", metavar="LAYER_OR_FILE",
              help="Roads: a study layer key, a line file (GeoPackage, Shapefile, GeoJSON) or "
                   "an OpenStreetMap .osm file [default: the study's roads layer].")
@click.option("--study", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Study file for layer keys and [network] settings "
                                 "(e.g. layers/yrd.toml).")
@click.option("--metric", type=click.Choice(["length", "time"]), default="length",
              show_default=True, help="What the routes minimise.")
@click.option("--limit-km", type=NON_NEGATIVE, default=100.0, show_default=True,
              help="Omit pairs farther than this by road (0 = no limit).")
@click.option("--limit-min", type=POSITIVE, default=None,
              help="Omit pairs slower than this many minutes.")
@click.option("--id-field", default=None, help="Id field of both point files [default: id, "
                                               "or the usual id of the layer].")
@click.option("--origin-id", default=None, help="Id field of ORIGINS (overrides --id-field).")
@click.option("--dest-id", default=None, help="Id field of DESTINATIONS.")
@click.option("--coords", type=click.Choice(["wgs84", "cgcs2000", "gcj02"]), default=None,
              help="Datum of point files without a CRS (gcj02 = AMap/Gaode).")
@click.option("--max-snap-m", type=POSITIVE, default=None,
              help="Points farther than this from a road are reported, not snapped "
                   "[default: 5000].")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("od.csv"), show_default=True, help="Long table (CSV).")
@overwrite_option
def command(origins, destinations, network_layer, network, study, metric, limit_km, limit_min,
            id_field,
            origin_id, dest_id, coords, max_snap_m, out_path, overwrite):
    """Road distances and times from every ORIGIN to every DESTINATION.

    \b
    ORIGINS and DESTINATIONS are point files (GeoPackage, Shapefile, GeoJSON, CSV with
    lon/lat) with an id field, or layer keys of --study (e.g. parks, firms; polygons
    use their centroid). The table has origin_id, dest_id, network_m, time_min, crow_m
    (geodesic), detour_ratio and status (ok, unreachable, off_network); pairs beyond
    --limit-km are omitted.

    \b
    Example:  parksite od parks parks --study layers/yrd.toml --out od.csv

    \f
    Parameters
    ----------
    origins : str
        ORIGINS: a point file, or a layer key of ``--study``.
    destinations : str
        DESTINATIONS: a point file, or a layer key of ``--study``.
    network_layer : str or None
        ``--network-layer``: Layer of a multi-layer --network file (e.g.
        highways in base.gpkg).
    network : str or None
        ``--network``: Roads: a study layer key, a line file (GeoPackage,
        Shapefile, GeoJSON) or an OpenStreetMap .osm file [default: the study's
        roads layer].
    study : pathlib.Path or None
        ``--study``: Study file for layer keys and [network] settings (e.g.
        layers/yrd.toml).
    metric : {"length", "time"}
        ``--metric``: What the routes minimise. Default ``length``.
    limit_km : float
        ``--limit-km``: Omit pairs farther than this by road (0 = no limit).
        Default ``100.0``.
    limit_min : float or None
        ``--limit-min``: Omit pairs slower than this many minutes.
    id_field : str or None
        ``--id-field``: Id field of both point files [default: id, or the usual
        id of the layer].
    origin_id : str or None
        ``--origin-id``: Id field of ORIGINS (overrides --id-field).
    dest_id : str or None
        ``--dest-id``: Id field of DESTINATIONS.
    coords : {"wgs84", "cgcs2000", "gcj02"} or None
        ``--coords``: Datum of point files without a CRS (gcj02 = AMap/Gaode).
    max_snap_m : float or None
        ``--max-snap-m``: Points farther than this from a road are reported, not
        snapped [default: 5000].
    out_path : pathlib.Path
        ``--out``: Long table (CSV). Default ``od.csv``.
    overwrite : bool
        ``--overwrite/--no-overwrite``: Replace an existing output file (always
        written atomically). Default ``True``.
    """
    _run(origins, destinations, network_layer, network, study, metric, limit_km, limit_min,
         id_field,
         origin_id, dest_id, coords, max_snap_m, out_path, overwrite)


@guarded
def _run(origins, destinations, network_layer, network, study_path, metric, limit_km, limit_min,
         id_field,
         origin_id, dest_id, coords, max_snap_m, out_path, overwrite) -> int:
    check_writable(out_path, overwrite=overwrite)
    study = load_study(study_path) if study_path else None
    refuse_outputs_over_inputs([out_path], study=study, files=[origins, destinations, network])
    o = read_points(origins, study, id_field=origin_id or id_field, what="origins",
                    coords=coords, crs=None)
    d = read_points(destinations, study, id_field=dest_id or id_field, what="destinations",
                    coords=coords, crs=None)
    with console.status("building the road network…"):
        net = network_from_option(network, study, layer=network_layer)
    out.print(network_table(net.summary()))
    with progress_bar() as bar:
        task = bar.add_task("shortest paths", total=None)
        table = net.od(o, d, metric=metric, limit_km=limit_km or None, limit_min=limit_min,
                       max_snap_m=max_snap_m,
                       progress=lambda i, n: bar.update(task, completed=i, total=n))
    write_csv(table, out_path, overwrite=overwrite)
    ok = table[table["status"] == "ok"]
    t = Table(title=f"OD {len(o)} × {len(d)} ({metric})")
    for c in ("pairs kept", "ok", "unreachable", "off network", "median km", "median min",
              "median detour"):
        t.add_column(c, justify="right")
    add_row(t, f"{len(table):,}", f"{len(ok):,}", f"{int((table.status == 'unreachable').sum()):,}",
              f"{int((table.status == 'off_network').sum()):,}",
              f"{np.nanmedian(ok.network_m) / 1000:,.1f}" if len(ok) else "—",
              f"{np.nanmedian(ok.time_min):,.0f}" if len(ok) else "—",
              f"{np.nanmedian(ok.detour_ratio):.2f}" if ok.detour_ratio.notna().any() else "—")
    out.print(t)
    console.print(f"[green]✓[/] {len(table):,} pairs → {esc(out_path)}")
    return 0
