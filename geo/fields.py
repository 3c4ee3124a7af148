"""Numbers as planners type them into registers: ``"1,234.5"``, full-width ``"１２３"``,
``"N/A"``, ``"不详"``.

:func:`parse_numbers` parses what is parseable (thousands separators, full-width digits
and punctuation, surrounding spaces), marks what is not as missing *and lists it*, and
refuses negatives where a quantity cannot be negative. Nothing is dropped silently:
the caller reports every unparsed row, and a negative land area or output is an input
error naming the layer, the field, the feature and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import LayerError

#: Full-width digits and punctuation (as typed with a Chinese IME) → ASCII.
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－＋　", "0123456789.,-+ ")
#: Text that means "no value" (counted as missing, listed as such, never as an error).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "none", "null", "-", "--", "—", "–",
                            "不详", "未知", "暂无", "无", "缺", "空"})


@dataclass(frozen=True)
class ParsedNumbers:
    """A numeric column parsed from a register field.

    Attributes
    ----------
    values
        float64, NaN where the field is missing or unparseable.
    missing
        Positions of values that were empty or a "no value" token (``N/A``, ``不详``…).
    unparsed
        Positions of values that could not be read as numbers (``"about 30"``).
    examples
        Up to five ``(feature, raw text)`` pairs of unparsed values, for messages.
    """

    values: np.ndarray
    missing: np.ndarray
    unparsed: np.ndarray
    examples: tuple[tuple[str, str], ...]

    def report(self, field: str, layer: str) -> str | None:
        """One line describing unparsed values, or None when all were read.

        Parameters
        ----------
        field, layer
            The register field and layer name, named in the message.

        Returns
        -------
        str or None
            A sentence naming the count, up to five ``feature: raw text`` examples and the
            fix; None when every value was a number or a "no value" token.
        """
        if not len(self.unparsed):
            return None
        shown = "; ".join(f"{fid}: {raw!r}" for fid, raw in self.examples)
        return (f"layer {layer!r}, field {field!r}: {len(self.unparsed)} value(s) are not "
                f"numbers and count as missing ({shown}); write plain numbers such as "
                f"1234.5")


def _clean(text: pd.Series) -> pd.Series:
    s = text.str.translate(_FULLWIDTH).str.strip()
    # thousands separators: "1,234,567.8" → "1234567.8" (a lone comma decimal is not
    # guessed: "3,5" stays unparsed and is reported)
    grouped = s.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
    return s.where(~grouped, s.str.replace(",", "", regex=False))


def parse_numbers(values: pd.Series, *, field: str, layer: str,
                  ids: pd.Series | None = None, allow_negative: bool = False,
                  ) -> ParsedNumbers:
    """Parse a register field into floats.

    Parameters
    ----------
    values
        The raw column (numbers, text or a mix).
    field, layer
        Named in messages.
    ids
        Feature ids aligned with ``values`` (named in messages); default the index.
    allow_negative
        Quantities such as land (亩), investment or output cannot be negative: unless
        this is True, a negative value raises.

    Returns
    -------
    ParsedNumbers

    Raises
    ------
    LayerError
        A negative value where ``allow_negative`` is False, naming the features.
    """
    ids = pd.Series(values.index.astype(str), index=values.index) if ids is None else ids
    raw = values.astype(object)
    isnum = raw.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool))
    out = pd.to_numeric(raw.where(isnum), errors="coerce").astype(float)
    text = raw[~isnum & raw.notna()].astype(str)
    out.loc[text.index] = pd.to_numeric(_clean(text), errors="coerce").astype(float)
    is_missing = raw.isna() | (~isnum & raw.astype(str).str.strip().str.lower()
                               .isin(MISSING_TOKENS))
    out = out.to_numpy(float, copy=True)
    unreadable = ~np.isfinite(out) & ~is_missing.to_numpy()
    out[~np.isfinite(out)] = np.nan
    if not allow_negative and (neg := np.flatnonzero(out < 0)).size:
        shown = ", ".join(f"{ids.iloc[i]} ({out[i]:g})" for i in neg[:5])
        raise LayerError(f"layer {layer!r}, field {field!r}: {neg.size} negative value(s) "
                         f"({shown}); a {field} cannot be negative: correct the register "
                         "or leave the value empty (counted as missing)")
    bad = np.flatnonzero(unreadable)
    examples = tuple((str(ids.iloc[i]), str(raw.iloc[i])) for i in bad[:5])
    return ParsedNumbers(out, np.flatnonzero(is_missing.to_numpy()), bad, examples)
