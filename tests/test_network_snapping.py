"""Snapping to roads, not nodes (issue 10): points enter the graph at both ends of the
nearest edge with the partial costs; one-way edges respected; exact against networkx on a
graph where every point is inserted into its edge."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from _gk import GK, gk_lines, gk_points

from geo.network import Network, _as_points_metric
from geo.study import load_study

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "layers" / "yrd.toml"
@pytest.fixture(scope="module")
def highway() -> Network:
    """A straight 60 km north–south highway made of one edge, with a 1 km spur at its
    south end (so the only nodes are 60 km apart, plus the spur's end)."""
    return Network.from_lines(gk_lines([[(0, 0), (0, 60_000)], [(0, 0), (1000, 0)]]), crs=GK)


def test_firm_142_m_from_a_highway_is_142_m_from_the_road(highway):
    s = highway.snap(gk_points([(142, 30_000)]))
    # the nearest node is 30 km away; the road is 142 m away
    assert s["snap_m"].iloc[0] == pytest.approx(142, abs=0.5)
    assert s["on_network"].iloc[0]
    assert s["frac"].iloc[0] == pytest.approx(0.5, abs=1e-3)


def test_along_a_straight_road_is_the_road_distance(highway):
    """19.1 km along one edge: no detour through the end nodes (was 57.3 km-like)."""
    o = gk_points([(100, 10_000)], ["a"])
    d = gk_points([(-50, 29_100)], ["b"])
    od = highway.od(o, d).iloc[0]
    assert od.network_m == pytest.approx(19_100 + 100 + 50, rel=2e-4)
    assert od.status == "ok"
    assert highway.distances(o, d)[0, 0] == pytest.approx(od.network_m, rel=1e-9)


def test_warning_names_the_distance_to_the_road(highway):
    with pytest.warns(UserWarning, match=r"p0: 7\.0 km from the nearest road"):
        s = highway.snap(gk_points([(7000, 40_000)]))
    assert not s["on_network"].iloc[0]


def test_one_way_edge_is_respected():
    """A → B one way (1 km), B → C → A back two-way (2 km, 1 km): along the one-way
    edge forward is direct, backward goes round."""
    net = Network.from_lines(gk_lines([[(0, 0), (1000, 0)], [(1000, 0), (1000, 1000)],
                                    [(1000, 1000), (0, 0)]], oneway=["yes", "no", "no"]),
                             crs=GK)
    p, q = gk_points([(300, 0)], ["p"]), gk_points([(700, 0)], ["q"])
    fwd = net.od(p, q).iloc[0]
    back = net.od(q, p).iloc[0]
    assert fwd.network_m == pytest.approx(400, rel=1e-3)
    # q → B (300) → C (1000) → A (1414.2) → p (300)
    assert back.network_m == pytest.approx(300 + 1000 + np.hypot(1000, 1000) + 300, rel=1e-3)
    d = net.distances(q, p)
    assert d[0, 0] == pytest.approx(back.network_m, rel=1e-9)


def test_dead_end_one_way_is_unreachable():
    net = Network.from_lines(gk_lines([[(0, 0), (1000, 0)]], oneway=["yes"]), crs=GK)
    with pytest.warns(UserWarning, match="no route"):
        od = net.od(gk_points([(700, 0)], ["q"]), gk_points([(300, 0)], ["p"]))
    assert od.status.tolist() == ["unreachable"]


def _reference(net: Network, so, sd, metric: str) -> np.ndarray:
    """networkx on a copy of the graph where every snapped point is a node inserted into
    its edge (chains of points on one edge sorted by position) plus an access arc."""
    cost = net.edge_length_m if metric == "length" else net.edge_time_min
    acc = (lambda m: m) if metric == "length" else \
        (lambda m: m / (net.access_speed_kmh * 1000 / 60))
    G = nx.DiGraph()
    pts = {}  # edge -> [(frac, node name)]
    for tag, s in (("o", so), ("d", sd)):
        for i in range(len(s.edge)):
            pts.setdefault(int(s.edge[i]), []).append((float(s.frac[i]), f"s{tag}{i}"))
            G.add_edge(f"{tag}{i}", f"s{tag}{i}", weight=float(acc(s.snap_m[i])))
            G.add_edge(f"s{tag}{i}", f"{tag}{i}", weight=float(acc(s.snap_m[i])))

    def add(a, b, w, one):
        if not G.has_edge(a, b) or G[a][b]["weight"] > w:
            G.add_edge(a, b, weight=w)
        if not one and (not G.has_edge(b, a) or G[b][a]["weight"] > w):
            G.add_edge(b, a, weight=w)

    for e in range(net.n_edges):
        u, v, c, one = int(net.edge_u[e]), int(net.edge_v[e]), float(cost[e]), \
            bool(net.edge_oneway[e])
        chain = [(0.0, u)] + sorted(pts.get(e, [])) + [(1.0, v)]
        for (fa, a), (fb, b) in zip(chain[:-1], chain[1:], strict=True):
            add(a, b, max((fb - fa) * c, 1e-9), one)
    out = np.full((len(so.edge), len(sd.edge)), np.inf)
    for i in range(len(so.edge)):
        d = nx.single_source_dijkstra_path_length(G, f"o{i}", weight="weight")
        for j in range(len(sd.edge)):
            out[i, j] = d.get(f"d{j}", np.inf)
    return out


def _random_points(net: Network, k: int, seed: int, spread_m: float) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    e = rng.choice(np.flatnonzero(net.component[net.edge_u] == net.main_component), k)
    at = shapely.line_interpolate_point(net.edge_geom_m[e], rng.random(k), normalized=True)
    xy = shapely.get_coordinates(at) + rng.normal(0, spread_m, (k, 2))
    return gpd.GeoDataFrame({"id": [f"x{i}" for i in range(k)]},
                            geometry=shapely.points(xy), crs=net.crs)


@pytest.fixture(scope="module")
def yrd_net() -> Network:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Network.from_study(load_study(STUDY))


@pytest.mark.parametrize("metric", ["length", "time"])
def test_edge_snapping_matches_networkx_on_yrd(yrd_net, metric):
    net = yrd_net
    o = _random_points(net, 12, 1, 300.0)
    d = _random_points(net, 15, 2, 300.0)
    # two destinations on the origins' own edges: the straight-along-the-edge case
    d = gpd.GeoDataFrame(
        {"id": list(d["id"]) + ["same0", "same1"]},
        geometry=list(d.geometry) + [shapely.Point(o.geometry.iloc[0].x + 5,
                                                   o.geometry.iloc[0].y + 5),
                                     o.geometry.iloc[1]], crs=net.crs)
    so = net.snap_xy(_as_points_metric(o, net.crs, "o")[1])
    sd = net.snap_xy(_as_points_metric(d, net.crs, "d")[1])
    ref = _reference(net, so, sd, metric)
    got = net.distances(o, d, metric=metric)
    fin = np.isfinite(ref)
    assert fin.sum() > 100
    np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-9, atol=1e-6)
    assert np.isinf(got[~fin]).all()
    od = net.od(o, d, metric=metric, limit_km=None)
    col = "network_m" if metric == "length" else "time_min"
    tab = od.pivot(index="origin_id", columns="dest_id", values=col).loc[o["id"], d["id"]]
    same = od.set_index(["origin_id", "dest_id"])["crow_m"].unstack().loc[o["id"], d["id"]]
    want = np.where(same.to_numpy() == 0, 0.0, ref)  # a point to itself costs nothing
    np.testing.assert_allclose(tab.to_numpy()[fin], want[fin], rtol=1e-9, atol=1e-6)


