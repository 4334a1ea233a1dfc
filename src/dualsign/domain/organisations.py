"""Organisations that seal documents, and a signer's authority to apply an organisation's seal.

An organisation is named by its unified social credit code (统一社会信用代码, GB 32100-2015): 18
characters from 31 (the digits and the capitals without I, O, Z, S, V), the last a check character over
the first 17 (weights 3^i mod 31). The person who applies the seal in a session acts as the
organisation's legal representative (法定代表人) or as its authorised agent (授权代理人), who must name
or upload the authorisation (授权委托书).

The organisation seals with its current certificate. A renewal issues a new one and supersedes the old
(seals made with it stay valid: they are timestamped within its term). A revocation is final: every
certificate of the organisation still in its term is revoked, no session may name it, no seal is applied
for it any more, and it is never renewed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

CREDIT_CODE_CHARS: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
MAX_NAME: Final = 100
MAX_SEAL_TEXT: Final = 12


def credit_code_check(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a unified social credit code."""
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a unified social credit code (None when it is one)."""
    if len(code) != 18:
        return f"must be 18 characters (GB 32100), got {len(code)}"
    wrong = sorted({c for c in code if c not in CREDIT_CODE_CHARS})
    if wrong:
        return (
            f"contains characters a credit code never uses: {''.join(wrong)} (no I, O, Z, S, V, lower case)"
        )
    if not code[2:8].isdigit():
        return "characters 3 to 8 must be the digits of an administrative division code"
    expected = credit_code_check(code[:17])
    if code[17] != expected:
        return f"the check character is wrong (GB 32100: expected {expected}, got {code[17]})"
    return None


class SealRole(StrEnum):
    """In what capacity the signer applies the organisation's seal."""

    LEGAL_REPRESENTATIVE = "legal_representative"  # 法定代表人
    AUTHORISED_AGENT = "authorised_agent"  # 授权代理人

    @property
    def zh(self) -> str:
        return "法定代表人" if self is SealRole.LEGAL_REPRESENTATIVE else "授权代理人"

    @property
    def en(self) -> str:
        return "legal representative" if self is SealRole.LEGAL_REPRESENTATIVE else "authorised agent"


_ROLE_NAMES: Final = {
    "legal_representative": SealRole.LEGAL_REPRESENTATIVE,
    "法定代表人": SealRole.LEGAL_REPRESENTATIVE,
    "authorised_agent": SealRole.AUTHORISED_AGENT,
    "authorized_agent": SealRole.AUTHORISED_AGENT,
    "授权代理人": SealRole.AUTHORISED_AGENT,
    "委托代理人": SealRole.AUTHORISED_AGENT,
    "授权委托代理人": SealRole.AUTHORISED_AGENT,
}
ROLE_CHOICES: Final = ("legal_representative", "authorised_agent", "法定代表人", "授权代理人")


def seal_role(text: str) -> SealRole | None:
    """The role named by ``text`` (the code or its Chinese name), None when it names none."""
    return _ROLE_NAMES.get(text.strip().lower() if text.isascii() else text.strip())


@dataclass(frozen=True)
class SealAuthority:
    """The signer's authority to apply the seal: the role and, for an agent, the authorisation."""

    role: SealRole
    document_ref: str | None = None  # the authorisation's number or reference, as the integrator gives it
    document_sha256: str | None = None  # the uploaded authorisation, stored as an artifact

    def problems(self) -> list[tuple[str, str]]:
        """(field, reason) for what is missing or not allowed."""
        out: list[tuple[str, str]] = []
        if self.document_ref is not None and not 1 <= len(self.document_ref) <= 200:
            out.append(("authorisation_ref", "must be 1 to 200 characters"))
        if self.role is SealRole.AUTHORISED_AGENT and not (self.document_ref or self.document_sha256):
            out.append(
                (
                    "authorisation_ref",
                    "an authorised agent needs the authorisation (授权委托书): give its reference "
                    "or upload it as authorisation_document",
                )
            )
        return out


