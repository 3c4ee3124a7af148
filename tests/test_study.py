"""Study files: the bundled one loads; a broken one reports every problem at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geo.errors import InputError, StudyError
from geo.study import load_study

ROOT = Path(__file__).resolve().parent.parent


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


# --------------------------------------------------------------------------- the config model

def test_readme_key_reference_is_generated_from_the_model():
    from geo.config import reference_markdown

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- BEGIN KEYS -->\n", 1)[1].split("<!-- END KEYS -->", 1)[0]
    assert block == reference_markdown(), \
        "README study file reference drifted: paste `parksite check --keys --markdown`"


def test_every_declared_key_is_documented_and_typed():
    import dataclasses

    from geo.config import SECTIONS, LayerConfig, reference

    rows = reference()
    keys = {(sec, key) for sec, key, *_ in rows}
    for name, cls in [*SECTIONS.items(), ("layers.KEY", LayerConfig)]:
        for f in dataclasses.fields(cls):
            s = f.metadata.get("setting")
            assert s is not None and s.doc, f"{name}.{f.name} has no declaration"
            assert (name, s.key or f.name) in keys
    assert all(doc for *_, doc in rows)


def test_replace_revalidates_and_names_the_setting(yrd_study):
    from geo.config import replace
    from geo.errors import InputError

    lay = replace(yrd_study.config.layout, yrd_study, plot_mu=30)
    assert lay.plot_mu == 30 and yrd_study.config.layout.plot_mu != 30
    with pytest.raises(InputError, match=r"layout\.plot_mu: must be a number > 0"):
        replace(yrd_study.config.layout, yrd_study, plot_mu=-1)
    with pytest.raises(InputError, match=r"unknown setting 'plot_muu'.*did you mean 'plot_mu'"):
        replace(yrd_study.config.layout, yrd_study, plot_muu=3)
    with pytest.raises(InputError, match="road_width_m"):  # cross-field check re-run
        replace(yrd_study.config.layout, yrd_study, road_width_m=500)


def test_config_sections_are_typed_on_the_study(yrd_study):
    cfg = yrd_study.config
    assert cfg.redlines.buffer_m == 1000.0 and isinstance(cfg.redlines.buffer_m, float)
    assert cfg.sourcing.radius_km == 100.0
    assert cfg.suitability is not None and cfg.suitability.constraints.redline_buffer_m == 1000.0
    assert cfg.network.connectors is not None
    assert cfg.parks.recommend.industries  # [parks.recommend] industries


def test_every_section_problem_is_reported_at_once(tmp_path):
    from geo.errors import StudyError

    text = (ROOT / "layers" / "yrd.toml").read_text(encoding="utf-8").replace(
        '"../', f'"{ROOT.as_posix()}/')
    text += ("\n[compute]\nmemory_gb = -1\nschedular = 'tcp://x:1'\n")
    text = text.replace("max_snap_m = 5000", "max_snap_m = 0")
    p = tmp_path / "s.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(StudyError) as e:
        load_study(p)
    msg = str(e.value)
    assert "network.max_snap_m: must be a number > 0 (m), got 0" in msg
    assert "compute.memory_gb: must be a number > 0 (GiB), got -1" in msg
    assert "compute.schedular: unknown key; did you mean 'scheduler'?" in msg


def test_check_keys_lists_every_section():
    from click.testing import CliRunner

    from geo.cli import main

    r = CliRunner().invoke(main, ["check", "--keys", "--markdown"])
    assert r.exit_code == 0, r.output
    for sec in ("study", "layers.KEY", "redlines", "network", "sourcing", "suitability",
                "suitability.constraints", "parks", "parks.recommend", "layout", "map",
                "compute"):
        assert f"`[{sec}]`" in r.output
    r = CliRunner().invoke(main, ["check"])
    assert r.exit_code == 2 and "--keys" in r.output
