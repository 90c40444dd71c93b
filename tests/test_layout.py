"""Data flows one way: storage -> geo -> layers -> views. Imports must follow it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "geo": {"streamlit", "streamlit_folium", "folium", "branca", "layers", "views", "storage"},
    "layers": {"streamlit", "streamlit_folium", "views", "storage"},
    "storage": {"streamlit", "streamlit_folium", "folium", "layers", "views"},
    "demo": {"streamlit", "streamlit_folium", "folium", "layers", "views"},
    "i18n": {"streamlit", "folium", "geo", "layers", "views", "storage"},
    "exchange": {"streamlit", "streamlit_folium", "folium", "layers", "views"},
    "cli": {"streamlit", "streamlit_folium", "folium", "views"},
    "reports": {"streamlit", "streamlit_folium", "folium", "layers", "views", "storage"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_follow_the_layering(package):
    offenders = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = _imports(path) & FORBIDDEN[package]
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_no_legacy_pages_folder():
    assert not (ROOT / "pages").exists(), "a pages/ folder switches Streamlit to its legacy navigation"
