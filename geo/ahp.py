"""The Analytic Hierarchy Process (AHP): weights from a pairwise-comparison matrix.

A reviewer states, for every pair of criteria, how much more important the row
criterion is than the column criterion on Saaty's 1–9 scale (1 equal, 3 moderate,
5 strong, 7 very strong, 9 extreme; reciprocals for the reverse). The weights are
the principal eigenvector of the matrix; the consistency ratio CR = CI / RI with
CI = (λmax − n) / (n − 1) and RI Saaty's random index says how far the judgements
contradict each other. Saaty's rule: CR < 0.10 is acceptable.

References
----------
Saaty, T. L. (1980). *The Analytic Hierarchy Process*. McGraw-Hill (random index).
Saaty, T. L. (1990). How to make a decision: the analytic hierarchy process.
*European Journal of Operational Research* 48, 9–26.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .errors import ModelError

#: Saaty's random consistency index RI by matrix order n (Saaty 1980, n = 1…15).
RANDOM_INDEX: dict[int, float] = {
    1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45,
    10: 1.49, 11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59,
}
#: Saaty's fundamental scale and reciprocals, for suggesting a consistent value.
SAATY_SCALE = tuple(sorted({float(v) for v in range(1, 10)} | {1.0 / v for v in range(2, 10)}))
#: The acceptable consistency ratio (Saaty).
CR_LIMIT = 0.10


@dataclass(frozen=True)
class AHPResult:
    """Weights and consistency of one pairwise-comparison matrix.

    Attributes
    ----------
    names : tuple[str, ...]
        The criteria, in matrix order.
    weights : numpy.ndarray
        Principal-eigenvector weights, summing to 1.
    lambda_max : float
        The principal eigenvalue.
    ci, cr : float
        Consistency index and ratio (``cr`` is 0 for n ≤ 2).
    worst_pair : tuple[str, str] | None
        The judgement that departs most from the weights (row, column), with
        ``worst_given`` the stated value and ``worst_implied`` = w_row / w_col.
    """

    names: tuple[str, ...]
    matrix: np.ndarray
    weights: np.ndarray
    lambda_max: float
    ci: float
    cr: float
    worst_pair: tuple[str, str] | None
    worst_given: float | None
    worst_implied: float | None

    @property
    def consistent(self) -> bool:
        return self.cr < CR_LIMIT

    def as_dict(self) -> dict:
        """The result as JSON-ready values, for the model card.

        Returns
        -------
        dict
            ``criteria``, ``matrix``, ``weights`` (criterion → weight), ``lambda_max``,
            ``ci``, ``cr`` (rounded to 6 decimals), ``random_index`` and
            ``most_inconsistent_pair`` (``[row, column]`` or None).
        """
        return {
            "criteria": list(self.names),
            "matrix": [[round(float(v), 6) for v in row] for row in self.matrix],
            "weights": {n: round(float(w), 6)
                        for n, w in zip(self.names, self.weights, strict=True)},
            "lambda_max": round(self.lambda_max, 6),
            "ci": round(self.ci, 6),
            "cr": round(self.cr, 6),
            "random_index": RANDOM_INDEX.get(len(self.names)),
            "most_inconsistent_pair": list(self.worst_pair) if self.worst_pair else None,
        }


#: Bounds of Saaty's scale: judgements run from 1/9 (extremely less) to 9 (extreme).
SAATY_MIN, SAATY_MAX = 1.0 / 9.0, 9.0


def parse_judgement(value: object, where: str = "matrix") -> float:
    """A Saaty judgement: a positive number or a fraction written as text (``"1/3"``).

    Parameters
    ----------
    value
        A number or text such as ``"1/3"`` (dimensionless).
    where
        The cell's name in messages.

    Returns
    -------
    float
        The judgement, in 1/9 … 9.

    Raises
    ------
    ModelError
        If the value is not a positive number on Saaty's scale (1/9 … 9).
    """
    if isinstance(value, bool):
        raise ModelError(f"{where}: {value!r} is not a judgement; use 1–9 or \"1/3\"")
    if isinstance(value, (int, float)):
        v = float(value)
    elif isinstance(value, str):
        try:
            v = float(Fraction(value.strip().replace(" ", "")))
        except (ValueError, ZeroDivisionError):
            raise ModelError(f"{where}: {value!r} is not a judgement; write a number 1–9 "
                             "or a fraction such as \"1/3\"") from None
    else:
        raise ModelError(f"{where}: {value!r} is not a judgement; use 1–9 or \"1/3\"")
    if not np.isfinite(v) or v <= 0:
        raise ModelError(f"{where}: {value!r} must be positive (Saaty's scale 1/9 … 9)")
    if not SAATY_MIN * (1 - 1e-9) <= v <= SAATY_MAX * (1 + 1e-9):
        raise ModelError(f"{where}: {value!r} is outside Saaty's scale 1/9 … 9; the strongest "
                         f"judgement is 9 (extreme), its reverse \"1/9\" — use "
                         f"{_fmt(_nearest_saaty(min(max(v, SAATY_MIN), SAATY_MAX)))}")
    return v


def pairwise_matrix(rows: Sequence[Sequence[object]], names: Sequence[str], *,
                    where: str = "suitability.ahp.matrix") -> np.ndarray:
    """Build and check a reciprocal matrix from a TOML list of rows.

    The lower triangle may be written out (it must then be the reciprocal of the
    upper triangle within 2 %) or left as 0 (it is filled with reciprocals).

    Parameters
    ----------
    rows
        n rows of n judgements (numbers or fractions as text), row criterion vs
        column criterion.
    names
        The n criteria, in row order.
    where
        The matrix's name in messages.

    Returns
    -------
    numpy.ndarray
        The (n, n) positive reciprocal matrix (float).

    Raises
    ------
    ModelError
        Wrong shape, a diagonal other than 1, a non-positive or non-reciprocal entry.
    """
    n = len(names)
    if not isinstance(rows, (list, tuple)) or len(rows) != n or \
            any(not isinstance(r, (list, tuple)) or len(r) != n for r in rows):
        raise ModelError(f"{where}: must be {n} rows of {n} judgements, one per criterion "
                         f"({', '.join(names)})")
    a = np.ones((n, n))
    for i in range(n):
        for j in range(n):
            v = rows[i][j]
            if i > j and (v == 0 or v == "0"):
                a[i, j] = np.nan  # filled below
                continue
            a[i, j] = parse_judgement(v, f"{where}[{i}][{j}] ({names[i]} vs {names[j]})")
    for i in range(n):
        if abs(a[i, i] - 1.0) > 1e-9:
            raise ModelError(f"{where}[{i}][{i}]: the diagonal must be 1 ({names[i]} vs itself)")
        for j in range(i + 1, n):
            if np.isnan(a[j, i]):
                a[j, i] = 1.0 / a[i, j]
            elif abs(a[i, j] * a[j, i] - 1.0) > 0.02:
                raise ModelError(
                    f"{where}: {names[i]} vs {names[j]} is {a[i, j]:g} but {names[j]} vs "
                    f"{names[i]} is {a[j, i]:g}; the matrix must be reciprocal (write "
                    f"\"1/{a[i, j]:g}\" or 0 below the diagonal)")
    return a


def _nearest_saaty(v: float) -> float:
    scale = np.array(SAATY_SCALE)
    return float(scale[np.argmin(np.abs(np.log(scale) - np.log(v)))])


def ahp_weights(matrix: np.ndarray | Sequence[Sequence[float]],
                names: Sequence[str] | None = None) -> AHPResult:
    """Principal-eigenvector weights and Saaty's consistency ratio.

    Parameters
    ----------
    matrix
        A positive reciprocal n × n matrix (n ≤ 15).
    names
        Criterion names (default ``c1 … cn``).

    Returns
    -------
    AHPResult
        ``worst_pair`` is the judgement a_ij with the largest |ln(a_ij w_j / w_i)|:
        the one to revisit first (Saaty's rule for improving consistency).

    Raises
    ------
    ModelError
        The matrix is not square with one row per name, has more than 15 criteria, or
        holds an entry that is not a positive finite number.
    """
    a = np.asarray(matrix, dtype=float)
    n = a.shape[0]
    names = tuple(names) if names is not None else tuple(f"c{i + 1}" for i in range(n))
    if a.ndim != 2 or a.shape != (n, n) or len(names) != n:
        raise ModelError(f"AHP matrix must be square with one row per criterion; got shape "
                         f"{a.shape} for {len(names)} criteria")
    if n > max(RANDOM_INDEX):
        raise ModelError(f"AHP with {n} criteria: Saaty's random index is tabulated up to "
                         f"{max(RANDOM_INDEX)}; group the criteria into a hierarchy")
    if np.any(~np.isfinite(a)) or np.any(a <= 0):
        raise ModelError("AHP matrix entries must be positive numbers (Saaty's scale 1/9 … 9)")
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    lam = float(vals[k].real)
    w = np.abs(vecs[:, k].real)
    w = w / w.sum()
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ci = max(ci, 0.0)
    ri = RANDOM_INDEX[n]
    cr = ci / ri if ri > 0 else 0.0
    worst = given = implied = None
    if n > 2:
        eps = np.abs(np.log(a * w[None, :] / w[:, None]))
        iu = np.triu_indices(n, 1)
        m = int(np.argmax(eps[iu]))
        i, j = int(iu[0][m]), int(iu[1][m])
        worst, given, implied = (names[i], names[j]), float(a[i, j]), float(w[i] / w[j])
    return AHPResult(names, a, w, lam, ci, cr, worst, given, implied)


def check_consistency(res: AHPResult, *, allow_inconsistent: bool = False,
                      where: str = "suitability.ahp") -> None:
    """Raise :class:`ModelError` if CR ≥ 0.10, naming the pair to revisit.

    Parameters
    ----------
    res
        An :func:`ahp_weights` result.
    allow_inconsistent
        Accept any CR (the model card still records it).
    where
        The matrix's name in messages.

    Raises
    ------
    ModelError
        CR ≥ :data:`CR_LIMIT`, unless ``allow_inconsistent``; the message names the
        most inconsistent pair and the value the other judgements imply.
    """
    if res.consistent or allow_inconsistent:
        return
    i, j = res.worst_pair  # type: ignore[misc]
    implied = float(res.worst_implied) if res.worst_implied is not None else float("nan")
    raise ModelError(
        f"{where}: the pairwise comparisons are inconsistent: CR = {res.cr:.3f} ≥ "
        f"{CR_LIMIT:.2f} (λmax = {res.lambda_max:.3f}, n = {len(res.names)}). The most "
        f"inconsistent pair is {i} vs {j}: stated {res.worst_given:g}, but the other "
        f"judgements imply about {res.worst_implied:.2f} "
        f"(≈ {_fmt(_nearest_saaty(implied))} on Saaty's scale). Revise that "
        "judgement, or set allow_inconsistent = true to proceed anyway (the model card "
        "records the CR).")


def _fmt(v: float) -> str:
    return f"{v:g}" if v >= 1 else f"1/{1 / v:g}"
