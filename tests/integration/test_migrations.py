"""The Alembic migrations build exactly the schema the tables declare, on SQLite and PostgreSQL, and the
ones that move data keep it (upgrade and downgrade)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.orm import Session

from dualsign.signing.authority import IssuingAuthority
from dualsign.signing.org_seals import PlatformOrganisationKeys
from dualsign.signing.pki import load_or_create
from dualsign.storage.database import MIGRATIONS, migrate
from dualsign.storage.organisations import SqlOrganisations
from dualsign.storage.tables import Base


def test_migrations_match_the_declared_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], f"a table changed without a migration: {diff}"


def _alembic(engine: Engine, action: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)


def test_0008_records_the_certificates_of_organisations_registered_before_it_and_goes_back(
    database_url: str, tmp_path: Path
) -> None:
    # an organisation registered under 0007 (its certificate only on its row) gets its history; the
    # downgrade drops the history and the revocation columns, and the upgrade runs again
    pki = load_or_create(tmp_path / "pki", now=datetime(2026, 11, 27, tzinfo=UTC))
    cert = PlatformOrganisationKeys(IssuingAuthority(pki, "http://x")).issue(
        "org_old", "示例公司", "91350100M000100Y43", datetime(2026, 11, 27, tzinfo=UTC)
    )
    engine = create_engine(database_url)
    _alembic(engine, "upgrade", "0007")
    created = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO tenants (id, name, created_at) VALUES ('ten_1', 'Bank', :at)"), {"at": created}
        )
        conn.execute(
            text(
                "INSERT INTO organisations (id, tenant_id, name, credit_code, seal_text, certificate_serial, "
                "certificate_subject, certificate_pem, seal_sha256, created_at) VALUES ('org_old', 'ten_1', "
                "'示例公司', '91350100M000100Y43', NULL, :serial, :subject, :pem, :seal, :at)"
            ),
            {
                "serial": cert.serial,
                "subject": cert.subject,
                "pem": cert.pem,
                "seal": "0" * 64,
                "at": created,
            },
        )
    _alembic(engine, "upgrade", "head")
    with Session(engine) as db:
        (org,) = SqlOrganisations(db).list_for("ten_1")
    assert org.revoked_at is None and org.certificate is not None
    assert (org.certificate.serial, org.certificate.sha256) == (cert.serial, cert.sha256)
    assert (org.certificate.not_before, org.certificate.not_after) == (cert.not_before, cert.not_after)
    assert org.certificate.issued_at == created and org.certificate.superseded_at is None

    _alembic(engine, "downgrade", "0007")
    with engine.connect() as conn:
        assert "organisation_certificates" not in inspect(conn).get_table_names()
        assert "revoked_at" not in {c["name"] for c in inspect(conn).get_columns("organisations")}
        assert conn.execute(text("SELECT count(*) FROM organisations")).scalar_one() == 1
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
