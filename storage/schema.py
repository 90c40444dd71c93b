"""Schema v1 of the Proximité store, as SQLAlchemy Core metadata.

This module is the *current* shape of the database, used by the repository
(`storage.store`) to validate names, order inserts and remap foreign keys.
The migrations in `storage/migrations/versions` are the frozen history that
actually creates the tables; a test checks the two never drift apart.

Points are plain `lon`/`lat` floats so SQLite and PostgreSQL take identical
inserts; on PostgreSQL the migration adds a generated, GIST-indexed PostGIS
`geom` column that is deliberately *not* declared here (it is read-only and
never selected by the repository).
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING_CONVENTION = {
    # Named constraints keep Alembic (and SQLite batch rebuilds) deterministic.
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

UNIT_ID = sa.String(40)
"""Administrative unit ids such as "GN-KA"; no FK because boundaries live in files."""


def _table(name: str, *items: sa.SchemaItem) -> sa.Table:
    """A table whose ids are never reused on SQLite either (PostgreSQL sequences never reuse)."""
    return sa.Table(name, metadata, *items, sqlite_autoincrement=True)


def _pk() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _record_columns() -> list[sa.Column]:
    """Bookkeeping shared by every record table: provenance (batch), demo flag, audit."""
    return [
        sa.Column("is_demo", sa.Boolean, nullable=False, default=False,
                  server_default=sa.false()),
        sa.Column("batch_id", sa.Integer,
                  sa.ForeignKey("import_batch.id", ondelete="CASCADE"), nullable=True,
                  index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("version", sa.Integer, nullable=False, default=1,
                  server_default=sa.text("1")),
    ]


def _units() -> list[sa.Column]:
    return [
        sa.Column("region_id", UNIT_ID),
        sa.Column("prefecture_id", UNIT_ID),
        sa.Column("subprefecture_id", UNIT_ID),
    ]


def _point() -> list[sa.SchemaItem]:
    """lon/lat columns plus range checks (WGS84)."""
    return [
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
    ]


def _nonneg(*cols: str) -> list[sa.CheckConstraint]:
    return [sa.CheckConstraint(f"{c} >= 0", name=f"{c}_nonneg") for c in cols]


def _in(col: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)  # literals from code, never user data
    return sa.CheckConstraint(f"{col} IN ({allowed})", name=f"{col}_allowed")


PRECISIONS = ("point", "subprefecture", "prefecture", "region")
CRASH_SEVERITIES = ("fatal", "serious", "slight")
COUNCIL_LEVELS = ("subprefecture", "neighbourhood")

import_batch = _table(
    "import_batch",
    _pk(),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("file_name", sa.String(255)),
    sa.Column("file_sha256", sa.String(64)),
    sa.Column("created_by", sa.String(120)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    sa.Column("n_rows", sa.Integer),
    sa.Column("n_imported", sa.Integer),
    sa.Column("n_queued", sa.Integer),
    sa.Column("undone_at", sa.DateTime(timezone=True)),
    sa.Column("is_demo", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    *_nonneg("n_rows", "n_imported", "n_queued"),
    sa.Column("mapping", sa.Text),
    sa.Column("file_format", sa.String(20)),
)

station = _table(
    "station",
    _pk(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    *_units(),
    *_point(),
    sa.Column("contact", sa.String(200)),
    *_record_columns(),
)

incident = _table(
    "incident",
    _pk(),
    sa.Column("source_id", sa.String(120), index=True),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("category", sa.String(60), nullable=False),
    sa.Column("sensitive", sa.Boolean, nullable=False, default=False,
              server_default=sa.false()),
    sa.Column("severity", sa.SmallInteger),
    sa.Column("description", sa.Text),
    sa.Column("place_name", sa.String(200)),
    *_point(),
    sa.Column("precision", sa.String(20), nullable=False, default="point",
              server_default="point"),
    sa.Column("region_id", UNIT_ID),
    sa.Column("prefecture_id", UNIT_ID, index=True),
    sa.Column("subprefecture_id", UNIT_ID, index=True),
    sa.Column("h3_r6", sa.BigInteger),
    sa.Column("h3_r7", sa.BigInteger),
    sa.Column("h3_r8", sa.BigInteger),  # no index: counts group a filtered set (0003_incident_storage)
    sa.Column("h3_r9", sa.BigInteger),
    *_record_columns(),
    sa.Column("source_row", sa.Integer),
    sa.Column("flags", sa.String(200)),
    sa.Column("geocode_score", sa.Float),
    sa.CheckConstraint("severity BETWEEN 1 AND 3", name="severity_range"),
    _in("precision", PRECISIONS),
)

road_crash = _table(
    "road_crash",
    _pk(),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("severity", sa.String(10), nullable=False),
    sa.Column("killed", sa.Integer, default=0, server_default=sa.text("0")),
    sa.Column("injured", sa.Integer, default=0, server_default=sa.text("0")),
    sa.Column("vehicles", sa.Integer),
    sa.Column("road_name", sa.String(200)),
    sa.Column("description", sa.Text),
    *_point(),
    *_units(),
    sa.Column("h3_r7", sa.BigInteger),
    sa.Column("h3_r8", sa.BigInteger, index=True),
    sa.Column("h3_r9", sa.BigInteger),
    *_record_columns(),
    _in("severity", CRASH_SEVERITIES),
    *_nonneg("killed", "injured", "vehicles"),
)

road = _table(
    "road",
    _pk(),
    sa.Column("name", sa.String(200)),
    sa.Column("ref", sa.String(60)),
    sa.Column("road_class", sa.String(60)),
    sa.Column("length_m", sa.Float, nullable=False),
    # One LineString in EPSG:4326 as WKB, so both backends take identical inserts; its bounding
    # box is kept beside it for extent queries on SQLite (PostGIS adds a generated, GIST-indexed geom).
    sa.Column("wkb", sa.LargeBinary, nullable=False),
    sa.Column("min_lon", sa.Float, nullable=False),
    sa.Column("min_lat", sa.Float, nullable=False),
    sa.Column("max_lon", sa.Float, nullable=False),
    sa.Column("max_lat", sa.Float, nullable=False),
    *_record_columns(),
    *_nonneg("length_m"),
    sa.CheckConstraint("min_lon <= max_lon AND min_lat <= max_lat", name="bbox_ordered"),
)
"""A road network imported as one batch (a line layer); ``road_class`` holds e.g. OSM's ``highway``."""

