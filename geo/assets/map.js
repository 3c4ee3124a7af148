/* parksite map behaviour (inlined by geo/webmap/_controls.py; no network, no globals
   except the ones named here). Every text that comes from data arrives already
   HTML-escaped from Python; this file only inserts it, never builds markup from raw
   data. */

function parksiteBind(feature, layer) {
  var p = feature.properties || {};
  // long popups scroll; opening one pans it clear of the title banner
  if (p.p) { layer.bindPopup(p.p, {maxWidth: 380, maxHeight: 420,
                                   autoPanPaddingTopLeft: L.point(10, 170)}); }
  if (p.t) { layer.bindTooltip(p.t, {sticky: true}); }
}

/* Run ``fn`` (which adds a layer's features) now if ``group`` is on the map, else the
   first time it is added: hidden layers are built when first shown. */
function parksiteLater(group, fn) {
  if (group._map) { fn(); } else { group.once('add', fn); }
}

/* One canvas renderer per pane, for the dense line layers (roads, rail, rivers). */
var parksiteCanvas = (function() {
  var made = {};
  return function(pane) {
    if (!made[pane]) { made[pane] = L.canvas({pane: pane, padding: 0.2, tolerance: 3}); }
    return made[pane];
  };
})();

/* Lines and polygons are projected cheaply on a zoom. Each vertex keeps its projected
   (zoom-independent) position, so a zoom only scales and rounds it as Leaflet's
   latLngToLayerPoint does; and each ring of more than PS_MIN_RING vertices keeps, from
   the first time it is shown, the Douglas-Peucker tolerance at which each vertex would
   be dropped, so a zoom projects only the vertices that move the line by more than
   PS_TOL_PX pixels there (Leaflet then simplifies further, by smoothFactor, as
   before). The longest frames with every layer on were a zoom's last one, projecting
   and clipping every vertex of every layer. */
var PS_MIN_RING = 4, PS_TOL_PX = 0.5;

function psSqSeg(p, a, b) {  // squared distance from p to segment ab
  var x = a.x, y = a.y, dx = b.x - x, dy = b.y - y, d = dx * dx + dy * dy;
  if (d > 0) {
    var t = ((p.x - x) * dx + (p.y - y) * dy) / d;
    if (t > 1) { x = b.x; y = b.y; } else if (t > 0) { x += dx * t; y += dy * t; }
  }
  dx = p.x - x; dy = p.y - y;
  return dx * dx + dy * dy;
}

/* Per vertex of ``ms``: the squared tolerance below which Douglas-Peucker keeps it
   (ends: Infinity); keeping the vertices above a tolerance is that simplification. */
function psImportance(ms) {
  var n = ms.length, imp = new Float64Array(n), stack = [0, n - 1, Infinity];
  imp[0] = imp[n - 1] = Infinity;
  while (stack.length) {
    var cap = stack.pop(), last = stack.pop(), first = stack.pop(), best = -1, at = -1;
    for (var i = first + 1; i < last; i++) {
      var d = psSqSeg(ms[i], ms[first], ms[last]);
      if (d > best) { best = d; at = i; }
    }
    if (at < 0) { continue; }
    var v = Math.min(cap, best);
    imp[at] = v;
    stack.push(first, at, v, at, last, v);
  }
  return imp;
}

(function() {
  var P = L.Polyline.prototype, project = P._projectLatlngs;
  P._projectLatlngs = function(latlngs, result, bounds) {
    var map = this._map, crs = map.options.crs, t = crs.transformation;
    if (!(latlngs[0] instanceof L.LatLng) || !crs.projection || !t) {
      return project.call(this, latlngs, result, bounds);
    }
    var s = crs.scale(map._zoom), o = map.getPixelOrigin(), n = latlngs.length;
    var ms = new Array(n), ring = [];
    for (var i = 0; i < n; i++) {
      var ll = latlngs[i];
      ms[i] = ll._psm || (ll._psm = crs.projection.project(ll));
    }
    var imp = null, tol = 0;
    if (n > PS_MIN_RING) {
      if (!latlngs._psImp || latlngs._psImp.length !== n) { latlngs._psImp = psImportance(ms); }
      imp = latlngs._psImp;
      tol = PS_TOL_PX / (s * Math.abs(t._a));
      tol *= tol;
    }
    for (i = 0; i < n; i++) {
      if (imp && imp[i] <= tol) { continue; }
      var p = L.point(Math.round(s * (t._a * ms[i].x + t._b)) - o.x,
                      Math.round(s * (t._c * ms[i].y + t._d)) - o.y);
      ring.push(p);
      bounds.extend(p);
    }
    result.push(ring);
  };
})();

