"""Domain errors: a hierarchy that carries data, never a web framework type.

Each error has a stable ``code`` and an ``http_status`` hint; the API maps them to RFC 9457 problem
details, the CLI prints them. ``diagnostics()`` gives the human text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class DualSignError(Exception):
    """Base of every error the product raises on purpose."""

    code: str = "dualsign_error"
    http_status: int = 500
    title: str = "Internal error"

    def diagnostics(self) -> str:
        return str(self)

    def extra(self) -> dict[str, object]:
        """Machine-readable fields added to a problem document."""
        return {}


class NotFound(DualSignError):
    code = "not_found"
    http_status = 404
    title = "Not found"

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} was not found")
        self.kind = kind
        self.ident = ident

    def extra(self) -> dict[str, object]:
        return {"resource": self.kind, "id": self.ident}


class Conflict(DualSignError):
    code = "conflict"
    http_status = 409
    title = "Conflict"


class OrganisationExists(Conflict):
    """The tenant already registered an organisation with this unified social credit code."""

    code = "organisation_exists"
    title = "Organisation already registered"

    def __init__(self, credit_code: str, existing_id: str) -> None:
        self.credit_code = credit_code
        self.existing_id = existing_id
        super().__init__(
            f"an organisation with credit code {credit_code} is already registered: {existing_id}"
        )

    def extra(self) -> dict[str, object]:
        return {"credit_code": self.credit_code, "organisation_id": self.existing_id}


class OrganisationRevoked(Conflict):
    """The organisation was revoked: it is never renewed, and revoking it again changes nothing."""

    code = "organisation_revoked"
    title = "Organisation revoked"

    def __init__(self, organisation_id: str, revoked_at: str, reason: str) -> None:
        self.organisation_id = organisation_id
        self.revoked_at = revoked_at
        self.reason = reason
        super().__init__(
            f"organisation {organisation_id} was revoked at {revoked_at} ({reason}); a revoked "
            "organisation is never renewed: register it again (POST /v1/organisations, a new id, key and "
            "certificate) if it is to seal again"
        )

    def extra(self) -> dict[str, object]:
        return {
            "field": "organisation",
            "organisation_id": self.organisation_id,
            "revoked_at": self.revoked_at,
            "revocation_reason": self.reason,
        }


class OrganisationCertificateInvalid(Conflict):
    """The organisation's current certificate cannot seal now (expired, or not yet valid)."""

    code = "organisation_certificate_invalid"
    title = "The organisation's certificate cannot seal now"

    def __init__(self, organisation_id: str, block: str, detail: str) -> None:
        self.organisation_id = organisation_id
        self.block = block
        super().__init__(detail)

    def extra(self) -> dict[str, object]:
        return {"field": "organisation", "organisation_id": self.organisation_id, "block": self.block}


class TypedAnswersNotAllowed(Conflict):
    """The signer typed an answer where the template asks for spoken confirmation."""

    code = "typed_answers_not_allowed"
    title = "Typed answers not allowed"

    def __init__(self, template_key: str) -> None:
        self.template_key = template_key
        super().__init__(f"template {template_key!r} requires spoken answers; typed answers are not allowed")

    def extra(self) -> dict[str, object]:
        return {"template": self.template_key}


class DecisionExists(Conflict):
    """A reviewer decided a session that already has a decision, without saying it overrides it."""

    code = "decision_exists"
    title = "The session already has a review decision"

    def __init__(self, decision: str, by: str, count: int) -> None:
        super().__init__(
            f"the session was already decided ({decision} by {by}); a new decision must override it "
            "with a reason (override_reason), and both stay on record"
        )
        self.decision = decision
        self.by = by
        self.count = count

    def extra(self) -> dict[str, object]:
        return {"decision": self.decision, "by": self.by, "decisions": self.count}


