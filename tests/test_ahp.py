"""AHP weights and consistency (geo.ahp)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.ahp import RANDOM_INDEX, ahp_weights, check_consistency, pairwise_matrix
from geo.errors import ModelError

# Saaty, T. L. (1990). How to make a decision: the analytic hierarchy process. European
# Journal of Operational Research 48, 9–26: "relative visual brightness" of four chairs
# placed at 9, 15, 21 and 28 yards from a light. The paper reports the eigenvector
# (0.61, 0.24, 0.10, 0.05) against the inverse-square law (0.61, 0.22, 0.11, 0.06),
# λmax = 4.39 and a consistency ratio of about 0.14.
CHAIRS = [[1, 5, 6, 7], [1 / 5, 1, 4, 6], [1 / 6, 1 / 4, 1, 4], [1 / 7, 1 / 6, 1 / 4, 1]]


def test_saaty_chairs_published_weights_and_lambda():
    res = ahp_weights(CHAIRS, ["c1", "c2", "c3", "c4"])
    assert res.weights == pytest.approx([0.61, 0.24, 0.10, 0.05], abs=0.01)
    assert res.lambda_max == pytest.approx(4.39, abs=0.005)
    assert res.ci == pytest.approx((res.lambda_max - 4) / 3)
    assert res.cr == pytest.approx(res.ci / RANDOM_INDEX[4])
    assert res.cr == pytest.approx(0.14, abs=0.01)
    assert not res.consistent


def test_saaty_chairs_is_an_error_naming_the_pair():
    res = ahp_weights(CHAIRS, ["bright", "mid", "dim", "dark"])
    with pytest.raises(ModelError, match=r"CR = 0\.14\d.*most inconsistent pair is \w+ vs \w+"):
        check_consistency(res)
    check_consistency(res, allow_inconsistent=True)  # explicitly allowed: no error


def test_consistent_matrix_recovers_weights_exactly():
    w = np.array([0.5, 0.25, 0.15, 0.1])
    a = w[:, None] / w[None, :]
    res = ahp_weights(a)
    assert res.weights == pytest.approx(w, abs=1e-9)
    assert res.lambda_max == pytest.approx(4.0, abs=1e-9)
    assert res.cr == pytest.approx(0.0, abs=1e-9)
    check_consistency(res)


def test_the_flipped_judgement_is_the_one_named():
    w = np.array([0.4, 0.3, 0.2, 0.1])
    a = w[:, None] / w[None, :]
    a[0, 3], a[3, 0] = 1 / 4, 4  # the reviewer wrote the reverse of 4
    res = ahp_weights(a, ["highway", "rail", "port", "slope"])
    assert res.worst_pair == ("highway", "slope")
    with pytest.raises(ModelError, match="highway vs slope: stated 0.25"):
        check_consistency(res)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.05, 10.0), min_size=3, max_size=9))
def test_any_consistent_matrix_has_cr_zero(raw):
    w = np.array(raw) / np.sum(raw)
    res = ahp_weights(w[:, None] / w[None, :])
    assert res.weights == pytest.approx(w, rel=1e-6)
    assert res.cr < 1e-9


def test_pairwise_matrix_reads_fractions_and_fills_reciprocals():
    a = pairwise_matrix([[1, 3, "1/2"], [0, 1, "1/5"], [0, 0, 1]], ["a", "b", "c"])
    assert a[1, 0] == pytest.approx(1 / 3)
    assert a[2, 0] == pytest.approx(2)
    assert a[2, 1] == pytest.approx(5)


@pytest.mark.parametrize("rows, message", [
    ([[1, 3], [1 / 3, 1]], "must be 3 rows of 3"),
    ([[1, 3, 2], [3, 1, 1], [0.5, 1, 1]], "must be reciprocal"),
    ([[1, "x", 2], [0, 1, 1], [0, 0, 1]], "'x' is not a judgement"),
    ([[1, -3, 2], [0, 1, 1], [0, 0, 1]], "must be positive"),
    ([[2, 3, 2], [0, 1, 1], [0, 0, 1]], "diagonal must be 1"),
])
def test_bad_matrices(rows, message):
    with pytest.raises(ModelError, match=message):
        pairwise_matrix(rows, ["a", "b", "c"])


@pytest.mark.parametrize("bad", [10, 12.5, "1/10", "1/20", 0.1])
def test_judgements_outside_saatys_scale_are_refused(bad):
    rows = [[1, bad, 3], [0, 1, 2], [0, 0, 1]]
    with pytest.raises(ModelError, match=r"outside Saaty's scale 1/9 … 9.*use (9|1/9)"):
        pairwise_matrix(rows, ["road", "rail", "port"])


@pytest.mark.parametrize("edge", [9, "9", "1/9", 1 / 9])
def test_scale_ends_are_accepted(edge):
    a = pairwise_matrix([[1, edge], [0, 1]], ["road", "rail"])
    assert a[0, 1] * a[1, 0] == pytest.approx(1.0)
