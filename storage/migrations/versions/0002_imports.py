"""Schema v2: incident imports — review queue, saved column mappings, import metadata.

Revision ID: 0002_imports
Revises: 0001_initial
Create Date: 2026-11-24

Every input row of an import ends either as an incident or as a review item
(with its raw values and reasons), so nothing is lost; a batch remembers the
mapping it used so a corrected row is re-validated the same way.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_imports"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("source_row", sa.Integer))
        batch.add_column(sa.Column("flags", sa.String(200)))
        batch.add_column(sa.Column("geocode_score", sa.Float))
    op.create_index(op.f("ix_incident_source_id"), "incident", ["source_id"])
    # Counts per cell are full GROUP BYs and filters go by period and unit: these two indexes only
    # slowed every import down.
    op.drop_index("ix_incident_category", "incident")
    op.drop_index("ix_incident_h3_r7", "incident")
    with op.batch_alter_table("import_batch") as batch:
        batch.add_column(sa.Column("mapping", sa.Text))
        batch.add_column(sa.Column("file_format", sa.String(20)))

    op.create_table(
        "review_item",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("batch_id", sa.Integer,
                  sa.ForeignKey("import_batch.id", name=op.f("fk_review_item_batch_id_import_batch"),
                                ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("source_row", sa.Integer),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="open"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_by", sa.String(120)),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_item")),
        sa.CheckConstraint("status IN ('open', 'resolved', 'discarded')", name=op.f("ck_review_item_status_allowed")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_review_item_batch_id"), "review_item", ["batch_id"])
    op.create_index(op.f("ix_review_item_status"), "review_item", ["status"])

    op.create_table(
        "column_mapping",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("mapping", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(120)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_column_mapping")),
        sa.UniqueConstraint("kind", "name", name=op.f("uq_column_mapping_kind_name")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("column_mapping")
    op.drop_table("review_item")
    with op.batch_alter_table("import_batch") as batch:
        batch.drop_column("file_format")
        batch.drop_column("mapping")
    op.drop_index(op.f("ix_incident_source_id"), "incident")
    op.create_index("ix_incident_h3_r7", "incident", ["h3_r7"])
    op.create_index("ix_incident_category", "incident", ["category"])
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("geocode_score")
        batch.drop_column("flags")
        batch.drop_column("source_row")