def test_osm_one_way_streets_match_networkx():
    net = Network.from_osm_xml(ROOT / "data" / "osm" / "shanghai_huangpu.osm")
    assert net.directed
    o = _random_points(net, 10, 3, 40.0)
    d = _random_points(net, 10, 4, 40.0)
    so = net.snap_xy(_as_points_metric(o, net.crs, "o")[1])
    sd = net.snap_xy(_as_points_metric(d, net.crs, "d")[1])
    ref = _reference(net, so, sd, "length")
    got = net.distances(o, d)
    fin = np.isfinite(ref)
    np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-9, atol=1e-6)
    assert not np.allclose(got, got.T)  # one-way streets: not symmetric


# --------------------------------------------------------------------------- connectors

def _river_study(tmp_path, connectors: gpd.GeoDataFrame | None) -> Path:
    """Two east–west roads 2 km apart across a river, joined only 40 km to the east."""
    roads = gk_lines([[(0, 0), (20_000, 0)], [(20_000, 0), (40_000, 0)],
                   [(0, 2000), (20_000, 2000)], [(20_000, 2000), (40_000, 2000)],
                   [(40_000, 0), (40_000, 2000)]])
    roads.to_file(tmp_path / "roads.gpkg")
    extra = ""
    if connectors is not None:
        connectors.to_file(tmp_path / "connectors.gpkg")
        extra = ('[layers.connectors]\npath = "connectors.gpkg"\nrole = "roads"\n'
                 'label_en = "Hand-added connector"\n\n[network]\nlayer = "roads"\n'
                 'connectors = "connectors"\n')
    p = tmp_path / "river.toml"
    p.write_text('[study]\nname = "river"\n\n[layers.roads]\npath = "roads.gpkg"\n'
                 f'role = "roads"\n\n{extra}', encoding="utf-8")
    return p


