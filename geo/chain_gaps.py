"""Chain gaps (补链): the input industries an anchor firm cannot source within the radius,
with the nearest supplier of each beyond it, and the chain table of a sourcing run.

Used by :func:`geo.sourcing.run_sourcing`; the rates and the supply index it reads are
:mod:`geo.sourcing`'s.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.sparse import csgraph

from .chains import Chains
from .network import Network, SnapResult, geodesic_m

if TYPE_CHECKING:
    from .sourcing import SupplyIndex
    from .study import Study

#: The park name of firms outside every park (as in :mod:`geo.sourcing`).
OUTSIDE = "(outside parks)"


def _to_anchor_costs(net: Network, sa: SnapResult) -> np.ndarray:
    """(len(sa), n_nodes) road metres from every node to each anchor point (goods travel
    supplier → anchor), unlimited."""
    if not net.directed:  # both directions cost the same: the reduced-graph searches
        return net.point_costs(sa)
    ends, _, arrive = net.entry(sa, "length")
    ue, inv = np.unique(ends.ravel(), return_inverse=True)
    gT = net._graph("length").primary.T.tocsr()
    dT = csgraph.dijkstra(gT, directed=True, indices=ue)[inv.ravel().reshape(-1, 2)]
    return np.minimum(dT[:, 0] + arrive[:, :1], dT[:, 1] + arrive[:, 1:])


def _nearest_suppliers(g: pd.DataFrame, out: pd.DataFrame, idx: SupplyIndex, net: Network,
                       sr: SnapResult, anchors: np.ndarray) -> None:
    """Nearest existing supplier of each missing input, by road (on-network suppliers)
    and in a straight line (every supplier); a supplier only off the network is named
    as such, never as "none in the register"."""
    dA = _to_anchor_costs(net, sr.take(anchors))
    rowpos = pd.Series(np.arange(len(anchors)), index=anchors)
    fid = out["firm_id"].to_numpy()
    fpark = out["park_id"].to_numpy()
    xy_ll = np.column_stack([out.geometry.x.to_numpy(), out.geometry.y.to_numpy()])
    near_id = np.full(len(g), "", dtype=object)
    near_park = np.full(len(g), "", dtype=object)
    near_km = np.full(len(g), np.nan)
    near_crow = np.full(len(g), np.nan)
    for j in g["input_industry"].unique():  # loop over missing industries (few)
        sel = np.flatnonzero(g["input_industry"].to_numpy() == j)
        rows = idx.supplier_rows.get(j, np.zeros(0, dtype=np.int64))
        if len(rows) == 0:
            continue
        ar = g["firm"].to_numpy()[sel]
        crow = geodesic_m(xy_ll[ar, 0][:, None], xy_ll[ar, 1][:, None],
                          xy_ll[rows, 0][None, :], xy_ll[rows, 1][None, :])
        near_crow[sel] = crow.min(axis=1) / 1000.0
        on_rows = rows[sr.on_network[rows]]
        if len(on_rows) == 0:
            best = rows[np.argmin(crow, axis=1)]
            near_id[sel] = fid[best]
            near_park[sel] = [f"in the register but off the network ({d / 1000:.1f} km "
                              "from a road)" for d in sr.snap_m[best]]
            continue
        ends, leave, _ = net.entry(sr.take(on_rows), "length")
        da = dA[rowpos.loc[ar].to_numpy()]
        c = np.minimum(da[:, ends[:, 0]] + leave[None, :, 0],
                       da[:, ends[:, 1]] + leave[None, :, 1])
        best = np.argmin(c, axis=1)
        bc = c[np.arange(len(sel)), best]
        srow = on_rows[best]
        near_id[sel] = fid[srow]
        near_park[sel] = np.where(fpark[srow] == "", OUTSIDE, fpark[srow])
        near_km[sel] = np.where(np.isfinite(bc), bc / 1000.0, np.nan)
    g["nearest_supplier_id"] = near_id
    g["nearest_supplier_park"] = near_park
    g["nearest_supplier_km"] = near_km
    g["nearest_supplier_crow_km"] = near_crow


def gap_table(out, firms, chains: Chains, idx: SupplyIndex, net: Network, W, ids, ind_pos,
               cov, sr: SnapResult, value_field: str, study: Study,
               notes: list[str]) -> pd.DataFrame:
    """The chain-gap table: per park, the input industries its anchor firms cannot source
    within the radius, ranked by the input value they miss, with the nearest supplier
    beyond the radius (road km where the network reaches it).

    Parameters
    ----------
    out
        The rated firm table of :func:`geo.sourcing.run_sourcing`.
    firms, chains, idx, net
        The register, chain maps, supply index and road network of the run.
    W, ids, ind_pos, cov
        Input-weight matrix, its industry ids, each firm's row in it and the coverage
        matrix (firm × input industry within the radius).
    sr
        The firms' snaps.
    value_field
        The firm field that weighs anchors (e.g. output).
    study
        The study (for labels).
    notes
        Messages for the run's report (appended to).

    Returns
    -------
    pandas.DataFrame
        One row per (park, missing input industry), ``rank`` first.
    """
    cols = ["rank", "park_id", "input_industry", "input_name_zh", "input_name_en",
            "n_anchors", "anchors", "anchor_input_value_myuan", "mean_rate_gain",
            "nearest_supplier_id", "nearest_supplier_park", "nearest_supplier_km",
            "nearest_supplier_crow_km", "parks_with_supplier_within_radius"]
    anchors = np.flatnonzero(out["anchor"].to_numpy(bool) & sr.on_network & (ind_pos >= 0))
    if len(anchors) == 0:
        notes.append("no anchor firms (anchor = true) on the network: no chain-gap table")
        return pd.DataFrame(columns=cols)
    value = pd.to_numeric(firms[value_field], errors="coerce").to_numpy(float) \
        if value_field in firms.columns else np.full(len(firms), np.nan)
    if value_field not in firms.columns:
        notes.append(f"firms have no {value_field!r} field: gaps ranked by weight only "
                     "(each anchor counted as 1)")
    ind = out["industry"].to_numpy(dtype=object)
    # A missing output: the median of the industry, else 1 (documented).
    med = pd.Series(value).groupby(ind).transform("median").to_numpy()
    val = np.where(np.isfinite(value), value, np.where(np.isfinite(med), med, 1.0))
    ratio = chains.industries["input_ratio"].reindex(ids).to_numpy(float)
    Wa = W[ind_pos[anchors]]
    gap = (Wa > 0) & ~cov[anchors]
    a_i, j_i = np.nonzero(gap)
    if len(a_i) == 0:
        return pd.DataFrame(columns=cols)
    rows_a = anchors[a_i]
    tot = Wa.sum(1)
    g = pd.DataFrame({
        "firm": rows_a, "park_id": out["park_id"].to_numpy()[rows_a],
        "input_industry": np.asarray(ids, dtype=object)[j_i],
        "value": val[rows_a] * ratio[ind_pos[rows_a]] * Wa[a_i, j_i],
        "gain": Wa[a_i, j_i] / tot[a_i]})
    _nearest_suppliers(g, out, idx, net, sr, anchors)
    # Parks that have a supplier of the input within the radius (their centroid node).
    parks_ok: dict[str, str] = {}
    parks = study.load_role("parks")
    if parks is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ps = net.snap(parks, what="parks", warn=False)
        pcov = idx.covered(SnapResult.from_frame(ps, net.max_snap_m),
                           list(g["input_industry"].unique()))
        pid = parks["id"].astype(str).to_numpy()
        for c, j in enumerate(g["input_industry"].unique()):
            parks_ok[j] = ";".join(pid[pcov[:, c] & ps["on_network"].to_numpy()])
    g["parks_with_supplier_within_radius"] = g["input_industry"].map(parks_ok).fillna("")
    g["park_id"] = g["park_id"].replace("", OUTSIDE)
    g["anchor_id"] = out["firm_id"].to_numpy()[g["firm"].to_numpy()]
    best_rows = g.sort_values("nearest_supplier_km", na_position="last").groupby(
        ["park_id", "input_industry"], sort=False).head(1).set_index(
        ["park_id", "input_industry"])
    agg = g.groupby(["park_id", "input_industry"]).agg(
        n_anchors=("anchor_id", "nunique"),
        anchors=("anchor_id", lambda x: ";".join(sorted(set(x)))),
        anchor_input_value_myuan=("value", "sum"), mean_rate_gain=("gain", "mean"))
    agg = agg.join(best_rows[["nearest_supplier_id", "nearest_supplier_park",
                              "nearest_supplier_km", "nearest_supplier_crow_km",
                              "parks_with_supplier_within_radius"]]).reset_index()
    agg["input_name_zh"] = [chains.name(j, "zh") for j in agg["input_industry"]]
    agg["input_name_en"] = [chains.name(j, "en") for j in agg["input_industry"]]
    none = agg["nearest_supplier_id"] == ""
    agg.loc[none, "nearest_supplier_park"] = "(none in the register)"
    agg = agg.sort_values(["anchor_input_value_myuan", "mean_rate_gain"],
                          ascending=False).reset_index(drop=True)
    agg["rank"] = np.arange(1, len(agg) + 1)
    agg["anchor_input_value_myuan"] = agg["anchor_input_value_myuan"].round(1)
    agg["mean_rate_gain"] = agg["mean_rate_gain"].round(4)
    return agg[cols]


def chain_table(out: pd.DataFrame, chains: Chains) -> pd.DataFrame:
    """Per chain and park: the rated anchor firms, their median local supply rate (road
    and straight line), whether every one sources all inputs within the radius, and the
    inputs any of them misses.

    Parameters
    ----------
    out
        The rated firm table of :func:`geo.sourcing.run_sourcing`.
    chains
        The chain maps.

    Returns
    -------
    pandas.DataFrame
        One row per (chain, park) with rated anchors.
    """
    f = out[out["anchor"] & out["local_supply_rate"].notna()].copy()
    if f.empty:
        return pd.DataFrame(columns=["chain", "park_id", "n_anchors", "anchor_median_rate",
                                     "complete_within_radius", "missing_inputs"])
    f["park_id"] = f["park_id"].replace("", OUTSIDE)
    rows = []
    for (c, p), g in f.groupby(["chain", "park_id"], sort=True):  # chains × parks (few)
        miss = sorted({m for s in g["missing_inputs"] for m in s.split(";") if m})
        rows.append({"chain": c, "chain_name_en": chains.chains["name_en"].get(c, c),
                     "park_id": p, "n_anchors": len(g),
                     "anchor_median_rate": g["local_supply_rate"].median(),
                     "anchor_median_rate_crow": g["local_supply_rate_crow"].median(),
                     "complete_within_radius": bool((g["local_supply_rate"] >= 1 - 1e-12).all()),
                     "missing_inputs": ";".join(miss)})
    return pd.DataFrame(rows)
