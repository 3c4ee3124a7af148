"""Today's ``[network]`` settings: keys, defaults, validation and reading the section.

The rest of :mod:`geo.network` reads the study's settings only through
:func:`network_settings`, so a typed configuration model can replace this module in one
place.
"""

from __future__ import annotations

import math
from typing import Any

from ..study import Study, unknown_keys

#: Default speeds (km/h) by road class: OSM ``highway`` values and the Chinese
#: technical grades of highways (公路技术等级, JTG B01). Rough free-flow speeds for
#: trucks; override them in the study file's ``[network.speeds]``.
DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "motorway": 100.0, "motorway_link": 60.0, "trunk": 80.0, "trunk_link": 50.0,
    "primary": 60.0, "primary_link": 40.0, "secondary": 50.0, "secondary_link": 35.0,
    "tertiary": 40.0, "tertiary_link": 30.0, "unclassified": 30.0, "road": 30.0,
    "residential": 25.0, "living_street": 10.0, "service": 20.0, "track": 15.0,
    "expressway": 100.0, "高速公路": 100.0, "高速": 100.0, "一级公路": 80.0, "一级": 80.0,
    "二级公路": 60.0, "二级": 60.0, "三级公路": 40.0, "三级": 40.0, "四级公路": 30.0,
    "四级": 30.0, "国道": 70.0, "省道": 60.0, "县道": 40.0, "乡道": 30.0,
}
#: Speed for lines without a class or maxspeed (km/h).
DEFAULT_SPEED_KMH = 70.0
#: Speed between a point and the road it snaps to (km/h): the last leg on local roads.
ACCESS_SPEED_KMH = 20.0
#: End points closer than this (metres) are the same node.
SNAP_TOLERANCE_M = 1.0
#: Points farther than this (metres) from every road are off network.
MAX_SNAP_M = 5000.0
#: Service areas: buffer (metres) around reached roads.
TRIM_M = 1000.0

NETWORK_KEYS = {
    "layer": "key of the roads layer to route on (default: the study's only roads layer)",
    "snap_tolerance_m": "end points closer than this join (metres, default 1)",
    "max_snap_m": "points farther than this from every road are off network (metres, "
                  "default 5000)",
    "default_speed_kmh": "speed of lines without class or maxspeed (default 70)",
    "access_speed_kmh": "speed of the leg between a point and its road (default 20)",
    "class_field": "field holding the road class",
    "maxspeed_field": "field holding the speed limit in km/h",
    "oneway_field": "field holding the one-way flag (yes/true/1, -1 = reversed)",
    "trim_m": "service areas: buffer around reached roads (metres, default 1000)",
    "speeds": "table of speeds (km/h) by road class, overriding the defaults",
    "connectors": "key of a line layer (or a file) of added links: bridges, tunnels, "
                  "ferries; fields penalty_min, kind, name_zh, name_en, source",
    "audit_radius_m": "network audit: compare node pairs closer than this in a straight "
                      "line (metres, default 25000)",
    "audit_min_detour": "network audit: report pairs whose network distance is at least "
                        "this many times the straight line (default 3)",
    "audit_min_gap_m": "network audit: ... and at least this much longer (metres, "
                       "default 20000)",
    "audit_sample_m": "network audit: one source node per square of this side (metres, "
                      "default 2000)",
    "audit_cluster_m": "network audit: findings whose two ends both lie within this of "
                       "another finding's ends describe the same gap (metres, default 15000)",
}

#: Connectors: the time penalty (minutes) of an added link without ``penalty_min``.
CONNECTOR_PENALTY_MIN = 0.0
#: Network audit: node pairs closer than this in a straight line are compared (metres).
AUDIT_RADIUS_M = 25_000.0
#: Network audit: a pair is a probable missing link if network / straight line ≥ this.
AUDIT_MIN_DETOUR = 3.0
#: Network audit: ... and network − straight line ≥ this (metres).
AUDIT_MIN_GAP_M = 20_000.0
#: Network audit: sources are one node per square of this side (metres).
AUDIT_SAMPLE_M = 2_000.0
#: Network audit: findings with both ends within this of each other's are one gap (metres).
AUDIT_CLUSTER_M = 15_000.0

