"""One industry model (geo.sectors): GB/T 4754-2017, regulated sectors, one ban rule."""

from __future__ import annotations

import pytest

from geo.sectors import SECTORS, classification, gbt_code, is_banned, sector_model

TAIHU = ["chemicals", "pharmaceuticals", "papermaking", "dyeing", "electroplating"]


def test_the_classification_has_the_standards_totals():
    t = classification()
    assert t["level"].value_counts().to_dict() == {
        "class": 1380, "group": 473, "division": 97, "section": 20}
    assert t.loc["C26", "name_zh"] == "化学原料和化学制品制造业"
    assert t.loc["C2614", "parent"] == "261"


@pytest.mark.parametrize("text, code", [("2614", "C2614"), ("C26", "C26"), ("c 26", "C26"),
                                        ("Ｃ２６", "C26"), ("C", "C"), ("G5532", "G5532")])
def test_codes_in_any_spelling(text, code):
    assert gbt_code(text) == code


@pytest.mark.parametrize("text", ["A26", "9999", "C265x", "26.14", ""])
def test_not_codes(text):
    assert gbt_code(text) is None


@pytest.mark.parametrize("industry", [
    "化学原料和化学制品制造业", "Pharmaceutical Manufacturing", "化工新材料", "农药", "C26",
    "2614", "C2710", "fine chemicals manufacturing", "Manufacture of medicines", "印染",
    "Electroplating", "精细化工", "petrochemicals", "biomedicine", "医药制造业", "石化"])
def test_every_spelling_of_a_banned_industry_is_banned(industry):
    v = is_banned([industry], TAIHU)
    assert v.status == "banned", (industry, v)


@pytest.mark.parametrize("industry", ["electronics", "集成电路", "C39", "3973", "auto parts",
                                      "precision machinery", "port logistics"])
def test_known_industries_outside_the_bans_are_allowed(industry):
    assert is_banned([industry], TAIHU).status == "allowed"


@pytest.mark.parametrize("industry", ["new materials", "新材料", "xyz plant", "综合"])
def test_an_industry_the_model_cannot_place_is_review_never_allowed(industry):
    v = is_banned([industry], TAIHU)
    assert v.status == "review" and "not recognised" in v.describe()


def test_partly_banned_and_broader_than_a_ban_are_review():
    assert is_banned(["medical supplies"], TAIHU).status == "review"  # C358 or C2770
    v = is_banned(["C26"], ["2645"])
    assert v.status == "review" and "broader than the ban on 2645" in v.describe()
    assert is_banned(["C2645"], ["C26"]).status == "banned"


def test_all_bans_everything_and_an_unknown_ban_is_an_error():
    assert is_banned(["anything"], ["all"]).status == "banned"
    with pytest.raises(ValueError, match="ban 'plastics-ish' names no sector"):
        is_banned(["electronics"], ["plastics-ish"])


def test_chain_map_codes_win_over_generic_aliases():
    m = sector_model(chain_industries={"medical_supplies": ("医疗器械", "Medical devices",
                                                            ("C358",))})
    assert m.is_banned(["medical_supplies"], TAIHU).status == "allowed"
    assert m.is_banned(["medical supplies"], TAIHU).status == "allowed"


def test_study_aliases_extend_a_sector_or_define_a_new_one():
    m = sector_model({"chemicals": ["涂料厂"], "foundry": ["铸造"]})
    assert m.is_banned(["涂料厂"], ["chemicals"]).status == "banned"
    assert m.is_banned(["铸造"], ["foundry"]).status == "banned"
    assert m.is_banned(["electronics"], ["foundry"]).status == "allowed"


def test_sectors_of_names_the_regulated_sector():
    m = sector_model()
    assert m.sectors_of("2710") == {"pharmaceuticals"}
    assert m.sectors_of("electronics") == frozenset()
    assert set(SECTORS) >= {"chemicals", "pharmaceuticals", "papermaking", "dyeing"}


def test_chain_maps_carry_valid_codes(yrd_study):
    from geo.register import study_chains

    ind = study_chains(yrd_study).industries
    assert (ind["gbt4754"].map(len) > 0).all(), ind.index[ind["gbt4754"].map(len) == 0]
