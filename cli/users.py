"""``proximite users …`` (accounts) and ``proximite audit export`` (the audit log as CSV).

The command line is the local administrator: whoever can run it can open the
database, so it acts as the trusted ``system`` writer, recorded in the audit
log as ``cli:<login>``. The first administrator is created here
(``proximite users create NAME --admin``). Passwords are prompted twice without
echo, or read from the first line of standard input with ``--password-stdin``
(for scripts); they never appear on the command line.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from i18n import LANGUAGES, N_, t_for

_LANG = os.environ.get("PROXIMITE_LANG", "fr")
t = t_for(_LANG if _LANG in LANGUAGES else "fr")

users_app = typer.Typer(help=t("User accounts: create, list, change role or password, deactivate."),
                        no_args_is_help=True)
audit_app = typer.Typer(help=t("The audit log of every change, import, login and export."), no_args_is_help=True)

_SCOPE_HELP = N_("Unit the account covers, LEVEL:UNIT (repeatable), e.g. prefecture:GN-KA or "
                 "subprefecture:GN-C-KALOUM; commanders without a scope are national.")


def _operator() -> Any:
    """The local system writer, named after the login running the command (for the audit log)."""
    from storage.roles import acting

    return acting(None, name=f"cli:{os.environ.get('USER') or os.environ.get('LOGNAME') or 'local'}")


def _store() -> Any:
    """The store named by ``PROXIMITE_DATABASE_URL`` (as every command), or exit 2 saying why not."""
    from storage import open_store

    try:
        return open_store()
    except Exception as exc:  # any driver or connection error: say which store and why
        raise _fail(t("Cannot open the database {url}: {error}", url=os.environ.get("PROXIMITE_DATABASE_URL", "-"),
                      error=exc)) from exc


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(2)


def _account_error(exc: Exception) -> typer.Exit:
    from storage.roles import ACCOUNT_ERRORS
    from storage.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

    code = getattr(exc, "code", "")
    limit = MIN_PASSWORD_LENGTH if code == "password_too_short" else MAX_PASSWORD_LENGTH
    text = t(ACCOUNT_ERRORS[code], n=limit) if code in ACCOUNT_ERRORS else str(exc)
    return _fail(t("Cannot change the account: {reason}", reason=text))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise _fail(t("No password on standard input."))
        return line.rstrip("\r\n")
    return typer.prompt(t("Password"), hide_input=True, confirmation_prompt=True)


def _check_units(scopes: list[str], store: Any) -> None:
    """Refuse unit ids that name no unit (a typo would give an account that covers nothing)."""
    from geo.boundaries import load_units
    from storage.roles import parse_scope

    known = None
    for value in scopes:
        level, unit = parse_scope(value)
        if level == "neighbourhood":
            ids = set(store.neighbourhood_places()["unit_id"])
        else:
            if known is None:
                known = load_units().drop(columns="geometry")
            ids = set(known.loc[known["level"] == level, "unit_id"])
        if unit not in ids:
            raise _fail(t("Unknown unit {unit} at level {level}.", unit=unit, level=level))


def _role_text(role: str) -> str:
    from storage.roles import ROLE_LABELS

    return t(ROLE_LABELS[role]) if role in ROLE_LABELS else role


@users_app.command("create", help=t("Create an account (the password is asked twice, or read with "
                                    "--password-stdin)."))
def create_command(
    username: Annotated[str, typer.Argument(help=t("User name (letters a-z, digits, . _ @ -)."))],
    role: Annotated[str | None, typer.Option(help=t("administrator, planner, commander, council_member or "
                                                    "viewer."))] = None,
    scope: Annotated[list[str] | None, typer.Option(help=t(_SCOPE_HELP))] = None,
    admin: Annotated[bool, typer.Option("--admin", help=t("Make the account an administrator."))] = False,
    display_name: Annotated[str | None, typer.Option(help=t("Name shown in the application."))] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help=t("Read the password from the first line of standard "
                                                        "input."))] = False,
    sso: Annotated[bool, typer.Option("--sso", help=t("No password: the person signs in with single sign-on "
                                                      "only (the user name must be their e-mail address)."))] = False,
) -> None:
    """``--admin`` is ``--role administrator``; the two together must agree.

    Single sign-on maps an identity to the account whose user name is its e-mail address, so
    any account named by an address can use it; ``--sso`` only leaves the password out.
    """
    from storage.roles import ADMINISTRATOR, AccountError, check_role
    from storage.users import looks_like_email, normalize_username

    if admin and role not in (None, ADMINISTRATOR):
        raise _fail(t("--admin and --role {role} contradict each other.", role=role))
    if sso and password_stdin:
        raise _fail(t("--sso and --password-stdin contradict each other: an account for single sign-on has no "
                      "password."))
    role = ADMINISTRATOR if admin else role
    if role is None:
        raise _fail(t("Give a role with --role (or --admin)."))
    scopes = list(scope or [])
    store = _store()
    try:
        check_role(role, scopes)  # before asking for a password
        _check_units(scopes, store)
        if sso and not looks_like_email(normalize_username(username)):
            raise AccountError("sso_needs_email", f"{username!r} is not an e-mail address")
        user = store.create_user(username, None if sso else _password(password_stdin), role, scopes=scopes,
                                 display_name=display_name, by=_operator())
    except AccountError as exc:
        raise _account_error(exc) from exc
    typer.echo(t("Account {username} created: {role}.", username=user.username, role=_role_text(user.role))
               + (" " + t("Units: {units}.", units=", ".join(f"{lv}:{u}" for lv, u in user.scopes))
                  if user.scopes else "")
               + (" " + t("Signs in with single sign-on only.") if sso else ""))


@users_app.command("list", help=t("List the accounts."))
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help=t("Print the list as JSON."))] = False,
) -> None:
    """One line per account: name, role, units, active, last login, lockout."""
    import pandas as pd

    frame = _store().users(by=_operator())
    if as_json:
        rows = [{"username": r.username, "display_name": r.display_name if pd.notna(r.display_name) else None,
                 "role": r.role,
                 "scopes": [s for s in r.scopes.split(", ") if s], "active": bool(r.active),
                 "last_login_at": r.last_login_at.isoformat() if pd.notna(r.last_login_at) else None,
                 "locked_until": r.locked_until.isoformat() if pd.notna(r.locked_until) else None}
                for r in frame.itertuples(index=False)]
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if frame.empty:
        typer.echo(t("No account yet: create the first administrator with “proximite users create NAME --admin”."))
        return
    now = pd.Timestamp(datetime.now(UTC))
    for r in frame.itertuples(index=False):
        state = t("active") if r.active else t("deactivated")
        if pd.notna(r.locked_until) and r.locked_until > now:
            state = t("locked until {time}", time=t.d(r.locked_until.to_pydatetime(), "short"))
        last = t.d(r.last_login_at.to_pydatetime(), "short") if pd.notna(r.last_login_at) else "–"
        typer.echo(f"{r.username:<24} {_role_text(r.role):<30} {r.scopes or '–':<30} {state:<24} "
                   + t("last login: {time}", time=last))


@users_app.command("set-role", help=t("Change an account's role (and its units with --scope)."))
def set_role_command(
    username: Annotated[str, typer.Argument(help=t("User name."))],
    role: Annotated[str, typer.Argument(help=t("administrator, planner, commander, council_member or viewer."))],
    scope: Annotated[list[str] | None, typer.Option(help=t(_SCOPE_HELP))] = None,
) -> None:
    """Without ``--scope`` the units the new role accepts are kept and the others dropped."""
    from storage.roles import AccountError

    store = _store()
    try:
        if scope:
            _check_units(list(scope), store)
        user = store.set_role(username, role, scopes=list(scope) if scope else None, by=_operator())
    except AccountError as exc:
        raise _account_error(exc) from exc
    typer.echo(t("Account {username}: {role}.", username=user.username, role=_role_text(user.role))
               + (" " + t("Units: {units}.", units=", ".join(f"{lv}:{u}" for lv, u in user.scopes))
                  if user.scopes else ""))


@users_app.command("set-password", help=t("Set a new password (also lifts a lockout)."))
def set_password_command(
    username: Annotated[str, typer.Argument(help=t("User name."))],
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help=t("Read the password from the first line of standard "
                                                        "input."))] = False,
) -> None:
    """The account must exist before the password is asked for."""
    from storage.roles import AccountError
    from storage.users import normalize_username

    store = _store()
    try:
        name = normalize_username(username)
        if name not in set(store.users(by=_operator())["username"]):
            raise AccountError("unknown_user", f"no account named {name!r}")
        store.set_password(name, _password(password_stdin), by=_operator())
    except AccountError as exc:
        raise _account_error(exc) from exc
    typer.echo(t("Password of {username} changed.", username=name))


@users_app.command("deactivate", help=t("Deactivate an account (kept in the audit log, can no longer log in)."))
def deactivate_command(username: Annotated[str, typer.Argument(help=t("User name."))]) -> None:
    from storage.roles import AccountError

    try:
        _store().deactivate(username, by=_operator())
    except AccountError as exc:
        raise _account_error(exc) from exc
    typer.echo(t("Account {username} deactivated.", username=username.strip().lower()))


@audit_app.command("export", help=t("Export the audit log to CSV (safe to open in a spreadsheet)."))
def audit_export_command(
    file: Annotated[Path, typer.Argument(help=t("CSV file to write."))],
    start: Annotated[str | None, typer.Option("--from", help=t("First day (YYYY-MM-DD)."))] = None,
    end: Annotated[str | None, typer.Option("--to", help=t("Last day (YYYY-MM-DD)."))] = None,
    user: Annotated[str | None, typer.Option("--user", help=t("Only this user's actions."))] = None,
) -> None:
    """Newest first; the export itself is logged."""
    from exchange.export import to_csv

    try:
        first = datetime.fromisoformat(start).replace(tzinfo=UTC) if start else None
        last = datetime.fromisoformat(end).replace(tzinfo=UTC) + timedelta(days=1) if end else None
    except ValueError as exc:
        raise _fail(t("Invalid option: {error}", error=exc)) from exc
    store = _store()
    operator = _operator()
    frame = store.audit_log(start=first, end=last, username=user.strip().lower() if user else None, viewer=operator)
    try:
        file.write_bytes(to_csv(frame))
    except OSError as exc:
        raise _fail(t("Cannot write {file}: {error}", file=file, error=exc.strerror or exc)) from exc
    store.record_audit("export", user=operator, table_name="audit_log",
                       detail=json.dumps({"file": file.name, "rows": len(frame), "from": start, "to": end,
                                          "user": user}, ensure_ascii=False))
    typer.echo(t("{rows} audit rows written to {file}.", rows=t.n(len(frame)), file=file))
