"""Schema: incident storage tuned for million-row imports — no index on h3_r8.

Revision ID: 0003_incident_storage
Revises: 0002_imports
Create Date: 2026-11-30

Cell counts are GROUP BYs over a filtered set (period, extent, categories), never a
lookup of one cell. Without statistics SQLite used ``ix_incident_h3_r8`` to skip the
GROUP BY sort and then fetched every row in index order: an extent-filtered count per
resolution-8 cell took 2.3 s on a million incidents instead of 0.2 s without the index.
Rebuilding it after a large import also cost a second per million rows. Frozen like the
other revisions: no import of the live metadata.
"""

from __future__ import annotations

from alembic import op

revision = "0003_incident_storage"
down_revision = "0002_imports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_incident_h3_r8", "incident")


def downgrade() -> None:
    op.create_index("ix_incident_h3_r8", "incident", ["h3_r8"])
