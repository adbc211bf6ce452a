"""``python -m recommender.serving.bench_engine --model-dir DIR``: what batching can give without HTTP.

The model server's throughput ratio (``recommender.serving.bench``) mixes
the model with the HTTP layer and a client on the same cores. This loads
the same ``RecommendationEngine`` in-process and times ``run_batch`` on the
same request mix at batch sizes 1, 8 and 32 (evidence on and off), then
the bare transformer forward pass at the same batch sizes on full-length
inputs: the ceiling that no server around this model can pass on this
machine. Writes ``results/bench/engine.md`` and ``.json``. Each figure is
the best of ``--repeats`` passes (the machine is shared; the best is the
least disturbed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

from recommender.serving.bench import REPO, sample_bodies
from recommender.serving.engine import RecommendationEngine, RecommendRequest


def best_seconds(function, repeats: int) -> float:
    """Fastest of ``repeats`` timed calls."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def engine_rates(engine: RecommendationEngine, requests: list[RecommendRequest], sizes: list[int],
                 repeats: int) -> dict[str, float]:
    """Requests per second of ``run_batch`` at each batch size over the same requests."""
    rates = {}
    for size in sizes:
        batches = [requests[i:i + size] for i in range(0, len(requests), size)]
        seconds = best_seconds(lambda: [engine.run_batch(batch) for batch in batches], repeats)
        rates[str(size)] = round(len(requests) / seconds, 2)
    return rates


def forward_rates(engine: RecommendationEngine, tokens: int, sizes: list[int], total: int,
                  repeats: int) -> dict[str, float]:
    """Full-length inputs per second through the bare transformer (no rules, no evidence, no database)."""
    model = engine.recommender.model
    assert model is not None
    transformer = model.base_model if hasattr(model, "base_model") else model
    vocab = model.get_input_embeddings().num_embeddings
    rates = {}
    with torch.inference_mode():
        for size in sizes:
            ids = torch.randint(0, vocab, (size, tokens))
            calls = max(1, total // size)
            seconds = best_seconds(lambda: [transformer(input_ids=ids) for _ in range(calls)], repeats)
            rates[str(size)] = round(calls * size / seconds, 2)
    return rates


def main(argv: list[str] | None = None) -> None:
    """Measure and write the report."""
    from store.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m recommender.serving.bench_engine",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", required=True, type=Path)
    parser.add_argument("--adapter", default="default")
    parser.add_argument("--database-url", help="store database (default: the settings' database_url)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the server's default is 1)")
    parser.add_argument("--requests", type=int, default=96, help="requests per pass (a multiple of 32)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "results" / "bench")
    args = parser.parse_args(argv)
    if args.requests < 32 or args.requests % 32:
        parser.error("--requests must be a positive multiple of 32")
    url = args.database_url or load_settings().database_url
    engine = RecommendationEngine.load(args.model_dir, args.adapter, database_url=url, threads=args.threads)
    sizes = [1, 8, 32]
    bodies = sample_bodies(url, args.requests)
    result: dict = {"model_dir": str(args.model_dir), "threads": args.threads, "cpu_cores": os.cpu_count(),
                    "device": engine.device, "requests": args.requests, "load_before": round(os.getloadavg()[0], 2)}
    for explain in (True, False):
        requests = [RecommendRequest(**body, explain=explain) for body in bodies]
        engine.run_batch(requests[:32])  # warm-up
        rates = engine_rates(engine, requests, sizes, args.repeats)
        result["evidence_on" if explain else "evidence_off"] = {"req_per_s": rates,
                                                                "ratio_32_to_1": round(rates["32"] / rates["1"], 2)}
        print(f"engine, evidence {'on' if explain else 'off'}: {rates}", flush=True)
    tokens = engine.recommender.config.context_tokens
    rates = forward_rates(engine, tokens, sizes, args.requests, args.repeats)
    result["forward"] = {"tokens": tokens, "inputs_per_s": rates, "ratio_32_to_1": round(rates["32"] / rates["1"], 2)}
    print(f"forward pass, {tokens} tokens: {rates}", flush=True)
    result["load_after"] = round(os.getloadavg()[0], 2)
    engine.close()
    write_report(args.out, result)


def write_report(out: Path, result: dict) -> None:
    """``engine.json`` and a readable ``engine.md``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "engine.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Engine benchmark (in-process, no HTTP)", "",
        f"Model `{result['model_dir']}`, device {result['device']}, torch threads {result['threads']}, "
        f"{result['cpu_cores']} cores, {result['requests']} requests per pass (the model-server benchmark's mix), "
        f"best of the passes; load average {result['load_before']} before / {result['load_after']} after.", "",
        "| what | @1 | @8 | @32 | @32 / @1 |", "|---|---|---|---|---|",
    ]
    for key, label in (("evidence_on", "run_batch, evidence on (req/s)"),
                       ("evidence_off", "run_batch, scores only (req/s)")):
        rates = result[key]["req_per_s"]
        lines.append(f"| {label} | {rates['1']} | {rates['8']} | {rates['32']} | {result[key]['ratio_32_to_1']}x |")
    forward = result["forward"]
    rates = forward["inputs_per_s"]
    lines.append(f"| transformer forward, {forward['tokens']}-token inputs (inputs/s) | {rates['1']} | {rates['8']} "
                 f"| {rates['32']} | {forward['ratio_32_to_1']}x |")
    lines.append("")
    (out / "engine.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
