"""Signer-side use cases, authorised by the signer link's token.

Every call re-checks the session's stored state: an expired session is marked expired (an event) and
refused; a cancelled or finished one is refused. Text answers go through the same answer flow as speech.
"""

from __future__ import annotations

from dataclasses import dataclass

from dualsign.application.answering import answer_and_continue, ask_next
from dualsign.application.evidence_log import persist
from dualsign.application.ports import Clock, UnitOfWork
from dualsign.application.records import SessionRecord
from dualsign.application.sessions import load_aggregate
from dualsign.application.signer_links import SignerLinks
from dualsign.domain.errors import TokenInvalid
from dualsign.domain.session import Event, Prompt, SigningSession


@dataclass(frozen=True)
class SignerView:
    record: SessionRecord
    state: str
    prompt: Prompt | None
    events: list[Event]  # what this call added


def _load_open(
    uow: UnitOfWork, clock: Clock, links: SignerLinks, token: str
) -> tuple[SessionRecord, SigningSession]:
    claim = links.verify_signature(token)
    now = clock.now()
    record, session = load_aggregate(uow, claim.session_id)
    if not session.current_state.is_open:
        raise TokenInvalid(f"this signing session is {session.current_state.value}")
    if now >= record.expires_at:
        persist(uow, session, [session.expire(now)])
        uow.commit()
        raise TokenInvalid("this signing session has expired")
    if claim.expired(now):
        raise TokenInvalid("the signer link has expired")
    return record, session


def _view(record: SessionRecord, session: SigningSession, events: list[Event]) -> SignerView:
    return SignerView(record, session.current_state.value, session.next_prompt(), events)


def open_session(
    uow: UnitOfWork, clock: Clock, links: SignerLinks, token: str, client: dict[str, str]
) -> SignerView:
    with uow:
        record, session = _load_open(uow, clock, links, token)
        events = [session.open(clock.now(), client)]
        persist(uow, session, events)
        uow.commit()
        return _view(record, session, events)


def consent(
    uow: UnitOfWork, clock: Clock, links: SignerLinks, token: str, *, agree: bool, reason: str = ""
) -> SignerView:
    with uow:
        record, session = _load_open(uow, clock, links, token)
        now = clock.now()
        if agree:
            events = session.give_consent(now)
            events += ask_next(session, now)
        else:
            events = [session.refuse_consent(now, reason[:500])]
        persist(uow, session, events)
        uow.commit()
        return _view(record, session, events)


def answer_text(uow: UnitOfWork, clock: Clock, links: SignerLinks, token: str, text: str) -> SignerView:
    with uow:
        record, session = _load_open(uow, clock, links, token)
        events = answer_and_continue(session, clock.now(), text, {"input": "text"})
        persist(uow, session, events)
        uow.commit()
        return _view(record, session, events)


def repeat_question(uow: UnitOfWork, clock: Clock, links: SignerLinks, token: str) -> SignerView:
    with uow:
        record, session = _load_open(uow, clock, links, token)
        events = [session.repeat_question(clock.now())]
        persist(uow, session, events)
        uow.commit()
        return _view(record, session, events)


def current(uow: UnitOfWork, clock: Clock, links: SignerLinks, token: str) -> SignerView:
    with uow:
        record, session = _load_open(uow, clock, links, token)
        return _view(record, session, [])
