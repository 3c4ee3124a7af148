"""Lay out a park: plots along an internal road grid, firms on plots, shared facilities.

The model is :class:`LayoutProblem` (``LayoutProblem.from_park(...).solve()``), with the
facilities sited by :class:`PMedian` (``PMedian.from_cost_matrix(cost, weights, p)
.solve()``); :func:`layout_park` and :func:`layout_from_study` are the function API over
it. Everything works in the study's metric CRS (Gauss–Krüger, metres); areas are reported
from the study's equal-area CRS.

Modules: ``plots`` (buildable land, the road grid, plots, footprints), ``assign`` (the
chain-weighted objective, greedy start and local search, the hard rules), ``facilities``
(p-median), ``problem`` (the model), ``tables`` (result tables), ``firms`` (incoming
firms in, GeoPackage out); the ``[layout]`` settings are
:class:`geo.config.LayoutConfig`.

1. **Buildable land** = the park minus core/red-line zones grown by
   ``redline_setback_m``, minus water (polygons and lines) grown by
   ``water_setback_m``.
2. **Road grid**: road centre lines every ``road_spacing_m`` (on multiples of the
   spacing in the metric CRS), ``road_width_m`` wide. Each block between roads is
   cut into k × k equal plots, k = round((spacing − width) / √(plot_mu in m²)).
   Plots are the cells intersected with the buildable land, cut again at restricted
   zone boundaries (so a plot is wholly inside or wholly outside each zone, and no
   plot straddles a red line) and split into their parts. Pieces smaller than
   ``min_plot_mu`` are kept as residual (green) land, not given to firms. Plots and
   road surface together are exactly the buildable land.
3. **Assignment**: every incoming firm (industry, land need in 亩) gets a
   *footprint*: one plot, or several adjacent plots of one block grown from a seed
   plot, whose area covers its need. Hard rules: a polluting firm (its industry or
   sector in ``polluting``) only gets plots at least ``polluter_setback_m`` from every
   red-line zone (any class) and from residential/service areas (layers of role
   ``residential`` and ``amenities``); a firm whose industry a restricted zone bans
   gets no plot inside it. Existing firms of the register inside the park occupy the
   plots at their locations (their land from the register) and pull their partners.

   The objective is the chain-weighted distance
   ``Σ_pairs a_ij · d(i, j)``, d = rectilinear (grid-road) distance between footprint
   centroids in metres, and ``a_ij = W[i←j] / n_j + W[j←i] / n_i``: W the chain-map
   share of the buyer's input value supplied by the other's industry, n the number
   of firms of the supplier's industry in the layout (so a buyer's pull on one input
   is shared among the firms that can supply it). Pairs with an existing firm count
   the same way (its position fixed).

   A greedy start places the most-linked firms first, each on the feasible free
   footprint of least added cost; then a local search applies the best improving
   move per firm — swap footprints with a firm of the same size class, or move to a
   free feasible footprint — until no move improves or the time limit passes. Every
   move's change of objective is evaluated for all candidates at once with numpy
   (matrix–vector products over the pairwise distance matrix): no Python loop runs
   over firm pairs. A random feasible assignment of the same firms (same run, same
   seed) is the baseline.
4. **Facilities** (e.g. one wastewater plant, one pilot base) are sited on free
   plots by the p-median: minimise Σ_users weight × distance to the nearest of p
   facilities, solved exactly (p = 1 by enumeration, p > 1 as an integer program
   with HiGHS through :func:`scipy.optimize.milp`).
"""

from __future__ import annotations

from ..config import DEFAULT_FACILITIES, POLLUTING, LayoutConfig
from .assign import objective, sector_rule, swap_deltas
from .facilities import PMedian, p_median
from .firms import check_incoming, read_incoming, write_layout
from .plots import subdivide
from .problem import LayoutProblem, layout_config, layout_from_study, layout_park
from .tables import LayoutResult

__all__ = ["DEFAULT_FACILITIES", "POLLUTING", "LayoutConfig",
           "LayoutProblem", "LayoutResult", "PMedian", "check_incoming", "layout_config",
           "layout_from_study", "layout_park", "objective", "p_median", "read_incoming",
           "sector_rule", "subdivide", "swap_deltas", "write_layout"]
