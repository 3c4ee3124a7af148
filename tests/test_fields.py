"""Numbers as typed into registers (geo.fields)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.errors import LayerError
from geo.fields import parse_numbers


def _parse(values, **kw):
    s = pd.Series(values, index=[f"F{i}" for i in range(len(values))])
    return parse_numbers(s, field="annual_output_myuan", layer="firms", **kw)


def test_thousands_separators_and_fullwidth_digits_are_read():
    p = _parse(["1,234.5", "１２３４", "１，２３４．５", " 42 ", 7, 3.5, "12,345,678"])
    assert p.values.tolist() == [1234.5, 1234.0, 1234.5, 42.0, 7.0, 3.5, 12345678.0]
    assert p.report("annual_output_myuan", "firms") is None


def test_missing_tokens_are_missing_not_errors():
    p = _parse(["N/A", "不详", "", None, np.nan, "—", "5"])
    assert np.isnan(p.values[:6]).all() and p.values[6] == 5
    assert p.missing.tolist() == [0, 1, 2, 3, 4, 5]
    assert p.unparsed.size == 0


def test_unparseable_text_is_listed_by_feature():
    p = _parse(["about 30", "3,5", "12"])
    assert np.isnan(p.values[:2]).all() and p.values[2] == 12
    msg = p.report("annual_output_myuan", "firms")
    assert "2 value(s) are not numbers" in msg and "F0: 'about 30'" in msg and "F1: '3,5'" in msg


def test_negative_quantities_are_refused_naming_the_feature():
    with pytest.raises(LayerError, match=r"field 'annual_output_myuan': 1 negative.*F1 \(-6\.6\)"):
        _parse(["3", "-6.6"])
    assert _parse(["-6.6"], allow_negative=True).values[0] == -6.6


def test_infinities_count_as_unreadable():
    p = _parse([np.inf, "inf", "1e400"])
    assert np.isnan(p.values).all()