def test_connector_bridge_joins_the_banks(tmp_path):
    a, b = gk_points([(20_000, -100)], ["a"]), gk_points([(20_000, 2100)], ["b"])
    before = Network.from_study(load_study(_river_study(tmp_path, None))).od(a, b).iloc[0]
    assert before.network_m == pytest.approx(40_000 + 2000 + 200, rel=1e-3)
    bridge = gk_lines([[(20_030, 10), (19_990, 1985)]], kind=["bridge"], name_zh=["测试大桥"],
                   name_en=["Test bridge"], source=["fixture"], penalty_min=[3.0])
    net = Network.from_study(load_study(_river_study(tmp_path, bridge)))
    assert net.info["connectors"] == 1
    after = net.od(a, b).iloc[0]
    assert after.network_m == pytest.approx(2000 + 200, rel=1e-3)  # ends joined to the roads
    assert after.time_min == pytest.approx(2000 / (70 / 0.06) + 3.0 + 200 / (20 / 0.06),
                                           rel=1e-3)


def test_connectors_with_different_vertex_counts(tmp_path):
    """Two connectors, one straight (2 vertices) and one bent (4): both are joined (a
    ragged set of lines once crashed the build with "inhomogeneous shape")."""
    a, b = gk_points([(20_000, -100)], ["a"]), gk_points([(20_000, 2100)], ["b"])
    links = gk_lines([[(20_030, 10), (19_990, 1985)],
                      [(20, 10), (300, 700), (200, 1400), (-10, 1990)]],
                     kind=["bridge", "bridge"], name_en=["Straight", "Bent"],
                     source=["fixture", "fixture"], penalty_min=[0.0, 0.0])
    net = Network.from_study(load_study(_river_study(tmp_path, links)))
    assert net.info["connectors"] == 2
    assert net.od(a, b).iloc[0].network_m == pytest.approx(2000 + 200, rel=1e-3)


@pytest.mark.parametrize("bad, match", [
    ({"penalty_min": [-1.0]}, "penalty_min must be a number of minutes"),
    ({"far": True}, "from the nearest road end"),
])
def test_bad_connectors_are_named(tmp_path, bad, match):
    from geo.errors import NetworkError

    xy = [(20_000, 9000), (20_000, 12_000)] if bad.get("far") else [(20_000, 0), (20_000, 2000)]
    conn = gk_lines([xy], name_en=["Bad link"],
                 penalty_min=bad.get("penalty_min", [0.0]))
    with pytest.raises(NetworkError, match=f"Bad link.*{match}|{match}"):
        Network.from_study(load_study(_river_study(tmp_path, conn)))
