"""Reading layers: GeoPackage, Shapefile, GeoJSON, GeoParquet and CSV points.

:func:`read_layer` returns a GeoDataFrame in WGS84 (EPSG:4326) with two standard
columns added, ``id`` (text, unique) and ``name`` (text), and with what it found in
``gdf.attrs``: ``source_path``, ``source_layer``, ``source_crs`` (the CRS the file
was in, or ``"GCJ-02"``), ``role``, ``id_field``, ``name_field``, ``n_repaired``.

Every problem raises :class:`geo.errors.LayerError` (or :class:`MissingFileError`)
whose message names the file, the layer, the feature and the fix.
"""

from __future__ import annotations

import codecs
import difflib
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from .crs import CGCS2000, COORDS, WGS84, densify, geoms_gcj02_to_wgs84
from .encoding import check_text, detect_shapefile_encoding, undecodable_message
from .errors import LayerError, MissingFileError
from .extent import check_finite, check_gcj_hint, check_source_extent

#: Formats by file suffix.
VECTOR_SUFFIXES = {
    ".gpkg": "GeoPackage", ".shp": "Shapefile", ".geojson": "GeoJSON", ".json": "GeoJSON",
    ".parquet": "GeoParquet", ".geoparquet": "GeoParquet", ".csv": "CSV points",
    ".fgb": "FlatGeobuf",
}
RASTER_SUFFIXES = {".tif": "GeoTIFF", ".tiff": "GeoTIFF", ".vrt": "GDAL VRT"}

_POLY = frozenset({"Polygon", "MultiPolygon"})
_LINE = frozenset({"LineString", "MultiLineString"})
_POINT = frozenset({"Point", "MultiPoint"})


@dataclass(frozen=True)
class Role:
    """What a layer role is for and which geometry it takes."""

    name: str
    geometry: frozenset[str]
    description: str
    id_fields: tuple[str, ...] = ()


ROLES: dict[str, Role] = {r.name: r for r in [
    Role("boundary", _POLY, "the study area outline"),
    Role("boundaries", _POLY, "administrative units (districts, counties)", ("adcode",)),
    Role("parks", _POLY, "industrial parks (or plots, sites)", ("park_id", "plot_id", "site_id")),
    Role("plots", _POLY, "land plots or candidate sites", ("plot_id", "site_id")),
    Role("redlines", _POLY, "ecological red lines and water-protection zones", ("zone_id",)),
    Role("water", _POLY | _LINE, "sea, lakes (polygons) and rivers (lines)"),
    Role("roads", _LINE, "road network", ("road_id",)),
    Role("rail", _LINE, "railways", ("rail_id",)),
    Role("ports", _POINT, "ports", ("locode", "port_id")),
    Role("firms", _POINT, "firms (points)", ("firm_id",)),
    Role("sites", _POINT | _POLY, "candidate sites", ("site_id",)),
    Role("universities", _POINT | _POLY, "universities and research institutes"),
    Role("amenities", _POINT | _POLY, "housing, schools, clinics, shops"),
    Role("residential", _POLY | _POINT, "residential and service zones"),
    Role("farmland", _POLY, "permanent basic farmland 永久基本农田 (a control line: hard "
         "exclusion)"),
    Role("urban_boundary", _POLY, "urban development boundary 城镇开发边界 (new industrial "
         "land inside it)"),
]}
#: Roles that are rasters, not vector layers.
RASTER_ROLES = {"dem": "a digital elevation model (GeoTIFF)",
                "landuse": "categorical land use / land cover (GeoTIFF of class values)"}

