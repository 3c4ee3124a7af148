"""Page furniture: CSS and JS head, the legend / model card / chain-gap controls and the
attribution.
"""

from __future__ import annotations

from branca.element import MacroElement
from folium.template import Template

_CSS = """
.folium-map { background: %(bg)s; }
.ps-pop { font: 13px/1.4 system-ui, "Microsoft YaHei", "PingFang SC", sans-serif;
  max-width: 340px; }
.ps-pop-t { font-weight: 600; font-size: 14px; }
.ps-pop-s { color: #555; margin-bottom: 4px; }
.ps-pop table { border-collapse: collapse; margin-top: 4px; }
.ps-pop th { text-align: left; color: #555; font-weight: normal; padding: 1px 8px 1px 0;
  vertical-align: top; white-space: nowrap; }
.ps-pop td { padding: 1px 0; }
.ps-pop-n { margin-top: 4px; color: #8a4b00; font-style: italic; }
.ps-legend, .ps-card, .ps-gaps { background: rgba(255,255,255,0.94); padding: 6px 9px;
  border-radius: 5px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.35);
  font: 12px/1.35 system-ui, "Microsoft YaHei", "PingFang SC", sans-serif; }
.ps-legend { max-height: 36vh; overflow-y: auto; min-width: 150px; max-width: 260px; }
.ps-lg-t { font-weight: 600; margin-top: 4px; }
.ps-lg-1 { font-weight: 600; margin-top: 3px; }
.ps-lg-r { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
.ps-lg-n { color: #8a4b00; font-style: italic; font-size: 11px; }
.ps-sw { display: inline-block; width: 16px; height: 11px; box-sizing: border-box; flex: none; }
.ps-sw-l { height: 0; margin: 5px 0; }
.ps-sw-p { width: 10px; height: 10px; border-radius: 50%%; margin: 0 3px; border: 1px solid #fff; }
.ps-sizes { gap: 10px; align-items: flex-end; }
.ps-sz { display: inline-flex; align-items: center; gap: 3px; }
.ps-sw-c { display: inline-block; border-radius: 50%%; background: #7f7f7f;
  border: 1px solid #fff; box-shadow: 0 0 0 1px #999; }
.ps-gaps { max-width: 560px; }
.ps-gaps .ps-card-b { overflow-x: auto; }
.ps-gaps table { border-collapse: collapse; font-size: 11.5px; }
.ps-gaps th { text-align: left; color: #555; font-weight: 600; padding: 1px 6px 1px 0;
  border-bottom: 1px solid #ccc; vertical-align: bottom; white-space: nowrap; }
.ps-gaps td:nth-child(2) { min-width: 6em; }
.ps-gaps td { padding: 1px 6px 1px 0; vertical-align: top; border-bottom: 1px solid #eee; }
.ps-gaps td.n { text-align: right; white-space: nowrap; }
.ps-gaps .ps-sub { color: #666; font-size: 10.5px; }
.ps-ramp { height: 10px; width: 180px; margin-top: 3px; }
.ps-ramp-l { display: flex; justify-content: space-between; width: 180px; font-size: 11px; }
.ps-card { max-width: 380px; }
.ps-card summary, .ps-gaps summary { cursor: pointer; font-weight: 600; font-size: 13px; }
.ps-card .ps-card-b, .ps-gaps .ps-card-b { max-height: 40vh; overflow-y: auto;
  margin-top: 4px; }
.leaflet-control-layers-expanded { max-height: 55vh; overflow-y: auto; }
.leaflet-control-layers label { font: 12px/1.45 system-ui, "Microsoft YaHei", "PingFang SC",
  sans-serif; }
.ps-card h4 { margin: 6px 0 2px; font-size: 12px; }
.ps-card ul { margin: 0; padding-left: 16px; }
.ps-card td, .ps-card th { padding: 0 6px 0 0; text-align: left; vertical-align: top; }
"""


_JS_HEAD = """
function parksiteBind(feature, layer) {
  var p = feature.properties || {};
  if (p.p) { layer.bindPopup(p.p, {maxWidth: 360}); }
  if (p.t) { layer.bindTooltip(p.t, {sticky: true}); }
}
"""


class _Controls(MacroElement):
    """Legend (sections follow their layers), model card, and the ``window.parksite``
    registry the browser tests use. Added last so every layer exists."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
          var map = {{ this._parent.get_name() }};
          var items = [
            {%- for key, layer, html in this.items %}
            {key: {{ key|tojson }}, layer: {{ layer }}, html: {{ html|tojson }}},
            {%- endfor %}
          ];
          var Card = L.Control.extend({
            options: {position: 'topleft'},
            onAdd: function() {
              var d = L.DomUtil.create('div', 'ps-card');
              d.id = 'ps-card';
              d.innerHTML = {{ this.card|tojson }};
              L.DomEvent.disableClickPropagation(d);
              L.DomEvent.disableScrollPropagation(d);
              return d;
            }
          });
          new Card().addTo(map);
          var gapsHtml = {{ this.gaps|tojson }};
          if (gapsHtml) {
            var Gaps = L.Control.extend({
              options: {position: 'topleft'},
              onAdd: function() {
                var d = L.DomUtil.create('div', 'ps-gaps');
                d.id = 'ps-gaps';
                d.innerHTML = gapsHtml;
                L.DomEvent.disableClickPropagation(d);
                L.DomEvent.disableScrollPropagation(d);
                return d;
              }
            });
            new Gaps().addTo(map);
          }
          var Legend = L.Control.extend({
            options: {position: 'bottomleft'},
            onAdd: function() {
              var d = L.DomUtil.create('div', 'ps-legend');
              d.id = 'ps-legend';
              L.DomEvent.disableClickPropagation(d);
              L.DomEvent.disableScrollPropagation(d);
              return d;
            }
          });
          var legend = new Legend().addTo(map);
          var box = legend.getContainer();
          var head = L.DomUtil.create('div', 'ps-lg-h', box);
          head.innerHTML = '<b>' + {{ this.legend_title|tojson }} + '</b>';
          var layers = {}, sections = {};
          items.forEach(function(it) {
            var s = L.DomUtil.create('div', 'ps-lg-s', box);
            s.id = 'ps-legend-' + it.key;
            s.setAttribute('data-layer', it.key);
            s.innerHTML = it.html;
            it.el = s;
            layers[it.key] = it.layer;
            sections[it.key] = s;
          });
          function sync() {
            var any = false;
            items.forEach(function(it) {
              var on = map.hasLayer(it.layer);
              it.el.style.display = on ? '' : 'none';
              any = any || on;
            });
            box.style.display = any ? '' : 'none';
          }
          map.on('overlayadd overlayremove', sync);
          sync();
          window.parksite = {map: map, layers: layers, legend: sections,
                             names: {{ this.names|tojson }}, ready: true};
        })();
        {% endmacro %}
    """)

    def __init__(self, items, card: str, legend_title: str, names: dict, gaps: str = ""):
        super().__init__()
        self._name = "ParksiteControls"
        self.items = items
        self.card = card
        self.gaps = gaps
        self.legend_title = legend_title
        self.names = names


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

