"""Chain maps (产业链图谱): industries, what they buy from each other, and their by-products.

A chain map is a TOML file (the bundled ones are in ``data/chains/``)::

    [chain]
    id = "battery"
    name_zh = "锂电池（含回收）"
    name_en = "Lithium batteries (incl. recycling)"
    weights = "illustrative"       # or "sourced" (then give sources = [...])
    note = "Weights are illustrative unless sourced: …"

    [industries.battery_cells]
    name_zh = "动力电池电芯"
    name_en = "Battery cells"
    anchor = true                  # a typical anchor (链主) industry
    input_ratio = 0.75             # input value / output value (default 0.7)
    inputs = { cathode_materials = 0.38, anode_materials = 0.12 }
    byproducts = [{ material = "production scrap", material_zh = "生产边角料",
                    to = "battery_recycling" }]

``inputs`` gives each input industry's share of the buyer's input value (0 < w, sum ≤ 1;
the rest is inputs not in the map: energy, services, imports). Loops are allowed
(battery cells → recycling → cathode → cells), but an industry is never its own input:
a rate measures supply by *other* industries.

A library of chain maps
-----------------------
Each file can be used on its own: inputs and by-products may name industries of other
chain maps, and :func:`load_chains` loads the file that defines each such industry from
the *library* — the folder of the file naming it, extra ``library`` folders, then the
bundled ``data/chains`` (the first folder that defines it wins). What is loaded this
way is listed in ``Chains.notes`` ("chain map …/chemicals.toml loaded for fine_chemicals
(named in battery.toml)"). Loops between files (battery ↔ electronics) are resolved by
loading each file once. Errors name both files: an industry defined by two files of the
same library folder (a clash), an industry or chain id defined twice among the loaded
files. An unknown industry gets a did-you-mean over every chain file of the library.

A real input–output table (:meth:`Chains.with_io_table`) or a firm→supplier edge list
(used by :mod:`geo.sourcing`) replaces the illustrative weights.
"""

from __future__ import annotations

