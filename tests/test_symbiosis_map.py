"""geo.webmap: symbiosis pairs on the map, one line per pair when they are few and flows
between parks (districts outside parks) when they are many (geo/webmap/_symbiosis.py).
"""

from __future__ import annotations

import html
import re
import tempfile
import warnings
from pathlib import Path

import _browser
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _browser import require_browser
from _mapdata import (
    XSS,
    features_by,
    firms_fixture,
    geojson_layers,
    strings_in_scripts,
    study_with_park_named,
    symbiosis_fixture,
)

from geo import webmap
from geo.register import load_firms
from geo.symbiosis import COLUMNS, pairs_geodataframe
from geo.webmap._symbiosis import MAX_PAIR_LINES

pytestmark = pytest.mark.filterwarnings("ignore::geo.crs.ZoneWarning")

MATERIALS = [("steam", "蒸汽"), ("black mass", "黑粉"), ("<i>slag</i>", "<i>炉渣</i>"),
             ("off-gas", "尾气"), ("scrap", "废料"), ("ash", "灰"), ("sludge", "污泥")]


def _build(study, results, lang=None):
    """The page and info of :func:`webmap.write_map`, warnings silenced."""
    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as tmp:
        warnings.simplefilter("ignore")
        out = Path(tmp) / "map.html"
        info = webmap.write_map(study, out, results, lang=lang)
        return out.read_text(encoding="utf-8"), info


