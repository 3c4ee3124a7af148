"""Small fixtures for the map tests, and helpers that read a map page back.

Everything here is built from the bundled YRD layers; what is invented (firms,
service areas, suitability rasters, candidate regions) is labelled synthetic and
exists only to exercise the map's drawing code.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.study import load_study
from geo.webmap import MapData, SuitabilityLayers

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
                             "n_firms": [40, 25],
                             "firms_by_industry": ["microelectronics=30;<b>x</b>=10",
                                                   "fine_chemicals=25"]},
                            geometry=geoms.values,
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
    # stability: share of runs in the top (0 on the left half, rising to 1 on the right)
    stab = np.clip((xx / (w - 1) - 0.5) * 2, 0, 1).astype("float32")
    stab[: h // 10, :] = np.nan
    btif = tmp / "stability.tif"
    with rasterio.open(btif, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs=crs, transform=tf, nodata=np.nan) as dst:
        dst.write(stab, 1)
    cand = gpd.GeoDataFrame(
        {"rank": [1, 2], "area_ha": [900.0, 400.0], "area_mu": [13500.0, 6000.0],
         "mean_score": [0.91, 0.84], "note": ["<script>alert(1)</script>", "ok"]},
        geometry=[shapely.box(x0 + 50_000, y0 - 30_000, x0 + 53_000, y0 - 27_000),
                  shapely.box(x0 + 45_000, y0 - 10_000, x0 + 47_000, y0 - 8_000)],
        crs=crs).to_crs(4326)
    return {"suitability_tif": str(stif), "exclusion_tif": str(etif),
            "stability_tif": str(btif),
            "exclusion_codes": {1: "生态保护红线 red line", 2: "<i>slope</i> > 25°"},
            "candidates": cand,
            "model_card": {"weights": {"slope": 0.3, "roads": 0.5, "<b>x</b>": 0.2},
                           "grid": "1 km (synthetic fixture)"}}


def sourcing_tables_fixture() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-park sourcing summary and chain gaps shaped like geo.sourcing's (synthetic)."""
    parks = pd.DataFrame({"park_id": ["sip", "kunshan"], "n_firms": [76, 40],
                          "median_rate": [0.75, 0.41], "share_ge_40pct": [0.61, 0.5]})
    gaps = pd.DataFrame({"rank": [1, 2, 3, 4], "park_id": ["sip", "sip", "kunshan",
                                                           "(outside parks)"],
                         "input_industry": ["silicon_wafers", "fine_chemicals", "<b>glass</b>",
                                            "battery_cells"],
                         "input_name_zh": ["硅片", "精细化工", "<b>玻璃</b>", "动力电池电芯"],
                         "input_name_en": ["silicon wafers", "fine chemicals", "<b>glass</b>",
                                           "Battery cells"],
                         "n_anchors": [3, 1, 2, 1],
                         "anchor_input_value_myuan": [824.6, 396.0, 120.5, 2865.5],
                         "nearest_supplier_id": ["F0375", "F0270", XSS, ""],
                         "nearest_supplier_park": ["(outside parks)", "caojing", "<i>p</i>",
                                                   ""],
                         "nearest_supplier_km": [138.0, 104.0, np.nan, np.nan]})
    return parks, gaps


def evaluation_fixture() -> pd.DataFrame:
    """Park evaluation rows shaped like geo.parks.evaluate_parks' (synthetic values)."""
    return pd.DataFrame({"park_id": ["sip", "kunshan", "nantong"],
                         "grade": ["A", "<b>B</b>", np.nan],
                         "n_firms": [76, 58, 16], "n_anchors": [3, 2, 0],
                         "dominant_industry": ["microelectronics", "electronic_components",
                                               "biopharma_manufacturing"],
                         "dominant_share": [0.41, 0.36, 0.5],
                         "dominant_lq": [3.11, 3.09, 4.2], "hhi": [0.3238, 0.2348, 0.31],
                         "supply_rate_median": [0.75, 1.0, 0.5586],
                         "supply_rate_p25": [0.5, 0.9, 0.2], "supply_rate_p75": [0.9, 1.0, 0.7],
                         "chain_battery": [0.5, 0.7, 0.1], "chain_electronics": [0.92, 0.92, 0.08],
                         "redline_status": ["pass", "pass", "pass"],
                         "n_graded": [62, 50, 0], "n_not_graded": [14, 8, 16],
                         "investment_myuan_per_mu": [3.62, 3.33, np.nan],
                         "output_myuan_per_mu": [6.75, 12.09, np.nan],
                         "free_land_mu": [284459.8, 13234.0, 9000.0]})


