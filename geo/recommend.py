"""Which park fits an incoming firm? Rank parks (and candidate regions) for an industry.

For an incoming firm of industry *X*, every site (each park of the study, and each
candidate region of ``parksite suitability`` when given) gets five things:

supply
    the local supply rate it would have there: the value-weighted share of *X*'s
    inputs (chain maps) with a supplier within ``radius_km`` by road of the site's
    centroid (:func:`geo.sourcing.input_share_within`), and how many of the inputs;
customers
    the firms that buy *X* (industries listing *X* as an input) within the radius by
    road and within ``near_km`` (default 40 km); the score is Σ over buyers within the
    radius of the share of the buyer's input value *X* supplies, divided by the best
    site's sum;
specialisation
    the location quotient of *X*'s chain among the site's firms against the study
    region (a park's own firms; a candidate region's firms within
    ``neighbourhood_km``), and the quotient of *X* itself; score = the mean of
    min(LQ, ``lq_cap``) / ``lq_cap`` over the two (a cluster of the chain, and of firms
    of the same industry, both count);
free land
    parks: area × ``[parks] net_land_share`` − the land of the firms already there −
    red-line overlaps; candidates: area × ``net_land_share``. Score = min(1, free /
    (``land_factor`` × need)); a site with less free land than the firm needs is
    excluded;
admissibility
    a restricted zone (class ``restricted``) that bans *X* (its sector:
    :func:`geo.register.sector_model_for`) decides: a site wholly inside it is **excluded**
    with the reason. *Partial overlap* (e.g. Suzhou New District, 28% inside the Taihu
    first-level zone) counts as follows: the firm may only go on the part outside the
    zone, so the free land outside the zone is recomputed (area outside × share − the
    land of the site's firms outside); if that is smaller than the firm's need the site
    is excluded, otherwise it stays in the ranking **flagged** ("site outside the zone
    only") and its land score uses the land outside. Core and red-line zones are never
    buildable: their overlap is taken off the free land.

The score is the weighted mean of the available criteria (weights in ``[parks.recommend]
weights``; a criterion with no data, e.g. customers of a final assembler, drops out and
the others are renormalised). Every row carries its reasons in words, in Chinese and
English.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from scipy.spatial import cKDTree

from .admission import _land_and_admissibility, _shortfalls, _zone_pairs
from .config import ParksConfig, RecommendConfig
from .errors import InputError, MissingFileError
from .layers import read_layer
from .parks import occupied_land_mu
from .register import park_frame, study_chains, study_firms
from .sourcing import supply_index
from .units import MU_M2

if TYPE_CHECKING:  # pragma: no cover
    from .study import Study

#: Land need (亩) of an incoming firm when neither it nor its industry's firms say.
DEFAULT_NEED_MU = 50.0


def resolve_industry(chains, industry: str) -> str:
    """An industry id of the chain maps from its id or its Chinese/English name.

    Parameters
    ----------
    chains
        The study's :class:`geo.chains.Chains`.
    industry
        An id (``battery_cells``; case, spaces and hyphens tolerated) or a Chinese or
        English name (case-insensitive).

    Returns
    -------
    str
        The chain-map industry id.

    Raises
    ------
    ModelError
        Unknown industry (with a did-you-mean).
    """
    s = str(industry).strip()
    if s in chains:
        return s
    low = s.lower().replace("-", "_").replace(" ", "_")
    if low in chains:
        return low
    ind = chains.industries
    for col in ("name_en", "name_zh"):
        hit = ind.index[ind[col].astype(str).str.lower() == s.lower()]
        if len(hit):
            return str(hit[0])
    chains.check_industry(s, what="--industry")
    return s  # pragma: no cover - check_industry raised


def read_candidates(candidates: Any) -> gpd.GeoDataFrame:
    """Candidate regions: a GeoDataFrame or a path to ``candidates.gpkg`` of
    ``parksite suitability`` (layer ``candidates``).

    Parameters
    ----------
    candidates
        A GeoDataFrame of polygons in any CRS (reprojected), or the path of a
        GeoPackage (layer ``candidates``, else its first layer; ids from
        ``region_id`` when present).

    Returns
    -------
    geopandas.GeoDataFrame
        The regions in EPSG:4326 lon/lat degrees, with an ``id`` column (``1``, ``2``,
        … when the source has none).

    Raises
    ------
    MissingFileError
        The path does not exist.
    InputError
        Not a readable GeoPackage, no CRS, or features that are not polygons.
    """
    if isinstance(candidates, gpd.GeoDataFrame):
        g = candidates
        src = "candidates"
    else:
        p = Path(os.fspath(candidates))
        if not p.exists():
            raise MissingFileError(f"--candidates {p}: not found; run `parksite suitability "
                                   "layers/….toml --industry X` first (it writes "
                                   "candidates.gpkg)")
        try:
            layers = [r[0] for r in pyogrio.list_layers(p)]
        except Exception as exc:  # noqa: BLE001 - unreadable file
            raise InputError(f"--candidates {p}: not a readable GeoPackage ({exc})") from exc
        layer = "candidates" if "candidates" in layers else layers[0]
        g = read_layer(p, role="sites", layer=layer, id_field="region_id"
                       if "region_id" in _fields(p, layer) else None)
        src = f"{p} (layer {layer})"
    if g.crs is None:
        raise InputError(f"{src}: no CRS; write the candidates with one (EPSG:4326)")
    bad = ~g.geom_type.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        raise InputError(f"{src}: {int(bad.sum())} feature(s) are not polygons; candidate "
                         "regions are areas")
    g = g.to_crs(4326).copy()
    if "id" not in g.columns:
        g["id"] = [str(i + 1) for i in range(len(g))]
    return g


def _fields(path: Path, layer: str) -> list[str]:
    return list(pyogrio.read_info(path, layer=layer)["fields"])


def _sites(study: Study, candidates: Any, cfg) -> tuple[gpd.GeoDataFrame, Any]:
    parks = park_frame(study)
    firms = study_firms(study) if study.has_role("firms") else None
    rows = gpd.GeoDataFrame({
        "site_id": parks["park_id"].to_numpy(),
        "site_name": parks["name"].astype(str).to_numpy(),
        "kind": "park", "area_m2": parks["area_m2"].to_numpy()},
        geometry=parks.geometry.values, crs=4326)
    if firms is not None:
        land, _ = occupied_land_mu(firms, cfg)
        firms = firms.assign(_land=land)
    if candidates is not None:
        c = read_candidates(candidates)
        area = c.to_crs(study.area_crs).area.to_numpy()
        rank = c["rank"].astype(str).to_numpy() if "rank" in c.columns else c["id"].astype(str)
        dist = c["district"].fillna("").astype(str).to_numpy() if "district" in c.columns \
            else np.full(len(c), "")
        names = [f"候选区域 candidate region #{r}" + (f" ({d})" if d else "")
                 for r, d in zip(rank, dist, strict=True)]
        cg = gpd.GeoDataFrame({"site_id": [f"candidate-{r}" for r in rank],
                               "site_name": names, "kind": "candidate", "area_m2": area},
                              geometry=c.geometry.values, crs=4326)
        rows = gpd.GeoDataFrame(pd.concat([rows, cg], ignore_index=True), crs=4326)
    return rows, firms


@dataclass
class _Base:
    """What every industry's ranking shares: the sites (EPSG:4326), the firms, the
    centroids and their snaps, the supply index, the firms' road distances from each
    site (metres, computed once when an industry has buyers), each site's member firms,
    the land already used (亩) and the (site, zone) overlaps."""

    sites: gpd.GeoDataFrame
    firms: Any
    cent: gpd.GeoDataFrame
    idx: Any
    sn: Any
    r_km: float
    kind: np.ndarray
    site_ids: np.ndarray
    area_mu: np.ndarray
    used: np.ndarray
    members: list
    zones: dict | None
    cov: dict
    dist: Any = None

    def covered(self, inputs: list[str]) -> np.ndarray:
        """(sites, inputs) bool: a supplier within the radius by road (cached per input)."""
        for j in inputs:
            if j not in self.cov:
                self.cov[j] = self.idx.covered(self.sn, [j])[:, 0]
        if not inputs:
            return np.zeros((len(self.cent), 0), bool)
        return np.column_stack([self.cov[j] for j in inputs])

    def distances(self) -> np.ndarray:
        """(sites, firms) road metres within the radius (inf beyond, NaN off network)."""
        if self.dist is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.dist = self.idx.network.distances(self.cent, self.firms,
                                                       limit_km=self.r_km, warn=False)
        return self.dist


def _base(study: Study, candidates: Any, cfg: ParksConfig, r_km: float) -> _Base:
    """The industry-independent part of a ranking (see :class:`_Base`)."""
    sites, firms = _sites(study, candidates, cfg)
    metric = sites.to_crs(study.metric_crs)
    cent = gpd.GeoDataFrame({"id": sites["site_id"].to_numpy()},
                            geometry=metric.geometry.centroid.to_crs(4326).values, crs=4326)
    lonlat = np.column_stack([cent.geometry.x.to_numpy(), cent.geometry.y.to_numpy()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idx = supply_index(study, r_km)
        sn = idx.network.snap_xy(lonlat)
    kind = sites["kind"].to_numpy()
    site_ids = sites["site_id"].astype(str).to_numpy()
    n = len(sites)
    used = np.zeros(n)
    members: list = [np.zeros(0, int)] * n
    if firms is not None:
        fpark = firms["park_id"].astype(str).to_numpy()
        fland = firms["_land"].to_numpy(float)
        for s in np.flatnonzero(kind == "park"):
            m = np.flatnonzero(fpark == site_ids[s])
            members[s] = m
            used[s] = float(fland[m].sum())
        if (kind != "park").any() and len(firms):
            fxy = np.column_stack(_to_metric(firms.geometry, study))
            cxy = np.column_stack(_to_metric(cent.geometry[kind != "park"], study))
            hood = cKDTree(fxy).query_ball_point(cxy, cfg.recommend.neighbourhood_km * 1000.0)
            for s, h in zip(np.flatnonzero(kind != "park"), hood, strict=True):
                members[s] = np.asarray(h, dtype=int)
    area_mu = sites["area_m2"].to_numpy() / MU_M2
    zones = _zone_pairs(study, sites, firms, used, kind, site_ids) \
        if study.has_role("redlines") else None
    return _Base(sites=sites, firms=firms, cent=cent, idx=idx, sn=sn, r_km=r_km, kind=kind,
                 site_ids=site_ids, area_mu=area_mu, used=used, members=members,
                 zones=zones, cov={})


@dataclass(frozen=True)
class _Settings:
    """The ``[parks.recommend]`` numbers, the sourcing radius and the industry."""

    weights: dict
    near_km: float
    hood_km: float
    lq_cap: float
    land_factor: float
    r_km: float
    x: str
    x_en: str
    x_zh: str
    chain_id: str
    chain_en: str
    chain_zh: str


def recommend(study: Study, industry: str, top: int = 5, candidates: Any = None, *,
              land_mu: float | None = None, radius_km: float | None = None) -> pd.DataFrame:
    """Rank the study's parks (and candidate regions) for an incoming firm.

    Parameters
    ----------
    study
        A study with parks, firms, roads and (optionally) red-line layers.
    industry
        Industry id of the chain maps, or its English/Chinese name.
    top
        How many admissible sites to return (excluded sites are always appended,
        with their reason, after the ranked ones).
    candidates
        Candidate regions: the ``candidates.gpkg`` of ``parksite suitability`` (path)
        or a polygon GeoDataFrame; None for parks only.
    land_mu
        The firm's land need in 亩 (default ``[parks.recommend] land_mu``, else the
        median land of the industry in the register, else 50).
    radius_km
        Sourcing radius by road (default ``[sourcing] radius_km`` or 100).

    Returns
    -------
    pandas.DataFrame
        ``rank`` (1… for admissible sites, empty for excluded), ``site_id, site_name,
        kind`` (park/candidate), ``status`` (ok, flagged, excluded), ``score``,
        ``supply_rate, inputs_covered, n_inputs, customers_radius, customers_near,
        customer_score, chain_lq, industry_lq, spec_score, free_land_mu, land_score,
        admissibility`` (note), ``reason_en, reason_zh, lon, lat``. ``attrs`` holds
        the industry, its names, the need, the weights and notes. ``lon``/``lat``
        are EPSG:4326 degrees; ``free_land_mu`` is in 亩.

    Raises
    ------
    ModelError
        Unknown industry.
    InputError
        Bad ``top`` or radius, unreadable candidates.
    """
    if not (isinstance(top, int) and top >= 1):
        raise InputError(f"--top must be a whole number ≥ 1, got {top!r}")
    cfg = study.config.parks
    chains = study_chains(study)
    st = _settings(study, cfg.recommend, chains, industry, radius_km)
    base = _base(study, candidates, cfg, st.r_km)
    return _rank_one(study, chains, base, st, top, land_mu)


def _rank_one(study: Study, chains, base: _Base, st: _Settings, top: int,
              land_mu: float | None) -> pd.DataFrame:
    """One industry's ranking from the shared :class:`_Base` (the :func:`recommend`
    table with its ``attrs``)."""
    cfg = study.config.parks
    notes: list[str] = []
    firms, sites, cent = base.firms, base.sites, base.cent
    need = _land_need(land_mu, cfg.recommend, firms, st.x, cfg, notes)
    sup = _supply(base, chains, st)
    cus = _customers(chains, base, st)
    chain_lq, ind_lq, spec = _specialisation(chains, base, st)
    adm = _land_and_admissibility(study, base, cfg, need, st)
    _shortfalls(adm, base.sn, need)
    land_score = np.minimum(1.0, adm["free"] / (st.land_factor * need))
    score = _score(sup, cus, spec, land_score, st.weights, notes, st.x)
    reasons = _reasons(chains, st, sup, cus, chain_lq, ind_lq, adm)
    out = _site_table(sites, cent, adm, score, sup, cus, chain_lq, ind_lq, spec, land_score,
                      reasons)
    res = _ranked(out, top)
    res.attrs.update({"industry": st.x, "industry_en": st.x_en, "industry_zh": st.x_zh,
                      "chain": st.chain_id, "land_mu": need, "radius_km": st.r_km,
                      "weights": st.weights, "notes": notes,
                      "synthetic_firms": bool(firms is not None and
                                              firms.attrs.get("synthetic", False))})
    return res


def _site_table(sites, cent, adm, score, sup, cus, chain_lq, ind_lq, spec, land_score,
                reasons: tuple[list[str], list[str]]) -> pd.DataFrame:
    """The ranking's columns, one row per site (figures rounded; lon/lat in EPSG:4326)."""
    return pd.DataFrame({
        "site_id": sites["site_id"].to_numpy(), "site_name": sites["site_name"].to_numpy(),
        "kind": sites["kind"].to_numpy(), "status": adm["status"].astype(str),
        "score": np.round(score, 4), "supply_rate": np.round(sup["supply"], 4),
        "inputs_covered": sup["n_cov"].astype(int), "n_inputs": len(sup["names_in"]),
        "customers_radius": cus["r"].astype(int), "customers_near": cus["near"].astype(int),
        "customer_score": np.round(cus["score"], 4) if cus["has"] else np.nan,
        "chain_lq": np.round(chain_lq, 3), "industry_lq": np.round(ind_lq, 3),
        "spec_score": np.round(spec, 4), "free_land_mu": np.round(adm["free"], 1),
        "land_score": np.round(land_score, 4),
        "admissibility": [a.strip().rstrip(";") for a in adm["en"]],
        "reason_en": reasons[0], "reason_zh": reasons[1],
        "lon": np.round(cent.geometry.x.to_numpy(), 6),
        "lat": np.round(cent.geometry.y.to_numpy(), 6)})


