"""Officials' maps: one self-contained HTML file per study, drawn with Folium.

This is the only module that imports :mod:`folium`. :func:`build_map` turns a study's
layers and whatever analysis results exist — a :class:`~geo.pipeline.StudyRun`, or the
typed parts of one in a :class:`MapData` (:meth:`MapData.from_run` is the one place that
reads a run for the map) — into a Leaflet map; :func:`write_map` writes it atomically.

What the map holds
------------------
* a vector basemap from the study's own layers (study area, districts, water, roads,
  railways, ports), or tiles when asked (``osm``, ``amap``, ``tianditu``, or a local
  tile folder / URL template);
* parks (coloured by red-line status when the gate ran; "illustrative" where the
  outlines are), with their evaluation in the popup (firms, dominant industry and LQ,
  HHI, supply-rate median, chain completeness, red-line status, 亩均 grade or "not
  graded") and two switchable views coloured by 亩均 grade and by dominant industry;
  red lines by class (core, redline, restricted; "approximate" where the zone says
  so), red-line conflicts highlighted, firms clustered, coloured by industry and sized
  by local supply rate ("synthetic" where they are), the parks' 100 km service areas
  by road, symbiosis pairs, ranked site recommendations per industry with their
  reasons (excluded sites greyed), a park layout (plots by industry, facilities,
  setback, links), the suitability grid as an image with a colour ramp, hard
  exclusions, rank stability (off at opening) and candidate regions;
* one layer control in groups (红线与管控 · 园区 · 选址 · 招商 · 布局 · 底图); one
  legend, thematic layers first, whose sections show and hide with their layers;
  a "model card" panel (study, data sources, red-line rules, weights, layout summary,
  generated-at time, parksite version) and a collapsible chain-gap (补链) panel whose
  rows zoom to and outline their park and supplier and filter by park and chain.

The decision view
-----------------
The study map opens on a title banner (study, data date) with a three-line summary
generated from the results (:mod:`._decision`): parks and their red-line status,
the top candidate regions, the chain gaps and the largest; each line zooms to its
features. Only the study boundary, the red lines, the parks by red-line status and
the top candidate regions are on at opening. A search box (parks, zones, districts,
firms), a measure tool (km, km², 亩), scale bar, north arrow, an A4 landscape print
layout (:func:`render_print` renders it headless) and a notice when online tiles fail
come from ``geo/assets/map.js`` and ``map.css`` (static files of this package, read
with :mod:`importlib.resources`); panels fold to buttons rather than overlap.

:func:`build_layout_map` / :func:`write_layout_map` draw one park layout on its own
(``parksite layout … --map``): plots, internal roads, setback, links and facilities
as separate layers over the study's layers within 2 km of the park.

Offline
-------
``offline=True`` (the default) inlines Leaflet and Leaflet.markercluster (fetched from
the npm registry into ``geo/assets/vendor/`` by ``tools/fetch_assets.sh``; run
``make assets``), uses no icon fonts, web fonts, jQuery or Bootstrap, and embeds the
suitability image as a ``data:`` URI: the file makes no network request unless the
user asks for a tile basemap.

Safety
------
Every string that comes from data (names, ids, industries, layer labels of the study
file, exclusion labels, model-card entries) is HTML-escaped in Python before it
reaches the page; JSON embedded in ``<script>`` is escaped by Folium's ``tojson``.

Coordinates
-----------
Inputs are WGS84 (EPSG:4326). Display copies are simplified in the study's metric CRS
(``[map] simplify_m``, metres), rounded to ``[map] digits`` decimals, and for the
``amap`` basemap shifted to GCJ-02 (:func:`geo.crs.geoms_wgs84_to_gcj02`). The
analysis data passed in are never modified.
"""

from __future__ import annotations

from .. import __version__  # noqa: F401

# Internals the tests reach through the package.
from ._assets import (  # noqa: F401
    LEAFLET_VERSION,
    MARKERCLUSTER_VERSION,
    VENDOR,
    _asset_html,
    _check_offline,
    asset_status,
)
from ._card import _GAP_ROWS  # noqa: F401
from ._compose import (
    build_layout_map,
    build_map,
    write_layout_map,
    write_map,
)
from ._context import COARSE  # noqa: F401
from ._data import MapData, SuitabilityLayers
from ._i18n import _T, _label  # noqa: F401
from ._layout import _PLOT_COLOUR  # noqa: F401
from ._print import render_print
from ._rasters import _png  # noqa: F401
from ._settings import (
    BASEMAPS,
    DEFAULTS,  # noqa: F401
    LANGS,
    MapSizeWarning,
    check_map_path,
    check_options,
)
from ._style import _GRADE_COLOUR, _STATUS_COLOUR  # noqa: F401
from ._text import _esc, _truthy  # noqa: F401

__all__ = [
    "build_map",
    "write_map",
    "build_layout_map",
    "write_layout_map",
    "check_map_path",
    "check_options",
    "BASEMAPS",
    "LANGS",
    "MapSizeWarning",
    "asset_status",
    "MapData",
    "SuitabilityLayers",
    "render_print",
]
