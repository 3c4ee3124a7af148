"""The command line: exit codes, messages without tracebacks, atomic outputs."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from geo.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def chem_plot(tmp_path):
    """A chemical plant plot inside Taihu's first-level zone, and one on Dongtan's flats."""
    g = gpd.GeoDataFrame(
        {"plot_id": ["xukou", "dongtan"], "name": ["胥口化工地块 <b>x</b>", "东滩地块"],
         "industries": ["fine chemicals", "logistics"]},
        geometry=[shapely.Point(120.48, 31.16), shapely.Point(122.007, 31.527)], crs=4326)
    g = g.to_crs(4549)
    g["geometry"] = g.buffer(800, cap_style="square")
    p = tmp_path / "plots.gpkg"
    g.to_file(p)
    return p


def test_help_reads_well():
    r = run("--help")
    assert r.exit_code == 0
    for cmd in ("run", "check", "redlines"):
        assert cmd in r.output
    r = run("redlines", "--help")
    assert "Exit code 0: no conflict; 1: conflicts found; 2: bad input." in r.output
    assert "--buffer-m" in r.output


def test_redlines_on_the_bundled_study_passes_with_exit_0(root, tmp_path):
    out = tmp_path / "r.csv"
    r = run("redlines", "--study", root / "layers/yrd.toml", "--out", out)
    assert r.exit_code == 0, r.output
    assert "10 parks: 0 in conflict" in r.output
    assert out.read_text(encoding="utf-8-sig").startswith("park_id,park_name,zone_id")


def test_conflicts_exit_1_and_gpkg_holds_geometries(root, tmp_path, chem_plot):
    out = tmp_path / "c.gpkg"
    r = run("redlines", chem_plot, root / "data/yrd/redlines.gpkg", "--industry-field",
            "industries", "--buffer-m", "1000", "--out", out)
    assert r.exit_code == 1, r.output
    c = gpd.read_file(out, layer="conflicts")
    assert set(c.park_id) == {"xukou", "dongtan"}
    assert set(c.kind) >= {"restricted", "overlap"}
    assert (c[c.kind != "buffer"].overlap_mu > 0).all() and c.crs.to_epsg() == 4326
    assert len(gpd.read_file(out, layer="parks_status")) == 2


def test_bad_input_exits_2_with_one_line_and_no_traceback(root, tmp_path):
    r = run("redlines", root / "data/yrd/parkz.gpkg", root / "data/yrd/redlines.gpkg")
    assert r.exit_code == 2
    assert "did you mean" in r.output and "parks.gpkg" in r.output
    assert "Traceback" not in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[layers.parks]\npath = 'nowhere.gpkg'\nrole = 'parkz'\n")
    r = run("check", bad)
    assert r.exit_code == 2 and "2 problems" in r.output and "Traceback" not in r.output


def test_failed_run_leaves_no_partial_file_and_keeps_the_previous_one(root, tmp_path,
                                                                       chem_plot, monkeypatch):
    out = tmp_path / "c.gpkg"
    r = run("redlines", chem_plot, root / "data/yrd/redlines.gpkg", "--out", out)
    assert r.exit_code == 1
    before = out.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", boom)
    r = run("redlines", chem_plot, root / "data/yrd/redlines.gpkg", "--out", out)
    assert r.exit_code == 2
    assert "could not be written (disk full); the previous file is unchanged" in r.output
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".c.gpkg")] == []


def test_refuses_to_overwrite_when_asked(root, tmp_path):
    out = tmp_path / "r.csv"
    out.write_text("keep")
    r = run("redlines", "--study", root / "layers/yrd.toml", "--out", out, "--no-overwrite")
    assert r.exit_code == 2 and "exists" in r.output
    assert out.read_text() == "keep"


def test_check_lists_layers(root):
    r = run("check", root / "layers/yrd.toml")
    assert r.exit_code == 0, r.output
    assert "22,656" in r.output and "EPSG:4549" in r.output
