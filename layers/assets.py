"""Offline Leaflet: every JS/CSS file a map needs is served by the app itself.

folium and its plugins name CDN URLs in ``default_js``/``default_css``;
streamlit-folium loads whatever they name. :func:`localize` rewrites them to
files under ``static/vendor`` (served by Streamlit at ``/app/static/vendor``),
drops the ones our maps never use (jQuery, Bootstrap, Font Awesome, awesome
markers) and refuses anything else, so a new plugin cannot quietly bring a CDN
back. The files come from the npm packages pinned in ``vendor/package.json``
and are copied by :func:`install` during setup (they are not committed).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from branca.element import Element

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "vendor" / "node_modules"
STATIC_DIR = ROOT / "static" / "vendor"
URL_PREFIX = "/app/static/vendor"

#: Local file for every asset name folium or a plugin may declare: (npm source, file under static/vendor).
ASSETS: dict[str, tuple[str, str]] = {
    "leaflet": ("leaflet/dist/leaflet.js", "leaflet/leaflet.js"),
    "leaflet_css": ("leaflet/dist/leaflet.css", "leaflet/leaflet.css"),
    "markerclusterjs": (
        "leaflet.markercluster/dist/leaflet.markercluster.js",
        "markercluster/leaflet.markercluster.js",
    ),
    "markerclustercss": ("leaflet.markercluster/dist/MarkerCluster.css", "markercluster/MarkerCluster.css"),
    "markerclusterdefaultcss": (
        "leaflet.markercluster/dist/MarkerCluster.Default.css",
        "markercluster/MarkerCluster.Default.css",
    ),
    "leaflet-heat.js": ("leaflet.heat/dist/leaflet-heat.js", "heat/leaflet-heat.js"),
    "leaflet_draw_js": ("leaflet-draw/dist/leaflet.draw.js", "draw/leaflet.draw.js"),
    "leaflet_draw_css": ("leaflet-draw/dist/leaflet.draw.css", "draw/leaflet.draw.css"),
}
#: Image folders the CSS files refer to relatively.
IMAGE_DIRS = {"leaflet/dist/images": "leaflet/images", "leaflet-draw/dist/images": "draw/images"}
#: Assets folium declares that our maps do not use; dropped rather than fetched.
UNUSED = {
    "jquery", "bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css",
    "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css",
}


def local_url(name: str) -> str:
    return f"{URL_PREFIX}/{ASSETS[name][1]}"


def _localized(entries: list[tuple[str, str]], owner: str) -> list[tuple[str, str]]:
    out = []
    for name, url in entries:
        if name in UNUSED:
            continue
        if name not in ASSETS:
            raise ValueError(f"{owner} needs asset {name!r} ({url}) which is not served locally; add it to ASSETS")
        out.append((name, local_url(name)))
    return out


def localize(m: Element) -> Element:
    """Point every element of ``m`` (a map or a layer) at local assets, in place; returns ``m``."""

    def walk(element: Element) -> None:
        for attr in ("default_js", "default_css"):
            entries = getattr(element, attr, None)
            if entries:
                setattr(element, attr, _localized(list(entries), type(element).__name__))
        for child in getattr(element, "_children", {}).values():
            walk(child)

    walk(m)
    return m


def missing() -> list[Path]:
    """Asset files that setup has not yet copied (empty when the app can run offline)."""
    files = [STATIC_DIR / local for _, local in ASSETS.values()]
    return [f for f in files if not f.exists()]


def install() -> list[Path]:
    """Copy the pinned npm files into ``static/vendor`` (run by setup after ``npm ci``)."""
    copied = []
    for source, local in ASSETS.values():
        dest = STATIC_DIR / local
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE_MODULES / source, dest)
        copied.append(dest)
    for source, local in IMAGE_DIRS.items():
        shutil.copytree(NODE_MODULES / source, STATIC_DIR / local, dirs_exist_ok=True)
    return copied


if __name__ == "__main__":  # setup step: python -m layers.assets
    try:
        print(f"{len(install())} asset files copied to {STATIC_DIR}")
    except FileNotFoundError as exc:
        sys.exit(f"missing npm package file {exc.filename}: run 'npm ci' in vendor/ first")
