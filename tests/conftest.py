"""Shared fixtures. `store` runs a test on SQLite and on PostGIS.

PostGIS needs a server named by PROXIMITE_TEST_POSTGRES_URL (a superuser URL; see
.ci/postgres.sh). Without it those params skip -- unless PROXIMITE_TEST_REQUIRE_POSTGRES=1,
as in CI, where a missing server must fail instead of silently passing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import Store, open_store
from storage.store import normalize_url

PG_URL_ENV = "PROXIMITE_TEST_POSTGRES_URL"
REQUIRE_PG_ENV = "PROXIMITE_TEST_REQUIRE_POSTGRES"


def postgres_admin_url() -> sa.URL:
    """The test server's URL, or skip/fail the calling test when there is none."""
    url = os.environ.get(PG_URL_ENV)
    if url:
        return normalize_url(url)
    if os.environ.get(REQUIRE_PG_ENV, "").lower() in ("1", "true", "yes"):
        pytest.fail(
            f"{REQUIRE_PG_ENV}=1 but {PG_URL_ENV} is not set: start a server with "
            "`source .ci/postgres.sh` before running the PostGIS tests",
            pytrace=False,
        )
    pytest.skip(f"{PG_URL_ENV} not set (source .ci/postgres.sh to run PostGIS tests)")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'proximite.db'}")
    yield store
    store.dispose()


@pytest.fixture
def postgis_store() -> Iterator[Store]:
    """A Store on a brand-new database, dropped afterwards (tests never share state)."""
    admin_url = postgres_admin_url()
    name = f"proximite_test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        store: Store | None = None
        try:
            store = open_store(admin_url.set(database=name).render_as_string(hide_password=False))
            yield store
        finally:
            if store is not None:
                store.dispose()
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request: pytest.FixtureRequest) -> Store:
    return request.getfixturevalue(f"{request.param}_store")
