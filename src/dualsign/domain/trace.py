"""The page's operation trace (屏幕操作过程): what the signer saw and did, in order, with times.

The signer page records a structured, time-stamped trace of its screens and the signer's operations —
which screen was shown, which document page was on screen and for how long, scrolls to the end, clicks
on its buttons, consent ticks, text-size and language toggles, leaving and returning to the page, the
signature pad's use — enough to replay the sequence of screens and operations (可回溯). It sends the
trace in numbered batches; each batch is kept as an artifact of role ``operation_trace``.

A batch is strict: every field is a number, a digest, an identifier or a word from a closed list. No
entry can carry text the signer typed, keystrokes or the strokes of the signature (only that a stroke
was drawn). Times are the page's monotonic clock in epoch milliseconds (``performance.timeOrigin +
performance.now()``): the order and the durations are the page's; the session's events hold the
server's times.

``summarise`` reads the batches back (sealing, the report, the console): the screens with the time on
each, the documents with the time each page was on screen, the signer's confirmations, the time away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dualsign.domain.errors import Conflict, FieldProblem, InvalidInput

ROLE: Final = "operation_trace"
MEDIA_TYPE: Final = "application/json"
BATCH_VERSION: Final = 1
MAX_BATCH: Final = 100_000  # batch numbers 0 … MAX_BATCH - 1
MAX_ENTRIES: Final = 200  # per batch (the page sends at 100)
MAX_BATCH_BYTES: Final = 64 * 1024  # a batch's request body

# the screens of the signer page (``step``) and what can happen on them (``op``)
Step = Literal[
    "loading",
    "consent",
    "refuse_confirm",
    "permission",
    "identity",
    "liveness",
    "question",
    "documents",
    "signing",
    "ended",
    "error",
]
Op = Literal[
    "screen_shown",  # the screen became the one shown (question: with its id and attempt)
    "text_shown",  # a text the server gave was displayed (target names it, sha256 is its UTF-8 digest)
    "click",  # a button (target: its id)
    "check",  # a checkbox ticked or cleared (target: its id, value: on | off)
    "page_shown",  # a document page came on screen (doc, page, sha256 of the document)
    "page_hidden",  # … and left it
    "page_read",  # the page's bottom edge was on screen
    "scrolled_end",  # the screen was scrolled to its end
    "zoom",  # the document zoom (value: percent)
    "text_size",  # Large text (value: on | off)
    "language",  # the page's language (value: zh | en)
    "hidden",  # the page was left (another tab or app, the screen locked)
    "visible",  # … and returned to
    "audio_started",  # a prompt's audio began (question, attempt, sha256 of the audio)
    "audio_ended",  # … and ended (value: ended | cut)
    "signature_stroke",  # a stroke drawn on the signature pad (value: its number; never its points)
    "signature_cleared",
]
STEPS: Final[tuple[str, ...]] = get_args(Step)
OPS: Final[tuple[str, ...]] = get_args(Op)

Word = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,15}$")]
Target = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$")]
QuestionId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")]
Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Entry(BaseModel):
    """One thing the page showed or the signer did (``t``: the page's clock, epoch milliseconds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    t: int = Field(ge=0, le=2**53)
    step: Step
    op: Op
    target: Target | None = None
    doc: int | None = Field(default=None, ge=0, le=1000)  # the document's index in the session
    page: int | None = Field(default=None, ge=1, le=100_000)
    sha256: Digest | None = None  # the identity of what was shown: the document, the audio, the text
    question: QuestionId | None = None
    attempt: int | None = Field(default=None, ge=1, le=100)
    value: Word | None = None

    @model_validator(mode="after")
    def _complete(self) -> Entry:
        if self.op in ("page_shown", "page_hidden", "page_read") and (self.doc is None or self.page is None):
            raise ValueError(f"a {self.op} entry names its document (doc) and page")
        if self.op in ("click", "check", "text_shown") and self.target is None:
            raise ValueError(f"a {self.op} entry names its target")
        return self


class Batch(BaseModel):
    """What the page sends: ``PUT /signer/v1/trace/{batch}`` with this body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    entries: tuple[Entry, ...] = Field(max_length=MAX_ENTRIES)

    @model_validator(mode="after")
    def _in_order(self) -> Batch:
        if not self.entries:  # here, not as a length bound: a bad entry would be reported twice
            raise ValueError("entries: a batch holds at least one entry")
        for i in range(1, len(self.entries)):
            if self.entries[i].t < self.entries[i - 1].t:
                raise ValueError(f"entries.{i}.t is earlier than the entry before it")
        return self

    def to_json(self) -> dict[str, Any]:
        """The batch as it is kept (fields left out when empty): the same batch always the same bytes."""
        return self.model_dump(mode="json", exclude_none=True)


def parse_batch(data: bytes | str | Mapping[str, Any], source: str = "operation trace") -> Batch:
    """A batch from the page's JSON; ``InvalidInput`` naming each field that is wrong."""
    try:
        if isinstance(data, Mapping):
            return Batch.model_validate(dict(data))
        return Batch.model_validate_json(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"]) or "body"
            problems.append(FieldProblem(path, str(err["msg"]).removeprefix("Value error, ")))
        raise InvalidInput(problems, source) from None


def check_batch_number(batch: int) -> None:
    if not 0 <= batch < MAX_BATCH:
        problem = FieldProblem("batch", f"must be between 0 and {MAX_BATCH - 1}")
        raise InvalidInput([problem], "operation trace")


class TraceBatchConflict(Conflict):
    """Another batch was already stored under this number."""

    code = "trace_batch_conflict"
    title = "A different trace batch was already stored under this number"

    def __init__(self, batch: int, stored: str, offered: str) -> None:
        super().__init__(
            f"trace batch {batch} is already stored with SHA-256 {stored}; the upload has {offered}"
        )
        self.batch, self.stored, self.offered = batch, stored, offered

    def extra(self) -> dict[str, object]:
        return {"batch": self.batch, "stored_sha256": self.stored}


class TraceClosed(Conflict):
    code = "trace_closed"
    title = "The operation trace of this session is closed"

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why

    def extra(self) -> dict[str, object]:
        return {"reason": self.why}


# --- the summary ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScreenVisit:
    step: str
    start_ms: int
    seconds: float  # until the next screen (the last one: until the trace's last entry)
    question: str | None = None
    attempt: int | None = None


@dataclass
class PageTime:
    page: int
    seconds: float = 0.0  # on screen, summed over every time it came into view
    shown: int = 0  # how many times it came on screen
    read: bool = False  # its bottom edge was on screen


@dataclass
class DocumentTime:
    doc: int
    sha256: str | None
    pages: dict[int, PageTime] = field(default_factory=dict)
    first_ms: int | None = None  # first shown

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.pages.values())


@dataclass(frozen=True)
class TextShown:
    """A text the server gave, as the page displayed it: its UTF-8 SHA-256 (never the text)."""

    target: str  # consent-recording | consent-biometric | question-text
    sha256: str
    question: str | None = None
    attempt: int | None = None


@dataclass(frozen=True)
class Operation:
    """A confirmation or a choice: a click, a tick, a toggle."""

    t: int
    step: str
    op: str
    target: str | None
    value: str | None


@dataclass(frozen=True)
class TraceSummary:
    batches: tuple[int, ...]  # the batch numbers held
    entries: int
    screens: tuple[ScreenVisit, ...]
    documents: tuple[DocumentTime, ...]
    operations: tuple[Operation, ...]
    away: int  # times the page was left
    away_seconds: float
    first_ms: int | None = None
    last_ms: int | None = None
    texts: tuple[TextShown, ...] = ()  # the server's texts the page displayed

    @property
    def missing_batches(self) -> tuple[int, ...]:
        """Numbers below the highest held that are not held (lost on the way, never re-sent)."""
        held = set(self.batches)
        return tuple(n for n in range(max(held, default=-1) + 1) if n not in held)

    def steps_shown(self) -> list[str]:
        return [v.step for v in self.screens]

    def first_shown(self, step: str) -> int | None:
        return next((v.start_ms for v in self.screens if v.step == step), None)

    def document(self, sha256: str) -> DocumentTime | None:
        return next((d for d in self.documents if d.sha256 == sha256), None)


RECORDED_OPS: Final = ("click", "check", "text_size", "language", "zoom")


def summarise(batches: Iterable[tuple[int, Batch]]) -> TraceSummary:
    """The trace read back: batches in number order, their entries in the page's order."""
    held = sorted(batches, key=lambda b: b[0])
    entries = [e for _, b in held for e in b.entries]
    entries.sort(key=lambda e: e.t)  # a reload starts a new clock origin: order by time, stable
    screens: list[ScreenVisit] = []
    documents: dict[int, DocumentTime] = {}
    open_pages: dict[tuple[int, int], int] = {}  # (doc, page) → when it came on screen
    operations: list[Operation] = []
    texts: list[TextShown] = []
    away, away_ms, left_at = 0, 0, None
    last = entries[-1].t if entries else 0

    def close_pages(at: int) -> None:
        for (doc, page), since in open_pages.items():
            documents[doc].pages[page].seconds += max(0, at - since) / 1000
        open_pages.clear()

    for e in entries:
        if e.op == "screen_shown":
            close_pages(e.t)
            screens.append(ScreenVisit(e.step, e.t, 0.0, e.question, e.attempt))
        elif e.op in ("page_shown", "page_hidden", "page_read") and e.doc is not None and e.page is not None:
            d = documents.setdefault(e.doc, DocumentTime(e.doc, e.sha256))
            if d.sha256 is None:
                d.sha256 = e.sha256
            p = d.pages.setdefault(e.page, PageTime(e.page))
            key = (e.doc, e.page)
            if e.op == "page_shown" and key not in open_pages:
                open_pages[key] = e.t
                p.shown += 1
                d.first_ms = e.t if d.first_ms is None else d.first_ms
            elif e.op == "page_hidden" and key in open_pages:
                p.seconds += max(0, e.t - open_pages.pop(key)) / 1000
            elif e.op == "page_read":
                p.read = True
        elif e.op == "hidden":
            if left_at is None:
                left_at, away = e.t, away + 1
        elif e.op == "visible":
            if left_at is not None:
                away_ms += e.t - left_at
                left_at = None
        elif e.op == "text_shown" and e.target is not None and e.sha256 is not None:
            texts.append(TextShown(e.target, e.sha256, e.question, e.attempt))
        if e.op in RECORDED_OPS:
            operations.append(Operation(e.t, e.step, e.op, e.target, e.value))
    close_pages(last)
    if left_at is not None:
        away_ms += last - left_at
    timed = [
        ScreenVisit(v.step, v.start_ms, round((nxt - v.start_ms) / 1000, 3), v.question, v.attempt)
        for v, nxt in zip(screens, [s.start_ms for s in screens[1:]] + [last], strict=False)
    ]
    return TraceSummary(
        batches=tuple(n for n, _ in held),
        entries=len(entries),
        screens=tuple(timed),
        documents=tuple(documents[k] for k in sorted(documents)),
        operations=tuple(operations),
        away=away,
        away_seconds=round(away_ms / 1000, 3),
        first_ms=entries[0].t if entries else None,
        last_ms=entries[-1].t if entries else None,
        texts=tuple(texts),
    )


def merged_screens(screens: Sequence[ScreenVisit]) -> list[ScreenVisit]:
    """Consecutive visits of one screen (the same question and attempt) as one, their times added."""
    out: list[ScreenVisit] = []
    for v in screens:
        prev = out[-1] if out else None
        if prev is not None and (prev.step, prev.question, prev.attempt) == (v.step, v.question, v.attempt):
            out[-1] = ScreenVisit(
                prev.step, prev.start_ms, round(prev.seconds + v.seconds, 3), prev.question, prev.attempt
            )
        else:
            out.append(v)
    return out
