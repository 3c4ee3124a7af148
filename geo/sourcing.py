"""Local supply rates (本地配套率) within a sourcing radius by road, and chain gaps (补链).

For a firm of industry *i* whose chain map lists input industries *j* with weights
*w_ij* (shares of input value), the **local supply rate** is

    rate = Σ_j w_ij · [a firm of industry j lies within R by road] / Σ_j w_ij

(R = 100 km by default: the "100 km transport circle" of the domain notes). Weights
not listed (energy, services, imports) are outside the measure, so the rate is a share
of the *mapped* input value. ``local_supply_rate_crow`` is the same with straight-line
(geodesic) distances: the gap between the two shows where the road network, not the
map, is the problem.

How it is computed (no loop over firm pairs): every firm snaps to its nearest road
node; for each industry *j* one multi-source Dijkstra runs from all *j* firms at once
(a virtual source joined to each supplier's node by its snap distance), limited to R;
then each buyer reads the cost at its own node and adds its own snap distance. The
cost therefore grows with the number of industries, not with the number of firms.
Straight-line checks use a ``cKDTree`` per industry.

With a real **input–output table** (``[sourcing] io_table``) its coefficients replace
the chain-map weights; with a real **firm→supplier edge list**
(``[sourcing] supplier_edges``), a listed firm's rate is the value share of its actual
suppliers within R (``rate_basis`` says which was used for each firm).

The **chain-gap table** lists, for the anchor firms (链主), the input industries with
no supplier within R, ranked by the anchor input value they would bring within the
radius (annual output × input ratio × weight), with the nearest existing supplier and
the parks that already have such a supplier within R.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .chain_gaps import OUTSIDE, chain_table, gap_table
from .chains import Chains, read_supplier_edges
from .config import SourcingConfig
from .crs import WGS84
from .errors import InputError, ModelError
from .io import check_writable, write_csv, write_gpkg
from .network import (
    Network,
    Snapper,
    SnapResult,
    _as_points_metric,
    geodesic_m,
    transformer,
)
from .register import load_firms, study_chains

if TYPE_CHECKING:  # pragma: no cover
    from .study import Study

#: The default sourcing radius by road (km): ``[sourcing] radius_km``, declared in
#: :class:`geo.config.SourcingConfig`.
RADIUS_KM: float = SourcingConfig.radius_km

def _check_radius(radius_km: float) -> float:
    try:
        r = float(radius_km)
    except (TypeError, ValueError):
        raise InputError(f"radius must be a number of km, got {radius_km!r}") from None
    if not (r > 0 and math.isfinite(r)):
        raise InputError(f"radius must be > 0 km, got {radius_km!r}")
    return r


@dataclass
class SupplyIndex:
    """Per-industry nearest-supplier costs over the network, for one radius.

    ``reach_m[k, node]``: road metres from the nearest on-network firm of industry
    ``industries[k]`` to ``node`` (the supplier's access leg and partial edge included;
    ``inf`` beyond the radius).
    """

    network: Network
    chains: Chains
    industries: list[str]
    radius_m: float
    reach_m: np.ndarray
    supplier_xy: dict[str, np.ndarray]          # metric xy of all suppliers
    supplier_rows: dict[str, np.ndarray]        # row numbers in the firm register
    trees: dict[str, cKDTree] = field(default_factory=dict)

    @classmethod
    def build(cls, network: Network, chains: Chains, firms: gpd.GeoDataFrame,
              snap: pd.DataFrame, radius_km: float) -> SupplyIndex:
        """Search from every supplier industry at once.

        Parameters
        ----------
        network
            The road network.
        chains
            The chain maps (which industries are inputs).
        firms
            The firm register (WGS84).
        snap
            ``network.snap(firms)``.
        radius_km
            The sourcing radius (km, > 0).

        Returns
        -------
        SupplyIndex
            Suppliers off the network stay in ``supplier_rows``/``supplier_xy`` (the
            straight-line rate never depends on the network); only on-network suppliers
            enter the road search.
        """
        radius_m = _check_radius(radius_km) * 1000.0
        inds, code = supplier_codes(firms, chains)
        k = len(inds)
        xy, _ = _as_points_metric(firms, network.crs, "firms")
        rows_of = _rows_by_code(code, inds)
        if k:
            # One multi-source search per industry, all in one csgraph call on the
            # network's reduced graph: a virtual source per industry joined to both ends
            # of each on-network supplier's road by its access leg and partial edge.
            grp, nodes, w = supplier_sources(
                network.snapper, SnapResult.from_frame(snap, network.max_snap_m), code)
            d = network.grouped_costs(grp, nodes, w, k, metric="length", limit=radius_m)
        else:
            d = np.full((0, network.n_nodes), np.inf)
        return cls(network, chains, inds, radius_m, d,
                   {j: xy[rows_of[j]] for j in inds}, rows_of)

    def _tree(self, j: str) -> cKDTree:
        if j not in self.trees:
            self.trees[j] = cKDTree(self.supplier_xy[j])
        return self.trees[j]

    def covered(self, snap: SnapResult, inputs: list[str]) -> np.ndarray:
        """(n, len(inputs)) bool: a supplier of each input within the radius by road.

        Parameters
        ----------
        snap
            The points' snaps (:meth:`Network.snap_xy`): a point is reached through
            either end of its road.
        inputs
            Industry ids.

        Returns
        -------
        ndarray of bool
            False for points off the network.
        """
        out = np.zeros((len(snap.edge), len(inputs)), dtype=bool)
        pos = {j: i for i, j in enumerate(self.industries)}
        for c, j in enumerate(inputs):  # loop over industries, not firms
            if j in pos:
                p = pos[j]
                cost = self.network.to_points(self.reach_m[p:p + 1], snap, "length")[0]
                out[:, c] = (cost <= self.radius_m) & snap.on_network
        return out

    def covered_crow(self, xy: np.ndarray, lonlat: np.ndarray, inputs: list[str]) -> np.ndarray:
        """(n, len(inputs)) bool: a supplier within the radius in a straight line
        (geodesic distance to the nearest supplier in the metric CRS).

        Parameters
        ----------
        xy
            (n, 2) point coordinates, metres in the network's metric CRS.
        lonlat
            (n, 2) the same points in EPSG:4326 lon/lat degrees.
        inputs
            Industry ids.

        Returns
        -------
        numpy.ndarray of bool
            True where the nearest supplier of the input (nearest in the metric CRS) lies
            within ``radius_m`` geodesic metres; False for inputs without suppliers.
        """
        out = np.zeros((len(xy), len(inputs)), dtype=bool)
        to_w = transformer(self.network.crs, WGS84)
        for c, j in enumerate(inputs):
            if j not in self.supplier_xy or len(self.supplier_xy[j]) == 0 or len(xy) == 0:
                continue
            _, nn = self._tree(j).query(xy)
            sxy = self.supplier_xy[j][nn]
            slon, slat = to_w.transform(sxy[:, 0], sxy[:, 1])
            out[:, c] = geodesic_m(lonlat[:, 0], lonlat[:, 1], slon, slat) <= self.radius_m
        return out


def supplier_codes(firms: pd.DataFrame, chains: Chains) -> tuple[list[str], np.ndarray]:
    """The supplier industries of a register and each firm's position among them.

    Parameters
    ----------
    firms
        The firm register (an ``industry`` column of chain-map ids).
    chains
        The chain maps.

    Returns
    -------
    industries : list of str
        The register's industries that the chain maps know, sorted: the rows of
        :attr:`SupplyIndex.reach_m`.
    code : numpy.ndarray
        int64 position of each firm's industry in ``industries`` (−1 if not there).
    """
    ind = firms["industry"].to_numpy(dtype=object)
    inds = sorted(set(ind) & set(chains.ids))
    code = pd.Index(inds, dtype=object).get_indexer(ind) if inds else np.full(len(ind), -1)
    return inds, np.asarray(code, dtype=np.int64)


def _rows_by_code(code: np.ndarray, inds: list[str]) -> dict[str, np.ndarray]:
    """Register rows of each industry (ascending)."""
    rows = np.flatnonzero(code >= 0)
    rows = rows[np.argsort(code[rows], kind="stable")]  # by industry, then row
    parts = np.split(rows, np.cumsum(np.bincount(code[rows], minlength=len(inds)))[:-1]) \
        if inds else []
    return dict(zip(inds, parts, strict=True))


def supplier_sources(snapper: Snapper, snap: SnapResult, code: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sources of the per-industry searches: each on-network supplier at both ends
    of its road, starting at its access leg plus the partial edge (metres).

    Parameters
    ----------
    snapper
        The network's :class:`~geo.network.Snapper`.
    snap
        The firms' snaps.
    code
        Each firm's industry position (:func:`supplier_codes`; −1: not a supplier).

    Returns
    -------
    group, nodes, offsets : numpy.ndarray
        For :meth:`Network.grouped_costs` (an end behind a one-way edge is left out).
        Firms may come in any order or in parts: the search does not depend on it.
    """
    rows = np.flatnonzero((code >= 0) & snap.on_network)
    ends, leave, _ = snapper.entry(snap.take(rows), "length")
    grp = np.repeat(code[rows], 2)
    w = leave.ravel()
    ok = np.isfinite(w)
    return grp[ok], ends.ravel()[ok], w[ok]


