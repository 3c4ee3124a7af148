"""A park layout: plots by industry, internal roads, setback, links and facilities.
"""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd

from ._context import _add_group, _Ctx, _display_geoms, _geojson
from ._i18n import _T
from ._results import _as_wgs84
from ._style import _OTHER, _legend_html, _sw_fill, _sw_line, _sw_point
from ._text import _esc, _isnull, _num, _popup

_PLOT_COLOUR = {"free": "#f7f7f7", "incoming": "#e6550d", "existing": "#3182bd",
                "facility": "#31a354", "residual": "#d9d9d9"}


def _layout_parts(lay):
    plots = _as_wgs84(getattr(lay, "plots", None))
    return (plots, _as_wgs84(getattr(lay, "setbacks", None)),
            _as_wgs84(getattr(lay, "links", None)), _as_wgs84(getattr(lay, "facilities", None)),
            _as_wgs84(getattr(lay, "roads", None)))


class _Groups:
    """The layout's layer groups: one per part (the layout map) or one for all."""

    def __init__(self, ctx, m, label: str, split: bool) -> None:
        self.ctx, self.m, self.label, self.split = ctx, m, label, split
        self.groups: dict[str, folium.FeatureGroup] = {}
        self.legends: dict[str, list] = {}

    def __call__(self, key: str, lab: str) -> folium.FeatureGroup:
        if not self.split:
            key, lab = "layout", self.label
        if key not in self.groups:
            self.groups[key] = _add_group(self.ctx, self.m, key, lab)
        return self.groups[key]

    def legend(self, key: str, *entries) -> None:
        self.legends.setdefault(key, []).extend(entries)

    def finish(self) -> None:
        """One legend per group (split), else one legend for the whole layout."""
        if self.split:
            for key, fg in self.groups.items():
                self.ctx.legend.append((key, fg, _legend_html(fg.layer_name,
                                                              self.legends.get(key, []))))
            return
        entries = [e for k in ("layout_plots", "layout_facilities", "layout_setbacks",
                               "layout_links") for e in self.legends.get(k, [])]
        self.ctx.legend.append(("layout", self.groups["layout"],
                                _legend_html(_esc(self.label), entries)))


def _draw_layout(ctx, m, lay, *, split: bool = False):
    """A park layout: plots coloured by industry (free, facility and residual plots by
    status), the polluter setback, links between chain-linked firms and the shared
    facilities. ``split``: one layer each (the layout map); else one layer."""
    plots, setbacks, links, fac, roads = _layout_parts(lay)
    if plots is None or len(plots) == 0:
        return
    summary = getattr(lay, "summary", {}) or {}
    label = ctx.t("layout") + (f" · {summary['park_id']}" if summary.get("park_id") else "")
    groups = _Groups(ctx, m, label, split)
    if split and roads is not None and len(roads):
        fg = groups("layout_roads", ctx.t("roads_int"))
        _geojson(ctx, fg, _display_geoms(ctx, roads, simplify=False), [{} for _ in
                 range(len(roads))], [{"color": "#bdbdbd", "weight": 0, "fillColor": "#ffffff",
                                       "fillOpacity": 0.9}] * len(roads), interactive=False)
        groups.legend("layout_roads", (_sw_fill("#ffffff", "#bdbdbd", 1),
                                       _esc(ctx.t("roads_int"))))
    a = getattr(lay, "assignments", None)
    firm_names: dict[str, str] = {}
    if a is not None and len(a) and {"firm_id", "name"} <= set(a.columns):
        firm_names = {str(k): str(v) for k, v in zip(a["firm_id"], a["name"], strict=True)
                      if not _isnull(v)}
    # on the study map the plots (hundreds) are one of many layers: one canvas, not an
    # SVG path each; the layout map keeps SVG (classes on every plot, few other layers)
    canvas = not split
    _draw_plots(ctx, groups, plots, firm_names, canvas=canvas)
    if setbacks is not None and len(setbacks):
        _draw_setbacks(ctx, groups, setbacks, canvas=canvas)
    if links is not None and len(links):
        _draw_links(ctx, groups, links, firm_names, canvas=canvas)
    if fac is not None and len(fac):
        _draw_facilities(ctx, groups, fac)
    groups.finish()


