"""What the study map draws: :class:`MapData`, the typed parts of a run (or of a map of
parts), read from a :class:`~geo.pipeline.StudyRun` in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..layout import LayoutResult
from ..pipeline import StudyRun
from ..suitability import SuitabilityResult


@dataclass(frozen=True)
class SuitabilityLayers:
    """The suitability layers of the map.

    Attributes
    ----------
    suitability_tif, exclusion_tif, stability_tif : pathlib.Path or str, optional
        GeoTIFFs (any CRS; warped to Web Mercator for display): the 0–1 score, the
        exclusion codes and the Monte Carlo top-share frequency.
    exclusion_codes : mapping of int to str or dict
        Code → label (``{"zh": …, "en": …}`` or one string); code 0 is "scored".
    candidates : geopandas.GeoDataFrame, optional
        Ranked candidate regions (``rank``, ``area_ha``, ``area_mu``, ``district``).
    model_card : mapping
        The suitability model card (criteria, weights, AHP, stability).
    """

    suitability_tif: Path | str | None = None
    exclusion_tif: Path | str | None = None
    stability_tif: Path | str | None = None
    exclusion_codes: dict[int, Any] = field(default_factory=dict)
    candidates: gpd.GeoDataFrame | None = None
    model_card: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, res: SuitabilityResult) -> SuitabilityLayers:
        """The layers of a finished suitability run.

        Parameters
        ----------
        res : geo.suitability.SuitabilityResult
            What :func:`~geo.suitability.run_suitability` returned.

        Returns
        -------
        SuitabilityLayers
            Its rasters (None when not written), codes, candidates and model card.
        """
        return cls(res.suitability_tif, res.exclusion_tif, res.stability_tif,
                   res.exclusion_codes, res.candidates, res.model_card)


@dataclass(frozen=True)
class MapData:
    """Everything the study map can draw besides the study's own layers; each part is
    optional (None or empty: not drawn).

    Attributes
    ----------
    redline_conflicts : geopandas.GeoDataFrame, optional
        Conflict geometries of the red-line gate (EPSG:4326).
    redline_parks : pandas.DataFrame, optional
        One row per park: ``park_id``, ``status`` (pass / review / conflict), reasons.
    firms : geopandas.GeoDataFrame, optional
        Firms to draw (points); else the study's firms layers are drawn.
    sourcing_parks, chain_gaps : pandas.DataFrame, optional
        Supply rates per park and the ranked chain gaps (补链) of ``[sourcing]``.
    service_areas : geopandas.GeoDataFrame, optional
        The parks' areas within the sourcing radius by road (polygons).
    park_evaluation : pandas.DataFrame, optional
        Park grades (亩均, LQ, HHI) of ``[parks]``.
    symbiosis : geopandas.GeoDataFrame, optional
        By-product → input firm pairs with their connecting lines.
    suitability : SuitabilityLayers, optional
        Rasters, candidate regions and the model card.
    recommendations : mapping of str to pandas.DataFrame
        Ranked parks and sites per industry of ``[parks.recommend]``.
    ranking : pandas.DataFrame, optional
        Top sites for every chain-map industry (:func:`geo.recommend.rank_industries`),
        for the map's recommendation picker.
    layout : geo.layout.LayoutResult, optional
        A park layout.
    network_audit : geopandas.GeoDataFrame, optional
        The network audit's probable missing links.
    model_card : mapping of str to list of str
        Extra model-card sections (title → lines), e.g. what the run could not judge.
    """

    redline_conflicts: gpd.GeoDataFrame | None = None
    redline_parks: pd.DataFrame | None = None
    firms: gpd.GeoDataFrame | None = None
    sourcing_parks: pd.DataFrame | None = None
    chain_gaps: pd.DataFrame | None = None
    service_areas: gpd.GeoDataFrame | None = None
    park_evaluation: pd.DataFrame | None = None
    symbiosis: gpd.GeoDataFrame | None = None
    suitability: SuitabilityLayers | None = None
    recommendations: dict[str, pd.DataFrame] = field(default_factory=dict)
    ranking: pd.DataFrame | None = None
    layout: LayoutResult | None = None
    network_audit: gpd.GeoDataFrame | None = None
    model_card: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "recommendations", dict(self.recommendations or {}))
        object.__setattr__(self, "model_card", dict(self.model_card or {}))
        if self.suitability is not None and not isinstance(self.suitability,
                                                           SuitabilityLayers):
            raise TypeError("MapData.suitability must be a SuitabilityLayers (use "
                            "SuitabilityLayers.of(result) for a SuitabilityResult), not "
                            f"{type(self.suitability).__name__}")

    @classmethod
    def from_run(cls, run: StudyRun, card: Mapping[str, list[str]] | None = None
                 ) -> MapData:
        """What the study map draws from a finished run: the one place that reads a
        :class:`~geo.pipeline.StudyRun` for the map.

        Parameters
        ----------
        run : geo.pipeline.StudyRun
            A finished run; parts it did not run are left out.
        card : mapping of str to list of str, optional
            Extra model-card sections, merged after the run's "not judged" lines.

        Returns
        -------
        MapData
            The gate, firms, sourcing tables, park grades, symbiosis, suitability,
            recommendations, layout and audit of ``run``.
        """
        red, src = run.redlines, run.sourcing
        notes = {"not judged / 未评估": list(run.warnings)} if run.warnings else {}
        return cls(
            redline_conflicts=red.conflicts if red is not None else None,
            redline_parks=red.parks if red is not None else None,
            firms=src.firms if src is not None else run.firms,
            sourcing_parks=src.parks if src is not None else None,
            chain_gaps=src.gaps if src is not None else None,
            service_areas=src.service_areas if src is not None else None,
            park_evaluation=run.parks,
            symbiosis=run.symbiosis if run.parks is not None else None,
            suitability=SuitabilityLayers.of(run.suitability)
            if run.suitability is not None else None,
            recommendations=dict(run.recommendations or {}),
            ranking=run.ranking,
            layout=run.layout,
            network_audit=run.audit.findings if run.audit is not None else None,
            model_card={**notes, **(card or {})})

    def only(self, *names: str) -> MapData:
        """A copy with only the named parts (for a map of one result).

        Parameters
        ----------
        *names : str
            Field names of :class:`MapData`.

        Returns
        -------
        MapData
            The named parts; the others at their empty defaults.

        Raises
        ------
        ValueError
            A name is not a field.
        """
        known = {f.name for f in fields(self)}
        bad = sorted(set(names) - known)
        if bad:
            raise ValueError(f"MapData has no part {bad}; parts: {sorted(known)}")
        return MapData(**{n: getattr(self, n) for n in names})
