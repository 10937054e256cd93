"""neurokit: read any EEG, MEG or sEEG recording into one sensor-aware form.

>>> import neurokit
>>> rec = neurokit.io.synthetic("eeg", n_channels=8, duration_s=2.0, seed=0)
>>> rec.sensors.counts()
{'eeg': 8, 'eog': 1}

Submodules load on first use, so ``import neurokit`` stays light (no torch, no MNE readers).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

__all__ = ["io", "errors", "sensors", "Recording", "SensorTable", "__version__"]


def __getattr__(name):
    if name in ("io", "errors", "sensors", "recording", "cli", "viz", "artifacts", "decoding"):
        return importlib.import_module(f"neurokit.{name}")
    if name == "Recording":
        from .recording import Recording

        return Recording
    if name == "SensorTable":
        from .sensors import SensorTable

        return SensorTable
    raise AttributeError(f"module 'neurokit' has no attribute {name!r}")