def supply_index(study: Study, radius_km: float = RADIUS_KM) -> SupplyIndex:
    """The study's :class:`SupplyIndex` for a radius (cached on the study).

    Parameters
    ----------
    study
        The study (firms, roads, chain maps).
    radius_km
        Sourcing radius, km by road (> 0).

    Returns
    -------
    SupplyIndex
        The same object for the same study and radius.

    Raises
    ------
    InputError
        ``radius_km`` is not a positive number; no firms or roads layer.
    NetworkError
        The road network cannot be built.
    """
    r = _check_radius(radius_km)
    cache = study.cache.setdefault("supply", {})
    if r not in cache:
        net = Network.from_study(study)
        firms = load_firms(study)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            snap = net.snap(firms, what="firms", warn=False)
        cache[r] = (SupplyIndex.build(net, study_chains(study), firms, snap, r), firms, snap)
    return cache[r][0]


def input_share_within(points: gpd.GeoDataFrame, industry: str, study: Study,
                       radius_km: float = RADIUS_KM) -> np.ndarray:
    """Value-weighted share of ``industry``'s inputs with a supplier within the radius by
    road, for arbitrary points (grid cell centres, park centroids, candidate sites).

    Vectorised for hundreds of thousands of points: one cKDTree query to snap them,
    then table look-ups in the per-industry Dijkstra results (built once per study and
    radius).

    Parameters
    ----------
    points
        Points (polygons: centroids) in any CRS.
    industry
        An industry id of the chain maps.
    study
        The study whose firms, roads and chain maps give the suppliers.
    radius_km
        Sourcing radius, km by road (snap legs included).

    Returns
    -------
    numpy.ndarray of float
        One share in [0, 1] per point; NaN for points farther than ``max_snap_m`` from
        the road network, and NaN everywhere if the industry has no inputs in the maps.

    Raises
    ------
    ModelError
        Unknown industry.
    InputError
        Radius ≤ 0, or the study has no firms or roads layer.
    NetworkError
        Points without a CRS or geometry, or a network that cannot be built.
    """
    idx = supply_index(study, radius_km)
    idx.chains.check_industry(industry)
    ins = idx.chains.inputs_of(industry)
    if not ins:
        return np.full(len(points), np.nan)
    _, lonlat = _as_points_metric(points, idx.network.crs, "points")
    sn = idx.network.snap_xy(lonlat)
    names = list(ins)
    w = np.array([ins[j] for j in names])
    cov = idx.covered(sn, names)
    share = cov.astype(float) @ w / w.sum()
    share[~sn.on_network] = np.nan
    return share


