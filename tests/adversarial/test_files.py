"""Files and paths: hostile study files, data strings that would become paths, markup in
names and messages, outputs that would overwrite inputs."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from geo.errors import OutputError
from geo.io import refuse_overwriting_input, safe_component, write_text

from ._harness import BAD_INPUT, attack

STUDY = b'[study]\nname = "x"\n'
DATA = Path(__file__).resolve().parents[2] / "data" / "yrd"


@pytest.mark.parametrize("text, expected", [
    ("../x", "x"), ("../../etc/x", "etc_x"), ("/etc/passwd", "etc_passwd"),
    ("a\\b", "a_b"), ("..", "unnamed"), ("", "unnamed"), (".hidden", "hidden"),
    ("CON", "_CON"), ("长三角", "长三角"), ("[bold]yrd[/]", "[bold]yrd[_]"),
    ("a\x00b\nc", "a_b_c"),
])
def test_data_strings_become_one_safe_path_component(text, expected, tmp_path):
    got = safe_component(text)
    assert got == expected
    # It stays inside the folder it is joined to.
    assert (tmp_path / got).resolve().parent == tmp_path.resolve()


def test_output_equal_to_an_input_is_refused_also_through_a_symlink(tmp_path):
    study = tmp_path / "s.toml"
    study.write_bytes(STUDY)
    link = tmp_path / "link.html"
    link.symlink_to(study)
    for out in (study, tmp_path / "sub" / ".." / "s.toml", link):
        with pytest.raises(OutputError, match="is an input"):
            refuse_overwriting_input(out, [study])
    refuse_overwriting_input(tmp_path / "other.html", [study])  # a new name is fine


def test_atomic_text_write_leaves_no_temp_file_on_failure(tmp_path):
    dest = tmp_path / "m.html"
    dest.write_text("old")

    with pytest.raises(TypeError):
        write_text(dest, 123)  # type: ignore[arg-type]
    assert dest.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.html"]


def _study(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("name, data, says", [
    # a UTF-8 byte-order mark (Windows Notepad) is read past: the next problem is reported
    ("bom.toml", b"\xef\xbb\xbf" + STUDY, ["bom.toml", "[layers.NAME]"]),
    ("gbk.toml", '[study]\nname = "长三角"\n'.encode("gbk"), ["gbk.toml", "GBK", "UTF-8"]),
    ("dup.toml", b'[study]\nname = "a"\nname = "b"\n', ["dup.toml", "line 3"]),
    ("bad.toml", b"not toml [[", ["bad.toml", "not valid toml"]),
    ("empty.toml", b"", ["empty.toml", "[layers.NAME]"]),
    ("u16.toml", STUDY.decode().encode("utf-16"), ["u16.toml", "utf-8"]),
    ("latin1.toml", '[study]\nname = "café"\n'.encode("latin-1"), ["latin1.toml", "utf-8"]),
    ("[bold]x[red].toml", b"[study]\nname = [/]\n", ["[bold]x[red].toml"]),
])
def test_hostile_study_file_is_a_clear_error(tmp_path, name, data, says):
    p = _study(tmp_path, name, data)
    r = attack(["check", p], inputs=[p], out_dir=tmp_path, expect=BAD_INPUT)
    assert r.says(*says), r.output


def test_missing_study_names_the_file(tmp_path):
    r = attack(["check", tmp_path / "nope.toml"], out_dir=tmp_path, expect=BAD_INPUT)
    assert r.says("nope.toml", "not found")


def test_study_that_is_a_folder_is_exit_2(tmp_path):
    (tmp_path / "d.toml").mkdir()
    r = attack(["check", tmp_path / "d.toml"], out_dir=tmp_path, expect=BAD_INPUT)
    assert r.says("d.toml", "directory")


def test_study_that_is_a_fifo_is_exit_2(tmp_path):
    fifo = tmp_path / "f.toml"
    os.mkfifo(fifo)
    r = attack(["check", fifo], expect=BAD_INPUT)
    assert r.says("f.toml", "not a regular file")


def test_markup_in_a_missing_file_name_is_printed_as_text(tmp_path):
    r = attack(["check", tmp_path / "[/]x.toml"], out_dir=tmp_path, expect=BAD_INPUT)
    assert r.says("[/]x.toml")


@pytest.mark.parametrize("command", ["map", "run"])
@pytest.mark.parametrize("url", ["http://gis.intranet/tiles/{z}/{x}/{y}.png",
                                 "HTTPS://t0.example.cn/{z}/{x}/{y}.png",
                                 "//cdn.example.cn/{z}/{x}/{y}.png"])
def test_offline_map_with_remote_tiles_is_exit_2(root, tmp_path, command, url):
    out = ["--out", tmp_path / "m.html"] if command == "map" else [
        "--out-dir", tmp_path / "out", "--map", tmp_path / "m.html"]
    r = attack([command, root / "layers/yrd.toml", "--tiles", url, *out],
               inputs=[root / "layers/yrd.toml"], out_dir=tmp_path, expect=BAD_INPUT)
    assert r.says("--offline", "--tiles", "--online"), r.output
    assert "Traceback" not in r.output


@pytest.fixture
def markup_parks(tmp_path):
    """Two plots whose names and ids are rich markup; one overlaps Dongtan's flats."""
    import geopandas as gpd
    import shapely

    g = gpd.GeoDataFrame(
        {"park_id": ["p1", "[red]p2"], "name": ["[bold red]x[/]", "[/]"],
         "industries": ["logistics", "[link=http://x]y[/link]"]},
        geometry=[shapely.Point(120.9, 31.3), shapely.Point(122.007, 31.527)], crs=4326)
    g = g.to_crs(4549)
    g["geometry"] = g.buffer(800, cap_style="square")
    p = tmp_path / "plots.gpkg"
    g.to_file(p)
    return p


