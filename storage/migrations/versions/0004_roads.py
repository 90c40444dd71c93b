"""Schema: road networks (line layers) for road-safety black spots.

Revision ID: 0004_roads
Revises: 0003_incident_storage
Create Date: 2026-11-30

A road is one LineString stored as WKB with its bounding box, so SQLite and
PostgreSQL take identical inserts and SQLite can answer extent queries from
plain columns. On PostgreSQL a generated ``geom geometry(LineString, 4326)``
column with a GIST index is added (as 0001 does for points); the repository
never selects it. Frozen like the other revisions: no import of the live metadata.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_roads"
down_revision = "0003_incident_storage"
branch_labels = None
depends_on = None


def _check(sql: str, name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(sql, name=op.f(f"ck_road_{name}"))


def upgrade() -> None:
    op.create_table(
        "road",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("name", sa.String(200)),
        sa.Column("ref", sa.String(60)),
        sa.Column("road_class", sa.String(60)),
        sa.Column("length_m", sa.Float, nullable=False),
        sa.Column("wkb", sa.LargeBinary, nullable=False),
        sa.Column("min_lon", sa.Float, nullable=False),
        sa.Column("min_lat", sa.Float, nullable=False),
        sa.Column("max_lon", sa.Float, nullable=False),
        sa.Column("max_lat", sa.Float, nullable=False),
        sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("batch_id", sa.Integer,
                  sa.ForeignKey("import_batch.id", name=op.f("fk_road_batch_id_import_batch"),
                                ondelete="CASCADE"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_road")),
        _check("length_m >= 0", "length_m_nonneg"),
        _check("min_lon <= max_lon AND min_lat <= max_lat", "bbox_ordered"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_road_batch_id"), "road", ["batch_id"])
    if op.get_bind().dialect.name == "postgresql":
        # Generated from the WKB so both backends take identical inserts; ST_GeomFromWKB is immutable.
        op.execute(
            "ALTER TABLE road ADD COLUMN geom geometry(LineString, 4326) "
            "GENERATED ALWAYS AS (ST_GeomFromWKB(wkb, 4326)) STORED"
        )
        op.execute("CREATE INDEX ix_road_geom ON road USING gist (geom)")


def downgrade() -> None:
    op.drop_table("road")