@dataclass
class SourcingResult:
    """What :func:`run_sourcing` returns.

    Attributes
    ----------
    firms : geopandas.GeoDataFrame
        Per firm (WGS84 points): ``firm_id, name, park_id, industry, chain, anchor,
        local_supply_rate, local_supply_rate_crow, missing_inputs, missing_inputs_crow,
        n_inputs, rate_basis, snap_m, status, synthetic``.
    parks : pandas.DataFrame
        Per park: firm counts, median/mean/quartiles of the rate, shares meeting the
        targets, a histogram, the median straight-line rate.
    gaps : pandas.DataFrame
        Chain gaps ranked by anchor input value (see module doc).
    chains : pandas.DataFrame
        Per chain and park: anchors, their median rate, whether the chain is complete
        within the radius (every anchor at rate 1), and its missing inputs.
    service_areas : geopandas.GeoDataFrame or None
        Each park's area reachable within the radius by road
        (:meth:`geo.network.Network.reach`), with firm counts by industry.
    """

    firms: gpd.GeoDataFrame
    parks: pd.DataFrame
    gaps: pd.DataFrame
    chains: pd.DataFrame
    radius_km: float
    network: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    service_areas: gpd.GeoDataFrame | None = None


def _join_missing(mask: np.ndarray, names: list[str], order: np.ndarray) -> np.ndarray:
    """';'-joined names of the True columns, heaviest first (loop over columns only)."""
    out = np.full(mask.shape[0], "", dtype=object)
    for c in order:
        add = mask[:, c]
        if not add.any():
            continue
        sep = np.where(out[add] == "", "", ";")
        out[add] = out[add] + sep + names[c]
    return out


