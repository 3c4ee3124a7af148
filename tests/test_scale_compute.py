"""geo.compute: cluster setup and memory budget (2-worker LocalClusters)."""

from __future__ import annotations

import platform
import time
import warnings
from pathlib import Path

import dask.array as da
import numpy as np
import psutil
import pytest

from geo import compute
from geo.errors import InputError
from geo.study import load_study
from geo.suitability import chunked

ROOT = Path(__file__).resolve().parents[1]


def test_local_cluster_two_workers_runs_a_graph():
    with compute.client(n_workers=2, processes=True, memory_gb=1.0) as c:
        assert len(c.scheduler_info()["workers"]) == 2
        assert compute.dashboard_link(c).startswith("http")
        total = da.ones((400, 400), chunks=100).sum().compute()
    assert total == 160_000


def test_connect_by_address_to_an_existing_scheduler():
    with compute.client(n_workers=1, processes=True, memory_gb=0.5, dashboard=False) as local:
        address = local.scheduler.address
        with compute.client(address) as remote:
            assert remote.submit(sum, [1, 2, 3]).result() == 6
        # the remote cluster is left running
        assert local.submit(sum, [4]).result() == 4


def test_threaded_workers_run_in_a_process_larger_than_the_budget():
    """Late in the full suite the test process holds more than a small budget: threaded
    workers once measured the whole process against their share, paused and never ran
    (the national demo tests hung for 900 s). Threads get no memory limit."""
    ballast = np.ones(200 * 2**20 // 8)  # 200 MiB, touched
    assert psutil.Process().memory_info().rss > 0.25 * 2**30 * 0.8
    with compute.client(n_workers=2, memory_gb=0.25, processes=False, dashboard=False) as c:
        time.sleep(1.5)  # the memory monitor checks every 100 ms; a limit would pause them
        workers = c.scheduler_info()["workers"].values()
        assert all(w["memory_limit"] == 0 and w["status"] == "running" for w in workers)
        assert c.submit(sum, [1, 2, 3]).result(timeout=60) == 6
    assert ballast[-1] == 1.0


def test_memory_estimate_chooses_chunks_over_the_budget():
    assert compute.grid_memory_gb(20_800_000) == pytest.approx(1.7, abs=0.1)
    assert compute.needs_chunks(20_800_000, memory_gb=1.0)
    assert not compute.needs_chunks(20_800_000, memory_gb=4.0)
    assert 0 < compute.default_memory_gb() < compute.total_memory_bytes() / compute.GB


def test_settings_from_toml_default_and_errors():
    s = compute.settings_from_toml(None)
    assert s.scheduler is None and s.budget_gb == pytest.approx(compute.default_memory_gb())
    s = compute.settings_from_toml({"scheduler": "tcp://h:8786", "memory_gb": 3})
    assert s.scheduler == "tcp://h:8786" and s.budget_gb == 3.0
    with pytest.raises(ValueError,
                       match=r"compute.memory_gb: must be a number > 0.*compute.cores: unknown"):
        compute.settings_from_toml({"memory_gb": -1, "cores": 2})


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_release_memory_returns_a_freed_heap_to_the_system():
    blocks = [np.ones(1000) for _ in range(100_000)]   # 8 kB each: on the heap, not mmap
    del blocks
    assert compute.release_memory() > 100 * 2**20        # most of the 800 MB comes back
    assert compute.release_memory() < 100 * 2**20        # and nothing is left to give


@pytest.mark.slow
def test_compute_workers_threads_runs_in_this_process_and_a_typo_is_refused(tmp_path):
    text = (ROOT / "layers" / "yrd.toml").read_text(encoding="utf-8").replace('"../', f'"{ROOT}/')
    study = tmp_path / "yrd_threads.toml"
    study.write_text(text + '\n[compute]\nworkers = "threads"\nn_workers = 2\n',
                     encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = load_study(study)
    res = chunked.run_chunked(st, cell_m=2000.0, out_dir=tmp_path / "out", runs=5)
    assert res.model_card["engine"]["scheduler"].startswith("inproc://")
    assert res.model_card["engine"]["workers"] == 2
    study.write_text(text + '\n[compute]\nworkers = "thread"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"compute\.workers.*'thread' is not one of "
                                         r"processes, threads"):
        load_study(study)
