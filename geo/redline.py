"""The red-line gate: which parks (plots, sites) touch an ecological red line or its
buffer, and by how much.

The red line is the first admission threshold (准入第一门槛, domain notes): it is a
gate, never a score. Zones have a class:

``core``
    nature-reserve core zones: human activity prohibited in principle.
``redline``
    the rest of the red line (自然资发〔2022〕142号): development and production
    construction prohibited.
``restricted``
    water-protection zones such as the Taihu first-level zone (lake + 5 km belt):
    only the listed ``banned_industries`` are prohibited.

A (park, zone) pair is a conflict of kind

``overlap``
    the park overlaps a ``core``/``redline`` zone;
``buffer``
    the park does not overlap it but comes within ``buffer_m`` of it;
``restricted``
    the park overlaps a ``restricted`` zone and one of its industries is banned
    there — or the park has no industry data, in which case the row is flagged
    ``review`` (reported for a reviewer to decide). A restricted zone is already a
    protection belt, so its buffer is not widened further.

All geometry work is done in an equal-area projection centred on the data
(:func:`geo.crs.area_crs_for`), so areas match geodesic areas to far better than
0.1% and do not depend on the input CRS. Candidate pairs come from one STRtree
query; intersections, areas and distances are computed on arrays of pairs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .crs import area_crs_for, densify, in_china
from .errors import InputError
from .extent import check_layer_extent
from .io import write_csv, write_gpkg
from .register import sector_model_for
from .sectors import SectorModel, sector_model, split_industries
from .units import HA_M2, MU_M2

CLASSES = ("core", "redline", "restricted", "farmland", "outside_urban_boundary")
#: Control-line classes (三区三线) besides the red line: an overlap counts, a buffer does
#: not. ``farmland`` is permanent basic farmland (永久基本农田); ``outside_urban_boundary``
#: is the study area outside the urban development boundary (城镇开发边界).
CONTROL_CLASSES = ("farmland", "outside_urban_boundary")
_CONTROL_REASON = {
    "farmland": "permanent basic farmland 永久基本农田: no construction",
    "outside_urban_boundary": "outside the urban development boundary 城镇开发边界",
}
KINDS = ("overlap", "buffer", "restricted")

CONFLICT_COLUMNS = [
    "park_id", "park_name", "zone_id", "zone_name", "zone_class", "kind", "overlap_m2",
    "overlap_ha", "overlap_mu", "pct_of_park", "min_distance_m", "in_buffer_m2",
    "banned_hit", "review", "reason",
]

#: What a restricted zone without a ban list means: an input error (default), or a
#: review row for every park in it. Never a pass.
EMPTY_BANS = ("error", "review")


@dataclass
class RedlineResult:
    """The gate's answer.

    Attributes
    ----------
    conflicts : geopandas.GeoDataFrame
        One row per (park, zone) conflict, columns :data:`CONFLICT_COLUMNS`;
        geometry (EPSG:4326) is the conflicting part of the park: the overlap, or
        for ``buffer`` rows the part of the park inside the buffer.
    parks : pandas.DataFrame
        One row per park: ``park_id, park_name, area_m2, area_mu, status``
        (``pass``, ``conflict``, ``review``), ``n_conflicts``, ``overlap_m2_total``,
        ``overlap_mu_total``, ``nearest_zone_id``, ``nearest_zone_m`` (empty/NaN when
        no zone lies within ``nearest_within_m``),
        ``restricted_allowed`` (restricted zones the park lies in whose bans do not
        touch its industries: information for the reviewer, not a conflict).
    buffer_m : float
    area_crs : str
        The equal-area CRS the figures were computed in.
    """

    conflicts: gpd.GeoDataFrame
    parks: pd.DataFrame
    buffer_m: float
    area_crs: str
    nearest_within_m: float = 20_000.0
    notes: list[str] = field(default_factory=list)

    @property
    def has_conflicts(self) -> bool:
        return len(self.conflicts) > 0

    @property
    def exit_code(self) -> int:
        """0 when no park conflicts (review rows count as findings), else 1."""
        return 1 if self.has_conflicts else 0


def equal_area_polygons(gdf: gpd.GeoDataFrame, what: str, crs: CRS) -> np.ndarray:
    """Polygons of ``gdf`` in the equal-area ``crs``, densified in their own CRS first
    (edges ≤ 0.001° or 100 m, :func:`geo.crs.densify`), so that a 12 km edge stored in
    lon/lat is not replaced by its chord: 5 m slivers keep their area to 1e-4.

    The one geometry preparation of the red-line gate; ``geo.recommend`` uses it too, so
    both measure overlaps identically.

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygons in any CRS (as :func:`geo.layers.read_layer` returns them).
    what : str
        The layer's name in messages ("parks", "red lines").
    crs : pyproj.CRS
        An equal-area CRS in metres (``study.area_crs``).

    Returns
    -------
    numpy.ndarray
        shapely polygons in ``crs`` (m), in the order of ``gdf``.

    Raises
    ------
    InputError
        No CRS, coordinates that do not convert to finite metres, or a non-polygon.
    """
    if gdf.crs is None:
        raise InputError(f"{what}: the layer has no CRS; load it with geo.layers.read_layer")
    geoms = gdf.geometry.values
    if not gdf.crs.equals(crs):
        geoms = gpd.GeoSeries(densify(geoms, gdf.crs), crs=gdf.crs).to_crs(crs).values
    xy = shapely.get_coordinates(geoms)
    if not np.isfinite(xy).all():
        raise InputError(f"{what}: coordinates do not convert to finite metres in the "
                         "equal-area CRS; read the layer with geo.layers.read_layer, which "
                         "names the features and the likely cause")
    bad = ~np.isin(shapely.get_type_id(geoms), (3, 6))
    if bad.any():
        first = gdf["id"].iloc[int(np.flatnonzero(bad)[0])] if "id" in gdf else "?"
        raise InputError(f"{what}: feature id={first} is not a polygon; the red-line gate "
                         "compares polygons (parks, plots, zones)")
    return np.asarray(geoms)


def pair_overlaps(parks: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """Intersections of pairs ``parks[i] ∩ zones[i]``, vectorised, with one shortcut that
    gives the same geometry: a park strictly inside its zone (prepared test) is its own
    overlap.

    Parameters
    ----------
    parks, zones : numpy.ndarray
        shapely polygons of equal length in one equal-area CRS (m), e.g. from
        :func:`equal_area_polygons`.

    Returns
    -------
    numpy.ndarray
        The overlap geometry of each pair (empty where they do not meet); its area is in m².
    """
    out = np.empty(len(parks), dtype=object)
    if not len(parks):
        return out
    shapely.prepare(zones)
    inside = shapely.contains_properly(zones, parks)
    out[inside] = parks[inside]
    rest = np.flatnonzero(~inside)
    out[rest] = shapely.intersection(parks[rest], zones[rest])
    return out


def _boundary_pieces(zones: np.ndarray, k: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Zone boundaries cut into linestrings of at most ``k`` vertices, and the zone
    index of each piece. Small pieces give the STRtree tight envelopes, so a nearest
    search against lake belts with thousands of vertices stays fast."""
    lines, zone_of_line = shapely.get_parts(shapely.boundary(zones), return_index=True)
    coords, line_of = shapely.get_coordinates(lines, return_index=True)
    n = len(line_of)
    starts = np.r_[0, np.flatnonzero(np.diff(line_of)) + 1]
    pos = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    chunk = pos // (k - 1)
    # A vertex that starts a chunk also ends the previous one.
    dup = (pos % (k - 1) == 0) & (pos > 0)
    all_line = np.r_[line_of, line_of[dup]]
    all_chunk = np.r_[chunk, chunk[dup] - 1]
    all_pos = np.r_[pos, pos[dup]]
    all_xy = np.r_[coords, coords[dup]]
    order = np.lexsort((all_pos, all_chunk, all_line))
    key = all_line[order].astype(np.int64) * (int(chunk.max()) + 2) + all_chunk[order]
    new_piece = np.r_[True, key[1:] != key[:-1]]
    piece_id = np.cumsum(new_piece) - 1
    counts = np.bincount(piece_id)
    ok = counts[piece_id] >= 2
    dense_id = np.cumsum(new_piece & ok)[ok] - 1
    pieces = shapely.linestrings(all_xy[order][ok], indices=dense_id)
    first_of_piece = np.flatnonzero((new_piece & ok)[ok])
    piece_zone = zone_of_line[all_line[order][ok][first_of_piece]]
    return pieces, piece_zone


