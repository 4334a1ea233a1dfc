"""Engine, unit of work and migrations. SQLite (WAL) by default; PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Self

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from dualsign.storage.jobs import SqlJobs
from dualsign.storage.organisations import SqlOrganisations
from dualsign.storage.repositories import (
    SessionSnapshots,
    SqlApiKeys,
    SqlArtifacts,
    SqlEvents,
    SqlPromptAudioOwners,
    SqlPromptCache,
    SqlReviewers,
    SqlSeals,
    SqlSessions,
    SqlTemplates,
    SqlTenants,
    SqlTransparencyLog,
)

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class SqlUnitOfWork:
    """One database transaction per command. Leaving without ``commit()`` rolls back."""

    def __init__(self, factory: sessionmaker[Session], snapshots: SessionSnapshots | None = None) -> None:
        self._factory = factory
        self.snapshots = snapshots if snapshots is not None else SessionSnapshots()

    def __enter__(self) -> Self:
        self.db = self._factory()
        self.tenants = SqlTenants(self.db)
        self.api_keys = SqlApiKeys(self.db)
        self.templates = SqlTemplates(self.db)
        self.held: list[Any] = []
        self.sessions = SqlSessions(self.db, self.held)
        self.events = SqlEvents(self.db)
        self.artifacts = SqlArtifacts(self.db)
        self.prompts = SqlPromptCache(self.db)
        self.seals = SqlSeals(self.db)
        self.log = SqlTransparencyLog(self.db)
        self.jobs = SqlJobs(self.db)
        self.reviewers = SqlReviewers(self.db)
        self.prompt_audio = SqlPromptAudioOwners(self.db)
        self.organisations = SqlOrganisations(self.db)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.db.rollback()
            self.db.close()
        finally:
            while self.held:
                self.held.pop().release()

    def commit(self) -> None:
        self.db.commit()


class SqlUnitOfWorkFactory:
    """Units of work on one database; they share the session snapshots kept in this process."""

    def __init__(self, engine: Engine, snapshots: SessionSnapshots | None = None) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.snapshots = snapshots if snapshots is not None else SessionSnapshots()

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions, self.snapshots)
