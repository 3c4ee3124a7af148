"""The maps in a real browser: Debian's headless Chromium driven by Selenium.

* the bundled offline map loads from file:// with the network cut off, with no console
  errors, and every layer appears in the layer control;
* clicking a park opens its popup with the right name; toggling a layer hides its
  legend;
* a firm named ``<img src=x onerror="window.__pwned=1">`` (and a layer label carrying
  markup) renders as text and ``window.__pwned`` stays undefined;
* the browser records zero requests to any http(s) URL;
* screenshots are saved to maps/screenshots/ (or $PARKSITE_SCREENSHOTS).

Without /usr/bin/chromium and /usr/bin/chromedriver these tests are skipped, except
under CI=true, where they fail (tools/install_browser.sh installs both).
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import _browser
import numpy as np
import pandas as pd
import pytest
import shapely
from _browser import (
    console_errors,
    open_map,
    requested_urls,
    require_browser,
    screenshot_dir,
)
from _mapdata import XSS, XSS_LABEL, all_results, evil_layer_toml, study_copy

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::geo.crs.ZoneWarning")]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def maps(tmp_path_factory):
    """The bundled offline map as `parksite map layers/yrd.toml` writes it (with the
    red-line gate), a map with every result kind plus hostile strings, and a park
    layout map (`parksite layout … --map`) of the layout fixture."""
    require_browser()
    from geo.redline import check_study
    from geo.study import load_study
    from geo.webmap import MapData, write_layout_map, write_map

    tmp = tmp_path_factory.mktemp("browser")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(ROOT / "layers" / "yrd.toml")
        red = check_study(study)
        t0 = time.perf_counter()
        info = write_map(study, tmp / "yrd.html", MapData(redline_conflicts=red.conflicts,
                                                          redline_parks=red.parks))
        build_s = time.perf_counter() - t0
        evil = load_study(study_copy(tmp, evil_layer_toml(), name="evil.toml"))
        full_results = all_results(tmp, evil)
        full = write_map(evil, tmp / "full.html", full_results)
        layout = write_layout_map(evil, full_results.layout, tmp / "layout.html")
    return {"study": study, "yrd": info, "yrd_build_s": build_s, "evil": evil,
            "full": full, "full_results": full_results, "layout": layout}


def _fresh(driver) -> None:
    """Drain the logs so that each check sees only its own page's events."""
    requested_urls(driver)
    console_errors(driver)


def _http(urls: list[str]) -> list[str]:
    return [u for u in urls if u.lower().startswith(("http:", "https:", "ws:", "wss:"))]


