"""Who uses this session: login, logout, session expiry, and the viewer every read and write receives.

Three situations:

* logged in: the account's role and scopes (``User.viewer()``);
* no account exists yet and the browser is on this machine (a laptop used alone,
  offline): *local mode*, a planner who may record and export but, like everyone
  without an account, never sees sensitive incidents as points. Creating the first
  administrator (here or with ``proximite users create --admin``) ends local mode;
* otherwise anonymous: the viewer role, public figures only (counts, small counts
  of sensitive reports hidden, no export, no writing).

Optional single sign-on: when ``.streamlit/secrets.toml`` has an ``[auth]`` section
(Streamlit's OpenID Connect, ``st.login``), the login page also offers one button per
provider. The provider only says *who* signed in; the local account with that verified
e-mail address as user name says what they may do (``Store.login_sso``). An identity
without an account sees public figures only, like an anonymous visitor. Session limits
apply the same way, counted from the moment the provider issued the identity.

Authorization itself is enforced in ``storage`` (reads and writes take the viewer);
pages only follow it so that menus show what the role may use.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import streamlit as st

from i18n import N_, Translator
from storage.roles import PLANNER, ROLE_LABELS, VIEWER, AccountError, Viewer
from storage.users import User
from views.common import account_error_text, flash, get_store, show_flashes, translator

#: A session ends after this much inactivity, and in any case after ``SESSION_MAX``.
SESSION_IDLE = timedelta(minutes=int(os.environ.get("PROXIMITE_SESSION_IDLE_MINUTES", "60")))
SESSION_MAX = timedelta(hours=int(os.environ.get("PROXIMITE_SESSION_HOURS", "12")))
LOCAL_ADDRESSES = {"127.0.0.1", "::1", "localhost"}

_USER, _SINCE, _SEEN = "auth_user", "auth_since", "auth_seen"
#: The single-sign-on identity already mapped in this session: ``{"key", "email", "reason"}`` (audited once).
_SSO = "auth_sso"
LOCAL = Viewer(name="local", role=PLANNER)
ANONYMOUS = Viewer(name="anonymous", role=VIEWER)
#: Keys of Streamlit's ``[auth]`` section that hold a mapping but are not a provider.
_NOT_PROVIDERS = frozenset({"client_kwargs"})
#: What the page says when a signed-in identity opens no account (``storage.users.SSO_REFUSALS``).
SSO_MESSAGES: dict[str, str] = {
    "no_account": N_("You are signed in as {email}, but no account of Proximité has this address: you see public "
                     "figures only. Ask an administrator to create an account for {email}."),
    "inactive": N_("The account {email} is deactivated: you see public figures only. Ask an administrator to "
                   "reactivate it."),
    "email_not_verified": N_("Your identity provider has not confirmed the e-mail address {email}: you see public "
                             "figures only. Ask an administrator."),
    "no_email": N_("Your identity provider gave no e-mail address: you see public figures only. Ask an "
                   "administrator."),
}


@dataclass(frozen=True)
class SsoProvider:
    """One "Sign in with …" button: ``key`` for ``st.login`` (None: the unnamed default provider)."""

    key: str | None
    label: str


def _auth_section() -> Mapping[str, Any] | None:
    """Streamlit's ``[auth]`` secrets, or None (no secrets file, or no such section)."""
    try:
        if not st.secrets.load_if_toml_exists():
            return None
        section = st.secrets.get("auth")
    except (FileNotFoundError, OSError, ValueError):  # an unreadable secrets file: single sign-on stays off
        return None
    return section if isinstance(section, Mapping) else None