/* After an animated zoom or a pan, each renderer (a canvas or SVG of one pane) catches
   up in a frame of its own, one after the other: it re-projects its layers (after a
   zoom) and redraws them there, instead of every layer of the map in the move's last
   frame. Until then it shows its old drawing moved and scaled, as Leaflet does during
   the animation. A view set without animation (setView, fitBounds: search, panels,
   print) still redraws at once (viewreset). */
(function() {
  var R = L.Renderer.prototype, events = R.getEvents, onAdd = R.onAdd, queue = [],
      busy = false;
  R.onAdd = function() { onAdd.apply(this, arguments); this._psZ = this._map.getZoom(); };
  function run() {
    var r = queue.shift();
    if (r) { r._psQueued = false; if (r._map) { r._psCatchUp(); } }
    if (queue.length) { requestAnimationFrame(run); } else { busy = false; }
  }
  R._psCatchUp = function() {
    var map = this._map, z = map.getZoom();
    if (map._animatingZoom) { return; }  // the zoom's own end queues it again
    if (this._psZ !== z) { this._psZ = z; this._onZoomEnd(); }
    if (this._zoom !== z || !this._center || !this._center.equals(map.getCenter())) {
      this._update();
    }
  };
  R.getEvents = function() {
    var ev = events.call(this), self = this;
    if (ev.viewreset !== this._reset) { return ev; }  // not Leaflet's own renderer
    if (!this._psEv) {  // the same functions on add and on remove
      this._psEv = {
        later: function() {
          if (self._psQueued) { return; }
          self._psQueued = true;
          queue.push(self);
          if (!busy) { busy = true; requestAnimationFrame(run); }
        },
        reset: function() { self._reset(); self._psZ = self._map.getZoom(); }
      };
    }
    ev.viewreset = this._psEv.reset;
    ev.moveend = this._psEv.later;
    ev.zoomend = this._psEv.later;
    return ev;
  };
})();

/* Firm markers: row = [lat, lon, {named fields}], labels = translated field names. */
function parksiteFirm(pal, other, labels) {
  return function(row) {
    var f = row[2];
    var c = f.c >= 0 ? pal[f.c] : other;
    var mk = L.circleMarker([row[0], row[1]], {radius: f.r, color: '#ffffff', weight: 1,
      fillColor: c, fillOpacity: f.rate ? 0.95 : 0.55, className: 'ps-firm'});
    mk.psFirm = f;
    mk.bindTooltip(f.name + (f.rate ? ' · ' + f.rate : ''));
    mk.bindPopup(function() {
      var rows = [[labels.id, f.id], [labels.industry, f.ind], [labels.park, f.park],
                  [labels.local_supply_rate, f.rate || labels.not_rated],
                  [labels.missing_inputs, f.miss]];
      var h = '<div class="ps-pop"><div class="ps-pop-t">' + f.name + '</div><table>';
      rows.forEach(function(r) { if (r[1]) { h += '<tr><th>' + r[0] + '</th><td>' + r[1] + '</td></tr>'; } });
      h += '</table>';
      if (f.syn) { h += '<div class="ps-pop-n">' + labels.synthetic + '</div>'; }
      return h + '</div>';
    });
    return mk;
  };
}

/* --- small helpers --------------------------------------------------------------- */

function psEl(tag, cls, parent, html) {
  var e = L.DomUtil.create(tag, cls || '', parent);
  if (html !== undefined) { e.innerHTML = html; }
  return e;
}

/* A Leaflet control at ``pos`` whose container ``build`` fills. */
function psControl(S, pos, build) {
  var C = L.Control.extend({options: {position: pos}, onAdd: function() {
    var d = psEl('div', '');
    L.DomEvent.disableClickPropagation(d);
    L.DomEvent.disableScrollPropagation(d);
    build(d);
    return d;
  }});
  return new C().addTo(S.map);
}

/* A panel: a header that folds it (level 1) or shrinks it to a short button (2). */
function psPanel(S, d, prio, opts) {
  var p = {el: d, prio: prio, level: 0, pref: opts.pref || 0, max: opts.max || 2,
           set: function(l) {
             p.level = Math.max(0, Math.min(p.max, l));
             if (opts.set) { opts.set(p.level); } else {
               d.classList.toggle('ps-min', p.level >= 1);
             }
             d.classList.toggle('ps-tiny', p.level >= 2);
           }};
  S.panels.push(p);
  return p;
}

