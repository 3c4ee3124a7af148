"""Escaping and number formatting for the map's HTML: every data string goes through
:func:`_esc` before it reaches the page.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

#: Braces as character references: folium renders each layer's script and then compiles
#: that text again as a Jinja template, so ``{{ … }}`` in a park name would be evaluated
#: while the map is built (a park named "{{7*7}}" came out as "49", and Jinja can reach
#: Python objects from there).
_BRACES = str.maketrans({"{": "&#123;", "}": "&#125;"})


def _esc(value: Any) -> str:
    """HTML-escape any value for text content or a double-quoted attribute (braces too,
    see :data:`_BRACES`)."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return html.escape(str(value), quote=True).translate(_BRACES)


def _isnull(v: Any) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _num(v: Any, digits: int = 1) -> str:
    if _isnull(v):
        return ""
    try:
        return f"{float(v):,.{digits}f}"
    except (TypeError, ValueError):
        return _esc(v)


def _truthy(v: Any) -> bool:
    if _isnull(v):
        return False
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "y", "t")
    return bool(v)


def _popup(title: str, subtitle: str = "", rows: Iterable[tuple[str, str]] = (),
           notes: Iterable[str] = ()) -> str:
    """Popup HTML; every argument must already be escaped."""
    parts = [f'<div class="ps-pop"><div class="ps-pop-t">{title}</div>']
    if subtitle:
        parts.append(f'<div class="ps-pop-s">{subtitle}</div>')
    rows = [(k, v) for k, v in rows if v not in ("", None)]
    if rows:
        parts.append("<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
                     + "</table>")
    for n in notes:
        parts.append(f'<div class="ps-pop-n">{n}</div>')
    parts.append("</div>")
    return "".join(parts)


def _pct(v: Any) -> str:
    return "" if _isnull(v) else f"{float(v) * 100:.0f} %"


def _nz(v: Any, default: float) -> float:
    try:
        return default if _isnull(v) else float(v)
    except (TypeError, ValueError):
        return default

