"""Units planners use. Areas are computed in m² and converted only for reporting."""

from __future__ import annotations

#: One mu (亩) in square metres: 1 亩 = 10000/15 m² ≈ 666.67 m² (domain notes).
MU_M2: float = 10_000.0 / 15.0
#: One hectare in square metres.
HA_M2: float = 10_000.0
#: One square kilometre in square metres.
KM2_M2: float = 1_000_000.0


def m2_to_mu(area_m2):
    """Square metres → 亩 (works on scalars and numpy arrays).

    Parameters
    ----------
    area_m2
        Area in m² (float, array or Series), computed in a metric or equal-area CRS.

    Returns
    -------
    float or numpy.ndarray
        Area in 亩 (1 亩 = 666.67 m²), same shape as ``area_m2``.
    """
    return area_m2 / MU_M2


def m2_to_ha(area_m2):
    """Square metres → hectares (works on scalars and numpy arrays).

    Parameters
    ----------
    area_m2
        Area in m² (float, array or Series).

    Returns
    -------
    float or numpy.ndarray
        Area in ha (1 ha = 10 000 m²), same shape as ``area_m2``.
    """
    return area_m2 / HA_M2

