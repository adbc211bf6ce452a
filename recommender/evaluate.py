"""One evaluation command: every model on the same leave-one-out split, side by side.

    python -m recommender.evaluate --dataset demo|store|PATH [--database-url URL]
        [--models pop,cooc,sasrec,gpt,gpt-notext] [--out results/eval/NAME]
        [--seed 7] [--max-epochs N] [--sasrec-dropout P] [--sasrec-max-len L] [--threads T]
        [--gpt-preset NAME] [--gpt-base-model PATH] [--gpt-set KEY=VALUE ...] [--gpt-work-dir DIR [--gpt-adapter NAME]]

Each model is fitted and scored in its own child process (spawned, not
forked: a fork after torch has used its thread pool can deadlock), so its
memory is measured alone: the child's peak resident set size (Linux
``VmHWM``, reset through ``/proc/self/clear_refs`` once the child has received
the data set) minus its resident size at that moment, plus ``torch.cuda.max_memory_allocated`` when the model ran
on a GPU. Scores are full rankings over all items, no item masked (the report adds test figures with
each customer's bought items masked, beside the protocol's). The
report (``report.md``, ``report.json``, ``ndcg.png``) is written to ``--out``.
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import inspect
import json
import multiprocessing
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from recommender.config import OverrideError, parse_overrides
from recommender.dataset import Dataset, Example, Split, leave_one_out, load_sequence_file, load_store, service_split
from recommender.metrics import hit_rate_at_k, ndcg_at_k, rank_of_targets
from recommender.protocol import Recommender

ALL_MODELS = ("pop", "cooc", "sasrec", "gpt", "gpt-notext")
REPO_ROOT = Path(__file__).resolve().parent.parent
SCORE_CHUNK = 2048


@dataclass
class ModelResult:
    """What one model achieved; ``status`` is ``ok``, ``missing`` (not importable) or ``failed``."""

    name: str
    status: str
    detail: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    ndcg10_ci95: tuple[float, float] | None = None
    train_seconds: float | None = None
    score_seconds: float | None = None
    epochs: int | None = None
    best_valid_ndcg10: float | None = None
    peak_rss_delta_bytes: int | None = None
    cuda_peak_bytes: int | None = None
    config: dict[str, object] = field(default_factory=dict)
    service_metrics: dict[str, float] = field(default_factory=dict)  # empty: no service tokens or no services


@dataclass(frozen=True)
class ModelOptions:
    """Command-line knobs passed to the model factories."""

    seed: int = 7
    max_epochs: int | None = None
    sasrec_overrides: dict[str, object] = field(default_factory=dict)
    gpt_preset: str | None = None
    gpt_base_model: str | None = None
    threads: int | None = None
    gpt_overrides: dict[str, object] = field(default_factory=dict)  # TrainConfig fields for both GPT models
    gpt_work_dir: str | None = None  # artifact folder of the "gpt" model; a base already in it skips pretraining
    gpt_adapter: str = "default"  # name of the adapter the "gpt" model trains in gpt_work_dir


def build_model(name: str, options: ModelOptions) -> Recommender:
    """The model called ``name``; GPT models are imported only here, when asked for.

    Raises:
        ImportError: ``gpt``/``gpt-notext`` while ``recommender.gpt`` is not importable.
        ValueError: an unknown name.
    """
    if name == "pop":
        from recommender.baselines.popularity import PopularityRecommender

        return PopularityRecommender()
    if name == "cooc":
        from recommender.baselines.cooccurrence import CooccurrenceRecommender

        return CooccurrenceRecommender()
    if name == "sasrec":
        from recommender.baselines.sasrec import SASRecConfig, SASRecRecommender

        overrides = dict(options.sasrec_overrides, seed=options.seed)
        if options.threads is not None:
            overrides["threads"] = options.threads
        if options.max_epochs is not None:
            overrides["max_epochs"] = options.max_epochs
        return SASRecRecommender(SASRecConfig(**overrides))
    if name in ("gpt", "gpt-notext"):
        from recommender.gpt import GPTRecommender

        kwargs: dict[str, object] = {**options.gpt_overrides, "use_text": name == "gpt", "seed": options.seed}
        accepted = inspect.signature(GPTRecommender).parameters
        if options.max_epochs is not None and "max_epochs" in accepted:
            kwargs["max_epochs"] = options.max_epochs
        if options.threads is not None and "threads" in accepted:
            kwargs["threads"] = options.threads
        if options.gpt_preset is not None:
            kwargs["preset"] = options.gpt_preset
        if options.gpt_base_model is not None:
            kwargs["base_model"] = options.gpt_base_model
        if options.gpt_work_dir is not None and name == "gpt":
            kwargs["work_dir"] = options.gpt_work_dir
            kwargs["adapter_name"] = options.gpt_adapter
        return GPTRecommender(**kwargs)
    raise ValueError(f"unknown model {name!r}; choose from {', '.join(ALL_MODELS)}")


def ranks_for(model: Recommender, examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray]:
    """1-based target ranks as scored, and with the example's already-bought items masked.

    The first is the protocol (no item masked); the second is reported beside it
    because a model that learns never to repeat a purchase (the GPT's copy head)
    gets for free what a history mask would give any model. Scores are taken
    ``SCORE_CHUNK`` examples at a time to bound memory.
    """
    plain, masked = [], []
    for first in range(0, len(examples), SCORE_CHUNK):
        chunk = examples[first:first + SCORE_CHUNK]
        scores = np.array(model.score(chunk))  # a copy: the mask below writes into it
        targets = np.array([e.target for e in chunk], dtype=np.int64)
        plain.append(rank_of_targets(scores, targets))
        for row, example in enumerate(chunk):
            scores[row, [p.item for p in example.history.purchases]] = -np.inf
        masked.append(rank_of_targets(scores, targets))
    if not plain:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(plain), np.concatenate(masked)


def summary_metrics(test_ranks: np.ndarray, valid_ranks: np.ndarray,
                    masked_test_ranks: np.ndarray | None = None) -> dict[str, float]:
    """HR@5, HR@10, NDCG@5, NDCG@10 on test and NDCG@10 on validation (plus the bought-items-masked test figures)."""
    metrics = {
        "test_hr5": hit_rate_at_k(test_ranks, 5), "test_hr10": hit_rate_at_k(test_ranks, 10),
        "test_ndcg5": ndcg_at_k(test_ranks, 5), "test_ndcg10": ndcg_at_k(test_ranks, 10),
        "valid_ndcg10": ndcg_at_k(valid_ranks, 10),
    }
    if masked_test_ranks is not None:
        metrics["test_hr10_bought_masked"] = hit_rate_at_k(masked_test_ranks, 10)
        metrics["test_ndcg10_bought_masked"] = ndcg_at_k(masked_test_ranks, 10)
    return metrics


def bootstrap_ci(ranks: np.ndarray, k: int = 10, *, samples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile-bootstrap interval of NDCG@k over test examples."""
    if not ranks.size:
        return (0.0, 0.0)
    gains = np.where(ranks <= k, 1.0 / np.log2(ranks + 1.0), 0.0)
    rng = np.random.default_rng(seed)
    means = np.array([gains[rng.integers(0, gains.size, gains.size)].mean() for _ in range(samples)])
    return (float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)))