def test_markup_in_park_names_prints_literally_in_tables(root, tmp_path, markup_parks):
    zones = root / "data/yrd/redlines.gpkg"
    r = attack(["redlines", markup_parks, zones, "--industry-field", "industries"],
               inputs=[markup_parks, zones])
    assert r.exit_code in (0, 1), r.output
    assert r.says("p1 [bold red]x[/]", "[red]p2 [/]"), r.output


def test_every_table_row_in_the_cli_goes_through_the_escaping_helper():
    """A rich Table parses markup in plain str cells: every ``add_row`` in geo/cli must be
    the ``_common.add_row`` helper (str cells → plain Text), never ``Table.add_row``."""
    import ast

    import geo.cli

    folder = Path(geo.cli.__file__).parent
    bad = []
    for f in sorted(folder.glob("*.py")):
        if f.name == "_common.py":
            continue
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "add_row"):
                bad.append(f"{f.name}:{node.lineno}")
    assert not bad, f"Table.add_row with unescaped cells: {bad}"


def _run_args(root, tmp_path, out_dir):
    return ["run", root / "layers/yrd.toml", "--out-dir", out_dir, "--map", tmp_path / "m.html"]


@pytest.mark.parametrize("signum, says", [(15, "terminated"), (2, "interrupted")])
def test_run_stopped_by_a_signal_removes_its_staging_folder(root, tmp_path, monkeypatch,
                                                           signum, says):
    import signal
    import time

    import geo.cli.run as run_cmd

    seen = {}

    def stopped(study, out_dir, *, staging, **kw):
        seen["staging"] = Path(staging)
        (Path(staging) / "redline_conflicts.csv").write_text("half")
        os.kill(os.getpid(), signum)
        time.sleep(5)  # the signal arrives first
        raise AssertionError("not stopped")

    monkeypatch.setattr(run_cmd, "run_study", stopped)
    handler = signal.getsignal(signal.SIGTERM)
    r = attack(_run_args(root, tmp_path, tmp_path / "out"), inputs=[root / "layers/yrd.toml"],
               out_dir=tmp_path)
    assert r.exit_code == 128 + signum if signum == 15 else r.exit_code == 130, r.output
    assert r.says(says, "staging folder", "removed"), r.output
    assert seen["staging"].parent == tmp_path and seen["staging"].name.startswith(".out.")
    assert not seen["staging"].exists() and not (tmp_path / "out").exists()
    assert signal.getsignal(signal.SIGTERM) == handler  # the command's handler is gone