def _draw_plots(ctx, groups: _Groups, plots, firm_names: dict[str, str], *,
                canvas: bool = False) -> None:
    """Plots coloured by the industry of their firm (the industry's colour in every
    layer), else by status; popups name the plot, firm, industry and area (亩)."""
    status = plots["status"].astype("string").fillna("free") if "status" in plots else \
        pd.Series("free", index=plots.index, dtype="string")
    inds = plots["industry"].astype("string").fillna("") if "industry" in plots else \
        pd.Series("", index=plots.index, dtype="string")
    order = list(inds[(inds != "") & status.isin(["incoming", "existing"])].value_counts().index)
    top = order[:19]
    colour = {v: ctx.colour(v) for v in top}  # the industry's colour in every layer
    props, styles = [], []
    for i in range(len(plots)):
        r = plots.iloc[i]
        st, ind = str(status.iloc[i]), str(inds.iloc[i])
        st_txt = ctx.t("st_" + st) if ("st_" + st) in _T else st
        fid = r.get("firm_id")
        fname = firm_names.get(str(fid), "") if not _isnull(fid) else ""
        rows = [(ctx.t("plot"), _esc(r.get("plot_id"))),
                (ctx.t("plot_status"), _esc(st_txt)),
                (ctx.t("id"), _esc(fid)),
                (ctx.t("name"), _esc(fname)),
                (ctx.t("industry"), _esc(ctx.ind(ind)) if ind else ""),
                (ctx.t("facility"), _esc(r.get("facility"))),
                (ctx.t("area"), f"{_num(r.get('area_mu'), 1)} {ctx.t('mu')}"
                 if not _isnull(r.get("area_mu")) else "")]
        what = ctx.ind(ind) if ind else st_txt
        tip = f"{_esc(r.get('plot_id'))} · {_esc(what)}" + \
            (f" · {_esc(fname)}" if fname else "")
        props.append({"t": tip, "p": _popup(_esc(ctx.t("plot")) + " " + _esc(r.get("plot_id")),
                                            _esc(fname), rows)})
        c = colour.get(ind, _OTHER) if st in ("incoming", "existing") and ind else \
            _PLOT_COLOUR.get(st, "#969696")
        border = {"incoming": ("#000000", 1.4), "existing": ("#636363", 0.6)}.get(
            st, ("#969696", 0.5))
        styles.append({"color": border[0], "weight": border[1], "fillColor": c,
                       "fillOpacity": 0.85, "className": f"ps-plot ps-plot-{st}"})
    fg = groups("layout_plots", ctx.t("plots_ind"))
    _geojson(ctx, fg, _display_geoms(ctx, plots, simplify=False), props, styles, canvas=canvas)
    present = set(status)
    ent = [(_sw_fill(colour[v], "#636363", 0.9), _esc(ctx.ind(v))) for v in top]
    if len(order) > len(top):
        ent.append((_sw_fill(_OTHER, "#636363", 0.9), _esc(ctx.t("other"))))
    if "incoming" in present:
        ent.append((_sw_fill("#ffffff", "#000000", 1), _esc(ctx.t("st_incoming"))))
    if "existing" in present:
        ent.append((_sw_fill("#ffffff", "#636363", 1), _esc(ctx.t("st_existing"))))
    ent += [(_sw_fill(_PLOT_COLOUR[st], "#969696", 0.9), _esc(ctx.t("st_" + st)))
            for st in ("facility", "free", "residual") if st in present]
    groups.legend("layout_plots", *ent)


def _draw_setbacks(ctx, groups: _Groups, setbacks, *, canvas: bool = False) -> None:
    """The polluter setback (metres in the tip), dashed."""
    fg = groups("layout_setbacks", ctx.t("setback"))
    dist = setbacks["setback_m"].iloc[0] if "setback_m" in setbacks else None
    tip = _esc(ctx.t("setback")) + (f" · {_num(dist, 0)} m" if not _isnull(dist) else "")
    style = {"color": "#a50f15", "weight": 1.5, "fillColor": "#fc9272", "fillOpacity": 0.25,
             "dashArray": "4 3", "className": "ps-setback"}
    _geojson(ctx, fg, _display_geoms(ctx, setbacks, simplify=False),
             [{"t": tip} for _ in range(len(setbacks))], [style] * len(setbacks),
             canvas=canvas)
    groups.legend("layout_setbacks", (_sw_fill("#fc9272", "#a50f15", 0.6, True), tip))


