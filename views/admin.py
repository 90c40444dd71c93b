"""Administration page: accounts (create, change role and scopes, deactivate) and the audit log.

Only administrators reach it (menu and store both check): the store refuses these
reads and writes to anyone else.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from exchange.export import to_csv
from i18n import Translator
from storage.roles import ROLE_LABELS, ROLE_SCOPE_LEVELS, ROLES, AccountError
from views.auth import current_user
from views.common import account_error_text, current_viewer, flash, get_store, show_flashes, translator
from views.incident_filters import unit_label, unit_options


def _account_error(t: Translator, exc: AccountError) -> str:
    return account_error_text(t, exc)


def _users(t: Translator) -> None:
    store, viewer = get_store(), current_viewer()
    users = store.users(by=viewer)
    st.subheader(t("Accounts"))
    if len(users):
        shown = pd.DataFrame({
            t("User name"): users["username"],
            t("Full name"): users["display_name"].fillna("–"),
            t("Role"): [t(ROLE_LABELS.get(r, r)) for r in users["role"]],
            t("Units"): users["scopes"].map(lambda s: ", ".join(s) if isinstance(s, (list, tuple)) else (s or "–")),
            t("Active"): users["active"].map(lambda a: t("yes") if a else t("no")),
        })
        st.dataframe(shown, hide_index=True, width="stretch")
    options = unit_options()
    with st.form("admin_new_user", clear_on_submit=True):
        st.markdown(t("**New account**"))
        cols = st.columns(2)
        username = cols[0].text_input(t("User name"))
        display = cols[1].text_input(t("Full name"))
        role = cols[0].selectbox(t("Role"), ROLES, format_func=lambda r: t(ROLE_LABELS[r]))
        scopes = cols[1].multiselect(t("Units (commanders and council members)"), list(options),
                                     format_func=lambda k: unit_label(t, options, k),
                                     help=t("A commander without units is national; a council member needs at "
                                            "least one commune."))
        password = cols[0].text_input(t("Password (at least 10 characters)"), type="password")
        submitted = st.form_submit_button(t("Create the account"), type="primary")
    if submitted:
        allowed = ROLE_SCOPE_LEVELS.get(role, ())
        chosen = [k for k in scopes if k.split(":", 1)[0] in allowed]
        try:
            store.create_user(username, password, role, scopes=[tuple(k.split(":", 1)) for k in chosen],
                              display_name=display or None, by=viewer)
        except AccountError as exc:
            st.error(t("Account not created: {reason}", reason=_account_error(t, exc)))
        else:
            flash("success", t("Account {name} created.", name=username))
            st.rerun()
    active = users[users["active"]] if len(users) else users
    me = current_user()
    others = [u for u in active["username"] if me is None or u != me.username] if len(active) else []
    if others:
        cols = st.columns([3, 1])
        who = cols[0].selectbox(t("Deactivate an account"), others, key="admin_deactivate_who")
        if cols[1].button(t("Deactivate"), key="admin_deactivate"):
            try:
                store.deactivate(who, by=viewer)
            except AccountError as exc:
                st.error(_account_error(t, exc))
            else:
                flash("success", t("Account {name} deactivated.", name=who))
                st.rerun()


def _audit(t: Translator) -> None:
    st.subheader(t("Audit log"))
    cols = st.columns(3)
    period = cols[0].date_input(t("Period"), value=(date.today() - timedelta(days=30), date.today()),
                                key="audit_period", format="DD/MM/YYYY")
    username = cols[1].text_input(t("User name"), key="audit_user")
    action = cols[2].selectbox(t("Action"), [None, "create", "update", "delete", "import", "undo", "login",
                                             "login_failed", "lockout", "export"], key="audit_action",
                               format_func=lambda a: t("All") if a is None else a)
    start = end = None
    if isinstance(period, (list, tuple)) and len(period) == 2:
        start = datetime.combine(period[0], time.min, tzinfo=UTC)
        end = datetime.combine(period[1], time.min, tzinfo=UTC) + timedelta(days=1)
    log = get_store().audit_log(start=start, end=end, username=username.strip() or None, action=action,
                                limit=5000, viewer=current_viewer())
    st.caption(t("{n} entries (newest first, at most 5,000 shown).", n=t.n(len(log))))
    st.dataframe(log, hide_index=True, width="stretch")
    st.download_button(t("Audit log (CSV)"), to_csv(log), file_name="proximite-journal.csv", mime="text/csv",
                       key="audit_csv")


def render() -> None:
    t = translator()
    st.title(t("Administration"))
    show_flashes()
    if not current_viewer().can_admin:
        st.warning(t("This page is for administrators."))
        return
    _users(t)
    _audit(t)
