"""Benchmark: the red-line gate single-process vs on dask partitions (1 and 2 workers).

A SYNTHETIC plot register (made-up 300 m squares, seeded, placed inside the real YRD
study area of ``layers/yrd.toml``) against the bundled red-line zones. The same input
runs through :func:`geo.redline.redline_conflicts` in this process, then through
:func:`geo.partitioned.redline_conflicts_partitioned` on a ``LocalCluster``
(:func:`geo.compute.client`, worker processes, one thread each) with 1 worker and with
2 workers, the same Hilbert partitions each time. The tables must be identical; the
best of ``--repeat`` times, the partitioned/single ratio and the 1 → 2 worker speed-up
are printed (the issue 13 goal is ≥ 1.6× on 2 cores), with the load average, since a
shared machine's other work takes cores from the 2-worker run. Cluster start-up is not
timed.

Run: .venv/bin/python benchmarks/bench_scale.py [--quick] [--plots N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo import compute  # noqa: E402
from geo.partitioned import redline_conflicts_partitioned  # noqa: E402
from geo.redline import redline_conflicts  # noqa: E402
from geo.study import load_study  # noqa: E402


def make_plots(study, n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """SYNTHETIC: ``n`` 300 m square plots with centres inside the real YRD boundary."""
    crs = study.area_crs
    bnd = gpd.GeoSeries([study.boundary], crs=4326).to_crs(crs).iloc[0]
    x0, y0, x1, y1 = bnd.bounds
    shapely.prepare(bnd)
    pts = np.empty(0, dtype=object)
    while len(pts) < n:
        p = shapely.points(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n))
        pts = np.r_[pts, p[shapely.contains(bnd, p)]]
    pts = pts[:n]
    return gpd.GeoDataFrame(
        {"id": [f"syn{i}" for i in range(n)], "name": "synthetic plot"},
        geometry=shapely.buffer(pts, 150, cap_style="square"), crs=crs,
    )


def same(a, b) -> None:
    pd.testing.assert_frame_equal(a.parks, b.parks)
    pd.testing.assert_frame_equal(pd.DataFrame(a.conflicts.drop(columns="geometry")),
                                  pd.DataFrame(b.conflicts.drop(columns="geometry")))
    assert shapely.equals_exact(a.conflicts.geometry.values, b.conflicts.geometry.values,
                                tolerance=1e-9).all(), "conflict geometries differ"


def timed(fn, *a, repeat: int = 1, **k):
    """``fn``'s result and its best time over ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*a, **k)
        best = min(best, time.perf_counter() - t)
    return out, best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 plots instead of 100,000")
    ap.add_argument("--plots", type=int, default=None, help="number of synthetic plots")
    ap.add_argument("--npartitions", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=2, help="best of this many runs")
    args = ap.parse_args(argv)
    n = args.plots or (20_000 if args.quick else 100_000)
    warnings.simplefilter("ignore")
    study = load_study(ROOT / "layers" / "yrd.toml")
    zones = study.load_role("redlines")
    plots = make_plots(study, n, np.random.default_rng(20261203))
    kw = dict(buffer_m=500.0, empty_bans="review", area_crs=study.area_crs)
    print(f"scale benchmark: {n:,} SYNTHETIC 300 m plots inside the real YRD study area × "
          f"{len(zones):,} bundled red-line zones, {args.npartitions} Hilbert partitions, "
          f"{os.cpu_count()} cores, best of {args.repeat}; load average "
          f"{os.getloadavg()[0]:.1f} at start")
    single, t_single = timed(redline_conflicts, plots, zones, repeat=args.repeat, **kw)
    print(f"  single process redline_conflicts:      {t_single:7.2f} s  "
          f"({len(single.conflicts):,} conflicts)")
    times = {}
    for workers in (1, 2):
        with compute.client(n_workers=workers, memory_gb=min(2.0 * workers, 4.0),
                            dashboard=False):
            part, t = timed(redline_conflicts_partitioned, plots, zones,
                            npartitions=args.npartitions, repeat=args.repeat, **kw)
        same(single, part)
        times[workers] = t
        print(f"  partitioned, LocalCluster {workers} worker{'s' if workers > 1 else ' '}:  "
              f"{t:7.2f} s  (×{t_single / t:.2f} vs single process; tables identical)")
    print(f"  speed-up 1 → 2 workers = {times[1] / times[2]:.2f}×  "
          f"(goal ≥ 1.6× on 2 cores); load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
