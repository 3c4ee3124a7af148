"""The recommendation picker in a real browser (headless Chromium, network cut off, as
tests/test_browser.py): choose an industry, its ranked sites fill the table, clicking a
row zooms to and outlines that park; hostile strings in the ranking stay text.

Skipped without /usr/bin/chromium and /usr/bin/chromedriver (failed under CI=true).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pytest
from _browser import (
    console_errors,
    open_map,
    requested_urls,
    require_browser,
    screenshot_dir,
)
from _mapdata import XSS

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::geo.crs.ZoneWarning")]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def picker_map(tmp_path_factory):
    """The bundled study's offline map with the gate and the rankings of every
    chain-map industry (one site name made hostile)."""
    require_browser()
    from geo.recommend import rank_industries
    from geo.redline import check_study
    from geo.study import load_study
    from geo.webmap import MapData, write_map

    tmp = tmp_path_factory.mktemp("picker")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(ROOT / "layers" / "yrd.toml")
        red = check_study(study)
        ranking = rank_industries(study)
        evil = ranking.copy()
        hit = (evil["industry"] == "pcb") & (evil["rank"] == 2)
        evil.loc[hit, "site_name"] = XSS
        evil.loc[hit, "reason_zh"] = XSS
        info = write_map(study, tmp / "yrd.html", MapData(redline_conflicts=red.conflicts,
                                                          redline_parks=red.parks,
                                                          ranking=evil))
    return {"study": study, "ranking": ranking, "info": info}


def _choose(driver, industry: str) -> None:
    driver.execute_script(
        "var s = document.querySelector('#ps-picker select[data-picker]');"
        "s.value = arguments[0]; s.dispatchEvent(new Event('change'));", industry)


def _rows(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#ps-picker tr.ps-row')).map("
        "function(r){ return r.getAttribute('data-site'); });")


def test_choose_an_industry_and_zoom_to_its_park(driver, picker_map):
    requested_urls(driver)
    console_errors(driver)
    open_map(driver, Path(picker_map["info"]["path"]))
    assert driver.find_element("id", "ps-picker")
    opts = driver.execute_script(
        "return Array.from(document.querySelectorAll('#ps-picker option')).map("
        "function(o){ return [o.value, o.textContent]; });")
    ranking = picker_map["ranking"]
    assert [v for v, _ in opts[1:]] == list(dict.fromkeys(ranking["industry"]))
    label = dict(opts)["notebook_assembly"]
    assert label.startswith("笔记本") or "Notebook assembly" in label
    assert "Notebook assembly" in label
    assert _rows(driver) == []  # nothing until an industry is chosen
    driver.find_element("css selector", "#ps-picker summary").click()
    _choose(driver, "notebook_assembly")
    want = ranking[(ranking["industry"] == "notebook_assembly") & ranking["rank"].notna()]
    assert _rows(driver) == want.sort_values("rank")["site_id"].head(10).tolist()
    first = driver.find_element("css selector", "#ps-picker tr.ps-row")
    assert "区位商" in first.text  # the reasons, Chinese first
    # the map starts on the whole study; a row click zooms to its park and outlines it
    z0 = driver.execute_script("return window.parksite.map.getZoom();")
    first.click()
    time.sleep(0.2)
    assert driver.execute_script("return window.parksite.map.getZoom();") > z0
    pid = want.sort_values("rank")["site_id"].iloc[0]
    parks = picker_map["study"].load("parks")
    geom = parks.loc[parks["id"].astype(str) == pid].geometry.iloc[0]
    c = geom.representative_point()
    w, s, e, n = geom.bounds
    assert driver.execute_script(
        "var b = window.parksite.map.getBounds();"
        "return b.contains([arguments[0], arguments[1]]) && "
        "b.contains([[arguments[2], arguments[3]], [arguments[4], arguments[5]]]);",
        c.y, c.x, s, w, n, e)
    assert driver.execute_script(
        "return document.querySelectorAll('path.ps-park.ps-hl').length;") >= 1
    assert driver.execute_script(
        "return document.querySelector('#ps-picker tr.ps-row.ps-on').getAttribute("
        "'data-site');") == pid
    driver.save_screenshot(str(screenshot_dir() / "yrd_picker.png"))
    # another industry refills the table; its first park gets the outline instead
    _choose(driver, "fine_chemicals")
    chem = ranking[(ranking["industry"] == "fine_chemicals") & ranking["rank"].notna()]
    assert _rows(driver) == chem.sort_values("rank")["site_id"].head(10).tolist()
    assert console_errors(driver) == []
    assert [u for u in requested_urls(driver) if u.lower().startswith(("http:", "https:"))] \
        == []


def test_hostile_names_in_the_ranking_stay_text(driver, picker_map):
    console_errors(driver)
    open_map(driver, Path(picker_map["info"]["path"]))
    driver.find_element("css selector", "#ps-picker summary").click()
    _choose(driver, "pcb")
    assert driver.execute_script(
        "return document.querySelectorAll('#ps-picker img, #ps-picker script').length;") == 0
    text = driver.find_element("id", "ps-picker").text
    assert XSS in text
    driver.find_elements("css selector", "#ps-picker tr.ps-row")[1].click()
    time.sleep(0.3)
    assert driver.execute_script("return typeof window.__pwned;") == "undefined"
    assert console_errors(driver) == []


_CLASHES = """
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
    return out;"""


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)])
def test_the_picker_panel_overlaps_no_other_at_opening(driver, picker_map, size):
    w, h = size
    console_errors(driver)
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": w, "height": h, "deviceScaleFactor": 1, "mobile": False})
        open_map(driver, Path(picker_map["info"]["path"]))
        time.sleep(0.4)
        assert driver.execute_script(_CLASHES) == [], size
        # opened and filled, it stays open and the panels it would cover fold
        driver.execute_script("document.querySelector('#ps-picker details').open = true;")
        _choose(driver, "pcb")
        time.sleep(0.4)
        assert driver.execute_script(
            "return document.querySelector('#ps-picker details').open;"), size
        assert driver.execute_script(_CLASHES) == [], size
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert console_errors(driver) == []
