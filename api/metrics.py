"""The process's Prometheus metrics. With several worker processes (`serve --workers N`)
counters live in PROMETHEUS_MULTIPROC_DIR and every worker's scrape answers for all."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "api_requests_total",
    "HTTP requests by route or GraphQL operation and status.",
    ["operation", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "api_request_duration_seconds",
    "Request latency by route or GraphQL operation.",
    ["operation"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LOGINS = Counter("api_logins_total", "Login attempts by outcome.", ["outcome"], registry=REGISTRY)


def process_registry() -> CollectorRegistry:
    """This process's metrics, or every worker's when they share a multiprocess directory."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus_client leaves it untyped
    return registry
