"""The study file's ``[map]`` settings (declared in :class:`geo.config.MapConfig`) as the
map reads them, and the checks of map options that need the file system.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from ..config import BASEMAPS, LANGS, MapConfig
from ..errors import InputError, OutputError
from ..io import check_writable

#: The defaults of ``[map]`` (declared once, in :class:`geo.config.MapConfig`).
DEFAULTS: dict[str, Any] = {k: v for k, v in dataclasses.asdict(MapConfig()).items()
                            if v is not None}


class MapSizeWarning(UserWarning):
    """The HTML map is larger than its size budget."""


def _settings(study, basemap, lang, tiles) -> tuple[dict, str, str, str | None]:
    """The study's ``[map]`` settings (validated on load; unset ones left out) and the
    basemap, language and tiles after the command-line choices."""
    sec = {k: v for k, v in dataclasses.asdict(study.config.map).items() if v is not None}
    basemap = basemap if basemap is not None else sec["basemap"]
    lang = lang if lang is not None else sec["lang"]
    tiles = tiles if tiles is not None else sec.get("tiles")
    if basemap not in BASEMAPS:
        raise InputError(f"basemap {basemap!r}: use one of {', '.join(BASEMAPS)}")
    if lang not in LANGS:
        raise InputError(f"lang {lang!r}: use zh or en")
    return sec, basemap, lang, tiles


def check_map_path(out_path, *, overwrite: bool = True) -> Path:
    """Check an output path for a map before any work: ``.html`` and writable.

    Parameters
    ----------
    out_path : str or pathlib.Path
        The map file to be written.
    overwrite : bool, default True
        Whether an existing file may be replaced.

    Returns
    -------
    pathlib.Path
        The checked path (nothing is created).

    Raises
    ------
    OutputError
        The name does not end in ``.html``/``.htm``, or the path is not writable
        (exists with ``overwrite`` False, bad folder).
    """
    out = Path(out_path)
    if out.suffix.lower() not in (".html", ".htm"):
        raise OutputError(f"{out}: a map is an HTML file; give a name ending in .html")
    return check_writable(out, overwrite=overwrite)


def check_options(study, *, basemap: str | None = None, lang: str | None = None,
                  tiles: str | None = None, tianditu_key: str | None = None) -> None:
    """Raise :class:`InputError` for map options that cannot work, before any analysis.

    Parameters
    ----------
    study : geo.study.Study
        The study whose ``[map]`` table gives the defaults.
    basemap : str, optional
        ``none``, ``osm``, ``amap`` or ``tianditu``; default from ``[map]``.
    lang : str, optional
        ``zh`` or ``en``; default from ``[map]``.
    tiles : str, optional
        A local tile folder or a URL template with ``{z}/{x}/{y}``.
    tianditu_key : str, optional
        Tianditu key (else env ``TIANDITU_KEY``).

    Raises
    ------
    InputError
        An unknown basemap or language, ``tianditu`` without a key or tiles, or
        ``tiles`` that is neither a folder nor a URL template.
    """
    _, basemap, lang, tiles = _settings(study, basemap, lang, tiles)
    if basemap == "tianditu" and not tiles and not (tianditu_key or
                                                    os.environ.get("TIANDITU_KEY")):
        raise InputError("basemap tianditu needs a key: pass --tianditu-key KEY (or set "
                         "TIANDITU_KEY); get one at https://console.tianditu.gov.cn")
    if tiles and "{z}" not in str(tiles) and not Path(str(tiles)).expanduser().is_dir():
        raise InputError(f"--tiles {tiles}: neither a tile folder nor a URL template with "
                         "{z}/{x}/{y}; e.g. --tiles maps/tiles or "
                         "--tiles http://intranet/tiles/{z}/{x}/{y}.png")
