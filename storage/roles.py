"""Roles, scopes and who may read or write what: permissions are decided here, and only here.

The storage layer receives a :class:`Viewer` on every read and a user on every
write, so a hidden page is never the only protection. Five account roles:

========================  ==================  =====================================  ==========================
role                      sensitive points    may edit                               scope
========================  ==================  =====================================  ==========================
``administrator``         everywhere          everything, accounts, audit log        national
``planner``               never (counts)      everything                             national
``commander``             inside scope        incidents and road crashes in scope    prefectures (none: national)
``council_member``        never (counts)      records of their units                 sub-prefectures, neighbourhoods
``viewer``                never, no points    nothing                                national counts only
========================  ==================  =====================================  ==========================

Two more viewers exist without an account. ``Viewer()`` (no role) is the
restricted default every caller got before accounts existed: non-sensitive
points, suppressed counts, no writes. ``Viewer(role="system")`` is the local,
trusted writer (command line, tests, demo loader): a write method called without
a user acts as it, so existing callers keep working; the app always passes the
logged-in user.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from i18n import N_
from storage.schema import SCOPE_LEVELS, USER_ROLES, metadata

ADMINISTRATOR, PLANNER, COMMANDER, COUNCIL_MEMBER, VIEWER = USER_ROLES
#: Role of the local trusted writer; never stored in ``app_user``.
SYSTEM = "system"
ROLES: tuple[str, ...] = USER_ROLES
ROLE_LABELS: dict[str, str] = {
    ADMINISTRATOR: N_("Administrator"), PLANNER: N_("National planner"), COMMANDER: N_("Police commander"),
    COUNCIL_MEMBER: N_("Council member"), VIEWER: N_("Viewer (public figures only)"),
}
#: Default smallest count of sensitive incidents shown to users who may not see them individually.
SUPPRESSION_THRESHOLD = 5
#: Scope levels each role accepts; a council member needs at least one scope.
ROLE_SCOPE_LEVELS: dict[str, tuple[str, ...]] = {
    ADMINISTRATOR: (), PLANNER: (), COMMANDER: ("region", "prefecture", "subprefecture"),
    COUNCIL_MEMBER: ("subprefecture", "neighbourhood"), VIEWER: (),
}
SCOPE_REQUIRED = frozenset({COUNCIL_MEMBER})
_SEES_SENSITIVE = frozenset({ADMINISTRATOR, COMMANDER, SYSTEM})
_EDITS_EVERYWHERE = frozenset({ADMINISTRATOR, PLANNER, SYSTEM})
_WRITERS = _EDITS_EVERYWHERE | {COMMANDER, COUNCIL_MEMBER}
#: What a commander may write (within scope).
COMMANDER_TABLES = frozenset({"incident", "road_crash"})
#: Unit columns a row is placed by (``neighbourhood_id``: a neighbourhood's own unit id, "NB-<id>").
UNIT_COLUMNS = ("region_id", "prefecture_id", "subprefecture_id", "neighbourhood_id")
#: Child tables take the units of their parent record: table -> (foreign key column, parent table).
PARENTS: dict[str, tuple[str, str]] = {
    "council_meeting": ("council_id", "council"), "school_visit": ("school_id", "school"),
    "women_visit_day": ("station_id", "station"), "outreach_officer": ("station_id", "station"),
    "training_instructor": ("training_id", "training"),
    "plan_priority": ("plan_id", "security_plan"), "plan_action": ("plan_id", "security_plan"),
    "plan_followup": ("plan_id", "security_plan"),
}
#: Tables whose rows name their own unit (``unit_level``, ``unit_id``), a neighbourhood included.
UNIT_LEVEL_TABLES = frozenset({"council", "security_plan"})
NEIGHBOURHOOD_PREFIX = "NB-"  # geo.neighbourhoods.UNIT_PREFIX (kept here: reads stay free of geo imports)
MAX_UNIT_ID = 80

Scope = tuple[str, str]

#: Message ids for :class:`AccountError` codes (``{n}``: the password length limit), for callers to translate.
ACCOUNT_ERRORS: dict[str, str] = {
    "username_invalid": N_("The user name must have 2 to 120 characters: letters a-z, digits and . _ @ -, "
                           "starting with a letter or a digit."),
    "username_taken": N_("This user name is already taken."),
    "unknown_user": N_("No account has this user name."),
    "role_unknown": N_("Unknown role: choose administrator, planner, commander, council_member or viewer."),
    "scope_invalid": N_("A scope reads LEVEL:UNIT, e.g. prefecture:GN-KA (levels: region, prefecture, "
                        "subprefecture, neighbourhood)."),
    "scope_not_allowed": N_("This role takes no scope at that level (commander: region, prefecture or "
                            "subprefecture; council member: subprefecture or neighbourhood; other roles: none)."),
    "scope_required": N_("A council member needs at least one unit (a sub-prefecture or a neighbourhood)."),
    "password_too_short": N_("The password needs at least {n} characters."),
    "password_too_long": N_("The password may have at most {n} characters."),
    "password_is_username": N_("The password must not be the user name."),
    "last_administrator": N_("The last active administrator cannot be deactivated or given another role."),
    "sso_needs_email": N_("An account without a password signs in with single sign-on only: its user name must be "
                          "the person's e-mail address."),
}

#: Message ids for :class:`PermissionDenied` codes (``{n}``: rows outside the user's units).
PERMISSION_ERRORS: dict[str, str] = {
    "read_only": N_("Your role cannot change data."),
    "role_cannot_edit": N_("Your role cannot change these records."),
    "outside_scope": N_("Records outside your units ({n}): nothing was saved."),
    "admin_only": N_("Only an administrator can manage accounts and read the audit log."),
}


class AccountError(ValueError):
    """An account, role or scope that cannot be accepted; ``code`` says why (translated by callers)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class PermissionDenied(PermissionError):
    """A write (or admin action) the user's role or scope does not allow; nothing was written.

    ``code`` is one of ``read_only`` (the role writes nothing), ``role_cannot_edit`` (not this
    table), ``outside_scope`` (``n_outside`` rows lie outside the user's units) and
    ``admin_only`` (accounts, audit log).
    """

    def __init__(self, code: str, message: str, *, username: str, table: str | None = None,
                 n_outside: int = 0) -> None:
        self.code, self.username, self.table, self.n_outside = code, username, table, n_outside
        super().__init__(message)


