"""geo.suitability.chunked: suitability on tiles with Dask equals the in-memory engine on
the bundled YRD study (1 km cells, 48-cell tiles: 25 tiles, 40 tile borders), on a
2-worker LocalCluster of processes; and ``parksite suitability --engine dask`` writes
Cloud-Optimized GeoTIFFs with overviews."""

from __future__ import annotations

import warnings
from pathlib import Path

import dask
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner
from rasterio import features

from geo import compute
from geo.errors import InputError, ModelError
from geo.study import load_study
from geo.suitability import chunked, run_suitability

ROOT = Path(__file__).resolve().parents[1]
YRD = ROOT / "layers" / "yrd.toml"
CELL_M = 1000.0
TILE = 48

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    with compute.client(n_workers=2, processes=True, memory_gb=2.0) as c:
        yield c


def _study():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_study(YRD)


@pytest.fixture(scope="module")
def in_memory(tmp_path_factory):
    out = tmp_path_factory.mktemp("mem")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_suitability(_study(), cell_m=CELL_M, out_dir=out, engine="memory")
    return res, out


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as ds:
        return ds.read(1)


def _labels(cands: gpd.GeoDataFrame, res) -> np.ndarray:
    """The candidate regions burnt into the grid, by region id (0 = none)."""
    g = cands.to_crs(res.grid.crs)
    return features.rasterize(zip(g.geometry.values, g["region_id"].to_numpy(), strict=True),
                              out_shape=res.grid.shape, transform=res.grid.transform, fill=0,
                              dtype="int32")


def _same_up_to_relabelling(a: np.ndarray, b: np.ndarray) -> None:
    assert ((a > 0) == (b > 0)).all()
    pairs = np.unique(np.stack([a[a > 0], b[b > 0]]), axis=1)
    # a bijection: each label of one side meets exactly one label of the other
    assert len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]


def _missing_bracket(bracket):
    """``_bracket`` whose every third run's bracket lies above every score: those runs
    miss and take the exact fallback (per-run histograms, then the values in the bin)."""
    def wrapped(*args, **kwargs):
        lo, hi = bracket(*args, **kwargs)
        lo, hi = lo.copy(), hi.copy()
        lo[::3] = hi[::3] = 2.0
        return lo, hi
    return wrapped


@pytest.mark.parametrize("sample_cells,missed", [(None, False), (10_000, False),
                                                 (10_000, True)],
                         ids=["all-cells", "bracket", "bracket-missed"])
def test_chunked_equals_in_memory_on_yrd(cluster, in_memory, tmp_path, monkeypatch,
                                         sample_cells, missed):
    mem, mem_dir = in_memory
    if sample_cells:  # a sample of ~20 % of the cells: bracketed Monte Carlo thresholds
        monkeypatch.setattr(chunked, "SAMPLE_CELLS", sample_cells)
        monkeypatch.setattr(chunked, "BRACKET_CELLS", sample_cells)
    if missed:
        monkeypatch.setattr(chunked, "_bracket", _missing_bracket(chunked._bracket))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seen: set[str] = set()
        ch = chunked.run_chunked(_study(), cell_m=CELL_M, out_dir=tmp_path, tile_side=TILE,
                                 progress=lambda desc, done, total: seen.add(desc))
    if sample_cells:  # the bracket path ran: the thresholds pass is timed
        assert "stability: thresholds" in seen
    assert ("stability: histograms" in seen) == missed  # the fallback ran, only then
    eng = ch.model_card["engine"]
    assert eng["tiles"] == 25 and eng["workers"] == 2
    assert ch.score is None  # never held: the rasters are in the files
    for name in ("suitability.tif", "stability.tif"):
        a, b = _read(mem_dir / name), _read(tmp_path / name)
        assert (np.isnan(a) == np.isnan(b)).all(), name
        np.testing.assert_allclose(b[~np.isnan(b)], a[~np.isnan(a)], atol=1e-6, err_msg=name)
    code = _read(mem_dir / "exclusion.tif")
    assert (code == _read(tmp_path / "exclusion.tif")).all()
    assert len(np.unique(code)) >= 5  # red line, buffer, water, land use, outside, scored
    for key in ("top_cells", "exclusion_codes", "grid"):
        assert ch.model_card[key] == mem.model_card[key], key
    assert ch.model_card["stability"] == mem.model_card["stability"]
    a, b = mem.candidates, ch.candidates
    assert len(a) > 20 and (a["parent_region"] != a["region_id"]).any()  # regions were cut
    cols = [c for c in a.columns if c != "geometry"]
    pd.testing.assert_frame_equal(pd.DataFrame(a[cols]), pd.DataFrame(b[cols]),
                                  check_exact=False, rtol=1e-6)
    diff = a.to_crs(mem.grid.crs).geometry.symmetric_difference(
        b.to_crs(mem.grid.crs).geometry, align=False).area
    assert diff.max() < 1e-3  # m²
    _same_up_to_relabelling(_labels(a, mem), _labels(b, mem))
    if sample_cells:
        raw = ch.model_card["criteria"][0]["raw_in_scored_cells"]
        assert 0 < raw["median_from_sample_of_cells"] < 20_000


