"""Prometheus metrics of one server, in their own registry (one per app, so tests can build many)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


@dataclass
class ServerMetrics:
    """Request count by endpoint and status, latency and batch-size histograms, the model version."""

    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    batch_size: Histogram
    batch_seconds: Histogram
    model_info: Gauge

    @classmethod
    def create(cls) -> ServerMetrics:
        """Fresh metrics in a fresh registry."""
        registry = CollectorRegistry()
        return cls(
            registry=registry,
            requests=Counter("model_server_requests", "HTTP requests answered", ["endpoint", "status"],
                             registry=registry),
            latency=Histogram("model_server_request_seconds", "Time to answer a request", ["endpoint"],
                              buckets=LATENCY_BUCKETS, registry=registry),
            batch_size=Histogram("model_server_batch_size", "Requests per model batch", buckets=BATCH_BUCKETS,
                                 registry=registry),
            batch_seconds=Histogram("model_server_batch_seconds", "Time in the model per batch",
                                    buckets=LATENCY_BUCKETS, registry=registry),
            model_info=Gauge("model_server_model_info", "The model being served (value 1)", ["version", "device"],
                             registry=registry),
        )

    def observe_batch(self, size: int, seconds: float) -> None:
        """The batcher's ``on_batch`` observer."""
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)

    def set_model(self, version: str, device: str) -> None:
        """Only the current version reads 1."""
        self.model_info.clear()
        self.model_info.labels(version=version, device=device).set(1)

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)