def _proc_status_bytes(field_name: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _start_memory_window() -> int:
    """Reset the process's peak RSS to its current RSS where Linux allows; return the baseline."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")  # "5" resets VmHWM (the peak RSS) to the current RSS
    except OSError:
        pass
    current = _proc_status_bytes("VmRSS")
    # ru_maxrss survives exec (it keeps the spawning parent's peak), so it is only a fallback.
    return current if current is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _peak_rss_since(baseline: int) -> int:
    peak = _proc_status_bytes("VmHWM")
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return max(peak - baseline, 0)


def _fit_and_score(name: str, dataset: Dataset, split: Split, options: ModelOptions, progress: bool) -> ModelResult:
    baseline_rss = _start_memory_window()
    try:
        model = build_model(name, options)
    except ImportError as error:
        return ModelResult(name=name, status="missing", detail=f"not importable: {error}")
    report = model.fit(dataset, split, progress=progress)
    started = time.perf_counter()
    valid_ranks, _ = ranks_for(model, split.valid)
    test_ranks, masked_test_ranks = ranks_for(model, split.test)
    score_seconds = time.perf_counter() - started
    describe: Callable[[], dict[str, object]] | None = getattr(model, "describe", None)
    return ModelResult(
        name=name, status="ok", metrics=summary_metrics(test_ranks, valid_ranks, masked_test_ranks),
        ndcg10_ci95=bootstrap_ci(test_ranks),
        train_seconds=report.train_seconds, score_seconds=score_seconds, epochs=report.epochs,
        best_valid_ndcg10=report.best_valid_ndcg10, peak_rss_delta_bytes=_peak_rss_since(baseline_rss),
        cuda_peak_bytes=report.peak_memory_bytes or None, config=describe() if describe else {},
        service_metrics=_service_metrics(model, dataset),
    )


def _service_metrics(model: Recommender, dataset: Dataset) -> dict[str, float]:
    """The model's metrics on the held-out service takes, when it ranks services itself."""
    from recommender.service_eval import service_metrics, service_ranks

    if not dataset.n_services or not getattr(model, "knows_services", False):
        return {}
    services = service_split(dataset)
    if not services.test:
        return {}
    score = model.score_services  # type: ignore[attr-defined]
    return service_metrics(service_ranks(dataset, services.test, score(services.test)),
                           service_ranks(dataset, services.valid, score(services.valid)))


def _child(connection, name: str, dataset: Dataset, split: Split, options: ModelOptions, progress: bool) -> None:
    try:
        result = _fit_and_score(name, dataset, split, options, progress)
    except Exception as error:  # noqa: BLE001 - any failure is reported, never turned into numbers
        result = ModelResult(name=name, status="failed",
                             detail=f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=6)}")
    connection.send(result)
    connection.close()