def sso_providers() -> list[SsoProvider]:
    """The identity providers ``[auth]`` configures, usable by ``st.login`` (empty: single sign-on is off).

    A named section (``[auth.google]``) gives its name to the button; the unnamed default
    provider is shown by the host of its ``server_metadata_url``.
    """
    section = _auth_section()
    if section is None or not section.get("redirect_uri") or not section.get("cookie_secret"):
        return []
    found = []
    if section.get("client_id"):
        host = urlparse(str(section.get("server_metadata_url") or "")).hostname
        found.append(SsoProvider(None, host or "OpenID Connect"))
    for name, value in section.items():
        if isinstance(value, Mapping) and name not in _NOT_PROVIDERS and value.get("client_id") and "_" not in name:
            found.append(SsoProvider(str(name), str(name).replace("-", " ").title()))
    return found


def sso_identity() -> dict[str, Any] | None:
    """The identity ``st.login`` established in this browser (``st.user``), or None."""
    if not sso_providers():
        return None
    try:
        info = st.user.to_dict()
    except Exception:  # no script context, or a host without st.user: nobody signed in
        return None
    return dict(info) if info.get("is_logged_in") else None


def _issued_at(identity: Mapping[str, Any], default: datetime) -> datetime:
    """When the provider issued the identity (``iat``), so a session cannot outlive SESSION_MAX by a reload."""
    value = identity.get("iat")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        try:
            return min(datetime.fromtimestamp(value, UTC), default)
        except (OverflowError, OSError, ValueError):
            return default
    return default


def _sso_key(identity: Mapping[str, Any]) -> tuple:
    return tuple(str(identity.get(k)) for k in ("provider", "iss", "sub", "email", "iat"))


def _sso_user(now: datetime) -> User | None:
    """Map a new single-sign-on identity to its account, once per session (the mapping is audited)."""
    identity = sso_identity()
    if identity is None:
        return None
    key = _sso_key(identity)
    done = st.session_state.get(_SSO)
    if done is not None and done.get("key") == key:
        return None  # mapped already in this session, without an account
    if now - _issued_at(identity, now) > SESSION_MAX:
        st.session_state.pop(_SSO, None)
        flash("info", translator()("Your session has expired: please log in again."))
        st.logout()  # the identity cookie would otherwise log the person in again at once
        return None
    user, reason = get_store().login_sso(identity)
    st.session_state[_SSO] = {"key": key, "email": str(identity.get("email") or ""), "reason": reason}
    if user is None:
        return None
    st.session_state.update({_USER: user, _SINCE: _issued_at(identity, now), _SEEN: now})
    return user


def sso_refusal() -> tuple[str, str] | None:
    """``(reason, email)`` when the signed-in identity opened no account in this session."""
    done = st.session_state.get(_SSO)
    if done is None or done.get("reason") is None or sso_identity() is None:
        return None
    return done["reason"], done["email"]


@st.cache_data(ttl=30, show_spinner=False)
def accounts_exist(store_url: str) -> bool:
    """Whether any account is stored (cached briefly: checked on every run)."""
    return len(get_store().users()) > 0


def _is_local_request() -> bool:
    try:
        address = st.context.ip_address
    except Exception:  # no request context (tests, bare mode): treat as this machine
        return True
    if not isinstance(address, str):  # no browser behind this run (Streamlit's test harness)
        return True
    return address in LOCAL_ADDRESSES


def current_user() -> User | None:
    """The logged-in account (by password or single sign-on), or None; ends sessions idle or too old."""
    user = st.session_state.get(_USER)
    now = datetime.now(UTC)
    if user is None:
        return _sso_user(now)
    if now - st.session_state.get(_SEEN, now) > SESSION_IDLE or now - st.session_state.get(_SINCE, now) > SESSION_MAX:
        logout()
        flash("info", translator()("Your session has expired: please log in again."))
        return None
    st.session_state[_SEEN] = now
    return user


def local_mode() -> bool:
    return not accounts_exist(get_store().url) and _is_local_request()


def current_viewer() -> Viewer:
    """The viewer reads and writes take for this session (see the module docstring)."""
    user = current_user()
    if user is not None:
        return user.viewer()
    return LOCAL if local_mode() else ANONYMOUS


def role_of_session() -> str:
    """The role menus follow: the account's, ``planner`` in local mode, ``viewer`` otherwise."""
    return current_viewer().role or VIEWER


