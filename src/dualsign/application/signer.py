"""Signer-side use cases, authorised by the signer link's token.

Every call re-checks the session's stored state: an expired session is marked expired (an event) and
refused; a cancelled or finished one is refused. Text answers go through the same answer flow as speech.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

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


Action = Callable[[SigningSession, datetime], list[Event]]


def act(uow: UnitOfWork, clock: Clock, links: SignerLinks, token: str, action: Action) -> SignerView:
    """Load the open session behind ``token``, run ``action`` at the current time, store its events."""
    with uow:
        record, session = _load_open(uow, clock, links, token)
        events = action(session, clock.now())
        if events:
            persist(uow, session, events)
            uow.commit()
        return _view(record, session, events)


def open_session(
    uow: UnitOfWork, clock: Clock, links: SignerLinks, token: str, client: dict[str, str]
) -> SignerView:
    return act(uow, clock, links, token, lambda s, now: [s.open(now, client)])


def consent(
    uow: UnitOfWork, clock: Clock, links: SignerLinks, token: str, *, agree: bool, reason: str = ""
) -> SignerView:
    def decide(s: SigningSession, now: datetime) -> list[Event]:
        if agree:
            return s.give_consent(now) + ask_next(s, now)
        return [s.refuse_consent(now, reason[:500])]

    return act(uow, clock, links, token, decide)


def answer_text(uow: UnitOfWork, clock: Clock, links: SignerLinks, token: str, text: str) -> SignerView:
    return act(uow, clock, links, token, lambda s, now: answer_and_continue(s, now, text, {"input": "text"}))


def repeat_question(uow: UnitOfWork, clock: Clock, links: SignerLinks, token: str) -> SignerView:
    return act(uow, clock, links, token, lambda s, now: [s.repeat_question(now)])


def current(uow: UnitOfWork, clock: Clock, links: SignerLinks, token: str) -> SignerView:
    return act(uow, clock, links, token, lambda s, now: [])
