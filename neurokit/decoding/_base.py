"""Shared machinery of the SSVEP estimators: input checks, references, batched linear algebra.

Every estimator of :mod:`neurokit.decoding` takes trials as a 3-d array
``(n_trials, n_channels, n_times)`` or an :class:`mne.Epochs` (whose ``info["sfreq"]`` is checked
against the estimator's ``sfreq``). Everything here works on whole batches of trials at once:
covariances by batched matrix products, whitening by batched eigendecompositions, correlations
by inner products, so that no Python loop runs over trials.

Written by hand because scikit-learn and pyriemann have no batched canonical correlation over
3-d trials; the estimator protocol itself (``get_params``, ``clone``, tags) is scikit-learn's.

scikit-learn's estimator checks
-------------------------------
The estimators pass the API checks that do not fit on data (``get_params``/``set_params``,
``clone``, repr, no attributes set in ``__init__``, ``NotFittedError`` before ``fit``, tags) and
the input-validation checks that make sense for trials (NaN/inf, complex and sparse input, 1-d
input, missing ``y``, a single class). The checks that fit on scikit-learn's own data fail by
design: they feed 2-d ``(n_samples, n_features)`` arrays, while an SSVEP trial is
``(n_channels, n_times)`` with a sampling rate, and flattening it away is refused on purpose
(2-d input raises a clear error). :func:`sklearn_expected_failed_checks` lists them for
``parametrize_with_checks(..., expected_failed_checks=...)`` with their reasons. The tag
``input_tags.three_d_array`` is set; ``two_d_array`` stays True only so that the check suite
runs at all (with it False, scikit-learn skips every check).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ..errors import InvalidParameterError
from .filterbank import FilterBank, filter_bank_weights

__all__ = ["SSVEPEstimator", "sine_cosine_reference", "sklearn_expected_failed_checks"]


def sine_cosine_reference(freqs, sfreq, n_times, n_harmonics=3, phases=None) -> np.ndarray:
    """Sine-cosine reference signals, one set per stimulus frequency.

    Parameters
    ----------
    freqs : array-like of float, shape (f,)
        Stimulus frequencies in Hz.
    sfreq : float
        Sampling rate in Hz.
    n_times : int
        Number of samples ``t``; sample ``i`` is at ``i / sfreq`` seconds.
    n_harmonics : int
        Harmonics ``h = 1..n_harmonics``; each gives a sine and a cosine.
    phases : array-like of float, shape (f,) | None
        Stimulus phases in radians (``None``: zero). Harmonic ``h`` is shifted by ``h * phase``.
        The span of each sine-cosine pair is the same for every phase, so CCA-type scores do
        not depend on it.

    Returns
    -------
    ref : ndarray, shape (f, 2 * n_harmonics, t)
        Rows ordered ``sin(h=1), cos(h=1), sin(h=2), ...``.
    """
    freqs = np.atleast_1d(np.asarray(freqs, dtype=np.float64))
    phases = np.zeros_like(freqs) if phases is None else np.atleast_1d(np.asarray(phases, float))
    if phases.shape != freqs.shape:
        raise InvalidParameterError(
            f"phases has {phases.size} entries but freqs has {freqs.size}; give one phase per "
            "frequency"
        )
    times = np.arange(int(n_times)) / float(sfreq)
    harm = np.arange(1, int(n_harmonics) + 1, dtype=np.float64)
    arg = 2 * np.pi * freqs[:, None, None] * harm[None, :, None] * times
    arg = arg + harm[None, :, None] * phases[:, None, None]
    ref = np.stack([np.sin(arg), np.cos(arg)], axis=2)  # (f, h, 2, t)
    return ref.reshape(freqs.size, 2 * harm.size, times.size)


def orthonormal_basis(Y: np.ndarray) -> np.ndarray:
    """Orthonormal basis ``Q`` (..., t, d) of the time-centred rows of ``Y`` (..., d, t)."""
    Yc = Y - Y.mean(axis=-1, keepdims=True)
    q, _ = np.linalg.qr(np.swapaxes(Yc, -1, -2))
    return q


def center(X: np.ndarray) -> np.ndarray:
    """Remove the temporal mean of every channel (last axis)."""
    return X - X.mean(axis=-1, keepdims=True)


def inv_sqrt(C: np.ndarray, rcond: float = 1e-10) -> np.ndarray:
    """Batched ``C^-1/2`` of symmetric positive semi-definite matrices (..., c, c).

    Directions with an eigenvalue below ``rcond`` times the largest are dropped (pseudo-inverse),
    so rank-deficient data (average reference, a flat channel) do not inflate correlations.
    """
    vals, vecs = np.linalg.eigh(C)
    top = vals[..., -1:]
    keep = vals > rcond * np.maximum(top, np.finfo(float).tiny)
    scale = np.where(keep, 1.0 / np.sqrt(np.where(keep, vals, 1.0)), 0.0)
    return (vecs * scale[..., None, :]) @ np.swapaxes(vecs, -1, -2)


def quad_corr(w: np.ndarray, Cxy: np.ndarray, Cxx: np.ndarray, Cyy: np.ndarray) -> np.ndarray:
    """Pearson correlation of ``w^T X`` and ``w^T Y`` from (cross-)covariances.

    ``w`` is (..., c); the covariances are (..., c, c) of time-centred signals.
    """
    num = np.einsum("...i,...ij,...j->...", w, Cxy, w)
    vx = np.einsum("...i,...ij,...j->...", w, Cxx, w)
    vy = np.einsum("...i,...ij,...j->...", w, Cyy, w)
    return num / np.sqrt(np.maximum(vx * vy, np.finfo(float).tiny))


def flat_corr(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Pearson correlation of the flattened ``A`` (n, ...) rows with ``B`` (k, ...) rows: (n, k)."""
    a = A.reshape(A.shape[0], -1)
    b = B.reshape(B.shape[0], -1)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), np.finfo(float).tiny)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), np.finfo(float).tiny)
    return a @ b.T