#: The IGBP land-cover classes of MODIS MCD12C1/MCD12Q1 (Type 1): value →
#: (Chinese name, English name, display colour). Used to label a ``landuse`` raster whose
#: values are IGBP classes (the bundled MODIS 2019 layer; ``parksite init`` layers).
IGBP_CLASSES: dict[int, tuple[str, str, str]] = {
    0: ("水体", "Water", "#4682b4"),
    1: ("常绿针叶林", "Evergreen needleleaf forest", "#05450a"),
    2: ("常绿阔叶林", "Evergreen broadleaf forest", "#086a10"),
    3: ("落叶针叶林", "Deciduous needleleaf forest", "#54a708"),
    4: ("落叶阔叶林", "Deciduous broadleaf forest", "#78d203"),
    5: ("混交林", "Mixed forest", "#009900"),
    6: ("郁闭灌丛", "Closed shrubland", "#c6b044"),
    7: ("稀疏灌丛", "Open shrubland", "#dcd159"),
    8: ("木本稀树草原", "Woody savanna", "#dade48"),
    9: ("稀树草原", "Savanna", "#fbff13"),
    10: ("草地", "Grassland", "#b6ff05"),
    11: ("永久湿地", "Permanent wetland", "#27ff87"),
    12: ("耕地", "Cropland", "#c24f44"),
    13: ("城镇建设用地", "Urban and built-up", "#a5a5a5"),
    14: ("耕地与自然植被镶嵌", "Cropland/natural vegetation mosaic", "#ff6d4c"),
    15: ("冰雪", "Snow and ice", "#69fff8"),
    16: ("裸地", "Barren", "#f9ffa4"),
}

_ID_FIELDS = ("id", "fid_", "code", "ID", "Id")
_NAME_FIELDS = ("name", "name_zh", "名称", "NAME", "Name", "name_en", "mc", "MC")
_LON_FIELDS = ("lon", "lng", "long", "longitude", "经度", "x", "X", "LON", "LNG", "Longitude")
_LAT_FIELDS = ("lat", "latitude", "纬度", "y", "Y", "LAT", "Latitude")


def where(path: str | os.PathLike, layer: str | None = None) -> str:
    """How messages name a layer: ``data/yrd/parks.gpkg (layer parks)``.

    Parameters
    ----------
    path : str or os.PathLike
        The layer's file, shown as given.
    layer : str or None, optional
        Layer name inside a multi-layer file; omitted from the text if None or empty.

    Returns
    -------
    str
        ``"PATH"`` or ``"PATH (layer LAYER)"``.
    """
    return f"{path}" + (f" (layer {layer})" if layer else "")


def did_you_mean(path: str | os.PathLike) -> str | None:
    """A sibling file whose name is closest to ``path``'s, as the user wrote the path.

    Missing folders on the way are corrected too (:mod:`difflib`, cutoff 0.6).

    Parameters
    ----------
    path : str or os.PathLike
        A path that does not exist (a mistyped file or folder name).

    Returns
    -------
    str or None
        The closest existing name, with its folder unless ``path`` had none; None if no
        name is close enough or the folder cannot be listed.
    """
    p = Path(path)
    folder = p.parent
    # Walk up to the first folder that exists, correcting folder names on the way.
    if not folder.exists():
        up = did_you_mean(folder)
        if up is None:
            return None
        folder = Path(up)
        candidate = folder / p.name
        if candidate.exists():
            return str(candidate)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None
    close = difflib.get_close_matches(p.name, names, n=1, cutoff=0.6)
    if not close:
        return None
    return str(folder / close[0]) if str(p.parent) not in ("", ".") else close[0]


def check_exists(path: str | os.PathLike, *, what: str = "file") -> Path:
    """Raise :class:`MissingFileError` with a did-you-mean if ``path`` does not exist, and
    :class:`LayerError` if it is a pipe, socket or device (reading one would block).

    Parameters
    ----------
    path : str or os.PathLike
        The file to check.
    what : str, optional
        How the message names it (default ``"file"``; e.g. ``"layers.parks"``).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    MissingFileError
        If ``path`` does not exist (with the closest sibling name, if any).
    LayerError
        If ``path`` is a FIFO, socket or character/block device.
    """
    p = Path(path)
    if p.exists():
        if stat.S_ISFIFO(mode := p.stat().st_mode) or stat.S_ISSOCK(mode) or \
                stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            raise LayerError(f"{what} {p} is not a regular file (a pipe, socket or device: "
                             "reading it would wait forever); give the path of the file itself")
        return p
    hint = did_you_mean(p)
    fix = f"did you mean {hint}?" if hint else "check the path (relative paths in a study " \
        "file are relative to the study file's folder)"
    raise MissingFileError(f"{what} {p} not found; {fix}")


