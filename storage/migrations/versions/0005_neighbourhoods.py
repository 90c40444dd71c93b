"""Schema: neighbourhoods (quartiers, districts) users import or draw, below their sub-prefecture.

Revision ID: 0005_neighbourhoods
Revises: 0004_roads
Create Date: 2026-12-01

A neighbourhood is one Polygon or MultiPolygon stored as WKB with its bounding
box (like a road), plus the sub-prefecture, prefecture and region it joined and
a representative point for the geocoder. On PostgreSQL a generated
``geom geometry(Geometry, 4326)`` column with a GIST index is added; the
repository never selects it. Frozen like the other revisions: no import of the
live metadata.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_neighbourhoods"
down_revision = "0004_roads"
branch_labels = None
depends_on = None


def _check(sql: str, name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(sql, name=op.f(f"ck_neighbourhood_{name}"))


def upgrade() -> None:
    op.create_table(
        "neighbourhood",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("alt_names", sa.Text),
        sa.Column("region_id", sa.String(40), nullable=False),
        sa.Column("prefecture_id", sa.String(40), nullable=False),
        sa.Column("subprefecture_id", sa.String(40), nullable=False),
        sa.Column("area_km2", sa.Float, nullable=False),
        sa.Column("overlap_share", sa.Float, nullable=False),
        sa.Column("inside_share", sa.Float, nullable=False),
        sa.Column("label_lon", sa.Float, nullable=False),
        sa.Column("label_lat", sa.Float, nullable=False),
        sa.Column("flags", sa.String(200)),
        sa.Column("source_row", sa.Integer),
        sa.Column("wkb", sa.LargeBinary, nullable=False),
        sa.Column("min_lon", sa.Float, nullable=False),
        sa.Column("min_lat", sa.Float, nullable=False),
        sa.Column("max_lon", sa.Float, nullable=False),
        sa.Column("max_lat", sa.Float, nullable=False),
        sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("batch_id", sa.Integer,
                  sa.ForeignKey("import_batch.id", name=op.f("fk_neighbourhood_batch_id_import_batch"),
                                ondelete="CASCADE"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_neighbourhood")),
        _check("area_km2 >= 0", "area_km2_nonneg"),
        _check("overlap_share BETWEEN 0 AND 1", "overlap_share_range"),
        _check("inside_share BETWEEN 0 AND 1", "inside_share_range"),
        _check("label_lon BETWEEN -180 AND 180 AND label_lat BETWEEN -90 AND 90", "label_range"),
        _check("min_lon <= max_lon AND min_lat <= max_lat", "bbox_ordered"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_neighbourhood_batch_id"), "neighbourhood", ["batch_id"])
    op.create_index(op.f("ix_neighbourhood_subprefecture_id"), "neighbourhood", ["subprefecture_id"])
    if op.get_bind().dialect.name == "postgresql":
        # Polygons and multi-polygons share one column; ST_GeomFromWKB is immutable, so it can be generated.
        op.execute(
            "ALTER TABLE neighbourhood ADD COLUMN geom geometry(Geometry, 4326) "
            "GENERATED ALWAYS AS (ST_GeomFromWKB(wkb, 4326)) STORED"
        )
        op.execute("CREATE INDEX ix_neighbourhood_geom ON neighbourhood USING gist (geom)")


def downgrade() -> None:
    op.drop_table("neighbourhood")
