"""Schema: local security plans (versions, priorities drawn on the map, actions, follow-up).

Revision ID: 0007_local_plans
Revises: 0006_users_audit
Create Date: 2026-12-15

``security_plan`` holds one row per version of a council's plan (``series_id``
ties the versions together; an adopted version is frozen by the repository);
``plan_priority`` the priorities with their geometry as WKB and bounding box
(like roads and neighbourhoods); ``plan_action`` the action plan; and
``plan_followup`` dated status and indicator values, only ever added. Frozen
like the other revisions: no import of the live metadata.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_local_plans"
down_revision = "0006_users_audit"
branch_labels = None
depends_on = None

LEVELS = ("subprefecture", "neighbourhood")
STATUSES = ("draft", "adopted", "superseded")
ACTION_STATUSES = ("planned", "in_progress", "done", "delayed", "cancelled")
KINDS = ("area", "line", "point")


def _allowed(table: str, column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)  # literals from this file, never user data
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(f"ck_{table}_{column}_allowed"))


def _check(table: str, sql: str, name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(sql, name=op.f(f"ck_{table}_{name}"))


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete)


def _stamps() -> list[sa.Column]:
    return [sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
            sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1"))]


def upgrade() -> None:
    op.create_table(
        "security_plan",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("series_id", sa.Integer),
        sa.Column("version_no", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("unit_level", sa.String(20), nullable=False),
        sa.Column("unit_id", sa.String(80), nullable=False),
        sa.Column("unit_name", sa.String(200), nullable=False),
        sa.Column("region_id", sa.String(40)),
        sa.Column("prefecture_id", sa.String(40)),
        sa.Column("subprefecture_id", sa.String(40)),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="draft"),
        sa.Column("notes", sa.Text),
        sa.Column("diagnosis", sa.Text),
        sa.Column("adopted_on", sa.Date),
        sa.Column("signatories", sa.Text),
        sa.Column("created_by", sa.String(120)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_plan")),
        sa.UniqueConstraint("series_id", "version_no", name=op.f("uq_security_plan_series_id_version_no")),
        _allowed("security_plan", "unit_level", LEVELS),
        _allowed("security_plan", "status", STATUSES),
        _check("security_plan", "period_start <= period_end", "period_ordered"),
        _check("security_plan", "version_no >= 1", "version_no_positive"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_security_plan_series_id"), "security_plan", ["series_id"])
    op.create_index("ix_security_plan_unit_level_unit_id", "security_plan", ["unit_level", "unit_id"])
    op.create_table(
        "plan_priority",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("plan_id", sa.Integer, _fk("plan_priority", "plan_id", "security_plan", "CASCADE"),
                  nullable=False),
        sa.Column("origin_id", sa.Integer),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("category", sa.String(60)),
        sa.Column("description", sa.Text),
        sa.Column("raised_by", sa.String(40)),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("source", sa.String(20)),
        sa.Column("h3_cell", sa.String(20)),
        sa.Column("flags", sa.String(200)),
        sa.Column("wkb", sa.LargeBinary, nullable=False),
        sa.Column("min_lon", sa.Float, nullable=False),
        sa.Column("min_lat", sa.Float, nullable=False),
        sa.Column("max_lon", sa.Float, nullable=False),
        sa.Column("max_lat", sa.Float, nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_priority")),
        _allowed("plan_priority", "kind", KINDS),
        _check("plan_priority", "rank >= 1", "rank_positive"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_plan_priority_plan_id"), "plan_priority", ["plan_id"])
    op.create_table(
        "plan_action",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("plan_id", sa.Integer, _fk("plan_action", "plan_id", "security_plan", "CASCADE"), nullable=False),
        sa.Column("priority_id", sa.Integer, _fk("plan_action", "priority_id", "plan_priority", "SET NULL")),
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
        sa.Column("status", sa.String(20), nullable=False, server_default="planned"),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_action")),
        _allowed("plan_action", "status", ACTION_STATUSES),
        _check("plan_action", "budget_gnf >= 0", "budget_gnf_nonneg"),
        _check("plan_action", "start_on <= end_on", "dates_ordered"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_plan_action_plan_id"), "plan_action", ["plan_id"])
    op.create_index(op.f("ix_plan_action_priority_id"), "plan_action", ["priority_id"])
    op.create_table(
        "plan_followup",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("plan_id", sa.Integer, _fk("plan_followup", "plan_id", "security_plan", "CASCADE"),
                  nullable=False),
        sa.Column("action_id", sa.Integer, _fk("plan_followup", "action_id", "plan_action", "CASCADE"),
                  nullable=False),
        sa.Column("recorded_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(20)),
        sa.Column("indicator_value", sa.Float),
        sa.Column("note", sa.Text),
        sa.Column("created_by", sa.String(120)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_followup")),
        _allowed("plan_followup", "status", ACTION_STATUSES),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_plan_followup_plan_id"), "plan_followup", ["plan_id"])
    op.create_index(op.f("ix_plan_followup_action_id"), "plan_followup", ["action_id"])


def downgrade() -> None:
    for table in ("plan_followup", "plan_action", "plan_priority", "security_plan"):
        op.drop_table(table)
