"""The national demo, generated reproducibly from the packaged national data.

Writes into ``--out`` (default a new temporary folder, kept and printed):

* ``province``: the demo study of one province (``parksite init``'s layers plus a
  SYNTHETIC register of ``--firms`` firms on its real districts) and its suitability at
  ``--cell-m`` through the chunked engine on a 2-worker LocalCluster (COGs in
  ``<adcode>_out/``);
* ``national``: the coarse national grid (``--national-cell-m``, default 2 km) as a
  mosaic of units that each fit one CGCS2000 GK zone
  (:func:`geo.national_demo.national_units`: 18 provinces whole, the wider ones by
  prefecture, a prefecture still too wide by county: 318 units), with a table
  ``national_grid.csv`` of cells, candidates, seconds or the error per unit;
  ``--units N`` runs the first N units only (and says so).

Run: .venv/bin/python benchmarks/national_demo.py [--parts province national]
     [--province 江苏省] [--cell-m 250] [--firms 100000] [--units N] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo import compute  # noqa: E402
from geo import national_demo as nd  # noqa: E402
from geo.io import write_csv  # noqa: E402
from geo.study import load_study  # noqa: E402
from geo.suitability.chunked import run_chunked  # noqa: E402


def province(out: Path, name: str, cell_m: float, firms: int, runs: int) -> None:
    t = time.perf_counter()
    path = nd.write_province_demo(name, out, n_firms=firms, cell_m=cell_m)
    print(f"province demo study: {path} ({firms:,} SYNTHETIC firms) written in "
          f"{time.perf_counter() - t:.1f} s", flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = load_study(path)
    with compute.client(n_workers=2, memory_gb=2.0) as c:
        print(f"  Dask dashboard: {compute.dashboard_link(c)}", flush=True)
        t = time.perf_counter()
        res = run_chunked(st, out_dir=out / f"{path.stem}_out", runs=runs)
    print(f"  suitability at {cell_m:g} m: {res.grid.size:,} cells, {len(res.candidates)} "
          f"candidates, {time.perf_counter() - t:.1f} s → {out / (path.stem + '_out')}")


def national(out: Path, cell_m: float, runs: int, n_units: int | None) -> None:
    units = nd.national_units()
    if n_units is not None:
        print(f"national grid: the first {n_units} of {len(units)} units only (--units)")
        units = units[:n_units]
    t = time.perf_counter()
    table = nd.run_national_grid(out / "national", cell_m=cell_m, runs=runs, units=units,
                                 log=lambda s: print("  " + s, flush=True))
    write_csv(table, out / "national_grid.csv")
    bad = table[table["error"] != ""]
    print(f"national grid at {cell_m:g} m: {len(table)} units, {table['cells'].sum():,} cells, "
          f"{table['candidates'].sum():,} candidates, {time.perf_counter() - t:.0f} s; "
          f"{len(bad)} unit(s) failed (listed above and in national_grid.csv)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", nargs="+", default=["province", "national"],
                    choices=["province", "national"])
    ap.add_argument("--province", default="江苏省")
    ap.add_argument("--cell-m", type=float, default=250.0)
    ap.add_argument("--national-cell-m", type=float, default=2000.0)
    ap.add_argument("--firms", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--units", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="parksite-national-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"national demo → {out}")
    if "province" in args.parts:
        province(out, args.province, args.cell_m, args.firms, args.runs)
    if "national" in args.parts:
        national(out, args.national_cell_m, min(args.runs, 50), args.units)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
