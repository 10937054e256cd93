"""Seeded synthetic recordings: scalp EEG, MEG on a real helmet, and sEEG shafts.

The signals are plausible, not physiological models: a 1/f ("pink") background, an alpha rhythm
strongest over the back of the head, event annotations, and for EEG an EOG channel with blinks.
MEG sensors sit on the Neuromag-306 helmet surface that MNE ships (``mne/data/helmets``), with
their normals as coil orientations; sEEG contacts lie on straight shafts inside the head.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InvalidParameterError
from ..recording import Recording
from .normalize import _default_montage, normalize

__all__ = ["synthetic", "KINDS"]

KINDS = ("eeg", "meg", "seeg")

_EEG_NAMES = (
    "Fp1 Fp2 F7 F3 Fz F4 F8 T7 C3 Cz C4 T8 P7 P3 Pz P4 P8 O1 O2 Oz FC1 FC2 CP1 CP2 FC5 "
    "FC6 CP5 CP6 AF3 AF4 PO3 PO4 F1 F2 C1 C2 P1 P2 FT7 FT8 TP7 TP8 PO7 PO8 F5 F6 C5 C6 "
    "P5 P6 AF7 AF8 FT9 FT10 TP9 TP10 Fpz AFz FCz CPz POz Iz F9 F10"
).split()
_EVENTS = ("stimulus/left", "stimulus/right")


def _pink(rng, n_channels, n_times, sfreq, exponent=1.0):
    """Noise with power ~ 1/f**exponent, unit std per channel."""
    spec = rng.standard_normal((n_channels, n_times // 2 + 1)) + 1j * rng.standard_normal(
        (n_channels, n_times // 2 + 1)
    )
    freqs = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    freqs[0] = freqs[1] if n_times > 1 else 1.0
    x = np.fft.irfft(spec / freqs ** (exponent / 2), n=n_times, axis=1)
    return x / (x.std(axis=1, keepdims=True) + 1e-30)


def _alpha(rng, n_times, sfreq):
    t = np.arange(n_times) / sfreq
    envelope = 0.5 * (1 + np.sin(2 * np.pi * 0.2 * t + rng.uniform(0, 2 * np.pi)))
    return envelope * np.sin(2 * np.pi * rng.uniform(9.0, 11.0) * t)


def _annotations(rng, duration_s):
    import mne

    onsets = np.arange(1.0, max(duration_s - 1.0, 1.0), 2.0)
    onsets = onsets[onsets < duration_s]
    labels = [_EVENTS[i] for i in rng.integers(0, len(_EVENTS), len(onsets))]
    return mne.Annotations(onsets, np.full(len(onsets), 0.5), labels)


def _eeg(rng, n_channels, n_times, sfreq):
    import mne

    if not 1 <= n_channels <= len(_EEG_NAMES):
        raise InvalidParameterError(
            f"n_channels={n_channels} for kind='eeg'; allowed 1 to {len(_EEG_NAMES)}"
        )
    names = list(_EEG_NAMES[:n_channels])
    montage = mne.channels.make_standard_montage(_default_montage())
    pos = np.array([montage.get_positions()["ch_pos"][n] for n in names])
    back = np.clip(-pos[:, 1] / 0.1, 0, 1)[:, None]  # alpha strongest posteriorly
    data = 10e-6 * _pink(rng, n_channels, n_times, sfreq) + 15e-6 * back * _alpha(
        rng, n_times, sfreq
    )
    eog = 20e-6 * _pink(rng, 1, n_times, sfreq)
    for onset in rng.uniform(0, n_times / sfreq, max(1, int(n_times / sfreq / 4))):
        t = np.arange(n_times) / sfreq - onset
        eog += 150e-6 * np.exp(-0.5 * (t / 0.08) ** 2)
    data[: min(2, n_channels)] += 0.3 * eog  # blinks leak into the frontal channels
    info = mne.create_info(names + ["EOG"], sfreq, ["eeg"] * n_channels + ["eog"])
    raw = mne.io.RawArray(np.vstack([data, eog]), info, verbose="error")
    raw.set_montage(montage, on_missing="ignore", verbose="error")
    return raw


def _helmet():
    import mne
    from mne.bem import read_bem_surfaces

    fname = Path(mne.__file__).parent / "data" / "helmets" / "306m.fif.gz"
    surf = read_bem_surfaces(fname, verbose="error")[0]
    return surf["rr"], surf["nn"]


def _farthest(points, n):
    chosen = [int(np.argmax(points[:, 2]))]
    dist = np.linalg.norm(points - points[chosen[0]], axis=1)
    for _ in range(n - 1):
        chosen.append(int(np.argmax(dist)))
        dist = np.minimum(dist, np.linalg.norm(points - points[chosen[-1]], axis=1))
    return np.array(chosen)


def _meg(rng, n_channels, n_times, sfreq):
    """Neuromag-like triplets (1 magnetometer + 2 planar gradiometers) on the 306m helmet."""
    import mne
    from mne.io.constants import FIFF

    rr, nn = _helmet()
    n_sites = max(1, n_channels // 3)
    if n_channels % 3 or not 3 <= n_channels <= 3 * len(rr):
        raise InvalidParameterError(
            f"n_channels={n_channels} for kind='meg'; allowed multiples of 3 (one magnetometer "
            f"and two gradiometers per site) from 3 to {3 * len(rr)}"
        )
    idx = _farthest(rr, n_sites)
    names, types, locs = [], [], []
    for k, i in enumerate(idx):
        ez = nn[i] / np.linalg.norm(nn[i])
        ex = np.cross(ez, [0.0, 0.0, 1.0] if abs(ez[2]) < 0.9 else [1.0, 0.0, 0.0])
        ex /= np.linalg.norm(ex)
        ey = np.cross(ez, ex)
        for suffix, kind, (ax, ay) in (
            ("1", "mag", (ex, ey)),
            ("2", "grad", (ex, ey)),
            ("3", "grad", (ey, -ex)),
        ):
            names.append(f"MEG {k + 1:03d}{suffix}")
            types.append(kind)
            locs.append(np.concatenate([rr[i], ax, ay, ez]))
    info = mne.create_info(names, sfreq, types)
    with info._unlock():
        for ch, loc, kind in zip(info["chs"], locs, types):
            ch["loc"][:] = loc
            ch["coord_frame"] = FIFF.FIFFV_COORD_DEVICE
            ch["coil_type"] = (
                FIFF.FIFFV_COIL_VV_MAG_T3 if kind == "mag" else FIFF.FIFFV_COIL_VV_PLANAR_T1
            )
        trans = np.eye(4)
        trans[:3, 3] = [0.0, -0.01, -0.045]  # head sits a little low and back in the helmet
        info["dev_head_t"] = mne.transforms.Transform("meg", "head", trans)
    scale = np.where(np.array(types) == "mag", 200e-15, 40e-13)[:, None]
    back = np.clip(-(rr[idx, 1] / 0.1), 0, 1).repeat(3)[:, None]
    data = scale * (
        _pink(rng, len(names), n_times, sfreq) + 1.5 * back * _alpha(rng, n_times, sfreq)
    )
    return mne.io.RawArray(data, info, verbose="error")


def _seeg(rng, n_channels, n_times, sfreq):
    import mne

    n_shafts = max(1, min(4, n_channels // 4))
    per_shaft = [n_channels // n_shafts + (s < n_channels % n_shafts) for s in range(n_shafts)]
    names, pos = [], []
    for s, n in enumerate(per_shaft):
        letter = "LRAB"[s]
        entry = np.array([(-1) ** s * 0.065, 0.02 - 0.02 * s, 0.01 * s])  # on the skull, metres
        direction = np.array([-((-1) ** s), 0.1, -0.1])
        direction /= np.linalg.norm(direction)
        for c in range(n):
            names.append(f"{letter}'{c + 1}")
            pos.append(entry + 0.0035 * (c + 1) * direction)  # 3.5 mm contact pitch
    data = 50e-6 * _pink(rng, n_channels, n_times, sfreq, exponent=1.5)
    for onset in rng.uniform(0, n_times / sfreq, max(1, int(n_times / sfreq / 3))):
        t = np.arange(n_times) / sfreq - onset
        data[: per_shaft[0]] += 300e-6 * np.exp(-0.5 * (t / 0.02) ** 2)  # interictal-like spikes
    info = mne.create_info(names, sfreq, "seeg")
    raw = mne.io.RawArray(data, info, verbose="error")
    montage = mne.channels.make_dig_montage(dict(zip(names, pos)), coord_frame="head")
    raw.set_montage(montage, verbose="error")
    return raw


def synthetic(
    kind: str = "eeg",
    *,
    n_channels: int | None = None,
    duration_s: float = 10.0,
    sfreq: float = 256.0,
    seed: int = 0,
) -> Recording:
    """A seeded synthetic recording, normalized like a loaded file.

    Parameters
    ----------
    kind : {"eeg", "meg", "seeg"}
        Scalp EEG (10-05 names, standard positions, plus an EOG channel), MEG (magnetometer and
        planar-gradiometer triplets on the Neuromag helmet, with a device-to-head transform), or
        sEEG (up to 4 shafts of contacts named ``L'1``, ``R'1`` ...).
    n_channels : int | None
        Data channels (default 19 EEG, 306 MEG as 102 triplets, 16 sEEG).
    duration_s, sfreq : float
        Length in seconds and sampling rate in Hz.
    seed : int
        Same seed, same recording.

    Examples
    --------
    >>> rec = synthetic("meg", n_channels=12, duration_s=1.0, seed=1)
    >>> rec.sensors.counts()
    {'mag': 4, 'grad': 8}
    """
    makers = {"eeg": (_eeg, 19), "meg": (_meg, 306), "seeg": (_seeg, 16)}
    if kind not in makers:
        raise InvalidParameterError(f"kind={kind!r}; allowed {list(makers)}")
    if not (np.isfinite(sfreq) and sfreq > 0):
        raise InvalidParameterError(f"sfreq={sfreq!r}; must be a positive number of Hz")
    n_times = int(round(duration_s * sfreq))
    if n_times < 2:
        raise InvalidParameterError(
            f"duration_s={duration_s!r} at sfreq={sfreq} gives {n_times} samples; need at least 2"
        )
    maker, default = makers[kind]
    rng = np.random.default_rng(seed)
    raw = maker(rng, default if n_channels is None else int(n_channels), n_times, float(sfreq))
    raw.set_annotations(_annotations(rng, n_times / sfreq))
    meta = {
        "dataset": "synthetic",
        "format": "synthetic",
        "subject": f"{kind}{seed:02d}",
        "kind": kind,
        "seed": seed,
    }
    return normalize(raw, meta=meta, montage=None)
