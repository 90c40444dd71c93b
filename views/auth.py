"""Who uses this session: login, logout, session expiry, and the viewer every read and write receives.

Three situations:

* logged in: the account's role and scopes (``User.viewer()``);
* no account exists yet and the browser is on this machine (a laptop used alone,
  offline): *local mode*, a planner who may record and export but, like everyone
  without an account, never sees sensitive incidents as points. Creating the first
  administrator (here or with ``proximite users create --admin``) ends local mode;
* otherwise anonymous: the viewer role, public figures only (counts, small counts
  of sensitive reports hidden, no export, no writing).

Authorization itself is enforced in ``storage`` (reads and writes take the viewer);
pages only follow it so that menus show what the role may use.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import streamlit as st

from i18n import Translator
from i18n.reasons import reason_text
from storage.roles import PLANNER, ROLE_LABELS, VIEWER, AccountError, Viewer
from storage.users import User
from views.common import flash, get_store, show_flashes, translator

#: A session ends after this much inactivity, and in any case after ``SESSION_MAX``.
SESSION_IDLE = timedelta(minutes=int(os.environ.get("PROXIMITE_SESSION_IDLE_MINUTES", "60")))
SESSION_MAX = timedelta(hours=int(os.environ.get("PROXIMITE_SESSION_HOURS", "12")))
LOCAL_ADDRESSES = {"127.0.0.1", "::1", "localhost"}

_USER, _SINCE, _SEEN = "auth_user", "auth_since", "auth_seen"
LOCAL = Viewer(name="local", role=PLANNER)
ANONYMOUS = Viewer(name="anonymous", role=VIEWER)


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
    """The logged-in account, or None; ends sessions idle or too old."""
    user = st.session_state.get(_USER)
    if user is None:
        return None
    now = datetime.now(UTC)
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


def logout() -> None:
    for key in (_USER, _SINCE, _SEEN):
        st.session_state.pop(key, None)


def sidebar(t: Translator) -> None:
    """Who is connected, and the logout button."""
    user = current_user()
    if user is not None:
        st.caption(t("Logged in: {name} ({role})", name=user.label, role=t(ROLE_LABELS[user.role])))
        if st.button(t("Log out"), key="auth_logout"):
            logout()
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
        text = reason_text(t, exc.code)
        st.error(t("Account not created: {reason}", reason=text if text != exc.code else str(exc)))
        return
    accounts_exist.clear()
    flash("success", t("Administrator created: log in with it."))
    st.rerun()
