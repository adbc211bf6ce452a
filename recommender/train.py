"""Training the GPT recommender: step 1 pretraining, step 2 LoRA fine-tuning.

``python -m recommender.train --preset small --database-url sqlite:///var/shop.db --out var/models/gpt``

Step 1 trains the base as a causal LM on the store's corpus (catalog text,
consultation text and serialized purchase histories of the TRAIN split
only; item-token targets weighted up). Step 2 puts a LoRA adapter and a copy head
(``recommender.copy_head``: a trained pointer back to the products already
bought, for re-buys) on it and trains next-item prediction: for a purchase
of a train history, input = serialization of everything strictly before it,
loss = negative log-likelihood of the item bought, over all catalog
products, at ``<rec>``, plus the same loss at every earlier ``<purchase>``
of that input (one pass trains all of them). Early stopping on validation
NDCG@10; resumable; reproducible from the seed. Artifacts in ``--out``::

    config.json  items.json  services.json  repurchase_days.json  tokenizer/  base/  adapters/<name>/  checkpoint/  train_log.json
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from recommender.config import PRESETS, OverrideError, TrainConfig, parse_overrides, preset
from recommender.dataset import Dataset, Example, Split, leave_one_out, load_store
from recommender.metrics import ndcg_at_k, rank_of_targets
from recommender.copy_head import repeat_rate
from recommender.model import (add_adapter, build_base, causal_lm_of, count_parameters, load_base, next_product_log_probs,
                               open_base, pick_device, save_adapter, score_sequences, service_log_probs)
from recommender.corpus import finetune_examples, pretraining_sequences, service_examples, tokenizer_texts
from recommender.serialization import CYCLES_FILE, SERVICES_FILE, Serializer, collate
from recommender.tokenizer import LAYOUT_FILE, TokenLayout, extend_tokenizer, load_tokenizer, save_tokenizer, train_tokenizer


@dataclass
class TrainResult:
    """What ``train`` produced: the fitted model (adapter on) and its measurements."""

    model: torch.nn.Module
    serializer: Serializer
    config: TrainConfig
    epochs: int
    best_valid_ndcg10: float | None
    log: dict = field(default_factory=dict)


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _batches(sequences: list, batch_size: int, rng: random.Random, length: Callable[[object], int]) -> list[list]:
    # Shuffle, then sort within windows of 50 batches by length: little padding, still random.
    shuffled = sequences[:]
    rng.shuffle(shuffled)
    window = batch_size * 50
    batches = []
    for first in range(0, len(shuffled), window):
        chunk = sorted(shuffled[first : first + window], key=length)
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def _optimizer(params: list[torch.nn.Parameter], lr: float, config: TrainConfig, total_steps: int):
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=config.weight_decay)
    warmup = max(1, int(config.warmup_fraction * total_steps))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return 0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * progress))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _autocast(device: torch.device):
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def _run_epoch(batches: list, loss_of: Callable, losses: list[float], params, optimizer, scheduler,
               config: TrainConfig, *, device: torch.device, pad_id: int, deadline: float | None, desc: str,
               progress: bool) -> int:
    """One pass of optimiser steps over ``batches``; appends each loss to ``losses``, returns tokens seen."""
    tokens = 0
    for batch_sequences in tqdm(batches, desc=desc, disable=not progress):
        batch = {k: v.to(device) for k, v in collate(batch_sequences, pad_id).items()}
        with _autocast(device):
            loss = loss_of(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        tokens += int(batch["attention_mask"].sum())
        if deadline and time.monotonic() > deadline:
            break
    return tokens


def weighted_lm_loss(model, batch: dict[str, torch.Tensor], layout: TokenLayout, item_weight: float,
                     structural_targets: bool = True) -> torch.Tensor:
    """Causal-LM cross-entropy over the whole vocabulary, item-token targets weighted ``item_weight``.

    Item tokens are a small share of the corpus (text is most of it); the
    weight keeps next-item prediction from being drowned by easy text tokens.
    Logits are computed only where a real token follows: the output
    projection over the vocabulary is most of a step's cost, and padding
    would be a third of it in a batch of short histories. Without
    ``structural_targets``, markers such as ``<gap_1w>`` or ``<rec>`` are
    not predicted either (nothing ever generates them; in an item-only
    history they are about half the tokens).
    """
    causal_lm = causal_lm_of(model)
    hidden = causal_lm.base_model(**batch).last_hidden_state[:, :-1]
    live = batch["attention_mask"][:, 1:] == 1
    if not structural_targets:
        markers = torch.tensor(sorted(layout.structural.values()), device=live.device)
        live &= ~torch.isin(batch["input_ids"][:, 1:], markers)
    targets = batch["input_ids"][:, 1:][live]
    logits = causal_lm.get_output_embeddings()(hidden[live]).float()
    start, stop = layout.kind_range("product")
    weights = torch.where((targets >= start) & (targets < stop), item_weight, 1.0)
    losses = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
    return (losses * weights).sum() / weights.sum().clamp(min=1.0)


def pretrain(model, sequences: list[list[int]], layout: TokenLayout, config: TrainConfig, *, device: torch.device,
             checkpoint: Path, progress: bool = True, validate_epoch: Callable[[], float] | None = None) -> dict:
    """Step 1: causal-LM training of every base parameter; resumes from ``checkpoint`` per epoch.

    With ``config.pretrain_patience`` and a ``validate_epoch`` (the base's
    validation NDCG@10), every epoch is validated, the best epoch's weights
    are kept and training stops after that many epochs without a better one.
    """
    rng = random.Random(config.seed)
    steps_per_epoch = -(-len(sequences) // config.pretrain_batch_size)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer, scheduler = _optimizer(params, config.pretrain_lr, config, steps_per_epoch * config.pretrain_epochs)
    start_epoch, log = 0, {"epochs": [], "tokens": 0, "seconds": 0.0}
    validating = config.pretrain_patience is not None and validate_epoch is not None
    best_state = None
    if checkpoint.exists():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, log, best_state = state["epoch"], state["log"], state.get("best")
        rng.setstate(state["rng"])
    deadline = time.monotonic() + 60 * config.max_pretrain_minutes if config.max_pretrain_minutes else None
    model.train()
    for epoch in range(start_epoch, config.pretrain_epochs):
        started, losses = time.monotonic(), []
        batches = _batches(sequences, config.pretrain_batch_size, rng, len)
        tokens = _run_epoch(
            batches, lambda batch: weighted_lm_loss(model, batch, layout, config.pretrain_item_weight,
                                                    config.pretrain_structural_targets), losses,
            params, optimizer, scheduler, config, device=device, pad_id=layout.id("<pad>"), deadline=deadline,
            desc=f"pretrain {epoch + 1}/{config.pretrain_epochs}", progress=progress,
        )
        seconds = time.monotonic() - started
        entry = {"epoch": epoch + 1, "loss": float(np.mean(losses)), "tokens_per_s": tokens / seconds}
        line = f"pretrain {epoch + 1}/{config.pretrain_epochs}: loss {entry['loss']:.4f}, {entry['tokens_per_s']:.0f} tokens/s"
        log["epochs"].append(entry)
        log["tokens"] += tokens
        log["seconds"] += seconds
        if validating:
            entry["valid_ndcg10"] = validate_epoch()  # scoring puts the model back in training mode
            if log.get("best_valid_ndcg10") is None or entry["valid_ndcg10"] > log["best_valid_ndcg10"]:
                log["best_valid_ndcg10"], log["best_epoch"] = entry["valid_ndcg10"], epoch + 1
                best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            line += f", valid NDCG@10 {entry['valid_ndcg10']:.4f} (best {log['best_valid_ndcg10']:.4f} at epoch {log['best_epoch']})"
        if progress:
            tqdm.write(f"{line}, {seconds / 60:.1f} min")
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "epoch": epoch + 1, "log": log, "rng": rng.getstate(), "config": config.to_dict(),
                    "best": best_state}, checkpoint)
        if deadline and time.monotonic() > deadline:
            log["stopped_by_time"] = True
            break
        if validating and epoch + 1 - log["best_epoch"] >= config.pretrain_patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return log


def after_text(input_ids: torch.Tensor, layout: TokenLayout) -> torch.Tensor:
    """Bool ``[batch, length]``: the position comes after consultation text that no purchase followed yet.

    True where a ``<note>`` was seen since the last product token, or where
    the current conversation (text between ``<now>`` and ``<rec>``) was.
    """
    start, stop = layout.kind_range("product")
    slots = torch.arange(input_ids.shape[1], device=input_ids.device).expand_as(input_ids)
    never = torch.full_like(slots, -1)
    last_item = torch.where((input_ids >= start) & (input_ids < stop), slots, never).cummax(dim=1).values
    last_note = torch.where(input_ids == layout.id("<note>"), slots, never).cummax(dim=1).values
    last_now = torch.where(input_ids == layout.id("<now>"), slots, never).cummax(dim=1).values
    spoken = (input_ids == layout.id("<rec>")) & (last_now >= 0) & (slots - last_now > 1)
    return (last_note > last_item) | spoken


def next_item_loss(model, batch: dict[str, torch.Tensor], layout: TokenLayout, text_weight: float = 1.0,
                   service_weight: float = 1.0) -> torch.Tensor:
    """Negative log-likelihood of the next product at every position whose next token is a product.

    Each serialized prefix ends ``<rec> <item_target>``; its earlier
    ``<purchase> <item>`` pairs are next-item predictions too, each seeing
    only what precedes it in the sequence, so one pass trains every purchase
    of the prefix (as SASRec does) instead of only the last. The distribution
    is the model's over all catalog products, mixed with the copy head's
    repeat distribution when there is one (``recommender.model.next_product_log_probs``).
    Targets right after consultation text (``after_text``) weigh ``text_weight``:
    they are a few in a prefix of dozens of purchases, and the only ones text can help.
    When the vocabulary has service tokens, every position followed by one (after
    the purchase it was taken for, or ``<rec>`` of a service example) adds
    ``service_weight`` times the next-service cross-entropy over service tokens.
    """
    start, stop = layout.kind_range("product")
    hidden = causal_lm_of(model).base_model(**batch).last_hidden_state
    following = batch["input_ids"][:, 1:]
    live = batch["attention_mask"][:, 1:] == 1
    is_target = (following >= start) & (following < stop) & live
    rows, positions = is_target.nonzero(as_tuple=True)
    loss = hidden.new_zeros((), dtype=torch.float32)
    if len(rows):
        log_probs = next_product_log_probs(model, batch, layout, rows, positions, hidden=hidden)
        losses = torch.nn.functional.nll_loss(log_probs, following[rows, positions] - start, reduction="none")
        if text_weight == 1.0:
            loss = losses.mean()
        else:
            weights = torch.where(after_text(batch["input_ids"], layout)[rows, positions], text_weight, 1.0)
            loss = (losses * weights).sum() / weights.sum()
    if layout.n_services and service_weight:
        first, last = layout.kind_range("service")
        # A service token before any product is the header's service profile, not a take to predict.
        ids = batch["input_ids"]
        slots = torch.arange(ids.shape[1], device=ids.device).expand_as(ids)
        seen_item = torch.where((ids >= start) & (ids < stop), slots, torch.full_like(slots, -1)).cummax(dim=1).values
        asked = (seen_item >= 0) | (ids == layout.id("<rec>"))
        rows, positions = ((following >= first) & (following < last) & live & asked[:, :-1]).nonzero(as_tuple=True)
        if len(rows):
            log_probs = service_log_probs(model, hidden[rows, positions], layout)
            loss = loss + service_weight * torch.nn.functional.nll_loss(log_probs, following[rows, positions] - first)
    return loss


def validate(model, serializer: Serializer, examples: tuple[Example, ...], config: TrainConfig, device) -> float:
    """NDCG@10 of the model on ``examples`` (full ranking over all items)."""
    if not examples:
        return 0.0
    scores = score_sequences(model, [serializer.encode(e.history, e.time) for e in examples], serializer.layout,
                             batch_size=config.eval_batch_size, device=device)
    return ndcg_at_k(rank_of_targets(scores.numpy(), np.array([e.target for e in examples])), 10)


def validation_examples(split: Split, config: TrainConfig) -> tuple[Example, ...]:
    """The validation examples early stopping scores: all of them, or a fixed random ``max_valid_examples``."""
    valid = split.valid
    if config.max_valid_examples is not None and len(valid) > config.max_valid_examples:
        valid = tuple(random.Random(config.seed).sample(valid, config.max_valid_examples))
    return valid


def _epoch_examples(split: Split, config: TrainConfig, rng: random.Random, layout: TokenLayout) -> list[Example]:
    examples = finetune_examples(split.train, config.finetune_cuts_per_history, rng,
                                 note_cuts=config.finetune_note_cuts, note_outcome_days=config.note_outcome_days)
    if layout.n_services and config.finetune_service_cuts:
        examples += service_examples(split.train, config.finetune_service_cuts, rng,
                                     max_delay_days=config.service_query_max_days)
    return examples


def target_token(layout: TokenLayout, example: Example) -> int:
    """The token an example's input is followed by in training: its product or its service."""
    return layout.service_token(example.target) if example.kind == "service" else layout.item_token(example.target)