import difflib
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import MissingFileError, ModelError
from .sectors import gbt_code, split_industries

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: The bundled chain maps (a source checkout; studies name their own with
#: ``[sourcing] chains``).
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "data" / "chains"
DEFAULT_INPUT_RATIO = 0.7
_IND_KEYS = {"name_zh", "name_en", "anchor", "input_ratio", "inputs", "byproducts", "stage",
             "note", "gbt4754"}
_CHAIN_KEYS = {"id", "name_zh", "name_en", "weights", "note", "sources"}


@dataclass
class Chains:
    """Loaded chain maps.

    Attributes
    ----------
    industries : pandas.DataFrame
        Index industry id; columns ``name_zh, name_en, chain, anchor, input_ratio, stage``.
    inputs : dict[str, dict[str, float]]
        ``inputs[buyer][supplier] = weight`` (share of the buyer's input value).
    byproducts : pandas.DataFrame
        ``from_industry, material, material_zh, to_industry, chain``.
    chains : pandas.DataFrame
        Index chain id; ``name_zh, name_en, weights, note, path``.
    source : str
        Where the weights come from (files, or an input–output table).
    notes : list of str
        What a reader of the results should know (chain maps loaded as dependencies,
        dropped input–output coefficients).
    library : dict[str, str]
        Every industry of the chain-map library searched on load → the file defining it
        (for did-you-mean messages naming a chain map that is not loaded).
    """

    industries: pd.DataFrame
    inputs: dict[str, dict[str, float]]
    byproducts: pd.DataFrame
    chains: pd.DataFrame
    source: str = ""
    notes: list[str] = field(default_factory=list)
    library: dict[str, str] = field(default_factory=dict)

    def __contains__(self, industry: object) -> bool:
        return industry in self.industries.index

    @property
    def ids(self) -> list[str]:
        return list(self.industries.index)

    def inputs_of(self, industry: str) -> dict[str, float]:
        """Input industries of ``industry`` with their weights (``{}`` if none).

        Parameters
        ----------
        industry
            A chain-map industry id.

        Returns
        -------
        dict of str to float
            Supplier industry id → weight (share of the buyer's input value, 0–1).

        Raises
        ------
        ModelError
            ``industry`` is not loaded (see :meth:`check_industry`).
        """
        self.check_industry(industry)
        return dict(self.inputs.get(industry, {}))

    def name(self, industry: str, lang: str = "zh") -> str:
        """Display name of an industry (zh or en); the id if unknown.

        Parameters
        ----------
        industry
            A chain-map industry id.
        lang
            ``"zh"`` for the Chinese name; anything else gives the English one.

        Returns
        -------
        str
        """
        if industry not in self.industries.index:
            return industry
        return str(self.industries.at[industry, "name_zh" if lang == "zh" else "name_en"])

    def label(self, industry: str) -> str:
        """Bilingual label of an industry: ``"动力电池电芯 Battery cells"``; the id if unknown.

        Parameters
        ----------
        industry
            A chain-map industry id.

        Returns
        -------
        str
        """
        if industry not in self.industries.index:
            return industry
        return f"{self.name(industry, 'zh')} {self.name(industry, 'en')}"

    def check_industry(self, industry: str, *, what: str = "industry") -> None:
        """Raise if ``industry`` is not loaded, naming the chain map that defines it or
        the closest id of every chain file of the library.

        Parameters
        ----------
        industry
            The industry id to look up.
        what
            How the message names the value (e.g. ``"anchor industry"``).

        Raises
        ------
        ModelError
            ``industry`` is not in the loaded chain maps; the message names the library
            file that defines it, or the closest known id.
        """
        if industry in self.industries.index:
            return
        if industry in self.library:
            raise ModelError(f"{what} {industry!r} is not in the loaded chain maps "
                             f"({self.source}); it is defined in {self.library[industry]}: "
                             "add that file")
        known = {**self.library, **{i: "" for i in self.ids}}
        close = difflib.get_close_matches(str(industry), list(known), n=1)
        hint = (f"; did you mean {close[0]!r}" + (f" ({Path(known[close[0]]).name})"
                                                  if known[close[0]] else "") + "?") \
            if close else f"; known: {', '.join(self.ids[:12])}…"
        raise ModelError(f"{what} {industry!r} is not in the chain maps ({self.source})"
                         f"{hint}")

    def weight_matrix(self, ids: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
        """Dense weights ``W[buyer, supplier]`` over ``ids`` (default all industries).

        Parameters
        ----------
        ids
            Industry ids giving the row/column order; weights to industries outside it are
            left out.

        Returns
        -------
        tuple of (numpy.ndarray, list of str)
            ``W`` of shape ``(len(ids), len(ids))`` (shares of the buyer's input value) and
            the ids in row order.
        """
        ids = list(ids) if ids is not None else self.ids
        pos = {k: i for i, k in enumerate(ids)}
        W = np.zeros((len(ids), len(ids)))
        for b, ins in self.inputs.items():
            if b not in pos:
                continue
            for s, w in ins.items():
                if s in pos:
                    W[pos[b], pos[s]] = w
        return W, ids

    def with_io_table(self, path: str | os.PathLike) -> Chains:
        """Replace the input weights by an input–output coefficient table.

        The CSV has industries × industries: the first column holds the *supplying*
        industry ids, the header the *buying* industry ids, and cell (i, j) the value
        of i's output used per unit of j's output (a direct-requirement table A).
        A buyer's weights are its column; the diagonal (purchases within an industry)
        is dropped, since a rate measures supply by other industries; ``input_ratio``
        becomes the column sum. Industries not in the chain maps are added with their
        id as name.

        Parameters
        ----------
        path
            The CSV file (UTF-8, BOM allowed).

        Returns
        -------
        Chains
            A new object; the table's buyers get its weights, other industries keep theirs,
            ``notes`` lists dropped diagonal coefficients.

        Raises
        ------
        MissingFileError
            ``path`` does not exist.
        ModelError
            Not a readable CSV, a cell that is not a number, a negative coefficient,
            repeated industry ids, or a column summing to more than 1.
        """
        p = Path(path)
        if not p.exists():
            raise MissingFileError(f"{p}: input–output table not found")
        try:
            df = pd.read_csv(p, index_col=0, encoding="utf-8-sig")
        except Exception as exc:  # noqa: BLE001 - any unreadable CSV
            raise ModelError(f"{p}: not a readable CSV table ({exc}); first column = "
                             "supplying industry ids, header = buying industry ids") from exc
        df.index = df.index.astype(str).str.strip()
        df.columns = df.columns.astype(str).str.strip()
        try:
            A = df.apply(pd.to_numeric, errors="raise").fillna(0.0)
        except (ValueError, TypeError) as exc:
            raise ModelError(f"{p}: every cell must be a number ({exc})") from exc
        if (A.to_numpy() < 0).any():
            r, c = np.argwhere(A.to_numpy() < 0)[0]
            raise ModelError(f"{p}: coefficient {A.index[r]}→{A.columns[c]} is negative; "
                             "input–output coefficients are ≥ 0")
        dup = A.index[A.index.duplicated()].tolist() + A.columns[A.columns.duplicated()].tolist()
        if dup:
            raise ModelError(f"{p}: industry ids repeated: {', '.join(map(str, dup))}")
        inputs: dict[str, dict[str, float]] = {}
        notes = []
        for j in A.columns:
            col = A[j]
            if j in col.index and col[j] > 0:
                notes.append(f"{j}: own-industry coefficient {col[j]:g} dropped")
            w = {str(i): float(v) for i, v in col.items() if v > 0 and i != j}
            if sum(w.values()) > 1 + 1e-9:
                raise ModelError(f"{p}: column {j!r} sums to {sum(w.values()):.3f} > 1 (without "
                                 "the diagonal); coefficients are input per unit of output")
            inputs[j] = w
        ind = self.industries.copy()
        for k in sorted(set(A.index) | set(A.columns)):
            if k not in ind.index:
                ind.loc[k] = {"name_zh": k, "name_en": k, "chain": "io_table", "anchor": False,
                              "input_ratio": DEFAULT_INPUT_RATIO, "stage": "", "gbt4754": ()}
        for j, w in inputs.items():
            ind.at[j, "input_ratio"] = max(sum(w.values()), 1e-9)
        merged = {k: v for k, v in self.inputs.items() if k not in inputs}
        merged.update(inputs)
        return Chains(ind, merged, self.byproducts, self.chains, source=f"{self.source} + "
                      f"input–output table {p}", notes=self.notes + notes,
                      library=self.library)


def _err(path: Path, msg: str) -> ModelError:
    return ModelError(f"{path}: {msg}")


def _files(paths_or_dir: Any) -> list[Path]:
    if paths_or_dir is None:
        paths_or_dir = DEFAULT_DIR
    items = [paths_or_dir] if isinstance(paths_or_dir, (str, os.PathLike)) else list(paths_or_dir)
    files: list[Path] = []
    for it in items:
        p = Path(it)
        if p.is_dir():
            found = sorted(p.glob("*.toml"))
            if not found:
                raise MissingFileError(f"{p}: no chain maps (*.toml) in this folder")
            files.extend(found)
        elif p.exists():
            files.append(p)
        else:
            raise MissingFileError(f"{p}: chain map not found; give a .toml file or a folder of "
                                   "them (the bundled ones are in data/chains/)")
    return files


@dataclass
class _File:
    """One parsed chain-map file."""

    path: Path
    cid: str
    meta: dict[str, Any]
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    inputs: dict[str, dict[str, float]] = field(default_factory=dict)
    byproducts: list[dict[str, Any]] = field(default_factory=list)
    needed_for: str = ""  # "" for a file named by the caller

    @property
    def refs(self) -> list[str]:
        """Industries this file names (inputs, by-product destinations), in file order."""
        out = [s for ins in self.inputs.values() for s in ins]
        out += [b["to_industry"] for b in self.byproducts]
        return list(dict.fromkeys(out))


def _read_toml(f: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(f.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _err(f, f"not valid UTF-8 TOML ({exc})") from None


def _parse_inputs(lab: str, iid: str, ins: Any, problems: list[str]) -> dict[str, float]:
    if not isinstance(ins, dict):
        problems.append(f"{lab}.inputs: must be a table {{industry = weight}}")
        return {}
    clean = {}
    for s, w in ins.items():
        if not isinstance(w, (int, float)) or isinstance(w, bool) or \
                not math.isfinite(w) or w <= 0:
            problems.append(f"{lab}.inputs.{s}: weight must be a number > 0 (share of "
                            f"input value), got {w!r}")
            continue
        if s == iid:
            problems.append(f"{lab}.inputs.{s}: an industry cannot be its own input; "
                            "split it into two industries or drop the entry")
            continue
        clean[s] = float(w)
    total = sum(clean.values())
    if total > 1 + 1e-9:
        problems.append(f"{lab}.inputs: weights sum to {total:.3f} > 1; they are shares "
                        "of the input value and must sum to ≤ 1")
    return clean


def _parse_industry(pf: _File, iid: str, t: Any, problems: list[str]) -> None:
    """Check one ``[industries.ID]`` table and add it to ``pf``."""
    lab = f"{pf.path}: industries.{iid}"
    if not isinstance(t, dict):
        problems.append(f"{lab}: must be a table")
        return
    for k in t:
        if k not in _IND_KEYS:
            close = difflib.get_close_matches(k, list(_IND_KEYS), n=1)
            problems.append(f"{lab}.{k}: unknown key" +
                            (f"; did you mean {close[0]!r}?" if close else ""))
    for k in ("name_zh", "name_en"):
        if not isinstance(t.get(k), str) or not t.get(k):
            problems.append(f"{lab}.{k}: missing; give the {k[-2:]} name")
    ratio = t.get("input_ratio", DEFAULT_INPUT_RATIO)
    if not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
        problems.append(f"{lab}.input_ratio: must be in (0, 1], got {ratio!r}")
        ratio = DEFAULT_INPUT_RATIO
    pf.rows[iid] = {"name_zh": t.get("name_zh", iid), "name_en": t.get("name_en", iid),
                    "chain": pf.cid, "anchor": bool(t.get("anchor", False)),
                    "input_ratio": float(ratio), "stage": str(t.get("stage", "")),
                    "gbt4754": _gbt_codes(t.get("gbt4754"), lab, problems)}
    pf.inputs[iid] = _parse_inputs(lab, iid, t.get("inputs", {}), problems)
    bps = t.get("byproducts", [])
    if not isinstance(bps, list):
        problems.append(f"{lab}.byproducts: must be a list of {{material, to}} tables")
        bps = []
    for b in bps:
        if not isinstance(b, dict) or "material" not in b or "to" not in b:
            problems.append(f"{lab}.byproducts: each entry needs material and to")
            continue
        pf.byproducts.append({"from_industry": iid, "material": str(b["material"]),
                              "material_zh": str(b.get("material_zh", "")),
                              "to_industry": str(b["to"]), "chain": pf.cid})


def _parse_file(f: Path, problems: list[str], needed_for: str = "") -> _File:
    """Parse and check one chain-map file (problems appended, never raised)."""
    data = _read_toml(f)
    meta = data.get("chain", {})
    if not isinstance(meta, dict):
        problems.append(f"{f}: chain: must be a table [chain] with id, name_zh, name_en")
        meta = {}
    cid = str(meta.get("id") or f.stem)
    for k in meta:
        if k not in _CHAIN_KEYS:
            problems.append(f"{f}: chain.{k}: unknown key (keys: "
                            f"{', '.join(sorted(_CHAIN_KEYS))})")
    pf = _File(f, cid, {"name_zh": meta.get("name_zh", cid), "name_en": meta.get("name_en", cid),
                        "weights": meta.get("weights", "illustrative"),
                        "note": meta.get("note", ""), "path": str(f)}, needed_for=needed_for)
    inds = data.get("industries")
    if not isinstance(inds, dict) or not inds:
        problems.append(f"{f}: no [industries.ID] tables; a chain map lists its industries")
        return pf
    for iid, t in inds.items():
        _parse_industry(pf, str(iid), t, problems)
    return pf


def _library(folders: list[Path]) -> dict[str, list[Path]]:
    """Industry id → the chain-map files of ``folders`` that define it (folder order).

    A file that is not valid TOML is left out of the index (it is reported if it is
    loaded)."""
    index: dict[str, list[Path]] = {}
    seen: set[Path] = set()
    for d in folders:
        for f in sorted(d.glob("*.toml")) if d.is_dir() else []:
            r = f.resolve()
            if r in seen:
                continue
            seen.add(r)
            try:
                inds = tomllib.loads(f.read_text(encoding="utf-8")).get("industries", {})
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
                continue
            for iid in inds if isinstance(inds, dict) else ():
                index.setdefault(str(iid), []).append(f)
    return index


def _pick(iid: str, files: list[Path]) -> Path | str:
    """The one library file that defines ``iid`` (the first folder that has it), or the
    clash message naming both files."""
    first = [f for f in files if f.parent.resolve() == files[0].parent.resolve()]
    if len(first) == 1:
        return first[0]
    return (f"industry {iid!r} is defined in both {first[0]} and {first[1]}; name the one "
            "to use explicitly (a chain-map list or [sourcing] chains)")


def _resolve(parsed: list[_File], library: dict[str, list[Path]],
             problems: list[str]) -> list[_File]:
    """Add the library files that define the industries the loaded files name but do
    not define, until every name is defined or known to be missing (each file loaded
    once: loops between chain maps are fine)."""
    loaded = {pf.path.resolve() for pf in parsed}
    defined = {iid for pf in parsed for iid in pf.rows}
    queue = list(parsed)
    while queue:
        pf = queue.pop(0)
        for iid in pf.refs:
            if iid in defined or iid not in library:
                continue
            todo = [f for f in library[iid] if f.resolve() not in loaded]
            pick = _pick(iid, todo) if todo else None
            if pick is None:  # its file is loaded but failed to define it: reported there
                continue
            if isinstance(pick, str):
                problems.append(f"{pf.path}: {pick}")
                defined.add(iid)  # reported once
                continue
            new = _parse_file(pick, problems, needed_for=f"{iid} (named in {pf.path.name})")
            loaded.add(pick.resolve())
            defined.update(new.rows)
            parsed.append(new)
            queue.append(new)
    return parsed


def _did_you_mean(iid: str, known: dict[str, str]) -> str:
    close = difflib.get_close_matches(iid, list(known), n=1)
    return f"; did you mean {close[0]!r} ({Path(known[close[0]]).name})?" if close else \
        "; define it in a chain map"


def _check(parsed: list[_File], library: dict[str, list[Path]], problems: list[str]) -> None:
    """Clashes between loaded files and names no chain map defines (did-you-mean over
    every chain file of the library)."""
    where: dict[str, Path] = {}
    chain_of: dict[str, Path] = {}
    for pf in parsed:
        if pf.cid in chain_of:
            problems.append(f"{pf.path}: chain id {pf.cid!r} also in {chain_of[pf.cid]}")
        chain_of.setdefault(pf.cid, pf.path)
        for iid in list(pf.rows):
            if iid in where:
                problems.append(f"{pf.path}: industries.{iid}: industry defined twice (also "
                                f"in {where[iid]})")
                continue
            where[iid] = pf.path
    known = {iid: str(fs[0]) for iid, fs in library.items()} | \
        {iid: str(p) for iid, p in where.items()}
    for pf in parsed:
        for iid, ins in pf.inputs.items():
            for s in ins:
                if s not in where and s not in library:
                    problems.append(f"{pf.path}: industries.{iid}.inputs: unknown industry "
                                    f"{s!r}" + _did_you_mean(s, known))
        for b in pf.byproducts:
            if b["to_industry"] not in where and b["to_industry"] not in library:
                problems.append(f"{pf.path}: industries.{b['from_industry']}.byproducts: "
                                f"unknown industry {b['to_industry']!r}" +
                                _did_you_mean(b["to_industry"], known))


def _assemble(parsed: list[_File], library: dict[str, list[Path]]) -> Chains:
    rows = {iid: r for pf in parsed for iid, r in pf.rows.items()}
    ind = pd.DataFrame.from_dict(rows, orient="index")
    ind.index.name = "industry"
    bp = pd.DataFrame([b for pf in parsed for b in pf.byproducts],
                      columns=["from_industry", "material", "material_zh", "to_industry",
                               "chain"])
    ch = pd.DataFrame.from_dict({pf.cid: {**pf.meta, "needed_for": pf.needed_for}
                                 for pf in parsed}, orient="index")
    ch.index.name = "chain"
    notes = [f"chain map {pf.path} loaded for {pf.needed_for}" for pf in parsed if pf.needed_for]
    return Chains(ind, {iid: ins for pf in parsed for iid, ins in pf.inputs.items()}, bp, ch,
                  source=", ".join(str(pf.path) for pf in parsed), notes=notes,
                  library={iid: str(fs[0]) for iid, fs in library.items()})


def load_chains(paths_or_dir: Any = None, *, library: Any = None) -> Chains:
    """Load chain maps from TOML files or folders (default: the bundled ``data/chains``),
    with the chain maps they depend on.

    Dependencies are resolved from the industries a file names: an input or by-product
    industry that no loaded file defines is looked up in the *library* — the folders of
    the given files, then ``library`` (folders), then the bundled ``data/chains`` — and
    the file that defines it is loaded too (and what that file needs, and so on). The
    first folder that defines an industry wins; two files of that folder defining it
    are a clash (an error naming both). Loops between chain maps (battery cells feed
    notebook assembly, electronic components feed energy storage) are resolved, each
    file loaded once. Files loaded this way are listed in ``Chains.notes`` and in the
    ``needed_for`` column of ``Chains.chains``.

    Every problem in every file is collected and raised once.

    Parameters
    ----------
    paths_or_dir
        A chain-map file, a folder of them, or a list of files and folders.
    library
        Extra folder(s) searched for industries the given files name but do not define.

    Returns
    -------
    Chains

    Raises
    ------
    MissingFileError
        A file or folder does not exist.
    ModelError
        Bad TOML, an unknown input or by-product industry (with a did-you-mean over every
        chain file of the library), a weight ≤ 0, weights summing to more than 1, an
        industry that is its own input, an industry or chain id defined twice, an
        industry defined by two library files (both named).
    """
    files = _files(paths_or_dir)
    extra = [library] if isinstance(library, (str, os.PathLike)) else list(library or [])
    folders = list(dict.fromkeys([f.parent for f in files] + [Path(d) for d in extra] +
                                 [DEFAULT_DIR]))
    lib = _library(folders)
    problems: list[str] = []
    parsed = [_parse_file(f, problems) for f in files]
    parsed = _resolve(parsed, lib, problems)
    _check(parsed, lib, problems)
    if problems:
        raise ModelError(f"{len(problems)} problem(s) in the chain maps:\n" +
                         "\n".join(f"  - {p}" for p in problems))
    return _assemble(parsed, lib)


def read_supplier_edges(path: str | os.PathLike) -> pd.DataFrame:
    """A firm→supplier edge list: CSV with ``firm_id, supplier_id`` and optionally ``value``
    (input value bought; default 1 per edge).

    Parameters
    ----------
    path
        The CSV file (UTF-8, BOM allowed; column names case-insensitive).

    Returns
    -------
    pandas.DataFrame
        ``firm_id`` (str), ``supplier_id`` (str), ``value`` (float ≥ 0, the register's
        currency unit, or 1.0 per edge).

    Raises
    ------
    MissingFileError
        ``path`` does not exist.
    ModelError
        A required column is missing, a value is not a number ≥ 0, an id cell is
        empty, or a firm is listed as its own supplier.
    """
    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"{p}: supplier edge list not found")
    df = pd.read_csv(p, dtype=str, encoding="utf-8-sig")
    cols = {c.strip().lower(): c for c in df.columns}
    missing = [c for c in ("firm_id", "supplier_id") if c not in cols]
    if missing:
        raise ModelError(f"{p}: missing column(s) {', '.join(missing)}; the edge list needs "
                         "firm_id, supplier_id and optionally value")
    out = pd.DataFrame({"firm_id": df[cols["firm_id"]].str.strip(),
                        "supplier_id": df[cols["supplier_id"]].str.strip()})
    if "value" in cols:
        v = pd.to_numeric(df[cols["value"]], errors="coerce")
        if v.isna().any() or (v < 0).any():
            bad = out["firm_id"][v.isna() | (v < 0)].head(3).tolist()
            raise ModelError(f"{p}: value must be a number ≥ 0 on every row (firm_id {bad})")
        out["value"] = v.to_numpy(float)
    else:
        out["value"] = 1.0
    if out.isna().any().any():
        raise ModelError(f"{p}: empty firm_id or supplier_id cells; fill or remove those rows")
    self_loops = out["firm_id"] == out["supplier_id"]
    if self_loops.any():
        raise ModelError(f"{p}: firm(s) listed as their own supplier "
                         f"({', '.join(out['firm_id'][self_loops].head(3))}); remove those rows")
    return out


def _gbt_codes(value: object, where: str, problems: list[str]) -> tuple[str, ...]:
    """The GB/T 4754-2017 codes of a chain-map industry (``"C2614"`` or a list).

    Optional: an industry without codes is judged by its names, and one that no name
    places in the classification is *review* inside a restricted zone, never a pass.
    """
    if value is None:  # matched by its names only; unknown ones go to review in the gate
        return ()
    codes = []
    for v in split_industries(value):
        code = gbt_code(v)
        if code is None:
            problems.append(f"{where}.gbt4754: {v!r} is not a GB/T 4754-2017 code; write a "
                            "section letter and 2–4 digits, e.g. \"C26\" or \"C2614\"")
        else:
            codes.append(code)
    return tuple(codes)
