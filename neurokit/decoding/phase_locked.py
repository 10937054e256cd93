"""A semi-synthetic, phase-locked 40-target SSVEP benchmark on real EEG background.

The public 40-target data sets (Tsinghua Benchmark, BETA) are too large to ship, and the
shared Kalunga recordings have 3 frequencies and no phase coding, so template methods (TRCA,
TDCA, ...) cannot show their edge there. :func:`make_phase_locked_benchmark` builds data in
the layout of the Tsinghua Benchmark from simulated SSVEPs added to real EEG, so those methods
can be tested and compared. Everything is drawn from one ``numpy.random.Generator(seed)``.

How it is built (defaults in brackets)
--------------------------------------
Background (:func:`background_from_shared`): the shared Kalunga recordings (8 channels Oz,
O1, O2, PO3, POz, PO7, PO8, PO4, 256 Hz), converted to volts as in
:func:`~neurokit.decoding.datasets.load_kalunga2016` (recording 2012-07-11 15:33:08 read once),
are notch filtered at 50 and 100 Hz, high-passed at ``l_freq`` [1 Hz] (MNE FIR filters) and
resampled to ``sfreq`` [250 Hz] with :func:`mne.filter.resample`. Only time without SSVEP
stimulation is kept: everything outside ``[onset - guard_s, onset + 5 s + guard_s]`` of the
13/17/21 Hz trials [``guard_s`` 0.1 s], i.e. rest trials, inter-trial pauses and the lead-in
and tail of each session. Each such interval is cut into consecutive, non-overlapping segments
of ``segment_s`` [1.5 s]; the remainder is dropped. Optionally (``sources`` holding
``"motor_imagery"``) the six EEGMMIDB runs of subject S001 add segments from the same 8
channel names (notch 60 Hz, 160 Hz upsampled to 250 Hz, so no power above 80 Hz there).

Segments -> trials: 40 targets x ``n_blocks`` [6] trials per subject; each trial uses its own
segment, never reused. Segments are ordered source by source (sources in random order,
segments shuffled within each) and dealt out in consecutive runs, so each synthetic subject's
background mostly comes from one or two real sessions; within a subject, segments are
assigned to trials in random order. Trials span ``[-pre_stimulus_s, duration_s)`` around the
onset [-0.25 s, 1.25 s].

SSVEP of subject ``s``, target ``k`` (frequency ``f_k`` and phase ``phi_k`` of
``TSINGHUA_FREQS``/``TSINGHUA_PHASES``: 8-15.8 Hz, step 0.2 Hz, phase ``(m pi / 2) mod 2 pi``
for ``f = 8 + 0.2 m``), channel ``c``, harmonic ``h = 1..n_harmonics`` [5]::

    x_c(t) = G * g_sk * u * r(t - L) * sum_h a_sh * w_shc * sin(2 pi h f_k (t - L)
                                                             + h phi_k + theta_sh + delta_shc)

- ``L = L_s + d``: subject latency ``L_s ~ U(latency_s -+ latency_spread_s)`` [0.14, 0.02 s]
  plus trial jitter ``d ~ N(0, trial_latency_jitter_s)`` [0.004 s];
- ``r``: 0 before the latency, a raised-cosine rise over ``ramp_s`` [0.1 s], then 1;
- ``a_sh = h ** -harmonic_decay * exp(0.25 N(0, 1))`` [decay 1.0];
- ``theta_sh ~ U(0, 2 pi)``: subject phase of each harmonic (CCA is blind to it, templates
  learn it);
- spatial pattern ``w_shc = e_c * exp(0.3 N(0, 1))`` with occipital emphasis ``e_c`` (Oz 1.0,
  O1/O2/Iz 0.9, POz 0.8, PO3/PO4 0.7, PO5/PO6 0.65, PO7/PO8 0.6, Pz 0.5, any other 0.4) and
  channel phase lags ``delta_shc ~ N(0, 0.3 rad)``, i.e. a random complex mixing per harmonic;
- ``g_sk = exp(0.2 N(0, 1))`` target gain, ``u = exp(trial_amplitude_jitter N(0, 1))`` [0.1]
  trial gain;
- ``G`` sets the subject's broadband SNR ``snr_s ~ N(snr_db, snr_spread_db)`` [-12, 3 dB]:
  mean signal power over channels and the steady-state samples (after ``L_s + ramp_s``) over
  mean background power of the subject's segments.

``X = background + SSVEP``; labels, blocks (0..n_blocks-1), subjects (1..n_subjects) and
``meta`` (``background_index`` per trial, ``background_source``, subject latencies and SNRs,
every parameter) are returned in an :class:`~neurokit.decoding.datasets.SSVEPData`.
With these defaults, on 8 subjects, standard CCA (5 harmonics, 8 channels) reaches about 60 %
on 1.0-s windows and a leave-one-block-out template correlation beats it at 0.2-0.5 s.

>>> import numpy as np
>>> bg = np.random.default_rng(0).standard_normal((240, 8, 375)) * 1e-5
>>> data = make_phase_locked_benchmark(bg, n_subjects=1, sfreq=250.0)
>>> data.X.shape, data.freqs[:3]
((240, 8, 375), array([ 8.,  9., 10.]))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidParameterError
from .datasets import (
    TSINGHUA_FREQS,
    TSINGHUA_PHASES,
    DatasetNotFoundError,
    SSVEPData,
    _kalunga_scale,
    _kalunga_sessions,
)

__all__ = ["BackgroundSegments", "background_from_shared", "make_phase_locked_benchmark"]

POSTERIOR_8 = ("Oz", "O1", "O2", "PO3", "POz", "PO7", "PO8", "PO4")
_EMPHASIS = {
    "Oz": 1.0,
    "O1": 0.9,
    "O2": 0.9,
    "Iz": 0.9,
    "POz": 0.8,
    "PO3": 0.7,
    "PO4": 0.7,
    "PO5": 0.65,
    "PO6": 0.65,
    "PO7": 0.6,
    "PO8": 0.6,
    "Pz": 0.5,
}


@dataclass
class BackgroundSegments:
    """Non-overlapping segments of real EEG without SSVEP stimulation.

    Attributes
    ----------
    data : ndarray, shape (n_segments, n_channels, n_times)
        Volts.
    sfreq : float
    ch_names : list of str
    source : ndarray of str, shape (n_segments,)
        Recording each segment comes from (``"ssvep/sub-01/20120706T190216"``).
    start_s : ndarray, shape (n_segments,)
        Start of each segment in its recording, in seconds.
    """

    data: np.ndarray
    sfreq: float
    ch_names: list
    source: np.ndarray
    start_s: np.ndarray


def _clean(x, sfreq_in, sfreq, line, l_freq):
    from mne.filter import filter_data, notch_filter, resample

    x = notch_filter(
        x, sfreq_in, [f for f in (line, 2 * line) if f < sfreq_in / 2], verbose="error"
    )
    x = filter_data(x, sfreq_in, l_freq, None, verbose="error")
    return resample(x, up=float(sfreq), down=float(sfreq_in), verbose="error")


def _cut(intervals, n_total, seg, sfreq):
    """Start samples of consecutive segments of ``seg`` samples inside ``intervals`` (s)."""
    starts = []
    for t0, t1 in intervals:
        i0 = int(np.ceil(max(t0, 0.0) * sfreq))
        i1 = int(np.floor(min(t1 * sfreq, n_total)))
        starts.extend(range(i0, i1 - seg + 1, seg))
    return starts


def background_from_shared(
    data_root="../shared/data",
    *,
    sources=("ssvep",),
    segment_s: float = 1.5,
    sfreq: float = 250.0,
    l_freq: float = 1.0,
    guard_s: float = 0.1,
) -> BackgroundSegments:
    """Cut real EEG without SSVEP stimulation into non-overlapping segments (see module doc).

    Parameters
    ----------
    data_root : str | Path
        The shared data folder (holding ``ssvep/`` and ``motor_imagery/``).
    sources : tuple of {"ssvep", "motor_imagery"}
    segment_s : float
        Segment length in seconds (at least the trial length of the benchmark).
    sfreq : float
        Output sampling rate in Hz.
    l_freq : float
        High-pass edge in Hz.
    guard_s : float
        Margin kept away from every SSVEP stimulation window, in seconds.
    """
    import mne

    root = Path(data_root)
    bad = set(sources) - {"ssvep", "motor_imagery"}
    if bad or not sources:
        raise InvalidParameterError(
            f"sources must be a non-empty subset of ('ssvep', 'motor_imagery'), got {sources!r}"
        )
    seg = int(round(float(segment_s) * sfreq))
    data, source, start = [], [], []

    def add(x, name, intervals):
        for i in _cut(intervals, x.shape[-1], seg, sfreq):
            data.append(x[:, i : i + seg])
            source.append(name)
            start.append(i / sfreq)

    if "ssvep" in sources:
        folder = root / "ssvep"
        if not folder.is_dir():
            raise DatasetNotFoundError(folder, "shared SSVEP folder not found; pass data_root")
        seen = set()
        for row in _kalunga_sessions(folder):
            if row["recording"] in seen:  # subjects 03 and 07 share one recording
                continue
            seen.add(row["recording"])
            raw = mne.io.read_raw_fif(folder / row["raw"], preload=True, verbose="error")
            x = raw.get_data() * _kalunga_scale(row, len(raw.ch_names))[:, None]
            x = x[[raw.ch_names.index(c) for c in POSTERIOR_8]]
            sf_in = raw.info["sfreq"]
            ev = mne.read_events(folder / row["events"], verbose="error")
            on = (ev[ev[:, 2] != 1, 0] - raw.first_samp) / sf_in
            edges = np.r_[-np.inf, np.sort(on) + 5.0 + guard_s]
            ends = np.r_[np.sort(on) - guard_s, np.inf]
            x = _clean(x, sf_in, sfreq, 50.0, l_freq)
            add(x, f"ssvep/sub-{row['subject']}/{row['recording']}", zip(edges, ends))
    if "motor_imagery" in sources:
        files = sorted((root / "motor_imagery").glob("S*R*.edf"))
        if not files:
            raise DatasetNotFoundError(root / "motor_imagery", "no EEGMMIDB EDF files found")
        for f in files:
            raw = mne.io.read_raw_edf(f, preload=True, verbose="error")
            mne.datasets.eegbci.standardize(raw)
            x = _clean(
                raw.get_data(picks=list(POSTERIOR_8)), raw.info["sfreq"], sfreq, 60.0, l_freq
            )
            add(x, f"motor_imagery/{f.stem}", [(0.0, np.inf)])
    return BackgroundSegments(
        data=np.stack(data),
        sfreq=float(sfreq),
        ch_names=list(POSTERIOR_8),
        source=np.asarray(source),
        start_s=np.asarray(start),
    )


def make_phase_locked_benchmark(
    background,
    *,
    n_subjects: int = 8,
    n_blocks: int = 6,
    sfreq: float | None = None,
    ch_names=None,
    pre_stimulus_s: float = 0.25,
    duration_s: float = 1.25,
    snr_db: float = -12.0,
    snr_spread_db: float = 3.0,
    n_harmonics: int = 5,
    harmonic_decay: float = 1.0,
    latency_s: float = 0.14,
    latency_spread_s: float = 0.02,
    ramp_s: float = 0.1,
    trial_latency_jitter_s: float = 0.004,
    trial_amplitude_jitter: float = 0.1,
    seed: int = 0,
) -> SSVEPData:
    """Build the semi-synthetic 40-target benchmark (construction in the module docstring).

    Parameters
    ----------
    background : BackgroundSegments | ndarray, shape (n_segments, n_channels, n_times)
        Real EEG segments in volts (:func:`background_from_shared`), or any array of them;
        each must hold at least ``(pre_stimulus_s + duration_s) * sfreq`` samples (the first
        ones are used) and at least ``40 * n_blocks * n_subjects`` segments are needed.
    sfreq : float | None
        Sampling rate of an array background (default 250 Hz); taken from
        :class:`BackgroundSegments` otherwise.
    ch_names : list of str | None
        Channel names of an array background (drive the occipital emphasis).
    Other parameters: see the module docstring (every number is listed there).

    Returns
    -------
    SSVEPData
        ``X`` ``[n_subjects * n_blocks * 40, n_channels, n_times]`` ordered subject, block,
        target; ``tmin = -pre_stimulus_s``, ``visual_latency_s = latency_s``.
    """
    if isinstance(background, BackgroundSegments):
        bg, sf, names, src = (
            background.data,
            background.sfreq,
            background.ch_names,
            background.source,
        )
    else:
        bg = np.asarray(background, dtype=np.float64)
        sf = 250.0 if sfreq is None else float(sfreq)
        names = None
        src = np.asarray([f"array/{i}" for i in range(len(bg))]) if bg.ndim == 3 else None
    if bg.ndim != 3:
        raise InvalidParameterError(
            f"background must be [n_segments, n_channels, n_times], got shape {bg.shape}"
        )
    names = list(ch_names or names or [f"EEG{i + 1:02d}" for i in range(bg.shape[1])])
    if len(names) != bg.shape[1]:
        raise InvalidParameterError(f"ch_names has {len(names)} names for {bg.shape[1]} channels")
    for pname, val in (
        ("n_subjects", n_subjects),
        ("n_blocks", n_blocks),
        ("n_harmonics", n_harmonics),
    ):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
            raise InvalidParameterError(f"{pname} must be a positive integer, got {val!r}")
    n_t = int(round((pre_stimulus_s + duration_s) * sf))
    n_k, per_sub = TSINGHUA_FREQS.size, TSINGHUA_FREQS.size * n_blocks
    if bg.shape[2] < n_t or len(bg) < per_sub * n_subjects:
        raise InvalidParameterError(
            f"background holds {len(bg)} segments of {bg.shape[2]} samples; the benchmark needs "
            f"{per_sub * n_subjects} segments (40 targets x {n_blocks} blocks x {n_subjects} "
            f"subjects) of at least {n_t} samples; lower n_subjects, n_blocks or the trial length"
        )
    if latency_s - latency_spread_s < 0 or duration_s <= latency_s + latency_spread_s + ramp_s:
        raise InvalidParameterError(
            f"duration_s={duration_s!r} must exceed latency_s + latency_spread_s + ramp_s "
            f"({latency_s + latency_spread_s + ramp_s:g} s) and latencies must be >= 0"
        )
    rng = np.random.default_rng(seed)
    # order segments source by source (random source order), shuffled within each source
    _, group = np.unique(src, return_inverse=True)
    rank = rng.permutation(group.max() + 1)[group]
    order = np.lexsort((rng.random(len(bg)), rank))
    t = -pre_stimulus_s + np.arange(n_t) / sf
    emph = np.array([_EMPHASIS.get(n, 0.4) for n in names])
    H = np.arange(1, n_harmonics + 1)
    n_c = len(names)
    X = np.empty((n_subjects * per_sub, n_c, n_t))
    bg_index = np.empty(n_subjects * per_sub, np.int64)
    sub_lat, sub_snr = [], []
    for s in range(n_subjects):
        lat = latency_s + rng.uniform(-latency_spread_s, latency_spread_s)
        snr = snr_db + snr_spread_db * rng.standard_normal()
        amp = H ** -float(harmonic_decay) * np.exp(0.25 * rng.standard_normal(n_harmonics))
        theta = rng.uniform(0, 2 * np.pi, n_harmonics)
        w = emph * np.exp(0.3 * rng.standard_normal((n_harmonics, n_c)))
        delta = 0.3 * rng.standard_normal((n_harmonics, n_c))
        gain_k = np.exp(0.2 * rng.standard_normal(n_k))
        idx = order[s * per_sub : (s + 1) * per_sub][rng.permutation(per_sub)]
        # trial grid (block, target) -> delay (b, k, 1, 1) and gain
        d = lat + trial_latency_jitter_s * rng.standard_normal((n_blocks, n_k, 1, 1))
        u = np.exp(trial_amplitude_jitter * rng.standard_normal((n_blocks, n_k, 1, 1)))
        tt = t[None, None, None, :] - d  # (b, k, 1, t)
        ramp = np.clip(tt / ramp_s, 0.0, 1.0)
        ramp = 0.5 - 0.5 * np.cos(np.pi * ramp)
        f = TSINGHUA_FREQS[None, :, None, None]
        ph = TSINGHUA_PHASES[None, :, None, None]
        sig = np.zeros((n_blocks, n_k, n_c, n_t))
        for h in range(n_harmonics):
            arg = 2 * np.pi * H[h] * f * tt + H[h] * ph + theta[h] + delta[h][None, None, :, None]
            sig += amp[h] * w[h][None, None, :, None] * np.sin(arg)
        sig *= ramp * u * gain_k[None, :, None, None]
        steady = t >= lat + ramp_s
        p_sig = np.mean(sig[..., steady] ** 2)
        seg = bg[idx, :, :n_t]
        p_bg = np.mean(np.var(seg, axis=-1))
        sig *= np.sqrt(10 ** (snr / 10) * p_bg / p_sig)
        rows = slice(s * per_sub, (s + 1) * per_sub)
        X[rows] = seg + sig.reshape(per_sub, n_c, n_t)
        bg_index[rows] = idx
        sub_lat.append(lat)
        sub_snr.append(snr)
    n = len(X)
    params = dict(
        n_subjects=n_subjects,
        n_blocks=n_blocks,
        pre_stimulus_s=pre_stimulus_s,
        duration_s=duration_s,
        snr_db=snr_db,
        snr_spread_db=snr_spread_db,
        n_harmonics=n_harmonics,
        harmonic_decay=harmonic_decay,
        latency_s=latency_s,
        latency_spread_s=latency_spread_s,
        ramp_s=ramp_s,
        trial_latency_jitter_s=trial_latency_jitter_s,
        trial_amplitude_jitter=trial_amplitude_jitter,
        seed=seed,
    )
    return SSVEPData(
        X=X,
        y=np.tile(np.arange(n_k), n_subjects * n_blocks),
        freqs=TSINGHUA_FREQS.copy(),
        phases=TSINGHUA_PHASES.copy(),
        sfreq=sf,
        ch_names=names,
        subject=np.repeat(np.arange(1, n_subjects + 1), per_sub),
        block=np.tile(np.repeat(np.arange(n_blocks), n_k), n_subjects),
        classes=[f"{f:g} Hz" for f in TSINGHUA_FREQS],
        visual_latency_s=latency_s,
        tmin=-pre_stimulus_s,
        name="phase_locked_benchmark",
        meta={
            "background_index": bg_index,
            "background_source": src[bg_index],
            "subject_latency_s": np.array(sub_lat),
            "subject_snr_db": np.array(sub_snr),
            "params": params,
            "n_trials": n,
        },
    )
