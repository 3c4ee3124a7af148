"""--out equal to an input, for every command that writes: refused (exit 2) before any
analysis, naming the output, the input and the fix; the input is byte-identical after.
And an existing output is replaced only atomically (by rename, never rewritten in
place, never left half-written).

The study is the bundled one (real layers), with the parks and universities layers
copied beside the study file so that the test can point outputs at them safely.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import geopandas as gpd
import pytest

import geo.cli.run as run_cli
from geo.io import write_gpkg

from ._harness import BAD_INPUT, FINDINGS, OK, attack

ROOT = Path(__file__).resolve().parents[2]
YRD = ROOT / "data" / "yrd"


def make_study(tmp: Path, *, parks: str = "parks.gpkg",
               universities: str = "universities.csv") -> Path:
    """The bundled study with its parks and universities layers at ``tmp/<name>``."""
    for src, name in ((YRD / "parks.gpkg", parks), (YRD / "universities.csv", universities)):
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, tmp / name)
    text = (ROOT / "layers" / "yrd.toml").read_text(encoding="utf-8")
    text = text.replace('"../data/yrd/parks.gpkg"', f'"{parks}"')
    text = text.replace('"../data/yrd/universities.csv"', f'"{universities}"')
    text = text.replace('"../', f'"{ROOT}/')
    s = tmp / "study.toml"
    s.write_text(text, encoding="utf-8")
    return s


@pytest.fixture
def study(tmp_path) -> Path:
    return make_study(tmp_path)


def refused(args, *inputs: Path, cwd: Path | None = None, says: tuple[str, ...] = ()):
    """Exit 2 naming ``says``; the inputs unchanged and nothing new beside them."""
    first = Path(inputs[0])
    r = attack(args, inputs=list(inputs), expect=BAD_INPUT, cwd=cwd,
               out_dir=first if first.is_dir() else first.parent)
    assert r.says("would overwrite an input" if "folder" in says else "is an input",
                  *[s for s in says if s != "folder"]), r.output
    return r


def test_redlines_two_files_out_equal_to_parks(tmp_path):
    parks = tmp_path / "parks.gpkg"
    shutil.copy(YRD / "parks.gpkg", parks)
    r = refused(["redlines", parks, YRD / "redlines.gpkg", "--out", parks], parks,
                says=("parks.gpkg", "give another output name"))
    assert "conflict" not in r.output  # refused before the gate ran


def test_redlines_two_files_out_through_a_symlink_to_the_zones(tmp_path):
    zones = tmp_path / "zones.gpkg"
    shutil.copy(YRD / "redlines.gpkg", zones)
    link = tmp_path / "result.gpkg"
    link.symlink_to(zones)
    refused(["redlines", YRD / "parks.gpkg", zones, "--out", link], zones,
            says=("zones.gpkg",))


def test_redlines_study_out_equal_to_a_layer(study):
    refused(["redlines", "--study", study, "--out", study.parent / "parks.gpkg"],
            study.parent / "parks.gpkg", study, says=("parks.gpkg",))


def test_parks_out_equal_to_a_layer(study):
    refused(["parks", study, "--out", study.parent / "parks.gpkg"], study.parent,
            says=("parks.gpkg",))


def test_parks_csv_whose_side_table_is_an_input(tmp_path):
    s = make_study(tmp_path, universities="x_industries.csv")
    refused(["parks", s, "--out", tmp_path / "x.csv"], tmp_path,
            says=("x_industries.csv",))


@pytest.mark.parametrize("command", [["symbiosis"], ["recommend", "--industry",
                                                     "cathode_materials"]])
def test_table_commands_out_equal_to_a_csv_layer(study, command):
    refused([command[0], study, *command[1:], "--out", study.parent / "universities.csv"],
            study.parent, says=("universities.csv",))


def test_od_out_equal_to_a_layer(study):
    refused(["od", "universities", "universities", "--study", study, "--out",
             study.parent / "universities.csv"], study.parent, says=("universities.csv",))


def test_reach_out_equal_to_a_layer(study):
    refused(["reach", "parks", "--study", study, "--out", study.parent / "parks.gpkg"],
            study.parent, says=("parks.gpkg",))


def test_layout_out_equal_to_a_layer(study):
    refused(["layout", study, "--park", "chongming", "--firms",
             ROOT / "data" / "examples" / "incoming_firms.csv", "--out",
             study.parent / "parks.gpkg"], study.parent, says=("parks.gpkg",))


def test_sourcing_out_equal_to_a_layer(study):
    refused(["sourcing", study, "--out", study.parent / "parks.gpkg"], study.parent,
            says=("parks.gpkg",))


def test_sourcing_csv_whose_side_table_is_an_input(tmp_path):
    s = make_study(tmp_path, universities="s_parks.csv")
    refused(["sourcing", s, "--out", tmp_path / "s.csv"], tmp_path, says=("s_parks.csv",))


def test_sourcing_out_equal_to_a_chain_map(tmp_path, study):
    chains = tmp_path / "chains"
    shutil.copytree(ROOT / "data" / "chains", chains)
    text = study.read_text(encoding="utf-8").replace(f'"{ROOT}/data/chains"', '"chains"')
    study.write_text(text, encoding="utf-8")
    refused(["sourcing", study, "--out", chains / "battery.toml"], chains,
            says=("battery.toml",))


def test_sourcing_folder_holding_an_input_it_would_overwrite(tmp_path):
    s = make_study(tmp_path, universities="res/sourcing_gaps.csv")
    refused(["sourcing", s, "--out", tmp_path / "res"], tmp_path,
            says=("folder", "sourcing_gaps.csv", "another output folder"))


def test_sourcing_out_an_existing_file_without_suffix_is_exit_2_before_work(study):
    """Was exit 3 (FileExistsError) after the whole computation."""
    notes = study.parent / "NOTES"
    notes.write_text("my notes", encoding="utf-8")
    r = attack(["sourcing", study, "--out", notes], inputs=[notes], expect=BAD_INPUT)
    assert r.says("NOTES", "is a file, not a folder", "give a folder")


def test_suitability_folder_holding_an_input_it_would_overwrite(tmp_path):
    s = make_study(tmp_path, parks="res/candidates.gpkg")
    refused(["suitability", s, "--out", tmp_path / "res"], tmp_path,
            says=("folder", "candidates.gpkg"))


def test_run_out_dir_holding_an_input_it_would_overwrite(tmp_path):
    s = make_study(tmp_path, universities="res/parks.csv")
    refused(["run", s, "--out-dir", tmp_path / "res", "--map", tmp_path / "m.html"], tmp_path,
            says=("folder", "parks.csv"))


@pytest.mark.parametrize("name", ["res/universities.csv", "res/sourcing_edges.csv",
                                  "res/suitability.csv"])
def test_run_into_the_data_folder_with_other_names_is_allowed_to_start(tmp_path, monkeypatch,
                                                                      name):
    """A folder that holds inputs is not refused as such: only names it would replace."""
    s = make_study(tmp_path, universities=name)
    called = []
    monkeypatch.setattr(run_cli, "run_study", lambda *a, **k: called.append(1) or
                        (_ for _ in ()).throw(KeyboardInterrupt()))
    attack(["run", s, "--out-dir", tmp_path / "res", "--map", tmp_path / "m.html"],
           inputs=[tmp_path], expect=130)
    assert called


def test_map_out_equal_to_the_study_file(study):
    refused(["map", study, "--out", study], study, says=("study.toml",))


def test_map_out_through_a_symlink_to_a_layer(study):
    link = study.parent / "maps" / "yrd.html"
    link.parent.mkdir()
    link.symlink_to(study.parent / "parks.gpkg")
    refused(["map", study, "--out", link], study.parent / "parks.gpkg", says=("parks.gpkg",))


def test_out_to_a_named_pipe_is_refused_and_the_pipe_kept(tmp_path):
    """Renaming the result over a FIFO would replace it with a plain file."""
    fifo = tmp_path / "c.csv"
    os.mkfifo(fifo)
    r = attack(["redlines", YRD / "parks.gpkg", YRD / "redlines.gpkg", "--out", fifo],
               expect=BAD_INPUT)
    assert r.says("c.csv", "not a regular file")
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.parametrize("command", [
    ["redlines", "missing.gpkg", YRD / "redlines.gpkg", "--out", "new/deep/c.csv"],
    ["od", "nowhere", "nowhere", "--out", "new/deep/od.csv"],
    ["reach", "nowhere", "--out", "new/deep/reach.gpkg"]])
def test_a_refused_command_leaves_no_empty_output_folder(tmp_path, command):
    """The output is checked before any work, but its folder is made only when writing."""
    attack(command, expect=BAD_INPUT, cwd=tmp_path, out_dir=tmp_path)
    assert not (tmp_path / "new").exists()


def test_an_output_folder_under_a_file_is_refused_before_work(tmp_path):
    blocker = tmp_path / "new"
    blocker.write_text("a file where the folder would go", encoding="utf-8")
    r = attack(["redlines", YRD / "parks.gpkg", YRD / "redlines.gpkg", "--out",
                blocker / "deep" / "c.csv"], inputs=[blocker], expect=BAD_INPUT)
    assert r.says("cannot create its folder", "is a file")
    assert not r.says("parks:")  # refused before the gate ran


# --- an existing output is replaced only atomically -----------------------------------


def _gate(tmp: Path, out: Path):
    return attack(["redlines", YRD / "parks.gpkg", YRD / "redlines.gpkg", "--out", out],
                  inputs=[YRD / "parks.gpkg"], out_dir=tmp)


def test_existing_output_is_replaced_by_a_rename_not_rewritten(tmp_path):
    out = tmp_path / "c.csv"
    out.write_text("old results\n", encoding="utf-8")
    old = out.stat().st_ino
    r = _gate(tmp_path, out)
    assert r.exit_code in (OK, FINDINGS)
    assert out.stat().st_ino != old  # a new file renamed over the old one
    assert "old results" not in out.read_text(encoding="utf-8-sig")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv"]  # no temporary left


def test_failing_write_keeps_the_previous_output_byte_identical(tmp_path, monkeypatch):
    out = tmp_path / "c.gpkg"
    write_gpkg({"old": gpd.read_file(YRD / "parks.gpkg")}, out)
    before = out.read_bytes()

    def half_then_fail(self, path, *a, **k):
        Path(path).write_bytes(b"half a GeoPackage")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", half_then_fail)
    r = attack(["redlines", YRD / "parks.gpkg", YRD / "redlines.gpkg", "--out", out],
               inputs=[YRD / "parks.gpkg"], expect=BAD_INPUT)
    assert r.says("c.gpkg", "could not be written", "No space left",
                  "the previous file is unchanged")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.gpkg"]
