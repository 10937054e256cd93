"""CCA-family SSVEP classifiers: CCA, FBCCA, extended CCA and multi-set CCA.

All four score a trial against every class with canonical correlations computed in one batch:
the data of each trial are whitened (``Cxx^-1/2``, batched eigendecomposition), the
references are orthonormal bases fixed at fit, and the canonical correlations are the singular
values of ``Cxx^-1/2 X Q`` (one small SVD per trial and class, all in one call).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> t = np.arange(512) / 256.0
>>> X = np.stack([np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) + rng.standard_normal((4, 512))
...               for f in (13.0, 17.0, 21.0)])
>>> CCA([13.0, 17.0, 21.0], sfreq=256.0).fit(X).predict(X)
array([13., 17., 21.])
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from ..errors import InvalidParameterError
from ._base import (
    SSVEPEstimator,
    _check_freqs,
    _same_label,
    center,
    check_positive_int,
    inv_sqrt,
    orthonormal_basis,
    quad_corr,
    sine_cosine_reference,
)

__all__ = ["CCA", "FBCCA", "ExtendedCCA", "MsetCCA"]


def _canonical(Xb: np.ndarray, Q: np.ndarray, *, weights: bool = False):
    """First canonical correlation of every trial with every reference basis.

    Xb : (n, c, t) time-centred trials; Q : (k, t, d) orthonormal reference bases (zero columns
    allowed). Returns ``rho`` (n, k) and, with ``weights=True``, the spatial filters (n, k, c) of
    the trials and the whitening matrices (n, c, c).
    """
    k, t, d = Q.shape
    Wx = inv_sqrt(Xb @ np.swapaxes(Xb, 1, 2))
    proj = (Xb @ np.swapaxes(Q, 0, 1).reshape(t, k * d)).reshape(Xb.shape[0], -1, k, d)
    M = Wx[:, None] @ np.moveaxis(proj, 2, 1)  # (n, k, c, d)
    if not weights:
        return np.linalg.svd(M, compute_uv=False)[..., 0], None, Wx
    U, s, _ = np.linalg.svd(M, full_matrices=False)
    w = np.einsum("nij,nkj->nki", Wx, U[..., :, 0])
    return s[..., 0], w, Wx


class CCA(SSVEPEstimator):
    """Standard CCA with sine-cosine references (Lin et al. 2006); training-free.

    The score of class ``k`` is the largest canonical correlation between the trial and the
    sine-cosine references of ``freqs[k]`` (``n_harmonics`` harmonics).

    Parameters
    ----------
    freqs : sequence of float
        Stimulus frequencies in Hz.
    sfreq : float | None
        Sampling rate in Hz; ``None`` takes it from ``mne.Epochs`` given to ``fit``.
    n_harmonics : int
        Harmonics in the references.
    classes : sequence | None
        Label of each frequency, in the order of ``freqs``. ``None``: the frequencies
        themselves (float) are the labels.
    no_control_threshold : float | None
        Asynchronous (no-control) detection. ``None``: off. Otherwise a trial whose best score
        is below it is labelled ``rest_label``; the scores are correlations in [0, 1] (for
        FBCCA: weighted mean of squared correlations, also in [0, 1]).
    rest_label : object
        Label of the no-control / rest state, default ``"rest"``; appended to ``classes_`` (and
        to the columns of ``decision_function``, where its score is the threshold) when
        ``no_control_threshold`` is set. With numeric labels pick a numeric one (e.g. ``-1``)
        to keep a numeric ``classes_``.

    Attributes
    ----------
    classes_ : ndarray, shape (k,)
        Labels in score-column order: the stimulus classes, then ``rest_label`` if enabled.
    sfreq_ : float
        Sampling rate used.
    reference_basis_ : ndarray, shape (n_freqs, n_times_, 2 * n_harmonics)
        Orthonormal basis of the references at the fitted trial length (``None`` after
        ``fit(None)``).

    Notes
    -----
    Scores are correlations, not probabilities, so there is no ``predict_proba``; wrap the
    estimator in :class:`sklearn.calibration.CalibratedClassifierCV` for calibrated ones.
    ``fit`` learns nothing from the signal: it checks parameters, fixes the trial length and
    precomputes the reference bases (``y`` is optional and only checked against the labels).
    Trials of another length are scored with references built on the fly.
    """

    _requires_sfreq = True
    _requires_y = False

    def __init__(
        self,
        freqs=None,
        *,
        sfreq=None,
        n_harmonics=3,
        classes=None,
        no_control_threshold=None,
        rest_label="rest",
    ):
        self.freqs = freqs
        self.sfreq = sfreq
        self.n_harmonics = n_harmonics
        self.classes = classes
        self.no_control_threshold = no_control_threshold
        self.rest_label = rest_label

    def _basis(self, n_times: int) -> np.ndarray:
        ref = sine_cosine_reference(self.freqs_, self.sfreq_, n_times, self.n_harmonics_)
        return orthonormal_basis(ref)

    def _fit(self, X, y):
        name = type(self).__name__
        self.freqs_ = _check_freqs(self.freqs, name)
        self.n_harmonics_ = check_positive_int(self.n_harmonics, "n_harmonics")
        labels = self.freqs_ if self.classes is None else np.asarray(self.classes)
        if labels.ndim != 1 or labels.size != self.freqs_.size:
            raise InvalidParameterError(
                f"classes has {np.size(labels)} labels but freqs has {self.freqs_.size} "
                "frequencies; give one label per frequency"
            )
        thr = self.no_control_threshold
        if thr is not None:
            if not np.isfinite(float(thr)):
                raise InvalidParameterError(
                    f"no_control_threshold must be None or a finite number, got {thr!r}"
                )
            labels = np.asarray([*labels.tolist(), self.rest_label])
        self.classes_ = labels
        if y is not None:
            unknown = [v for v in np.unique(y) if not any(_same_label(v, c) for c in labels)]
            if unknown:
                hint = (
                    "set no_control_threshold to predict the rest class"
                    if thr is None and any(_same_label(v, self.rest_label) for v in unknown)
                    else "give classes= with one label per frequency"
                )
                raise InvalidParameterError(
                    f"y has labels {unknown} that {name} cannot predict (classes: "
                    f"{labels.tolist()}); {hint}"
                )
        self.reference_basis_ = None if X is None else self._basis(X.shape[2])

    def _band_scores(self, Xb: np.ndarray, Q: np.ndarray) -> np.ndarray:
        rho, _, _ = _canonical(Xb, Q)
        return rho

    def _scores(self, X):
        Q = self.reference_basis_ if X.shape[2] == self.n_times_ else self._basis(X.shape[2])
        bands = self._bands(X)
        if self.filter_bank_ is None:
            scores = self._band_scores(bands[0], Q)
        else:
            w = self.band_weights_ / self.band_weights_.sum()
            scores = sum(wb * self._band_scores(xb, Q) ** 2 for wb, xb in zip(w, bands))
        if self.no_control_threshold is not None:
            rest = np.full((scores.shape[0], 1), float(self.no_control_threshold))
            scores = np.concatenate([scores, rest], axis=1)
        return scores


class FBCCA(CCA):
    """Filter-bank CCA (Chen et al., J. Neural Eng. 2015); training-free.

    The trial is split into ``n_bands`` sub-bands (``FilterBank.chen2015``: pass band
    ``[8 m, 88]`` Hz, capped below Nyquist); the score of class ``k`` is the weighted mean of the
    squared canonical correlations over sub-bands, weights ``m ** -1.25 + 0.25``. Chen et al.
    use the weighted sum; dividing by the weight total keeps scores in [0, 1] and leaves the
    arg-max unchanged. (MetaBCI sums the correlations without squaring them; on the shared
    Kalunga recordings both give the same accuracy, 0.825 and 0.822 with 5 sub-bands.)

    Parameters
    ----------
    freqs, sfreq, n_harmonics, classes, no_control_threshold, rest_label
        As in :class:`CCA`.
    n_bands : int
        Number of sub-bands.
    """

    def __init__(
        self,
        freqs=None,
        *,
        sfreq=None,
        n_harmonics=5,
        n_bands=5,
        classes=None,
        no_control_threshold=None,
        rest_label="rest",
    ):
        super().__init__(
            freqs,
            sfreq=sfreq,
            n_harmonics=n_harmonics,
            classes=classes,
            no_control_threshold=no_control_threshold,
            rest_label=rest_label,
        )
        self.n_bands = n_bands


class _TemplateEstimator(SSVEPEstimator):
    """Shared pieces of the template-based methods: class templates, sub-band combination."""

    def _class_templates(self, bands: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Class-mean templates ``[b, k, c, t]`` of the (centred) sub-band trials."""
        onehot = np.zeros((idx.size, self.classes_.size))
        onehot[np.arange(idx.size), idx] = 1.0 / np.bincount(idx)[idx]
        return np.einsum("nk,bnct->bkct", onehot, bands)

    def _combine(self, per_band) -> np.ndarray:
        w = self.band_weights_ / self.band_weights_.sum()
        return sum(wb * s for wb, s in zip(w, per_band))


