"""SQLAlchemy implementations of the application's repositories. None of them commits."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dualsign.application.records import (
    ApiKey,
    Artifact,
    RenderedPrompt,
    Reviewer,
    Seal,
    SessionFilter,
    SessionRecord,
    SessionSnapshot,
    StoredEvent,
    TemplateVersion,
    Tenant,
)
from dualsign.storage.tables import (
    ApiKeyRow,
    ArtifactRow,
    LogEntryRow,
    PromptAudioOwnerRow,
    RenderedPromptRow,
    ReviewerRow,
    SealRow,
    SessionEventRow,
    SessionRow,
    TemplateVersionRow,
    TenantRow,
)


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


class SqlTenants:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, tenant: Tenant) -> None:
        self.db.add(TenantRow(id=tenant.id, name=tenant.name, created_at=tenant.created_at))
        self.db.flush()  # rows that reference it may follow in the same unit of work

    def get(self, tenant_id: str) -> Tenant | None:
        row = self.db.get(TenantRow, tenant_id)
        return Tenant(row.id, row.name, utc(row.created_at)) if row else None

    def list(self) -> Sequence[Tenant]:
        rows = self.db.scalars(select(TenantRow).order_by(TenantRow.created_at))
        return [Tenant(r.id, r.name, utc(r.created_at)) for r in rows]


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        row.id, row.tenant_id, row.secret_hash, row.label, utc(row.created_at), _utc_or_none(row.revoked_at)
    )


class SqlApiKeys:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, key: ApiKey) -> None:
        self.db.add(
            ApiKeyRow(
                id=key.id,
                tenant_id=key.tenant_id,
                secret_hash=key.secret_hash,
                label=key.label,
                created_at=key.created_at,
                revoked_at=key.revoked_at,
            )
        )

    def get(self, key_id: str) -> ApiKey | None:
        row = self.db.get(ApiKeyRow, key_id)
        return _key(row) if row else None

    def list_for(self, tenant_id: str) -> Sequence[ApiKey]:
        rows = self.db.scalars(
            select(ApiKeyRow).where(ApiKeyRow.tenant_id == tenant_id).order_by(ApiKeyRow.created_at)
        )
        return [_key(r) for r in rows]

    def revoke(self, key_id: str, at: datetime) -> None:
        self.db.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(revoked_at=at))


def _template(row: TemplateVersionRow) -> TemplateVersion:
    return TemplateVersion(
        row.id,
        row.tenant_id,
        row.key,
        row.number,
        row.content_hash,
        row.document,
        row.source,
        utc(row.created_at),
    )


class SqlTemplates:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, version: TemplateVersion) -> None:
        self.db.add(
            TemplateVersionRow(
                id=version.id,
                tenant_id=version.tenant_id,
                tenant_scope=version.tenant_id or "",
                key=version.key,
                number=version.number,
                content_hash=version.content_hash,
                document=version.document,
                source=version.source,
                created_at=version.created_at,
            )
        )
        self.db.flush()

    def get(self, version_id: str) -> TemplateVersion | None:
        row = self.db.get(TemplateVersionRow, version_id)
        return _template(row) if row else None

    def find(self, tenant_id: str | None, key: str, content_hash: str) -> TemplateVersion | None:
        row = self.db.scalar(
            select(TemplateVersionRow).where(
                TemplateVersionRow.tenant_scope == (tenant_id or ""),
                TemplateVersionRow.key == key,
                TemplateVersionRow.content_hash == content_hash,
            )
        )
        return _template(row) if row else None

    def versions(self, tenant_id: str | None, key: str) -> Sequence[TemplateVersion]:
        rows = self.db.scalars(
            select(TemplateVersionRow)
            .where(
                TemplateVersionRow.tenant_scope == (tenant_id or ""),
                TemplateVersionRow.key == key,
            )
            .order_by(TemplateVersionRow.number)
        )
        return [_template(r) for r in rows]

    def latest_per_key(self, tenant_id: str | None) -> Sequence[TemplateVersion]:
        scope = tenant_id or ""
        newest = (
            select(TemplateVersionRow.key, func.max(TemplateVersionRow.number).label("n"))
            .where(TemplateVersionRow.tenant_scope == scope)
            .group_by(TemplateVersionRow.key)
            .subquery()
        )
        rows = self.db.scalars(
            select(TemplateVersionRow)
            .join(
                newest, (TemplateVersionRow.key == newest.c.key) & (TemplateVersionRow.number == newest.c.n)
            )
            .where(TemplateVersionRow.tenant_scope == scope)
            .order_by(TemplateVersionRow.key)
        )
        return [_template(r) for r in rows]


def _session(row: SessionRow) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        template_version_id=row.template_version_id,
        status=row.status,
        signer_name=row.signer_name,
        signer_id_masked=row.signer_id_masked,
        signer_id_hash=row.signer_id_hash,
        signer_phone=row.signer_phone,
        callback_url=row.callback_url,
        external_ref=row.external_ref,
        summary=row.summary,
        expires_at=utc(row.expires_at),
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        qc_verdict=row.qc_verdict,
        review=row.review,
    )


class SqlReviewers:
    def __init__(self, db: Session) -> None:
        self.db = db

    @staticmethod
    def _of(row: ReviewerRow) -> Reviewer:
        disabled = utc(row.disabled_at) if row.disabled_at is not None else None
        return Reviewer(
            row.id,
            row.tenant_id,
            row.username,
            row.password_hash,
            row.role,
            utc(row.created_at),
            disabled,
            row.sign_in_generation,
        )

    def add(self, reviewer: Reviewer) -> None:
        self.db.add(ReviewerRow(**reviewer.__dict__))
        self.db.flush()

    def by_username(self, username: str) -> Reviewer | None:
        row = self.db.scalar(select(ReviewerRow).where(ReviewerRow.username == username))
        return self._of(row) if row is not None else None

    def get(self, reviewer_id: str) -> Reviewer | None:
        row = self.db.get(ReviewerRow, reviewer_id)
        return self._of(row) if row is not None else None

    def list(self) -> Sequence[Reviewer]:
        return [self._of(r) for r in self.db.scalars(select(ReviewerRow).order_by(ReviewerRow.username))]

    def set_password(self, reviewer_id: str, password_hash: str) -> None:
        self.db.execute(
            update(ReviewerRow)
            .where(ReviewerRow.id == reviewer_id)
            .values(password_hash=password_hash, sign_in_generation=ReviewerRow.sign_in_generation + 1)
        )

    def revoke_sign_ins(self, reviewer_id: str) -> None:
        self.db.execute(
            update(ReviewerRow)
            .where(ReviewerRow.id == reviewer_id)
            .values(sign_in_generation=ReviewerRow.sign_in_generation + 1)
        )


class SqlPromptAudioOwners:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, owner: str, sha256: str, at: datetime) -> None:
        if self.db.get(PromptAudioOwnerRow, (owner, sha256)) is None:
            self.db.add(PromptAudioOwnerRow(owner=owner, sha256=sha256, created_at=at))
            self.db.flush()

    def owns(self, owner: str, sha256: str) -> bool:
        return self.db.get(PromptAudioOwnerRow, (owner, sha256)) is not None


class SessionLocks:
    """Per-session re-entrant locks for one process (SQLite, which has no row locks); PostgreSQL
    locks the session's row instead (``SELECT … FOR UPDATE``), which also holds across processes."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()

    def get(self, session_id: str) -> Any:
        with self._guard:
            lock = self._locks.get(session_id)
            if lock is None:
                lock = threading.RLock()
                self._locks[session_id] = lock
            return lock


