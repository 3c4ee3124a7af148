"""Benchmarks of the road network and the sourcing radius (run: python benchmarks/bench_network.py).

Each step prints the time of parksite's vectorised path and of the obvious alternative
measured in the same run, their ratio, and checks that the answers agree:

1. multi-source shortest paths: parksite (scipy.sparse.csgraph on the network's reduced
   graph, see geo.network.ReducedGraph) vs networkx.multi_source_dijkstra_path_length on
   the full graph (identical to 1e-9 relative at every node; goal ≥ 20× faster);
1b. the sourcing workload: one search per industry from all its firms (entering at both
   ends of each firm's road with the access leg and partial edge, 100 km limit) in one
   csgraph call vs a networkx search per industry (identical;
   goal ≥ 20×);
2. an origin–destination matrix (parks × firms): one csgraph call vs networkx
   single-source Dijkstra per origin;
3. local supply rates of the bundled register: one Dijkstra per input industry vs
   a Dijkstra per firm plus a Python loop over firm pairs (identical rates);
4. scaling: 1,000 → 100,000 firms (sub-linear: the cost is per industry, not per firm);
5. ``input_share_within`` for 500,000 points (the suitability grid's use).

Exit status (and ``main()``'s return value) is non-zero if any answers disagree or a
speed goal (GOALS) is missed.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.network import SnapResult  # noqa: E402  (after the path set-up)

#: Speed goals (issue 3): times faster than networkx on the same graph.
GOALS = {"multi_source": 20.0, "per_industry": 20.0}


def _t(f, *a, repeat: int = 1, **k):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f(*a, **k)
        best = min(best, time.perf_counter() - t0)
    return best, out


def _rates_vectorised(net, chains, firms, radius_km):
    from geo.sourcing import SupplyIndex, _rates

    snap = net.snap(firms, what="firms", warn=False)
    idx = SupplyIndex.build(net, chains, firms, snap, radius_km)
    ids = chains.ids
    W, _ = chains.weight_matrix(ids)
    pos = {j: i for i, j in enumerate(ids)}
    ind_pos = np.array([pos.get(j, -1) for j in firms["industry"]])
    cov = idx.covered(SnapResult.from_frame(snap, net.max_snap_m), ids)
    return _rates(W, ind_pos, cov)


def _ends(net, snap):
    """(ends, leave, arrive) of snapped points, metres (edge snapping)."""
    return net.entry(SnapResult.from_frame(snap, net.max_snap_m), "length")


def _rates_naive(net, chains, firms, radius_km):
    """The obvious way: a Dijkstra per firm (networkx, cutoff R), then loop over pairs."""
    import networkx as nx

    R = radius_km * 1000.0
    snap = net.snap(firms, what="firms", warn=False)
    G = net.to_networkx().reverse(copy=True)  # supplier → buyer, searched backwards
    ends, leave, arrive = _ends(net, snap)
    on = snap["on_network"].to_numpy()
    ind = firms["industry"].tolist()
    out = np.full(len(firms), np.nan)
    for f in range(len(firms)):
        ins = chains.inputs.get(ind[f], {})
        if not ins or not on[f]:
            continue
        # the buyer as a virtual node, reached from both ends of its road
        G.add_weighted_edges_from((-1, int(ends[f, b]), float(arrive[f, b])) for b in (0, 1)
                                  if np.isfinite(arrive[f, b]))
        dist = nx.single_source_dijkstra_path_length(G, -1, cutoff=R, weight="weight")
        G.remove_node(-1)
        got = 0.0
        for j, w in ins.items():
            for s in range(len(firms)):  # every firm pair
                if ind[s] == j and on[s] and min(
                        dist.get(int(ends[s, a]), np.inf) + leave[s, a] for a in (0, 1)) <= R:
                    got += w
                    break
        out[f] = got / sum(ins.values())
    return out


def _synthetic_register(base: gpd.GeoDataFrame, n: int, seed: int) -> gpd.GeoDataFrame:
    """n firms: industries drawn like the bundled register, placed near its firms (σ 5 km)."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(len(base), size=n)
    x = base.geometry.x.to_numpy()[pick] + rng.normal(0, 0.05, n)
    y = base.geometry.y.to_numpy()[pick] + rng.normal(0, 0.045, n)
    return gpd.GeoDataFrame({"id": [f"S{i}" for i in range(n)],
                             "industry": base["industry"].to_numpy()[pick]},
                            geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")


def run() -> dict:
    """Run every step; return the figures (``res["ok"]``: answers agree and goals met)."""
    import networkx as nx
    from scipy.sparse import csgraph

    from geo.network import Network
    from geo.register import load_firms, study_chains
    from geo.sourcing import input_share_within
    from geo.study import load_study

    warnings.simplefilter("ignore")
    res: dict = {}
    study = load_study(ROOT / "layers" / "yrd.toml")
    t, net = _t(Network.from_lines, study.load("highways"), crs=study.metric_crs)
    s = net.summary()
    g = net._graph("length").primary
    print(f"network: {s['nodes']:,} nodes, {s['edges']:,} edges ({g.nnz:,} directed arcs), "
          f"{s['components']} components (largest {s['largest_component_share']:.1%}); "
          f"built in {t:.2f} s")
    t_red, red = _t(net.reduced, "length")
    res["reduction"] = {"seconds": t_red, "core_nodes": red.core_nodes,
                        "core_arcs": red.core_arcs, "search_arcs": int(red.search.nnz),
                        "rounds": red.rounds, "levels": len(red.levels)}
    print(f"   reduced graph (built once per network, {t_red:.2f} s): core {red.core_nodes:,} "
          f"nodes / {red.core_arcs:,} arcs, {red.rounds} elimination rounds, "
          f"{len(red.levels)} levels in the downward pass")

    # 1. multi-source Dijkstra ------------------------------------------------
    rng = np.random.default_rng(0)
    src = rng.choice(np.flatnonzero(net.component == net.main_component), 50, replace=False)
    G = net.to_networkx()
    t_cs, d_cs = _t(net.node_costs, src, min_only=True, repeat=20)
    t_full, _ = _t(csgraph.dijkstra, g, directed=True, indices=src, min_only=True, repeat=20)
    t_nx, d_nx = _t(nx.multi_source_dijkstra_path_length, G, set(src.tolist()),
                    weight="weight", repeat=5)
    keys = np.fromiter(d_nx.keys(), dtype=np.int64)
    vals = np.fromiter(d_nx.values(), dtype=float)
    agree = np.allclose(d_cs[keys], vals, rtol=1e-9, atol=0) and \
        np.isinf(np.delete(d_cs, keys)).all()
    res["multi_source"] = {"csgraph_s": t_cs, "csgraph_full_graph_s": t_full,
                           "networkx_s": t_nx, "ratio": t_nx / t_cs, "agree": bool(agree)}
    print(f"1. multi-source Dijkstra (50 sources, whole network): parksite {t_cs * 1e3:.2f} ms "
          f"(csgraph on the full graph {t_full * 1e3:.2f} ms), networkx {t_nx * 1e3:.1f} ms → "
          f"{t_nx / t_cs:.0f}× faster (goal ≥ {GOALS['multi_source']:.0f}×); identical at "
          f"every node (rel 1e-9): {agree}")

    # 1b. the sourcing workload: one multi-source search per industry, 100 km limit --
    from geo.register import load_firms as _lf
    from geo.register import study_chains as _sc
    from geo.sourcing import SupplyIndex

    f0 = _lf(study)
    sn0 = net.snap(f0, warn=False)
    ch0 = _sc(study)
    t_ix, ix = _t(SupplyIndex.build, net, ch0, f0, sn0, 100.0, repeat=10)

    def per_industry_nx():
        out = {}
        ends, leave, _ = _ends(net, sn0)
        on = sn0["on_network"].to_numpy()
        for j, rows in ix.supplier_rows.items():
            H = G  # the same graph plus a virtual source joined to the suppliers
            start: dict[int, float] = {}
            for r in rows[on[rows]]:  # both ends of each supplier's road, cheapest leg
                for a in (0, 1):
                    n0, w0 = int(ends[r, a]), max(float(leave[r, a]), 1e-9)
                    if np.isfinite(w0):
                        start[n0] = min(w0, start.get(n0, np.inf))
            H.add_weighted_edges_from((-1, n0, w0) for n0, w0 in start.items())
            out[j] = nx.single_source_dijkstra_path_length(H, -1, cutoff=100_000.0,
                                                           weight="weight")
            H.remove_node(-1)
        return out

    t_inx, dn = _t(per_industry_nx, repeat=5)
    agree_i = True
    for k, j in enumerate(ix.industries):
        d = dn[j]
        keys = np.fromiter((n for n in d if n >= 0), dtype=np.int64)
        vals = np.array([d[n] for n in keys])
        fin = np.isfinite(ix.reach_m[k])
        agree_i &= bool(np.allclose(ix.reach_m[k][keys], vals, rtol=1e-9) and
                        fin.sum() == len(keys))
    res["per_industry"] = {"csgraph_s": t_ix, "networkx_s": t_inx, "ratio": t_inx / t_ix,
                           "agree": agree_i}
    print(f"1b. sourcing searches ({len(ix.industries)} industries, 100 km limit, edge "
          f"snapping): parksite {t_ix * 1e3:.1f} ms, networkx {t_inx * 1e3:.0f} ms → "
          f"{t_inx / t_ix:.0f}× (goal ≥ {GOALS['per_industry']:.0f}×); identical at every "
          f"node: {agree_i}")

    # 2. OD matrix parks × firms ----------------------------------------------
    parks = study.load("parks")
    firms = load_firms(study)
    t_od, D = _t(net.distances, parks, firms, repeat=3)
    ps = net.snap(parks, warn=False)
    fs = net.snap(firms, warn=False)

    def od_nx():
        out = np.full((len(parks), len(firms)), np.inf)
        pe, pl, _ = _ends(net, ps)
        fe, _, fa = _ends(net, fs)
        for i in range(len(parks)):
            G.add_weighted_edges_from((-1, int(pe[i, a]), float(pl[i, a])) for a in (0, 1)
                                      if np.isfinite(pl[i, a]))
            d = nx.single_source_dijkstra_path_length(G, -1, weight="weight")
            G.remove_node(-1)
            for k in range(len(firms)):
                out[i, k] = min(d.get(int(fe[k, b]), np.inf) + fa[k, b] for b in (0, 1))
        # pairs on one road may go straight along it (parksite's own same-edge costs)
        same = net.same_edge(SnapResult.from_frame(ps, net.max_snap_m),
                             SnapResult.from_frame(fs, net.max_snap_m), "length")
        out = np.minimum(out, same)
        out[~ps["on_network"].to_numpy(), :] = np.nan
        out[:, ~fs["on_network"].to_numpy()] = np.nan
        return out

    t_odnx, Dn = _t(od_nx)
    fin = np.isfinite(D)
    agree = np.array_equal(fin, np.isfinite(Dn)) and np.allclose(D[fin], Dn[fin], rtol=1e-9)
    agree = agree and np.array_equal(np.isnan(D), np.isnan(Dn))
    res["od"] = {"csgraph_s": t_od, "networkx_s": t_odnx, "ratio": t_odnx / t_od,
                 "agree": bool(agree)}
    print(f"2. OD {len(parks)} parks × {len(firms)} firms: parksite {t_od * 1e3:.1f} ms, "
          f"networkx per origin {t_odnx * 1e3:.0f} ms → {t_odnx / t_od:.0f}×; agree: {agree}")

    # 3. local supply rates of the bundled register ---------------------------
    chains = study_chains(study)
    t_v, rv = _t(_rates_vectorised, net, chains, firms, 100.0, repeat=3)
    t_n, rn = _t(_rates_naive, net, chains, firms, 100.0)
    agree = np.allclose(rv, rn, equal_nan=True)
    res["rates"] = {"vectorised_s": t_v, "naive_s": t_n, "ratio": t_n / t_v,
                    "agree": bool(agree)}
    print(f"3. local supply rates, {len(firms)} firms: one Dijkstra per industry "
          f"{t_v * 1e3:.0f} ms, per-firm Dijkstra + pair loop {t_n:.1f} s → {t_n / t_v:.0f}×; "
          f"identical: {agree}")

    # 4. scaling ----------------------------------------------------------------
    times = {}
    for n in (1_000, 10_000, 100_000):
        reg = _synthetic_register(firms, n, seed=n)
        times[n], _ = _t(_rates_vectorised, net, chains, reg, 100.0, repeat=2 if n < 1e5 else 1)
    growth = times[100_000] / times[1_000]
    res["scaling"] = {"seconds": times, "growth_1k_to_100k": growth}
    print("4. scaling: " + ", ".join(f"{n:,} firms {t:.2f} s" for n, t in times.items()) +
          f" → ×{growth:.1f} time for ×100 firms (sub-linear: {growth < 100})")

    # 5. input_share_within for 500,000 points ----------------------------------
    rng = np.random.default_rng(5)
    minx, miny, maxx, maxy = study.bounds
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(minx, maxx, 500_000),
                                                       rng.uniform(miny, maxy, 500_000)),
                           crs="EPSG:4326")
    input_share_within(pts.iloc[:10], "notebook_assembly", study)  # build the index once
    t5, sh = _t(input_share_within, pts, "notebook_assembly", study)
    res["input_share_500k_s"] = t5
    print(f"5. input_share_within, 500,000 points: {t5:.2f} s "
          f"({np.isfinite(sh).mean():.0%} within 5 km of a road)")
    agree_all = all(v.get("agree", True) for v in res.values() if isinstance(v, dict))
    missed = [f"{k} {res[k]['ratio']:.1f}× < {goal:.0f}×" for k, goal in GOALS.items()
              if res[k]["ratio"] < goal]
    print("all results agree" if agree_all else "RESULTS DISAGREE")
    print("speed goals met" if not missed else "SPEED GOAL MISSED: " + "; ".join(missed))
    res["ok"] = agree_all and not missed
    return res


def main() -> int:
    """Run the benchmark; 0 if every answer agrees and every speed goal is met, else 1."""
    return 0 if run()["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