class ExtendedCCA(_TemplateEstimator):
    """Extended CCA (eCCA; Chen et al., PNAS 2015, after Nakanishi et al. 2014); trained.

    For class ``k`` with individual template ``T_k`` (mean training trial) and sine-cosine
    reference ``Y_k``, four correlations are combined as ``sum sign(r) r**2``:
    ``r1 = CCA(X, Y_k)``; ``r2``: ``X`` and ``T_k`` through the trial weights of
    ``CCA(X, T_k)``; ``r3``: through the trial weights of ``CCA(X, Y_k)``; ``r4``: through the
    template weights of ``CCA(T_k, Y_k)`` (learnt at fit). With a filter bank the sub-band
    scores are combined with weights ``m ** -1.25 + 0.25``.

    Parameters
    ----------
    freqs : sequence of float
        Stimulus frequencies in Hz.
    sfreq : float | None
        Sampling rate in Hz (``None``: from ``mne.Epochs``).
    n_harmonics : int
        Harmonics in the references.
    n_bands : int | None
        Sub-bands of ``FilterBank.chen2015``; ``None``: no filter bank.
    classes : sequence | None
        Label of each frequency in the order of ``freqs``; ``None``: labels are the frequencies
        (numbers or numeric strings).
    rest_label : object
        Label of a no-stimulus class in ``y`` (default ``"rest"``). It is an ordinary trained
        class without a reference: only ``r2`` is available, and every score is the *mean* of
        its available ``sign(r) r**2`` terms (the sum of Chen et al. divided by 4 for stimulus
        classes; the arg-max among them is unchanged).

    Attributes
    ----------
    classes_ : ndarray
        Sorted labels of ``y``.
    templates_ : ndarray, shape (n_bands, n_classes, n_channels, n_times)
        Class templates per sub-band.
    """

    _requires_sfreq = True

    def __init__(
        self, freqs=None, *, sfreq=None, n_harmonics=5, n_bands=None, classes=None,
        rest_label="rest",
    ):  # fmt: skip
        self.freqs = freqs
        self.sfreq = sfreq
        self.n_harmonics = n_harmonics
        self.n_bands = n_bands
        self.classes = classes
        self.rest_label = rest_label

    def _fit(self, X, y):
        idx = self._set_classes(y)
        self.class_freqs_ = self._class_freqs(self.classes_)
        n_harm = check_positive_int(self.n_harmonics, "n_harmonics")
        has_ref = np.isfinite(self.class_freqs_)
        ref = sine_cosine_reference(
            np.where(has_ref, self.class_freqs_, 1.0), self.sfreq_, X.shape[2], n_harm
        )
        Q = orthonormal_basis(ref)
        self.reference_basis_ = Q * has_ref[:, None, None]
        bands = self._bands(X)
        self.templates_ = self._class_templates(bands, idx)
        Ctt = self.templates_ @ np.swapaxes(self.templates_, -1, -2)  # (b, k, c, c)
        self.template_cov_ = Ctt
        self.template_whitener_ = inv_sqrt(Ctt)
        # r4 filters: trial-side (template) weights of CCA(T_k, Y_k), per band and class
        w4 = np.stack([_canonical(T, Q, weights=True)[1] for T in self.templates_])
        self.template_filters_ = np.diagonal(w4, axis1=1, axis2=2).transpose(0, 2, 1)

    def _band_scores(self, b: int, Xb: np.ndarray) -> np.ndarray:
        T, Ctt = self.templates_[b], self.template_cov_[b][None]
        r1, w1, Wx = _canonical(Xb, self.reference_basis_, weights=True)
        Cxx = (Xb @ np.swapaxes(Xb, 1, 2))[:, None]
        n, c, t = Xb.shape
        Cxt = (Xb.reshape(n * c, t) @ T.reshape(-1, t).T).reshape(n, c, -1, c).transpose(0, 2, 1, 3)
        M2 = Wx[:, None] @ Cxt @ self.template_whitener_[b][None]
        U2 = np.linalg.svd(M2)[0][..., :, 0]
        w2 = np.einsum("nij,nkj->nki", Wx, U2)
        r2 = quad_corr(w2, Cxt, Cxx, Ctt)
        r3 = quad_corr(w1, Cxt, Cxx, Ctt)
        r4 = quad_corr(self.template_filters_[b][None], Cxt, Cxx, Ctt)
        has_ref = np.isfinite(self.class_freqs_)
        terms = [np.sign(r) * r**2 for r in (r1, r3, r4)]
        ref_part = np.where(has_ref, sum(terms), 0.0)
        n_terms = np.where(has_ref, 4.0, 1.0)
        return (ref_part + np.sign(r2) * r2**2) / n_terms

    def _scores(self, X):
        self._check_times(X)
        return self._combine(self._band_scores(b, xb) for b, xb in enumerate(self._bands(X)))


