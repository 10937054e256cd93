"""Classification metrics for decoding benchmarks (scikit-learn underneath).

>>> classification_report([0, 1, 2, 1], [0, 1, 2, 1])["balanced_accuracy"]
1.0
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .errors import InvalidParameterError

__all__ = ["classification_report"]


def _number(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _probabilities(y_score: np.ndarray) -> np.ndarray:
    """Rows that are not already probabilities (non-negative, summing to 1) go through a
    softmax, so logits are accepted too."""
    if (y_score >= 0).all() and np.allclose(y_score.sum(axis=1), 1.0, atol=1e-4):
        return y_score / y_score.sum(axis=1, keepdims=True)
    shifted = np.exp(y_score - y_score.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _roc_auc(y_true: np.ndarray, y_score) -> float | None:
    from sklearn.metrics import roc_auc_score

    score = np.asarray(y_score, dtype=np.float64)
    if score.ndim == 2 and score.shape[1] == 1:
        score = score[:, 0]
    if score.shape[0] != len(y_true):
        raise InvalidParameterError(f"y_score has {score.shape[0]} rows for {len(y_true)} labels")
    if len(np.unique(y_true)) < 2:  # one class only: no ROC curve
        return None
    try:
        if score.ndim == 1:  # binary: the score of class 1
            return _number(roc_auc_score(y_true, score))
        n_classes = score.shape[1]
        if score.ndim != 2 or not set(np.unique(y_true)) <= set(range(n_classes)):
            raise InvalidParameterError(
                f"y_score {score.shape} must have one column per class (labels 0..k-1)"
            )
        if n_classes == 2:
            return _number(roc_auc_score(y_true, score[:, 1] - score[:, 0]))
        if len(np.unique(y_true)) < n_classes:  # a class never occurs: its AUC is undefined
            return None
        return _number(
            roc_auc_score(
                y_true,
                _probabilities(score),
                multi_class="ovr",
                average="macro",
                labels=np.arange(n_classes),
            )
        )
    except ValueError:
        return None


def classification_report(y_true, y_pred, y_score=None) -> dict:
    """Accuracy, balanced accuracy, Cohen's kappa, weighted F1 and ROC-AUC.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (n,)
        True and predicted class indices.
    y_score : array-like, shape (n, k) or (n,), optional
        Class probabilities or scores (logits are turned into probabilities by a softmax);
        for two classes, a single column is the score of class 1. Column ``j`` is class ``j``.

    Returns
    -------
    dict
        ``accuracy``, ``balanced_accuracy``, ``kappa``, ``f1_weighted`` and ``roc_auc``
        (one-vs-rest, macro average over classes) as floats; a value that is not computable
        (ROC-AUC without ``y_score`` or when a class is absent from ``y_true``, kappa when
        chance agreement is total) is None.
    """
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        cohen_kappa_score,
        f1_score,
    )

    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape or not len(y_true):
        raise InvalidParameterError(
            f"y_true ({len(y_true)}) and y_pred ({len(y_pred)}) must be non-empty and of one length"
        )
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")  # undefined kappa: reported as None below
        kappa = cohen_kappa_score(y_true, y_pred)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "kappa": _number(kappa),
        "f1_weighted": float(f1_score(y_true, y_pred, average="weighted", zero_division=0)),
        "roc_auc": None if y_score is None else _roc_auc(y_true, y_score),
    }