def run_model(name: str, dataset: Dataset, split: Split, options: ModelOptions, *, progress: bool = True,
              isolate: bool = True, worker: Callable[..., None] = _child) -> ModelResult:
    """Fit and score one model, in a spawned child running ``worker`` when ``isolate``.

    The child gets the data set and split by pickling, so its memory figure is
    its own; a child that dies without answering becomes a ``failed`` result.
    """
    if not isolate:
        try:
            return _fit_and_score(name, dataset, split, options, progress)
        except Exception as error:  # noqa: BLE001 - reported as a failure, as in the child
            return ModelResult(name=name, status="failed", detail=f"{type(error).__name__}: {error}")
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_die_with_parent_then, args=(os.getpid(), worker, sender, name, dataset, split,
                                                                options, progress), daemon=True)
    child.start()
    sender.close()
    try:
        result = receiver.recv()
    except EOFError:
        result = None
    child.join()
    if result is None:
        return ModelResult(name=name, status="failed", detail=f"child process died (exit code {child.exitcode})")
    return result


def _die_with_parent_then(parent_pid: int, worker: Callable[..., None], *args: object) -> None:
    """Run ``worker(*args)`` in a child that Linux stops when its parent dies, even by SIGKILL.

    ``exit_on_sigterm`` covers a polite stop; a killed parent runs no Python
    at all, so the kernel has to be asked (``PR_SET_PDEATHSIG``) to end the child.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the parent died before the request took hold
        os._exit(1)
    worker(*args)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def exit_on_sigterm() -> None:
    """Make SIGTERM end this process the way Ctrl-C does, so the model child is stopped with it.

    A spawned child is daemonic and multiprocessing terminates it at a normal
    exit; a plain SIGTERM kills the parent before that runs and leaves the
    child training on, orphaned, for up to an hour.
    """
    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def load_dataset(spec: str, database_url: str | None) -> Dataset:
    """``demo`` (var/shop.db), ``store`` (the configured database, or ``database_url``) or a sequence file."""
    if spec == "demo":
        url = database_url or f"sqlite:///{REPO_ROOT / 'var' / 'shop.db'}"
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
            raise FileNotFoundError(f"no demo store at {url}: run `python -m store build-demo` first")
        return _renamed(load_store(url), "demo")
    if spec == "store":
        if database_url is None:
            from store.settings import load_settings

            database_url = load_settings().database_url
        return load_store(database_url)
    return load_sequence_file(spec)


def _renamed(dataset: Dataset, name: str) -> Dataset:
    return dataclasses.replace(dataset, name=name)


def describe_source(spec: str, database_url: str | None) -> str:
    """Where the data came from, for the report (passwords hidden; the demo's build time when known)."""
    if spec not in ("demo", "store"):
        return str(Path(spec).resolve())
    from sqlalchemy.engine import make_url

    url = database_url or (f"sqlite:///{REPO_ROOT / 'var' / 'shop.db'}" if spec == "demo" else "settings")
    text = make_url(url).render_as_string(hide_password=True) if url != "settings" else "configured database"
    stamp = REPO_ROOT / "var" / "demo-build.json"
    if spec == "demo" and database_url is None and stamp.exists():
        built = [entry.get("built_at") for entry in json.loads(stamp.read_text(encoding="utf-8")).values()]
        text += f" (built {', '.join(str(b) for b in built)})"
    return text


def evaluate(dataset: Dataset, models: Sequence[str], options: ModelOptions, out: Path, *,
             progress: bool = True, isolate: bool = True, source: str = "") -> list[ModelResult]:
    """Split once, run every model on that split, write the report to ``out``; return the results."""
    from recommender.report import write_report

    split = leave_one_out(dataset)
    if not split.test:
        raise ValueError(f"{dataset.name}: no customer has 3 purchases, nothing to evaluate")
    _say(progress, f"{dataset.name}: {len(dataset.histories)} histories, {dataset.n_items} items, "
                   f"{len(split.valid)} valid / {len(split.test)} test examples")
    results = []
    for position, name in enumerate(models, start=1):
        _say(progress, f"[{position}/{len(models)}] {name}: fitting and scoring")
        result = run_model(name, dataset, split, options, progress=progress, isolate=isolate)
        summary = (f"test NDCG@10 {result.metrics['test_ndcg10']:.4f}, HR@10 {result.metrics['test_hr10']:.4f}, "
                   f"trained in {result.train_seconds:.1f} s" if result.status == "ok"
                   else result.detail.splitlines()[0])
        _say(progress, f"[{position}/{len(models)}] {name}: {result.status}: {summary}")
        results.append(result)
    service_baselines = {}
    if dataset.n_services:
        from recommender.service_eval import evaluate_baselines

        services = service_split(dataset)
        if services.test:
            service_baselines = evaluate_baselines(dataset, split, services)
            _say(progress, f"services: {len(services.valid)} valid / {len(services.test)} test takes; "
                 + ", ".join(f"{name} NDCG@3 {m['test_ndcg3']:.4f}" for name, m in service_baselines.items())
                 + "".join(f", {r.name} NDCG@3 {r.service_metrics['test_ndcg3']:.4f}" for r in results
                           if r.service_metrics))
    write_report(out, dataset, split, results, options=asdict(options), source=source,
                 service_baselines=service_baselines)
    _say(progress, f"report written to {out}/report.md, report.json, ndcg.png")
    return results


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status (1 when a requested model failed)."""
    parser = argparse.ArgumentParser(prog="python -m recommender.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True, help="demo | store | path to a 'user item1 item2 ...' file")
    parser.add_argument("--database-url", help="store database URL (default: var/shop.db for demo, settings for store)")
    parser.add_argument("--models", default=",".join(ALL_MODELS), help="comma-separated subset of " + ",".join(ALL_MODELS))
    parser.add_argument("--out", type=Path, help="report folder (default results/eval/<dataset name>)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-epochs", type=int, help="cap on training epochs for the trained models")
    parser.add_argument("--sasrec-dropout", type=float, help="SASRec dropout (choose it on validation only)")
    parser.add_argument("--sasrec-max-len", type=int, help="SASRec maximum sequence length")
    parser.add_argument("--gpt-preset", help="preset of the GPT models (default: GPTRecommender's own)")
    parser.add_argument("--gpt-base-model", help="local path of a pretrained base for the GPT models")
    parser.add_argument("--gpt-work-dir", type=Path,
                        help="keep the gpt model's artifacts here; if it already holds a tokenizer and base pretrained "
                             "on this same split (an earlier run's), only the LoRA step runs and its time is reported")
    parser.add_argument("--gpt-adapter", default="default",
                        help="name of the adapter the gpt model trains in --gpt-work-dir (a new one per run on a kept base)")
    parser.add_argument("--threads", type=int, help="torch CPU threads for SASRec and GPT (default: torch's own)")
    parser.add_argument("--gpt-set", action="append", default=[], metavar="KEY=VALUE",
                        help="a TrainConfig field for both GPT models, e.g. max_finetune_minutes=40 (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in ALL_MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(ALL_MODELS)}")
    overrides: dict[str, object] = {}
    if args.sasrec_dropout is not None:
        overrides["dropout"] = args.sasrec_dropout
    if args.sasrec_max_len is not None:
        overrides["max_len"] = args.sasrec_max_len
    if args.gpt_work_dir is not None:
        if "gpt" not in models:
            parser.error("--gpt-work-dir is for the gpt model, which --models leaves out")
        has_base = (args.gpt_work_dir / "base" / "config.json").is_file()
        if has_base != (args.gpt_work_dir / "tokenizer").is_dir():
            parser.error(f"--gpt-work-dir {args.gpt_work_dir} holds a base without its tokenizer or the reverse")
        if (args.gpt_work_dir / "adapters" / args.gpt_adapter).exists():
            parser.error(f"--gpt-work-dir {args.gpt_work_dir} already has an adapter {args.gpt_adapter!r}; "
                         "name a new one with --gpt-adapter")
    try:
        gpt_overrides = parse_overrides(args.gpt_set)
    except OverrideError as error:
        parser.error(str(error))
    options = ModelOptions(seed=args.seed, max_epochs=args.max_epochs, sasrec_overrides=overrides,
                           gpt_preset=args.gpt_preset, gpt_base_model=args.gpt_base_model, threads=args.threads,
                           gpt_overrides=gpt_overrides,
                           gpt_work_dir=str(args.gpt_work_dir) if args.gpt_work_dir is not None else None,
                           gpt_adapter=args.gpt_adapter)
    exit_on_sigterm()
    dataset = load_dataset(args.dataset, args.database_url)
    out = args.out or REPO_ROOT / "results" / "eval" / dataset.name
    results = evaluate(dataset, models, options, out, progress=not args.quiet,
                       source=describe_source(args.dataset, args.database_url))
    failed = [r.name for r in results if r.status == "failed"]
    if failed:
        print(f"failed: {', '.join(failed)} (see {out}/report.md)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
