"""Whether a folder holds a finished recommender to serve: cheap, no torch import (the launcher uses it)."""

from __future__ import annotations

from pathlib import Path


class ModelDirError(ValueError):
    """The artifact folder is missing or does not hold a trained model."""


def check_model_dir(model_dir: Path, adapter_name: str) -> None:
    """Raise ``ModelDirError`` (one line) unless ``model_dir`` holds a finished model with that adapter."""
    if not model_dir.is_dir():
        raise ModelDirError(f"model dir {model_dir} does not exist")
    for needed in ("config.json", "train_log.json", "items.json", "base/config.json", "tokenizer"):
        if not (model_dir / needed).exists():
            raise ModelDirError(f"model dir {model_dir} has no {needed}: not a finished recommender.train output")
    if not (model_dir / "adapters" / adapter_name / "adapter_config.json").exists():
        raise ModelDirError(f"model dir {model_dir} has no adapter {adapter_name!r} (adapters/{adapter_name})")
