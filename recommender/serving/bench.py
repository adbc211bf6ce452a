"""``python -m recommender.serving.bench --model-dir DIR``: latency and throughput of the model server.

Starts the real server twice as a subprocess on a free loopback port (with
micro-batching, then ``--max-batch 1``), against the store database, and
measures for each: p50/p95 latency of single requests sent one after the
other, and throughput at 1, 8 and 32 concurrent clients (each level bounded
by a request count and a time cap). Writes ``results/bench/model_server.md``
and ``.json`` with the batching/no-batching throughput ratio at 32 clients
and the machine facts. The client runs on the same machine and shares its
cores with the server, as the action server would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp
import numpy as np

REPO = Path(__file__).resolve().parents[2]
CONVERSATIONS = (
    "I need running shoes for a marathon", "something for my kitchen", "a gift for my dad who likes coffee",
    "wireless headphones under 500", "我想买一台洗衣机", "有没有适合宝宝的东西", "my printer is out of ink",
    "a warm jacket for winter", "skincare for dry skin", "推荐一款手机壳", "", "toys for a 5 year old",
)


@dataclass
class ArmResult:
    """One server configuration's figures."""

    max_batch: int
    evidence: bool
    p50_ms: float
    p95_ms: float
    sequential_requests: int
    throughput: dict[str, float]  # clients -> requests/s
    errors: int
    mean_batch_size: float | None  # over the whole run (sequential requests included)
    batch_at: dict[str, float | None]  # clients -> mean batch size during that level


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sample_bodies(database_url: str, count: int, seed: int = 7) -> list[dict]:
    """A fixed mix of requests: three in four from signed-in customers with purchases, one anonymous."""
    from sqlalchemy import select

    from store.db import make_engine, make_session_factory
    from store.models import Customer, Order

    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            customers = list(session.scalars(select(Customer.external_id).join(Order).distinct().limit(500)))
    finally:
        engine.dispose()
    rng = random.Random(seed)
    return [
        {"customer_id": rng.choice(customers) if customers and rng.random() < 0.75 else None,
         "conversation": rng.choice(CONVERSATIONS), "kind": "product", "k": 10}
        for _ in range(count)
    ]


