"""The one composition root: settings in, wired services out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Engine

from dualsign.application.ports import BlobStore, Clock, IdFactory
from dualsign.application.sessions import SessionServices, UploadLimits
from dualsign.application.signer_links import SignerLinks
from dualsign.application.template_catalog import sync_builtin_templates
from dualsign.config import Settings
from dualsign.runtime import RandomIds, SystemClock
from dualsign.storage.blobs_fs import FileBlobStore
from dualsign.storage.database import SqlUnitOfWork, SqlUnitOfWorkFactory, make_engine, migrate


@dataclass
class Container:
    settings: Settings
    engine: Engine
    uow: SqlUnitOfWorkFactory
    blobs: BlobStore
    clock: Clock
    ids: IdFactory
    links: SignerLinks
    pii_key: bytes
    upload_limits: UploadLimits

    @property
    def session_services(self) -> SessionServices:
        return SessionServices(self.blobs, self.clock, self.ids, self.links, self.pii_key, self.upload_limits)

    def new_uow(self) -> SqlUnitOfWork:
        return self.uow()

    def close(self) -> None:
        self.engine.dispose()


def build_container(
    settings: Settings, *, clock: Clock | None = None, ids: IdFactory | None = None, prepare: bool = True
) -> Container:
    """Wire everything; with ``prepare`` also migrate the database and publish built-in templates."""
    engine = make_engine(settings.database_url)
    if prepare:
        migrate(engine)
    lim = settings.limits
    container = Container(
        settings=settings,
        engine=engine,
        uow=SqlUnitOfWorkFactory(engine),
        blobs=FileBlobStore(settings.blob_dir),
        clock=clock or SystemClock(),
        ids=ids or RandomIds(),
        links=SignerLinks(settings.secret_key, settings.public_url),
        pii_key=hashlib.sha256(b"dualsign.pii.v1" + settings.secret_key).digest(),
        upload_limits=UploadLimits(
            lim.max_document_bytes, lim.max_documents, lim.max_photo_bytes, lim.max_session_seconds
        ),
    )
    if prepare:
        sync_builtin_templates(container.uow, container.clock, container.ids)
    return container