/* A panel header with a long and a short label; clicking it folds the panel. */
function psHead(d, long, short) {
  return psEl('div', 'ps-head', d, '<span class="ps-long">' + long + '</span>' +
              '<span class="ps-short">' + (short || long) + '</span>');
}

function psFoldOnClick(h, p) {
  L.DomEvent.on(h, 'click', function() { p.set(p.level ? 0 : 1); });
}

function psEnsure(S, key) {
  if (S.layers[key] && !S.map.hasLayer(S.layers[key])) { S.map.addLayer(S.layers[key]); }
}

/* Outline the features of layer ``key`` whose id is in ``ids`` (and only those). */
function psHighlight(S, key, ids) {
  var g = S.layers[key];
  var hit = [];
  if (!g) { return hit; }
  g.eachLayer(function(sub) {
    if (!sub.eachLayer) { return; }
    sub.eachLayer(function(f) {
      var p = f.feature && f.feature.properties;
      var on = !!(p && ids.indexOf(p.id) >= 0);
      var path = f.getElement && f.getElement();
      if (path) { path.classList.toggle('ps-hl', on); }
      if (on) { hit.push(f); }
    });
  });
  return hit;
}

/* --- banner: title, data date, the three-line summary ----------------------------- */

function psShowLine(S, line) {
  (line.keys || []).forEach(function(k) { psEnsure(S, k); });
  if (line.bounds) {
    S.map.fitBounds(line.bounds, {maxZoom: 12, padding: [40, 40], animate: false});
  }
  (line.keys || []).forEach(function(k) { psHighlight(S, k, line.ids || []); });
}

function psBanner(S) {
  var cfg = S.cfg;
  psControl(S, 'topleft', function(d) {
    d.className = 'ps-banner';
    d.id = 'ps-banner';
    var h = psHead(d, '<span class="ps-title">' + cfg.banner.title + '</span> ' +
                   '<span class="ps-date">' + cfg.banner.date + '</span>', cfg.banner.short);
    var ul = psEl('ul', 'ps-summary', psEl('div', 'ps-body', d));
    cfg.banner.lines.forEach(function(line) {
      var a = psEl('a', 'ps-line', psEl('li', '', ul), line.html);
      a.setAttribute('data-line', line.kind);
      a.href = '#';
      L.DomEvent.on(a, 'click', function(e) {
        L.DomEvent.preventDefault(e);
        psShowLine(S, line);
      });
    });
    S.banner = psPanel(S, d, 9, {pref: 0});
    psFoldOnClick(h, S.banner);
  });
}

/* --- search: parks, zones, districts, firms by name or id ---------------------------- */

function psIndex(S, key, kind) {
  S.layers[key].eachLayer(function(sub) {
    if (L.MarkerClusterGroup && sub instanceof L.MarkerClusterGroup) {
      sub.eachLayer(function(mk) {
        var f = mk.psFirm;
        if (f) { S.index.push({q: (f.name + ' ' + f.id + ' ' + (f.q || '')).toLowerCase(),
                               label: f.name, kind: kind, key: key, layer: mk, cluster: sub}); }
      });
      return;
    }
    if (!sub.eachLayer) { return; }
    sub.eachLayer(function(f) {
      var p = f.feature && f.feature.properties;
      if (p && p.q) { S.index.push({q: p.q.toLowerCase(), label: p.n || p.t || p.q,
                                    kind: kind, key: key, layer: f}); }
    });
  });
}

function psGo(S, hit) {
  var map = S.map, lyr = hit.layer;
  psEnsure(S, hit.key);
  if (hit.cluster) {
    hit.cluster.zoomToShowLayer(lyr, function() { lyr.openPopup(); });
  } else if (lyr.getBounds) {
    map.fitBounds(lyr.getBounds(), {maxZoom: 13, animate: false});
    var path = lyr.getElement && lyr.getElement();
    if (path) {
      path.classList.add('ps-hl');
      setTimeout(function() { path.classList.remove('ps-hl'); }, 4000);
    }
    if (lyr.getPopup()) { lyr.openPopup(lyr.getBounds().getCenter()); }
    else if (lyr.getTooltip()) { lyr.openTooltip(lyr.getBounds().getCenter()); }
  } else if (lyr.getLatLng) {
    map.setView(lyr.getLatLng(), Math.max(map.getZoom(), 13), {animate: false});
    if (lyr.getPopup()) { lyr.openPopup(); }
  }
}

