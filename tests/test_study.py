"""Study files: the bundled one loads; a broken one reports every problem at once."""

from __future__ import annotations

import shutil

import pytest

from geo.errors import InputError, StudyError
from geo.study import load_study


def test_bundled_study_loads(yrd_study):
    assert yrd_study.name == "yrd"
    assert {"parks", "redlines", "highways", "dem"} <= set(yrd_study.layers)
    assert yrd_study.spec("dem").is_raster
    assert yrd_study.spec("parks").options["label_en"].startswith("Parks")
    assert yrd_study.load("parks").attrs["layer_key"] == "parks"
    assert yrd_study.area_crs.is_projected


def _study(tmp_path, root, text: str):
    folder = tmp_path / "layers"
    folder.mkdir()
    # Data beside the study, as in the repository.
    shutil.copytree(root / "data" / "yrd", tmp_path / "data" / "yrd")
    p = folder / "s.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_every_problem_is_reported_at_once(tmp_path, root):
    p = _study(tmp_path, root, """
[study]
name = "t"
boundry = "area"

[layers.parks]
path = "../data/yrd/parkz.gpkg"
role = "parks"

[layers.zones]
path = "../data/yrd/redlines.gpkg"
role = "redline"
coords = "mars"

[layers.roads]
path = "../data/yrd/base.gpkg"
layer = "highway"
role = "roads"
pth = "x"

[layers.dem]
path = "../data/yrd/base.gpkg"
role = "dem"

[redlines]
buffer_m = -5
""")
    with pytest.raises(StudyError) as exc:
        load_study(p)
    msg = str(exc.value)
    expected = [
        "study.boundry: unknown key; did you mean 'boundary'?",
        "layers.parks.path: file ../data/yrd/parkz.gpkg not found; did you mean "
        "../data/yrd/parks.gpkg?",
        "layers.zones.role: unknown role 'redline'; did you mean 'redlines'?",
        "layers.zones.coords: 'mars' is not one of wgs84, cgcs2000, gcj02",
        "layers.roads.pth: unknown key; did you mean 'path'?",
        "layers.roads.layer: ../data/yrd/base.gpkg has no layer 'highway'; did you mean "
        "'highways'?",
        "layers.dem.path: role 'dem' needs a raster (GeoTIFF)",
        "redlines.buffer_m: must be a number ≥ 0 (m), got -5",
        # a consequence of the role typo, said once
        'redlines: the study has no layer with role = "redlines"',
    ]
    for e in expected:
        assert e in msg, f"missing: {e}\n---\n{msg}"
    assert len(exc.value.problems) == len(expected)
    assert msg.startswith(f"{p}: {len(expected)} problems in the study file")


def test_toml_syntax_error_has_the_line(tmp_path, root):
    p = _study(tmp_path, root, "[study\nname = 1\n")
    with pytest.raises(StudyError, match=r"not valid TOML.*line 1"):
        load_study(p)


def test_missing_study_file(root):
    with pytest.raises(StudyError, match=r"yrdd\.toml not found; did you mean .*yrd\.toml"):
        load_study(root / "layers" / "yrdd.toml")


def test_unknown_section_suggests(tmp_path, root):
    p = _study(tmp_path, root, """
[layers.parks]
path = "../data/yrd/parks.gpkg"
role = "parks"
[redline]
buffer_m = 10
""")
    with pytest.raises(StudyError, match=r"redline: unknown section; did you mean \[redlines\]"):
        load_study(p)


def test_spec_by_role_and_errors(yrd_study):
    assert yrd_study.spec("parks").key == "parks"
    with pytest.raises(InputError, match=r"3 layers have role 'water'"):
        yrd_study.spec("water")
    with pytest.raises(InputError, match=r"no layer 'schools'"):
        yrd_study.spec("schools")
