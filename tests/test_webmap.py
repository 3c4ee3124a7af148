"""geo.webmap: structure of the generated maps (layers, features, escaping, offline
assets, GCJ-02 display shift, simplification, size budget, rasters, CLI).

The browser half (load, click, toggle, XSS in a real page) is tests/test_browser.py.
"""

from __future__ import annotations

import html
import json
import re
import tempfile
import warnings
import zlib
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _mapdata import (
    ROOT,
    XSS,
    XSS_LABEL,
    all_results,
    cluster_rows,
    conflicts_fixture,
    evil_layer_toml,
    features_by,
    geojson_layers,
    strings_in_scripts,
    study_copy,
    study_with_park_named,
    suitability_fixture,
)
from pyproj import Geod

from geo import webmap
from geo.crs import wgs84_to_gcj02
from geo.errors import InputError, OutputError, StudyError
from geo.study import load_study
from geo.webmap import MapData, SuitabilityLayers

pytestmark = pytest.mark.filterwarnings("ignore::geo.crs.ZoneWarning")


def _quiet_build(study, results=None, **kw):
    """The page and info of :func:`webmap.write_map`, warnings silenced."""
    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as tmp:
        warnings.simplefilter("ignore")
        out = Path(tmp) / "map.html"
        info = webmap.write_map(study, out, results, **kw)
        return out.read_text(encoding="utf-8"), info


@pytest.fixture(scope="module")
def yrd_page(yrd_study, tmp_path_factory):
    """The bundled offline map with the real red-line gate, as `parksite map` writes it."""
    from geo.redline import check_study

    red = check_study(yrd_study)
    out = tmp_path_factory.mktemp("map") / "yrd.html"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = webmap.write_map(yrd_study, out, MapData(redline_conflicts=red.conflicts,
                                                        redline_parks=red.parks))
    return out.read_text(encoding="utf-8"), info


@pytest.fixture(scope="module")
def full(yrd_study, tmp_path_factory):
    """The bundled study with every kind of result (fixtures) drawn on it."""
    tmp = tmp_path_factory.mktemp("full")
    results = all_results(tmp, yrd_study)
    page, info = _quiet_build(yrd_study, results)
    return page, info, results


def _all_specs(study):
    return list(study.layers.values())


# --- the bundled map ---------------------------------------------------------------------

def test_bundled_map_has_every_layer_and_stays_under_budget(yrd_page, yrd_study):
    page, info = yrd_page
    labels = [webmap._label(s, "zh") for s in _all_specs(yrd_study)]
    for lab in labels:
        assert lab in info["layers"], f"{lab} missing from the layer control"
    assert info["bytes"] == len(page.encode("utf-8"))
    assert info["bytes"] < 10e6, f"bundled map is {info['bytes'] / 1e6:.1f} MB"
    assert info["warnings"] == []
    # every layer name reaches the layer control (escaped) exactly once
    control = re.search(r"overlays :\s*\{(.*?)\}", page, re.S).group(1)
    names = [json.loads(k) for k in re.findall(r'^\s*("(?:[^"\\]|\\.)*")\s*:', control, re.M)]
    assert [html.unescape(n) for n in names] == info["layers"]


def test_bundled_map_is_self_contained(yrd_page):
    page, _ = yrd_page
    # no external script/style/image and no CDN left over from Folium's defaults
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=", page)
    for cdn in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrap", "font-awesome",
                "fontawesome", "awesome-markers", "googleapis", "unpkg"):
        assert cdn not in page.lower(), cdn
    # the inlined assets are the locked versions, with their images as data URIs
    assert 't.version="1.9.4"' in page
    assert "MarkerClusterGroup" in page
    assert "url(data:image/png;base64," in page
    assert "sourceMappingURL" not in page


def test_bundled_map_draws_every_feature(yrd_page, yrd_study):
    page, info = yrd_page
    # the DEM is an elevation tint, off when the map opens
    dem = [s for s in yrd_study.layers.values() if s.is_raster]
    assert len(re.findall(r'L\.imageOverlay\(\s*"data:image/png', page)) == len(dem)
    layers = geojson_layers(page)
    # 10 parks, each with its Chinese name in the popup and the illustrative note
    pk = yrd_study.load("parks")
    park_fc = [fc for fc in layers if len(fc["features"]) == len(pk)
               and all("id" in f["properties"] for f in fc["features"])]
    assert len(park_fc) == 1, "one park layer"
    ids = [f["properties"]["id"] for f in park_fc[0]["features"]]
    assert sorted(ids) == sorted(pk["id"])
    for f in park_fc[0]["features"]:
        zh = pk.loc[pk["id"] == f["properties"]["id"], "name_zh"].iloc[0]
        assert html.escape(zh) in f["properties"]["p"]
        assert "示意范围" in f["properties"]["p"]
    # red lines: one feature per zone; the approximate ones say so
    rl = yrd_study.load("redlines")
    zone_fc = [fc for fc in layers if len(fc["features"]) == len(rl)]
    assert zone_fc
    n_approx = sum("近似范围" in f["properties"]["p"] for f in zone_fc[0]["features"])
    assert n_approx == int(rl["approximate"].map(webmap._truthy).sum()) > 0
    # districts and ports: one feature each
    assert any(len(fc["features"]) == len(yrd_study.load("districts")) for fc in layers)
    assert any(len(fc["features"]) == len(yrd_study.load("ports")) for fc in layers)
    # the 22,656 highway edges are merged into runs and gathered into at most 8 × 8
    # grid-cell features (not one 44k-vertex feature), each with bounds inside its cell
    assert len(yrd_study.load("highways")) > 20_000
    hw = [fc for fc in layers if 8 <= len(fc["features"]) <= 64
          and all(f["geometry"]["type"] == "MultiLineString" for f in fc["features"])
          and sum(len(f["geometry"]["coordinates"]) for f in fc["features"]) > 1000]
    assert hw
    feats = hw[0]["features"]
    biggest = max(sum(len(ln) for ln in f["geometry"]["coordinates"]) for f in feats)
    total = sum(sum(len(ln) for ln in f["geometry"]["coordinates"]) for f in feats)
    assert biggest < total / 4  # no feature carries most of the network
    # the dense line layers are drawn on canvas, simplified per zoom
    assert page.count("renderer: parksiteCanvas(") >= 3 or \
        page.count('"renderer": parksiteCanvas(') >= 3
    # firms of the study, if any, all reach the cluster layer
    if yrd_study.has_role("firms"):
        assert len(cluster_rows(page)) == len(yrd_study.load_role("firms"))


def test_model_card(yrd_page, yrd_study):
    page, _ = yrd_page
    card = next(s for s in strings_in_scripts(page) if isinstance(s, str) and "模型说明" in s)
    assert html.escape(yrd_study.title) in card
    assert "parksite 0" in card or f"parksite {webmap.__version__}" in card
    assert "UTC" in card and "红线规则" in card
    assert "1000 m" in card  # [redlines] buffer_m
    for spec in yrd_study.layers.values():
        assert html.escape(spec.path.name) in card


# --- results -----------------------------------------------------------------------------

