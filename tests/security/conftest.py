"""Running pages against a store of our own: the store the app opens, and pages run with AppTest."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from streamlit.testing.v1 import AppTest

from storage import Store, open_store
from storage.store import ENV_URL


@contextmanager
def app_store(path: Path) -> Iterator[Store]:
    """A fresh SQLite store that the app's ``get_store()`` opens while the block runs.

    Streamlit's caches are cleared on the way in and out, so neither this store nor another
    module's leaks into the other's pages.
    """
    from streamlit.runtime.caching import cache_data, cache_resource

    url = f"sqlite:///{path}"
    store = open_store(url)
    old = os.environ.get(ENV_URL)
    os.environ[ENV_URL] = url
    cache_resource.clear()
    cache_data.clear()
    try:
        yield store
    finally:
        store.dispose()
        cache_resource.clear()
        cache_data.clear()
        if old is None:
            os.environ.pop(ENV_URL, None)
        else:
            os.environ[ENV_URL] = old


def _page(module: str, lang: str, session: dict | None = None) -> None:
    """Script run by AppTest: one page of ``views`` in ``lang`` (self-contained: AppTest runs its source)."""
    import importlib

    import streamlit as st

    st.session_state["lang"] = lang
    for key, value in (session or {}).items():
        st.session_state.setdefault(key, value)
    importlib.import_module(module).render()


def page(module: str, lang: str = "fr", session: dict | None = None, timeout: float = 90) -> AppTest:
    """An AppTest of ``views.<module>`` (not yet run)."""
    return AppTest.from_function(_page, args=(f"views.{module}", lang, session), default_timeout=timeout)
