"""The session aggregate: re-asks, failure after the attempts, manual review, replay, refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from dualsign.domain.errors import IllegalTransition, InvalidInput
from dualsign.domain.matching import match
from dualsign.domain.session import Event, QuestionOutcome, SigningSession
from dualsign.domain.states import EventKind, SessionState
from dualsign.domain.templates import Template, parse_template

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
AUDIO = "a" * 64  # the digest of the prompt audio the driver "plays"

DOC: dict[str, Any] = {
    "key": "unit-test",
    "title": "unit test",
    "scenario": "other",
    "language": "zh-CN",
    "consent": {"recording": "同意录音录像", "biometric": "同意人脸识别"},
    "identity": {"required": False},
    "liveness": {"required": False},
    "questions": [
        {
            "id": "intro",
            "category": "verbatim_regulatory",
            "prompt": "以下内容请认真听取。",
            "expects_answer": False,
        },
        {"id": "q1", "category": "risk_disclosure", "prompt": "您是否知晓？", "acceptable": ["知晓", "知道"]},
        {
            "id": "q2",
            "category": "other",
            "prompt": "是否自愿？",
            "acceptable": ["是"],
            "max_attempts": 2,
            "on_fail": "manual_review",
        },
        {"id": "q3", "category": "informed_confirmation", "prompt": "是否有人强迫？", "acceptable": ["没有"]},
    ],
}


def template(**changes: Any) -> Template:
    doc = yaml.safe_load(yaml.safe_dump(DOC))
    doc.update(changes)
    return parse_template(doc, "unit")


class Driver:
    """Runs a session the way the application does, one answer at a time."""

    def __init__(self, t: Template) -> None:
        self.s = SigningSession("ses_1", t)
        self.t = T0
        self.s.create(self.tick(), {"signer_name": "张三"})
        self.s.open(self.tick())

    def tick(self) -> datetime:
        self.t += timedelta(seconds=1)
        return self.t

    def ask(self) -> None:
        """Ask what comes next; a statement is played in full (as the page reports) and passes."""
        while self.s.state is SessionState.QUESTIONS and not self.s.awaiting_answer and self.s.next_prompt():
            if self.s.awaiting_playback:
                self.play()
            else:
                self.s.ask(self.tick(), audio=[{"role": "question", "sha256": AUDIO, "duration_s": 2.0}])

    def play(self, played_s: float = 2.0, *, ended: bool = True) -> list[Event]:
        p = self.s.next_prompt()
        assert p is not None
        part = {"sha256": AUDIO, "played_s": played_s, "ended": ended}
        return self.s.report_playback(self.tick(), question_id=p.question_id, attempt=p.attempt, parts=[part])

    def say(self, text: str | None) -> None:
        q = self.s.current_question
        assert q is not None
        result = match(text, q.acceptable, q.rejections, "zh") if text else None
        self.s.answer(self.tick(), transcript=text, result=result)
        self.ask()


def started(t: Template | None = None) -> Driver:
    d = Driver(t or template())
    d.s.give_consent(d.tick())
    d.ask()
    return d


def test_waived_steps_are_recorded_and_statement_passes_when_read() -> None:
    d = started()
    kinds = [e.kind for e in d.s.events]
    assert EventKind.IDENTITY_WAIVED in kinds
    assert EventKind.LIVENESS_WAIVED in kinds
    assert d.s.progress["intro"].outcome is QuestionOutcome.PASSED
    assert d.s.current_question is not None
    assert d.s.current_question.id == "q1"


def test_a_statement_waits_until_the_page_played_it_in_full() -> None:
    d = Driver(template())
    d.s.give_consent(d.tick())
    d.s.ask(d.tick(), audio=[{"role": "question", "sha256": AUDIO, "duration_s": 2.0}])
    assert d.s.awaiting_playback and d.s.progress["intro"].outcome is QuestionOutcome.PENDING
    with pytest.raises(IllegalTransition):
        d.s.ask(d.tick())  # nothing else is asked while the statement waits
    cut = d.play(1.1, ended=False)  # autoplay refused or interrupted
    assert [e.kind for e in cut] == [EventKind.PROMPT_PLAYED]
    assert cut[0].payload["played_in_full"] is False
    assert cut[0].payload["parts"][0] == {
        "sha256": AUDIO,
        "role": "question",
        "duration_s": 2.0,
        "played_s": 1.1,
        "ended": False,
        "full": False,
    }
    short = d.play(1.0, ended=True)  # "ended" but shorter than the audio the server rendered
    assert short[0].payload["played_in_full"] is False
    full = d.play(1.8, ended=True)  # within the tolerance of the audio's length
    assert [e.kind for e in full] == [EventKind.PROMPT_PLAYED, EventKind.QUESTION_PASSED]
    assert d.s.progress["intro"].outcome is QuestionOutcome.PASSED


def test_a_playback_report_must_name_the_current_prompt_and_its_audio() -> None:
    d = started()  # q1 is being asked
    recorded = len(d.s.events)
    with pytest.raises(InvalidInput) as wrong:
        d.s.report_playback(d.tick(), question_id="q2", attempt=1, parts=[])
    assert wrong.value.problems[0].path == "question_id"
    with pytest.raises(InvalidInput) as stranger:
        d.s.report_playback(
            d.tick(), question_id="q1", attempt=1, parts=[{"sha256": "b" * 64, "played_s": 2, "ended": True}]
        )
    assert stranger.value.problems[0].path == "parts[0].sha256"
    with pytest.raises(InvalidInput) as bad:
        d.s.report_playback(
            d.tick(), question_id="q1", attempt=1, parts=[{"sha256": AUDIO, "played_s": -1, "ended": True}]
        )
    assert bad.value.problems[0].path == "parts[0].played_s"
    assert len(d.s.events) == recorded  # nothing recorded


def test_negative_answer_is_reminded_and_reasked_then_accepted() -> None:
    d = started()
    d.say("不知道")
    prompt = d.s.next_prompt()
    assert prompt is not None
    assert (prompt.question_id, prompt.attempt) == ("q1", 2)
    assert prompt.reminder is not None
    assert "“知晓”" in prompt.reminder
    assert prompt.text.startswith(prompt.reminder)
    assert prompt.text.endswith("您是否知晓？")
    d.say("知道")
    assert d.s.progress["q1"].outcome is QuestionOutcome.PASSED
    assert d.s.progress["q1"].verdicts == ["REJECT", "ACCEPT"]


def test_three_non_accepting_answers_fail_the_question_and_the_session() -> None:
    d = started()
    d.say("不知道")
    d.say("可能吧")
    d.say(None)  # no speech counts as an attempt
    assert d.s.state is SessionState.FAILED
    assert d.s.progress["q1"].outcome is QuestionOutcome.FAILED
    failed = d.s.events[-1]
    assert failed.kind is EventKind.QUESTION_FAILED
    assert failed.payload["attempts"] == 3


def test_manual_review_question_is_flagged_and_the_session_goes_on() -> None:
    d = started()
    d.say("知道")
    d.say("不是")
    d.say("不确定")
    assert d.s.progress["q2"].outcome is QuestionOutcome.FLAGGED
    d.say("没有")
    assert d.s.state is SessionState.DOCUMENT_REVIEW
    assert d.s.events[-1].payload["flagged"] == ["q2"]


def test_repeat_does_not_count_as_an_attempt() -> None:
    d = started()
    d.s.repeat_question(d.tick())
    d.s.repeat_question(d.tick())
    assert d.s.progress["q1"].attempts == 0
    d.say("知晓")
    assert d.s.progress["q1"].outcome is QuestionOutcome.PASSED


def test_replay_rebuilds_the_same_state() -> None:
    d = started()
    d.say("不知道")
    d.say("知道")
    again = SigningSession.replay("ses_1", d.s.template, d.s.events)
    assert again.state is d.s.state
    assert again.progress == d.s.progress
    assert again.next_prompt() == d.s.next_prompt()


def test_refused_consent_ends_the_session_and_nothing_more_can_happen() -> None:
    d = Driver(template())
    d.s.refuse_consent(d.tick(), "不同意录像")
    assert d.s.state is SessionState.REFUSED
    with pytest.raises(IllegalTransition) as err:
        d.s.give_consent(d.tick())
    assert err.value.state == "refused"


def test_answer_without_a_question_is_illegal() -> None:
    d = Driver(template())
    with pytest.raises(IllegalTransition):
        d.s.answer(d.tick(), transcript="知道", result=None)


def test_identity_failures_use_up_attempts_then_fail() -> None:
    d = Driver(template(identity={"required": True, "max_attempts": 2}))
    d.s.give_consent(d.tick())
    assert d.s.state is SessionState.IDENTITY
    d.s.record_identity(d.tick(), passed=False, details={"distance": 0.7})
    assert d.s.state is SessionState.IDENTITY
    d.s.record_identity(d.tick(), passed=False, details={"distance": 0.71})
    assert d.s.state is SessionState.FAILED


def test_cancel_from_any_open_state() -> None:
    d = started()
    d.s.cancel(d.tick(), reason="客户改约", by="integrator")
    assert d.s.state is SessionState.CANCELLED
