"""One-pass spectral resampling, band-pass and notch filtering.

``resample`` + ``bandpass`` + ``notch`` done one after the other cost three passes over the data
(an FFT resampling, then two overlap-add FIR convolutions). All three are linear and
time-invariant, so they can be applied as one product in the frequency domain: per channel, pad
the signal, take one real FFT, multiply by the zero-phase responses of the very FIR filters MNE
designs (``mne.filter.create_filter``, including MNE's notch band-stops), keep the bins of the
output rate (FFT resampling, like ``raw.resample(method="fft")``), and take one inverse FFT.

Away from the edges the result equals MNE's resample-then-filter chain up to rounding (the test
suite compares them); within about one filter length of each end it differs slightly because
the edge padding is applied once instead of once per stage. MNE has no fused path, hence this
module.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy import fft as sfft

__all__ = ["design_kernels", "spectral_resample_filter"]


def design_kernels(
    sfreq: float,
    l_freq=None,
    h_freq=None,
    notch_freqs=None,
    notch_widths=None,
    trans_bandwidth: float = 1.0,
) -> list:
    """The zero-phase FIR kernels MNE would use at ``sfreq`` for this band-pass and notch
    (cached: a corpus build designs them once per process)."""
    key = (
        float(sfreq),
        l_freq,
        h_freq,
        tuple(np.atleast_1d(notch_freqs).tolist()) if notch_freqs else None,
        None if notch_widths is None else tuple(np.atleast_1d(notch_widths).tolist()),
        float(trans_bandwidth),
    )
    if key not in _KERNELS:
        _KERNELS[key] = _design(sfreq, l_freq, h_freq, notch_freqs, notch_widths, trans_bandwidth)
    return _KERNELS[key]


_KERNELS: dict = {}
_RESPONSES: dict = {}


def _design(sfreq, l_freq, h_freq, notch_freqs, notch_widths, trans_bandwidth) -> list:
    import mne

    kernels = []
    if l_freq is not None or h_freq is not None:
        kernels.append(
            mne.filter.create_filter(
                None,
                sfreq,
                l_freq,
                h_freq,
                method="fir",
                phase="zero",
                fir_design="firwin",
                verbose="error",
            )
        )
    if notch_freqs:
        freqs = np.atleast_1d(np.asarray(notch_freqs, dtype=float))
        widths = (
            freqs / 200.0
            if notch_widths is None
            else np.broadcast_to(np.asarray(notch_widths, dtype=float), freqs.shape)
        )
        tb2 = trans_bandwidth / 2.0
        lows = list(freqs - widths / 2.0 - tb2)
        highs = list(freqs + widths / 2.0 + tb2)
        kernels.append(
            mne.filter.create_filter(
                None,
                sfreq,
                highs,
                lows,
                l_trans_bandwidth=tb2,
                h_trans_bandwidth=tb2,
                method="fir",
                phase="zero",
                fir_design="firwin",
                verbose="error",
            )
        )
    return kernels


def _response(kernels, n_fft: int) -> np.ndarray:
    """Real zero-phase frequency response of the cascade on an ``n_fft`` grid (cached)."""
    key = (tuple(id(h) for h in kernels), n_fft)
    if key in _RESPONSES:
        return _RESPONSES[key][1]
    out = np.ones(n_fft // 2 + 1)
    for h in kernels:
        c = (len(h) - 1) // 2
        circ = np.zeros(n_fft)
        circ[: len(h) - c] = h[c:]
        if c:
            circ[-c:] = h[:c]
        out *= sfft.rfft(circ).real
    if len(_RESPONSES) > 64:
        _RESPONSES.clear()
    _RESPONSES[key] = (list(kernels), out)  # the kernels are kept alive so ids stay unique
    return out


def _pad(x: np.ndarray, n: int) -> np.ndarray:
    """Odd reflection about the end samples (MNE's ``reflect_limited``), zeros beyond."""
    n_refl = min(n, x.shape[1] - 1)
    left = 2 * x[:, :1] - x[:, n_refl:0:-1]
    right = 2 * x[:, -1:] - x[:, -2 : -n_refl - 2 : -1]
    zeros = np.zeros((x.shape[0], n - n_refl))
    return np.concatenate([zeros, left, x, right, zeros], axis=1)


def spectral_resample_filter(
    x: np.ndarray, sfreq: float, new_sfreq: float, kernels, chunk: int = 16
) -> np.ndarray:
    """Apply ``kernels`` (designed at ``new_sfreq``) and resample ``x`` (c, t) to ``new_sfreq``.

    Returns (c, round(t * new_sfreq / sfreq)) float64.
    """
    ratio = Fraction(new_sfreq / sfreq).limit_denominator(10000)
    if abs(float(ratio) - new_sfreq / sfreq) > 1e-9:
        raise ValueError(f"sfreq ratio {new_sfreq}/{sfreq} is not a simple fraction")
    n_in = x.shape[1]
    n_out = int(round(n_in * float(ratio)))
    taps = max((len(h) for h in kernels), default=1)
    # one kernel length of padding (in input samples) keeps circular wrap-around off the data
    edge = int(np.ceil(sum(len(h) for h in kernels) / float(ratio))) + 1
    edge += -edge % ratio.denominator  # so that the padding is a whole number of output samples
    n_fft_in = sfft.next_fast_len(n_in + 2 * edge + int(np.ceil(taps / float(ratio))))
    n_fft_in += -n_fft_in % ratio.denominator
    n_fft_out = n_fft_in * ratio.numerator // ratio.denominator
    response = _response(kernels, n_fft_out)
    keep = min(n_fft_in, n_fft_out) // 2 + 1
    start = edge * ratio.numerator // ratio.denominator
    out = np.empty((x.shape[0], n_out))
    for a in range(0, x.shape[0], chunk):
        spec = sfft.rfft(_pad(x[a : a + chunk], edge), n_fft_in, axis=1)
        new = np.zeros((spec.shape[0], n_fft_out // 2 + 1), dtype=complex)
        new[:, :keep] = spec[:, :keep] * response[:keep]
        if n_fft_out < n_fft_in and n_fft_out % 2 == 0:
            new[:, -1] = new[:, -1].real  # the new Nyquist bin of a real signal is real
        y = sfft.irfft(new, n_fft_out, axis=1) * (n_fft_out / n_fft_in)
        out[a : a + chunk] = y[:, start : start + n_out]
    return out
