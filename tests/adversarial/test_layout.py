"""Adversarial corpus: park layouts that cannot be made, or only in part.

Every case runs ``parksite layout`` through :func:`attack`: no traceback (never an
IndexError), no changed input, no partial GeoPackage on failure. A layout with no
placeable firm, no buildable land or no plot is an error naming the park or the firms
and the fix (exit 2); a layout where only some firms fit is written with an
"unplaced: reason" table (exit 0).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from ._harness import BAD_INPUT, OK, attack

ROOT = Path(__file__).resolve().parents[2]
CRS = "EPSG:4549"  # CGCS2000 Gauss–Krüger CM 120°E, metres
X0, Y0 = 550_000.0, 3_430_000.0
YRD = ROOT / "layers" / "yrd.toml"


def _study(folder: Path, *, zone: tuple[float, float, float, float] = (1500, 0, 1900, 1200),
           homes: tuple[float, float, float, float] = (-500, 0, -100, 400),
           layout: str = "") -> Path:
    """A 1.2 km × 1.2 km park (metres from X0, Y0), a red line ``zone`` and homes, with
    the bundled chain maps; ``layout`` is appended to its ``[layout]`` table."""
    folder.mkdir(parents=True, exist_ok=True)
    box = lambda b: shapely.box(X0 + b[0], Y0 + b[1], X0 + b[2], Y0 + b[3])  # noqa: E731
    gpd.GeoDataFrame({"park_id": ["p1"], "name": ["测试园区"]}, geometry=[box((0, 0, 1200, 1200))],
                     crs=CRS).to_crs(4326).to_file(folder / "parks.gpkg")
    gpd.GeoDataFrame({"zone_id": ["z1"], "name": ["湿地"], "class": ["redline"]},
                     geometry=[box(zone)], crs=CRS).to_crs(4326).to_file(folder / "zones.gpkg")
    gpd.GeoDataFrame({"id": ["h1"], "name": ["村庄"]}, geometry=[box(homes)],
                     crs=CRS).to_crs(4326).to_file(folder / "homes.gpkg")
    (folder / "study.toml").write_text(f"""[study]
