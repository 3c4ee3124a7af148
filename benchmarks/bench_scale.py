"""Benchmark: the red-line gate single-process vs on dask partitions (1 and 2 workers).

A SYNTHETIC plot register (made-up 300 m squares, seeded, placed inside the real YRD
study area of ``layers/yrd.toml``) against the bundled red-line zones. The same input
runs through :func:`geo.redline.redline_conflicts` in this process, then through
:func:`geo.partitioned.redline_conflicts_partitioned` on a ``LocalCluster``
(:func:`geo.compute.client`, worker processes, one thread each) with 1 worker and with
2 workers, the same Hilbert partitions each time (``--npartitions``, default 32 at 10⁶
plots: 16 tasks per worker, so the two end within a fraction of a task of each other),
``--repeat`` times with 1 and 2 workers alternating (a fresh cluster each time, its
workers' imports done before the clock starts: cluster start-up is not timed). The
tables must be identical; every time, the best of each, the partitioned/single ratio and
the 1 → 2 worker speed-up are printed (the issue 13 goal is ≥ 1.6× on 2 cores), each
with the load average, since a shared machine's other work takes cores from the 2-worker
run; beside each run a CPU probe (8 equal numpy tasks on the same cluster) shows what
speed-up the machine gave a second worker at that moment.

Suitability (``--suitability``): the real YRD study (``layers/yrd.toml``, 6 criteria with
AHP weights, red lines, water, land use, slope, 200 Monte Carlo runs, 15,000-亩 cut
regions) at ``--cell-m`` (default 50 m ≈ 19 M cells) with the in-memory engine and with
the dask engine (a 2-worker ``LocalCluster``: worker processes with criterion stacks
recomputed per pass, then kept on the workers; and ``dask-threads``, two worker threads
in one process — ``[compute] workers = "threads"`` — stacks recomputed), each in a child
process whose peak memory is the peak of the summed
RSS of its process tree (driver + Dask workers) sampled every 0.1 s. The rasters must
be the same (codes identical, scores within 1e-6); the time ratio, the peak-memory
ratio and the time per million cells are printed.

Run: .venv/bin/python benchmarks/bench_scale.py [--quick] [--plots N]
     .venv/bin/python benchmarks/bench_scale.py --suitability [--cell-m 50]
     .venv/bin/python benchmarks/bench_scale.py --suitability --cell-m 25 \\
         --engines memory dask --max-memory-gb 12
     .venv/bin/python benchmarks/bench_scale.py --network-cache
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
import rasterio
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


def warm(c) -> None:
    """Import the partitioned code in every worker of client ``c`` (part of the cluster
    start-up, which is not timed)."""
    c.run(importlib.import_module, "geo.partitioned")


def _spin(rounds: int) -> float:
    """CPU-bound numpy work in one task (for :func:`probe`)."""
    x = np.arange(20_000.0)
    return float(sum(np.sin(x + i).sum() for i in range(rounds)))


def probe(c) -> float:
    """Seconds 8 equal CPU-bound tasks take on client ``c``'s workers: the speed-up of
    this probe from 1 to 2 workers is what the machine gives a second worker right now
    (the ceiling for the workloads measured beside it)."""
    c.submit(_spin, 1, pure=False).result()
    t = time.perf_counter()
    c.gather([c.submit(_spin, 300, pure=False) for _ in range(8)])
    return time.perf_counter() - t


def _cpu_now() -> float:
    """User + system CPU seconds of this process so far (all its threads)."""
    t = psutil.Process().cpu_times()
    return t.user + t.system


class CpuClock:
    """CPU seconds the driver (this process: the caller, the scheduler and the comms)
    and each worker process of client ``c`` use inside a ``with`` block.

    On this machine Linux's autogroup scheduler shares the CPU between login sessions,
    so while another session is busy all the workers of this one share about one core
    and the wall-clock speed-up of a second worker says little about the code. The CPU
    seconds do not depend on that: ``free_core_s`` (driver + slowest worker) is the
    time with a core per process, assuming the driver's work does not overlap the
    workers' (it runs before and after them), an estimate labelled as such."""

    def __init__(self, c) -> None:
        self.c = c
        self.driver = 0.0
        self.workers: list[float] = []

    def __enter__(self) -> CpuClock:
        self._d0, self._w0 = _cpu_now(), self.c.run(_cpu_now)
        return self

    def __exit__(self, *exc) -> None:
        self.driver = _cpu_now() - self._d0
        w1 = self.c.run(_cpu_now)
        self.workers = sorted((w1[k] - self._w0[k] for k in w1), reverse=True)

    @property
    def free_core_s(self) -> float:
        """Driver + slowest worker CPU seconds."""
        return self.driver + self.workers[0]

    def __str__(self) -> str:
        ws = " + ".join(f"{w:.1f}" for w in self.workers)
        return (f"CPU: driver {self.driver:.1f} s, workers {ws} s → with a free core per "
                f"process ≈ {self.free_core_s:.1f} s")