def test_every_result_is_drawn(full, yrd_study):
    page, info, results = full
    for key in ("conflicts", "service_areas", "suitability", "exclusions"):
        assert webmap._T[key][0] in info["layers"], key
    # candidate regions: the top five in a layer of their own (on at opening)
    assert any(lab.startswith("候选区域（前 ") for lab in info["layers"])
    layers = geojson_layers(page)
    conf = results.redline_conflicts
    cf = features_by(layers, lambda f: "红线冲突" in f["properties"].get("p", ""))
    assert len(cf) == len(conf) > 0
    # parks take their status colour from redline_parks
    status = results.redline_parks.set_index("park_id")["status"]
    assert "conflict" in set(status) or "review" in set(status)
    assert page.count('"fillColor": "' + webmap._STATUS_COLOUR["review"]) >= 1
    # firms from results replace the study's firms, with their synthetic label
    rows = cluster_rows(page)
    assert len(rows) == len(results.firms)
    assert all(r[2]["syn"] == 1 for r in rows)
    # suitability and exclusion images are inline PNGs
    assert page.count("data:image/png;base64,") >= 2
    # model card carries the weights given by results
    card = next(s for s in strings_in_scripts(page) if isinstance(s, str) and "模型说明" in s)
    assert "slope" in card and "&lt;b&gt;x&lt;/b&gt;" in card and "<b>x</b>" not in card


def test_park_popups_carry_sourcing_and_chain_gaps(full):
    page, _, _ = full
    pops = {f["properties"]["id"]: f["properties"]["p"] for fc in geojson_layers(page)
            for f in fc["features"] if "id" in f["properties"]}
    # industries by their chain-map names in the map's language, with the quotient
    assert "亩均评级" in pops["sip"] and "微电子（集成电路） (LQ 3.11)" in pops["sip"]
    assert "&lt;b&gt;B&lt;/b&gt;" in pops["kunshan"]
    assert "本地配套率中位数" in pops["sip"] and "75 %" in pops["sip"]
    assert "补链目标" in pops["sip"] and "硅片 (138 km)" in pops["sip"]
    assert "&lt;b&gt;玻璃&lt;/b&gt;" in pops["kunshan"] and "<b>玻璃" not in pops["kunshan"]
    assert "补链目标" not in pops["nantong"]


def test_suitability_model_card_and_coded_labels(yrd_study, tmp_path):
    suit = suitability_fixture(tmp_path, yrd_study)
    suit["exclusion_codes"] = {0: {"zh": "参与评价", "en": "scored"},
                               1: {"zh": "研究区外", "en": "outside the study area"},
                               2: {"zh": "水域", "en": "water (sea, lakes)"}}
    suit["model_card"] = {
        "criteria": [{"name": "highway", "label_zh": "距公路", "label_en": "Highway distance",
                      "weight": 0.6, "transform_text": "linear 1→0 from 0 to 5000"},
                     {"name": "slope", "label_zh": "坡度", "label_en": "Slope", "weight": 0.4}],
        "weights": {"method": "ahp", "values": {"highway": 0.6, "slope": 0.4},
                    "ahp": {"cr": 0.0123}},
        "aggregation": {"method": "wlc"}, "candidates": {"count": 2, "min_area_mu": 1500},
        "stability": {"runs": 200, "perturbation": 0.2}, "timings_s": {"total_s": 9.0},
        "industry": None}
    for lang, water, hw in (("zh", "水域", "距公路"), ("en", "water (sea, lakes)",
                                                     "Highway distance")):
        page, _ = _quiet_build(yrd_study, MapData(suitability=SuitabilityLayers(**suit)), lang=lang)
        strings = [s for s in strings_in_scripts(page) if isinstance(s, str)]
        legend = next(s for s in strings if "ps-lg" in s and water in s)
        assert "研究区外" not in legend and "outside the study" not in legend  # left clear
        card = next(s for s in strings if "ps-card-b" in s or "<details>" in s)
        assert hw in card and "0.600" in card and "CR = 0.012" in card and "wlc" in card
        assert "200 × ±20 %" in card and "total_s" not in card
        assert "<th>industry</th>" not in card  # None values are left out


@pytest.mark.parametrize("key", ["redline_conflicts", "firms", "service_areas", "suitability",
                                 "model_card", "symbiosis", "recommendations", "layout",
                                 "park_evaluation"])
def test_each_result_alone(key, yrd_study, tmp_path):
    results = replace(all_results(tmp_path, yrd_study), model_card={"note": ["only a card"]})
    page, info = _quiet_build(yrd_study, results.only(key))
    base = len(_all_specs(yrd_study))
    extra = {"redline_conflicts": 1, "firms": 0 if yrd_study.has_role("firms") else 1,
             "service_areas": 1, "suitability": 4, "model_card": 0, "symbiosis": 1,
             "recommendations": 1, "layout": 1, "park_evaluation": 2}[key]
    assert len(info["layers"]) == base + extra
    assert "</html>" in page


def test_symbiosis_recommendations_and_layout(full):
    page, info, results = full
    for label in ("产业共生（合成数据）", "选址推荐：正极材料", "园区布局 · kunshan"):
        assert label in info["layers"]
    layers = geojson_layers(page)
    sym = features_by(layers, lambda f: " → " in f["properties"].get("t", "")
                      and "p" in f["properties"])  # layout links have a tooltip only
    assert len(sym) == len(results.symbiosis)
    rec = features_by(layers, lambda f: f["properties"].get("t", "").startswith("#"))
    assert {f["properties"]["t"].split()[0] for f in rec} >= {"#1", "#2"}
    plots = features_by(layers, lambda f: re.match(r"P\d+ · ", f["properties"].get("t", "")))
    assert len(plots) == len(results.layout.plots)
    assert any("污水处理厂" in f["properties"].get("t", "") for fc in layers
               for f in fc["features"])


def test_empty_results_are_fine(yrd_study):
    page, info = _quiet_build(yrd_study, MapData(redline_conflicts=conflicts_fixture(
        yrd_study)[0].iloc[0:0], service_areas=None, suitability=SuitabilityLayers()))
    assert webmap._T["conflicts"][0] not in info["layers"]


def _overlays(page: str) -> dict[str, tuple[str, str]]:
    """Image overlays by class name: (data URI, bounds JSON)."""
    found = re.findall(r'L\.imageOverlay\(\s*"(data:image/png;base64,[^"]+)",\s*'
                       r'(\[\[.*?\]\]),\s*\{[^}]*?"className": "([\w-]+)"', page, re.S)
    return {cls: (uri, b) for uri, b, cls in found}


