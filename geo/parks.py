"""Evaluate a region's parks: size, firms, specialisation, supply, chains, red lines, 亩均.

One row per park (:func:`evaluate_parks`):

area
    ``area_m2, area_ha, area_mu`` in the study's equal-area CRS.
firms and specialisation
    ``n_firms``, ``n_anchors``; per industry the **location quotient** against the
    study region, ``LQ = (n_park,i / n_park) / (n_region,i / n_region)`` with firm
    counts (the region = every firm of the register inside the study area, parks or
    not); ``dominant_industry`` (most firms), ``dominant_share``, ``dominant_lq``;
    the Herfindahl–Hirschman **concentration index** ``hhi = Σ s_i²`` over the
    industry shares of the park's firms (1 = one industry, 1/k = k industries
    evenly), and ``chain_lq`` text: the same quotient for chains.
local supply
    median and spread (quartiles, IQR) of the park firms' local supply rates within
    the radius by road (:func:`geo.sourcing.run_sourcing`).
chain completeness
    per chain map ``chain_<id>``: the share of that chain's industries with at least
    one firm within ``radius_km`` by road of the park centroid (the park's node on
    the network; :class:`geo.sourcing.SupplyIndex`).
red lines
    ``redline_status`` (pass, conflict, review) and notes from
    :func:`geo.redline.check_study`.
亩均 (land efficiency)
    from firm records with land (亩), fixed investment, output and tax (million
    yuan): per-mu figures summed over *graded* firms only, a grade for the park
    and the number of firms per grade. A firm missing any field a grade needs is
    **not graded** — never counted as zero; ``not_graded_missing`` says which fields
    how many of the park's firms lack (``"land_mu 12, annual_output_myuan 3"``) and
    ``attrs["absent_fields"]`` the fields the register does not have at all.

Grades (thresholds in ``[parks]``; defaults from the domain notes: Changsha rewarded
projects with fixed investment ≥ 1.5 M yuan per 亩 or output ≥ 2.5 M yuan per 亩;
Zhejiang grades firms A–D per 亩)::

    A  every threshold met
    B  at least one, not all
    C  none met, but the best ratio value/threshold ≥ d_ratio (0.5)
    D  none met, every ratio below d_ratio

Add ``tax_myuan_per_mu`` to grade on tax per 亩 too (Zhejiang's practice).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .config import ParksConfig, is_number
from .errors import InputError
from .fields import parse_numbers
from .network import _as_points_metric
from .redline import check_study
from .register import park_frame, study_firms
from .sourcing import run_sourcing, supply_index
from .units import HA_M2, MU_M2

if TYPE_CHECKING:  # pragma: no cover
    from .study import Study

GRADES = ("A", "B", "C", "D")
NOT_GRADED = "not graded"
#: The per-亩 column of :func:`firm_land_figures` for each figure.
_FIGURE_OF = {"investment": "investment_per_mu", "output": "output_per_mu", "tax": "tax_per_mu"}


# --------------------------------------------------------------------------- grading

def grade_values(values: dict[str, np.ndarray], thresholds: dict[str, float],
                 d_ratio: float = 0.5) -> np.ndarray:
    """A–D grades from per-亩 figures; ``"not graded"`` where any needed value is missing.

    Parameters
    ----------
    values
        measure → per-亩 figures (M yuan per 亩; NaN = missing), one array per measure
        named in ``thresholds``.
    thresholds
        measure → threshold (M yuan per 亩).
    d_ratio
        Grade D when every value/threshold is below this (dimensionless, 0–1).

    Returns
    -------
    numpy.ndarray of str
        One of ``"A"``–``"D"`` or ``"not graded"`` per firm (object array).

    Raises
    ------
    InputError
        ``thresholds`` is empty.
    """
    if not thresholds:
        raise InputError("parks: no grade thresholds; set output_myuan_per_mu or "
                         "investment_myuan_per_mu")
    keys = list(thresholds)
    n = len(np.asarray(values[keys[0]]))
    ratio = np.column_stack([np.asarray(values[k], dtype=float) / float(thresholds[k])
                             for k in keys]) if n else np.zeros((0, len(keys)))
    missing = ~np.isfinite(ratio).all(axis=1)
    with np.errstate(invalid="ignore"):
        met = (ratio >= 1.0 - 1e-12).sum(axis=1)
        best = np.nanmax(np.where(np.isfinite(ratio), ratio, -np.inf), axis=1) if n else \
            np.zeros(0)
    grade = np.where(met == len(keys), "A",
                     np.where(met >= 1, "B", np.where(best >= d_ratio, "C", "D"))).astype(object)
    grade[missing] = NOT_GRADED
    return grade


def firm_numbers(firms: pd.DataFrame, field: str, *, warn: bool = True) -> np.ndarray:
    """A numeric register field as floats (NaN where missing), parsed as typed.

    ``"1,234.5"`` and full-width digits are read; text that is not a number counts as
    missing and is reported in one warning naming the firms; a negative value is an
    input error (:func:`geo.fields.parse_numbers`).

    Parameters
    ----------
    firms
        The firm register (``firm_id`` names firms in messages when present).
    field
        The column to read; values keep the register's unit (亩 for land, M yuan for
        investment, output and tax).
    warn
        Warn about values that are not numbers.

    Returns
    -------
    numpy.ndarray
        float64 aligned with ``firms``; all NaN when the field is absent.

    Raises
    ------
    LayerError
        A negative land, investment, output or tax figure, naming the firms.
    """
    if field not in firms.columns:
        return np.full(len(firms), np.nan)
    ids = firms["firm_id"].astype(str) if "firm_id" in firms.columns else None
    parsed = parse_numbers(firms[field], field=field, layer="firms", ids=ids)
    if warn and (msg := parsed.report(field, "firms")) is not None:
        warnings.warn(msg, stacklevel=2)
    return parsed.values


def firm_land_figures(firms: pd.DataFrame, cfg: ParksConfig) -> pd.DataFrame:
    """Per-firm 亩均 figures and grade.

    Parameters
    ----------
    firms
        The firm register (:func:`geo.register.load_firms`).
    cfg
        The study's ``[parks]`` settings (field names and thresholds).

    Returns
    -------
    pandas.DataFrame
        Aligned with ``firms``: ``land_mu, investment_per_mu, output_per_mu,
        tax_per_mu`` (M yuan per 亩; NaN when the field or land is missing or land ≤ 0),
        ``grade`` (A–D or ``"not graded"``) and ``missing`` (see :func:`missing_fields`).

    Raises
    ------
    LayerError
        A negative figure in the register (see :func:`firm_numbers`).
    """
    def col(name: str) -> np.ndarray:
        return firm_numbers(firms, name)

    land = col(cfg.land_field)
    land = np.where(land > 0, land, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = {"investment": col(cfg.investment_field) / land,
               "output": col(cfg.output_field) / land,
               "tax": col(cfg.tax_field) / land}
    grade = grade_values(per, cfg.thresholds(), cfg.d_ratio)
    return pd.DataFrame({"land_mu": land, "investment_per_mu": per["investment"],
                         "output_per_mu": per["output"], "tax_per_mu": per["tax"],
                         "grade": grade, "missing": missing_fields(firms, cfg)},
                        index=firms.index)


def grade_fields(cfg: ParksConfig) -> list[str]:
    """The register fields a 亩均 grade needs: land, then one per threshold.

    Parameters
    ----------
    cfg
        The study's ``[parks]`` settings (field names and thresholds).

    Returns
    -------
    list of str
        Field names (land in 亩, the others in M yuan).
    """
    of = {"investment": cfg.investment_field, "output": cfg.output_field, "tax": cfg.tax_field}
    return [cfg.land_field] + [of[m] for m in cfg.thresholds()]


def missing_fields(firms: pd.DataFrame, cfg: ParksConfig) -> np.ndarray:
    """Per firm, the fields its 亩均 grade lacks.

    Parameters
    ----------
    firms
        The firm register.
    cfg
        The study's ``[parks]`` settings (field names and thresholds).

    Returns
    -------
    numpy.ndarray of str
        ``"land_mu;annual_output_myuan"``-style text per firm (land ≤ 0 counts as
        missing), ``""`` for a firm that can be graded.

    Raises
    ------
    LayerError
        A negative figure in the register (see :func:`firm_numbers`).
    """
    out = np.full(len(firms), "", dtype=object)
    for f in grade_fields(cfg):  # two to four fields
        v = firm_numbers(firms, f, warn=False)
        bad = ~np.isfinite(v) | ((v <= 0) if f == cfg.land_field else False)
        out = np.where(bad, out + f + ";", out)
    return np.array([m.rstrip(";") for m in out], dtype=object) if len(out) else out


def missing_summary(missing: Any) -> str:
    """``"land_mu 12, annual_output_myuan 3"``: how many firms lack each field.

    Parameters
    ----------
    missing
        Iterable of :func:`missing_fields` texts (``;``-joined field names or ``""``).

    Returns
    -------
    str
        ``"<field> <count>"`` pairs joined by ``", "``; ``""`` when nothing is missing.
    """
    parts = pd.Series(list(missing), dtype=object)
    parts = parts[parts != ""].str.split(";").explode()
    counts = parts.value_counts(sort=False)
    return ", ".join(f"{f} {n}" for f, n in counts.items())


# --------------------------------------------------------------------------- quotients

def location_quotients(park: np.ndarray, industry: np.ndarray,
                       region_mask: np.ndarray | None = None) -> pd.DataFrame:
    """Location quotients of every (park, industry) from firm counts.

    ``LQ = (n_park,i / n_park) / (n_region,i / n_region)``; the region is the firms where
    ``region_mask`` is True (default all). Firms of a park outside the region count in
    its park shares but not in the region's.

    Parameters
    ----------
    park, industry
        Per firm: its park id and its industry (aligned arrays).
    region_mask
        Per firm: inside the study region (default: every firm).

    Returns
    -------
    pandas.DataFrame
        Index park, columns industry: the quotient (0 where a park has no firm of the
        industry; NaN for industries absent from the region).
    """
    park = np.asarray(park, dtype=object)
    industry = np.asarray(industry, dtype=object)
    mask = np.ones(len(park), bool) if region_mask is None else np.asarray(region_mask, bool)
    counts = pd.crosstab(pd.Series(park, name="park"), pd.Series(industry, name="industry"))
    reg = pd.Series(industry[mask]).value_counts()
    reg_share = reg / max(int(mask.sum()), 1)
    park_share = counts.div(counts.sum(axis=1), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        lq = park_share / reg_share.reindex(counts.columns).to_numpy()[None, :]
    return lq.replace([np.inf, -np.inf], np.nan)


def hhi(shares: np.ndarray) -> float:
    """Herfindahl–Hirschman index Σ s² of shares (that sum to 1).

    Parameters
    ----------
    shares
        Industry shares of one park's firms (fractions, not percent).

    Returns
    -------
    float
        1 = one industry, 1/k = k industries evenly; NaN for no shares.
    """
    s = np.asarray(shares, dtype=float)
    return float((s * s).sum()) if len(s) else float("nan")


# --------------------------------------------------------------------------- helpers

def occupied_land_mu(firms: pd.DataFrame, cfg: ParksConfig) -> tuple[np.ndarray, int]:
    """Each firm's land (亩): its record, else the median of its industry in the register,
    else the register's median.

    Parameters
    ----------
    firms
        The firm register (with ``industry``).
    cfg
        The study's ``[parks]`` settings (field names and thresholds).

    Returns
    -------
    tuple of (numpy.ndarray, int)
        Land per firm in 亩 (float64, aligned with ``firms``), and the number of
        firms whose land was filled in.
    """
    land = pd.Series(firm_numbers(firms, cfg.land_field, warn=False), index=firms.index)
    med = land.groupby(firms["industry"].to_numpy()).transform("median")
    overall = float(land.median()) if land.notna().any() else 0.0
    filled = land.fillna(med).fillna(overall).to_numpy(float)
    return filled, int(land.isna().sum())


def park_centroids(parks: gpd.GeoDataFrame, study: Study) -> gpd.GeoDataFrame:
    """Park centroids (computed in the metric CRS) as WGS84 points with ``id``.

    Parameters
    ----------
    parks
        Park polygons with ``park_id`` (any CRS; :func:`geo.register.park_frame` gives
        EPSG:4326).
    study
        The study; centroids are taken in :attr:`Study.metric_crs` (metres).

    Returns
    -------
    geopandas.GeoDataFrame
        ``id`` (the park id) and centroid points, EPSG:4326 lon/lat degrees.
    """
    c = parks.to_crs(study.metric_crs).geometry.centroid.to_crs(4326)
    return gpd.GeoDataFrame({"id": parks["park_id"].to_numpy()}, geometry=c.values, crs=4326)


def chain_completeness(points: gpd.GeoDataFrame, study: Study,
                       radius_km: float) -> pd.DataFrame:
    """Per point and chain map: the share of the chain's industries with a firm within the
    radius by road (NaN for points off the network).

    Parameters
    ----------
    points
        Points to judge (e.g. :func:`park_centroids`), any CRS (reprojected to the
        network's metric CRS and snapped to the road network).
    study
        The study (firms, roads and chain maps).
    radius_km
        Radius, km by road (snap legs included).

    Returns
    -------
    pandas.DataFrame
        Index of ``points``; one column ``chain_<id>`` per chain map with the share
        0–1 of its industries covered.

    Raises
    ------
    InputError, NetworkError
        The study lacks firms or roads, or the network cannot be built.
    """
    idx = supply_index(study, radius_km)
    chains = idx.chains
    _, lonlat = _as_points_metric(points, idx.network.crs, "parks")
    sn = idx.network.snap_xy(lonlat)
    out = {}
    for cid in chains.chains.index:  # loop over chain maps (a handful)
        inds = list(chains.industries.index[chains.industries["chain"] == cid])
        cov = idx.covered(sn, inds)
        share = cov.mean(axis=1) if inds else np.full(len(points), np.nan)
        share = np.where(sn.on_network, share, np.nan)
        out[f"chain_{cid}"] = share
    return pd.DataFrame(out, index=points.index)


# --------------------------------------------------------------------------- evaluation

def evaluate_parks(study: Study, radius_km: float | None = 100) -> pd.DataFrame:
    """Evaluate every park of a study (see the module doc for the columns).

    Parameters
    ----------
    study
        A study with a parks layer; a firms layer and a roads layer for the firm,
        supply and chain columns; a redlines layer for the red-line status.
    radius_km
        Radius by road for supply rates and chain completeness (None: ``[parks]
        radius_km``, then ``[sourcing] radius_km``, then 100).

    Returns
    -------
    pandas.DataFrame
        One row per park, in layer order.

    Raises
    ------
    InputError
        No parks layer, bad radius.
    """
    cfg = study.config.parks
    r_km = radius_km if radius_km is not None else (
        cfg.radius_km or study.config.sourcing.radius_km)
    if not (is_number(r_km) and r_km > 0):
        raise InputError(f"radius must be > 0 km, got {r_km!r}")
    parks = park_frame(study)
    pid = parks["park_id"].to_numpy()
    area = parks["area_m2"].to_numpy()
    rows = pd.DataFrame({"park_id": pid, "park_name": parks["name"].astype(str).to_numpy(),
                         "area_m2": area.round(1), "area_ha": (area / HA_M2).round(2),
                         "area_mu": (area / MU_M2).round(1)})
    has_firms = study.has_role("firms")
    if has_firms:
        firms = study_firms(study)
        rows = rows.join(_firm_columns(firms, pid, cfg, area))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = rows.join(_supply_columns(study, pid, float(r_km)))
        if study.has_role("roads"):
            cc = chain_completeness(park_centroids(parks, study), study, float(r_km))
            rows = rows.join(cc.reset_index(drop=True))
    if study.has_role("redlines"):
        rl = check_study(study).parks.set_index("park_id")
        rows["redline_status"] = rows["park_id"].map(rl["status"]).fillna("")
        rows["redline_conflicts"] = rows["park_id"].map(rl["n_conflicts"]).fillna(0).astype(int)
        rows["redline_overlap_mu"] = rows["park_id"].map(rl["overlap_mu_total"]).round(1)
        rows["nearest_zone_id"] = rows["park_id"].map(rl["nearest_zone_id"]).fillna("")
        rows["nearest_zone_m"] = rows["park_id"].map(rl["nearest_zone_m"]).round(0)
        rows["redline_note"] = rows["park_id"].map(rl["restricted_allowed"]).fillna("")
    rows.attrs["radius_km"] = float(r_km)
    rows.attrs["thresholds"] = cfg.thresholds()
    rows.attrs["absent_fields"] = [f for f in grade_fields(cfg) if f not in firms.columns] \
        if has_firms else []
    rows.attrs["synthetic_firms"] = bool(has_firms and firms.attrs.get("synthetic", False))
    return rows


def park_industries(study: Study) -> pd.DataFrame:
    """Long table of every (park, industry), most firms first.

    Firms outside parks are left out; an empty table if the study has no firms.

    Parameters
    ----------
    study
        The study (firms layer joined to parks by :func:`geo.register.load_firms`).

    Returns
    -------
    pandas.DataFrame
        ``park_id, industry, chain, n_firms, share`` (of the park's firms, 0–1) and
        ``lq`` (location quotient against the study region, firm counts).

    Raises
    ------
    InputError
        The firms layer lacks its industry field.
    """
    cols = ["park_id", "industry", "chain", "n_firms", "share", "lq"]
    if not study.has_role("firms"):
        return pd.DataFrame(columns=cols)
    firms = study_firms(study)
    fpark = firms["park_id"].astype(str).to_numpy()
    ind = firms["industry"].astype(str).to_numpy()
    lq = location_quotients(fpark, ind, firms["in_region"].to_numpy(bool))
    counts = pd.crosstab(fpark, ind)
    long = counts.stack().rename("n_firms").reset_index()
    long.columns = ["park_id", "industry", "n_firms"]
    long = long[(long["n_firms"] > 0) & (long["park_id"] != "")].copy()
    long["share"] = (long["n_firms"] / long.groupby("park_id")["n_firms"].transform("sum")
                     ).round(4)
    long["lq"] = [round(float(lq.at[p, i]), 3) for p, i in
                  zip(long["park_id"], long["industry"], strict=True)]
    chain = firms.drop_duplicates("industry").set_index("industry")["chain"] \
        if "chain" in firms.columns else pd.Series(dtype=object)
    long["chain"] = long["industry"].map(chain).fillna("")
    return long.sort_values(["park_id", "n_firms", "industry"], ascending=[True, False, True],
                            kind="stable").reset_index(drop=True)[cols]


def _firm_columns(firms: gpd.GeoDataFrame, pid: np.ndarray, cfg: ParksConfig,
                  area_m2: np.ndarray) -> pd.DataFrame:
    """Firm counts, quotients, concentration, free land and 亩均 per park (aligned with
    ``pid``)."""
    fpark = firms["park_id"].astype(str).to_numpy()
    ind = firms["industry"].astype(str).to_numpy()
    chain = firms["chain"].astype(str).to_numpy() if "chain" in firms.columns else ind
    region = firms["in_region"].to_numpy(bool)
    lq = location_quotients(fpark, ind, region)
    clq = location_quotients(fpark, chain, region)
    counts = pd.crosstab(fpark, ind)
    fig = firm_land_figures(firms, cfg)
    land_filled, _ = occupied_land_mu(firms, cfg)
    out = []
    for k, p in enumerate(pid):  # loop over parks (few)
        sel = fpark == p
        rec: dict[str, Any] = {"n_firms": int(sel.sum()),
                               "n_anchors": int(firms["anchor"].to_numpy(bool)[sel].sum())}
        if rec["n_firms"] and p in counts.index:
            c = counts.loc[p]
            c = c[c > 0].sort_values(ascending=False, kind="stable")
            shares = (c / c.sum()).to_numpy()
            dom = str(c.index[0])
            rec.update({
                "n_industries": int(len(c)),
                "dominant_industry": dom, "dominant_share": round(float(shares[0]), 4),
                "dominant_lq": round(float(lq.at[p, dom]), 3),
                "hhi": round(hhi(shares), 4),
                "industries": ";".join(f"{i}:{int(n)}" for i, n in c.items()),
                "industry_lq": ";".join(f"{i}={lq.at[p, i]:.2f}" for i in c.index),
                "chain_lq": ";".join(f"{ch}={v:.2f}" for ch, v in
                                     clq.loc[p][clq.loc[p] > 0].sort_values(
                                         ascending=False).items()),
            })
        else:
            rec.update({"n_industries": 0, "dominant_industry": "", "dominant_share": np.nan,
                        "dominant_lq": np.nan, "hhi": np.nan, "industries": "",
                        "industry_lq": "", "chain_lq": ""})
        # free land: usable share of the area minus firms' land (filled where missing)
        used = float(land_filled[sel].sum())
        rec["firm_land_mu"] = round(used, 1)
        rec["free_land_mu"] = round(max(0.0, area_m2[k] / MU_M2 * cfg.net_land_share - used), 1)
        g = fig[sel]
        graded = (g["grade"] != NOT_GRADED).to_numpy()
        rec["n_graded"] = int(graded.sum())
        rec["n_not_graded"] = int((~graded).sum())
        rec["not_graded_missing"] = missing_summary(g["missing"])
        for gr in GRADES:
            rec[f"n_grade_{gr}"] = int((g["grade"] == gr).sum())
        if graded.any():
            land = float(g["land_mu"][graded].sum())
            vals = {}
            for m in _FIGURE_OF:
                v = fig.loc[sel, _FIGURE_OF[m]].to_numpy(float)[graded] * \
                    g["land_mu"].to_numpy(float)[graded]
                # park figure: sums over graded firms that have this field
                ok = np.isfinite(v)
                vals[m] = float(v[ok].sum() / g["land_mu"][graded].to_numpy()[ok].sum()) \
                    if ok.any() else np.nan
            rec["graded_land_mu"] = round(land, 1)
            rec["investment_myuan_per_mu"] = round(vals["investment"], 3)
            rec["output_myuan_per_mu"] = round(vals["output"], 3)
            rec["tax_myuan_per_mu"] = round(vals["tax"], 3)
            rec["grade"] = str(grade_values({m: np.array([vals[m]]) for m in vals},
                                            cfg.thresholds(), cfg.d_ratio)[0])
        else:
            rec.update({"graded_land_mu": np.nan, "investment_myuan_per_mu": np.nan,
                        "output_myuan_per_mu": np.nan, "tax_myuan_per_mu": np.nan,
                        "grade": NOT_GRADED})
        out.append(rec)
    return pd.DataFrame(out)


def _supply_columns(study: Study, pid: np.ndarray, radius_km: float) -> pd.DataFrame:
    """Median and spread of the park firms' local supply rates."""
    if not study.has_role("roads"):
        return pd.DataFrame(index=range(len(pid)))
    res = run_sourcing(study, radius_km, with_service_areas=False)
    f = res.firms
    r = pd.to_numeric(f["local_supply_rate"], errors="coerce")
    g = r.groupby(f["park_id"].astype(str).to_numpy())
    tab = pd.DataFrame({"supply_rate_median": g.median(), "supply_rate_p25": g.quantile(0.25),
                        "supply_rate_p75": g.quantile(0.75), "supply_rate_min": g.min(),
                        "supply_rate_max": g.max(), "n_rated": g.count()})
    tab["supply_rate_iqr"] = tab["supply_rate_p75"] - tab["supply_rate_p25"]
    out = tab.reindex(pid).reset_index(drop=True).round(4)
    out["n_rated"] = out["n_rated"].fillna(0).astype(int)
    return out
