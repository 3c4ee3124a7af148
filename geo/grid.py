"""Analysis grids in a metric CRS: rasterising features, exact distances, DEM
reprojection and slope, and GeoTIFF output that QGIS opens.

Every function here works in the grid's projected CRS and in metres. A
:class:`Grid` is north-up, square-celled and aligned to an origin: cell edges fall
on ``origin + i × cell_m``, so two runs with the same settings give the same cells.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS

from .errors import LayerError, ModelError
from .io import atomic_path


@dataclass(frozen=True)
class Grid:
    """A north-up grid of square cells.

    Attributes
    ----------
    crs : pyproj.CRS
        A projected CRS in metres.
    x0, y0 : float
        Upper-left corner (metres).
    cell_m : float
        Cell size (metres).
    width, height : int
        Columns and rows.
    """

    crs: CRS
    x0: float
    y0: float
    cell_m: float
    width: int
    height: int

    @property
    def transform(self) -> Affine:
        return Affine(self.cell_m, 0.0, self.x0, 0.0, -self.cell_m, self.y0)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def size(self) -> int:
        return self.width * self.height

    @property
    def cell_area_m2(self) -> float:
        return self.cell_m * self.cell_m

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0 - self.height * self.cell_m,
                self.x0 + self.width * self.cell_m, self.y0)

    def padded(self, n: int) -> Grid:
        """The same grid grown by ``n`` cells on every side."""
        return Grid(self.crs, self.x0 - n * self.cell_m, self.y0 + n * self.cell_m,
                    self.cell_m, self.width + 2 * n, self.height + 2 * n)

    def centres(self, rows: slice | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates (x, y) of ``rows`` (all rows by default), 2-D."""
        r = np.arange(self.height)[rows] if rows is not None else np.arange(self.height)
        x = self.x0 + (np.arange(self.width) + 0.5) * self.cell_m
        y = self.y0 - (r + 0.5) * self.cell_m
        return np.meshgrid(x, y)

    def row_blocks(self, max_cells: int) -> Iterator[slice]:
        """Row slices covering the grid with at most ``max_cells`` cells each."""
        step = max(1, max_cells // max(self.width, 1))
        for r0 in range(0, self.height, step):
            yield slice(r0, min(self.height, r0 + step))


def grid_for_bounds(bounds: tuple[float, float, float, float], crs: CRS, cell_m: float, *,
                    origin: tuple[float, float] = (0.0, 0.0)) -> Grid:
    """The smallest grid aligned to ``origin`` covering ``bounds`` (metric CRS).

    Raises
    ------
    ModelError
        If the cell size is not positive.
    """
    if not cell_m > 0:
        raise ModelError(f"cell size must be positive metres, got {cell_m!r}")
    ox, oy = origin
    minx, miny, maxx, maxy = bounds
    x0 = ox + math.floor((minx - ox) / cell_m) * cell_m
    x1 = ox + math.ceil((maxx - ox) / cell_m) * cell_m
    y0 = oy + math.floor((miny - oy) / cell_m) * cell_m
    y1 = oy + math.ceil((maxy - oy) / cell_m) * cell_m
    width = max(1, int(round((x1 - x0) / cell_m)))
    height = max(1, int(round((y1 - y0) / cell_m)))
    return Grid(CRS.from_user_input(crs), x0, y1, float(cell_m), width, height)


def rasterize_mask(geoms, grid: Grid, *, all_touched: bool = False) -> np.ndarray:
    """Boolean mask of the cells covered by ``geoms`` (shapely, in the grid CRS).

    Polygons cover a cell when they contain its centre (``all_touched=False``);
    lines and points mark every cell they pass through or fall in.
    """
    from rasterio import features

    geoms = [g for g in np.asarray(geoms, dtype=object).ravel()
             if g is not None and not shapely.is_empty(g)]
    if not geoms:
        return np.zeros(grid.shape, dtype=bool)
    out = features.rasterize(((g, 1) for g in geoms), out_shape=grid.shape,
                             transform=grid.transform, fill=0, dtype="uint8",
                             all_touched=all_touched)
    return out.astype(bool)


def rasterize_lines_points(geoms, grid: Grid) -> np.ndarray:
    """Mask of cells holding any part of ``geoms``: lines and points burn every cell
    they touch, polygons their interior and outline."""
    geoms = np.asarray(geoms, dtype=object).ravel()
    geoms = geoms[~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)]
    if not len(geoms):
        return np.zeros(grid.shape, dtype=bool)
    polys = shapely.get_type_id(geoms) >= 3  # Polygon, MultiPolygon, collections
    mask = rasterize_mask(geoms[~polys], grid, all_touched=True) if (~polys).any() else \
        np.zeros(grid.shape, dtype=bool)
    if polys.any():
        mask |= rasterize_mask(geoms[polys], grid, all_touched=False)
        mask |= rasterize_mask(shapely.boundary(geoms[polys]), grid, all_touched=True)
    return mask


