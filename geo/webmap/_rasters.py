"""Rasters (DEM, suitability, hard exclusions, rank stability) as image overlays
warped to Web Mercator and inlined as PNG data URIs.
"""

from __future__ import annotations

import base64
import re
import warnings
from pathlib import Path

import folium
import numpy as np
import rasterio
from affine import Affine
from branca.utilities import write_png
from rasterio.errors import RasterioIOError
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

from ..crs import wgs84_to_gcj02
from ..errors import InputError
from ..layers import IGBP_CLASSES
from ._context import _add_group, _Ctx
from ._data import SuitabilityLayers
from ._i18n import _label
from ._results import _draw_candidates
from ._style import _EXCL_PALETTE, _PALETTE, _RAMP, _legend_html, _sw_fill
from ._text import _esc


def _png(rgba: np.ndarray) -> bytes:
    """Encode an (h, w, 4) uint8 array as PNG with branca's encoder (what folium uses)."""
    return write_png(np.ascontiguousarray(rgba, dtype=np.uint8))


_TERRAIN = [(0.0, (49, 130, 84)), (0.25, (161, 204, 114)), (0.5, (240, 228, 160)),
            (0.75, (191, 140, 84)), (1.0, (120, 90, 70))]


def _ramp(values: np.ndarray, ramp=None) -> np.ndarray:
    """0–1 values → RGB uint8 through a colour ramp (default :data:`_RAMP`; vectorised)."""
    ramp = ramp or _RAMP
    stops = np.array([s for s, _ in ramp])
    cols = np.array([c for _, c in ramp], dtype=float)
    v = np.clip(values, 0, 1)
    return np.stack([np.interp(v, stops, cols[:, k]) for k in range(3)], axis=-1).astype(np.uint8)


