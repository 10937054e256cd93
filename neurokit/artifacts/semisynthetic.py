"""A semi-synthetic artifact benchmark built from the real recordings in ``shared/data``.

:func:`make_semisynthetic_benchmark` returns the same :class:`ArtifactEpochs` structure as
:func:`~neurokit.artifacts.load_eegdenoisenet`, so :func:`~neurokit.artifacts.make_splits` and
the metrics apply unchanged. How it is built (everything is derived from ``seed`` and the
arguments; nothing is cached on disk):

1. **Clean EEG** comes from the PhysioNet EEGMMIDB motor-imagery runs
   (``motor_imagery/*.edf``, 64 channels, 160 Hz) and the SSVEP exoskeleton sessions
   (``ssvep/subject*/*_raw.fif``, 8 channels, 256 Hz; the recording shared by subjects 03 and 07
   is read once). Files are read with :func:`neurokit.io.load` and only ``eeg`` channels kept.
2. **Artifacts** are the channels typed ``eog``, ``emg`` or ``ecg`` by :func:`neurokit.io.load`
   in the loader recordings listed in :data:`ARTIFACT_SOURCES` (found by scanning every
   loader recording; those shorter than one window or with coarsely quantized samples are left
   out). They are few: about 34 s of EOG (4 files, 6 channels), 16 s of EMG (2 files,
   2 channels), about 150 s of ECG (8 files, 12 channels); with the defaults that is 48 EOG,
   25 EMG and 268 ECG epochs (and 5000 EEG epochs sampled from about 45 000 that pass).
3. **Signal conditioning**, per recording and channel (volts as stored): resampling to ``sfreq``
   (:func:`mne.filter.resample`, FFT), zero-phase 4th-order Butterworth band-pass
   (:func:`mne.filter.filter_data`, ``method="iir"``) with the per-kind bands of
   EEGdenoiseNet -- EEG 1-80 Hz, EOG 0.3-10 Hz, EMG 1-120 Hz -- and ECG 0.5-40 Hz; the upper
   edge is lowered to 0.9 x the lower of the native and the target Nyquist frequencies (72 Hz
   for the 160-Hz EDFs). IIR notches at ``line_freqs`` inside the band (default 50 and 60 Hz:
   the recordings come from both power grids).
4. **Windows** of ``window_s`` seconds: EEG without overlap; artifacts with a step of
   ``artifact_stride_s`` (default 0.5 s, because the artifact recordings are short).
5. **Low-artifact EEG** (objective, per recording): for every channel and window, the
   peak-to-peak amplitude and the power above ``hf_cutoff_hz`` (30 Hz; FFT of the window).
   With robust z-scores of their logarithms, ``z = (v - median) / (1.4826 MAD)``, a window is
   kept when both z are <= ``robust_z_max`` (3) against that channel's windows, and its channel
   is kept when the channel's median of each is <= ``robust_z_max`` against the other channels
   of the recording (rejecting bad electrodes; the spread across channels used there is at
   least the median spread over time within a channel). Windows must also be finite and not flat.
   Artifact windows only have to be finite and not flat.
6. **Single-channel epochs**, like EEGdenoiseNet: each kept (channel, window) is one epoch,
   standardized (mean removed, divided by its standard deviation, as the EEGdenoiseNet epochs
   were) unless ``standardize=False``.
7. **Sampling**: at most ``max_windows`` epochs per kind, drawn uniformly at random without
   replacement (a seeded reservoir over files), then ordered by file, time and channel.

``provenance[kind]`` has one dict per epoch: ``file`` (relative to ``data_root``), ``channel``,
``start_s``/``stop_s`` (seconds from the start of the recording), ``native_sfreq``, ``scale``
(the standard deviation divided out, in the file's units) and ``group``: the file and window
for EEG (channels recorded at the same time share it), the file for artifacts (overlapping
windows). Pass ``bench.groups(kind)`` to ``make_splits(eeg_groups=..., noise_groups=...)`` to
keep each group inside one split. ``provenance["build"]`` holds the settings and the files
skipped with their reason.

Caveats: with only two EMG recordings, ``noise_groups`` cannot fill three splits for EMG
(:func:`make_splits` says so); splitting EMG without groups lets overlapping windows reach
both training and test. The artifact pool is small and some loader recordings are test
fixtures without a stated license (see ``shared/data/loaders/README.md``): use the benchmark
for development and smoke tests, not as a published result.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from ..errors import InvalidParameterError, NeurokitError
from .eegdenoisenet import ArtifactEpochs, DatasetNotFoundError

__all__ = ["make_semisynthetic_benchmark", "ARTIFACT_SOURCES", "BANDS"]

# loader recordings with eog / emg / ecg channels (relative to data_root), with reader options
ARTIFACT_SOURCES = (
    ("loaders/neuroscan_cnt/scan41_short.cnt", {}),
    ("loaders/ant_eego/test-ref.cnt", {}),
    ("loaders/eximia/test_eximia.nxe", {}),
    ("loaders/nicolet/test_nicolet_raw.data", {"ch_type": "eeg"}),
    ("loaders/egi/test_egi_pns.mff", {}),
    ("loaders/edf_bdf/chtypes_edf.edf", {"infer_types": True}),
    ("loaders/gdf/test_1ch.gdf", {}),
    ("loaders/ieeg/sample_seeg.edf", {}),
    ("loaders/ieeg/sample_ecog.edf", {}),
    ("loaders/persyst/sub-pt1_ses-02_task-monitor_acq-ecog_run-01_clip2.lay", {}),
    ("loaders/neuralynx", {}),
)
EEG_SOURCES = {
    "motor_imagery": "motor_imagery/*.edf",
    "ssvep": "ssvep/subject*/*_raw.fif",
}
BANDS = {"eeg": (1.0, 80.0), "eog": (0.3, 10.0), "emg": (1.0, 120.0), "ecg": (0.5, 40.0)}
_KINDS = ("eeg", "eog", "emg", "ecg")


def _load(path: Path, options: dict):
    import neurokit.io as nio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nio.load(path, preload=True, **options)


def _condition(x: np.ndarray, native: float, sfreq: float, band, line_freqs) -> np.ndarray:
    """Resample ``(c, t)`` to ``sfreq``, band-pass, notch; see the module docstring."""
    import mne

    if abs(native - sfreq) > 1e-9:
        x = mne.filter.resample(x, up=sfreq / native, down=1.0, verbose="error")
    lo = band[0]
    hi = min(band[1], 0.45 * native, 0.45 * sfreq)
    x = mne.filter.filter_data(x, sfreq, lo, hi, method="iir", verbose="error")
    for f in line_freqs:
        if lo < f < hi:
            x = mne.filter.notch_filter(x, sfreq, [f], method="iir", verbose="error")
    return x


def _cut(x: np.ndarray, size: int, step: int) -> tuple:
    """Windows ``(c, n, size)`` of ``x (c, t)`` and their start samples ``(n,)``."""
    starts = np.arange(0, x.shape[1] - size + 1, step, dtype=np.int64)
    if not len(starts):
        return np.zeros((x.shape[0], 0, size)), starts
    idx = starts[:, None] + np.arange(size)[None, :]
    return x[:, idx], starts


def _robust_std(v: np.ndarray, axis: int) -> np.ndarray:
    med = np.median(v, axis=axis, keepdims=True)
    return 1.4826 * np.median(np.abs(v - med), axis=axis, keepdims=True)


def _robust_z(v: np.ndarray, axis: int, floor=1e-12) -> np.ndarray:
    med = np.median(v, axis=axis, keepdims=True)
    return (v - med) / np.maximum(_robust_std(v, axis), floor)


def _clean_mask(w: np.ndarray, sfreq: float, hf_cutoff_hz: float, z_max: float) -> np.ndarray:
    """Low-artifact mask ``(c, n)`` for EEG windows ``(c, n, t)``."""
    std = w.std(axis=-1)
    ok = np.isfinite(std) & (std > 1e-15)
    ptp = np.log(np.ptp(w, axis=-1) + 1e-30)
    spec = np.abs(np.fft.rfft(w, axis=-1)) ** 2
    freqs = np.fft.rfftfreq(w.shape[-1], 1.0 / sfreq)
    hf = np.log(spec[..., freqs >= hf_cutoff_hz].sum(axis=-1) + 1e-30)
    mask = ok & (_robust_z(ptp, 1) <= z_max) & (_robust_z(hf, 1) <= z_max)
    if w.shape[0] > 2:  # bad electrodes: compared with the other channels of the recording
        for feat in (ptp, hf):
            # the spread across channels is floored by the typical spread over time, so that
            # near-identical channels do not make a small difference look like an outlier
            floor = max(float(np.median(_robust_std(feat, 1))), 1e-12)
            mask &= (_robust_z(np.median(feat, axis=1), 0, floor) <= z_max)[:, None]
    return mask


class _Reservoir:
    """Uniform sample without replacement of at most ``k`` items, fed in chunks."""

    def __init__(self, k, rng):
        self.k, self.rng = k, rng
        self.keys, self.data, self.prov, self.order = np.zeros(0), [], [], []

    def add(self, data: np.ndarray, prov: list, order: np.ndarray):
        self.keys = np.concatenate([self.keys, self.rng.random(len(data))])
        self.data += list(data)
        self.prov += prov
        self.order += [tuple(o) for o in order]
        if self.k is not None and len(self.data) > self.k:
            keep = np.sort(np.argsort(self.keys, kind="stable")[: self.k])
            self.keys = self.keys[keep]
            self.data = [self.data[i] for i in keep]
            self.prov = [self.prov[i] for i in keep]
            self.order = [self.order[i] for i in keep]

    def result(self, standardize: bool):
        if not self.data:
            return None, []
        idx = sorted(range(len(self.data)), key=self.order.__getitem__)
        x = np.stack([self.data[i] for i in idx])
        prov = [dict(self.prov[i]) for i in idx]
        scale = x.std(axis=1)
        for p, s in zip(prov, scale):
            p["scale"] = float(s)
        if standardize:
            x = (x - x.mean(axis=1, keepdims=True)) / scale[:, None]
        return x, prov


def _eeg_files(root: Path, max_files) -> list:
    files = []
    for pattern in EEG_SOURCES.values():
        seen, chosen = set(), []
        for path in sorted(root.glob(pattern)):
            rec_id = re.search(r"rec-[^_]+", path.name)
            token = rec_id.group(0) if rec_id else path.name
            if token in seen:  # the SSVEP recording stored for two subjects
                continue
            seen.add(token)
            chosen.append(path)
        files += chosen[:max_files] if max_files is not None else chosen
    return files


def make_semisynthetic_benchmark(
    data_root="../shared/data",
    *,
    seed=0,
    sfreq: float = 256,
    window_s: float = 2.0,
    artifact_stride_s: float = 0.5,
    line_freqs=(50.0, 60.0),
    hf_cutoff_hz: float = 30.0,
    robust_z_max: float = 3.0,
    standardize: bool = True,
    max_files: int | None = None,
    max_windows: int | None = 5000,
    artifact_sources=ARTIFACT_SOURCES,
) -> ArtifactEpochs:
    """Build the semi-synthetic benchmark (see the module docstring for every step).

    Parameters
    ----------
    data_root : path-like
        The ``shared/data`` folder (holding ``motor_imagery/``, ``ssvep/``, ``loaders/``).
    seed : int
        Seeds the window sampling; same seed and arguments give the same arrays.
    sfreq : float
        Output sampling rate in Hz.
    window_s : float
        Epoch length in seconds.
    artifact_stride_s : float
        Step between artifact windows in seconds.
    line_freqs : sequence of float
        Power-line frequencies notched where inside a band (Hz); ``()`` for none.
    hf_cutoff_hz : float
        Lower edge of the high-frequency power used to reject muscle-contaminated EEG (Hz).
    robust_z_max : float
        Threshold on the robust z-scores of the low-artifact rule.
    standardize : bool
        Z-score every epoch (EEGdenoiseNet convention).
    max_files : int | None
        At most this many recordings from each EEG dataset (for quick tests); the artifact
        recordings are few and always all read.
    max_windows : int | None
        At most this many epochs per kind (uniform random sample).
    artifact_sources : sequence of (path, reader options)
        Recordings (relative to ``data_root``) searched for eog / emg / ecg channels.

    Returns
    -------
    ArtifactEpochs
        ``eeg``, ``eog``, ``emg``, ``ecg`` arrays ``(n, round(window_s * sfreq))`` float64 (None
        for a kind without windows), ``sfreq`` and per-epoch ``provenance``.
    """
    root = Path(data_root).expanduser()
    if not (root / "motor_imagery").is_dir() and not (root / "ssvep").is_dir():
        raise DatasetNotFoundError(
            f"data_root {root.resolve()} has neither motor_imagery/ nor ssvep/; pass the "
            "shared/data folder"
        )
    sfreq = float(sfreq)
    size = int(round(window_s * sfreq))
    step = int(round(artifact_stride_s * sfreq))
    if sfreq <= 0 or size < 8 or step < 1:
        raise InvalidParameterError(
            f"sfreq={sfreq}, window_s={window_s}, artifact_stride_s={artifact_stride_s} give "
            f"windows of {size} samples and a step of {step}; windows need >= 8 samples"
        )
    if max_windows is not None and int(max_windows) < 1:
        raise InvalidParameterError(f"max_windows must be >= 1 or None; got {max_windows}")
    rng = np.random.default_rng(seed)
    pools = {k: _Reservoir(max_windows, rng) for k in _KINDS}
    skipped = []

    for file_idx, path in enumerate(_eeg_files(root, max_files)):
        rel = str(path.relative_to(root))
        try:
            rec = _load(path, {})
        except NeurokitError as err:
            skipped.append({"file": rel, "reason": str(err)})
            continue
        picks = [i for i, t in enumerate(rec.sensors.types) if t == "eeg"]
        x = _condition(rec.raw.get_data(picks=picks), rec.sfreq, sfreq, BANDS["eeg"], line_freqs)
        w, starts = _cut(x, size, size)
        ch, win = np.nonzero(_clean_mask(w, sfreq, hf_cutoff_hz, robust_z_max))
        names = [rec.ch_names[i] for i in picks]
        prov = [
            {
                "file": rel,
                "channel": names[c],
                "start_s": float(starts[n] / sfreq),
                "stop_s": float((starts[n] + size) / sfreq),
                "native_sfreq": float(rec.sfreq),
                "group": f"{rel}@{starts[n]}",
            }
            for c, n in zip(ch, win)
        ]
        order = np.stack([np.full(len(ch), file_idx), starts[win], ch], axis=1)
        pools["eeg"].add(w[ch, win], prov, order)

    for src_idx, (rel, options) in enumerate(artifact_sources):
        path = root / rel
        try:
            rec = _load(path, dict(options))
        except (NeurokitError, OSError, ValueError) as err:
            skipped.append({"file": rel, "reason": f"{type(err).__name__}: {err}"})
            continue
        for kind in _KINDS[1:]:
            picks = [i for i, t in enumerate(rec.sensors.types) if t == kind]
            if not picks:
                continue
            x = _condition(rec.raw.get_data(picks=picks), rec.sfreq, sfreq, BANDS[kind], line_freqs)
            w, starts = _cut(x, size, step)
            std = w.std(axis=-1)
            ch, win = np.nonzero(np.isfinite(std) & (std > 1e-15))
            prov = [
                {
                    "file": rel,
                    "channel": rec.ch_names[picks[c]],
                    "start_s": float(starts[n] / sfreq),
                    "stop_s": float((starts[n] + size) / sfreq),
                    "native_sfreq": float(rec.sfreq),
                    "group": rel,
                }
                for c, n in zip(ch, win)
            ]
            order = np.stack([np.full(len(ch), src_idx), starts[win], ch], axis=1)
            pools[kind].add(w[ch, win], prov, order)

    arrays, provenance = {}, {}
    for kind in _KINDS:
        arrays[kind], provenance[kind] = pools[kind].result(standardize)
    if arrays["eeg"] is None:
        raise DatasetNotFoundError(
            f"no clean EEG window could be built from {root.resolve()} (skipped: {skipped})"
        )
    provenance["build"] = {
        "data_root": str(root),
        "seed": seed,
        "sfreq": sfreq,
        "window_s": window_s,
        "artifact_stride_s": artifact_stride_s,
        "bands": BANDS,
        "line_freqs": list(line_freqs),
        "hf_cutoff_hz": hf_cutoff_hz,
        "robust_z_max": robust_z_max,
        "standardize": standardize,
        "max_files": max_files,
        "max_windows": max_windows,
        "skipped": skipped,
    }
    return ArtifactEpochs(
        eeg=arrays["eeg"],
        eog=arrays["eog"],
        emg=arrays["emg"],
        ecg=arrays["ecg"],
        sfreq=sfreq,
        provenance=provenance,
        source="neurokit semi-synthetic (shared/data)",
    )
