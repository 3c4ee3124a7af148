"""Industrial symbiosis (产业共生): firm pairs where one's by-product is another's input.

The chain maps' ``byproducts`` entries say which industry's by-product (material)
feeds which industry, e.g. battery recycling's recovered nickel, cobalt and lithium
salts → cathode materials (the Chongming example of the domain notes). For each entry,
every firm of the source industry is paired with every firm of the receiving industry
within ``max_km`` by road (:meth:`geo.network.Network.distances`: one Dijkstra per
distinct source node, limited to the distance, snap legs included). Pairs are
computed per by-product rule on arrays: no Python loop over firm pairs.

Firms off the road network (farther than the network's ``max_snap_m`` from a node)
cannot be paired by road; they are counted in the result's notes.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import InputError
from .network import Network, geodesic_m
from .register import load_firms, study_chains

if TYPE_CHECKING:  # pragma: no cover
    from .study import Study

MAX_KM = 30.0

COLUMNS = ["from_firm_id", "from_name", "from_industry", "from_park", "material", "material_zh",
           "to_firm_id", "to_name", "to_industry", "to_park", "network_km", "crow_km",
           "same_park", "chain", "synthetic"]


def find_pairs(study: Study, max_km: float = MAX_KM) -> pd.DataFrame:
    """By-product → input pairs of firms within ``max_km`` by road.

    Parameters
    ----------
    study
        A study with a firms layer, a roads layer and chain maps (``[sourcing] chains``
        or the bundled ones).
    max_km
        Largest road distance between the two firms (km).

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`, sorted by distance: ``from_*`` the firm with the by-product,
        ``to_*`` the firm that uses it, the park of each (empty outside parks), the
        material, the road and straight-line distances in km, whether both are in the
        same park. ``attrs["notes"]`` lists rules with no firms and firms off the
        network.

    Raises
    ------
    InputError
        ``max_km`` ≤ 0; no firms or roads layer.
    """
    mk = _max_km(max_km)
    chains = study_chains(study)
    firms = load_firms(study)
    net = Network.from_study(study)
    notes: list[str] = []
    ind = firms["industry"].astype(str).to_numpy()
    frames = []
    off_total = 0
    for r in chains.byproducts.itertuples(index=False):  # by-product rules (a handful)
        src = np.flatnonzero(ind == r.from_industry)
        dst = np.flatnonzero(ind == r.to_industry)
        if len(src) == 0 or len(dst) == 0:
            notes.append(f"{r.from_industry} → {r.to_industry} ({r.material}): "
                         f"{len(src)} source and {len(dst)} receiving firm(s) in the register")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = net.distances(firms.iloc[src], firms.iloc[dst], limit_km=mk, warn=False)
        off_total += int(np.isnan(d).all(axis=1).sum())
        ok = np.isfinite(d) & (d <= mk * 1000.0) & (src[:, None] != dst[None, :])
        i, j = np.nonzero(ok)
        if len(i):
            frames.append(_rule_pairs(firms, r, src[i], dst[j], d[i, j]))
    if off_total:
        notes.append(f"{off_total} source firm(s) are off the road network and were not paired")
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    out = out.sort_values(["network_km", "from_firm_id", "to_firm_id"],
                          kind="stable").reset_index(drop=True)[COLUMNS]
    out.attrs.update({"max_km": mk, "notes": notes, "n_rules": int(len(chains.byproducts)),
                      "synthetic_firms": bool(firms.attrs.get("synthetic", False))})
    return out


def _max_km(max_km: object) -> float:
    try:
        mk = float(max_km)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"--max-km must be a number of km, got {max_km!r}") from None
    if not (mk > 0 and math.isfinite(mk)):
        raise InputError(f"--max-km must be > 0 km, got {max_km!r}")
    return mk


def _rule_pairs(firms: gpd.GeoDataFrame, rule, a: np.ndarray, b: np.ndarray,
                d_m: np.ndarray) -> pd.DataFrame:
    """The pairs of one by-product rule: firm rows ``a`` (source) → ``b`` (receiver) at
    road distances ``d_m`` (metres)."""
    fid = firms["firm_id"].astype(str).to_numpy()
    name = firms["name"].astype(str).to_numpy() if "name" in firms else fid
    ind = firms["industry"].astype(str).to_numpy()
    park = firms["park_id"].astype(str).to_numpy()
    syn = firms["synthetic"].astype(bool).to_numpy() if "synthetic" in firms else \
        np.zeros(len(firms), bool)
    lon, lat = firms.geometry.x.to_numpy(), firms.geometry.y.to_numpy()
    return pd.DataFrame({
        "from_firm_id": fid[a], "from_name": name[a], "from_industry": ind[a],
        "from_park": park[a], "material": rule.material, "material_zh": rule.material_zh,
        "to_firm_id": fid[b], "to_name": name[b], "to_industry": ind[b], "to_park": park[b],
        "network_km": np.round(d_m / 1000.0, 3),
        "crow_km": np.round(geodesic_m(lon[a], lat[a], lon[b], lat[b]) / 1000.0, 3),
        "same_park": (park[a] == park[b]) & (park[a] != ""),
        "chain": rule.chain, "synthetic": syn[a] | syn[b]})


def pairs_geodataframe(study: Study, pairs: pd.DataFrame) -> gpd.GeoDataFrame:
    """The pairs as straight lines between the two firms (EPSG:4326), for maps.

    Parameters
    ----------
    study
        The study whose firms layer :func:`find_pairs` used (firm points are looked up
        by ``firm_id``).
    pairs
        A :func:`find_pairs` result.

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of ``pairs`` (:data:`COLUMNS`) with a two-point LineString from the
        ``from`` firm to the ``to`` firm, CRS EPSG:4326 lon/lat degrees.

    Raises
    ------
    InputError
        The study has no firms layer or its industry field is missing (from
        :func:`geo.register.load_firms`).
    """
    firms = load_firms(study).set_index("firm_id")
    a = firms.geometry.reindex(pairs["from_firm_id"].astype(str)).values
    b = firms.geometry.reindex(pairs["to_firm_id"].astype(str)).values
    xy = np.stack([shapely.get_coordinates(a), shapely.get_coordinates(b)], axis=1) \
        if len(pairs) else np.zeros((0, 2, 2))
    return gpd.GeoDataFrame(pairs.reset_index(drop=True),
                            geometry=shapely.linestrings(xy) if len(pairs) else [], crs=4326)


def park_summary(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs per park (a pair counts for both parks when they differ).

    Parameters
    ----------
    pairs
        A :func:`find_pairs` result.

    Returns
    -------
    pandas.DataFrame
        ``park_id``, ``n_pairs`` (pairs with a firm in the park), ``n_within_park``
        (pairs with both firms in it), ``materials`` (``"; "``-joined, sorted), most
        pairs first; firms outside parks are not counted. Empty (same columns) when
        ``pairs`` is empty.
    """
    if pairs.empty:
        return pd.DataFrame(columns=["park_id", "n_pairs", "n_within_park", "materials"])
    fp = pairs["from_park"].astype(str).to_numpy()
    tp = pairs["to_park"].astype(str).to_numpy()
    other = tp != fp
    long = pd.DataFrame({"park_id": np.r_[fp, tp[other]],
                         "same_park": np.r_[pairs["same_park"].to_numpy(bool),
                                            np.zeros(int(other.sum()), bool)],
                         "material": np.r_[pairs["material"].astype(str).to_numpy(),
                                           pairs["material"].astype(str).to_numpy()[other]]})
    long = long[long["park_id"] != ""]
    rows = [{"park_id": p, "n_pairs": len(g), "n_within_park": int(g["same_park"].sum()),
             "materials": "; ".join(sorted(set(g["material"])))}
            for p, g in long.groupby("park_id", sort=True)]  # parks (few)
    out = pd.DataFrame(rows, columns=["park_id", "n_pairs", "n_within_park", "materials"])
    return out.sort_values("n_pairs", ascending=False, kind="stable").reset_index(drop=True)
