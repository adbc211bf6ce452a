"""The model server's own view of the timed part: its Prometheus counters before and after, subtracted.

Tells how much of a recommendation turn the model server itself spent
(request time, batch sizes, time in the model) and whether it refused
anything, so a slow turn can be placed: in the model, or around it.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

RECOMMEND_PATH = "/v1/recommend"


class MetricsUnavailable(RuntimeError):
    """The model server's /metrics could not be read."""


@dataclass(frozen=True)
class Snapshot:
    """The counters the report uses, as the server read them at one moment."""

    request_count: float
    request_seconds: float
    request_buckets: dict[float, float]
    failed_requests: float
    batch_count: float
    batch_size_sum: float
    batch_seconds: float


async def read_snapshot(session: aiohttp.ClientSession, base_url: str, token: str) -> Snapshot:
    """Read ``/metrics`` once."""
    try:
        async with session.get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {token}"}) as response:
            if response.status != 200:
                raise MetricsUnavailable(f"{base_url}/metrics answered HTTP {response.status}")
            text = await response.text()
    except (aiohttp.ClientError, TimeoutError) as error:
        raise MetricsUnavailable(f"{base_url}/metrics: {error}") from error
    values: dict[str, float] = {}
    buckets: dict[float, float] = {}
    failed = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "model_server_requests_total" and labels.get("endpoint") == RECOMMEND_PATH:
                failed += sample.value if labels.get("status") != "200" else 0.0
            elif sample.name.startswith("model_server_request_seconds") and labels.get("endpoint") == RECOMMEND_PATH:
                if sample.name.endswith("_bucket"):
                    buckets[float(labels["le"])] = sample.value
                else:
                    values[sample.name] = sample.value
            elif sample.name.startswith(("model_server_batch_size", "model_server_batch_seconds")):
                values[sample.name] = sample.value
    return Snapshot(
        values.get("model_server_request_seconds_count", 0.0), values.get("model_server_request_seconds_sum", 0.0),
        buckets, failed, values.get("model_server_batch_size_count", 0.0),
        values.get("model_server_batch_size_sum", 0.0), values.get("model_server_batch_seconds_sum", 0.0),
    )


def difference(before: Snapshot, after: Snapshot) -> dict[str, float | int | None]:
    """What happened between two snapshots: requests, their mean and p95 (as the histogram bucket's upper
    bound), refused requests, batches, mean batch size and mean time in the model per batch."""
    requests = after.request_count - before.request_count
    batches = after.batch_count - before.batch_count
    p95_bound = None
    if requests:
        for bound in sorted(after.request_buckets):
            if after.request_buckets[bound] - before.request_buckets.get(bound, 0.0) >= 0.95 * requests:
                p95_bound = bound
                break
    return {
        "requests": int(requests),
        "mean_request_ms": round(1000 * (after.request_seconds - before.request_seconds) / requests, 1)
        if requests else None,
        # None when the p95 lies above the largest finite bucket (or there were no requests).
        "p95_request_ms_at_most": None if p95_bound in (None, float("inf")) else round(1000 * p95_bound, 1),
        "failed_requests": int(after.failed_requests - before.failed_requests),
        "batches": int(batches),
        "mean_batch_size": round((after.batch_size_sum - before.batch_size_sum) / batches, 2) if batches else None,
        "mean_batch_ms": round(1000 * (after.batch_seconds - before.batch_seconds) / batches, 1) if batches else None,
    }
