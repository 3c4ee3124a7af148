"""Output rasters written tile by tile, then copied to Cloud-Optimized GeoTIFFs.

The dask engine (:mod:`.chunked`) hands each tile's scores, codes and stability to a
:class:`TileWriter` as the tile arrives; the full grid is never in memory. Each raster
goes first into a tiled, deflate-compressed scratch GeoTIFF beside its output, then
GDAL's COG driver copies it (building the overviews from the file) to the output path
through :func:`geo.io.atomic_path`, so a failed run leaves no partial output.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.windows import Window as RioWindow

from ..grid import Grid, overview_factors
from ..io import atomic_path
from .tiles import Window

COPY_CACHE_BYTES = 8 * 2**20
"""GDAL's block cache while a scratch file is copied to a COG: GDAL's default (5 % of
RAM) let the copy hold what the tiles never did (+120 MB on the YRD at 50 m; +45 MB with
this)."""


class TileWriter:
    """Windowed writes of the output rasters into tiled scratch GeoTIFFs beside the
    outputs; :meth:`finish` copies each to a COG (overviews built by GDAL from the file,
    never from memory) atomically and removes the scratch files.

    Parameters
    ----------
    paths
        Output file name → path (checked writable).
    grid
        The study grid (its CRS and transform are written).
    specs
        File name → :func:`.report.raster_specs` entry (dtype, nodata, tags, band name,
        colour table, overview resampling).
    names
        The rasters to write.
    """

    def __init__(self, paths: dict[str, Path], grid: Grid, specs: dict[str, dict],
                 names: list[str]) -> None:
        self.grid, self.paths, self.specs = grid, paths, specs
        self.scratch: dict[str, Path] = {}
        self.ds: dict[str, Any] = {}
        for name in names:
            # the folder is made when writing starts (the pre-check creates nothing)
            paths[name].parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tiles.tif",
                                       dir=paths[name].parent)
            os.close(fd)
            os.unlink(tmp)
            self.scratch[name] = Path(tmp)
            sp = specs[name]
            self.ds[name] = rasterio.open(
                tmp, "w", driver="GTiff", width=grid.width, height=grid.height, count=1,
                dtype=sp["dtype"], crs=grid.crs.to_wkt(), transform=grid.transform,
                nodata=sp["nodata"], tiled=True, blockxsize=256, blockysize=256,
                compress="deflate", BIGTIFF="IF_SAFER")
            if sp.get("colormap"):  # before any pixel is written (a TIFF rule)
                self.ds[name].write_colormap(1, sp["colormap"])

    def write(self, name: str, win: Window, arr: np.ndarray) -> None:
        """Write one tile of one raster to its scratch file.

        Parameters
        ----------
        name : str
            The raster's file name (a key of ``names``).
        win : Window
            Where the tile lies in the study grid (rows and columns, cells).
        arr : numpy.ndarray
            The tile's values, shape ``(win.height, win.width)``; cast to the raster's
            dtype.
        """
        self.ds[name].write(arr.astype(self.specs[name]["dtype"], copy=False), 1,
                            window=RioWindow(win.c0, win.r0, win.width, win.height))

    def finish(self, overwrite: bool) -> None:
        """Tag and close every scratch file, copy each to its output path as a COG
        (through a temporary file renamed into place) and remove the scratch files.

        Parameters
        ----------
        overwrite : bool
            Whether an existing output may be replaced.

        Raises
        ------
        OutputError
            An output exists and ``overwrite`` is False, or cannot be written (from
            :func:`geo.io.atomic_path`).
        """
        factors = overview_factors(self.grid.width, self.grid.height)
        for name, ds in self.ds.items():
            sp = self.specs[name]
            ds.update_tags(**{k: str(v) for k, v in sp["tags"].items()})
            ds.set_band_description(1, sp["band_names"][0])
            ds.close()
            with atomic_path(self.paths[name], overwrite=overwrite) as tmp:
                _copy_cog(self.scratch[name], tmp, sp["dtype"],
                          sp.get("overview_resampling", "average"), len(factors))
            self.scratch[name].unlink()
        self.ds = {}

    def abort(self) -> None:
        for ds in self.ds.values():
            with contextlib.suppress(Exception):
                ds.close()
        for p in self.scratch.values():
            p.unlink(missing_ok=True)


def _copy_cog(src: Path, dst: Path, dtype: str, resampling: str, n_overviews: int) -> None:
    """GDAL's COG driver copies ``src`` to ``dst`` (deflate, 256-cell blocks, overviews
    built from the file with ``resampling``) under a bounded block cache."""
    with rasterio.Env(GDAL_CACHEMAX=COPY_CACHE_BYTES):
        rasterio.shutil.copy(
            src, dst, driver="COG", COMPRESS="DEFLATE",
            PREDICTOR="FLOATING_POINT" if np.dtype(dtype).kind == "f" else "NO",
            BLOCKSIZE=256, BIGTIFF="IF_SAFER", RESAMPLING=resampling.upper(),
            OVERVIEWS="AUTO" if n_overviews else "NONE",
            **({"OVERVIEW_COUNT": n_overviews} if n_overviews else {}))


def to_cog(path: str | Path) -> Path:
    """Rewrite a GeoTIFF of :func:`geo.grid.write_geotiff` in place as a Cloud-Optimized
    GeoTIFF (tags, band names, colour table and nodata kept; overviews rebuilt with the
    resampling the file records), through a temporary file renamed into place.

    Parameters
    ----------
    path : str or Path
        The GeoTIFF.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    with rasterio.open(path) as src:
        dtype, width, height = src.dtypes[0], src.width, src.height
        resampling = src.tags(ns="rio_overview").get("resampling", "average")
    with atomic_path(path, overwrite=True) as tmp:
        _copy_cog(path, tmp, dtype, resampling, len(overview_factors(width, height)))
    return path
