"""An organisation's certificates over time: which one seals, what a renewal and a revocation change,
what a revocation lists, and how a session that could not be sealed for a revoked organisation ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dualsign.domain.organisations import (
    CertificateStatus,
    CertificateTerm,
    RevocationReason,
    SealBlock,
    revocation_problems,
    seal_block,
    to_revoke,
)
from dualsign.domain.outcome import ending_reason, reason_code
from dualsign.domain.states import EventKind

T0 = datetime(2026, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
FIRST = CertificateTerm("a1", T0, T0 + 3 * YEAR, superseded_at=T0 + YEAR)
SECOND = CertificateTerm("b2", T0 + YEAR, T0 + 4 * YEAR)


def test_a_renewal_supersedes_the_old_certificate_and_the_new_one_is_current() -> None:
    at = T0 + 2 * YEAR
    assert FIRST.status(at, revoked_at=None) is CertificateStatus.SUPERSEDED
    assert SECOND.status(at, revoked_at=None) is CertificateStatus.CURRENT
    assert FIRST.status(T0 + 3 * YEAR + timedelta(seconds=1), None) is CertificateStatus.EXPIRED
    assert seal_block(None, SECOND, at) is None


def test_a_revocation_lists_every_certificate_still_in_its_term_and_marks_them_revoked() -> None:
    revoked = T0 + 2 * YEAR
    assert to_revoke([FIRST, SECOND], revoked) == ["a1", "b2"]  # the superseded key is not trusted either
    assert FIRST.status(revoked, revoked) is CertificateStatus.REVOKED
    assert SECOND.status(revoked + YEAR, revoked) is CertificateStatus.REVOKED
    later = T0 + 3 * YEAR + timedelta(days=1)  # the first one had expired by then: not listed
    assert to_revoke([FIRST, SECOND], later) == ["b2"]
    assert FIRST.status(later, later) is CertificateStatus.EXPIRED


def test_a_revoked_organisation_never_seals_again_an_expired_certificate_until_renewed() -> None:
    at = T0 + 2 * YEAR
    assert seal_block(at - timedelta(days=1), SECOND, at) is SealBlock.REVOKED
    assert SealBlock.REVOKED.final
    expired = seal_block(None, FIRST, T0 + 3 * YEAR + timedelta(seconds=1))
    assert expired is SealBlock.EXPIRED and not expired.final
    assert seal_block(None, SECOND, T0) is SealBlock.NOT_YET_VALID
    assert seal_block(None, None, at) is SealBlock.EXPIRED  # no certificate on record: a renewal gives one
    assert seal_block(at, None, at) is SealBlock.REVOKED


@pytest.mark.parametrize("reason", [r.value for r in RevocationReason])
def test_every_rfc_5280_reason_that_fits_an_organisation_is_taken(reason: str) -> None:
    assert revocation_problems(reason, None) == []


def test_a_revocation_names_what_is_wrong_with_it() -> None:
    (problem,) = revocation_problems("stolen", None)
    assert (
        problem[0] == "reason" and "key_compromise" in problem[1] and "cessation_of_operation" in problem[1]
    )
    assert revocation_problems("superseded", None)[0][0] == "reason"  # renewing is not revoking
    assert [f for f, _ in revocation_problems("key_compromise", "x" * 501)] == ["comment"]
    assert [f for f, _ in revocation_problems("key_compromise", "  ")] == ["comment"]
    assert revocation_problems("key_compromise", "USB key lost (ticket SEC-1)") == []


def test_a_session_failed_for_a_revoked_organisation_says_so_to_the_integrator() -> None:
    failed = EventKind.SESSION_FAILED
    assert reason_code(failed, {"reason": "…", "code": "organisation_revoked"}) == "organisation_revoked"
    assert reason_code(failed, {"reason": "…", "code": "made_up"}) == "other"  # only known codes
    assert reason_code(failed, {"reason": "…"}) == "other"
    assert reason_code(EventKind.QUESTION_FAILED, {"code": "organisation_revoked"}) == "question"
    events = [(EventKind.SESSION_CREATED, {}), (failed, {"reason": "…", "code": "organisation_revoked"})]
    assert ending_reason(events) == "organisation_revoked"
    assert ending_reason(events[:1]) is None
