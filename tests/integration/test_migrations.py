"""The Alembic migrations build exactly the schema the tables declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from dualsign.storage.database import migrate
from dualsign.storage.tables import Base


def test_migrations_match_the_declared_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], f"a table changed without a migration: {diff}"
