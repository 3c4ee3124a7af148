"""Recommending a park for an incoming firm (geo/recommend.py)."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from geo.errors import ModelError
from geo.recommend import recommend

ROOT = Path(__file__).resolve().parent.parent


def test_notebook_maker_goes_to_kunshan(yrd_study):
    r = recommend(yrd_study, "notebook_assembly", top=3)
    ranked = r[r["rank"].notna()]
    assert len(ranked) == 3
    assert ranked.iloc[0]["site_id"] == "kunshan"  # the notebook cluster (LQ in the industry)
    assert ranked["score"].is_monotonic_decreasing
    top = ranked.iloc[0]
    assert "of 9 inputs within 100 km by road" in top["reason_en"]
    assert "LQ" in top["reason_en"] and "区位商" in top["reason_zh"]
    assert "公里" in top["reason_zh"]
    assert r.attrs["industry_en"] == "Notebook assembly"
    # a final assembler has no buyers in the maps: customers drop out, with a note
    assert any("customers left out" in n for n in r.attrs["notes"])


def test_names_resolve_and_unknown_industry(yrd_study):
    a = recommend(yrd_study, "Cathode materials", top=2)
    assert a.attrs["industry"] == "cathode_materials"
    assert a["reason_en"].str.contains("downstream buyer").all()
    with pytest.raises(ModelError, match="did you mean 'cathode_materials'"):
        recommend(yrd_study, "cathode_material")


def test_partial_taihu_overlap_flagged_or_excluded(yrd_study):
    # SND lies 28% inside the Taihu first-level zone, which bans chemicals: a fine-chemicals
    # firm may only use the land outside it. Normal need: flagged, kept.
    r = recommend(yrd_study, "fine_chemicals", top=10).set_index("site_id")
    assert r.at["snd", "status"] == "flagged"
    assert "outside the zone only" in r.at["snd", "reason_en"]
    assert "区外" in r.at["snd", "reason_zh"]
    # an electronics firm is not banned there: SND is plain ok
    e = recommend(yrd_study, "pcb", top=10).set_index("site_id")
    assert e.at["snd", "status"] == "ok"
    # a need larger than SND's free land outside the zone (but not SIP's): SND excluded
    # for the ban, SIP kept
    big = recommend(yrd_study, "fine_chemicals", top=10, land_mu=200_000).set_index("site_id")
    assert big.at["snd", "status"] == "excluded"
    assert pd.isna(big.at["snd", "rank"])
    assert "Taihu" in big.at["snd", "admissibility"] and "bans" in big.at["snd", "admissibility"]
    assert big.at["sip", "status"] == "ok" and big.at["sip", "rank"] == 1


@pytest.fixture(scope="module")
def taihu_study(tmp_path_factory, yrd_study):
    """The bundled study plus a small park wholly inside the Taihu first-level zone."""
    d = tmp_path_factory.mktemp("taihu")
    zones = yrd_study.load("redlines")
    zone = zones.loc[zones["id"] == "taihu_l1"].geometry.iloc[0]
    pt = shapely.get_coordinates(zone.representative_point())[0]
    box = shapely.box(pt[0] - 0.006, pt[1] - 0.006, pt[0] + 0.006, pt[1] + 0.006)
    assert zone.contains(box)
    parks = gpd.read_file(ROOT / "data" / "yrd" / "parks.gpkg")
    extra = gpd.GeoDataFrame({"park_id": ["lakeside"], "name": ["湖滨测试园 Lakeside test park"],
                              "industries": ["chemicals"]}, geometry=[box], crs=4326)
    pd.concat([parks, extra], ignore_index=True).pipe(gpd.GeoDataFrame, crs=4326).to_file(
        d / "parks.gpkg", driver="GPKG")
    text = (ROOT / "layers" / "yrd.toml").read_text(encoding="utf-8")
    text = text.replace('"../data/yrd/parks.gpkg"', f'"{(d / "parks.gpkg").as_posix()}"')
    text = text.replace('"../data/', f'"{(ROOT / "data").as_posix()}/')
    (d / "study.toml").write_text(text, encoding="utf-8")
    from geo.study import load_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_study(d / "study.toml")


def test_park_inside_restricted_zone_excluded_for_banned_industry(taihu_study):
    r = recommend(taihu_study, "fine_chemicals", top=20).set_index("site_id")
    assert r.at["lakeside", "status"] == "excluded"
    assert "inside 太湖流域一级保护区" in r.at["lakeside", "reason_en"]
    assert "禁止" in r.at["lakeside", "reason_zh"]
    # a CRO (contract research) is not chemical or drug production: admissible there
    c = recommend(taihu_study, "cro", top=20, land_mu=10).set_index("site_id")
    assert c.at["lakeside", "status"] == "ok"


def test_candidates_ranked_with_parks(yrd_study):
    c = gpd.GeoDataFrame({"rank": [1, 2], "district": ["昆山市", "嘉善县"]},
                         geometry=[shapely.box(120.95, 31.40, 120.99, 31.43),
                                   shapely.box(120.85, 30.90, 120.89, 30.93)], crs=4326)
    r = recommend(yrd_study, "display_modules", top=20, candidates=c)
    kinds = set(r["kind"])
    assert kinds == {"park", "candidate"}
    cand = r[r["kind"] == "candidate"].set_index("site_id")
    assert {"candidate-1", "candidate-2"} <= set(cand.index)
    # candidate regions get the full free land of their area (no firms yet)
    assert (cand["free_land_mu"] > 0).all()


def test_cli_recommend(tmp_path):
    from geo.cli import main

    out = tmp_path / "rec.csv"
    r = CliRunner().invoke(main, ["recommend", str(ROOT / "layers" / "yrd.toml"), "--industry",
                                  "cathode_materials", "--top", "3", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "#1" in r.output
    df = pd.read_csv(out, encoding="utf-8-sig")
    assert df["rank"].dropna().tolist() == [1, 2, 3]
    r = CliRunner().invoke(main, ["recommend", str(ROOT / "layers" / "yrd.toml"), "--industry",
                                  "nonsense"])
    assert r.exit_code == 2 and "not in the chain maps" in r.output


def test_recommend_study_and_section(yrd_study):
    from geo.config import section_problems
    from geo.recommend import recommend_study

    res = recommend_study(yrd_study)  # [parks.recommend] industries
    assert set(res) == {"cathode_materials", "notebook_assembly"}
    assert res["notebook_assembly"].iloc[0]["site_id"] == "kunshan"
    probs = "\n".join(section_problems("parks", {"recommend": {"industries": "pcb", "top": 0,
                                                              "near_km": -1}}, yrd_study))
    assert "parks.recommend.industries" in probs and "parks.recommend.top" in probs
    assert "parks.recommend.near_km" in probs


def test_candidates_from_gpkg_file(yrd_study, tmp_path):
    from geo.errors import MissingFileError

    c = gpd.GeoDataFrame({"rank": [1], "region_id": [7], "district": ["昆山市"],
                          "area_mu": [1800.0]},
                         geometry=[shapely.box(120.95, 31.40, 120.99, 31.43)], crs=4326)
    path = tmp_path / "candidates.gpkg"
    c.to_file(path, layer="candidates", driver="GPKG")
    r = recommend(yrd_study, "pcb", top=20, candidates=path)
    row = r.set_index("site_id").loc["candidate-1"]
    assert row["kind"] == "candidate" and "昆山市" in row["site_name"]
    with pytest.raises(MissingFileError, match="parksite suitability"):
        recommend(yrd_study, "pcb", candidates=tmp_path / "none.gpkg")


@pytest.mark.parametrize(("study_name", "industry"), [
    ("yrd_study", "fine_chemicals"), ("yrd_study", "cro"), ("yrd_study", "notebook_assembly"),
    ("taihu_study", "fine_chemicals"), ("taihu_study", "cro")])
def test_redline_verdict_equals_the_gates(request, study_name, industry):
    """For every park, the zones recommend() holds against the firm are the zones the
    red-line gate (no buffer, every park given the firm's industry) reports an overlap
    with; core/red-line overlaps carry the gate's area."""
    from geo.redline import redline_conflicts
    from geo.register import sector_model_for

    study = request.getfixturevalue(study_name)
    parks = study.load_role("parks")
    zones = study.load_role("redlines")
    gate = redline_conflicts(parks, zones, buffer_m=0.0,
                             park_industries={str(p): [industry] for p in parks["id"]},
                             sectors=sector_model_for(study), empty_bans="review",
                             area_crs=study.area_crs)
    hit = gate.conflicts[gate.conflicts["overlap_m2"] > 0]
    r = recommend(study, industry, top=100, land_mu=1).set_index("site_id")
    assert set(parks["id"].astype(str)) <= set(r.index)
    for pid in parks["id"].astype(str):
        adm = r.at[pid, "admissibility"]
        held = {z for z, name in zip(zones["id"], zones["name"], strict=True)
                if f"red line {z}:" in adm or f"inside {name}" in adm}
        mine = hit[hit["park_id"].astype(str) == pid]
        assert held == set(mine["zone_id"]), (pid, adm)
        for row in mine[mine["kind"] == "overlap"].itertuples():
            assert f"{row.overlap_mu:,.0f} 亩" in adm
    # the bundled data has the case that matters: Suzhou New District partly in Taihu
    if study_name == "yrd_study" and industry == "fine_chemicals":
        assert set(hit["park_id"]) == {"snd"}


def test_rank_industries_agrees_with_recommend(yrd_study):
    from geo.recommend import RANKING_COLUMNS, rank_industries
    from geo.register import study_chains

    r = rank_industries(yrd_study, top=4)
    assert list(r.columns) == list(RANKING_COLUMNS)
    assert list(dict.fromkeys(r["industry"])) == list(study_chains(yrd_study).industries.index)
    assert (r.groupby("industry")["rank"].count() <= 4).all()
    for ind in ("notebook_assembly", "fine_chemicals", "cathode_materials"):
        one = recommend(yrd_study, ind, top=4).reset_index(drop=True)
        mine = r[r["industry"] == ind].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine[one.columns], one)
        assert (mine["land_mu"] == one.attrs["land_mu"]).all()
        assert (mine["industry_zh"] == one.attrs["industry_zh"]).all()
    top = r[(r["industry"] == "notebook_assembly") & (r["rank"] == 1)]
    assert top["site_id"].tolist() == ["kunshan"]


