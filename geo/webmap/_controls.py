"""Page furniture: the static CSS and JS (``geo/assets/map.css``, ``map.js``, read with
:mod:`importlib.resources`), and the one element that starts them with the map's data.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from branca.element import MacroElement
from folium.template import Template
from markupsafe import Markup


@cache
def _static(name: str) -> str:
    """A static asset of ours (committed, not vendored) as text, safe inside a tag."""
    text = (resources.files("geo") / "assets" / name).read_text(encoding="utf-8")
    return text.replace("</", "<\\/")


def _css() -> str:
    return _static("map.css")


def _js_head() -> str:
    return _static("map.js")


#: What :func:`_script_json` escapes: markup characters, and the two line separators
#: older JavaScript engines reject inside strings.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                              "'": "\\u0027", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _script_json(obj) -> str:
    """Compact JSON safe inside a ``<script>`` element, as Jinja's ``tojson`` but with
    non-ASCII text kept as UTF-8 (a Chinese character costs 3 bytes, not 6)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True).translate(_SCRIPT_SAFE)


class _Controls(MacroElement):
    """Banner, search, measure, grouped layer control, legend, model card, chain gaps,
    north arrow, print layout and the ``window.parksite`` registry the browser tests use
    (all in ``map.js``). Added last so every layer exists. ``cfg`` is JSON whose data
    strings are already HTML-escaped; ``layers`` maps a layer key to its JS name."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        parksiteInit({{ this._parent.get_name() }}, {{ this.cfg_json }}, {
          {%- for key, layer in this.layers %}
          {{ key|tojson }}: {{ layer }},
          {%- endfor %}
        }, {{ this.control }});
        {% endmacro %}
    """)

    def __init__(self, cfg: dict, layers: list[tuple[str, str]], control: str):
        super().__init__()
        self._name = "ParksiteControls"
        self.cfg = cfg
        self.cfg_json = Markup(_script_json(cfg))
        self.layers = layers
        self.control = control


class _Attribution(MacroElement):
    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
    """)

    def __init__(self, text: str):
        super().__init__()
        self._name = "ParksiteAttribution"
        self.text = text