PROCESS_LOCKS = SessionLocks()


class SessionSnapshots:
    """Session aggregates kept in memory between units of work of one process (one database), at most
    ``capacity`` of them, the least recently used forgotten first. A miss costs a full replay, never a
    wrong answer: ``load_aggregate`` checks a snapshot against the stored chain before it uses it."""

    def __init__(self, capacity: int = 64) -> None:
        self.capacity = capacity
        self._guard = threading.Lock()
        self._kept: OrderedDict[str, SessionSnapshot] = OrderedDict()

    def take(self, session_id: str) -> SessionSnapshot | None:
        with self._guard:
            return self._kept.pop(session_id, None)

    def put(self, snapshot: SessionSnapshot) -> None:
        with self._guard:
            self._kept[snapshot.session.id] = snapshot
            self._kept.move_to_end(snapshot.session.id)
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)


class SqlSessions:
    def __init__(self, db: Session, held: list[Any] | None = None) -> None:
        self.db = db
        self.held = held if held is not None else []

    def lock(self, session_id: str) -> None:
        if self.db.get_bind().dialect.name == "postgresql":
            self.db.execute(select(SessionRow.id).where(SessionRow.id == session_id).with_for_update())
            return
        lock = PROCESS_LOCKS.get(session_id)
        lock.acquire()
        self.held.append(lock)

    def add(self, session: SessionRecord) -> None:
        self.db.add(SessionRow(**session.__dict__))
        self.db.flush()

    def get(self, session_id: str) -> SessionRecord | None:
        row = self.db.get(SessionRow, session_id)
        return _session(row) if row else None

    def list_for(
        self, tenant_id: str, *, status: str | None, limit: int, offset: int
    ) -> Sequence[SessionRecord]:
        query = select(SessionRow).where(SessionRow.tenant_id == tenant_id)
        if status:
            query = query.where(SessionRow.status == status)
        rows = self.db.scalars(query.order_by(SessionRow.created_at.desc()).limit(limit).offset(offset))
        return [_session(r) for r in rows]

    def set_status(self, session_id: str, status: str, at: datetime) -> None:
        self.db.execute(
            update(SessionRow).where(SessionRow.id == session_id).values(status=status, updated_at=at)
        )

    def count_by_status(self) -> dict[str, int]:
        rows = self.db.execute(select(SessionRow.status, func.count()).group_by(SessionRow.status))
        return {str(status): int(n) for status, n in rows}

    def set_qc(self, session_id: str, verdict: str | None, review: str | None) -> None:
        values = {k: v for k, v in (("qc_verdict", verdict), ("review", review)) if v is not None}
        if values:
            self.db.execute(update(SessionRow).where(SessionRow.id == session_id).values(**values))

    def search(self, f: SessionFilter) -> Sequence[tuple[SessionRecord, str]]:
        query = select(SessionRow, TemplateVersionRow.key).join(
            TemplateVersionRow, TemplateVersionRow.id == SessionRow.template_version_id
        )
        if f.tenant_id is not None:
            query = query.where(SessionRow.tenant_id == f.tenant_id)
        if f.status is not None:
            query = query.where(SessionRow.status == f.status)
        if f.qc_verdict is not None:
            query = query.where(SessionRow.qc_verdict == f.qc_verdict)
        if f.template_key is not None:
            query = query.where(TemplateVersionRow.key == f.template_key)
        if f.since is not None:
            query = query.where(SessionRow.created_at >= f.since)
        if f.until is not None:
            query = query.where(SessionRow.created_at < f.until)
        if f.review == "none":
            query = query.where(SessionRow.review.is_(None))
        elif f.review:
            query = query.where(SessionRow.review == f.review)
        query = query.order_by(SessionRow.created_at.desc(), SessionRow.id).limit(f.limit).offset(f.offset)
        return [(_session(row), key) for row, key in self.db.execute(query).all()]