def _settings(study: Study, rc: RecommendConfig, chains, industry: str,
              radius_km: float | None) -> _Settings:
    """Validated ``[parks.recommend]`` settings, the radius (km) and the industry's names.

    Raises
    ------
    InputError
        A bad ``[parks.recommend]`` table or a radius ≤ 0.
    ModelError
        Unknown industry.
    """
    r_km = float(radius_km if radius_km is not None else study.config.sourcing.radius_km)
    if not r_km > 0:
        raise InputError(f"radius must be > 0 km, got {r_km}")
    x = resolve_industry(chains, industry)
    chain_id = str(chains.industries.at[x, "chain"])
    return _Settings(
        weights=dict(rc.weights), near_km=rc.near_km, hood_km=rc.neighbourhood_km,
        lq_cap=rc.lq_cap, land_factor=rc.land_factor,
        r_km=r_km, x=x, x_en=chains.name(x, "en"), x_zh=chains.name(x, "zh"),
        chain_id=chain_id,
        chain_en=str(chains.chains["name_en"].get(chain_id, chain_id)),
        chain_zh=str(chains.chains["name_zh"].get(chain_id, chain_id)))


def _land_need(land_mu: float | None, rc: RecommendConfig, firms, x: str, cfg: ParksConfig,
               notes: list[str]) -> float:
    """The incoming firm's land need (亩): given, else ``[parks.recommend] land_mu``,
    else the median of its industry in the register, else :data:`DEFAULT_NEED_MU`.
    Appends how it was chosen to ``notes``.

    Raises
    ------
    InputError
        A need ≤ 0.
    """
    if land_mu is None:
        land_mu = rc.land_mu
    if land_mu is None and firms is not None and "land_mu" in firms.columns:
        v = pd.to_numeric(firms.loc[firms["industry"] == x, cfg.land_field], errors="coerce") \
            if cfg.land_field in firms.columns else pd.Series(dtype=float)
        land_mu = float(v.median()) if v.notna().any() else None
        if land_mu is not None:
            notes.append(f"land need: median of {x} firms in the register, {land_mu:,.0f} 亩")
    if land_mu is None:
        land_mu = DEFAULT_NEED_MU
        notes.append(f"land need: default {DEFAULT_NEED_MU:g} 亩 (give --land-mu)")
    need = float(land_mu)
    if not need > 0:
        raise InputError(f"--land-mu must be > 0 亩, got {land_mu!r}")
    return need


