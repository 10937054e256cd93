"""Fidelity of a set of windows to a real set: spectra, covariance, autocorrelation, MMD, diversity.

These are the signal-level and distributional measures ArtifactGen (arXiv:2509.08188, 2025; code
``ahritik/ArtifactGen``) uses to judge synthetic EEG artifacts, written for any two sets of
windows ``(n_windows, n_times)`` or ``(n_windows, n_channels, n_times)`` (same channels and
``n_times`` in both; the numbers of windows may differ). Choices, and where they come from:

- **Band power** (:func:`band_powers`, :func:`band_power_error`): Welch PSD per window
  (``nperseg = min(256, n_times)``, scipy defaults otherwise, as in the ArtifactGen code), summed
  over channels, integrated (trapezoid) over ``[low, high)`` Hz. By default the power is
  *relative* (divided by the integral over 0 .. Nyquist), as the code computes it; pass
  ``relative=False`` for absolute power. Error per band:
  ``|P_other - P_real| / (P_real + eps)`` (paper). Bands: delta 1-4, theta 4-8, alpha 8-13,
  beta 13-30, gamma 30-45 Hz (the code's gamma; its delta starts at 0.5 Hz). For gamma up to
  Nyquist pass ``bands={..., "gamma": (30, sfreq / 2)}``.
- **Averaging over windows**: the mean of the per-window PSDs (``average="psd"``, the paper's
  "aggregated over windows"). The code instead averages the windows in time and takes the PSD
  of that mean waveform (``average="time"``), which keeps only activity phase-locked across
  windows; it is offered for comparison but is not the default.
- **PSD distance** (:func:`psd_distance`): Frobenius norm of the difference of the mean PSD
  matrices ``(n_channels, n_freqs)``, divided by the real one's norm (``relative=True``, as the
  code normalizes its PSD L2 error).
- **Covariance distance** (:func:`covariance_distance`): Frobenius norm between the mean
  channel-covariance matrices (one ``np.cov`` per window, averaged); for single-channel windows
  it compares variances.
- **Autocorrelation distance** (:func:`acf_distance`): normalized autocorrelation of each
  window and channel for lags 0 .. ``max_lag``, averaged over windows; the L2 norm of the
  difference over lags, root-mean-squared over channels.
- **MMD** (:func:`mmd_rbf`): unbiased estimate of MMD^2 (paper's formula) with the Gaussian
  kernel ``exp(-||a - b||^2 / (2 sigma^2))``, ``sigma`` the median pairwise distance of the
  pooled sets (median heuristic), on flattened windows (or log-PSD features). Near 0 (and
  possibly slightly negative) for sets from one distribution.
- **Diversity** (:func:`diversity`): ``1 - mean pairwise Pearson correlation`` between windows of
  one set (paper's "diversity proxy"), or the mean pairwise Euclidean distance
  (``metric="euclidean"``). :func:`fidelity_report` also gives ``diversity_ratio`` =
  diversity(other) / diversity(real): below 1, the other set is less varied (mode collapse).

All is numpy/scipy, written here because neither MNE nor scikit-learn has these set-to-set
comparisons in this form.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> real = rng.standard_normal((20, 256))
>>> report = fidelity_report(real, real, sfreq=128.0)
>>> report["band_power_error"]["alpha"], report["covariance_distance"]
(0.0, 0.0)
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameterError

__all__ = [
    "DEFAULT_BANDS",
    "band_powers",
    "band_power_error",
    "psd_distance",
    "covariance_distance",
    "autocorrelation",
    "acf_distance",
    "mmd_rbf",
    "median_bandwidth",
    "diversity",
    "fidelity_report",
]

DEFAULT_BANDS = {
    "delta": (1.0, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 13.0),
    "beta": (13.0, 30.0),
    "gamma": (30.0, 45.0),
}
_EPS = 1e-12


def _windows(x, name: str = "x") -> np.ndarray:
    """(n, t) -> (n, 1, t); (n, c, t) kept; float64."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, None, :]
    if x.ndim != 3 or x.shape[0] < 1 or x.shape[-1] < 2:
        raise InvalidParameterError(
            f"{name} must be (n_windows, n_times) or (n_windows, n_channels, n_times) with at "
            f"least one window of >= 2 samples; got shape {np.shape(x)}"
        )
    if not np.all(np.isfinite(x)):
        raise InvalidParameterError(f"{name} contains NaN or infinite samples")
    return x