def _nearest_boundary(geoms: np.ndarray, zones: np.ndarray, max_distance: float):
    """(index into geoms, nearest zone index, distance) for geoms that do not touch a
    zone, searching zone boundaries within ``max_distance``."""
    pieces, piece_zone = _boundary_pieces(zones)
    gi, pj = shapely.STRtree(pieces).query_nearest(geoms, max_distance=max_distance,
                                                   all_matches=False)
    return gi, piece_zone[pj], shapely.distance(geoms[gi], pieces[pj])


def redline_conflicts(
    parks: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    buffer_m: float = 0.0,
    park_industries: Mapping[str, list[str]] | None = None,
    class_field: str = "class",
    banned_field: str = "banned_industries",
    sectors: SectorModel | None = None,
    empty_bans: str = "error",
    review_outside_boundary: bool = False,
    area_crs=None,
    nearest_within_m: float = 20_000.0,
) -> RedlineResult:
    """Find every (park, zone) conflict.

    Parameters
    ----------
    parks, zones
        Polygon GeoDataFrames in any CRS, with text columns ``id`` and ``name``
        (as :func:`geo.layers.read_layer` returns them). ``zones`` needs
        ``class_field`` ({"core", "redline", "restricted"}) and, for restricted
        zones, ``banned_field`` (``;``-separated sectors or ``all``).
    buffer_m
        Distance in metres around ``core``/``redline`` zones that also counts.
    park_industries
        park id → industries (names in either language, GB/T 4754-2017 codes or
        chain-map ids). A park absent from it (or with an empty list) has no industry
        data: restricted-zone overlaps are then flagged for review.
    class_field
        The zones' class field ({"core", "redline", "restricted"}, plus
        ``farmland`` and ``outside_urban_boundary`` for the other control lines).
    banned_field
        The restricted zones' ban-list field.
    sectors
        The industry model that judges bans (:func:`geo.sectors.sector_model`); an
        industry it does not recognise inside a restricted zone is flagged for review.
    empty_bans
        {"error", "review"}: a restricted zone with no ``banned_field`` value is an
        input error, or every park overlapping it is flagged for review.
    review_outside_boundary
        Land outside the urban development boundary (class ``outside_urban_boundary``)
        is a conflict (default) or flagged for review.
    area_crs
        The equal-area CRS to compute in (areas in m² and 亩); default a Lambert
        equal-area CRS centred on the data.
    nearest_within_m
        How far to look, in metres, for each park's nearest zone (the park table's
        ``nearest_zone_id``/``nearest_zone_m``; empty/NaN when none is that close).

    Returns
    -------
    RedlineResult

    Raises
    ------
    InputError
        Unknown zone classes, negative buffer, non-polygon features.
    """
    classes = _zone_classes(parks, zones, buffer_m, class_field)
    if area_crs is None:
        area_crs = area_crs_of(parks, zones)
    pg = equal_area_polygons(parks, "parks", area_crs)
    zg = equal_area_polygons(zones, "red lines", area_crs)
    restricted = classes == "restricted"
    pairs = _Pairs.find(pg, zg, restricted, buffer_m)
    park_area = shapely.area(pg)
    verdict = _pair_verdicts(pairs, parks, zones, classes, restricted, buffer_m,
                             park_industries, banned_field, sectors or sector_model(),
                             empty_bans, review_outside_boundary, park_area)
    conflicts = _conflict_frame(pairs, verdict, parks, zones, classes, park_area, area_crs)
    park_table = _park_table(pairs, conflicts, parks, zones, pg, zg, nearest_within_m,
                             verdict.allowed_by_park)
    return RedlineResult(conflicts=conflicts, parks=park_table, buffer_m=float(buffer_m),
                         nearest_within_m=float(nearest_within_m),
                         area_crs=getattr(area_crs, "srs", str(area_crs)))


