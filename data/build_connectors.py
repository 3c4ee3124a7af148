"""Build ``data/yrd/connectors.gpkg``: hand-added river crossings for the YRD study.

The bundled highways (scgraph's simplified OSM main roads) stop at the Yangtze, so
Chongming, Qidong and Jingjiang are cut off from the south bank. Each crossing below
is a straight-ish line digitised by hand from public facts (route descriptions and
published lengths); its two ends sit on road end points of ``base.gpkg highways`` on
the correct bank (checked against ``base.gpkg districts``). ``join_connectors`` in
``geo/network/build.py`` snaps each end to the nearest road end.

Run from the repository root: ``.venv/bin/python data/build_connectors.py``.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString

OUT = Path(__file__).parent / "yrd" / "connectors.gpkg"

# (name_zh, name_en, kind, published length km, source, [(lon, lat) WGS84 ...])
CROSSINGS = [
    ("上海长江隧道", "Shanghai Yangtze River Tunnel (G40), Wuhaogou - Changxing",
     "tunnel", 8.95, "Shanghai Yangtze River Tunnel-Bridge, opened 2009-10-31: tunnel "
     "8.95 km from Wuhaogou (Pudong) to Changxing Island (zh.wikipedia 上海长江隧桥)",
     [(121.588, 31.355), (121.714, 31.391)]),
    ("上海长江大桥", "Shanghai Yangtze River Bridge (G40), Changxing - Chenjia",
     "bridge", 16.63, "Shanghai Yangtze River Bridge, opened 2009-10-31: 16.63 km from "
     "Changxing Island to Chenjia, Chongming (zh.wikipedia 上海长江大桥)",
     [(121.714, 31.391), (121.832, 31.489)]),
    ("崇启大桥", "Chongqi Bridge (G40), Chongming Chenjia - Qidong",
     "bridge", 51.76, "Chongqi Yangtze River Bridge, opened 2011-12-24: G40 Chongming "
     "section plus the 6.8 km bridge to Qidong, 51.76 km in all (zh.wikipedia 崇启大桥); "
     "the line carries the G40 across Chongming, which the bundled roads lack",
     [(121.832, 31.489), (121.92, 31.62), (121.96, 31.69), (121.907, 31.747)]),
    ("江阴长江公路大桥", "Jiangyin Yangtze River Bridge (G2), Jiangyin - Jingjiang",
     "bridge", 3.07, "Jiangyin Yangtze River Bridge, opened 1999-09-28: 3.07 km, main "
     "span 1385 m (zh.wikipedia 江阴长江公路大桥)",
     [(120.269, 31.924), (120.262, 31.959)]),
]


#: Every line gets this many vertices: ``join_connectors`` (geo/network/build.py) builds
#: all connector lines in one ``shapely.linestrings`` call, which needs equal lengths.
N_VERTICES = 4


def _even(xy: list[tuple[float, float]]) -> LineString:
    """The line through ``xy`` resampled to ``N_VERTICES`` evenly spaced vertices."""
    line = LineString(xy)
    return LineString([line.interpolate(i / (N_VERTICES - 1), normalized=True)
                       for i in range(N_VERTICES)]) if len(xy) != N_VERTICES else line


def build() -> gpd.GeoDataFrame:
    """The connector lines (WGS84), one row per crossing."""
    rows = [{"name_zh": zh, "name_en": en, "kind": kind, "length_km_published": km,
             "penalty_min": 0.0, "source": src, "note": "hand-added connector",
             "geometry": _even(xy)} for zh, en, kind, km, src, xy in CROSSINGS]
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


if __name__ == "__main__":
    tmp = OUT.with_suffix(".tmp.gpkg")
    build().to_file(tmp, layer="connectors", driver="GPKG")
    tmp.replace(OUT)
    print(f"wrote {OUT}")
