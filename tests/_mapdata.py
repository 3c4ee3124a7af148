"""Small fixtures for the map tests, and helpers that read a map page back.

Everything here is built from the bundled YRD layers; what is invented (firms,
service areas, suitability rasters, candidate regions) is labelled synthetic and
exists only to exercise the map's drawing code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parent.parent
XSS = '<img src=x onerror="window.__pwned=1">'
XSS_LABEL = '<img src=x onerror="window.__pwned=2">港口 `ports` "q" \'s'


def study_copy(tmp: Path, extra: str = "", *, name: str = "yrd.toml") -> Path:
    """The bundled study file rewritten with absolute data paths, plus ``extra`` TOML."""
    text = (ROOT / "layers" / "yrd.toml").read_text(encoding="utf-8")
    text = text.replace('"../data/', f'"{(ROOT / "data").as_posix()}/')
    if re.search(r"^\[map\]", extra, re.M):
        # the test brings its own [map] table: drop the bundled one (up to the next table)
        text = re.sub(r"^\[map\]\n(?:(?!\[)[^\n]*\n|\s*\n|  [^\n]*\n|\][^\n]*\n)*", "",
                      text, flags=re.M)
    p = tmp / name
    p.write_text(text + "\n" + extra, encoding="utf-8")
    return p


def evil_layer_toml() -> str:
    """A layer whose labels (from the study file) carry markup."""
    lab = XSS_LABEL.replace("\\", "\\\\").replace('"', '\\"')
    return f"""
[layers.evil_ports]
path = "{(ROOT / 'data' / 'yrd' / 'base.gpkg').as_posix()}"
layer = "ports"
role = "ports"
id = "locode"
label_zh = "{lab}"
label_en = "{lab}"
"""


def firms_fixture(study) -> gpd.GeoDataFrame:
    """Synthetic firms around the bundled parks; one is named with an XSS payload."""
    parks = study.load("parks")
    rng = np.random.default_rng(7)
    rows = []
    inds = ["microelectronics", "biomedicine", "precision machinery", "<b>chem</b>", "auto parts"]
    for i, (pid, geom) in enumerate(zip(parks["id"], parks.geometry, strict=True)):
        c = geom.representative_point()
        for j in range(12):
            rows.append({"firm_id": f"F{i:02d}{j:02d}", "name": f"合成企业 {pid} {j}",
                         "industry": inds[(i + j) % len(inds)], "park_id": pid,
                         "synthetic": True, "local_supply_rate": 0.4 + 0.04 * j,
                         "geometry": shapely.Point(c.x + rng.normal(0, 0.01),
                                                   c.y + rng.normal(0, 0.01))})
    # The XSS firm stands alone, 0.2° north of Nantong's park, away from every park.
    n = parks.loc[parks["id"] == "nantong"].geometry.iloc[0].representative_point()
    rows.append({"firm_id": "FXSS", "name": XSS, "industry": XSS, "park_id": "nantong",
                 "synthetic": True, "local_supply_rate": np.nan,
                 "geometry": shapely.Point(n.x + 0.15, n.y + 0.2)})
    return gpd.GeoDataFrame(rows, crs=4326)


def conflicts_fixture(study) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Red-line conflict rows shaped like geo.redline's, from real geometry: the part of
    each park within 5 km of a zone (a 5 km buffer, to have something to highlight)."""
    parks = study.load("parks")
    zones = study.load("redlines")
    crs = study.area_crs
    pm = parks.to_crs(crs)
    zm = zones.to_crs(crs)
    rows = []
    for _, p in pm.iterrows():
        for _, z in zm.iterrows():
            part = p.geometry.intersection(z.geometry.buffer(5000))
            if part.is_empty:
                continue
            inside = p.geometry.intersection(z.geometry)
            kind = "overlap" if inside.area > 0 and z["class"] != "restricted" else \
                "restricted" if inside.area > 0 else "buffer"
            rows.append({"park_id": p["id"], "park_name": p["name"], "zone_id": z["id"],
                         "zone_name": z["name"], "zone_class": z["class"], "kind": kind,
                         "overlap_m2": inside.area, "overlap_ha": inside.area / 1e4,
                         "overlap_mu": inside.area * 15 / 1e4,
                         "pct_of_park": 100 * inside.area / p.geometry.area,
                         "min_distance_m": p.geometry.distance(z.geometry),
                         "review": kind == "restricted", "geometry": part})
    conf = gpd.GeoDataFrame(rows, crs=crs).to_crs(4326)
    status = []
    for pid, name in zip(parks["id"], parks["name"], strict=True):
        mine = conf[conf["park_id"] == pid]
        st = "pass" if mine.empty else "review" if mine["review"].all() else "conflict"
        status.append({"park_id": pid, "park_name": name, "status": st,
                       "n_conflicts": len(mine), "overlap_mu_total": mine["overlap_mu"].sum()})
    return conf, pd.DataFrame(status)


def service_areas_fixture(study) -> gpd.GeoDataFrame:
    parks = study.load("parks").to_crs(study.area_crs)
    sel = parks[parks["id"].isin(["sip", "caojing"])]
    geoms = sel.geometry.representative_point().buffer(60_000, 32)
    return gpd.GeoDataFrame({"site_id": sel["id"].values, "name": sel["name"].values,
                             "radius_km": 100.0, "metric": "road", "road_km": [812.5, 640.2],
                             "n_firms": [40, 25]}, geometry=geoms.values,
                            crs=study.area_crs).to_crs(4326)