def test_dask_engine_through_the_cli_writes_cogs(cluster, in_memory, tmp_path):
    from geo.cli import main

    mem, mem_dir = in_memory
    r = CliRunner().invoke(main, ["suitability", str(YRD), "--engine", "dask", "--cell-m",
                                  str(CELL_M), "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "Dask dashboard: http" in r.output and "dask engine:" in r.output
    for name in ("suitability.tif", "exclusion.tif", "stability.tif"):
        with rasterio.open(tmp_path / name) as ds:
            assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
            assert ds.profile["tiled"] and ds.block_shapes[0] == (256, 256)
            assert ds.compression.name.lower() == "deflate"
            assert ds.overviews(1) == [2]
            assert ds.crs == rasterio.crs.CRS.from_wkt(mem.grid.crs.to_wkt())
            assert ds.transform == mem.grid.transform
            b = ds.read(1)
            assert ds.descriptions[0]
            if name == "exclusion.tif":
                assert ds.colormap(1)[3][:3] != (0, 0, 0)  # the red line has its colour
                assert "EXCLUSION_CODE_3" in ds.tags()
        a = _read(mem_dir / name)
        assert ((a == b) | (np.isnan(a) & np.isnan(b))).all(), name
    assert not list(tmp_path.glob(".*"))  # no scratch file left


@pytest.mark.filterwarnings("ignore:study .yrd. straddles")
def test_engine_choice_and_bad_input(cluster, tmp_path):
    st = _study()
    cfg = chunked._run_config(st, {"cell_m": CELL_M})
    settings = compute.ComputeSettings(memory_gb=0.001)  # 48,564 cells × 88 B > 1 MiB
    assert chunked.choose_engine(st, cfg, "auto", settings) == "dask"
    assert chunked.choose_engine(st, cfg, "auto", compute.ComputeSettings()) == "memory"
    assert chunked.choose_engine(st, cfg, "memory", settings) == "memory"
    with pytest.raises(ModelError, match="give an output folder"):
        chunked.run_chunked(st, cell_m=CELL_M)
    with pytest.raises(ModelError, match="multiple of 16"):
        chunked.run_chunked(st, cell_m=CELL_M, out_dir=tmp_path, tile_side=50)
    assert not list(tmp_path.iterdir())
    with pytest.raises(ModelError, match=r"over the dask engine's .* Use cell_m ≥ \d+"):
        chunked.run_chunked(st, cell_m=1.0, out_dir=tmp_path)
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}), \
            pytest.raises(InputError, match=r"could not reach the Dask scheduler tcp://127"):
        chunked.run_chunked(st, cell_m=CELL_M, out_dir=tmp_path, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ModelError, match="use it with --engine dask"):
        run_suitability(st, cell_m=CELL_M, engine="memory", scheduler="tcp://h:8786")


def test_chunked_equals_in_memory_for_an_industry(cluster, tmp_path):
    """Supplier access (sampled every 5 km, interpolated per tile) and restricted zones
    banning the industry, on tiles as on the whole grid."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mem = run_suitability(_study(), industry="biomedicine", cell_m=CELL_M,
                              out_dir=tmp_path / "mem", engine="memory", runs=20)
        ch = chunked.run_chunked(_study(), industry="biomedicine", cell_m=CELL_M,
                                 out_dir=tmp_path / "dask", tile_side=TILE, runs=20)
    assert "supplier_access" in [c["name"] for c in ch.model_card["criteria"]]
    for name in ("suitability.tif", "exclusion.tif", "stability.tif"):
        a, b = _read(tmp_path / "mem" / name), _read(tmp_path / "dask" / name)
        same = np.isclose(a, b, atol=1e-6, rtol=0) | (np.isnan(a) & np.isnan(b))
        assert same.all(), name
    cols = [c for c in mem.candidates.columns if c != "geometry"]
    pd.testing.assert_frame_equal(pd.DataFrame(mem.candidates[cols]),
                                  pd.DataFrame(ch.candidates[cols]), check_exact=False,
                                  rtol=1e-6)


@pytest.mark.parametrize("cells, budget_gb, workers, expect", [
    (6_540_352, 11.5, 2, 1280),     # 河北 at 250 m: memory would allow one 4,352-cell tile
    (400_000, 11.5, 2, 512),        # small grid: never below MIN_AUTO_TILE
    (19_197_255, 2.0, 2, 1280),     # YRD at 50 m on 2 GiB: memory sets the side
    (10**9, 64.0, 8, 5120),         # China at 100 m on a big cluster: memory sets it
])
def test_automatic_tiles_keep_every_worker_busy(cells, budget_gb, workers, expect):
    side = chunked._tile_side(budget_gb, None, workers, cells)
    assert side == expect and side % 256 == 0
    # a tile for every worker at least, unless the grid is small for the smallest tile
    assert cells / side**2 >= workers or side == chunked.MIN_AUTO_TILE
    assert chunked._tile_side(budget_gb, 64, workers, cells) == 64   # a given side is kept