function psFind(S, q) {
  var s = q.trim().toLowerCase();
  return s ? S.index.filter(function(x) { return x.q.indexOf(s) >= 0; }) : [];
}

function psSearch(S) {
  (S.cfg.search || []).forEach(function(s) { if (S.layers[s[0]]) { psIndex(S, s[0], s[1]); } });
  if (!S.index.length) { return; }
  psControl(S, 'topleft', function(d) {
    d.className = 'ps-search';
    d.id = 'ps-search';
    var h = psHead(d, S.T.search, S.T.search);
    var b = psEl('div', 'ps-body', d);
    var inp = psEl('input', '', b);
    inp.type = 'search';
    inp.placeholder = S.T.search_hint;
    var ul = psEl('ul', '', b);
    var found = [];
    L.DomEvent.on(inp, 'input', function() {
      ul.innerHTML = '';
      found = psFind(S, inp.value).slice(0, 12);
      found.forEach(function(x, i) {
        var li = psEl('li', i ? '' : 'ps-on', ul, x.label + '<span class="ps-kind">' + x.kind + '</span>');
        L.DomEvent.on(li, 'click', function() { psGo(S, x); });
      });
    });
    L.DomEvent.on(inp, 'keydown', function(e) {
      if (e.key === 'Enter' && found.length) { psGo(S, found[0]); }
    });
    var p = psPanel(S, d, 5, {pref: 0});
    psFoldOnClick(h, p);
  });
}

/* --- measure: distance (km) and area (km², 亩) ------------------------------------- */

function psArea(ll) {  // spherical excess on the WGS84 mean radius, m²
  var R = 6371008.8, s = 0, n = ll.length, k = Math.PI / 180;
  for (var i = 0; i < n; i++) {
    var a = ll[i], b = ll[(i + 1) % n];
    s += (b.lng - a.lng) * k * (2 + Math.sin(a.lat * k) + Math.sin(b.lat * k));
  }
  return Math.abs(s * R * R / 2);
}

function psMeasure(S) {
  var map = S.map, T = S.T;
  psControl(S, 'topleft', function(d) {
    d.className = 'ps-tools';
    d.id = 'ps-measure';
    var btn = psEl('button', '', d, T.measure);
    var clr = psEl('button', '', d, T.clear);
    var out = psEl('div', 'ps-out', d);
    var pts = [], shapes = [], on = false;
    function clear() { shapes.forEach(function(s) { map.removeLayer(s); }); shapes = []; }
    function draw() {
      var km = 0;
      for (var i = 1; i < pts.length; i++) { km += map.distance(pts[i - 1], pts[i]) / 1000; }
      clear();
      shapes.push(L.polyline(pts, {color: '#000', weight: 2, dashArray: '4 3',
                                   interactive: false}).addTo(map));
      var txt = T.distance + ' ' + km.toFixed(2) + ' km';
      if (pts.length >= 3) {
        shapes.push(L.polygon(pts, {color: '#000', weight: 1, fillOpacity: 0.08,
                                    interactive: false}).addTo(map));
        var m2 = psArea(pts);
        txt += ' · ' + T.area_w + ' ' + (m2 / 1e6).toFixed(2) + ' km² · ' +
               Math.round(m2 / 666.6667).toLocaleString() + ' ' + T.mu;
      }
      out.textContent = txt;
    }
    function click(e) { pts.push(e.latlng); draw(); }
    L.DomEvent.on(btn, 'click', function() {
      on = !on;
      btn.classList.toggle('ps-on', on);
      map.getContainer().style.cursor = on ? 'crosshair' : '';
      if (on) { map.on('click', click); map.doubleClickZoom.disable(); out.textContent = T.measure_hint; }
      else { map.off('click', click); map.doubleClickZoom.enable(); }
    });
    L.DomEvent.on(clr, 'click', function() { pts = []; out.textContent = ''; clear(); });
  });
}

/* --- layer control: grouped, park views replace one another ------------------------ */