class ReviewIncomplete(Conflict):
    """The signer tried to finish reviewing before the template's reading rules were met."""

    code = "review_incomplete"
    title = "Documents not fully reviewed"

    def __init__(self, unread: Sequence[str], seconds_left: float) -> None:
        parts = []
        if unread:
            parts.append(f"not read to the last page: {', '.join(unread)}")
        if seconds_left > 0:
            parts.append(f"{seconds_left:.0f} s of the minimum review time left")
        super().__init__("; ".join(parts))
        self.unread = list(unread)
        self.seconds_left = max(seconds_left, 0.0)

    def extra(self) -> dict[str, object]:
        return {"unread_documents": self.unread, "seconds_left": round(self.seconds_left, 1)}


@dataclass(frozen=True)
class FieldProblem:
    """One reason a piece of input was refused: where (a dotted path) and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class InvalidInput(DualSignError):
    code = "invalid_input"
    http_status = 422
    title = "Invalid input"

    def __init__(self, problems: Sequence[FieldProblem], source: str = "") -> None:
        self.problems = tuple(problems)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(str(p) for p in self.problems))

    def diagnostics(self) -> str:
        lines = [f"{self.source or 'input'} is invalid:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    def extra(self) -> dict[str, object]:
        out: dict[str, object] = {"errors": [{"field": p.path, "reason": p.reason} for p in self.problems]}
        if self.source:
            out["source"] = self.source
        return out


class TemplateInvalid(InvalidInput):
    code = "template_invalid"
    title = "Invalid scenario template"


class IllegalTransition(DualSignError):
    """An event that the session's current state does not allow."""

    code = "illegal_transition"
    http_status = 409
    title = "Not allowed in the session's current state"

    def __init__(self, state: str, event: str) -> None:
        super().__init__(f"event {event!r} is not allowed in state {state!r}")
        self.state = state
        self.event = event

    def extra(self) -> dict[str, object]:
        return {"state": self.state, "event": self.event}


class PayloadTooLarge(DualSignError):
    code = "payload_too_large"
    http_status = 413
    title = "Payload too large"

    def __init__(self, field: str, limit: int, size: int | None = None) -> None:
        got = f" (got {size} bytes)" if size is not None else ""
        super().__init__(f"{field} exceeds the limit of {limit} bytes{got}")
        self.field = field
        self.limit = limit
        self.size = size

    def extra(self) -> dict[str, object]:
        return {"field": self.field, "limit": self.limit}


class UnsupportedMedia(DualSignError):
    code = "unsupported_media_type"
    http_status = 415
    title = "Unsupported media type"

    def __init__(self, field: str, got: str, allowed: Sequence[str]) -> None:
        super().__init__(f"{field}: {got or 'unknown type'} is not accepted; use one of {', '.join(allowed)}")
        self.field = field
        self.got = got
        self.allowed = tuple(allowed)

    def extra(self) -> dict[str, object]:
        return {"field": self.field, "got": self.got, "allowed": list(self.allowed)}


class Forbidden(DualSignError):
    code = "forbidden"
    http_status = 403
    title = "Not allowed for this role"

    def __init__(self, role: str, action: str) -> None:
        super().__init__(f"the role {role!r} may not {action}")
        self.role, self.action = role, action

    def extra(self) -> dict[str, object]:
        return {"role": self.role, "action": self.action}


class InsecureTransport(DualSignError):
    """A credential offered over plain HTTP from another machine (it crossed the network in clear)."""

    code = "https_required"
    http_status = 403
    title = "HTTPS required"


class TooManyAttempts(DualSignError):
    """Too many failed attempts in a while (console sign-in): try again after ``retry_after_s``."""

    code = "too_many_attempts"
    http_status = 429
    title = "Too many attempts"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s

    def extra(self) -> dict[str, object]:
        return {"retry_after_s": self.retry_after_s}


class Unauthorized(DualSignError):
    code = "unauthorized"
    http_status = 401
    title = "Unauthorized"


class TokenInvalid(Unauthorized):
    code = "token_invalid"
    title = "Signer link invalid or expired"
