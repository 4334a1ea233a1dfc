"""What operators watch: readiness of the service's dependencies and the figures behind its metrics."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dualsign.application.ports import UnitOfWork


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks)


Probe = Callable[[], str]  # returns a detail; raises when the dependency is not usable


def readiness(probes: Mapping[str, Probe]) -> Readiness:
    """Run every probe; one failing makes the service not ready (and says which, and why)."""
    checks = []
    for name, probe in probes.items():
        try:
            checks.append(Check(name, True, probe()))
        except Exception as exc:  # a probe reports any failure of its dependency, whatever its type
            checks.append(Check(name, False, f"{type(exc).__name__}: {str(exc)[:300]}"))
    return Readiness(tuple(checks))


@dataclass(frozen=True)
class StoreFigures:
    sessions_by_status: Mapping[str, int]
    jobs_by_kind_state: Mapping[tuple[str, str], int]


def store_figures(uow: UnitOfWork) -> StoreFigures:
    with uow:
        return StoreFigures(dict(uow.sessions.count_by_status()), dict(uow.jobs.counts()))
