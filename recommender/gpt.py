"""The GPT recommender as the evaluation harness and the model server see it.

``GPTRecommender`` implements ``recommender.protocol.Recommender``: ``fit``
pretrains a base and fine-tunes a LoRA adapter on the split, ``score`` runs
one batched forward pass per example and returns log-probabilities over
every catalog item. ``GPTRecommender.load`` reopens trained artifacts for
serving; ``score_contexts`` also serves anonymous visitors (no history,
conversation text only) through the same serialization.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from recommender.config import TrainConfig, preset as preset_config
from recommender.dataset import Dataset, Example, History, Split
from recommender.model import load_adapter, open_base, pick_device, score_sequences
from recommender.protocol import FitReport
from recommender.serialization import CYCLES_FILE, Serializer
from recommender.tokenizer import load_tokenizer


@dataclass(frozen=True)
class Context:
    """Everything one prediction sees; ``history`` is ``None`` for an anonymous visitor."""

    history: History | None
    now: datetime
    conversation: str = ""
    language: str | None = None
    tier: str | None = None


class GPTRecommender:
    """GPT-2-style next-item model over consultation text and purchases (LoRA-tuned)."""

    def __init__(
        self,
        preset: str = "small",
        use_text: bool = True,
        base_model: str | None = None,
        seed: int = 7,
        *,
        max_epochs: int | None = None,
        threads: int | None = None,
        work_dir: str | Path | None = None,
        adapter_name: str = "default",
        **overrides: Any,
    ) -> None:
        """Configure (nothing is built until ``fit`` or ``load``).

        Args:
            preset: Name of a ``recommender.config`` preset.
            use_text: False feeds the model no consultation or conversation text (ablation).
            base_model: Local HF causal-LM checkpoint to start from instead of a fresh GPT-2.
            seed: Seed of everything random in training.
            max_epochs: Caps the epochs of both steps (pretraining and fine-tuning).
            threads: torch CPU threads.
            work_dir: Where ``fit`` writes its artifacts (a temporary folder when None). One that already
                holds a base (an earlier ``fit``'s) keeps it: ``fit`` then only trains adapter ``adapter_name``
                on it, as a refresh does.
            adapter_name: Name of the adapter ``fit`` trains.
            **overrides: Any other ``TrainConfig`` field.
        """
        extra = dict(overrides, seed=seed)
        if max_epochs is not None:
            extra["finetune_epochs"] = max_epochs
            pretrain_epochs = extra.get("pretrain_epochs", preset_config(preset).pretrain_epochs)
            extra["pretrain_epochs"] = min(int(pretrain_epochs), max_epochs)
        if threads is not None:
            extra["torch_threads"] = threads
        self.config = preset_config(preset, **extra)
        self.use_text = use_text
        self.base_model = base_model
        self.work_dir = Path(work_dir) if work_dir else None
        self.adapter_name = adapter_name
        self.name = "gpt" if use_text else "gpt-notext"
        self.model: torch.nn.Module | None = None
        self.serializer: Serializer | None = None
        self._scratch: tempfile.TemporaryDirectory | None = None
        self._log: dict = {}

    def fit(self, dataset: Dataset, split: Split, *, progress: bool = True) -> FitReport:
        """Pretrain + LoRA fine-tune on ``split`` (valid only for early stopping)."""
        from recommender.train import train

        if self.work_dir is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="gpt-rec-")
            out = Path(self._scratch.name)
        else:
            out = self.work_dir
        started = time.monotonic()
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        reuse_base = (out / "base" / "config.json").is_file()
        result = train(dataset, split, self.config, out, use_text=self.use_text, base_model=self.base_model,
                       adapter_name=self.adapter_name, resume=reuse_base, progress=progress)
        self.model, self.serializer = result.model, result.serializer
        self._log = result.log
        peak = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else 0
        return FitReport(train_seconds=time.monotonic() - started, peak_memory_bytes=peak, epochs=result.epochs,
                         best_valid_ndcg10=result.best_valid_ndcg10)

    def describe(self) -> dict[str, object]:
        """The resolved training config and, after ``fit``, how each step ended (an evaluation report keeps it)."""
        steps = {}
        for step in ("pretrain", "finetune"):
            log = self._log.get(step)
            if log:
                steps[step] = {"epochs": len(log["epochs"]), "best_epoch": log.get("best_epoch"),
                               "best_valid_ndcg10": log.get("best_valid_ndcg10"),
                               "stopped_by_time": bool(log.get("stopped_by_time")),
                               "minutes": round(log["seconds"] / 60, 1)}
        return {"train_config": self.config.to_dict(), **steps}

    @classmethod
    def load(cls, out_dir: str | Path, adapter_name: str = "default") -> GPTRecommender:
        """Reopen the artifacts ``fit`` or ``python -m recommender.train`` wrote to ``out_dir``."""
        out = Path(out_dir)
        config = TrainConfig.load(out / "config.json")
        use_text = json.loads((out / "train_log.json").read_text(encoding="utf-8")).get("use_text", True)
        self = cls(config.preset, use_text=use_text, adapter_name=adapter_name,
                   **{k: v for k, v in config.to_dict().items() if k != "preset"})
        if config.torch_threads:
            torch.set_num_threads(config.torch_threads)
        tokenizer, layout = load_tokenizer(out / "tokenizer")
        base = open_base(out / "base").to(pick_device())
        self.model = load_adapter(base, out / "adapters" / adapter_name).eval()
        cycles_path = out / CYCLES_FILE
        cycles = json.loads(cycles_path.read_text(encoding="utf-8")) if cycles_path.exists() else []
        self.serializer = Serializer.from_config(tokenizer, layout, config, use_text=use_text, repurchase_days=cycles)
        return self

    def _ready(self) -> tuple[torch.nn.Module, Serializer]:
        if self.model is None or self.serializer is None:
            raise RuntimeError(f"{self.name} has no model yet: call fit() or GPTRecommender.load()")
        return self.model, self.serializer

    def encode(self, context: Context) -> list[int]:
        """Token ids of one context (the one serialization every caller shares)."""
        _, serializer = self._ready()
        return serializer.encode(context.history, context.now, conversation=context.conversation,
                                 language=context.language, tier=context.tier)

    def score_contexts(self, contexts: Sequence[Context], kind: str = "product") -> np.ndarray:
        """Log-probabilities float32 ``[len(contexts), n_kind]`` over one kind's tokens."""
        return self.score_token_ids([self.encode(c) for c in contexts], kind)

    def score_token_ids(self, sequences: list[list[int]], kind: str = "product") -> np.ndarray:
        """Log-probabilities of one kind's tokens after already-serialized inputs."""
        model, serializer = self._ready()
        if not sequences:
            start, stop = serializer.layout.kind_range(kind)
            return np.zeros((0, stop - start), dtype=np.float32)
        return score_sequences(model, sequences, serializer.layout, kind=kind,
                               batch_size=self.config.eval_batch_size).numpy()

    def score(self, examples: Sequence[Example]) -> np.ndarray:
        """Float32 ``[len(examples), n_items]`` log-probabilities over every catalog item."""
        return self.score_contexts([Context(history=e.history, now=e.time) for e in examples])

    @property
    def knows_services(self) -> bool:
        """Whether the model has trained service tokens (it was trained on data with services)."""
        _, serializer = self._ready()
        return serializer.layout.n_services > 0

    def score_services(self, examples: Sequence[Example]) -> np.ndarray:
        """Float32 ``[len(examples), n_services]`` log-probabilities of the service taken next.

        Raises:
            ValueError: The model has no service tokens.
        """
        if not self.knows_services:
            raise ValueError(f"{self.name} was trained without services")
        return self.score_contexts([Context(history=e.history, now=e.time) for e in examples], kind="service")