def parse_scope(value: str | Sequence[str]) -> Scope:
    """``"prefecture:GN-KA"`` or ``("prefecture", "GN-KA")`` as a checked ``(level, unit_id)`` pair."""
    if isinstance(value, str):
        level, sep, unit = value.partition(":")
        if not sep:
            raise AccountError("scope_invalid", f"scope {value!r} must read LEVEL:UNIT, e.g. prefecture:GN-KA")
    else:
        if len(value) != 2:
            raise AccountError("scope_invalid", f"scope {value!r} must be a (level, unit_id) pair")
        level, unit = value
    level, unit = str(level).strip().lower(), str(unit).strip()
    if level not in SCOPE_LEVELS:
        raise AccountError("scope_invalid", f"unknown scope level {level!r}: expected {', '.join(SCOPE_LEVELS)}")
    if not unit or len(unit) > MAX_UNIT_ID:
        raise AccountError("scope_invalid", f"scope {value!r} needs a unit id of 1 to {MAX_UNIT_ID} characters")
    return level, unit


def normalize_scopes(scopes: Iterable[str | Sequence[str]]) -> tuple[Scope, ...]:
    """Checked, de-duplicated, sorted scopes (so equal sets compare equal)."""
    if isinstance(scopes, str):
        scopes = [scopes]
    return tuple(sorted({parse_scope(s) for s in scopes}))


def check_role(role: str, scopes: Iterable[str | Sequence[str]] = ()) -> tuple[Scope, ...]:
    """Validate an account role and its scopes; returns the normalised scopes."""
    if role not in ROLES:
        raise AccountError("role_unknown", f"unknown role {role!r}: expected {', '.join(ROLES)}")
    scopes = normalize_scopes(scopes)
    allowed = ROLE_SCOPE_LEVELS[role]
    wrong = sorted({level for level, _ in scopes} - set(allowed))
    if wrong:
        hint = f"only {', '.join(allowed)}" if allowed else "none"
        raise AccountError("scope_not_allowed", f"a {role} takes no scope at level {', '.join(wrong)} ({hint})")
    if role in SCOPE_REQUIRED and not scopes:
        raise AccountError("scope_required", f"a {role} needs at least one unit (--scope LEVEL:UNIT)")
    return scopes


