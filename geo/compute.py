"""Dask scheduling for the scale path: a cluster to run on and a memory budget.

One entry point, :func:`client`, gives a ``dask.distributed.Client`` either on a
``LocalCluster`` sized to this machine (the default) or connected to an existing
cluster by address (``tcp://host:8786``), so the same task graph runs on one
machine out-of-core or on a cluster unchanged. :func:`needs_chunks` compares a
grid's memory estimate with the budget (``[compute] memory_gb`` in the study
TOML, default :data:`DEFAULT_RAM_SHARE` of physical RAM) to choose the chunked
engine automatically.

This module does not build task graphs itself and never starts its own process
pool: all parallelism is ``dask.distributed``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_RAM_SHARE = 0.5
"""Share of physical RAM the in-memory engine may use before chunking is chosen."""

BYTES_PER_CELL_IN_MEMORY = 88
"""Bytes per grid cell the in-memory suitability path peaks at.

Measured on the 20.8 M-cell YRD run (1.8 GB peak ≈ 88 B/cell: float64 score,
criteria, distance scratch and masks held at once)."""

GB = 1024**3


@dataclass(frozen=True)
class ComputeSettings:
    """The ``[compute]`` table of a study TOML.

    Attributes
    ----------
    scheduler
        Address of an existing ``dask.distributed`` scheduler
        (``"tcp://host:8786"``), or ``None`` for a ``LocalCluster`` on this
        machine. Default ``None``.
    memory_gb
        Memory budget in GiB for the in-memory engine; grids whose estimate
        exceeds it run chunked. Default: ``DEFAULT_RAM_SHARE`` of physical RAM.
    n_workers
        Workers of the local cluster; default one per core (ignored with
        ``scheduler``).
    cache_dir
        Folder (relative to the study file's folder) where built road networks are
        cached (:mod:`geo.network.cache`); default ``None``: no cache, nothing written.
    """

    scheduler: str | None = None
    memory_gb: float | None = None
    n_workers: int | None = None
    cache_dir: str | None = None

    @property
    def budget_gb(self) -> float:
        """The memory budget in GiB, the default share of RAM when unset."""
        return self.memory_gb if self.memory_gb is not None else default_memory_gb()


def settings_from_toml(table: Mapping[str, Any] | None) -> ComputeSettings:
    """Read the ``[compute]`` table of a parsed study TOML.

    Parameters
    ----------
    table
        The ``[compute]`` mapping (or ``None`` when the study has none).

    Raises
    ------
    ValueError
        Naming every bad or unknown key at once.
    """
    table = dict(table or {})
    problems: list[str] = []
    unknown = sorted(set(table) - {"scheduler", "memory_gb", "n_workers", "cache_dir"})
    if unknown:
        problems.append(
            f"unknown [compute] keys {unknown}; allowed: scheduler, memory_gb, n_workers, "
            "cache_dir"
        )
    cache_dir = table.get("cache_dir")
    if cache_dir is not None and not (isinstance(cache_dir, str) and cache_dir.strip()):
        problems.append(f"[compute] cache_dir must be a folder name, got {cache_dir!r}")
    scheduler = table.get("scheduler")
    if scheduler is not None and not (isinstance(scheduler, str) and "://" in scheduler):
        problems.append(
            f"[compute] scheduler must be an address like 'tcp://host:8786', got {scheduler!r}"
        )
    memory_gb = table.get("memory_gb")
    if memory_gb is not None and (
        isinstance(memory_gb, bool) or not isinstance(memory_gb, int | float) or memory_gb <= 0
    ):
        problems.append(f"[compute] memory_gb must be positive (GiB), got {memory_gb!r}")
    n_workers = table.get("n_workers")
    if n_workers is not None and (
        isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1
    ):
        problems.append(f"[compute] n_workers must be a positive integer, got {n_workers!r}")
    if problems:
        raise ValueError("; ".join(problems))
    return ComputeSettings(
        scheduler=scheduler,
        memory_gb=None if memory_gb is None else float(memory_gb),
        n_workers=n_workers,
        cache_dir=cache_dir,
    )


def validate_section(table: Mapping[str, Any], study: Any) -> list[str]:
    """Problems of a study's ``[compute]`` table (for :func:`geo.study.load_study`).

    Parameters
    ----------
    table
        The parsed ``[compute]`` table.
    study
        The study being loaded (unused: the table stands alone).

    Returns
    -------
    list of str
        One message naming every bad key, or none.
    """
    del study
    try:
        settings_from_toml(table)
    except ValueError as exc:
        return [str(exc)]
    return []


def total_memory_bytes() -> int:
    """Physical RAM of this machine in bytes (psutil when present, else sysconf)."""
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:  # pragma: no cover - psutil ships with distributed
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def default_memory_gb(share: float = DEFAULT_RAM_SHARE) -> float:
    """``share`` of physical RAM, in GiB: the default ``[compute] memory_gb``."""
    return share * total_memory_bytes() / GB


def grid_memory_gb(n_cells: int, *, bytes_per_cell: int = BYTES_PER_CELL_IN_MEMORY) -> float:
    """Estimated peak memory in GiB of the in-memory suitability path on ``n_cells``."""
    if n_cells < 0:
        raise ValueError(f"n_cells must be non-negative, got {n_cells}")
    return n_cells * bytes_per_cell / GB


def needs_chunks(n_cells: int, memory_gb: float | None = None) -> bool:
    """Whether a grid of ``n_cells`` should run chunked under the budget ``memory_gb`` GiB.

    ``memory_gb=None`` uses :func:`default_memory_gb`.
    """
    budget = default_memory_gb() if memory_gb is None else memory_gb
    return grid_memory_gb(n_cells) > budget


def chunk_side(
    memory_gb: float,
    n_workers: int,
    *,
    bytes_per_cell: int = BYTES_PER_CELL_IN_MEMORY,
    tasks_per_worker: int = 4,
) -> int:
    """Side in cells of a square tile so ``tasks_per_worker`` tiles per worker fit the budget.

    Rounded down to a multiple of 256 (the COG block size), at least 256.
    """
    per_tile = memory_gb * GB / max(1, n_workers * tasks_per_worker)
    side = int((per_tile / bytes_per_cell) ** 0.5) // 256 * 256
    return max(256, side)


@contextlib.contextmanager
def client(
    scheduler: str | None = None,
    memory_gb: float | None = None,
    *,
    n_workers: int | None = None,
    processes: bool = True,
    threads_per_worker: int = 1,
    dashboard: bool = True,
) -> Iterator[Any]:
    """A ``dask.distributed.Client`` for the duration of a ``with`` block.

    Parameters
    ----------
    scheduler
        Address of an existing scheduler (``"tcp://host:8786"``): connect to it
        and leave it running afterwards. ``None`` starts a ``LocalCluster``
        sized to this machine and closes it on exit.
    memory_gb
        Total memory limit in GiB shared by the local workers; default
        :func:`default_memory_gb`. Ignored with ``scheduler``.
    n_workers
        Local workers; default one per core.
    processes
        Local workers as processes (default) or threads in this process (fast
        start, used by tests).
    threads_per_worker
        Threads per local worker.
    dashboard
        Serve the Dask dashboard on a free port (local cluster only).

    Yields
    ------
    distributed.Client
        With ``client.dashboard_link`` set when a dashboard is served.

    Raises
    ------
    OSError
        When ``scheduler`` cannot be reached (``distributed`` raises it on timeout).
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        c = Client(scheduler)
        try:
            yield c
        finally:
            c.close()
        return
    n = n_workers or os.cpu_count() or 1
    budget = default_memory_gb() if memory_gb is None else memory_gb
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=threads_per_worker,
        processes=processes,
        memory_limit=int(budget * GB / n),
        dashboard_address=":0" if dashboard else None,
    )
    try:
        c = Client(cluster)
        try:
            yield c
        finally:
            c.close()
    finally:
        cluster.close()


def dashboard_link(c: Any) -> str | None:
    """The dashboard URL of a client, or ``None`` when none is served."""
    try:
        return c.dashboard_link
    except Exception:  # distributed raises KeyError when no dashboard is served
        return None
