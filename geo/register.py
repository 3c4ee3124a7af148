"""The study's register: its firms, parks and chain maps, read once and shared.

Every analysis takes study-wide data from here — the firm register with firms joined
to parks, the parks with their equal-area areas, the chain maps (with an input–output
table applied), and the sector model that knows the chain maps' industries — so that
the gate, sourcing, parks, suitability, recommend and layout read the same things the
same way. Results are cached per study in :data:`_CACHE` (an explicit cache, dropped
with the study).
"""

from __future__ import annotations

import difflib
import weakref
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from .chains import Chains, load_chains
from .errors import InputError
from .sectors import SectorModel, sector_model
from .study import Study

#: study → {name: value}: what this module has read for each live study.
_CACHE: weakref.WeakKeyDictionary[Study, dict[str, Any]] = weakref.WeakKeyDictionary()


def _cache(study: Study) -> dict[str, Any]:
    return _CACHE.setdefault(study, {})


def study_chains(study: Study) -> Chains:
    """The chain maps of a study (``[sourcing] chains``, else the bundled ones), with its
    input–output table applied if it names one. Cached on the study."""
    cache = _cache(study)
    if "chains" in cache:
        return cache["chains"]
    sec = study.section("sourcing")
    ch = sec.get("chains")
    if ch is None:
        chains = load_chains(None)
    else:
        items = ch if isinstance(ch, list) else [ch]
        chains = load_chains([study.root / c for c in items])
    if sec.get("io_table"):
        chains = chains.with_io_table(study.root / sec["io_table"])
    cache["chains"] = chains
    return chains


def load_firms(study: Study) -> gpd.GeoDataFrame:
    """The study's firm register (WGS84) with ``firm_id``, ``industry``, ``park_id``,
    ``anchor`` and ``synthetic`` columns normalised.

    ``park_id`` is taken from the layer if it has one, else from the parks layer by
    location (empty text outside every park).
    """
    sec = study.section("sourcing")
    key = sec.get("firms")
    if key:
        g = study.load(key)
        specs = [study.layers[key]]
    else:
        g = study.load_role("firms")
        specs = study.by_role("firms")
        if g is None:
            raise InputError(f"{study.path}: the study has no firms layer; add a [layers.firms] "
                             "table with role = \"firms\" and industry = \"<field>\"")
    spec = specs[0]
    ind_field = spec.options.get("industry", "industry")
    if ind_field not in g.columns:
        close = difflib.get_close_matches(ind_field, [str(c) for c in g.columns], n=1)
        raise InputError(f"{spec.label} ({spec.path}): industry field {ind_field!r} not found"
                         + (f"; did you mean {close[0]!r}?" if close else
                            f"; fields: {', '.join(map(str, g.columns))}") +
                         "; set industry = \"<field>\" in the layer table")
    g = g.copy()
    g["firm_id"] = g["id"].astype(str)
    g["industry"] = g[ind_field].astype("string").fillna("").str.strip().astype(object)
    if "park_id" not in g.columns or g["park_id"].isna().all():
        g["park_id"] = ""
        if study.has_role("parks"):
            parks = study.load_role("parks")
            idx_pt, idx_pk = shapely.STRtree(parks.geometry.values).query(
                g.geometry.values, predicate="within")
            pid = np.full(len(g), "", dtype=object)
            pid[idx_pt] = parks["id"].astype(str).to_numpy()[idx_pk]
            g["park_id"] = pid
    g["park_id"] = g["park_id"].astype("string").fillna("").astype(object)
    if "anchor" in g.columns:
        a = g["anchor"]
        if a.dtype == object or str(a.dtype) in ("string", "str"):
            a = a.astype("string").str.strip().str.lower().isin(
                ["true", "1", "yes", "y", "t", "是"])
        g["anchor"] = a.fillna(False).astype(bool)
    else:
        g["anchor"] = False
    syn = bool(any(s.options.get("synthetic", False) for s in specs))
    if "synthetic" not in g.columns:
        g["synthetic"] = syn
    g.attrs["synthetic"] = syn or bool(g["synthetic"].astype(bool).any())
    return g


def park_frame(study: Study) -> gpd.GeoDataFrame:
    """The study's parks (WGS84) with ``park_id`` text and equal-area ``area_m2``."""
    parks = study.load_role("parks")
    if parks is None or len(parks) == 0:
        raise InputError(f"{study.path}: the study has no parks layer; add a [layers.parks] "
                         "table with role = \"parks\"")
    parks = parks.copy()
    parks["park_id"] = parks["id"].astype(str)
    parks["area_m2"] = parks.to_crs(study.area_crs).area.to_numpy()
    return parks


def study_firms(study: Study) -> gpd.GeoDataFrame:
    """The firm register (:func:`geo.sourcing.load_firms`) with ``in_region``: inside the
    study area."""
    firms = load_firms(study).copy()
    b = study.boundary
    firms["in_region"] = shapely.contains_xy(b, firms.geometry.x.to_numpy(),
                                             firms.geometry.y.to_numpy())
    return firms


def _chain_codes(chains: Chains) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    ind = chains.industries
    return {str(i): (str(r["name_zh"]), str(r["name_en"]), tuple(r["gbt4754"]))
            for i, r in zip(ind.index, ind.to_dict("records"), strict=True)}


def bundled_sector_model() -> SectorModel:
    """The sector model with the bundled chain maps' industries (no study at hand)."""
    return sector_model(None, _chain_codes(load_chains(None)))


def sector_model_for(study: Study) -> SectorModel:
    """The sector model of a study: GB/T 4754-2017, the regulated sectors, the study's
    ``[redlines.sectors]`` and its chain maps' industries (with their ``gbt4754`` codes).
    """
    cache = _cache(study)
    if "sectors" not in cache:
        cache["sectors"] = sector_model(study.section("redlines").get("sectors", {}),
                                        _chain_codes(study_chains(study)))
    return cache["sectors"]