def _png_size_and_alpha(data_uri: str) -> tuple[int, int, np.ndarray]:
    import base64

    raw = base64.b64decode(data_uri.split(",", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")
    i = raw.index(b"IDAT") - 4
    n = int.from_bytes(raw[i:i + 4], "big")
    pix = np.frombuffer(zlib.decompress(raw[i + 8:i + 8 + n]), np.uint8).reshape(h, w * 4 + 1)
    return w, h, pix[:, 1:].reshape(h, w, 4)[..., 3]


def test_suitability_overlay_is_bounded_reprojected_and_transparent(yrd_study, tmp_path):
    suit = suitability_fixture(tmp_path, yrd_study)
    page, _ = _quiet_build(yrd_study, MapData(suitability=SuitabilityLayers(**suit)))
    overlays = _overlays(page)
    assert set(overlays) == {"ps-dem", "ps-landuse", "ps-suitability", "ps-exclusions",
                             "ps-stability"}
    uri, bounds = overlays["ps-suitability"]
    w, h, alpha = _png_size_and_alpha(uri)
    assert max(w, h) <= 1024
    # the top 5 rows of the grid are nodata: transparent; the rest opaque
    assert (alpha[0] == 0).all() and (alpha[h // 2] == 255).any()
    # the image covers the GeoTIFF's footprint in WGS84 (EPSG:4549 → 4326)
    import rasterio
    from rasterio.warp import transform_bounds

    with rasterio.open(suit["suitability_tif"]) as src:
        west, south, east, north = transform_bounds(src.crs, 4326, *src.bounds)
    (s, wv), (n, e) = json.loads(bounds)
    for got, want in ((s, south), (wv, west), (n, north), (e, east)):
        assert abs(got - want) < 0.01
    # exclusions: code 0 transparent, coded cells opaque; labels escaped in the legend
    _, _, ex_alpha = _png_size_and_alpha(overlays["ps-exclusions"][0])
    assert 0 < (ex_alpha == 255).mean() < 0.2
    legend = [s for s in strings_in_scripts(page) if isinstance(s, str) and "slope" in s]
    assert legend and all("<i>slope" not in s for s in legend)
    assert any("&lt;i&gt;slope&lt;/i&gt;" in s for s in legend)


def test_max_image_px_caps_the_image(yrd_study, tmp_path):
    suit = suitability_fixture(tmp_path, yrd_study, shape=(200, 240))
    p = study_copy(tmp_path, "[map]\nmax_image_px = 64\n")
    study = load_study(p)
    page, _ = _quiet_build(study, MapData(suitability=SuitabilityLayers(**suit)))
    for uri, _ in _overlays(page).values():
        w, h, _ = _png_size_and_alpha(uri)
        assert max(w, h) <= 64
    w, h, _ = _png_size_and_alpha(_overlays(page)["ps-suitability"][0])
    assert max(w, h) == 64


def test_missing_raster_is_an_input_error(yrd_study, tmp_path):
    with pytest.raises(InputError, match="suitability.suitability_tif.*not found"):
        _quiet_build(yrd_study, MapData(suitability=SuitabilityLayers(
            suitability_tif=str(tmp_path / "no.tif"))))


# --- escaping ----------------------------------------------------------------------------

def test_every_data_string_is_escaped(tmp_path):
    study = load_study(study_copy(tmp_path, evil_layer_toml()))
    results = all_results(tmp_path, study)
    page, info = _quiet_build(study, results)
    assert XSS_LABEL in info["layers"]  # the plain name is reported…
    # …but nowhere in the page does the markup survive: not in the raw HTML…
    assert "<img src=x" not in page
    assert "<b>chem</b>" not in page and "<script>alert(1)" not in page
    # …nor in any string the page's scripts hand to the DOM (popups, tooltips, legends,
    # layer names, the model card, firm rows)
    strings = [s for s in strings_in_scripts(page) if isinstance(s, str)]
    for bad in ("<img src=x", "<b>chem</b>", "<script>alert", "<i>slope</i>", "<u>",
                "<i>steam", "<i>蒸汽", "<script>x", "<b>N2", "<b>B</b>"):
        assert not any(bad in s for s in strings), bad
    esc = html.escape(XSS)
    assert any(esc in s for s in strings)  # the firm's name, escaped, in its row
    rows = cluster_rows(page)
    assert any(r[2]["name"] == esc and r[2]["ind"] == esc for r in rows)
    assert any(html.escape(XSS_LABEL) in s for s in strings)


def test_esc_covers_quotes():
    assert webmap._esc('a"b\'c<d>&') == "a&quot;b&#x27;c&lt;d&gt;&amp;"
    assert webmap._esc(None) == "" and webmap._esc(float("nan")) == ""


# --- languages ---------------------------------------------------------------------------

def test_english_labels(yrd_study):
    page, info = _quiet_build(yrd_study, lang="en")
    assert "Parks (illustrative outlines)" in info["layers"]
    assert "Ecological red lines (approximate)" in info["layers"]
    strings = [s for s in strings_in_scripts(page) if isinstance(s, str)]
    assert any("Model card" in s for s in strings)
    assert any("Suzhou Industrial Park" in s and "illustrative outline" in s for s in strings)
    assert not any("模型说明" in s for s in strings)


# --- GCJ-02 display shift ----------------------------------------------------------------

def _park_coords(page: str) -> dict[str, np.ndarray]:
    out = {}
    for fc in geojson_layers(page):
        for f in fc["features"]:
            if "id" in f["properties"] and "ps-park" in page:
                if f["geometry"]["type"] in ("Polygon", "MultiPolygon"):
                    out.setdefault(f["properties"]["id"], np.asarray(
                        shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))))
    return out


def test_amap_shifts_overlays_by_the_gcj02_offset(yrd_study):
    parks_before = yrd_study.load("parks").geometry.copy()
    page_w, _ = _quiet_build(yrd_study, basemap="none")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        page_g, info = _quiet_build(yrd_study, basemap="amap", offline=False)
    del rec
    w = _park_coords(page_w)
    g = _park_coords(page_g)
    assert set(w) == set(g) == set(yrd_study.load("parks")["id"])
    geod = Geod(ellps="WGS84")
    for pid in w:
        a, b = w[pid], g[pid]
        assert a.shape == b.shape
        ex, ey = wgs84_to_gcj02(a[:, 0], a[:, 1])
        # the displayed vertex is the GCJ-02 image of the WGS84 vertex (to the 5-decimal
        # rounding of both, about 1 m)
        assert np.abs(b[:, 0] - ex).max() < 2.1e-5 and np.abs(b[:, 1] - ey).max() < 2.1e-5
        _, _, dist = geod.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
        # in the YRD the offset is a few hundred metres, to the east-south-east
        assert 300 < dist.min() and dist.max() < 700, (pid, dist.min(), dist.max())
        assert (b[:, 0] > a[:, 0]).all()
    # the analysis data are untouched
    assert yrd_study.load("parks").geometry.geom_equals_exact(parks_before, 0).all()
    # the ports (points) and the firms (cluster rows) move too
    assert cluster_rows(page_w) and cluster_rows(page_g) if yrd_study.has_role("firms") \
        else True
    if yrd_study.has_role("firms"):
        rw = np.array([r[:2] for r in cluster_rows(page_w)])
        rg = np.array([r[:2] for r in cluster_rows(page_g)])
        ex, ey = wgs84_to_gcj02(rw[:, 1], rw[:, 0])
        assert np.abs(rg[:, 1] - ex).max() < 2e-5 and np.abs(rg[:, 0] - ey).max() < 2e-5
    assert "autonavi" in page_g and info["basemap"] == "amap"


def test_osm_and_tianditu_are_not_shifted(yrd_study):
    page_w, _ = _quiet_build(yrd_study, basemap="none")
    page_o, _ = _quiet_build(yrd_study, basemap="osm", offline=False)
    page_t, _ = _quiet_build(yrd_study, basemap="tianditu", tianditu_key="KEY123",
                             offline=False)
    w, o, t = _park_coords(page_w), _park_coords(page_o), _park_coords(page_t)
    for pid in w:
        assert np.array_equal(w[pid], o[pid]) and np.array_equal(w[pid], t[pid])
    assert "tile.openstreetmap.org" in page_o
    assert "tk=KEY123" in page_t and "tianditu.gov.cn" in page_t


def test_tianditu_needs_a_key(yrd_study, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(InputError, match="tianditu needs a key"):
        _quiet_build(yrd_study, basemap="tianditu")


def test_web_tiles_in_offline_mode_warn(yrd_study):
    with pytest.warns(UserWarning, match="loads its tiles from the internet"):
        webmap.build_map(yrd_study, basemap="osm")


def test_local_tile_folder_is_relative_to_the_map(yrd_study, tmp_path):
    tiles = tmp_path / "tiles" / "8" / "214"
    tiles.mkdir(parents=True)
    (tiles / "105.png").write_bytes(b"")
    out = tmp_path / "maps" / "m.html"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        webmap.write_map(yrd_study, out, tiles=str(tmp_path / "tiles"))
    page = out.read_text(encoding="utf-8")
    assert '"../tiles/{z}/{x}/{y}.png"' in page
    assert "openstreetmap" not in page
    with pytest.raises(InputError, match="neither a tile folder nor a URL template"):
        _quiet_build(yrd_study, tiles=str(tmp_path / "nothing"))


# --- display geometry --------------------------------------------------------------------

def test_simplification_stays_within_tolerance(yrd_study):
    page, _ = _quiet_build(yrd_study)
    d = yrd_study.load("districts")
    fc = next(fc for fc in geojson_layers(page) if len(fc["features"]) == len(d))
    shown = gpd.GeoSeries([shapely.geometry.shape(f["geometry"]) for f in fc["features"]],
                          crs=4326).to_crs(yrd_study.metric_crs)
    orig = d.geometry.to_crs(yrd_study.metric_crs).reset_index(drop=True)
    haus = shapely.hausdorff_distance(np.asarray(shown.values), np.asarray(orig.values))
    # GEOS's topology-preserving simplifier keeps rings valid and can overshoot the
    # tolerance a little (31.7 m at 25 m on one district); districts are context, drawn
    # COARSE times coarser than [map] simplify_m and with 4 decimals (~10 m)
    tol = webmap.DEFAULTS["simplify_m"] * webmap.COARSE
    assert np.median(haus) <= tol + 15
    assert haus.max() <= 1.5 * tol
    assert shapely.get_num_coordinates(np.asarray(shown.values)).sum() < \
        shapely.get_num_coordinates(np.asarray(orig.values)).sum()
    # coordinates are rounded to 4 decimals (context layers)
    c = shapely.get_coordinates(np.asarray(gpd.GeoSeries(
        [shapely.geometry.shape(f["geometry"]) for f in fc["features"]]).values))
    assert np.allclose(c, np.round(c, 4), atol=1e-9, rtol=0)
    assert not np.allclose(c, np.round(c, 3), atol=1e-9, rtol=0)


def test_size_budget_warns(tmp_path):
    study = load_study(study_copy(tmp_path, "[map]\nsize_budget_mb = 0.5\n"))
    with pytest.warns(webmap.MapSizeWarning, match=r"over its 0.5 MB budget"):
        webmap.build_map(study)
    out = tmp_path / "m.html"
    with pytest.warns(webmap.MapSizeWarning):
        info = webmap.write_map(study, out)
    assert info["warnings"] and out.exists()


def test_hidden_layers_start_off(tmp_path):
    study = load_study(study_copy(tmp_path, '[map]\nhidden = ["highways", "conflicts"]\n'))
    page, info = _quiet_build(study)
    hw = webmap._label(study.layers["highways"], "zh")
    assert hw in info["layers"]
    # a hidden FeatureGroup is created but not added to the map; at opening only the
    # decision set (study boundary, red lines, parks, top candidates) is added
    groups = re.findall(r"var (feature_group_\w+) = L\.featureGroup\(", page)
    added = set(re.findall(r"(feature_group_\w+)\.addTo\(", page))
    assert len(groups) == len(info["layers"]) and len(added) == len(info["opening"])
    assert set(info["opening"]) == {"study_area", "redlines", "parks"}
    assert _group_var(page, hw) not in added
    hidden = load_study(study_copy(tmp_path, '[map]\nhidden = ["redlines"]\n', name="h.toml"))
    assert "redlines" not in _quiet_build(hidden)[1]["opening"]


def _group_var(page: str, label: str) -> str:
    """The JS name of the layer-control group shown as ``label``."""
    control = re.search(r"overlays :\s*\{(.*?)\}", page, re.S).group(1)
    pairs = re.findall(r'^\s*("(?:[^"\\]|\\.)*")\s*:\s*(\w+)', control, re.M)
    return {html.unescape(json.loads(k)): v for k, v in pairs}[label]


# --- offline assets ----------------------------------------------------------------------

def test_asset_versions_match_the_lock():
    lock = json.loads((ROOT / "tools" / "assets" / "package-lock.json").read_text())
    pk = lock["packages"]
    assert pk["node_modules/leaflet"]["version"] == webmap.LEAFLET_VERSION
    assert pk["node_modules/leaflet.markercluster"]["version"] == webmap.MARKERCLUSTER_VERSION
    man = json.loads((webmap.VENDOR / "MANIFEST.json").read_text())
    assert man["packages"]["leaflet"]["version"] == webmap.LEAFLET_VERSION
    assert webmap.asset_status()["ok"]


def test_missing_assets_say_run_make_assets(yrd_study, tmp_path, monkeypatch):
    monkeypatch.setattr(webmap._assets, "VENDOR", tmp_path / "vendor")
    with pytest.raises(OutputError, match="run make assets"):
        _quiet_build(yrd_study)
    page, _ = _quiet_build(yrd_study, offline=False)  # online maps do not need them
    assert 'src="https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"' in page


def test_offline_guard_catches_external_references():
    with pytest.raises(OutputError, match="external resource"):
        webmap._check_offline('<script src="https://example.org/x.js"></script>')
    with pytest.raises(OutputError, match="external resource"):
        webmap._check_offline("<style>.a{background:url(//example.org/a.png)}</style>")
    webmap._check_offline('<a href="https://leafletjs.com">Leaflet</a>')  # a link is fine


def test_png_encoder_roundtrip():
    rgba = np.arange(3 * 5 * 4, dtype=np.uint8).reshape(3, 5, 4)
    png = webmap._png(rgba)
    import base64

    w, h, alpha = _png_size_and_alpha("x," + base64.b64encode(png).decode())
    assert (w, h) == (5, 3) and np.array_equal(alpha, rgba[..., 3])


# --- output and settings -----------------------------------------------------------------

def test_write_map_is_atomic_and_checks_the_name(yrd_study, tmp_path, monkeypatch):
    out = tmp_path / "m.html"
    out.write_text("previous good map", encoding="utf-8")
    with pytest.raises(OutputError, match="ending in .html"):
        webmap.write_map(yrd_study, tmp_path / "m.txt")

    def boom(*a, **k):
        raise InputError("simulated failure while drawing")

    monkeypatch.setattr(webmap._compose, "_draw_parks", boom)
    with pytest.raises(InputError, match="simulated"):
        webmap.write_map(yrd_study, out)
    assert out.read_text(encoding="utf-8") == "previous good map"
    assert not list(tmp_path.glob(".m.html*"))


@pytest.mark.parametrize("extra, match", [
    ("simplify_m = -5", r"map\.simplify_m: must be a number"),
    ("digits = 2.5", r"map\.digits: must be a whole number"),
    ('basemap = "google"', r"map\.basemap: 'google' is not one of"),
    ('lang = "fr"', r"map\.lang"),
    ('tiles_coords = "bd09"', r"map\.tiles_coords"),
    ('hidden = ["highway"]', r"map\.hidden: no layer 'highway'; did you mean 'highways'"),
    ("simplfy_m = 10", r"map\.simplfy_m: unknown key; did you mean 'simplify_m'"),
    ("sources = 3", r"map\.sources: must be a list of texts"),
])
def test_map_section_is_validated(tmp_path, extra, match):
    with pytest.raises(StudyError, match=match):
        load_study(study_copy(tmp_path, f"[map]\n{extra}\n"))


def test_map_section_sets_defaults(tmp_path):
    study = load_study(study_copy(tmp_path, '[map]\nlang = "en"\nsimplify_m = 0\n'
                                            'title = "Test <title>"\n'))
    page, info = _quiet_build(study)
    assert info["lang"] == "en"
    assert "<title>Test &lt;title&gt;</title>" in page
    assert "<title>Test <title>" not in page


# --- CLI -----------------------------------------------------------------------------------

def test_cli_map(tmp_path):
    from click.testing import CliRunner

    from geo.cli import main

    out = tmp_path / "yrd_en.html"
    r = CliRunner().invoke(main, ["map", str(ROOT / "layers" / "yrd.toml"), "--lang", "en",
                                  "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert str(out) in r.output and "layers" in r.output and "MB" in r.output
    assert out.exists() and "Ecological red lines" in out.read_text(encoding="utf-8")
    r = CliRunner().invoke(main, ["map", str(ROOT / "layers" / "yrd.toml"), "--basemap",
                                  "tianditu", "--out", str(tmp_path / "t.html")],
                           env={"TIANDITU_KEY": ""})
    assert r.exit_code == 2 and "needs a key" in r.output
    assert not (tmp_path / "t.html").exists()
    r = CliRunner().invoke(main, ["map", str(tmp_path / "nope.toml")])
    assert r.exit_code == 2 and "not found" in r.output


def test_fetch_assets_is_idempotent_and_the_copies_match_the_manifest():
    import hashlib
    import subprocess

    for _ in range(2):  # the second run (at least) finds everything in place
        r = subprocess.run(["bash", str(ROOT / "tools" / "fetch_assets.sh")], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
    assert "up to date" in r.stdout
    man = json.loads((webmap.VENDOR / "MANIFEST.json").read_text())
    assert set(man["packages"]) == {"leaflet", "leaflet.markercluster"}
    for rel, meta in man["files"].items():
        data = (webmap.VENDOR / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == meta["sha256"], rel
    assert {"leaflet/LICENSE", "leaflet.markercluster/MIT-LICENCE.txt"} <= set(man["files"])


def test_a_minimal_study_maps(tmp_path):
    """A study with only parks and red lines (no boundary, water, roads, firms)."""
    data = (ROOT / "data" / "yrd").as_posix()
    p = tmp_path / "mini.toml"
    p.write_text(f"""
[study]
name = "mini"
title = "Mini <study>"

[layers.parks]
path = "{data}/parks.gpkg"
role = "parks"
id = "park_id"

[layers.zones]
path = "{data}/redlines.gpkg"
role = "redlines"
id = "zone_id"
""", encoding="utf-8")
    study = load_study(p)
    out = tmp_path / "mini.html"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = webmap.write_map(study, out, lang="en")
    assert info["layers"] == ["zones", "parks"]  # no labels: the keys, red lines below parks
    page = out.read_text(encoding="utf-8")
    assert "<title>Mini &lt;study&gt;</title>" in page
    assert len(geojson_layers(page)) == 2


# --- sourcing, park evaluation, recommendations, layout, stability (issues 3, 4, 6) ------

def _script_string(page: str, needle: str) -> str:
    return next(s for s in strings_in_scripts(page) if isinstance(s, str) and needle in s)


def test_firms_are_sized_by_local_supply_rate(full):
    page, _, results = full
    rows = cluster_rows(page)
    firms = results.firms
    rate = dict(zip(firms["firm_id"], firms["local_supply_rate"], strict=True))
    # each row is [lat, lon, {named fields}]: id, rate (text), r (radius, px)
    f = [r[2] for r in rows]
    by_rate = sorted((rate[x["id"]], x["r"]) for x in f if not np.isnan(rate[x["id"]]))
    radii = [rad for _, rad in by_rate]
    assert radii == sorted(radii) and radii[0] < radii[-1]
    for rt, rad in by_rate:
        assert rad == pytest.approx(3 + 6 * rt, abs=0.06)
    xss = next(x for x in f if x["id"] == "FXSS")
    assert xss["rate"] == "" and xss["r"] == 3.0  # no rate: the smallest dot, "not rated"
    legend = _script_string(page, "点大小 = 本地配套率")
    assert "0 %" in legend and "100 %" in legend and "未计算" in legend
    # the popup template shows the rate, or "not rated"
    assert "parksiteFirm(" in page and "labels.not_rated" in page and "radius: f.r" in page


def test_chain_gap_panel_lists_ranked_gaps_escaped(full):
    page, _, results = full
    panel = _script_string(page, "补链目标（按锚点企业投入价值排序）")
    gaps = results.chain_gaps
    assert panel.count("<tr") == len(gaps) + 1  # a header and one row per gap
    assert panel.startswith("<details>") and "<summary>" in panel
    # ranked (the table, after the park/chain filters); inputs in both languages; value;
    # supplier park by name; km by road
    table = panel[panel.index("<table>"):]
    assert table.index("硅片") < table.index("精细化工") < table.index("动力电池电芯")
    assert 'select data-filter="park"' in panel and 'data-park="sip"' in table
    assert "silicon wafers" in panel and "824.6" in panel and "138 km" in panel
    assert "园区外" in panel and "上海化学工业区" in panel and "苏州工业园区" in panel
    assert "&lt;i&gt;p&lt;/i&gt;" in panel  # an unknown park id, escaped
    # markup in data is text
    assert "&lt;b&gt;玻璃&lt;/b&gt;" in panel and "<b>玻璃" not in panel
    assert html.escape(XSS) in panel and "<img" not in panel and "<i>p</i>" not in panel
    # English map, English headings first
    page_en, _ = _quiet_build(load_study(ROOT / "layers" / "yrd.toml"),
                              MapData(chain_gaps=gaps), lang="en")
    panel_en = _script_string(page_en, "Chain gaps (补链), ranked")
    assert "Anchor input value" in panel_en and "outside parks" in panel_en
    table_en = panel_en[panel_en.index("<table>"):]
    assert table_en.index("silicon wafers") < table_en.index("硅片")


def test_chain_gap_panel_is_absent_without_gaps_and_capped(yrd_study):
    page, _ = _quiet_build(yrd_study)
    assert not any(isinstance(s, str) and "补链目标（" in s for s in strings_in_scripts(page))
    many = pd.DataFrame({"rank": range(1, 61), "park_id": "sip",
                         "input_industry": [f"i{k}" for k in range(60)],
                         "nearest_supplier_km": 120.0})
    page, _ = _quiet_build(yrd_study, MapData(chain_gaps=many))
    panel = _script_string(page, "补链目标（")
    assert panel.count("<tr") == webmap._GAP_ROWS + 1 and "另有 20 项" in panel


def test_park_evaluation_layers_and_popups(full, yrd_study):
    page, info, results = full
    assert "园区评价：亩均等级" in info["layers"] and "园区评价：主导产业" in info["layers"]
    layers = geojson_layers(page)
    n_parks = len(yrd_study.load("parks"))
    park_fcs = [fc for fc in layers if len(fc["features"]) == n_parks
                and all("id" in f["properties"] for f in fc["features"])]
    assert len(park_fcs) == 3  # red-line status, grade, dominant industry
    pops = {f["properties"]["id"]: f["properties"]["p"] for f in park_fcs[1]["features"]}
    sip = pops["sip"]
    for text in ("企业数", "76（锚点 3）", "微电子（集成电路） (LQ 3.11), 41 %", "0.324",
                 "75 % (50 % – 90 %)", "产业链完整度", "锂电池（含回收） 50 %",
                 "<b>A</b>", "62 · 14 缺数据", "3.62 / 6.75", "284,460 亩"):
        assert text in sip, text
    # no 亩均 data: "not graded", never a zero
    assert "未评级（企业数据缺失）" in pops["nantong"] and "0.00" not in pops["nantong"]
    assert "&lt;b&gt;B&lt;/b&gt;" in pops["kunshan"]
    # grade colours: A the darkest blue (never the pass green); unknown and missing grey
    assert webmap._GRADE_COLOUR["A"] != webmap._STATUS_COLOUR["pass"]
    grade_page = re.search(f'"fillColor": "{webmap._GRADE_COLOUR["A"]}", "fillOpacity": 0.7',
                           page)
    assert grade_page
    # dominant industry: one colour per industry, named in the legend
    legend = _script_string(page, "园区评价：主导产业</div>")
    assert "微电子（集成电路）" in legend
    # both evaluation views start hidden: the parks open coloured by red-line status
    added = set(re.findall(r"(feature_group_\w+)\.addTo\(", page))
    assert _group_var(page, "园区评价：亩均等级") not in added
    assert _group_var(page, "园区评价：主导产业") not in added
    assert _group_var(page, webmap._label(yrd_study.layers["parks"], "zh")) in added


def test_recommendations_carry_reasons_by_language(yrd_study):
    from _mapdata import recommendations_fixture

    recs = recommendations_fixture(yrd_study)
    for lang, label, reason, other in (
            ("zh", "选址推荐：正极材料", "3 类投入中 2 类", "2 of 3 inputs"),
            ("en", "Recommended sites: Cathode materials", "2 of 3 inputs", "3 类投入中")):
        page, info = _quiet_build(yrd_study, MapData(recommendations=recs), lang=lang)
        assert label in info["layers"]
        feats = features_by(geojson_layers(page),
                            lambda f: "ps-pop" in f["properties"].get("p", "")
                            and ("#" in f["properties"].get("t", "")
                                 or "×" in f["properties"].get("t", "")))
        ranked = [f for f in feats if f["properties"]["t"].startswith("#")]
        assert [f["properties"]["t"].split()[0] for f in ranked] == ["#1", "#2"]
        assert all(reason in f["properties"]["p"] and other not in f["properties"]["p"]
                   for f in ranked)
        assert all("&lt;script&gt;x" in f["properties"]["p"] for f in ranked)
        excl = [f for f in feats if f["properties"]["t"].startswith("×")]
        assert len(excl) == 1 and "&lt;i&gt;cathode&lt;/i&gt;" in excl[0]["properties"]["p"]
        assert ("已排除" if lang == "zh" else "excluded") in excl[0]["properties"]["t"]
    assert "<script>x" not in page and "<i>cathode" not in page
    assert '"className": "ps-recommend ps-recommend-excluded"' in page
    assert '"fillColor": "#9e9e9e"' in page


def test_layout_plots_are_coloured_by_industry(full):
    page, _, results = full
    plots = results.layout.plots
    feats = features_by(geojson_layers(page), lambda f: re.match(
        r"P\d+ · ", f["properties"].get("t", "")))
    assert len(feats) == len(plots)
    styles = re.findall(r'"className": "ps-plot ps-plot-(\w+)"', page)
    assert set(styles) == set(plots["status"])  # (folium keeps each distinct style once)
    # the three pcb plots (incoming and existing) share one fill colour; outline differs
    fills = {}
    for m_ in re.finditer(r'\{"className": "ps-plot ps-plot-(\w+)", "color": "(#\w+)", '
                          r'"fillColor": "(#\w+)"', page):
        fills.setdefault(m_.group(1), set()).add((m_.group(2), m_.group(3)))
    pcb = {f for st in ("incoming", "existing") for _, f in fills[st]}
    assert len(pcb) == 1
    assert {c for c, _ in fills["incoming"]} == {"#000000"}
    assert {f for _, f in fills["facility"]} == {webmap._PLOT_COLOUR["facility"]}


def test_layout_map_draws_plots_facilities_setbacks_and_links(yrd_study, tmp_path):
    from _mapdata import layout_fixture

    lay = layout_fixture(yrd_study)
    out = tmp_path / "layout_kunshan.html"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = webmap.write_layout_map(yrd_study, lay, out)
    page = out.read_text(encoding="utf-8")
    for label in ("地块（按行业）", "共享设施", "污染企业防护距离", "产业链关联企业连线",
                  "园区（示意范围）"):
        assert label in info["layers"], label
    # the context is clipped to the park's surroundings: no study area, DEM, firms
    assert "研究区" not in info["layers"] and "高程（ASTER GDEM）" not in info["layers"]
    assert not cluster_rows(page) and "L.imageOverlay" not in page
    assert info["bytes"] < 2e6
    layers = geojson_layers(page)
    assert len(features_by(layers, lambda f: re.match(r"P\d+ · ",
                                                      f["properties"].get("t", "")))) == 6
    assert features_by(layers, lambda f: "污水处理厂" in f["properties"].get("t", ""))
    assert features_by(layers, lambda f: f["properties"].get("t", "").startswith("N1 → "))
    assert '"className": "ps-setback"' in page and '"className": "ps-link"' in page
    # the view (fitted by map.js) is the park, not the region
    (s, w), (n, e) = _controls_config(page)["study"]
    assert (n - s) < 0.05 and (e - w) < 0.05
    # offline, escaped; the model card has the layout summary
    webmap._check_offline(page.replace(webmap._asset_html(True), ""))
    strings = [s for s in strings_in_scripts(page) if isinstance(s, str)]
    assert "<b>N2" not in page and not any("<b>N2" in s for s in strings)
    assert any("&lt;b&gt;N2&lt;/b&gt;" in s for s in strings)
    card = _script_string(page, "模型说明")
    assert "园区布局" in card
    with pytest.raises(InputError, match="no plots"):
        webmap.build_layout_map(yrd_study, type(lay)(plots=lay.plots.iloc[0:0]))


def test_stability_raster_is_an_optional_layer(yrd_study, tmp_path):
    suit = suitability_fixture(tmp_path, yrd_study)
    page, info = _quiet_build(yrd_study, MapData(suitability=SuitabilityLayers(**suit)))
    label = "适宜性稳定性（蒙特卡洛）"
    assert label in info["layers"]
    added = set(re.findall(r"(feature_group_\w+)\.addTo\(", page))
    assert _group_var(page, label) not in added  # off at opening
    w, h, alpha = _png_size_and_alpha(_overlays(page)["ps-stability"][0])
    # cells never in the top (left half) and nodata are clear; the rest drawn
    assert (alpha[:, : w // 3] == 0).all() and (alpha[h // 2, -3:] > 0).all()
    legend = _script_string(page, label + "</div>")
    assert "ps-ramp" in legend and "前 5%" in legend
    # without a stability raster, no layer
    suit.pop("stability_tif")
    _, info = _quiet_build(yrd_study, MapData(suitability=SuitabilityLayers(**suit)))
    assert label not in info["layers"]


def test_cli_layout_writes_a_map(tmp_path):
    from click.testing import CliRunner

    from geo.cli import main

    out = tmp_path / "layout.gpkg"
    html_path = tmp_path / "layout_chongming.html"
    args = ["layout", str(ROOT / "layers" / "yrd.toml"), "--park", "chongming", "--firms",
            str(ROOT / "data" / "examples" / "incoming_firms.csv"), "--out", str(out),
            "--time-limit-s", "5"]
    r = CliRunner().invoke(main, args + ["--map", str(tmp_path / "bad.txt")])
    assert r.exit_code == 2 and "ending in .html" in r.output and not out.exists()
    r = CliRunner().invoke(main, args + ["--map", str(html_path), "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "layout map" in r.output and out.exists() and html_path.exists()
    page = html_path.read_text(encoding="utf-8")
    assert "Plots by industry" in page and "Shared facilities" in page
    assert "cdn.jsdelivr" not in page


def test_service_areas_list_firms_by_industry(full):
    page, info, results = full
    assert "公路可达范围" in info["layers"]
    feats = features_by(geojson_layers(page), lambda f: "100 km" in f["properties"].get("p", "")
                        and "812" in f["properties"].get("p", ""))
    assert len(feats) == 1
    p = feats[0]["properties"]["p"]
    assert "微电子（集成电路） 30" in p and "&lt;b&gt;x&lt;/b&gt; 10" in p and "<b>x" not in p


def test_service_areas_are_an_image_with_their_holes_and_light_outlines(yrd_study):
    """A 100 km reach area with thousands of vertices and holes: the fills and holes go
    into an image (a hole's pixels stay clear), the popups ride on the outer outlines,
    simplified at OUTLINE_FACTOR × [map] simplify_m (no rings of holes), far fewer
    vertices than drawn as vectors (47k for the bundled study's ten areas)."""
    from geo.webmap._reach import OUTLINE_FACTOR

    crs = yrd_study.area_crs
    centre = yrd_study.load("parks").to_crs(crs).geometry.iloc[0].centroid
    hole = centre.buffer(5_000).exterior
    wobbly = shapely.Polygon(
        [(centre.x + (60_000 + 300 * np.sin(a * 40)) * np.cos(a),
          centre.y + (60_000 + 300 * np.sin(a * 40)) * np.sin(a))
         for a in np.linspace(0, 2 * np.pi, 4000, endpoint=False)], [hole])
    sa = gpd.GeoDataFrame({"site_id": ["s1"], "name": ["站点一"], "radius_km": [100.0]},
                          geometry=[wobbly], crs=crs).to_crs(4326)
    page, info = _quiet_build(yrd_study, MapData(service_areas=sa))
    assert "公路可达范围" in info["layers"]
    uri, bounds = _overlays(page)["ps-reach"]
    w, h, alpha = _png_size_and_alpha(uri)
    assert max(w, h) == webmap.DEFAULTS["max_image_px"]
    (s_, w_), (n_, e_) = json.loads(bounds)
    # the hole (5 km around the centre) is clear, the ring around it is filled
    c = gpd.GeoSeries([centre], crs=crs).to_crs(4326).iloc[0]
    col = int((c.x - w_) / (e_ - w_) * w)
    row = int((n_ - c.y) / (n_ - s_) * h)  # near enough in Mercator for 100 km
    assert alpha[row, col] == 0
    assert alpha[row, col + w // 8] > 0
    feats = features_by(geojson_layers(page), lambda f: "站点一" in f["properties"].get("t", ""))
    assert len(feats) == 1
    geom = shapely.geometry.shape(feats[0]["geometry"])
    assert shapely.get_num_interior_rings(shapely.get_parts(geom)).sum() == 0
    assert shapely.get_num_coordinates(geom) < 4000 / 4
    assert f"{OUTLINE_FACTOR * webmap.DEFAULTS['simplify_m']:g} m" in page


def test_cli_map_reports_the_size_budget(tmp_path):
    from click.testing import CliRunner

    from geo.cli import main

    study = study_copy(tmp_path, "[map]\nsize_budget_mb = 0.5\n")
    r = CliRunner().invoke(main, ["map", str(study), "--out", str(tmp_path / "m.html")])
    assert r.exit_code == 0, r.output
    assert "warning:" in r.output and "over its 0.5 MB budget" in r.output


def test_land_cover_is_drawn_by_class_not_as_an_elevation_ramp(yrd_study):
    """The MODIS land-cover raster (role landuse) is categorical: IGBP classes with their
    names in the legend, not the DEM's terrain ramp; off at opening."""
    page, info = _quiet_build(yrd_study)
    spec = yrd_study.layers["landcover"]
    label = spec.options["label_zh"]
    assert label in info["layers"]
    overlays = _overlays(page)
    assert "ps-landuse" in overlays
    w, h, alpha = _png_size_and_alpha(overlays["ps-landuse"][0])
    assert (alpha > 0).mean() > 0.9  # every class drawn (the layer has no nodata cells)
    legend = _script_string(page, label + "</div>")
    assert "ps-ramp" not in legend
    for row in ("13 城镇建设用地", "12 耕地", "0 水体"):
        assert row in legend
    added = set(re.findall(r"(feature_group_\w+)\.addTo\(", page))
    assert _group_var(page, label) not in added  # off at opening


def test_land_use_codes_without_a_declared_scheme_are_not_given_igbp_names(tmp_path):
    """A land-use raster that does not say ``classes = "igbp"`` may use any national
    scheme: its legend shows the bare codes, never IGBP names on someone else's codes."""
    from geo.study import load_study

    p = study_copy(tmp_path)
    p.write_text(p.read_text(encoding="utf-8").replace('classes = "igbp"', ""),
                 encoding="utf-8")
    study = load_study(p)
    page, _ = _quiet_build(study)
    legend = _script_string(page, study.layers["landcover"].options["label_zh"] + "</div>")
    assert "<span>13</span>" in legend
    assert "城镇建设用地" not in legend and "耕地" not in legend


def test_classes_is_only_for_igbp_land_use_rasters(tmp_path):
    from geo.study import StudyError, load_study

    p = study_copy(tmp_path)
    p.write_text(p.read_text(encoding="utf-8").replace('classes = "igbp"', 'classes = "lucc"'),
                 encoding="utf-8")
    with pytest.raises(StudyError, match=r"layers.landcover.classes: 'lucc' is not one of igbp"):
        load_study(p)


# --- popups and the decision view (issue 12) -------------------------------------------

def _popups(page: str) -> dict[str, str]:
    return {f["properties"]["id"]: f["properties"]["p"] for fc in geojson_layers(page)
            for f in fc["features"] if "id" in f["properties"] and "p" in f["properties"]}


def test_park_popups_name_zones_and_explain_a_restricted_pass(yrd_page, yrd_study):
    """Suzhou New District lies partly in Taihu's first-level zone, whose bans do not
    cover its industries: the popup says so in Chinese with the zone's name, not the
    gate's English note with a raw id; the nearest zone is named too."""
    page, _ = yrd_page
    pops = _popups(page)
    zones = yrd_study.load("redlines").set_index("id")["name_zh"]
    snd = pops["snd"]
    assert "位于限制区" in snd and html.escape(zones["taihu_l1"]) in snd
    assert "28.3%" in snd and "不在该区禁入之列" in snd
    assert "taihu_l1" not in snd and "of park" not in snd
    assert html.escape(zones["taihu_l1"]) + " · 6.0 km" in pops["sip"]  # 5,990 m away
    assert "ps-park-pass" in page and "#d73027" not in page  # the old conflict red


def test_conflict_popups_tell_a_buffer_hit_from_an_overlap(full):
    page, _, results = full
    conf = results.redline_conflicts
    pops = [f["properties"]["p"] for fc in geojson_layers(page) for f in fc["features"]
            if "红线冲突" in f["properties"].get("p", "")]
    assert len(pops) == len(conf)
    kinds = list(conf["kind"])
    for kind, dist, p in zip(kinds, conf["min_distance_m"], pops, strict=True):
        if kind == "buffer":
            assert f"缓冲区命中：距红线 {dist:,.0f} m，未重叠" in p and "重叠面积" not in p
        else:
            assert "重叠面积" in p and "缓冲区命中" not in p
    assert "buffer" in kinds and len(set(kinds)) >= 2


def test_banner_summary_counts_come_from_the_results(full, yrd_study):
    page, info, results = full
    cfg = _controls_config(page)
    lines = {ln["kind"]: ln for ln in cfg["banner"]["lines"]}
    st = results.redline_parks.drop_duplicates("park_id")["status"]
    assert lines["parks"]["html"].startswith(
        f"{len(st)} 个园区：{(st == 'conflict').sum()} 个红线冲突")
    assert lines["gaps"]["html"].startswith(f"{len(results.chain_gaps)} 项补链缺口")
    assert lines["sites"]["keys"] == ["candidates_top"]
    for ln in lines.values():  # every link has somewhere to go, inside the study
        (s, w), (n, e) = ln["bounds"]
        W, S, E, N = yrd_study.bounds
        assert W - 0.5 <= w <= e <= E + 0.5 and S - 0.5 <= s <= n <= N + 0.5
    # opening layers are the decision set, and only those groups start unfolded
    assert set(info["opening"]) == {"study_area", "redlines", "parks", "candidates_top"}
    assert [g for g, _, opened in cfg["groups"] if opened] == ["red", "parks", "siting"]
    assert cfg["radio"] == ["parks", "park_grade", "park_dominant"]


def _controls_config(page: str) -> dict:
    mo = re.search(r"parksiteInit\(map_\w+, ", page)
    obj, _ = json.JSONDecoder().raw_decode(page, mo.end())
    return obj


def test_one_colour_per_industry_and_a_colour_blind_safe_ramp(full):
    page, _, results = full
    from geo.webmap._style import _PALETTE, _RAMP

    assert "#e41a1c" not in _PALETTE and "#d73027" not in _PALETTE
    assert _RAMP[0][1] == (68, 1, 84) and _RAMP[-1][1] == (253, 231, 37)  # viridis
    rows = cluster_rows(page)
    pal = json.loads(re.search(r"parksiteFirm\((\[.*?\])", page).group(1))
    by_ind: dict[str, set] = {}
    for r in rows:
        by_ind.setdefault(r[2]["ind"], set()).add(pal[r[2]["c"]] if r[2]["c"] >= 0 else "")
    assert all(len(c) == 1 for c in by_ind.values())


def test_no_other_regions_wording_model_card_example_and_water_legend(tmp_path):
    """The restricted-zone example comes from the study's own zones, and the exclusion
    legend names the water layers the exclusions used (not a fixed "sea, lakes")."""
    from geo.suitability.report import exclusion_summary, water_labels
    from geo.webmap._card import _restricted_example

    study = load_study(ROOT / "layers" / "yrd.toml")
    zone = _restricted_example(study)
    zones = study.load_role("redlines")
    assert zone in set(zones.loc[zones["class"] == "restricted", "name"])
    labels = water_labels(study, {"water_layers": ["sea", "lakes"]})
    assert labels is not None and "sea" not in labels[0]  # the layers' own labels
    codes, _ = exclusion_summary(np.zeros(13, int), study_grid_stub(), labels)
    assert codes[6]["en"] == f"water ({labels[1]})"
    assert water_labels(study, {}) is None


def study_grid_stub():
    from geo.grid import Grid

    return Grid("EPSG:4549", 0.0, 0.0, 1000.0, 1, 1)


def test_map_data_from_a_run_keeps_not_judged_and_extra_card_lines(yrd_study, tmp_path):
    from geo.pipeline import StudyRun

    run = StudyRun(yrd_study, tmp_path, warnings=["no red-line layer: gate not run"])
    data = MapData.from_run(run, {"layers outside": ["/x.gpkg"]})
    # both sections: the outside-folder card once replaced the run's "not judged" lines
    assert data.model_card == {"not judged / 未评估": ["no red-line layer: gate not run"],
                               "layers outside": ["/x.gpkg"]}
    assert data.redline_parks is None and data.suitability is None


def test_a_string_keyed_dict_is_refused(yrd_study, tmp_path):
    with pytest.raises(TypeError, match="StudyRun or a geo.webmap.MapData"):
        webmap.write_map(yrd_study, tmp_path / "m.html", {"firms": None})
    assert not (tmp_path / "m.html").exists()
    with pytest.raises(TypeError, match="SuitabilityLayers"):
        MapData(suitability={"suitability_tif": "x.tif"})
    with pytest.raises(ValueError, match="no part"):
        MapData().only("firm")


def test_template_syntax_in_data_is_text_not_evaluated(tmp_path):
    """folium compiles each rendered layer script again as a Jinja template: a park named
    "{{7*7}}" came out as "49" (and Jinja reaches Python objects from there). Braces from
    data are character references, so the name reaches the page as written."""
    evil = "{{7*7}}园 {% if true %}yes{% endif %} {# c #} {{ cycler.__init__ }}"
    study = study_with_park_named(tmp_path, "sip", evil)
    assert study.layers["parks"].path == tmp_path / "parks.gpkg"
    page, _ = _quiet_build(study, lang="zh")
    popups = [f["properties"].get("p", "") for fc in geojson_layers(page) for f in fc["features"]]
    shown = [html.unescape(p) for p in popups if "园" in html.unescape(p) and "7*7" in
             html.unescape(p)]
    assert shown and all(evil in p for p in shown), shown[:1]
    assert not any("49园" in html.unescape(p) for p in popups)
    assert "function" not in " ".join(shown)  # {{ cycler.__init__ }} not rendered
