"""Filter banks for SSVEP decoding, designed with :mod:`scipy.signal`.

Every SSVEP method with a filter bank (FBCCA, FB-TRCA, the Guney et al. network) splits the
signal into sub-bands whose lower edge climbs with the harmonic index and whose upper edge is
fixed; the sub-band results are then combined with weights ``w_m = m ** -a + b``
(Chen et al., J. Neural Eng. 2015, ``a = 1.25, b = 0.25``). Filters are second-order sections,
applied forward and backward (zero phase) along the last axis.

>>> import numpy as np
>>> bank = FilterBank.chen2015(sfreq=256.0, n_bands=3)
>>> bank.apply(np.random.default_rng(0).standard_normal((2, 8, 512))).shape
(3, 2, 8, 512)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import signal

from ..errors import InvalidParameterError

__all__ = ["FilterBank", "filter_bank_weights"]


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
        self.sos = []
        for i, band in enumerate(self.passbands):
            wp = _check_band(band, nyq, f"passbands[{i}]")
            if self.stopbands is None:
                order = int(self.order)
            else:
                ws = _check_band(self.stopbands[i], nyq, f"stopbands[{i}]")
                order, _ = signal.cheb1ord([w / nyq for w in wp], [w / nyq for w in ws], 3, 40)
            self.sos.append(
                signal.cheby1(
                    order, self.ripple_db, wp, btype="bandpass", fs=self.sfreq, output="sos"
                )
            )

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
        n = X.shape[axis]
        # scipy's default edge padding (3 x filter length) can exceed a short window (0.2 s
        # at 250 Hz): pad by at most the window length minus one sample then
        return np.stack(
            [
                signal.sosfiltfilt(sos, X, axis=axis, padlen=min(_default_padlen(sos), n - 1))
                for sos in self.sos
            ]
        )
