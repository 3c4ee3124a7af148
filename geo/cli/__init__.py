"""The ``parksite`` command line. One module per command; each parses its options,
calls one library function and writes the result.

Exit codes: 0 ok, 1 findings (e.g. red-line conflicts), 2 bad input, 3 internal error.
"""

from __future__ import annotations

import click

from .. import __version__
from ._common import state


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="parksite")
@click.option("-v", "--verbose", count=True, help="More detail; -v also shows tracebacks.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors and results.")
def main(verbose: int, quiet: bool) -> None:
    """parksite: where industrial parks and firms should go.

    \b
    Red-line gate, road-network sourcing radius, site suitability and offline maps
    for the Yangtze River Delta and any study declared in a study file (layers/*.toml).

    \b
    Start with:  parksite run layers/yrd.toml
    Exit codes:  0 ok · 1 findings (e.g. red-line conflicts) · 2 bad input · 3 internal error

    \f
    Parameters
    ----------
    verbose : int
        Count of -v (more detail; tracebacks on errors).
    quiet : bool
        Only errors and results.
    """
    state.verbose = verbose
    state.quiet = quiet


# the command modules import this package's main only through click's registration
# below; each defines ``command`` and imports its library modules when it runs
from . import (  # noqa: E402
    check,
    init,
    layout,
    network,
    od,
    parks,
    reach,
    recommend,
    redlines,
    run,
    sourcing,
    suitability,
    symbiosis,
)
from . import map as map_  # noqa: E402

#: The command modules, in the order ``--help`` lists them.
COMMANDS = (init, run, check, redlines, map_, od, reach, sourcing, suitability, parks,
            recommend, layout, symbiosis, network)
for _mod in COMMANDS:
    main.add_command(_mod.command)
