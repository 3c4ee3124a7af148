/* parksite map behaviour (inlined by geo/webmap/_controls.py; no network, no globals
   except the ones named here). Every text that comes from data arrives already
   HTML-escaped from Python; this file only inserts it, never builds markup from raw
   data. */

function parksiteBind(feature, layer) {
  var p = feature.properties || {};
  if (p.p) { layer.bindPopup(p.p, {maxWidth: 360}); }
  if (p.t) { layer.bindTooltip(p.t, {sticky: true}); }
}

/* One canvas renderer per pane, for the dense line layers (roads, rail, rivers). */
var parksiteCanvas = (function() {
  var made = {};
  return function(pane) {
    if (!made[pane]) { made[pane] = L.canvas({pane: pane, padding: 0.2, tolerance: 3}); }
    return made[pane];
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

function parksiteInit(map, cfg, layers, control) {
  var T = cfg.t;
  var panels = [];
  var stamps = {};
  Object.keys(layers).forEach(function(k) { stamps[L.stamp(layers[k])] = k; });

  function el(tag, cls, parent, html) {
    var e = L.DomUtil.create(tag, cls || '', parent);
    if (html !== undefined) { e.innerHTML = html; }
    return e;
  }
  function quiet(d) {
    L.DomEvent.disableClickPropagation(d);
    L.DomEvent.disableScrollPropagation(d);
  }
  function control_(pos, build) {
    var C = L.Control.extend({options: {position: pos}, onAdd: function() {
      var d = el('div', ''); quiet(d); build(d); return d; }});
    return new C().addTo(map);
  }
  /* A panel: a header that folds it (level 1) or shrinks it to a short button (2). */
  function panel(d, prio, opts) {
    var p = {el: d, prio: prio, level: 0, pref: opts.pref || 0, max: opts.max || 2,
             set: function(l) {
               p.level = Math.max(0, Math.min(p.max, l));
               if (opts.set) { opts.set(p.level); } else {
                 d.classList.toggle('ps-min', p.level >= 1);
               }
               d.classList.toggle('ps-tiny', p.level >= 2);
             }};
    panels.push(p);
    return p;
  }
  function head(d, long, short) {
    var h = el('div', 'ps-head', d, '<span class="ps-long">' + long + '</span>' +
               '<span class="ps-short">' + (short || long) + '</span>');
    return h;
  }

  // --- banner: title, data date, the three-line summary ---------------------------------
  map.zoomControl && map.zoomControl.remove();
  var banner = null;
  control_('topleft', function(d) {
    d.className = 'ps-banner';
    d.id = 'ps-banner';
    var h = head(d, '<span class="ps-title">' + cfg.banner.title + '</span> ' +
                 '<span class="ps-date">' + cfg.banner.date + '</span>', cfg.banner.short);
    var b = el('div', 'ps-body', d);
    var ul = el('ul', 'ps-summary', b);
    cfg.banner.lines.forEach(function(line, i) {
      var li = el('li', '', ul);
      var a = el('a', 'ps-line', li, line.html);
      a.setAttribute('data-line', line.kind);
      a.href = '#';
      L.DomEvent.on(a, 'click', function(e) {
        L.DomEvent.preventDefault(e);
        show(line);
      });
    });
    banner = panel(d, 9, {pref: 0});
    L.DomEvent.on(h, 'click', function() { banner.set(banner.level ? 0 : 1); });
  });

  function highlight(key, ids) {
    var g = layers[key];
    if (!g) { return []; }
    var hit = [];
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
  function ensure(key) {
    if (layers[key] && !map.hasLayer(layers[key])) { map.addLayer(layers[key]); }
  }
  function show(line) {
    (line.keys || []).forEach(ensure);
    if (line.bounds) {
      map.fitBounds(line.bounds, {maxZoom: 12, padding: [40, 40], animate: false});
    }
    (line.keys || []).forEach(function(k) { highlight(k, line.ids || []); });
  }

  // --- search -----------------------------------------------------------------------
  var index = [];
  function addIndex(key, kind) {
    var g = layers[key];
    g.eachLayer(function(sub) {
      if (L.MarkerClusterGroup && sub instanceof L.MarkerClusterGroup) {
        sub.eachLayer(function(mk) {
          var f = mk.psFirm;
          if (f) { index.push({q: (f.name + ' ' + f.id + ' ' + (f.q || '')).toLowerCase(),
                               label: f.name, kind: kind, key: key, layer: mk, cluster: sub}); }
        });
        return;
      }
      if (!sub.eachLayer) { return; }
      sub.eachLayer(function(f) {
        var p = f.feature && f.feature.properties;
        if (p && p.q) { index.push({q: p.q.toLowerCase(), label: p.n || p.t || p.q,
                                     kind: kind, key: key, layer: f}); }
      });
    });
  }
  (cfg.search || []).forEach(function(s) { if (layers[s[0]]) { addIndex(s[0], s[1]); } });
  function go(hit) {
    ensure(hit.key);
    var lyr = hit.layer;
    if (hit.cluster) {
      hit.cluster.zoomToShowLayer(lyr, function() { lyr.openPopup(); });
    } else if (lyr.getBounds) {
      map.fitBounds(lyr.getBounds(), {maxZoom: 13, animate: false});
      var path = lyr.getElement && lyr.getElement();
      if (path) { path.classList.add('ps-hl'); setTimeout(function() { path.classList.remove('ps-hl'); }, 4000); }
      if (lyr.getPopup()) { lyr.openPopup(lyr.getBounds().getCenter()); }
      else if (lyr.getTooltip()) { lyr.openTooltip(lyr.getBounds().getCenter()); }
    } else if (lyr.getLatLng) {
      map.setView(lyr.getLatLng(), Math.max(map.getZoom(), 13), {animate: false});
      if (lyr.getPopup()) { lyr.openPopup(); }
    }
  }
  var search = null;
  if (index.length) {
    control_('topleft', function(d) {
      d.className = 'ps-search';
      d.id = 'ps-search';
      var h = head(d, T.search, T.search);
      var b = el('div', 'ps-body', d);
      var inp = el('input', '', b);
      inp.type = 'search';
      inp.placeholder = T.search_hint;
      var ul = el('ul', '', b);
      var found = [];
      function run() {
        var q = inp.value.trim().toLowerCase();
        ul.innerHTML = '';
        found = q ? index.filter(function(x) { return x.q.indexOf(q) >= 0; }).slice(0, 12) : [];
        found.forEach(function(x, i) {
          var li = el('li', i ? '' : 'ps-on', ul, x.label + '<span class="ps-kind">' + x.kind + '</span>');
          L.DomEvent.on(li, 'click', function() { go(x); });
        });
      }
      L.DomEvent.on(inp, 'input', run);
      L.DomEvent.on(inp, 'keydown', function(e) {
        if (e.key === 'Enter' && found.length) { go(found[0]); }
      });
      search = panel(d, 5, {pref: 0});
      L.DomEvent.on(h, 'click', function() { search.set(search.level ? 0 : 1); });
    });
  }
  L.control.zoom({position: 'topleft', zoomInTitle: T.zoom_in, zoomOutTitle: T.zoom_out}).addTo(map);

  // --- measure: distance (km) and area (km², 亩) ---------------------------------------
  control_('topleft', function(d) {
    d.className = 'ps-tools';
    d.id = 'ps-measure';
    var btn = el('button', '', d, T.measure);
    var clr = el('button', '', d, T.clear);
    var out = el('div', 'ps-out', d);
    var pts = [], line = null, poly = null, on = false;
    function area(ll) {  // spherical excess on the WGS84 mean radius, m²
      var R = 6371008.8, s = 0, n = ll.length;
      for (var i = 0; i < n; i++) {
        var a = ll[i], b = ll[(i + 1) % n];
        s += (b.lng - a.lng) * Math.PI / 180 *
             (2 + Math.sin(a.lat * Math.PI / 180) + Math.sin(b.lat * Math.PI / 180));
      }
      return Math.abs(s * R * R / 2);
    }
    function draw() {
      var km = 0;
      for (var i = 1; i < pts.length; i++) { km += map.distance(pts[i - 1], pts[i]) / 1000; }
      if (line) { map.removeLayer(line); }
      if (poly) { map.removeLayer(poly); }
      line = L.polyline(pts, {color: '#000', weight: 2, dashArray: '4 3', interactive: false}).addTo(map);
      var txt = T.distance + ' ' + km.toFixed(2) + ' km';
      if (pts.length >= 3) {
        poly = L.polygon(pts, {color: '#000', weight: 1, fillOpacity: 0.08, interactive: false}).addTo(map);
        var m2 = area(pts);
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
    L.DomEvent.on(clr, 'click', function() {
      pts = []; out.textContent = '';
      if (line) { map.removeLayer(line); line = null; }
      if (poly) { map.removeLayer(poly); poly = null; }
    });
  });

  // --- layer control: grouped, park views as radio buttons ---------------------------
  var groupOf = {}, openGrp = {};
  cfg.items.forEach(function(it) { groupOf[it.key] = it.group; });
  cfg.groups.forEach(function(g) { openGrp[g[0]] = g[2]; });
  function regroup() {
    var list = control._overlaysList;
    if (!list) { return; }
    var labels = Array.prototype.slice.call(list.querySelectorAll('label'));
    var boxes = {};
    cfg.groups.forEach(function(g) {
      var det = el('details', 'ps-grp', list);
      det.setAttribute('data-group', g[0]);
      det.open = !!openGrp[g[0]];
      el('summary', '', det, g[1]);
      det.addEventListener('toggle', function() { openGrp[g[0]] = det.open; });
      boxes[g[0]] = det;
    });
    labels.forEach(function(lab) {
      var inp = lab.querySelector('input');
      var key = inp ? stamps[inp.layerId] : undefined;
      var det = boxes[groupOf[key]];
      if (key !== undefined) { lab.setAttribute('data-layer', key); }
      if (det) { det.appendChild(lab); } else { list.appendChild(lab); }
      if (inp && cfg.radio.indexOf(key) >= 0) { lab.classList.add('ps-radio'); }
    });
    Object.keys(boxes).forEach(function(g) {
      if (!boxes[g].querySelector('label')) { list.removeChild(boxes[g]); }
    });
  }
  if (control) {
    var upd = control._update;
    control._update = function() { var r = upd.apply(this, arguments); regroup(); return r; };
    regroup();
    var lc = control.getContainer();
    lc.id = 'ps-layers';
    var lh = el('div', 'ps-head', null, '<span class="ps-long">' + T.layers + '</span>' +
                '<span class="ps-short">' + T.layers + '</span>');
    lc.insertBefore(lh, lc.firstChild);
    var lp = panel(lc, 6, {pref: 0});
    L.DomEvent.on(lh, 'click', function() { lp.set(lp.level ? 0 : 1); });
  }
  map.on('overlayadd', function(e) {
    var key = stamps[L.stamp(e.layer)];
    if (cfg.radio.indexOf(key) < 0) { return; }
    setTimeout(function() {  // after the layer control has handled its click
      cfg.radio.forEach(function(k) {
        if (k !== key && layers[k] && map.hasLayer(layers[k])) { map.removeLayer(layers[k]); }
      });
    }, 0);
  });

  // --- legend: thematic first, only what is on ----------------------------------------
  var lg = control_('bottomleft', function() {}).getContainer();
  lg.className = 'ps-legend leaflet-control';
  lg.id = 'ps-legend';
  var lgh = head(lg, cfg.legend_title, cfg.legend_title);
  var lgb = el('div', 'ps-body', lg);
  var sections = {}, items = [];
  cfg.items.forEach(function(it) {
    if (!layers[it.key]) { return; }
    var s = el('div', 'ps-lg-s', lgb, it.html);
    s.id = 'ps-legend-' + it.key;
    s.setAttribute('data-layer', it.key);
    sections[it.key] = s;
    items.push({key: it.key, el: s, layer: layers[it.key]});
  });
  var legendP = panel(lg, 4, {pref: 0});
  L.DomEvent.on(lgh, 'click', function() { legendP.set(legendP.level ? 0 : 1); });
  function sync() {
    var any = false;
    items.forEach(function(it) {
      var on = map.hasLayer(it.layer);
      it.el.style.display = on ? '' : 'none';
      any = any || on;
    });
    lg.style.display = any ? '' : 'none';
  }
  map.on('overlayadd overlayremove layeradd layerremove', sync);
  sync();

  // --- model card, chain gaps (bottom right, folded) ---------------------------------
  function folded(id, cls, html, prio) {
    var c = control_('bottomright', function(d) { d.className = cls; d.id = id; d.innerHTML = html; });
    var d = c.getContainer();
    var det = d.querySelector('details');
    var p = panel(d, prio, {pref: 1, set: function(l) { if (det && l >= 1) { det.open = false; } }});
    if (det) { det.addEventListener('toggle', function() { p.level = det.open ? 0 : 1; }); }
    return d;
  }
  folded('ps-card', 'ps-card', cfg.card, 1);
  var gapsEl = cfg.gaps ? folded('ps-gaps', 'ps-gaps', cfg.gaps, 2) : null;
  if (gapsEl) { linkGaps(gapsEl); }

  function linkGaps(d) {
    var rows = Array.prototype.slice.call(d.querySelectorAll('tr.ps-row'));
    var firms = {};
    if (cfg.firms_key && layers[cfg.firms_key]) {
      layers[cfg.firms_key].eachLayer(function(sub) {
        if (sub.eachLayer) { sub.eachLayer(function(mk) { if (mk.psFirm) { firms[mk.psFirm.id] = mk; } }); }
      });
    }
    var mark = null;
    rows.forEach(function(tr) {
      L.DomEvent.on(tr, 'click', function() {
        rows.forEach(function(r) { r.classList.toggle('ps-on', r === tr); });
        var ids = [tr.getAttribute('data-park'), tr.getAttribute('data-supplier-park')];
        ensure(cfg.parks_key);
        var hit = highlight(cfg.parks_key, ids);
        var b = L.latLngBounds([]);
        hit.forEach(function(f) { b.extend(f.getBounds()); });
        if (mark) { map.removeLayer(mark); mark = null; }
        var sup = firms[tr.getAttribute('data-supplier')];
        (tr.getAttribute('data-anchors') || '').split(';').forEach(function(a) {
          if (firms[a]) { b.extend(firms[a].getLatLng()); }
        });
        if (sup) {
          b.extend(sup.getLatLng());
          mark = L.circleMarker(sup.getLatLng(), {radius: 12, color: '#000', weight: 3,
            fill: false, className: 'ps-hl-firm', interactive: false}).addTo(map);
        }
        if (b.isValid()) { map.fitBounds(b, {maxZoom: 12, padding: [40, 40], animate: false}); }
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

  // --- north arrow, print notes -------------------------------------------------------
  control_('bottomright', function(d) {
    d.className = 'ps-north';
    d.id = 'ps-north';
    d.innerHTML = '<svg width="18" height="22" viewBox="0 0 18 22" aria-hidden="true">' +
      '<path d="M9 0 L17 22 L9 16 L1 22 Z" fill="#222"/></svg>' + T.north;
  });
  L.control.scale({position: 'bottomright', metric: true, imperial: false, maxWidth: 140}).addTo(map);
  control_('bottomright', function(d) {
    d.className = 'ps-panel ps-print-only';
    d.id = 'ps-notes';
    d.innerHTML = cfg.notes;
  });

  // --- online tiles that do not load --------------------------------------------------
  var notice = null, bad = 0, good = 0;
  map.eachLayer(function(l) {
    if (!(l instanceof L.TileLayer)) { return; }
    l.on('tileload', function() { good++; });
    l.on('tileerror', function() {
      bad++;
      if (notice || bad < 3 || good > bad) { return; }
      notice = control_('topright', function(d) {
        d.className = 'ps-notice';
        d.id = 'ps-tile-notice';
        d.innerHTML = T.tiles_failed;
      });
      fit();
    });
  });

  // the attribution shrinks to one line (click to read it all) before any panel folds
  var attr = map.attributionControl && map.attributionControl.getContainer();
  if (attr) {
    var ap = panel(attr, 0, {pref: 0, max: 1, set: function(l) {
      attr.classList.toggle('ps-attr-min', l >= 1); }});
    L.DomEvent.on(attr, 'click', function() { if (ap.level) { ap.set(0); } });
  }

  // --- layout: panels never overlap; fold the least important first ---------------------
  function rect(e) { return e.getBoundingClientRect(); }
  function shown(e) { var r = rect(e); return e.offsetParent !== null && r.width > 0 && r.height > 0; }
  function clash(a, b) {
    var r = rect(a), s = rect(b);
    return r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom;
  }
  function fit() {
    var box = rect(map.getContainer());
    for (var it = 0; it < 40; it++) {
      var ctl = Array.prototype.slice.call(map.getContainer().querySelectorAll('.leaflet-control')).filter(shown);
      var worst = null;
      for (var i = 0; i < ctl.length && !worst; i++) {
        var ri = rect(ctl[i]);
        var out = ri.bottom > box.bottom + 1 || ri.top < box.top - 1 || ri.right > box.right + 1;
        var against = out ? [ctl[i]] : [];
        for (var j = i + 1; j < ctl.length && !out; j++) {
          if (clash(ctl[i], ctl[j])) { against = [ctl[i], ctl[j]]; break; }
        }
        if (!against.length) { continue; }
        var cand = panels.filter(function(p) { return against.indexOf(p.el) >= 0 && p.level < p.max; });
        if (!cand.length && against.length === 1) { continue; }
        if (!cand.length) {  // fold any panel of a corner involved
          cand = panels.filter(function(p) { return p.level < p.max; });
        }
        cand.sort(function(a, b) { return a.prio - b.prio; });
        worst = cand[0];
      }
      if (!worst) { return true; }
      worst.set(worst.level + 1);
    }
    return false;
  }
  function relayout() {
    var small = window.innerWidth < 700;
    panels.forEach(function(p) { p.set(small && p.prio < 9 ? Math.max(1, p.pref) : p.pref); });
    fit();
  }
  var timer = null;
  window.addEventListener('resize', function() {
    clearTimeout(timer);
    timer = setTimeout(function() {
      if (!document.documentElement.classList.contains('ps-print')) { relayout(); }
    }, 150);
  });

  // --- print: A4 landscape, the study fitted -----------------------------------------
  var studyBounds = L.latLngBounds(cfg.study);
  map.options.zoomSnap = 0.25;
  function fitStudy() {
    var top = banner ? banner.el.getBoundingClientRect().height : 0;
    map.fitBounds(studyBounds, {animate: false, paddingTopLeft: [10, Math.min(top, 200) + 10],
                                paddingBottomRight: [10, 10]});
  }
  function toPrint(on) {
    document.documentElement.classList.toggle('ps-print', on);
    if (on) { panels.forEach(function(p) { if (p.el !== gapsEl) { p.set(0); } }); }
    map.invalidateSize({animate: false});
    if (!on) { relayout(); }
    fitStudy();
  }
  window.addEventListener('beforeprint', function() { toPrint(true); });
  window.addEventListener('afterprint', function() { toPrint(false); });

  relayout();
  fitStudy();
  // scripts after this one (attribution, late layers) may still grow a panel
  setTimeout(fit, 0);
  window.addEventListener('load', function() { fit(); });
  if (window.location.hash === '#print') { toPrint(true); }
  window.parksite = {map: map, layers: layers, legend: sections, names: cfg.names,
                     groups: groupOf, decision: cfg.decision, search: function(q) {
                       var s = q.toLowerCase();
                       return index.filter(function(x) { return x.q.indexOf(s) >= 0; }); },
                     go: go, fit: fit, relayout: relayout, print: toPrint,
                     panels: panels, ready: true};
}
