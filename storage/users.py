"""Local accounts: argon2id passwords, lockout after repeated failures, roles and scopes (mixed into ``Store``).

Passwords are hashed with argon2-cffi's ``PasswordHasher`` (argon2id); a hash made
with older parameters is replaced at the next successful login. A login for an
unknown, inactive or locked account still runs one full verification (against a
dummy hash when there is no account), so the answer takes about as long whatever
the reason, and the reason is written to the audit log, never shown. After
``max_failed_logins`` failures in a row an account is locked for
``lockout_duration``; the administrator's new password unlocks it.

Account changes need an administrator (``by``: the acting :class:`User` or
:class:`~storage.roles.Viewer`); ``by=None`` is the local command line, trusted
like any process that can open the database. Every change is in the audit log.

Single sign-on (OpenID Connect, ``st.login``) proves who someone is, never what
they may do: :meth:`UsersMixin.login_sso` maps the identity's verified e-mail
address to the local account of that user name, whose role and scopes apply. An
identity without an active account gets nothing beyond the public figures.
An account created without a password can only be reached that way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storage import audit
from storage.imports import StaleVersionError
from storage.roles import (
    ADMINISTRATOR,
    ROLE_SCOPE_LEVELS,
    SUPPRESSION_THRESHOLD,
    AccountError,
    PermissionDenied,
    Scope,
    Viewer,
    acting,
    check_role,
    require_admin,
)
from storage.schema import app_user, user_scope

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; a megabyte "password" would only cost us time
MAX_FAILED_LOGINS = 5
LOCKOUT_DURATION = timedelta(minutes=15)
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{1,119}")
_MAX_DISPLAY = app_user.c.display_name.type.length
#: Columns of :meth:`UsersMixin.users` (never the password hash).
USER_COLUMNS = ("id", "username", "display_name", "role", "scopes", "active", "failed_logins", "locked_until",
                "created_at", "last_login_at", "version")
_DUMMY_HASHES: dict[tuple, str] = {}
#: Why :meth:`UsersMixin.login_sso` gave no account (the page explains each one; the audit log keeps it).
SSO_REFUSALS = ("no_email", "email_not_verified", "no_account", "inactive")
_MAX_PROVIDER = 40


@dataclass(frozen=True)
class User:
    """A logged-in (or looked-up) active account; :meth:`viewer` is what reads and writes take."""

    id: int
    username: str
    display_name: str | None
    role: str
    scopes: tuple[Scope, ...] = ()

    @property
    def label(self) -> str:
        return self.display_name or self.username

    def viewer(self, *, suppression_threshold: int = SUPPRESSION_THRESHOLD) -> Viewer:
        return Viewer(name=self.username, role=self.role, scopes=self.scopes,
                      suppression_threshold=suppression_threshold)


def normalize_username(username: str) -> str:
    """Lower-case, trimmed user name of 2 to 120 letters, digits and ``. _ @ -``."""
    name = str(username).strip().lower()
    if not _USERNAME.fullmatch(name):
        raise AccountError("username_invalid", f"user name {username!r} must be 2 to 120 characters: letters a-z, "
                                               "digits and . _ @ - (starting with a letter or digit)")
    return name


def check_password(password: str, username: str) -> None:
    """The password policy: at least 10 characters, at most 1024, not the user name."""
    if not isinstance(password, str):
        raise TypeError("password must be a string")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password_too_short", f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError("password_too_long", f"the password may have at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip().casefold() == str(username).strip().casefold():
        raise AccountError("password_is_username", "the password must not be the user name")


def looks_like_email(name: str) -> bool:
    """One ``@`` with something on each side and a dot in the domain: enough to tell an address from a login."""
    local, at, domain = name.partition("@")
    return bool(at and local and "." in domain.strip(".") and "@" not in domain)


def sso_email(identity: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The user name an OpenID Connect identity (``st.user``) may open, or None and why not.

    Only the ``email`` claim counts, and only when the provider says it checked it
    (``email_verified``): a provider that lets people type any address would otherwise
    let them pick an account. The address is lower-cased like a user name; one that
    cannot be a user name (e.g. with ``+``) matches no account.
    """
    email = identity.get("email")
    if not isinstance(email, str) or not looks_like_email(email.strip().lower()):
        return None, "no_email"  # a login name such as "admin" would otherwise open that local account
    verified = identity.get("email_verified")
    if verified is not True and str(verified).strip().lower() != "true":  # some providers send the string
        return None, "email_not_verified"
    try:
        return normalize_username(email), None
    except AccountError:
        return None, "no_account"


