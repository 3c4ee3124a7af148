"""Synthetic layers in a Gauss-Krüger zone, for network tests: metres on the central
meridian (scale factor 1), about 31°N."""

from __future__ import annotations

import geopandas as gpd
import shapely

GK = "EPSG:4549"  # CGCS2000 GK zone CM 120°E: scale factor 1 on the meridian
X0, Y0 = 500_000.0, 3_430_000.0  # on the central meridian, about 31°N


def gk_lines(coords_list, **fields) -> gpd.GeoDataFrame:
    """Lines from lists of (x, y) metre offsets from (X0, Y0)."""
    geoms = [shapely.LineString([(X0 + x, Y0 + y) for x, y in c]) for c in coords_list]
    return gpd.GeoDataFrame(fields, geometry=geoms, crs=GK)


def gk_points(xy, ids=None) -> gpd.GeoDataFrame:
    """Points at (x, y) metre offsets from (X0, Y0), with ids ``p0, p1, …`` by default."""
    ids = ids or [f"p{i}" for i in range(len(xy))]
    return gpd.GeoDataFrame({"id": ids},
                            geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs=GK)