def _rates(W: np.ndarray, ind_pos: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Row-wise Σ w·covered / Σ w for firms of industry rows ``ind_pos`` (−1: none)."""
    Wf = W[np.maximum(ind_pos, 0)]
    tot = Wf.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (Wf * cov).sum(1) / tot
    r[(ind_pos < 0) | (tot <= 0)] = np.nan
    return r


def _park_table(firms: pd.DataFrame, targets: tuple[float, ...]) -> pd.DataFrame:
    f = firms.copy()
    f["park"] = f["park_id"].replace("", OUTSIDE)
    bins = [0, 0.2, 0.4, 0.6, 0.8, 1.0 + 1e-9]
    labels = ["0-20%", "20-40%", "40-60%", "60-80%", "80-100%"]
    rows = []
    for park, g in f.groupby("park", sort=True):  # loop over parks (few)
        r = g["local_supply_rate"].dropna()
        a = g.loc[g["anchor"], "local_supply_rate"].dropna()
        rec: dict[str, Any] = {
            "park_id": park, "n_firms": len(g), "n_rated": len(r),
            "n_anchors": int(g["anchor"].sum()),
            "median_rate": r.median() if len(r) else np.nan,
            "mean_rate": r.mean() if len(r) else np.nan,
            "p25_rate": r.quantile(0.25) if len(r) else np.nan,
            "p75_rate": r.quantile(0.75) if len(r) else np.nan,
            "min_rate": r.min() if len(r) else np.nan,
            "max_rate": r.max() if len(r) else np.nan,
            "anchor_median_rate": a.median() if len(a) else np.nan,
            "median_rate_crow": g["local_supply_rate_crow"].median(),
        }
        for t in targets:
            rec[f"share_ge_{int(round(t * 100))}pct"] = float((r >= t - 1e-12).mean()) \
                if len(r) else np.nan
        counts = pd.cut(r, bins=bins, labels=labels, right=False).value_counts()
        rec["histogram"] = ";".join(f"{lab}:{int(counts.get(lab, 0))}" for lab in labels)
        rows.append(rec)
    out = pd.DataFrame(rows)
    return out.sort_values(["park_id" ]).reset_index(drop=True)


def run_sourcing(study: Study, radius_km: float | None = None, *,
                 with_service_areas: bool = True,
                 progress: Callable[[str], None] | None = None) -> SourcingResult:
    """Local supply rates, park summaries and chain gaps for a study's firm register.

    Parameters
    ----------
    study
        A loaded study with a roads layer and a firms layer (field named by the
        layer's ``industry`` option).
    radius_km
        Sourcing radius by road, km (default ``[sourcing] radius_km`` or 100).
    with_service_areas
        Also compute each park's service area within the radius (``.service_areas``).
    progress
        Called with a short text before each step.

    Returns
    -------
    SourcingResult
        Per-firm rates (shares 0–1 of input value within ``radius_km`` by road and in
        a straight line), park summaries, ranked chain gaps, per-chain completeness and
        the service areas (EPSG:4326).

    Raises
    ------
    InputError
        Radius ≤ 0, no firms or roads layer, missing industry field.
    ModelError
        Bad chain maps, input–output table or edge list.
    """
    cfg = study.config.sourcing
    r_km = _check_radius(radius_km if radius_km is not None else cfg.radius_km)
    say = progress or (lambda s: None)
    net, chains, firms, snap, idx = _supply_inputs(study, r_km, say)
    notes: list[str] = list(chains.notes)
    say("rating firms")
    rated = _Rated.compute(firms, chains, idx, net, snap, io_table=bool(cfg.io_table))
    if cfg.supplier_edges:
        say("rating firms from the supplier edge list")
        has = rated.with_edges(study.root / cfg.supplier_edges, firms, net, r_km)
        notes.append(f"{int(has.sum())} firm(s) rated from the supplier edge list")
    out = _firm_frame(firms, chains, rated, cfg.value_field)
    say("chain gaps")
    gaps = gap_table(out, firms, chains, idx, net, rated.W, chains.ids, rated.ind_pos,
                      rated.cov, rated.sr, cfg.value_field, study, notes)
    service_areas = None
    if with_service_areas and study.has_role("parks"):
        say("service areas of the parks")
        service_areas = net.reach(study.load_role("parks"), r_km, firms=out)
    return SourcingResult(out, _park_table(out, cfg.targets), gaps, chain_table(out, chains),
                          r_km, net.summary(), notes, service_areas)


def _supply_inputs(study: Study, r_km: float, say: Callable[[str], None]):
    """(network, chain maps, firms, their snap, the supply index for ``r_km``); the
    index is cached on the study per radius."""
    say("building the road network")
    net = Network.from_study(study)
    say("reading firms and chain maps")
    chains = study_chains(study)
    firms = load_firms(study)
    if len(firms) == 0:
        raise InputError(f"{study.path}: the firms layer is empty")
    snap = net.snap(firms, what="firms")
    say("one Dijkstra per input industry")
    cache = study.cache.setdefault("supply", {})
    if r_km not in cache:
        cache[r_km] = (SupplyIndex.build(net, chains, firms, snap, r_km), firms, snap)
    return net, chains, firms, snap, cache[r_km][0]


def _industry_positions(firms: gpd.GeoDataFrame, ids: list[str]) -> np.ndarray:
    """Each firm's row in the chain maps' industry list (−1, with a warning, if none)."""
    pos = {j: i for i, j in enumerate(ids)}
    ind = firms["industry"].to_numpy(dtype=object)
    ind_pos = np.array([pos.get(j, -1) for j in ind], dtype=int)
    unknown = sorted(set(ind[ind_pos < 0]))
    if unknown:
        warnings.warn(f"firms: {int((ind_pos < 0).sum())} firm(s) have industries not in the "
                      f"chain maps ({', '.join(map(str, unknown[:8]))}); their rate is empty. "
                      "Add the industries to a chain map or fix the industry field.",
                      UserWarning, stacklevel=3)
    return ind_pos


@dataclass
class _Rated:
    """Each firm's local supply rates (by road and straight line), missing inputs,
    basis and network status, as arrays in register order."""

    W: np.ndarray
    ind_pos: np.ndarray
    sr: SnapResult
    lonlat: np.ndarray
    cov: np.ndarray
    rate: np.ndarray
    rate_crow: np.ndarray
    missing: np.ndarray
    missing_crow: np.ndarray
    needs: np.ndarray
    basis: np.ndarray
    status: np.ndarray

    @classmethod
    def compute(cls, firms: gpd.GeoDataFrame, chains: Chains, idx: SupplyIndex, net: Network,
                snap: pd.DataFrame, *, io_table: bool) -> _Rated:
        ids = chains.ids
        W, _ = chains.weight_matrix(ids)
        ind_pos = _industry_positions(firms, ids)
        sr = SnapResult.from_frame(snap, net.max_snap_m)
        on = sr.on_network
        cov = idx.covered(sr, ids)
        xy, lonlat = _as_points_metric(firms, net.crs, "firms")
        cov_crow = idx.covered_crow(xy, lonlat, ids)
        rate = _rates(W, ind_pos, cov)
        rate[~on] = np.nan
        needs = (W[np.maximum(ind_pos, 0)] * (ind_pos >= 0)[:, None]) > 0
        missing = np.full(len(firms), "", dtype=object)
        missing_crow = np.full(len(firms), "", dtype=object)
        for b in np.unique(ind_pos[ind_pos >= 0]):  # loop over buyer industries (few)
            rows = ind_pos == b
            order = np.array([c for c in np.argsort(-W[b], kind="stable") if W[b, c] > 0],
                             dtype=int)
            missing[rows] = _join_missing((~cov[rows] & on[rows, None]), ids, order)
            missing_crow[rows] = _join_missing(~cov_crow[rows], ids, order)
        basis = np.where(ind_pos < 0, "unknown_industry",
                         np.where(needs.any(1), "io_table" if io_table else "chain_map",
                                  "no_inputs"))
        status = np.where(~on, "off_network", np.where(snap["in_main_component"].to_numpy(),
                                                       "ok", "small_component"))
        return cls(W, ind_pos, sr, lonlat, cov, rate, _rates(W, ind_pos, cov_crow), missing,
                   missing_crow, needs, basis, status)

    def with_edges(self, path: Path, firms: gpd.GeoDataFrame, net: Network,
                   r_km: float) -> np.ndarray:
        """Replace the rates of firms listed in a supplier edge list; returns which."""
        er, ecr, emiss, has = _edge_rates(path, firms, net, self.sr, self.lonlat, r_km * 1000.0)
        self.rate = np.where(has, er, self.rate)
        self.rate_crow = np.where(has, ecr, self.rate_crow)
        self.missing = np.where(has, emiss, self.missing)
        self.basis = np.where(has, "supplier_edges", self.basis)
        return has


def _firm_frame(firms: gpd.GeoDataFrame, chains: Chains, r: _Rated,
                value_field: str) -> gpd.GeoDataFrame:
    """The firm table of :class:`SourcingResult` (EPSG:4326 points)."""
    ind = firms["industry"].to_numpy(dtype=object)
    chain_of = chains.industries["chain"]
    out = gpd.GeoDataFrame({
        "firm_id": firms["firm_id"].to_numpy(),
        "name": firms["name"].astype(str).to_numpy() if "name" in firms else "",
        "park_id": firms["park_id"].to_numpy(), "industry": ind,
        "chain": pd.Series(ind).map(chain_of).fillna("").to_numpy(dtype=object),
        "anchor": firms["anchor"].to_numpy(bool),
        "local_supply_rate": r.rate, "local_supply_rate_crow": r.rate_crow,
        "missing_inputs": r.missing, "missing_inputs_crow": r.missing_crow,
        "n_inputs": r.needs.sum(1), "rate_basis": r.basis, "snap_m": r.sr.snap_m,
        "status": r.status, "synthetic": firms["synthetic"].astype(bool).to_numpy(),
    }, geometry=firms.geometry.values, crs=WGS84)
    for c in ("name_en", value_field, "land_mu", "fixed_investment_myuan", "annual_tax_myuan"):
        if c in firms.columns and c not in out.columns:
            out.insert(len(out.columns) - 1, c, firms[c].to_numpy())
    out.attrs["synthetic"] = firms.attrs.get("synthetic", False)
    return out


def _edge_rates(path: Path, firms: gpd.GeoDataFrame, net: Network, sr: SnapResult,
                lonlat: np.ndarray, radius_m: float):
    """Rates from a firm→supplier edge list: one search from each distinct supplier."""
    e = read_supplier_edges(path)
    fid = pd.Series(np.arange(len(firms)), index=firms["firm_id"].astype(str).to_numpy())
    unknown = sorted((set(e["firm_id"]) | set(e["supplier_id"])) - set(fid.index))
    if unknown:
        raise ModelError(f"{path}: {len(unknown)} firm id(s) not in the firm register (e.g. "
                         f"{', '.join(unknown[:5])}); fix the ids or add the firms")
    b = fid.loc[e["firm_id"]].to_numpy()
    s = fid.loc[e["supplier_id"]].to_numpy()
    on = sr.on_network
    ok = on[b] & on[s]
    us, inv = np.unique(s, return_inverse=True)
    # goods travel supplier → buyer
    d = net.point_costs(sr.take(us), metric="length", limit=radius_m)
    ends, _, arrive = net.entry(sr.take(b), "length")
    inv = inv.ravel()
    cost = np.minimum(d[inv, ends[:, 0]] + arrive[:, 0], d[inv, ends[:, 1]] + arrive[:, 1])
    within = ok & (cost <= radius_m)
    crow = geodesic_m(lonlat[b, 0], lonlat[b, 1], lonlat[s, 0], lonlat[s, 1]) <= radius_m
    v = e["value"].to_numpy()
    n = len(firms)
    tot = np.bincount(b, weights=v, minlength=n)
    has = np.bincount(b, minlength=n) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.bincount(b, weights=v * within, minlength=n) / tot
        rc = np.bincount(b, weights=v * crow, minlength=n) / tot
    r[~on] = np.nan
    ind = firms["industry"].to_numpy(dtype=object)
    miss = pd.DataFrame({"b": b, "ind": ind[s]})[~within].drop_duplicates()
    joined = miss.groupby("b")["ind"].agg(lambda x: ";".join(sorted(map(str, x))))
    m = np.full(n, "", dtype=object)
    m[joined.index.to_numpy()] = joined.to_numpy()
    return r, rc, m, has


def write_sourcing(res: SourcingResult, out: str | Path, *, overwrite: bool = True
                   ) -> list[Path]:
    """Write the tables atomically.

    ``out`` is a CSV path (the per-firm table; ``<stem>_parks.csv``, ``<stem>_gaps.csv``
    and ``<stem>_chains.csv`` beside it), a ``.gpkg`` path (layers firms, parks, gaps,
    chains, service_areas), or a folder (all of them, named ``sourcing*``).

    Parameters
    ----------
    res
        A :func:`run_sourcing` result.
    out
        A ``.csv`` or ``.gpkg`` path, or a folder (created if missing). Firm CSVs carry
        ``lon``/``lat`` in EPSG:4326 degrees (6 decimals); GeoPackage layers are
        EPSG:4326.
    overwrite
        Replace existing files.

    Returns
    -------
    list of pathlib.Path
        Every file written.

    Raises
    ------
    OutputError
        A file exists and ``overwrite`` is False, or cannot be written.
    """
    p = Path(out)
    written: list[Path] = []
    if p.is_dir() or p.suffix == "":
        p.mkdir(parents=True, exist_ok=True)
        written += write_sourcing(res, p / "sourcing.csv", overwrite=overwrite)
        written += write_sourcing(res, p / "sourcing.gpkg", overwrite=overwrite)
        return written
    if p.suffix.lower() == ".gpkg":
        layers: dict[str, Any] = {"firms": res.firms, "parks": res.parks, "gaps": res.gaps,
                                  "chains": res.chains}
        if res.service_areas is not None:
            sa = res.service_areas[res.service_areas.geometry.notna()]
            if len(sa):
                layers["service_areas"] = sa
        write_gpkg(layers, p, overwrite=overwrite)
        return [p]
    paths = [p, p.with_name(p.stem + "_parks.csv"), p.with_name(p.stem + "_gaps.csv"),
             p.with_name(p.stem + "_chains.csv")]
    for q in paths:
        check_writable(q, overwrite=overwrite)
    f = pd.DataFrame(res.firms.drop(columns="geometry"))
    f["lon"] = res.firms.geometry.x.round(6).to_numpy()
    f["lat"] = res.firms.geometry.y.round(6).to_numpy()
    write_csv(f, paths[0], overwrite=overwrite)
    write_csv(res.parks, paths[1], overwrite=overwrite)
    write_csv(res.gaps, paths[2], overwrite=overwrite)
    write_csv(res.chains, paths[3], overwrite=overwrite)
    return paths
