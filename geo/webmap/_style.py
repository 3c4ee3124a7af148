"""Colours, legend swatches and legend sections (HTML; labels must be escaped).
"""

from __future__ import annotations

_STATUS_COLOUR = {"pass": "#1a9850", "review": "#f39c12", "conflict": "#d73027",
                  None: "#6a3d9a"}


_CLASS_STYLE = {
    "core": {"color": "#67000d", "fillColor": "#a50f15", "fillOpacity": 0.45, "weight": 1.5},
    "redline": {"color": "#cb181d", "fillColor": "#ef3b2c", "fillOpacity": 0.35, "weight": 1.5},
    "restricted": {"color": "#d94801", "fillColor": "#fd8d3c", "fillOpacity": 0.1,
                   "weight": 1.5, "dashArray": "6 4"},
    None: {"color": "#737373", "fillColor": "#bdbdbd", "fillOpacity": 0.3, "weight": 1.5},
}


_KIND_STYLE = {
    "overlap": {"color": "#3f007d", "fillColor": "#e7298a", "fillOpacity": 0.75, "weight": 2.5},
    "buffer": {"color": "#3f007d", "fillColor": "#df65b0", "fillOpacity": 0.5, "weight": 2,
               "dashArray": "4 3"},
    "restricted": {"color": "#3f007d", "fillColor": "#c994c7", "fillOpacity": 0.6, "weight": 2},
}


# Categorical colours (ColorBrewer Set1/Dark2 mix, distinguishable on a pale basemap).
_PALETTE = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf",
            "#1b9e77", "#d95f02", "#7570b3", "#66a61e", "#e6ab02"]


_OTHER = "#969696"


_RAMP = [(0.0, (215, 25, 28)), (0.25, (253, 174, 97)), (0.5, (255, 255, 191)),
         (0.75, (166, 217, 106)), (1.0, (26, 150, 65))]


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

