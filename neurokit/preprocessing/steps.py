"""Built-in preprocessing steps (MNE and scipy do the signal work).

Each step takes a :class:`~neurokit.Recording` and keyword-only JSON-able options and returns a
new recording (the input is never modified) whose history ends with the step and its options.
Data-touching steps load the samples (``preload``) on a copy.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import InvalidParameterError
from ..io.normalize import standard_name
from ..recording import owned
from ._registry import register_step

DATA_TYPES = ("eeg", "seeg", "ecog", "mag", "grad")

# Bipolar montages. TCP: the 22-channel temporal-central-parasagittal montage of the TUH corpus;
# tcp16: its 16-channel double banana (no A1/A2, no central chain) used by BIOT and TFM-Tokenizer.
_TCP16 = [
    "Fp1-F7",
    "F7-T7",
    "T7-P7",
    "P7-O1",
    "Fp2-F8",
    "F8-T8",
    "T8-P8",
    "P8-O2",
    "Fp1-F3",
    "F3-C3",
    "C3-P3",
    "P3-O1",
    "Fp2-F4",
    "F4-C4",
    "C4-P4",
    "P4-O2",
]
MONTAGES = {
    "tcp16": _TCP16,
    "tcp": _TCP16[:8] + ["A1-T7", "T7-C3", "C3-Cz", "Cz-C4", "C4-T8", "T8-A2"] + _TCP16[8:],
}


def _own(rec):
    """The raw to work on: ``rec.raw`` itself inside a :class:`Pipeline` (which copied its input
    once, so steps may work in place), else a copy."""
    return rec.raw if owned() else rec.raw.copy()


def _copy(rec):
    raw = _own(rec)
    raw.load_data(verbose="error")
    return raw


def _picks(rec, types=DATA_TYPES, include_bads=True):
    return [
        i
        for i, (t, b) in enumerate(zip(rec.sensors.types, rec.sensors.bads))
        if t in types and (include_bads or not b)
    ]


def _need(value, name, allowed, step):
    if value not in allowed:
        raise InvalidParameterError(f"{step}: {name}={value!r}; allowed: {list(allowed)}")


@register_step("pick_types")
def pick_types(rec, *, types: list, exclude_bads: bool = False):
    """Keep the channels whose sensor type is in ``types`` (e.g. ``["eeg"]``)."""
    for t in types:
        _need(
            t,
            "types",
            ("eeg", "seeg", "ecog", "mag", "grad", "eog", "ecg", "emg", "misc", "stim"),
            "pick_types",
        )
    keep = [
        n
        for n, t, b in zip(rec.sensors.names, rec.sensors.types, rec.sensors.bads)
        if t in types and not (exclude_bads and b)
    ]
    if not keep:
        raise InvalidParameterError(f"pick_types: no channel of types {types} in {rec}")
    raw = _own(rec).pick(keep)
    return rec.with_step(raw, "pick_types", types=list(types), exclude_bads=exclude_bads)


def _lookup(rec) -> dict:
    """Upper-case names (as given, and as standard 10-05 names) -> channel of ``rec``."""
    out = {}
    for ch in rec.ch_names:
        out.setdefault(ch.upper(), ch)
        std = standard_name(ch, _upper_std())
        if std is not None:
            out.setdefault(std.upper(), ch)
    return out


def _resolve(name: str, lookup: dict):
    return lookup.get(name.upper()) or lookup.get((standard_name(name, _upper_std()) or "").upper())


_STD_CACHE: dict = {}


def _upper_std() -> dict:
    if not _STD_CACHE:
        from ..io.normalize import _standard_names

        _STD_CACHE.update(_standard_names())
    return _STD_CACHE


@register_step("pick_channels")
def pick_channels(rec, *, names: list, on_missing: str = "raise"):
    """Keep ``names`` in that order; names are matched tolerant of case, ``EEG `` prefixes,
    reference suffixes and old 10-20 names (``T3`` finds ``T7``)."""
    _need(on_missing, "on_missing", ("raise", "ignore"), "pick_channels")
    lookup = _lookup(rec)
    chosen = [_resolve(n, lookup) for n in names]
    missing = [n for n, c in zip(names, chosen) if c is None]
    if missing and on_missing == "raise":
        raise InvalidParameterError(
            f"pick_channels: channels {missing} not in the recording "
            f"(has {rec.ch_names[:8]}...); pass on_missing='ignore'"
        )
    chosen = [c for c in chosen if c is not None]
    if not chosen:
        raise InvalidParameterError(f"pick_channels: none of {names} is in {rec}")
    raw = _own(rec).pick(chosen)
    return rec.with_step(raw, "pick_channels", names=list(names), on_missing=on_missing)


@register_step("crop")
def crop(rec, *, tmin_s: float = 0.0, tmax_s: float | None = None):
    """Keep ``[tmin_s, tmax_s]`` seconds from the start of the recording."""
    end = rec.duration_s - 1.0 / rec.sfreq
    if not 0 <= tmin_s <= end or (tmax_s is not None and not tmin_s < tmax_s):
        raise InvalidParameterError(
            f"crop: tmin_s={tmin_s}, tmax_s={tmax_s} outside the recording's 0-{rec.duration_s:g} s"
        )
    raw = _own(rec).crop(tmin_s, min(tmax_s, end) if tmax_s is not None else None)
    return rec.with_step(raw, "crop", tmin_s=tmin_s, tmax_s=tmax_s)


@register_step("resample")
def resample(rec, *, sfreq: float, method: str = "polyphase"):
    """Resample to ``sfreq`` Hz (MNE; polyphase by default, ``"fft"`` available)."""
    _need(method, "method", ("polyphase", "fft"), "resample")
    if not sfreq > 0:
        raise InvalidParameterError(f"resample: sfreq={sfreq}; must be > 0 Hz")
    raw = _copy(rec)
    if raw.info["sfreq"] != sfreq:
        raw.resample(sfreq, method=method, verbose="error")
    return rec.with_step(raw, "resample", sfreq=sfreq, method=method)


@register_step("bandpass")
def bandpass(rec, *, l_freq: float | None, h_freq: float | None, method: str = "fir"):
    """Band-pass (or high/low-pass when one edge is None) the data channels (MNE ``filter``)."""
    _need(method, "method", ("fir", "iir"), "bandpass")
    nyq = rec.sfreq / 2
    if h_freq is not None and h_freq >= nyq:
        raise InvalidParameterError(
            f"bandpass: h_freq={h_freq} Hz must be below Nyquist "
            f"({nyq:g} Hz); resample first or lower h_freq"
        )
    raw = _copy(rec)
    raw.filter(l_freq, h_freq, picks=_picks(rec), method=method, verbose="error")
    return rec.with_step(raw, "bandpass", l_freq=l_freq, h_freq=h_freq, method=method)


@register_step("notch")
def notch(
    rec, *, line_freq: float | None = None, harmonics: bool = True, freqs: list | None = None
):
    """Remove the power line and its harmonics below Nyquist (MNE ``notch_filter``).

    ``line_freq`` defaults to the file's ``info["line_freq"]``; ``freqs`` instead gives the exact
    list of frequencies (BrainOmni's recipe notches 50 and 60 Hz, without harmonics).
    """
    if freqs is None:
        freq = line_freq or rec.raw.info.get("line_freq")
        if not freq:
            raise InvalidParameterError(
                f"notch: {rec} does not say its power-line frequency; pass line_freq=50 or "
                "line_freq=60 (or freqs=[...]) in the recipe"
            )
        line_freq = float(freq)
        todo = np.arange(freq, rec.sfreq / 2, freq) if harmonics else np.array([freq])
    else:
        todo = np.array([f for f in freqs if f < rec.sfreq / 2], dtype=float)
    raw = _copy(rec)
    if len(todo):
        raw.notch_filter(todo, picks=_picks(rec), verbose="error")
    return rec.with_step(raw, "notch", line_freq=line_freq, harmonics=harmonics, freqs=freqs)


@register_step("rereference")
def rereference(rec, *, kind: str = "average", pairs: list | None = None):
    """Re-reference: ``average`` (EEG common average), ``per_type`` (subtract the mean of each
    of eeg/seeg/ecog separately), ``bipolar`` (``pairs`` of [anode, cathode]) or a named bipolar
    montage (``tcp``, ``tcp16``). Bipolar channels are named ``"A-B"``."""
    _need(kind, "kind", ("average", "per_type", "bipolar", *MONTAGES), "rereference")
    if kind == "average":
        if "eeg" not in rec.sensors.types:
            raise InvalidParameterError("rereference: kind='average' needs EEG channels")
        # what MNE's set_eeg_reference("average", projection=False) does, without its overhead
        from mne.io.constants import FIFF

        raw = _copy(rec)
        good = _picks(rec, ("eeg",), include_bads=False)
        eeg = _picks(rec, ("eeg",))
        x = raw._data
        if len(good) == len(eeg) == len(x):  # all channels: no fancy-indexing copies
            x -= x.mean(axis=0, keepdims=True)
        else:
            x[eeg] -= x[good].mean(axis=0, keepdims=True)
        with raw.info._unlock():
            raw.info["custom_ref_applied"] = FIFF.FIFFV_MNE_CUSTOM_REF_ON
        return rec.with_step(raw, "rereference", kind=kind, pairs=pairs)
    if kind == "per_type":
        raw = _copy(rec)
        data = raw._data
        for t in ("eeg", "seeg", "ecog"):
            idx = _picks(rec, (t,), include_bads=False)
            if idx:
                data[_picks(rec, (t,))] -= data[idx].mean(axis=0, keepdims=True)
        return rec.with_step(raw, "rereference", kind=kind, pairs=pairs)
    if kind in MONTAGES:
        pairs = [p.split("-") for p in MONTAGES[kind]]
    if not pairs or any(len(p) != 2 for p in pairs):
        raise InvalidParameterError(
            "rereference: kind='bipolar' needs pairs=[[anode, cathode], ...]"
        )
    lookup = _lookup(rec)
    resolved, missing = [], set()
    for a, c in pairs:
        ra, rc = _resolve(a, lookup), _resolve(c, lookup)
        missing |= {x for x, r in ((a, ra), (c, rc)) if r is None}
        resolved.append((ra, rc, f"{a}-{c}"))
    if missing:
        raise InvalidParameterError(
            f"rereference: channels {sorted(missing)} of the {kind} "
            f"montage are not in the recording {rec}"
        )
    raw = _copy(rec)
    x = raw.get_data(picks=[r[0] for r in resolved]) - raw.get_data(picks=[r[1] for r in resolved])
    import mne

    info = mne.create_info([r[2] for r in resolved], raw.info["sfreq"], "eeg")
    bip = mne.io.RawArray(x, info, first_samp=raw.first_samp, verbose="error")
    with bip.info._unlock():
        bip.info["line_freq"] = raw.info["line_freq"]
    bip.set_meas_date(raw.info["meas_date"])
    bip.set_annotations(raw.annotations)
    return rec.with_step(bip, "rereference", kind=kind, pairs=[list(p) for p in pairs])


def _windows(n_times, size):
    if size is None or size >= n_times:
        return [slice(0, n_times)]
    return [slice(s, min(s + size, n_times)) for s in range(0, n_times, size)]


@register_step("scale")
def scale(rec, *, method: str = "zscore", q: float = 0.95, window_s: float | None = None):
    """Scale the data channels.

    - ``zscore``: per channel, zero mean and unit standard deviation.
    - ``quantile``: per channel, divide by the ``q`` quantile of ``|x|`` (+1e-8), as the
      TFM-Tokenizer reference code does with q = 0.95 (it applies it to each sample window:
      set ``window_s`` to the window length to match).
    - ``brainomni``: per sensor type (EEG, magnetometers, gradiometers), subtract the mean over
      the channels at each time point, then divide by the standard deviation of the whole group
      (+1e-5 for EEG, +1e-13 for MEG), as in BrainOmni's reference code, which does it per
      segment: set ``window_s`` to the segment length to match.

    With ``window_s`` the statistics are computed on consecutive non-overlapping windows.
    """
    _need(method, "method", ("zscore", "quantile", "brainomni"), "scale")
    raw = _copy(rec)
    data = raw._data
    size = None if window_s is None else int(round(window_s * rec.sfreq))
    types = np.array(rec.sensors.types)
    for sl in _windows(data.shape[1], size):
        if method == "brainomni":
            for group, eps in (("eeg", 1e-5), ("mag", 1e-13), ("grad", 1e-13)):
                idx = np.flatnonzero(types == group)
                if idx.size:
                    seg = data[idx, sl] - data[idx, sl].mean(axis=0, keepdims=True)
                    data[idx, sl] = seg / (seg.std() + eps)
            continue
        idx = np.array(_picks(rec), dtype=int)
        seg = data[idx, sl]
        if method == "zscore":
            data[idx, sl] = (seg - seg.mean(axis=1, keepdims=True)) / (
                seg.std(axis=1, keepdims=True) + 1e-12
            )
        else:
            data[idx, sl] = seg / (np.quantile(np.abs(seg), q, axis=1, keepdims=True) + 1e-8)
    return rec.with_step(raw, "scale", method=method, q=q, window_s=window_s)


@register_step("detect_bads")
def detect_bads(
    rec,
    *,
    flat: bool = True,
    nonfinite: bool = True,
    noisy_z: float | None = None,
    psd_iqr: float | None = None,
):
    """Flag bad data channels (added to ``info["bads"]``; nothing is removed).

    - ``flat``: (near) zero variance; ``nonfinite``: any NaN/inf sample;
    - ``noisy_z``: robust z-score (median/MAD over channels of the same type) of the channel's
      standard deviation above this value;
    - ``psd_iqr``: BrainOmni's rule on EEG channels: Euclidean distances between the channels'
      log power spectra (Welch), mean distance per channel, outliers beyond
      ``psd_iqr`` x IQR of those means (the reference code uses 10).
    """
    raw = _own(rec)
    data = raw.get_data()
    types = np.array(rec.sensors.types)
    found = {}
    for i in _picks(rec):
        x = data[i]
        if nonfinite and not np.isfinite(x).all():
            found[raw.ch_names[i]] = "nonfinite"
        elif flat and np.nanstd(x) <= 1e-20:
            found[raw.ch_names[i]] = "flat"
    if noisy_z is not None:
        for t in DATA_TYPES:
            idx = [i for i in np.flatnonzero(types == t) if raw.ch_names[i] not in found]
            if len(idx) < 3:
                continue
            sd = np.log(data[idx].std(axis=1) + 1e-30)
            mad = np.median(np.abs(sd - np.median(sd))) * 1.4826 + 1e-12
            for i, z in zip(idx, (sd - np.median(sd)) / mad):
                if z > noisy_z:
                    found[raw.ch_names[i]] = f"noisy (z={z:.1f})"
    if psd_iqr is not None:
        idx = [i for i in np.flatnonzero(types == "eeg") if raw.ch_names[i] not in found]
        if len(idx) >= 4:
            from scipy.signal import welch

            _, psd = welch(data[idx], fs=rec.sfreq, nperseg=min(256, data.shape[1]))
            logp = np.log(psd + 1e-16)
            dist = np.linalg.norm(logp[:, None, :] - logp[None, :, :], axis=2).mean(axis=1)
            q1, q3 = np.percentile(dist, [25, 75])
            for i, d in zip(idx, dist):
                if d > q3 + psd_iqr * (q3 - q1) or d < q1 - psd_iqr * (q3 - q1):
                    found[raw.ch_names[i]] = "log-PSD outlier"
    raw.info["bads"] = list(dict.fromkeys(list(raw.info["bads"]) + list(found)))
    out = rec.with_step(
        raw, "detect_bads", flat=flat, nonfinite=nonfinite, noisy_z=noisy_z, psd_iqr=psd_iqr
    )
    out.history[-1]["found"] = found
    return out


@register_step("interpolate_bads")
def interpolate_bads(rec, *, origin: list | None = None, mode: str = "accurate"):
    """Interpolate bad channels from their neighbours (MNE spherical splines / field mapping);
    channels without positions cannot be interpolated and are left bad."""
    _need(mode, "mode", ("accurate", "fast"), "interpolate_bads")
    raw = _copy(rec)
    if raw.info["bads"]:
        raw.interpolate_bads(
            reset_bads=True,
            mode=mode,
            origin=tuple(origin) if origin is not None else "auto",
            verbose="error",
        )
    return rec.with_step(raw, "interpolate_bads", origin=origin, mode=mode)


@register_step("reject_annotated")
def reject_annotated(rec, *, pattern: str = "^bad"):
    """Cut out the spans of annotations whose description matches ``pattern`` (case-insensitive)
    and join the rest (MNE adds ``BAD boundary``/``EDGE boundary`` annotations at the joins)."""
    import mne

    regex = re.compile(pattern, re.I)
    raw = _own(rec)
    spans = sorted(
        (a["onset"] - raw.first_time, a["onset"] - raw.first_time + a["duration"])
        for a in raw.annotations
        if regex.search(a["description"])
    )
    keep, t = [], 0.0
    for start, stop in spans:
        if start > t:
            keep.append((t, start))
        t = max(t, stop)
    end = raw.times[-1]
    if t < end:
        keep.append((t, end))
    if not keep:
        raise InvalidParameterError(
            f"reject_annotated: annotations matching {pattern!r} cover all of {rec}"
        )
    if len(keep) != 1 or keep[0] != (0.0, end):
        pieces = [
            raw.copy().crop(a, b, include_tmax=b == end) for a, b in keep if b - a > 1 / rec.sfreq
        ]
        raw = mne.concatenate_raws(pieces, verbose="error")
    return rec.with_step(raw, "reject_annotated", pattern=pattern)


@register_step("resample_filter")
def resample_filter(
    rec,
    *,
    sfreq: float | None = None,
    l_freq: float | None = None,
    h_freq: float | None = None,
    line_freq: float | None = None,
    notch_freqs: list | None = None,
):
    """Resample, band-pass and notch in one FFT pass (see :mod:`.spectral`).

    Equivalent to ``resample`` (FFT method) then ``bandpass`` then ``notch`` with MNE's FIR
    designs at the new rate, and about three times faster. ``line_freq`` notches the line and
    its harmonics below the new Nyquist frequency; ``notch_freqs`` gives an explicit list.
    Filters apply to the data channels; other channels are only resampled (stim channels by
    taking the largest code in each output sample's span, so events survive decimation).
    """
    import mne

    from .spectral import design_kernels, spectral_resample_filter

    new = float(sfreq or rec.sfreq)
    if not new > 0:
        raise InvalidParameterError(f"resample_filter: sfreq={sfreq}; must be > 0 Hz")
    if h_freq is not None and h_freq >= new / 2:
        raise InvalidParameterError(
            f"resample_filter: h_freq={h_freq} Hz must be below the new "
            f"Nyquist frequency ({new / 2:g} Hz)"
        )
    freqs = notch_freqs
    if freqs is None and line_freq is not None:
        freqs = list(np.arange(line_freq, new / 2, line_freq))
    freqs = [f for f in (freqs or []) if f < new / 2]
    raw = _copy(rec)
    x = raw._data
    data = _picks(rec)
    stim = [i for i, t in enumerate(rec.sensors.types) if t == "stim"]
    taken = set(data) | set(stim)
    other = [i for i in range(len(x)) if i not in taken]
    try:
        kernels = design_kernels(new, l_freq, h_freq, freqs)
        n_out = int(round(x.shape[1] * new / rec.sfreq))
        out = np.empty((len(x), n_out))
        if len(data) == len(x):
            out = spectral_resample_filter(x, rec.sfreq, new, kernels)
        elif data:
            out[data] = spectral_resample_filter(x[data], rec.sfreq, new, kernels)
        if other:
            out[other] = spectral_resample_filter(x[other], rec.sfreq, new, [])
    except ValueError as err:
        raise InvalidParameterError(f"resample_filter: {err}") from None
    if stim:
        edges = np.minimum((np.arange(n_out + 1) * rec.sfreq / new).astype(int), x.shape[1])
        edges = np.maximum(edges, np.r_[edges[:1], edges[:-1] + 1].clip(max=x.shape[1] - 1))
        out[stim] = np.maximum.reduceat(x[stim], edges[:-1], axis=1)
    info = raw.info.copy()
    with info._unlock():
        info["sfreq"] = new
        info["lowpass"] = min(info["lowpass"], h_freq or new / 2, new / 2)
        if l_freq is not None:
            info["highpass"] = max(info["highpass"], l_freq)
    ratio = new / rec.sfreq
    new_raw = mne.io.RawArray(
        out, info, first_samp=int(round(raw.first_samp * ratio)), verbose="error"
    )
    new_raw.set_annotations(raw.annotations)
    return rec.with_step(
        new_raw,
        "resample_filter",
        sfreq=sfreq,
        l_freq=l_freq,
        h_freq=h_freq,
        line_freq=line_freq,
        notch_freqs=notch_freqs,
    )