function psRegroup(S) {
  var list = S.control._overlaysList;
  if (!list) { return; }
  var labels = Array.prototype.slice.call(list.querySelectorAll('label'));
  var boxes = {};
  S.cfg.groups.forEach(function(g) {
    var det = psEl('details', 'ps-grp', list);
    det.setAttribute('data-group', g[0]);
    det.open = !!S.openGroups[g[0]];
    psEl('summary', '', det, g[1]);
    det.addEventListener('toggle', function() { S.openGroups[g[0]] = det.open; });
    boxes[g[0]] = det;
  });
  labels.forEach(function(lab) {
    var inp = lab.querySelector('input');
    var key = inp ? S.stamps[inp.layerId] : undefined;
    var det = boxes[S.groupOf[key]];
    if (key !== undefined) { lab.setAttribute('data-layer', key); }
    if (det) { det.appendChild(lab); } else { list.appendChild(lab); }
    if (inp && S.cfg.radio.indexOf(key) >= 0) { lab.classList.add('ps-radio'); }
  });
  Object.keys(boxes).forEach(function(g) {
    if (!boxes[g].querySelector('label')) { list.removeChild(boxes[g]); }
  });
}

function psLayerControl(S) {
  var cfg = S.cfg, map = S.map, control = S.control;
  if (control) {
    var upd = control._update;
    control._update = function() { var r = upd.apply(this, arguments); psRegroup(S); return r; };
    psRegroup(S);
    var lc = control.getContainer();
    lc.id = 'ps-layers';
    var lh = psHead(null, S.T.layers, S.T.layers);
    lc.insertBefore(lh, lc.firstChild);
    psFoldOnClick(lh, psPanel(S, lc, 6, {pref: 0}));
  }
  map.on('overlayadd', function(e) {
    var key = S.stamps[L.stamp(e.layer)];
    if (cfg.radio.indexOf(key) < 0) { return; }
    setTimeout(function() {  // after the layer control has handled its click
      cfg.radio.forEach(function(k) {
        if (k !== key && S.layers[k] && map.hasLayer(S.layers[k])) { map.removeLayer(S.layers[k]); }
      });
    }, 0);
  });
}

/* --- legend: thematic first, only what is on -------------------------------------- */

function psLegend(S) {
  var map = S.map;
  var lg = psControl(S, 'bottomleft', function() {}).getContainer();
  lg.className = 'ps-legend leaflet-control';
  lg.id = 'ps-legend';
  var lgh = psHead(lg, S.cfg.legend_title, S.cfg.legend_title);
  var body = psEl('div', 'ps-body', lg);
  var items = [];
  S.cfg.items.forEach(function(it) {
    if (!S.layers[it.key]) { return; }
    var s = psEl('div', 'ps-lg-s', body, it.html);
    s.id = 'ps-legend-' + it.key;
    s.setAttribute('data-layer', it.key);
    S.sections[it.key] = s;
    items.push({el: s, layer: S.layers[it.key]});
  });
  psFoldOnClick(lgh, psPanel(S, lg, 4, {pref: 0}));
  function sync() {
    var any = false;
    items.forEach(function(it) {
      var on = map.hasLayer(it.layer);
      it.el.style.display = on ? '' : 'none';
      any = any || on;
    });
    lg.style.display = any ? '' : 'none';
  }
  // a layer the control switches: now; any other layer (a cluster splitting at a zoom
  // adds and removes hundreds of markers): once, after the frame's work
  var later = null;
  function syncLater() {
    if (later === null) { later = setTimeout(function() { later = null; sync(); }, 0); }
  }
  map.on('overlayadd overlayremove', sync);
  map.on('layeradd layerremove', syncLater);
  sync();
}

/* --- model card, chain gaps (bottom right, folded) --------------------------------- */

function psFolded(S, id, html, prio) {
  var d = psControl(S, 'bottomright', function(c) { c.className = id; c.id = id; c.innerHTML = html; })
    .getContainer();
  var det = d.querySelector('details');
  var p = psPanel(S, d, prio, {pref: 1, set: function(l) { if (det && l >= 1) { det.open = false; } }});
  // a panel the user opens stays open: the others that it now covers fold instead
  if (det) {
    det.addEventListener('toggle', function() {
      p.level = det.open ? 0 : 1;
      S.panels.forEach(function(q) { q.pinned = det.open && q === p; });
      if (det.open) { psFit(S); }
    });
  }
  return d;
}

function psFirmsById(S) {
  var firms = {};
  var g = S.cfg.firms_key && S.layers[S.cfg.firms_key];
  if (g) {
    g.eachLayer(function(sub) {
      if (sub.eachLayer) { sub.eachLayer(function(mk) { if (mk.psFirm) { firms[mk.psFirm.id] = mk; } }); }
    });
  }
  return firms;
}