def distance_to_mask(mask: np.ndarray, cell_m: float) -> np.ndarray:
    """Exact Euclidean distance (metres) from every cell centre to the nearest True
    cell centre (``scipy.ndimage.distance_transform_edt``), float32.

    Returns +inf everywhere if the mask is empty.
    """
    from scipy import ndimage

    if not mask.any():
        return np.full(mask.shape, np.inf, dtype=np.float32)
    d = ndimage.distance_transform_edt(~mask, sampling=(cell_m, cell_m))
    return d.astype(np.float32, copy=False)


def _segments(geoms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features as straight segments ``(n, 2, 2)`` (points as zero-length segments;
    polygons by their outline) and the polygons themselves."""
    geoms = np.asarray(geoms, dtype=object).ravel()
    geoms = geoms[~shapely.is_missing(geoms)]
    geoms = geoms[~shapely.is_empty(geoms)]
    parts = shapely.get_parts(geoms)
    tid = shapely.get_type_id(parts)
    polys = parts[tid == 3]
    lines = np.concatenate([parts[(tid == 1) | (tid == 2)],
                            shapely.get_parts(shapely.boundary(polys))]) if len(polys) else \
        parts[(tid == 1) | (tid == 2)]
    segs = []
    if len(lines):
        xy, idx = shapely.get_coordinates(lines, return_index=True)
        same = idx[1:] == idx[:-1]
        segs.append(np.stack([xy[:-1][same], xy[1:][same]], axis=1))
    pts = parts[tid == 0]
    if len(pts):
        xy = shapely.get_coordinates(pts)
        segs.append(np.stack([xy, xy], axis=1))
    seg = np.concatenate(segs) if segs else np.zeros((0, 2, 2))
    return seg, polys, lines


def distance_to_features(geoms, grid: Grid, *, pad_m: float = 0.0, neighbours: bool = True,
                         max_cells: int = 2_000_000) -> np.ndarray:
    """Distance (metres, float32) from each cell centre of ``grid`` to ``geoms``.

    Exact Euclidean distance transform on the grid, refined to the geometry: every
    feature is split into straight segments, each cell touched by a segment records
    it, ``scipy.ndimage.distance_transform_edt`` finds for every cell the nearest
    such cell, and the distance is then measured from the cell centre to that
    cell's segment (zero inside polygons). The result equals the true
    point-to-geometry distance except where the nearest feature point lies in
    another cell than the nearest touched cell centre; the error never exceeds half
    a cell diagonal (cell_m / √2) and is far smaller in practice.

    Features are rasterised on the grid grown by ``pad_m`` so that a road just
    outside the study still counts; features farther out than ``pad_m`` are ignored
    (choose ``pad_m`` at least the distance beyond which the score no longer
    changes). Returns +inf everywhere if there is no feature.
    """
    from rasterio import features
    from scipy import ndimage

    n = max(1, int(math.ceil(max(pad_m, 0.0) / grid.cell_m)))  # ≥ 1: neighbours exist
    g = grid.padded(n)
    seg, polys, _ = _segments(geoms)
    if not len(seg):
        return np.full(grid.shape, np.inf, dtype=np.float32)
    degenerate = np.all(seg[:, 0] == seg[:, 1], axis=1)
    shapes = np.where(degenerate, shapely.points(seg[:, 0]), shapely.linestrings(seg))
    sid = features.rasterize(zip(shapes, np.arange(1, len(seg) + 1, dtype=np.int32)),
                             out_shape=g.shape, transform=g.transform, fill=0, dtype="int32",
                             all_touched=True)
    inside = rasterize_mask(polys, g) if len(polys) else None
    empty = sid == 0
    if inside is not None:
        empty &= ~inside
    if empty.all():
        return np.full(grid.shape, np.inf, dtype=np.float32)
    ft = ndimage.distance_transform_edt(empty, return_distances=False, return_indices=True)
    del empty
    out = np.empty(grid.shape, dtype=np.float32)
    # float32 arithmetic relative to the padded grid's corner (≤ a few hundred km: mm precision)
    a = (seg[:, 0] - np.array([g.x0, g.y0])).astype(np.float32)
    d = (seg[:, 1] - seg[:, 0]).astype(np.float32)
    ll = np.einsum("ij,ij->i", d, d)
    cs = np.float32(g.cell_m)
    xc = (np.arange(g.width, dtype=np.float32) + np.float32(0.5)) * cs

    def seg_dist(px, py, rr, cc):
        sv = sid[rr, cc] - 1
        has = sv >= 0
        si = np.where(has, sv, 0)
        ax, ay = a[si, 0], a[si, 1]
        dx, dy = d[si, 0], d[si, 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(ll[si] > 0, ((px - ax) * dx + (py - ay) * dy) / ll[si],
                         np.float32(0.0))
        np.clip(t, 0.0, 1.0, out=t)
        dist = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
        if not has.all():  # a polygon interior cell without a segment
            cx = (cc + np.float32(0.5)) * cs
            cy = -(rr + np.float32(0.5)) * cs
            dist = np.where(has, dist, np.hypot(px - cx, py - cy))
        return dist

    offsets = [(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1)] \
        if neighbours else []
    step = max(1, max_cells // max(grid.width, 1))
    for r0 in range(0, grid.height, step):
        r1 = min(grid.height, r0 + step)
        yc = -(np.arange(n + r0, n + r1, dtype=np.float32) + np.float32(0.5)) * cs
        px, py = np.meshgrid(xc[n:n + grid.width], yc)
        win = (slice(n + r0, n + r1), slice(n, n + grid.width))
        rr0, cc0 = ft[0][win], ft[1][win]
        best = seg_dist(px, py, rr0, cc0)
        for dr, dc in offsets:
            # the nearest touched cell of a neighbour is a candidate too (where it differs)
            w2 = (slice(n + r0 + dr, n + r1 + dr), slice(n + dc, n + grid.width + dc))
            rr, cc = ft[0][w2], ft[1][w2]
            diff = np.nonzero((rr != rr0) | (cc != cc0))
            if diff[0].size:
                dd = seg_dist(px[diff], py[diff], rr[diff], cc[diff])
                best[diff] = np.minimum(best[diff], dd)
        if inside is not None:
            best[inside[win]] = 0.0
        out[r0:r1] = best
    return out


def reproject_to_grid(path: str | Path, grid: Grid, *, band: int = 1,
                      resampling: str = "bilinear", label: str | None = None) -> np.ndarray:
    """Read a raster onto ``grid`` (float32, NaN where the source has no data).

    The source is warped from its own CRS with ``rasterio.warp.reproject``; its
    nodata value (and cells outside it) become NaN, never 0.

    Raises
    ------
    LayerError
        If the raster has no CRS.
    """
    import rasterio
    from rasterio.warp import Resampling, reproject

    label = label or str(path)
    with rasterio.open(path) as src:
        if src.crs is None:
            raise LayerError(f"{label}: {path} has no CRS; set one with "
                             "gdal_edit.py -a_srs EPSG:4326 (or the right EPSG code)")
        dst = np.full(grid.shape, np.nan, dtype=np.float32)
        src_nodata = src.nodata
        reproject(
            source=rasterio.band(src, band), destination=dst,
            src_transform=src.transform, src_crs=src.crs, src_nodata=src_nodata,
            dst_transform=grid.transform, dst_crs=grid.crs.to_wkt(), dst_nodata=np.nan,
            resampling=getattr(Resampling, resampling), init_dest_nodata=True,
        )
    if src_nodata is not None and not np.isnan(src_nodata):
        dst[dst == np.float32(src_nodata)] = np.nan
    return dst


def slope_degrees(dem: np.ndarray, cell_m: float, *, max_cells: int = 4_000_000) -> np.ndarray:
    """Slope (degrees) of an elevation grid (metres) with square cells of ``cell_m``.

    Central differences (``numpy.gradient``) in row blocks with a one-row halo;
    a cell with a NaN neighbour is NaN (unknown), never flat.
    """
    h, w = dem.shape
    out = np.full(dem.shape, np.nan, dtype=np.float32)
    if h < 2 or w < 2:
        return out
    step = max(1, max_cells // max(w, 1))
    for r0 in range(0, h, step):
        r1 = min(h, r0 + step)
        a0, a1 = max(0, r0 - 1), min(h, r1 + 1)
        block = dem[a0:a1].astype(np.float64)
        if block.shape[0] < 2:
            continue
        gy, gx = np.gradient(block, cell_m, cell_m)
        # np.gradient uses one-sided differences at the array edges: the halo rows make
        # every interior row central; NaNs propagate to neighbours.
        nb = np.isnan(block)
        bad = nb.copy()
        bad[1:] |= nb[:-1]
        bad[:-1] |= nb[1:]
        bad[:, 1:] |= nb[:, :-1]
        bad[:, :-1] |= nb[:, 1:]
        s = np.degrees(np.arctan(np.hypot(gx, gy)))
        s[bad] = np.nan
        out[r0:r1] = s[r0 - a0:r0 - a0 + (r1 - r0)]
    return out


def write_geotiff(path: str | Path, arrays: np.ndarray | list[np.ndarray], grid: Grid, *,
                  dtype: str, nodata: float | int | None, tags: Mapping[str, str] | None = None,
                  band_names: list[str] | None = None, colormap: dict | None = None,
                  overview_resampling: str = "average", overwrite: bool = True) -> Path:
    """Write bands atomically as a tiled, compressed GeoTIFF with overviews.

    QGIS reads the CRS, transform, nodata, band descriptions, metadata tags and
    (for uint8) the colour table.
    """
    import rasterio
    from rasterio.enums import Resampling

    bands = arrays if isinstance(arrays, list) else [arrays]
    profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=len(bands),
                   dtype=dtype, crs=grid.crs.to_wkt(), transform=grid.transform,
                   nodata=nodata, compress="deflate", BIGTIFF="IF_SAFER")
    if grid.width >= 256 and grid.height >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    if np.dtype(dtype).kind == "f":
        profile["predictor"] = 3
    elif np.dtype(dtype).itemsize > 1:
        profile["predictor"] = 2
    with atomic_path(path, overwrite=overwrite) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            for i, a in enumerate(bands, start=1):
                for rows in grid.row_blocks(4_000_000):
                    win = rasterio.windows.Window(0, rows.start, grid.width,
                                                  rows.stop - rows.start)
                    dst.write(np.asarray(a[rows], dtype=dtype), i, window=win)
                if band_names:
                    dst.set_band_description(i, band_names[i - 1])
            if tags:
                dst.update_tags(**{k: str(v) for k, v in tags.items()})
            if colormap:
                dst.write_colormap(1, colormap)
            factors = [f for f in (2, 4, 8, 16, 32, 64) if min(grid.width, grid.height) // f >= 64]
            if factors:
                dst.build_overviews(factors, getattr(Resampling, overview_resampling))
                dst.update_tags(ns="rio_overview", resampling=overview_resampling)
    return Path(path)
