"""Filter banks for SSVEP decoding, designed with :mod:`scipy.signal`.

Every SSVEP method with a filter bank (FBCCA, FB-TRCA, the Guney et al. network) splits the
signal into sub-bands whose lower edge climbs with the harmonic index and whose upper edge is
fixed; the sub-band results are then combined with weights ``w_m = m ** -a + b``
(Chen et al., J. Neural Eng. 2015, ``a = 1.25, b = 0.25``). Filters are second-order sections,
applied forward and backward (zero phase) along the last axis.

Designs are cached per sampling rate and band (a fold of a cross-validation builds the same
bank again), and so are the initial conditions of the zero-phase pass. :func:`sosfiltfilt` is
scipy's :func:`scipy.signal.sosfiltfilt` step by step (odd extension, steady-state initial
conditions scaled by the first sample, forward pass, backward pass) with those initial
conditions computed once per design. Many signals at once (a batch of trials) go through
:func:`_block_sosfilt` instead of scipy's sample-by-sample loop: the cascade is written in
state-space form and run over blocks of samples with matrix products (a block's output is a
Toeplitz product of its input plus the response to the state it starts from; the state
carries from block to block), which is exact in exact arithmetic and agrees with scipy to
rounding (about 1e-13 relative). The block matrices are read off scipy's own ``sosfilt``
(impulses and unit states through the cascade), so both share one state convention.

For a fixed window length the whole zero-phase filter (edge extension, both passes, crop) is
a linear map of the window: :meth:`FilterBank.operators` gives it as an ``(n, n)`` matrix per
sub-band (scipy's ``sosfiltfilt`` of the identity, cached), so that a batch of windows is
filtered by one matrix product, and a linear map along the other axes (a spatial filter, a
class mean) can be applied before filtering instead of after.

>>> import numpy as np
>>> bank = FilterBank.chen2015(sfreq=256.0, n_bands=3)
>>> bank.apply(np.random.default_rng(0).standard_normal((2, 8, 512))).shape
(3, 2, 8, 512)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import signal

from ..errors import InvalidParameterError

__all__ = ["FilterBank", "filter_bank_weights", "filter_operator", "sosfiltfilt"]


def filter_bank_weights(n_bands: int, a: float = 1.25, b: float = 0.25) -> np.ndarray:
    """Sub-band weights ``m ** -a + b`` for ``m = 1..n_bands`` (Chen et al. 2015)."""
    if int(n_bands) < 1:
        raise InvalidParameterError(f"n_bands must be a positive integer, got {n_bands!r}")
    m = np.arange(1, int(n_bands) + 1, dtype=float)
    return m ** (-float(a)) + float(b)


def _default_padlen(sos: np.ndarray) -> int:
    """The edge padding :func:`scipy.signal.sosfiltfilt` uses by default."""
    n_zeros = min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    return 3 * (2 * len(sos) + 1 - n_zeros)


@lru_cache(maxsize=256)
def _design(sfreq: float, wp: tuple, ws: tuple | None, order: int, ripple_db: float):
    """Chebyshev type I band-pass sections and their steady-state initial conditions (cached).

    Returns ``sos`` (n_sections, 6) and ``zi`` (n_sections, 2), shared by every bank of that
    design: treat them as read-only.
    """
    nyq = sfreq / 2.0
    if ws is not None:
        order, _ = signal.cheb1ord([w / nyq for w in wp], [w / nyq for w in ws], 3, 40)
    sos = signal.cheby1(order, ripple_db, wp, btype="bandpass", fs=sfreq, output="sos")
    return sos, signal.sosfilt_zi(sos)


_ZI = {}


def _initial_conditions(sos: np.ndarray) -> np.ndarray:
    """``scipy.signal.sosfilt_zi(sos)``, memoised on the coefficients."""
    key = sos.tobytes()
    zi = _ZI.get(key)
    if zi is None:
        if len(_ZI) > 256:
            _ZI.clear()
        zi = _ZI[key] = signal.sosfilt_zi(sos)
    return zi


_BLOCK = 64  # samples per block of the state-space filter
_MIN_SIGNALS = 24  # fewer signals, or fewer sections: scipy's loop is as fast
_MIN_SECTIONS = 4
_BLOCKS = {}


def _block_matrices(sos: np.ndarray, L: int):
    """``(T, Cb, Ob, AL)`` of the cascade ``sos`` for blocks of ``L`` samples (memoised).

    For a block ``x`` (length ``L``) entered in state ``z`` (length ``p = 2 n_sections``):
    output ``x @ T.T + z @ Ob.T``, next state ``x @ Cb + z @ AL.T``.
    """
    key = (sos.tobytes(), L)
    mats = _BLOCKS.get(key)
    if mats is None:
        ns = sos.shape[0]
        p = 2 * ns
        # impulses at every sample, zero state: columns of T and rows of Cb
        y, zf = signal.sosfilt(sos, np.eye(L), axis=-1, zi=np.zeros((ns, L, 2)))
        T, Cb = y.T, zf.transpose(1, 0, 2).reshape(L, p)
        # zero input from every unit state: columns of Ob and of A^L
        z0 = np.eye(p).reshape(p, ns, 2).transpose(1, 0, 2)
        y, zf = signal.sosfilt(sos, np.zeros((p, L)), axis=-1, zi=np.ascontiguousarray(z0))
        Ob, AL = y.T, zf.transpose(1, 0, 2).reshape(p, p).T
        if len(_BLOCKS) > 64:
            _BLOCKS.clear()
        mats = _BLOCKS[key] = (np.ascontiguousarray(T), Cb, np.ascontiguousarray(Ob), AL)
    return mats


def _block_pass(sos: np.ndarray, xb: np.ndarray, z0: np.ndarray) -> np.ndarray:
    """One causal pass of ``sos`` over ``xb (S, nb * L)`` (zero-padded to whole blocks) from
    states ``z0 (S, p)``; returns the output, same shape."""
    T, Cb, Ob, AL = _block_matrices(sos, _BLOCK)
    L, p = Cb.shape
    S, n_pad = xb.shape
    nb = n_pad // L
    flat = xb.reshape(S * nb, L)
    U = (flat @ Cb).reshape(S, nb, p)  # state gained from each block's input
    Z = np.empty((nb, S, p))
    Z[0] = z0
    ALT = AL.T
    for j in range(1, nb):
        np.matmul(Z[j - 1], ALT, out=Z[j])
        Z[j] += U[:, j - 1]
    y = flat @ T.T
    y += np.ascontiguousarray(Z.transpose(1, 0, 2)).reshape(S * nb, p) @ Ob.T
    return y.reshape(S, n_pad)


def _block_filtfilt(sos: np.ndarray, x: np.ndarray, pad: int, zi: np.ndarray) -> np.ndarray:
    """scipy's ``sosfiltfilt`` steps for ``x (S, n)`` with both passes by :func:`_block_pass`."""
    S, n = x.shape
    N = n + 2 * pad
    n_pad = -(-N // _BLOCK) * _BLOCK
    zi = zi.reshape(-1)
    ext = np.zeros((S, n_pad))
    ext[:, pad : pad + n] = x
    if pad > 0:
        ext[:, :pad] = 2 * x[:, :1] - x[:, pad:0:-1]
        ext[:, pad + n : N] = 2 * x[:, -1:] - x[:, -2 : -pad - 2 : -1]
    y = _block_pass(sos, ext, zi * ext[:, :1])
    back = np.zeros((S, n_pad))
    back[:, :N] = y[:, N - 1 :: -1] if N < n_pad else y[:, ::-1]
    y = _block_pass(sos, back, zi * back[:, :1])
    return y[:, :N][:, ::-1][:, pad : N - pad]


def sosfiltfilt(sos, x, axis: int = -1, padlen: int | None = None, zi=None) -> np.ndarray:
    """Zero-phase filtering, as :func:`scipy.signal.sosfiltfilt` (odd edge extension).

    Parameters
    ----------
    sos : ndarray, shape (n_sections, 6)
    x : ndarray
    axis : int
        Time axis.
    padlen : int | None
        Edge extension in samples; ``None``: scipy's default ``3 * (2 * n_sections + 1 -
        n_zeros)``, capped at ``x.shape[axis] - 1`` so that short windows can be filtered.
    zi : ndarray, shape (n_sections, 2) | None
        ``scipy.signal.sosfilt_zi(sos)``; computed (and memoised) when not given.
    """
    sos = np.asarray(sos, dtype=float)
    x = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    n = x.shape[-1]
    pad = _default_padlen(sos) if padlen is None else int(padlen)
    pad = min(pad, n - 1)
    zi = _initial_conditions(sos) if zi is None else zi
    lead = x.shape[:-1]
    if int(np.prod(lead)) >= _MIN_SIGNALS and len(sos) >= _MIN_SECTIONS:
        y = _block_filtfilt(sos, x.reshape(-1, n), pad, zi).reshape(x.shape)
        return np.moveaxis(y, -1, axis)
    if pad > 0:
        ext = np.concatenate(
            [2 * x[..., :1] - x[..., pad:0:-1], x, 2 * x[..., -1:] - x[..., -2 : -pad - 2 : -1]],
            axis=-1,
        )
    else:
        ext = x
    zi = zi.reshape((zi.shape[0],) + (1,) * (x.ndim - 1) + (2,))
    y, _ = signal.sosfilt(sos, ext, axis=-1, zi=zi * ext[..., :1])
    y, _ = signal.sosfilt(sos, y[..., ::-1], axis=-1, zi=zi * y[..., -1:])
    y = y[..., ::-1]
    if pad > 0:
        y = y[..., pad:-pad]
    return np.moveaxis(y, -1, axis)


_OPERATORS = {}
_OPERATOR_CACHE_BYTES = 64 * 2**20


def filter_operator(sos, n_times: int, padlen: int | None = None, *, center: bool = False):
    """The zero-phase filter of windows of ``n_times`` samples as a matrix (memoised).

    Returns ``M`` (n_times, n_times) with ``x @ M == scipy.signal.sosfiltfilt(sos, x,
    padlen=min(padlen, n_times - 1))`` for any row signal ``x``, to rounding; with
    ``center=True`` the temporal mean of the output is removed as well. ``M`` is shared by
    every caller: treat it as read-only.
    """
    sos = np.asarray(sos, dtype=float)
    n = int(n_times)
    pad = _default_padlen(sos) if padlen is None else int(padlen)
    pad = min(pad, n - 1)
    key = (sos.tobytes(), n, pad, bool(center))
    M = _OPERATORS.get(key)
    if M is None:
        # row i: the filtered unit impulse at sample i, i.e. column i of the filter matrix
        M = signal.sosfiltfilt(sos, np.eye(n), axis=-1, padlen=pad)
        if center:
            M -= M.mean(axis=1, keepdims=True)
        M = np.ascontiguousarray(M)
        M.setflags(write=False)
        size = sum(m.nbytes for m in _OPERATORS.values())
        if size + M.nbytes > _OPERATOR_CACHE_BYTES:
            _OPERATORS.clear()
        _OPERATORS[key] = M
    return M


def _check_band(band, nyquist: float, what: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in band)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"{what} must be a (low, high) pair in Hz, got {band!r}"
        ) from None
    if not 0.0 < low < high < nyquist:
        raise InvalidParameterError(
            f"{what} {band!r} Hz must satisfy 0 < low < high < Nyquist ({nyquist:g} Hz); "
            "lower the upper edge or raise the sampling rate"
        )
    return low, high


