"""What the browser tests check of the page's operation trace (屏幕操作过程), read from the stored batches."""

from __future__ import annotations

import itertools
import json
from typing import Any

from dualsign.application.ports import BlobStore


def trace_entries(blobs: BlobStore, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every entry of the session's trace, batch by batch in number order."""
    batches = sorted(
        (e["payload"]["batch"], e["payload"]["sha256"])
        for e in events
        if e["kind"] == "artifact_stored" and e["payload"]["role"] == "operation_trace"
    )
    return [x for _, digest in batches for x in json.loads(blobs.get(digest))["entries"]]


def check_trace(blobs: BlobStore, events: list[dict[str, Any]]) -> None:
    """The page's operation trace holds the screens the signer went through, in order, the document's
    page on screen and read, and the confirmations clicked."""
    batches = sorted(
        (e["payload"]["batch"], e["payload"]["sha256"])
        for e in events
        if e["kind"] == "artifact_stored" and e["payload"]["role"] == "operation_trace"
    )
    assert [n for n, _ in batches] == list(range(len(batches))), batches  # none lost
    kept = [blobs.get(digest) for _, digest in batches]
    entries = [x for data in kept for x in json.loads(data)["entries"]]
    span_s = (entries[-1]["t"] - entries[0]["t"]) / 1000
    size = sum(map(len, kept))
    print(f"trace: {len(batches)} batches, {len(entries)} entries, {size} bytes over {span_s:.1f} s")
    shown = [x["step"] for x in entries if x["op"] == "screen_shown"]
    steps = [s for i, s in enumerate(shown) if i == 0 or shown[i - 1] != s]
    assert steps == ["consent", "identity", "liveness", "question", "documents", "signing", "ended"], shown
    (document,) = [
        e["payload"]["sha256"]
        for e in events
        if e["kind"] == "artifact_stored" and e["payload"]["role"] == "document"
    ]
    pages = [x for x in entries if x["op"] in ("page_shown", "page_read")]
    assert {(x["op"], x["doc"], x["page"], x["sha256"]) for x in pages} >= {
        ("page_shown", 0, 1, document),
        ("page_read", 0, 1, document),
    }, pages
    clicks = [x["target"] for x in entries if x["op"] == "click"]
    assert clicks == ["agree", "read-done", "sign"], clicks
    ticks = [(x["target"], x["value"]) for x in entries if x["op"] == "check"]
    assert ticks == [("c-rec", "on"), ("c-bio", "on")], ticks
    asked = {e["payload"]["question_id"] for e in events if e["kind"] == "question_asked"}
    assert asked == {
        x.get("question") for x in entries if x["step"] == "question" and x["op"] == "screen_shown"
    }
    # the consent texts and every prompt displayed as the server gave them (QC compares the digests)
    texts = {x["target"] for x in entries if x["op"] == "text_shown"}
    assert texts == {"consent-recording", "consent-biometric", "question-text"}, entries
    audio = [x for x in entries if x["op"] == "audio_ended"]
    assert audio and all(x["value"] == "ended" for x in audio), audio
    assert all(e["t"] <= f["t"] for e, f in itertools.pairwise(entries))  # the page's order
