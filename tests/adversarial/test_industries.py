"""Hostile industry data for the red-line gate: an industry the gate cannot judge
never passes a restricted zone.

A plot is put inside Taihu's first-level protection zone (lake + 5 km belt; bans
chemicals, pharmaceuticals, papermaking, dyeing, electroplating) at Xukou, and its
industry field is written the ways real registers write it.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from ._harness import BAD_INPUT, FINDINGS, OK, attack

ROOT = Path(__file__).resolve().parents[2]
ZONES = ROOT / "data" / "yrd" / "redlines.gpkg"


def plot_file(tmp: Path, industries: object, *, name: str = "胥口地块",
              encoding: str | None = None, suffix: str = ".gpkg") -> Path:
    """One 1.6 km square plot well inside the Taihu belt, with ``industries``."""
    g = gpd.GeoDataFrame({"plot_id": ["xukou"], "name": [name], "industries": [industries]},
                         geometry=[shapely.Point(120.48, 31.16)], crs=4326).to_crs(4549)
    g["geometry"] = g.buffer(800, cap_style="square")
    p = tmp / f"plots{suffix}"
    if encoding:
        g.to_file(p, engine="pyogrio", encoding=encoding)
    else:
        g.to_file(p, engine="pyogrio")
    return p


def gate(tmp: Path, plots: Path, zones: Path = ZONES, expect: int | None = None):
    out = tmp / "out"
    out.mkdir(exist_ok=True)
    return attack(["redlines", plots, zones, "--industry-field", "industries",
                   "--out", out / "c.csv"], inputs=[plots, zones], out_dir=out, expect=expect)


@pytest.mark.parametrize("industry", [
    "化学原料和化学制品制造业", "Pharmaceutical Manufacturing", "化工新材料", "农药",
    "C26", "2614", "C2710", "fine chemicals manufacturing", "FINE  CHEMICALS",
    "精细化工；电子", "electronics, 印染", "Ｃ２６", "医药制造业|物流", "cathode_precursors"])
def test_banned_industry_in_any_spelling_is_a_conflict(tmp_path, industry):
    r = gate(tmp_path, plot_file(tmp_path, industry), expect=FINDINGS)
    t = pd.read_csv(tmp_path / "out" / "c.csv", encoding="utf-8-sig")
    row = t[t.zone_id == "taihu_l1"].iloc[0]
    assert row["kind"] == "restricted" and not row["review"]
    assert row["banned_hit"] and "banned:" in row["reason"]
    assert r.says("1 in conflict")


@pytest.mark.parametrize("industry", ["new materials", "某某综合产业", "xyz", "新材料"])
def test_unrecognised_industry_inside_a_restricted_zone_is_review(tmp_path, industry):
    r = gate(tmp_path, plot_file(tmp_path, industry), expect=FINDINGS)
    t = pd.read_csv(tmp_path / "out" / "c.csv", encoding="utf-8-sig")
    row = t[t.zone_id == "taihu_l1"].iloc[0]
    assert row["review"] and "not recognised" in row["reason"]
    assert r.says("1 for review")


def test_industry_broader_than_the_ban_is_review_not_pass(tmp_path):
    z = gpd.read_file(ZONES)
    z.loc[z.zone_id == "taihu_l1", "banned_industries"] = "2645"  # dyes only
    zp = tmp_path / "zones.gpkg"
    z.to_file(zp, engine="pyogrio")
    gate(tmp_path, plot_file(tmp_path, "C26"), zp, expect=FINDINGS)
    t = pd.read_csv(tmp_path / "out" / "c.csv", encoding="utf-8-sig")
    assert t.iloc[0]["review"] and "broader than the ban on 2645" in t.iloc[0]["reason"]


def test_allowed_industry_passes_and_says_why(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    plots = plot_file(tmp_path, "集成电路")
    r = attack(["redlines", plots, ZONES, "--industry-field", "industries", "--out",
                out / "c.gpkg"], inputs=[plots, ZONES], out_dir=out, expect=OK)
    status = gpd.read_file(out / "c.gpkg", layer="parks_status")
    assert "industries not banned: 集成电路" in status.iloc[0]["restricted_allowed"]
    assert r.says("0 in conflict")


def test_missing_industry_is_review(tmp_path):
    gate(tmp_path, plot_file(tmp_path, None), expect=FINDINGS)
    t = pd.read_csv(tmp_path / "out" / "c.csv", encoding="utf-8-sig")
    assert t.iloc[0]["review"] and "no industry data" in t.iloc[0]["reason"]


@pytest.mark.parametrize("bans", [None, "", "  "])
def test_restricted_zone_without_a_ban_list_is_an_input_error(tmp_path, bans):
    z = gpd.read_file(ZONES)
    z.loc[z.zone_id == "taihu_l1", "banned_industries"] = bans
    zp = tmp_path / "zones.gpkg"
    z.to_file(zp, engine="pyogrio")
    r = gate(tmp_path, plot_file(tmp_path, "electronics"), zp, expect=BAD_INPUT)
    assert r.says("taihu_l1", "no 'banned_industries'", "empty_ban_list")


def test_a_ban_naming_nothing_known_is_an_input_error(tmp_path):
    z = gpd.read_file(ZONES)
    z.loc[z.zone_id == "taihu_l1", "banned_industries"] = "chemicalz"
    zp = tmp_path / "zones.gpkg"
    z.to_file(zp, engine="pyogrio")
    r = gate(tmp_path, plot_file(tmp_path, "electronics"), zp, expect=BAD_INPUT)
    assert r.says("taihu_l1", "'chemicalz' names no sector")


def test_check_names_firm_industries_no_chain_map_knows(tmp_path):
    from .test_numbers import study_with_firms

    firms = gpd.read_file(ROOT / "data" / "yrd" / "firms.gpkg")
    firms.loc[0, "industry"] = "陶瓷烧制"
    firms.loc[1, "industry"] = "微电子（集成电路）"  # a chain-map industry by its Chinese name
    s, f = study_with_firms(tmp_path, firms)
    r = attack(["check", s], inputs=[s, f], expect=OK)
    assert r.says("'陶瓷烧制' (1 firms, e.g. F0001) is in no chain map")
    assert "微电子" not in r.output
