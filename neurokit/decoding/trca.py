"""Template-matching SSVEP classifiers with learnt spatial filters: TRCA, ensemble TRCA, TDCA.

Spatial filters come from generalised eigenproblems on batched covariances (one small problem
per class and sub-band); test trials are filtered and correlated with the filtered class
templates for all trials and classes in a few matrix products. With a filter bank, the
sub-band filters of a window are matrices (:meth:`FilterBank.operators`): training trials go
through them in one product per band, and test trials are projected on the spatial filters
first, so that only the few projected components are filtered.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> t = np.arange(256) / 256.0
>>> waves = np.stack([np.sin(2 * np.pi * f * t) for f in (10.0, 12.0)])
>>> X = waves[[0, 1] * 6][:, None, :] + 0.5 * rng.standard_normal((12, 4, 256))
>>> y = np.array([0, 1] * 6)
>>> (TRCA(ensemble=True).fit(X[:8], y[:8]).predict(X[8:]) == y[8:]).all()
np.True_
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from ..errors import InvalidParameterError
from ._base import (
    center,
    check_positive_int,
    flat_corr,
    inv_sqrt,
    orthonormal_basis,
    sine_cosine_reference,
)
from .cca import _TemplateEstimator

__all__ = ["TRCA", "ETRCA", "TDCA"]

# Longest window (samples) whose sub-band filters run as dense (t, t) matrix products; the
# product costs t multiply-adds per sample, the block-wise recursive filter a fixed ~400
_DENSE_MAX_TIMES = 1024


class TRCA(_TemplateEstimator):
    """Task-related component analysis (Nakanishi et al., IEEE TBME 2018); trained.

    Per class, the spatial filters maximise the covariance between training trials
    (``S w = lambda Q w``, ``S`` the summed cross-trial covariance, ``Q`` the pooled
    covariance). A test trial ``X`` is scored against class ``k`` by the correlation of the
    filtered trial and the filtered class template. With a filter bank, sub-band correlations
    are combined as ``sum w_m r_m`` (weights ``m ** -1.25 + 0.25``, normalised to sum 1), as in
    the authors' code.

    Parameters
    ----------
    n_components : int
        Filters per class.
    ensemble : bool
        ``True`` (ensemble TRCA): the filters of all classes are concatenated and used for every
        class. ``False``: each class uses its own filters.
    n_bands : int | None
        Sub-bands of ``FilterBank.chen2015``; ``None``: no filter bank.
    sfreq : float | None
        Sampling rate in Hz; needed only with a filter bank (``None``: from ``mne.Epochs``).

    Attributes
    ----------
    classes_ : ndarray
        Sorted labels of ``y``; a rest / no-control class is one more class (its template is
        the mean rest trial).
    templates_ : ndarray, shape (n_bands, n_classes, n_channels, n_times)
    filters_ : ndarray, shape (n_bands, n_classes, n_channels, n_components)
    """

    def __init__(self, *, n_components=1, ensemble=False, n_bands=None, sfreq=None):
        self.n_components = n_components
        self.ensemble = ensemble
        self.n_bands = n_bands
        self.sfreq = sfreq

    def _fit(self, X, y):
        n_comp = check_positive_int(self.n_components, "n_components")
        if n_comp > X.shape[1]:
            raise InvalidParameterError(
                f"n_components ({n_comp}) exceeds the number of channels ({X.shape[1]})"
            )
        idx = self._set_classes(y)
        onehot = np.zeros((idx.size, self.classes_.size))
        onehot[np.arange(idx.size), idx] = 1.0
        ops = self._operators(X.shape[2])
        if ops is None:
            bands = self._bands(X)
        else:  # the sub-band filters (and the centring) as one matrix product per band
            n, c, t = X.shape
            flat = X.reshape(n * c, t)
            bands = np.empty((len(ops), n, c, t))
            for b, M in enumerate(ops):
                np.matmul(flat, M, out=bands[b].reshape(n * c, t))
        sums = np.einsum("nk,bnct->bkct", onehot, bands)  # (b, k, c, t)
        covs = bands @ np.swapaxes(bands, -1, -2)  # (b, n, c, c)
        Q = np.einsum("nk,bncd->bkcd", onehot, covs)
        S = sums @ np.swapaxes(sums, -1, -2) - Q
        Wq = inv_sqrt(Q)
        _, vecs = np.linalg.eigh(Wq @ S @ Wq)
        self.filters_ = Wq @ vecs[..., ::-1][..., :n_comp]
        self.templates_ = sums / np.bincount(idx)[:, None, None]

    def _operators(self, n_times: int):
        """The sub-band filters plus centring as ``(t, t)`` matrices, or ``None`` (no filter
        bank, or windows so long that the block-wise filter is cheaper than a dense product)."""
        if self.filter_bank_ is None or n_times > _DENSE_MAX_TIMES:
            return None
        return self.filter_bank_.operators(n_times, center=True)

    def _band_scores(self, b: int, Xb: np.ndarray, M: np.ndarray | None = None) -> np.ndarray:
        """Scores of sub-band ``b``: ``Xb`` is the filtered, centred band, or with ``M`` the raw
        trials, projected first and then filtered (both maps are linear and act on different
        axes, so they commute; only the few projected components go through the filter)."""
        W, T = self.filters_[b], self.templates_[b]  # (k, c, j), (k, c, t)
        K, c, j = W.shape
        if self.ensemble:
            Wall = np.concatenate(list(W), axis=1)  # (c, k * j)
            A = np.matmul(Wall.T, Xb)  # (n, k * j, t)
            if M is not None:
                A = (A.reshape(-1, A.shape[-1]) @ M).reshape(A.shape)
            return flat_corr(A, np.matmul(Wall.T, T))
        A = np.matmul(W.transpose(1, 0, 2).reshape(c, K * j).T, Xb)  # (n, k * j, t)
        if M is not None:
            A = (A.reshape(-1, A.shape[-1]) @ M).reshape(A.shape)
        A = A.reshape(Xb.shape[0], K, j, -1)
        B = np.matmul(np.swapaxes(W, -1, -2), T)  # (k, j, t)
        A = A - A.mean(axis=(2, 3), keepdims=True)
        B = B - B.mean(axis=(1, 2), keepdims=True)
        num = np.einsum("nkjt,kjt->nk", A, B)
        den = np.sqrt(np.einsum("nkjt,nkjt->nk", A, A) * np.einsum("kjt,kjt->k", B, B))
        return num / np.maximum(den, np.finfo(float).tiny)

    def _scores(self, X):
        self._check_times(X)
        ops = self._operators(X.shape[2])
        if ops is None:
            return self._combine(self._band_scores(b, xb) for b, xb in enumerate(self._bands(X)))
        return self._combine(self._band_scores(b, X, M) for b, M in enumerate(ops))


class ETRCA(TRCA):
    """Ensemble TRCA: :class:`TRCA` with ``ensemble=True`` by default (Nakanishi et al. 2018)."""

    def __init__(self, *, n_components=1, ensemble=True, n_bands=None, sfreq=None):
        super().__init__(n_components=n_components, ensemble=ensemble, n_bands=n_bands, sfreq=sfreq)


class TDCA(_TemplateEstimator):
    """Task-discriminant component analysis (Liu et al., IEEE TNSRE 2021); trained.

    Each trial is augmented with ``n_delays`` time-advanced copies (sample ``i..i+t``, zero
    filled at the end), then with its projection onto the sine-cosine space of the class
    (``[X_a, X_a P_k]`` along time, ``P_k = Q_k Q_k^T``). Discriminant spatial patterns
    (between-class versus within-class scatter of the augmented trials) give the filters; a test
    trial is augmented with the projection of every candidate class and correlated with that
    class's filtered template.

    Parameters
    ----------
    freqs : sequence of float
        Stimulus frequencies in Hz.
    sfreq : float | None
        Sampling rate in Hz (``None``: from ``mne.Epochs``).
    n_harmonics : int
        Harmonics of the sine-cosine projection.
    n_delays : int
        Delayed copies ``l`` (the augmented signal has ``(l + 1) * n_channels`` rows).
    n_components : int
        Discriminant filters kept, capped at ``n_classes - 1`` (the rank of the between-class
        scatter; further filters carry no class information).
    n_bands : int | None
        Sub-bands of ``FilterBank.chen2015``; ``None``: no filter bank.
    classes : sequence | None
        Label of each frequency in the order of ``freqs``; ``None``: labels are the frequencies.
    rest_label : object
        Label of a no-stimulus class (default ``"rest"``): one more trained class whose
        projection ``P`` is zero (no sine-cosine space).

    Notes
    -----
    Liu et al. train on epochs ``l`` samples longer than the test window so that the delayed
    copies hold real data, and zero-fill only at test time. Here fit and predict receive trials
    of the same length, so both zero-fill; the augmentation is then identical at fit and
    predict.
    """

    _requires_sfreq = True

    def __init__(
        self, freqs=None, *, sfreq=None, n_harmonics=5, n_delays=5, n_components=8,
        n_bands=None, classes=None, rest_label="rest",
    ):  # fmt: skip
        self.freqs = freqs
        self.sfreq = sfreq
        self.n_harmonics = n_harmonics
        self.n_delays = n_delays
        self.n_components = n_components
        self.n_bands = n_bands
        self.classes = classes
        self.rest_label = rest_label

    def _delayed(self, Xb: np.ndarray) -> np.ndarray:
        n, c, t = Xb.shape
        out = np.zeros((n, self.n_delays_ + 1, c, t))
        for i in range(self.n_delays_ + 1):
            out[:, i, :, : t - i] = Xb[..., i:]
        return out.reshape(n, (self.n_delays_ + 1) * c, t)

    def _fit(self, X, y):
        n_harm = check_positive_int(self.n_harmonics, "n_harmonics")
        self.n_delays_ = check_positive_int(self.n_delays, "n_delays", minimum=0)
        if self.n_delays_ >= X.shape[2]:
            raise InvalidParameterError(
                f"n_delays ({self.n_delays_}) must be smaller than the trial length "
                f"({X.shape[2]} samples)"
            )
        n_comp = check_positive_int(self.n_components, "n_components")
        idx = self._set_classes(y)
        self.class_freqs_ = self._class_freqs(self.classes_)
        has_ref = np.isfinite(self.class_freqs_)
        ref = sine_cosine_reference(
            np.where(has_ref, self.class_freqs_, 1.0), self.sfreq_, X.shape[2], n_harm
        )
        self.reference_basis_ = orthonormal_basis(ref) * has_ref[:, None, None]
        K, dim = self.classes_.size, (self.n_delays_ + 1) * X.shape[1]
        self.n_components_ = min(n_comp, K - 1, dim)
        counts = np.bincount(idx).astype(float)
        members = [np.flatnonzero(idx == k) for k in range(K)]
        weights = np.zeros((K, idx.size))
        weights[idx, np.arange(idx.size)] = 1.0 / counts[idx]
        filters, templates, means = [], [], []
        for xb in self._bands(X):
            Xa = self._delayed(xb)
            n, _, t = Xa.shape
            # class means of the centred augmented trials Z_n = [X_a, X_a P_k] - mean: the
            # augmentation and the centring are linear, so they apply to the class means
            Mk = np.empty((K, dim, 2 * t))
            Mk[..., :t] = (weights @ Xa.reshape(n, -1)).reshape(K, dim, t)
            # scatter of the Z_n: sum X_a X_a^T + (X_a Q)(X_a Q)^T - 2t m m^T (P = Q Q^T)
            flat = Xa.transpose(1, 0, 2).reshape(dim, -1)
            G = flat @ flat.T
            row_sums = Xa.sum(axis=-1)  # (n, dim)
            for k, rows in enumerate(members):
                Q = self.reference_basis_[k]
                Mk[k, :, t:] = (Mk[k, :, :t] @ Q) @ Q.T
                XQ = Xa[rows] @ Q  # (n_k, dim, d)
                flat = XQ.transpose(1, 0, 2).reshape(dim, -1)
                G += flat @ flat.T
                row_sums[rows] += XQ @ Q.sum(axis=0)
            m = row_sums / (2 * t)
            G -= (2 * t) * (m.T @ m)
            Mk -= Mk.mean(axis=-1, keepdims=True)
            M = (counts @ Mk.reshape(K, -1)).reshape(dim, 2 * t) / n
            D = Mk - M
            E = (D * np.sqrt(counts)[:, None, None]).transpose(1, 0, 2).reshape(dim, -1)
            Sb = E @ E.T
            E = (Mk * np.sqrt(counts)[:, None, None]).transpose(1, 0, 2).reshape(dim, -1)
            Sw = G - E @ E.T  # within-class scatter
            Sw[np.diag_indices_from(Sw)] += 1e-9 * np.trace(Sw) / dim
            _, W = linalg.eigh(Sb, Sw, subset_by_index=[dim - self.n_components_, dim - 1])
            W = W[:, ::-1]
            filters.append(W)
            templates.append(W.T @ D)
            means.append(W.T @ M)
        self.filters_ = np.stack(filters)  # (b, dim, j)
        self.templates_ = np.stack(templates)  # (b, k, j, 2t)
        self.filtered_mean_ = np.stack(means)  # (b, j, 2t)

    def _band_scores(self, b: int, Xb: np.ndarray) -> np.ndarray:
        A = np.einsum("cj,nct->njt", self.filters_[b], self._delayed(Xb))
        out = np.empty((Xb.shape[0], self.classes_.size))
        for k, Qk in enumerate(self.reference_basis_):  # loop over classes, not trials
            F = np.concatenate([A, (A @ Qk) @ Qk.T], axis=-1)
            F = center(F) - self.filtered_mean_[b]
            out[:, k] = flat_corr(F, self.templates_[b, k][None])[:, 0]
        return out

    def _scores(self, X):
        self._check_times(X)
        return self._combine(self._band_scores(b, xb) for b, xb in enumerate(self._bands(X)))
