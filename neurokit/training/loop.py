"""One explicit training loop shared by every neurokit model.

The model contract: ``model(batch) -> dict`` with a scalar ``"loss"`` tensor (a mean over the
items of the batch) and, optionally, further scalar metrics; or a ``loss_fn(model, batch)``
returning such a dict (a bare loss tensor is accepted too).

What :meth:`Trainer.fit` does, in order, for each optimizer step: ``grad_accum`` micro-batches
forward/backward (gradients of non-final micro-batches are not synchronised across processes),
gradient clipping, AdamW step, LR schedule step (linear warmup then cosine decay), metrics,
evaluation, checkpoint. Everything that decides the next step -- weights, optimizer moments,
schedule, RNG states of Python/NumPy/torch, and the position in the data -- is in the
checkpoint, so a run killed at any moment and restarted with the same config continues with
the very same losses as a run that was never interrupted (bitwise on CPU).

Data order comes from ``(seed, epoch)`` only: each epoch the sampler is asked for its global
batches (``batch_size x world_size`` items each), rank ``r`` loads the ``r``-th contiguous part
of each, and a resumed run skips the batches the checkpoint says were consumed.

Multi-process runs: launched by ``torchrun`` (``WORLD_SIZE``/``RANK``/``LOCAL_RANK`` set), the
trainer joins the process group (gloo on CPU, nccl on CUDA), wraps the model in
``DistributedDataParallel``, and only rank 0 writes logs and checkpoints. ``batch_size`` is per
process: the global batch is ``batch_size x world_size``, and each process's loss is weighted
by its share of the global batch, so the averaged gradient is the gradient of the global mean
loss -- the same as a single process with ``batch_size x world_size``.
"""

from __future__ import annotations

import contextlib
import shutil
import warnings
from numbers import Real
from pathlib import Path

import torch
from tqdm import tqdm

from ..errors import InvalidParameterError
from . import checkpoint as ckpt
from .batching import (
    LossModule,
    default_collate_for,
    evaluate,
    micro_batches,
    recipe_hash,
    split_output,
    to_device,
)
from .config import REPRODUCIBILITY, TrainConfig
from .distributed import DistContext, setup, teardown
from .logger import MetricsLogger
from .sampling import default_sampler_factory, epoch_plan, rank_slice
from .schedule import adamw, warmup_cosine, warmup_cosine_scheduler
from .state import capture_rng, restore_rng, seed_everything

__all__ = ["TrainConfig", "Trainer"]


