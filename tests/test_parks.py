"""Park evaluation: quotients, concentration, 亩均 grades, bundled figures, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from geo.parks import (
    NOT_GRADED,
    ParksConfig,
    evaluate_parks,
    firm_land_figures,
    grade_values,
    hhi,
    location_quotients,
)
from geo.register import sector_model_for

ROOT = Path(__file__).resolve().parent.parent


def test_location_quotients_by_hand():
    # park A: 3 x + 1 y; park B: 1 x + 3 y; region: 4 x + 4 y (x share 0.5)
    park = ["A"] * 4 + ["B"] * 4
    ind = ["x", "x", "x", "y", "x", "y", "y", "y"]
    lq = location_quotients(np.array(park), np.array(ind))
    assert lq.at["A", "x"] == pytest.approx(0.75 / 0.5)
    assert lq.at["A", "y"] == pytest.approx(0.25 / 0.5)
    assert lq.at["B", "x"] == pytest.approx(0.5)
    # a region without park B's firms: x share 3/4, y share 1/4
    lq2 = location_quotients(np.array(park), np.array(ind),
                             region_mask=np.array([True] * 4 + [False] * 4))
    assert lq2.at["A", "x"] == pytest.approx(1.0)
    assert lq2.at["B", "y"] == pytest.approx(0.75 / 0.25)


def test_hhi():
    assert hhi(np.array([1.0])) == 1.0
    assert hhi(np.array([0.5, 0.5])) == pytest.approx(0.5)
    assert hhi(np.array([0.25] * 4)) == pytest.approx(0.25)


def test_grades_by_hand():
    th = {"investment": 1.5, "output": 2.5}
    v = {"investment": np.array([2.0, 2.0, 1.0, 0.5, np.nan, 1.5]),
         "output": np.array([3.0, 1.0, 2.0, 1.0, 3.0, 2.5])}
    # both met → A; one → B; none, best ratio 0.8 → C; none, best 0.4 → D; missing →
    # not graded; exactly at the thresholds → A
    assert grade_values(v, th).tolist() == ["A", "B", "C", "D", NOT_GRADED, "A"]
    # a third criterion (tax) makes a firm with tax missing "not graded"
    v["tax"] = np.array([0.2, np.nan, 0.2, 0.2, 0.2, 0.2])
    g = grade_values(v, {**th, "tax": 0.1})
    assert g[1] == NOT_GRADED and g[0] == "A"


def test_missing_fields_are_not_graded_never_zero():
    cfg = ParksConfig()
    firms = pd.DataFrame({"land_mu": [10.0, np.nan, 0.0, 20.0],
                          "fixed_investment_myuan": [30.0, 30.0, 30.0, np.nan],
                          "annual_output_myuan": [50.0, 50.0, 50.0, 100.0]})
    f = firm_land_figures(firms, cfg)
    assert f["grade"].tolist() == ["A", NOT_GRADED, NOT_GRADED, NOT_GRADED]
    assert np.isnan(f["investment_per_mu"].iloc[3])  # not 0
    # no fields at all
    f2 = firm_land_figures(pd.DataFrame({"x": [1, 2]}), cfg)
    assert (f2["grade"] == NOT_GRADED).all()


@pytest.fixture(scope="module")
def evaluation(yrd_study):
    return evaluate_parks(yrd_study)


def test_bundled_evaluation(evaluation, yrd_study):
    e = evaluation.set_index("park_id")
    assert len(e) == 10
    assert e.at["sip", "n_firms"] == 76
    assert e.at["sip", "dominant_industry"] == "microelectronics"
    assert e.at["caojing", "dominant_industry"] == "fine_chemicals"
    assert e.at["chongming", "n_firms"] == 40
    # LQ of microelectronics in SIP from the register, by hand
    from geo.register import study_firms

    f = study_firms(yrd_study)
    reg = f[f["in_region"]]
    share_reg = (reg["industry"] == "microelectronics").mean()
    sip = f[f["park_id"] == "sip"]
    assert e.at["sip", "dominant_lq"] == pytest.approx(
        (sip["industry"] == "microelectronics").mean() / share_reg, abs=1e-3)
    # grade counts add up; missing fields are counted as not graded
    counts = e[[f"n_grade_{g}" for g in "ABCD"]].sum(axis=1) + e["n_not_graded"]
    assert (counts == e["n_firms"]).all()
    cols = ["land_mu", "fixed_investment_myuan", "annual_output_myuan"]
    assert e.at["sip", "n_not_graded"] == int(sip[cols].isna().any(axis=1).sum())
    # park 亩均 = sums over graded firms only
    g = sip[~sip[cols].isna().any(axis=1) & (sip["land_mu"] > 0)]
    assert e.at["sip", "output_myuan_per_mu"] == pytest.approx(
        g["annual_output_myuan"].sum() / g["land_mu"].sum(), abs=1e-3)
    # areas: kunshan's outline is 20 km² = 30,000 亩
    assert e.at["kunshan", "area_mu"] == pytest.approx(30_000, rel=2e-3)
    # chain completeness is a share; supply quartiles are ordered
    chain_cols = [c for c in e.columns if c.startswith("chain_") and c != "chain_lq"]
    assert {"chain_battery", "chain_electronics", "chain_wind"} <= set(chain_cols)
    assert ((e[chain_cols] >= 0) & (e[chain_cols] <= 1)).all().all()
    assert (e["supply_rate_p25"] <= e["supply_rate_median"] + 1e-12).all()
    # red-line status: SND overlaps the Taihu zone, allowed for electronics
    assert (e["redline_status"] == "pass").all()
    assert "taihu_l1" in e.at["snd", "redline_note"]


def test_park_industries_long_table(yrd_study, evaluation):
    from geo.parks import park_industries

    t = park_industries(yrd_study)
    sip = t[t["park_id"] == "sip"].set_index("industry")
    assert sip.at["microelectronics", "n_firms"] == 31
    assert sip["share"].sum() == pytest.approx(1.0, abs=1e-3)
    e = evaluation.set_index("park_id")
    assert sip.at["microelectronics", "lq"] == pytest.approx(e.at["sip", "dominant_lq"],
                                                             abs=1e-3)


def test_hhi_matches_industry_counts(evaluation):
    for r in evaluation.itertuples():
        counts = np.array([int(p.split(":")[1]) for p in r.industries.split(";")])
        assert r.hhi == pytest.approx(hhi(counts / counts.sum()), abs=1e-4)


def test_sectors_cover_chain_ids(yrd_study):
    s = sector_model_for(yrd_study)
    assert s.is_banned(["fine_chemicals"], ["chemicals"]).status == "banned"
    assert s.is_banned(["biopharma_manufacturing"], ["pharmaceuticals"]).status == "banned"
    assert s.is_banned(["cro"], ["chemicals", "pharmaceuticals"]).status == "allowed"


def test_validate_section(yrd_study):
    from geo.config import section_problems

    assert section_problems("parks", yrd_study.section("parks"), yrd_study) == []
    probs = "\n".join(section_problems("parks", {"output_per_mu": 3, "d_ratio": 2,
                                                 "recommend": {"weights": {"suply": 1}}},
                                        yrd_study))
    assert "parks.output_per_mu: unknown key" in probs
    assert "parks.d_ratio" in probs
    assert "parks.recommend.weights.suply" in probs


def test_cli_parks(tmp_path):
    from geo.cli import main

    out = tmp_path / "parks.csv"
    r = CliRunner().invoke(main, ["parks", str(ROOT / "layers" / "yrd.toml"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out, encoding="utf-8-sig")
    assert len(df) == 10 and "grade" in df.columns
    assert (tmp_path / "parks_industries.csv").exists()
    r = CliRunner().invoke(main, ["parks", str(ROOT / "layers" / "yrd.toml"), "--out",
                                  str(tmp_path / "p.txt")])
    assert r.exit_code == 2 and ".csv" in r.output


def test_study_without_firms_or_roads(tmp_path):
    """Parks and red lines only: areas and red-line status, no firm columns invented."""
    import geopandas as gpd
    import shapely

    from geo.study import load_study

    gpd.GeoDataFrame({"park_id": ["a"], "name": ["A"]},
                     geometry=[shapely.box(120.5, 31.0, 120.52, 31.02)], crs=4326
                     ).to_file(tmp_path / "p.gpkg", driver="GPKG")
    gpd.GeoDataFrame({"zone_id": ["z"], "name": ["Z"], "class": ["redline"]},
                     geometry=[shapely.box(120.51, 31.0, 120.6, 31.1)], crs=4326
                     ).to_file(tmp_path / "z.gpkg", driver="GPKG")
    (tmp_path / "s.toml").write_text(
        '[study]\nname = "t"\n[layers.parks]\npath = "p.gpkg"\nrole = "parks"\nid = "park_id"\n'
        '[layers.zones]\npath = "z.gpkg"\nrole = "redlines"\nid = "zone_id"\n',
        encoding="utf-8")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = evaluate_parks(load_study(tmp_path / "s.toml"))
    assert len(e) == 1 and e.at[0, "redline_status"] == "conflict"
    assert "n_firms" not in e.columns and "grade" not in e.columns
    # 0.02° × 0.02° at 31°N ≈ 1.91 km × 2.22 km
    assert e.at[0, "area_ha"] == pytest.approx(423, rel=0.01)


def test_missing_fields_are_named_per_firm_and_per_park():
    from geo.parks import missing_fields, missing_summary

    cfg = ParksConfig()
    firms = pd.DataFrame({"land_mu": [10.0, np.nan, 0.0, 20.0],
                          "annual_output_myuan": [50.0, 50.0, np.nan, 100.0]})
    miss = missing_fields(firms, cfg)
    assert miss.tolist() == ["fixed_investment_myuan", "land_mu;fixed_investment_myuan",
                             "land_mu;fixed_investment_myuan;annual_output_myuan",
                             "fixed_investment_myuan"]
    assert missing_summary(miss) == "fixed_investment_myuan 4, land_mu 2, annual_output_myuan 1"
    assert missing_summary(["", ""]) == ""


def _firms_study(tmp_path: Path) -> Path:
    import geopandas as gpd
    import shapely

    gpd.GeoDataFrame({"park_id": ["a"], "name": ["A"]},
                     geometry=[shapely.box(120.5, 31.0, 120.52, 31.02)], crs=4326
                     ).to_file(tmp_path / "p.gpkg", driver="GPKG")
    (tmp_path / "firms.csv").write_text(
        "firm_id,name,industry,lon,lat,land_mu\nF1,One,resins,120.51,31.01,\n"
        "F2,Two,resins,120.505,31.005,\n", encoding="utf-8")
    (tmp_path / "s.toml").write_text(
        '[study]\nname = "t"\n[layers.parks]\npath = "p.gpkg"\nrole = "parks"\nid = "park_id"\n'
        '[layers.firms]\npath = "firms.csv"\nrole = "firms"\nid = "firm_id"\ncoords = "wgs84"\n'
        '\n[parks]\n', encoding="utf-8")
    return tmp_path / "s.toml"


def test_cli_parks_names_the_missing_fields(tmp_path):
    import warnings

    from geo.cli import main
    from geo.cli.parks import parks_table
    from geo.study import load_study

    p = _firms_study(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = evaluate_parks(load_study(p))
    assert e.at[0, "grade"] == NOT_GRADED
    assert e.at[0, "not_graded_missing"] == \
        "land_mu 2, fixed_investment_myuan 2, annual_output_myuan 2"
    assert e.attrs["absent_fields"] == ["fixed_investment_myuan", "annual_output_myuan"]
    t = parks_table(e)
    col = next(c for c in t.columns if str(c.header).startswith("亩均 grade"))
    assert [str(x) for x in col._cells] == \
        ["not graded: 2 firms lack land_mu 2, fixed_investment_myuan 2, annual_output_myuan 2"]
    r = CliRunner().invoke(main, ["parks", str(p)])
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "0/0/0/0/2" not in text
    assert "the firm register has no field fixed_investment_myuan, annual_output_myuan" in text
