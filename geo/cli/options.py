"""Options and arguments shared by ``parksite`` commands (after rasterio's ``rio/options.py``).

Declare a shared option here once and decorate commands with it, so that its name, help,
type and checks cannot drift between commands.
"""

from __future__ import annotations

import stat
from pathlib import Path

import click


def _regular_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Refuse a study path that exists but is not a regular file (a FIFO or device would
    block the read forever); a missing file is left to the study loader's message."""
    del ctx, param
    if value is not None and value.exists() and not stat.S_ISREG(value.stat().st_mode):
        raise click.BadParameter(f"{value} is not a regular file (a pipe, socket or device); "
                                 "give the path of a study file such as layers/yrd.toml",
                                 param_hint="'STUDY'")
    return value


#: The study file argument of every study command (``layers/*.toml``).
study_arg = click.argument("study", type=click.Path(dir_okay=False, path_type=Path),
                           callback=_regular_file)


def is_remote_url(text: str | None) -> bool:
    """True for a tile source fetched over the network (``http://``, ``https://``, ``//``)."""
    if not text:
        return False
    s = str(text).strip().lower()
    return s.startswith(("http://", "https://", "//"))


def check_offline_tiles(offline: bool, tiles: str | None) -> None:
    """Refuse ``--offline`` (the default) with a ``--tiles`` URL on the web: the promise of
    an offline map is that it makes no network request, and remote tiles are one."""
    if offline and is_remote_url(tiles):
        raise click.BadParameter(
            f"{tiles} is fetched over the network, but --offline (the default) promises a map "
            "that makes no network request; give a local tile folder (--tiles maps/tiles) "
            "or pass --online to load remote tiles",
            param_hint="'--tiles'")
