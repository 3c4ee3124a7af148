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
the rest is inputs not in the map: energy, services, imports). Inputs may name
industries of any loaded file, and loops are allowed (battery cells → recycling →
cathode → cells), but an industry is never its own input: a rate measures supply by
*other* industries.

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
    """

    industries: pd.DataFrame
    inputs: dict[str, dict[str, float]]
    byproducts: pd.DataFrame
    chains: pd.DataFrame
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def __contains__(self, industry: object) -> bool:
        return industry in self.industries.index

    @property
    def ids(self) -> list[str]:
        return list(self.industries.index)

    def inputs_of(self, industry: str) -> dict[str, float]:
        """Input industries of ``industry`` with their weights (``{}`` if none)."""
        self.check_industry(industry)
        return dict(self.inputs.get(industry, {}))

    def name(self, industry: str, lang: str = "zh") -> str:
        """Display name of an industry (zh or en); the id if unknown."""
        if industry not in self.industries.index:
            return industry
        return str(self.industries.at[industry, "name_zh" if lang == "zh" else "name_en"])

    def label(self, industry: str) -> str:
        """``"动力电池电芯 Battery cells"``."""
        if industry not in self.industries.index:
            return industry
        return f"{self.name(industry, 'zh')} {self.name(industry, 'en')}"

    def check_industry(self, industry: str, *, what: str = "industry") -> None:
        if industry not in self.industries.index:
            close = difflib.get_close_matches(str(industry), self.ids, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else \
                f"; known: {', '.join(self.ids[:12])}…"
            raise ModelError(f"{what} {industry!r} is not in the chain maps ({self.source})"
                             f"{hint}")

    def weight_matrix(self, ids: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
        """Dense weights ``W[buyer, supplier]`` over ``ids`` (default all industries)."""
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

        Raises
        ------
        MissingFileError, ModelError
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
                      f"input–output table {p}", notes=self.notes + notes)


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


def load_chains(paths_or_dir: Any = None) -> Chains:
    """Load chain maps from TOML files or folders (default: the bundled ``data/chains``).

    Every problem in every file is collected and raised once.

    Raises
    ------
    MissingFileError
        A file or folder does not exist.
    ModelError
        Bad TOML, an unknown input industry, a weight ≤ 0, weights summing to more than 1,
        an industry that is its own input, an industry defined twice.
    """
    files = _files(paths_or_dir)
    rows: dict[str, dict[str, Any]] = {}
    where: dict[str, Path] = {}
    inputs: dict[str, dict[str, float]] = {}
    byp: list[dict[str, Any]] = []
    chains: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for f in files:
        try:
            data = tomllib.loads(f.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise _err(f, f"not valid UTF-8 TOML ({exc})") from None
        meta = data.get("chain", {})
        cid = meta.get("id") or f.stem
        for k in meta:
            if k not in _CHAIN_KEYS:
                problems.append(f"{f}: chain.{k}: unknown key (keys: "
                                f"{', '.join(sorted(_CHAIN_KEYS))})")
        if cid in chains:
            problems.append(f"{f}: chain id {cid!r} also in {chains[cid]['path']}")
        chains[cid] = {"name_zh": meta.get("name_zh", cid), "name_en": meta.get("name_en", cid),
                       "weights": meta.get("weights", "illustrative"),
                       "note": meta.get("note", ""), "path": str(f)}
        inds = data.get("industries")
        if not isinstance(inds, dict) or not inds:
            problems.append(f"{f}: no [industries.ID] tables; a chain map lists its industries")
            continue
        for iid, t in inds.items():
            lab = f"{f}: industries.{iid}"
            if not isinstance(t, dict):
                problems.append(f"{lab}: must be a table")
                continue
            for k in t:
                if k not in _IND_KEYS:
                    close = difflib.get_close_matches(k, list(_IND_KEYS), n=1)
                    problems.append(f"{lab}.{k}: unknown key" +
                                    (f"; did you mean {close[0]!r}?" if close else ""))
            if iid in rows:
                problems.append(f"{lab}: industry defined twice (also in {where[iid]})")
                continue
            for k in ("name_zh", "name_en"):
                if not isinstance(t.get(k), str) or not t.get(k):
                    problems.append(f"{lab}.{k}: missing; give the {k[-2:]} name")
            ratio = t.get("input_ratio", DEFAULT_INPUT_RATIO)
            if not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
                problems.append(f"{lab}.input_ratio: must be in (0, 1], got {ratio!r}")
                ratio = DEFAULT_INPUT_RATIO
            rows[iid] = {"name_zh": t.get("name_zh", iid), "name_en": t.get("name_en", iid),
                         "chain": cid, "anchor": bool(t.get("anchor", False)),
                         "input_ratio": float(ratio), "stage": str(t.get("stage", "")),
                         "gbt4754": _gbt_codes(t.get("gbt4754"), lab, problems)}
            where[iid] = f
            ins = t.get("inputs", {})
            if not isinstance(ins, dict):
                problems.append(f"{lab}.inputs: must be a table {{industry = weight}}")
                ins = {}
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
            inputs[iid] = clean
            bps = t.get("byproducts", [])
            if not isinstance(bps, list):
                problems.append(f"{lab}.byproducts: must be a list of {{material, to}} tables")
                bps = []
            for b in bps:
                if not isinstance(b, dict) or "material" not in b or "to" not in b:
                    problems.append(f"{lab}.byproducts: each entry needs material and to")
                    continue
                byp.append({"from_industry": iid, "material": str(b["material"]),
                            "material_zh": str(b.get("material_zh", "")),
                            "to_industry": str(b["to"]), "chain": cid})
    known = list(rows)
    for iid, ins in inputs.items():
        for s in ins:
            if s not in rows:
                close = difflib.get_close_matches(s, known, n=1)
                problems.append(f"{where[iid]}: industries.{iid}.inputs: unknown industry {s!r}"
                                + (f"; did you mean {close[0]!r}?" if close else
                                   "; define it in a chain map"))
    for b in byp:
        if b["to_industry"] not in rows:
            close = difflib.get_close_matches(b["to_industry"], known, n=1)
            problems.append(f"{where[b['from_industry']]}: industries.{b['from_industry']}."
                            f"byproducts: unknown industry {b['to_industry']!r}" +
                            (f"; did you mean {close[0]!r}?" if close else ""))
    if problems:
        raise ModelError(f"{len(problems)} problem(s) in the chain maps:\n" +
                         "\n".join(f"  - {p}" for p in problems))
    ind = pd.DataFrame.from_dict(rows, orient="index")
    ind.index.name = "industry"
    bp = pd.DataFrame(byp, columns=["from_industry", "material", "material_zh", "to_industry",
                                    "chain"])
    ch = pd.DataFrame.from_dict(chains, orient="index")
    ch.index.name = "chain"
    return Chains(ind, inputs, bp, ch, source=", ".join(str(f) for f in files))


def read_supplier_edges(path: str | os.PathLike) -> pd.DataFrame:
    """A firm→supplier edge list: CSV with ``firm_id, supplier_id`` and optionally ``value``
    (input value bought; default 1 per edge).

    Raises
    ------
    MissingFileError, ModelError
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