def _zone_classes(parks: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, buffer_m: float,
                  class_field: str) -> np.ndarray:
    """The zones' classes (lower case), after checking the inputs the gate needs."""
    if buffer_m < 0 or not np.isfinite(buffer_m):
        raise InputError(f"buffer_m = {buffer_m}: must be a distance ≥ 0 in metres")
    for what, g in (("parks", parks), ("red lines", zones)):
        for col in ("id", "name"):
            if col not in g.columns:
                raise InputError(f"{what}: no {col!r} column; load layers with "
                                 "geo.layers.read_layer")
    if class_field not in zones.columns:
        raise InputError(f"red lines: no class field {class_field!r}; the fields are "
                         f"{', '.join(map(str, zones.columns))}. Name it with --class-field "
                         "(values core, redline, restricted)")
    raw = zones[class_field]
    classes = raw.astype(str).str.strip().str.lower().to_numpy()
    classes[raw.isna().to_numpy()] = ""
    unknown = sorted(set(classes) - set(CLASSES))
    if unknown:
        src = zones.attrs.get("source_path")
        where = f"red lines ({src}, field {class_field!r})" if src else "red lines"
        bad_ids = zones.loc[~np.isin(classes, CLASSES), "id"].head(5).tolist()
        shown = ", ".join(repr(c) if c else "(empty)" for c in unknown)
        raise InputError(f"{where}: unknown class {shown} (zones "
                         f"{', '.join(map(str, bad_ids))}); use core, redline or restricted")
    return classes