class Server:
    """``python -m recommender.serving`` as a subprocess on a free port."""

    def __init__(self, args: argparse.Namespace, max_batch: int, token: str) -> None:
        self.port = free_port()
        command = [sys.executable, "-m", "recommender.serving", "--model-dir", str(args.model_dir), "--adapter",
                   args.adapter, "--port", str(self.port), "--max-batch", str(max_batch), "--max-wait-ms",
                   str(args.max_wait_ms), "--database-url", args.database_url]
        if args.threads:
            command += ["--threads", str(args.threads)]
        command += ["--evidence-events", str(args.evidence_events)]
        env = dict(os.environ, SHOP_MODEL_SERVER_TOKEN=token, SHOP_BIND_HOST="127.0.0.1")
        self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.url = f"http://127.0.0.1:{self.port}"

    async def ready(self, session: aiohttp.ClientSession, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
            try:
                async with session.get(f"{self.url}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        raise TimeoutError("server not ready in time")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def measure(args: argparse.Namespace, max_batch: int, bodies: list[dict], *, evidence: bool = True
                  ) -> tuple[ArmResult, str]:
    """Start one server, measure it, stop it; also returns the device it reported."""
    bodies = [dict(body, explain=evidence) for body in bodies]
    token = secrets.token_hex(16)
    headers = {"Authorization": f"Bearer {token}"}
    server = Server(args, max_batch, token)
    errors = 0
    connector = aiohttp.TCPConnector(limit=0)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
            await server.ready(session)

            async def call(body: dict) -> float:
                nonlocal errors
                started = time.perf_counter()
                async with session.post(f"{server.url}/v1/recommend", json=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                return time.perf_counter() - started

            for body in bodies[:20]:  # warm-up: caches, allocator, first batches
                await call(body)
            latencies = [await call(bodies[i % len(bodies)]) for i in range(args.sequential)]
            throughput: dict[str, float] = {}
            batch_at: dict[str, float | None] = {}

            async def metrics_text() -> str:
                async with session.get(f"{server.url}/metrics", headers=headers) as response:
                    return await response.text()

            for clients in args.clients:
                sum_before, count_before = _batch_totals(await metrics_text())
                total = max(args.min_requests, clients * args.requests_per_client)
                issued = 0
                deadline = time.monotonic() + args.level_seconds

                async def client() -> int:
                    nonlocal issued
                    done = 0
                    while issued < total and time.monotonic() < deadline:
                        body = bodies[issued % len(bodies)]
                        issued += 1
                        await call(body)
                        done += 1
                    return done

                started = time.perf_counter()
                completed = sum(await asyncio.gather(*(client() for _ in range(clients))))
                throughput[str(clients)] = round(completed / (time.perf_counter() - started), 2)
                sum_after, count_after = _batch_totals(await metrics_text())
                batches = count_after - count_before
                batch_at[str(clients)] = round((sum_after - sum_before) / batches, 2) if batches else None
            metrics = await metrics_text()
    finally:
        server.stop()
    lat = np.array(latencies) * 1000
    return ArmResult(max_batch=max_batch, evidence=evidence, p50_ms=round(float(np.percentile(lat, 50)), 2),
                     p95_ms=round(float(np.percentile(lat, 95)), 2), sequential_requests=len(latencies),
                     throughput=throughput, errors=errors, mean_batch_size=_mean_batch(metrics),
                     batch_at=batch_at), _device(metrics)


def _batch_totals(metrics: str) -> tuple[float, float]:
    """(sum of batch sizes, number of batches) so far, from the server's Prometheus text."""
    values = {line.split()[0]: float(line.split()[1]) for line in metrics.splitlines()
              if line.startswith(("model_server_batch_size_sum", "model_server_batch_size_count"))}
    return values.get("model_server_batch_size_sum", 0.0), values.get("model_server_batch_size_count", 0.0)


def _mean_batch(metrics: str) -> float | None:
    total, count = _batch_totals(metrics)
    return round(total / count, 2) if count else None


def _device(metrics: str) -> str:
    for line in metrics.splitlines():
        if line.startswith("model_server_model_info{"):
            return line.split('device="')[1].split('"')[0]
    return "unknown"


def write_report(out: Path, result: dict) -> None:
    """``model_server.json`` and a readable ``model_server.md``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "model_server.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    machine, arms = result["machine"], result["arms"]
    lines = [
        "# Model server benchmark", "",
        f"Model `{result['model_dir']}` (adapter `{result['adapter']}`), {result['requests']}; "
        f"device {machine['device']}, {machine['cpu_cores']} cores, torch threads {machine['torch_threads']}, "
        f"load average {machine['load_before']} before / {machine['load_after']} after. "
        "Client and server share the machine.", "",
        "| server | p50 alone (ms) | p95 alone (ms) | " + " | ".join(f"req/s @{c}" for c in result["clients"])
        + f" | mean batch @{max(result['clients'])} | errors |",
        "|---|---|---|" + "---|" * len(result["clients"]) + "---|---|",
    ]
    for name, arm in arms.items():
        lines.append(f"| {name} (max_batch {arm['max_batch']}, evidence {'on' if arm['evidence'] else 'off'}) | {arm['p50_ms']} | {arm['p95_ms']} | "
                     + " | ".join(str(arm["throughput"][str(c)]) for c in result["clients"])
                     + f" | {arm['batch_at'][str(max(result['clients']))]} | {arm['errors']} |")
    lines.append("")
    for evidence, ratio in result["throughput_ratio_at_max_clients"].items():
        batching = arms["batching" if evidence == "evidence_on" else "batching_scores_only"]
        lines.append(f"- {evidence}: batching / no batching throughput at {max(result['clients'])} clients "
                     f"**{ratio}x** (target >= 3x); p95 alone with batching **{batching['p95_ms']} ms** "
                     "(target <= 60 ms).")
    lines.append("")
    (out / "model_server.md").write_text("\n".join(lines), encoding="utf-8")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    from store.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m recommender.serving.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", required=True, type=Path)
    parser.add_argument("--adapter", default="default")
    parser.add_argument("--database-url", help="store database (default: the settings' database_url)")
    parser.add_argument("--threads", type=int, help="torch threads of the server (default: the model's config)")
    parser.add_argument("--max-batch", type=int, default=32)
    parser.add_argument("--evidence-events", type=int, default=4, help="the server's --evidence-events")
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--sequential", type=int, default=200, help="single requests sent one after the other")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests-per-client", type=int, default=12)
    parser.add_argument("--min-requests", type=int, default=100)
    parser.add_argument("--level-seconds", type=float, default=40.0, help="time cap per concurrency level")
    parser.add_argument("--evidence", choices=["both", "on", "off"], default="both",
                        help="requests with evidence (the product's call), without (scores only), or both")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "bench")
    args = parser.parse_args(argv)
    args.database_url = args.database_url or load_settings().database_url
    return args


def main(argv: list[str] | None = None) -> None:
    """Measure both servers in one run and write the report."""
    args = parse_args(argv)
    from recommender.config import TrainConfig
    from recommender.serving.model_dir import ModelDirError, check_model_dir

    try:
        check_model_dir(args.model_dir, args.adapter)
    except ModelDirError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    bodies = sample_bodies(args.database_url, 400)
    load_before = round(os.getloadavg()[0], 2)
    top = str(max(args.clients))
    arms: dict[str, dict] = {}
    ratios: dict[str, float] = {}
    device = "unknown"
    for evidence in {"both": (True, False), "on": (True,), "off": (False,)}[args.evidence]:
        suffix = "" if evidence else "_scores_only"
        batching, device = asyncio.run(measure(args, args.max_batch, bodies, evidence=evidence))
        plain, _ = asyncio.run(measure(args, 1, bodies, evidence=evidence))
        arms["batching" + suffix], arms["no_batching" + suffix] = asdict(batching), asdict(plain)
        ratios["evidence_on" if evidence else "evidence_off"] = round(batching.throughput[top] / plain.throughput[top], 2)
    result = {
        "model_dir": str(args.model_dir), "adapter": args.adapter, "clients": args.clients,
        "requests": "kind product, k 10, 3/4 signed-in customers, 1/4 anonymous",
        "machine": {"cpu_cores": os.cpu_count(), "device": device,
                    "torch_threads": args.threads or TrainConfig.load(args.model_dir / "config.json").torch_threads,
                    "load_before": load_before, "load_after": round(os.getloadavg()[0], 2)},
        "evidence_events": args.evidence_events,
        "arms": arms,
        "throughput_ratio_at_max_clients": ratios,
    }
    write_report(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