def format_of(path: str | os.PathLike) -> str:
    """The format name of a vector or raster file, by suffix; raise for unknown ones.

    Parameters
    ----------
    path : str or os.PathLike
        A file name; only its suffix (any case) is looked at, not the file.

    Returns
    -------
    str
        The format name, e.g. ``"GeoPackage"``, ``"GeoTIFF"``.

    Raises
    ------
    LayerError
        If the suffix is not a known vector or raster format.
    """
    suffix = Path(path).suffix.lower()
    if suffix in VECTOR_SUFFIXES:
        return VECTOR_SUFFIXES[suffix]
    if suffix in RASTER_SUFFIXES:
        return RASTER_SUFFIXES[suffix]
    known = " ".join(sorted(set(VECTOR_SUFFIXES) | set(RASTER_SUFFIXES)))
    raise LayerError(f"{path}: unknown format {suffix or '(no suffix)'!r}; parksite reads "
                     f"{known}. Convert it (e.g. ogr2ogr -f GPKG out.gpkg {Path(path).name}).")


def gpkg_layers(path: str | os.PathLike) -> list[str]:
    """Layer names of a GeoPackage (or any multi-layer vector file).

    Parameters
    ----------
    path : str or os.PathLike
        A vector file pyogrio opens.

    Returns
    -------
    list of str
        Its layer names, in the file's order.

    Raises
    ------
    MissingFileError
        If ``path`` does not exist.
    LayerError
        If ``path`` is not a regular file, or cannot be opened as a vector file.
    """
    check_exists(path)
    try:
        return [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        raise LayerError(f"{path}: cannot be opened as a vector file ({exc}); is it "
                         "corrupt or in another format?") from exc


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    encs = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    last: Exception | None = None
    for enc in encs:
        try:
            return pd.read_csv(path, encoding=enc, dtype=str, keep_default_na=False)
        except UnicodeDecodeError as exc:
            last = exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise LayerError(f"{path}: not a readable CSV table ({exc}); save it as "
                             "comma-separated UTF-8 with a header row") from exc
    if encoding:
        other = "gb18030" if codecs.lookup(encoding).name != "gb18030" else "utf-8"
        raise LayerError(f"{path}: text is not {encoding} ({last}): the layer's encoding = "
                         f"{encoding!r} is wrong; try encoding = \"{other}\", or remove it "
                         "(UTF-8 and GB18030 are detected)")
    raise LayerError(f"{path}: text is neither UTF-8 nor GB18030 ({last}); set encoding "
                     "= \"...\" for this layer")


def _pick(columns, wanted: str | None, candidates, *, path, layer, what) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            close = difflib.get_close_matches(wanted, [str(c) for c in columns], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise LayerError(f"{where(path, layer)}: {what} field {wanted!r} not found; the "
                             f"fields are {', '.join(map(str, columns))}{hint}")
        return wanted
    for c in candidates:
        if c in columns:
            return c
    return None


def _points_from_csv(df: pd.DataFrame, path: Path, lon: str | None, lat: str | None,
                     id_col: str | None) -> gpd.GeoDataFrame:
    xf = _pick(df.columns, lon, _LON_FIELDS, path=path, layer=None, what="longitude")
    yf = _pick(df.columns, lat, _LAT_FIELDS, path=path, layer=None, what="latitude")
    if xf is None or yf is None:
        raise LayerError(f"{path}: no longitude/latitude columns found among "
                         f"{', '.join(map(str, df.columns))}; name them with lon = \"...\" "
                         "and lat = \"...\" in the study file (or --lon/--lat)")
    x = pd.to_numeric(df[xf].str.strip(), errors="coerce")
    y = pd.to_numeric(df[yf].str.strip(), errors="coerce")
    bad = x.isna() | y.isna()
    if bad.any():
        ids = df[id_col] if id_col and id_col in df else pd.Series(df.index + 2, index=df.index)
        label = f"{id_col}=" if id_col and id_col in df else "line "
        rows = ", ".join(f"{label}{v}" for v in ids[bad].head(5))
        raise LayerError(f"{path}: {int(bad.sum())} row(s) have no numeric {xf}/{yf} "
                         f"({rows}); fill them in or remove those rows")
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y), crs=None)


