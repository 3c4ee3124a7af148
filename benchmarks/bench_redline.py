"""Benchmark: the red-line gate against geopandas.overlay(how="intersection").

10,000 plot polygons × 2,000 red-line polygons generated reproducibly over the YRD
(seeded), some zones with thousands of vertices (the real Taihu 5 km belt from the
bundled data, and shifted copies of it). Both run on the same input in the same
run; the overlap areas must agree to 1e-9 (relative). The gate computes more than
overlay (buffers, distances, classes, per-park status), so the goal is to be no
slower. Then 20,000, 50,000 and 100,000 plots show how the time grows.

Run: .venv/bin/python benchmarks/bench_redline.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely import affinity

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo.crs import area_crs_for, densify  # noqa: E402
from geo.redline import redline_conflicts  # noqa: E402

BOX = (119.9, 30.6, 122.3, 32.2)
CRS = area_crs_for(BOX)


def make_zones(n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    taihu = gpd.read_file(ROOT / "data/yrd/redlines.gpkg").to_crs(CRS)
    belt = taihu.loc[taihu["zone_id"] == "taihu_l1", "geometry"].iloc[0]
    # Densified to a vertex every 100 m: about 4,000 vertices, like a surveyed belt.
    belt = shapely.segmentize(belt, 100.0)
    big = [affinity.translate(belt, xoff=dx, yoff=dy)
           for dx, dy in rng.uniform(-60_000, 60_000, size=(10, 2))]
    x0, y0, x1, y1 = gpd.GeoSeries([shapely.box(*BOX)], crs=4326).to_crs(CRS).total_bounds
    m = n - len(big)
    cx = rng.uniform(x0, x1, m)
    cy = rng.uniform(y0, y1, m)
    r = rng.uniform(300, 3_000, m)
    nv = rng.integers(16, 256, m)
    geoms = []
    for i in range(m):  # building the test data, not the code under test
        t = np.linspace(0, 2 * np.pi, nv[i], endpoint=False)
        rr = r[i] * (1 + 0.25 * rng.uniform(-1, 1, nv[i]))
        geoms.append(shapely.Polygon(np.c_[cx[i] + rr * np.cos(t), cy[i] + rr * np.sin(t)]))
    geoms = shapely.make_valid(np.array(geoms + big, dtype=object))
    classes = rng.choice(["core", "redline", "restricted"], n, p=[0.2, 0.6, 0.2])
    return gpd.GeoDataFrame({"id": [f"z{i}" for i in range(n)],
                             "name": [f"zone {i}" for i in range(n)],
                             "class": classes, "banned_industries": "chemicals"},
                            geometry=geoms, crs=CRS)


def make_plots(n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    x0, y0, x1, y1 = gpd.GeoSeries([shapely.box(*BOX)], crs=4326).to_crs(CRS).total_bounds
    cx = rng.uniform(x0, x1, n)
    cy = rng.uniform(y0, y1, n)
    side = np.sqrt(rng.uniform(5e4, 2e6, n))  # 5–200 ha
    geoms = shapely.box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    return gpd.GeoDataFrame({"id": [f"p{i}" for i in range(n)],
                             "name": [f"plot {i}" for i in range(n)]},
                            geometry=geoms, crs=CRS)


def timed(fn, *a, **k):
    t = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller growth series")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(20261122)
    zones = make_zones(2_000, rng)
    plots = make_plots(10_000, rng)
    nverts = shapely.get_num_coordinates(zones.geometry.values)
    print(f"red-line benchmark: {len(plots):,} plots × {len(zones):,} zones "
          f"({int(nverts.sum()):,} zone vertices, largest {int(nverts.max()):,})")

    ours, t_ours = timed(redline_conflicts, plots, zones, buffer_m=0.0,
                         park_industries={"p0": ["electronics"]}, area_crs=CRS)
    ov, t_ov = timed(gpd.overlay, plots, zones, how="intersection", keep_geom_type=True)
    # Same pairs, same areas (restricted zones conflict only for banned industries in
    # the gate, so compare with the unfiltered overlap of every pair).
    ov_area = dict(zip(zip(ov["id_1"], ov["id_2"], strict=True), ov.area, strict=True))
    ours_all, _ = timed(redline_conflicts, plots, zones.assign(**{"class": "redline"}),
                        buffer_m=0.0, area_crs=CRS)
    mine = dict(zip(zip(ours_all.conflicts["park_id"], ours_all.conflicts["zone_id"], strict=True),
                    ours_all.conflicts["overlap_m2"], strict=True))
    keys = {k for k, v in ov_area.items() if v > 0}
    assert keys == {k for k, v in mine.items() if v > 0}, "different conflicting pairs"
    rel = max(abs(mine[k] - ov_area[k]) / ov_area[k] for k in keys)
    assert rel <= 1e-9, f"areas differ by {rel:.2e}"
    print(f"  geopandas.overlay(intersection): {t_ov:7.2f} s  ({len(ov):,} pieces)")
    print(f"  parksite redline_conflicts:      {t_ours:7.2f} s  ({len(ours.conflicts):,} "
          f"conflicts, + classes, distances, per-park status)")
    print(f"  ratio overlay / parksite = {t_ov / t_ours:.2f}×  "
          f"(areas agree: max relative difference {rel:.1e} over {len(keys):,} pairs)")
    _, t_buf = timed(redline_conflicts, plots, zones, buffer_m=1000.0, area_crs=CRS)
    print(f"  with a 1,000 m buffer: {t_buf:.2f} s")
    # As read_layer returns layers (EPSG:4326): the gate densifies them to 0.0025° in
    # lon/lat before projecting (geo.crs.densify), so that long edges are not chords.
    p_geo, z_geo = plots.to_crs(4326), zones.to_crs(4326)
    _, t_geo = timed(redline_conflicts, p_geo, z_geo, buffer_m=1000.0, area_crs=CRS)
    _, t_dens = timed(lambda: [densify(g.geometry.values, g.crs) for g in (p_geo, z_geo)])
    _, t_proj = timed(lambda: [g.to_crs(CRS) for g in (p_geo, z_geo)])
    nv0 = int(shapely.get_num_coordinates(np.r_[p_geo.geometry.values,
                                                z_geo.geometry.values]).sum())
    dense = np.r_[densify(p_geo.geometry.values, 4326), densify(z_geo.geometry.values, 4326)]
    nv1 = int(shapely.get_num_coordinates(dense).sum())
    print(f"  inputs in EPSG:4326, 1,000 m buffer: {t_geo:.2f} s, of which densifying to "
          f"0.0025° {t_dens:.2f} s ({nv0:,} → {nv1:,} vertices) and projecting {t_proj:.2f} s "
          "before densifying")

    print("growth (buffer 1,000 m):")
    prev = None
    for n in ((20_000, 50_000) if args.quick else (20_000, 50_000, 100_000)):
        p = make_plots(n, np.random.default_rng(n))
        r, t = timed(redline_conflicts, p, zones, buffer_m=1000.0, area_crs=CRS)
        per = t / n * 1e6
        print(f"  {n:>7,} plots: {t:6.2f} s  ({per:.0f} µs/plot, {len(r.conflicts):,} conflicts)"
              + (f", ×{t / prev[1]:.2f} time for ×{n / prev[0]:.1f} plots" if prev else ""))
        prev = (n, t)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
