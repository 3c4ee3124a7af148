"""Colours, legend swatches and legend sections (HTML; labels must be escaped).
"""

from __future__ import annotations

from typing import Any

#: Park fill by red-line status. Red belongs to red lines alone: a conflict is a dark
#: purple with a thick dashed outline, review amber, pass green, not checked grey.
_STATUS_COLOUR = {"pass": "#1a9850", "review": "#e6a100", "conflict": "#3f007d",
                  None: "#8c8c8c"}


_STATUS_STYLE: dict[str | None, dict[str, Any]] = {"pass": {"weight": 2.5, "fillOpacity": 0.3},
                 "review": {"weight": 3, "fillOpacity": 0.4},
                 "conflict": {"weight": 4, "fillOpacity": 0.45, "dashArray": "8 4"},
                 None: {"weight": 2, "fillOpacity": 0.25}}


# 亩均 grades in a blue sequence (A darkest): never the pass green nor the zones' red.
_GRADE_COLOUR = {"A": "#08306b", "B": "#2171b5", "C": "#6baed6", "D": "#c6dbef",
                 None: "#f0f0f0"}


_CLASS_STYLE: dict[str | None, dict[str, Any]] = {
    "core": {"color": "#67000d", "fillColor": "#a50f15", "fillOpacity": 0.45, "weight": 1.5},
    "redline": {"color": "#cb181d", "fillColor": "#ef3b2c", "fillOpacity": 0.35, "weight": 1.5},
    "restricted": {"color": "#d94801", "fillColor": "#fd8d3c", "fillOpacity": 0.1,
                   "weight": 1.5, "dashArray": "6 4"},
    None: {"color": "#737373", "fillColor": "#bdbdbd", "fillOpacity": 0.3, "weight": 1.5},
}


# Conflict shapes in the conflict purple (never pink or red: red is the zones' colour);
# a buffer hit is a dashed outline with a light fill, distinct from an overlap.
_KIND_STYLE: dict[str, dict[str, Any]] = {
    "overlap": {"color": "#000000", "fillColor": "#3f007d", "fillOpacity": 0.7, "weight": 2.5},
    "buffer": {"color": "#3f007d", "fillColor": "#bcbddc", "fillOpacity": 0.45, "weight": 2,
               "dashArray": "4 3"},
    "restricted": {"color": "#000000", "fillColor": "#6a51a3", "fillOpacity": 0.6, "weight": 2},
}


# Categorical colours: Okabe-Ito (colour-blind safe) without its vermillion, then
# Tableau/ColorBrewer extras; no red, which only red lines wear.
_PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#b8a000", "#7f3c8d",
            "#11a579", "#3969ac", "#80ba5a", "#8c564b", "#a5aa99", "#1b9e77", "#7570b3",
            "#66a61e", "#e6ab02", "#a6761d", "#17becf", "#9467bd", "#bcbd22"]


_OTHER = "#969696"


# viridis (perceptually uniform, readable under deuteranopia): low dark purple, high yellow
_RAMP = [(0.0, (68, 1, 84)), (0.25, (59, 82, 139)), (0.5, (33, 145, 140)),
         (0.75, (94, 201, 98)), (1.0, (253, 231, 37))]


def industry_colours(ids: list[str]) -> dict[str, str]:
    """One colour per chain-map industry, the same in every layer: the industries in
    the chain map's (sorted) order take the palette in turn.

    Parameters
    ----------
    ids : list of str
        Chain-map industry ids.

    Returns
    -------
    dict of str to str
        Industry id → hex colour (``#rrggbb``); the palette repeats after its last
        colour.
    """
    return {i: _PALETTE[n % len(_PALETTE)] for n, i in enumerate(sorted(ids))}


_EXCL_PALETTE = ["#525252", "#8c510a", "#542788", "#01665e", "#b2182b", "#2166ac",
                 "#7f3b08", "#40004b"]


def _sw_fill(colour: str, border: str | None = None, opacity: float = 0.6,
             dash: bool = False) -> str:
    b = border or colour
    style = "dashed" if dash else "solid"
    return (f'<i class="ps-sw" style="background:{colour};opacity:{opacity:.2f};'
            f'border:2px {style} {b}"></i>')


def _sw_line(colour: str, width: float = 2, dash: bool = False) -> str:
    style = "dashed" if dash else "solid"
    w = max(width, 1.5)
    return f'<i class="ps-sw ps-sw-l" style="border-top:{w:.1f}px {style} {colour}"></i>'


def _sw_point(colour: str) -> str:
    return f'<i class="ps-sw ps-sw-p" style="background:{colour}"></i>'


def _legend_html(title: str, entries: list[tuple[str, str]], note: str = "") -> str:
    """title and entry labels must be escaped; swatches are trusted HTML."""
    rows = "".join(f'<div class="ps-lg-r">{sw}<span>{label}</span></div>' for sw, label in entries)
    n = f'<div class="ps-lg-n">{note}</div>' if note else ""
    if len(entries) == 1 and entries[0][1] == title:
        return f'<div class="ps-lg-r ps-lg-1">{entries[0][0]}<span>{title}</span></div>{n}'
    return f'<div class="ps-lg-t">{title}</div>{rows}{n}'