def _check_plausible(gdf: gpd.GeoDataFrame, crs: CRS, path, layer) -> None:
    """Catch coordinates that contradict the CRS: swapped lon/lat, metres as degrees."""
    b = gdf.total_bounds
    if not np.all(np.isfinite(b)):
        return
    minx, miny, maxx, maxy = (float(v) for v in b)
    src = f"{where(path, layer)}"
    if crs.is_geographic:
        if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
            if max(abs(minx), abs(maxx)) > 1000:
                guess = ""
                if 1e5 < minx and maxx < 1e6 and 2e6 < miny and maxy < 6.1e6:
                    guess = (" They look like Gauss-Krüger eastings/northings: declare the "
                             "zone, e.g. crs = \"EPSG:4549\" (CGCS2000 GK CM 120°E).")
                raise LayerError(
                    f"{src}: coordinates x {minx:.0f}…{maxx:.0f}, y {miny:.0f}…{maxy:.0f} "
                    f"are projected metres, but the layer is declared in degrees "
                    f"({crs.name}).{guess} Fix the crs/coords setting of this layer.")
            if abs(miny) <= 180 and abs(maxy) <= 180 and abs(minx) <= 90 and abs(maxx) <= 90:
                raise LayerError(
                    f"{src}: x runs {minx:.3f}…{maxx:.3f} and y {miny:.3f}…{maxy:.3f}: latitude "
                    "and longitude look swapped (latitude cannot exceed 90°). Swap them: for "
                    "CSV set lon = \"<longitude column>\" and lat = \"<latitude column>\"; for "
                    "other files fix the axis order when exporting.")
            raise LayerError(f"{src}: coordinates x {minx:g}…{maxx:g}, y {miny:g}…{maxy:g} are "
                             f"outside the range of degrees ({crs.name}); fix the layer's CRS")
        # In range but the typical Chinese swap: lon in 18–54, lat in 73–135.
        if 73 <= minx and maxx <= 136 and 3 <= miny and maxy <= 54:
            return
        if 3 <= minx and maxx <= 54 and 73 <= miny and maxy <= 90:
            raise LayerError(
                f"{src}: x runs {minx:.3f}…{maxx:.3f} and y {miny:.3f}…{maxy:.3f}: these look "
                "like latitude and longitude swapped for a place in China. Swap them (CSV: "
                "lon = \"...\", lat = \"...\").")
    else:
        if max(abs(minx), abs(maxx), abs(miny), abs(maxy)) <= 360:
            raise LayerError(
                f"{src}: coordinates x {minx:g}…{maxx:g}, y {miny:g}…{maxy:g} look like degrees "
                f"but the layer's CRS is projected ({crs.name}); declare coords = \"wgs84\" "
                "(or \"gcj02\"/\"cgcs2000\") or crs = \"EPSG:4326\" for this layer.")


def _resolve_crs(gdf: gpd.GeoDataFrame, *, path, layer, coords: str | None,
                 crs: str | None) -> tuple[gpd.GeoDataFrame, str, bool]:
    """Set the layer's CRS from the file, the override and ``coords``.

    Returns (gdf with a CRS, the source CRS label, whether coordinates are GCJ-02).
    """
    src = where(path, layer)
    if coords is not None and coords not in COORDS:
        raise LayerError(f"{src}: coords = {coords!r} is not one of {', '.join(COORDS)}")
    declared: CRS | None = None
    if crs is not None:
        try:
            declared = CRS.from_user_input(crs)
        except CRSError as exc:
            raise LayerError(f"{src}: crs = {crs!r} is not a CRS pyproj understands ({exc}); "
                             "write it as \"EPSG:4549\"") from exc
    if coords == "gcj02":
        if declared is not None and not declared.is_geographic:
            raise LayerError(f"{src}: coords = \"gcj02\" means GCJ-02 degrees, but crs = "
                             f"{crs!r} is projected; remove one of the two")
        if gdf.crs is not None and not gdf.crs.is_geographic:
            raise LayerError(f"{src}: coords = \"gcj02\" means GCJ-02 degrees, but the file "
                             f"is in a projected CRS ({gdf.crs.name}); remove coords or "
                             "reproject the file")
        gdf = gdf.set_crs(WGS84, allow_override=True)
        _check_plausible(gdf, WGS84, path, layer)
        return gdf, "GCJ-02", True
    if declared is not None:
        gdf = gdf.set_crs(declared, allow_override=True)
    elif coords == "wgs84" and (gdf.crs is None or gdf.crs.is_geographic):
        gdf = gdf.set_crs(WGS84, allow_override=True)
    elif coords == "cgcs2000" and (gdf.crs is None or gdf.crs.is_geographic):
        gdf = gdf.set_crs(CGCS2000, allow_override=True)
    if gdf.crs is None:
        raise LayerError(
            f"{src}: the file has no CRS and none is declared; declare the coordinates, "
            "e.g. coords = \"wgs84\" (GPS, OSM), \"gcj02\" (AMap/Gaode, Tencent) or "
            "\"cgcs2000\", or crs = \"EPSG:4549\" for projected metres (--coords/--crs "
            "on the command line)")
    _check_plausible(gdf, gdf.crs, path, layer)
    label = gdf.crs.to_string()
    return gdf, label, False