def load() -> str:
    """The 1-minute load average, for every timed figure (the 2 cores are shared)."""
    return f"load average {os.getloadavg()[0]:.1f}"


def timed(fn, *a, repeat: int = 1, **k):
    """``fn``'s result and its best time over ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*a, **k)
        best = min(best, time.perf_counter() - t)
    return out, best


CHILD = """
import dataclasses, json, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {root!r})
from geo import compute
from geo.study import load_study
from geo.suitability import prepare as _prep, run_suitability
from geo.suitability.chunked import run_chunked

def main():
    max_gb = {max_memory_gb!r}
    if max_gb is not None:  # the in-memory engine's refusal lifted (benchmark)
        _load = _prep.load_config
        _prep.load_config = lambda s: dataclasses.replace(_load(s), max_memory_gb=max_gb)
    st = load_study({study!r})
    t = time.perf_counter()
    if {engine!r} == "memory":
        res = run_suitability(st, cell_m={cell_m}, out_dir={out!r}, engine="memory")
    else:
        with compute.client(n_workers=2, memory_gb={memory_gb}, processes={processes},
                            dashboard=False):
            res = run_chunked(st, cell_m={cell_m}, out_dir={out!r}, keep_stacks={keep},
                              tile_side={tile})
    print(json.dumps({{"s": time.perf_counter() - t, "cells": res.grid.size,
                      "candidates": len(res.candidates), "timings": res.timings,
                      "engine": res.model_card.get("engine")}}))

if __name__ == "__main__":
    main()
"""


def tree_rss(proc: psutil.Process) -> tuple[int, int]:
    """Resident memory (bytes) of a process and the sum over its descendants."""
    own = rest = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            rss = p.memory_info().rss
        except psutil.Error:
            continue
        if p.pid == proc.pid:
            own = rss
        else:
            rest += rss
    return own, rest


def run_child(code: str) -> tuple[dict, float, float]:
    """Run ``code`` in a child Python; (its JSON line, peak summed RSS of its process
    tree in GiB, peak RSS of the child alone — the driver — in GiB)."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(code)
    child = subprocess.Popen([sys.executable, f.name], stdout=subprocess.PIPE, text=True)
    proc, peak, peak_own = psutil.Process(child.pid), 0, 0
    while child.poll() is None:
        own, rest = tree_rss(proc)
        peak, peak_own = max(peak, own + rest), max(peak_own, own)
        time.sleep(0.1)
    out = child.stdout.read()
    os.unlink(f.name)
    if child.returncode:
        raise RuntimeError(f"child failed ({child.returncode}): {out[-2000:]}")
    return json.loads(out.strip().splitlines()[-1]), peak / compute.GB, peak_own / compute.GB


