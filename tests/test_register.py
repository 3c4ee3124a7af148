"""The study's register (geo.register): firms, parks, chain maps, industries."""

from __future__ import annotations

import pandas as pd

from geo.register import chain_industry_ids, industry_report, load_firms, study_chains


def test_firm_industries_in_either_language_or_as_codes_are_chain_ids(yrd_study):
    chains = study_chains(yrd_study)
    given = pd.Series(["microelectronics", "微电子（集成电路）", "Printed circuit boards",
                       "C3982", "３９８２", "Fine_Chemicals", "C26", "pottery"])
    got = chain_industry_ids(given, chains).tolist()
    assert got[:6] == ["microelectronics", "microelectronics", "pcb", "pcb", "pcb",
                       "fine_chemicals"]
    # a division that several chain industries share is not guessed; unknown stays as is
    assert got[6:] == ["C26", "pottery"]


def test_bundled_firms_are_all_chain_ids(yrd_study):
    f = load_firms(yrd_study)
    known = set(study_chains(yrd_study).industries.index)
    assert set(f["industry"]) <= known
    assert (f["industry"] == f["industry_given"]).all()


def test_industry_report_names_what_analyses_cannot_use(yrd_study):
    r = industry_report(yrd_study)
    assert r.unmapped.empty
    assert r.unknown["industry"].tolist() == ["new materials"]
    assert "new materials" in r.lines()[0] and "review" in r.lines()[0]