def _repair(gdf: gpd.GeoDataFrame, allowed: frozenset[str], *, path, layer,
            id_col: str) -> tuple[gpd.GeoDataFrame, int, int]:
    """Repair invalid polygons with make_valid; drop zero-length lines.

    Returns (gdf, number repaired, number of degenerate lines dropped).
    """
    geoms = gdf.geometry.values
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return gdf, 0, 0
    types = shapely.get_type_id(geoms)
    is_line = np.isin(types, (1, 2, 5))
    dropped = 0
    if (invalid & is_line).any():
        # A line whose vertices all coincide has no route; it is dropped, not repaired.
        degenerate = invalid & is_line & (shapely.length(geoms) == 0)
        dropped = int(degenerate.sum())
        gdf = gdf[~degenerate].copy()
        geoms = gdf.geometry.values
        invalid = ~shapely.is_valid(geoms)
    n = int(invalid.sum())
    if n == 0:
        return gdf, 0, dropped
    fixed = shapely.make_valid(geoms[invalid])
    # Keep only the parts of the geometry type the layer takes (a bow-tie polygon
    # becomes a MultiPolygon; slivers that collapse to lines are dropped).
    want_poly = bool(allowed & _POLY)
    out = []
    for g in fixed:  # only the invalid features, typically a handful
        if g.geom_type == "GeometryCollection":
            parts = [p for p in g.geoms if p.geom_type in allowed]
            g = shapely.union_all(parts) if parts else shapely.Polygon()
        out.append(g)
    fixed = np.array(out, dtype=object)
    bad = shapely.is_empty(fixed) | ~np.isin(
        shapely.get_type_id(fixed), [3, 6] if want_poly else [0, 1, 2, 4, 5, 3, 6])
    if bad.any():
        ids = gdf.loc[invalid, id_col].to_numpy()[bad]
        raise LayerError(
            f"{where(path, layer)}: {int(bad.sum())} invalid "
            f"geometr{'y' if bad.sum() == 1 else 'ies'}"
            f" could not be repaired (features {', '.join(map(str, ids[:5]))}): make_valid "
            "leaves nothing of the right type. Redraw them in QGIS (Vector ▸ Geometry "
            "Tools ▸ Check Validity).")
    gdf = gdf.copy()
    col = gdf.geometry.name
    gdf.loc[invalid, col] = fixed
    return gdf, n, dropped