def _two(real, other) -> tuple:
    r, o = _windows(real, "real"), _windows(other, "other")
    if r.shape[1:] != o.shape[1:]:
        raise InvalidParameterError(
            f"real and other windows must share (n_channels, n_times); got {r.shape[1:]} and "
            f"{o.shape[1:]}"
        )
    return r, o


def _mean_psd(x: np.ndarray, sfreq: float, average: str) -> tuple:
    """Mean Welch PSD ``(c, f)`` of windows ``(n, c, t)``."""
    from scipy.signal import welch

    if average not in ("psd", "time"):
        raise InvalidParameterError(f"average must be 'psd' or 'time'; got {average!r}")
    if average == "time":
        x = x.mean(axis=0, keepdims=True)
    freqs, p = welch(x, fs=float(sfreq), nperseg=min(256, x.shape[-1]), axis=-1)
    return freqs, p.mean(axis=0)


def band_powers(
    x, sfreq: float, *, bands=None, relative: bool = True, average: str = "psd"
) -> dict:
    """Band power of a set of windows (channels summed).

    Parameters
    ----------
    x : array_like, shape (n_windows, n_times) or (n_windows, n_channels, n_times)
    sfreq : float
        Sampling rate in Hz.
    bands : dict of name -> (low, high) Hz | None
        Default :data:`DEFAULT_BANDS`.
    relative : bool
        Divide by the total power over 0 .. sfreq / 2.
    average : {"psd", "time"}
        Mean of per-window PSDs, or PSD of the mean window (see the module docstring).

    Returns
    -------
    dict
        Band name -> power (fraction of total, or units**2).
    """
    bands = DEFAULT_BANDS if bands is None else dict(bands)
    freqs, p = _mean_psd(_windows(x), sfreq, average)
    p = p.sum(axis=0)
    total = float(np.trapezoid(p, freqs)) if relative else 1.0
    out = {}
    for name, (lo, hi) in bands.items():
        if not 0 <= lo < hi:
            raise InvalidParameterError(f"band {name!r} must be (low, high) Hz with low < high")
        sel = (freqs >= lo) & (freqs < hi)
        power = float(np.trapezoid(p[sel], freqs[sel])) if sel.sum() > 1 else float(p[sel].sum())
        out[name] = power / (total + _EPS)
    return out


def band_power_error(
    real, other, sfreq: float, *, bands=None, relative: bool = True, average: str = "psd"
) -> dict:
    """Relative error of band power, ``|P_other - P_real| / (P_real + eps)`` per band."""
    r, o = _two(real, other)
    pr = band_powers(r, sfreq, bands=bands, relative=relative, average=average)
    po = band_powers(o, sfreq, bands=bands, relative=relative, average=average)
    return {b: abs(po[b] - pr[b]) / (pr[b] + _EPS) for b in pr}


def psd_distance(real, other, sfreq: float, *, relative: bool = True, average: str = "psd"):
    """Frobenius distance between mean PSD matrices ``(n_channels, n_freqs)``."""
    r, o = _two(real, other)
    _, pr = _mean_psd(r, sfreq, average)
    _, po = _mean_psd(o, sfreq, average)
    dist = float(np.linalg.norm(pr - po))
    return dist / (float(np.linalg.norm(pr)) + _EPS) if relative else dist


def _mean_cov(x: np.ndarray) -> np.ndarray:
    xc = x - x.mean(axis=-1, keepdims=True)
    cov = np.einsum("nct,ndt->ncd", xc, xc) / (x.shape[-1] - 1)
    return cov.mean(axis=0)