class MsetCCA(_TemplateEstimator):
    """Multi-set CCA (Zhang et al., Int. J. Neural Syst. 2014); trained.

    For every class, spatial filters ``w_h`` (one per training trial) maximise the summed
    correlation between all pairs of filtered trials (MAXVAR generalised eigenproblem
    ``(R - S) w = lambda S w``, ``R`` the covariance of the stacked trials, ``S`` its
    block-diagonal part). The filtered trials form an optimised reference, and a test trial is
    scored by its largest canonical correlation with each class reference.

    Parameters
    ----------
    n_components : int
        Eigenvectors kept per class (rows per trial in the reference).
    reference : {"mean", "stack"}
        ``"mean"`` (default, as the MOABB and MetaBCI code): the reference is the mean of the
        filtered trials, ``n_components`` rows. ``"stack"`` (the paper): the filtered trials
        stacked, ``n_trials * n_components`` rows; favours classes with more trials.
    n_bands : int | None
        Sub-bands of ``FilterBank.chen2015``; ``None``: no filter bank.
    sfreq : float | None
        Sampling rate in Hz; needed only with a filter bank (``None``: from ``mne.Epochs``).

    Attributes
    ----------
    classes_ : ndarray
        Sorted labels of ``y`` (a rest class is simply one more class).
    reference_basis_ : ndarray, shape (n_bands, n_classes, n_times, d)
        Orthonormal bases of the learnt references (zero-padded columns).
    """

    def __init__(self, *, n_components=1, reference="mean", n_bands=None, sfreq=None):
        self.n_components = n_components
        self.reference = reference
        self.n_bands = n_bands
        self.sfreq = sfreq

    def _fit(self, X, y):
        if self.reference not in ("mean", "stack"):
            raise InvalidParameterError(
                f"reference must be 'mean' or 'stack', got {self.reference!r}"
            )
        n_comp = check_positive_int(self.n_components, "n_components")
        if n_comp > X.shape[1]:
            raise InvalidParameterError(
                f"n_components ({n_comp}) exceeds the number of channels ({X.shape[1]})"
            )
        idx = self._set_classes(y)
        counts = np.bincount(idx)
        if counts.min() < 2:
            raise InvalidParameterError(
                f"MsetCCA needs at least 2 training trials per class; class "
                f"{self.classes_[counts.argmin()]!r} has {counts.min()}"
            )
        bases = []
        for xb in self._bands(X):
            refs = [_maxvar_reference(xb[idx == k], n_comp, self.reference) for k in
                    range(self.classes_.size)]  # fmt: skip
            d = max(r.shape[0] for r in refs)
            bases.append(
                np.stack([np.pad(orthonormal_basis(r), ((0, 0), (0, d - len(r)))) for r in refs])
            )
        self.reference_basis_ = np.stack(bases)

    def _scores(self, X):
        self._check_times(X)
        per_band = (_canonical(xb, q)[0] for xb, q in zip(self._bands(X), self.reference_basis_))
        return self._combine(per_band)


def _maxvar_reference(Xk: np.ndarray, n_comp: int, how: str) -> np.ndarray:
    """MAXVAR reference ``(rows, t)`` of the trials ``Xk`` (m, c, t) of one class."""
    m, c, t = Xk.shape
    Y = Xk.reshape(m * c, t)
    R = Y @ Y.T
    mask = np.kron(np.eye(m), np.ones((c, c), dtype=bool)).astype(bool)
    S = np.where(mask, R, 0.0)
    S[np.diag_indices_from(S)] += 1e-9 * np.trace(S) / S.shape[0]
    _, W = linalg.eigh(R - S, S, subset_by_index=[m * c - n_comp, m * c - 1])
    W = W[:, ::-1].reshape(m, c, n_comp)  # filters of trial h: W[h]
    Z = np.einsum("hcj,hct->hjt", W, Xk)  # filtered trials (m, n_comp, t)
    if how == "mean":
        return center(Z.mean(axis=0))
    return center(Z.reshape(m * n_comp, t))
