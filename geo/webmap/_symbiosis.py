"""Symbiosis pairs drawn as flows between places when they are many.

Up to :data:`MAX_PAIR_LINES` by-product → input pairs the map draws one line per firm
pair (:func:`geo.webmap._results._draw_symbiosis`). Above that (a register ten times the
bundled one gives about 5,000 pairs) the pairs are gathered by place: the firm's park,
or for a firm outside every park its district (the study's ``boundaries`` layer), or
failing that a :data:`GRID_DEG` cell. One line per (source place, receiving place)
carries the number of firm pairs (its width), the firms on each side, the median road
distance, the total quantity when the pairs have one and the top by-products with their
counts; pairs inside one place are one circle there. All grouping is pandas
``groupby``: no Python loop per pair (one per drawn flow, to write its popup).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._context import _add_group, _display_geoms, _geojson
from ._i18n import _names
from ._style import _PALETTE, _legend_html, _sw_line, _sw_point
from ._text import _esc, _num, _popup, _truthy

#: More symbiosis pairs than this are drawn as flows between places, not one line each.
MAX_PAIR_LINES = 300

#: By-products listed in a flow's popup (the most frequent first).
TOP_MATERIALS = 5

#: Cell (degrees) that gathers firms outside every park and district.
GRID_DEG = 0.5

#: Quantity columns summed per flow when the pairs carry one (first found).
QUANTITY_COLUMNS = ("quantity_t", "quantity", "weight")

#: Line width (px) of the flow with the fewest and with the most pairs.
WIDTH = (1.5, 8.0)

# words of this layer (zh, en)
_W: dict[str, tuple[str, str]] = {
    "aggregated": ("按园区/区县汇总", "aggregated by park / district"),
    "pairs_n": ("{n:,} 对", "{n:,} pairs"),
    "n_pairs": ("企业对数", "Firm pairs"),
    "n_from": ("供方企业", "Supplying firms"),
    "n_to": ("用方企业", "Receiving firms"),
    "byproducts": ("主要副产品", "Main by-products"),
    "road_median": ("道路距离中位数", "Median road distance"),
    "quantity": ("合计数量", "Total quantity"),
    "within": ("{a}内部", "within {a}"),
    "outside": ("区县外 {x:.1f}°E {y:.1f}°N", "outside the districts {x:.1f}°E {y:.1f}°N"),
    "width": ("线宽与圆大小：企业对数", "Line width and circle size: firm pairs"),
    "more": ("另有 {n} 种", "{n} more"),
}


def _w(ctx, key: str, **kw) -> str:
    zh, en = _W[key]
    return (zh if ctx.lang == "zh" else en).format(**kw)


def _bi(zh: pd.Series, en: pd.Series) -> pd.Series:
    """Per row the Chinese text then the English one in brackets, escaped; the English
    part only when it differs (the English alone when there is no Chinese)."""
    zh = zh.astype("string").fillna("")
    en = en.astype("string").fillna("")
    z = zh.map(_esc).astype(str)
    e = en.map(_esc).astype(str)
    both = (e != "") & (e != z) & (z != "")
    return z.where(~both, z + " (" + e + ")").where(z != "", e)


def _endpoint_places(ctx, gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray,
                                                             pd.DataFrame]:
    """Place key of each pair's two firms and the places (key → ``zh``, ``en`` names,
    not escaped, and anchor ``lon``, ``lat`` WGS84)."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    ends = np.concatenate([shapely.get_point(geoms, 0), shapely.get_point(geoms, -1)])
    x, y = shapely.get_x(ends), shapely.get_y(ends)
    n = len(gdf)
    park = pd.Series(np.concatenate([
        gdf[c].astype("string").fillna("").to_numpy(object) if c in gdf
        else np.full(n, "", dtype=object) for c in ("from_park", "to_park")]), dtype=str)
    key = ("p:" + park).where(park != "", "").to_numpy(object)
    places = []
    # parks: their outline's representative point and names
    for spec in ctx.study.by_role("parks"):
        pk = ctx.study.load(spec.key)
        if "id" not in pk or len(pk) == 0:
            continue
        pk = pk.to_crs(4326) if pk.crs is not None else pk
        zh, en = _names(pk, "zh")
        rp = shapely.point_on_surface(np.asarray(pk.geometry.values, dtype=object))
        places.append(pd.DataFrame({"key": "p:" + pk["id"].astype(str).to_numpy(),
                                    "zh": zh.to_numpy(), "en": en.to_numpy(),
                                    "lon": shapely.get_x(rp), "lat": shapely.get_y(rp)}))
    # firms outside parks: the district they lie in
    rest = np.flatnonzero(key == "")
    for spec in ctx.study.by_role("boundaries"):
        if len(rest) == 0:
            break
        ds = ctx.study.load(spec.key)
        if len(ds) == 0:
            continue
        ds = (ds.to_crs(4326) if ds.crs is not None else ds).reset_index(drop=True)
        dg = np.asarray(ds.geometry.values, dtype=object)
        ipt, ids = shapely.STRtree(dg).query(ends[rest], predicate="intersects")
        first = pd.Series(ids).groupby(ipt).min()  # a point on a shared edge: one district
        dkey = (f"d:{spec.key}:" + (ds["id"] if "id" in ds else ds.index.to_series())
                .astype(str)).to_numpy()
        key[rest[first.index.to_numpy()]] = dkey[first.to_numpy()]
        zh, en = _names(ds, "zh")
        rp = shapely.point_on_surface(dg)
        places.append(pd.DataFrame({"key": dkey, "zh": zh.to_numpy(), "en": en.to_numpy(),
                                    "lon": shapely.get_x(rp), "lat": shapely.get_y(rp)}))
        rest = np.flatnonzero(key == "")
    # the others: a coarse grid cell, anchored at the mean of its firms
    if len(rest):
        gx = np.floor(x[rest] / GRID_DEG).astype(int)
        gy = np.floor(y[rest] / GRID_DEG).astype(int)
        key[rest] = ("g:" + pd.Series(gx).astype(str) + ":" + pd.Series(gy).astype(str)
                     ).to_numpy(object)
    pts = pd.DataFrame({"key": key, "lon": x, "lat": y})
    mean = pts.groupby("key", sort=False)[["lon", "lat"]].mean()
    known = pd.concat(places, ignore_index=True).drop_duplicates("key").set_index("key") \
        if places else pd.DataFrame(columns=["zh", "en", "lon", "lat"])
    out = mean.join(known[["zh", "en"]], how="left")
    anchor = known[["lon", "lat"]].reindex(out.index)
    out[["lon", "lat"]] = anchor.where(anchor.notna(), out[["lon", "lat"]])
    unknown = out.index.str.startswith("p:") & out["zh"].isna()  # a park id the layer lacks
    out.loc[unknown, "zh"] = out.index[unknown].str[2:]
    grid = out["zh"].isna()
    out.loc[grid, "zh"] = [_W["outside"][0].format(x=a, y=b) for a, b in
                           zip(out.loc[grid, "lon"], out.loc[grid, "lat"], strict=True)]
    out.loc[grid, "en"] = [_W["outside"][1].format(x=a, y=b) for a, b in
                           zip(out.loc[grid, "lon"], out.loc[grid, "lat"], strict=True)]
    out["en"] = out["en"].fillna("")
    return key[:n], key[n:], out