/* A chain-gap row: zoom to its park, supplier park, anchors and supplier; outline them. */
function psGapRow(S, tr, firms) {
  var map = S.map;
  var ids = [tr.getAttribute('data-park'), tr.getAttribute('data-supplier-park')];
  psEnsure(S, S.cfg.parks_key);
  var b = L.latLngBounds([]);
  psHighlight(S, S.cfg.parks_key, ids).forEach(function(f) { b.extend(f.getBounds()); });
  if (S.mark) { map.removeLayer(S.mark); S.mark = null; }
  (tr.getAttribute('data-anchors') || '').split(';').forEach(function(a) {
    if (firms[a]) { b.extend(firms[a].getLatLng()); }
  });
  var sup = firms[tr.getAttribute('data-supplier')];
  if (sup) {
    b.extend(sup.getLatLng());
    S.mark = L.circleMarker(sup.getLatLng(), {radius: 12, color: '#000', weight: 3,
      fill: false, className: 'ps-hl-firm', interactive: false}).addTo(map);
  }
  if (b.isValid()) { map.fitBounds(b, {maxZoom: 12, padding: [40, 40], animate: false}); }
}

function psLinkGaps(S, d) {
  var rows = Array.prototype.slice.call(d.querySelectorAll('tr.ps-row'));
  var firms = psFirmsById(S);
  rows.forEach(function(tr) {
    L.DomEvent.on(tr, 'click', function() {
      rows.forEach(function(r) { r.classList.toggle('ps-on', r === tr); });
      psGapRow(S, tr, firms);
    });
  });
  var sel = Array.prototype.slice.call(d.querySelectorAll('select[data-filter]'));
  function filter() {
    var want = {};
    sel.forEach(function(s) { want[s.getAttribute('data-filter')] = s.value; });
    rows.forEach(function(tr) {
      var ok = Object.keys(want).every(function(k) {
        return !want[k] || (tr.getAttribute('data-' + k) || '').split(';').indexOf(want[k]) >= 0;
      });
      tr.style.display = ok ? '' : 'none';
    });
  }
  sel.forEach(function(s) { L.DomEvent.on(s, 'change', filter); });
}

/* --- north arrow, scale, print notes, attribution, tile failures ------------------- */

function psFurniture(S) {
  var map = S.map;
  psControl(S, 'bottomright', function(d) {
    d.className = 'ps-north';
    d.id = 'ps-north';
    d.innerHTML = '<svg width="18" height="22" viewBox="0 0 18 22" aria-hidden="true">' +
      '<path d="M9 0 L17 22 L9 16 L1 22 Z" fill="#222"/></svg>' + S.T.north;
  });
  L.control.scale({position: 'bottomright', metric: true, imperial: false, maxWidth: 140}).addTo(map);
  // the print page's data notes go under the banner's summary, so fitting the study
  // below the banner keeps them off the map (a corner box covered the study's edge)
  var notes = S.banner ? psEl('div', 'ps-print-only ps-notes',
                              S.banner.el.querySelector('.ps-body'), S.cfg.notes) : null;
  if (notes) { notes.id = 'ps-notes'; } else {
    psControl(S, 'bottomright', function(d) {
      d.className = 'ps-panel ps-print-only';
      d.id = 'ps-notes';
      d.innerHTML = S.cfg.notes;
    });
  }
  // the attribution shrinks to one line (click to read it all) before any panel folds
  var attr = map.attributionControl && map.attributionControl.getContainer();
  if (attr) {
    var ap = psPanel(S, attr, 0, {pref: 0, max: 1, set: function(l) {
      attr.classList.toggle('ps-attr-min', l >= 1); }});
    L.DomEvent.on(attr, 'click', function() { if (ap.level) { ap.set(0); } });
  }
}

function psTileNotice(S) {
  var bad = 0, good = 0, notice = null;
  S.map.eachLayer(function(l) {
    if (!(l instanceof L.TileLayer)) { return; }
    l.on('tileload', function() { good++; });
    l.on('tileerror', function() {
      bad++;
      if (notice || bad < 3 || good > bad) { return; }
      notice = psControl(S, 'topright', function(d) {
        d.className = 'ps-notice';
        d.id = 'ps-tile-notice';
        d.innerHTML = S.T.tiles_failed;
      });
      psFit(S);
    });
  });
}

/* --- layout: panels never overlap; fold the least important first ---------------------- */

function psRect(e) { return e.getBoundingClientRect(); }

function psShown(e) { var r = psRect(e); return e.offsetParent !== null && r.width > 0 && r.height > 0; }

