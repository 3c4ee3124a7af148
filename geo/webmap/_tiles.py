"""Tile basemaps: OSM, AMap (GCJ-02), Tianditu (key) or a local tile folder / URL.
"""

from __future__ import annotations

import os
from pathlib import Path

import folium

from ..errors import InputError
from ._context import _Ctx
from ._text import _esc

# Web tile services. AMap tiles are in GCJ-02; Tianditu's (CGCS2000) need a key.
_OSM = ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors')


_AMAP = ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
         "&x={x}&y={y}&z={z}", "&copy; 高德地图 AutoNavi")


_TDT = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}", "&copy; 天地图 Tianditu")


def _tiles_layer(ctx: _Ctx, basemap: str, tiles: str | None, key: str | None, sec: dict,
                 out_dir: Path | None) -> tuple[list[folium.TileLayer], str]:
    layers = []
    if tiles:
        url = str(tiles)
        if "{z}" not in url:
            p = Path(url).expanduser()
            if not p.is_dir():
                raise InputError(f"--tiles {tiles}: neither a tile folder nor a URL template "
                                 "with {z}/{x}/{y}; e.g. --tiles maps/tiles or "
                                 "--tiles http://intranet/tiles/{z}/{x}/{y}.png")
            ext = "png"
            for cand in ("png", "jpg", "jpeg", "webp"):
                if next(p.glob(f"*/*/*.{cand}"), None) is not None:
                    ext = cand
                    break
            p = p.resolve()
            if out_dir is not None:
                try:
                    rel = os.path.relpath(p, out_dir.resolve())
                    url = rel.replace(os.sep, "/") + f"/{{z}}/{{x}}/{{y}}.{ext}"
                except ValueError:
                    url = p.as_uri() + f"/{{z}}/{{x}}/{{y}}.{ext}"
            else:
                url = p.as_uri() + f"/{{z}}/{{x}}/{{y}}.{ext}"
        attr = _esc(sec.get("tiles_attribution") or "local tiles")
        layers.append(folium.TileLayer(url, attr=attr, name=_esc(attr), overlay=False,
                                       control=False, max_zoom=19))
        return layers, f"tiles: {tiles}"
    if basemap == "osm":
        layers.append(folium.TileLayer(_OSM[0], attr=_OSM[1], name="OpenStreetMap",
                                       overlay=False, control=False, max_zoom=19))
    elif basemap == "amap":
        layers.append(folium.TileLayer(_AMAP[0], attr=_AMAP[1], name="AMap", subdomains="1234",
                                       overlay=False, control=False, max_zoom=18))
    elif basemap == "tianditu":
        for lay in ("vec", "cva"):
            url = _TDT[0].replace("{layer}", lay).replace("{key}", key or "")
            layers.append(folium.TileLayer(url, attr=_TDT[1], name=f"Tianditu {lay}",
                                           subdomains="01234567", overlay=lay == "cva",
                                           control=False, max_zoom=18))
    return layers, f"basemap: {basemap}" + (" (overlays shifted to GCJ-02 for display)"
                                            if basemap == "amap" else "")

