"""What every ``parksite`` command shares: verbosity, error handling, the console.

Exit codes: 0 ok, 1 findings (e.g. red-line conflicts), 2 bad input, 3 internal error,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM; turned into an exception so that
staging folders and temporary files are removed).
A :class:`~geo.errors.ParksiteError` becomes a one-line message (several lines for
a study file with several problems); any other exception is a bug, reported in one
line with its traceback only under ``-v``.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, cast

import click
from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..errors import ParksiteError
from ..io import write_csv
from ..webmap import render_print

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

# Tables are wide (Chinese and English names side by side): when the output is not a
# terminal (a file, a pipe, a log), print them 140 columns wide instead of rich's 80.
_WIDTH = None if sys.stdout.isatty() else 140
console = Console(stderr=True, highlight=False, soft_wrap=True,
                  width=None if sys.stderr.isatty() else 140)
out = Console(highlight=False, soft_wrap=True, width=_WIDTH)


class State:
    verbose: int = 0
    quiet: bool = False


state = State()


class Terminated(BaseException):
    """SIGTERM, raised as an exception so that ``finally`` blocks and the atomic writers
    clean up (a killed process would leave temporary files and staging folders)."""


def _raise_terminated(signum, frame):  # noqa: ARG001
    raise Terminated(signum)


@contextlib.contextmanager
def _sigterm_as_exception():
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _show_warning(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
    if not state.quiet:
        console.print(f"[yellow]warning:[/] {escape(str(message))}", markup=True, highlight=False)


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command body: warnings as one line each, errors as messages, exit codes.

    Parameters
    ----------
    func : callable
        The command body; returns an exit code (None or 0 = ok).

    Returns
    -------
    callable
        A wrapper that always ends with :func:`sys.exit`: the body's code, 2 for a
        :class:`~geo.errors.ParksiteError` (one-line message), 130 on Ctrl-C, 128 +
        SIGTERM when terminated, 3 for any other exception (a bug).
    """
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        old = warnings.showwarning
        warnings.showwarning = _show_warning
        try:
            with _sigterm_as_exception(), warnings.catch_warnings():
                warnings.simplefilter("default")
                # Libraries' own chatter is not the user's business.
                warnings.filterwarnings("ignore", category=DeprecationWarning)
                warnings.filterwarnings("ignore", category=FutureWarning)
                warnings.filterwarnings("ignore", module="pyogrio")
                code = func(*args, **kwargs)
        except ParksiteError as exc:
            console.print(f"[bold red]parksite: error:[/] {escape(str(exc))}", markup=True,
                          highlight=False)
            if state.verbose:
                console.print(traceback.format_exc(), markup=False)
            sys.exit(EXIT_BAD_INPUT)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            console.print("[bold red]parksite: interrupted[/] (Ctrl-C); no output was written "
                          "half-way", markup=True)
            sys.exit(130)
        except Terminated:
            console.print("[bold red]parksite: terminated[/] (SIGTERM); no output was written "
                          "half-way", markup=True)
            sys.exit(128 + signal.SIGTERM)
        except Exception as exc:  # a bug: say so plainly
            console.print(f"[bold red]parksite: internal error:[/] {type(exc).__name__}: "
                          f"{escape(str(exc))}. "
                          "This is a bug in parksite; run again with -v for the traceback "
                          "and report it.", markup=True, highlight=False)
            if state.verbose:
                console.print(traceback.format_exc(), markup=False)
            sys.exit(EXIT_INTERNAL)
        finally:
            warnings.showwarning = old
        sys.exit(code or EXIT_OK)

    return wrapper


def esc(value: object) -> str:
    """A data string or path for an f-string printed with markup: shown as text, never
    interpreted (a ``[/]`` in a park name neither crashes nor styles).

    Parameters
    ----------
    value : object
        Any value; shown as ``str(value)``.

    Returns
    -------
    str
        The text with rich markup escaped.
    """
    return escape(str(value))


