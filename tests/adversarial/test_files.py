"""Files and paths: hostile study files, data strings that would become paths, markup in
names and messages, outputs that would overwrite inputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from geo.errors import OutputError
from geo.io import refuse_overwriting_input, safe_component, write_text

from ._harness import BAD_INPUT, attack

STUDY = b'[study]\nname = "x"\n'


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
    ("bom.toml", b"\xef\xbb\xbf" + STUDY, ["bom.toml"]),
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
