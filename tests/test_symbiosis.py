"""Industrial symbiosis pairs (geo/symbiosis.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from geo.errors import InputError
from geo.symbiosis import find_pairs, park_summary

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pairs30(yrd_study):
    return find_pairs(yrd_study, max_km=30)


def test_chongming_recycling_to_cathode(pairs30):
    p = pairs30[(pairs30["from_industry"] == "battery_recycling") &
                (pairs30["to_industry"] == "cathode_materials")]
    assert len(p) >= 1
    assert (p["from_park"] == "chongming").all() and (p["to_park"] == "chongming").all()
    assert p["same_park"].all()
    assert p["material"].str.contains("lithium").all()


def test_nothing_beyond_the_distance(pairs30, yrd_study):
    assert (pairs30["network_km"] <= 30 + 1e-9).all()
    # road distance is never shorter than the straight line
    assert (pairs30["network_km"] >= pairs30["crow_km"] - 1e-6).all()
    p5 = find_pairs(yrd_study, max_km=5)
    assert (p5["network_km"] <= 5 + 1e-9).all()
    key = ["from_firm_id", "to_firm_id", "material"]
    within5 = pairs30[pairs30["network_km"] <= 5][key]
    pd.testing.assert_frame_equal(within5.reset_index(drop=True),
                                  p5[key].reset_index(drop=True))
    assert len(p5) < len(pairs30)


def test_every_pair_follows_a_byproduct_rule(pairs30, yrd_study):
    from geo.register import study_chains

    bp = study_chains(yrd_study).byproducts
    rules = set(zip(bp["from_industry"], bp["to_industry"], strict=True))
    assert set(zip(pairs30["from_industry"], pairs30["to_industry"], strict=True)) <= rules
    assert (pairs30["from_firm_id"] != pairs30["to_firm_id"]).all()


def test_park_summary(pairs30):
    s = park_summary(pairs30).set_index("park_id")
    assert s.at["chongming", "n_pairs"] >= 1
    assert "lithium" in s.at["chongming", "materials"]


def test_bad_distance(yrd_study):
    with pytest.raises(InputError, match="max-km must be > 0"):
        find_pairs(yrd_study, max_km=0)


def test_cli_symbiosis(tmp_path):
    from geo.cli import main

    out = tmp_path / "sym.csv"
    r = CliRunner().invoke(main, ["symbiosis", str(ROOT / "layers" / "yrd.toml"), "--max-km",
                                  "10", "--out", str(out)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out, encoding="utf-8-sig")
    assert (df["network_km"] <= 10).all()
    assert ((df["from_industry"] == "battery_recycling") &
            (df["to_industry"] == "cathode_materials")).any()
    r = CliRunner().invoke(main, ["symbiosis", str(ROOT / "layers" / "yrd.toml"), "--max-km",
                                  "-1"])
    assert r.exit_code == 2


def test_pairs_as_lines(pairs30, yrd_study):
    from geo.symbiosis import pairs_geodataframe

    g = pairs_geodataframe(yrd_study, pairs30)
    assert len(g) == len(pairs30) and g.crs.to_epsg() == 4326
    assert (g.geom_type == "LineString").all()
