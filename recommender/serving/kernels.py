"""Faster kernels for the same arithmetic, applied to a loaded model before it serves.

GPT-2's ``gelu_new`` activation is the tanh approximation of GELU written
as five separate elementwise tensor operations; on this project's CPU they
took about 40% of a forward pass of the small model. torch's
``gelu(approximate="tanh")`` computes the same formula in one fused kernel
(outputs agree within 1e-6), so the served scores do not change.
"""

from __future__ import annotations

import torch
from transformers.activations import GELUTanh, NewGELUActivation


def fuse_activations(model: torch.nn.Module) -> int:
    """Replace every unfused tanh-GELU module in ``model`` by the fused one, in place.

    Returns:
        How many activations were replaced (0 for a model without ``gelu_new``).
    """
    replaced = 0
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, NewGELUActivation):
                setattr(module, name, GELUTanh())
                replaced += 1
    return replaced


def merge_adapter(model: torch.nn.Module) -> torch.nn.Module:
    """The served model with its LoRA adapter folded into the base weights (same scores, fewer kernels).

    A LoRA layer computes ``W x + B A x`` with two extra small matrix products
    and their Python dispatch per layer and call; a served model never trains,
    so ``W + B A`` is computed once here (``peft``'s ``merge_and_unload``,
    which also writes the catalog-token embedding deltas into the embedding).
    The copy head is carried over. A model without an adapter is returned as is.
    """
    from peft import PeftModel

    from recommender.model import copy_head_of

    if not isinstance(model, PeftModel):
        return model
    head = copy_head_of(model)
    merged = model.merge_and_unload()
    if head is not None:
        merged.add_module("copy_head", head)
    return merged.eval()
