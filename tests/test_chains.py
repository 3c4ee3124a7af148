"""Chain maps (geo.chains): the bundled maps, validation, input–output tables, edge lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.chains import DEFAULT_DIR, load_chains, read_supplier_edges
from geo.errors import MissingFileError, ModelError

CHAIN = """
[chain]
id = "t"
name_zh = "测试"
name_en = "Test"

[industries.assembly]
name_zh = "整机"
name_en = "Assembly"
anchor = true
input_ratio = 0.5
inputs = {{ {inputs} }}

[industries.parts]
name_zh = "零件"
name_en = "Parts"

[industries.metal]
name_zh = "金属"
name_en = "Metal"
"""


def write(tmp_path: Path, inputs: str, name: str = "t.toml") -> Path:
    p = tmp_path / name
    p.write_text(CHAIN.format(inputs=inputs), encoding="utf-8")
    return p


def test_bundled_chains():
    c = load_chains()
    assert set(c.chains.index) == {"electronics", "wind", "battery", "biomedicine", "chemicals"}
    assert len(c.ids) == 45
    # every file says its weights are illustrative
    for f in DEFAULT_DIR.glob("*.toml"):
        assert "illustrative unless sourced" in f.read_text(encoding="utf-8"), f
    assert (c.chains["weights"] == "illustrative").all()
    # symbiosis: battery recycling → cathode materials
    bp = c.byproducts
    assert ((bp.from_industry == "battery_recycling") &
            (bp.to_industry == "cathode_materials")).any()
    # biomedicine: R&D → CRO → pilot → manufacturing
    assert "biomed_rd" in c.inputs_of("cro")
    assert "cro" in c.inputs_of("pilot_production")
    assert "pilot_production" in c.inputs_of("biopharma_manufacturing")
    assert c.inputs_of("notebook_assembly")["motherboards"] == pytest.approx(0.22)
    assert c.label("wind_blades") == "风电叶片 Wind turbine blades"
    for j, ins in c.inputs.items():
        assert sum(ins.values()) <= 1 + 1e-9, j
        assert j not in ins


def test_weight_matrix():
    c = load_chains()
    W, ids = c.weight_matrix(["battery_cells", "cathode_materials", "battery_recycling"])
    assert W[0, 1] == pytest.approx(0.38) and W[1, 2] == pytest.approx(0.20)
    assert W[2, 0] == pytest.approx(0.30)  # the recycling loop


def test_small_chain_loads(tmp_path):
    c = load_chains(write(tmp_path, "parts = 0.6, metal = 0.3"))
    assert c.inputs_of("assembly") == {"parts": 0.6, "metal": 0.3}
    assert c.inputs_of("parts") == {}
    assert c.industries.at["assembly", "input_ratio"] == 0.5


def test_unknown_industry(tmp_path):
    with pytest.raises(ModelError, match=r"unknown industry 'partz'; did you mean 'parts'"):
        load_chains(write(tmp_path, "partz = 0.6"))
    c = load_chains(write(tmp_path, "parts = 0.6"))
    with pytest.raises(ModelError, match="'foo' is not in the chain maps"):
        c.inputs_of("foo")


def test_weights_must_sum_to_at_most_one(tmp_path):
    with pytest.raises(ModelError, match=r"weights sum to 1\.200 > 1"):
        load_chains(write(tmp_path, "parts = 0.7, metal = 0.5"))


def test_bad_weights_and_self_input(tmp_path):
    with pytest.raises(ModelError, match="weight must be a number > 0"):
        load_chains(write(tmp_path, "parts = 0"))
    with pytest.raises(ModelError, match="cannot be its own input"):
        load_chains(write(tmp_path, "assembly = 0.2"))


def test_all_problems_reported_at_once(tmp_path):
    with pytest.raises(ModelError, match=r"2 problem\(s\)") as e:
        load_chains(write(tmp_path, "partz = 0.7, metal = 0.5"))
    assert "partz" in str(e.value) and "sum to" in str(e.value)


def test_duplicate_industry_and_missing_file(tmp_path):
    write(tmp_path, "parts = 0.5", "a.toml")
    (tmp_path / "b.toml").write_text(CHAIN.format(inputs="parts = 0.5").replace('id = "t"',
                                                                            'id = "u"'),
                                     encoding="utf-8")
    with pytest.raises(ModelError, match="defined twice"):
        load_chains(tmp_path)
    with pytest.raises(MissingFileError, match="chain map not found"):
        load_chains(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("[chain\n", encoding="utf-8")
    with pytest.raises(ModelError, match="not valid UTF-8 TOML"):
        load_chains(tmp_path / "bad.toml")


def test_io_table_replaces_weights(tmp_path):
    c = load_chains(write(tmp_path, "parts = 0.6"))
    io = tmp_path / "io.csv"
    io.write_text("supplier,assembly,parts,metal\nassembly,0.05,0,0\nparts,0.30,0,0\n"
                  "metal,0.10,0.40,0\n", encoding="utf-8")
    c2 = c.with_io_table(io)
    assert c2.inputs_of("assembly") == pytest.approx({"parts": 0.30, "metal": 0.10})
    assert c2.inputs_of("parts") == pytest.approx({"metal": 0.40})
    assert c2.industries.at["assembly", "input_ratio"] == pytest.approx(0.40)
    assert any("own-industry" in n for n in c2.notes)
    io.write_text("supplier,assembly\nparts,0.8\nmetal,0.5\n", encoding="utf-8")
    with pytest.raises(ModelError, match="sums to 1.300 > 1"):
        c.with_io_table(io)
    io.write_text("supplier,assembly\nparts,-0.1\n", encoding="utf-8")
    with pytest.raises(ModelError, match="negative"):
        c.with_io_table(io)
    io.write_text("supplier,assembly\nparts,abc\n", encoding="utf-8")
    with pytest.raises(ModelError, match="must be a number"):
        c.with_io_table(io)


def test_supplier_edge_list(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("firm_id,supplier_id,value\nF1,F2,10\nF1,F3,5\n", encoding="utf-8")
    e = read_supplier_edges(p)
    assert e["value"].tolist() == [10.0, 5.0]
    p.write_text("firm,supplier\nF1,F2\n", encoding="utf-8")
    with pytest.raises(ModelError, match="missing column"):
        read_supplier_edges(p)
    p.write_text("firm_id,supplier_id\nF1,F1\n", encoding="utf-8")
    with pytest.raises(ModelError, match="own supplier"):
        read_supplier_edges(p)


# ------------------------------------------------------------ the library: dependencies

@pytest.mark.parametrize("name", sorted(f.name for f in DEFAULT_DIR.glob("*.toml")))
def test_every_bundled_chain_map_loads_on_its_own(name):
    c = load_chains([DEFAULT_DIR / name])
    own = c.chains.index[c.chains["needed_for"] == ""].tolist()
    assert own == [name.removesuffix(".toml")]
    # every industry any loaded file names is defined, and the dependencies say why
    named = set(c.inputs) | {s for ins in c.inputs.values() for s in ins} | \
        set(c.byproducts["to_industry"])
    assert named <= set(c.ids)
    assert len(c.notes) == len(c.chains) - 1
    assert all("loaded for" in n for n in c.notes)


def test_a_dependency_is_loaded_with_the_reason(tmp_path):
    p = tmp_path / "my.toml"
    p.write_text(CHAIN.format(inputs="parts = 0.3, resins = 0.2"), encoding="utf-8")
    c = load_chains(p)
    assert c.inputs_of("assembly") == {"parts": 0.3, "resins": 0.2}
    assert c.chains.at["chemicals", "needed_for"] == "resins (named in my.toml)"
    assert c.industries.at["resins", "chain"] == "chemicals"
    assert any("chemicals.toml loaded for resins" in n for n in c.notes)


def test_a_local_library_folder_comes_before_the_bundled_one(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "mine.toml").write_text(
        '[chain]\nid = "mine"\n\n[industries.resins]\nname_zh = "树脂"\nname_en = "Resins"\n',
        encoding="utf-8")
    p = tmp_path / "t.toml"
    p.write_text(CHAIN.format(inputs="resins = 0.2"), encoding="utf-8")
    c = load_chains(p, library=lib)
    assert c.industries.at["resins", "chain"] == "mine"
    assert "chemicals" not in c.chains.index


def test_two_library_files_defining_one_industry_clash(tmp_path):
    for name in ("a.toml", "b.toml"):
        (tmp_path / name).write_text(f'[chain]\nid = "{name[0]}"\n\n[industries.glue]\n'
                                     'name_zh = "胶"\nname_en = "Glue"\n', encoding="utf-8")
    sub = tmp_path / "studies"
    sub.mkdir()
    p = sub / "t.toml"
    p.write_text(CHAIN.format(inputs="glue = 0.2"), encoding="utf-8")
    with pytest.raises(ModelError, match=r"industry 'glue' is defined in both .*a\.toml and "
                                         r".*b\.toml"):
        load_chains(p, library=tmp_path)


def test_did_you_mean_searches_every_chain_file(tmp_path):
    with pytest.raises(ModelError, match=r"unknown industry 'wind_bladez'; did you mean "
                                         r"'wind_blades' \(wind\.toml\)\?"):
        load_chains(write(tmp_path, "wind_bladez = 0.2"))
    c = load_chains(write(tmp_path, "parts = 0.2"))
    assert "wind_blades" not in c
    with pytest.raises(ModelError, match=r"'wind_blades' is not in the loaded chain maps .*"
                                         r"defined in .*wind\.toml: add that file"):
        c.check_industry("wind_blades")
    with pytest.raises(ModelError, match=r"did you mean 'wind_blades' \(wind\.toml\)\?"):
        c.check_industry("wind_bladez")


def test_loops_between_chain_maps_resolve_from_either_file(tmp_path):
    (tmp_path / "a.toml").write_text(
        '[chain]\nid = "a"\n\n[industries.x]\nname_zh = "甲"\nname_en = "X"\n'
        'inputs = { y = 0.5 }\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text(
        '[chain]\nid = "b"\n\n[industries.y]\nname_zh = "乙"\nname_en = "Y"\n'
        'byproducts = [{ material = "scrap", to = "x" }]\n', encoding="utf-8")
    for first, other in (("a", "b"), ("b", "a")):
        c = load_chains(tmp_path / f"{first}.toml")
        assert sorted(c.chains.index) == ["a", "b"]
        assert c.chains.at[other, "needed_for"] != "" and c.chains.at[first, "needed_for"] == ""
    assert c.inputs_of("x") == {"y": 0.5}
    assert c.byproducts["to_industry"].tolist() == ["x"]