# --- the organisation's certificates: renewal and revocation ------------------------------------------


class RevocationReason(StrEnum):
    """Why an organisation's certificates are revoked: RFC 5280's reason codes that fit an organisation
    (``superseded`` is what a renewal does, and a renewal revokes nothing)."""

    UNSPECIFIED = "unspecified"  # written to the CRL without a reason code, as RFC 5280 asks
    KEY_COMPROMISE = "key_compromise"  # the key may be known to someone else
    AFFILIATION_CHANGED = "affiliation_changed"  # the organisation is no longer the tenant's to seal for
    CESSATION_OF_OPERATION = "cessation_of_operation"  # dissolved or deregistered (注销)
    PRIVILEGE_WITHDRAWN = "privilege_withdrawn"  # its right to seal through this platform is withdrawn


MAX_REVOCATION_COMMENT: Final = 500


def revocation_problems(reason: str, comment: str | None) -> list[tuple[str, str]]:
    """(field, reason) for a revocation request that cannot be taken as it is."""
    out: list[tuple[str, str]] = []
    if reason not in {r.value for r in RevocationReason}:
        out.append(("reason", f"must be one of {', '.join(r.value for r in RevocationReason)}"))
    if comment is not None and not 1 <= len(comment.strip()) <= MAX_REVOCATION_COMMENT:
        out.append(("comment", f"must be 1 to {MAX_REVOCATION_COMMENT} characters"))
    return out


class CertificateStatus(StrEnum):
    CURRENT = "current"  # the one the organisation seals with
    SUPERSEDED = "superseded"  # replaced by a renewal: seals made with it stay valid, no new seal uses it
    EXPIRED = "expired"  # its term ended
    REVOKED = "revoked"  # on the issuing CA's revocation list since the organisation was revoked


@dataclass(frozen=True)
class CertificateTerm:
    """One of the organisation's certificates: when it is valid and whether a renewal replaced it."""

    serial: str
    not_before: datetime
    not_after: datetime
    superseded_at: datetime | None = None

    def status(self, at: datetime, revoked_at: datetime | None) -> CertificateStatus:
        """Its status at ``at``: a certificate still in its term when the organisation was revoked is
        revoked (superseded ones too: no key of a revoked organisation is trusted after it)."""
        if revoked_at is not None and self.not_after > revoked_at:
            return CertificateStatus.REVOKED
        if at > self.not_after:
            return CertificateStatus.EXPIRED
        if self.superseded_at is not None:
            return CertificateStatus.SUPERSEDED
        return CertificateStatus.CURRENT


def to_revoke(terms: Sequence[CertificateTerm], at: datetime) -> list[str]:
    """The serials a revocation at ``at`` puts on the revocation list: every certificate not yet expired,
    the current one and those renewals superseded (an expired certificate is no longer listed)."""
    return [t.serial for t in terms if t.not_after > at]


class SealBlock(StrEnum):
    """Why the organisation's seal cannot be applied now."""

    REVOKED = "organisation_revoked"  # for good: a revoked organisation is never renewed
    EXPIRED = "certificate_expired"  # its current certificate's term ended: a renewal lifts it
    NOT_YET_VALID = "certificate_not_yet_valid"  # the clock is before its term: a clock problem

    @property
    def final(self) -> bool:
        """Nothing the integrator can do makes this organisation's seal possible again."""
        return self is SealBlock.REVOKED


def seal_block(
    revoked_at: datetime | None, current: CertificateTerm | None, at: datetime
) -> SealBlock | None:
    """Whether the organisation may seal at ``at`` with its current certificate (None: it may; with no
    certificate on record it may not, until a renewal gives it one)."""
    if revoked_at is not None:
        return SealBlock.REVOKED
    if current is None:
        return SealBlock.EXPIRED
    if at < current.not_before:
        return SealBlock.NOT_YET_VALID
    if at > current.not_after:
        return SealBlock.EXPIRED
    return None
