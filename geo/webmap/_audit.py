"""The network audit's probable missing links (:mod:`geo.network.audit`) on the map: a
layer "疑似缺失连接 probable missing links", off by default."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np

from ._context import _add_group, _display_geoms, _geojson, _result_frame
from ._style import _legend_html, _sw_line
from ._text import _esc, _num, _popup

#: The layer's words (zh, en); kept here so that the shared word table is not touched.
_W: dict[str, tuple[str, str]] = {
    "layer": ("疑似缺失连接", "Probable missing links"),
    "gap": ("绕行差距", "Gap (network − straight)"),
    "straight": ("直线距离", "Straight line"),
    "network": ("路网距离", "By road"),
    "detour": ("绕行系数", "Detour ratio"),
    "water": ("跨越水体", "Water crossed"),
    "connector": ("附近的人工补充连接", "Hand-added connector nearby"),
    "ends": ("端点（WGS84）", "Ends (WGS84)"),
    "no_route": ("无路径（不连通）", "no route (not connected)"),
    "note": ("审核结果：路网数据可能缺少桥梁、隧道或轮渡，需人工核实",
             "Audit finding: the road data may lack a bridge, tunnel or ferry here; check it"),
}
_STYLE: dict[str, Any] = {"color": "#d7301f", "weight": 3, "opacity": 0.9, "dashArray": "8 6",
          "className": "ps-audit"}


def _draw_audit(ctx, m, findings: gpd.GeoDataFrame | None) -> None:
    """One dashed line per finding (WGS84 LineStrings with the columns of
    :data:`geo.network.audit.FINDING_COLUMNS`), numbered by rank; hidden until ticked."""
    gdf = _result_frame(findings)
    if gdf is None:
        return

    def w(key: str) -> str:
        return _W[key][0] if ctx.lang == "zh" else _W[key][1]

    label = w("layer")
    ctx.hidden.add("network_audit")  # a check for the data's author: off by default
    fg = _add_group(ctx, m, "network_audit", label)
    props = []
    for r in gdf.itertuples():  # one popup per finding (tens, not pairs)
        finite = bool(np.isfinite(r.network_km))
        gap = f"{_num(r.gap_km, 1)} km" if finite else w("no_route")
        title = f"#{int(r.rank)} · {gap}"
        rows = [(w("gap"), gap), (w("straight"), f"{_num(r.straight_km, 1)} km"),
                (w("network"), f"{_num(r.network_km, 1)} km" if finite else w("no_route")),
                (w("detour"), f"{_num(r.detour, 1)}×" if finite else ""),
                (w("water"), _esc(r.water)), (w("connector"), _esc(r.near_connector)),
                (w("ends"), f"{r.a_lon:.4f}, {r.a_lat:.4f} → {r.b_lon:.4f}, {r.b_lat:.4f}")]
        props.append({"t": _esc(f"{label} {title}"),
                      "p": _popup(_esc(label), _esc(title), rows, [_esc(w("note"))])})
    _geojson(ctx, fg, _display_geoms(ctx, gdf, simplify=False), props,
             [dict(_STYLE) for _ in props])
    ctx.legend.append(("network_audit", fg,
                       _legend_html(_esc(label), [(_sw_line(_STYLE["color"], 3, True),
                                                   _esc(label))])))