def _draw_links(ctx, groups: _Groups, links, firm_names: dict[str, str], *,
                canvas: bool = False) -> None:
    """Links between chain-linked firms, wider for a heavier input weight."""
    fg = groups("layout_links", ctx.t("firm_links"))
    w = pd.to_numeric(links["weight"], errors="coerce").fillna(0).to_numpy() \
        if "weight" in links else np.ones(len(links))
    wmax = float(w.max()) if len(w) and w.max() > 0 else 1.0
    lprops, lstyles = [], []
    for i in range(len(links)):
        r = links.iloc[i]
        a_, b_ = r.get("from_id"), r.get("to_id")
        parts = []
        if not (_isnull(a_) and _isnull(b_)):
            parts.append(f"{_esc(firm_names.get(str(a_), a_))} → "
                         f"{_esc(firm_names.get(str(b_), b_))}")
        if not _isnull(r.get("distance_m")):
            parts.append(f"{_num(r['distance_m'], 0)} m")
        if not _isnull(r.get("weight")):
            parts.append(f"{_esc(ctx.t('weight'))} {_num(r['weight'], 2)}")
        lprops.append({"t": " · ".join(parts)})
        lstyles.append({"color": "#54278f", "weight": round(0.6 + 2.4 * w[i] / wmax, 1),
                        "opacity": 0.45, "className": "ps-link"})
    _geojson(ctx, fg, _display_geoms(ctx, links, simplify=False), lprops, lstyles,
             canvas=canvas)
    groups.legend("layout_links", (_sw_line("#54278f", 2.5), _esc(ctx.t("firm_links"))))


def _draw_facilities(ctx, groups: _Groups, fac) -> None:
    """The shared facilities as points, with their users and mean distance (m)."""
    fg = groups("layout_facilities", ctx.t("facilities"))
    name = "name_zh" if ctx.lang == "zh" and "name_zh" in fac else \
        "name_en" if "name_en" in fac else "facility"
    fprops = []
    for i in range(len(fac)):
        r = fac.iloc[i]
        rows = [(ctx.t("plot"), _esc(r.get("plot_id"))),
                (ctx.t("n_firms"), _esc(r.get("n_users"))),
                (ctx.t("min_distance"), f"{_num(r.get('mean_distance_m'), 0)} m"
                 if not _isnull(r.get("mean_distance_m")) else "")]
        fprops.append({"t": _esc(r.get(name)), "p": _popup(_esc(r.get(name)), "", rows)})
    style = {"color": "#ffffff", "weight": 2, "fillColor": "#006d2c", "fillOpacity": 1,
             "className": "ps-facility"}
    pts = fac.set_geometry(fac.geometry.representative_point())
    _geojson(ctx, fg, _display_geoms(ctx, pts, simplify=False), fprops,
             [style] * len(fac), pane="ps-points", point_radius=7)
    groups.legend("layout_facilities", (_sw_point("#006d2c"), _esc(ctx.t("facility"))))


def _layout_card(ctx: _Ctx, summary: dict) -> str:
    """The layout's summary for the model card (objective vs random and greedy,
    unplaced firms with the reason)."""
    if not summary:
        return ""
    t = ctx.t
    items = []
    o = summary.get("objective") or {}
    if o:
        items.append(f"{_esc(t('objective'))}: random {_num(o.get('random'), 0)} · greedy "
                     f"{_num(o.get('greedy'), 0)} · final {_num(o.get('final'), 0)}")
    if summary.get("improvement_vs_random_pct") is not None:
        items.append(f"{_esc(t('improvement'))}: {_num(summary['improvement_vs_random_pct'])} %")
    for k, lab in (("n_placed", "placed"), ("n_incoming", "incoming"),
                   ("n_existing", "existing"), ("n_usable_plots", "usable plots")):
        if summary.get(k) is not None:
            items.append(f"{_esc(lab)}: {_esc(summary[k])}")
    for u in summary.get("unplaced") or []:
        if isinstance(u, dict):
            items.append(f"{_esc(t('unplaced'))}: {_esc(u.get('firm_id'))} "
                         f"({_esc(ctx.ind(u.get('industry')))}): {_esc(u.get('reason'))}")
    for n in summary.get("notes") or []:
        items.append(_esc(n))
    head = f"{t('layout')} · {summary.get('park_name') or summary.get('park_id') or ''}"
    return f"<h4>{_esc(head)}</h4><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"

