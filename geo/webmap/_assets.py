"""Offline assets: Leaflet and Leaflet.markercluster inlined from geo/assets/vendor/.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from folium.elements import JSCSSMixin

from ..errors import OutputError

#: Pinned asset versions: must equal tools/assets/package-lock.json (a test checks).
LEAFLET_VERSION = "1.9.4"


MARKERCLUSTER_VERSION = "1.5.3"


VENDOR = Path(__file__).resolve().parent.parent / "assets" / "vendor"


_CDN = "https://cdn.jsdelivr.net/npm"


_ASSETS_CSS = [("leaflet", "leaflet.css"), ("leaflet.markercluster", "MarkerCluster.css"),
               ("leaflet.markercluster", "MarkerCluster.Default.css")]


_ASSETS_JS = [("leaflet", "leaflet.js"), ("leaflet.markercluster", "leaflet.markercluster.js")]


def asset_status() -> dict[str, Any]:
    """Which vendored asset files exist (for ``parksite check`` and error messages).

    Returns
    -------
    dict of str to Any
        ``vendor`` (the vendor folder, str), ``files`` (``"pkg/name"`` → bool exists)
        and ``ok`` (True when every file exists).
    """
    files = {f"{pkg}/{name}": (VENDOR / pkg / name).is_file()
             for pkg, name in _ASSETS_CSS + _ASSETS_JS}
    return {"vendor": str(VENDOR), "files": files, "ok": all(files.values())}


def _read_asset(pkg: str, name: str) -> str:
    p = VENDOR / pkg / name
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OutputError(
            f"offline map: asset {p} is missing; run make assets (bash tools/fetch_assets.sh) "
            "to fetch Leaflet from the npm registry, or write the map with --online") from None


def _inline_css(pkg: str, name: str) -> str:
    css = _read_asset(pkg, name)

    def data_uri(mo: re.Match) -> str:
        img = VENDOR / pkg / "images" / mo.group(1)
        if not img.is_file():
            raise OutputError(f"offline map: asset {img} is missing; run make assets")
        return f"url(data:image/png;base64,{base64.b64encode(img.read_bytes()).decode()})"

    css = re.sub(r"url\(\s*['\"]?images/([\w.-]+\.png)['\"]?\s*\)", data_uri, css)
    return css.replace("</style", "<\\/style")


def _inline_js(pkg: str, name: str) -> str:
    js = _read_asset(pkg, name)
    js = re.sub(r"^//# sourceMappingURL=.*$", "", js, flags=re.M)
    return js.replace("</script", "<\\/script")


def _asset_html(offline: bool) -> str:
    if offline:
        css = "\n".join(f"<style>/* {pkg}/{name} */\n{_inline_css(pkg, name)}\n</style>"
                        for pkg, name in _ASSETS_CSS)
        js = "\n".join(f"<script>/* {pkg}/{name} */\n{_inline_js(pkg, name)}\n</script>"
                       for pkg, name in _ASSETS_JS)
        return css + "\n" + js
    ver = {"leaflet": LEAFLET_VERSION, "leaflet.markercluster": MARKERCLUSTER_VERSION}
    css = "\n".join(f'<link rel="stylesheet" href="{_CDN}/{pkg}@{ver[pkg]}/dist/{name}"/>'
                    for pkg, name in _ASSETS_CSS)
    js = "\n".join(f'<script src="{_CDN}/{pkg}@{ver[pkg]}/dist/{name}"></script>'
                   for pkg, name in _ASSETS_JS)
    return css + "\n" + js


def _strip_cdn(el) -> None:
    """Drop the CDN links Folium elements would add (Leaflet, jQuery, Bootstrap, Font
    Awesome, …): the page gets exactly the assets :func:`_asset_html` provides."""
    if isinstance(el, JSCSSMixin):
        el.default_js = []
        el.default_css = []
    for child in list(el._children.values()):
        _strip_cdn(child)


_EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe|source|video|audio|embed|object)\b[^>]*?\b"""
    r"""(?:src|href|data)\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|url\(\s*["']?\s*(?:https?:)?//|@import\b""", re.I)


def _check_offline(page: str) -> None:
    hit = _EXTERNAL.search(page)
    if hit:
        ctx = page[max(0, hit.start() - 60): hit.end() + 60].replace("\n", " ")
        raise OutputError(f"offline map: the page still references an external resource "
                          f"near …{ctx}…; this is a bug in parksite.webmap")

