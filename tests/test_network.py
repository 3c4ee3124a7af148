"""Road network: building, snapping, OD costs, components, service areas (geo.network)."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _gk import GK, gk_lines, gk_points
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.cli import main
from geo.errors import NetworkError
from geo.network import (
    DEFAULT_SPEED_KMH,
    Network,
    geodesic_lengths_m,
    geodesic_m,
    parse_maxspeed,
    parse_oneway,
)
from geo.study import load_study

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "layers" / "yrd.toml"
OSM = ROOT / "data" / "osm" / "shanghai_huangpu.osm"
@pytest.fixture(scope="module")
def square() -> Network:
    """A 1 km square A(0,0) B(1000,0) C(1000,1000) D(0,1000) and a separate 500 m
    island E(5000,5000)–F(5500,5000)."""
    return Network.from_lines(gk_lines([[(0, 0), (1000, 0)], [(1000, 0), (1000, 1000)],
                                        [(1000, 1000), (0, 1000)], [(0, 1000), (0, 0)],
                                        [(5000, 5000), (5500, 5000)]]), crs=GK)


@pytest.fixture(scope="module")
def yrd():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(STUDY)
        return study, Network.from_study(study)


# --------------------------------------------------------------------------- lengths

def test_geodesic_lengths_known_values():
    # WGS84: one degree of longitude on the equator, one degree of latitude from 0°.
    lines = np.array([shapely.LineString([(0, 0), (1, 0)]), shapely.LineString([(0, 0), (0, 1)]),
                      shapely.MultiLineString([[(0, 0), (1, 0)], [(10, 0), (11, 0)]])])
    got = geodesic_lengths_m(lines)
    assert got[0] == pytest.approx(111_319.491, abs=0.01)
    assert got[1] == pytest.approx(110_574.389, abs=0.01)
    assert got[2] == pytest.approx(2 * 111_319.491, abs=0.02)  # parts are not joined
    assert geodesic_m(0, 0, 1, 0) == pytest.approx(111_319.491, abs=0.01)


def test_fixture_edges_have_geodesic_lengths(square):
    assert square.n_nodes == 6 and square.n_edges == 5
    assert np.allclose(square.edge_length_m, [1000, 1000, 1000, 1000, 500], rtol=2e-4)
    assert np.allclose(square.edge_time_min, square.edge_length_m / (DEFAULT_SPEED_KMH / 0.06))


# --------------------------------------------------------------------------- building

def test_endpoint_snapping_tolerance():
    lines = gk_lines([[(0, 0), (1000, 0)], [(1000.5, 0), (2000, 0)]])
    joined = Network.from_lines(lines, snap_tolerance_m=1.0, crs=GK)
    apart = Network.from_lines(lines, snap_tolerance_m=0.1, crs=GK)
    assert joined.n_components == 1 and joined.n_nodes == 3
    assert apart.n_components == 2 and apart.n_nodes == 4
    assert joined.info["snap_tolerance_m"] == 1.0


def test_bundled_network_connectivity(yrd):
    _, net = yrd
    s = net.summary()
    # 22,656 2-point edges plus the 4 hand-added connectors (data/yrd/connectors.gpkg);
    # the 344 zero-length scgraph edges were dropped at build time but their end nodes
    # share coordinates, so coordinate snapping keeps them joined.
    assert s["edges"] == 22_660
    assert s["nodes"] == 13_950
    assert s["components"] == 13
    assert s["largest_component_nodes"] == 13_824
    assert s["largest_component_share"] == pytest.approx(0.991, abs=0.001)
    assert not s["directed"]


def test_no_edges_is_an_error():
    empty = gpd.GeoDataFrame({"a": []}, geometry=[], crs="EPSG:4326")
    with pytest.raises(NetworkError, match="no edges"):
        Network.from_lines(empty)
    loops = gk_lines([[(0, 0), (0.2, 0)]])  # both ends join: a loop, dropped
    with pytest.raises(NetworkError, match="no edges"):
        Network.from_lines(loops, snap_tolerance_m=1.0, crs=GK)


def test_lines_without_crs_and_points_without_crs(square):
    lines = gk_lines([[(0, 0), (1000, 0)]]).set_crs(None, allow_override=True)
    with pytest.raises(NetworkError, match="no CRS"):
        Network.from_lines(lines)
    pts = gk_points([(0, 0)]).set_crs(None, allow_override=True)
    with pytest.raises(NetworkError, match="no CRS"):
        square.snap(pts)


def test_not_lines_is_an_error():
    pts = gk_points([(0, 0)])
    with pytest.raises(NetworkError, match="needs lines"):
        Network.from_lines(pts)


def test_class_maxspeed_oneway_fields():
    lines = gk_lines([[(0, 0), (1000, 0)], [(1000, 0), (2000, 0)], [(2000, 0), (3000, 0)]],
                     highway=["motorway", "residential", "primary"],
                     maxspeed=[None, None, "30"], oneway=["no", "yes", "-1"])
    net = Network.from_lines(lines, crs=GK)
    assert net.info["class_field"] == "highway" and net.info["oneway_field"] == "oneway"
    speed = net.edge_length_m / net.edge_time_min * 0.06
    assert speed == pytest.approx([100.0, 25.0, 30.0], rel=1e-9)
    assert net.directed
    a = gk_points([(0, 0)])
    c = gk_points([(3000, 0)])
    # the one-way edges run 1000→2000 and (reversed) 3000→2000: no way from 0 to 3000
    with pytest.warns(UserWarning, match="no route"):
        od = net.od(a, c)
    assert od["status"].tolist() == ["unreachable"]
    assert np.isinf(net.distances(a, c))[0, 0]
    over = Network.from_lines(lines, crs=GK, speeds={"motorway": 120})
    assert (over.edge_length_m / over.edge_time_min * 0.06)[0] == pytest.approx(120)


def test_parse_helpers():
    assert parse_maxspeed(["60", "50 mph", "60;80", None, "none", ["40", "50"]]) == \
        pytest.approx([60, 80.4672, 60, np.nan, np.nan, 40], nan_ok=True)
    assert parse_oneway(["yes", "no", "-1", None, True, 1]).tolist() == [1, 0, -1, 0, 1, 1]


# --------------------------------------------------------------------------- snapping

def test_snap_records_distance_and_component(square):
    pts = gk_points([(-30, 0), (1000, 1040), (5200, 5010), (20_000, 0)])
    with pytest.warns(UserWarning) as rec:
        s = square.snap(pts, max_snap_m=5000)
    msgs = " ".join(str(w.message) for w in rec)
    assert "farther than 5000 m" in msgs and "p3" in msgs
    assert "small disconnected part" in msgs and "p2" in msgs
    assert s["snap_m"].iloc[:2].to_numpy() == pytest.approx([30, 40], abs=0.05)
    assert s["on_network"].tolist() == [True, True, True, False]
    assert s["in_main_component"].tolist()[:3] == [True, True, False]


# --------------------------------------------------------------------------- OD

def test_hand_checked_od(square):
    o = gk_points([(-30, 0)], ["P"])
    d = gk_points([(1000, 1040), (5200, 5000), (20_000, 0)], ["Q", "R", "far"])
    with pytest.warns(UserWarning):
        od = square.od(o, d, limit_km=None).set_index("dest_id")
    # P → A (30 m) → B → C (2 km) → Q (40 m)
    assert od.at["Q", "network_m"] == pytest.approx(2070, abs=0.5)
    assert od.at["Q", "time_min"] == pytest.approx(2000 / (70 / 0.06) + 70 / (20 / 0.06),
                                                   abs=0.01)
    assert od.at["Q", "crow_m"] == pytest.approx(np.hypot(1030, 1040), rel=1e-3)
    assert od.at["Q", "status"] == "ok"
    assert od.at["R", "status"] == "unreachable" and np.isnan(od.at["R", "network_m"])
    assert od.at["far", "status"] == "off_network"
    with pytest.warns(UserWarning):
        dist = square.distances(o, d)
    assert dist[0, 0] == pytest.approx(2070, abs=0.5)
    assert np.isinf(dist[0, 1]) and np.isnan(dist[0, 2])


def test_od_limit_omits_far_pairs(square):
    o = gk_points([(0, 0)], ["A"])
    d = gk_points([(1000, 0), (1000, 1000)], ["B", "C"])
    od = square.od(o, d, limit_km=1.5)
    assert od["dest_id"].tolist() == ["B"]
    self_od = square.od(gk_points([(-30, 0)], ["P"]), gk_points([(-30, 0)], ["P"]))
    assert self_od.network_m.tolist() == [0.0] and self_od.status.tolist() == ["ok"]
    od_t = square.od(o, d, metric="time", limit_min=1.0)
    assert od_t["dest_id"].tolist() == ["B"]
    with pytest.raises(NetworkError, match="limit_km must be > 0"):
        square.od(o, d, limit_km=0)


def test_od_time_metric_follows_the_fast_road():
    # Short slow road (2 km at 25 km/h) vs long fast road (3 km at 100 km/h).
    lines = gk_lines([[(0, 0), (2000, 0)], [(0, 0), (1000, 1000), (2000, 0)]],
                     highway=["residential", "motorway"])
    net = Network.from_lines(lines, crs=GK)
    a, b = gk_points([(0, 0)], ["a"]), gk_points([(2000, 0)], ["b"])
    by_len = net.od(a, b, metric="length").iloc[0]
    by_time = net.od(a, b, metric="time").iloc[0]
    assert by_len.network_m == pytest.approx(2000, rel=1e-3)
    assert by_len.time_min == pytest.approx(2000 / (25 / 0.06), rel=1e-3)
    assert by_time.network_m == pytest.approx(2000 * np.sqrt(2), rel=1e-3)
    assert by_time.time_min == pytest.approx(2000 * np.sqrt(2) / (100 / 0.06), rel=1e-3)


def test_missing_id_field(square):
    pts = gk_points([(0, 0)]).rename(columns={"id": "code"})
    with pytest.raises(NetworkError, match="id field"):
        square.od(pts, pts)
    with pytest.raises(NetworkError, match="'nope' not found"):
        square.od(gk_points([(0, 0)]), gk_points([(0, 0)]), origin_id="nope")


def test_sip_to_kunshan_is_plausible(yrd):
    study, net = yrd
    parks = study.load("parks").set_index("id")
    od = net.od(parks.loc[["sip"]].reset_index(), parks.loc[["kunshan"]].reset_index())
    r = od.iloc[0]
    # Straight line ~27 km; by road ~31.7 km on the bundled (simplified) highways
    # (34.5 km when points snapped to the nearest node instead of the nearest road).
    assert r.crow_m == pytest.approx(27_300, abs=300)
    assert 28_000 < r.network_m < 45_000
    assert 1.0 < r.detour_ratio < 1.7


# --------------------------------------------------------------------------- properties

@pytest.fixture(scope="module")
def yrd_sample(yrd):
    _, net = yrd
    rng = np.random.default_rng(7)
    main_nodes = np.flatnonzero(net.component == net.main_component)
    nodes = rng.choice(main_nodes, 40, replace=False)
    return net, nodes, net.node_costs(nodes)[:, nodes]


def test_network_distance_at_least_geodesic(yrd_sample):
    net, nodes, d = yrd_sample
    ll = net.node_lonlat[nodes]
    g = geodesic_m(ll[:, None, 0], ll[:, None, 1], ll[None, :, 0], ll[None, :, 1])
    assert np.all(d >= g * (1 - 1e-9) - 1e-6)


def test_symmetric_on_undirected_network(yrd_sample):
    _, _, d = yrd_sample
    assert np.allclose(d, d.T, rtol=1e-9, atol=1e-6)


def test_triangle_inequality(yrd_sample):
    _, _, d = yrd_sample
    assert np.all(d[:, None, :] <= d[:, :, None] + d[None, :, :] + 1e-6)


def test_removing_an_edge_never_shortens(yrd_sample):
    net, nodes, d = yrd_sample
    rng = np.random.default_rng(3)
    mask = np.zeros(net.n_edges, dtype=bool)
    mask[rng.choice(net.n_edges, 500, replace=False)] = True
    d2 = net.without_edges(mask).node_costs(nodes)[:, nodes]
    assert np.all(d2 >= d - 1e-6)
    assert np.any(d2 > d + 1)  # and some paths really got longer


def test_matches_networkx(yrd):
    import networkx as nx

    _, net = yrd
    G = net.to_networkx()
    src = [0, 500, 7000]
    ref = nx.multi_source_dijkstra_path_length(G, src, weight="weight")
    got = net.node_costs(np.array(src), min_only=True)
    keys = np.fromiter(ref.keys(), dtype=np.int64)
    vals = np.fromiter(ref.values(), dtype=float)
    assert np.allclose(got[keys], vals, rtol=1e-9, atol=1e-9)
    assert np.isinf(np.delete(got, keys)).all()


def test_reduced_graph_equals_full_graph_on_yrd(yrd):
    """Every node, several sources, with and without a limit and start offsets: the
    core search plus the downward pass gives the full-graph csgraph distances."""
    from scipy.sparse import csgraph

    _, net = yrd
    g = net._graph("length").primary
    red = net.reduced("length")
    assert red.core_nodes < net.n_nodes / 3  # the core is really small
    src = np.array([0, 500, 7000, 13_000])
    for limit in (np.inf, 100_000.0, 20_000.0):
        ref = csgraph.dijkstra(g, directed=True, indices=src, limit=limit)
        got = net.node_costs(src, limit=limit)
        assert np.array_equal(np.isinf(got), np.isinf(ref))
        fin = np.isfinite(ref)
        assert np.allclose(got[fin], ref[fin], rtol=1e-12, atol=0)
        got1 = net.node_costs(src, limit=limit, min_only=True)
        ref1 = ref.min(axis=0)
        assert np.array_equal(np.isinf(got1), np.isinf(ref1))
        assert np.allclose(got1[np.isfinite(ref1)], ref1[np.isfinite(ref1)], rtol=1e-12)
    # start offsets: a virtual source joined to the sources, on the full graph
    off = np.array([10.0, 2500.0, 40.0, 700.0])
    ref = _virtual_source_ref(g, [np.zeros(4, dtype=np.int64)], [src], [off], 50_000.0)[0]
    got = net.node_costs(src, offsets=off, limit=50_000.0, min_only=True)
    assert np.array_equal(np.isinf(got), np.isinf(ref))
    assert np.allclose(got[np.isfinite(ref)], ref[np.isfinite(ref)], rtol=1e-12)
    t = net.reduced("time")  # the time cost has its own reduction
    reft = csgraph.dijkstra(net._graph("time").primary, directed=True, indices=src[:2])
    assert np.allclose(t.dijkstra(src[:2]), reft, rtol=1e-12)


def _virtual_source_ref(g, groups, nodes, offsets, limit):
    """Reference: csgraph on the full graph with one virtual source per group, built
    with generic sparse stacking (cheapest offset per group and node)."""
    from scipy import sparse
    from scipy.sparse import csgraph

    grp = np.concatenate(groups)
    nd = np.concatenate(nodes)
    off = np.concatenate(offsets)
    n = g.shape[0]
    k = int(grp.max()) + 1 if len(grp) else 0
    best: dict[tuple[int, int], float] = {}
    for a, b, c in zip(grp.tolist(), nd.tolist(), off.tolist(), strict=True):
        best[(a, b)] = min(c, best.get((a, b), np.inf))
    r = np.array([a for a, _ in best], dtype=np.int64)
    c = np.array([b for _, b in best], dtype=np.int64)
    w = np.array(list(best.values()))
    extra = sparse.csr_matrix((w, (r, c)), shape=(k, n + k))
    big = sparse.vstack([sparse.hstack([g, sparse.csr_matrix((n, k))]), extra], format="csr")
    return csgraph.dijkstra(big, directed=True, indices=np.arange(n, n + k),
                            limit=limit)[:, :n].reshape(k, n) if k else np.zeros((0, n))


def _random_graph(seed: int, n_core: int, n_tree: int, n_chain: int, p_oneway: float):
    """A small random graph (synthetic, for property tests): a random core, dangling
    trees, chains between core nodes, isolated nodes, one-way arcs; integer costs so
    that every sum is exact."""
    from scipy import sparse

    rng = np.random.default_rng(seed)
    edges = [(int(a), int(b)) for a, b in rng.integers(0, n_core, (2 * n_core, 2)) if a != b]
    n = n_core
    for _ in range(n_tree):  # trees: a new node hung on any existing node
        edges.append((int(rng.integers(0, n)), n))
        n += 1
    for _ in range(n_chain):  # chains of new nodes between two existing nodes
        a, b = (int(x) for x in rng.integers(0, n, 2))
        length = int(rng.integers(1, 5))
        path = [a, *range(n, n + length), b]
        n += length
        edges += list(zip(path[:-1], path[1:], strict=True))
    n += int(rng.integers(0, 3))  # isolated nodes
    if not edges:
        return sparse.csr_matrix((n, n))
    e = np.array(edges, dtype=np.int64)
    w = rng.integers(1, 20, len(e)).astype(float)
    one = rng.random(len(e)) < p_oneway
    flip = rng.random(len(e)) < 0.5
    u = np.where(one & flip, e[:, 1], e[:, 0])
    v = np.where(one & flip, e[:, 0], e[:, 1])
    u, v, w = np.r_[u, v[~one]], np.r_[v, u[~one]], np.r_[w, w[~one]]
    keep = u != v
    u, v, w = u[keep], v[keep], w[keep]
    o = np.lexsort((w, v, u))  # parallel arcs: the cheapest
    u, v, w = u[o], v[o], w[o]
    first = np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])]
    return sparse.csr_matrix((w[first], (u[first], v[first])), shape=(n, n))


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_core=st.integers(1, 15), n_tree=st.integers(0, 12),
       n_chain=st.integers(0, 5), p_oneway=st.sampled_from([0.0, 0.2, 0.6, 1.0]),
       slack=st.sampled_from([0, 4, 20]), max_rounds=st.integers(1, 16),
       limit=st.sampled_from([np.inf, 0.0, 5.0, 12.0, 30.0]), min_only=st.booleans())
def test_reduced_graph_property(seed, n_core, n_tree, n_chain, p_oneway, slack, max_rounds,
                                limit, min_only):
    """Reduced-graph searches equal full-graph csgraph searches exactly, on random
    graphs with trees, chains and one-way arcs, with and without a limit."""
    from scipy.sparse import csgraph

    from geo.network import ReducedGraph

    g = _random_graph(seed, n_core, n_tree, n_chain, p_oneway)
    n = g.shape[0]
    red = ReducedGraph.from_csr(g, slack=slack, max_rounds=max_rounds, min_share=0.0)
    rng = np.random.default_rng(seed + 1)
    src = rng.choice(n, int(rng.integers(1, min(n, 4) + 1)), replace=False)
    ref = csgraph.dijkstra(g, directed=True, indices=src, limit=limit, min_only=min_only)
    got = red.dijkstra(src, limit=limit, min_only=min_only)
    assert got.shape == ref.shape
    assert np.array_equal(got, ref)
    # groups of sources with start offsets (the sourcing workload)
    k = int(rng.integers(1, 4))
    m = int(rng.integers(k, 2 * n + k + 1))
    grp, nd = rng.integers(0, k, m), rng.integers(0, n, m)
    off = rng.integers(1, 10, m).astype(float)
    grp[:k] = np.arange(k)  # every group has a source
    ref = _virtual_source_ref(g, [grp], [nd], [off], limit)
    got = red.grouped(grp, nd, off, k, limit=limit)
    assert np.array_equal(got, ref)


def test_reduced_graph_eliminates_trees_chains_and_keeps_one_way_arcs():
    """A hand-checked case: a one-way triangle with a dangling tree and a chain."""
    from scipy import sparse

    from geo.network import ReducedGraph

    # 0 → 1 → 2 → 0 one way (costs 1, 2, 3); tree 2 – 3 – 4 (two way, 5 each);
    # chain 0 – 5 – 6 – 1 (two way, 1 each).
    arcs = [(0, 1, 1), (1, 2, 2), (2, 0, 3), (2, 3, 5), (3, 2, 5), (3, 4, 5), (4, 3, 5),
            (0, 5, 1), (5, 0, 1), (5, 6, 1), (6, 5, 1), (6, 1, 1), (1, 6, 1)]
    u, v, w = (np.array(c) for c in zip(*arcs, strict=True))
    g = sparse.csr_matrix((w.astype(float), (u, v)), shape=(7, 7))
    red = ReducedGraph.from_csr(g, min_share=0.0)
    assert red.core_nodes <= 3 and red.rounds >= 1
    d = red.dijkstra(np.array([4]))[0]
    # 4 → 3 → 2 → 0 → 1 (the chain 0-5-6-1 costs 3, the arc 0 → 1 costs 1)
    assert d.tolist() == [13, 14, 10, 5, 0, 14, 15]
    d = red.dijkstra(np.array([1]), limit=6)[0]  # 1 → 6 → 5 → 0 beats 1 → 2 → 0
    assert d.tolist() == [3, 0, 2, np.inf, np.inf, 2, 1]


# --------------------------------------------------------------------------- OSM

def test_osm_xml_loads_and_routes():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = Network.from_osm_xml(OSM)
    s = net.summary()
    assert s["nodes"] == 564 and s["edges"] == 1181 and s["components"] == 1
    assert net.directed  # one-way streets
    ll = net.node_lonlat
    a = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(ll[0])], crs="EPSG:4326")
    b = gpd.GeoDataFrame({"id": ["b"]}, geometry=[shapely.Point(ll[300])], crs="EPSG:4326")
    od = net.od(a, b, limit_km=None)
    assert od.status.iloc[0] == "ok"
    assert od.network_m.iloc[0] >= od.crow_m.iloc[0]
    assert od.network_m.iloc[0] < 10_000  # a 2.4 km extract
    full = Network.from_osm_xml(OSM, retain_all=True)
    assert full.n_components > 1 and full.info["dropped_isolated_nodes"] > 0


def test_osm_one_way_streets_reduced_graph_exact():
    """The real Shanghai extract is directed (one-way streets): distances from every
    node through the reduced graph equal csgraph on the full graph, both costs."""
    from scipy.sparse import csgraph

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = Network.from_osm_xml(OSM)
    assert net.directed
    for metric, limit in (("length", np.inf), ("length", 800.0), ("time", 1.5)):
        g = net._graph(metric).primary
        ref = csgraph.dijkstra(g, directed=True, limit=limit)
        got = net.node_costs(np.arange(net.n_nodes), metric=metric, limit=limit)
        assert np.array_equal(np.isinf(got), np.isinf(ref))
        fin = np.isfinite(ref)
        assert np.allclose(got[fin], ref[fin], rtol=1e-12, atol=0)
    assert net.reduced().core_nodes < net.n_nodes / 2


def test_osm_bad_file(tmp_path):
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><nonsense", encoding="utf-8")
    with pytest.raises(NetworkError, match="OSM"):
        Network.from_osm_xml(bad)


# --------------------------------------------------------------------------- reach

def test_reach_hand_checked(square):
    site = gk_points([(0, 0)], ["A"])
    firms = gk_points([(500, 10), (5000, 5000), (1000, 1000)], ["f1", "f2", "f3"])
    firms["industry"] = ["x", "y", "z"]
    sa = square.reach(site, 1.5, firms=firms, trim_m=100)
    r = sa.iloc[0]
    # AB and AD fully (2 km) + half of BC and of DC (1 km)
    assert r.road_km == pytest.approx(3.0, rel=1e-3)
    assert r.reached_nodes == 3
    assert r.n_firms == 1 and r.firms_by_industry == "x=1"
    assert 0.3 < r.area_km2 < 1.2
    with pytest.raises(NetworkError, match="radius must be > 0"):
        square.reach(site, 0)
    with pytest.raises(NetworkError, match="radius_min"):
        square.reach(site, metric="time")


def test_reach_bundled_parks(yrd):
    study, net = yrd
    parks = study.load("parks")
    sa = net.reach(parks, 100, firms=study.load("firms"))
    assert len(sa) == 10 and (sa.status == "ok").all()
    by = sa.set_index("site_id")
    # Chongming reaches Pudong across the hand-added G40 tunnel-bridge (without it the
    # island's only link ran north via Qidong and Zhangjiang was 300+ km away) but, at an
    # end of the network, it still reaches far fewer roads than SIP.
    zhangjiang = parks.loc[parks["park_id"] == "zhangjiang"].geometry.representative_point()
    assert by.at["chongming", "geometry"].contains(zhangjiang.iloc[0])
    assert by.at["chongming", "road_km"] < 0.2 * by.at["sip", "road_km"]
    assert by.at["sip", "n_firms"] > by.at["nantong", "n_firms"]
    assert sa.crs.to_epsg() == 4326 and sa.geometry.is_valid.all()


# --------------------------------------------------------------------------- study & CLI

def test_validate_section(tmp_path):
    from geo.errors import StudyError

    text = STUDY.read_text(encoding="utf-8").replace("max_snap_m = 5000", "max_snap_m = -1") \
        .replace("trim_m = 1000", "trim_m = 1000\nspeedz = 3") \
        .replace('"../', f'"{ROOT.as_posix()}/')
    p = tmp_path / "bad_network.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(StudyError, match=r"network\.max_snap_m.*\n(.*\n)*.*network\.speedz"):
        load_study(p)


def test_cli_od_and_reach(tmp_path):
    runner = CliRunner()
    out = tmp_path / "od.csv"
    r = runner.invoke(main, ["od", "parks", "parks", "--study", str(STUDY), "--out", str(out)])
    assert r.exit_code == 0, r.output
    import pandas as pd

    df = pd.read_csv(out, encoding="utf-8-sig")
    assert list(df.columns) == ["origin_id", "dest_id", "network_m", "time_min", "crow_m",
                                "detour_ratio", "status"]
    assert (df.network_m <= 100_000).all()  # --limit-km 100 by default
    g = tmp_path / "reach.gpkg"
    r = runner.invoke(main, ["reach", "parks", "--study", str(STUDY), "--out", str(g)])
    assert r.exit_code == 0, r.output
    assert len(gpd.read_file(g, layer="reach")) == 10


def test_cli_bad_input(tmp_path):
    runner = CliRunner()
    parks = str(ROOT / "data" / "yrd" / "parks.gpkg")
    r = runner.invoke(main, ["od", parks, parks, "--network", str(OSM), "--id-field", "nope",
                             "--out", str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "'nope' not found" in r.output
    r = runner.invoke(main, ["reach", "parks", "--study", str(STUDY), "--radius-km", "0",
                             "--out", str(tmp_path / "x.gpkg")])
    assert r.exit_code == 2 and "must be > 0" in r.output
    # points far from every road of the OSM extract: reported, never snapped
    r = runner.invoke(main, ["od", parks, parks, "--network", str(OSM), "--id-field",
                             "park_id", "--out", str(tmp_path / "y.csv")])
    assert r.exit_code == 0 and "not snapped" in r.output