def test_rank_industries_never_ranks_a_banned_site(taihu_study):
    from geo.recommend import rank_industries

    r = rank_industries(taihu_study, top=50, industries=["fine_chemicals", "pcb"])
    chem = r[r["industry"] == "fine_chemicals"].set_index("site_id")
    assert pd.isna(chem.at["lakeside", "rank"])
    assert chem.at["lakeside", "status"] == "excluded"
    assert "inside 太湖流域一级保护区" in chem.at["lakeside", "reason_en"]
    ranked = chem[chem["rank"].notna()]
    assert "lakeside" not in ranked.index and len(ranked) > 0
    # electronics are not banned there: the verdict is per industry
    pcb = r[r["industry"] == "pcb"].set_index("site_id")
    assert "inside 太湖流域一级保护区" not in pcb.at["lakeside", "reason_en"]


def test_picker_panel_data_is_escaped_and_ranked(yrd_study):
    from geo.recommend import rank_industries
    from geo.webmap._picker import _picker_panel
    from geo.webmap._settings import _settings

    r = rank_industries(yrd_study, top=3, industries=["pcb", "fine_chemicals"])
    r.loc[0, "site_name"] = '<img src=x onerror="window.__pwned=1">'
    from geo.webmap._compose import _context

    sec, basemap, lang, tiles = _settings(yrd_study, None, None, None)
    ctx = _context(yrd_study, sec, basemap=basemap, tiles=tiles, lang=lang, offline=True)
    p = _picker_panel(ctx, r)
    assert p is not None
    d = p["data"]
    assert d["order"] == ["pcb", "fine_chemicals"]
    assert [row[0] for row in d["rows"]["pcb"]] == [1, 2, 3]
    assert d["rows"]["pcb"][0][1].startswith("&lt;img")
    assert "<img" not in p["html"] and "印制电路板" in p["html"]
    assert _picker_panel(ctx, None) is None