def read_layer(
    path: str | os.PathLike,
    *,
    role: str | None = None,
    layer: str | None = None,
    coords: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    id_field: str | None = None,
    name_field: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    label: str | None = None,
) -> gpd.GeoDataFrame:
    """Read one vector layer and return it in WGS84 with ``id`` and ``name`` columns.

    Parameters
    ----------
    path
        GeoPackage, Shapefile, GeoJSON, GeoParquet, FlatGeobuf or CSV of points.
    role
        One of :data:`ROLES` (``parks``, ``redlines``, ``roads``, …): checks the
        geometry type and picks the usual id field (``park_id``, ``zone_id``, …).
    layer
        Layer name inside a multi-layer file; defaults to the only layer, or to the
        layer named like the role.
    coords
        ``{"wgs84", "cgcs2000", "gcj02"}``: the datum of the coordinates. ``gcj02``
        converts AMap/Gaode coordinates to WGS84. Default: the file's own CRS.
    crs
        Override of the file's CRS (anything pyproj reads, e.g. ``"EPSG:4549"``).
    encoding
        Text encoding override (Shapefile, CSV). Without it GBK/GB18030 shapefiles
        lacking a .cpg are detected.
    id_field, name_field
        Fields holding the feature id and name; found by their usual names if omitted.
    lon, lat
        For CSV: the longitude and latitude columns (found by usual names if omitted).
    label
        How messages name this layer (e.g. ``layers.parks``); defaults to the path.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326; ``id`` unique text, ``name`` text; ``attrs`` as in the module doc.

    Raises
    ------
    MissingFileError, LayerError
        With the file, layer, feature and fix in the message; also for garbled text
        (mojibake: a wrong ``.cpg`` or ``encoding``), naming the field and the fix.
    """
    p = check_exists(path)
    shown = label or str(path)
    fmt, rl = _check_request(p, shown, role, encoding)
    layer_used = None if fmt == "CSV points" else _layer_name(p, shown, fmt, layer, role)
    src = where(shown, layer_used)
    gdf = _read_csv_points(p, shown, encoding, id_field, lon, lat) if fmt == "CSV points" \
        else _read_vector(p, shown, fmt, layer_used, encoding)
    _check_not_empty(gdf, src)
    check_text(gdf, p, src, fmt=fmt, encoding=encoding)
    gdf, idf = _with_ids(gdf, rl, id_field, shown, layer_used)
    _check_geometries_present(gdf, src)
    check_finite(gdf, src)
    check_gcj_hint(gdf, p, src, declared=coords is not None or crs is not None)
    gdf, source_crs, is_gcj = _resolve_crs(gdf, path=shown, layer=layer_used, coords=coords,
                                           crs=crs)
    source_bounds = tuple(float(v) for v in gdf.total_bounds)
    check_source_extent(source_bounds, WGS84 if is_gcj else gdf.crs, src,
                        chinese=is_gcj or coords == "cgcs2000")
    _check_role_geometry(gdf, rl, role, src)
    gdf, n_repaired = _repaired(gdf, rl, shown, layer_used)
    gdf = _to_wgs84(gdf, is_gcj, source_crs, src)
    gdf, nf = _with_names(gdf, name_field, shown, layer_used)
    gdf.attrs.update({"source_path": str(path), "source_layer": layer_used,
                      "source_crs": source_crs, "role": role, "id_field": idf,
                      "name_field": nf, "n_repaired": n_repaired, "label": shown,
                      "source_bounds": source_bounds})
    return gdf


