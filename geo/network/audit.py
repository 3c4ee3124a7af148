"""Network audit: probable missing links (bridges, tunnels, ferries a network lacks).

Formulation
-----------
Let ``s(a, b)`` be the straight-line distance between graph nodes ``a`` and ``b`` and
``d(a, b)`` their shortest network distance (metric ``length``, metres). A pair is a
*probable missing link* when

* ``s(a, b) ≤ radius_m`` (close in a straight line), and
* ``d(a, b) ≥ min_detour · s(a, b)`` (the detour ratio), and
* ``d(a, b) − s(a, b) ≥ min_gap_m`` (the absolute gap),

``d = inf`` (no route: another connected component) included. The thresholds are the
study's ``[network]`` settings ``audit_radius_m``, ``audit_min_detour`` and
``audit_min_gap_m`` (defaults 25 km, 3, 20 km).

Search
------
1. Sources: one node per ``audit_sample_m`` square (the node nearest the square's
   centre) of the projected node coordinates (the network's metric CRS, a CGCS2000
   Gauss-Krüger zone for a study); targets: every node.
2. Candidate pairs: ``cKDTree.sparse_distance_matrix`` between sources and all nodes
   within ``radius_m``.
3. ``scipy.sparse.csgraph.dijkstra`` (on the network's reduced graph) from the sources
   in chunks, with ``limit = max(min_detour · radius_m, radius_m + min_gap_m)``: a
   target beyond the limit already meets both thresholds. Each source keeps its worst
   pair with a route (largest gap) and its nearest target without one.
4. De-duplication: two findings are *neighbours* (they describe the same gap) when
   their end pairs, either orientation, are within ``audit_cluster_m`` in 4-D
   ``(a_x, a_y, b_x, b_y)`` (so each end lies within ``cluster_m`` of the other's):
   ``cKDTree.query_pairs``. A finding is kept when no neighbour has a larger gap (exact network
   distances, an unlimited Dijkstra from the sources with a finding), so kept findings
   are never neighbours; ``pairs`` counts the findings each one stands for. Pairs
   without a route are kept one per pair of connected components they would join
   (the shortest straight line).
5. Kept findings get their geodesic straight distance (WGS84 ellipsoid) and the
   thresholds are applied again to those figures. Ranked by gap (no route first).
6. The straight segment is intersected (WGS84 lon/lat; segments of ≤ ``radius_m`` differ
   from the projected straight line by metres) with the study's water layers; their
   ``name`` fields are listed, ``"none"`` if no water is crossed.

No Python loop runs over nodes, pairs or findings; only over source chunks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ..crs import WGS84
from ..errors import InputError, NetworkError
from ..io import write_csv, write_gpkg
from ._geo import geodesic_m, transformer
from ._settings import (
    AUDIT_CLUSTER_M,
    AUDIT_MIN_DETOUR,
    AUDIT_MIN_GAP_M,
    AUDIT_RADIUS_M,
    AUDIT_SAMPLE_M,
    network_settings,
)
from .build import _read_connectors
from .core import Network

if TYPE_CHECKING:  # pragma: no cover
    from ..study import Study

#: Columns of :attr:`AuditResult.findings` (besides ``geometry``).
FINDING_COLUMNS = ["rank", "gap_km", "straight_km", "network_km", "detour", "route",
                   "water", "near_connector", "a_lon", "a_lat", "b_lon", "b_lat", "pairs",
                   "node_a", "node_b"]
#: Nodes × sources held in memory at once by the screening Dijkstra (float64 cells).
_CHUNK_CELLS = 8_000_000


@dataclass(frozen=True)
class AuditSettings:
    """Thresholds of the network audit (metres; ``min_detour`` is a ratio > 1).

    Attributes
    ----------
    radius_m
        Compare node pairs at most this far apart in a straight line.
    min_detour
        Report pairs whose network distance is at least this many times the straight
        line ...
    min_gap_m
        ... and at least this much longer.
    sample_m
        Sources: one node per square of this side.
    cluster_m
        Findings whose two ends lie within this of another finding's ends are one gap.
    """

    radius_m: float = AUDIT_RADIUS_M
    min_detour: float = AUDIT_MIN_DETOUR
    min_gap_m: float = AUDIT_MIN_GAP_M
    sample_m: float = AUDIT_SAMPLE_M
    cluster_m: float = AUDIT_CLUSTER_M

    def __post_init__(self) -> None:
        bad = [f"{k} = {getattr(self, k)!r}" for k in ("radius_m", "min_gap_m", "sample_m",
                                                       "cluster_m")
               if not (np.isfinite(getattr(self, k)) and getattr(self, k) > 0)]
        if not (np.isfinite(self.min_detour) and self.min_detour > 1):
            bad.append(f"min_detour = {self.min_detour!r}")
        if bad:
            raise NetworkError(f"network audit: {', '.join(bad)}: distances must be finite "
                               "and > 0 m, min_detour > 1 (a ratio)")

    @classmethod
    def from_study(cls, study: Study) -> AuditSettings:
        """The ``[network] audit_*`` settings of a study (defaults filled in).

        Parameters
        ----------
        study
            The study.

        Returns
        -------
        AuditSettings
            ``radius_m``, ``min_gap_m``, ``sample_m``, ``cluster_m`` in metres and
            ``min_detour`` (a ratio).

        Raises
        ------
        NetworkError
            A setting is not finite and > 0 m, or ``min_detour`` is not > 1.
        """
        sec = network_settings(study)
        return cls(radius_m=sec["audit_radius_m"], min_detour=sec["audit_min_detour"],
                   min_gap_m=sec["audit_min_gap_m"], sample_m=sec["audit_sample_m"],
                   cluster_m=sec["audit_cluster_m"])

    @property
    def limit_m(self) -> float:
        """Search limit: a target beyond it meets both thresholds for any pair."""
        return max(self.min_detour * self.radius_m, self.radius_m + self.min_gap_m)

    def text(self) -> str:
        """The thresholds in one line, for reports and the map.

        Returns
        -------
        str
            With the defaults ``"straight ≤ 25 km, network ≥ 3 × straight and ≥ straight
            + 20 km"``.
        """
        return (f"straight ≤ {self.radius_m / 1000:g} km, network ≥ {self.min_detour:g} × "
                f"straight and ≥ straight + {self.min_gap_m / 1000:g} km")


@dataclass
class AuditResult:
    """What :func:`audit_network` found.

    Attributes
    ----------
    findings
        One row per probable missing link, ranked (WGS84 LineStrings between the two
        nodes; columns :data:`FINDING_COLUMNS`; km figures, ``detour`` a ratio,
        ``route`` ``"longer"`` or ``"no route"``).
    settings
        The thresholds used.
    source
        What network was audited.
    with_connectors
        Whether the study's hand-added connectors were in the network.
    connectors
        Per hand-added connector (audit of a study with connectors): its two ends'
        straight, before (without connectors) and after network distances in km and a
        ``status``: ``"closed"`` (its ends met the thresholds before and no remaining
        finding has an end within ``cluster_m`` of each of its ends), ``"gap remains
        (finding N)"``, or ``"shortened"`` / ``"no effect"`` (below the thresholds
        before); None otherwise.
    stats
        Counts: nodes, sources, candidate pairs, pairs over the thresholds, clusters.
    """

    findings: gpd.GeoDataFrame
    settings: AuditSettings
    source: str
    with_connectors: bool = True
    connectors: pd.DataFrame | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.findings)


def _sources(xy: np.ndarray, sample_m: float) -> np.ndarray:
    """One node per ``sample_m`` square: the node nearest the square's centre."""
    key = np.floor(xy / sample_m)
    off = np.hypot(*(xy - (key + 0.5) * sample_m).T)
    order = np.lexsort((off, key[:, 1], key[:, 0]))
    k = key[order]
    first = np.ones(len(k), dtype=bool)
    first[1:] = (k[1:] != k[:-1]).any(axis=1)
    return np.sort(order[first])


