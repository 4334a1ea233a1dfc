"""Prometheus metrics of one service process (its own registry: tests build many apps side by side).

Counted as they happen: HTTP requests by route name (never by path: paths carry tokens and ids),
answer verdict latency (end of speech to the verdict on the page's channel), engine call times.
Read from the store when scraped: sessions by state, jobs by kind and state (the queue depth).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from dualsign.application.operations import StoreFigures

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)


class _StoreCollector(Collector):
    def __init__(self, figures: Callable[[], StoreFigures]) -> None:
        self.figures = figures

    def collect(self) -> Iterator[GaugeMetricFamily]:
        f = self.figures()
        sessions = GaugeMetricFamily("dualsign_sessions", "Signing sessions by state", labels=["state"])
        for state, n in sorted(f.sessions_by_status.items()):
            sessions.add_metric([state], n)
        yield sessions
        jobs = GaugeMetricFamily("dualsign_jobs", "Durable jobs by kind and state", labels=["kind", "state"])
        for (kind, state), n in sorted(f.jobs_by_kind_state.items()):
            jobs.add_metric([kind, state], n)
        yield jobs


class Metrics:
    def __init__(self, figures: Callable[[], StoreFigures]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http = Histogram(
            "dualsign_http_request_seconds",
            "HTTP request time by route name, method and status",
            ["route", "method", "status"],
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self.verdict = Histogram(
            "dualsign_answer_verdict_seconds",
            "From the end of the signer's speech to the verdict sent to the page",
            ["input"],
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self.preview = Histogram(
            "dualsign_answer_preview_seconds",
            "End of the signer's speech to the verdict previewed, before the end is confirmed",
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self.engine = Histogram(
            "dualsign_engine_seconds",
            "Engine call time by engine and what it did",
            ["engine", "task"],
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self.live = Counter(
            "dualsign_live_messages", "Live-channel messages by type", ["type"], registry=self.registry
        )
        self.registry.register(_StoreCollector(figures))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