def _provider_name(identity: Mapping[str, Any], provider: str | None) -> str:
    name = provider or identity.get("provider") or "default"
    return re.sub(r"[^A-Za-z0-9.-]", "", str(name))[:_MAX_PROVIDER] or "default"


def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives naive UTC datetimes back; PostgreSQL aware ones."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len, hasher.salt_len, hasher.type)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash("not a password: timing equaliser for unknown accounts")
    return _DUMMY_HASHES[key]


def _scope_text(scopes: Iterable[Scope]) -> list[str]:
    return [f"{level}:{unit}" for level, unit in scopes]


class UsersMixin(audit.AuditMixin):
    """Account methods (and, through :class:`~storage.audit.AuditMixin`, the audit log); expects ``self.engine``."""

    engine: sa.Engine
    #: Hasher for new passwords; a stored hash made with other parameters is rehashed at login.
    password_hasher: PasswordHasher = PasswordHasher()
    max_failed_logins: int = MAX_FAILED_LOGINS
    lockout_duration: timedelta = LOCKOUT_DURATION

    # -- accounts ---------------------------------------------------------------------------

    def create_user(self, username: str, password: str | None, role: str, *,
                    scopes: Iterable[str | Sequence[str]] = (), display_name: str | None = None,
                    by: Any = None) -> User:
        """Create an active account; ``scopes`` as ``"level:unit"`` strings or pairs. Returns the new user.

        ``password=None`` makes a single-sign-on account: no password can open it, so its
        user name must be the e-mail address the identity provider vouches for.
        Raises :class:`~storage.roles.AccountError` (``username_invalid``, ``username_taken``,
        ``role_unknown``, ``scope_*``, ``password_*``, ``sso_needs_email``) and
        ``PermissionDenied`` when ``by`` is not an administrator.
        """
        actor = acting(by)
        require_admin(actor)
        name = normalize_username(username)
        checked = check_role(role, scopes)
        if password is None:
            if not looks_like_email(name):
                raise AccountError("sso_needs_email", f"an account without a password needs an e-mail address as "
                                                      f"user name, not {name!r}")
        else:
            check_password(password, name)
        display = (" ".join(str(display_name).split())[:_MAX_DISPLAY] or None) if display_name is not None else None
        hashed = None if password is None else self.password_hasher.hash(password)
        try:
            with self.engine.begin() as conn:
                if conn.execute(sa.select(app_user.c.id).where(app_user.c.username == name)).first() is not None:
                    raise AccountError("username_taken", f"the user name {name!r} is already taken")
                user_id = int(conn.execute(app_user.insert().returning(app_user.c.id),
                                           {"username": name, "display_name": display, "password_hash": hashed,
                                            "role": role, "active": True, "failed_logins": 0}).scalar_one())
                _write_scopes(conn, user_id, checked)
                audit.record(conn, "create", username=actor.name, table_name="app_user", record_id=user_id,
                             after=_public(conn, user_id))
        except sa.exc.IntegrityError as exc:  # two admins creating the same name at once
            raise AccountError("username_taken", f"the user name {name!r} is already taken") from exc
        return User(user_id, name, display, role, checked)

    def get_user(self, username: str) -> User | None:
        """The active account of that name (e.g. to restore a session), or None."""
        try:
            name = normalize_username(username)
        except AccountError:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(app_user).where(app_user.c.username == name)).mappings().first()
            if row is None or not row["active"]:
                return None
            return _user(row, _read_scopes(conn, row["id"]))

    def users(self, *, by: Any = None) -> pd.DataFrame:
        """Every account (active or not) with its scopes as ``"level:unit"`` text; never the hashes."""
        require_admin(acting(by))
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(app_user).order_by(app_user.c.username)).mappings().all()
            scopes = conn.execute(sa.select(user_scope.c.user_id, user_scope.c.level, user_scope.c.unit_id)
                                  .order_by(user_scope.c.level, user_scope.c.unit_id)).all()
        listed: dict[int, list[str]] = {}
        for user_id, level, unit in scopes:
            listed.setdefault(user_id, []).append(f"{level}:{unit}")
        frame = pd.DataFrame([{**{k: row[k] for k in USER_COLUMNS if k != "scopes"},
                               "scopes": ", ".join(listed.get(row["id"], []))} for row in rows],
                             columns=list(USER_COLUMNS))
        for name in ("locked_until", "created_at", "last_login_at"):
            frame[name] = pd.to_datetime(frame[name], utc=True).astype("datetime64[us, UTC]")
        return frame.astype({"id": "int64", "active": "bool", "failed_logins": "int64", "version": "int64"})

    def set_role(self, username: str, role: str, *, scopes: Iterable[str | Sequence[str]] | None = None,
                 by: Any = None, version: int | None = None) -> User:
        """Change an account's role (and scopes: ``None`` keeps those the new role accepts, drops the others)."""
        def change(conn: sa.Connection, row: Any, current: tuple[Scope, ...]) -> tuple[dict, tuple[Scope, ...]]:
            kept = current if scopes is None else scopes
            if scopes is None:
                kept = tuple(s for s in current if s[0] in ROLE_SCOPE_LEVELS.get(role, ()))
            checked = check_role(role, kept)
            if row["role"] == ADMINISTRATOR and role != ADMINISTRATOR:
                _keep_an_administrator(conn, row["id"])
            return {"role": role}, checked

        return self._change_user(username, change, by=by, version=version)

    def set_scopes(self, username: str, scopes: Iterable[str | Sequence[str]], *, by: Any = None,
                   version: int | None = None) -> User:
        """Replace the units a commander or council member covers."""
        return self._change_user(username, lambda conn, row, current: ({}, check_role(row["role"], scopes)),
                                 by=by, version=version)

    def set_password(self, username: str, password: str, *, by: Any = None) -> None:
        """Set a new password (an administrator, or the user themself); also lifts a lockout."""
        actor = acting(by)
        name = normalize_username(username)
        if actor.name != name or actor.role is None:
            require_admin(actor)
        check_password(password, name)
        hashed = self.password_hasher.hash(password)

        def change(conn: sa.Connection, row: Any, current: tuple[Scope, ...]) -> tuple[dict, tuple[Scope, ...]]:
            return {"password_hash": hashed, "failed_logins": 0, "locked_until": None}, current

        self._change_user(name, change, by=None, actor=actor, detail="password_changed")

    def deactivate(self, username: str, *, by: Any = None) -> None:
        """Disable an account (kept for the audit trail; it can no longer log in). The last administrator stays."""
        def change(conn: sa.Connection, row: Any, current: tuple[Scope, ...]) -> tuple[dict, tuple[Scope, ...]]:
            if row["role"] == ADMINISTRATOR and row["active"]:
                _keep_an_administrator(conn, row["id"])
            return {"active": False}, current

        self._change_user(username, change, by=by, detail="deactivated")

    def activate(self, username: str, *, by: Any = None) -> None:
        """Re-enable a deactivated account (failure count reset)."""
        self._change_user(username, lambda conn, row, current: ({"active": True, "failed_logins": 0,
                                                                 "locked_until": None}, current),
                          by=by, detail="activated")

    def _change_user(self, username: str, change: Any, *, by: Any, version: int | None = None,
                     actor: Viewer | None = None, detail: str | None = None) -> User:
        """Apply ``change(conn, row, scopes) -> (values, scopes)`` under optimistic locking, audited."""
        if actor is None:
            actor = acting(by)
            require_admin(actor)
        name = normalize_username(username)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(app_user).where(app_user.c.username == name)).mappings().first()
            if row is None:
                raise AccountError("unknown_user", f"no account named {name!r}")
            if version is not None and row["version"] != version:
                raise StaleVersionError(f"account {name} changed since version {version}")
            current = _read_scopes(conn, row["id"])
            before = _public(conn, row["id"])
            values, scopes = change(conn, row, current)
            done = conn.execute(app_user.update().where(app_user.c.id == row["id"],
                                                        app_user.c.version == row["version"])
                                .values(**values, version=row["version"] + 1))
            if done.rowcount != 1:
                raise StaleVersionError(f"account {name} changed since version {row['version']}")
            if scopes != current:
                conn.execute(sa.delete(user_scope).where(user_scope.c.user_id == row["id"]))
                _write_scopes(conn, row["id"], scopes)
            audit.record(conn, "update", username=actor.name, table_name="app_user", record_id=row["id"],
                         before=before, after=_public(conn, row["id"]), detail=detail)
            return _user(conn.execute(sa.select(app_user).where(app_user.c.id == row["id"])).mappings().one(), scopes)

    # -- login ------------------------------------------------------------------------------

    def authenticate(self, username: str, password: str, *, now: datetime | None = None) -> User | None:
        """The user when ``password`` is right and the account active and not locked; else None.

        Every attempt is audited (``login``, ``login_failed`` with the reason, ``lockout``).
        ``now`` (aware) replaces the clock, for tests.
        """
        now = _aware(now) or datetime.now(UTC)
        hasher = self.password_hasher
        try:
            name = normalize_username(username)
        except AccountError:
            name = None
        row = None
        if name is not None:
            with self.engine.connect() as conn:
                row = conn.execute(sa.select(app_user).where(app_user.c.username == name)).mappings().first()
        stored = row["password_hash"] if row is not None else None
        good = _verify(hasher, stored or _dummy_hash(hasher), password if isinstance(password, str) else "")
        good = good and stored is not None
        attempted = name or str(username).strip()[:120] or "?"
        if row is None or not row["active"] or stored is None:
            reason = "unknown_user" if row is None else ("inactive" if not row["active"] else "no_password")
            with self.engine.begin() as conn:
                audit.record(conn, "login_failed", username=attempted, table_name="app_user",
                             record_id=None if row is None else row["id"], detail=reason, at=now)
            return None
        locked_until = _aware(row["locked_until"])
        with self.engine.begin() as conn:
            if locked_until is not None and locked_until > now:
                audit.record(conn, "login_failed", username=name, table_name="app_user", record_id=row["id"],
                             detail="locked", at=now)
                return None
            if not good:
                failures = int(conn.execute(app_user.update().where(app_user.c.id == row["id"])
                                            .values(failed_logins=app_user.c.failed_logins + 1)
                                            .returning(app_user.c.failed_logins)).scalar_one())
                audit.record(conn, "login_failed", username=name, table_name="app_user", record_id=row["id"],
                             detail="bad_password", at=now)
                if failures >= self.max_failed_logins:
                    until = now + self.lockout_duration
                    conn.execute(app_user.update().where(app_user.c.id == row["id"])
                                 .values(failed_logins=0, locked_until=until))
                    audit.record(conn, "lockout", username=name, table_name="app_user", record_id=row["id"],
                                 detail=f"locked until {until.isoformat()} after {failures} failed logins", at=now)
                return None
            values: dict[str, Any] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
            if hasher.check_needs_rehash(stored):
                values["password_hash"] = hasher.hash(password)
            conn.execute(app_user.update().where(app_user.c.id == row["id"]).values(**values))
            audit.record(conn, "login", username=name, table_name="app_user", record_id=row["id"],
                         detail="rehashed" if "password_hash" in values else None, at=now)
            return _user(row, _read_scopes(conn, row["id"]))

    def login_sso(self, identity: Mapping[str, Any], *, provider: str | None = None,
                  now: datetime | None = None) -> tuple[User | None, str | None]:
        """The active account an OpenID Connect identity maps to, or ``(None, reason)``.

        ``identity`` is what ``st.user`` holds after ``st.login`` (``email``,
        ``email_verified``, ``provider``...). The account's role and scopes apply; without
        one (``reason`` in :data:`SSO_REFUSALS`) the caller must fall back to the viewer
        role. Audited like a password login: ``login`` with ``detail`` ``sso:<provider>``,
        ``login_failed`` with the reason otherwise. A password lockout does not block it
        (the lockout stops password guessing; the provider did the authentication).
        """
        now = _aware(now) or datetime.now(UTC)
        via = f"sso:{_provider_name(identity, provider)}"
        name, reason = sso_email(identity)
        row = None
        if name is not None:
            with self.engine.connect() as conn:
                row = conn.execute(sa.select(app_user).where(app_user.c.username == name)).mappings().first()
            if row is None:
                reason = "no_account"
            elif not row["active"]:
                reason = "inactive"
        attempted = name or str(identity.get("email") or "?").strip()[:120] or "?"
        with self.engine.begin() as conn:
            if reason is not None:
                audit.record(conn, "login_failed", username=attempted, table_name="app_user",
                             record_id=None if row is None else row["id"], detail=f"{via} {reason}", at=now)
                return None, reason
            conn.execute(app_user.update().where(app_user.c.id == row["id"]).values(last_login_at=now))
            audit.record(conn, "login", username=name, table_name="app_user", record_id=row["id"], detail=via, at=now)
            return _user(row, _read_scopes(conn, row["id"])), None