def _screen(net: Network, src: np.ndarray,
            st: AuditSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Each source's worst pair over the thresholds: (source nodes, target nodes,
    network metres — exact up to the limit, ``inf`` beyond —, number of candidate
    pairs, number of pairs over the thresholds)."""
    pairs = cKDTree(net.node_xy[src]).sparse_distance_matrix(
        net._tree, st.radius_m, output_type="coo_matrix").tocsr()
    red = net.reduced("length")
    chunk = max(1, _CHUNK_CELLS // max(net.n_nodes, 1))
    found: list[tuple[np.ndarray, ...]] = []
    n_pairs = 0
    for lo in range(0, len(src), chunk):  # chunks of sources, not pairs
        block = pairs[lo:lo + chunk].tocoo()
        i, j, s = block.row, block.col, block.data
        n_pairs += len(i)
        d = red.dijkstra(src[lo:lo + chunk], limit=st.limit_m)[i, j]
        hit = (d >= st.min_detour * s) & (d - s >= st.min_gap_m) & (src[lo + i] != j)
        found.append((lo + i[hit], j[hit], s[hit], d[hit]))
    si, tj, s, d = (np.concatenate(c) for c in zip(*found, strict=True))
    o = _worst(si, s, d)
    return src[si[o]], tj[o], d[o], n_pairs, int(len(si))


def _worst(group: np.ndarray, s: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Indices of the worst pair per group and kind: of pairs with a route the largest
    gap ``d − s``; of pairs without (``d = inf``) the shortest straight line ``s``."""
    none = ~np.isfinite(d)
    with np.errstate(invalid="ignore"):
        key = np.where(none, s, -(d - s))
    order = np.lexsort((key, none, group))
    first = np.ones(len(order), dtype=bool)
    first[1:] = (group[order][1:] != group[order][:-1]) | \
        (none[order][1:] != none[order][:-1])
    return order[first]


