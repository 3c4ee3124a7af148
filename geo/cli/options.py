"""Options and arguments shared by ``parksite`` commands (after rasterio's ``rio/options.py``).

Declare a shared option here once and decorate commands with it, so that its name, help,
type and checks cannot drift between commands.
"""

from __future__ import annotations

import functools
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

from ..errors import InputError, OutputError
from ..io import check_writable, refuse_overwriting_input
from ..webmap import check_options
from ._common import Prints


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
    """True for a tile source fetched over the network (``http://``, ``https://``, ``//``).

    Parameters
    ----------
    text : str or None
        A ``--tiles`` value or ``[map] tiles`` (a folder or a URL template).

    Returns
    -------
    bool
        True when it starts with ``http://``, ``https://`` or ``//`` (case and
        surrounding space ignored); False for None or empty.
    """
    if not text:
        return False
    s = str(text).strip().lower()
    return s.startswith(("http://", "https://", "//"))


def check_offline_tiles(offline: bool, tiles: str | None) -> None:
    """Refuse ``--offline`` (the default) with a ``--tiles`` URL on the web: the promise of
    an offline map is that it makes no network request, and remote tiles are one.

    Parameters
    ----------
    offline : bool
        The ``--offline/--online`` flag.
    tiles : str or None
        The ``--tiles`` value.

    Raises
    ------
    click.BadParameter
        ``offline`` with a remote ``tiles`` URL (a usage error, exit 2).
    """
    if offline and is_remote_url(tiles):
        raise click.BadParameter(
            f"{tiles} is fetched over the network, but --offline (the default) promises a map "
            "that makes no network request; give a local tile folder (--tiles maps/tiles) "
            "or pass --online to load remote tiles",
            param_hint="'--tiles'")


class _Bound(click.FloatRange):
    """A ``click.FloatRange`` whose error also says the rule in words ("must be > 0")."""

    name = "number"

    def __init__(self, *, min_open: bool) -> None:
        super().__init__(min=0, min_open=min_open)
        self.rule = "> 0" if min_open else "≥ 0"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            if "not in the range" not in exc.message:
                raise
            self.fail(f"{exc.message.rstrip('.')}: it must be {self.rule}", param, ctx)


#: A number that must be > 0 (a radius, a size, a time limit); click reports 0 or less
#: as a usage error (exit 2) naming the option and the allowed range.
POSITIVE = _Bound(min_open=True)
#: A number that must be ≥ 0 (a width, a limit where 0 means none).
NON_NEGATIVE = _Bound(min_open=False)


