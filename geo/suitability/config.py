"""The suitability model's configuration and exclusion codes.

The ``[suitability]`` section itself — transforms, criteria, constraints, AHP and the
:class:`SuitabilityConfig` — is declared in :mod:`geo.config` (one declaration per
key); this module adds the exclusion reason codes of ``exclusion.tif`` and
:func:`load_config`.
"""

from __future__ import annotations

from ..config import (
    CRITERION_KINDS,
    SLOPE_CLASSES,
    Criterion,
    LandUseRule,
    SuitabilityConfig,
    Transform,
    parse_transform,
)
from ..config._suitability import CriterionKind, TransformKind
from ..errors import ModelError

__all__ = ["CODE_FARMLAND", "CODE_LANDUSE", "CODE_NO_DATA", "CODE_OUTSIDE_STUDY",
           "CODE_OUTSIDE_URBAN", "CODE_PARKS_OCCUPIED", "CODE_REDLINE", "CODE_REDLINE_BUFFER",
           "CODE_REDLINE_CORE", "CODE_RESTRICTED", "CODE_SCORED", "CODE_STEEP", "CODE_WATER",
           "CRITERION_KINDS", "EXCLUSION_CODES", "EXCLUSION_COLOURS", "SLOPE_CLASSES",
           "Criterion", "CriterionKind", "LandUseRule", "SuitabilityConfig", "Transform",
           "TransformKind", "load_config", "parse_transform"]

# --------------------------------------------------------------------------------------
# Exclusion codes
# --------------------------------------------------------------------------------------

#: Reason codes of ``exclusion.tif``: code → (Chinese, English). 0 = scored.
EXCLUSION_CODES: dict[int, tuple[str, str]] = {
    0: ("参与评价", "scored (not excluded)"),
    1: ("研究区外", "outside the study area"),
    2: ("生态保护红线核心区", "ecological red line: core zone"),
    3: ("生态保护红线", "ecological red line"),
    4: ("限制区禁止该产业", "restricted zone that bans this industry"),
    5: ("红线缓冲区", "red-line buffer"),
    6: ("水域（海域、湖泊）", "water (sea, lakes)"),
    7: ("坡度超限", "slope above the threshold"),
    8: ("无评价数据", "no criterion has data"),
    9: ("永久基本农田", "permanent basic farmland"),
    10: ("城镇开发边界外", "outside the urban development boundary"),
    11: ("土地利用不宜建设（建成区、水域等）", "land use excluded (built-up, water, …)"),
    12: ("现有园区用地", "land of existing parks (occupied)"),
}
#: Colours (RGBA) of the codes in ``exclusion.tif``'s colour table (QGIS shows them).
EXCLUSION_COLOURS: dict[int, tuple[int, int, int, int]] = {
    0: (255, 255, 255, 0), 1: (0, 0, 0, 0), 2: (128, 0, 38, 255), 3: (215, 48, 39, 255),
    4: (244, 109, 67, 255), 5: (253, 174, 97, 255), 6: (69, 117, 180, 255),
    7: (140, 81, 10, 255), 8: (150, 150, 150, 255), 9: (255, 217, 47, 255),
    10: (190, 186, 218, 255), 11: (99, 99, 99, 255), 12: (166, 86, 40, 255),
}
#: Names of the codes of :data:`EXCLUSION_CODES`, for the code that sets them.
CODE_SCORED = 0
CODE_OUTSIDE_STUDY = 1
CODE_REDLINE_CORE = 2
CODE_REDLINE = 3
CODE_RESTRICTED = 4
CODE_REDLINE_BUFFER = 5
CODE_WATER = 6
CODE_STEEP = 7
CODE_NO_DATA = 8
CODE_FARMLAND = 9
CODE_OUTSIDE_URBAN = 10
CODE_LANDUSE = 11
CODE_PARKS_OCCUPIED = 12
_CLASS_CODE = {"core": CODE_REDLINE_CORE, "redline": CODE_REDLINE}

_BYTES_PER_CELL_FIXED = 36  # masks, codes, score, stability, labels, raw values, DEM


def load_config(study) -> SuitabilityConfig:
    """The study's ``[suitability]`` section (validated when the study was loaded).

    Parameters
    ----------
    study : geo.study.Study

    Returns
    -------
    SuitabilityConfig

    Raises
    ------
    ModelError
        The study file has no ``[suitability]`` section.
    """
    cfg = study.config.suitability
    if cfg is None:
        raise ModelError(f"{study.path}: no [suitability] section; add one with "
                         "[[suitability.criteria]] tables (see layers/yrd.toml)")
    return cfg
