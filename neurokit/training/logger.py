"""Metrics of a run: ``metrics.csv`` (long format) and TensorBoard event files."""

from __future__ import annotations

import csv
import math
import os
import time
import warnings
from pathlib import Path

__all__ = ["MetricsLogger", "read_metrics"]

_HEADER = ["step", "name", "value", "time"]


class MetricsLogger:
    """Append metrics to ``run_dir/metrics.csv`` and ``run_dir/tensorboard/``.

    The CSV has one row per value: ``step,name,value,time`` (so evaluation metrics and model
    extras can appear at any step without changing the header). ``resume_step`` drops the rows
    and TensorBoard events logged after that step by a run that was interrupted after its last
    checkpoint, so a resumed run does not log those steps twice.
    """

    def __init__(self, run_dir, *, resume_step: int = 0, tensorboard: bool = True):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.csv_path = self.run_dir / "metrics.csv"
        self._truncate(resume_step)
        new = not self.csv_path.exists() or self.csv_path.stat().st_size == 0
        self._file = open(self.csv_path, "a", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file)
        if new:
            self._csv.writerow(_HEADER)
        self.writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                warnings.warn(
                    "tensorboard is not installed; metrics go to metrics.csv only "
                    "(pip install tensorboard, or pass tensorboard=False to silence this)"
                )
            else:
                purge = resume_step + 1 if resume_step else None
                self.writer = SummaryWriter(
                    os.fspath(self.run_dir / "tensorboard"), purge_step=purge
                )

    def _truncate(self, resume_step: int) -> None:
        if not self.csv_path.exists():
            return
        with open(self.csv_path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        keep = [r for r in rows[1:] if r and r[0].isdigit() and int(r[0]) <= resume_step]
        if len(keep) == len(rows) - 1 and rows and rows[0] == _HEADER:
            return
        tmp = self.csv_path.with_name(".metrics.csv.tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(_HEADER)
            w.writerows(keep)
        os.replace(tmp, self.csv_path)

    def log(self, step: int, metrics: dict) -> None:
        """Record ``{name: number}`` at ``step``."""
        now = time.time()
        for name, value in metrics.items():
            value = float(value)
            self._csv.writerow([int(step), name, repr(value), f"{now:.3f}"])
            if self.writer is not None and math.isfinite(value):
                self.writer.add_scalar(name, value, int(step), walltime=now)
        self._file.flush()

    def flush(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        if not self._file.closed:
            self.flush()
            self._file.close()
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def read_metrics(path) -> dict:
    """``metrics.csv`` as ``{name: [(step, value), ...]}`` (steps ascending)."""
    out: dict = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["name"], []).append((int(row["step"]), float(row["value"])))
    return {k: sorted(v) for k, v in out.items()}