# -- helpers ------------------------------------------------------------------------------------


def _verify(hasher: PasswordHasher, hashed: str, password: str) -> bool:
    try:
        return bool(hasher.verify(hashed, password))
    except (VerificationError, InvalidHashError):
        return False


def _user(row: Any, scopes: tuple[Scope, ...]) -> User:
    return User(int(row["id"]), row["username"], row["display_name"], row["role"], scopes)


def _read_scopes(conn: sa.Connection, user_id: int) -> tuple[Scope, ...]:
    rows = conn.execute(sa.select(user_scope.c.level, user_scope.c.unit_id)
                        .where(user_scope.c.user_id == user_id)).all()
    return tuple(sorted((level, unit) for level, unit in rows))


def _write_scopes(conn: sa.Connection, user_id: int, scopes: tuple[Scope, ...]) -> None:
    if scopes:
        conn.execute(user_scope.insert(), [{"user_id": user_id, "level": level, "unit_id": unit}
                                           for level, unit in scopes])


def _public(conn: sa.Connection, user_id: int) -> dict[str, Any]:
    """The account as the audit log keeps it: every column but the hash, plus its scopes."""
    row = conn.execute(sa.select(app_user).where(app_user.c.id == user_id)).mappings().one()
    out = {k: v for k, v in row.items() if k != "password_hash"}
    out["scopes"] = _scope_text(_read_scopes(conn, user_id))
    return out


def _keep_an_administrator(conn: sa.Connection, user_id: int) -> None:
    others = conn.execute(sa.select(sa.func.count()).select_from(app_user)
                          .where(app_user.c.role == ADMINISTRATOR, app_user.c.active.is_(sa.true()),
                                 app_user.c.id != user_id)).scalar_one()
    if not others:
        raise AccountError("last_administrator", "the last active administrator cannot be removed or demoted")


__all__ = ["LOCKOUT_DURATION", "MAX_FAILED_LOGINS", "MIN_PASSWORD_LENGTH", "SSO_REFUSALS", "AccountError",
           "PermissionDenied", "User", "UsersMixin", "check_password", "looks_like_email", "normalize_username",
           "sso_email"]