def same_rasters(a: Path, b: Path) -> float:
    """The two runs' rasters are the same (codes and nodata identical, scores within
    1e-6; compared by 1024-row strips); returns the largest score difference."""
    worst = 0.0
    for name in ("suitability.tif", "exclusion.tif", "stability.tif"):
        with rasterio.open(a / name) as x, rasterio.open(b / name) as y:
            assert (x.width, x.height) == (y.width, y.height), name
            for r0 in range(0, x.height, 1024):
                w = rasterio.windows.Window(0, r0, x.width, min(1024, x.height - r0))
                u, v = x.read(1, window=w), y.read(1, window=w)
                if u.dtype.kind == "f":
                    assert (np.isnan(u) == np.isnan(v)).all(), f"{name}: nodata differs"
                    d = float(np.nanmax(np.abs(u - v), initial=0.0))
                    assert d <= 1e-6, f"{name} differs by {d} in rows {r0}…"
                    worst = max(worst, d)
                else:
                    assert (u == v).all(), f"{name} differs in rows {r0}…"
    return worst


#: --engines: key → (label, engine, stacks kept, worker processes).
ENGINES = {"memory": ("in-memory", "memory", None, True),
           "dask": ("dask, stacks recomputed", "dask", False, True),
           "dask-kept": ("dask, stacks kept", "dask", True, True),
           "dask-threads": ("dask, threads, recomputed", "dask", False, False)}


