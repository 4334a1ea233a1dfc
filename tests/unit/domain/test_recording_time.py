"""Answers placed in the recording's time (the page's clock mapped to the server's, segment by segment),
and the QC rule that judges the recording re-checked after the session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dualsign.domain.matching import match
from dualsign.domain.qc import Verdict, evaluate
from dualsign.domain.recording import Chunk
from dualsign.domain.recording_time import AnswerWindow, monitoring_totals, place_answers
from tests.unit.domain.test_session import Driver, started

PAGE_BEHIND_MS = 7_000  # the signer's clock runs 7 s behind the server's


def server_ms(d: Driver) -> int:
    return round(d.t.timestamp() * 1000)


def upload(d: Driver, segment: int, index: int, started_ms: int, took_ms: int) -> None:
    """A chunk the page ends now (on its clock) and the server has ``took_ms`` later."""
    ended = server_ms(d) - PAGE_BEHIND_MS
    d.t += timedelta(milliseconds=took_ms)
    digest = f"{segment}{index}".ljust(64, "0")
    d.s.store_recording_chunk(d.t, Chunk(segment, index, digest, 9, started_ms, ended), None)


def answer(d: Driver, text: str, *, spoken: bool = True) -> None:
    q = d.s.current_question
    assert q is not None
    result = match(text, q.acceptable, q.rejections, "zh")
    d.s.answer(d.t, transcript=text, result=result, evidence={"input": "speech" if spoken else "text"})


def speak(d: Driver, text: str, *, spoken: bool = True) -> None:
    d.tick()
    answer(d, text, spoken=spoken)
    d.ask()


def test_answers_are_placed_in_the_segment_that_recorded_them_on_the_mapped_clock() -> None:
    d = started()  # q1 asked at a (server time)
    a = d.t

    def go(seconds: float) -> None:
        d.t = a + timedelta(seconds=seconds)

    seg0 = server_ms(d) - PAGE_BEHIND_MS - 1000  # the recorder started 1 s before (page clock)
    go(3)
    answer(d, "知道")  # q1 judged at a + 3 s
    go(3.5)
    upload(d, 0, 0, seg0, took_ms=900)
    upload(d, 0, 1, seg0, took_ms=200)  # the quickest upload sets the clock: 7.2 s; seg 0 ends at a + 4.4 s
    go(10)
    d.s.ask(d.t)  # q2 asked at a + 10 s, judged at a + 12 s: the page was reloading, nothing recorded it
    go(12)
    answer(d, "是")
    go(13)
    seg1 = server_ms(d) - PAGE_BEHIND_MS
    go(14)
    d.s.ask(d.t)
    go(16)
    answer(d, "没有")  # q3: asked at a + 14 s, judged at a + 16 s
    go(17)
    upload(d, 1, 0, seg1, took_ms=300)

    placed, unplaced = place_answers(d.s)
    # recording time = server time - 7.2 s (7.3 s in segment 1) - the segment's start on the page clock
    assert placed == {
        0: [AnswerWindow("q1", 1, 0.8, 3.8 + 0.5, "ACCEPT")],
        1: [AnswerWindow("q3", 1, 0.7, 2.7 + 0.5, "ACCEPT")],
    }
    assert unplaced == [("q2", 1)]


def test_typed_answers_have_no_window() -> None:
    d = started()
    speak(d, "知道", spoken=False)
    upload(d, 0, 0, server_ms(d) - PAGE_BEHIND_MS - 5000, took_ms=100)
    assert place_answers(d.s) == ({}, [])


def test_monitoring_figures_of_several_parts_add_up() -> None:
    parts = [
        {
            "observed_s": 30,
            "face_present_ratio": 1.0,
            "several_faces_s": 0.5,
            "longest_absence_s": 0,
            "frames": 60,
        },
        {
            "observed_s": 10,
            "face_present_ratio": 0.5,
            "mismatch_s": 2.0,
            "longest_absence_s": 4.0,
            "frames": 20,
        },
    ]
    assert monitoring_totals(parts) == {
        "observed_s": 40.0,
        "face_present_ratio": 0.875,
        "several_faces_s": 0.5,
        "mismatch_s": 2.0,
        "longest_absence_s": 4.0,
        "frames": 80,
    }


def reconciled(analysis: dict[str, Any] | None, *, recorded: bool = True) -> tuple[Verdict, str]:
    d = started()
    speak(d, "知道")
    if recorded:
        upload(d, 0, 0, server_ms(d) - PAGE_BEHIND_MS - 5000, took_ms=100)
    d.s.cancel(d.tick(), reason="test", by="integrator")
    if analysis is not None:
        d.s.record_recording_analysis(
            d.tick(), {"unplaced_answers": [], "faces": None, "errors": [], **analysis}
        )
    rule = next(r for r in evaluate(d.s).rules if r.rule == "recording_reconciled")
    return rule.verdict, rule.detail


def heard(live: str, recording: str | None, transcript: str | None = None) -> dict[str, Any]:
    return {"question_id": "q1", "attempt": 1, "live": live, "recording": recording, "transcript": transcript}


def test_the_rule_passes_when_every_accepted_answer_is_heard_again() -> None:
    verdict, detail = reconciled({"answers": [heard("ACCEPT", "ACCEPT", "知道"), heard("REJECT", "UNCLEAR")]})
    assert verdict is Verdict.PASS and detail.startswith("1 accepted answers heard again"), detail


def test_an_answer_the_recording_does_not_confirm_needs_a_person() -> None:
    verdict, detail = reconciled({"answers": [heard("ACCEPT", None)], "unplaced_answers": [["q2", 1]]})
    assert verdict is Verdict.NEEDS_REVIEW
    assert "not confirmed by the recording: q1#1 (no verdict, heard nothing)" in detail
    assert "answers no recording segment covers: q2#1" in detail


def test_face_figures_that_differ_need_a_person() -> None:
    faces = {"disagreements": [{"measure": "mismatch_s", "live": 0.0, "recording": 6.5}], "recording": {}}
    verdict, detail = reconciled({"answers": [heard("ACCEPT", "ACCEPT")], "faces": faces})
    assert verdict is Verdict.NEEDS_REVIEW and "mismatch_s: live 0.0, recording 6.5" in detail


def test_a_contradicting_recording_or_a_failed_analysis_fails() -> None:
    verdict, detail = reconciled({"answers": [heard("ACCEPT", "REJECT", "不知道")]})
    assert verdict is Verdict.FAIL and "the recording says no: q1#1 (REJECT, heard '不知道')" in detail
    verdict, detail = reconciled({"answers": [], "errors": ["segment 0: the audio cannot be decoded"]})
    assert verdict is Verdict.FAIL and "cannot be decoded" in detail


def test_a_recording_never_re_checked_needs_a_person_and_no_recording_has_nothing_to_check() -> None:
    verdict, detail = reconciled(None)
    assert verdict is Verdict.NEEDS_REVIEW and "not re-checked" in detail
    assert reconciled(None, recorded=False)[0] is Verdict.PASS
