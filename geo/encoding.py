"""Garbled text (mojibake) in the string fields of a layer.

A Shapefile whose ``.cpg`` names the wrong code page, a CSV read with the wrong
``encoding``, or a file whose text was decoded wrongly before it was saved, reads
without any error but with every Chinese name and industry garbled: 太湖一级保护区
becomes ``Ì«ºþÒ»¼¶±£»¤Çø`` (GBK read as Latin-1) or ``å¤ªæ¹–`` (UTF-8 read as
Windows-1252) or ``澶浜`` (UTF-8 read as GBK), and Taiwan's 鴻海精密 becomes
``翬弘盞`` (Big5 read as GBK). An industry garbled like this matches nothing, so a
red-line gate fed with it would judge nothing; names in the map would be unreadable.
:func:`find_mojibake` finds such fields by the share of their values that are garbled:
values holding the replacement character U+FFFD or C1 control characters, values that
re-encode in one code page to bytes that decode cleanly, as Chinese, in another, and
(for Big5) values whose characters are mostly rare until re-decoded.
:func:`check_text` applies it to a layer's values and field names and raises (or
warns, for a few bad rows) with the fix. :func:`detect_shapefile_encoding` names the
encoding of a Shapefile without a ``.cpg``, which GDAL would read as Latin-1.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .errors import LayerError

#: (how the bytes were wrongly decoded, how they should have been decoded).
_ROUND_TRIPS = (("latin-1", "gb18030"), ("cp1252", "gb18030"), ("latin-1", "utf-8"),
                ("cp1252", "utf-8"), ("gb18030", "utf-8"))
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_HIGH = re.compile(r"[\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
                         r"\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")
_UNLIKELY = re.compile(r"[\ufffd\u0080-\u009f]")
#: Kana, Greek, Cyrillic and private-use characters: what Big5 read as GBK is full of.
_ODD = re.compile(r"[\u0370-\u04ff\u3040-\u30ff\ue000-\uf8ff]")
#: Lead bytes of the first level (the common characters) of GB2312 and of Big5.
_GB2312_L1, _BIG5_L1 = (0xB0, 0xD7), (0xA4, 0xC6)
_NON_ASCII = r"[^\x00-\x7f]"
_NAMES = {"gb18030": "GBK (GB18030)", "utf-8": "UTF-8", "latin-1": "Latin-1",
          "cp1252": "Windows-1252", "big5": "Big5"}
#: A field is garbled when at least this share of its non-ASCII values are.
SHARE = 0.5
#: Distinct non-ASCII values looked at per field (enough to judge the share).
SAMPLE = 200


@dataclass(frozen=True)
class Mojibake:
    """A field whose text is garbled.

    Attributes
    ----------
    field
        The field (column) name.
    n_garbled, n_checked
        Garbled values among the distinct non-ASCII values looked at.
    example
        One garbled value as read.
    repaired
        The same value decoded as ``actual`` ("" when it cannot be recovered, e.g.
        replacement characters).
    read_as, actual
        The encoding the text was read with and the one it is in (e.g. ``latin-1``
        and ``gb18030``); empty when unknown.
    """

    field: str
    n_garbled: int
    n_checked: int
    example: str
    repaired: str
    read_as: str
    actual: str


def repair(text: str) -> tuple[str, str, str] | None:
    """How ``text`` was garbled, if it looks garbled.

    Parameters
    ----------
    text
        One string value of a layer.

    Returns
    -------
    tuple of (str, str, str) or None
        (the repaired text, the encoding it was read as, the encoding it is in), with
        ("", "", "") for text holding U+FFFD or C1 controls (bytes lost); None when the
        text reads as ordinary text.
    """
    for wrong, right in _ROUND_TRIPS:
        if wrong != "gb18030" and len(_LATIN_HIGH.findall(text)) < 2:
            continue  # a lone "ü" or "é" is a name, not a garbled Chinese character
        try:
            fixed = text.encode(wrong).decode(right)
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed == text or not _CJK.search(fixed) or _LATIN_HIGH.search(fixed):
            continue
        if wrong == "gb18030" and len(_CJK.findall(fixed)) < 2:
            continue  # one CJK character can be an accident of the GBK byte pairs
        return fixed, wrong, right
    if (big5 := _big5_as_gbk(text)) is not None:
        return big5, "gb18030", "big5"
    return ("", "", "") if _UNLIKELY.search(text) else None


def _common_share(text: str, enc: str, lead: tuple[int, int]) -> float:
    """Share of the Chinese characters (and stray kana, Greek, Cyrillic, private-use
    characters, which garbled Chinese is full of) that are common ones: in the first
    level of the code page ``enc``, whose lead bytes span ``lead``."""
    chars = _CJK.findall(text) + _ODD.findall(text)
    if not chars:
        return 0.0
    common = 0
    for ch in chars:
        try:
            b = ch.encode(enc)
        except UnicodeEncodeError:
            continue
        common += len(b) == 2 and lead[0] <= b[0] <= lead[1]
    return common / len(chars)


def _big5_as_gbk(text: str) -> str | None:
    """The text as Big5 (Taiwan, Hong Kong) when it reads as Big5 bytes decoded as GBK:
    rare characters and kana as read, common traditional characters once re-decoded."""
    if not _CJK.search(text) or len(_CJK.findall(text)) + len(_ODD.findall(text)) < 2:
        return None  # Russian or Greek text alone is not garbled Chinese
    try:
        fixed = text.encode("gb18030").decode("big5")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None
    if _common_share(fixed, "big5", _BIG5_L1) >= 0.9 and \
            _common_share(text, "gb2312", _GB2312_L1) <= 0.6:
        return fixed
    return None


def find_mojibake(df: pd.DataFrame, *, share: float = SHARE,
                  sample: int = SAMPLE) -> list[Mojibake]:
    """The text fields of ``df`` whose values are mostly garbled.

    Only distinct values holding non-ASCII characters are looked at (at most
    ``sample`` per field), so a large register costs one vectorised filter per field.

    Parameters
    ----------
    df
        A table or GeoDataFrame (the geometry column is ignored).
    share
        Smallest share of garbled values among the non-ASCII values of a field.
    sample
        Distinct non-ASCII values looked at per field.

    Returns
    -------
    list of Mojibake
        One per garbled field, in column order; empty when the text is clean.
    """
    found = []
    for col in df.columns:
        s = df[col]
        if s.dtype != object and not pd.api.types.is_string_dtype(s.dtype):
            continue
        try:
            mask = s.str.contains(_NON_ASCII, regex=True, na=False)
        except (AttributeError, TypeError):  # no strings in it (dates, bytes)
            continue
        texts = [t for t in s[mask].unique()[:sample] if isinstance(t, str)]
        if len(texts) == 0:
            continue
        hits = [(t, r) for t in texts if (r := repair(t)) is not None]
        if hits and len(hits) >= share * len(texts):
            text, (fixed, wrong, right) = hits[0]
            found.append(Mojibake(str(col), len(hits), len(texts), text, fixed, wrong, right))
    return found


def _cpg_text(p: Path) -> str | None:
    """What a Shapefile's .cpg says (None when it has none)."""
    for cpg in (p.with_suffix(".cpg"), p.with_suffix(".CPG")):
        if cpg.exists():
            return cpg.read_text(encoding="ascii", errors="replace").strip()
    return None


