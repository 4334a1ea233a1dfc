"""Shared fixtures: a fixed clock, databases (SQLite and the real PostgreSQL), a wired container."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import Container, build_container

PG_ADMIN = os.environ.get("DUALSIGN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


class FixedClock:
    """Starts at a fixed instant; tests move it on explicitly."""

    def __init__(self, start: datetime | None = None) -> None:
        self.at = start or datetime(2026, 11, 27, 9, 30, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL server the suite runs against (scripts/services.sh starts it)."""
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:  # set-up starts PostgreSQL: unreachable is a real failure
        pytest.fail(f"PostgreSQL at {PG_ADMIN} is not reachable: {exc}")
    return "postgresql+psycopg://postgres@127.0.0.1:5432"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test gets an empty database: a SQLite file, or a new PostgreSQL database dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'dualsign.db'}"
        return
    url: str = request.getfixturevalue("database_url_pg")
    yield url


@pytest.fixture
def database_url_pg(pg_server: str) -> Iterator[str]:
    """An empty PostgreSQL database, for tests that only run there."""
    name = f"dualsign_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{pg_server}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_container(tmp_path: Path, database_url: str, clock: FixedClock, **env: str) -> Container:
    settings = load_settings(
        {
            "DUALSIGN_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database_url,
            "DUALSIGN_SECRET_KEY": "test-secret-key-0123456789abcdef-0123456789",
            **env,
        }
    )
    return build_container(settings, clock=clock)


@pytest.fixture
def container(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Container]:
    c = make_container(tmp_path, database_url, clock)
    yield c
    c.close()
