"""Writing outputs atomically: a failed run leaves no partial file and never
clobbers a previous good one.

Every writer goes through :func:`atomic_path`: the data are written to a temporary
file in the destination folder, then renamed over the destination in one step.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from .errors import OutputError

#: Characters never allowed in a file name made from data (Windows' set plus controls).
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}


def safe_component(text: object, *, fallback: str = "unnamed", max_len: int = 100) -> str:
    """Turn a data string (study name, park id, industry) into one safe file-name part.

    Parameters
    ----------
    text
        Any value from a study file or a layer; converted with ``str``.
    fallback
        Returned when nothing usable remains (empty, only dots or separators).
    max_len
        Longest result, in characters.

    Returns
    -------
    str
        A single path component: no separators, no ``..``, no leading dot, no control
        characters, not a Windows reserved name. Chinese and other letters are kept.
    """
    s = unicodedata.normalize("NFC", str(text))
    s = _UNSAFE.sub("_", s).strip(" ._")
    s = re.sub(r"_{2,}", "_", s)[:max_len].rstrip(" .")
    if not s or s.split(".")[0].upper() in _RESERVED:
        return fallback if not s else f"_{s}"
    return s


def refuse_overwriting_input(out: str | os.PathLike, inputs: Iterable[str | os.PathLike], *,
                             names: Iterable[str] | None = None) -> None:
    """Refuse an output that is (or resolves to the same file as) an input.

    Parameters
    ----------
    out
        The output the user asked for: a file, or with ``names`` a folder.
    inputs
        Files the command reads (the study file, layer files and their sidecars).
    names
        For a folder output: glob patterns (relative to ``out``, ``/``-separated) of
        the files written into it, e.g. ``("suitability.tif", "recommend_*.csv")``.
        An input inside ``out`` whose relative path matches one is refused.

    Raises
    ------
    OutputError
        When ``out`` (or, for a folder, a file written into it) names one of
        ``inputs``, also through symlinks or ``..``; the message names both and the fix.
    """
    o = Path(out)
    patterns = tuple(names) if names is not None else None
    for i in inputs:
        p = Path(i)
        if patterns is not None:
            clash = _written_into(o, p, patterns)
            if clash:
                raise OutputError(f"{o}: writing {clash} into this folder would overwrite an "
                                  f"input of this command ({p}); give another output folder")
            continue
        same = o.resolve() == p.resolve()
        if not same and o.exists() and p.exists():
            with contextlib.suppress(OSError):
                same = os.path.samefile(o, p)
        if same:
            raise OutputError(f"{o}: is an input of this command ({p}); give another output "
                              "name so the input is not overwritten")


def _written_into(folder: Path, p: Path, patterns: tuple[str, ...]) -> str | None:
    """The name (relative to ``folder``) under which a file written into ``folder`` would
    replace ``p``, or None."""
    base = folder.resolve()
    for q in {p.resolve(), p.absolute()}:
        if not q.is_relative_to(base):
            continue
        rel = q.relative_to(base).as_posix()
        if any(fnmatch.fnmatch(rel, pat) for pat in patterns):
            return rel
    return None


def check_writable(path: str | os.PathLike, *, overwrite: bool = True,
                   create: bool = False) -> Path:
    """Check that ``path`` can be written before any expensive work starts.

    Parameters
    ----------
    path
        The output file.
    overwrite
        Whether an existing file may be replaced (always by an atomic rename).
    create
        Create its folder when missing (the writers do, just before writing); without
        it a missing folder is only checked to be creatable, so that a command refused
        later leaves no empty folder behind.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputError
        ``path`` is a folder, a pipe, socket or device, exists without ``overwrite``, or
        its folder cannot be created or written.
    """
    p = Path(path)
    if p.exists() and p.is_dir():
        raise OutputError(f"{p}: is a folder; give a file name such as {p / 'out.csv'}")
    if p.exists() and not p.is_file():
        # Renaming over a FIFO, socket or device would replace it with a plain file.
        raise OutputError(f"{p}: is not a regular file (a pipe, socket or device); give the "
                          "name of a file to write")
    if p.exists() and not overwrite:
        raise OutputError(f"{p}: exists; pass --overwrite to replace it")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists() and create:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{p}: cannot create its folder {parent}: {exc.strerror}") from exc
    base = parent
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise OutputError(f"{p}: cannot create its folder {parent}: {base} is a file")
    if not os.access(base, os.W_OK):
        raise OutputError(f"{p}: folder {base} is not writable")
    return p


def check_dir_writable(folder: str | os.PathLike) -> Path:
    """Check, before any work, that an output folder can be written and its staging
    folder created beside it.

    The nearest existing ancestor of ``folder`` (its parent, once created) must be
    writable, and so must ``folder`` itself when it exists. Nothing is created.

    Parameters
    ----------
    folder : str or os.PathLike
        The output folder (e.g. ``--out-dir``); it need not exist yet.

    Returns
    -------
    Path
        ``folder`` as a :class:`~pathlib.Path`.

    Raises
    ------
    OutputError
        ``folder`` is a file, or it or the folder that would hold it is read-only.
    """
    p = Path(folder)
    if p.exists() and not p.is_dir():
        raise OutputError(f"{p}: is a file, not a folder; give a folder such as {p.parent / 'out'}")
    base = p.resolve().parent
    while not base.exists() and base != base.parent:
        base = base.parent
    for where in ([p] if p.exists() else []) + [base]:
        if not os.access(where, os.W_OK | os.X_OK):
            raise OutputError(f"{p}: folder {where} is read-only (or not yours); nothing was "
                              "computed. Give a writable folder with --out-dir, or fix its "
                              "permissions")
    return p


@contextlib.contextmanager
def staged_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh staging folder beside ``target``; move its files into ``target`` when
    the block succeeds.

    On any exception (also ``KeyboardInterrupt`` and a SIGTERM turned into an exception)
    the staging folder is removed and ``target`` is left as it was. Files of ``target``
    that the block did not write are kept: a run never deletes what it did not make.

    Parameters
    ----------
    target : str or os.PathLike
        The output folder; created (by one rename of the staging folder) if absent.

    Yields
    ------
    Path
        An empty hidden folder ``.NAME.staging-*`` in ``target``'s parent, on the same
        file system; write every output into it.

    Raises
    ------
    OutputError
        ``target`` cannot be written (checked before the block runs) or a file cannot be
        moved into place.
    """
    dest = check_dir_writable(target)
    parent = dest.resolve().parent  # beside it, on the same file system, even for "." or ".."
    parent.mkdir(parents=True, exist_ok=True)
    name = dest.resolve().name or "out"
    stage = Path(tempfile.mkdtemp(prefix=f".{name}.staging-", dir=parent))
    try:
        yield stage
        _commit(stage, dest)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _commit(stage: Path, dest: Path) -> None:
    """Move the staged files into ``dest`` (one rename when ``dest`` does not exist yet)."""
    try:
        if not dest.exists():
            os.replace(stage, dest)
            return
        for src in sorted(p for p in stage.rglob("*") if not p.is_dir()):
            to = dest / src.relative_to(stage)
            to.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, to)
    except OSError as exc:
        raise OutputError(f"{dest}: the results could not be moved into place ({exc})") from exc
    shutil.rmtree(stage, ignore_errors=True)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left untouched.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its folder is created if missing.
    overwrite : bool, optional
        Allow replacing an existing file (default True).

    Yields
    ------
    Path
        A not-yet-existing temporary file name ``.NAME.*.tmpSUFFIX`` in ``path``'s folder
        (same suffix, so writers that choose a format by extension work); the block must
        create it.

    Raises
    ------
    OutputError
        If ``path`` is a folder or not a regular file, exists without ``overwrite``, or its
        folder cannot be created or written (checked before the block runs); if the
        block produced no file; or if writing or the rename failed with an ``OSError``
        (the message says whether the previous file is unchanged).
    """
    dest = check_writable(path, overwrite=overwrite, create=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp" + dest.suffix,
                               dir=dest.parent if str(dest.parent) else ".")
    os.close(fd)
    tmp_path = Path(tmp)
    # Some writers (GDAL) refuse to write into an existing empty file.
    tmp_path.unlink()
    try:
        yield tmp_path
        if not tmp_path.exists():
            raise OutputError(f"{dest}: the writer produced no file")
        os.replace(tmp_path, dest)
    except OSError as exc:
        _cleanup(tmp_path)
        if isinstance(exc, OutputError):
            raise
        kept = "the previous file is unchanged" if dest.exists() else "nothing was written"
        raise OutputError(f"{dest}: could not be written ({exc}); {kept}") from exc
    except BaseException:
        _cleanup(tmp_path)
        raise


def _cleanup(tmp_path: Path) -> None:
    """Remove a temporary output (GDAL may leave -journal/-wal siblings too)."""
    for p in (tmp_path, *tmp_path.parent.glob(tmp_path.name + "-*")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def write_text(path: str | os.PathLike, text: str, *, overwrite: bool = True) -> Path:
    """Write UTF-8 text atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file.
    text : str
        The content, written as UTF-8 without a BOM.
    overwrite : bool, optional
        Allow replacing an existing file (default True).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputError
        If ``path`` cannot be written or exists without ``overwrite`` (see
        :func:`atomic_path`).
    """
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_csv(df: pd.DataFrame, path: str | os.PathLike, *, overwrite: bool = True) -> Path:
    """Write a table as UTF-8 CSV with a BOM (so Excel on Chinese Windows reads it) atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; its index is not written.
    path : str or os.PathLike
        Output file.
    overwrite : bool, optional
        Allow replacing an existing file (default True).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputError
        If ``path`` cannot be written or exists without ``overwrite`` (see
        :func:`atomic_path`).
    """
    with atomic_path(path, overwrite=overwrite) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8-sig")
    return Path(path)


def write_gpkg(layers: dict[str, object], path: str | os.PathLike, *,
               overwrite: bool = True) -> Path:
    """Write several GeoDataFrames (or plain DataFrames) as layers of one GeoPackage.

    Plain DataFrames become attribute-only tables. The file is built under a
    temporary name and renamed into place, so QGIS never sees a half-written file.

    Parameters
    ----------
    layers : dict of str to DataFrame
        Layer name → frame, written in order. A GeoDataFrame keeps its own CRS (no
        reprojection); anything else is written as a table without geometry.
    path : str or os.PathLike
        Output ``.gpkg`` file; replaced as a whole, never appended to.
    overwrite : bool, optional
        Allow replacing an existing file (default True).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputError
        If ``path`` cannot be written or exists without ``overwrite`` (see
        :func:`atomic_path`).
    """
    with atomic_path(path, overwrite=overwrite) as tmp:
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame):
                frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
            else:
                pyogrio.write_dataframe(pd.DataFrame(frame), tmp, layer=name, driver="GPKG")
    return Path(path)