def _encoding_fix(p: Path, fmt: str, encoding: str | None, actual: str) -> str:
    """The fix for text in the wrong encoding: what to change, for this format."""
    actual = {"gb18030": "GBK", "utf-8": "UTF-8", "big5": "BIG5"}.get(actual, actual or "GBK")
    if encoding is not None:
        return (f"the layer's encoding = {encoding!r} is wrong: set encoding = "
                f"\"{actual.lower()}\" (or remove it)")
    if fmt == "Shapefile":
        cpg = _cpg_text(p)
        said = f"its .cpg says {cpg!r}" if cpg is not None else "it has no .cpg"
        return (f"the Shapefile's text is {actual} but {said}: add/repair the .cpg "
                f"({p.with_suffix('.cpg').name} holding the single word {actual}), or set "
                f"encoding = \"{actual.lower()}\" for this layer")
    if fmt == "CSV points":
        return f"set encoding = \"{actual.lower()}\" for this layer"
    return ("the text was decoded with the wrong code page before this file was saved; "
            f"re-export it from the original data as UTF-8 (the original is {actual})")


def undecodable_message(p: Path, src: str, fmt: str, encoding: str | None,
                        exc: UnicodeDecodeError) -> str:
    """The message for text that does not decode in the encoding it is read with (e.g.
    GBK bytes behind a .cpg saying UTF-8).

    Parameters
    ----------
    p
        The file (for a Shapefile, its .dbf records are tried as UTF-8 and GB18030).
    src
        How messages name the layer.
    fmt
        Its format (``"Shapefile"``, ``"CSV points"``, …).
    encoding
        The ``encoding`` declared for the layer, if any.
    exc
        The decoding error.

    Returns
    -------
    str
        The message: the byte that failed, what the text is, and the fix.
    """
    actual = ""
    head = f"{src}: its text is not {exc.encoding} (byte 0x{exc.object[exc.start]:02x} " \
        "cannot be decoded)"
    dbf = next((q for q in (p.with_suffix(".dbf"), p.with_suffix(".DBF")) if q.exists()),
               None) if fmt == "Shapefile" else None
    if dbf is not None:
        raw = dbf.read_bytes()
        body = raw[int.from_bytes(raw[8:10], "little"):] if len(raw) >= 32 else b""
        loose = body.decode("utf-8", errors="replace")
        n_bad = loose.count("\ufffd")
        if n_bad and len(_CJK.findall(loose)) >= 5 * n_bad:
            return (f"{head}: the text is UTF-8 but {n_bad} character(s) are broken (cut at "
                    "the field width by the program that wrote the file?); correct those "
                    "values in the source, or export the layer as GeoPackage (no field-width "
                    "limit)")
        for enc in ("utf-8", "gb18030"):
            try:
                body.decode(enc)
            except UnicodeDecodeError:
                continue
            actual = enc
            break
        if not actual:
            return (f"{head}: the text is neither UTF-8 nor GBK; find the encoding of the "
                    "source (e.g. Big5) and set encoding = \"...\" for this layer")
    if fmt not in ("Shapefile", "CSV points") and encoding is None:
        with contextlib.suppress(OSError):
            raw = p.read_bytes()[:4_000_000] if p.is_file() else b""
            with contextlib.suppress(UnicodeDecodeError):
                raw.decode("gb18030")
                return (f"{head}: the file is saved in GBK, but {fmt} text must be UTF-8; "
                        f"re-save it as UTF-8 (e.g. iconv -f GB18030 -t UTF-8 {p.name} > "
                        f"{p.stem}_utf8{p.suffix})")
    return f"{head}; {_encoding_fix(p, fmt, encoding, actual or 'gb18030')}"


