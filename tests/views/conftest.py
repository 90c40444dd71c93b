"""Shared by the page tests: a demo store the app loads on its first start, one per test module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_app_url(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a fresh SQLite store, named by ``PROXIMITE_DATABASE_URL`` while the module runs, that
    ``app.py`` filled with the demo data on its first run (Streamlit's caches cleared on the way in and out)."""
    from streamlit.runtime.caching import cache_data, cache_resource

    url = f"sqlite:///{tmp_path_factory.mktemp(request.module.__name__.rsplit('.', 1)[-1]) / 'app.db'}"
    old = os.environ.get("PROXIMITE_DATABASE_URL")
    os.environ["PROXIMITE_DATABASE_URL"] = url
    cache_resource.clear()
    cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    try:
        yield url
    finally:
        cache_resource.clear()
        cache_data.clear()
        if old is None:
            os.environ.pop("PROXIMITE_DATABASE_URL", None)
        else:
            os.environ["PROXIMITE_DATABASE_URL"] = old
