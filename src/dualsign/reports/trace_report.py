"""The evidence report's section 操作轨迹 / Operation trace, as lines and table rows of words.

Summarised from the page's operation trace (``domain.trace.summarise``): the screens in order with the
time on each, the documents with the time each page was on screen and whether it was read to its
bottom edge, the signer's confirmations and choices. Page times are the signer's device clock, shown
in the session's time zone; the renderer (``evidence_report``) lays the rows out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dualsign.domain.trace import TraceSummary, merged_screens
from dualsign.reports.report_terms import SCREENS, TARGETS, TRACE_LABELS, TRACE_OPS, term


@dataclass(frozen=True)
class TraceSection:
    title: str
    lines: list[str]  # the head (or why there is no trace) and the note on clocks
    screens: list[tuple[str, str, str]] = field(default_factory=list)  # (page time, screen, seconds)
    documents: list[tuple[str, str, str, str]] = field(default_factory=list)  # (document, page, s, read)
    operations: list[tuple[str, str, str]] = field(default_factory=list)  # (page time, screen, operation)
    labels: dict[str, str] = field(default_factory=dict)


def page_time(ms: int, zone: str) -> str:
    """A page-clock time (epoch ms) in ``zone``, to the second."""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(zone)).strftime("%H:%M:%S")


def _seconds(s: float) -> str:
    return f"{s:.1f}"


def trace_section(t: TraceSummary | None, error: str | None, language: str, zone: str) -> TraceSection:
    lang = "zh" if language == "zh" else "en"
    w = TRACE_LABELS[lang]
    if error is not None:
        return TraceSection(w["trace"], [w["trace_error"].format(error=error)], labels=w)
    if t is None or t.first_ms is None or t.last_ms is None:
        return TraceSection(w["trace"], [w["trace_none"]], labels=w)
    head = w["trace_head"].format(
        batches=len(t.batches),
        entries=t.entries,
        start=page_time(t.first_ms, zone),
        end=page_time(t.last_ms, zone),
        away=t.away,
        away_s=_seconds(t.away_seconds),
    )
    screens = []
    for v in merged_screens(t.screens):
        name = term(SCREENS, lang, v.step)
        label = (
            w["screen_question"].format(screen=name, question=v.question, attempt=v.attempt or 1)
            if v.question
            else w["screen_visit"].format(screen=name)
        )
        screens.append((page_time(v.start_ms, zone), label, w["seconds"].format(s=_seconds(v.seconds))))
    documents = []
    for d in t.documents:
        name = w["document"].format(n=d.doc + 1, digest=(d.sha256 or "")[:16])
        for p in sorted(d.pages.values(), key=lambda p: p.page):
            documents.append(
                (
                    name,
                    w["page"].format(page=p.page),
                    w["seconds"].format(s=_seconds(p.seconds)),
                    w["page_read"] if p.read else w["page_not_read"],
                )
            )
    operations = []
    for o in t.operations:
        what = term(TRACE_OPS, lang, o.op)
        if o.target:
            what += " " + term(TARGETS, lang, o.target)
        if o.value:
            what += f": {term(TRACE_OPS, lang, o.value)}" + ("%" if o.op == "zoom" else "")
        operations.append((page_time(o.t, zone), term(SCREENS, lang, o.step), what))
    return TraceSection(
        w["trace"],
        [head, w["clock_note"].format(zone=zone)],
        screens,
        documents,
        operations,
        labels=w,
    )
