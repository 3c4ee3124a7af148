"""The ``[network]`` settings as the network code reads them.

Every key is declared once, in :class:`geo.config.NetworkConfig` (type, unit, range,
default, doc); this module names the defaults the network functions use as keyword
defaults and gives :func:`network_settings`, the one place the rest of
:mod:`geo.network` reads a study's settings.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..config import NetworkConfig
from ..study import Study

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
DEFAULT_SPEED_KMH: float = NetworkConfig.default_speed_kmh
#: Speed between a point and the road it snaps to (km/h): the last leg on local roads.
ACCESS_SPEED_KMH: float = NetworkConfig.access_speed_kmh
#: End points closer than this (metres) are the same node.
SNAP_TOLERANCE_M: float = NetworkConfig.snap_tolerance_m
#: Points farther than this (metres) from every road are off network.
MAX_SNAP_M: float = NetworkConfig.max_snap_m
#: Service areas: buffer (metres) around reached roads.
TRIM_M: float = NetworkConfig.trim_m
#: Connectors: the time penalty (minutes) of an added link without ``penalty_min``.
CONNECTOR_PENALTY_MIN = 0.0
#: Network audit thresholds (see :class:`geo.config.NetworkConfig`).
AUDIT_RADIUS_M: float = NetworkConfig.audit_radius_m
AUDIT_MIN_DETOUR: float = NetworkConfig.audit_min_detour
AUDIT_MIN_GAP_M: float = NetworkConfig.audit_min_gap_m
AUDIT_SAMPLE_M: float = NetworkConfig.audit_sample_m
AUDIT_CLUSTER_M: float = NetworkConfig.audit_cluster_m


def network_settings(study: Study) -> dict[str, Any]:
    """The study's ``[network]`` settings (validated on load) as keyword values.

    Parameters
    ----------
    study
        A loaded study.

    Returns
    -------
    dict
        Every field of :class:`geo.config.NetworkConfig`; numbers as floats (metres,
        km/h); ``speeds`` is None when the study overrides no class speed.
    """
    out = dataclasses.asdict(study.config.network)
    out["speeds"] = out["speeds"] or None
    return out