def check_text(df: pd.DataFrame, p: Path, src: str, *, fmt: str,
               encoding: str | None = None) -> None:
    """Refuse a layer whose text fields are garbled (mojibake).

    Parameters
    ----------
    df
        The layer as read (attribute columns; the geometry is ignored).
    p
        The file it was read from (its ``.cpg`` is named in the fix).
    src
        How messages name the layer.
    fmt
        Its format (``"Shapefile"``, ``"CSV points"``, ``"GeoPackage"``, …, as in
        :data:`geo.layers.VECTOR_SUFFIXES`): the fix depends on it.
    encoding
        The ``encoding`` the layer was read with, if one was declared.

    Warns
    -----
    UserWarning
        For a field where fewer than :data:`SHARE` of the non-ASCII values are garbled
        (a few bad rows among good ones), naming one.

    Raises
    ------
    LayerError
        When at least :data:`SHARE` of a field's non-ASCII values are garbled: naming the
        file, the layer, the field, a garbled value and what it should read, and the fix
        (e.g. "add/repair the .cpg (GBK)").
    """
    table = df.drop(columns=[df.geometry.name]) if isinstance(df, gpd.GeoDataFrame) else df
    names = pd.DataFrame({"(field names)": [str(c) for c in table.columns]})
    found = find_mojibake(names, share=0.0) + find_mojibake(table, share=0.0)
    mostly = [m for m in found if m.n_garbled >= SHARE * m.n_checked]
    for m in (m for m in found if m not in mostly):
        # A few garbled values among clean ones (merged sources): said, not refused;
        # an industry garbled like this matches nothing, so the gate reports review.
        warnings.warn(f"{src}: field {m.field!r} has {m.n_garbled} garbled value(s) "
                      f"(mojibake) among {m.n_checked} non-ASCII ones, e.g. {m.example!r}, "
                      f"which {_seen(m)}; correct them in the source", UserWarning,
                      stacklevel=3)
    if not mostly:
        return
    m = mostly[0]
    fields = ", ".join(repr(f.field) for f in mostly)
    raise LayerError(
        f"{src}: garbled text (mojibake) in field(s) {fields}: {m.n_garbled} of "
        f"{m.n_checked} non-ASCII values of {m.field!r}, e.g. {m.example!r}, which "
        f"{_seen(m)}. Fix: {_encoding_fix(p, fmt, encoding, m.actual)}")


def _seen(m: Mojibake) -> str:
    """What a garbled value really reads, or that its bytes are lost."""
    if not m.repaired:
        return "holds replacement characters (bytes already lost)"
    return (f"reads {m.repaired!r} as {_NAMES.get(m.actual, m.actual)} (it was decoded as "
            f"{_NAMES.get(m.read_as, m.read_as)})")


def detect_shapefile_encoding(shp: str | os.PathLike) -> str | None:
    """The text encoding of a Shapefile's .dbf when it has no .cpg, else None.

    Chinese agencies' shapefiles are often GBK without a .cpg; GDAL would then read
    them as Latin-1 and produce mojibake. The record bytes are tried as strict UTF-8
    first, then as GB18030 (a superset of GBK and GB2312).

    Parameters
    ----------
    shp : str or os.PathLike
        The ``.shp`` file; its ``.cpg`` and ``.dbf`` siblings are looked up (either case).

    Returns
    -------
    str or None
        ``"UTF-8"`` or ``"GB18030"``; None if a .cpg exists (GDAL honours it), there is no
        .dbf, the records are plain ASCII, or neither encoding decodes them.
    """
    p = Path(shp)
    for cpg in (p.with_suffix(".cpg"), p.with_suffix(".CPG")):
        if cpg.exists():
            return None
    dbf = next((q for q in (p.with_suffix(".dbf"), p.with_suffix(".DBF")) if q.exists()), None)
    if dbf is None:
        return None
    raw = dbf.read_bytes()
    if len(raw) < 32:
        return None
    header_len = int.from_bytes(raw[8:10], "little")
    body = raw[header_len:]
    try:
        body.decode("ascii")
        return None  # plain ASCII: any encoding reads it
    except UnicodeDecodeError:
        pass
    for enc in ("utf-8", "gb18030"):
        try:
            body.decode(enc)
            return "UTF-8" if enc == "utf-8" else "GB18030"
        except UnicodeDecodeError:
            continue
    return None
