"""The page's operation trace: the strict batch schema, the summary read back, and its QC rule."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from typing import Any

import pytest

from dualsign.domain import trace
from dualsign.domain.errors import InvalidInput
from dualsign.domain.qc import Verdict, evaluate
from dualsign.domain.trace import Batch, parse_batch, summarise
from tests.unit.domain.test_session import Driver, template

T = 1_795_000_000_000  # the page's clock, epoch ms
DOC = "d" * 64


def e(t: int, step: str, op: str, **kw: Any) -> dict[str, Any]:
    return {"t": T + t, "step": step, "op": op, **kw}


def batch(*entries: dict[str, Any]) -> Batch:
    return parse_batch({"version": 1, "entries": list(entries)})


def refused(body: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        parse_batch(body if isinstance(body, (bytes, str)) else json.dumps(body))
    return [(p.path, p.reason) for p in caught.value.problems]


def test_a_batch_is_kept_as_the_same_bytes_whatever_order_or_empty_fields_it_came_in() -> None:
    one = parse_batch(json.dumps({"entries": [e(0, "consent", "screen_shown", target=None)], "version": 1}))
    two = batch(e(0, "consent", "screen_shown"))
    assert one.to_json() == two.to_json() == {"version": 1, "entries": [e(0, "consent", "screen_shown")]}


def test_free_text_an_unknown_field_or_an_unknown_operation_is_refused_naming_the_field() -> None:
    typed = refused({"version": 1, "entries": [e(0, "question", "click", target="I agree to everything")]})
    assert typed[0][0] == "entries.0.target"
    extra = refused({"version": 1, "entries": [e(0, "question", "click", target="agree", text="hello")]})
    assert extra[0] == ("entries.0.text", "Extra inputs are not permitted")
    unknown = refused({"version": 1, "entries": [e(0, "question", "keystroke")]})
    assert unknown[0][0] == "entries.0.op"
    assert refused({"version": 2, "entries": [e(0, "consent", "screen_shown")]})[0][0] == "version"
    assert refused({"version": 1, "entries": []}) == [("body", "entries: a batch holds at least one entry")]
    assert refused(b"{not json")[0][0] == "body"


def test_an_entry_names_what_it_is_about_and_entries_keep_the_page_order() -> None:
    page = refused({"version": 1, "entries": [e(0, "documents", "page_shown", doc=0)]})
    assert page == [("entries.0", "a page_shown entry names its document (doc) and page")]
    click = refused({"version": 1, "entries": [e(0, "consent", "click")]})
    assert click == [("entries.0", "a click entry names its target")]
    late = refused(
        {"version": 1, "entries": [e(5, "consent", "screen_shown"), e(3, "consent", "click", target="x")]}
    )
    assert late == [("body", "entries.1.t is earlier than the entry before it")]
    many = [e(i, "consent", "scrolled_end") for i in range(trace.MAX_ENTRIES + 1)]
    assert refused({"version": 1, "entries": many})[0][0] == "entries"


def sample() -> list[tuple[int, Batch]]:
    first = batch(
        e(0, "consent", "screen_shown"),
        e(1_000, "consent", "check", target="c-rec", value="on"),
        e(1_500, "consent", "check", target="c-bio", value="on"),
        e(2_000, "consent", "click", target="agree"),
        e(3_000, "question", "screen_shown", question="q1", attempt=1),
        e(9_000, "question", "hidden"),
        e(12_000, "question", "visible"),
    )
    second = batch(
        e(15_000, "documents", "screen_shown"),
        e(15_100, "documents", "page_shown", doc=0, page=1, sha256=DOC),
        e(20_100, "documents", "page_read", doc=0, page=1, sha256=DOC),
        e(21_100, "documents", "page_hidden", doc=0, page=1, sha256=DOC),
        e(21_200, "documents", "page_shown", doc=0, page=2, sha256=DOC),
        e(22_000, "documents", "text_size", value="on"),
        e(24_200, "documents", "click", target="read-done"),
        e(25_000, "signing", "screen_shown"),
        e(27_000, "signing", "signature_stroke", value="1"),
        e(28_000, "signing", "click", target="sign"),
    )
    return [(1, second), (0, first)]


def test_the_summary_has_each_screen_with_its_time_each_page_with_its_time_and_the_confirmations() -> None:
    s = summarise(sample())
    assert s.batches == (0, 1) and s.entries == 17 and s.missing_batches == ()
    assert [(v.step, v.question, v.seconds) for v in s.screens] == [
        ("consent", None, 3.0),
        ("question", "q1", 12.0),
        ("documents", None, 10.0),
        ("signing", None, 3.0),
    ]
    (doc,) = s.documents
    assert doc.sha256 == DOC and doc.first_ms == T + 15_100
    # page 1 from shown to hidden; page 2 until the next screen replaced the documents
    assert [(p.page, p.seconds, p.read) for p in doc.pages.values()] == [(1, 6.0, True), (2, 3.8, False)]
    assert [(o.op, o.target, o.value) for o in s.operations] == [
        ("check", "c-rec", "on"),
        ("check", "c-bio", "on"),
        ("click", "agree", None),
        ("text_size", None, "on"),
        ("click", "read-done", None),
        ("click", "sign", None),
    ]
    assert (s.away, s.away_seconds) == (1, 3.0)


def test_a_trace_without_any_screen_is_summarised_too() -> None:
    s = summarise([(0, batch(e(0, "consent", "click", target="agree"), e(900, "consent", "hidden")))])
    assert s.screens == () and s.entries == 2 and s.away == 1
    assert [o.target for o in s.operations] == ["agree"]


def test_a_batch_never_received_shows_as_missing() -> None:
    first, second = sample()[1], sample()[0]
    assert summarise([first, (3, second[1])]).missing_batches == (1, 2)


def test_the_page_uses_only_screens_and_operations_the_schema_knows() -> None:
    web = resources.files("dualsign.web")
    page = web.joinpath("signer.js").read_text(encoding="utf-8")
    recorder = web.joinpath("trace.js").read_text(encoding="utf-8")
    screens = set(re.findall(r"trace\.screen\('([a-z_]+)'", page))
    ops = set(re.findall(r"trace\.record\('([a-z_]+)'", page))
    ops |= set(re.findall(r"record\('([a-z_]+)'", recorder))
    for either in re.findall(r"trace\.record\(\w+ \? '([a-z_]+)' : '([a-z_]+)'", page):
        ops |= set(either)
    assert {"consent", "question", "documents", "signing", "ended"} <= screens <= set(trace.STEPS)
    assert (
        {"page_shown", "page_hidden", "page_read", "audio_started", "hidden", "click"}
        <= ops
        <= set(trace.OPS)
    )


# --- the QC rule ---------------------------------------------------------------------------------
def ended_session() -> Driver:
    d = Driver(template())
    d.s.give_consent(d.tick())
    d.ask()
    d.s.cancel(d.tick(), reason="test", by="integrator")
    return d


def trace_rule(d: Driver, **kw: Any) -> tuple[Verdict, str, dict[str, Any]]:
    rule = next(r for r in evaluate(d.s, **kw).rules if r.rule == "operation_trace")
    return rule.verdict, rule.detail, dict(rule.facts or {})


def stored(d: Driver, *numbers: int) -> None:
    for n in numbers:
        d.s.store_trace_batch(d.tick(), batch=n, entries=3, sha256=f"{n:064x}", sm3=None, size=100)


def test_no_trace_or_a_trace_not_read_is_never_a_pass() -> None:
    d = ended_session()
    assert trace_rule(d)[:2] == (
        Verdict.NEEDS_REVIEW,
        "the page sent no operation trace: the screens and operations cannot be replayed",
    )
    stored(d, 0)
    assert trace_rule(d)[0] is Verdict.NEEDS_REVIEW and "not read" in trace_rule(d)[1]
    unreadable = trace_rule(d, trace_error="trace batch 0: NotFound")
    assert unreadable[0] is Verdict.NEEDS_REVIEW and "NotFound" in unreadable[1]


def test_a_trace_that_covers_the_screens_passes_and_one_with_gaps_needs_a_person() -> None:
    d = ended_session()
    stored(d, 0, 1)
    asked = {str(e.payload["question_id"]) for e in d.s.events if e.kind.value == "question_asked"}
    screens = [e(0, "consent", "screen_shown")] + [
        e(1_000 * (i + 1), "question", "screen_shown", question=q, attempt=1)
        for i, q in enumerate(sorted(asked))
    ]
    whole = summarise([(0, batch(*screens[:1])), (1, batch(*screens[1:]))])
    verdict, detail, facts = trace_rule(d, trace=whole)
    assert verdict is Verdict.PASS, detail
    assert facts["screens"] == len(screens) and facts["batches"] == 2
    lost = summarise([(1, batch(*screens[1:]))])
    assert trace_rule(d, trace=lost)[:2] == (
        Verdict.NEEDS_REVIEW,
        "trace batches missing (lost, never re-sent): 0",
    )
    stored(d, 2)
    no_consent = summarise([(n, batch(*screens[1:])) for n in (0, 1, 2)])
    verdict, detail, _ = trace_rule(d, trace=no_consent)
    assert verdict is Verdict.NEEDS_REVIEW and "screen:consent" in detail, detail


def test_a_displayed_text_other_than_the_one_the_server_gave_is_named() -> None:
    d = ended_session()
    stored(d, 0)
    asked = next(e.payload for e in d.s.events if e.kind.value == "question_asked")
    qid, attempt, text = str(asked["question_id"]), int(asked["attempt"]), str(asked["text"])
    digest = lambda s: hashlib.sha256(s.encode()).hexdigest()  # noqa: E731
    screens = [e(0, "consent", "screen_shown")] + [
        e(1_000 + i, "question", "screen_shown", question=str(q.payload["question_id"]), attempt=1)
        for i, q in enumerate(x for x in d.s.events if x.kind.value == "question_asked")
    ]
    right = [
        e(
            10,
            "consent",
            "text_shown",
            target="consent-recording",
            sha256=digest(d.s.template.consent.recording),
        ),
        e(
            2_000,
            "question",
            "text_shown",
            target="question-text",
            question=qid,
            attempt=attempt,
            sha256=digest(text),
        ),
    ]
    shown = sorted(screens + right, key=lambda x: x["t"])
    verdict, detail, facts = trace_rule(d, trace=summarise([(0, batch(*shown))]))
    assert verdict is Verdict.PASS and facts["texts"] == 2, detail
    wrong = [dict(x, sha256=digest("another text")) for x in right]
    shown = sorted(screens + wrong, key=lambda x: x["t"])
    verdict, detail, _ = trace_rule(d, trace=summarise([(0, batch(*shown))]))
    assert verdict is Verdict.NEEDS_REVIEW
    assert f"text_differs:consent-recording, text_differs:question-text:{qid}#{attempt}" in detail, detail