def finetune(model, serializer: Serializer, split: Split, config: TrainConfig, *, device: torch.device,
             checkpoint: Path, adapter_dir: Path, progress: bool = True) -> dict:
    """Step 2: LoRA + catalog-token training on next-item cross-entropy, early stopping on valid NDCG@10.

    Each epoch serializes ``finetune_cuts_per_history`` prefixes of every
    train history (always the one ending at its last purchase), each
    followed by the item bought there (see ``next_item_loss``).
    """
    rng = random.Random(config.seed + 1)
    layout = serializer.layout
    params = [p for p in model.parameters() if p.requires_grad]
    per_epoch = len(_epoch_examples(split, config, random.Random(0), layout))
    steps_per_epoch = -(-per_epoch // config.finetune_batch_size)
    optimizer, scheduler = _optimizer(params, config.finetune_lr, config, steps_per_epoch * config.finetune_epochs)
    start_epoch, log = 0, {"epochs": [], "best_valid_ndcg10": None, "best_epoch": 0, "seconds": 0.0, "tokens": 0}
    best_state = None
    if checkpoint.exists():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(state["trainable"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, log, best_state = state["epoch"], state["log"], state["best"]
        rng.setstate(state["rng"])
    deadline = time.monotonic() + 60 * config.max_finetune_minutes if config.max_finetune_minutes else None
    valid = validation_examples(split, config)
    if start_epoch == 0 and log["best_valid_ndcg10"] is None:
        # The untrained adapter is a candidate too: fine-tuning is kept only where it beats what it started from.
        log["initial_valid_ndcg10"] = log["best_valid_ndcg10"] = validate(model, serializer, valid, config, device)
        best_state = {k: v.detach().cpu().clone() for k, v in model.named_parameters() if v.requires_grad}
        save_adapter(model, adapter_dir)
        if progress:
            tqdm.write(f"finetune 0/{config.finetune_epochs}: valid NDCG@10 {log['best_valid_ndcg10']:.4f} (untrained adapter)")
    for epoch in range(start_epoch, config.finetune_epochs):
        model.train()
        started, losses = time.monotonic(), []
        examples = _epoch_examples(split, config, rng, layout)
        sequences = [serializer.encode(e.history, e.time, conversation=e.conversation) + [target_token(layout, e)]
                     for e in examples]
        batches = _batches(sequences, config.finetune_batch_size, rng, len)
        tokens = _run_epoch(
            batches, lambda batch: next_item_loss(model, batch, layout, config.text_target_weight,
                                                  config.service_loss_weight), losses,
            params, optimizer, scheduler, config, device=device, pad_id=layout.id("<pad>"), deadline=deadline,
            desc=f"finetune {epoch + 1}/{config.finetune_epochs}", progress=progress,
        )
        seconds = time.monotonic() - started
        ndcg = validate(model, serializer, valid, config, device)
        log["epochs"].append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "valid_ndcg10": ndcg,
                              "tokens_per_s": tokens / seconds, "seconds": seconds})
        log["seconds"] += seconds
        log["tokens"] += tokens
        if log["best_valid_ndcg10"] is None or ndcg > log["best_valid_ndcg10"]:
            log["best_valid_ndcg10"], log["best_epoch"] = ndcg, epoch + 1
            best_state = {k: v.detach().cpu().clone() for k, v in model.named_parameters() if v.requires_grad}
            save_adapter(model, adapter_dir)
        if progress:
            tqdm.write(f"finetune {epoch + 1}/{config.finetune_epochs}: loss {np.mean(losses):.4f}, valid NDCG@10 "
                       f"{ndcg:.4f} (best {log['best_valid_ndcg10']:.4f} at epoch {log['best_epoch']}), "
                       f"{seconds / 60:.1f} min")
        trainable = {name for name, p in model.named_parameters() if p.requires_grad}
        torch.save({"trainable": {k: v for k, v in model.state_dict().items() if k in trainable},
                    "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "epoch": epoch + 1,
                    "log": log, "best": best_state, "rng": rng.getstate(), "config": config.to_dict()}, checkpoint)
        if epoch + 1 - log["best_epoch"] >= config.patience or (deadline and time.monotonic() > deadline):
            break
    if best_state is not None:
        model.load_state_dict(best_state, strict=False)
    model.eval()
    return log


def train(dataset: Dataset, split: Split, config: TrainConfig, out_dir: str | Path, *, use_text: bool = True,
          base_model: str | None = None, adapter_name: str = "default", resume: bool = False,
          progress: bool = True) -> TrainResult:
    """Pretrain a base and fine-tune a named LoRA adapter on ``split``; write every artifact to ``out_dir``.

    With ``resume`` an existing ``out_dir`` continues where its checkpoints
    stopped; without it ``out_dir`` must not hold a previous run.
    """
    out = Path(out_dir)
    if base_model and config.scale_item_embeddings:
        raise ValueError("scale_item_embeddings is for a GPT-2 built here; a --base-model keeps its own embeddings")
    if out.exists() and any(out.iterdir()) and not resume:
        raise FileExistsError(f"{out} is not empty; pass resume=True (--resume) to continue it")
    (out / "checkpoint").mkdir(parents=True, exist_ok=True)
    config.save(out / "config.json")
    (out / "items.json").write_text(json.dumps([item.key for item in dataset.items]) + "\n", encoding="utf-8")
    (out / SERVICES_FILE).write_text(json.dumps([s.key for s in dataset.services]) + "\n", encoding="utf-8")
    cycles = [item.repurchase_days for item in dataset.items]
    (out / CYCLES_FILE).write_text(json.dumps(cycles) + "\n", encoding="utf-8")
    seed_everything(config.seed)
    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    device = pick_device()
    counts = dict(n_items=dataset.n_items, n_services=dataset.n_services)
    if (out / "tokenizer" / LAYOUT_FILE).exists():
        # A resumed run or a new adapter (refresh) on an existing base keeps its vocabulary.
        tokenizer, layout = load_tokenizer(out / "tokenizer")
        if layout.n_items != dataset.n_items or layout.n_services not in (0, dataset.n_services):
            raise ValueError(f"{out} was trained on {layout.n_items} items and {layout.n_services} services, "
                             f"the data has {dataset.n_items} and {dataset.n_services}")
        base = load_base(base_model, layout) if base_model else build_base(config, layout)
    elif base_model:
        from transformers import AutoTokenizer

        tokenizer, layout = extend_tokenizer(AutoTokenizer.from_pretrained(base_model), **counts)
        base = load_base(base_model, layout)
    else:
        tokenizer, layout = train_tokenizer(tokenizer_texts(dataset, split), vocab_size=config.bpe_vocab_size,
                                            min_frequency=config.bpe_min_frequency, **counts)
        base = build_base(config, layout)
    save_tokenizer(tokenizer, layout, out / "tokenizer")
    base.to(device)
    serializer = Serializer.from_config(tokenizer, layout, config, use_text=use_text, repurchase_days=cycles)
    log_path = out / "train_log.json"
    log: dict = json.loads(log_path.read_text(encoding="utf-8")) if log_path.exists() else {}
    log.update({"device": device.type, "use_text": use_text, "parameters": count_parameters(base)[1]})
    if (out / "base" / "config.json").exists():
        base = open_base(out / "base").to(device)
    else:
        sequences = pretraining_sequences(dataset, split, serializer, config, random.Random(config.seed))
        valid = validation_examples(split, config)
        log["pretrain"] = pretrain(base, sequences, layout, config, device=device,
                                   checkpoint=out / "checkpoint" / "pretrain.pt", progress=progress,
                                   validate_epoch=lambda: validate(base, serializer, valid, config, device))
        base.save_pretrained(out / "base")
    prior = repeat_rate([p.item for p in history.purchases] for history in split.train)
    log["train_repeat_rate"] = prior
    model = add_adapter(base, config, layout, repeat_prior=prior)
    log["trainable_parameters"] = count_parameters(model)[0]
    log["finetune"] = log.setdefault("adapters", {})[adapter_name] = finetune(model, serializer, split, config, device=device,
                               checkpoint=out / "checkpoint" / f"finetune-{adapter_name}.pt",
                               adapter_dir=out / "adapters" / adapter_name, progress=progress)
    log_path.write_text(json.dumps(log, indent=2) + "\n", encoding="utf-8")
    return TrainResult(model=model, serializer=serializer, config=config, epochs=len(log["finetune"]["epochs"]),
                       best_valid_ndcg10=log["finetune"]["best_valid_ndcg10"], log=log)


def main(argv: list[str] | None = None) -> None:
    """CLI entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m recommender.train", description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="small", choices=sorted(PRESETS))
    parser.add_argument("--database-url", help="store database URL (default: the settings' database_url)")
    parser.add_argument("--out", required=True, help="artifact folder, e.g. var/models/gpt-small")
    parser.add_argument("--base-model", help="local HF causal-LM checkpoint to start from instead of a fresh GPT-2")
    parser.add_argument("--adapter-name", default="default", help="name of the LoRA adapter (one per refresh)")
    parser.add_argument("--no-text", action="store_true", help="ablation: feed no consultation text")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoints in --out")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: the preset's torch_threads)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="any TrainConfig field on top of the preset, e.g. finetune_epochs=12 (repeatable)")
    args = parser.parse_args(argv)
    try:
        overrides = parse_overrides(args.overrides)
    except OverrideError as error:
        parser.error(str(error))
    url = args.database_url
    if url is None:
        from store.settings import load_settings

        url = load_settings().database_url
    dataset = load_store(url)
    config = replace(preset(args.preset, **overrides), seed=args.seed)
    if args.threads:
        config = replace(config, torch_threads=args.threads)
    started = time.monotonic()
    result = train(dataset, leave_one_out(dataset), config, args.out, use_text=not args.no_text,
                   base_model=args.base_model, adapter_name=args.adapter_name, resume=args.resume)
    print(json.dumps({"seconds": round(time.monotonic() - started, 1), "epochs": result.epochs,
                      "best_valid_ndcg10": result.best_valid_ndcg10}))


if __name__ == "__main__":
    main()