def _warp_to_web(path: Path, max_px: int, *, categorical: bool, what: str):
    """Read band 1 of a GeoTIFF and warp it to Web Mercator (Leaflet's display CRS).

    Returns (array float64 with NaN for nodata, (south, west, north, east) in WGS84).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what}: raster {p} not found; run the analysis again or drop it")
    try:
        with rasterio.open(p) as src, warnings.catch_warnings():
            # affine's "use @" notice comes from inside rasterio; not the user's business
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            if src.crs is None:
                raise InputError(f"{what}: raster {p} has no CRS; write it with one")
            src_arr = src.read(1).astype("float64")
            nodata = src.nodata
            if nodata is not None:
                src_arr[src_arr == nodata] = np.nan
            src_arr[~np.isfinite(src_arr)] = np.nan
            dst_crs = "EPSG:3857"
            transform, w, h = calculate_default_transform(src.crs, dst_crs, src.width,
                                                          src.height, *src.bounds)
            scale = max(w, h) / max_px
            if scale > 1:
                x0, y0, x1, y1 = rasterio.transform.array_bounds(h, w, transform)
                w, h = max(1, int(round(w / scale))), max(1, int(round(h / scale)))
                transform = Affine((x1 - x0) / w, 0.0, x0, 0.0, -(y1 - y0) / h, y1)
            dst = np.full((h, w), np.nan)
            reproject(src_arr, dst, src_transform=src.transform, src_crs=src.crs,
                      src_nodata=np.nan, dst_transform=transform, dst_crs=dst_crs,
                      dst_nodata=np.nan,
                      resampling=Resampling.nearest if categorical else Resampling.bilinear)
            x0, y0, x1, y1 = rasterio.transform.array_bounds(h, w, transform)
            west, south, east, north = transform_bounds(dst_crs, "EPSG:4326", x0, y0, x1, y1)
    except RasterioIOError as exc:
        raise InputError(f"{what}: cannot read raster {p}: {exc}") from None
    return dst, (south, west, north, east)


def _image_bounds(ctx: _Ctx, bounds) -> list[list[float]]:
    s, w, n, e = bounds
    if ctx.gcj:
        (w2, e2), (s2, n2) = wgs84_to_gcj02(np.array([w, e]), np.array([s, n]))
        s, w, n, e = float(s2), float(w2), float(n2), float(e2)
    return [[round(s, 6), round(w, 6)], [round(n, 6), round(e, 6)]]


_EXCL_KEYWORDS = [  # (pattern on the zh/en labels, colour): water blue, red lines dark red, …
    (r"outside|研究区外", None), (r"core|核心", "#67000d"), (r"buffer|缓冲", "#e7877d"),
    (r"red.?line|红线", "#a50f15"), (r"water|sea|lake|水域|海|湖", "#4a7fb5"),
    (r"slope|坡度", "#8c510a"), (r"restricted|限制", "#d94801"), (r"no .*data|无.*数据", "#d9d9d9"),
]


def _excl_colour(text: str, j: int) -> str | None:
    """Colour of an exclusion reason (None: left transparent, e.g. outside the study)."""
    for pat, colour in _EXCL_KEYWORDS:
        if re.search(pat, text, re.I):
            return colour
    return _EXCL_PALETTE[j % len(_EXCL_PALETTE)]


def _ramp_overlay(ctx, m, key: str, label: str, values: np.ndarray, ok: np.ndarray,
                  bounds, ramp, *, alpha: int, opacity: float, css: str,
                  ticks: list[str], note: str = "") -> None:
    """A 0–1 raster as a coloured image layer with a ramp legend that follows it.

    ``values`` are 0–1 (NaN allowed where ``ok`` is False); ``ticks`` are the legend's
    labels under the ramp, already escaped."""
    rgba = np.zeros(values.shape + (4,), np.uint8)
    rgba[..., :3] = _ramp(np.nan_to_num(values), ramp)
    rgba[..., 3] = np.where(ok, alpha, 0)
    url = "data:image/png;base64," + base64.b64encode(_png(rgba)).decode()
    fg = _add_group(ctx, m, key, label)
    folium.raster_layers.ImageOverlay(url, _image_bounds(ctx, bounds), opacity=opacity,
                                      pane="ps-raster", interactive=False,
                                      className=css).add_to(fg)
    grad = ", ".join(f"rgb{c} {s * 100:.0f}%" for s, c in ramp)
    bar = (f'<div class="ps-ramp" style="background:linear-gradient(to right, {grad})">'
           f'</div><div class="ps-ramp-l">{"".join(f"<span>{t}</span>" for t in ticks)}</div>'
           + (f'<div class="ps-lg-n">{_esc(note)}</div>' if note else ""))
    ctx.legend.append((key, fg, f'<div class="ps-lg-t">{_esc(label)}</div>{bar}'))


def _draw_dem(ctx, m, spec):
    """An elevation raster (role dem) as an image with a terrain ramp; off at opening."""

    arr, bounds = _warp_to_web(spec.path, ctx.max_image_px, categorical=False,
                               what=spec.label)
    ok = np.isfinite(arr)
    if not ok.any():
        return
    lo, hi = np.nanpercentile(arr, [2, 98])
    hi = hi if hi > lo else lo + 1
    label = _label(spec, ctx.lang)
    if spec.key not in ctx.hidden and not ctx.explicit_hidden:
        ctx.hidden.add(spec.key)  # an elevation tint hides the analysis layers: opt in
    _ramp_overlay(ctx, m, spec.key, label, (np.nan_to_num(arr, nan=lo) - lo) / (hi - lo), ok,
                  bounds, _TERRAIN, alpha=255, opacity=0.6, css="ps-dem",
                  ticks=[f"{lo:.0f} m", f"{hi:.0f} m"])


def _draw_landuse(ctx, m, spec):
    """A categorical land-use raster (role landuse) coloured by class, with a legend row
    per class present: IGBP names and colours (:data:`geo.layers.IGBP_CLASSES`) when the
    layer declares ``classes = "igbp"``, otherwise the bare codes (never another scheme's
    names on someone else's codes); off at opening like every study raster."""
    arr, bounds = _warp_to_web(spec.path, ctx.max_image_px, categorical=True,
                               what=spec.label)
    ok = np.isfinite(arr)
    if not ok.any():
        return
    igbp = spec.options.get("classes") == "igbp"
    present = np.unique(arr[ok]).astype(int)
    rgba = np.zeros(arr.shape + (4,), np.uint8)
    entries = []
    for j, code in enumerate(present):
        zh, en, colour = IGBP_CLASSES[int(code)] if igbp and int(code) in IGBP_CLASSES \
            else ("", "", _PALETTE[j % len(_PALETTE)])
        name = zh if ctx.lang == "zh" else en
        sel = arr == code
        rgba[sel, :3] = [int(colour[k:k + 2], 16) for k in (1, 3, 5)]
        rgba[sel, 3] = 255
        entries.append((_sw_fill(colour, colour, 0.6), _esc(f"{code} {name}".strip())))
    label = _label(spec, ctx.lang)
    if spec.key not in ctx.hidden and not ctx.explicit_hidden:
        ctx.hidden.add(spec.key)  # a land-cover tint hides the analysis layers: opt in
    url = "data:image/png;base64," + base64.b64encode(_png(rgba)).decode()
    fg = _add_group(ctx, m, spec.key, label)
    folium.raster_layers.ImageOverlay(url, _image_bounds(ctx, bounds), opacity=0.55,
                                      pane="ps-raster", interactive=False,
                                      className="ps-landuse").add_to(fg)
    ctx.legend.append((spec.key, fg, _legend_html(_esc(label), entries)))


def _draw_suitability(ctx, m, suit: SuitabilityLayers):
    tif = suit.suitability_tif
    if tif:
        arr, bounds = _warp_to_web(Path(tif), ctx.max_image_px, categorical=False,
                                   what="suitability.suitability_tif")
        _ramp_overlay(ctx, m, "suitability", ctx.t("suitability"), arr, np.isfinite(arr),
                      bounds, _RAMP, alpha=255, opacity=0.7, css="ps-suitability",
                      ticks=[f"0 {_esc(ctx.t('low'))}", "0.5", f"1 {_esc(ctx.t('high'))}"])
    ex = suit.exclusion_tif
    if ex:
        arr, bounds = _warp_to_web(Path(ex), ctx.max_image_px, categorical=True,
                                   what="suitability.exclusion_tif")
        codes_lbl, codes_all = {}, {}
        for k, v in (suit.exclusion_codes or {}).items():
            all_text = " ".join(str(x) for x in v.values()) if isinstance(v, dict) else str(v)
            if isinstance(v, dict):
                v = v.get(ctx.lang) or v.get("label") or v.get("en") or v.get("zh") or k
            codes_lbl[int(k)] = v
            codes_all[int(k)] = all_text
        present = sorted(int(c) for c in np.unique(arr[np.isfinite(arr)]) if int(c) != 0)
        rgba = np.zeros(arr.shape + (4,), np.uint8)
        entries = []
        for j, code in enumerate(present):
            colour = _excl_colour(codes_all.get(code, ""), j)
            if colour is None:
                continue
            rgb = tuple(int(colour[k:k + 2], 16) for k in (1, 3, 5))
            sel = arr == code
            rgba[sel, :3] = rgb
            rgba[sel, 3] = 255
            entries.append((_sw_fill(colour, colour, 0.6), _esc(codes_lbl.get(code, code))))
        url = "data:image/png;base64," + base64.b64encode(_png(rgba)).decode()
        label = ctx.t("exclusions")
        fg = _add_group(ctx, m, "exclusions", label)
        folium.raster_layers.ImageOverlay(url, _image_bounds(ctx, bounds), opacity=0.55,
                                          pane="ps-raster", interactive=False,
                                          className="ps-exclusions").add_to(fg)
        ctx.legend.append(("exclusions", fg, _legend_html(_esc(label), entries)))
    if suit.stability_tif:
        _draw_stability(ctx, m, Path(suit.stability_tif))
    _draw_candidates(ctx, m, suit.candidates)


_STAB_RAMP = [(0.0, (255, 247, 243)), (0.25, (252, 197, 192)), (0.5, (247, 104, 161)),
              (0.75, (174, 1, 126)), (1.0, (73, 0, 106))]


def _draw_stability(ctx, m, tif: Path):
    """Rank stability (share of Monte Carlo runs with perturbed weights in which a cell
    is in the top 5 %) as an image; off when the map opens; cells never in the top are
    left clear."""
    arr, bounds = _warp_to_web(tif, ctx.max_image_px, categorical=False,
                               what="suitability.stability_tif")
    ok = np.isfinite(arr) & (arr > 0)
    if not ok.any():
        return
    if "stability" not in ctx.hidden and not ctx.explicit_hidden:
        ctx.hidden.add("stability")  # a second raster over the suitability: opt in
    _ramp_overlay(ctx, m, "stability", ctx.t("stability_l"), arr, ok, bounds, _STAB_RAMP,
                  alpha=235, opacity=0.8, css="ps-stability", ticks=["0 %", "50 %", "100 %"],
                  note=ctx.t("stability_n"))

