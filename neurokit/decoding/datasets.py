"""SSVEP data sets as trial arrays: the shared Kalunga recordings, the Tsinghua Benchmark, BETA.

Every loader returns an :class:`SSVEPData`: trials ``X`` ``[n_trials, n_channels, n_times]`` in
volts plus per-trial labels, subjects, sessions and blocks, so that within-subject,
leave-one-block-out, cross-session and cross-subject splits are one boolean mask away.
``X`` may start before the stimulus onset (``tmin < 0``); :meth:`SSVEPData.crop` cuts the
analysis window after the onset shifted by the visual latency, as the SSVEP literature does.

Stimulus tables (``TSINGHUA_FREQS``/``TSINGHUA_PHASES`` in the order of the target axis of the
Benchmark ``S*.mat`` files, ``BETA_FREQS``/``BETA_PHASES`` likewise for BETA) follow the joint
frequency-phase rule of both data sets: the target with frequency ``8 + 0.2 m`` Hz has phase
``(m * pi / 2) mod 2 pi``. The ``.mat`` files are read with :func:`scipy.io.loadmat`
(:mod:`pymatreader` for MATLAB v7.3 files) and the FIF files with MNE; nothing is cached on disk.

>>> import numpy as np
>>> d = SSVEPData(X=np.zeros((2, 1, 500)), y=np.array([0, 1]), freqs=np.array([8.0, 9.0]),
...               sfreq=250.0, ch_names=["Oz"], tmin=-0.5, visual_latency_s=0.14)
>>> d.crop(1.0).X.shape
(2, 1, 250)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import (
    DatasetNotFoundError,
    InvalidParameterError,
)

__all__ = [
    "SSVEPData",
    "DatasetNotFoundError",
    "load_kalunga2016",
    "load_tsinghua_benchmark",
    "load_beta",
    "TSINGHUA_FREQS",
    "TSINGHUA_PHASES",
    "BETA_FREQS",
    "BETA_PHASES",
    "TSINGHUA_CH_NAMES",
    "OCCIPITAL_9",
]


def _jfpm(freqs):
    m = np.round((np.asarray(freqs, float) - 8.0) / 0.2)
    return np.mod(m * np.pi / 2.0, 2.0 * np.pi)


#: Benchmark target order: 8, 9, ..., 15, 8.2, 9.2, ..., 15.8 Hz (``Freq_Phase.mat``).
TSINGHUA_FREQS = np.round(np.add.outer(np.arange(5) * 0.2, np.arange(8, 16)).ravel(), 1)
TSINGHUA_PHASES = _jfpm(TSINGHUA_FREQS)
#: BETA target order (keyboard layout): 8.6, 8.8, 9.0, ..., 15.8, 8.0, 8.2, 8.4 Hz.
BETA_FREQS = np.round(np.r_[np.arange(43, 80), np.arange(40, 43)] * 0.2, 1)
BETA_PHASES = _jfpm(BETA_FREQS)
TSINGHUA_CH_NAMES = (
    "Fp1 Fpz Fp2 AF3 AF4 F7 F5 F3 F1 Fz F2 F4 F6 F8 FT7 FC5 FC3 FC1 FCz FC2 FC4 FC6 FT8 T7 C5 "
    "C3 C1 Cz C2 C4 C6 T8 M1 TP7 CP5 CP3 CP1 CPz CP2 CP4 CP6 TP8 M2 P7 P5 P3 P1 Pz P2 P4 P6 P8 "
    "PO7 PO5 PO3 POz PO4 PO6 PO8 CB1 O1 Oz O2 CB2"
).split()
#: The occipito-parietal channels most SSVEP studies of the Tsinghua data sets use.
OCCIPITAL_9 = ("Pz", "PO5", "PO3", "POz", "PO4", "PO6", "O1", "Oz", "O2")


@dataclass
class SSVEPData:
    """Epoched SSVEP trials with their labels and design factors.

    Attributes
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Signals in volts (float64).
    y : ndarray of int, shape (n_trials,)
        Class index of each trial, into ``classes``/``freqs``/``phases``.
    freqs : ndarray, shape (n_classes,)
        Stimulus frequency of each class in Hz; NaN for a rest class.
    phases : ndarray, shape (n_classes,) | None
        Stimulus phase of each class in radians; None when phase is not coded.
    sfreq : float
        Sampling rate in Hz.
    ch_names : list of str
    subject, session, block : ndarray of int, shape (n_trials,)
        Design factors; zeros when not given.
    classes : list of str
        Class names (``"8.0 Hz"``, ``"rest"``, ...); derived from ``freqs`` when not given.
    visual_latency_s : float
        Delay of the visual response after the stimulus onset, used by :meth:`crop`.
    tmin : float
        Time of the first sample relative to the stimulus onset, in seconds.
    name : str
    meta : dict
        Loader-specific notes (unit corrections, dropped duplicates, generator parameters).
    """

    X: np.ndarray
    y: np.ndarray
    freqs: np.ndarray
    sfreq: float
    ch_names: list
    phases: np.ndarray | None = None
    subject: np.ndarray | None = None
    session: np.ndarray | None = None
    block: np.ndarray | None = None
    classes: list | None = None
    visual_latency_s: float = 0.0
    tmin: float = 0.0
    name: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.X = np.asarray(self.X, dtype=np.float64)
        if self.X.ndim != 3:
            raise InvalidParameterError(
                f"X must be [n_trials, n_channels, n_times], got shape {self.X.shape}"
            )
        n, c, _ = self.X.shape
        self.y = np.asarray(self.y, dtype=np.int64).reshape(-1)
        self.freqs = np.asarray(self.freqs, dtype=np.float64).reshape(-1)
        if self.phases is not None:
            self.phases = np.asarray(self.phases, dtype=np.float64).reshape(-1)
            if self.phases.shape != self.freqs.shape:
                raise InvalidParameterError(
                    f"phases has {self.phases.size} entries but freqs has {self.freqs.size}"
                )
        if self.classes is None:
            self.classes = ["rest" if np.isnan(f) else f"{f:g} Hz" for f in self.freqs]
        self.classes = [str(k) for k in self.classes]
        self.ch_names = [str(ch) for ch in self.ch_names]
        for what, arr in (("y", self.y), ("ch_names", self.ch_names)):
            if len(arr) != (n if what == "y" else c):
                raise InvalidParameterError(
                    f"{what} has {len(arr)} entries, expected {n if what == 'y' else c} "
                    f"to match X of shape {self.X.shape}"
                )
        if len(self.classes) != self.freqs.size or (
            n and not 0 <= self.y.min() <= self.y.max() < self.freqs.size
        ):
            raise InvalidParameterError(
                f"y must index the {self.freqs.size} classes and classes must name each one"
            )
        for name in ("subject", "session", "block"):
            val = getattr(self, name)
            val = np.zeros(n, np.int64) if val is None else np.asarray(val, np.int64).reshape(-1)
            if val.size != n:
                raise InvalidParameterError(f"{name} has {val.size} entries, expected {n}")
            setattr(self, name, val)
        self.sfreq = float(self.sfreq)

    @property
    def n_trials(self) -> int:
        return self.X.shape[0]

    @property
    def times(self) -> np.ndarray:
        """Sample times relative to the stimulus onset, in seconds."""
        return self.tmin + np.arange(self.X.shape[-1]) / self.sfreq

    @property
    def trial_freqs(self) -> np.ndarray:
        """Stimulus frequency of each trial (Hz)."""
        return self.freqs[self.y]

    def subset(self, mask) -> SSVEPData:
        """Trials selected by a boolean mask or integer indices (classes are kept)."""
        idx = np.asarray(mask)
        if idx.dtype == bool and idx.shape != (self.n_trials,):
            raise InvalidParameterError(
                f"mask has shape {idx.shape}, expected ({self.n_trials},) booleans or indices"
            )
        return replace(
            self,
            X=self.X[idx],
            y=self.y[idx],
            subject=self.subject[idx],
            session=self.session[idx],
            block=self.block[idx],
            meta=dict(self.meta),
        )

    def crop(self, window_s: float, start_s: float = 0.0, *, latency: bool = True) -> SSVEPData:
        """Keep ``window_s`` seconds starting ``start_s`` after the latency-shifted onset.

        The window starts at ``visual_latency_s + start_s`` seconds after the stimulus onset
        (``start_s`` alone when ``latency`` is False) and holds ``round(window_s * sfreq)``
        samples. Cropping is always relative to the onset, so cropping a cropped object with
        the same arguments returns the same samples.
        """
        n = int(round(float(window_s) * self.sfreq))
        t0 = float(start_s) + (self.visual_latency_s if latency else 0.0)
        i0 = int(round((t0 - self.tmin) * self.sfreq))
        if n < 1 or i0 < 0 or i0 + n > self.X.shape[-1]:
            t_end = self.tmin + self.X.shape[-1] / self.sfreq
            raise InvalidParameterError(
                f"window [{t0:g}, {t0 + n / self.sfreq:g}] s after onset (window_s={window_s!r}, "
                f"start_s={start_s!r}, latency {self.visual_latency_s if latency else 0:g} s) "
                f"is outside the trials, which span [{self.tmin:g}, {t_end:g}] s; "
                "choose a shorter window or an earlier start"
            )
        return replace(
            self,
            X=self.X[..., i0 : i0 + n].copy(),
            tmin=self.tmin + i0 / self.sfreq,
            meta=dict(self.meta),
        )

    @classmethod
    def concat(cls, parts) -> SSVEPData:
        """Stack trials of compatible parts (same classes, channels, sfreq, n_times)."""
        parts = list(parts)
        if not parts:
            raise InvalidParameterError("concat needs at least one SSVEPData")
        ref = parts[0]
        for p in parts[1:]:
            if (
                p.ch_names != ref.ch_names
                or p.classes != ref.classes
                or p.sfreq != ref.sfreq
                or p.X.shape[-1] != ref.X.shape[-1]
                or p.tmin != ref.tmin
            ):
                raise InvalidParameterError(
                    "concat parts differ in channels, classes, sfreq, tmin or n_times; "
                    "crop them to one window and pick the same channels first"
                )
        cat = {
            k: np.concatenate([getattr(p, k) for p in parts])
            for k in ("X", "y", "subject", "session", "block")
        }
        return replace(ref, **cat, meta=dict(ref.meta))


def _subject_ids(subjects, what: str):
    if subjects is None:
        return None
    try:
        ids = [int(s) for s in np.atleast_1d(subjects)]
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"subjects must be None or subject numbers such as [1, 2] or ['01'], got {subjects!r}"
        ) from None
    if not ids:
        raise InvalidParameterError(f"subjects is empty; give {what} subject numbers or None")
    return ids


# ---------------------------------------------------------------- Kalunga / SSVEPExo (shared data)
_KALUNGA_CODE_TO_CLASS = {1: 0, 2: 1, 4: 2, 3: 3}  # 1 rest, 2 13 Hz, 4 17 Hz, 3 21 Hz
_NOMINAL_GAIN = 1e-3


def _kalunga_sessions(root: Path) -> list:
    meta_file = root / "dataset.json"
    if meta_file.exists():
        return json.loads(meta_file.read_text())["sessions"]
    rows = []
    for raw in sorted(root.glob("subject*/sub-*_rec-*_raw.fif")):
        sub, rec = re.match(r"sub-(\d+)_rec-(\w+?)_raw\.fif", raw.name).groups()
        rows.append(
            {
                "subject": sub,
                "recording": rec,
                "raw": str(raw.relative_to(root)),
                "events": str(raw.relative_to(root)).replace("_raw.fif", "-eve.fif"),
            }
        )
    return rows


def _kalunga_scale(row, n_channels: int) -> np.ndarray:
    """Per-channel factor from the FIF values (microvolts x GDF gain) to volts."""
    gain = row.get("gdf_header_gain_per_channel")
    gain = np.asarray(gain, float) if gain is not None else _NOMINAL_GAIN
    return np.broadcast_to(1e-6 / gain, (n_channels,)).copy()


def load_kalunga2016(
    path="../shared/data/ssvep",
    subjects=None,
    *,
    window_s: float = 5.0,
    visual_latency_s: float = 0.0,
    exclude_flagged: bool = False,
) -> SSVEPData:
    """Load the SSVEP exoskeleton recordings (Kalunga et al. 2016, MOABB ``SSVEPExo``).

    Classes are ``rest, 13 Hz, 17 Hz, 21 Hz`` (labels 0-3; FIF event codes 1, 2, 4, 3) with
    ``freqs = [nan, 13, 17, 21]`` and no phases (LED flicker). Each trial holds ``window_s``
    seconds from the event sample (the stimulation start), 8 channels at 256 Hz.

    Units: the FIF files are labelled volts but hold ``microvolts * g_c`` where ``g_c``
    (0.00093-0.00100) is the per-channel gain of the original OpenViBE GDF header. The loader
    divides by ``gdf_header_gain_per_channel`` from ``dataset.json`` where it is known and by
    the nominal 1e-3 otherwise (error at most ~7 %), then multiplies by 1e-6, so ``X`` is in
    volts; ``meta["exact_gain"]`` lists, per session, which correction was used.

    Duplicates: subjects 03 and 07 share one recording (2012-07-11 15:33:08). It is kept once,
    under the first subject read (03), and dropped from 07 (listed in ``meta["dropped"]``).
    Kalunga sessions have no blocks, so ``block`` is the session index within the subject
    (chronological, from 0) and equals ``session``: leave-one-block-out is then leave-one-
    session-out.

    Parameters
    ----------
    path : str | Path
        The ``ssvep`` folder of the shared data (with ``dataset.json`` and ``subjectNN/``).
    subjects : list of int | None
        Subject numbers (1-12 upstream; 1, 3, 4, 6, 7, 8, 10, 12 shared); None for all.
    window_s : float
        Trial length after the onset, at most 5 s.
    visual_latency_s : float
        Stored for :meth:`SSVEPData.crop`; 0 by default (no phase coding, latency unused).
    exclude_flagged : bool
        Drop the sessions the data set authors excluded for protocol problems.
    """
    import mne

    root = Path(path)
    if not root.is_dir():
        raise DatasetNotFoundError(root, "folder not found; pass the shared 'ssvep' data folder")
    if not 0 < float(window_s) <= 5.0:
        raise InvalidParameterError(f"window_s must be in (0, 5] s, got {window_s!r}")
    wanted = _subject_ids(subjects, "Kalunga")
    seen, parts, dropped, exact = set(), [], [], {}
    per_subject: dict = {}
    rows = sorted(_kalunga_sessions(root), key=lambda r: (int(r["subject"]), r["recording"]))
    for row in rows:
        sub, rec = int(row["subject"]), row["recording"]
        if (wanted is not None and sub not in wanted) or (
            exclude_flagged and row.get("excluded_by_dataset_authors")
        ):
            continue
        if rec in seen:
            dropped.append(f"subject {row['subject']} {rec} (duplicate recording)")
            continue
        seen.add(rec)
        raw_file, eve_file = root / row["raw"], root / row["events"]
        for f in (raw_file, eve_file):
            if not f.exists():
                raise DatasetNotFoundError(f, "listed in dataset.json but missing")
        raw = mne.io.read_raw_fif(raw_file, preload=False, verbose="error")
        events = mne.read_events(eve_file, verbose="error")
        epochs = mne.Epochs(
            raw,
            events,
            event_id={"rest": 1, "13": 2, "21": 3, "17": 4},
            tmin=0.0,
            tmax=(round(window_s * raw.info["sfreq"]) - 1) / raw.info["sfreq"],
            baseline=None,
            preload=True,
            reject_by_annotation=False,
            verbose="error",
        )
        exact[f"{row['subject']}/{rec}"] = row.get("gdf_header_gain_per_channel") is not None
        X = epochs.get_data(copy=False) * _kalunga_scale(row, len(raw.ch_names))[:, None]
        sess = per_subject.setdefault(sub, 0)
        per_subject[sub] += 1
        n = len(X)
        parts.append(
            SSVEPData(
                X=X,
                y=[_KALUNGA_CODE_TO_CLASS[c] for c in epochs.events[:, 2]],
                freqs=[np.nan, 13.0, 17.0, 21.0],
                sfreq=raw.info["sfreq"],
                ch_names=raw.ch_names,
                subject=np.full(n, sub),
                session=np.full(n, sess),
                block=np.full(n, sess),
                classes=["rest", "13 Hz", "17 Hz", "21 Hz"],
                visual_latency_s=visual_latency_s,
                name="kalunga2016",
            )
        )
    if not parts:
        raise DatasetNotFoundError(root, f"no session found for subjects={subjects!r}")
    out = SSVEPData.concat(parts)
    out.meta = {"exact_gain": exact, "dropped": dropped}
    return out


# ---------------------------------------------------------------- Tsinghua Benchmark and BETA


# the MATLAB-file benchmarks live in their own module; re-exported here (after SSVEPData exists)
from .mat_datasets import load_beta, load_tsinghua_benchmark  # noqa: E402, F401
