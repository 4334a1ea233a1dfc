"""The page's operation trace, as the session aggregate keeps it in its events.

Each batch the page sends is an ``artifact_stored`` event of role ``operation_trace`` carrying the
batch's number and how many entries it holds (``domain.trace``). A batch is accepted from the moment
the link is opened until the evidence is sealed (the consent screen and a refusal are part of what the
trace shows); the same batch again is acknowledged again, another batch under a stored number is
refused. Part of ``SigningSession``.
"""

from __future__ import annotations

from datetime import datetime

from dualsign.domain import events as ev
from dualsign.domain import trace
from dualsign.domain.events import Event, EventLog
from dualsign.domain.states import EventKind


class SessionTrace(EventLog):
    _trace: dict[int, str]  # batch number → SHA-256, folded by the aggregate

    def trace_batches(self) -> dict[int, str]:
        return dict(self._trace)

    def trace_events(self) -> list[Event]:
        """The events that stored the trace's batches, in the order they arrived."""
        return [
            e
            for e in self.events
            if e.kind is EventKind.ARTIFACT_STORED and e.payload.get("role") == trace.ROLE
        ]

    def trace_batch_is_new(self, batch: int, sha256: str) -> bool:
        """Whether this batch would be stored (False: the same batch is already); raises if refused."""
        if self.sealed:
            raise trace.TraceClosed("the evidence of this session is sealed")
        stored = self._trace.get(batch)
        if stored is not None and stored != sha256:
            raise trace.TraceBatchConflict(batch, stored, sha256)
        return stored is None

    def store_trace_batch(
        self, at: datetime, *, batch: int, entries: int, sha256: str, sm3: str | None, size: int
    ) -> Event | None:
        """Record one batch; ``None`` when this very batch was stored before (an idempotent retry)."""
        if not self.trace_batch_is_new(batch, sha256):
            return None
        return self._emit(
            ev.ARTIFACT_STORED.new(
                at,
                {
                    "role": trace.ROLE,
                    "sha256": sha256,
                    "sm3": sm3,
                    "size": size,
                    "media_type": trace.MEDIA_TYPE,
                    "batch": batch,
                    "entries": entries,
                },
            )
        )
