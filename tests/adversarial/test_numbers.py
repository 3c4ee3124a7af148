"""Hostile numbers in the firm register: typed the way registers are typed.

The bundled study is copied with a firm register whose figures are text: thousands
separators, full-width digits, "N/A", "不详", words, negatives.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from ._harness import BAD_INPUT, OK, attack

ROOT = Path(__file__).resolve().parents[2]
FIELDS = ["land_mu", "fixed_investment_myuan", "annual_output_myuan", "annual_tax_myuan"]


def study_with_firms(tmp: Path, firms: gpd.GeoDataFrame) -> tuple[Path, Path]:
    f = tmp / "firms.gpkg"
    firms.to_file(f, engine="pyogrio")
    text = (ROOT / "layers" / "yrd.toml").read_text(encoding="utf-8")
    text = text.replace('"../data/yrd/firms.gpkg"', f'"{f}"')
    text = text.replace('"../', f'"{ROOT}/')
    s = tmp / "study.toml"
    s.write_text(text, encoding="utf-8")
    return s, f


@pytest.fixture(scope="module")
def firms() -> gpd.GeoDataFrame:
    return gpd.read_file(ROOT / "data" / "yrd" / "firms.gpkg")


def parks_table(tmp: Path, firms: gpd.GeoDataFrame, expect: int):
    s, f = study_with_firms(tmp, firms)
    out = tmp / "out"
    out.mkdir()
    r = attack(["parks", s, "--out", out / "parks.csv"], inputs=[s, f], out_dir=out,
               expect=expect)
    table = pd.read_csv(out / "parks.csv", encoding="utf-8-sig") if expect == OK else None
    return r, table


def as_text(firms: gpd.GeoDataFrame, fmt) -> gpd.GeoDataFrame:
    g = firms.copy()
    for c in FIELDS:
        g[c] = g[c].map(fmt).astype(object)
    return g


@pytest.mark.slow
@pytest.mark.parametrize("fmt", [lambda v: f"{v:,.1f}",
                                 lambda v: f"{v:.1f}".translate(str.maketrans(
                                     "0123456789.", "０１２３４５６７８９．"))])
def test_figures_typed_as_text_give_the_same_grades(tmp_path, firms, fmt):
    (tmp_path / "plain").mkdir()
    (tmp_path / "typed").mkdir()
    _, plain = parks_table(tmp_path / "plain", firms, OK)
    _, typed = parks_table(tmp_path / "typed", as_text(firms, fmt), OK)
    assert typed["grade"].tolist() == plain["grade"].tolist()
    assert typed["output_myuan_per_mu"].tolist() == pytest.approx(
        plain["output_myuan_per_mu"].tolist(), nan_ok=True)


def test_unreadable_figures_are_reported_by_firm(tmp_path, firms):
    g = firms.copy()
    g["annual_output_myuan"] = g["annual_output_myuan"].astype(object)
    g.loc[0, "annual_output_myuan"] = "about 3000"
    g.loc[1, "annual_output_myuan"] = "N/A"
    g.loc[2, "annual_output_myuan"] = "不详"
    r, _ = parks_table(tmp_path, g, OK)
    assert r.says("field 'annual_output_myuan'", "1 value(s) are not numbers",
                  "F0001: 'about 3000'")
    assert "F0002" not in r.output  # N/A is a missing value, not an unreadable one


def test_negative_output_is_refused_naming_the_firm(tmp_path, firms):
    g = firms.copy()
    g.loc[3, "annual_output_myuan"] = -6.6
    r, _ = parks_table(tmp_path, g, BAD_INPUT)
    assert r.says("annual_output_myuan", "negative", "F0004 (-6.6)")


def test_negative_land_is_refused(tmp_path, firms):
    g = firms.copy()
    g.loc[4, "land_mu"] = -20.0
    r, _ = parks_table(tmp_path, g, BAD_INPUT)
    assert r.says("land_mu", "F0005 (-20)")