/* The panel to fold for the first clash (or a control out of the map), or null. */
function psWorst(S, ctl, box) {
  for (var i = 0; i < ctl.length; i++) {
    var r = psRect(ctl[i]);
    var out = r.bottom > box.bottom + 1 || r.top < box.top - 1 || r.right > box.right + 1;
    var against = out ? [ctl[i]] : [];
    for (var j = i + 1; j < ctl.length && !out; j++) {
      var s = psRect(ctl[j]);
      if (r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom) {
        against = [ctl[i], ctl[j]];
        break;
      }
    }
    if (!against.length) { continue; }
    var cand = S.panels.filter(function(p) {
      return against.indexOf(p.el) >= 0 && p.level < p.max && !p.pinned; });
    if (!cand.length && against.length === 1) { continue; }
    if (!cand.length) { cand = S.panels.filter(function(p) { return p.level < p.max && !p.pinned; }); }
    cand.sort(function(a, b) { return a.prio - b.prio; });
    if (cand.length) { return cand[0]; }
  }
  return null;
}

function psFit(S) {
  var box = psRect(S.map.getContainer());
  for (var it = 0; it < 40; it++) {
    var ctl = Array.prototype.slice.call(
      S.map.getContainer().querySelectorAll('.leaflet-control')).filter(psShown);
    var worst = psWorst(S, ctl, box);
    if (!worst) { return true; }
    worst.set(worst.level + 1);
  }
  return false;
}

function psRelayout(S) {
  var small = window.innerWidth < 700;
  S.panels.forEach(function(p) { p.set(small && p.prio < 9 ? Math.max(1, p.pref) : p.pref); });
  psFit(S);
}

/* --- print: A4 landscape, the study fitted ------------------------------------------ */

function psFitStudy(S) {
  var top = S.banner ? S.banner.el.getBoundingClientRect().height : 0;
  // on screen a tall banner may overlap the study; on the print page it never does
  var cap = document.documentElement.classList.contains('ps-print') ? 400 : 200;
  S.map.fitBounds(S.study, {animate: false, paddingTopLeft: [10, Math.min(top, cap) + 10],
                            paddingBottomRight: [10, 10]});
}

function psPrint(S, on) {
  document.documentElement.classList.toggle('ps-print', on);
  if (on) { S.panels.forEach(function(p) { if (p.el !== S.gaps) { p.set(0); } }); }
  S.map.invalidateSize({animate: false});
  if (!on) { psRelayout(S); }
  psFitStudy(S);
}

function psWatch(S) {
  var timer = null;
  window.addEventListener('resize', function() {
    clearTimeout(timer);
    timer = setTimeout(function() {
      if (!document.documentElement.classList.contains('ps-print')) { psRelayout(S); }
    }, 150);
  });
  window.addEventListener('beforeprint', function() { psPrint(S, true); });
  window.addEventListener('afterprint', function() { psPrint(S, false); });
  // scripts after this one (attribution, late layers) may still grow a panel
  setTimeout(function() { psFit(S); }, 0);
  window.addEventListener('load', function() { psFit(S); });
}

/* Start the page: ``cfg`` from geo/webmap/_compose.py (escaped), ``layers`` key → layer
   group, ``control`` the layer control. */
function parksiteInit(map, cfg, layers, control) {
  var S = {map: map, cfg: cfg, T: cfg.t, layers: layers, control: control, panels: [],
           stamps: {}, index: [], sections: {}, groupOf: {}, openGroups: {}, banner: null,
           gaps: null, mark: null, study: L.latLngBounds(cfg.study)};
  Object.keys(layers).forEach(function(k) { S.stamps[L.stamp(layers[k])] = k; });
  cfg.items.forEach(function(it) { S.groupOf[it.key] = it.group; });
  cfg.groups.forEach(function(g) { S.openGroups[g[0]] = g[2]; });
  if (map.zoomControl) { map.zoomControl.remove(); }
  psBanner(S);
  psSearch(S);
  L.control.zoom({position: 'topleft', zoomInTitle: S.T.zoom_in, zoomOutTitle: S.T.zoom_out}).addTo(map);
  psMeasure(S);
  psLayerControl(S);
  psLegend(S);
  psFolded(S, 'ps-card', cfg.card, 1);
  S.gaps = cfg.gaps ? psFolded(S, 'ps-gaps', cfg.gaps, 2) : null;
  if (S.gaps) { psLinkGaps(S, S.gaps); }
  if (cfg.picker) { psPicker(S, cfg.picker); }
  psFurniture(S);
  psTileNotice(S);
  map.options.zoomSnap = 0.25;
  psRelayout(S);
  psFitStudy(S);
  psWatch(S);
  if (window.location.hash === '#print') { psPrint(S, true); }
  window.parksite = {map: map, layers: layers, legend: S.sections, names: cfg.names,
                     groups: S.groupOf, decision: cfg.decision, panels: S.panels, ready: true,
                     search: function(q) { return psFind(S, q); },
                     go: function(hit) { psGo(S, hit); },
                     fit: function() { return psFit(S); },
                     relayout: function() { psRelayout(S); },
                     print: function(on) { psPrint(S, on); }};
}