neighbourhood = _table(
    "neighbourhood",
    _pk(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("alt_names", sa.Text),  # other names, "|"-separated, searched by the gazetteer
    sa.Column("region_id", UNIT_ID, nullable=False),
    sa.Column("prefecture_id", UNIT_ID, nullable=False),
    sa.Column("subprefecture_id", UNIT_ID, nullable=False, index=True),
    sa.Column("area_km2", sa.Float, nullable=False),
    # Share of its land in its sub-prefecture, and of its area inside Guinea (under 0.8: flagged).
    sa.Column("overlap_share", sa.Float, nullable=False),
    sa.Column("inside_share", sa.Float, nullable=False),
    # Representative point inside the neighbourhood and its sub-prefecture (where the geocoder places names).
    sa.Column("label_lon", sa.Float, nullable=False),
    sa.Column("label_lat", sa.Float, nullable=False),
    sa.Column("flags", sa.String(200)),
    sa.Column("source_row", sa.Integer),
    # One Polygon or MultiPolygon in EPSG:4326 as WKB with its bounding box, as for roads.
    sa.Column("wkb", sa.LargeBinary, nullable=False),
    sa.Column("min_lon", sa.Float, nullable=False),
    sa.Column("min_lat", sa.Float, nullable=False),
    sa.Column("max_lon", sa.Float, nullable=False),
    sa.Column("max_lat", sa.Float, nullable=False),
    *_record_columns(),
    *_nonneg("area_km2"),
    sa.CheckConstraint("overlap_share BETWEEN 0 AND 1", name="overlap_share_range"),
    sa.CheckConstraint("inside_share BETWEEN 0 AND 1", name="inside_share_range"),
    sa.CheckConstraint("label_lon BETWEEN -180 AND 180 AND label_lat BETWEEN -90 AND 90", name="label_range"),
    sa.CheckConstraint("min_lon <= max_lon AND min_lat <= max_lat", name="bbox_ordered"),
)
"""Neighbourhoods (quartiers, districts) users imported or drew: units below their sub-prefecture."""

council = _table(
    "council",
    _pk(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("unit_level", sa.String(20), nullable=False),
    sa.Column("unit_id", sa.String(80), nullable=False),
    *_units(),
    sa.Column("established_on", sa.Date),
    sa.Column("chair_role", sa.String(60)),
    sa.Column("chair_name", sa.String(200)),
    sa.Column("members_total", sa.Integer),
    sa.Column("members_women", sa.Integer),
    sa.Column("members_youth", sa.Integer),
    sa.Column("plan_adopted_on", sa.Date),
    *_record_columns(),
    _in("unit_level", COUNCIL_LEVELS),
    *_nonneg("members_total", "members_women", "members_youth"),
    sa.CheckConstraint("members_women <= members_total", name="women_le_total"),
    sa.CheckConstraint("members_youth <= members_total", name="youth_le_total"),
)

council_meeting = _table(
    "council_meeting",
    _pk(),
    sa.Column("council_id", sa.Integer, sa.ForeignKey("council.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("held_on", sa.Date, nullable=False),
    sa.Column("attendance", sa.Integer),
    sa.Column("attendance_women", sa.Integer),
    sa.Column("topics", sa.Text),
    sa.Column("decisions", sa.Text),
    *_record_columns(),
    *_nonneg("attendance", "attendance_women"),
    sa.CheckConstraint("attendance_women <= attendance", name="women_le_total"),
)

school = _table(
    "school",
    _pk(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("level", sa.String(20)),
    *_units(),
    *_point(),
    sa.Column("enrolment", sa.Integer),
    *_record_columns(),
    *_nonneg("enrolment"),
)

outreach_officer = _table(
    "outreach_officer",
    _pk(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("station_id", sa.Integer, sa.ForeignKey("station.id"), index=True),
    *_record_columns(),
)

school_visit = _table(
    "school_visit",
    _pk(),
    sa.Column("school_id", sa.Integer, sa.ForeignKey("school.id"), nullable=False, index=True),
    sa.Column("officer_id", sa.Integer, sa.ForeignKey("outreach_officer.id"), nullable=False,
              index=True),
    sa.Column("visited_on", sa.Date, nullable=False),
    sa.Column("students_reached", sa.Integer, nullable=False),
    sa.Column("topics", sa.String(200)),
    *_record_columns(),
    *_nonneg("students_reached"),
)

women_visit_day = _table(
    "women_visit_day",
    _pk(),
    sa.Column("station_id", sa.Integer, sa.ForeignKey("station.id"), nullable=False,
              index=True),
    sa.Column("held_on", sa.Date, nullable=False),
    sa.Column("women_count", sa.Integer, nullable=False),
    sa.Column("topics", sa.String(200)),
    sa.Column("complaints_after", sa.Integer),
    *_record_columns(),
    *_nonneg("women_count", "complaints_after"),
)

instructor = _table(
    "instructor",
    _pk(),
    sa.Column("name", sa.String(200), nullable=False),
    *_record_columns(),
)

training = _table(
    "training",
    _pk(),
    sa.Column("community_name", sa.String(200)),
    *_units(),
    sa.Column("start_on", sa.Date, nullable=False),
    sa.Column("end_on", sa.Date, nullable=False),
    sa.Column("module", sa.String(60), nullable=False),
    sa.Column("officers_trained", sa.Integer, nullable=False),
    *_record_columns(),
    sa.CheckConstraint("end_on >= start_on", name="end_after_start"),
    *_nonneg("officers_trained"),
)

training_instructor = sa.Table(
    "training_instructor", metadata,
    sa.Column("training_id", sa.Integer, sa.ForeignKey("training.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("instructor_id", sa.Integer,
              sa.ForeignKey("instructor.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)

REVIEW_STATUSES = ("open", "resolved", "discarded")

review_item = sa.Table(
    "review_item",
    metadata,
    _pk(),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batch.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("source_row", sa.Integer),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, default="open", server_default="open", index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("resolved_by", sa.String(120)),
    sa.Column("version", sa.Integer, nullable=False, default=1, server_default=sa.text("1")),
    _in("status", REVIEW_STATUSES),
    sqlite_autoincrement=True,
)
"""Input rows an import could not take as they were: raw values (JSON) and reason codes (JSON)."""

column_mapping = sa.Table(
    "column_mapping",
    metadata,
    _pk(),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("mapping", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(120)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("kind", "name"),
    sqlite_autoincrement=True,
)
"""Column mappings users confirmed and saved by name, reusable for the next file of that kind."""

USER_ROLES = ("administrator", "planner", "commander", "council_member", "viewer")
SCOPE_LEVELS = ("region", "prefecture", "subprefecture", "neighbourhood")
AUDIT_ACTIONS = ("create", "update", "delete", "import", "undo", "login", "login_failed", "lockout", "export")

app_user = sa.Table(
    "app_user",
    metadata,
    _pk(),
    sa.Column("username", sa.String(120), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200)),
    # argon2id PHC string; NULL for an account that cannot log in with a password (e.g. single sign-on).
    sa.Column("password_hash", sa.String(255)),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True, server_default=sa.true()),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0, server_default=sa.text("0")),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("last_login_at", sa.DateTime(timezone=True)),
    sa.Column("version", sa.Integer, nullable=False, default=1, server_default=sa.text("1")),
    _in("role", USER_ROLES),
    *_nonneg("failed_logins"),
    sqlite_autoincrement=True,
)
"""Local accounts: one role each; ``user_scope`` says which units a scoped role covers."""

user_scope = sa.Table(
    "user_scope",
    metadata,
    _pk(),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
    sa.Column("level", sa.String(20), nullable=False),
    sa.Column("unit_id", sa.String(80), nullable=False),  # administrative unit id, or "NB-<id>" for a neighbourhood
    sa.UniqueConstraint("user_id", "level", "unit_id"),
    _in("level", SCOPE_LEVELS),
    sqlite_autoincrement=True,
)
"""Units a commander or council member covers (no row: national, for the roles that allow it)."""

audit_log = sa.Table(
    "audit_log",
    metadata,
    _pk(),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now(), index=True),
    sa.Column("username", sa.String(120), nullable=False, index=True),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("table_name", sa.String(60)),
    sa.Column("record_id", sa.Integer),
    # No foreign key: the history must outlive the batches it mentions (demo batches are deleted).
    sa.Column("batch_id", sa.Integer, index=True),
    sa.Column("before", sa.Text),  # JSON of the row before the change
    sa.Column("after", sa.Text),  # JSON of the row after it (or a batch's counts)
    sa.Column("detail", sa.Text),
    sa.Index("ix_audit_log_table_name_record_id", "table_name", "record_id"),
    _in("action", AUDIT_ACTIONS),
    sqlite_autoincrement=True,
)
"""Who did what and when: every write, import, undo, login and export; rows are only ever added."""

PLAN_LEVELS = ("subprefecture", "neighbourhood")
PLAN_STATUSES = ("draft", "adopted", "superseded")
ACTION_STATUSES = ("planned", "in_progress", "done", "delayed", "cancelled")
PRIORITY_KINDS = ("area", "line", "point")

security_plan = sa.Table(
    "security_plan",
    metadata,
    _pk(),
    # Every version of one plan shares ``series_id`` (the first version's id); ``version_no`` counts them.
    sa.Column("series_id", sa.Integer, index=True),
    sa.Column("version_no", sa.Integer, nullable=False, default=1, server_default=sa.text("1")),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("unit_level", sa.String(20), nullable=False),
    sa.Column("unit_id", sa.String(80), nullable=False),
    sa.Column("unit_name", sa.String(200), nullable=False),
    *_units(),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("status", sa.String(12), nullable=False, default="draft", server_default="draft"),
    sa.Column("notes", sa.Text),  # JSON: the diagnosis sections the council writes
    sa.Column("diagnosis", sa.Text),  # JSON: the figures frozen when the plan was adopted
    sa.Column("adopted_on", sa.Date),
    sa.Column("signatories", sa.Text),  # JSON list of {"name", "role"}
    sa.Column("created_by", sa.String(120)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("version", sa.Integer, nullable=False, default=1, server_default=sa.text("1")),
    sa.Column("is_demo", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.UniqueConstraint("series_id", "version_no"),
    sa.Index("ix_security_plan_unit_level_unit_id", "unit_level", "unit_id"),
    _in("unit_level", PLAN_LEVELS),
    _in("status", PLAN_STATUSES),
    sa.CheckConstraint("period_start <= period_end", name="period_ordered"),
    sa.CheckConstraint("version_no >= 1", name="version_no_positive"),
    sqlite_autoincrement=True,
)
"""Local security plans of a council: one row per version; an adopted version is never changed again."""

plan_priority = sa.Table(
    "plan_priority",
    metadata,
    _pk(),
    sa.Column("plan_id", sa.Integer, sa.ForeignKey("security_plan.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("origin_id", sa.Integer),  # the same priority in the previous version (versions are compared by it)
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("category", sa.String(60)),
    sa.Column("description", sa.Text),
    sa.Column("raised_by", sa.String(40)),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("source", sa.String(20)),  # drawn, hotspot, imported
    sa.Column("h3_cell", sa.String(20)),
    sa.Column("flags", sa.String(200)),
    # A Point, LineString or Polygon (or Multi-) in EPSG:4326 as WKB with its bounding box.
    sa.Column("wkb", sa.LargeBinary, nullable=False),
    sa.Column("min_lon", sa.Float, nullable=False),
    sa.Column("min_lat", sa.Float, nullable=False),
    sa.Column("max_lon", sa.Float, nullable=False),
    sa.Column("max_lat", sa.Float, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("version", sa.Integer, nullable=False, default=1, server_default=sa.text("1")),
    _in("kind", PRIORITY_KINDS),
    sa.CheckConstraint("rank >= 1", name="rank_positive"),
    sqlite_autoincrement=True,
)
"""What the council wants dealt with first, drawn on the map or picked from the hot spots."""

plan_action = sa.Table(
    "plan_action",
    metadata,
    _pk(),
    sa.Column("plan_id", sa.Integer, sa.ForeignKey("security_plan.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("priority_id", sa.Integer, sa.ForeignKey("plan_priority.id", ondelete="SET NULL"), index=True),
    sa.Column("origin_id", sa.Integer),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("responsible", sa.String(200), nullable=False),
    sa.Column("partners", sa.String(300)),
    sa.Column("start_on", sa.Date, nullable=False),
    sa.Column("end_on", sa.Date, nullable=False),
    sa.Column("budget_gnf", sa.Float),
    sa.Column("funding_source", sa.String(200)),
    sa.Column("indicator", sa.String(300)),
    sa.Column("baseline", sa.Float),
    sa.Column("target", sa.Float),
    sa.Column("status", sa.String(20), nullable=False, default="planned", server_default="planned"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("version", sa.Integer, nullable=False, default=1, server_default=sa.text("1")),
    _in("status", ACTION_STATUSES),
    *_nonneg("budget_gnf"),
    sa.CheckConstraint("start_on <= end_on", name="dates_ordered"),
    sqlite_autoincrement=True,
)
"""The action plan: who does what, when, with which money, measured how."""

plan_followup = sa.Table(
    "plan_followup",
    metadata,
    _pk(),
    sa.Column("plan_id", sa.Integer, sa.ForeignKey("security_plan.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("action_id", sa.Integer, sa.ForeignKey("plan_action.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("recorded_on", sa.Date, nullable=False),
    sa.Column("status", sa.String(20)),
    sa.Column("indicator_value", sa.Float),
    sa.Column("note", sa.Text),
    sa.Column("created_by", sa.String(120)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    _in("status", ACTION_STATUSES),
    sqlite_autoincrement=True,
)
"""Follow-up of an adopted plan: status and indicator value of an action on a date (only ever added)."""

PLAN_TABLES = ("security_plan", "plan_priority", "plan_action", "plan_followup")

SIDE_TABLES = ("review_item", "column_mapping", "app_user", "user_scope", "audit_log", *PLAN_TABLES)

POINT_TABLES: tuple[str, ...] = tuple(
    t.name for t in metadata.sorted_tables if {"lon", "lat"} <= set(t.c.keys())
)
"""Tables that get a generated PostGIS `geom` column on PostgreSQL."""

WRITABLE: tuple[str, ...] = tuple(
    t.name for t in metadata.sorted_tables if t.name not in ("import_batch", *SIDE_TABLES)
)
"""Every table `Store.write` accepts, in insert (FK dependency) order."""

TABLES: tuple[str, ...] = tuple(n for n in WRITABLE if n != "training_instructor")
"""Record tables (with is_demo/batch_id/...), in insert (FK dependency) order."""


def include_object(obj: object, name: str | None, type_: str, reflected: bool,
                   compare_to: object) -> bool:
    """Alembic filter hiding what this metadata deliberately does not model: PostGIS's
    own table and the generated geom columns/indexes the migrations add by raw SQL."""
    if type_ == "table" and name == "spatial_ref_sys":
        return False
    if type_ == "column" and name == "geom":
        return False
    return not (type_ == "index" and name is not None and name.endswith("_geom"))