def covariance_distance(real, other, *, relative: bool = False) -> float:
    """Frobenius distance between mean channel-covariance matrices (units**2, or relative to
    the real one's norm)."""
    r, o = _two(real, other)
    cr, co = _mean_cov(r), _mean_cov(o)
    dist = float(np.linalg.norm(cr - co))
    return dist / (float(np.linalg.norm(cr)) + _EPS) if relative else dist


def autocorrelation(x, max_lag: int | None = None) -> np.ndarray:
    """Mean normalized autocorrelation, shape ``(n_channels, max_lag + 1)``; lag 0 is 1.

    Each window and channel is demeaned; ``r(k) = sum_t x_t x_{t+k} / sum_t x_t^2`` (biased
    estimator, via FFT); constant windows count as zero beyond lag 0. Default ``max_lag`` is
    ``n_times // 4``.
    """
    x = _windows(x)
    n = x.shape[-1]
    max_lag = n // 4 if max_lag is None else int(max_lag)
    if not 0 <= max_lag < n:
        raise InvalidParameterError(f"max_lag must be in [0, n_times - 1 = {n - 1}]; got {max_lag}")
    xc = x - x.mean(axis=-1, keepdims=True)
    nfft = 1 << (2 * n - 1).bit_length()
    spec = np.fft.rfft(xc, nfft, axis=-1)
    acov = np.fft.irfft(spec * np.conj(spec), nfft, axis=-1)[..., : max_lag + 1]
    zero = acov[..., :1]
    acf = np.where(zero > _EPS, acov / np.where(zero > _EPS, zero, 1.0), 0.0)
    acf[..., 0] = 1.0
    return acf.mean(axis=0)


def acf_distance(real, other, *, max_lag: int | None = None) -> float:
    """L2 distance between mean autocorrelations over lags, RMS over channels."""
    r, o = _two(real, other)
    diff = autocorrelation(r, max_lag) - autocorrelation(o, max_lag)
    return float(np.sqrt(np.mean(np.sum(diff**2, axis=-1))))