def _control_labels(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll("
        "'.leaflet-control-layers-overlays label')).map(function(l){"
        "return l.textContent.trim();});")


def _click_at(driver, lat: float, lon: float) -> dict:
    """Click the page where (lat, lon) is drawn; return what sits there."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    xy = driver.execute_script(
        "var m = window.parksite.map; var p = m.latLngToContainerPoint([arguments[0], "
        "arguments[1]]); var r = m.getContainer().getBoundingClientRect();"
        "return [p.x + r.left, p.y + r.top];", lat, lon)
    x, y = int(round(xy[0])), int(round(xy[1]))
    hit = driver.execute_script(
        "var e = document.elementFromPoint(arguments[0], arguments[1]);"
        "return e ? {tag: e.tagName, cls: String(e.getAttribute('class'))} : null;", x, y)
    ab = ActionBuilder(driver)
    ab.pointer_action.move_to_location(x, y).click()
    ab.perform()
    return hit or {}


def _wait(driver, js: str, timeout: float = 10.0):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        v = driver.execute_script(js)
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {js}")


def _switch_on(driver, *keys: str) -> None:
    """Turn layers on (every layer when no key is given): most start off (issue 12)."""
    driver.execute_script(
        "var p = window.parksite, keys = arguments[0].length ? arguments[0] : "
        "Object.keys(p.layers); keys.forEach(function(k){ if (!p.map.hasLayer(p.layers[k]))"
        " { p.map.addLayer(p.layers[k]); } });", list(keys))
    time.sleep(0.3)


def _clear_point(study, park_id: str) -> tuple[float, float]:
    """A point well inside a park and away from every point feature drawn over it."""
    crs = study.metric_crs
    park = study.load("parks").to_crs(crs)
    poly = park.loc[park["id"] == park_id].geometry.iloc[0].buffer(-300)
    pts = []
    for spec in study.layers.values():
        if not spec.is_raster and spec.role in ("firms", "ports", "universities", "amenities"):
            pts.append(study.load(spec.key).to_crs(crs).geometry.buffer(400).union_all())
    if pts:
        poly = poly.difference(shapely.union_all(pts))
    p = shapely.get_point(poly.representative_point(), 0) if poly.geom_type == "Point" \
        else poly.representative_point()
    import geopandas as gpd

    ll = gpd.GeoSeries([p], crs=crs).to_crs(4326).iloc[0]
    return ll.y, ll.x


# --- the bundled offline map ---------------------------------------------------------

def test_bundled_map_loads_offline(driver, maps):
    path = Path(maps["yrd"]["path"])
    _fresh(driver)
    secs = open_map(driver, path)
    nav = driver.execute_script(
        "var t = performance.getEntriesByType('navigation')[0];"
        "return {dcl: t.domContentLoadedEventEnd, load: t.loadEventEnd};")
    labels = _control_labels(driver)
    assert labels == maps["yrd"]["layers"]
    for spec in maps["study"].layers.values():
        assert any(lab.startswith(spec.options.get("label_zh", spec.key)) for lab in labels)
    # at opening only the decision set is on: the study boundary, red lines, parks by
    # red-line status and the top candidate regions (none here: no suitability run)
    study = maps["study"]
    want = {sp.key for role in ("boundary", "redlines", "parks") for sp in study.by_role(role)}
    on = driver.execute_script(
        "var p = window.parksite; return Object.keys(p.layers).filter(function(k){"
        "return p.map.hasLayer(p.layers[k]);});")
    assert set(on) == want == set(maps["yrd"]["opening"])
    n_paths = driver.execute_script(
        "return document.querySelectorAll('.leaflet-overlay-pane path, "
        ".leaflet-ps-base-pane path').length;")
    assert n_paths >= len(study.load("redlines")) + len(study.load("parks"))
    # the legend has one visible section per layer shown, thematic layers first
    shown = driver.execute_script(
        "return Object.keys(window.parksite.legend).filter(function(k){"
        "return window.parksite.legend[k].style.display !== 'none';});")
    checked = driver.execute_script(
        "return document.querySelectorAll('.leaflet-control-layers-overlays "
        "input:checked').length;")
    assert len(shown) == checked == len(want)
    assert shown[-1] == study.by_role("boundary")[0].key  # basemap last
    # the layer control is grouped; parks are never drawn in red
    groups = driver.execute_script(
        "return Array.from(document.querySelectorAll('.ps-grp > summary')).map("
        "function(s){return s.textContent;});")
    assert groups[:2] == ["红线与管控", "园区"] and groups[-1] == "底图"
    fills = driver.execute_script(
        "return Array.from(document.querySelectorAll('path.ps-park')).map(function(p){"
        "return p.getAttribute('fill');});")
    assert fills and not any(f.lower() in ("#d73027", "#e41a1c", "#ff0000") for f in fills)
    shots = screenshot_dir()
    shot = shots / "yrd_offline.png"
    driver.save_screenshot(str(shot))
    urls = requested_urls(driver)
    errors = console_errors(driver)
    assert errors == [], errors
    assert _http(urls) == [], _http(urls)
    summary = {"map": str(path), "bytes": maps["yrd"]["bytes"],
               "layers": len(labels), "build_s": round(maps["yrd_build_s"], 2),
               "ready_s": round(secs, 3), "dom_content_loaded_ms": round(nav["dcl"], 1),
               "load_event_ms": round(nav["load"], 1), "screenshot": str(shot),
               "http_requests": len(_http(urls)), "console_errors": len(errors)}
    (shots / "yrd_offline.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(f"\nbundled offline map: {summary['bytes'] / 1e6:.2f} MB, {summary['layers']} layers, "
          f"ready in {secs:.2f} s (load event {nav['load']:.0f} ms); screenshot {shot}")


def test_clicking_a_park_opens_its_popup(driver, maps):
    study = maps["study"]
    parks = study.load("parks")
    _fresh(driver)
    open_map(driver, Path(maps["yrd"]["path"]))
    for pid in ("kunshan", "sip"):
        lat, lon = _clear_point(study, pid)
        driver.execute_script(
            "window.parksite.map.closePopup();"
            "window.parksite.map.setView([arguments[0], arguments[1]], 13, {animate: false});",
            lat, lon)
        time.sleep(0.3)
        hit = _click_at(driver, lat, lon)
        assert hit.get("tag", "").lower() == "path" and "ps-park" in hit.get("cls", ""), hit
        text = _wait(driver, "var e = document.querySelector('.leaflet-popup-content');"
                             "return e ? e.innerText : '';")
        row = parks.loc[parks["id"] == pid].iloc[0]
        assert row["name_zh"] in text and pid in text, text
        assert "示意范围" in text  # the outline is illustrative and says so
    driver.execute_script("window.parksite.map.closePopup();")
    assert console_errors(driver) == []
    assert _http(requested_urls(driver)) == []


def test_toggling_a_layer_hides_its_legend(driver, maps):
    _fresh(driver)
    open_map(driver, Path(maps["yrd"]["path"]))
    labels = maps["yrd"]["layers"]
    study = maps["study"]
    # highways start off, in the folded basemap group: unfold it and switch them on
    driver.execute_script("document.querySelector('.ps-grp[data-group=\"base\"]').open = true;")
    box = driver.find_elements(
        "css selector", ".leaflet-control-layers-overlays input.leaflet-control-layers-selector"
    )[labels.index(study.layers["highways"].options["label_zh"])]
    assert not box.is_selected()
    assert not driver.find_element("id", "ps-legend-highways").is_displayed()
    box.click()
    for key in ("parks", "redlines", "highways"):
        label = study.layers[key].options["label_zh"]
        idx = labels.index(label)
        box = driver.find_elements(
            "css selector",
            ".leaflet-control-layers-overlays input.leaflet-control-layers-selector")[idx]
        legend = driver.find_element("id", f"ps-legend-{key}")
        assert legend.is_displayed() and box.is_selected()
        box.click()
        assert not box.is_selected()
        assert not legend.is_displayed(), f"{key}: legend still shown"
        assert driver.execute_script(
            "return !window.parksite.map.hasLayer(window.parksite.layers[arguments[0]]);", key)
        box.click()
        assert legend.is_displayed(), f"{key}: legend did not come back"
    assert console_errors(driver) == []


def test_hidden_layers_are_built_when_first_shown(driver, maps):
    """A layer off at opening holds no features until it is shown (the browser only
    pre-parses its data at load); shown, it has every feature of the page's data; the
    searched layers (districts) are built at load even when hidden."""
    _fresh(driver)
    open_map(driver, Path(maps["yrd"]["path"]))
    count = ("var n = 0; window.parksite.layers[arguments[0]].eachLayer(function(g) {"
             " if (g.getLayers) { n += g.getLayers().length; } }); return n;")
    assert "highways" not in maps["yrd"]["opening"]
    assert driver.execute_script(count, "highways") == 0
    page = Path(maps["yrd"]["path"]).read_text(encoding="utf-8")
    assert page.count("parksiteLater(") >= 3
    assert driver.execute_script(count, "districts") > 10   # searched: built at load
    _switch_on(driver, "highways")
    assert driver.execute_script(count, "highways") > 0
    # off and on again: built once, not twice
    n = driver.execute_script(count, "highways")
    driver.execute_script("var p = window.parksite; p.map.removeLayer(p.layers.highways);"
                          "p.map.addLayer(p.layers.highways);")
    assert driver.execute_script(count, "highways") == n
    assert console_errors(driver) == []


_VERTICES = """
var g = window.parksite.layers[arguments[0]], drawn = 0, all = 0;
function count(a) { if (a[0] instanceof L.LatLng) { all += a.length; } else { a.forEach(count); } }
g.eachLayer(function(sub) { (sub.eachLayer ? sub : L.layerGroup([sub])).eachLayer(function(f) {
  if (!f._rings) { return; }
  f._rings.forEach(function(r) { drawn += r.length; });
  count(f._latlngs); }); });
return [drawn, all];
"""


def test_a_zoom_projects_only_the_vertices_that_show(driver, maps):
    """The districts (37k vertices) at the opening zoom: only the vertices that move a
    border by more than half a pixel there are projected; zoomed in, more of them."""
    _fresh(driver)
    open_map(driver, Path(maps["yrd"]["path"]))
    _switch_on(driver, "districts")
    drawn, every = driver.execute_script(_VERTICES, "districts")
    assert every > 10_000 and drawn < every * 0.6, (drawn, every)
    driver.execute_script("var m = window.parksite.map; m.setZoom(m.getZoom() + 4, "
                          "{animate: false});")
    drawn_in, _ = driver.execute_script(_VERTICES, "districts")
    assert drawn < drawn_in <= every
    assert console_errors(driver) == []


# --- hostile strings, every result kind ---------------------------------------------------

def test_markup_in_data_renders_as_text(driver, maps):
    _fresh(driver)
    open_map(driver, Path(maps["full"]["path"]))
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    # the layer control shows the hostile label as text, with no element inside
    labels = _control_labels(driver)
    assert XSS_LABEL in labels
    assert driver.execute_script(
        "return document.querySelectorAll('.leaflet-control-layers img, #ps-legend img, "
        "#ps-card img, .leaflet-popup img').length;") == 0
    # the firm's popup: zoom in past clustering and click it
    firms = maps["full_results"].firms
    xss = firms.loc[firms["name"] == XSS].geometry.iloc[0]
    _switch_on(driver, "firms")
    driver.execute_script("window.parksite.map.setView([arguments[0], arguments[1]], 15, "
                          "{animate: false});", xss.y, xss.x)
    time.sleep(0.5)
    hit = _click_at(driver, xss.y, xss.x)
    assert "ps-firm" in hit.get("cls", ""), hit
    text = _wait(driver, "var e = document.querySelector('.leaflet-popup-content');"
                         "return e ? e.innerText : '';")
    assert XSS in text, text
    assert driver.execute_script(
        "return document.querySelector('.leaflet-popup-content').querySelectorAll("
        "'img, script, b, i').length;") == 0
    # the legend lists the hostile industry as text too
    legend_text = driver.execute_script(
        "return document.getElementById('ps-legend').innerText;")
    assert XSS in legend_text and "<b>chem</b>" in legend_text
    # open the model card: the weights given as data are text as well
    driver.execute_script("document.querySelector('#ps-card details').open = true;")
    card = driver.find_element("id", "ps-card").text
    assert "<b>x</b>" in card and "parksite" in card
    time.sleep(0.2)
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert console_errors(driver) == []
    assert _http(requested_urls(driver)) == []


def test_full_map_draws_every_result(driver, maps):
    _fresh(driver)
    secs = open_map(driver, Path(maps["full"]["path"]))
    assert _control_labels(driver) == maps["full"]["layers"]
    _switch_on(driver)
    imgs = driver.execute_script(
        "return Array.from(document.querySelectorAll('img.leaflet-image-layer')).map("
        "function(i){return [i.className, i.naturalWidth, i.complete];});")
    n_img = Path(maps["full"]["path"]).read_text(encoding="utf-8").count("L.imageOverlay(")
    assert len(imgs) == n_img >= 2 and all(w > 0 and ok for _, w, ok in imgs), imgs
    n_conf = driver.execute_script("return document.querySelectorAll('path.ps-conflict').length;")
    assert n_conf == len(maps["full_results"].redline_conflicts)
    clusters = driver.execute_script("return document.querySelectorAll('.marker-cluster').length;")
    assert clusters > 0
    shot = screenshot_dir() / "yrd_full.png"
    driver.save_screenshot(str(shot))
    assert console_errors(driver) == []
    assert _http(requested_urls(driver)) == []
    print(f"\nmap with every result: ready in {secs:.2f} s; screenshot {shot}")
    assert np.isfinite(secs)


def test_firm_dots_are_sized_by_supply_rate(driver, maps):
    _fresh(driver)
    open_map(driver, Path(maps["full"]["path"]))
    firms = maps["full_results"].firms
    sip = firms[firms["park_id"] == "sip"]
    _switch_on(driver, "firms")
    driver.execute_script("window.parksite.map.setView([arguments[0], arguments[1]], 14, "
                          "{animate: false});", sip.geometry.y.mean(), sip.geometry.x.mean())
    time.sleep(0.5)
    radii = driver.execute_script(
        "return Array.from(document.querySelectorAll('path.ps-firm')).map(function(p){"
        "var m = /a([\\d.]+),/.exec(p.getAttribute('d')); return m ? Number(m[1]) : null;})"
        ".filter(function(r){return r !== null;});")
    assert len(radii) >= 6
    # Leaflet draws SVG circles with whole-pixel radii
    want = sorted({3 + 6 * r for r in sip["local_supply_rate"]})
    assert min(radii) >= round(want[0]) - 0.5 and max(radii) <= round(want[-1]) + 0.5
    assert len(set(radii)) >= 3  # different rates, different sizes
    legend = driver.find_element("id", "ps-legend").text
    assert "点大小 = 本地配套率" in legend
    assert console_errors(driver) == []


def test_chain_gap_panel_renders_text_safely(driver, maps):
    _fresh(driver)
    open_map(driver, Path(maps["full"]["path"]))
    panel = driver.find_element("id", "ps-gaps")
    assert driver.execute_script("return document.querySelector('#ps-gaps details').open") \
        is False  # collapsed at opening
    driver.find_element("css selector", "#ps-gaps summary").click()
    assert driver.execute_script("return document.querySelector('#ps-gaps details').open")
    text = panel.text
    gaps = maps["full_results"].chain_gaps
    for v in gaps["input_name_zh"]:
        assert v in text, v
    assert "<b>玻璃</b>" in text and XSS in text and "<i>p</i>" in text
    rows = driver.execute_script("return document.querySelectorAll('#ps-gaps tr').length;")
    assert rows == len(gaps) + 1
    assert driver.execute_script(
        "return document.querySelectorAll('#ps-gaps img, #ps-gaps b, #ps-gaps i, "
        "#ps-gaps script').length;") == 0
    time.sleep(0.2)
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    shot = screenshot_dir() / "yrd_full_gaps.png"
    driver.save_screenshot(str(shot))
    assert console_errors(driver) == []
    assert _http(requested_urls(driver)) == []


def test_layout_map_loads_offline(driver, maps):
    info = maps["layout"]
    _fresh(driver)
    secs = open_map(driver, Path(info["path"]))
    labels = _control_labels(driver)
    assert labels == info["layers"]
    n_plots = driver.execute_script("return document.querySelectorAll('path.ps-plot').length;")
    assert n_plots == len(maps["full_results"].layout.plots)
    for cls in ("ps-facility", "ps-link", "ps-setback"):
        assert driver.execute_script(f"return document.querySelectorAll('path.{cls}').length;"), cls
    # the plots' legend follows its layer
    idx = labels.index("地块（按行业）")
    box = driver.find_elements(
        "css selector",
        ".leaflet-control-layers-overlays input.leaflet-control-layers-selector")[idx]
    legend = driver.find_element("id", "ps-legend-layout_plots")
    assert legend.is_displayed()
    box.click()
    assert not legend.is_displayed()
    box.click()
    assert legend.is_displayed()
    shot = screenshot_dir() / "layout_offline.png"
    driver.save_screenshot(str(shot))
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert console_errors(driver) == []
    assert _http(requested_urls(driver)) == []
    print(f"\nlayout map: {info['bytes'] / 1e6:.2f} MB, {len(labels)} layers, ready in "
          f"{secs:.2f} s; screenshot {shot}")


# --- the decision view (issue 12) -------------------------------------------------------

def test_banner_summary_matches_the_results(driver, maps):
    """The banner's three lines are the results tables' counts and names, and each is a
    link that zooms to its features."""
    _fresh(driver)
    open_map(driver, Path(maps["full"]["path"]))
    res = maps["full_results"]
    lines = driver.execute_script(
        "return Array.from(document.querySelectorAll('#ps-banner a.ps-line')).map("
        "function(a){return [a.getAttribute('data-line'), a.innerText];});")
    assert [k for k, _ in lines] == ["parks", "sites", "gaps"]
    text = dict(lines)
    st = res.redline_parks.drop_duplicates("park_id").set_index("park_id")["status"]
    parks = maps["evil"].load("parks").set_index("id")
    n_conf, n_rev = int((st == "conflict").sum()), int((st == "review").sum())
    assert text["parks"].startswith(f"{len(st)} 个园区：{n_conf} 个红线冲突")
    assert f"{n_rev} 个待复核" in text["parks"]
    assert f"{int((st == 'pass').sum())} 个通过" in text["parks"]
    for pid in list(st.index[st.isin(["conflict", "review"])])[:4]:
        assert parks.at[pid, "name_zh"] in text["parks"], pid
    cand = res.suitability.candidates
    assert text["sites"].startswith(f"{len(cand)} 个候选区域") and "#1" in text["sites"]
    gaps = res.chain_gaps.sort_values("rank")
    assert text["gaps"].startswith(f"{len(gaps)} 项补链缺口，最大：{gaps['input_name_zh'].iloc[0]}")
    # the parks line zooms to the flagged parks and highlights them
    driver.execute_script("window.parksite.map.setZoom(5, {animate: false});")
    driver.find_element("css selector", "#ps-banner a[data-line='parks']").click()
    assert driver.execute_script("return window.parksite.map.getZoom();") > 5
    rp = res.redline_parks.drop_duplicates("park_id")
    allowed = rp.get("restricted_allowed", pd.Series("", index=rp.index)).fillna("")
    n_allowed = int(((rp["status"] == "pass") & (allowed.astype(str).str.strip() != "")).sum())
    assert driver.execute_script(
        "return document.querySelectorAll('path.ps-park.ps-hl').length;") \
        == n_conf + n_rev + n_allowed
    assert console_errors(driver) == []


def test_search_finds_a_park_by_its_chinese_name_and_zooms(driver, maps):
    _fresh(driver)
    open_map(driver, Path(maps["yrd"]["path"]))
    parks = maps["study"].load("parks")
    row = parks.loc[parks["id"] == "kunshan"].iloc[0]
    z0 = driver.execute_script("return window.parksite.map.getZoom();")
    box = driver.find_element("css selector", "#ps-search input")
    box.send_keys(row["name_zh"])
    _wait(driver, "return document.querySelectorAll('#ps-search li').length;")
    items = driver.find_elements("css selector", "#ps-search li")
    assert items and row["name_zh"] in items[0].text
    box.send_keys("\n")
    text = _wait(driver, "var e = document.querySelector('.leaflet-popup-content');"
                         "return e ? e.innerText : '';")
    assert row["name_zh"] in text
    c = row.geometry.representative_point()
    assert driver.execute_script("return window.parksite.map.getZoom();") > z0
    assert driver.execute_script(
        "return window.parksite.map.getBounds().contains([arguments[0], arguments[1]]);",
        c.y, c.x)
    # firms, zones and districts are found too (by id or name)
    for q in ("F0", "太湖", "昆山"):
        assert driver.execute_script("return window.parksite.search(arguments[0]).length;", q), q
    assert console_errors(driver) == []


def test_clicking_a_chain_gap_row_highlights_its_park(driver, maps):
    _fresh(driver)
    open_map(driver, Path(maps["full"]["path"]))
    driver.find_element("css selector", "#ps-gaps summary").click()
    gaps = maps["full_results"].chain_gaps
    pid = next(p for p in gaps.sort_values("rank")["park_id"] if not str(p).startswith("("))
    row = driver.find_element("css selector", f"#ps-gaps tr.ps-row[data-park='{pid}']")
    row.click()
    hl = driver.execute_script(
        "return Array.from(document.querySelectorAll('path.ps-park.ps-hl')).length;")
    assert hl >= 1
    parks = maps["evil"].load("parks")
    c = parks.loc[parks["id"] == pid].geometry.iloc[0].representative_point()
    assert driver.execute_script(
        "return window.parksite.map.getBounds().contains([arguments[0], arguments[1]]);",
        c.y, c.x)
    # the park filter keeps only that park's rows
    driver.execute_script(
        "var s = document.querySelector('#ps-gaps select[data-filter=park]');"
        "s.value = arguments[0]; s.dispatchEvent(new Event('change'));", pid)
    shown = driver.execute_script(
        "return Array.from(document.querySelectorAll('#ps-gaps tr.ps-row')).filter("
        "function(r){return r.style.display !== 'none';}).map(function(r){"
        "return r.getAttribute('data-park');});")
    assert shown and set(shown) == {pid} and len(shown) == int((gaps["park_id"] == pid).sum())
    assert console_errors(driver) == []


def _panel_clashes(driver) -> list:
    return driver.execute_script("""
        var box = window.parksite.map.getContainer().getBoundingClientRect();
        var els = Array.from(document.querySelectorAll('.leaflet-control')).filter(
          function(e){ var r = e.getBoundingClientRect();
                       return e.offsetParent !== null && r.width > 0 && r.height > 0; });
        var out = [];
        els.forEach(function(a, i) {
          var r = a.getBoundingClientRect();
          if (r.bottom > box.bottom + 1 || r.right > box.right + 1 || r.top < box.top - 1 ||
              r.left < box.left - 1) { out.push([a.id || a.className, 'outside']); }
          els.slice(i + 1).forEach(function(b) {
            var s = b.getBoundingClientRect();
            if (r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom) {
              out.push([a.id || a.className, b.id || b.className]); }
          });
        });
        return out;""")


@pytest.mark.slow
@pytest.mark.parametrize("size", [(1366, 768), (768, 1024), (390, 844)])
def test_no_panel_overlaps_another(driver, maps, size):
    w, h = size
    _fresh(driver)
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": w, "height": h, "deviceScaleFactor": 1, "mobile": False})
        for name in ("yrd", "full"):
            open_map(driver, Path(maps[name]["path"]))
            time.sleep(0.4)
            assert _panel_clashes(driver) == [], (name, size)
            # the study fills the view at any size
            assert driver.execute_script(
                "var p = window.parksite, b = p.map.getBounds();"
                "return p.map.getZoom() >= 6;"), size
            if name == "yrd":
                driver.save_screenshot(str(screenshot_dir() / f"yrd_opening_{w}x{h}.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert console_errors(driver) == []


@pytest.mark.slow
def test_print_layout_fits_one_a4_page(driver, maps, tmp_path):
    import base64

    _fresh(driver)
    open_map(driver, Path(maps["full"]["path"]))
    driver.execute_script("window.parksite.print(true);")
    time.sleep(0.5)
    inside = driver.execute_script(
        "var m = window.parksite.map;"
        "var b = m.getBounds(); var z = L.latLngBounds(arguments[0]);"
        "return b.contains(z);", [[float(v) for v in pair] for pair in
                                  _study_box(maps["evil"])])
    assert inside
    for sel in ("#ps-banner", "#ps-legend", "#ps-north", "#ps-notes"):
        assert driver.find_element("css selector", sel).is_displayed(), sel
    # the data notes sit in the banner, and the study is fitted below it: no note box
    # covers the map's content
    below = driver.execute_script(
        "var m = window.parksite.map, b = document.getElementById('ps-banner');"
        "var z = L.latLngBounds(arguments[0]);"
        "return [b.contains(document.getElementById('ps-notes')),"
        "        m.latLngToContainerPoint(z.getNorthWest()).y,"
        "        b.getBoundingClientRect().bottom];",
        [[float(v) for v in pair] for pair in _study_box(maps["evil"])])
    assert below[0] and below[1] >= below[2] - 1, below
    for sel in ("#ps-search", "#ps-layers", "#ps-gaps"):
        assert not driver.find_element("css selector", sel).is_displayed(), sel
    pdf = base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {
        "landscape": True, "preferCSSPageSize": True, "printBackground": True})["data"])
    (tmp_path / "print.pdf").write_bytes(pdf)
    pages = len(__import__("re").findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == 1, pages
    driver.save_screenshot(str(screenshot_dir() / "yrd_print.png"))
    driver.execute_script("window.parksite.print(false);")
    assert console_errors(driver) == []


@pytest.mark.slow
def test_failed_online_tiles_show_a_notice(driver, maps, tmp_path):
    """Web tiles with the network cut: the map says so on screen, with the offline
    options, instead of a blank background."""
    from geo.webmap import MapData, write_map

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = write_map(maps["study"], tmp_path / "osm.html",
                         MapData(redline_parks=None), basemap="osm")
    _fresh(driver)
    open_map(driver, Path(info["path"]))
    text = _wait(driver, "var e = document.getElementById('ps-tile-notice');"
                         "return e && e.offsetParent !== null ? e.innerText : '';", 20)
    assert "在线底图瓦片无法加载" in text and "--basemap none" in text and "--tiles" in text
    assert _panel_clashes(driver) == []


@pytest.mark.slow
def test_print_to_pdf_and_png_from_the_command_line(maps, tmp_path):
    """`parksite map --pdf/--png` renders the print layout headless: one A4 page and a
    1062 × 726 px image (the page box), written atomically (no temporary file left beside them)."""
    import re
    import struct

    from click.testing import CliRunner

    from geo.cli import main as cli

    pdf, png = tmp_path / "a4.pdf", tmp_path / "a4.png"
    res = CliRunner().invoke(cli, ["map", str(ROOT / "layers" / "yrd.toml"), "--out",
                                   str(tmp_path / "m.html"), "--pdf", str(pdf), "--png",
                                   str(png)])
    assert res.exit_code == 0, res.output
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes())) == 1
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (1062, 726)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a4.pdf", "a4.png", "m.html"]
    bad = CliRunner().invoke(cli, ["map", str(ROOT / "layers" / "yrd.toml"), "--out",
                                   str(tmp_path / "n.html"), "--pdf", str(tmp_path / "x.png")])
    assert bad.exit_code == 2 and "ending in .pdf" in bad.output
    assert not (tmp_path / "n.html").exists()  # refused before any work
    assert all(p.stat().st_mode & 0o044 == 0o044 for p in (pdf, png)), \
        "readable by others like the map, not mkstemp's 0600"


@pytest.mark.slow
def test_run_renders_the_print_layout_of_its_results(tmp_path):
    """`parksite run --png` prints the run's map (its suitability and chain-gap lines in
    the banner), and a wrong suffix is refused before the run starts."""
    import struct

    from click.testing import CliRunner

    from geo.cli import main as cli

    study = str(ROOT / "layers" / "yrd.toml")
    bad = CliRunner().invoke(cli, ["run", study, "--out-dir", str(tmp_path / "o1"), "--map",
                                   str(tmp_path / "m1.html"), "--png", str(tmp_path / "a.pdf")])
    assert bad.exit_code == 2 and "ending in .png" in bad.output
    assert not (tmp_path / "o1").exists() and not (tmp_path / "m1.html").exists()
    png = tmp_path / "a4.png"
    res = CliRunner().invoke(cli, ["run", study, "--out-dir", str(tmp_path / "o"), "--map",
                                   str(tmp_path / "m.html"), "--png", str(png)])
    assert res.exit_code == 0, res.output
    assert struct.unpack(">II", png.read_bytes()[16:24]) == (1062, 726)
    html = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "未做适宜性分析" not in html and "候选区域" in html


def _study_box(study) -> list[list[float]]:
    w, s, e, n = study.bounds
    return [[s, w], [n, e]]


def test_missing_browser_fails_under_ci_and_skips_elsewhere(monkeypatch, tmp_path):
    monkeypatch.setattr(_browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI: the browser tests must run"):
        require_browser()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="install_browser.sh"):
        require_browser()
