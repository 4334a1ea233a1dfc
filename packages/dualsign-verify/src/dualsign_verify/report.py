"""The verifier's report: each numbered step with its status and reason, and the verdict they give."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Report", "Status", "Step"]


class Status(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    INDETERMINATE = "INDETERMINATE"


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    status: Status
    reason: str


@dataclass
class Report:
    steps: list[Step] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> Status:
        statuses = {s.status for s in self.steps}
        if Status.FAILED in statuses:
            return Status.FAILED
        if Status.INDETERMINATE in statuses:
            return Status.INDETERMINATE
        return Status.PASSED

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "steps": [
                {"step": s.number, "name": s.name, "status": s.status.value, "reason": s.reason}
                for s in self.steps
            ],
            "facts": self.facts,
        }