def _flows(ctx, gdf: gpd.GeoDataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pairs gathered per (source place, receiving place): ``n`` pairs, ``n_from``
    and ``n_to`` firms, median road ``km``, ``qty`` (NaN without a quantity column),
    dominant ``chain``, ``mats`` (escaped top by-products), ``synthetic``; most pairs
    first. Also the places (:func:`_endpoint_places`)."""
    fk, tk, places = _endpoint_places(ctx, gdf)
    n = len(gdf)

    def col(name: str, default: object = "") -> pd.Series:
        return gdf[name].reset_index(drop=True) if name in gdf else \
            pd.Series([default] * n)

    qty_col = next((c for c in QUANTITY_COLUMNS if c in gdf
                    and pd.api.types.is_numeric_dtype(gdf[c])), None)
    df = pd.DataFrame({
        "a": fk, "b": tk,
        "src": col("from_firm_id").astype(str), "dst": col("to_firm_id").astype(str),
        "km": pd.to_numeric(col("network_km", np.nan), errors="coerce"),
        "qty": pd.to_numeric(col(qty_col, np.nan), errors="coerce") if qty_col else np.nan,
        "chain": col("chain").astype("string").fillna("").astype(str),
        "m_en": col("material").astype("string").fillna("").astype(str),
        "m_zh": (col("material_zh") if "material_zh" in gdf else col("material"))
        .astype("string").fillna("").astype(str),
        "syn": col("synthetic", False).map(_truthy).astype(bool)})
    g = df.groupby(["a", "b"], sort=False)
    flows = g.agg(n=("src", "size"), n_from=("src", "nunique"), n_to=("dst", "nunique"),
                  km=("km", "median"), synthetic=("syn", "any"))
    flows["qty"] = g["qty"].sum(min_count=1)
    ch = df.groupby(["a", "b", "chain"], sort=False).size().rename("k").reset_index()
    ch = ch.sort_values("k", ascending=False, kind="stable").drop_duplicates(["a", "b"])
    flows["chain"] = ch.set_index(["a", "b"])["chain"]
    mats = df.groupby(["a", "b", "m_zh", "m_en"], sort=False).size().rename("k") \
        .reset_index().sort_values(["k", "m_en"], ascending=[False, True], kind="stable")
    mats["rank"] = mats.groupby(["a", "b"]).cumcount()
    more = mats[mats["rank"] >= TOP_MATERIALS].groupby(["a", "b"]).size()
    top = mats[mats["rank"] < TOP_MATERIALS].copy()
    top["txt"] = _bi(top["m_zh"], top["m_en"]) + " × " + top["k"].map("{:,}".format)
    flows["mats"] = top.groupby(["a", "b"], sort=False)["txt"].agg("<br>".join)
    flows["more"] = more.reindex(flows.index).fillna(0).astype(int)
    flows = flows.sort_values("n", ascending=False, kind="stable").reset_index()
    return flows, places


def _flow_geoms(flows: pd.DataFrame, places: pd.DataFrame) -> np.ndarray:
    """Lines from place to place, bent to the right of their direction (an A → B and a
    B → A flow stay apart); a point where both places are one."""
    ax = places["lon"].reindex(flows["a"]).to_numpy(float)
    ay = places["lat"].reindex(flows["a"]).to_numpy(float)
    bx = places["lon"].reindex(flows["b"]).to_numpy(float)
    by = places["lat"].reindex(flows["b"]).to_numpy(float)
    dx, dy = bx - ax, by - ay
    mx, my = (ax + bx) / 2 + 0.12 * dy, (ay + by) / 2 - 0.12 * dx
    xy = np.stack([np.c_[ax, ay], np.c_[mx, my], np.c_[bx, by]], axis=1)
    lines = shapely.linestrings(xy)
    same = (flows["a"] == flows["b"]).to_numpy() | ((dx == 0) & (dy == 0))
    return np.where(same, shapely.points(ax, ay), lines)


def _symbiosis_label(ctx, gdf: gpd.GeoDataFrame, aggregated: bool) -> str:
    """Layer name: 产业共生, with how it is aggregated and whether the data are
    synthetic (not escaped)."""
    extra = []
    if aggregated:
        extra += [_w(ctx, "aggregated"), _w(ctx, "pairs_n", n=len(gdf))]
    if "synthetic" in gdf and gdf["synthetic"].map(_truthy).any():
        extra.append(ctx.t("synthetic"))
    label = ctx.t("symbiosis")
    if not extra:
        return label
    return label + (f"（{'，'.join(extra)}）" if ctx.lang == "zh" else f" ({', '.join(extra)})")


def _draw_symbiosis_flows(ctx, m, gdf: gpd.GeoDataFrame) -> int:
    """Many symbiosis pairs (more than :data:`MAX_PAIR_LINES`): one line per (source
    place, receiving place), width by the number of firm pairs, and one circle per place
    for the pairs inside it. Returns the features drawn."""
    flows, places = _flows(ctx, gdf)
    label = _symbiosis_label(ctx, gdf, aggregated=True)
    fg = _add_group(ctx, m, "symbiosis", label)
    chains, colour = _chain_colours(gdf)
    nmax = max(int(flows["n"].max()), 1)
    share = np.sqrt(flows["n"].to_numpy(float) / nmax)
    width = WIDTH[0] + (WIDTH[1] - WIDTH[0]) * share
    a_zh = places["zh"].reindex(flows["a"]).map(_esc).to_numpy(str)
    b_zh = places["zh"].reindex(flows["b"]).map(_esc).to_numpy(str)
    a_en = places["en"].reindex(flows["a"]).map(_esc).to_numpy(str)
    b_en = places["en"].reindex(flows["b"]).map(_esc).to_numpy(str)
    same = (flows["a"] == flows["b"]).to_numpy()
    geoms = _flow_geoms(flows, places)
    props: dict[bool, list[dict]] = {True: [], False: []}
    styles: dict[bool, list[dict]] = {True: [], False: []}
    for i, r in enumerate(flows.itertuples(index=False)):  # one per drawn flow
        if same[i]:
            title = _W["within"][0].format(a=a_zh[i])
            sub = _W["within"][1].format(a=a_en[i]) if a_en[i] else ""
        else:
            title = f"{a_zh[i]} → {b_zh[i]}"
            sub = f"{a_en[i] or a_zh[i]} → {b_en[i] or b_zh[i]}" if a_en[i] or b_en[i] \
                else ""
        mats = r.mats + (f"<br>… {_esc(_w(ctx, 'more', n=r.more))}" if r.more else "")
        rows = [(_esc(_w(ctx, "n_pairs")), f"{r.n:,}"),
                (_esc(_w(ctx, "n_from")), f"{r.n_from:,}"),
                (_esc(_w(ctx, "n_to")), f"{r.n_to:,}"),
                (_esc(_w(ctx, "byproducts")), mats),
                (_esc(_w(ctx, "road_median")), f"{_num(r.km, 1)} km" if pd.notna(r.km) else ""),
                (_esc(_w(ctx, "quantity")), _num(r.qty, 1))]
        notes = [_esc(ctx.t("synthetic"))] if r.synthetic else []
        c = colour.get(r.chain, _PALETTE[3])
        props[bool(same[i])].append({"t": f"{title} · {_esc(_w(ctx, 'pairs_n', n=r.n))}",
                                     "p": _popup(title, sub, rows, notes), "np": int(r.n)})
        if same[i]:
            styles[True].append({"color": "#ffffff", "weight": 1.5, "fillColor": c,
                                 "fillOpacity": 0.75, "radius": 4.0 + 10.0 * share[i],
                                 "className": "ps-symbiosis ps-symbiosis-within"})
        else:
            styles[False].append({"color": c, "weight": round(float(width[i]), 1),
                                  "opacity": 0.8, "className": "ps-symbiosis ps-symbiosis-flow"})
    shown = _display_geoms(ctx, gpd.GeoDataFrame(geometry=geoms, crs=4326), simplify=False)
    drawn = _geojson(ctx, fg, shown[~same], props[False], styles[False])
    drawn += _geojson(ctx, fg, shown[same], props[True], styles[True], pane="ps-points",
                      point_radius=6)
    entries = [(_sw_line(colour[c], 4), _esc(ctx.chain_name(str(c)) if c else ctx.t("other")))
               for c in list(colour)[:12]]
    entries += [(_sw_line("#666666", WIDTH[0]), _esc(_w(ctx, "pairs_n", n=1))),
                (_sw_line("#666666", WIDTH[1]), _esc(_w(ctx, "pairs_n", n=nmax)))]
    if same.any():
        entries.append((_sw_point("#666666"), _esc(_W["within"][ctx.lang != "zh"]
                                                   .format(a="…"))))
    ctx.legend.append(("symbiosis", fg, _legend_html(_esc(label), entries,
                                                      _esc(_w(ctx, "width")))))
    return drawn


def _chain_colours(gdf: gpd.GeoDataFrame) -> tuple[pd.Series, dict[str, str]]:
    """Each pair's chain ("" when none) and one palette colour per chain, in order of
    first appearance (the same for pair lines and flows)."""
    chains = gdf["chain"].astype("string").fillna("") if "chain" in gdf else \
        pd.Series("", index=gdf.index, dtype="string")
    uniq = list(dict.fromkeys(chains))
    return chains, {c: _PALETTE[(i + 3) % len(_PALETTE)] for i, c in enumerate(uniq)}
