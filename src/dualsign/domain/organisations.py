"""Organisations that seal documents, and a signer's authority to apply an organisation's seal.

An organisation is named by its unified social credit code (统一社会信用代码, GB 32100-2015): 18
characters from 31 (the digits and the capitals without I, O, Z, S, V), the last a check character over
the first 17 (weights 3^i mod 31). The person who applies the seal in a session acts as the
organisation's legal representative (法定代表人) or as its authorised agent (授权代理人), who must name
or upload the authorisation (授权委托书).
"""

from __future__ import annotations

from dataclasses import dataclass
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
