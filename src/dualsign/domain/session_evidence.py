"""What happens to a session's evidence once the session has ended, as the aggregate records it.

The automatic quality check, reviewers' decisions (append-only: a later one names the one it
overrides), the seal and a failed attempt at it, legal holds, and the tombstone of a deletion. Part of
``SigningSession``; after the seal only ``transitions.AFTER_SEAL_EVENTS`` may follow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Unpack

from dualsign.domain import events as ev
from dualsign.domain.errors import DecisionExists
from dualsign.domain.event_payloads import EvidenceDeleted, EvidenceSealed, QcEvaluated, ReviewDecided
from dualsign.domain.events import Event, EventLog
from dualsign.domain.states import EventKind


class SessionEvidence(EventLog):
    def record_qc(self, at: datetime, result: QcEvaluated) -> Event:
        """The automatic quality check's results (``domain.qc``), rule by rule."""
        return self._emit(ev.QC_EVALUATED.new(at, result))

    def decide_review(
        self, at: datetime, *, decision: str, comment: str, by: str, role: str, override_reason: str = ""
    ) -> Event:
        """A reviewer's manual decision after looking at the session (approve or reject).

        Decisions are an append-only record: a second one must say it overrides the one before and
        why (``override_reason``); the earlier decision stays in the chain, named by the new one."""
        if decision not in ("approve", "reject"):
            raise ValueError(f"unknown review decision {decision!r}")
        previous = [e for e in self.events if e.kind is EventKind.REVIEW_DECIDED]
        payload: ReviewDecided = {"decision": decision, "comment": comment, "by": by, "role": role}
        if previous:
            last = ev.REVIEW_DECIDED.of(previous[-1])
            if not override_reason.strip():
                raise DecisionExists(str(last.get("decision")), str(last.get("by")), len(previous))
            payload["overrides"] = {
                "decision": last.get("decision"),
                "by": last.get("by"),
                "number": len(previous),
            }
            payload["override_reason"] = override_reason.strip()
        return self._emit(ev.REVIEW_DECIDED.new(at, payload))

    def seal(self, at: datetime, **details: Unpack[EvidenceSealed]) -> Event:
        return self._emit(ev.EVIDENCE_SEALED.new(at, details))

    def record_sealing_failure(self, at: datetime, *, reason: str) -> Event:
        return self._emit(ev.SEALING_FAILED.new(at, {"reason": reason}))

    def place_hold(self, at: datetime, *, reason: str, by: str) -> Event:
        return self._emit(ev.LEGAL_HOLD_PLACED.new(at, {"reason": reason, "by": by}))

    def release_hold(self, at: datetime, *, reason: str, by: str) -> Event:
        return self._emit(ev.LEGAL_HOLD_RELEASED.new(at, {"reason": reason, "by": by}))

    @property
    def holds(self) -> int:
        placed = sum(e.kind is EventKind.LEGAL_HOLD_PLACED for e in self.events)
        return placed - sum(e.kind is EventKind.LEGAL_HOLD_RELEASED for e in self.events)

    def tombstone(self, at: datetime, **details: Unpack[EvidenceDeleted]) -> Event:
        return self._emit(ev.EVIDENCE_DELETED.new(at, details))
