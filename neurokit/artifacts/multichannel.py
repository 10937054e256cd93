"""A multi-channel semi-synthetic blink benchmark: real clean EEG plus real EOG, projected.

The single-channel protocol (:func:`~neurokit.artifacts.make_splits`) cannot rate methods that
work across channels (ICA, ASR). :func:`make_multichannel_benchmark` builds recordings on
which both kinds can be run and scored against the same clean truth. How (everything follows
from ``seed`` and the arguments; nothing is cached):

1. **Clean EEG**: every PhysioNet EEGMMIDB run in ``motor_imagery/`` (64 channels, 160 Hz) is
   conditioned as in :func:`~neurokit.artifacts.make_semisynthetic_benchmark` (1-72 Hz
   band-pass, 60 Hz notch, at the native rate) and cut into windows of ``window_s``. A window
   is low-artifact when at least ``min_clean_fraction`` (0.8) of its channels pass that
   module's rule (robust z-scores of peak-to-peak amplitude and of power above 30 Hz <= 3) and
   every frontal channel (``Fp*``, ``AF*``) passes its part against its own windows, so that no
   large real blink is left in it. The
   run with the most such windows gives the first ``round(duration_s / window_s)`` of them, in
   time order, joined end to end (the joins are between band-passed windows; ICA and ASR do
   not need continuity, and the metrics are computed per window).
2. **EOG**: the channels typed ``eog`` in the loader recordings of
   :data:`~neurokit.artifacts.semisynthetic.ARTIFACT_SOURCES`, resampled to 160 Hz,
   band-passed 0.3-10 Hz, each divided by its standard deviation and tapered at both ends
   (0.25-s half-cosine); the pieces are joined in a seeded random order, and again in another
   order, until ``duration_s`` is filled.
3. **Spatial pattern**: a blink's field falls off away from the eyes. With the channel
   positions of the recording (10-10 template, head frame), the eyes are placed
   ``eye_offset_m`` (2 cm) in front of the midpoint of Fp1 and Fp2, and channel ``c`` gets the
   weight ``exp(-(d_c - d_min) / decay_m)`` (``decay_m`` 7 cm: about 1 at Fp1/Fp2, 0.5 at Fz,
   0.2 at Cz, under 0.1 at the occipital channels).
4. **Mixing** at each SNR of ``snr_db``: ``noisy = clean + lam * pattern eog(t)`` with ``lam``
   such that ``10 log10(RMS(clean) / RMS(lam pattern eog)) = SNR`` over all channels and
   samples (EEGdenoiseNet's amplitude convention, over the whole array).

A rank-one artifact with a fixed pattern is the ideal case of spatial methods; real blinks are
close to that, muscle is not. Use it for development comparisons, not as a published result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InvalidParameterError
from ..sensors import SensorTable
from .eegdenoisenet import DatasetNotFoundError
from .semisynthetic import ARTIFACT_SOURCES, BANDS, _clean_mask, _condition, _cut, _load

__all__ = ["MultichannelBenchmark", "make_multichannel_benchmark"]


@dataclass
class MultichannelBenchmark:
    """Clean multi-channel EEG, one EOG time course, its spatial pattern and the mixtures.

    Attributes
    ----------
    clean : ndarray ``[c, t]``
        Clean EEG in volts.
    eog : ndarray ``[t]``
        EOG time course (unit standard deviation per piece).
    pattern : ndarray ``[c]``
        Spatial weights of the EOG (maximum 1).
    noisy : dict
        SNR in dB -> mixture ``[c, t]`` in volts.
    info : mne.Info
        Channel names, types, positions and ``sfreq`` of the clean EEG.
    provenance : dict
        The EEG file and window starts, the EOG pieces, the settings.
    """

    clean: np.ndarray
    eog: np.ndarray
    pattern: np.ndarray
    noisy: dict
    info: object
    provenance: dict = field(default_factory=dict)

    @property
    def sfreq(self) -> float:
        return float(self.info["sfreq"])

    def raw(self, snr_db):
        """The mixture at ``snr_db`` as an :class:`mne.io.RawArray` (positions included)."""
        import mne

        return mne.io.RawArray(self.noisy[snr_db], self.info.copy(), verbose="error")


def _taper(x, n):
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
    out = x.copy()
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def _clean_eeg(root, window_s, min_clean_fraction, n_windows):
    best = None
    for path in sorted((root / "motor_imagery").glob("*.edf")):
        rec = _load(path, {})
        raw = rec.raw.copy().pick("eeg", exclude="bads")
        sfreq = float(raw.info["sfreq"])
        x = _condition(raw.get_data(), sfreq, sfreq, BANDS["eeg"], (50.0, 60.0))
        size = int(round(window_s * sfreq))
        w, starts = _cut(x, size, size)
        mask = _clean_mask(w, sfreq, 30.0, 3.0)
        frontal = [i for i, n in enumerate(raw.ch_names) if n.upper().startswith(("FP", "AF"))]
        # frontal channels against their own windows only (a blinking channel can be
        # rejected as a whole by the across-channel part of the rule)
        own = np.concatenate([_clean_mask(w[c : c + 1], sfreq, 30.0, 3.0) for c in frontal])
        good = (mask.mean(axis=0) >= min_clean_fraction) & own.all(axis=0)
        idx = np.flatnonzero(good)
        if best is None or len(idx) > len(best[2]):
            best = (path, raw.info, idx, w, starts)
    if best is None:
        raise DatasetNotFoundError(f"no motor_imagery/*.edf under {root.resolve()}")
    path, info, idx, w, starts = best
    if len(idx) < n_windows:
        raise InvalidParameterError(
            f"duration_s asks for {n_windows} clean windows; the best run {path.name} has "
            f"{len(idx)}: lower duration_s or min_clean_fraction"
        )
    idx = idx[:n_windows]
    clean = np.concatenate([w[:, i] for i in idx], axis=1)
    prov = {"file": str(path.relative_to(root)), "window_starts_s":
            [float(starts[i] / info["sfreq"]) for i in idx]}  # fmt: skip
    return clean, info, prov


def _eog(root, sfreq, n_samples, rng):
    pieces, names = [], []
    for rel, options in ARTIFACT_SOURCES:
        try:
            rec = _load(root / rel, dict(options))
        except Exception:  # noqa: BLE001 -- a missing or unreadable source is skipped
            continue
        picks = [i for i, t in enumerate(rec.sensors.types) if t == "eog"]
        if not picks:
            continue
        x = _condition(rec.raw.get_data(picks=picks), rec.sfreq, sfreq, BANDS["eog"],
                       (50.0, 60.0))  # fmt: skip
        for c, row in zip(picks, x):
            n_taper = int(round(0.25 * sfreq))
            if len(row) > 4 * n_taper and row.std() > 0:
                pieces.append(_taper(row / row.std(), n_taper))
                names.append(f"{rel}:{rec.ch_names[c]}")
    if not pieces:
        raise DatasetNotFoundError(f"no EOG channel found in the loader recordings of {root}")
    out, order = [], []
    while sum(len(p) for p in out) < n_samples:
        for i in rng.permutation(len(pieces)):
            out.append(pieces[i])
            order.append(names[i])
    return np.concatenate(out)[:n_samples], order


def make_multichannel_benchmark(
    data_root="../shared/data", *, seed=0, duration_s=60.0, window_s=2.0,
    snr_db=(-6.0, -4.0, -2.0, 0.0, 2.0), min_clean_fraction=0.8, eye_offset_m=0.02,
    decay_m=0.07,
) -> MultichannelBenchmark:  # fmt: skip
    """Build the multi-channel blink benchmark (every step in the module docstring).

    Parameters
    ----------
    data_root : path-like
        The ``shared/data`` folder.
    seed : int
        Seeds the order of the EOG pieces.
    duration_s, window_s : float
        Length of the clean EEG and of its windows (seconds).
    snr_db : sequence of float
        Mixing SNRs in dB.
    min_clean_fraction : float
        Share of the channels that must pass the low-artifact rule in a window.
    eye_offset_m, decay_m : float
        Where the eyes are in front of Fp1/Fp2 and how fast the blink field decays (metres).

    Returns
    -------
    MultichannelBenchmark
    """
    root = Path(data_root).expanduser()
    if not (root / "motor_imagery").is_dir():
        raise DatasetNotFoundError(f"{root.resolve()} has no motor_imagery/ folder")
    n_windows = int(round(duration_s / window_s))
    if n_windows < 1:
        raise InvalidParameterError(f"duration_s={duration_s}; must be >= window_s={window_s}")
    clean, info, prov = _clean_eeg(root, window_s, min_clean_fraction, n_windows)
    rng = np.random.default_rng(seed)
    eog, order = _eog(root, float(info["sfreq"]), clean.shape[1], rng)
    pos = SensorTable.from_info(info).pos
    names = [n.rstrip(".").upper() for n in info["ch_names"]]
    if not np.isfinite(pos).all() or "FP1" not in names or "FP2" not in names:
        raise InvalidParameterError("the EEG needs positions and channels Fp1 and Fp2")
    mid = (pos[names.index("FP1")] + pos[names.index("FP2")]) / 2
    eyes = mid + eye_offset_m * mid / np.linalg.norm(mid)  # outward, in front of Fp1/Fp2
    dist = np.linalg.norm(pos - eyes, axis=1)
    pattern = np.exp(-(dist - dist.min()) / decay_m)
    artifact = pattern[:, None] * eog[None]
    rms = np.sqrt(np.mean(clean**2)) / np.sqrt(np.mean(artifact**2))
    noisy = {float(s): clean + rms * 10 ** (-float(s) / 10) * artifact for s in snr_db}
    prov.update(eog_pieces=order, seed=seed, duration_s=duration_s, window_s=window_s,
                snr_db=[float(s) for s in snr_db], min_clean_fraction=min_clean_fraction,
                eye_offset_m=eye_offset_m, decay_m=decay_m)  # fmt: skip
    return MultichannelBenchmark(clean, eog, pattern, noisy, info, prov)
