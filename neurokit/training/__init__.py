"""Training: one explicit loop for every model, checkpoints, pretrained models on disk.

>>> from neurokit.training import TrainConfig, Trainer                  # doctest: +SKIP
>>> config = TrainConfig(out_dir="runs/a", max_steps=1000)               # doctest: +SKIP
>>> history = Trainer(model, dataset, config=config).fit()               # doctest: +SKIP

A run directory holds ``metrics.csv``, ``tensorboard/`` and ``checkpoints/step-NNNNNNNNN/``;
calling ``fit()`` again (or relaunching the script) resumes from the latest checkpoint.
Multi-process: ``torchrun --nproc_per_node N your_script.py`` (try
``torchrun --standalone --nproc_per_node 2 -m neurokit.training.selftest``).
"""

from __future__ import annotations

import importlib

__all__ = [
    "TrainConfig",
    "Trainer",
    "save_checkpoint",
    "load_checkpoint",
    "save_pretrained",
    "from_pretrained",
    "make_config",
    "latest_checkpoint",
    "warmup_cosine",
    "read_metrics",
]

_WHERE = {
    "TrainConfig": "loop",
    "Trainer": "loop",
    "save_checkpoint": "checkpoint",
    "load_checkpoint": "checkpoint",
    "save_pretrained": "checkpoint",
    "from_pretrained": "checkpoint",
    "make_config": "checkpoint",
    "latest_checkpoint": "checkpoint",
    "warmup_cosine": "schedule",
    "read_metrics": "logger",
}


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'neurokit.training' has no attribute {name!r}")