def area_crs_of(parks: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> CRS:
    """The equal-area CRS the gate computes in: centred on both layers' extent.

    Parameters
    ----------
    parks, zones
        GeoDataFrames in any CRS.

    Returns
    -------
    pyproj.CRS
        See :func:`geo.crs.area_crs_for`.

    Raises
    ------
    InputError
        The extents are not finite in degrees (NaN/inf coordinates or a wrong CRS).
    """
    b = np.vstack([parks.to_crs(4326).total_bounds, zones.to_crs(4326).total_bounds])
    if not np.isfinite(b).all():
        raise InputError("parks/red lines: the layers' extents are not finite in degrees "
                         "(NaN/inf coordinates or a wrong CRS); read them with "
                         "geo.layers.read_layer, which names the features and the fix")
    return area_crs_for((b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()))


@dataclass
class _Pairs:
    """Every (park, zone) pair within reach, with its overlap and buffer figures
    (equal-area metres)."""

    pi: np.ndarray              # park row of each pair
    zi: np.ndarray              # zone row of each pair
    overlap_geom: np.ndarray    # park ∩ zone
    overlap: np.ndarray         # its area (m²)
    dist: np.ndarray            # park–zone distance for non-overlapping pairs (m)
    in_buffer_geom: np.ndarray  # park ∩ buffered zone, for buffer hits
    in_buffer: np.ndarray       # its area (m²)

    @classmethod
    def find(cls, pg: np.ndarray, zg: np.ndarray, restricted: np.ndarray,
             buffer_m: float) -> _Pairs:
        """Pairs whose park intersects the zone grown by ``buffer_m`` (core/redline
        zones) or the zone itself (restricted zones): one STRtree query."""
        reach = zg.copy()
        if buffer_m > 0:
            strict = ~restricted
            reach[strict] = shapely.buffer(zg[strict], buffer_m, quad_segs=8)
        pi, zi = shapely.STRtree(reach).query(pg, predicate="intersects")
        pgp, zgp = pg[pi], zg[zi]
        overlap_geom = pair_overlaps(pgp, zgp)
        overlap = shapely.area(overlap_geom)
        # distances and in-buffer parts only for pairs that do not overlap (buffer hits)
        miss = np.flatnonzero(overlap <= 0)
        dist = np.zeros(len(pi))
        dist[miss] = shapely.distance(pgp[miss], zgp[miss])
        in_buffer_geom = overlap_geom.copy()
        in_buffer = np.zeros(len(pi))
        strict_miss = miss[~restricted[zi[miss]]]
        if buffer_m > 0 and len(strict_miss):
            in_buffer_geom[strict_miss] = shapely.intersection(pgp[strict_miss],
                                                               reach[zi[strict_miss]])
            in_buffer[strict_miss] = shapely.area(in_buffer_geom[strict_miss])
        return cls(pi, zi, overlap_geom, overlap, dist, in_buffer_geom, in_buffer)


@dataclass
class _Verdict:
    """What each pair means: its kind, whether it is kept as a conflict or review, the
    banned industry hit and the reason; and the restricted zones each park passed."""

    kind: np.ndarray
    keep: np.ndarray
    review: np.ndarray
    banned_hit: np.ndarray
    reason: np.ndarray
    allowed_by_park: pd.Series


def _pair_verdicts(pairs: _Pairs, parks, zones, classes: np.ndarray, restricted: np.ndarray,
           buffer_m: float, park_industries, banned_field: str, sectors: SectorModel,
           empty_bans: str, review_outside_boundary: bool, park_area: np.ndarray) -> _Verdict:
    """Each pair's verdict: restricted zones by the sector model, control lines by
    overlap only, strict zones by overlap or buffer."""
    pi, zi, overlap = pairs.pi, pairs.zi, pairs.overlap
    n = len(pi)
    kind = np.where(overlap > 0, "overlap", "buffer").astype(object)
    banned_hit = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    review = np.zeros(n, dtype=bool)
    keep = np.ones(n, dtype=bool)
    allowed_note = np.full(n, "", dtype=object)
    rpos = np.flatnonzero(restricted[zi])
    if len(rpos):
        kind[rpos] = "restricted"
        keep[rpos] = overlap[rpos] > 0
        verdicts = _restricted_verdicts(parks, zones, pi[rpos], zi[rpos], park_industries,
                                        banned_field, sectors, empty_bans)
        on = overlap[rpos] > 0
        status = np.array([v[0] for v in verdicts], dtype=object)
        review[rpos] = on & (status == "review")
        banned_hit[rpos] = np.where(on, [v[1] for v in verdicts], "")
        reason[rpos] = np.where(on, [v[2] for v in verdicts], "")
        ok = on & (status == "allowed")
        keep[rpos[ok]] = False
        pct = 100.0 * overlap[rpos] / np.where(park_area[pi[rpos]] > 0, park_area[pi[rpos]], 1.0)
        notes = pd.Series(zones["id"].to_numpy()[zi[rpos]].astype(str)) + " (" + \
            pd.Series(pct).map("{:.1f}".format) + "% of park): " + \
            pd.Series(reason[rpos])
        allowed_note[rpos[ok]] = notes.to_numpy()[ok]
    control = np.isin(classes[zi], CONTROL_CLASSES)
    keep &= ~(control & (overlap <= 0))  # control lines have no buffer
    reason[control] = pd.Series(classes[zi[control]]).map(_CONTROL_REASON).to_numpy()
    review |= (classes[zi] == "outside_urban_boundary") & review_outside_boundary
    allowed_by_park = pd.Series(allowed_note[allowed_note != ""],
                                index=parks["id"].astype(str).to_numpy()[pi[allowed_note != ""]]) \
        .groupby(level=0).agg("; ".join)
    # A strict zone touched only at its edge (distance 0, no area) is still a buffer hit
    # only if a buffer is asked for; with no buffer, touching is not a conflict.
    if buffer_m == 0:
        keep &= ~((kind == "buffer") & ~restricted[zi])
    return _Verdict(kind, keep, review, banned_hit, reason, allowed_by_park)


def _conflict_frame(pairs: _Pairs, v: _Verdict, parks, zones, classes: np.ndarray,
                    park_area: np.ndarray, area_crs) -> gpd.GeoDataFrame:
    """The conflict table (one row per kept pair, EPSG:4326 geometry of the overlap or
    in-buffer part), overlaps first, largest first."""
    sel = np.flatnonzero(v.keep)
    pi, zi = pairs.pi[sel], pairs.zi[sel]
    ov = pairs.overlap[sel]
    pa = park_area[pi]
    geom = np.where(v.kind[sel] == "buffer", pairs.in_buffer_geom[sel], pairs.overlap_geom[sel])
    conflicts = gpd.GeoDataFrame({
        "park_id": parks["id"].to_numpy()[pi],
        "park_name": parks["name"].to_numpy()[pi],
        "zone_id": zones["id"].to_numpy()[zi],
        "zone_name": zones["name"].to_numpy()[zi],
        "zone_class": classes[zi],
        "kind": v.kind[sel].astype(str),
        "overlap_m2": ov,
        "overlap_ha": ov / HA_M2,
        "overlap_mu": ov / MU_M2,
        "pct_of_park": np.where(pa > 0, 100.0 * ov / np.where(pa > 0, pa, 1.0), 0.0),
        "min_distance_m": pairs.dist[sel],
        "in_buffer_m2": pairs.in_buffer[sel],
        "banned_hit": v.banned_hit[sel].astype(str),
        "review": v.review[sel],
        "reason": v.reason[sel].astype(str),
    }, geometry=gpd.GeoSeries(geom, crs=area_crs).to_crs(4326).values, crs=4326)
    order = {"overlap": 0, "restricted": 1, "buffer": 2}
    return conflicts.assign(_k=conflicts["kind"].map(order)).sort_values(
        ["_k", "overlap_m2", "min_distance_m", "park_id", "zone_id"],
        ascending=[True, False, True, True, True], kind="mergesort",
    ).drop(columns="_k").reset_index(drop=True)


def _nearest_zones(pairs: _Pairs, zones, pg: np.ndarray, zg: np.ndarray,
                   within_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Each park's nearest zone id and distance (m): the zone of largest overlap for
    touching parks, else one nearest query within ``within_m`` ("", NaN beyond)."""
    nearest_id = np.full(len(pg), "", dtype=object)
    nearest_m = np.full(len(pg), np.nan)
    if not len(zg) or within_m <= 0:
        return nearest_id, nearest_m
    pi, zi, overlap = pairs.pi, pairs.zi, pairs.overlap
    touching = np.unique(pi[overlap > 0])
    nearest_m[touching] = 0.0
    best = pd.DataFrame({"p": pi, "z": zi, "a": overlap})
    best = best[best.a > 0].sort_values(["p", "a"], ascending=[True, False]) \
        .drop_duplicates("p")
    nearest_id[best.p.to_numpy()] = zones["id"].to_numpy()[best.z.to_numpy()]
    rest = np.setdiff1d(np.arange(len(pg)), touching)
    if len(rest):
        np_, nz, nd = _nearest_boundary(pg[rest], zg, within_m)
        nearest_id[rest[np_]] = zones["id"].to_numpy()[nz]
        nearest_m[rest[np_]] = nd
    return nearest_id, nearest_m


def _park_table(pairs: _Pairs, conflicts: gpd.GeoDataFrame, parks, zones, pg: np.ndarray,
                zg: np.ndarray, within_m: float, allowed_by_park: pd.Series) -> pd.DataFrame:
    """One row per park: area, status (pass / review / conflict), conflict counts and
    overlap totals, the nearest zone and the restricted zones it passed."""
    park_area = shapely.area(pg)
    nearest_id, nearest_m = _nearest_zones(pairs, zones, pg, zg, within_m)
    g = conflicts.groupby("park_id", sort=False)
    ids = parks["id"].astype(str)
    nc = ids.map(g.size()).fillna(0).astype(int).to_numpy()
    nr = ids.map(g["review"].sum()).fillna(0).astype(int).to_numpy()
    status = np.where(nc == 0, "pass", np.where(nc == nr, "review", "conflict"))
    park_table = pd.DataFrame({
        "park_id": ids.to_numpy(), "park_name": parks["name"].to_numpy(),
        "area_m2": park_area, "area_ha": park_area / HA_M2, "area_mu": park_area / MU_M2,
        "status": status, "n_conflicts": nc,
        "overlap_m2_total": ids.map(g["overlap_m2"].sum()).fillna(0.0).to_numpy(),
        "nearest_zone_id": nearest_id.astype(str), "nearest_zone_m": nearest_m,
        "restricted_allowed": ids.map(allowed_by_park).fillna("").to_numpy(dtype=object),
    })
    park_table["overlap_mu_total"] = park_table["overlap_m2_total"] / MU_M2
    return park_table


def park_industries_from(parks: gpd.GeoDataFrame, field: str | None,
                         firms: gpd.GeoDataFrame | None = None,
                         firm_industry: str = "industry",
                         firm_park: str = "park_id") -> dict[str, list[str]]:
    """park id → industries, from a park field and/or the firms located in each park.

    Parameters
    ----------
    parks
        The parks layer (with ``id``; any CRS, geometry unused).
    field
        The parks' industry field (``;``/``,``/``、``-separated names or codes), or None.
    firms
        The firm register (any CRS, geometry unused), whose industries are added to
        their park's list.
    firm_industry, firm_park
        The firms' industry and park-id fields.

    Returns
    -------
    dict of str to list of str
        Industries per park id, in first-seen order without repeats; parks with no
        data are absent.

    Raises
    ------
    InputError
        ``field`` is given but not a field of ``parks``.
    """
    out: dict[str, list[str]] = {}
    if field is not None:
        if field not in parks.columns:
            raise InputError(f"parks: industry field {field!r} not found; the fields are "
                             f"{', '.join(map(str, parks.columns))} (--industry-field)")
        for pid, v in zip(parks["id"].astype(str), parks[field].to_numpy(), strict=True):
            out[pid] = split_industries(v)
    if firms is not None and firm_industry in firms.columns and firm_park in firms.columns:
        f = firms[[firm_park, firm_industry]].dropna()
        for pid, grp in f.groupby(f[firm_park].astype(str)):
            have = out.setdefault(pid, [])
            for ind in dict.fromkeys(grp[firm_industry].astype(str)):
                if ind not in have:
                    have.append(ind)
    return out

def _restricted_verdicts(parks, zones, pi, zi, park_industries, banned_field, model,
                         empty_bans) -> list[tuple[str, str, str]]:
    """(status, banned hit, reason) per (park, restricted zone) pair.

    Industry lists and ban lists are few and repeat: each distinct (industries, bans)
    combination is judged once by ``model`` and broadcast to its pairs.
    """
    bans = zones[banned_field] if banned_field in zones.columns else \
        pd.Series([None] * len(zones), index=zones.index)
    bans = bans.astype(object).where(bans.notna(), "").astype(str).str.strip()
    zone_ids = zones["id"].astype(str).to_numpy()
    empty = np.flatnonzero(bans.to_numpy() == "")
    used_empty = np.intersect1d(empty, zi)
    if len(used_empty) and empty_bans == "error":
        raise InputError(f"red lines: restricted zone(s) {', '.join(zone_ids[used_empty][:5])} "
                         f"have no {banned_field!r}: the gate cannot judge a restricted zone "
                         "without its ban list; list the banned sectors (e.g. \"chemicals;"
                         "pharmaceuticals\"), or set [redlines] empty_ban_list = \"review\"")
    park_ids = parks["id"].astype(str).to_numpy()
    pkey = np.array([";".join((park_industries or {}).get(p, ())) for p in park_ids],
                    dtype=object)
    combo = pd.DataFrame({"p": pkey[pi], "z": bans.to_numpy()[zi], "zid": zone_ids[zi]})
    judged: dict[tuple[str, str], tuple[str, str, str]] = {}
    for p, z, zid in combo.drop_duplicates(["p", "z"]).itertuples(index=False):
        judged[(p, z)] = _judge(split_industries(p), split_industries(z), zid, model)
    return [judged[(p, z)] for p, z in zip(combo["p"], combo["z"], strict=True)]


def _judge(industries: list[str], bans: list[str], zone_id: str,
           model: SectorModel) -> tuple[str, str, str]:
    """(status, banned hit, reason) for one park's industries in one restricted zone."""
    if not bans:
        return "review", "", "the zone has no ban list: review"
    if not industries:
        return "review", "", "the park has no industry data: review"
    try:
        v = model.is_banned(industries, bans)
    except ValueError as exc:
        raise InputError(f"red lines: zone {zone_id}: {exc}") from None
    hit = "; ".join(i for i, _ in v.banned)
    if v.status == "allowed":
        return "allowed", "", f"industries not banned: {', '.join(v.allowed)}"
    return v.status, hit, v.describe()


def check_study(study, *, buffer_m: float | None = None,
                industry_field: str | None = None) -> RedlineResult:
    """Run the gate on a study's parks and red lines, with its ``[redlines]`` settings.

    Park industries come from the park layer's industry field (``[redlines]
    industry_field`` or the layer's ``industry`` option) and from the firms layer,
    if the study has one with ``park_id`` and ``industry`` fields. The study's other
    control lines (farmland, outside the urban development boundary) are added as
    zones; areas are computed in the study's equal-area CRS.

    Parameters
    ----------
    study
        The study (parks and redlines layers, EPSG:4326 once loaded).
    buffer_m
        Buffer around ``core``/``redline`` zones, metres (default ``[redlines]
        buffer_m``).
    industry_field
        The parks' industry field, overriding the study's.

    Returns
    -------
    RedlineResult
        Conflicts (geometries EPSG:4326; areas in m² and 亩) and one status per park.

    Raises
    ------
    InputError
        No parks or redlines layer, a missing industry field, unknown zone classes, a
        negative buffer, or a restricted zone without a ban list when
        ``empty_ban_list = "error"``.
    LayerError
        A layer lies outside where the study says it is (wrong CRS, swapped axes).
    """
    cfg = study.config.redlines
    parks = study.load_role("parks")
    zones = study.load_role("redlines")
    if parks is None or zones is None:
        raise InputError(f"{study.path}: the red-line gate needs a parks layer and a redlines "
                         "layer (role = \"parks\" / \"redlines\")")
    for layer in (parks, zones):
        check_layer_extent(layer, study.bounds, china=bool(in_china(*study.boundary.centroid.xy)))
    pspec = study.by_role("parks")[0]
    zspec = study.by_role("redlines")[0]
    field_name = industry_field or cfg.industry_field or pspec.options.get("industry")
    if field_name is not None and field_name not in parks.columns:
        field_name = None if industry_field is None and cfg.industry_field is None \
            else field_name
    firms = study.load_role("firms") if cfg.use_firms else None
    inds = park_industries_from(parks, field_name, firms)
    class_field = cfg.class_field or zspec.options.get("class") or "class"
    zones = _with_control_lines(study, zones, class_field)
    return redline_conflicts(
        parks, zones,
        buffer_m=float(buffer_m if buffer_m is not None else cfg.buffer_m),
        park_industries=inds, class_field=class_field, sectors=sector_model_for(study),
        empty_bans=cfg.empty_ban_list,
        review_outside_boundary=cfg.outside_urban_boundary == "review",
        area_crs=study.area_crs)


def _with_control_lines(study, zones: gpd.GeoDataFrame, class_field: str) -> gpd.GeoDataFrame:
    """The red lines plus the study's other control lines (三区三线) as zones: permanent
    basic farmland (role ``farmland``) and the study area outside the urban development
    boundary (role ``urban_boundary``)."""
    extra = []
    if study.has_role("farmland"):
        fl = study.load_role("farmland")
        extra.append(gpd.GeoDataFrame({"id": fl["id"].astype(str), "name": fl["name"],
                                       class_field: "farmland"}, geometry=fl.geometry.values,
                                      crs=fl.crs))
    if study.has_role("urban_boundary"):
        ub = study.load_role("urban_boundary")
        outside = shapely.difference(study.boundary, shapely.union_all(ub.geometry.values))
        if not shapely.is_empty(outside):
            extra.append(gpd.GeoDataFrame(
                {"id": ["outside_urban_boundary"], "name": ["城镇开发边界外 outside the urban "
                                                            "development boundary"],
                 class_field: ["outside_urban_boundary"]}, geometry=[outside], crs=4326))
    if not extra:
        return zones
    return gpd.GeoDataFrame(pd.concat([zones, *extra], ignore_index=True), crs=zones.crs)


def write_result(result: RedlineResult, path: str | os.PathLike, parks: gpd.GeoDataFrame, *,
                 overwrite: bool = True) -> None:
    """Write the gate's answer atomically.

    Parameters
    ----------
    result
        From :func:`redline_conflicts` or :func:`check_study`.
    path
        ``.csv`` for the conflict table; ``.gpkg`` for layers ``conflicts`` (the conflict
        geometries, EPSG:4326) and ``parks_status`` (every park with its status).
    parks
        The parks as read (``id`` and ``geometry``, EPSG:4326).
    overwrite
        Replace an existing file (atomically).

    Raises
    ------
    InputError
        Any other suffix.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        write_csv(result.conflicts[CONFLICT_COLUMNS], path, overwrite=overwrite)
    elif path.suffix.lower() == ".gpkg":
        status = parks[["id", "geometry"]].merge(result.parks, left_on="id", right_on="park_id")
        status = gpd.GeoDataFrame(status.drop(columns="id"), geometry="geometry", crs=parks.crs)
        layers = {"parks_status": status}
        if len(result.conflicts):
            layers = {"conflicts": result.conflicts, **layers}
        write_gpkg(layers, path, overwrite=overwrite)
    else:
        raise InputError(f"--out {path}: write .csv (the table) or .gpkg (table and geometries)")