def _pairs(study, n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` made-up pairs between the study's firms (shaped like find_pairs')."""
    firms = load_firms(study)
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(firms), n)
    b = (a + rng.integers(1, len(firms), n)) % len(firms)
    k = rng.integers(0, len(MATERIALS), n)
    f = firms.reset_index(drop=True)
    park = f["park_id"].astype(str).to_numpy()
    df = pd.DataFrame({
        "from_firm_id": f["firm_id"].to_numpy()[a], "from_name": f["name"].to_numpy()[a],
        "from_industry": f["industry"].to_numpy()[a], "from_park": park[a],
        "material": [MATERIALS[i][0] for i in k], "material_zh": [MATERIALS[i][1] for i in k],
        "to_firm_id": f["firm_id"].to_numpy()[b], "to_name": f["name"].to_numpy()[b],
        "to_industry": f["industry"].to_numpy()[b], "to_park": park[b],
        "network_km": rng.uniform(1, 30, n).round(3), "crow_km": rng.uniform(1, 20, n),
        "same_park": (park[a] == park[b]) & (park[a] != ""),
        "chain": np.where(k % 2 == 0, "chemicals", "battery"), "synthetic": True})
    return pairs_geodataframe(study, df[COLUMNS])


def _symbiosis_features(page: str) -> list[dict]:
    return features_by(geojson_layers(page), lambda f: "np" in f["properties"]
                       and "ps-pop" in f["properties"].get("p", ""))


def _pair_lines(page: str) -> list[dict]:
    return features_by(geojson_layers(page), lambda f: " → " in f["properties"].get("t", "")
                       and "p" in f["properties"] and "np" not in f["properties"])


def _park_names(study) -> dict[str, str]:
    pk = study.load("parks")
    col = "name_zh" if "name_zh" in pk else "name"
    return dict(zip(pk["id"].astype(str), pk[col].astype(str), strict=True))


# --- few pairs: one line each, as before -------------------------------------------------

def test_few_pairs_are_drawn_one_line_each(yrd_study):
    sym = symbiosis_fixture(firms_fixture(yrd_study))
    page, info = _build(yrd_study, webmap.MapData(symbiosis=sym))
    assert "产业共生（合成数据）" in info["layers"]
    assert not any("汇总" in lab for lab in info["layers"])
    lines = _pair_lines(page)
    assert len(lines) == len(sym) and _symbiosis_features(page) == []
    assert {f["geometry"]["type"] for f in lines} == {"LineString"}


def test_pairs_up_to_the_threshold_are_not_aggregated(yrd_study):
    sym = _pairs(yrd_study, MAX_PAIR_LINES)
    page, info = _build(yrd_study, webmap.MapData(symbiosis=sym))
    assert "产业共生（合成数据）" in info["layers"]
    assert len(_pair_lines(page)) == MAX_PAIR_LINES
    assert _symbiosis_features(page) == []


# --- many pairs: flows between places ----------------------------------------------------

@pytest.fixture(scope="module")
def many(yrd_study):
    sym = _pairs(yrd_study, 4 * MAX_PAIR_LINES)
    page, info = _build(yrd_study, webmap.MapData(symbiosis=sym))
    return sym, page, info


def test_many_pairs_are_aggregated_and_every_pair_is_counted(many, yrd_study):
    sym, page, info = many
    n = len(sym)
    assert f"产业共生（按园区/区县汇总，{n:,} 对，合成数据）" in info["layers"]
    feats = _symbiosis_features(page)
    assert _pair_lines(page) == []
    assert sum(f["properties"]["np"] for f in feats) == n
    assert len(feats) < n / 2
    # every (park → park) flow carries the number of its pairs, in its tooltip too
    names = _park_names(yrd_study)
    inpark = sym[(sym["from_park"] != "") & (sym["to_park"] != "")]
    expect = inpark.groupby(["from_park", "to_park"]).size()
    by_tip = {f["properties"]["t"].split(" · ")[0]: f for f in feats}
    for (fp, tp), k in expect.items():
        tip = f"{names[fp]}内部" if fp == tp else f"{names[fp]} → {names[tp]}"
        f = by_tip[html.escape(tip)]
        assert f["properties"]["np"] == k
        assert f["properties"]["t"].endswith(f"· {k:,} 对")
        assert f["geometry"]["type"] == ("Point" if fp == tp else "LineString")
    # a flow's popup: the top five by-products (Chinese first), the rest counted
    big = max(feats, key=lambda f: f["properties"]["np"])
    pop = big["properties"]["p"]
    assert pop.count(" × ") == 5 and "另有 2 种" in pop
    assert "黑粉 (black mass) × " in pop
    # flows between distinct places are lines
    lines = [f for f in feats if f["geometry"]["type"] == "LineString"]
    assert len(lines) > 5


def test_firms_outside_parks_are_gathered_by_district(many):
    sym, page, _ = many
    outside = sym[(sym["from_park"] == "") & (sym["to_park"] == "")]
    assert len(outside) > 0
    feats = _symbiosis_features(page)
    district = [f for f in feats if re.search(r"[区县市]( → |内部)", f["properties"]["t"])]
    assert district, "no district-to-district flow"


def test_aggregated_names_and_materials_are_escaped(yrd_study, tmp_path):
    study = study_with_park_named(tmp_path, "caojing", XSS)
    sym = _pairs(study, 2 * MAX_PAIR_LINES, seed=3)
    sym.loc[sym.index[:50], "chain"] = "<b>chain</b>"
    assert (sym["from_park"] == "caojing").any()
    for lang in ("zh", "en"):
        page, info = _build(study, webmap.MapData(symbiosis=sym), lang=lang)
        feats = _symbiosis_features(page)
        texts = [f["properties"][k] for f in feats for k in ("t", "p")]
        assert any(html.escape(XSS) in t for t in texts)
        assert any("&lt;i&gt;炉渣&lt;/i&gt;" in t for t in texts)
        for s in strings_in_scripts(page):
            if isinstance(s, str):
                assert "<img" not in s and "<i>" not in s and "<b>chain" not in s, s[:200]
        assert XSS not in page


def test_english_map_names_the_aggregation(yrd_study, many):
    sym = many[0]
    page, info = _build(yrd_study, webmap.MapData(symbiosis=sym), lang="en")
    assert (f"Industrial symbiosis (aggregated by park / district, {len(sym):,} pairs, "
            "synthetic)") in info["layers"]
    feats = _symbiosis_features(page)
    assert sum(f["properties"]["np"] for f in feats) == len(sym)
    assert any("Firm pairs" in f["properties"]["p"] for f in feats)


def test_twenty_thousand_pairs_are_drawn_as_few_flows(yrd_study):
    sym = _pairs(yrd_study, 20_000, seed=1)
    page, _ = _build(yrd_study, webmap.MapData(symbiosis=sym))
    feats = _symbiosis_features(page)
    assert sum(f["properties"]["np"] for f in feats) == 20_000
    assert len(feats) < 2_000


# --- in a browser ------------------------------------------------------------------------

@pytest.mark.browser
def test_aggregated_flows_open_in_a_browser_without_running_names(yrd_study, tmp_path):
    require_browser()  # skips without Chromium; under CI the browser tests must run
    study = study_with_park_named(tmp_path, "sip", XSS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sym = _pairs(study, 2 * MAX_PAIR_LINES, seed=5)
        assert (sym["from_park"] == "sip").any()
        webmap.write_map(study, tmp_path / "flows.html", webmap.MapData(symbiosis=sym))
    page = (tmp_path / "flows.html").read_text(encoding="utf-8")
    n_feats = len(_symbiosis_features(page))
    with _browser.chromium(offline=True) as driver:
        _browser.open_map(driver, tmp_path / "flows.html")
        got = driver.execute_script("""
            var p = window.parksite, g = p.layers.symbiosis, n = 0, pops = [];
            if (!p.map.hasLayer(g)) { p.map.addLayer(g); }
            g.eachLayer(function(gj) { gj.eachLayer(function(l) {
              n += 1; l.openPopup(); var el = l.getPopup().getElement();
              pops.push(el ? el.textContent : ''); l.closePopup(); }); });
            return {n: n, pops: pops, pwned: window.__pwned === undefined ? null : 1};""")
        errors = _browser.console_errors(driver)
    assert got["n"] == n_feats and got["pwned"] is None and errors == []
    assert any("<img src=x" in t for t in got["pops"])  # shown as text
    assert all("企业对数" in t for t in got["pops"])


def test_bare_pairs_without_parks_or_materials_are_aggregated(yrd_study):
    """Only lines (no park, material, chain or distance columns): firms are placed by
    district, and still every pair is counted."""
    sym = _pairs(yrd_study, MAX_PAIR_LINES + 50, seed=2)[["geometry"]]
    far = gpd.GeoDataFrame(geometry=[shapely.LineString([(100.1, 40.1), (100.2, 40.2)])] * 3,
                           crs=4326)  # outside every district: a grid cell
    sym = pd.concat([sym, far], ignore_index=True)
    page, info = _build(yrd_study, webmap.MapData(symbiosis=sym))
    assert f"产业共生（按园区/区县汇总，{len(sym):,} 对）" in info["layers"]
    feats = _symbiosis_features(page)
    assert sum(f["properties"]["np"] for f in feats) == len(sym)
    cell = [f for f in feats if re.match(r"区县外 100\.\d°E 40\.\d°N内部 · 3 对$",
                                          f["properties"]["t"])]
    assert len(cell) == 1 and cell[0]["properties"]["np"] == 3


def test_a_park_the_parks_layer_lacks_is_named_by_its_id(yrd_study):
    sym = _pairs(yrd_study, MAX_PAIR_LINES + 10, seed=4)
    sym.loc[sym.index[:7], ["from_park", "to_park"]] = "<b>ghost</b>"
    page, _ = _build(yrd_study, webmap.MapData(symbiosis=sym))
    feats = _symbiosis_features(page)
    ghost = [f for f in feats if f["properties"]["t"].startswith("&lt;b&gt;ghost&lt;/b&gt;内部")]
    assert len(ghost) == 1 and ghost[0]["properties"]["np"] == 7
