"""The bundled hand-added connectors (data/yrd/connectors.gpkg) of the YRD study."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[1]
CONN = ROOT / "data" / "yrd" / "connectors.gpkg"
BASE = ROOT / "data" / "yrd" / "base.gpkg"

#: name_zh -> (district of the first end, district of the last end)
BANKS = {
    "上海长江隧道": ("浦东新区", "崇明区"),  # Changxing Island is part of Chongming district
    "上海长江大桥": ("崇明区", "崇明区"),    # Changxing -> Chongming Island (Chenjia)
    "崇启大桥": ("崇明区", "启东市"),
    "江阴长江公路大桥": ("江阴市", "靖江市"),
}


@pytest.fixture(scope="module")
def conn() -> gpd.GeoDataFrame:
    return gpd.read_file(CONN, layer="connectors")


def test_every_connector_is_labelled_and_sourced(conn):
    assert sorted(conn["name_zh"]) == sorted(BANKS)
    assert (conn["note"] == "hand-added connector").all()
    assert conn["source"].str.len().gt(20).all()
    assert (conn["length_km_published"] > 0).all()
    assert conn.crs.to_epsg() == 4326


def test_each_end_lies_on_its_bank(conn):
    d = gpd.read_file(BASE, layer="districts").to_crs(4326)
    for _, row in conn.iterrows():
        ends = [shapely.get_point(row.geometry, 0), shapely.get_point(row.geometry, -1)]
        got = tuple(d.loc[d.contains(p), "name"].iloc[0] for p in ends)
        assert got == BANKS[row["name_zh"]], row["name_en"]


def test_the_study_declares_them():
    text = (ROOT / "layers" / "yrd.toml").read_text(encoding="utf-8")
    assert 'connectors = "../data/yrd/connectors.gpkg"' in text
    assert "hand-added connector" in text