@dataclass(frozen=True)
class MapOptions:
    """How a command draws its HTML map, from the shared map options.

    Attributes
    ----------
    offline
        Inline every asset so the file makes no network request.
    basemap
        {"none", "osm", "amap", "tianditu"}, or None for the study's ``[map] basemap``.
    lang
        {"zh", "en"}, or None for the study's ``[map] lang``.
    tiles
        A local tile folder or a URL template with ``{z}/{x}/{y}``, or None.
    tianditu_key
        Tianditu key for ``basemap = "tianditu"``.
    """
    offline: bool = True
    basemap: str | None = None
    lang: str | None = None
    tiles: str | None = None
    tianditu_key: str | None = None

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`geo.webmap.write_map` and its siblings.

        Returns
        -------
        dict of str to Any
            ``offline``, ``basemap``, ``lang``, ``tiles`` and ``tianditu_key``.
        """
        return asdict(self)

    def check(self, study: Any) -> None:
        """Refuse, before any analysis, options that cannot work with ``study``: those of
        :func:`geo.webmap.check_options`, and ``--offline`` with remote tiles declared in
        the study's ``[map] tiles`` (``--tiles`` itself is refused while parsing).

        Parameters
        ----------
        study : geo.study.Study
            The loaded study (its ``[map]`` table gives the defaults).

        Raises
        ------
        geo.errors.InputError
            With the option or study key to change.
        """

        check_options(study, **{k: v for k, v in asdict(self).items() if k != "offline"})
        if self.offline and self.tiles is None:
            tiles = study.config.map.tiles
            if is_remote_url(tiles):
                raise InputError(f"{study.path}: [map] tiles = {tiles!r} is fetched over the "
                                 "network, but --offline (the default) promises a map that "
                                 "makes no network request; pass --online, or --tiles FOLDER "
                                 "with local tiles")


_MAP_OPTIONS = [
    click.option("--offline/--online", default=True, show_default=True,
                 help="Inline Leaflet and every other asset so the map opens on a PC with no "
                      "internet (--online links them from a CDN instead)."),
    click.option("--basemap", type=click.Choice(["none", "osm", "amap", "tianditu"]),
                 default=None,
                 help="Background [default: the study's [map] basemap, else none]. none = "
                      "vector basemap drawn from the study's boundaries, water and roads; amap "
                      "shifts every overlay to GCJ-02 for display; tianditu needs "
                      "--tianditu-key."),
    click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
                 help="Language of labels, legends and popups [default: the study's [map] "
                      "lang, else zh]."),
    click.option("--tiles", metavar="FOLDER|TEMPLATE",
                 help="Local tiles instead of a web basemap: a folder holding {z}/{x}/{y}.png, "
                      "or (with --online) a URL template such as "
                      "http://gis.intranet/tiles/{z}/{x}/{y}.png."),
    click.option("--tianditu-key", metavar="KEY", envvar="TIANDITU_KEY",
                 help="Tianditu (天地图) key for --basemap tianditu [env: TIANDITU_KEY]."),
]


def map_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the shared map options to a command; it receives them as one ``map_opts``
    (:class:`MapOptions`), already checked (``--offline`` with a remote ``--tiles`` URL
    is a usage error, exit 2).

    Parameters
    ----------
    func : callable
        A click command function taking a ``map_opts`` keyword.

    Returns
    -------
    callable
        The function with ``--offline/--online``, ``--basemap``, ``--lang``,
        ``--tiles`` and ``--tianditu-key`` added.
    """
    @functools.wraps(func)
    def wrapper(*args: Any, offline: bool, basemap: str | None, lang: str | None,
                tiles: str | None, tianditu_key: str | None, **kwargs: Any) -> Any:
        check_offline_tiles(offline, tiles)
        opts = MapOptions(offline=offline, basemap=basemap, lang=lang, tiles=tiles,
                          tianditu_key=tianditu_key)
        return func(*args, map_opts=opts, **kwargs)

    for option in reversed(_MAP_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def print_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--pdf FILE`` and ``--png FILE`` (the map's A4 landscape print layout rendered
    in headless Chromium); the command receives them as one ``prints`` dict.

    Parameters
    ----------
    func : callable
        A click command function taking a ``prints`` keyword.

    Returns
    -------
    callable
        The function with ``--pdf`` and ``--png`` added; ``prints`` maps ``"pdf"`` and
        ``"png"`` to a path or ``None``.
    """
    @functools.wraps(func)
    def wrapper(*args: Any, pdf_path: Path | None, png_path: Path | None, **kwargs: Any) -> Any:
        return func(*args, prints={"pdf": pdf_path, "png": png_path}, **kwargs)

    wrapper = click.option(
        "--png", "png_path", type=click.Path(dir_okay=False, path_type=Path),
        help="Also render the print layout as a 1062×726 px PNG (the A4 page box at 96 "
             "dpi; headless Chromium).")(wrapper)
    return click.option(
        "--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path),
        help="Also render the A4 landscape print layout to this PDF (headless "
             "Chromium).")(wrapper)


def check_print_paths(prints: Prints, study: Any, *,
                      overwrite: bool = True) -> None:
    """Refuse a ``--pdf``/``--png`` path that is an input, has the wrong suffix or cannot
    be written — before any work.

    Parameters
    ----------
    prints : dict
        ``{"pdf": path or None, "png": path or None}`` (from :func:`print_options`).
    study : geo.study.Study
        The loaded study (its inputs are never overwritten).
    overwrite : bool, optional
        Whether an existing file may be replaced.

    Raises
    ------
    OutputError
        A path with the wrong suffix, over an input, or not writable.
    """
    for kind, path in prints.items():
        if path is None:
            continue
        refuse_outputs_over_inputs([path], study=study)
        if path.suffix.lower() != f".{kind}":
            raise OutputError(f"{path}: --{kind} writes a .{kind} file; give a name ending "
                              f"in .{kind}")
        check_writable(path, overwrite=overwrite)


#: Files ``parksite suitability`` writes into --out (see geo.suitability.run).
SUITABILITY_FILES = ("suitability.tif", "exclusion.tif", "stability.tif", "candidates.gpkg",
                     "model_card.json")
#: Files ``parksite sourcing`` writes into a folder --out (see geo.sourcing.write_sourcing).
SOURCING_FILES = ("sourcing.csv", "sourcing_parks.csv", "sourcing_gaps.csv",
                  "sourcing_chains.csv", "sourcing.gpkg")
#: Files ``parksite run`` writes into --out-dir (glob patterns, see geo.pipeline).
RUN_FILES = ("redline_conflicts.gpkg", "redline_conflicts.csv", *SOURCING_FILES, "parks.csv",
             "parks_industries.csv", "symbiosis.csv",
             *(f"suitability/{n}" for n in SUITABILITY_FILES), "recommend_*.csv", "layout.gpkg")
#: Files that belong to a Shapefile (read with it, so inputs too).
_SIDECARS = (".dbf", ".shx", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def _with_sidecars(p: Path) -> list[Path]:
    if p.suffix.lower() != ".shp":
        return [p]
    return [p] + [p.with_suffix(s) for s in _SIDECARS + tuple(x.upper() for x in _SIDECARS)
                  if p.with_suffix(s).exists()]


def _named_files(value: Any, root: Path) -> list[Path]:
    """Existing files named by the strings in a study table (chain maps, I-O tables,
    supplier lists, candidates), relative to the study folder or absolute."""
    if isinstance(value, dict):
        return [p for v in value.values() for p in _named_files(v, root)]
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in _named_files(v, root)]
    if not isinstance(value, str) or not value.strip() or "\n" in value or len(value) > 400:
        return []
    p = Path(value).expanduser()
    p = p if p.is_absolute() else root / p
    try:
        if p.is_dir():  # a folder of chain maps: its files are inputs
            return [q for q in sorted(p.iterdir())[:2000] if q.is_file()]
        return [p] if p.is_file() else []
    except (OSError, ValueError):  # unreadable, or not a path at all (a NUL in a note)
        return []


def inputs_of(study: Any = None, files: Any = ()) -> list[Path]:
    """Every file a command reads.

    Parameters
    ----------
    study
        A loaded :class:`geo.study.Study`, or None: its file, its layers (with their
        Shapefile sidecars) and the existing files its sections name (chain maps, I-O
        tables, supplier lists, incoming firms; folders of chain maps give their files).
    files
        Command-line inputs; names that are not existing files (layer keys) are ignored.

    Returns
    -------
    list of Path
        Each file once, as named (not resolved; the comparison resolves).
    """
    found: list[Path] = []
    if study is not None:
        found.append(Path(study.path))
        for spec in study.layers.values():
            found += _with_sidecars(Path(spec.path))
        found += _named_files(study.sections, Path(study.root))
    for f in files:
        if f is not None and Path(f).is_file():
            found += _with_sidecars(Path(f))
    return list(dict.fromkeys(found))


def refuse_outputs_over_inputs(outputs: Any = (), *, study: Any = None, files: Any = (),
                               folder: Path | None = None, names: Any = ()) -> None:
    """Refuse, before any analysis, an output that would overwrite a file the command
    reads (the study file, a layer, a chain map, a command-line input).

    Parameters
    ----------
    outputs
        Output files the command will write (None entries are skipped).
    study
        The loaded study (:class:`geo.study.Study`), if the command has one.
    files
        Command-line input files (or layer keys, ignored).
    folder, names
        An output folder and the glob patterns of the files written into it.

    Raises
    ------
    geo.errors.OutputError
        Naming the output, the input and the fix (exit 2).
    """
    inputs = inputs_of(study, files)
    for o in outputs:
        if o is not None:
            refuse_overwriting_input(o, inputs)
    if folder is not None:
        refuse_overwriting_input(folder, inputs, names=names)


def check_out_file(path: Path | None, suffixes: tuple[str, ...], refusal: str, *,
                   overwrite: bool) -> None:
    """Refuse, before any work, an ``--out`` file of a format the command does not write
    or that cannot be written.

    Parameters
    ----------
    path
        The ``--out`` file; None (no output asked for) passes.
    suffixes
        The lower-case suffixes the command writes, e.g. ``(".csv", ".gpkg")``.
    refusal
        What the message says after ``--out PATH:`` when the suffix is another, e.g.
        ``"the ranking is written as .csv"``.
    overwrite
        Whether an existing file may be replaced (``--overwrite/--no-overwrite``).

    Raises
    ------
    geo.errors.InputError
        The suffix of ``path`` is not one of ``suffixes`` (exit 2).
    geo.errors.OutputError
        ``path`` cannot be written (see :func:`geo.io.check_writable`).
    """
    if path is None:
        return
    if path.suffix.lower() not in suffixes:
        raise InputError(f"--out {path}: {refusal}")
    check_writable(path, overwrite=overwrite)


def layers_outside(study) -> list[Path]:
    """Layer files of ``study`` outside its project folder.

    The project folder is the one holding the study file's folder (``layers/..``), as
    the suitability model card counts it. Reading such files is allowed;
    ``parksite check`` and the model card of the map (``parksite map`` and ``run``) list
    them, so that a study handed on without them is not a surprise.

    Parameters
    ----------
    study
        A loaded :class:`geo.study.Study`.

    Returns
    -------
    list of Path
        Each file once, resolved, in layer order; empty when every layer is inside.
    """
    base = study.root.resolve().parent
    files = dict.fromkeys(Path(v.path).resolve() for v in study.layers.values())
    return [p for p in files if not p.is_relative_to(base)]


def outside_card(study: Any) -> dict[str, list[str]]:
    """The model-card entry of the map listing the layer files outside the study's
    project folder (:func:`layers_outside`); empty when there are none.

    Parameters
    ----------
    study
        A loaded :class:`geo.study.Study`.

    Returns
    -------
    dict of str to list of str
        ``{title: [paths]}``, a section of the map's model card
        (:attr:`geo.webmap.MapData.model_card`), or ``{}``.
    """
    outside = layers_outside(study)
    if not outside:
        return {}
    return {"项目文件夹外的图层 layers outside the project folder "
            f"({study.root.resolve().parent})": [str(p) for p in outside]}