def _check_request(p: Path, shown: str, role: str | None,
                   encoding: str | None) -> tuple[str, Role | None]:
    """The format of ``p`` and the :class:`Role`; raise for a raster, an unknown role or
    an unknown encoding."""
    fmt = format_of(p)
    if fmt in RASTER_SUFFIXES.values():
        raise LayerError(f"{shown}: {p.name} is a raster; give it role = \"dem\" (rasters are "
                         "not read as vector layers)")
    if role is not None and role not in ROLES:
        close = difflib.get_close_matches(role, list(ROLES) + list(RASTER_ROLES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise LayerError(f"{shown}: unknown role {role!r}{hint} (roles: "
                         f"{', '.join(sorted(ROLES))}, dem)")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise LayerError(f"{shown}: encoding {encoding!r} is unknown; use e.g. \"gb18030\" "
                             "or \"utf-8\"") from exc
    return fmt, (ROLES.get(role) if role else None)


def _read_csv_points(p: Path, shown: str, encoding: str | None, id_field: str | None,
                     lon: str | None, lat: str | None) -> gpd.GeoDataFrame:
    """A CSV of points, without a CRS yet (set by :func:`_resolve_crs`)."""
    df = _read_csv(p, encoding)
    if df.empty:
        raise LayerError(f"{shown}: {p} has no rows; the layer is empty")
    return _points_from_csv(df, p, lon, lat, id_field if id_field in df.columns else None)


def _layer_name(p: Path, shown: str, fmt: str, layer: str | None,
                role: str | None) -> str | None:
    """The layer to read from a (possibly multi-layer) file: ``layer``, the only one, or
    the one named like the role."""
    if fmt not in ("GeoPackage", "FlatGeobuf"):
        return layer
    names = gpkg_layers(p)
    if layer is None:
        if len(names) == 1:
            return names[0]
        if role in names:
            return role
        raise LayerError(f"{shown}: {p.name} holds {len(names)} layers "
                         f"({', '.join(names)}); name one with layer = \"...\"")
    if layer not in names:
        close = difflib.get_close_matches(layer, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise LayerError(f"{shown}: {p.name} has no layer {layer!r}{hint} (layers: "
                         f"{', '.join(names)})")
    return layer


def _read_vector(p: Path, shown: str, fmt: str, layer: str | None,
                 encoding: str | None) -> gpd.GeoDataFrame:
    """Read a vector file (not CSV) with pyogrio or GeoParquet; errors name the file."""
    kw: dict = {}
    if fmt == "Shapefile":
        enc = encoding or detect_shapefile_encoding(p)
        if enc:
            kw["encoding"] = enc
    try:
        if fmt == "GeoParquet":
            gdf = gpd.read_parquet(p)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                gdf = pyogrio.read_dataframe(p, layer=layer, **kw)
    except UnicodeDecodeError as exc:
        raise LayerError(undecodable_message(p, where(shown, layer), fmt, encoding, exc)) from exc
    except Exception as exc:
        raise LayerError(f"{where(shown, layer)}: cannot be read as {fmt} ({exc}); "
                         "open it in QGIS to check it, or convert it to GeoPackage") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        raise LayerError(f"{where(shown, layer)}: has no geometry column; for a table "
                         "of points save it as CSV with lon/lat columns")
    return gdf


def _with_ids(gdf: gpd.GeoDataFrame, rl: Role | None, id_field: str | None, shown: str,
              layer: str | None) -> tuple[gpd.GeoDataFrame, str | None]:
    """Add the ``id`` column (text, unique); return the frame and the field it came from."""
    id_cands = (rl.id_fields if rl else ()) + _ID_FIELDS
    idf = _pick(gdf.columns, id_field, id_cands, path=shown, layer=layer, what="id")
    src = where(shown, layer)
    if idf is None:
        ids = pd.Series(np.arange(1, len(gdf) + 1).astype(str), index=gdf.index)
    else:
        raw = gdf[idf]
        missing = raw.isna() | (raw.astype(str).str.strip() == "")
        if missing.any():
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(missing.to_numpy())[:5])
            raise LayerError(f"{src}: {int(missing.sum())} feature(s) have an empty {idf!r} "
                             f"(feature number {rows}); give every feature an id")
        ids = raw.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer()
                      else str(v).strip())
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        vals = list(dict.fromkeys(dup.tolist()))
        raise LayerError(f"{src}: duplicate ids in field {idf or '(row number)'}: "
                         f"{', '.join(vals[:5])}{' …' if len(vals) > 5 else ''} ({len(vals)} "
                         "value(s) used more than once); make the ids unique or name another "
                         "field with id = \"...\"")
    gdf = gdf.copy()
    gdf["id"] = ids.to_numpy()
    return gdf, idf


def _check_not_empty(gdf: gpd.GeoDataFrame, src: str) -> None:
    """Raise for a layer without features."""
    if len(gdf) == 0:
        raise LayerError(f"{src}: the layer is empty (no features); check the file or the "
                         "layer name")


def _check_geometries_present(gdf: gpd.GeoDataFrame, src: str) -> None:
    """Raise naming the features that have no (or an empty) geometry."""
    geoms = gdf.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        bad = gdf.loc[empty, "id"].tolist()
        raise LayerError(f"{src}: {len(bad)} feature(s) have no geometry "
                         f"(id {', '.join(bad[:5])}); draw them or delete them")


def _check_role_geometry(gdf: gpd.GeoDataFrame, rl: Role | None, role: str | None,
                         src: str) -> None:
    """Raise when a feature's geometry type is not one the role takes."""
    types = set(gdf.geom_type.unique())
    if rl is None or types <= rl.geometry:
        return
    wrong = gdf.loc[~gdf.geom_type.isin(rl.geometry)]
    raise LayerError(
        f"{src}: role {role!r} ({rl.description}) takes {'/'.join(sorted(rl.geometry))} "
        f"geometries, but feature id={wrong['id'].iloc[0]} is a {wrong.geom_type.iloc[0]} "
        f"({len(wrong)} such feature(s)); give this layer another role or convert the "
        "geometries")


def _repaired(gdf: gpd.GeoDataFrame, rl: Role | None, shown: str,
              layer: str | None) -> tuple[gpd.GeoDataFrame, int]:
    """:func:`_repair` with a warning for each kind of repair; returns (gdf, n repaired)."""
    src = where(shown, layer)
    gdf, n_repaired, n_dropped = _repair(gdf, rl.geometry if rl else _POLY | _LINE | _POINT,
                                         path=shown, layer=layer, id_col="id")
    if n_repaired:
        warnings.warn(f"{src}: repaired {n_repaired} invalid "
                      f"geometr{'y' if n_repaired == 1 else 'ies'} with make_valid",
                      UserWarning, stacklevel=3)
    if n_dropped:
        warnings.warn(f"{src}: dropped {n_dropped} zero-length line(s)", UserWarning,
                      stacklevel=3)
    return gdf, n_repaired


def _to_wgs84(gdf: gpd.GeoDataFrame, is_gcj: bool, source_crs: str,
              src: str) -> gpd.GeoDataFrame:
    """The layer in EPSG:4326: GCJ-02 shifted back, other CRSs densified then projected."""
    if is_gcj:
        return gdf.set_geometry(geoms_gcj02_to_wgs84(gdf.geometry.values), crs=WGS84)
    if gdf.crs.equals(WGS84):
        return gdf
    # Densified in the source CRS first, so that long straight edges stay straight
    # in the source CRS (see geo.crs.densify for the bound on the chord error).
    gdf = gdf.set_geometry(densify(gdf.geometry.values, gdf.crs), crs=gdf.crs).to_crs(WGS84)
    check_finite(gdf, src + f" after conversion from {source_crs}")
    return gdf


def _with_names(gdf: gpd.GeoDataFrame, name_field: str | None, shown: str,
                layer: str | None) -> tuple[gpd.GeoDataFrame, str | None]:
    """Add the ``name`` column (text; the id when the layer has no name field)."""
    nf = _pick(gdf.columns, name_field, _NAME_FIELDS, path=shown, layer=layer, what="name")
    if nf is None:
        gdf["name"] = gdf["id"]
    else:
        gdf["name"] = gdf[nf].fillna("").astype(str)
    return gdf.reset_index(drop=True), nf


def check_raster(path: str | os.PathLike, *, label: str | None = None,
                 verify: bool = True) -> dict:
    """Open a raster and return its CRS, bounds, nodata and size.

    Parameters
    ----------
    path
        A GeoTIFF (or VRT).
    label
        How messages name it (e.g. ``layers.dem``).
    verify
        Also decode every block of band 1, so that a corrupt tile is reported here,
        naming the block, rather than failing half-way through an analysis.

    Returns
    -------
    dict
        ``crs``, ``bounds`` (in the raster's CRS), ``nodata``, ``width``, ``height``,
        ``dtype``.

    Raises
    ------
    LayerError
        It cannot be opened, has no CRS, or a block cannot be decoded.
    """
    p = check_exists(path)
    shown = label or str(path)
    try:
        with rasterio.open(p) as r:
            info = {"crs": r.crs, "bounds": tuple(r.bounds), "nodata": r.nodata,
                    "width": r.width, "height": r.height, "dtype": r.dtypes[0]}
            if verify:
                _verify_blocks(r, shown, p)
    except LayerError:
        raise
    except Exception as exc:
        raise LayerError(f"{shown}: cannot be opened as a raster ({exc})") from exc
    if info["crs"] is None:
        raise LayerError(f"{shown}: the raster has no CRS; assign one (gdal_edit.py -a_srs "
                         "EPSG:4326) before using it")
    return info


def _verify_blocks(r, shown: str, p: Path) -> None:
    """Decode every block of band 1; raise :class:`LayerError` naming the first bad one."""
    for _, win in r.block_windows(1):
        try:
            r.read(1, window=win)
        except Exception as exc:  # rasterio/GDAL decoding errors
            raise LayerError(
                f"{shown}: {p} is corrupt: the block at row {win.row_off}, column "
                f"{win.col_off} ({win.width}×{win.height} cells) cannot be decoded ({exc}); "
                "re-download or re-export the file (gdal_translate -of GTiff in.tif out.tif "
                "shows the damage)") from exc