def _supply(base: _Base, chains, st: _Settings) -> dict:
    """Criterion 1, supply: the value share of the industry's inputs within the radius by
    road of each site centroid (EPSG:4326 points), and which inputs are covered; the
    arithmetic of :func:`geo.sourcing.input_share_within`, on the shared coverage."""
    n, sn = len(base.cent), base.sn
    ins = chains.inputs_of(st.x)
    names_in = list(ins)
    cov = base.covered(names_in)
    if names_in:
        w = np.array([ins[j] for j in names_in])
        supply = cov.astype(float) @ w / w.sum()
        supply[~sn.on_network] = np.nan
    else:
        supply = np.full(n, np.nan)
    return {"sn": sn, "supply": supply, "names_in": names_in, "cov": cov,
            "n_cov": cov.sum(axis=1), "on_net": sn.on_network}


def _customers(chains, base: _Base, st: _Settings) -> dict:
    """Criterion 2, customers: firms whose industry buys the industry, by road from each
    site centroid (EPSG:4326); counts within the radius and within ``near_km``, and the
    score (Σ input share of buyers within the radius / the best site's sum)."""
    n, firms = len(base.cent), base.firms
    x = st.x
    buyers = {b: w.get(x, 0.0) for b, w in chains.inputs.items() if w.get(x, 0.0) > 0}
    cust_r = np.zeros(n, int)
    cust_near = np.zeros(n, int)
    cust_val = np.zeros(n)
    cust_inds: list[str] = []
    if buyers and firms is not None:
        sel = firms["industry"].isin(list(buyers)).to_numpy()
        bf = firms[sel]
        if len(bf):
            d = base.distances()[:, sel]
            d = np.where(np.isfinite(d), d, np.inf)  # (sites, firms)
            w = bf["industry"].map(buyers).to_numpy(float)
            within = d <= st.r_km * 1000.0
            cust_r = within.sum(axis=1)
            cust_near = (d <= st.near_km * 1000.0).sum(axis=1)
            cust_val = (within * w[None, :]).sum(axis=1)
            cust_inds = list(pd.Series(bf["industry"]).value_counts().index)
    score = cust_val / cust_val.max() if cust_val.max() > 0 else np.zeros(n)
    return {"has": bool(buyers), "r": cust_r, "near": cust_near, "score": score,
            "industries": cust_inds}