def _event(row: SessionEventRow) -> StoredEvent:
    return StoredEvent(
        row.session_id,
        row.seq,
        row.kind,
        row.version,
        utc(row.at),
        row.payload,
        row.prev,
        row.sha256,
        row.sm3,
    )


class SqlEvents:
    def __init__(self, db: Session) -> None:
        self.db = db

    def append(self, event: StoredEvent) -> None:
        self.db.add(
            SessionEventRow(
                session_id=event.session_id,
                seq=event.seq,
                kind=event.kind,
                version=event.version,
                at=event.at,
                payload=event.payload,
                prev=event.prev,
                sha256=event.sha256,
                sm3=event.sm3,
            )
        )
        self.db.flush()

    def list(self, session_id: str) -> Sequence[StoredEvent]:
        rows = self.db.scalars(
            select(SessionEventRow)
            .where(SessionEventRow.session_id == session_id)
            .order_by(SessionEventRow.seq)
        )
        return [_event(r) for r in rows]

    def last(self, session_id: str) -> StoredEvent | None:
        row = self.db.scalar(
            select(SessionEventRow)
            .where(SessionEventRow.session_id == session_id)
            .order_by(SessionEventRow.seq.desc())
            .limit(1)
        )
        return _event(row) if row else None

    def since(self, session_id: str, seq: int) -> Sequence[StoredEvent]:
        rows = self.db.scalars(
            select(SessionEventRow)
            .where(SessionEventRow.session_id == session_id, SessionEventRow.seq >= seq)
            .order_by(SessionEventRow.seq)
        )
        return [_event(r) for r in rows]


