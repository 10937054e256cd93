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
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import (
    CorruptRecordingError,
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
def _read_mat(path: Path, names):
    from scipy.io import loadmat

    try:
        return loadmat(path, variable_names=list(names), simplify_cells=True)
    except NotImplementedError:  # MATLAB v7.3 (HDF5)
        from pymatreader import read_mat

        return read_mat(str(path), variable_names=list(names))
    except (ValueError, OSError, TypeError) as err:
        raise CorruptRecordingError(path, f"not a readable MATLAB file ({err})") from None


def _as_radians(phases) -> np.ndarray:
    """Phases in radians; tables written in units of pi (max <= 2) are converted."""
    phases = np.asarray(phases, float).ravel()
    return phases * np.pi if phases.size and phases.max() <= 2.0 + 1e-9 else phases


def _canonical_names(names, where) -> list:
    lookup = {n.upper(): n for n in TSINGHUA_CH_NAMES}
    out = [lookup.get(str(n).strip().upper(), str(n).strip()) for n in names]
    if len(out) != 64:
        raise CorruptRecordingError(where, f"lists {len(out)} channels, expected 64")
    return out


def _pick_indices(picks, ch_names) -> list:
    if picks is None:
        picks = OCCIPITAL_9
    elif isinstance(picks, str) and picks == "all":
        return list(range(len(ch_names)))
    elif isinstance(picks, str):
        picks = [picks]
    upper = [c.upper() for c in ch_names]
    missing = [p for p in picks if str(p).upper() not in upper]
    if missing:
        raise InvalidParameterError(
            f"picks {missing} are not channels of this data set; use None (the 9 occipital "
            f"channels), 'all', or names among {ch_names}"
        )
    return [upper.index(str(p).upper()) for p in picks]


_SUBJECT_FILE = re.compile(r"S0*(\d+)\.mat", re.IGNORECASE)


def _subject_files(folder: Path, wanted, what: str) -> dict:
    files = {
        int(m.group(1)): p
        for p in sorted(folder.iterdir())
        if (m := _SUBJECT_FILE.fullmatch(p.name))
    }
    if wanted is None:
        return files
    missing = [s for s in wanted if s not in files]
    if missing:
        raise DatasetNotFoundError(
            folder,
            f"no {what} file for subjects {missing} (expected S<n>.mat, found "
            f"{sorted(files) or 'none'})",
        )
    return {s: files[s] for s in wanted}


def _resolve_wang_folder(folder) -> Path:
    if folder is None:
        import mne

        folder = (
            mne.get_config("MNE_DATASETS_WANG_PATH")
            or mne.get_config("MNE_DATA")
            or os.path.join("~", "mne_data")
        )
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DatasetNotFoundError(
            root,
            "folder not found; pass the folder holding S1.mat ... S35.mat (and "
            "Freq_Phase.mat), or the MNE data root holding MOABB's MNE-wang-data",
        )
    bases = [root] if root.name == "MNE-wang-data" else [root, root / "MNE-wang-data"]
    for base in bases:  # MOABB: <MNE_DATA>/MNE-wang-data/<path of the download URL>/S1.mat
        for cand in (base, base / "records" / "14865172" / "files", base / "uploads" / "down"):
            if cand.is_dir() and _subject_files(cand, None, ""):
                return cand
    if bases[-1].is_dir() and bases[-1].name == "MNE-wang-data":
        for hit in sorted(bases[-1].rglob("*.mat")):
            if _SUBJECT_FILE.fullmatch(hit.name):
                return hit.parent
    raise DatasetNotFoundError(root, "no S<n>.mat subject files in it nor in MNE-wang-data/")


def _epoch_set(eeg, order, picks, ch_names, freqs, phases, sub, latency, name, window_s, start_s):
    """[..] EEG array -> SSVEPData; ``order`` names the axes of ``eeg`` (c, t, k, b)."""
    eeg = np.transpose(eeg, [order.index(a) for a in "bkct"])  # -> blocks, targets, chan, time
    nb, nk = eeg.shape[:2]
    X = eeg[:, :, picks].reshape(nb * nk, len(picks), -1).astype(np.float64) * 1e-6  # uV -> V
    data = SSVEPData(
        X=X,
        y=np.tile(np.arange(nk), nb),
        freqs=freqs,
        phases=phases,
        sfreq=250.0,
        ch_names=[ch_names[i] for i in picks],
        subject=np.full(nb * nk, sub),
        block=np.repeat(np.arange(nb), nk),
        classes=[f"{f:g} Hz" for f in freqs],
        visual_latency_s=latency,
        tmin=-0.5,
        name=name,
    )
    return data if window_s is None else data.crop(window_s, start_s)


def _check_shape(arr, path, var, expected: str, n_targets_axis: int):
    arr = np.asarray(arr)
    if arr.ndim != 4 or arr.shape[0] != 64 or arr.shape[n_targets_axis] != 40:
        raise CorruptRecordingError(
            path, f"variable {var!r} has shape {arr.shape}; expected {expected}"
        )
    return arr


def load_tsinghua_benchmark(
    folder=None,
    subjects=None,
    *,
    picks=None,
    window_s: float | None = None,
    start_s: float = 0.0,
) -> SSVEPData:
    """Load the Tsinghua SSVEP Benchmark (Wang et al., IEEE TNSRE 2017).

    35 subjects, 40 targets (8-15.8 Hz, step 0.2 Hz, joint frequency-phase modulation),
    6 blocks, 64 channels, 250 Hz; each ``S<n>.mat`` holds ``data`` of shape
    ``[64 channels, 1500 samples, 40 targets, 6 blocks]`` in microvolts: 6-s epochs starting
    0.5 s before the stimulus onset (``tmin = -0.5``). Visual latency 0.14 s.

    Parameters
    ----------
    folder : str | Path | None
        The folder holding ``S1.mat ... S35.mat`` (``Freq_Phase.mat`` and ``64-channels.loc``
        are read from it when present, else the built-in tables are used), or the MNE data
        root where MOABB's ``Wang2016`` stores them (``MNE-wang-data/records/14865172/files``,
        or ``MNE-wang-data/uploads/down`` in older MOABB). None: ``MNE_DATASETS_WANG_PATH``,
        then ``MNE_DATA``, then ``~/mne_data``.
    subjects : list of int | None
        Subject numbers; None loads every ``S<n>.mat`` found.
    picks : None | "all" | list of str
        None: ``OCCIPITAL_9`` (Pz, PO5, PO3, POz, PO4, PO6, O1, Oz, O2); "all": 64 channels.
    window_s, start_s : float | None
        When ``window_s`` is given, each subject is cropped at load time with
        :meth:`SSVEPData.crop` (saves memory); None keeps the whole epoch.

    Returns
    -------
    SSVEPData
        Trials ordered subject, block, target; ``y`` is the target index of the files
        (``freqs[y]``, ``phases[y]`` in Hz and radians), ``block`` 0-5, ``session`` 0.
    """
    root = _resolve_wang_folder(folder)
    files = _subject_files(root, _subject_ids(subjects, "Benchmark"), "Benchmark")
    freqs, phases = TSINGHUA_FREQS, TSINGHUA_PHASES
    fp = root / "Freq_Phase.mat"
    if fp.exists():
        tab = _read_mat(fp, ["freqs", "phases"])
        freqs = np.round(np.asarray(tab["freqs"], float).ravel(), 2)
        phases = _as_radians(tab["phases"])
        if freqs.size != 40 or phases.size != 40:
            raise CorruptRecordingError(fp, "freqs and phases must hold 40 values each")
    ch_names = list(TSINGHUA_CH_NAMES)
    loc = root / "64-channels.loc"
    if loc.exists():
        ch_names = _canonical_names(
            [ln.split()[-1] for ln in loc.read_text().splitlines() if ln.strip()], loc
        )
    picks_idx = _pick_indices(picks, ch_names)
    parts = []
    for sub, path in files.items():
        mat = _read_mat(path, ["data"])
        if "data" not in mat:
            raise CorruptRecordingError(path, "no variable 'data' (expected the Benchmark layout)")
        eeg = _check_shape(
            mat["data"],
            path,
            "data",
            "[64 channels, n_times, 40 targets, n_blocks] (published files: [64, 1500, 40, 6])",
            2,
        )
        parts.append(
            _epoch_set(
                eeg,
                "ctkb",
                picks_idx,
                ch_names,
                freqs,
                phases,
                sub,
                0.14,
                "tsinghua_benchmark",
                window_s,
                start_s,
            )
        )
    out = SSVEPData.concat(parts)
    out.meta = {"folder": str(root)}
    return out


def load_beta(
    folder,
    subjects=None,
    *,
    picks=None,
    window_s: float | None = None,
    start_s: float = 0.0,
) -> SSVEPData:
    """Load BETA (Liu et al., Front. Neurosci. 2020): 70 subjects, 40 targets, 4 blocks.

    Each ``S<n>.mat`` holds a struct ``data`` with ``EEG`` of shape ``[64 channels, n_times,
    4 blocks, 40 targets]`` in microvolts at 250 Hz (0.5 s before the onset, 2 s (S1-S15) or
    3 s (S16-S70) of stimulation, 0.5 s after) and ``suppl_info`` with ``freqs``, ``phases``,
    ``chan`` (64 x 4 cell: index, angle, radius, name) and ``srate``. Frequencies, phases and
    channel names are read from ``suppl_info`` (built-in tables when a field is absent;
    phases given in units of pi are converted to radians). Visual latency 0.13 s. Subjects of
    different epoch lengths are cut to the shortest one (``tmin = -0.5`` kept).

    Parameters are those of :func:`load_tsinghua_benchmark` (``folder`` holds the files).
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DatasetNotFoundError(root, "folder not found; pass the folder holding S1.mat ...")
    files = _subject_files(root, _subject_ids(subjects, "BETA"), "BETA")
    if not files:
        raise DatasetNotFoundError(root, "no S<n>.mat subject files in this folder")
    parts = []
    for sub, path in files.items():
        mat = _read_mat(path, ["data"]).get("data")
        if not isinstance(mat, dict) or "EEG" not in mat:
            raise CorruptRecordingError(path, "no struct 'data' with a field 'EEG' (BETA layout)")
        eeg = _check_shape(
            mat["EEG"], path, "data.EEG", "[64 channels, n_times, n_blocks, 40 targets]", 3
        )
        info = mat.get("suppl_info") or {}
        freqs = np.round(np.asarray(info.get("freqs", BETA_FREQS), float).ravel(), 2)
        phases = _as_radians(info.get("phases", BETA_PHASES))
        srate = float(np.asarray(info.get("srate", 250.0)).ravel()[0])
        if freqs.size != 40 or phases.size != 40 or srate != 250.0:
            raise CorruptRecordingError(
                path,
                f"suppl_info has {freqs.size} freqs, {phases.size} phases and srate "
                f"{srate:g}; expected 40, 40 and 250 Hz",
            )
        chan = info.get("chan")
        names = (
            _canonical_names([row[-1] for row in np.asarray(chan, object)], path)
            if chan is not None
            else list(TSINGHUA_CH_NAMES)
        )
        parts.append(
            _epoch_set(
                eeg,
                "ctbk",
                _pick_indices(picks, names),
                names,
                freqs,
                phases,
                sub,
                0.13,
                "beta",
                window_s,
                start_s,
            )
        )
    n_min = min(p.X.shape[-1] for p in parts)
    parts = [replace(p, X=p.X[..., :n_min]) for p in parts]
    out = SSVEPData.concat(parts)
    out.meta = {"folder": str(root)}
    return out