def bench_suitability(cell_m: float, memory_gb: float, tile: int | None,
                      engines: list[str], max_memory_gb: float | None = None) -> None:
    """In-memory vs dask engine on the YRD grid, each in a child process."""
    print(f"suitability benchmark: real YRD study at {cell_m:g} m, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    rows = {}
    with tempfile.TemporaryDirectory(dir=ROOT / "out" if (ROOT / "out").is_dir() else None
                                     ) as tmp:
        for label, engine, keep, processes in (ENGINES[e] for e in engines):
            out = str(Path(tmp) / label.replace(" ", "_").replace(",", ""))
            code = CHILD.format(root=str(ROOT), study=str(ROOT / "layers" / "yrd.toml"),
                                engine=engine, cell_m=cell_m, out=out, memory_gb=memory_gb,
                                keep=keep, tile=tile, max_memory_gb=max_memory_gb,
                                processes=processes)
            res, peak, own = run_child(code)
            rows[label] = (res, peak, out)
            eng = res["engine"] or {}
            extra = (f", {eng['tiles']} tiles of {eng['tile_side_cells']} cells on "
                     f"{eng['workers']} workers; driver alone {own:.2f} GiB" if eng else "")
            print(f"  {label:26s} {res['s']:7.1f} s  peak {peak:5.2f} GiB  "
                  f"{res['s'] / res['cells'] * 1e6:6.2f} s per million cells  "
                  f"({res['cells']:,} cells, {res['candidates']} candidates{extra})",
                  flush=True)
        base = rows.get("in-memory")
        for label in [r for r in rows if base is not None and r != "in-memory"]:
            res, peak, out = rows[label]
            d = same_rasters(Path(base[2]), Path(out))
            print(f"  {label}: time ×{res['s'] / base[0]['s']:.2f} of in-memory, peak memory "
                  f"{base[1] / peak:.2f}× lower (goal ≥ 3×); same rasters (codes identical, "
                  f"scores within {d:.1e})")
    print(f"  load average {os.getloadavg()[0]:.1f} at the end")


def bench_network_cache() -> None:
    """The YRD road network (with its connectors) built, then loaded from the disk cache."""
    from geo.network import Network

    src = (ROOT / "layers" / "yrd.toml").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        # the bundled study with a cache folder: paths made absolute, [compute] appended
        text = src.replace('"../', f'"{ROOT}/')
        study_file = Path(tmp) / "yrd_cached.toml"
        study_file.write_text(text + '\n[compute]\ncache_dir = "cache"\n', encoding="utf-8")
        times = []
        for _ in range(2):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                study = load_study(study_file)
            t = time.perf_counter()
            net = Network.from_study(study)
            times.append(time.perf_counter() - t)
        size = sum(f.stat().st_size for f in (Path(tmp) / "cache").iterdir())
    print(f"network cache: YRD roads + connectors ({net.n_nodes:,} nodes, {net.n_edges:,} "
          f"edges): built in {times[0]:.2f} s, loaded from the cache in {times[1]:.2f} s "
          f"(×{times[0] / times[1]:.1f}; {size / 1e6:.1f} MB npz)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 plots instead of 100,000")
    ap.add_argument("--plots", type=int, default=None, help="number of synthetic plots")
    ap.add_argument("--npartitions", type=int, default=None,
                    help="Hilbert partitions of the plots (tasks: a free worker takes the "
                         "next, so with many per worker the workers finish together); "
                         "default one per ~30,000 plots, 8 to 32")
    ap.add_argument("--repeat", type=int, default=2, help="best of this many runs")
    ap.add_argument("--suitability", action="store_true",
                    help="the suitability engines instead of the red-line gate")
    ap.add_argument("--cell-m", type=float, default=50.0, help="suitability cell size (m)")
    ap.add_argument("--memory-gb", type=float, default=2.0,
                    help="memory budget of the dask engine's local cluster (GiB)")
    ap.add_argument("--tile", type=int, default=None, help="dask tile side in cells")
    ap.add_argument("--max-memory-gb", type=float, default=None,
                    help="lift the in-memory engine's [suitability] max_memory_gb (GB) to "
                         "compare on grids it refuses")
    ap.add_argument("--network-cache", action="store_true",
                    help="the road network built vs loaded from [compute] cache_dir")
    ap.add_argument("--engines", nargs="+", choices=list(ENGINES), default=list(ENGINES),
                    help="suitability engines to run (the in-memory one refuses grids over "
                         "its max_memory_gb)")
    args = ap.parse_args(argv)
    if args.network_cache:
        bench_network_cache()
        return 0
    if args.suitability:
        bench_suitability(args.cell_m, args.memory_gb, args.tile, args.engines,
                          args.max_memory_gb)
        return 0
    n = args.plots or (20_000 if args.quick else 100_000)
    if args.npartitions is None:  # a task costs ~15 ms of pandas work besides its plots
        args.npartitions = min(32, max(8, n // 30_000))
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
          f"({len(single.conflicts):,} conflicts); {load()}", flush=True)
    times: dict[int, float] = {}
    probes: dict[int, float] = {}
    free: dict[int, float] = {}
    for _ in range(args.repeat):  # 1 and 2 workers alternate, so both see the same load
        for workers in (1, 2):
            with compute.client(n_workers=workers, memory_gb=min(2.0 * workers, 4.0),
                                dashboard=False) as c:
                warm(c)
                with CpuClock(c) as cpu:
                    part, t = timed(redline_conflicts_partitioned, plots, zones,
                                    npartitions=args.npartitions, **kw)
                pr = probe(c)
            same(single, part)
            times[workers] = min(t, times.get(workers, float("inf")))
            probes[workers] = min(pr, probes.get(workers, float("inf")))
            free[workers] = min(cpu.free_core_s, free.get(workers, float("inf")))
            print(f"  partitioned, LocalCluster {workers} worker{'s' if workers > 1 else ' '}:  "
                  f"{t:7.2f} s  (×{t_single / t:.2f} vs single process; tables identical); "
                  f"{cpu}; CPU probe {pr:.2f} s; {load()}", flush=True)
    print(f"  best of {args.repeat}: 1 worker {times[1]:.2f} s, 2 workers {times[2]:.2f} s, "
          f"speed-up 1 → 2 workers = {times[1] / times[2]:.2f}× (goal ≥ 1.6× on 2 cores); "
          f"the CPU probe's speed-up beside it {probes[1] / probes[2]:.2f}× (what the "
          f"machine gave a second worker); ESTIMATE from CPU seconds with a free core per "
          f"process: {free[1]:.1f} s vs {free[2]:.1f} s = {free[1] / free[2]:.2f}×; "
          f"{load()} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