def test_run_into_a_read_only_folder_is_exit_2_before_computing(root, tmp_path, monkeypatch):
    import geo.cli.run as run_cmd

    ro = tmp_path / "ro"
    ro.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == ro
                        and mode & os.W_OK else real_access(p, mode, **kw))
    monkeypatch.setattr(run_cmd, "run_study",
                        lambda *a, **k: pytest.fail("computed before checking the folder"))
    for out in (ro / "out", ro):
        r = attack(_run_args(root, tmp_path, out), inputs=[root / "layers/yrd.toml"],
                   out_dir=tmp_path, expect=BAD_INPUT)
        assert r.says(str(ro), "read-only", "--out-dir"), r.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a chmod 555 folder")
def test_run_into_a_chmod_555_folder_is_exit_2(root, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        r = attack(_run_args(root, tmp_path, ro / "out"), out_dir=tmp_path, expect=BAD_INPUT)
        assert r.says("read-only"), r.output
    finally:
        ro.chmod(0o755)


def test_run_stages_its_tables_and_keeps_files_it_did_not_write(root, tmp_path, monkeypatch):
    import geo.cli.run as run_cmd

    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "redline_conflicts.csv").write_text("stale")
    real, seen = run_cmd.run_study, {}

    def spy(study, out_dir, **kw):
        seen["staging"] = Path(kw["staging"])
        return real(study, out_dir, **kw)

    monkeypatch.setattr(run_cmd, "run_study", spy)
    skips = [a for s in ("sourcing", "suitability", "parks", "layout") for a in ("--skip", s)]
    r = attack([*_run_args(root, tmp_path, out), *skips], inputs=[root / "layers/yrd.toml"],
               expect=0)
    assert seen["staging"].parent == tmp_path and not seen["staging"].exists()
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "redline_conflicts.csv").read_text(encoding="utf-8-sig").startswith("park_id")
    assert (out / "redline_conflicts.gpkg").exists()
    assert not [p for p in tmp_path.iterdir() if ".staging-" in p.name]
    assert str(seen["staging"]) not in r.output  # messages name the target, not the stage


_MAP_FLAGS = ("--offline", "--basemap", "--lang", "--tiles", "--tianditu-key")


def _option_help(command: str) -> dict[str, str]:
    from geo.cli import main

    cmd = main.commands[command]
    return {flag: p.help for p in cmd.params for flag in _MAP_FLAGS
            if flag in p.opts}


def test_map_options_are_one_shared_group():
    from geo.cli.options import map_options  # noqa: F401 - declared once, there

    helps = {c: _option_help(c) for c in ("map", "run", "layout")}
    assert set(helps["map"]) == set(_MAP_FLAGS)
    assert helps["run"] == helps["map"] == helps["layout"]


def test_layout_map_offline_with_remote_tiles_is_exit_2(root, tmp_path):
    r = attack(["layout", root / "layers/yrd.toml", "--park", "chongming", "--firms",
                root / "data/examples/incoming_firms.csv", "--out", tmp_path / "l.gpkg",
                "--map", tmp_path / "l.html", "--tiles", "http://x/{z}/{x}/{y}.png"],
               out_dir=tmp_path, expect=BAD_INPUT)
    assert r.says("network", "--online"), r.output


