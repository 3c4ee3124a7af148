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
