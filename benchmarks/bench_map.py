"""Browser benchmark of the study maps: main's map (before) against this checkout's
(after), in one run, in headless Debian Chromium with the network cut.

Two studies: the bundled one (``layers/yrd.toml``) and a 10×-firms one generated at run
time (:func:`ten_x_firms`: the bundled register ten times, jittered inside the same
parks and districts, marked synthetic, in a temporary folder; nothing large is
committed). Each is run once (``run_study``) and drawn twice: "before" with the ``geo``
package of a git revision (default ``main``, exported with ``git archive`` into a
temporary folder), "after" with this checkout's. For each map:

* file size (MB), features drawn (leaf layers: paths and markers) and symbiosis
  features (one per firm pair, or per place pair when aggregated);
* first contentful paint and time until ``window.parksite.ready`` (ms);
* the longest frame and the total time while panning (12 animated pans of 300 px) and
  zooming (two levels in and out, animated) the opening view, requestAnimationFrame
  gaps in ms, and again with every layer on;
* DOM event listeners (DevTools ``Memory.getDOMCounters``) at opening and with every
  layer on;
* with ``--per-layer``, for each layer off at opening: the longest pan or zoom frame with
  the opening layers plus that one (one run per map, after the others), to tell what
  costs what.

The load average is printed before and after measuring: the machine is shared, frame
times are noisy, so compare before and after of one run (and use ``--runs 3``).

The figures are printed against the budgets of issue 12 (:data:`BUDGETS`: first paint
≤ 1.5 s, no frame over 100 ms, ≤ 5 MB for the bundled study).

Usage::

    .venv/bin/python benchmarks/bench_map.py [--rev main] [--runs 2] [--no-10x] [--per-layer]
        [--keep DIR]
    .venv/bin/python benchmarks/bench_map.py --before old.html --after new.html
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from _browser import chromium, console_errors, open_map  # noqa: E402

#: Issue 12's budgets on this machine: figure → (limit, studies it applies to).
BUDGETS: dict[str, tuple[float, tuple[str, ...]]] = {
    "mb": (5.0, ("bundled",)),
    "first_paint_ms": (1500.0, ("bundled", "10x")),
    "pan_max_frame_ms": (100.0, ("bundled", "10x")),
    "zoom_max_frame_ms": (100.0, ("bundled", "10x")),
}

#: The 10×-firms case: every firm of the bundled register ten times (the original and
#: nine copies within JITTER_M of it, inside the same park or district).
FIRMS_FACTOR = 10
JITTER_M = 600.0


def ten_x_firms(dest: Path, factor: int = FIRMS_FACTOR, seed: int = 0) -> Path:
    """A study like ``layers/yrd.toml`` with its firm register replicated ``factor`` times.

    Copy 0 is the bundled firm; copies 1 … factor-1 are moved by a normal jitter (σ =
    :data:`JITTER_M` m) and kept inside the firm's park polygon (firms in a park) or its
    district and outside every park (the others); a copy that does not land there in a
    few tries stays on the original point. Every copy is ``synthetic = True`` with
    ``-x<k>`` after its id and ``（副本k）`` / ``(copy k)`` after its names; land,
    investment, output and tax of every firm are divided by ``factor`` (the parks are as
    full as in the bundled study, and per-亩 figures stay the same). The register
    is written to ``dest/firms_10x.gpkg`` and the study to ``dest/yrd_10x.toml``, a copy
    of the bundled one whose other paths are absolute (the bundled data). Returns the
    study file.
    """
    import re

    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    data = ROOT / "data" / "yrd"
    firms = gpd.read_file(data / "firms.gpkg", layer="firms")
    parks = gpd.read_file(data / "parks.gpkg")
    districts = gpd.read_file(data / "base.gpkg", layer="districts")
    n = len(firms)
    pts = firms.geometry.values
    # the polygon each copy must stay in: the firm's park, else its district
    park_geom = dict(zip(parks["park_id"].astype(str), parks.geometry.values, strict=True))
    pid = firms["park_id"].fillna("").astype(str).to_numpy()
    home = np.array([park_geom.get(p) for p in pid], dtype=object)
    ip, idist = shapely.STRtree(districts.geometry.values).query(pts, predicate="within")
    dist_of = np.full(n, None, dtype=object)
    dist_of[ip] = districts.geometry.values[idist]
    outside = pid == ""
    home[outside] = dist_of[outside]
    free = shapely.is_missing(home)  # outside every district: anywhere off the parks
    all_parks = shapely.union_all(parks.geometry.values)
    rng = np.random.default_rng(seed)
    frames = [firms.assign(copy=0)]
    lat = shapely.get_y(pts)
    for k in range(1, factor):
        x, y = shapely.get_x(pts).copy(), lat.copy()
        todo = np.ones(n, bool)
        for _ in range(8):  # tries; copies still out stay on the firm's point
            if not todo.any():
                break
            dy = rng.normal(0, JITTER_M, n) / 111_320.0
            dx = rng.normal(0, JITTER_M, n) / (111_320.0 * np.cos(np.radians(lat)))
            cand = shapely.points(shapely.get_x(pts) + dx, lat + dy)
            ok = (shapely.contains(home, cand) | free) & \
                (~outside | ~shapely.contains(all_parks, cand))
            take = todo & ok
            x[take], y[take] = shapely.get_x(cand)[take], shapely.get_y(cand)[take]
            todo &= ~ok
        cp = firms.copy()
        cp["firm_id"] = cp["firm_id"].astype(str) + f"-x{k}"
        cp["name"] = cp["name"].astype(str) + f"（副本{k}）"
        cp["name_en"] = cp["name_en"].astype(str) + f" (copy {k})"
        cp["geometry"] = shapely.points(x, y)
        frames.append(cp.assign(copy=k))
    big = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=firms.crs)
    big["synthetic"] = True
    # ten firms where there was one, each a tenth of its size: parks are as full as the
    # bundled ones (the layout of [layout] still fits) and per-亩 figures are unchanged
    for c in ("land_mu", "fixed_investment_myuan", "annual_output_myuan", "annual_tax_myuan"):
        if c in big:
            big[c] = big[c] / factor
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / "firms_10x.gpkg"
    big.to_file(out, layer="firms", driver="GPKG")
    text = (ROOT / "layers" / "yrd.toml").read_text(encoding="utf-8")
    text = text.replace('"../', f'"{ROOT.as_posix()}/')
    text, k = re.subn(r'(\[layers\.firms\][^\[]*?path = )"[^"]*"', rf'\1"{out.as_posix()}"',
                      text, count=1)
    assert k == 1, "no [layers.firms] path in layers/yrd.toml"
    text = text.replace('name = "yrd"', 'name = "yrd_10x"', 1)
    study = dest / "yrd_10x.toml"
    study.write_text(text, encoding="utf-8")
    return study


_BUILD = """
import sys, warnings
import geo
print(geo.__file__, file=sys.stderr)
warnings.simplefilter("ignore")
from geo.study import load_study
from geo.pipeline import run_study
from geo.webmap import write_map
study = load_study(sys.argv[1])
run = run_study(study, sys.argv[2])
info = write_map(study, sys.argv[3], run)
print(info["bytes"])
"""


def build(geo_root: Path, out: Path, work: Path, study: Path | None = None) -> None:
    """Draw a study's map (default the bundled one) with the ``geo`` package under
    ``geo_root``."""
    env = {**os.environ, "PYTHONPATH": str(geo_root)}
    # run from the scratch folder: the current directory comes first on sys.path, and
    # this checkout's geo/ must not shadow the revision's
    subprocess.run([sys.executable, "-c", _BUILD, str(study or ROOT / "layers" / "yrd.toml"),
                    str(work / f"out_{out.stem}"), str(out)], check=True, env=env,
                   cwd=str(work), stdout=subprocess.DEVNULL)


def export(rev: str, dest: Path) -> Path:
    """``geo/`` of git revision ``rev`` (with this checkout's vendored assets)."""
    dest.mkdir(parents=True, exist_ok=True)
    tar = dest / "geo.tar"
    with tar.open("wb") as fh:
        subprocess.run(["git", "-C", str(ROOT), "archive", rev, "geo"], check=True, stdout=fh)
    with tarfile.open(tar) as tf:
        tf.extractall(dest, filter="data")
    vendor = ROOT / "geo" / "assets" / "vendor"
    (dest / "geo" / "assets" / "vendor").symlink_to(vendor, target_is_directory=True)
    return dest


_PAN = """
var done = arguments[arguments.length - 1];
var map = window.parksite.map, gaps = [], last = performance.now(), run = true;
function frame(t) { gaps.push(t - last); last = t; if (run) requestAnimationFrame(frame); }
requestAnimationFrame(frame);
var steps = [[300, 0], [0, 300], [-300, 0], [0, -300]], i = 0, t0 = performance.now();
function next() {
  if (i >= 12) { run = false; setTimeout(function() {
    done({max: Math.max.apply(null, gaps.slice(1)), total: performance.now() - t0,
          frames: gaps.length}); }, 100); return; }
  var s = steps[i++ % 4];
  map.once('moveend', function() { setTimeout(next, 30); });
  map.panBy(s, {animate: true, duration: 0.25});
}
next();
"""


_ZOOM = """
var done = arguments[arguments.length - 1];
var map = window.parksite.map, gaps = [], last = performance.now(), run = true;
function frame(t) { gaps.push(t - last); last = t; if (run) requestAnimationFrame(frame); }
requestAnimationFrame(frame);
var steps = [1, 1, -1, -1], i = 0, t0 = performance.now();
function next() {
  if (i >= steps.length) { run = false; setTimeout(function() {
    done({max: Math.max.apply(null, gaps.slice(1)), total: performance.now() - t0,
          frames: gaps.length}); }, 100); return; }
  var z = map.getZoom() + steps[i++];
  map.once('zoomend', function() { setTimeout(next, 60); });
  map.setZoom(z, {animate: true});
}
next();
"""


_COUNT = """
function leaves(l) {
  if (l.feature || !l.eachLayer) { return 1; }
  var n = 0; l.eachLayer(function(c) { n += leaves(c); }); return n;
}
var p = window.parksite, n = 0;
Object.keys(p.layers).forEach(function(k) { n += leaves(p.layers[k]); });
return {features: n, symbiosis: p.layers.symbiosis ? leaves(p.layers.symbiosis) : 0};
"""


_OPENING = """
var p = window.parksite;
return Object.keys(p.layers).filter(function(k) { return p.map.hasLayer(p.layers[k]); });
"""


_SET_ON = """
var p = window.parksite, want = arguments[0];
Object.keys(p.layers).forEach(function(k) {
  var on = want.indexOf(k) >= 0, has = p.map.hasLayer(p.layers[k]);
  if (on && !has) { p.map.addLayer(p.layers[k]); }
  if (!on && has) { p.map.removeLayer(p.layers[k]); }
});
return Object.keys(p.layers);
"""


_ALL_ON = """
var p = window.parksite;
Object.keys(p.layers).forEach(function(k) {
  if (!p.map.hasLayer(p.layers[k])) { p.map.addLayer(p.layers[k]); } });
"""


def listeners(driver) -> int:
    """DOM event listeners of the page (DevTools' DOM counters, after a garbage
    collection); -1 when the browser does not tell."""
    try:
        driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
        return int(driver.execute_cdp_cmd("Memory.getDOMCounters", {})["jsEventListeners"])
    except Exception:  # noqa: BLE001 - a figure, not a failure
        return -1


def measure(driver, path: Path) -> dict:
    """Size, counts, paint, pan and zoom figures of one map (ms)."""
    ready = open_map(driver, path) * 1000
    time.sleep(0.8)  # a heavy page paints its content after it is ready
    fcp = driver.execute_script(
        "var e = performance.getEntriesByType('paint').filter(function(p){"
        "return p.name === 'first-contentful-paint';})[0]; return e ? e.startTime : null;")
    counts = driver.execute_script(_COUNT)
    n_listen = listeners(driver)
    pan = driver.execute_async_script(_PAN)
    zoom = driver.execute_async_script(_ZOOM)
    driver.execute_script(_ALL_ON)
    time.sleep(1.0)
    pan_all = driver.execute_async_script(_PAN)
    zoom_all = driver.execute_async_script(_ZOOM)
    return {"mb": round(path.stat().st_size / 1e6, 2), "features": counts["features"],
            "symbiosis_features": counts["symbiosis"], "first_paint_ms": round(fcp or -1),
            "ready_ms": round(ready), "pan_max_frame_ms": round(pan["max"]),
            "pan_total_ms": round(pan["total"]), "zoom_max_frame_ms": round(zoom["max"]),
            "all_on_pan_max_frame_ms": round(pan_all["max"]),
            "all_on_pan_total_ms": round(pan_all["total"]),
            "all_on_zoom_max_frame_ms": round(zoom_all["max"]),
            "listeners": n_listen, "all_on_listeners": listeners(driver),
            "console_errors": len(console_errors(driver))}


def per_layer(driver, path: Path) -> dict[str, int]:
    """Layer key → the longest pan or zoom frame (ms) with the opening layers plus that
    one layer on (the opening set itself under ``(opening)``)."""
    open_map(driver, path)
    time.sleep(0.8)
    opening = driver.execute_script(_OPENING)
    keys = driver.execute_script(_SET_ON, opening)
    out: dict[str, int] = {}
    for key in ["(opening)"] + [k for k in keys if k not in opening]:
        driver.execute_script(_SET_ON, opening + ([key] if key != "(opening)" else []))
        time.sleep(0.6)
        pan = driver.execute_async_script(_PAN)
        zoom = driver.execute_async_script(_ZOOM)
        out[key] = round(max(pan["max"], zoom["max"]))
    return out


def _budget(key: str, study: str, value: float) -> str:
    """``≤ limit ok`` / ``≤ limit OVER`` for a figure with a budget, else ``""``."""
    limit = BUDGETS.get(key.replace("all_on_", ""))
    if limit is None or study not in limit[1]:
        return ""
    return f"≤ {limit[0]:g} {'ok' if value <= limit[0] else 'OVER'}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rev", default="main", help="git revision of 'before' [main]")
    ap.add_argument("--before", type=Path, help="an existing 'before' map of the bundled study")
    ap.add_argument("--after", type=Path, help="an existing 'after' map of the bundled study")
    ap.add_argument("--runs", type=int, default=2, help="measurements per map [2]")
    ap.add_argument("--no-10x", dest="tenx", action="store_false",
                    help="the bundled study only, not the 10×-firms one")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--per-layer", action="store_true",
                    help="also the longest pan/zoom frame with the opening layers plus one "
                         "layer at a time (one run per map)")
    ap.add_argument("--keep", type=Path,
                    help="build the maps in this folder and keep them (a 'before' map "
                         "already there is reused)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-map-") as tmp:
        work = Path(tmp) if args.keep is None else args.keep.resolve()
        work.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        rev_root: Path | None = None
        maps: dict[str, dict[str, Path]] = {"bundled": {}}
        studies: dict[str, Path | None] = {"bundled": None}
        if args.tenx:
            studies["10x"] = ten_x_firms(work / "tenx")
            maps["10x"] = {}
        for name, study in studies.items():
            given = {"before": args.before, "after": args.after} if name == "bundled" else {}
            for side in ("before", "after"):
                path = given.get(side)
                if path is None:
                    path = work / f"{side}_{name}.html"
                    if side == "before" and args.keep is not None and path.exists():
                        maps[name][side] = path
                        continue
                    if side == "before" and rev_root is None:
                        rev_root = export(args.rev, work / "rev")
                    build(rev_root if side == "before" else ROOT, path, work, study)
                maps[name][side] = path
        print(f"maps built in {time.perf_counter() - t0:.0f} s")
        figures: dict[str, dict[str, list[dict]]] = {
            name: {"before": [], "after": []} for name in maps}
        print(f"load average before measuring {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        with chromium(offline=True, width=1366, height=768) as driver:
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False})
            open_map(driver, maps["bundled"]["before"])  # warm-up: the first load is cold
            for _ in range(args.runs):
                for name, sides in maps.items():
                    for side, path in sides.items():
                        figures[name][side].append(measure(driver, path))
            layers: dict[str, dict[str, dict[str, int]]] = {
                name: {side: per_layer(driver, path) for side, path in sides.items()}
                for name, sides in maps.items()} if args.per_layer else {}
        print(f"total {time.perf_counter() - t0:.0f} s; load average (1, 5, 15 min) "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, fig in figures.items():
        title = {"bundled": "bundled study (layers/yrd.toml)",
                 "10x": f"{FIRMS_FACTOR}× firms (synthetic copies of the bundled register)"}
        print(f"\n{title[name]}: median of {args.runs} (the higher of two), 1366×768, "
              "network cut")
        print(f"{'':26s}{'before (' + args.rev + ')':>18s}{'after':>12s}   budget (after)")
        for k in fig["before"][0]:
            b = sorted(f[k] for f in fig["before"])[len(fig["before"]) // 2]
            a = sorted(f[k] for f in fig["after"])[len(fig["after"]) // 2]
            print(f"{k:26s}{b:>18}{a:>12}   {_budget(k, name, a)}")
        if name in layers:
            print("\n  longest pan/zoom frame, opening layers + one layer (ms):")
            print(f"  {'':32s}{'before':>10s}{'after':>10s}")
            lb, la = layers[name]["before"], layers[name]["after"]
            for k in sorted(set(lb) | set(la), key=lambda k: -max(la.get(k, 0), lb.get(k, 0))):
                print(f"  {k:32s}{lb.get(k, '–')!s:>10s}{la.get(k, '–')!s:>10s}")
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "per_layer": layers}, indent=1),
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