def symbiosis_fixture(firms: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Two symbiosis pairs (lines between fixture firms), one material with markup."""
    a, b, c = firms.geometry.iloc[0], firms.geometry.iloc[1], firms.geometry.iloc[13]
    return gpd.GeoDataFrame({
        "from_firm_id": ["F0000", "F0001"], "from_name": ["甲", XSS],
        "from_industry": ["battery_recycling", "basic_petrochemicals"],
        "from_park": ["sip", "sip"], "material": ["black mass", "<i>steam</i>"],
        "material_zh": ["黑粉", "<i>蒸汽</i>"], "to_firm_id": ["F0001", "F0101"],
        "to_name": ["乙", "丙"], "to_industry": ["cathode_materials", "fine_chemicals"],
        "to_park": ["sip", "snd"], "network_km": [1.2, 14.5], "crow_km": [0.9, 11.0],
        "same_park": [True, False], "chain": ["battery", "chemicals"], "synthetic": True},
        geometry=[shapely.LineString([a, b]), shapely.LineString([b, c])], crs=4326)


def recommendations_fixture(study) -> dict:
    """Ranked sites for one incoming industry, shaped like geo.recommend's tables."""
    parks = study.load("parks")
    rows = []
    for rank, pid in enumerate(["jiaxing", "sip"], start=1):
        p = parks.loc[parks["id"] == pid].geometry.iloc[0].representative_point()
        rows.append({"rank": rank, "site_id": pid, "site_name": pid, "kind": "park",
                     "status": "ok", "score": 0.7 - 0.1 * rank, "supply_rate": 0.75,
                     "reason_en": "<script>x</script> 2 of 3 inputs within 100 km",
                     "reason_zh": "<script>x</script> 3 类投入中 2 类可在 100 公里内采购",
                     "lon": p.x, "lat": p.y})
    # an excluded site (no rank), with the reason
    p = parks.loc[parks["id"] == "snd"].geometry.iloc[0].representative_point()
    rows.append({"rank": pd.NA, "site_id": "snd", "site_name": "snd", "kind": "park",
                 "status": "excluded", "score": np.nan, "supply_rate": 0.75,
                 "admissibility": "taihu_l1 bans <i>cathode</i>",
                 "reason_en": "excluded: inside a zone that bans it",
                 "reason_zh": "排除：位于禁止该行业的限制区内", "lon": p.x, "lat": p.y})
    df = pd.DataFrame(rows)
    df["rank"] = df["rank"].astype("Int64")
    df.attrs.update({"industry": "cathode_materials", "industry_zh": "正极材料",
                     "industry_en": "Cathode materials"})
    return {"cathode_materials": df}


def layout_fixture(study):
    """A small park layout (plots, a facility, a link, a setback) inside Kunshan's park,
    shaped like geo.layout.LayoutResult (synthetic)."""
    from types import SimpleNamespace

    crs = study.metric_crs
    park = study.load("parks").to_crs(crs)
    c = park.loc[park["id"] == "kunshan"].geometry.iloc[0].representative_point()
    boxes = [shapely.box(c.x + i * 300, c.y + j * 300, c.x + i * 300 + 280, c.y + j * 300 + 280)
             for i in range(3) for j in range(2)]
    status = ["free", "incoming", "existing", "facility", "residual", "incoming"]
    plots = gpd.GeoDataFrame({
        "plot_id": [f"P{i}" for i in range(6)], "area_mu": 280 * 280 * 15 / 1e4,
        "status": status, "firm_id": [None, "N1", "F0201", None, None, "<b>N2</b>"],
        "industry": [None, "pcb", "pcb", None, None, "pcb"],
        "facility": [None, None, None, "wastewater", None, None]},
        geometry=boxes, crs=crs).to_crs(4326)
    fac = gpd.GeoDataFrame({"facility": ["wastewater"], "name_zh": ["污水处理厂"],
                            "name_en": ["Wastewater plant"], "plot_id": ["P3"],
                            "n_users": [3], "mean_distance_m": [420.0]},
                           geometry=[boxes[3].centroid], crs=crs).to_crs(4326)
    links = gpd.GeoDataFrame({"from_id": ["N1"], "to_id": ["<b>N2</b>"], "weight": [1.0],
                              "distance_m": [608.0]}, geometry=[shapely.LineString(
        [boxes[1].centroid, boxes[5].centroid])], crs=crs).to_crs(4326)
    setbacks = gpd.GeoDataFrame({"kind": ["polluter"]}, geometry=[boxes[5].buffer(200)],
                                crs=crs).to_crs(4326)
    return SimpleNamespace(plots=plots, facilities=fac, links=links, setbacks=setbacks,
                           assignments=None, roads=None, summary={"park_id": "kunshan"})


def study_with_park_named(tmp: Path, park_id: str, name: str):
    """The bundled study with park ``park_id`` renamed ``name`` (``name``, ``name_zh``
    and ``name_en``): its parks layer copied into ``tmp``, the study file beside it."""
    pk = gpd.read_file(ROOT / "data" / "yrd" / "parks.gpkg")
    assert (pk["park_id"] == park_id).any(), park_id
    for col in ("name", "name_zh", "name_en"):
        pk.loc[pk["park_id"] == park_id, col] = name
    pk.to_file(tmp / "parks.gpkg", driver="GPKG")
    text = study_copy(tmp).read_text(encoding="utf-8")
    text = text.replace(f'"{(ROOT / "data").as_posix()}/yrd/parks.gpkg"',
                        f'"{(tmp / "parks.gpkg").as_posix()}"')
    (tmp / "evil.toml").write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_study(tmp / "evil.toml")


def all_results(tmp: Path, study) -> MapData:
    conf, status = conflicts_fixture(study)
    src_parks, gaps = sourcing_tables_fixture()
    firms = firms_fixture(study)
    return MapData(redline_conflicts=conf, redline_parks=status, firms=firms,
                   sourcing_parks=src_parks, chain_gaps=gaps,
                   park_evaluation=evaluation_fixture(), symbiosis=symbiosis_fixture(firms),
                   recommendations=recommendations_fixture(study),
                   layout=layout_fixture(study), service_areas=service_areas_fixture(study),
                   suitability=SuitabilityLayers(**suitability_fixture(tmp, study)),
                   model_card={"run": ["test fixture <u>"]})


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