@pytest.mark.parametrize("args", [
    ["layout", "S", "--park", "p", "--firms", "f.csv", "--plot-mu", "0"],
    ["layout", "S", "--park", "p", "--firms", "f.csv", "--road-spacing-m", "-5"],
    ["layout", "S", "--park", "p", "--firms", "f.csv", "--time-limit-s", "0"],
    ["layout", "S", "--park", "p", "--firms", "f.csv", "--road-width-m", "-1"],
    ["od", "a.csv", "b.csv", "--study", "S", "--limit-km", "-1"],
    ["od", "a.csv", "b.csv", "--study", "S", "--limit-min", "0"],
    ["od", "a.csv", "b.csv", "--study", "S", "--max-snap-m", "0"],
    ["parks", "S", "--radius-km", "0"],
    ["reach", "a.csv", "--study", "S", "--radius-km", "0"],
    ["reach", "a.csv", "--study", "S", "--metric", "time", "--radius-min", "-3"],
    ["reach", "a.csv", "--study", "S", "--trim-m", "0"],
    ["recommend", "S", "--industry", "x", "--land-mu", "0"],
    ["recommend", "S", "--industry", "x", "--radius-km", "-1"],
    ["sourcing", "S", "--radius-km", "0"],
    ["symbiosis", "S", "--max-km", "0"],
])
def test_out_of_range_numbers_are_usage_errors_naming_the_range(root, tmp_path, args):
    study = str(root / "layers/yrd.toml")
    args = [study if a == "S" else a for a in args]
    r = attack(args, out_dir=tmp_path, cwd=tmp_path, expect=BAD_INPUT)
    assert r.says(args[-2], "is not in the range"), r.output


def test_offline_map_with_remote_tiles_in_the_study_file_is_exit_2(root, tmp_path):
    text = (root / "layers/yrd.toml").read_text(encoding="utf-8")
    text = text.replace('"../data/', f'"{(root / "data").as_posix()}/')
    text = text.replace("[map]\n", '[map]\ntiles = "https://gis.example.cn/{z}/{x}/{y}.png"\n')
    study = tmp_path / "s.toml"
    study.write_text(text, encoding="utf-8")
    r = attack(["map", study, "--out", tmp_path / "m.html"], inputs=[study], out_dir=tmp_path,
               expect=BAD_INPUT)
    assert r.says("s.toml", "[map] tiles", "--online"), r.output


def _within(seconds: float, fn):
    """Run ``fn`` in a daemon thread; fail (instead of hanging the suite) if it blocks."""
    box: dict = {}
    t = threading.Thread(target=lambda: box.update(r=fn()), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still blocked after {seconds} s (reading a pipe?)"
    return box["r"]


def test_a_layer_that_is_a_fifo_is_exit_2_not_a_hang(tmp_path):
    fifo = tmp_path / "parks.gpkg"
    os.mkfifo(fifo)
    r = _within(30, lambda: attack(["redlines", fifo, DATA / "redlines.gpkg"],
                                   expect=BAD_INPUT))
    assert r.says("parks.gpkg", "not a regular file", "pipe")


def test_a_study_layer_that_is_a_fifo_is_exit_2_not_a_hang(tmp_path):
    fifo = tmp_path / "unis.csv"
    os.mkfifo(fifo)
    s = _study(tmp_path, "s.toml", f'[study]\nname = "t"\n[layers.unis]\npath = "{fifo}"\n'
               'role = "universities"\ncoords = "wgs84"\n'.encode())
    r = _within(30, lambda: attack(["check", s], inputs=[s], expect=BAD_INPUT))
    assert r.says("unis.csv", "not a regular file")


def test_incoming_firms_that_are_a_fifo_are_exit_2_not_a_hang(tmp_path):
    fifo = tmp_path / "incoming.csv"
    os.mkfifo(fifo)
    study = Path(__file__).resolve().parents[2] / "layers" / "yrd.toml"
    r = _within(60, lambda: attack(["layout", study, "--park", "chongming", "--firms", fifo,
                                    "--out", tmp_path / "l.gpkg"], expect=BAD_INPUT,
                                   out_dir=tmp_path))
    assert r.says("--firms", "incoming.csv", "not a regular file")