name = "adversarial layout"
crs = "{CRS}"
[layers.parks]
path = "parks.gpkg"
role = "parks"
id = "park_id"
[layers.zones]
path = "zones.gpkg"
role = "redlines"
id = "zone_id"
class = "class"
[layers.homes]
path = "homes.gpkg"
role = "residential"
id = "id"
[layout]
time_limit_s = 5
road_width_m = 20
plot_mu = 30
road_spacing_m = 300
{layout}
[sourcing]
chains = "{(ROOT / 'data' / 'chains').as_posix()}"
""", encoding="utf-8")
    return folder / "study.toml"


def _firms(path: Path, rows: list[tuple[str, str, object]], header: str = "firm_id,industry,"
           "land_mu", extra: str = "") -> Path:
    path.write_text("\n".join([header + extra] + [",".join(map(str, r)) for r in rows]) + "\n",
                    encoding="utf-8")
    return path


def _layout(study: Path, firms: Path, out: Path, park: str = "p1", expect: int = OK):
    out.parent.mkdir(parents=True, exist_ok=True)
    return attack(["layout", study, "--park", park, "--firms", firms, "--out", out],
                  inputs=[study.parent, firms], out_dir=out.parent, expect=expect)


@pytest.fixture(scope="module")
def park_study(tmp_path_factory) -> Path:
    return _study(tmp_path_factory.mktemp("advlayout") / "study")


def test_no_placeable_firm_names_every_firm_and_the_fix(park_study, tmp_path):
    firms = _firms(tmp_path / "big.csv", [("BIG1", "pcb", 50000), ("BIG2", "pcb", 80000)])
    out = _layout(park_study, firms, tmp_path / "out" / "l.gpkg", expect=BAD_INPUT)
    assert out.says("park p1", "none of the 2 incoming firm", "BIG1", "BIG2",
                    "50,000 亩 of contiguous land", "lower the firms' land_mu")
    assert not (tmp_path / "out" / "l.gpkg").exists()


def test_firm_larger_than_every_block_is_unplaced_with_its_reason(park_study, tmp_path):
    firms = _firms(tmp_path / "f.csv", [("OK1", "pcb", 20), ("HUGE", "pcb", 5000)])
    gpkg = tmp_path / "out" / "l.gpkg"
    out = _layout(park_study, firms, gpkg)
    assert out.says("unplaced", "HUGE", "widen road_spacing_m")
    unplaced = gpd.read_file(gpkg, layer="unplaced")
    assert unplaced["firm_id"].tolist() == ["HUGE"]
    assert unplaced["reason"].str.contains("5,000 亩 of contiguous land").all()
    placed = gpd.read_file(gpkg, layer="assignments")
    assert placed["firm_id"].tolist() == ["OK1"]


def test_more_firms_than_plots_leaves_the_rest_unplaced_park_full(park_study, tmp_path):
    rows = [(f"M{i:03d}", "pcb", 25) for i in range(120)]
    gpkg = tmp_path / "out" / "l.gpkg"
    out = _layout(park_study, _firms(tmp_path / "many.csv", rows), gpkg)
    placed = gpd.read_file(gpkg, layer="assignments")
    unplaced = gpd.read_file(gpkg, layer="unplaced")
    assert 0 < len(placed) < 120 and len(unplaced) == 120 - len(placed)
    assert set(placed["firm_id"]).isdisjoint(unplaced["firm_id"])
    plots = gpd.read_file(gpkg, layer="plots")
    assert not ((plots["status"] == "free") & (plots["area_mu"] >= 25)).any()
    assert unplaced["reason"].str.startswith("park full").all()
    assert out.says("park full")


def test_park_inside_a_red_line_has_no_buildable_land(tmp_path):
    study = _study(tmp_path / "s", zone=(-100, -100, 1300, 1300))
    firms = _firms(tmp_path / "f.csv", [("A", "pcb", 20)])
    out = _layout(study, firms, tmp_path / "out" / "l.gpkg", expect=BAD_INPUT)
    assert out.says("park p1", "no buildable land", "lower the setbacks")


def test_pieces_all_below_min_plot_size_is_an_error_not_an_empty_layout(tmp_path):
    study = _study(tmp_path / "s", layout="min_plot_mu = 5000")
    firms = _firms(tmp_path / "f.csv", [("A", "pcb", 20)])
    out = _layout(study, firms, tmp_path / "out" / "l.gpkg", expect=BAD_INPUT)
    assert out.says("park p1", "no plot of at least 5000 亩", "lower layout.min_plot_mu")


def test_polluter_with_no_plot_clear_of_homes_is_refused(tmp_path):
    study = _study(tmp_path / "s", layout="polluter_setback_m = 3000")
    firms = _firms(tmp_path / "f.csv", [("CHEM", "pcb", 20, "true")], extra=",polluting")
    out = _layout(study, firms, tmp_path / "out" / "l.gpkg", expect=BAD_INPUT)
    assert out.says("CHEM", "polluting: no plot is 3000 m from red lines")


def test_empty_firms_table(park_study, tmp_path):
    firms = _firms(tmp_path / "none.csv", [])
    out = _layout(park_study, firms, tmp_path / "out" / "l.gpkg", expect=BAD_INPUT)
    assert out.says("none.csv", "no firms")


def test_firm_with_no_land_need_names_row_and_firm(park_study, tmp_path):
    firms = _firms(tmp_path / "f.csv", [("A", "pcb", 20), ("ZERO", "pcb", 0)])
    out = _layout(park_study, firms, tmp_path / "out" / "l.gpkg", expect=BAD_INPUT)
    assert out.says("f.csv", "row 3", "firm ZERO", "must be a number of 亩 > 0")


def test_unknown_industry_suggests_the_chain_map_id(park_study, tmp_path):
    firms = _firms(tmp_path / "f.csv", [("A", "pcbb", 20)])
    out = _layout(park_study, firms, tmp_path / "out" / "l.gpkg", expect=BAD_INPUT)
    assert out.says("'pcbb'", "did you mean 'pcb'", "chain map")


def test_unknown_park_on_the_bundled_study(tmp_path):
    firms = _firms(tmp_path / "f.csv", [("A", "pcb", 20)])
    out = _layout(YRD, firms, tmp_path / "out" / "l.gpkg", park="chongmin", expect=BAD_INPUT)
    assert out.says("--park chongmin", "did you mean 'chongming'")
