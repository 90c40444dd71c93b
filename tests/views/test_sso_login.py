"""Single sign-on in the app (AppTest): a faked ``[auth]`` section and a faked ``st.user``, no provider.

``AppTest.secrets`` stands for ``.streamlit/secrets.toml`` and ``AppTest.user`` for the identity cookie
``st.login`` leaves behind; clicking the button itself would leave for the provider, so it is not clicked.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from i18n import t_for
from storage import Store
from tests.security.conftest import app_store

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Conakry-2026-mot-de-passe"
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "not-a-secret-" * 3,
        "google": {"client_id": "proximite-test", "client_secret": "not-a-secret",
                   "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration"}}


def identity(email: str, **more: object) -> dict:
    return {"is_logged_in": True, "email": email, "email_verified": True, "provider": "google",
            "sub": "1234567890", "iat": int(time.time()), **more}


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[Store]:
    """A store with accounts (so no local mode) and one incident (so no demo load)."""
    with app_store(tmp_path / "sso.db") as store:
        store.create_user("admin", PASSWORD, "administrator")
        store.create_user("chef.kankan@police.gn", None, "commander", scopes=["prefecture:GN-KA"])
        store.write({"instructor": pd.DataFrame({"name": ["Formateur"]})}, kind="test")
        yield store


def _login_page(lang: str) -> None:
    import streamlit as st

    from views import auth

    st.session_state["lang"] = lang
    auth.render_login()


def _app(lang: str) -> None:
    import streamlit as st

    import app

    st.session_state.setdefault("lang", lang)
    real = st.navigation

    def recording(pages, **kwargs):
        st.session_state["_menu"] = sorted(p.url_path for p in pages)
        return real(pages, **kwargs)

    st.navigation = recording
    try:
        app.main()
    finally:
        st.navigation = real


def _run(fn, *args, auth: dict | None = None, user: dict | None = None) -> AppTest:
    at = AppTest.from_function(fn, args=args, default_timeout=60)
    if auth is not None:
        at.secrets["auth"] = auth
    if user is not None:
        at.user = user
    return at.run()


def test_without_auth_nothing_changes(accounts: Store) -> None:
    at = _run(_login_page, "en")
    assert not at.exception, at.exception
    assert [b.label for b in at.button if "Sign in" in b.label] == []
    assert len(at.text_input) == 2  # user name and password, as before


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_configured_auth_adds_a_button_next_to_the_form(accounts: Store, lang: str) -> None:
    at = _run(_login_page, lang, auth=AUTH)
    assert not at.exception, at.exception
    label = t_for(lang)("Sign in with {provider}", provider="Google")
    assert [b.label for b in at.button].count(label) == 1
    assert len(at.text_input) == 2


def test_an_identity_with_an_account_gets_its_role_and_is_audited_once(accounts: Store) -> None:
    at = _run(_app, "en", auth=AUTH, user=identity("Chef.Kankan@police.gn"))
    assert not at.exception, at.exception
    assert "Logged in: chef.kankan@police.gn (Police commander)" in [c.value for c in at.sidebar.caption]
    menu = set(at.session_state["_menu"])
    assert {"points-chauds", "importer"} <= menu and not {"administration", "connexion"} & menu
    at.run()  # another run of the same session: no second login
    logins = accounts.audit_log(action="login")
    assert logins[["username", "detail"]].values.tolist() == [["chef.kankan@police.gn", "sso:google"]]
    # Logging out drops the identity too (st.logout), not only the session's account.
    at.sidebar.button(key="auth_logout").click().run()
    assert not at.exception, at.exception
    assert at.user.get("is_logged_in") is False
    assert "auth_user" not in at.session_state


def test_an_identity_without_an_account_sees_public_figures_and_is_told_why(accounts: Store) -> None:
    at = _run(_app, "en", auth=AUTH, user=identity("inconnu@police.gn"))
    assert not at.exception, at.exception
    assert "Signed in as inconnu@police.gn: no account here, public figures only." in [
        c.value for c in at.sidebar.caption]
    menu = set(at.session_state["_menu"])
    assert "connexion" in menu and not {"points-chauds", "importer", "activites", "administration"} & menu
    failed = accounts.audit_log(action="login_failed")
    assert failed[["username", "detail"]].values.tolist() == [["inconnu@police.gn", "sso:google no_account"]]
    page = _run(_login_page, "en", auth=AUTH, user=identity("inconnu@police.gn"))
    page.session_state["auth_sso"] = at.session_state["auth_sso"]
    page.run()
    assert any("Ask an administrator to create an account for inconnu@police.gn" in w.value for w in page.warning)


def test_an_identity_older_than_the_session_limit_is_logged_out(accounts: Store) -> None:
    at = _run(_app, "en", auth=AUTH, user=identity("chef.kankan@police.gn", iat=int(time.time()) - 13 * 3600))
    assert not at.exception, at.exception
    assert at.user.get("is_logged_in") is False
    assert accounts.audit_log(action="login").empty
