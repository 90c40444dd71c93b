"""What every page shares: the translator, the store, cached reference data, the demo notice."""

from __future__ import annotations

import streamlit as st

from geo.gazetteer import Gazetteer
from geo.taxonomy import Taxonomy, default_taxonomy
from i18n import Translator, t_for
from storage import Store, open_store
from storage.queries import Viewer
from views import state


def translator() -> Translator:
    """The translator for this session's language."""
    return t_for(st.session_state.get(state.LANG, "fr"))


@st.cache_resource(show_spinner=False)
def get_store() -> Store:
    """One store (and connection pool) per process, from ``PROXIMITE_DATABASE_URL`` or the default file."""
    return open_store()


@st.cache_resource(show_spinner=False, ttl=600)
def gazetteer() -> Gazetteer:
    """Name index of the vendored units plus the stored neighbourhoods (read-only, shared between sessions;
    pages that add neighbourhoods clear it)."""
    return Gazetteer.default().with_places(get_store().neighbourhood_places())


@st.cache_resource(show_spinner=False)
def ensure_demo_loaded(_store: Store, store_url: str) -> bool:
    """Load the demo data on first start when the store is empty; once per process and store.

    ``store_url`` is the cache key (the store object itself is not hashable).
    Returns whether demo data was loaded now.
    """
    if not _store.is_empty():
        return False
    from demo.generate import generate
    from demo.plans import add_demo_plan

    _store.replace_demo(generate(), kind="demo", file_name="proximite demo")
    add_demo_plan(_store)
    return True


@st.cache_data(ttl=60, show_spinner=False)
def store_counts(store_url: str) -> dict[str, int]:
    """Rows per table (refreshed every minute)."""
    return get_store().counts()


@st.cache_data(ttl=60, show_spinner=False)
def has_demo(store_url: str) -> bool:
    """Whether any demo record is stored (drives the demo notice)."""
    return sum(get_store().counts(demo=True).values()) > 0


def current_viewer() -> Viewer:
    """Who uses this session, as reads and writes take it (see :mod:`views.auth`)."""
    from views.auth import current_viewer as session_viewer

    return session_viewer()


def account_error_text(t: Translator, exc: Exception) -> str:
    """An :class:`~storage.roles.AccountError` in the page's language (its code's message, limits filled in)."""
    from storage.roles import ACCOUNT_ERRORS
    from storage.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

    code = getattr(exc, "code", "")
    limit = MIN_PASSWORD_LENGTH if code == "password_too_short" else MAX_PASSWORD_LENGTH
    return t(ACCOUNT_ERRORS[code], n=limit) if code in ACCOUNT_ERRORS else str(exc)


def taxonomy() -> Taxonomy:
    return default_taxonomy()


def md_text(text: object) -> str:
    """Plain text safe inside Markdown (labels, captions): no markup, link or image from data."""
    special = "\\`*_[]()#!|<>~$"  # links, images, emphasis, HTML, tables, strike, LaTeX
    return "".join("\\" + c if c in special else c for c in str(text))


_FLASH = "flash_messages"


def flash(kind: str, text: str) -> None:
    """Keep a confirmation for the next run: a message written just before ``st.rerun()`` is lost."""
    st.session_state.setdefault(_FLASH, []).append((kind, text))


def show_flashes() -> None:
    """Show (once) the confirmations kept by :func:`flash`."""
    for kind, text in st.session_state.pop(_FLASH, []):
        getattr(st, kind)(text)


def demo_notice(t: Translator) -> None:
    """The demo-data warning shown wherever demo records appear."""
    if has_demo(get_store().url):
        st.warning(t("Demo data: these records are synthetic, generated for demonstration and training. "
                     "They describe no real event or person."), icon=":material/science:")
