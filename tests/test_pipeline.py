"""The main job (geo.pipeline.run_study) and ``parksite run`` end to end on the bundled study."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from geo.cli import main
from geo.pipeline import StudyRun, run_study
from geo.redline import RedlineResult
from geo.sourcing import SourcingResult
from geo.study import load_study
from geo.suitability import SuitabilityResult


@pytest.fixture(scope="module")
def bundled_run(tmp_path_factory, root):
    """``parksite run layers/yrd.toml`` into a temporary folder, once for this module."""
    tmp = tmp_path_factory.mktemp("run")
    r = CliRunner().invoke(main, ["run", str(root / "layers/yrd.toml"), "--out-dir",
                                  str(tmp / "out"), "--map", str(tmp / "maps/yrd.html")])
    return r, tmp


@pytest.mark.slow
def test_parksite_run_writes_every_table_and_both_maps(bundled_run):
    r, tmp = bundled_run
    assert r.exit_code == 0, r.output
    out = tmp / "out"
    for name in ("redline_conflicts.csv", "redline_conflicts.gpkg", "sourcing.csv",
                 "parks.csv", "parks_industries.csv", "symbiosis.csv", "layout.gpkg",
                 "suitability/suitability.tif", "suitability/candidates.gpkg",
                 "recommend_cathode_materials.csv"):
        assert (out / name).stat().st_size > 0, name
    assert (tmp / "maps/yrd.html").stat().st_size > 1e6
    assert (tmp / "maps/layout_chongming.html").exists()
    status = gpd.read_file(out / "redline_conflicts.gpkg", layer="parks_status")
    assert len(status) == 10
    assert "map →" in r.output and "red-line gate" in r.output


@pytest.mark.slow
def test_the_summary_line_counts_what_the_gate_found(bundled_run, root):
    r, tmp = bundled_run
    status = gpd.read_file(tmp / "out/redline_conflicts.gpkg", layer="parks_status")
    n = int((status.status != "pass").sum())
    assert f"red-line gate: {n} of 10 parks with findings" in r.output


def test_run_study_returns_typed_results_and_honours_skip(root, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(root / "layers/yrd.toml")
        steps: list[str] = []
        run = run_study(study, tmp_path, skip={"suitability", "layout", "parks"},
                        progress=lambda step, summary, s: steps.append(step))
    assert isinstance(run, StudyRun) and isinstance(run.redlines, RedlineResult)
    assert isinstance(run.sourcing, SourcingResult)
    assert run.suitability is None and run.layout is None and run.parks is None
    assert steps == ["layers", "redlines", "sourcing"]
    assert set(run.seconds) == set(steps)
    assert not (tmp_path / "suitability").exists()
    table = pd.read_csv(tmp_path / "redline_conflicts.csv", encoding="utf-8-sig")
    assert list(table.columns[:3]) == ["park_id", "park_name", "zone_id"]


def test_unknown_skip_is_refused(yrd_study, tmp_path):
    with pytest.raises(ValueError, match="unknown analyses"):
        run_study(yrd_study, tmp_path, skip={"suitabilty"})


@pytest.mark.slow
def test_suitability_result_reaches_the_run(root, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(root / "layers/yrd.toml")
        run = run_study(study, tmp_path, skip={"sourcing", "layout", "parks"})
    assert isinstance(run.suitability, SuitabilityResult)
    assert (tmp_path / "suitability" / "suitability.tif").exists()
