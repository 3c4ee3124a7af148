"""Browser benchmark of the bundled study's map: main's map (before) against this
checkout's (after), in one run, in headless Debian Chromium with the network cut.

Both maps are drawn from one run of the bundled study (``layers/yrd.toml``): "before"
with the ``geo`` package of a git revision (default ``main``, exported with ``git
archive`` into a temporary folder), "after" with this checkout's. For each map:

* file size (MB);
* first contentful paint and time until ``window.parksite.ready`` (ms);
* the longest frame and the total time while panning the opening view (12 animated
  pans of 300 px, requestAnimationFrame gaps, ms), and again with every layer on.

Usage::

    .venv/bin/python benchmarks/bench_map.py [--rev main] [--runs 2]
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


def build(geo_root: Path, out: Path, work: Path) -> None:
    """Draw the bundled study's map with the ``geo`` package under ``geo_root``."""
    env = {**os.environ, "PYTHONPATH": str(geo_root)}
    # run from the scratch folder: the current directory comes first on sys.path, and
    # this checkout's geo/ must not shadow the revision's
    subprocess.run([sys.executable, "-c", _BUILD, str(ROOT / "layers" / "yrd.toml"),
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


_ALL_ON = """
var p = window.parksite;
Object.keys(p.layers).forEach(function(k) {
  if (!p.map.hasLayer(p.layers[k])) { p.map.addLayer(p.layers[k]); } });
"""


def measure(driver, path: Path) -> dict:
    """Paint and pan figures of one map (ms)."""
    ready = open_map(driver, path) * 1000
    time.sleep(0.8)  # a heavy page paints its content after it is ready
    fcp = driver.execute_script(
        "var e = performance.getEntriesByType('paint').filter(function(p){"
        "return p.name === 'first-contentful-paint';})[0]; return e ? e.startTime : null;")
    pan = driver.execute_async_script(_PAN)
    driver.execute_script(_ALL_ON)
    time.sleep(1.0)
    pan_all = driver.execute_async_script(_PAN)
    return {"mb": round(path.stat().st_size / 1e6, 2), "first_paint_ms": round(fcp or -1),
            "ready_ms": round(ready), "pan_max_frame_ms": round(pan["max"]),
            "pan_total_ms": round(pan["total"]),
            "all_on_pan_max_frame_ms": round(pan_all["max"]),
            "all_on_pan_total_ms": round(pan_all["total"]),
            "console_errors": len(console_errors(driver))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rev", default="main", help="git revision of 'before' [main]")
    ap.add_argument("--before", type=Path, help="an existing 'before' map instead")
    ap.add_argument("--after", type=Path, help="an existing 'after' map instead")
    ap.add_argument("--runs", type=int, default=2, help="measurements per map [2]")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-map-") as tmp:
        work = Path(tmp)
        before, after = args.before, args.after
        t0 = time.perf_counter()
        if before is None:
            before = work / "before.html"
            build(export(args.rev, work / "rev"), before, work)
        if after is None:
            after = work / "after.html"
            build(ROOT, after, work)
        print(f"maps built in {time.perf_counter() - t0:.0f} s")
        figures: dict[str, list[dict]] = {"before": [], "after": []}
        with chromium(offline=True, width=1366, height=768) as driver:
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False})
            for _ in range(args.runs):
                for name, path in (("before", before), ("after", after)):
                    figures[name].append(measure(driver, path))
    keys = list(figures["before"][0])
    print(f"{'':26s}{'before (' + args.rev + ')':>18s}{'after':>12s}   (median of "
          f"{args.runs}, 1366×768, network cut)")
    for k in keys:
        b = sorted(f[k] for f in figures["before"])[len(figures["before"]) // 2]
        a = sorted(f[k] for f in figures["after"])[len(figures["after"]) // 2]
        print(f"{k:26s}{b:>18}{a:>12}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
