"""Alembic environment for the Proximité store.

There is no alembic.ini: `storage.store.Store.migrate` builds the Config in code
and hands over its live connection via `config.attributes["connection"]`, so the
migration runs inside the caller's transaction (and SQLite pragmas apply).
Without one (e.g. `alembic` driven by hand), `sqlalchemy.url` from the Config
or PROXIMITE_DATABASE_URL is used.
"""

from __future__ import annotations

import contextlib
import os

import sqlalchemy as sa
from alembic import context

from storage.schema import include_object, metadata
from storage.store import normalize_url

config = context.config

with contextlib.suppress(ImportError):  # optional extra; lets reflection know PostGIS types
    import geoalchemy2  # noqa: F401


def _configure(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite can't ALTER much
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or os.environ["PROXIMITE_DATABASE_URL"],
        target_metadata=metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ["PROXIMITE_DATABASE_URL"]
    engine = sa.create_engine(normalize_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