def add_row(table: Table, *cells: object, **kwargs: Any) -> None:
    """Add a row of data to a rich table, every cell shown as text.

    ``Table.add_row`` parses markup in plain ``str`` cells, so a park named
    ``[bold red]x[/]`` would be styled (or ``[/]`` crash the command). Here a ``str`` (or
    any other value) becomes a plain :class:`~rich.text.Text`; pass a ``Text`` (see
    :func:`styled`) for a cell that is meant to be coloured. ``None`` stays empty.

    Parameters
    ----------
    table : rich.table.Table
        The table to add to.
    *cells : object
        One value per column.
    **kwargs : Any
        Passed to ``Table.add_row`` (e.g. ``style``).
    """
    table.add_row(*(c if c is None or isinstance(c, Text) else Text(str(c)) for c in cells),
                  **kwargs)


def add_columns(table: Table, columns: Iterable[tuple[str, str]]) -> None:
    """Add ``(header, justify)`` columns (``"left"``, ``"right"``, …) that fold long
    cells instead of cutting them.

    Parameters
    ----------
    table : rich.table.Table
        The table to add to.
    columns : iterable of (str, str)
        ``(header, justify)`` pairs, in order.
    """
    for name, justify in columns:
        table.add_column(name, justify=cast(JustifyMethod, justify), overflow="fold")


def styled(value: object, style: str) -> Text:
    """A data value shown in ``style`` (e.g. a status in green), never parsed as markup.

    Parameters
    ----------
    value : object
        Any value; shown as ``str(value)``.
    style : str
        A rich style such as ``"green"`` or ``"bold red"``.

    Returns
    -------
    rich.text.Text
        A cell for :func:`add_row`.
    """
    return Text(str(value), style=style)


overwrite_option = click.option(
    "--overwrite/--no-overwrite", default=True, show_default=True,
    help="Replace an existing output file (always written atomically).")


def notes_and_write(df, out_path, *, overwrite: bool, noun: str, synthetic_note: str) -> None:
    """The common tail of table commands: the result's notes (``df.attrs["notes"]``), a
    reminder when the firm register is synthetic, and the atomic CSV write.

    Parameters
    ----------
    df : pandas.DataFrame
        The result table; ``attrs["notes"]`` and ``attrs["synthetic_firms"]`` are read.
    out_path : str or pathlib.Path or None
        The CSV to write (UTF-8, atomically); None writes nothing.
    overwrite : bool
        Whether an existing ``out_path`` may be replaced.
    noun : str
        What a row is, for the confirmation line ("parks", "gaps", …).
    synthetic_note : str
        The reminder printed when the firm register is synthetic.

    Raises
    ------
    geo.errors.OutputError
        ``out_path`` exists and ``overwrite`` is False, or cannot be written.
    """
    for n in df.attrs.get("notes", []):
        console.print(f"note: {escape(str(n))}")
    if df.attrs.get("synthetic_firms"):
        console.print(f"[yellow]note:[/] {synthetic_note}")
    if out_path is not None:
        write_csv(df, out_path, overwrite=overwrite)
        console.print(f"[green]✓[/] {len(df)} {noun} → {escape(str(out_path))}")


#: ``--pdf``/``--png`` as a command receives them (:func:`geo.cli.options.print_options`).
Prints = dict[Literal["pdf", "png"], "Path | None"]


def render_prints(info: dict[str, Any], prints: Prints, *, overwrite: bool = True) -> None:
    """Render a written map's print layout to each ``--pdf``/``--png`` file asked for,
    with a status line while Chromium works and one line per file.

    Parameters
    ----------
    info : dict
        What :func:`geo.webmap.write_map` returned (``path``, ``offline``).
    prints : dict
        ``{"pdf": path or None, "png": path or None}``, already checked
        (:func:`geo.cli.options.check_print_paths`).
    overwrite : bool, optional
        Whether an existing file may be replaced.
    """
    for kind, path in prints.items():
        if path is None:
            continue
        with console.status(f"rendering the print layout to {kind.upper()}…"):
            render_print(info["path"], path, kind=kind, offline=info["offline"],
                         overwrite=overwrite)
        out.print(f"{esc(str(path))}  {path.stat().st_size / 1e6:.2f} MB  A4 landscape")
