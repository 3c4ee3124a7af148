"""Incoming firms in (a CSV, checked against the chain maps) and a layout out (GeoPackage)."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, MissingFileError, ModelError
from ..io import write_gpkg
from ..layers import check_exists
from .tables import LayoutResult


def read_incoming(path: str | os.PathLike) -> pd.DataFrame:
    """Read an incoming-firms CSV: ``industry`` and ``land_mu`` (亩) per row, optionally
    ``firm_id``, ``name``, ``polluting`` (true/false overrides the sector rule).

    Parameters
    ----------
    path
        The CSV file (UTF-8, BOM allowed, else GB18030; ``#`` starts a comment).

    Returns
    -------
    pandas.DataFrame
        The rows as text (validated by :func:`check_incoming`); ``attrs["source"]`` is
        the path.

    Raises
    ------
    MissingFileError
        ``path`` does not exist.
    InputError
        The file is not a readable CSV.
    """
    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"--firms {p}: not found; give a CSV with columns firm_id, name, "
                               "industry, land_mu (see data/examples/incoming_firms.csv)")
    check_exists(p, what="--firms")  # a pipe or device would block the read
    try:
        df = pd.read_csv(p, dtype=str, encoding="utf-8-sig", comment="#")
    except UnicodeDecodeError:
        df = pd.read_csv(p, dtype=str, encoding="gb18030", comment="#")
    except Exception as exc:  # noqa: BLE001 - any unreadable CSV
        raise InputError(f"--firms {p}: not a readable CSV ({exc})") from exc
    df.attrs["source"] = str(p)
    return df


def check_incoming(firms: pd.DataFrame, chains, source: str = "incoming firms") -> pd.DataFrame:
    """Normalise and validate incoming firms; every problem is raised at once.

    Parameters
    ----------
    firms
        A :func:`read_incoming` frame (column names case-insensitive).
    chains
        The study's :class:`geo.chains.Chains`; every industry must be one of its ids.
    source
        How messages name the table.

    Returns
    -------
    pandas.DataFrame
        ``firm_id`` (given, else ``id``, else ``N001``…), ``name``, ``industry``,
        ``land_mu`` (float, 亩 > 0) and ``polluting_override`` (True/False/None).

    Raises
    ------
    InputError
        No ``industry`` or ``land_mu`` column, no rows, a land need that is not a
        number of 亩 > 0, an empty industry or a repeated firm id (all listed).
    ModelError
        Industries not in the chain maps (with a did-you-mean).
    """
    cols = {str(c).strip().lower(): c for c in firms.columns}
    problems = []
    for need in ("industry", "land_mu"):
        if need not in cols:
            problems.append(f"{source}: no {need!r} column (columns: "
                            f"{', '.join(map(str, firms.columns))})")
    if problems:
        raise InputError("; ".join(problems) + ". Each row needs industry (a chain-map id) and "
                         "land_mu (land need in 亩)")
    n = len(firms)
    if n == 0:
        raise InputError(f"{source}: no firms (the table is empty)")
    fid = firms[cols["firm_id"]].astype(str).str.strip() if "firm_id" in cols else \
        firms[cols["id"]].astype(str).str.strip() if "id" in cols else \
        pd.Series([f"N{i + 1:03d}" for i in range(n)], index=firms.index)
    name = firms[cols["name"]].fillna("").astype(str) if "name" in cols else fid
    ind = firms[cols["industry"]].fillna("").astype(str).str.strip()
    land = pd.to_numeric(firms[cols["land_mu"]], errors="coerce")
    bad = ~(land > 0)
    for i in np.flatnonzero(bad.to_numpy())[:5]:
        problems.append(f"{source}: row {i + 2} (firm {fid.iat[i]}): land_mu "
                        f"{firms[cols['land_mu']].iat[i]!r} must be a number of 亩 > 0")
    empty = ind == ""
    for i in np.flatnonzero(empty.to_numpy())[:5]:
        problems.append(f"{source}: row {i + 2} (firm {fid.iat[i]}): industry is empty")
    dup = fid[fid.duplicated()].unique()
    if len(dup):
        problems.append(f"{source}: firm_id repeated: {', '.join(dup[:5])}")
    if problems:
        raise InputError("\n".join(problems))
    unknown = sorted(set(ind) - set(chains.ids))
    if unknown:
        hint = "; ".join(f"{u!r}" + (f" (did you mean {c[0]!r}?)" if (c := difflib.
                         get_close_matches(u, chains.ids, n=1)) else "") for u in unknown[:5])
        raise ModelError(f"{source}: industries not in the chain maps: {hint}. Use chain-map "
                         "ids (data/chains/*.toml) or add the industries to a chain map")
    pol = None
    if "polluting" in cols:
        pol = firms[cols["polluting"]].fillna("").astype(str).str.strip().str.lower().map(
            lambda v: True if v in ("1", "true", "yes", "y", "是") else
            False if v in ("0", "false", "no", "n", "否") else None)
    return pd.DataFrame({"firm_id": fid.to_numpy(), "name": name.to_numpy(),
                         "industry": ind.to_numpy(), "land_mu": land.to_numpy(float),
                         "polluting_override": pol.to_numpy() if pol is not None else None})



def write_layout(res: LayoutResult, path: str | os.PathLike, *, overwrite: bool = True) -> Path:
    """Write a layout as one GeoPackage: layers plots, assignments, facilities, roads,
    setbacks, links and an attribute table ``summary`` (key, value as JSON).

    Unplaced firms go to an attribute-only ``unplaced`` table; empty layers are left
    out. The file is written under a temporary name and renamed into place.

    Parameters
    ----------
    res
        The layout (geometries in EPSG:4326, written as such).
    path
        The output ``.gpkg`` file.
    overwrite
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputError
        ``path`` does not end in ``.gpkg``.
    OutputError
        The file exists and ``overwrite`` is False, or it cannot be written.
    """
    p = Path(path)
    if p.suffix.lower() != ".gpkg":
        raise InputError(f"--out {p}: a layout is written as a GeoPackage (.gpkg)")
    layers: dict[str, Any] = {"plots": res.plots}
    a = res.assignments
    layers["assignments"] = a[a.geometry.notna()] if a.geometry.notna().any() else a
    unpl = pd.DataFrame(a[a.geometry.isna()].drop(columns="geometry"))
    if len(res.facilities):
        layers["facilities"] = res.facilities
    for name in ("roads", "setbacks", "links"):
        g = getattr(res, name)
        if g is not None and len(g):
            layers[name] = g
    if len(unpl):
        layers["unplaced"] = unpl
    layers["summary"] = pd.DataFrame(
        [{"key": k, "value": json.dumps(v, ensure_ascii=False, default=str)}
         for k, v in res.summary.items()])
    return write_gpkg(layers, p, overwrite=overwrite)