def _specialisation(chains, base: _Base, st: _Settings
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Criterion 3, specialisation: (chain LQ, industry LQ, score) per site. A park's
    members are its firms; a candidate region's are the firms within ``hood_km`` of its
    centroid (EPSG:4326, measured in the metric CRS)."""
    n, firms = len(base.sites), base.firms
    chain_lq = np.full(n, np.nan)
    ind_lq = np.full(n, np.nan)
    if firms is not None and len(firms):
        fchain = firms["chain"].astype(str).to_numpy() if "chain" in firms.columns else \
            firms["industry"].map(chains.industries["chain"]).fillna("").to_numpy()
        find = firms["industry"].astype(str).to_numpy()
        region = firms["in_region"].to_numpy(bool)
        # LQ of site s: share of the chain among its firms / share in the region
        reg_chain = (fchain[region] == st.chain_id).mean() if region.any() else np.nan
        reg_ind = (find[region] == st.x).mean() if region.any() else np.nan
        for s, m in enumerate(base.members):  # loop over sites (tens)
            if len(m) == 0:
                chain_lq[s] = 0.0
                ind_lq[s] = 0.0
                continue
            chain_lq[s] = (fchain[m] == st.chain_id).mean() / reg_chain if reg_chain > 0 \
                else np.nan
            ind_lq[s] = (find[m] == st.x).mean() / reg_ind if reg_ind > 0 else 0.0
    cap = st.lq_cap
    spec = 0.5 * (np.minimum(np.nan_to_num(chain_lq, nan=0.0), cap) +
                  np.minimum(np.nan_to_num(ind_lq, nan=0.0), cap)) / cap
    return chain_lq, ind_lq, spec


def _score(sup: dict, cus: dict, spec: np.ndarray, land_score: np.ndarray, weights: dict,
           notes: list[str], x: str) -> np.ndarray:
    """The weighted mean of the criteria with data (the others drop out)."""
    n = len(spec)
    names_in = sup["names_in"]
    crit = {"supply": np.where(sup["on_net"], np.nan_to_num(sup["supply"], nan=0.0), 0.0)
            if names_in else np.full(n, np.nan),
            "customers": cus["score"] if cus["has"] else np.full(n, np.nan),
            "specialisation": spec, "land": land_score}
    num = np.zeros(n)
    den = np.zeros(n)
    for c, v in crit.items():
        w = float(weights.get(c, 0.0))
        ok = np.isfinite(v)
        num += np.where(ok, w * np.nan_to_num(v), 0.0)
        den += np.where(ok, w, 0.0)
    score = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    if not names_in:
        notes.append(f"{x} has no inputs in the chain maps: supply left out of the score")
    if not cus["has"]:
        notes.append(f"no industry in the chain maps buys {x}: customers left out of the score")
    return score


def _reasons(chains, st: _Settings, sup: dict, cus: dict, chain_lq: np.ndarray,
             ind_lq: np.ndarray, adm: dict) -> tuple[list[str], list[str]]:
    """Each site's reasons in words, in English and in Chinese."""
    reasons_en, reasons_zh = [], []
    names_in, cov, n_cov, supply = sup["names_in"], sup["cov"], sup["n_cov"], sup["supply"]
    r_km, near_km = st.r_km, st.near_km
    cust_r, cust_near = cus["r"], cus["near"]
    buyer_en = ", ".join(chains.name(b, "en").lower() for b in cus["industries"][:3])
    buyer_zh = "、".join(chains.name(b, "zh") for b in cus["industries"][:3])
    for s in range(len(chain_lq)):  # text per site (tens)
        en, zh = [], []
        if names_in and sup["on_net"][s]:
            miss = [chains.name(j, "en").lower()
                    for j, c in zip(names_in, cov[s], strict=True) if not c]
            en.append(f"{n_cov[s]} of {len(names_in)} inputs within {r_km:g} km by road "
                      f"({supply[s]:.0%} of input value)" +
                      (f"; missing: {', '.join(miss[:3])}" if miss else ""))
            missz = [chains.name(j, "zh") for j, c in zip(names_in, cov[s], strict=True) if not c]
            zh.append(f"{len(names_in)} 类投入中 {n_cov[s]} 类可在道路 {r_km:g} 公里内采购"
                      f"（占投入价值 {supply[s]:.0%}）" +
                      (f"，缺：{'、'.join(missz[:3])}" if missz else ""))
        if cus["has"]:
            if cust_near[s]:
                en.append(f"{cust_near[s]} downstream buyer{'s' if cust_near[s] != 1 else ''} "
                          f"({buyer_en}) within {near_km:g} km, {cust_r[s]} within {r_km:g} km")
                zh.append(f"{near_km:g} 公里内有 {cust_near[s]} 家下游企业（{buyer_zh}），"
                          f"{r_km:g} 公里内 {cust_r[s]} 家")
            else:
                en.append(f"{cust_r[s]} downstream buyer{'s' if cust_r[s] != 1 else ''} within "
                          f"{r_km:g} km by road")
                zh.append(f"道路 {r_km:g} 公里内有 {cust_r[s]} 家下游企业")
        if np.isfinite(chain_lq[s]):
            en.append(f"LQ {chain_lq[s]:.1f} in {st.chain_en.lower()}" +
                      (f" ({ind_lq[s]:.1f} in {st.x_en.lower()})" if ind_lq[s] > 0 else ""))
            zh.append(f"{st.chain_zh}区位商 {chain_lq[s]:.1f}" +
                      (f"（{st.x_zh} {ind_lq[s]:.1f}）" if ind_lq[s] > 0 else ""))
        en.append(f"about {adm['free'][s]:,.0f} 亩 free land")
        zh.append(f"可用土地约 {adm['free'][s]:,.0f} 亩")
        if adm["en"][s]:
            en.append(adm["en"][s].strip().rstrip(";"))
            zh.append(adm["zh"][s].strip().rstrip("；"))
        reasons_en.append("; ".join(en))
        reasons_zh.append("；".join(zh))
    return reasons_en, reasons_zh


def _ranked(out: pd.DataFrame, top: int) -> pd.DataFrame:
    """The ``top`` admissible sites by score (ranked 1…), then every excluded site."""
    ok = out[out["status"] != "excluded"].sort_values(["score", "supply_rate", "free_land_mu"],
                                                      ascending=False, kind="stable")
    ok = ok.head(top).copy()
    ok.insert(0, "rank", np.arange(1, len(ok) + 1))
    ex = out[out["status"] == "excluded"].copy()
    ex.insert(0, "rank", pd.NA)
    res = pd.concat([ok, ex], ignore_index=True)
    res["rank"] = res["rank"].astype("Int64")
    return res


def recommend_study(study: Study, candidates: Any = None) -> dict[str, pd.DataFrame]:
    """The rankings a study file asks for (``[parks.recommend] industries``), by industry.

    For ``parksite run``; empty when the study names no industries.

    Parameters
    ----------
    study
        The study (parks, firms, roads, chain maps; ``[parks.recommend]`` settings).
    candidates
        Candidate regions as :func:`read_candidates` accepts, ranked with the parks;
        None for parks only.

    Returns
    -------
    dict of str to pandas.DataFrame
        Industry id → the :func:`recommend` table (top ``[parks.recommend] top``).

    Raises
    ------
    ModelError
        An industry of the list is not in the chain maps.
    InputError
        Bad ``top`` or radius, unreadable candidates.
    """
    rc = study.config.parks.recommend
    return {ind: recommend(study, ind, top=rc.top, candidates=candidates)
            for ind in rc.industries}


#: Columns of :func:`rank_industries`, in order.
RANKING_COLUMNS = ("industry", "industry_zh", "industry_en", "rank", "site_id", "site_name",
                   "kind", "status", "score", "supply_rate", "inputs_covered", "n_inputs",
                   "customers_radius", "customers_near",
                   "customer_score", "spec_score", "land_score", "chain_lq", "industry_lq",
                   "free_land_mu", "land_mu", "admissibility", "reason_zh", "reason_en",
                   "lon", "lat")


def rank_industries(study: Study, candidates: Any = None, *, top: int = 10,
                    industries: Any = None, radius_km: float | None = None) -> pd.DataFrame:
    """Rankings for every industry of the study's chain maps, in one pass.

    What does not depend on the industry is computed once and shared: the sites and
    their centroids, the snaps to the road network, the road reach of each input
    industry's suppliers (one Dijkstra per input industry, see
    :class:`geo.sourcing.SupplyIndex`), the road distances from every site to every firm,
    each site's member firms and the (site, zone) overlaps. Each industry then costs a
    few array operations and its reasons in words. Every figure and verdict is the one
    :func:`recommend` gives for that industry (same code): a site that a restricted zone
    excludes for an industry (wholly inside a zone that bans it, or too little free land
    outside it) is never ranked for that industry.

    Parameters
    ----------
    study
        A study with parks, firms, roads and (optionally) red-line layers.
    candidates
        Candidate regions as :func:`read_candidates` accepts (ranked with the parks);
        None for parks only.
    top
        How many admissible sites to rank per industry (≥ 1).
    industries
        Industry ids or names to rank (default: every industry of the chain maps, in
        their order).
    radius_km
        Sourcing radius by road, km (default ``[sourcing] radius_km`` or 100).

    Returns
    -------
    pandas.DataFrame
        One row per (industry, site) in :data:`RANKING_COLUMNS`: the ``top`` ranked
        sites of each industry (``rank`` 1…) then its excluded sites (``rank`` empty,
        ``status`` excluded, the reason in ``admissibility`` and ``reason_*``).
        ``score`` and the ``*_score`` parts are in [0, 1]; ``supply_rate`` is a share of
        input value; ``free_land_mu`` and ``land_mu`` (the firm's need) are in 亩;
        ``lon``/``lat`` are the site's centroid in EPSG:4326 degrees (computed in the
        study's metric CRS). ``attrs["seconds"]`` holds the time taken and
        ``attrs["radius_km"]`` the radius.

    Raises
    ------
    ModelError
        An industry of ``industries`` is not in the chain maps.
    InputError
        Bad ``top`` or radius, unreadable candidates.
    """
    if not (isinstance(top, int) and top >= 1):
        raise InputError(f"top must be a whole number ≥ 1, got {top!r}")
    t0 = time.perf_counter()
    cfg = study.config.parks
    chains = study_chains(study)
    names = list(chains.industries.index) if industries is None else list(industries)
    sts = [_settings(study, cfg.recommend, chains, x, radius_km) for x in names]
    if not sts:
        return pd.DataFrame(columns=list(RANKING_COLUMNS))
    base = _base(study, candidates, cfg, sts[0].r_km)
    parts = []
    for st in sts:  # one industry at a time on the shared base (tens)
        r = _rank_one(study, chains, base, st, top, None)
        parts.append(r.assign(industry=st.x, industry_zh=st.x_zh, industry_en=st.x_en,
                              land_mu=r.attrs["land_mu"]))
    out = pd.concat(parts, ignore_index=True)[list(RANKING_COLUMNS)]
    out["rank"] = out["rank"].astype("Int64")
    out.attrs.update({"seconds": time.perf_counter() - t0, "radius_km": sts[0].r_km,
                      "top": top})
    return out


def _to_metric(geoms: gpd.GeoSeries, study: Study) -> tuple[np.ndarray, np.ndarray]:
    g = gpd.GeoSeries(geoms, crs=4326).to_crs(study.metric_crs)
    return g.x.to_numpy(), g.y.to_numpy()