class SqlPromptCache:
    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, cache_key: str) -> RenderedPrompt | None:
        row = self.db.get(RenderedPromptRow, cache_key)
        if row is None:
            return None
        return RenderedPrompt(
            row.cache_key, row.sha256, row.engine, row.voice, row.duration_s, utc(row.created_at)
        )

    def add(self, prompt: RenderedPrompt) -> None:
        """Store a rendered prompt, replacing a row of the same key. One statement (INSERT … ON CONFLICT
        DO UPDATE), because another process may store that key between our look and our write: two API
        processes rendering one new prompt at once (a merge, a SELECT then an INSERT, failed the second
        with a unique violation on PostgreSQL, which closed that signer's live channel)."""
        values = dict(prompt.__dict__)
        dialect = postgresql if self.db.get_bind().dialect.name == "postgresql" else sqlite
        insert = dialect.insert(RenderedPromptRow).values(**values)
        changed = {name: insert.excluded[name] for name in values if name != "cache_key"}
        self.db.execute(insert.on_conflict_do_update(index_elements=["cache_key"], set_=changed))


class SqlSeals:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, seal: Seal) -> None:
        self.db.add(SealRow(**seal.__dict__))
        self.db.flush()

    def get(self, session_id: str) -> Seal | None:
        row = self.db.get(SealRow, session_id)
        if row is None:
            return None
        return Seal(
            row.session_id,
            row.manifest_sha256,
            row.manifest_blob,
            row.signature_blob,
            row.timestamp_blob,
            row.chain_length,
            row.log_index,
            utc(row.sealed_at),
            row.report_blob,
        )

    def set_report(self, session_id: str, report_blob: str) -> None:
        self.db.execute(
            update(SealRow).where(SealRow.session_id == session_id).values(report_blob=report_blob)
        )


class SqlTransparencyLog:
    def __init__(self, db: Session) -> None:
        self.db = db

    def append(self, manifest_sha256: str, leaf_hash: str, at: datetime) -> int:
        # serialise appends: PostgreSQL takes a transaction-level lock; SQLite writers are already serial
        if self.db.get_bind().dialect.name == "postgresql":
            self.db.execute(text("SELECT pg_advisory_xact_lock(6962)"))
        size = self.db.scalar(select(func.count()).select_from(LogEntryRow)) or 0
        self.db.add(
            LogEntryRow(idx=size, leaf_hash=leaf_hash, manifest_sha256=manifest_sha256, created_at=at)
        )
        self.db.flush()
        return int(size)

    def leaves(self) -> Sequence[str]:
        return list(self.db.scalars(select(LogEntryRow.leaf_hash).order_by(LogEntryRow.idx)))


class SqlArtifacts:
    def __init__(self, db: Session) -> None:
        self.db = db

    def add(self, artifact: Artifact) -> None:
        self.db.add(ArtifactRow(**artifact.__dict__))
        self.db.flush()

    def used_elsewhere(self, sha256: str, session_id: str) -> bool:
        count = self.db.scalar(
            select(func.count())
            .select_from(ArtifactRow)
            .where(ArtifactRow.sha256 == sha256, ArtifactRow.session_id != session_id)
        )
        return bool(count)

    def list(self, session_id: str) -> Sequence[Artifact]:
        rows = self.db.scalars(
            select(ArtifactRow).where(ArtifactRow.session_id == session_id).order_by(ArtifactRow.created_at)
        )
        return [
            Artifact(r.id, r.session_id, r.role, r.name, r.sha256, r.size, r.media_type, utc(r.created_at))
            for r in rows
        ]