def _dominant(a: np.ndarray, b: np.ndarray, gap: np.ndarray,
              cluster_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Findings no neighbour beats, and how many findings each one stands for.

    Two findings are neighbours when their ends (either orientation) are within
    ``cluster_m`` in 4-D ``(a_x, a_y, b_x, b_y)`` (projected metres). A finding is kept
    when no neighbour has a larger gap (ties: the lower index), so kept findings are
    never neighbours; each finding counts for the kept neighbours that beat it (or for
    itself).

    Returns
    -------
    keep : ndarray of bool
    pairs : ndarray of int
        Per finding, 1 + the number of neighbours it beats (meaningful where kept).
    """
    n = len(a)
    pts = np.vstack([np.hstack([a, b]), np.hstack([b, a])])
    pp = np.unique(np.sort(cKDTree(pts).query_pairs(cluster_m, output_type="ndarray") % n,
                           axis=1), axis=0)
    pp = pp[pp[:, 0] != pp[:, 1]]
    i, j = pp[:, 0], pp[:, 1]
    j_wins = (gap[j] > gap[i]) | ((gap[j] == gap[i]) & (j < i))
    loser = np.where(j_wins, i, j)
    keep = np.ones(n, dtype=bool)
    keep[loser] = False
    pairs = 1 + np.bincount(np.where(j_wins, j, i), minlength=n)
    return keep, pairs


def _dedup(net: Network, a: np.ndarray, b: np.ndarray, d: np.ndarray,
           cluster_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the findings kept and the number of screened pairs each stands for:
    pairs with a route by :func:`_dominant`; pairs without one (``d = inf``) one per
    pair of connected components they would join (the shortest straight line)."""
    s = np.hypot(*(net.node_xy[a] - net.node_xy[b]).T)
    route = np.flatnonzero(np.isfinite(d))
    keep, pairs = _dominant(net.node_xy[a[route]], net.node_xy[b[route]],
                            d[route] - s[route], cluster_m)
    none = np.flatnonzero(~np.isfinite(d))
    ca, cb = net.component[a[none]], net.component[b[none]]
    pair = np.minimum(ca, cb).astype(np.int64) * net.n_nodes + np.maximum(ca, cb)
    lab = np.unique(pair, return_inverse=True)[1].ravel()
    k = _worst(lab, s[none], d[none])
    idx = np.concatenate([route[keep], none[k]])
    return idx, np.concatenate([pairs[keep], np.bincount(lab)[lab[k]]]).astype(np.int64)


def _exact(net: Network, s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Network distance (metres, no limit) from nodes ``s`` to ``t`` pairwise."""
    out = np.zeros(len(s))
    if len(s) == 0:
        return out
    us, inv = np.unique(s, return_inverse=True)
    inv = inv.ravel()
    red = net.reduced("length")
    chunk = max(1, _CHUNK_CELLS // max(net.n_nodes, 1))
    for lo in range(0, len(us), chunk):  # chunks of sources, not pairs
        sel = (inv >= lo) & (inv < lo + chunk)
        out[sel] = red.dijkstra(us[lo:lo + chunk])[inv[sel] - lo, t[sel]]
    return out


def water_crossed(lines: np.ndarray, water: list[tuple[str, gpd.GeoDataFrame]]) -> np.ndarray:
    """The water features each line crosses, as text.

    Parameters
    ----------
    lines
        Shapely lines (WGS84 lon/lat).
    water
        ``(layer label, layer)`` pairs; each layer in WGS84 with a ``name`` column (as
        :func:`geo.layers.read_layer` returns it).

    Returns
    -------
    ndarray of str
        Per line ``"name (layer label); …"`` of every water feature it intersects, or
        ``"none"``.
    """
    out = np.full(len(lines), "none", dtype=object)
    if not water or len(lines) == 0:
        return out
    frames = [pd.DataFrame({"geometry": np.asarray(g.to_crs(WGS84).geometry.values),
                            "text": g["name"].fillna("").astype(str).str.strip()
                            .replace("", "unnamed") + f" ({label})"})
              for label, g in water if len(g)]
    if not frames:
        return out
    w = pd.concat(frames, ignore_index=True)
    li, wi = shapely.STRtree(w["geometry"].to_numpy()).query(lines, predicate="intersects")
    if len(li):
        hit = pd.DataFrame({"line": li, "text": w["text"].to_numpy()[wi]}).drop_duplicates()
        joined = hit.groupby("line", sort=True)["text"].agg("; ".join)
        out[joined.index.to_numpy()] = joined.to_numpy()
    return out


def _near(lines_m: np.ndarray, conn_m: np.ndarray, names: np.ndarray,
          dist_m: float) -> np.ndarray:
    """Per line, the names of connector lines within ``dist_m`` (projected), or ``""``."""
    out = np.full(len(lines_m), "", dtype=object)
    if len(conn_m) == 0 or len(lines_m) == 0:
        return out
    li, ci = shapely.STRtree(conn_m).query(lines_m, predicate="dwithin", distance=dist_m)
    if len(li):
        hit = pd.DataFrame({"line": li, "name": names[ci]}).drop_duplicates()
        joined = hit.groupby("line", sort=True)["name"].agg("; ".join)
        out[joined.index.to_numpy()] = joined.to_numpy()
    return out


def _empty_findings() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in FINDING_COLUMNS}, geometry=[], crs=WGS84)


def _findings(net: Network, a: np.ndarray, b: np.ndarray, d: np.ndarray, pairs: np.ndarray,
              st: AuditSettings, water: list[tuple[str, gpd.GeoDataFrame]],
              connectors: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The kept pairs (exact network distances ``d``, metres; ``pairs`` screened pairs
    per cluster) as a ranked GeoDataFrame; thresholds re-checked on geodesic figures."""
    la, lb = net.node_lonlat[a], net.node_lonlat[b]
    s = geodesic_m(la[:, 0], la[:, 1], lb[:, 0], lb[:, 1])
    ok = (d >= st.min_detour * s) & (d - s >= st.min_gap_m)
    a, b, d, s, la, lb, pairs = a[ok], b[ok], d[ok], s[ok], la[ok], lb[ok], pairs[ok]
    if len(a) == 0:
        return _empty_findings()
    lines = shapely.linestrings(np.stack([la, lb], axis=1))
    near = np.full(len(a), "", dtype=object)
    if connectors is not None and len(connectors):
        to_m = transformer(WGS84, net.crs)
        lines_m = shapely.linestrings(np.stack([net.node_xy[a], net.node_xy[b]], axis=1))
        cg = shapely.transform(np.asarray(connectors.to_crs(WGS84).geometry.values),
                               lambda c: np.column_stack(to_m.transform(c[:, 0], c[:, 1])))
        names = connectors["name_zh"].astype(str).to_numpy() if "name_zh" in connectors \
            else np.array([f"connector {i}" for i in range(len(connectors))])
        near = _near(lines_m, cg, names, st.cluster_m)
    with np.errstate(divide="ignore", invalid="ignore"):
        detour = np.where(s > 0, d / s, np.inf)
    g = gpd.GeoDataFrame({
        "gap_km": (d - s) / 1000.0, "straight_km": s / 1000.0, "network_km": d / 1000.0,
        "detour": detour, "route": np.where(np.isfinite(d), "longer", "no route"),
        "water": water_crossed(lines, water), "near_connector": near,
        "a_lon": la[:, 0], "a_lat": la[:, 1], "b_lon": lb[:, 0], "b_lat": lb[:, 1],
        "pairs": pairs, "node_a": a, "node_b": b}, geometry=lines, crs=WGS84)
    g = g.sort_values(["gap_km", "straight_km"], ascending=[False, True], kind="stable")
    g.insert(0, "rank", np.arange(1, len(g) + 1))
    return g.reset_index(drop=True)


def audit_network(net: Network, *, settings: AuditSettings | None = None,
                  water: list[tuple[str, gpd.GeoDataFrame]] | None = None,
                  connectors: gpd.GeoDataFrame | None = None,
                  with_connectors: bool = True) -> AuditResult:
    """Find probable missing links of a road network (see the module doc for the
    formulation).

    Parameters
    ----------
    net
        The network; node coordinates are compared in its metric CRS (``net.crs``,
        metres), network distances are its ``length`` metric (geodesic metres).
    settings
        Thresholds (default :class:`AuditSettings` ()).
    water
        ``(layer label, layer)`` pairs (WGS84, with a ``name`` column) to name the
        water body each finding's straight segment crosses.
    connectors
        Hand-added links (any CRS, optional ``name_zh``): findings within
        ``cluster_m`` of one name it in ``near_connector``.
    with_connectors
        Recorded in the result: whether ``net`` includes the connectors.

    Returns
    -------
    AuditResult
        Findings ranked by gap (km), with WGS84 end coordinates and the water crossed.

    Raises
    ------
    NetworkError
        Invalid settings.
    """
    st = settings or AuditSettings()
    src = _sources(net.node_xy, st.sample_m)
    a, b, d, n_pairs, n_hit = _screen(net, src, st)
    stats = {"nodes": net.n_nodes, "sources": int(len(src)), "candidate_pairs": n_pairs,
             "pairs_over_thresholds": n_hit, "clusters": 0}
    if len(a):
        far = ~np.isfinite(d)  # beyond the search limit: a long route or none
        d[far] = _exact(net, a[far], b[far])
        k, pairs = _dedup(net, a, b, d, st.cluster_m)
        stats["clusters"] = int(len(k))
        f = _findings(net, a[k], b[k], d[k], pairs, st, water or [], connectors)
    else:
        f = _empty_findings()
    return AuditResult(findings=f[FINDING_COLUMNS + ["geometry"]], settings=st,
                       source=net.source, with_connectors=with_connectors, stats=stats)


def _water_layers(study: Study) -> list[tuple[str, gpd.GeoDataFrame]]:
    return [(str(s.options.get("label_en") or s.key), study.load(s.key))
            for s in study.by_role("water")]


def _connector_effect(conn: gpd.GeoDataFrame, before: Network, after: Network,
                      findings: gpd.GeoDataFrame, st: AuditSettings) -> pd.DataFrame:
    """Each connector's end-to-end distances without and with the connectors (km) and
    its status: ``closed`` (its ends met the thresholds before, and no remaining
    finding has an end within ``cluster_m`` of each of its ends), ``gap remains``, or
    ``shortened`` / ``no effect`` (below the thresholds before)."""
    c = conn.to_crs(WGS84).explode(index_parts=False, ignore_index=True)
    g = np.asarray(c.geometry.values)
    ends = np.vstack([shapely.get_coordinates(shapely.get_point(g, 0)),
                      shapely.get_coordinates(shapely.get_point(g, -1))])
    xy = np.column_stack(transformer(WGS84, after.crs).transform(ends[:, 0], ends[:, 1]))
    _, node = after._tree.query(xy)  # the same nodes in both networks
    na, nb = node[:len(c)], node[len(c):]
    # a remaining finding with one end within cluster_m of each connector end leaves the
    # connector's gap open (the neighbour test of _dominant)
    xa, xb = after.node_xy[na], after.node_xy[nb]
    fa = after.node_xy[findings["node_a"].to_numpy(int)]
    fb = after.node_xy[findings["node_b"].to_numpy(int)]

    def close(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        return np.hypot(*(p[:, None, :] - q[None, :, :]).transpose(2, 0, 1)) <= st.cluster_m

    same = (close(xa, fa) & close(xb, fb)) | (close(xa, fb) & close(xb, fa))
    ranks = findings["rank"].astype(str).to_numpy()
    left = np.array(["; ".join(ranks[row]) for row in same], dtype=object) if len(c) else \
        np.zeros(0, dtype=object)  # one string per connector (a handful)
    s = geodesic_m(ends[:len(c), 0], ends[:len(c), 1], ends[len(c):, 0], ends[len(c):, 1])
    d0, d1 = _exact(before, na, nb), _exact(after, na, nb)
    was_gap = (d0 >= st.min_detour * s) & (d0 - s >= st.min_gap_m)
    status = np.where(left != "", "gap remains (finding " + left.astype(str) + ")",
                      np.where(was_gap, "closed",
                               np.where(d1 < d0 - 1.0, "shortened (below the thresholds "
                                        "before)", "no effect (below the thresholds before)")))
    return pd.DataFrame({
        "name_zh": c.get("name_zh", pd.Series([""] * len(c))).astype(str).to_numpy(),
        "name_en": c.get("name_en", pd.Series([""] * len(c))).astype(str).to_numpy(),
        "straight_km": s / 1000.0, "before_km": d0 / 1000.0, "after_km": d1 / 1000.0,
        "status": status})


def audit_study(study: Study, *, with_connectors: bool = True,
                settings: AuditSettings | None = None) -> AuditResult:
    """Audit a study's road network (``[network]`` settings, water layers, connectors).

    Parameters
    ----------
    study
        A loaded study; its roads layer, ``[network]`` settings (``audit_*``
        thresholds, metres) and layers with role ``water`` (named in the findings).
    with_connectors
        False: audit the network without the ``[network] connectors`` layer (as it was
        before the hand-added links); findings near a connector name it.
    settings
        Override the study's thresholds.

    Returns
    -------
    AuditResult
        With ``connectors`` (a study with connectors and ``with_connectors``): each
        connector's end-to-end network distance before/after (km) and whether a
        finding remains near it.

    Raises
    ------
    NetworkError
        The study has no roads layer, or its connectors cannot be joined.
    """
    st = settings or AuditSettings.from_study(study)
    sec = network_settings(study)
    net = Network.from_study(study, connectors=with_connectors)
    conn = _read_connectors(study, sec["connectors"]) if sec["connectors"] else None
    res = audit_network(net, settings=st, water=_water_layers(study), connectors=conn,
                        with_connectors=with_connectors or conn is None)
    if conn is not None and with_connectors:
        before = Network.from_study(study, connectors=False)
        res.connectors = _connector_effect(conn, before, net, res.findings, st)
    return res


def write_audit(res: AuditResult, path: str | Path, *, overwrite: bool = True) -> Path:
    """Write the findings (and the connectors table, if any) as a GeoPackage or CSV.

    Parameters
    ----------
    res
        An audit result.
    path
        ``.gpkg`` (layers ``findings``, WGS84 lines, and ``connectors``, a table) or
        ``.csv`` (the findings without geometry; coordinates in ``a_lon`` … ``b_lat``).
    overwrite
        Replace an existing file (written under a temporary name, then renamed).

    Returns
    -------
    Path

    Raises
    ------
    InputError
        Another suffix.
    OutputError
        The file exists and ``overwrite`` is False, or cannot be written.
    """
    p = Path(path)
    if p.suffix.lower() == ".csv":
        return write_csv(res.findings.drop(columns="geometry"), p, overwrite=overwrite)
    if p.suffix.lower() != ".gpkg":
        raise InputError(f"{p}: write the network audit's findings as .gpkg or .csv")
    layers: dict[str, Any] = {"findings": res.findings}
    if res.connectors is not None:
        layers["connectors"] = res.connectors
    return write_gpkg(layers, p, overwrite=overwrite)
