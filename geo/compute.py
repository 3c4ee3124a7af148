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
import ctypes
import ctypes.util
import functools
import gc
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .config import ComputeConfig, parse_section

DEFAULT_RAM_SHARE = 0.5
"""Share of physical RAM the in-memory engine may use before chunking is chosen."""

BYTES_PER_CELL_IN_MEMORY = 88
"""Bytes per grid cell the in-memory suitability path peaks at.

Measured on the 20.8 M-cell YRD run (1.8 GB peak ≈ 88 B/cell: float64 score,
criteria, distance scratch and masks held at once)."""

GB = 1024**3


@dataclass(frozen=True)
class ComputeSettings(ComputeConfig):
    """The ``[compute]`` settings (keys declared in :class:`geo.config.ComputeConfig`:
    ``scheduler``, ``memory_gb``, ``n_workers``, ``workers``, ``cache_dir``) with the
    resolved memory budget."""

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

    Returns
    -------
    ComputeSettings

    Raises
    ------
    ValueError
        Naming every bad or unknown key at once (``compute.KEY: …``).
    """
    problems: list[str] = []
    cfg = parse_section(ComputeSettings, dict(table or {}), "compute", None, problems)
    if problems:
        raise ValueError("; ".join(problems))
    return cfg


def total_memory_bytes() -> int:
    """Physical RAM of this machine in bytes (psutil when present, else sysconf).

    Returns
    -------
    int
        Total physical memory, bytes (not the memory currently free).
    """
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:  # pragma: no cover - psutil ships with distributed
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def default_memory_gb(share: float = DEFAULT_RAM_SHARE) -> float:
    """``share`` of physical RAM, in GiB: the default ``[compute] memory_gb``.

    Parameters
    ----------
    share : float, optional
        Fraction of physical RAM, 0–1 (default :data:`DEFAULT_RAM_SHARE`).

    Returns
    -------
    float
        ``share × total RAM``, GiB (1024³ bytes).
    """
    return share * total_memory_bytes() / GB


def grid_memory_gb(n_cells: int, *, bytes_per_cell: int = BYTES_PER_CELL_IN_MEMORY) -> float:
    """Estimated peak memory in GiB of the in-memory suitability path on ``n_cells``.

    Parameters
    ----------
    n_cells : int
        Cells of the analysis grid (width × height).
    bytes_per_cell : int, optional
        Peak bytes per cell (default :data:`BYTES_PER_CELL_IN_MEMORY`, measured).

    Returns
    -------
    float
        ``n_cells × bytes_per_cell``, GiB (1024³ bytes).

    Raises
    ------
    ValueError
        If ``n_cells`` is negative.
    """
    if n_cells < 0:
        raise ValueError(f"n_cells must be non-negative, got {n_cells}")
    return n_cells * bytes_per_cell / GB


def needs_chunks(n_cells: int, memory_gb: float | None = None) -> bool:
    """Whether a grid of ``n_cells`` should run chunked under the budget ``memory_gb`` GiB.

    Parameters
    ----------
    n_cells : int
        Cells of the analysis grid (width × height).
    memory_gb : float or None, optional
        Memory budget, GiB; ``None`` uses :func:`default_memory_gb`.

    Returns
    -------
    bool
        True if :func:`grid_memory_gb` of ``n_cells`` exceeds the budget.

    Raises
    ------
    ValueError
        If ``n_cells`` is negative (from :func:`grid_memory_gb`).
    """
    budget = default_memory_gb() if memory_gb is None else memory_gb
    return grid_memory_gb(n_cells) > budget


def release_memory() -> int:
    """Give freed memory back to the operating system: a garbage collection, then
    glibc's ``malloc_trim(0)`` where the C library is glibc.

    A long driver (one study after another: the national mosaic's units) otherwise
    keeps the heap of its largest step fragmented and resident, and its RSS grows from
    unit to unit (measured: 0.74 → 1.48 GiB across one coastal province, kept to 0.45
    GiB with the trim). Dask's own worker processes are trimmed by ``distributed``.

    Returns
    -------
    int
        Bytes of resident memory released (0 where it cannot be measured or trimmed).
    """
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return 0
    before = _rss()
    trim(0)
    return max(0, before - _rss())


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, looked up once (``find_library`` runs ``ldconfig``);
    ``None`` where the C library has none (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def _rss() -> int:
    """Resident memory of this process in bytes (0 when unknown)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


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
        start, used by tests). Threads get no memory limit: Dask would measure this
        whole process (the caller's own data too) against it and pause the workers
        for good once the process outgrew it.
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
        memory_limit=int(budget * GB / n) if processes else 0,
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
    """The dashboard URL of a client, or ``None`` when none is served.

    Parameters
    ----------
    c : distributed.Client
        A client, e.g. from :func:`client`.

    Returns
    -------
    str or None
        The dashboard's ``http://…/status`` address; None if the client has no
        dashboard (``distributed`` raises ``KeyError`` then, which is caught here).
    """
    try:
        return c.dashboard_link
    except Exception:  # distributed raises KeyError when no dashboard is served
        return None
