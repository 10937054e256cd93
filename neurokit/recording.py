"""The :class:`Recording`: what every loader returns and every preprocessing step takes."""

from __future__ import annotations

import contextlib
import contextvars
import copy
from dataclasses import dataclass, field

import numpy as np

from .sensors import SensorTable

__all__ = ["Recording", "owned", "owning"]

_OWNED = contextvars.ContextVar("neurokit_owned", default=False)


def owned() -> bool:
    """True inside :func:`owning`: the current recording is private to a pipeline, so steps may
    modify it in place instead of copying."""
    return _OWNED.get()


@contextlib.contextmanager
def owning():
    """Let steps work in place (a :class:`~neurokit.preprocessing.Pipeline` copies its input
    once and then owns every intermediate recording)."""
    token = _OWNED.set(True)
    try:
        yield
    finally:
        _OWNED.reset(token)


@dataclass
class Recording:
    """A normalized recording: MNE raw data in SI units, its sensor table, and metadata.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Data channels in SI units (V, T, T/m); bad channels in ``raw.info["bads"]``; events as
        annotations.
    sensors : SensorTable
        One row per channel of ``raw``, in the same order.
    meta : dict
        ``dataset``, ``subject``, ``session``, ``run``, ``task``, ``source`` (path), ``format``,
        ``warnings`` (oddities found while loading) and ``history``: a list of
        ``{"step": name, ...}`` entries, one per normalization repair or preprocessing step.

    Examples
    --------
    >>> import neurokit
    >>> rec = neurokit.io.synthetic("eeg", n_channels=8, duration_s=2.0, seed=0)
    >>> rec.sensors.counts()
    {'eeg': 8}
    """

    raw: object
    sensors: SensorTable
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        if list(self.sensors.names) != list(self.raw.ch_names):
            raise ValueError("Recording: sensors.names must equal raw.ch_names (same order)")
        self.meta.setdefault("history", [])
        self.meta.setdefault("warnings", [])

    # ------------------------------------------------------------------ shortcuts
    @property
    def sfreq(self) -> float:
        """Sampling rate in Hz."""
        return float(self.raw.info["sfreq"])

    @property
    def ch_names(self) -> list:
        return list(self.raw.ch_names)

    @property
    def n_times(self) -> int:
        return int(self.raw.n_times)

    @property
    def duration_s(self) -> float:
        return self.n_times / self.sfreq

    @property
    def history(self) -> list:
        return self.meta["history"]

    def get_data(self, picks=None, **kwargs) -> np.ndarray:
        """Samples (c, t) in SI units; see :meth:`mne.io.Raw.get_data`."""
        return self.raw.get_data(picks=picks, **kwargs)

    def copy(self) -> "Recording":
        """Deep copy (data included when loaded)."""
        return Recording(self.raw.copy(), copy.deepcopy(self.sensors), copy.deepcopy(self.meta))

    def with_step(
        self, raw, step: str, sensors: SensorTable | None = None, **params
    ) -> "Recording":
        """New recording with ``raw`` and one more history entry; ``self`` is left unchanged
        (except inside :func:`owning`, where the metadata is shared rather than copied)."""
        meta = self.meta if owned() else copy.deepcopy(self.meta)
        meta["history"].append({"step": step, **params})
        sensors = sensors if sensors is not None else SensorTable.from_info(raw.info)
        return Recording(raw, sensors, meta)

    # ------------------------------------------------------------------ summaries
    def summary(self) -> dict:
        """JSON-able summary: channel types, sfreq, duration, positions, bads, repairs."""
        s = self.sensors
        data = np.isin(s.types, ("eeg", "seeg", "ecog", "mag", "grad"))
        return {
            "source": self.meta.get("source"),
            "format": self.meta.get("format"),
            "n_channels": len(s),
            "channel_types": s.counts(),
            "sfreq": self.sfreq,
            "n_times": self.n_times,
            "duration_s": round(self.duration_s, 6),
            "n_with_position": int(s.has_position.sum()),
            "positions_known": bool(data.any() and s.has_position[data].all()),
            "position_frame": s.frame,
            "n_meg_with_orientation": int(np.all(np.isfinite(s.ori), axis=1).sum()),
            "bads": [n for n, b in zip(s.names, s.bads) if b],
            "n_annotations": len(self.raw.annotations),
            "repairs": [h for h in self.history if h.get("step", "").startswith("repair")],
            "warnings": list(self.meta.get("warnings", [])),
        }

    def __repr__(self) -> str:
        return (
            f"<Recording | {self.meta.get('source') or 'in memory'}: {len(self.sensors)} ch "
            f"{self.sensors.counts()}, {self.sfreq:g} Hz, {self.duration_s:.3f} s>"
        )