def _n_trials(X) -> int:
    """Number of trials of ``X`` (array-like, sparse or mne.Epochs) without converting it."""
    shape = getattr(X, "shape", None)
    if shape:
        return shape[0]
    try:
        return len(X)
    except TypeError:
        arr = np.asarray(X)
        return arr.shape[0] if arr.ndim else 0


def _is_epochs(X) -> bool:
    return hasattr(X, "get_data") and hasattr(X, "info") and hasattr(X, "events")


class SSVEPEstimator(ClassifierMixin, BaseEstimator):
    """Base of the SSVEP classifiers: input checks, filter bank, labels, predict.

    Subclasses implement ``_fit(X, y)`` on the checked float64 trials ``(n_trials, c, t)``
    (``_bands`` gives their sub-bands ``[b, n_trials, c, t]``, ``b = 1`` without a filter bank)
    and ``_scores(X) -> (n_trials, n_classes)``; ``decision_function`` returns those scores and
    ``predict`` their arg-max.
    """

    _requires_sfreq = False  # True when the method needs sfreq whatever its parameters
    _requires_y = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # 3-d trials are the real input; two_d_array stays True only so that scikit-learn's
        # check suite runs its API checks (2-d input is rejected with an explicit error).
        tags.input_tags.three_d_array = True
        tags.target_tags.required = self._requires_y
        return tags

    # ------------------------------------------------------------------ input checks
    def _needs_sfreq(self) -> bool:
        return self._requires_sfreq or getattr(self, "n_bands", None) is not None

    def _check_X(self, X, *, fit: bool) -> np.ndarray:
        """Return ``X`` as a C-contiguous float64 array (n_trials, n_channels, n_times)."""
        name = type(self).__name__
        sfreq = self.sfreq if fit else getattr(self, "sfreq_", None)
        if _is_epochs(X):
            ep_sfreq = float(X.info["sfreq"])
            if sfreq is not None and not np.isclose(ep_sfreq, float(sfreq)):
                raise InvalidParameterError(
                    f"Input sfreq {ep_sfreq:g} Hz does not match {name} sfreq {float(sfreq):g} Hz;"
                    f" resample the epochs (epochs.resample({float(sfreq):g})) or set "
                    f"sfreq={ep_sfreq:g}"
                )
            if fit:
                self.sfreq_ = ep_sfreq
            X = X.get_data(copy=False)
        elif fit:
            if self.sfreq is not None and not float(self.sfreq) > 0:
                raise InvalidParameterError(
                    f"sfreq must be a positive number in Hz, got {self.sfreq!r}"
                )
            if self.sfreq is None and self._needs_sfreq():
                raise InvalidParameterError(
                    f"{name} needs the sampling rate: sfreq is None and X is an array; pass "
                    "sfreq=<Hz> or give mne.Epochs"
                )
            self.sfreq_ = None if self.sfreq is None else float(self.sfreq)
        if issparse(X):
            raise InvalidParameterError(
                "Sparse input is not supported: X must be a dense array (n_trials, n_channels, "
                "n_times) or mne.Epochs; convert it with X.toarray() and reshape"
            )
        arr = np.asarray(X)
        if np.iscomplexobj(arr):
            raise InvalidParameterError(
                "Complex data not supported: X must hold real-valued samples; pass np.real(X) "
                "or the magnitude"
            )
        try:
            arr = np.ascontiguousarray(arr, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise InvalidParameterError(f"X must hold numbers, got dtype {arr.dtype}") from err
        if not np.isfinite(arr).all():
            raise InvalidParameterError(
                "X contains NaN or inf; interpolate or drop the bad samples first"
            )
        if arr.ndim != 3:
            raise InvalidParameterError(
                f"X must be a 3-d array (n_trials, n_channels, n_times) or mne.Epochs; got a "
                f"{arr.ndim}-d array of shape {arr.shape}. Stack trials along the first axis "
                "(a single trial: X[np.newaxis])"
            )
        if min(arr.shape) == 0:
            raise InvalidParameterError(
                f"X has shape {arr.shape}: it needs at least 1 trial, 1 channel and 1 sample"
            )
        if fit:
            self.n_channels_, self.n_times_ = arr.shape[1:]
            self.n_features_in_ = arr.shape[1]
        elif self.n_channels_ is not None and arr.shape[1] != self.n_channels_:
            raise InvalidParameterError(
                f"X has {arr.shape[1]} channels but {name} was fitted on {self.n_channels_}; "
                "give the same channels in the same order"
            )
        return arr

    def _check_y(self, y, n_trials: int) -> np.ndarray:
        if y is None:
            raise InvalidParameterError(
                f"{type(self).__name__} requires y to be passed, but the target y is None; "
                "give one class label per trial"
            )
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or y.shape[0] != n_trials:
            raise InvalidParameterError(
                f"y must be 1-d with one label per trial ({n_trials}); got shape {y.shape}"
            )
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise InvalidParameterError("y contains NaN or inf")
        if self._requires_y:
            try:
                labels = np.unique(y)
            except TypeError:
                raise InvalidParameterError(
                    f"y mixes label types ({sorted({type(v).__name__ for v in y.tolist()})}); "
                    "use labels of one type, e.g. strings such as '13' and 'rest'"
                ) from None
            if labels.size < 2:
                raise InvalidParameterError(
                    f"{type(self).__name__} needs at least 2 classes in y; got only "
                    f"{labels.tolist()}"
                )
        return y

    def _check_times(self, X: np.ndarray) -> None:
        if X.shape[2] != self.n_times_:
            raise InvalidParameterError(
                f"X has {X.shape[2]} samples per trial but {type(self).__name__} was fitted on "
                f"{self.n_times_}; cut the test trials to the training length"
            )

    # ------------------------------------------------------------------ filter bank
    def _make_bank(self):
        n_bands = getattr(self, "n_bands", None)
        if n_bands is None:
            self.filter_bank_, self.band_weights_ = None, np.ones(1)
            return
        if isinstance(n_bands, bool) or not isinstance(n_bands, (int, np.integer)) or n_bands < 1:
            raise InvalidParameterError(
                f"n_bands must be None (no filter bank) or a positive integer, got {n_bands!r}"
            )
        self.filter_bank_ = FilterBank.chen2015(self.sfreq_, int(n_bands))
        self.band_weights_ = filter_bank_weights(int(n_bands))

    def _bands(self, X: np.ndarray) -> np.ndarray:
        """Sub-band signals ``[b, n_trials, c, t]``, time-centred (one pass per band)."""
        if self.filter_bank_ is None:
            return center(X)[None]
        return center(self.filter_bank_.apply(X))

    # ------------------------------------------------------------------ protocol
    def fit(self, X, y=None):
        """Fit on trials.

        Parameters
        ----------
        X : ndarray, shape (n_trials, n_channels, n_times) | mne.Epochs | None
            Trials in any unit (the methods are scale invariant). Training-free methods
            (CCA, FBCCA) also accept ``None`` (with ``sfreq`` set): nothing about the data is
            fixed then, and references are built for each trial length at predict time.
        y : array-like, shape (n_trials,)
            Class labels (required by trained methods).

        Returns
        -------
        self
        """
        if X is None and not self._requires_y:
            if self.sfreq is None or not float(self.sfreq) > 0:
                raise InvalidParameterError(
                    f"{type(self).__name__}.fit(None) needs sfreq (Hz), got {self.sfreq!r}; set "
                    "sfreq or fit on trials"
                )
            self.sfreq_ = float(self.sfreq)
            self.n_channels_ = self.n_times_ = None
            y = None if y is None else self._check_y(y, len(y))
            self._make_bank()
            self._fit(None, y)
            return self
        if self._requires_y or y is not None:
            y = self._check_y(y, _n_trials(X))
        arr = self._check_X(X, fit=True)
        self._make_bank()
        self._fit(arr, y)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Class scores, shape (n_trials, n_classes), columns in the order of ``classes_``."""
        check_is_fitted(self)
        return self._scores(self._check_X(X, fit=False))

    def predict(self, X) -> np.ndarray:
        """Predicted labels, shape (n_trials,): the class of highest score."""
        scores = self.decision_function(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def _set_classes(self, y: np.ndarray) -> np.ndarray:
        """``classes_`` from the labels of ``y``; returns the class index of every trial."""
        self.classes_, idx = np.unique(y, return_inverse=True)
        return idx

    def _class_freqs(self, classes: np.ndarray) -> np.ndarray:
        """Stimulus frequency of every fitted class (NaN for ``rest_label``).

        With ``classes=None`` the labels themselves are the frequencies (numbers or numeric
        strings such as ``"13"``); otherwise ``classes[i]`` has frequency ``freqs[i]``.
        """
        name = type(self).__name__
        freqs = _check_freqs(self.freqs, name)
        lookup = list(freqs) if self.classes is None else list(self.classes)
        if len(lookup) != len(freqs):
            raise InvalidParameterError(
                f"classes has {len(lookup)} labels but freqs has {len(freqs)} frequencies; "
                "give one label per frequency"
            )
        out = np.full(classes.size, np.nan)
        for i, label in enumerate(classes):
            if _same_label(label, self.rest_label):
                continue
            hits = [j for j, lab in enumerate(lookup) if _same_label(label, lab)]
            if not hits:
                raise InvalidParameterError(
                    f"label {label!r} in y has no stimulus frequency: it is not in "
                    f"{'freqs' if self.classes is None else 'classes'} ({lookup}) and is not "
                    f"rest_label ({self.rest_label!r}); add it to classes/freqs or relabel it"
                )
            out[i] = freqs[hits[0]]
        return out


def _same_label(a, b) -> bool:
    if a is None or b is None:
        return a is b
    try:
        return bool(np.isclose(float(a), float(b)))
    except (TypeError, ValueError):
        return str(a) == str(b)


def _check_freqs(freqs, name: str) -> np.ndarray:
    if freqs is None:
        raise InvalidParameterError(
            f"{name} needs the stimulus frequencies: pass freqs=[f1, f2, ...] in Hz"
        )
    try:
        arr = np.asarray(freqs, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InvalidParameterError(f"freqs must be numbers in Hz, got {freqs!r}") from None
    if arr.size < 1 or not np.all(np.isfinite(arr) & (arr > 0)):
        raise InvalidParameterError(f"freqs must be positive frequencies in Hz, got {freqs!r}")
    return arr


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, or a clear error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


_NEEDS_3D = (
    "fits on 2-d (n_samples, n_features) data; SSVEP estimators need 3-d trials (n_trials, "
    "n_channels, n_times) and reject 2-d input"
)
_SKLEARN_XFAIL = {
    name: _NEEDS_3D
    for name in (
        "check_classifiers_classes",
        "check_classifiers_train",
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_dtype_object",
        "check_estimators_dtypes",
        "check_estimators_fit_returns_self",
        "check_estimators_overwrite_params",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_fit2d_1feature",
        "check_fit2d_1sample",
        "check_fit2d_predict1d",
        "check_fit_check_is_fitted",
        "check_fit_idempotent",
        "check_fit_score_takes_y",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_n_features_in",
        "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit",
        "check_readonly_memmap_input",
        "check_supervised_y_2d",
        "check_classifier_data_not_an_array",
        "check_pipeline_consistency",
        "check_classifiers_one_label",
        "check_decision_proba_consistency",
    )
}
_SKLEARN_XFAIL.update(
    check_estimators_nan_inf="NaN and inf are rejected in fit and predict, but the check first "
    "fits on finite 2-d data, which is rejected",
    check_estimators_empty_data_messages="empty input is rejected, but the check expects "
    "scikit-learn's wording about 2-d feature counts",
    check_classifiers_regression_target="labels may be non-integer stimulus frequencies (e.g. "
    "8.6 Hz), so float targets are class labels here; the check also fits on 2-d data",
)


def sklearn_expected_failed_checks(estimator) -> dict:
    """Checks of ``sklearn.utils.estimator_checks`` that ``estimator`` fails by design.

    Returns ``{check_name: reason}`` for ``parametrize_with_checks(expected_failed_checks=...)``.
    """
    out = dict(_SKLEARN_XFAIL)
    trained = getattr(estimator, "_requires_y", True)
    if trained:  # a single class is refused with a message naming "class"
        out.pop("check_classifiers_one_label")
    if not hasattr(estimator, "predict_proba"):  # nothing to compare with decision_function
        out.pop("check_decision_proba_consistency")
    if type(estimator).__name__ == "CCA":  # scikit-learn skips these for classes named CCA
        out.pop("check_classifier_data_not_an_array")
        out.pop("check_pipeline_consistency")
    return out
