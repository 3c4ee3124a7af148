"""Run every benchmark in this folder (bench_*.py, each with a main()) and print
their figures. Speed goals live here, never in timed unit tests.

Run: .venv/bin/python benchmarks/run_all.py [NAME ...]
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    names = argv if argv is not None else sys.argv[1:]
    failed = []
    for path in sorted(HERE.glob("bench_*.py")):
        if names and not any(n in path.stem for n in names):
            continue
        print(f"\n=== {path.stem} ===", flush=True)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        assert spec.loader is not None
        t = time.perf_counter()
        try:
            spec.loader.exec_module(mod)
            takes_argv = bool(inspect.signature(mod.main).parameters)
            rc = mod.main([]) if takes_argv else mod.main()
        except Exception as exc:  # report and go on with the others
            print(f"{path.stem} failed: {type(exc).__name__}: {exc}")
            rc = 1
        print(f"({path.stem}: {time.perf_counter() - t:.1f} s)")
        if rc:
            failed.append(path.stem)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