def _unit_values(unit: object) -> dict[str, object]:
    """``None``, a ``(level, unit_id)`` pair or a mapping of levels (or ``<level>_id`` columns) to ids."""
    if unit is None:
        return {}
    if isinstance(unit, Mapping):
        return {str(k).removesuffix("_id"): v for k, v in unit.items()}
    if isinstance(unit, (tuple, list)) and len(unit) == 2:
        return {str(unit[0]): unit[1]}
    raise TypeError(f"unit must be None, a (level, unit_id) pair or a mapping of levels to ids, got {unit!r}")


@dataclass(frozen=True)
class Viewer:
    """Who is asking, and what follows from it (see the module docstring).

    ``can_see_sensitive`` defaults to what the role allows (``Viewer()``: no); it may be
    narrowed (``False`` for an administrator previewing the public view) but never
    widened beyond the role. Commanders with scopes see sensitive incidents only there.
    """

    name: str = "default"
    can_see_sensitive: bool | None = None
    suppression_threshold: int = SUPPRESSION_THRESHOLD
    role: str | None = None
    scopes: tuple[Scope, ...] = ()

    def __post_init__(self) -> None:
        if self.role is not None and self.role not in (*ROLES, SYSTEM):
            raise ValueError(f"unknown role {self.role!r}: expected {', '.join((*ROLES, SYSTEM))}")
        scopes = normalize_scopes(self.scopes)
        if scopes and self.role not in (COMMANDER, COUNCIL_MEMBER):
            raise ValueError(f"scopes only apply to commanders and council members, not to role {self.role!r}")
        object.__setattr__(self, "scopes", scopes)
        allowed = self.role in _SEES_SENSITIVE
        if self.can_see_sensitive is None:
            object.__setattr__(self, "can_see_sensitive", allowed)
        elif self.can_see_sensitive and self.role is not None and not allowed:
            raise ValueError(f"role {self.role!r} may not see sensitive incidents")
        else:
            object.__setattr__(self, "can_see_sensitive", bool(self.can_see_sensitive))
        if isinstance(self.suppression_threshold, bool) or int(self.suppression_threshold) < 1:
            raise ValueError(f"suppression_threshold must be a positive integer, got {self.suppression_threshold!r}")

    # -- reads ------------------------------------------------------------------------------

    @property
    def can_see_points(self) -> bool:
        """Individual (non-sensitive) incidents; the viewer role gets counts only."""
        return self.role != VIEWER

    @property
    def sees_sensitive_everywhere(self) -> bool:
        return bool(self.can_see_sensitive) and not (self.role == COMMANDER and self.scopes)

    @property
    def can_export(self) -> bool:
        """Download what the pages show (already cut to this viewer); not for the viewer role."""
        return self.role != VIEWER

    @property
    def can_admin(self) -> bool:
        """Manage accounts and read the audit log."""
        return self.role in (ADMINISTRATOR, SYSTEM)

    # -- writes -----------------------------------------------------------------------------

    @property
    def can_write(self) -> bool:
        """Whether the role writes anything at all (the default viewer and the viewer role do not)."""
        return self.role in _WRITERS

    @property
    def edits_everywhere(self) -> bool:
        """No scope limits this viewer's writes (administrator, planner, system, national commander)."""
        return self.role in _EDITS_EVERYWHERE or (self.role == COMMANDER and not self.scopes)

    def can_edit_table(self, table: str) -> bool:
        """The role may edit some rows of ``table`` (scope aside)."""
        if self.role in _EDITS_EVERYWHERE:
            return True
        if self.role == COMMANDER:
            return table in COMMANDER_TABLES
        return self.role == COUNCIL_MEMBER

    def covers(self, unit: object) -> bool:
        """Whether ``unit`` (see :func:`_unit_values`) lies within one of the scopes."""
        values = _unit_values(unit)
        return any(values.get(level) == uid for level, uid in self.scopes)

    def can_edit(self, table: str, unit: object = None) -> bool:
        """May this viewer write a row of ``table`` placed in ``unit`` (``None``: a national record)?

        ``unit`` is a ``(level, unit_id)`` pair or a mapping of every level the row belongs to,
        e.g. ``{"region": "GN-K", "prefecture": "GN-KA", "subprefecture": "GN-KA-KANKAN"}``:
        a pair only matches a scope of the same level.
        """
        if not self.can_edit_table(table):
            return False
        return self.edits_everywhere or self.covers(unit)

    def scope_mask(self, units: pd.DataFrame) -> np.ndarray:
        """Per row of a frame with :data:`UNIT_COLUMNS` (any subset), whether a scope covers it."""
        mask = np.zeros(len(units), dtype=bool)
        for level, uid in self.scopes:
            column = f"{level}_id"
            if column in units.columns:
                mask |= units[column].to_numpy(dtype=object) == uid
        return mask