class Trainer:
    """Train ``model`` on ``train_dataset`` as described by ``config``.

    Parameters
    ----------
    model : torch.nn.Module
        ``model(batch) -> {"loss": scalar tensor, ...}`` (or see ``loss_fn``).
    train_dataset : torch.utils.data.Dataset
        A map-style dataset (a :class:`~neurokit.corpus.CorpusDataset` or any other).
    config : TrainConfig
    collate_fn : callable | None
        Default: :func:`neurokit.corpus.collate` for a corpus dataset, else torch's
        ``default_collate``. Used for the evaluation set too.
    sampler_factory : callable | None
        ``factory(dataset, batch_size=, shuffle=, seed=, num_replicas=, rank=)`` -> a batch
        sampler with ``set_epoch`` whose iteration depends on ``(seed, epoch)`` only. It is
        called with the global batch size and ``num_replicas=1, rank=0`` (the trainer shards
        each global batch itself). Default: :func:`~.sampling.default_sampler_factory`.
    eval_dataset : Dataset | None
        Evaluated (no gradients, metrics averaged over items) every ``eval_every`` steps and
        at the end; logged as ``eval/<name>``.
    loss_fn : callable | None
        ``loss_fn(model, batch) -> dict`` used instead of ``model(batch)``.
    model_config : dict | None
        ``config.json`` of the checkpoints (:func:`~.checkpoint.make_config`); default
        ``model.get_config()`` when the model has one, else the class name.

    Attributes
    ----------
    step, epoch, position : int
        Optimizer steps done; epoch and global batches consumed in it.
    history, eval_history : list of dict
        Records logged (every ``log_every`` steps) / evaluations made during :meth:`fit`;
        ``metrics.csv`` in ``out_dir`` holds those of the whole run.
    resumed_from : Path | None
        The checkpoint :meth:`fit` started from.
    """

    def __init__(
        self,
        model,
        train_dataset,
        *,
        config,
        collate_fn=None,
        sampler_factory=None,
        eval_dataset=None,
        loss_fn=None,
        model_config=None,
    ):
        if not isinstance(config, TrainConfig):
            raise InvalidParameterError(f"config is a {type(config).__name__}; pass a TrainConfig")
        if not isinstance(model, torch.nn.Module):
            raise InvalidParameterError(f"model is a {type(model).__name__}; need an nn.Module")
        if len(train_dataset) == 0:
            raise InvalidParameterError("train_dataset is empty; nothing to train on")
        self.model, self.config = model, config
        self.train_dataset, self.eval_dataset, self.loss_fn = train_dataset, eval_dataset, loss_fn
        self.collate_fn = collate_fn or default_collate_for(train_dataset)
        self.eval_collate_fn = collate_fn or (
            default_collate_for(eval_dataset) if eval_dataset is not None else None
        )
        self.sampler_factory = sampler_factory or default_sampler_factory
        self.model_config = model_config
        self.run_dir = Path(config.out_dir)
        self.checkpoint_dir = self.run_dir / "checkpoints"
        self.step = self.epoch = self.position = 0
        self.history, self.eval_history = [], []
        self.resumed_from = None
        self._ctx = DistContext()
        self._logger = None
        self._autocast = contextlib.nullcontext

    # ------------------------------------------------------------------------------ public
    def fit(self) -> list[dict]:
        """Train up to ``config.max_steps`` optimizer steps, resuming from the latest
        checkpoint of the run directory if there is one. Returns :attr:`history`."""
        self._ctx = setup(self.config.device)
        done = False
        try:
            self._fit()
            done = True
        finally:
            if self._logger is not None:
                self._logger.close()
                self._logger = None
            teardown(self._ctx, wait=done)
        return self.history

    # ------------------------------------------------------------------------------ set-up
    def _autocast_factory(self, device):
        """A factory of the forward pass's autocast context (bf16 on CUDA only)."""
        if self.config.precision == "bf16":
            if device.type == "cuda":
                return lambda: torch.autocast("cuda", dtype=torch.bfloat16)
            warnings.warn("precision='bf16' needs a CUDA device; training on CPU in fp32")
        return contextlib.nullcontext

    def _config_json(self) -> dict:
        if self.model_config is not None:
            return self.model_config
        if callable(getattr(self.model, "get_config", None)):
            return self.model.get_config()
        sfreq = getattr(self.train_dataset, "sfreq", None)
        sfreq = sfreq if isinstance(sfreq, Real) and sfreq > 0 else None
        return ckpt.make_config("model", type(self.model).__name__, sfreq=sfreq)

    def _restore(self, path, optimizer, scheduler):
        """Load a training checkpoint; returns this rank's RNG state (set last)."""
        ctx, cfg = self._ctx, self.config
        loaded = ckpt.load_checkpoint(path, self.model, map_location=ctx.device)
        extra = loaded["extra"] or {}
        if "step" not in extra or loaded["optimizer"] is None or loaded["scheduler"] is None:
            raise InvalidParameterError(
                f"{path} is not a training checkpoint (no optimizer or trainer state); "
                "use another out_dir"
            )
        optimizer.load_state_dict(loaded["optimizer"])
        scheduler.load_state_dict(loaded["scheduler"])
        factor = warmup_cosine(
            scheduler.last_epoch, cfg.warmup_steps, cfg.max_steps, cfg.min_lr_ratio
        )
        for group, base in zip(optimizer.param_groups, scheduler.base_lrs):
            group["lr"] = base * factor  # the schedule of this config, should it have changed
        self.step, self.epoch, self.position = extra["step"], extra["epoch"], extra["position"]
        old = extra.get("train_config", {})
        new = cfg.to_dict()
        changed = [k for k in REPRODUCIBILITY if k in old and old[k] != new[k]]
        if changed and ctx.main:
            warnings.warn(
                f"resuming {path} with changed settings {changed}: the run will not reproduce "
                "an uninterrupted one"
            )
        states = extra.get("rng") or []
        if len(states) != ctx.world_size and ctx.main:
            warnings.warn(
                f"{path} was written by {len(states)} process(es), this run has "
                f"{ctx.world_size}: data order is kept, random states are not exact"
            )
        self.resumed_from = Path(path)
        return states[min(ctx.rank, len(states) - 1)] if states else None

    # ------------------------------------------------------------------------------ loop
    def _fit(self) -> None:
        ctx, cfg = self._ctx, self.config
        device = ctx.device
        self.model.to(device)
        core = self.model if self.loss_fn is None else LossModule(self.model, self.loss_fn)
        optimizer = adamw(
            self.model, cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay
        )
        scheduler = warmup_cosine_scheduler(
            optimizer, cfg.warmup_steps, cfg.max_steps, cfg.min_lr_ratio
        )
        self.history, self.eval_history = [], []
        self._model_json = ckpt.to_jsonable(self._config_json(), "model config")
        latest = ckpt.latest_checkpoint(self.checkpoint_dir)
        if latest is not None and not cfg.resume:
            raise InvalidParameterError(
                f"{self.checkpoint_dir} holds checkpoints and resume=False; use another out_dir "
                "(or resume=True to continue that run)"
            )
        rng = None
        if latest is not None:
            rng = self._restore(latest, optimizer, scheduler)
        else:
            self.step = self.epoch = self.position = 0
            seed_everything(cfg.seed + ctx.rank)
        net = core
        if ctx.active:
            ids = [device.index] if device.type == "cuda" else None
            net = torch.nn.parallel.DistributedDataParallel(
                core, device_ids=ids, find_unused_parameters=cfg.find_unused_parameters
            )
        if ctx.main:
            self._logger = MetricsLogger(
                self.run_dir, resume_step=self.step, tensorboard=cfg.tensorboard
            )
        self._autocast = self._autocast_factory(device)
        sampler = self.sampler_factory(
            self.train_dataset,
            batch_size=cfg.batch_size * ctx.world_size,
            shuffle=True,
            seed=cfg.seed,
            num_replicas=1,
            rank=0,
        )
        ctx.barrier()
        if rng is not None:
            restore_rng(rng)  # last, so that nothing above can draw from it
        params = [p for p in self.model.parameters() if p.requires_grad]
        bar = tqdm(
            total=cfg.max_steps,
            initial=self.step,
            desc="train",
            dynamic_ncols=True,
            disable=not (cfg.progress and ctx.main),
        )
        stream = micro_batches(
            self.train_dataset,
            sampler,
            self.collate_fn,
            epoch=self.epoch,
            position=self.position,
            world_size=ctx.world_size,
            rank=ctx.rank,
            seed=cfg.seed,
            num_workers=cfg.num_workers,
            pin_memory=device.type == "cuda",
        )
        net.train()
        try:
            while self.step < cfg.max_steps:
                sums = self._accumulate(net, stream)
                grad_norm = self._clip(params)
                lr = optimizer.param_groups[0]["lr"]
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                self.step += 1
                last = self.step == cfg.max_steps
                if last or (cfg.log_every and self.step % cfg.log_every == 0):
                    self._log(sums, grad_norm, lr, bar)
                if self.eval_dataset is not None and (
                    last or (cfg.eval_every and self.step % cfg.eval_every == 0)
                ):
                    self._evaluate(core)
                if last or (cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0):
                    self._save(optimizer, scheduler)
                bar.update(1)
        finally:
            stream.close()
            bar.close()

    def _accumulate(self, net, stream) -> dict:
        """Forward/backward ``grad_accum`` micro-batches; the step's summed metrics."""
        ctx, cfg = self._ctx, self.config
        sums: dict = {}
        for j in range(cfg.grad_accum):
            epoch, position, n_global, n_local, batch = next(stream)
            batch = to_device(batch, ctx.device)
            # this rank's share of the global batch, and of the accumulated step
            scale = n_local * ctx.world_size / n_global / cfg.grad_accum
            sync = not ctx.active or j == cfg.grad_accum - 1
            with contextlib.nullcontext() if sync else net.no_sync():
                with self._autocast():
                    out = net(batch)
                loss, metrics = split_output(out)
                (loss * scale).backward()
            for name, value in metrics.items():
                sums[name] = sums.get(name, 0.0) + value * scale
            self.epoch, self.position = epoch, position
        return sums

    def _clip(self, params):
        grads = [p.grad for p in params if p.grad is not None]
        if self.config.grad_clip:
            return torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip)
        return torch.nn.utils.get_total_norm(grads) if grads else torch.tensor(0.0)

    def _log(self, sums, grad_norm, lr, bar) -> None:
        ctx = self._ctx
        names = sorted(sums)
        values = torch.stack([sums[n].to(ctx.device) for n in names]) if names else None
        if values is not None:
            values = ctx.all_reduce_sum(values) / ctx.world_size
        record = {
            "step": self.step,
            "epoch": self.epoch,
            "lr": float(lr),
            "grad_norm": float(grad_norm),
        }
        if values is not None:
            record.update(zip(names, values.tolist()))
        self.history.append(record)
        if self._logger is not None:
            shown = {k: v for k, v in record.items() if k != "step"}
            self._logger.log(self.step, {f"train/{k}": v for k, v in shown.items()})
            bar.set_postfix(loss=f"{record.get('loss', float('nan')):.4g}", lr=f"{lr:.3g}")

    def _evaluate(self, core) -> dict:
        """Mean metrics over the evaluation set, every rank taking its part of each batch."""
        ctx, cfg = self._ctx, self.config
        sampler = self.sampler_factory(
            self.eval_dataset,
            batch_size=cfg.batch_size * ctx.world_size,
            shuffle=False,
            seed=cfg.seed,
            num_replicas=1,
            rank=0,
        )
        parts = [rank_slice(b, ctx.world_size, ctx.rank) for b in epoch_plan(sampler, 0, 1)]
        parts = [p for p in parts if p]
        saved = capture_rng()  # evaluation must not move the training's random streams
        core.eval()
        try:
            sums, count = evaluate(
                core,
                self.eval_dataset,
                parts,
                self.eval_collate_fn,
                device=ctx.device,
                autocast=self._autocast,
                num_workers=cfg.num_workers,
                key=(cfg.seed, 2**31 - 1, ctx.rank),
            )
        finally:
            core.train()
            restore_rng(saved)
        gathered = ctx.gather_objects((sums, count))
        total = sum(c for _, c in gathered)
        names = sorted({n for s, _ in gathered for n in s})
        result = {n: sum(s.get(n, 0.0) for s, _ in gathered) / max(total, 1) for n in names}
        record = {"step": self.step, **result}
        self.eval_history.append(record)
        if self._logger is not None:
            self._logger.log(self.step, {f"eval/{k}": v for k, v in result.items()})
        return result

    def _save(self, optimizer, scheduler) -> None:
        ctx, cfg = self._ctx, self.config
        states = ctx.gather_objects(capture_rng())
        if ctx.main:
            metrics = dict(self.history[-1]) if self.history else {}
            if self.eval_history and self.eval_history[-1]["step"] == self.step:
                metrics.update(
                    {f"eval/{k}": v for k, v in self.eval_history[-1].items() if k != "step"}
                )
            meta = {
                "step": self.step,
                "epoch": self.epoch,
                "metrics": metrics,
                "recipe_hash": recipe_hash(self.train_dataset),
                "world_size": ctx.world_size,
                "global_batch_size": cfg.batch_size * ctx.world_size,
            }
            extra = {
                "step": self.step,
                "epoch": self.epoch,
                "position": self.position,
                "world_size": ctx.world_size,
                "train_config": cfg.to_dict(),
                "rng": states,
            }
            path = self.checkpoint_dir / ckpt.checkpoint_name(self.step)
            ckpt.save_checkpoint(
                path, self.model, self._model_json, meta, optimizer, scheduler, extra
            )
            if cfg.keep_checkpoints:
                for _, old in ckpt.list_checkpoints(self.checkpoint_dir)[: -cfg.keep_checkpoints]:
                    shutil.rmtree(old, ignore_errors=True)
            if self._logger is not None:
                self._logger.flush()
        ctx.barrier()
