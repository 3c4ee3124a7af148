"""Whether a site may take an incoming industry (the admissibility part of
:mod:`geo.recommend`): its free land after what its firms use and what core and
red-line zones cover, and the verdict of every restricted zone it overlaps — a site
wholly inside a zone that bans the industry is excluded, a partly covered one keeps
only the land outside the zone (flagged), an industry the sector model cannot judge
is "review". Reasons in Chinese and English.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from .redline import equal_area_polygons, pair_overlaps
from .register import sector_model_for
from .sectors import split_industries
from .study import Study
from .units import MU_M2

if TYPE_CHECKING:  # the shared parts of a ranking (types only: recommend imports us)
    from .recommend import _Base, _Settings


def _land_and_admissibility(study: Study, base: _Base, cfg, need: float,
                            st: _Settings) -> dict:
    """Criteria 4 and 5 before the shortfall check: free land (亩) per site after the
    firms already there and red-line overlaps, status and admissibility notes (en/zh)."""
    n = len(base.sites)
    share = float(cfg.net_land_share)
    adm = {"free": np.maximum(0.0, base.area_mu * share - base.used),
           "status": np.full(n, "ok", dtype=object),
           "en": np.full(n, "", dtype=object), "zh": np.full(n, "", dtype=object)}
    if base.zones is not None:
        _zone_verdicts(study, base, adm, share, need, st)
    return adm


def _zone_pairs(study: Study, sites: gpd.GeoDataFrame, firms, used: np.ndarray,
                kind: np.ndarray, site_ids: np.ndarray) -> dict | None:
    """The (site, zone) pairs that overlap (computed once in the study's equal-area CRS):
    overlap 亩, zone class, id, name and bans, and the land (亩) the site's firms use
    outside the zone."""
    zones = study.load_role("redlines")
    if zones is None:
        return None
    zspec = study.by_role("redlines")[0]
    cf = zspec.options.get("class") or "class"
    zcls = zones[cf].astype(str).str.strip().str.lower().to_numpy() if cf in zones else \
        np.full(len(zones), "redline")
    si, zi, ov_m2, za = _site_zone_overlaps(sites, zones, study.area_crs)
    banned_col = zones["banned_industries"].to_numpy() if "banned_industries" in zones \
        else np.full(len(zones), "")
    fpts = None
    if firms is not None:
        fpts = shapely.transform(
            shapely.points(firms.geometry.x.to_numpy(), firms.geometry.y.to_numpy()),
            lambda c: np.column_stack(_to_area(c, study)))
    used_out = used[si].astype(float)
    if fpts is not None:
        fpark = firms["park_id"].astype(str).to_numpy()
        fland = firms["_land"].to_numpy()
        for k in range(len(si)):  # a handful of pairs
            s, z = si[k], zi[k]
            if kind[s] == "park":
                sel = fpark == site_ids[s]
                inside = shapely.contains(za[z], fpts[sel])
                used_out[k] = float(fland[sel][~inside].sum())
    return {"si": si, "zi": zi, "ov_mu": ov_m2 / MU_M2, "cls": zcls,
            "name": zones["name"].astype(str).to_numpy(), "id": zones["id"].astype(str).to_numpy(),
            "bans": [split_industries(b) for b in banned_col], "used_out": used_out}


def _zone_verdicts(study: Study, base: _Base, adm: dict, share: float, need: float,
                   st: _Settings) -> None:
    """Red-line and restricted-zone overlaps of each site (:func:`_zone_pairs`) judged
    for the industry, applied to ``adm`` in place."""
    zp = base.zones
    assert zp is not None
    sectors = sector_model_for(study)
    area_mu = base.area_mu
    free, adm_en, adm_zh = adm["free"], adm["en"], adm["zh"]
    zcls, zid, zname, ov_mu = zp["cls"], zp["id"], zp["name"], zp["ov_mu"]
    for k in range(len(zp["si"])):  # (site, zone) pairs that touch: a handful
        s, z = zp["si"][k], zp["zi"][k]
        if ov_mu[k] <= 0:
            continue
        pct = 100.0 * ov_mu[k] / area_mu[s]
        if zcls[z] in ("core", "redline"):
            free[s] = max(0.0, free[s] - ov_mu[k] * share)
            adm_en[s] += f"{ov_mu[k]:,.0f} 亩 ({pct:.1f}%) inside red line {zid[z]}: not " \
                         "buildable; "
            adm_zh[s] += f"{ov_mu[k]:,.0f} 亩（{pct:.1f}%）位于生态红线 {zid[z]} 内，不可建设；"
            continue
        bans = zp["bans"][z]
        verdict = sectors.is_banned([st.x], bans).status if bans else "review"
        if verdict == "allowed":
            continue
        if pct >= 100.0 - 1e-6:
            _inside_restricted(adm, s, zname[z], verdict, st)
            continue
        # partial: only the land outside the zone is usable
        free_out = max(0.0, (area_mu[s] - ov_mu[k]) * share - zp["used_out"][k])
        free[s] = min(free[s], free_out)
        _partly_restricted(adm, s, zname[z], pct, free_out, need, st)


def _site_zone_overlaps(sites: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, area_crs
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(site index, zone index, overlap m², zone polygons) of the (site, zone) pairs that
    intersect, with the red-line gate's geometry (:mod:`geo.redline`): both layers
    densified and projected to the equal-area ``area_crs``, so the areas are the gate's.

    Raises
    ------
    InputError
        A layer without a CRS or with non-polygon features.
    """
    sa = equal_area_polygons(sites, "sites", area_crs)
    za = equal_area_polygons(zones, "red lines", area_crs)
    si, zi = shapely.STRtree(za).query(sa, predicate="intersects")
    return si, zi, shapely.area(pair_overlaps(sa[si], za[zi])), za


def _inside_restricted(adm: dict, s: int, zname: str, verdict: str, st: _Settings) -> None:
    """A site wholly inside a restricted zone that bans (or may ban) the industry."""
    adm["status"][s] = "excluded"
    if verdict == "banned":
        adm["en"][s] += f"inside {zname}, which bans {st.x_en.lower()} (restricted zone); "
        adm["zh"][s] += f"位于{zname.split(' ')[0]}内，该区禁止{st.x_zh}项目；"
    else:
        adm["en"][s] += f"inside {zname}: {st.x_en.lower()} could not be judged " \
                        "against its bans (review before recommending); "
        adm["zh"][s] += (f"位于{zname.split(' ')[0]}内，无法判断{st.x_zh}是否属"
                         "禁止类，需复核；")


def _partly_restricted(adm: dict, s: int, zname: str, pct: float, free_out: float,
                       need: float, st: _Settings) -> None:
    """A site partly inside a restricted zone that bans the industry: excluded when the
    free land outside the zone (亩) is short of the need, else flagged."""
    zn = zname.split(' ')[0]
    if free_out < need:
        adm["status"][s] = "excluded"
        adm["en"][s] += (f"{pct:.0f}% inside {zname}, which bans {st.x_en.lower()}; "
                         f"only {free_out:,.0f} 亩 free outside it, the firm needs "
                         f"{need:,.0f} 亩; ")
        adm["zh"][s] += (f"{pct:.0f}% 位于{zn}（禁止{st.x_zh}），"
                         f"区外可用土地仅 {free_out:,.0f} 亩，不足 {need:,.0f} 亩；")
    else:
        if adm["status"][s] == "ok":
            adm["status"][s] = "flagged"
        adm["en"][s] += (f"{pct:.0f}% inside {zname}, which bans {st.x_en.lower()}: site "
                         f"outside the zone only ({free_out:,.0f} 亩 free there); ")
        adm["zh"][s] += (f"{pct:.0f}% 位于{zn}（禁止{st.x_zh}）："
                         f"仅可在区外选址（区外可用约 {free_out:,.0f} 亩）；")


def _shortfalls(adm: dict, sn, need: float) -> None:
    """Exclude sites with less free land than ``need`` (亩); note sites whose centre is
    off the road network. Applied to ``adm`` in place."""
    free, status = adm["free"], adm["status"]
    short = (free < need) & (status != "excluded")
    status[short] = "excluded"
    for s in np.flatnonzero(short):
        adm["en"][s] += f"only {free[s]:,.0f} 亩 free land, the firm needs {need:,.0f} 亩; "
        adm["zh"][s] += f"可用土地仅 {free[s]:,.0f} 亩，不足 {need:,.0f} 亩；"
    for s in np.flatnonzero(~sn.on_network):
        adm["en"][s] += f"centre {sn.snap_m[s] / 1000:.1f} km from the road network: " \
                        "no road figures; "
        adm["zh"][s] += f"中心距路网 {sn.snap_m[s] / 1000:.1f} 公里，无道路数据；"


def _to_area(c: np.ndarray, study: Study) -> tuple[np.ndarray, np.ndarray]:
    t = Transformer.from_crs(4326, study.area_crs, always_xy=True)
    return t.transform(c[:, 0], c[:, 1])