def acting(user: Any = None, *, name: str | None = None) -> Viewer:
    """The :class:`Viewer` behind a write's ``user`` argument.

    ``None`` is the local system writer (named ``name``, e.g. the ``created_by`` a caller
    gave, else ``"system"``); a :class:`Viewer` is taken as is; anything with a
    ``viewer()`` method (a :class:`storage.users.User`) gives its viewer.
    """
    if user is None:
        return Viewer(name=name or SYSTEM, role=SYSTEM)
    if isinstance(user, Viewer):
        return user
    make = getattr(user, "viewer", None)
    if callable(make):
        return make()
    raise TypeError(f"user must be a User, a Viewer or None, got {type(user).__name__}")


# -- scope checks against stored rows and incoming frames ------------------------------------


def scope_where(viewer: Viewer, table: str | sa.Table) -> sa.ColumnElement[bool]:
    """SQL condition: a stored row of ``table`` lies inside one of the viewer's scopes.

    Child records (meetings, visits, women's days, officers, training links) are placed
    by their parent; tables without units (instructors, roads) are in no scope.
    """
    t = metadata.tables[table] if isinstance(table, str) else table
    if t.name in PARENTS:
        fk, parent = PARENTS[t.name]
        p = metadata.tables[parent]
        return t.c[fk].in_(sa.select(p.c.id).where(scope_where(viewer, p)))
    conds: list[sa.ColumnElement[bool]] = []
    for level, uid in viewer.scopes:
        if level != "neighbourhood" and f"{level}_id" in t.c:
            conds.append(t.c[f"{level}_id"] == uid)
        elif level == "neighbourhood" and "unit_level" in t.c:  # councils and plans of a neighbourhood
            conds.append(sa.and_(t.c.unit_level == "neighbourhood", t.c.unit_id == uid))
        elif level == "neighbourhood" and t.name == "neighbourhood":
            number = uid.removeprefix(NEIGHBOURHOOD_PREFIX)
            if uid.startswith(NEIGHBOURHOOD_PREFIX) and number.isdigit():
                conds.append(t.c.id == int(number))
    return sa.or_(*conds) if conds else sa.false()


