"""Reading the operation trace back for sealing: a batch that no longer parses is named, never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from dualsign.application.signer.trace import TraceUnreadable, read_trace
from dualsign.domain.errors import NotFound
from dualsign_verify.canonical import canonical_json
from tests.unit.domain.test_trace import ended_session


class Blobs:
    def __init__(self, held: dict[str, bytes]) -> None:
        self.held = held

    def get(self, sha256: str) -> bytes:
        if sha256 not in self.held:
            raise NotFound("blob", sha256)
        return self.held[sha256]


def stored(blobs: dict[str, bytes], *batches: tuple[int, Any]) -> Any:
    d = ended_session()
    for n, body in batches:
        digest = f"{n:064x}"
        blobs[digest] = body if isinstance(body, bytes) else canonical_json(body)
        d.s.store_trace_batch(d.tick(), batch=n, entries=1, sha256=digest, sm3=None, size=1)
    return d.s


def test_the_batches_are_read_back_in_number_order() -> None:
    held: dict[str, bytes] = {}
    one = {
        "version": 1,
        "entries": [{"t": 2_000, "step": "question", "op": "screen_shown", "question": "q1"}],
    }
    zero = {"version": 1, "entries": [{"t": 1_000, "step": "consent", "op": "screen_shown"}]}
    session = stored(held, (1, one), (0, zero))
    summary = read_trace(session, Blobs(held))  # type: ignore[arg-type]
    assert summary is not None and [v.step for v in summary.screens] == ["consent", "question"]
    assert read_trace(ended_session().s, Blobs({})) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("body", [b"not json", b'{"version": 1, "entries": [{"t": 1}]}', None])
def test_a_batch_that_is_gone_or_no_longer_parses_is_named(body: bytes | None) -> None:
    held: dict[str, bytes] = {}
    session = stored(held, (0, body or b"{}"))
    if body is None:
        held.clear()
    with pytest.raises(TraceUnreadable) as caught:
        read_trace(session, Blobs(held))  # type: ignore[arg-type]
    assert caught.value.number == 0 and str(caught.value).startswith("trace batch 0: ")
