"""Schema v1: record tables, import batches and (on PostgreSQL) PostGIS geometry.

Revision ID: 0001_initial
Revises:
Create Date: 2025-11-24

Frozen on purpose: this file must keep creating exactly schema v1 even after
`storage/schema.py` moves on, so it does not import the live metadata.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

POINT_TABLES = ("station", "incident", "road_crash", "school")
# Creation order; downgrade drops in reverse.
ALL_TABLES = (
    "import_batch", "station", "incident", "road_crash", "council", "council_meeting",
    "school", "outreach_officer", "school_visit", "women_visit_day", "instructor",
    "training", "training_instructor",
)
UNIT = sa.String(40)


def _pk(t: str) -> list[sa.SchemaItem]:
    return [sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}"))]


def _fk(t: str, col: str, ref: str, **kw: object) -> sa.ForeignKey:
    """Explicitly named FK: names are part of the frozen schema (see schema.NAMING_CONVENTION)."""
    return sa.ForeignKey(f"{ref}.id", name=op.f(f"fk_{t}_{col}_{ref}"), **kw)


def _check(t: str, sql: str, name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(sql, name=op.f(f"ck_{t}_{name}"))


def _record(t: str) -> list[sa.Column]:
    return [
        sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("batch_id", sa.Integer,
                  _fk(t, "batch_id", "import_batch", ondelete="CASCADE"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    ]


def _units() -> list[sa.Column]:
    return [sa.Column("region_id", UNIT), sa.Column("prefecture_id", UNIT),
            sa.Column("subprefecture_id", UNIT)]


def _point(t: str) -> list[sa.SchemaItem]:
    return [
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        _check(t, "lon BETWEEN -180 AND 180", "lon_range"),
        _check(t, "lat BETWEEN -90 AND 90", "lat_range"),
    ]


def _nonneg(t: str, *cols: str) -> list[sa.CheckConstraint]:
    return [_check(t, f"{c} >= 0", f"{c}_nonneg") for c in cols]


def _create(name: str, *items: sa.SchemaItem, indexes: tuple[str, ...] = ()) -> None:
    """Create a record table (never-reused ids on SQLite) plus its batch_id/other indexes."""
    op.create_table(name, *_pk(name), *items, sqlite_autoincrement=True)
    for col in ("batch_id", *indexes):
        op.create_index(op.f(f"ix_{name}_{col}"), name, [col])


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "import_batch",
        *_pk("import_batch"),
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
        sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
        *_nonneg("import_batch", "n_rows", "n_imported", "n_queued"),
        sqlite_autoincrement=True,
    )
    _create(
        "station",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        *_units(),
        *_point("station"),
        sa.Column("contact", sa.String(200)),
        *_record("station"),
    )
    _create(
        "incident",
        sa.Column("source_id", sa.String(120)),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("sensitive", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("severity", sa.SmallInteger),
        sa.Column("description", sa.Text),
        sa.Column("place_name", sa.String(200)),
        *_point("incident"),
        sa.Column("precision", sa.String(20), nullable=False, server_default="point"),
        *_units(),
        sa.Column("h3_r6", sa.BigInteger),
        sa.Column("h3_r7", sa.BigInteger),
        sa.Column("h3_r8", sa.BigInteger),
        sa.Column("h3_r9", sa.BigInteger),
        *_record("incident"),
        _check("incident", "severity BETWEEN 1 AND 3", "severity_range"),
        _check("incident",
               "precision IN ('point', 'subprefecture', 'prefecture', 'region')",
               "precision_allowed"),
        indexes=("occurred_at", "category", "prefecture_id", "subprefecture_id",
                 "h3_r7", "h3_r8"),
    )
    _create(
        "road_crash",
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("killed", sa.Integer, server_default=sa.text("0")),
        sa.Column("injured", sa.Integer, server_default=sa.text("0")),
        sa.Column("vehicles", sa.Integer),
        sa.Column("road_name", sa.String(200)),
        sa.Column("description", sa.Text),
        *_point("road_crash"),
        *_units(),
        sa.Column("h3_r7", sa.BigInteger),
        sa.Column("h3_r8", sa.BigInteger),
        sa.Column("h3_r9", sa.BigInteger),
        *_record("road_crash"),
        _check("road_crash", "severity IN ('fatal', 'serious', 'slight')",
               "severity_allowed"),
        *_nonneg("road_crash", "killed", "injured", "vehicles"),
        indexes=("occurred_at", "h3_r8"),
    )
    _create(
        "council",
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
        *_record("council"),
        _check("council", "unit_level IN ('subprefecture', 'neighbourhood')",
               "unit_level_allowed"),
        *_nonneg("council", "members_total", "members_women", "members_youth"),
        _check("council", "members_women <= members_total", "women_le_total"),
        _check("council", "members_youth <= members_total", "youth_le_total"),
    )
    _create(
        "council_meeting",
        sa.Column("council_id", sa.Integer,
                  _fk("council_meeting", "council_id", "council", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("attendance", sa.Integer),
        sa.Column("attendance_women", sa.Integer),
        sa.Column("topics", sa.Text),
        sa.Column("decisions", sa.Text),
        *_record("council_meeting"),
        *_nonneg("council_meeting", "attendance", "attendance_women"),
        _check("council_meeting", "attendance_women <= attendance", "women_le_total"),
        indexes=("council_id",),
    )
    _create(
        "school",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.String(20)),
        *_units(),
        *_point("school"),
        sa.Column("enrolment", sa.Integer),
        *_record("school"),
        *_nonneg("school", "enrolment"),
    )
    _create(
        "outreach_officer",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("station_id", sa.Integer, _fk("outreach_officer", "station_id", "station")),
        *_record("outreach_officer"),
        indexes=("station_id",),
    )
    _create(
        "school_visit",
        sa.Column("school_id", sa.Integer, _fk("school_visit", "school_id", "school"),
                  nullable=False),
        sa.Column("officer_id", sa.Integer,
                  _fk("school_visit", "officer_id", "outreach_officer"), nullable=False),
        sa.Column("visited_on", sa.Date, nullable=False),
        sa.Column("students_reached", sa.Integer, nullable=False),
        sa.Column("topics", sa.String(200)),
        *_record("school_visit"),
        *_nonneg("school_visit", "students_reached"),
        indexes=("school_id", "officer_id"),
    )
    _create(
        "women_visit_day",
        sa.Column("station_id", sa.Integer, _fk("women_visit_day", "station_id", "station"),
                  nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("women_count", sa.Integer, nullable=False),
        sa.Column("topics", sa.String(200)),
        sa.Column("complaints_after", sa.Integer),
        *_record("women_visit_day"),
        *_nonneg("women_visit_day", "women_count", "complaints_after"),
        indexes=("station_id",),
    )
    _create(
        "instructor",
        sa.Column("name", sa.String(200), nullable=False),
        *_record("instructor"),
    )
    _create(
        "training",
        sa.Column("community_name", sa.String(200)),
        *_units(),
        sa.Column("start_on", sa.Date, nullable=False),
        sa.Column("end_on", sa.Date, nullable=False),
        sa.Column("module", sa.String(60), nullable=False),
        sa.Column("officers_trained", sa.Integer, nullable=False),
        *_record("training"),
        _check("training", "end_on >= start_on", "end_after_start"),
        *_nonneg("training", "officers_trained"),
    )
    op.create_table(
        "training_instructor",
        sa.Column("training_id", sa.Integer,
                  _fk("training_instructor", "training_id", "training", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("instructor_id", sa.Integer,
                  _fk("training_instructor", "instructor_id", "instructor", ondelete="CASCADE"),
                  nullable=False),
        sa.PrimaryKeyConstraint("training_id", "instructor_id",
                                name=op.f("pk_training_instructor")),
    )
    op.create_index(op.f("ix_training_instructor_instructor_id"), "training_instructor",
                    ["instructor_id"])

    if bind.dialect.name == "postgresql":
        for table in POINT_TABLES:
            # Generated from lon/lat so both backends take identical inserts.
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN geom geometry(Point, 4326) "
                "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED"
            )
            op.execute(f"CREATE INDEX ix_{table}_geom ON {table} USING gist (geom)")


def downgrade() -> None:
    # Leaves the postgis extension in place: other objects in the database may use it.
    for table in reversed(ALL_TABLES):
        op.drop_table(table)
