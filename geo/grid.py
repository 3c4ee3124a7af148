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
import rasterio
import shapely
from affine import Affine
from pyproj import CRS
from rasterio import features
from rasterio.crs import CRS as RioCRS
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT

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
        """The affine transform of the grid: cell (col, row) → upper-left corner in metres."""
        return Affine(self.cell_m, 0.0, self.x0, 0.0, -self.cell_m, self.y0)

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)``: rows and columns, the shape of the grid's arrays."""
        return (self.height, self.width)

    @property
    def size(self) -> int:
        """Number of cells (``width × height``)."""
        return self.width * self.height

    @property
    def cell_area_m2(self) -> float:
        """Area of one cell in m² (``cell_m²``, exact in the grid's projected CRS)."""
        return self.cell_m * self.cell_m

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` of the grid's outer edges, metres in :attr:`crs`."""
        return (self.x0, self.y0 - self.height * self.cell_m,
                self.x0 + self.width * self.cell_m, self.y0)

    def padded(self, n: int) -> Grid:
        """The same grid grown by ``n`` cells on every side.

        Parameters
        ----------
        n : int
            Cells to add on each side (e.g. 1 for a one-cell halo around a DEM read for
            slope).

        Returns
        -------
        Grid
            Same CRS and cell size, upper-left corner moved ``n × cell_m`` metres up and
            left, ``width + 2n`` columns and ``height + 2n`` rows.
        """
        return Grid(self.crs, self.x0 - n * self.cell_m, self.y0 + n * self.cell_m,
                    self.cell_m, self.width + 2 * n, self.height + 2 * n)

    def centres(self, rows: slice | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates (x, y) of ``rows`` (all rows by default), 2-D.

        Parameters
        ----------
        rows : slice or None, optional
            Rows to return (0 = top); None = every row.

        Returns
        -------
        x, y : numpy.ndarray
            Two float arrays of shape ``(n_rows, width)``: cell-centre easting and northing
            in metres in the grid's CRS (:attr:`crs`).
        """
        r = np.arange(self.height)[rows] if rows is not None else np.arange(self.height)
        x = self.x0 + (np.arange(self.width) + 0.5) * self.cell_m
        y = self.y0 - (r + 0.5) * self.cell_m
        return np.meshgrid(x, y)

    def row_blocks(self, max_cells: int) -> Iterator[slice]:
        """Row slices covering the grid with at most ``max_cells`` cells each.

        Parameters
        ----------
        max_cells : int
            Cell budget of one block; a block has at least one row even if a row is wider.

        Yields
        ------
        slice
            Consecutive row ranges, top to bottom, together covering all ``height`` rows.
        """
        step = max(1, max_cells // max(self.width, 1))
        for r0 in range(0, self.height, step):
            yield slice(r0, min(self.height, r0 + step))


def grid_for_bounds(bounds: tuple[float, float, float, float], crs: CRS, cell_m: float, *,
                    origin: tuple[float, float] = (0.0, 0.0)) -> Grid:
    """The smallest grid aligned to ``origin`` covering ``bounds`` (metric CRS).

    Parameters
    ----------
    bounds : tuple of float
        ``(minx, miny, maxx, maxy)`` in metres in ``crs``.
    crs : pyproj.CRS or anything pyproj reads
        A projected CRS in metres (e.g. a CGCS2000 Gauss-Krüger zone, EPSG:4534–4554).
    cell_m : float
        Cell size, metres.
    origin : tuple of float, optional
        A point ``(x, y)`` in metres that cell edges are aligned to: edges fall on
        ``origin + i × cell_m``. Default ``(0, 0)``.

    Returns
    -------
    Grid
        North-up grid in ``crs`` with at least one row and column.

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

    Parameters
    ----------
    geoms : array-like of shapely.Geometry
        Geometries in the grid's CRS (metres); None and empty geometries are ignored.
    grid : Grid
        The grid to burn into.
    all_touched : bool, optional
        Mark every cell a polygon touches, not only those whose centre it contains.

    Returns
    -------
    numpy.ndarray
        Bool array of shape ``grid.shape`` (rows, columns); all False if no geometry.
    """
    geoms = [g for g in np.asarray(geoms, dtype=object).ravel()
             if g is not None and not shapely.is_empty(g)]
    if not geoms:
        return np.zeros(grid.shape, dtype=bool)
    out = features.rasterize(((g, 1) for g in geoms), out_shape=grid.shape,
                             transform=grid.transform, fill=0, dtype="uint8",
                             all_touched=all_touched)
    return out.astype(bool)


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


def _seg_dist2(px, py, ax, ay, dx, dy, inv):
    """Squared distance from points (px, py) to segments a + t·d, t ∈ [0, 1]
    (``inv`` = 1 / |d|², 0 for a point); broadcasting float32 arrays."""
    ex = px - ax
    ey = py - ay
    t = (ex * dx + ey * dy) * inv
    np.clip(t, 0.0, 1.0, out=t)
    ex -= t * dx
    ey -= t * dy
    ex *= ex
    ey *= ey
    ex += ey
    return ex


@dataclass
class _SegmentIndex:
    """The straight segments of some features (metric CRS) in an STRtree, with their
    direction vectors and inverse squared lengths (float32) for the block distances of
    :func:`distance_to_features`."""

    seg: np.ndarray      # (n, 2, 2) float64 segment end points
    tree: shapely.STRtree
    d: np.ndarray        # (n, 2) float32 direction vectors
    inv: np.ndarray      # (n,) float32 1 / |d|² (0 for a point)

    @classmethod
    def build(cls, seg: np.ndarray, h: float) -> _SegmentIndex:
        d = seg[:, 1] - seg[:, 0]
        ll = np.einsum("ij,ij->i", d, d)
        # a segment shorter than a micro-cell is its first point (error < 1e-6 cell;
        # keeps 1 / |d|² finite in float32), in the tree too: GEOS gives NaN distances
        # for lines of sub-nanometre length
        degenerate = ~(ll > (1e-6 * h) ** 2)
        shapes = np.empty(len(seg), dtype=object)
        shapes[degenerate] = shapely.points(seg[degenerate, 0])
        shapes[~degenerate] = shapely.linestrings(seg[~degenerate])
        inv = np.divide(1.0, ll, out=np.zeros_like(ll), where=~degenerate)
        return cls(seg, shapely.STRtree(shapes), d.astype(np.float32),
                   inv.astype(np.float32))

    def upper_bounds(self, box: tuple[np.ndarray, ...], cap: float | None,
                     h: float) -> np.ndarray:
        """Per block, a distance no cell centre of the block exceeds to its nearest
        segment: the farthest corner of the centre box from the segment nearest to the
        box centre (capped at ``cap``; inf when no segment is within ``cap``)."""
        bx0, by0, bx1, by1 = box
        mx, my = (bx0 + bx1) / 2, (by0 + by1) / 2
        rb = np.hypot(bx1 - bx0, by0 - by1) / 2
        near = self.tree.query_nearest(shapely.points(mx, my),
                                       max_distance=(cap + rb.max()) if cap else None,
                                       return_distance=False, all_matches=False)
        s0 = np.full(len(bx0), -1, dtype=np.int64)
        s0[near[0]] = near[1]
        has = s0 >= 0
        ub = np.full(len(bx0), cap if cap else np.inf)
        if has.any():
            k = s0[has]
            a0, d0 = self.seg[k, 0], (self.seg[k, 1] - self.seg[k, 0])
            i0 = self.inv[k].astype(np.float64)
            cx = np.stack([bx0[has], bx1[has], bx0[has], bx1[has]], axis=1)
            cy = np.stack([by0[has], by0[has], by1[has], by1[has]], axis=1)
            u2 = _seg_dist2(cx, cy, a0[:, :1], a0[:, 1:], d0[:, :1], d0[:, 1:],
                            i0[:, None]).max(axis=1)
            # a hair more than the bound: rounding must not drop the nearest segment
            u = np.sqrt(u2) * (1 + 1e-9) + 1e-6 * h
            ub[has] = np.minimum(u, cap) if cap else u
        return ub

    def lower_envelope(self, best: np.ndarray, bid: np.ndarray, box: tuple[np.ndarray, ...],
                       ub: np.ndarray, offs: tuple[np.ndarray, np.ndarray], h: float,
                       per_group: int, shape: tuple[int, int, int]) -> None:
        """Lower ``best`` (squared distances, blocks × cells) by every segment within
        ``ub`` of each block's centre box, evaluated against the block's cells."""
        bx0, by0, bx1, by1 = box
        ok = np.isfinite(ub)
        if not ok.any():
            return
        eps = 1e-6 * h  # a one-cell block has a degenerate centre box
        boxes = shapely.box(bx0[ok] - eps, by1[ok] - eps, bx1[ok] + eps, by0[ok] + eps)
        pb, ps = self.tree.query(boxes, predicate="dwithin", distance=ub[ok])
        if not len(pb):
            return
        pb = np.flatnonzero(ok)[pb]
        order = np.argsort(pb, kind="stable")
        pb, ps = pb[order], ps[order]
        nbr, B, nbc = shape
        view = best.reshape(nbr, B, nbc, B)
        for p0 in range(0, len(pb), per_group):
            qb, qs = pb[p0:p0 + per_group], ps[p0:p0 + per_group]
            # segment coordinates relative to the block's first cell centre: float32
            # keeps millimetres whatever the CRS offsets
            ax = (self.seg[qs, 0, 0] - bx0[qb]).astype(np.float32)[:, None]
            ay = (self.seg[qs, 0, 1] - by0[qb]).astype(np.float32)[:, None]
            d2 = _seg_dist2(offs[0], offs[1], ax, ay, self.d[qs, 0][:, None],
                            self.d[qs, 1][:, None], self.inv[qs][:, None])
            starts = np.flatnonzero(np.r_[True, qb[1:] != qb[:-1]])
            red = np.minimum.reduceat(d2, starts, axis=0)
            r, c = np.divmod(bid[qb[starts]], nbc)
            cur = view[r, :, c, :].reshape(len(starts), B * B)
            view[r, :, c, :] = np.minimum(cur, red).reshape(len(starts), B, B)


def _needed_blocks(where: np.ndarray | None, shape: tuple[int, int, int]) -> np.ndarray:
    """Ids (row-major) of the ``B × B`` blocks holding a cell of ``where`` (all of them
    without it); ``shape`` is (block rows, B, block columns)."""
    nbr, B, nbc = shape
    if where is None:
        return np.arange(nbr * nbc)
    pad = np.zeros((nbr * B, nbc * B), dtype=bool)
    pad[:where.shape[0], :where.shape[1]] = where
    return np.flatnonzero(pad.reshape(nbr, B, nbc, B).any(axis=(1, 3)))


def distance_to_features(geoms, grid: Grid, *, pad_m: float = 0.0, block: int = 16,
                         max_cells: int = 1_000_000, where: np.ndarray | None = None
                         ) -> np.ndarray:
    """Distance (metres, float32) from each cell centre of ``grid`` to ``geoms``.

    Exact point-to-geometry distance (up to float32 rounding, millimetres), computed
    by blocks of ``block × block`` cells: every feature is split into straight
    segments (points as zero-length segments, polygons by their outline, zero inside
    them) held in a ``shapely.STRtree``; for each block the segment nearest to the
    block centre gives an upper bound ``U`` on the distance of every cell centre of
    the block (the largest distance from the corners of the block's centre box to
    that segment: the distance to a segment is convex, so its maximum over a box is
    at a corner), and only the segments within ``U`` of the box — the only ones that
    can be nearest to one of its cells — are evaluated against the block's cells,
    all in numpy. Nothing is approximated, so the result is within half a cell (and
    in fact within float32 rounding) of ``shapely.distance`` everywhere.

    ``pad_m`` > 0 bounds the search: a cell whose nearest feature is farther than
    ``pad_m`` gets +inf or a distance to some feature (≥ its true distance, so
    > ``pad_m``); choose ``pad_m`` at least the distance beyond which the score no
    longer changes. ``pad_m`` ≤ 0 searches without bound. Returns +inf everywhere if
    there is no feature.

    ``block`` (cells per block side) trades the number of STRtree queries against
    segments evaluated per block; ``max_cells`` bounds the (block, segment) pairs
    held at once (× 4 bytes each, a few temporaries), so memory stays flat on large
    grids. ``where`` limits the work to the blocks holding a cell whose distance is
    needed (the chunked suitability engine passes the scored cells: a tile outside the
    study or under water costs nothing). No Python loop runs over cells or features.

    Parameters
    ----------
    geoms
        Points, lines or polygons in the grid's metric CRS (metres).
    grid
        The raster grid (metric CRS, cell size in metres).
    pad_m
        Search bound in metres (≤ 0: unbounded); see above.
    block
        Cells per block side.
    max_cells
        Bound on the (block, segment) pairs evaluated at once.
    where
        (height, width) bool: the cells whose distance is needed; default all. Cells of
        a block holding none of them are +inf (the others are exact).

    Returns
    -------
    numpy.ndarray
        (height, width) float32 metres; 0 inside polygons; +inf beyond ``pad_m``, with no
        feature, or outside ``where``'s blocks.
    """
    h = float(grid.cell_m)
    H, W = grid.shape
    out = np.full(grid.shape, np.inf, dtype=np.float32)
    seg, polys, _ = _segments(geoms)
    if not len(seg) or (where is not None and not where.any()):
        return out
    segs = _SegmentIndex.build(seg, h)
    cap = float(pad_m) if pad_m and pad_m > 0 else None
    B = max(1, int(block))
    nbr, nbc = -(-H // B), -(-W // B)
    # cell-centre offsets inside a block, relative to the block's first centre
    jj, ii = np.meshgrid(np.arange(B, dtype=np.float32), np.arange(B, dtype=np.float32))
    offs = ((jj * np.float32(h)).ravel()[None, :], (-ii * np.float32(h)).ravel()[None, :])
    best = np.full((nbr * B, nbc * B), np.inf, dtype=np.float32)
    per_group = max(1, max_cells // (B * B))
    todo = _needed_blocks(where, (nbr, B, nbc))
    for g0 in range(0, len(todo), per_group):  # groups of blocks bound the memory
        bid = todo[g0:g0 + per_group]
        br, bc = np.divmod(bid, nbc)
        # the box spanned by the block's cell centres (clipped to the grid)
        box = (grid.x0 + (bc * B + 0.5) * h, grid.y0 - (br * B + 0.5) * h,
               grid.x0 + (np.minimum(bc * B + B, W) - 0.5) * h,
               grid.y0 - (np.minimum(br * B + B, H) - 0.5) * h)
        ub = segs.upper_bounds(box, cap, h)
        segs.lower_envelope(best, bid, box, ub, offs, h, per_group, (nbr, B, nbc))
    np.sqrt(best, out=best)
    out[:] = best[:H, :W]
    if len(polys):
        out[rasterize_mask(polys, grid)] = 0.0
    return out


def _source_cell_m(src) -> tuple[float, float]:
    """A raster's cell width and height in metres (degrees converted at its centre)."""
    rx, ry = abs(src.res[0]), abs(src.res[1])
    if src.crs.is_geographic:
        lat = math.radians((src.bounds.top + src.bounds.bottom) / 2)
        return rx * 111_320.0 * max(math.cos(lat), 0.01), ry * 110_574.0
    return rx, ry


def reproject_to_grid(path: str | Path, grid: Grid, *, band: int = 1,
                      resampling: str = "bilinear", label: str | None = None) -> np.ndarray:
    """Read a raster onto ``grid`` (float32, NaN where the source has no data).

    The source is warped from its own CRS with ``rasterio.warp.reproject`` using the
    exact coordinate transformation for every cell (no approximation along scanlines),
    so a cell's value does not depend on the extent of ``grid``; its nodata value (and
    cells outside it) become NaN, never 0.

    Parameters
    ----------
    path : str or Path
        A raster file rasterio opens (e.g. a DEM GeoTIFF), in any CRS it declares.
    grid : Grid
        The target grid (metric CRS, metres).
    band : int, optional
        1-based band number to read.
    resampling : str, optional
        A ``rasterio.enums.Resampling`` name (``"bilinear"``, ``"nearest"``, …). For any
        but ``nearest`` the kernel is widened from the source/target cell sizes (metres;
        a geographic source's degrees are converted at its mid-latitude).
    label : str, optional
        How messages name the raster (e.g. ``layers.dem``); defaults to the path.

    Returns
    -------
    numpy.ndarray
        float32 array of shape ``grid.shape`` in the raster's units (metres for a
        DEM); NaN where the source has no data or does not cover the cell.

    Raises
    ------
    LayerError
        If the raster has no CRS.
    """
    label = label or str(path)
    with rasterio.open(path) as src:
        if src.crs is None:
            raise LayerError(f"{label}: {path} has no CRS; set one with "
                             "gdal_edit.py -a_srs EPSG:4326 (or the right EPSG code)")
        src_nodata = src.nodata
        extra = {}
        if resampling != "nearest":
            # GDAL widens the kernel when downsampling by a factor it computes per warp
            # chunk; fixing it from the cell sizes makes a cell's value independent of
            # the extent of ``grid`` (a tile reads exactly what the whole grid reads)
            sx, sy = _source_cell_m(src)
            extra = {"XSCALE": min(1.0, sx / grid.cell_m), "YSCALE": min(1.0, sy / grid.cell_m)}
        # the exact coordinate transformation per cell (GDAL's default approximates it
        # along scanlines to 1/8 pixel, which depends on the extent too)
        with WarpedVRT(src, crs=RioCRS.from_wkt(grid.crs.to_wkt()), transform=grid.transform,
                       width=grid.width, height=grid.height,
                       resampling=getattr(Resampling, resampling), tolerance=1e-9,
                       src_nodata=src_nodata, nodata=np.nan, dtype="float32",
                       **extra) as vrt:
            dst = vrt.read(band)
    if src_nodata is not None and not np.isnan(src_nodata):
        dst[dst == np.float32(src_nodata)] = np.nan
    return dst


def slope_degrees(dem: np.ndarray, cell_m: float, *, max_cells: int = 4_000_000) -> np.ndarray:
    """Slope (degrees) of an elevation grid (metres) with square cells of ``cell_m``.

    Central differences (``numpy.gradient``) in row blocks with a one-row halo;
    a cell with a NaN neighbour is NaN (unknown), never flat.

    Parameters
    ----------
    dem : numpy.ndarray
        2-D elevations in metres on a metric grid; NaN = no data.
    cell_m : float
        Cell size in metres (the same unit as the elevations).
    max_cells : int, optional
        Cells per processing block (bounds the memory of the float64 temporaries).

    Returns
    -------
    numpy.ndarray
        float32 slope in degrees (0 = flat, 90 = vertical), same shape as ``dem``; NaN
        next to missing data, and everywhere if the grid has fewer than 2 rows or columns.
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


def overview_factors(width: int, height: int) -> list[int]:
    """Overview levels of the rasters parksite writes (in memory and as COGs).

    Parameters
    ----------
    width, height : int
        The raster's size in cells.

    Returns
    -------
    list of int
        Decimation factors 2, 4, … 64 that keep at least 64 cells on the short side
        (empty for a raster under 128 cells).
    """
    return [f for f in (2, 4, 8, 16, 32, 64) if min(width, height) // f >= 64]


def write_geotiff(path: str | Path, arrays: np.ndarray | list[np.ndarray], grid: Grid, *,
                  dtype: str, nodata: float | int | None, tags: Mapping[str, str] | None = None,
                  band_names: list[str] | None = None, colormap: dict | None = None,
                  overview_resampling: str = "average", overwrite: bool = True) -> Path:
    """Write bands atomically as a tiled, compressed GeoTIFF with overviews.

    QGIS reads the CRS, transform, nodata, band descriptions, metadata tags and
    (for uint8) the colour table.

    Parameters
    ----------
    path : str or Path
        Output file; written under a temporary name and renamed into place.
    arrays : numpy.ndarray or list of numpy.ndarray
        One band or a list of bands, each of shape ``grid.shape``.
    grid : Grid
        The bands' grid: gives the CRS (metric) and the transform (metres).
    dtype : str
        Output data type (``"float32"``, ``"uint8"``, …); bands are cast to it.
    nodata : float, int or None
        The nodata value recorded in the file (e.g. NaN for float bands, 255 for uint8).
    tags : Mapping of str to str, optional
        Dataset metadata tags (values are written with ``str``).
    band_names : list of str, optional
        Band descriptions, one per band.
    colormap : dict, optional
        Colour table of band 1 (``{value: (r, g, b[, a])}``), for uint8 classes.
    overview_resampling : str, optional
        A ``rasterio.enums.Resampling`` name used to build the overviews.
    overwrite : bool, optional
        Replace an existing file; if False an existing ``path`` is an error.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputError
        If ``path`` exists without ``overwrite``, is a folder or cannot be written (from
        :func:`geo.io.atomic_path`); the previous file is then unchanged.
    """
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
            factors = overview_factors(grid.width, grid.height)
            if factors:
                dst.build_overviews(factors, getattr(Resampling, overview_resampling))
                dst.update_tags(ns="rio_overview", resampling=overview_resampling)
    return Path(path)