def suitability_fixture(tmp: Path, study, *, shape: tuple[int, int] = (50, 60)) -> dict:
    """A 60×50 km float32 score grid (synthetic) west of Suzhou in EPSG:4549 with a
    nodata band, an exclusion grid with two reason codes, and two candidate polygons.
    ``shape`` (rows, cols) sets the resolution (the footprint stays the same)."""
    import rasterio
    from affine import Affine

    crs = "EPSG:4549"
    x0, y0 = 480_000.0, 3_480_000.0
    h, w = shape
    res = 60_000.0 / w
    yy, xx = np.mgrid[0:h, 0:w]
    score = (xx / (w - 1)).astype("float32")
    score[: h // 10, :] = -9999.0  # nodata band at the top
    excl = np.zeros((h, w), np.uint8)
    excl[int(0.4 * h):int(0.6 * h), w // 6:w // 3] = 1
    excl[int(0.7 * h):int(0.9 * h), int(2 * w / 3):int(0.92 * w)] = 2
    tf = Affine(res, 0.0, x0, 0.0, -res, y0)
    stif = tmp / "suitability.tif"
    etif = tmp / "exclusion.tif"
    with rasterio.open(stif, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs=crs, transform=tf, nodata=-9999.0) as dst:
        dst.write(score, 1)
    with rasterio.open(etif, "w", driver="GTiff", width=w, height=h, count=1, dtype="uint8",
                       crs=crs, transform=tf, nodata=255) as dst:
        dst.write(excl, 1)
    cand = gpd.GeoDataFrame(
        {"rank": [1, 2], "area_ha": [900.0, 400.0], "area_mu": [13500.0, 6000.0],
         "mean_score": [0.91, 0.84], "note": ["<script>alert(1)</script>", "ok"]},
        geometry=[shapely.box(x0 + 50_000, y0 - 30_000, x0 + 53_000, y0 - 27_000),
                  shapely.box(x0 + 45_000, y0 - 10_000, x0 + 47_000, y0 - 8_000)],
        crs=crs).to_crs(4326)
    return {"suitability_tif": str(stif), "exclusion_tif": str(etif),
            "exclusion_codes": {1: "生态保护红线 red line", 2: "<i>slope</i> > 25°"},
            "candidates": cand,
            "model_card": {"weights": {"slope": 0.3, "roads": 0.5, "<b>x</b>": 0.2},
                           "grid": "1 km (synthetic fixture)"}}


def sourcing_tables_fixture() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-park sourcing summary and chain gaps shaped like geo.sourcing's (synthetic)."""
    parks = pd.DataFrame({"park_id": ["sip", "kunshan"], "n_firms": [76, 40],
                          "median_rate": [0.75, 0.41], "share_ge_40pct": [0.61, 0.5]})
    gaps = pd.DataFrame({"rank": [1, 2, 1], "park_id": ["sip", "sip", "kunshan"],
                         "input_industry": ["silicon_wafers", "fine_chemicals", "<b>glass</b>"],
                         "input_name_zh": ["硅片", "精细化工", "<b>玻璃</b>"],
                         "input_name_en": ["silicon wafers", "fine chemicals", "<b>glass</b>"],
                         "nearest_supplier_km": [138.0, 104.0, np.nan]})
    return parks, gaps


def all_results(tmp: Path, study) -> dict:
    conf, status = conflicts_fixture(study)
    src_parks, gaps = sourcing_tables_fixture()
    return {"redline_conflicts": conf, "redline_parks": status, "firms": firms_fixture(study),
            "sourcing_parks": src_parks, "chain_gaps": gaps,
            "service_areas": service_areas_fixture(study),
            "suitability": suitability_fixture(tmp, study),
            "model_card": {"run": "test fixture <u>"}}


# --- reading a page back -----------------------------------------------------------------

_DEC = json.JSONDecoder()


def geojson_layers(page: str) -> list[dict]:
    """Every FeatureCollection embedded by folium.GeoJson, in page order."""
    out = []
    for mo in re.finditer(r"_add\((\{)", page):
        obj, _ = _DEC.raw_decode(page, mo.start(1))
        if obj.get("type") == "FeatureCollection":
            out.append(obj)
    return out


def cluster_rows(page: str) -> list[list]:
    """The rows of every FastMarkerCluster (firms)."""
    out = []
    for mo in re.finditer(r"var data = (\[)", page):
        obj, _ = _DEC.raw_decode(page, mo.start(1))
        out.extend(obj)
    return out


def strings_in_scripts(page: str) -> list[str]:
    """Every JSON string literal in the page's scripts (decoded), for escaping checks."""
    out = []
    for mo in re.finditer(r'"(?:[^"\\\n]|\\.)*"', page):
        try:
            out.append(json.loads(mo.group(0)))
        except json.JSONDecodeError:
            continue
    return out


def features_by(layers: list[dict], pred) -> list[dict]:
    return [f for fc in layers for f in fc["features"] if pred(f)]
