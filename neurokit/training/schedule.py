"""Optimizer and learning-rate schedule: AdamW, linear warmup, then cosine decay to a floor."""

from __future__ import annotations

import math

import torch

from ..errors import InvalidParameterError

__all__ = ["adamw", "warmup_cosine", "warmup_cosine_scheduler"]


def warmup_cosine(step: int, warmup_steps: int, max_steps: int, min_ratio: float = 0.0) -> float:
    """Multiplier of the base learning rate for optimizer step ``step`` (0-based).

    Steps ``0 .. warmup_steps - 1`` ramp linearly up to 1: ``(step + 1) / warmup_steps`` (the
    first step already moves, the last warmup step runs at the full rate). Then a half cosine
    goes from 1 at ``warmup_steps`` down to ``min_ratio`` at ``max_steps`` and stays there.
    """
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, max_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_cosine_scheduler(
    optimizer, warmup_steps: int, max_steps: int, min_ratio: float = 0.0
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` following :func:`warmup_cosine`; call ``.step()`` after each optimizer
    step. Its state dict holds numbers only (the multiplier is a plain function of the config,
    not restored from the state), so it is stored as JSON."""
    for name, value in (("warmup_steps", warmup_steps), ("max_steps", max_steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidParameterError(f"{name}={value!r}; must be an integer >= 0")
    if not 0.0 <= min_ratio <= 1.0:
        raise InvalidParameterError(f"min_ratio={min_ratio!r}; must be in [0, 1]")

    def factor(step):
        return warmup_cosine(step, warmup_steps, max_steps, min_ratio)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def adamw(model, lr, *, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0) -> torch.optim.AdamW:
    """AdamW over the trainable parameters of ``model``, in two groups: tensors of two or more
    dimensions get ``weight_decay``; biases and normalisation scales (fewer dimensions) none."""
    decay, plain = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.dim() >= 2 else plain).append(p)
    if not decay and not plain:
        raise InvalidParameterError("the model has no trainable parameter")
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": plain, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)