def frame_units(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """:data:`UNIT_COLUMNS` of rows about to be written to a table that carries its own units."""
    n = len(frame)
    out = pd.DataFrame({c: frame[c].to_numpy(dtype=object) if c in frame.columns else np.full(n, None, dtype=object)
                        for c in UNIT_COLUMNS[:3]})
    hood = np.full(n, None, dtype=object)
    if table in UNIT_LEVEL_TABLES and {"unit_level", "unit_id"} <= set(frame.columns):
        own = frame["unit_level"].to_numpy(dtype=object) == "neighbourhood"
        hood[own] = frame["unit_id"].to_numpy(dtype=object)[own]
    out["neighbourhood_id"] = hood
    return out


def frame_in_scope(viewer: Viewer, table: str, frame: pd.DataFrame,
                   conn: sa.Connection | None = None) -> np.ndarray:
    """Per row of ``frame`` (about to be written to ``table``), whether the viewer's scopes cover it.

    Own-unit tables are checked in memory; child rows by their parent ids, in one query
    (``conn`` is needed then).
    """
    if table not in PARENTS:
        return viewer.scope_mask(frame_units(table, frame))
    fk, parent = PARENTS[table]
    if fk not in frame.columns or not len(frame):
        return np.zeros(len(frame), dtype=bool)
    ids = pd.to_numeric(frame[fk], errors="coerce").to_numpy(dtype=float)
    wanted = sorted({int(v) for v in ids[np.isfinite(ids)]})
    if conn is None:
        raise ValueError(f"checking {table} rows needs a connection (their units are their {parent}'s)")
    p = metadata.tables[parent]
    inside = set(conn.execute(sa.select(p.c.id).where(p.c.id.in_(wanted), scope_where(viewer, p))).scalars()) \
        if wanted else set()
    return np.isin(ids, np.array(sorted(inside), dtype=float))


def stored_outside(conn: sa.Connection, viewer: Viewer, table: str, where: Sequence[sa.ColumnElement[bool]]) -> int:
    """How many stored rows of ``table`` matching ``where`` lie outside the viewer's scopes (one query)."""
    t = metadata.tables[table]
    inside = sa.case((scope_where(viewer, t), 1), else_=0)  # NULL units count as outside, not unknown
    total, covered = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(inside), 0))
                                  .select_from(t).where(*where)).one()
    return int(total) - int(covered)


def require_admin(viewer: Viewer) -> None:
    if not viewer.can_admin:
        raise PermissionDenied("admin_only", f"{viewer.name} ({viewer.role}) may not manage accounts or the audit log",
                               username=viewer.name)


def require_write(viewer: Viewer, table: str, *, frame: pd.DataFrame | None = None,
                  stored: Sequence[sa.ColumnElement[bool]] | None = None, conn: sa.Connection | None = None) -> None:
    """Refuse (``PermissionDenied``) unless ``viewer`` may write every row concerned.

    ``frame`` holds rows about to be written, ``stored`` selects stored rows about to be
    changed or removed (both may be given, e.g. an edit). With neither, the write is a
    national one (a road network, the demo data) that only unscoped roles may make.
    """
    require_writer(viewer, table)
    if not viewer.can_edit_table(table):
        raise PermissionDenied("role_cannot_edit", f"a {viewer.role} may not change {table} records",
                               username=viewer.name, table=table)
    if viewer.edits_everywhere:
        return
    outside = 0
    if frame is None and stored is None:
        raise PermissionDenied("outside_scope", f"{viewer.name} may only change records of their units, and {table} "
                               "is a national record", username=viewer.name, table=table)
    if frame is not None:
        outside += int((~frame_in_scope(viewer, table, frame, conn)).sum())
    if stored is not None:
        if conn is None:
            raise ValueError("checking stored rows needs a connection")
        outside += stored_outside(conn, viewer, table, stored)
    if outside:
        raise PermissionDenied("outside_scope", f"{outside} {table} record(s) lie outside the units of {viewer.name} "
                               f"({', '.join(f'{lv}:{u}' for lv, u in viewer.scopes) or 'none'})",
                               username=viewer.name, table=table, n_outside=outside)


def require_writer(viewer: Viewer, table: str | None = None) -> None:
    """Refuse roles that write nothing (work on the review queue, whose rows carry no units yet)."""
    if not viewer.can_write:
        raise PermissionDenied("read_only", f"{viewer.name} ({viewer.role or 'default'}) may not change data",
                               username=viewer.name, table=table)


def require_write_rows(engine: sa.Engine, viewer: Viewer, table: str, frame: pd.DataFrame) -> None:
    """:func:`require_write` for rows about to be written, before the write's transaction opens.

    A connection is opened only when the rows' units are their parents' (child tables of a scoped user).
    """
    if table in PARENTS and viewer.can_write and viewer.can_edit_table(table) and not viewer.edits_everywhere:
        with engine.connect() as conn:
            require_write(viewer, table, frame=frame, conn=conn)
        return
    require_write(viewer, table, frame=frame)
