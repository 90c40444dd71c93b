"""Schema: local accounts with roles and scopes, and the audit log.

Revision ID: 0006_users_audit
Revises: 0005_neighbourhoods
Create Date: 2026-12-08

``app_user`` holds one account per person (argon2id hash, role, lockout
counters, a version for optimistic locking); ``user_scope`` the units a
commander or council member covers; ``audit_log`` one row per write, import,
undo, login and export, with the row before and after as JSON text (Text on
both backends, so SQLite and PostgreSQL store and return the same strings).
The audit log has no foreign key to ``import_batch`` on purpose: history must
outlive the batches it mentions. Frozen like the other revisions: no import of
the live metadata.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_users_audit"
down_revision = "0005_neighbourhoods"
branch_labels = None
depends_on = None

ROLES = ("administrator", "planner", "commander", "council_member", "viewer")
LEVELS = ("region", "prefecture", "subprefecture", "neighbourhood")
ACTIONS = ("create", "update", "delete", "import", "undo", "login", "login_failed", "lockout", "export")


def _allowed(table: str, column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)  # literals from this file, never user data
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(f"ck_{table}_{column}_allowed"))


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("username", sa.String(120), nullable=False),
        sa.Column("display_name", sa.String(200)),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
        _allowed("app_user", "role", ROLES),
        sa.CheckConstraint("failed_logins >= 0", name=op.f("ck_app_user_failed_logins_nonneg")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "user_scope",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("user_id", sa.Integer,
                  sa.ForeignKey("app_user.id", name=op.f("fk_user_scope_user_id_app_user"), ondelete="CASCADE"),
                  nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("unit_id", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_scope")),
        sa.UniqueConstraint("user_id", "level", "unit_id", name=op.f("uq_user_scope_user_id_level_unit_id")),
        _allowed("user_scope", "level", LEVELS),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("username", sa.String(120), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("table_name", sa.String(60)),
        sa.Column("record_id", sa.Integer),
        sa.Column("batch_id", sa.Integer),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("detail", sa.Text),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        _allowed("audit_log", "action", ACTIONS),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_username"), "audit_log", ["username"])
    op.create_index(op.f("ix_audit_log_batch_id"), "audit_log", ["batch_id"])
    op.create_index(op.f("ix_audit_log_table_name_record_id"), "audit_log", ["table_name", "record_id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("user_scope")
    op.drop_table("app_user")
