"""Batches for the training loop: the micro-batch stream, device moves, model outputs."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real

import numpy as np
import torch
from torch.utils.data import DataLoader

from ..errors import InvalidParameterError
from .sampling import epoch_plan, rank_slice

__all__ = [
    "LossModule",
    "recipe_hash",
    "evaluate",
    "to_device",
    "split_output",
    "default_collate_for",
    "make_loader",
    "micro_batches",
]


def to_device(obj, device):
    """``obj`` with every tensor (in nested dicts, lists and tuples) moved to ``device``."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, Mapping):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


def split_output(out) -> tuple[torch.Tensor, dict]:
    """``(loss, {name: scalar tensor})`` from what the model (or loss_fn) returned."""
    if isinstance(out, torch.Tensor):
        out = {"loss": out}
    if not isinstance(out, Mapping) or "loss" not in out:
        raise InvalidParameterError(
            f"the model returned a {type(out).__name__}; the trainer needs a dict with a scalar "
            "'loss' tensor (model(batch) -> {'loss': ..., other scalar metrics})"
        )
    loss = out["loss"]
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise InvalidParameterError(f"'loss' must be a scalar tensor; got {shape}")
    if not loss.requires_grad:
        raise InvalidParameterError("'loss' does not require grad; nothing would be trained")
    metrics = {}
    for name, value in out.items():
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            metrics[name] = value.detach().float().reshape(())
        elif isinstance(value, Real) and not isinstance(value, bool):
            metrics[name] = torch.tensor(float(value))
    return loss.reshape(()), metrics


def default_collate_for(dataset):
    if hasattr(dataset, "channel_counts") and hasattr(dataset, "corpus"):
        from ..corpus.dataset import collate

        return collate
    return torch.utils.data.default_collate


def make_loader(dataset, parts, collate_fn, *, num_workers=0, pin_memory=False, key=(0,)):
    """A DataLoader over the index lists ``parts`` (one batch each, in order). Its workers are
    seeded from ``key`` through a private generator, so creating it draws nothing from torch's
    global RNG (which a resumed run must find exactly as the checkpoint left it)."""
    gen = torch.Generator()
    gen.manual_seed(int(np.random.SeedSequence(list(key)).generate_state(1)[0]))
    return DataLoader(
        dataset,
        batch_sampler=parts,
        collate_fn=collate_fn,
        num_workers=num_workers,
        pin_memory=pin_memory,
        generator=gen,
    )


def micro_batches(
    dataset,
    sampler,
    collate_fn,
    *,
    epoch=0,
    position=0,
    world_size=1,
    rank=0,
    seed=0,
    num_workers=0,
    pin_memory=False,
):
    """Yield ``(epoch, position, global size, local size, batch)`` forever, starting after the
    first ``position`` global batches of ``epoch``; ``batch`` is this rank's part of the
    global batch and ``position`` counts the global batches consumed once it is used."""
    while True:
        plan = epoch_plan(sampler, epoch, world_size)
        if not plan:
            raise InvalidParameterError(
                f"the sampler yields no batch of at least {world_size} item(s) from "
                f"{len(dataset)} training items"
            )
        todo = plan[position:]
        if todo:
            parts = [rank_slice(b, world_size, rank) for b in todo]
            loader = make_loader(
                dataset,
                parts,
                collate_fn,
                num_workers=num_workers,
                pin_memory=pin_memory,
                key=(seed, epoch, rank),
            )
            for k, batch in enumerate(loader):
                yield epoch, position + k + 1, len(todo[k]), len(parts[k]), batch
        epoch, position = epoch + 1, 0


def evaluate(core, dataset, parts, collate_fn, *, device, autocast, num_workers=0, key=(0,)):
    """Run ``core`` without gradients over the batches ``parts`` of ``dataset``; returns
    ``({metric: sum over items}, item count)`` (each batch's scalar outputs weighted by its
    size). ``autocast`` is a context-manager factory."""
    sums, count = {}, 0
    if not parts:
        return sums, count
    loader = make_loader(
        dataset,
        parts,
        collate_fn,
        num_workers=num_workers,
        pin_memory=device.type == "cuda",
        key=key,
    )
    with torch.no_grad():
        for part, batch in zip(parts, loader):
            with autocast():
                out = core(to_device(batch, device))
            out = {"loss": out} if isinstance(out, torch.Tensor) else out
            for name, value in out.items():
                if isinstance(value, torch.Tensor) and value.numel() == 1:
                    sums[name] = sums.get(name, 0.0) + float(value) * len(part)
            count += len(part)
    return sums, count


class LossModule(torch.nn.Module):
    """``model`` and ``loss_fn`` as one module, so DDP sees the whole loss computation."""

    def __init__(self, model, loss_fn):
        super().__init__()
        self.model, self.loss_fn = model, loss_fn

    def forward(self, batch):
        return self.loss_fn(self.model, batch)


def recipe_hash(dataset):
    """The recipe hash of the corpus behind ``dataset`` (None when there is none)."""
    meta = getattr(getattr(dataset, "corpus", None), "meta", None)
    return meta.get("recipe_hash") if isinstance(meta, Mapping) else None
