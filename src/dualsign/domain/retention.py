"""How long a session's evidence must be kept, and whether it may be deleted now.

The template's retention (e.g. insurance: 10 years after the contract ends, 5 years for contracts of
one year or less — 《保险法》第八十七条) runs from the end of the contract when the integrator gave its
term, else from the session's end. A legal hold stops deletion whatever the date. Pure: the caller
passes the dates and the events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dualsign.domain.templates import Retention

# ``retention: {years: permanent}`` (永久, e.g. real-estate registration files): the end date is the last
# day a datetime can hold, so every comparison says "not yet" and no deletion is ever allowed.
PERMANENT_UNTIL = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def is_permanent(until: datetime) -> bool:
    return until >= PERMANENT_UNTIL


def _add_years(when: datetime, years: int) -> datetime:
    try:
        return when.replace(year=when.year + years)
    except ValueError:  # 29 February
        return when.replace(year=when.year + years, day=28)


def _add_months(when: datetime, months: int) -> datetime:
    year, month = divmod(when.month - 1 + months, 12)
    day = min(when.day, 28)
    return when.replace(year=when.year + year, month=month + 1, day=day)


def retain_until(rule: Retention, ended_at: datetime, contract_term_months: int | None) -> datetime:
    if rule.years == "permanent":
        return PERMANENT_UNTIL
    start = _add_months(ended_at, contract_term_months) if contract_term_months else ended_at
    short = (
        rule.short_contract_years is not None
        and rule.short_contract_max_months is not None
        and contract_term_months is not None
        and contract_term_months <= rule.short_contract_max_months
    )
    years = rule.short_contract_years if short and rule.short_contract_years else int(rule.years)
    return _add_years(start, years)


@dataclass(frozen=True)
class DeletionDecision:
    allowed: bool
    reason: str


def may_delete(now: datetime, until: datetime, holds: int) -> DeletionDecision:
    if holds > 0:
        return DeletionDecision(False, f"{holds} legal hold(s) in force")
    if is_permanent(until):
        return DeletionDecision(False, "the template keeps this evidence permanently")
    if now < until:
        return DeletionDecision(False, f"retention runs until {until.date().isoformat()}")
    return DeletionDecision(
        True, f"retention ended on {until.date().isoformat()} and no legal hold is in force"
    )