def _sqdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def _features(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2 or x.shape[0] < 2:
        raise InvalidParameterError(f"{name} must hold at least 2 windows; got shape {x.shape}")
    return x.reshape(x.shape[0], -1)


def median_bandwidth(x, y) -> float:
    """Median heuristic: median Euclidean distance between distinct points of the pooled sets."""
    z = np.concatenate([_features(x, "x"), _features(y, "y")])
    d = _sqdist(z, z)[np.triu_indices(len(z), k=1)]
    d = d[d > 0]
    return float(np.sqrt(np.median(d))) if d.size else 1.0


def mmd_rbf(x, y, *, bandwidth: float | None = None) -> float:
    """Unbiased MMD^2 between two sets with a Gaussian kernel.

    Parameters
    ----------
    x, y : array_like, shape (n, ...) and (m, ...)
        Sets of windows or feature vectors (flattened past the first axis); n, m >= 2.
    bandwidth : float | None
        Kernel width ``sigma``; default :func:`median_bandwidth`.

    Returns
    -------
    float
        ``mean_{i != j} k(x_i, x_j) + mean_{i != j} k(y_i, y_j) - 2 mean k(x_i, y_j)``.
    """
    a, b = _features(x, "x"), _features(y, "y")
    if a.shape[1] != b.shape[1]:
        raise InvalidParameterError(f"x and y windows differ in size: {a.shape} vs {b.shape}")
    sigma = median_bandwidth(a, b) if bandwidth is None else float(bandwidth)
    if not sigma > 0:
        raise InvalidParameterError(f"bandwidth must be > 0; got {bandwidth}")
    gamma = 1.0 / (2.0 * sigma**2)
    kxx = np.exp(-gamma * _sqdist(a, a))
    kyy = np.exp(-gamma * _sqdist(b, b))
    kxy = np.exp(-gamma * _sqdist(a, b))
    n, m = len(a), len(b)
    sxx = (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(sxx + syy - 2.0 * kxy.mean())


def diversity(x, *, metric: str = "correlation") -> float:
    """Within-set diversity of windows (flattened over channels and time).

    ``metric="correlation"``: ``1 - mean Pearson correlation`` over distinct pairs (0 for
    identical windows, about 1 for unrelated ones); ``"euclidean"``: mean pairwise distance.
    """
    z = _features(x, "x")
    iu = np.triu_indices(len(z), k=1)
    if metric == "correlation":
        zc = z - z.mean(axis=1, keepdims=True)
        norm = np.linalg.norm(zc, axis=1)
        zc = zc / np.where(norm > 0, norm, 1.0)[:, None]
        return float(1.0 - (zc @ zc.T)[iu].mean())
    if metric == "euclidean":
        return float(np.sqrt(_sqdist(z, z)[iu]).mean())
    raise InvalidParameterError(f"metric must be 'correlation' or 'euclidean'; got {metric!r}")


def _subsample(x: np.ndarray, k: int | None, rng) -> np.ndarray:
    if k is None or len(x) <= k:
        return x
    return x[np.sort(rng.choice(len(x), size=k, replace=False))]


def fidelity_report(
    real,
    other,
    sfreq: float,
    *,
    bands=None,
    relative_band_power: bool = True,
    average: str = "psd",
    max_lag_s: float = 0.25,
    mmd_features: str = "raw",
    diversity_metric: str = "correlation",
    max_windows: int | None = 1000,
    seed=0,
) -> dict:
    """All fidelity measures of ``other`` against ``real`` in one dict.

    Parameters
    ----------
    real, other : array_like, shape (n, n_times) or (n, n_channels, n_times)
    sfreq : float
        Sampling rate in Hz.
    bands, relative_band_power, average
        See :func:`band_power_error`.
    max_lag_s : float
        Largest autocorrelation lag in seconds.
    mmd_features : {"raw", "log_psd"}
        MMD on the flattened windows, or on per-window log Welch PSDs (phase-invariant).
    diversity_metric : {"correlation", "euclidean"}
        See :func:`diversity`.
    max_windows : int | None
        MMD and diversity use at most this many windows per set (random, from ``seed``); they
        cost O(n^2).
    seed : int
        For that subsampling.

    Returns
    -------
    dict
        ``band_power_error`` (dict per band), ``band_power_error_mean``, ``psd_distance``,
        ``covariance_distance`` (relative to the real covariance), ``acf_distance``, ``mmd``,
        ``mmd_bandwidth``, ``diversity_real``, ``diversity_other``, ``diversity_ratio``,
        ``n_real``, ``n_other``.
    """
    from scipy.signal import welch

    r, o = _two(real, other)
    if mmd_features not in ("raw", "log_psd"):
        raise InvalidParameterError(
            f"mmd_features must be 'raw' or 'log_psd'; got {mmd_features!r}"
        )
    bpe = band_power_error(r, o, sfreq, bands=bands, relative=relative_band_power, average=average)
    max_lag = min(int(round(max_lag_s * sfreq)), r.shape[-1] - 1)
    rng = np.random.default_rng(seed)
    rs, os_ = _subsample(r, max_windows, rng), _subsample(o, max_windows, rng)
    if mmd_features == "log_psd":
        nper = min(256, r.shape[-1])
        fr, fo = (np.log(welch(z, fs=sfreq, nperseg=nper, axis=-1)[1] + _EPS) for z in (rs, os_))
    else:
        fr, fo = rs, os_
    bandwidth = median_bandwidth(fr, fo)
    div_r = diversity(rs, metric=diversity_metric)
    div_o = diversity(os_, metric=diversity_metric)
    return {
        "band_power_error": bpe,
        "band_power_error_mean": float(np.mean(list(bpe.values()))),
        "psd_distance": psd_distance(r, o, sfreq, average=average),
        "covariance_distance": covariance_distance(r, o, relative=True),
        "acf_distance": acf_distance(r, o, max_lag=max_lag),
        "mmd": mmd_rbf(fr, fo, bandwidth=bandwidth),
        "mmd_bandwidth": bandwidth,
        "diversity_real": div_r,
        "diversity_other": div_o,
        "diversity_ratio": div_o / div_r if div_r > 0 else float("nan"),
        "n_real": int(len(r)),
        "n_other": int(len(o)),
    }
