"""What the console flags for a person: re-asked questions, typed answers, questions flagged."""

from __future__ import annotations

from datetime import UTC, datetime

from dualsign.application.review.console import review_flags
from dualsign.domain.session import Event
from dualsign.domain.states import EventKind

T = datetime(2026, 12, 1, tzinfo=UTC)


def judged(qid: str, verdict: str, **extra: object) -> Event:
    return Event(EventKind.ANSWER_JUDGED, T, {"question_id": qid, "verdict": verdict, **extra})


def test_re_asks_typed_answers_and_flagged_questions_are_flagged_once_each() -> None:
    events = [
        Event(EventKind.QUESTION_ASKED, T, {"question_id": "q1", "attempt": 1}),
        judged("q1", "UNCLEAR", input="speech"),
        judged("q1", "REJECT", input="speech"),
        judged("q1", "ACCEPT", input="speech"),
        judged("q2", "ACCEPT", input="speech"),
        judged("q3", "ACCEPT", input="text"),
        judged("q4", "NO_SPEECH", input="speech"),
        judged("q4", "NO_SPEECH", input="speech"),
        Event(EventKind.QUESTION_FLAGGED, T, {"question_id": "q4"}),
    ]
    assert review_flags(events) == [
        {"question_id": "q1", "attempts": 3, "reasons": ["re_asked"]},
        {"question_id": "q3", "attempts": 1, "reasons": ["typed_answer"]},
        {"question_id": "q4", "attempts": 2, "reasons": ["re_asked", "question_flagged"]},
    ]
