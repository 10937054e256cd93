"""Denoising metrics of EEGdenoiseNet: RRMSE in time and frequency, correlation coefficient.

Definitions (Zhang et al. 2021, eq. 8-10), per window, ``f(y)`` the denoised and ``x`` the clean
signal::

    RRMSE_temporal = RMS(f(y) - x) / RMS(x)
    RRMSE_spectral = RMS(PSD(f(y)) - PSD(x)) / RMS(PSD(x))
    CC             = Cov(f(y), x) / sqrt(Var(f(y)) Var(x))

The paper does not say how the PSD is estimated and the authors' benchmark code computes no
metric; the only PSD estimator in their repository is MATLAB's ``pwelch`` with default settings
(epoch selection in ``EEG_cut.m``). :func:`psd` reproduces those defaults with
:func:`scipy.signal.welch`: Hamming window, eight segments with 50 % overlap
(``nperseg = floor(n_times / 4.5)``), ``nfft = max(256, next power of two)``, no detrending,
one-sided density over 0 .. sfreq/2. Pass ``nperseg`` to choose another resolution.

All functions take arrays ``(..., n_times)`` (windows, or windows x channels) and return one
value per leading index; :func:`denoising_report` averages them per SNR.

>>> import numpy as np
>>> x = np.sin(np.linspace(0, 20, 512))[None]
>>> float(rrmse_temporal(x, 0.5 * x)[0]), float(correlation_coefficient(x, 0.5 * x)[0])
(0.5, 1.0)
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameterError

__all__ = [
    "psd",
    "rrmse_temporal",
    "rrmse_spectral",
    "correlation_coefficient",
    "denoising_report",
]


def _pair(clean, denoised) -> tuple:
    x = np.asarray(clean, dtype=np.float64)
    y = np.asarray(denoised, dtype=np.float64)
    if x.shape != y.shape or x.ndim < 1 or x.shape[-1] < 2:
        raise InvalidParameterError(
            f"clean and denoised must have the same shape (..., n_times >= 2); got {x.shape} "
            f"and {y.shape}"
        )
    return x, y


def _rms(x: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(np.square(x), axis=-1))


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def psd(x, sfreq: float, *, nperseg: int | None = None) -> tuple:
    """Welch PSD with MATLAB ``pwelch`` defaults (see the module docstring).

    Parameters
    ----------
    x : array_like, shape (..., n_times)
    sfreq : float
        Sampling rate in Hz.
    nperseg : int | None
        Segment length in samples; default ``floor(n_times / 4.5)`` (8 half-overlapping
        segments).

    Returns
    -------
    freqs : ndarray, shape (n_freqs,)
        In Hz.
    power : ndarray, shape (..., n_freqs)
        Power spectral density in units**2 / Hz.
    """
    from scipy.signal import welch

    x = np.asarray(x, dtype=np.float64)
    n = x.shape[-1]
    if nperseg is None:
        nperseg = max(int(n // 4.5), 2)
    nperseg = int(nperseg)
    if not 2 <= nperseg <= n:
        raise InvalidParameterError(f"nperseg must be in [2, n_times={n}]; got {nperseg}")
    nfft = max(256, 1 << (nperseg - 1).bit_length())
    return welch(
        x,
        fs=float(sfreq),
        window="hamming",
        nperseg=nperseg,
        noverlap=nperseg // 2,
        nfft=nfft,
        detrend=False,
        axis=-1,
    )


def rrmse_temporal(clean, denoised) -> np.ndarray:
    """Relative RMS error in time, ``RMS(denoised - clean) / RMS(clean)``, shape ``(...)``.

    NaN where the clean window is all zeros.
    """
    x, y = _pair(clean, denoised)
    return _safe_ratio(_rms(y - x), _rms(x))


def rrmse_spectral(clean, denoised, sfreq: float = 256.0, *, nperseg: int | None = None):
    """Relative RMS error between the PSDs of :func:`psd`, over all its bins, shape ``(...)``."""
    x, y = _pair(clean, denoised)
    _, px = psd(x, sfreq, nperseg=nperseg)
    _, py = psd(y, sfreq, nperseg=nperseg)
    return _safe_ratio(_rms(py - px), _rms(px))


def correlation_coefficient(clean, denoised) -> np.ndarray:
    """Pearson correlation per window, shape ``(...)``; NaN where a window is constant."""
    x, y = _pair(clean, denoised)
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    num = np.sum(xc * yc, axis=-1)
    den = np.sqrt(np.sum(xc * xc, axis=-1) * np.sum(yc * yc, axis=-1))
    return _safe_ratio(num, den)


_METRICS = ("rrmse_temporal", "rrmse_spectral", "cc")


def _per_window(clean, other, sfreq, nperseg) -> dict:
    values = {
        "rrmse_temporal": rrmse_temporal(clean, other),
        "rrmse_spectral": rrmse_spectral(clean, other, sfreq, nperseg=nperseg),
        "cc": correlation_coefficient(clean, other),
    }
    # one value per window: average over channels when windows are multichannel
    return {k: v.reshape(v.shape[0], -1).mean(axis=1) for k, v in values.items()}


def denoising_report(
    clean,
    denoised,
    snr_db,
    *,
    sfreq: float = 256.0,
    noisy=None,
    snr_resolution_db: float = 1.0,
    nperseg: int | None = None,
) -> dict:
    """Per-SNR and average RRMSE (time, spectrum) and CC, as tabulated by EEGdenoiseNet.

    Parameters
    ----------
    clean, denoised : array_like, shape (n_windows, n_times) or (n_windows, n_channels, n_times)
        Ground truth and model output (same scaling, e.g. the standardized ``Split.clean``).
    snr_db : array_like, shape (n_windows,)
        SNR each window was mixed at.
    sfreq : float
        Sampling rate in Hz (for the PSD).
    noisy : array_like | None
        The model input; when given, each row also holds ``noisy_<metric>`` (the baseline of
        doing nothing).
    snr_resolution_db : float
        SNRs are grouped into bins of this width (rounded to the nearest multiple), so the
        continuous training SNRs can be reported too.
    nperseg : int | None
        See :func:`psd`.

    Returns
    -------
    dict
        ``{"per_snr": [row, ...], "average": row}``. A row is a dict with ``snr_db``,
        ``n_windows``, ``rrmse_temporal``, ``rrmse_spectral``, ``cc`` (window means, NaN windows
        ignored). ``average`` is the mean of the per-SNR rows (the paper averages over SNRs),
        with ``snr_db`` None and ``n_windows`` the total.
    """
    x, y = _pair(clean, denoised)
    if x.ndim not in (2, 3):
        raise InvalidParameterError(
            f"clean must be (n_windows, n_times) or (n_windows, n_channels, n_times); got {x.shape}"
        )
    snr = np.asarray(snr_db, dtype=np.float64).ravel()
    if snr.shape[0] != x.shape[0]:
        raise InvalidParameterError(
            f"snr_db has {snr.shape[0]} values for {x.shape[0]} windows; give one per window"
        )
    if not snr_resolution_db > 0:
        raise InvalidParameterError(f"snr_resolution_db must be > 0; got {snr_resolution_db}")
    values = _per_window(x, y, sfreq, nperseg)
    if noisy is not None:
        x2, n = _pair(clean, noisy)
        values.update({f"noisy_{k}": v for k, v in _per_window(x2, n, sfreq, nperseg).items()})
    bins = np.round(snr / snr_resolution_db) * snr_resolution_db
    rows = []
    for level in np.unique(bins):
        sel = bins == level
        row = {"snr_db": float(level), "n_windows": int(sel.sum())}
        row.update({k: float(np.nanmean(v[sel])) for k, v in values.items()})
        rows.append(row)
    average = {"snr_db": None, "n_windows": int(x.shape[0])}
    average.update({k: float(np.mean([r[k] for r in rows])) for k in values})
    return {"per_snr": rows, "average": average}
