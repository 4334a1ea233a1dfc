"""A kept aggregate: ``clone`` shares nothing that folding changes, ``extend`` catches up as a replay would,
and the recording's chunks are indexed as they are folded (no scan of every event per chunk)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dualsign.domain import recording
from dualsign.domain.session import SigningSession
from dualsign.domain.states import SessionState
from tests.unit.domain.test_session import Driver, started, template


def chunk(index: int, digest: str = "c") -> recording.Chunk:
    return recording.Chunk(0, index, digest * 64, 1000, index * 2000, index * 2000 + 2000)


def midway() -> Driver:
    """A session with a re-ask, a document viewed, recording chunks and a warning behind it."""
    d = started()
    d.say("不知道")
    for i in range(3):
        d.s.store_recording_chunk(d.tick(), chunk(i), None)
    details = {
        "since_s": 3.0,
        "raised_at_s": 4.5,
        "after_s": 1.5,
        "stream_time_s": 4.5,
        "snapshot_sha256": "0" * 64,
    }
    d.s.warn(d.tick(), warning="no_face", details=details)
    return d


def finish(s: SigningSession, d: Driver) -> None:
    """Everything that changes folded state: answers, chunks, the end of the questions, documents."""
    d.s = s
    d.say("知道")
    d.say("不是")
    d.say("不是")
    d.say("没有")
    assert s.state is SessionState.DOCUMENT_REVIEW
    s.store_recording_chunk(d.tick(), chunk(3), None)
    s.view_document(d.tick(), document="d" * 64, page=1, pages=2)
    s.close_recording(d.tick(), by="signer")


def test_a_clone_goes_on_alone_and_leaves_the_original_as_it_was() -> None:
    d = midway()
    original = d.s
    before = copy.deepcopy(vars(original))
    clone = original.clone()
    assert vars(clone) == vars(original)
    finish(clone, d)
    assert vars(original) == before  # nothing the clone folded reached the original
    assert clone.recording_closed and not original.recording_closed
    assert set(clone.recording_chunks()) == {(0, 0), (0, 1), (0, 2), (0, 3)}
    assert set(original.recording_chunks()) == {(0, 0), (0, 1), (0, 2)}
    reading = clone.clone()  # in document review: the pages seen are copied too
    reading.view_document(d.tick(), document="d" * 64, page=2, pages=2)
    assert reading.pages_seen == {"d" * 64: {1, 2}} and clone.pages_seen == {"d" * 64: {1}}


def test_every_mutable_part_of_the_aggregate_is_copied() -> None:
    """A field added to the aggregate later and left out of ``clone`` would be shared: this names it."""
    s = midway().s
    clone = s.clone()

    def mutable(value: Any) -> bool:
        params = getattr(value, "__dataclass_params__", None)
        return isinstance(value, list | dict | set) or (params is not None and not params.frozen)

    shared = [name for name, value in vars(s).items() if mutable(value) and vars(clone)[name] is value]
    assert shared == []
    assert all(clone.progress[q] is not p for q, p in s.progress.items())
    assert all(clone.pages_seen.get(k) is not v for k, v in s.pages_seen.items())


def test_extend_catches_up_as_a_replay_of_the_whole_chain() -> None:
    d = midway()
    kept = SigningSession.replay("ses_1", d.s.template, d.s.events)
    done = len(d.s.events)
    finish(d.s, d)
    kept.extend(d.s.events[done:])
    assert vars(kept) == vars(SigningSession.replay("ses_1", d.s.template, d.s.events))
    assert kept.next_prompt() == d.s.next_prompt()


def test_chunks_are_kept_in_arrival_order_and_checked_against_what_is_stored() -> None:
    d = started(template())
    for i in (2, 0, 1):
        d.s.store_recording_chunk(d.tick(), chunk(i), None)
    assert list(d.s.recording_chunks()) == [(0, 2), (0, 0), (0, 1)]
    assert d.s.store_recording_chunk(d.tick(), chunk(1), None) is None  # the same chunk again
    with pytest.raises(recording.ChunkConflict) as conflict:
        d.s.chunk_is_new(chunk(1, "e"))
    assert conflict.value.stored == "c" * 64
    d.s.recording_chunks().clear()  # a copy: the aggregate's own index is untouched
    assert len(d.s.recording_chunks()) == 3