DEFAULTS: dict[str, Any] = {
    "layer": None, "connectors": None, "snap_tolerance_m": SNAP_TOLERANCE_M,
    "max_snap_m": MAX_SNAP_M, "default_speed_kmh": DEFAULT_SPEED_KMH,
    "access_speed_kmh": ACCESS_SPEED_KMH, "class_field": None, "maxspeed_field": None,
    "oneway_field": None, "trim_m": TRIM_M, "speeds": None,
    "audit_radius_m": AUDIT_RADIUS_M, "audit_min_detour": AUDIT_MIN_DETOUR,
    "audit_min_gap_m": AUDIT_MIN_GAP_M, "audit_sample_m": AUDIT_SAMPLE_M,
    "audit_cluster_m": AUDIT_CLUSTER_M,
}


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate_section(table: dict, study: Study) -> list[str]:
    """Check a study file's ``[network]`` table.

    Parameters
    ----------
    table
        The raw ``[network]`` table.
    study
        The study being loaded (for its layers).

    Returns
    -------
    list of str
        Every problem found, one message each (empty if none).
    """
    problems: list[str] = []
    for k, v in table.items():
        if k not in NETWORK_KEYS:  # reported in file order with the other problems
            problems.extend(unknown_keys({k: v}, NETWORK_KEYS, "network"))
            continue
        if k in ("snap_tolerance_m",) and not (_num(v) and v >= 0):
            problems.append(f"network.{k}: must be a number ≥ 0 (metres), got {v!r}")
        elif k in ("max_snap_m", "default_speed_kmh", "access_speed_kmh", "trim_m",
                   "audit_radius_m", "audit_min_gap_m", "audit_sample_m",
                   "audit_cluster_m") and \
                not (_num(v) and v > 0):
            problems.append(f"network.{k}: must be a number > 0, got {v!r}")
        elif k in ("class_field", "maxspeed_field", "oneway_field") and \
                not (isinstance(v, str) and v):
            problems.append(f"network.{k}: must be a field name, got {v!r}")
        elif k == "audit_min_detour" and not (_num(v) and v > 1):
            problems.append(f"network.{k}: must be a number > 1 (a ratio), got {v!r}")
        elif k == "connectors" and not (isinstance(v, str) and v):
            problems.append(f"network.{k}: must be a layer key or a file path, got {v!r}")
        elif k == "layer":
            spec = study.layers.get(v) if isinstance(v, str) else None
            if spec is None:
                problems.append(f"network.layer: no layer {v!r}; roads layers: "
                                f"{', '.join(s.key for s in study.by_role('roads')) or 'none'}")
            elif spec.role != "roads":
                problems.append(f"network.layer: layer {v!r} has role {spec.role!r}; it must "
                                "have role = \"roads\"")
        elif k == "speeds":
            if not isinstance(v, dict):
                problems.append("network.speeds: must be a table, e.g. [network.speeds] "
                                "motorway = 100")
            else:
                for c, s in v.items():
                    if not (_num(s) and s > 0):
                        problems.append(f"network.speeds.{c}: must be a speed > 0 km/h, "
                                        f"got {s!r}")
    if "layer" not in table and len(study.by_role("roads")) > 1:
        problems.append("network.layer: the study has several roads layers ("
                        f"{', '.join(s.key for s in study.by_role('roads'))}); name one")
    return problems


def network_settings(study: Study) -> dict[str, Any]:
    """The study's ``[network]`` settings with today's defaults filled in.

    Parameters
    ----------
    study
        A loaded study (its ``[network]`` table was validated on load).

    Returns
    -------
    dict
        Every key of :data:`DEFAULTS`; numbers as floats (metres, km/h, minutes).
    """
    sec = study.section("network")
    out = dict(DEFAULTS)
    out.update(sec)
    for k, v in DEFAULTS.items():
        if isinstance(v, float):
            out[k] = float(out[k])
    return out