@dataclass
class FilterBank:
    """Band-pass sub-band filters as second-order sections.

    Parameters
    ----------
    sfreq : float
        Sampling rate in Hz.
    passbands : list of (low, high)
        Pass bands in Hz, one per sub-band.
    stopbands : list of (low, high) | None
        Stop bands for an order chosen by :func:`scipy.signal.cheb1ord` (``gpass`` 3 dB,
        ``gstop`` 40 dB, Chen et al. 2015). ``None``: use ``order`` directly.
    order : int
        Chebyshev type I order when ``stopbands`` is None.
    ripple_db : float
        Pass-band ripple in dB of the Chebyshev type I design.
    """

    sfreq: float
    passbands: list
    stopbands: list | None = None
    order: int = 4
    ripple_db: float = 0.5
    sos: list = field(init=False, repr=False)

    def __post_init__(self):
        self.sfreq = float(self.sfreq)
        if not self.sfreq > 0:
            raise InvalidParameterError(f"sfreq must be positive, got {self.sfreq!r}")
        nyq = self.sfreq / 2.0
        if not self.passbands:
            raise InvalidParameterError("passbands is empty; give at least one (low, high) pair")
        if self.stopbands is not None and len(self.stopbands) != len(self.passbands):
            raise InvalidParameterError(
                f"stopbands has {len(self.stopbands)} entries but passbands has "
                f"{len(self.passbands)}; give one stop band per pass band"
            )
        self.sos, self._zi, self._padlen = [], [], []
        for i, band in enumerate(self.passbands):
            wp = _check_band(band, nyq, f"passbands[{i}]")
            ws = None
            if self.stopbands is not None:
                ws = _check_band(self.stopbands[i], nyq, f"stopbands[{i}]")
            sos, zi = _design(self.sfreq, wp, ws, int(self.order), float(self.ripple_db))
            self.sos.append(sos)
            self._zi.append(zi)
            self._padlen.append(_default_padlen(sos))

    @classmethod
    def chen2015(cls, sfreq: float, n_bands: int = 5, *, high: float = 88.0, width: float = 8.0):
        """The FBCCA bank of Chen et al. (2015): pass ``[m * width, high]``, stop
        ``[m * width - 2, high + 10]`` Hz, capped below Nyquist."""
        nyq = float(sfreq) / 2.0
        high = min(high, 0.9 * nyq)
        stop_high = min(high + 10.0, 0.98 * nyq)
        passbands = [(m * width, high) for m in range(1, int(n_bands) + 1)]
        stopbands = [(m * width - 2.0, stop_high) for m in range(1, int(n_bands) + 1)]
        return cls(sfreq, passbands, stopbands, ripple_db=0.5)

    @classmethod
    def guney2022(
        cls,
        sfreq: float,
        n_bands: int = 3,
        *,
        high: float = 90.0,
        width: float = 8.0,
        order: int = 1,
        ripple_db: float = 1.0,
    ):
        """The sub-bands of the Guney et al. (2022) SSVEP network: pass ``[m * width, high]``
        Hz for ``m = 1..n_bands``, Chebyshev type I with 1 dB ripple, ``high`` capped below
        Nyquist.

        ``order`` is scipy's prototype order: the reference designs each band with MATLAB's
        ``designfilt('bandpassiir', 'FilterOrder', 2, ...)``, whose order counts the whole
        band-pass filter (one second-order section), which is ``order=1`` here.
        """
        if isinstance(n_bands, bool) or not isinstance(n_bands, (int, np.integer)) or n_bands < 1:
            raise InvalidParameterError(f"n_bands must be a positive integer, got {n_bands!r}")
        high = min(float(high), 0.9 * float(sfreq) / 2.0)
        passbands = [(m * width, high) for m in range(1, int(n_bands) + 1)]
        return cls(sfreq, passbands, order=order, ripple_db=ripple_db)

    def __len__(self) -> int:
        return len(self.sos)

    def apply(self, X, axis: int = -1) -> np.ndarray:
        """Zero-phase filter ``X`` through every sub-band; returns ``[n_bands, *X.shape]``."""
        X = np.asarray(X, dtype=float)
        # scipy's default edge padding (3 x filter length) can exceed a short window (0.2 s
        # at 250 Hz): sosfiltfilt pads by at most the window length minus one sample then
        out = np.empty((len(self.sos),) + X.shape)
        for b, (sos, zi, pad) in enumerate(zip(self.sos, self._zi, self._padlen)):
            out[b] = sosfiltfilt(sos, X, axis=axis, padlen=pad, zi=zi)
        return out

    def operators(self, n_times: int, *, center: bool = False) -> list:
        """Every sub-band's zero-phase filter of ``n_times``-sample windows as a matrix.

        Returns one read-only ``(n_times, n_times)`` array per sub-band, ``M_b`` with
        ``X @ M_b`` equal to ``apply(X)[b]`` (time on the last axis) to rounding;
        ``center=True`` also removes each output's temporal mean. See
        :func:`filter_operator`.
        """
        return [
            filter_operator(sos, n_times, pad, center=center)
            for sos, pad in zip(self.sos, self._padlen)
        ]
