"""Settings of a training run."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from numbers import Real

from ..errors import InvalidParameterError
from .serialization import to_jsonable

__all__ = ["TrainConfig", "PRECISIONS", "REPRODUCIBILITY"]

PRECISIONS = ("fp32", "bf16")
# config fields that change the sequence of losses; a resumed run warns when they differ
REPRODUCIBILITY = (
    "lr", "weight_decay", "betas", "eps", "warmup_steps", "max_steps", "min_lr_ratio",
    "grad_clip", "grad_accum", "batch_size", "seed", "precision",
)  # fmt: skip


def _check(name, value, kind, low=None, high=None, optional=False):
    if optional and value is None:
        return
    ok = isinstance(value, kind) and not isinstance(value, bool)
    ok = ok and (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        rng = ""
        if high is not None:
            rng = f" in [{low}, {high}]"
        elif low is not None:
            rng = f" >= {low}"
        what = "an integer" if kind is int else "a number"
        extra = " or None" if optional else ""
        raise InvalidParameterError(f"TrainConfig.{name}={value!r}; must be {what}{rng}{extra}")


@dataclasses.dataclass
class TrainConfig:
    """Settings of a training run (JSON-able; stored in every checkpoint).

    Attributes
    ----------
    out_dir : str
        Run directory: ``metrics.csv``, ``tensorboard/``, ``checkpoints/step-NNNNNNNNN/``.
    lr, weight_decay, betas, eps : AdamW settings. Weight decay applies to tensors of two or
        more dimensions only (not to biases and normalisation scales).
    warmup_steps, max_steps, min_lr_ratio : schedule: linear warmup over ``warmup_steps``, then
        cosine decay to ``lr * min_lr_ratio`` at ``max_steps`` (total optimizer steps).
    grad_clip : float | None
        Clip the global gradient norm to this value (None or 0: no clipping).
    grad_accum : int
        Micro-batches per optimizer step; the step's gradient is their mean.
    batch_size : int
        Items per micro-batch *per process* (global batch: ``batch_size x world_size``).
    log_every, eval_every, checkpoint_every : int
        Period in optimizer steps (0: only at the end). The last step is always logged,
        evaluated (with an eval dataset) and checkpointed.
    keep_checkpoints : int
        Newest checkpoints kept (0 keeps all).
    seed : int
        Seeds the global RNGs of a fresh run (``seed + rank``) and the data order.
    precision : {"fp32", "bf16"}
        ``"bf16"`` runs forward passes under CUDA autocast (bfloat16). On CPU it falls back to
        fp32 with a warning: CPU autocast is slow on most machines and would make CPU results
        differ from the fp32 reference.
    num_workers : int
        DataLoader worker processes (0: load in the main process).
    device : {"auto", "cpu", "cuda"}
        "auto" picks CUDA when available (``cuda:LOCAL_RANK`` under torchrun).
    progress, tensorboard : bool
        Show a progress bar (rank 0); write TensorBoard event files.
    resume : bool
        Continue from the latest checkpoint in ``out_dir`` (False refuses a run directory that
        already holds checkpoints).
    find_unused_parameters : bool
        Passed to ``DistributedDataParallel`` (needed when some parameters get no gradient).
    """

    out_dir: str = "runs/train"
    lr: float = 1e-3
    weight_decay: float = 0.01
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    warmup_steps: int = 0
    max_steps: int = 1000
    min_lr_ratio: float = 0.0
    grad_clip: float | None = 1.0
    grad_accum: int = 1
    batch_size: int = 32
    log_every: int = 10
    eval_every: int = 0
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    seed: int = 0
    precision: str = "fp32"
    num_workers: int = 0
    device: str = "auto"
    progress: bool = True
    tensorboard: bool = True
    resume: bool = True
    find_unused_parameters: bool = False

    def __post_init__(self):
        self.out_dir = os.fspath(self.out_dir)
        _check("lr", self.lr, Real, 0.0)
        _check("weight_decay", self.weight_decay, Real, 0.0)
        _check("eps", self.eps, Real, 0.0)
        _check("min_lr_ratio", self.min_lr_ratio, Real, 0.0, 1.0)
        _check("grad_clip", self.grad_clip, Real, 0.0, optional=True)
        for name in (
            "warmup_steps",
            "log_every",
            "eval_every",
            "checkpoint_every",
            "keep_checkpoints",
            "seed",
            "num_workers",
        ):
            _check(name, getattr(self, name), int, 0)
        for name in ("max_steps", "grad_accum", "batch_size"):
            _check(name, getattr(self, name), int, 1)
        betas = tuple(self.betas) if isinstance(self.betas, (list, tuple)) else ()
        if len(betas) != 2 or not all(isinstance(b, Real) and 0 <= b < 1 for b in betas):
            raise InvalidParameterError(
                f"TrainConfig.betas={self.betas!r}; must be two numbers in [0, 1)"
            )
        self.betas = tuple(float(b) for b in betas)
        if self.precision not in PRECISIONS:
            raise InvalidParameterError(
                f"TrainConfig.precision={self.precision!r}; allowed: {list(PRECISIONS)}"
            )
        if self.device not in ("auto", "cpu", "cuda"):
            raise InvalidParameterError(
                f"TrainConfig.device={self.device!r}; allowed: 'auto', 'cpu', 'cuda'"
            )

    def to_dict(self) -> dict:
        """JSON-able dict of the settings."""
        return to_jsonable(dataclasses.asdict(self), "TrainConfig")

    @classmethod
    def from_dict(cls, values: Mapping) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise InvalidParameterError(f"TrainConfig: unknown settings {unknown}")
        return cls(**values)
