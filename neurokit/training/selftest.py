"""A tiny, self-contained training run: checks the loop, checkpoints and multi-process setup.

Single process::

    python -m neurokit.training.selftest --out runs/selftest

Two processes on one machine (gloo on CPU, nccl on CUDA)::

    torchrun --standalone --nproc_per_node 2 -m neurokit.training.selftest --out runs/ddp

``--batch-size`` is per process, so ``--batch-size 4`` with 2 processes trains on the same
global batches as ``--batch-size 8`` in one process. Rank 0 writes the final weights to
``OUT/final`` (:func:`~neurokit.training.checkpoint.save_pretrained`) and prints a summary line
starting with ``SELFTEST``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

import numpy as np
import torch

from .checkpoint import make_config, save_pretrained
from .loop import TrainConfig, Trainer

__all__ = ["TinyRegressor", "SyntheticRegression", "REGISTRY", "main"]


class SyntheticRegression(torch.utils.data.Dataset):
    """``n`` items ``{"x": (n_in,), "y": ()}`` with ``y = tanh(x . w / 2) + noise``, fixed by
    ``seed``."""

    def __init__(self, n=256, n_in=8, seed=0, noise=0.01):
        rng = np.random.default_rng(seed)
        self.x = rng.standard_normal((n, n_in)).astype(np.float32)
        w = rng.standard_normal(n_in)
        y = np.tanh(self.x @ w / 2) + noise * rng.standard_normal(n)
        self.y = y.astype(np.float32)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": torch.from_numpy(self.x[i]), "y": torch.tensor(self.y[i])}


class TinyRegressor(torch.nn.Module):
    """Two-layer perceptron returning ``{"loss": MSE, "mae": ...}``. ``kill_at_step`` makes
    the process SIGKILL itself when the forward pass of that optimizer step starts (to test
    recovery from a hard crash); it is not part of the saved config."""

    def __init__(self, n_in=8, hidden=16, dropout=0.0, grad_accum=1, kill_at_step=None):
        super().__init__()
        self.n_in, self.hidden, self.dropout = n_in, hidden, dropout
        self.net = torch.nn.Sequential(
            torch.nn.Linear(n_in, hidden),
            torch.nn.Tanh(),
            torch.nn.Dropout(dropout),
            torch.nn.Linear(hidden, 1),
        )
        self._calls, self._accum, self._kill = 0, grad_accum, kill_at_step

    def forward(self, batch):
        if self.training:
            self._calls += 1
            step = (self._calls - 1) // self._accum + 1
            if self._kill is not None and step >= self._kill:
                os.kill(os.getpid(), signal.SIGKILL)
        pred = self.net(batch["x"]).squeeze(-1)
        err = pred - batch["y"]
        return {"loss": (err**2).mean(), "mae": err.abs().mean()}

    def get_config(self) -> dict:
        kwargs = {"n_in": self.n_in, "hidden": self.hidden, "dropout": self.dropout}
        return make_config("model", "TinyRegressor", kwargs)


REGISTRY = {"TinyRegressor": TinyRegressor}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m neurokit.training.selftest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", default="runs/selftest", help="run directory")
    p.add_argument("--batch-size", type=int, default=8, help="items per process per micro-batch")
    p.add_argument("--max-steps", type=int, default=20)
    p.add_argument("--grad-accum", type=int, default=1)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--warmup-steps", type=int, default=2)
    p.add_argument("--checkpoint-every", type=int, default=5)
    p.add_argument("--n-items", type=int, default=96)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-workers", type=int, default=0)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    p.add_argument("--kill-at-step", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    print(f"selftest: rank {rank} of {world} started", flush=True)
    torch.manual_seed(args.seed)  # identical initial weights on every rank
    model = TinyRegressor(
        dropout=args.dropout, grad_accum=args.grad_accum, kill_at_step=args.kill_at_step
    )
    config = TrainConfig(
        out_dir=args.out,
        lr=args.lr,
        warmup_steps=args.warmup_steps,
        max_steps=args.max_steps,
        grad_accum=args.grad_accum,
        batch_size=args.batch_size,
        log_every=1,
        checkpoint_every=args.checkpoint_every,
        keep_checkpoints=0,
        seed=args.seed,
        num_workers=args.num_workers,
        device=args.device,
        progress=args.progress,
    )
    data = SyntheticRegression(n=args.n_items, seed=args.seed)
    trainer = Trainer(model, data, config=config)
    history = trainer.fit()
    if rank == 0:
        save_pretrained(model, os.path.join(args.out, "final"))
        summary = {
            "world_size": world,
            "steps": trainer.step,
            "resumed_from": str(trainer.resumed_from) if trainer.resumed_from else None,
            "loss": [h["loss"] for h in history],
        }
        print("SELFTEST " + json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
