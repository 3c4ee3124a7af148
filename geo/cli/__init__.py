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


#: Command modules, in the order ``--help`` lists them. Each defines ``command``.
COMMANDS = ("init", "run", "check", "redlines", "map", "od", "reach", "sourcing",
            "suitability", "parks", "recommend", "layout", "symbiosis", "network")


def _register() -> None:
    import importlib

    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # not part of this build
            raise
        main.add_command(mod.command)


_register()
