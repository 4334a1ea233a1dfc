"""Retention periods from the template rule, the contract term and legal holds."""

from __future__ import annotations

from datetime import UTC, datetime

from dualsign.domain.retention import may_delete, retain_until
from dualsign.domain.templates import Retention

INSURANCE = Retention(years=10, short_contract_years=5, short_contract_max_months=12)
END = datetime(2026, 11, 27, tzinfo=UTC)


def test_insurance_keeps_five_years_after_a_short_contract_and_ten_otherwise() -> None:
    assert retain_until(INSURANCE, END, 12) == datetime(
        2032, 11, 27, tzinfo=UTC
    )  # 1-year term: end + 1 y + 5 y
    assert retain_until(INSURANCE, END, 240) == datetime(2056, 11, 27, tzinfo=UTC)  # 20 years + 10
    assert retain_until(INSURANCE, END, None) == datetime(
        2036, 11, 27, tzinfo=UTC
    )  # term unknown: the longer rule


def test_a_hold_or_an_unexpired_period_refuses_deletion() -> None:
    until = datetime(2030, 1, 1, tzinfo=UTC)
    assert not may_delete(datetime(2029, 12, 31, tzinfo=UTC), until, 0).allowed
    assert "2030-01-01" in may_delete(datetime(2029, 12, 31, tzinfo=UTC), until, 0).reason
    assert not may_delete(datetime(2031, 1, 1, tzinfo=UTC), until, 1).allowed
    assert may_delete(datetime(2031, 1, 1, tzinfo=UTC), until, 0).allowed


def test_leap_day_ends_fall_back_to_the_28th() -> None:
    assert retain_until(Retention(years=1), datetime(2028, 2, 29, tzinfo=UTC), None).day == 28