def logout() -> bool:
    """Forget the session's account; with single sign-on also drop the identity (``st.logout``).

    Returns True when ``st.logout`` was called: it reloads the app in a new session, so the
    caller must not rerun.
    """
    for key in (_USER, _SINCE, _SEEN, _SSO):
        st.session_state.pop(key, None)
    if sso_identity() is not None:
        st.logout()
        return True
    return False


def sidebar(t: Translator) -> None:
    """Who is connected, and the logout button."""
    user = current_user()
    refused = sso_refusal() if user is None else None
    if user is not None or refused is not None:
        if user is not None:
            st.caption(t("Logged in: {name} ({role})", name=user.label, role=t(ROLE_LABELS[user.role])))
        else:
            st.caption(t("Signed in as {email}: no account here, public figures only.", email=refused[1] or "?"))
        if st.button(t("Log out"), key="auth_logout") and not logout():
            st.rerun()
    elif local_mode():
        st.caption(t("Local mode: no account exists yet. Create the first administrator to protect the data."))
    else:
        st.caption(t("Not logged in: public figures only."))


def render_login() -> None:
    """Login page; on this machine, before any account exists, the first administrator's form."""
    t = translator()
    st.title(t("Log in"))
    show_flashes()
    store = get_store()
    if current_user() is not None:
        st.success(t("You are logged in."))
        return
    if local_mode():
        _first_administrator(t)
        return
    refused = sso_refusal()
    if refused is not None:
        reason, email = refused
        st.warning(t(SSO_MESSAGES.get(reason, SSO_MESSAGES["no_account"]), email=email or "?"))
    _sso_buttons(t)
    with st.form("login"):
        username = st.text_input(t("User name"), key="login_user")
        password = st.text_input(t("Password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("Log in"), type="primary")
    if not submitted:
        return
    user = store.authenticate(username, password)
    if user is None:
        st.error(t("Wrong user name or password, or the account is locked after too many failures "
                   "(wait 15 minutes)."))
        return
    now = datetime.now(UTC)
    st.session_state.update({_USER: user, _SINCE: now, _SEEN: now})
    st.rerun()


def _sso_buttons(t: Translator) -> None:
    """One "Sign in with …" button per configured provider (nothing without ``[auth]``)."""
    providers = sso_providers()
    if not providers:
        return
    if importlib.util.find_spec("authlib") is None:
        st.warning(t("Single sign-on is configured, but the Authlib package it needs is not installed "
                     "(pip install -e \".[sso]\"): use your user name and password."))
        return
    for provider in providers:
        key = f"sso_login_{provider.key or 'default'}"
        if st.button(t("Sign in with {provider}", provider=provider.label), key=key, type="primary"):
            st.login(provider.key)  # None: the unnamed default provider
    st.caption(t("Or log in with a user name and password:"))


def _first_administrator(t: Translator) -> None:
    st.info(t("No account exists yet. Create the first administrator: from then on, everyone logs in and "
              "sees what their role allows."))
    with st.form("first_admin"):
        username = st.text_input(t("User name"), key="admin_user")
        display = st.text_input(t("Full name"), key="admin_display")
        password = st.text_input(t("Password (at least 10 characters)"), type="password", key="admin_password")
        again = st.text_input(t("Password again"), type="password", key="admin_password_again")
        submitted = st.form_submit_button(t("Create the administrator"), type="primary")
    if not submitted:
        return
    if password != again:
        st.error(t("The two passwords differ."))
        return
    accounts_exist.clear()
    if accounts_exist(get_store().url):  # someone was faster: log in instead
        st.rerun()
    try:  # as the local system: only possible while no account exists, from this machine
        get_store().create_user(username, password, "administrator", display_name=display or None)
    except AccountError as exc:
        st.error(t("Account not created: {reason}", reason=account_error_text(t, exc)))
        return
    accounts_exist.clear()
    flash("success", t("Administrator created: log in with it."))
    st.rerun()