/* --- recommendation picker (geo/webmap/_picker.py): an industry → its ranked sites ---- */

/* A picker row: zoom to its park or candidate region and outline it (as gap rows do);
   a site whose polygon is not on the map gets a ring at its centre. */
function psPickRow(S, row) {
  var map = S.map, kind = row[2], fid = row[7];
  var keys = kind === 'park' ? [S.cfg.parks_key] : ['candidates_top', 'candidates'];
  var b = L.latLngBounds([]);
  [S.cfg.parks_key, 'candidates_top', 'candidates'].forEach(function(k) {
    if (keys.indexOf(k) < 0) { psHighlight(S, k, []); }
  });
  keys.forEach(function(k) {
    if (!psHighlight(S, k, [fid]).length) { return; }
    psEnsure(S, k);
    psHighlight(S, k, [fid]).forEach(function(f) { if (f.getBounds) { b.extend(f.getBounds()); } });
  });
  if (S.pickMark) { map.removeLayer(S.pickMark); S.pickMark = null; }
  if (row[8] !== null && row[9] !== null) {
    var ll = L.latLng(row[8], row[9]);
    S.pickMark = L.circleMarker(ll, {radius: 14, color: '#000', weight: 3, fill: false,
      className: 'ps-hl-firm ps-pick-mark', interactive: false}).addTo(map);
    if (!b.isValid()) { b.extend(ll); }
  }
  if (b.isValid()) { map.fitBounds(b, {maxZoom: 12, padding: [40, 40], animate: false}); }
}

/* The picker panel: ``P.html`` (escaped) holds the select; ``P.data`` the rows per
   industry (every string escaped in Python; inserted, never parsed from raw data). */
function psPicker(S, P) {
  var d = psFolded(S, 'ps-picker', P.html, 2);
  d.className = 'ps-gaps ps-picker leaflet-control';
  var D = P.data, T = D.t;
  var sel = d.querySelector('select[data-picker]');
  var body = d.querySelector('tbody');
  var ex = d.querySelector('.ps-pick-ex');
  function fill() {
    var rows = D.rows[sel.value] || [];
    body.innerHTML = '';
    ex.innerHTML = '';
    if (!sel.value) { return; }
    if (!rows.length) { psEl('tr', '', body, '<td colspan="4">' + T.none + '</td>'); }
    var trs = [];
    rows.forEach(function(r) {
      var kind = T[r[2]] || r[2];
      var flag = r[6] === 'flagged' ? ' <span class="ps-sub">· ' + T.flagged + '</span>' : '';
      var tr = psEl('tr', 'ps-row', body,
        '<td class="n">' + r[0] + '</td><td>' + r[1] + '<br><span class="ps-sub">' + kind +
        '</span>' + flag + '</td><td class="n">' + (r[3] === null ? '–' : r[3].toFixed(3)) +
        '</td><td>' + r[4] + '<br><span class="ps-sub">' + r[5] + '</span></td>');
      tr.setAttribute('data-site', r[7]);
      trs.push(tr);
      L.DomEvent.on(tr, 'click', function() {
        trs.forEach(function(x) { x.classList.toggle('ps-on', x === tr); });
        psPickRow(S, r);
      });
    });
    var out = D.ex[sel.value] || [];
    if (out.length) {
      var h = '<div class="ps-sub">' + T.excluded + ' · ' + out.length + '</div><ul>';
      out.forEach(function(x) { h += '<li>× ' + x[0] + (x[1] ? ': <span class="ps-sub">' + x[1] + '</span>' : '') + '</li>'; });
      ex.innerHTML = h + '</ul>';
    }
  }
  L.DomEvent.on(sel, 'change', function() { fill(); psFit(S); });  // the table grew
  S.picker = d;
  return d;
}
