"""The study's register: its firms, parks and chain maps, read once and shared.

Every analysis takes study-wide data from here — the firm register with firms joined
to parks, the parks with their equal-area areas, the chain maps (with an input–output
table applied), and the sector model that knows the chain maps' industries — so that
the gate, sourcing, parks, suitability, recommend and layout read the same things the
same way. Results are cached in the study's explicit cache (:attr:`Study.cache`).
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .chains import Chains, load_chains
from .errors import InputError
from .sectors import SectorModel, gbt_code, sector_model, split_industries
from .study import Study


def study_chains(study: Study) -> Chains:
    """The chain maps of a study (``[sourcing] chains``, else the bundled ones), with its
    input–output table applied if it names one. Cached on the study.

    Parameters
    ----------
    study
        The study; ``[sourcing] chains`` and ``io_table`` are resolved against its
        folder.

    Returns
    -------
    geo.chains.Chains
        The loaded chain maps (the same object on every call for this study).

    Raises
    ------
    MissingFileError
        A chain map or the input–output table named in the study does not exist.
    ModelError
        A chain map or the input–output table has problems (every one listed).
    """
    cache = study.cache
    if "chains" in cache:
        return cache["chains"]
    cfg = study.config.sourcing
    chains = load_chains(None if cfg.chains is None else [study.root / c for c in cfg.chains])
    if cfg.io_table:
        chains = chains.with_io_table(study.root / cfg.io_table)
    cache["chains"] = chains
    return chains


def load_firms(study: Study) -> gpd.GeoDataFrame:
    """The study's firm register (WGS84) with ``firm_id``, ``industry``, ``park_id``,
    ``anchor`` and ``synthetic`` columns normalised.

    ``park_id`` is taken from the layer if it has one, else from the parks layer by
    location (empty text outside every park). ``industry`` is the chain-map industry id
    (:func:`chain_industry_ids`: ids, Chinese or English names, GB/T 4754-2017 codes);
    ``industry_given`` keeps the register's own text.

    Parameters
    ----------
    study
        The study; the layer is ``[sourcing] firms`` if set, else the layers with
        ``role = "firms"``.

    Returns
    -------
    geopandas.GeoDataFrame
        Firm points in EPSG:4326 lon/lat degrees with the layer's columns plus
        ``firm_id`` (str), ``industry`` (chain-map id or the text as given),
        ``industry_given`` (str), ``park_id`` (str, ``""`` outside parks), ``anchor``
        (bool) and ``synthetic`` (bool); ``attrs["synthetic"]`` is True when any firm
        is synthetic.

    Raises
    ------
    InputError
        The study has no firms layer, or the layer lacks its ``industry`` field (the
        message suggests the closest field name).
    """
    key = study.config.sourcing.firms
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
    given = g[ind_field].astype("string").fillna("").str.strip().astype(object)
    g["industry_given"] = given
    g["industry"] = chain_industry_ids(given, study_chains(study))
    if "park_id" not in g.columns or g["park_id"].isna().all():
        g["park_id"] = ""
        parks = study.load_role("parks")
        if parks is not None:
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
    """The study's parks (WGS84) with ``park_id`` text and equal-area ``area_m2``.

    Parameters
    ----------
    study
        The study; its layers with ``role = "parks"``.

    Returns
    -------
    geopandas.GeoDataFrame
        Park polygons in EPSG:4326 lon/lat degrees with the layer's columns plus
        ``park_id`` (str) and ``area_m2`` (float, m² in the study's equal-area CRS
        :attr:`Study.area_crs`).

    Raises
    ------
    InputError
        The study has no parks layer, or it is empty.
    """
    parks = study.load_role("parks")
    if parks is None or len(parks) == 0:
        raise InputError(f"{study.path}: the study has no parks layer; add a [layers.parks] "
                         "table with role = \"parks\"")
    parks = parks.copy()
    parks["park_id"] = parks["id"].astype(str)
    parks["area_m2"] = parks.to_crs(study.area_crs).area.to_numpy()
    return parks


def study_firms(study: Study) -> gpd.GeoDataFrame:
    """The firm register (:func:`load_firms`) with ``in_region``: inside the study area.

    Parameters
    ----------
    study
        The study; its boundary (EPSG:4326) decides ``in_region``.

    Returns
    -------
    geopandas.GeoDataFrame
        :func:`load_firms`'s frame (EPSG:4326) plus a bool ``in_region`` column.

    Raises
    ------
    InputError
        As :func:`load_firms`.
    """
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
    """The sector model with the bundled chain maps' industries (no study at hand).

    Returns
    -------
    geo.sectors.SectorModel
        GB/T 4754-2017, the regulated sectors and the bundled ``data/chains``
        industries, without any study's ``[redlines.sectors]``.
    """
    return sector_model(None, _chain_codes(load_chains(None)))


def sector_model_for(study: Study) -> SectorModel:
    """The sector model of a study: GB/T 4754-2017, the regulated sectors, the study's
    ``[redlines.sectors]`` and its chain maps' industries (with their ``gbt4754`` codes).

    Parameters
    ----------
    study
        The study. The model is cached on it.

    Returns
    -------
    geo.sectors.SectorModel
        The one industry → sector rule used by the gate, suitability, recommend and
        layout.

    Raises
    ------
    MissingFileError, ModelError
        The study's chain maps cannot be loaded (see :func:`study_chains`).
    """
    cache = study.cache
    if "sectors" not in cache:
        cache["sectors"] = sector_model(study.config.redlines.sectors,
                                        _chain_codes(study_chains(study)))
    return cache["sectors"]


def chain_industry_ids(values: pd.Series, chains: Chains) -> pd.Series:
    """Firm-register industries as chain-map industry ids.

    A value is matched, after normalising case, spaces, underscores and full-width
    characters, to an industry id, its Chinese or English name, or a GB/T 4754-2017
    code that exactly one chain-map industry carries (``C3973`` → ``microelectronics``).
    Unmatched values are kept as written (and listed by :func:`industry_report`).

    Parameters
    ----------
    values
        The register's industry texts (any dtype; read as str).
    chains
        The chain maps whose industries are matched.

    Returns
    -------
    pandas.Series
        Object series aligned with ``values``: the chain-map id, or the text unchanged.
    """
    ind = chains.industries
    lookup: dict[str, str] = {}
    by_code: dict[str, list[str]] = {}
    for iid, zh, en, codes in zip(ind.index, ind["name_zh"], ind["name_en"],
                                  ind["gbt4754"], strict=True):
        for n in (iid, zh, en):
            lookup.setdefault(_key(n), str(iid))
        for c in codes:
            by_code.setdefault(c, []).append(str(iid))
    for c, ids in by_code.items():
        if len(ids) == 1:
            lookup.setdefault(_key(c), ids[0])
    # a register repeats a few dozen industry names: resolve each distinct one once
    distinct = pd.unique(values.astype(str))
    resolved = {v: lookup.get(_key(v)) or lookup.get(_key(gbt_code(v) or "")) or v
                for v in distinct}
    return values.astype(str).map(resolved).astype(object)


def _key(text: object) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(text)).lower().replace("_", " ")
                    .replace("-", " ").split())


@dataclass(frozen=True)
class IndustryReport:
    """Industries a study's analyses cannot use, as ``parksite check`` reports them.

    Attributes
    ----------
    unmapped
        Firm industries that are in no chain map (columns ``industry``, ``n_firms``,
        ``example_firm``): sourcing cannot count these firms as suppliers or buyers.
    unknown
        Park and firm industries the sector model cannot place in GB/T 4754-2017
        (``industry``, ``where``): the red-line gate flags them for review inside
        restricted zones.
    """

    unmapped: pd.DataFrame
    unknown: pd.DataFrame

    def lines(self) -> list[str]:
        """One line per finding, for the console.

        Returns
        -------
        list of str
            One sentence per unmapped firm industry, then one per unknown industry, each
            naming the fix; empty when there is nothing to report.
        """
        out = [f"firm industry {r.industry!r} ({r.n_firms} firms, e.g. {r.example_firm}) is "
               "in no chain map: sourcing cannot count these firms; use a chain-map id, its "
               "Chinese/English name or a GB/T 4754-2017 code"
               for r in self.unmapped.itertuples()]
        out += [f"{r.where} industry {r.industry!r} is not in GB/T 4754-2017 nor an alias: "
                "inside a restricted zone it is reported for review; give a code (e.g. C3973)"
                for r in self.unknown.itertuples()]
        return out


def industry_report(study: Study) -> IndustryReport:
    """What ``parksite check`` says about a study's industries (see :class:`IndustryReport`).

    Parameters
    ----------
    study
        The study; firms (if it has a firms layer) and the parks' ``industry`` field
        (if the parks layer declares one) are read.

    Returns
    -------
    IndustryReport
        Firm industries in no chain map, and park/firm industries the sector model
        cannot place in GB/T 4754-2017.

    Raises
    ------
    InputError
        The firms layer lacks its industry field (see :func:`load_firms`).
    MissingFileError, ModelError
        The chain maps cannot be loaded.
    """
    model = sector_model_for(study)
    known = set(study_chains(study).industries.index)
    names: list[tuple[str, str]] = []
    unmapped = pd.DataFrame(columns=["industry", "n_firms", "example_firm"])
    if study.has_role("firms"):
        firms = load_firms(study)
        bad = firms[~firms["industry"].isin(known) & (firms["industry"] != "")]
        unmapped = bad.groupby("industry_given").agg(
            n_firms=("firm_id", "size"), example_firm=("firm_id", "first")).reset_index() \
            .rename(columns={"industry_given": "industry"})
        names += [(str(v), "firm") for v in firms["industry"].unique() if v]
    parks = study.load_role("parks")
    if parks is not None:
        field = study.by_role("parks")[0].options.get("industry")
        if field and field in parks.columns:
            names += [(i, "park") for v in parks[field] for i in split_industries(v)]
    unknown = [(n, w) for n, w in dict.fromkeys(names) if not model.resolve(n).known]
    return IndustryReport(unmapped, pd.DataFrame(unknown, columns=["industry", "where"]))
