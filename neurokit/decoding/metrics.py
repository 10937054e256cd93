"""SSVEP / BCI metrics: Wolpaw information transfer rate, accuracy, confusion matrix.

The information transfer rate (Wolpaw et al. 2002) of an ``N``-class selection with accuracy
``P`` taking ``T`` seconds (stimulation window plus gaze shift) is

    B = log2 N + P log2 P + (1 - P) log2((1 - P) / (N - 1))  bits per selection,
    ITR = B * 60 / T  bits per minute.

Conventions: at ``P = 1`` the last two terms are 0 (limit of ``p log p``), so ``B = log2 N``;
at or below chance (``P <= 1 / N``) the formula would describe information obtained by
*avoiding* the right answer, which a speller cannot use, so the ITR is reported as 0.

>>> round(itr(40, 1.0, 1.0, gaze_shift_s=0.5), 3)
212.877
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameterError

__all__ = ["itr", "itr_per_block", "accuracy", "confusion_matrix"]


def itr(n_classes, accuracy, window_s, gaze_shift_s: float = 0.5):
    """Wolpaw information transfer rate in bits per minute.

    Parameters
    ----------
    n_classes : int
        Number of targets ``N`` (>= 2).
    accuracy : float | array-like
        Selection accuracy ``P`` in [0, 1]; arrays give one ITR per entry.
    window_s : float
        Stimulation (data) window per selection in seconds.
    gaze_shift_s : float
        Time added per selection for the gaze shift, in seconds (0.5 in the Tsinghua
        benchmark papers).

    Returns
    -------
    float | ndarray
        Bits per minute; 0 at or below chance (``P <= 1 / N``), ``log2(N) * 60 / T`` at ``P = 1``.
    """
    n = int(n_classes)
    if n < 2 or n != n_classes:
        raise InvalidParameterError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    total_s = float(window_s) + float(gaze_shift_s)
    if not window_s > 0 or not gaze_shift_s >= 0:
        raise InvalidParameterError(
            f"window_s must be > 0 and gaze_shift_s >= 0 seconds, got {window_s!r} and "
            f"{gaze_shift_s!r}"
        )
    p = np.asarray(accuracy, dtype=np.float64)
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise InvalidParameterError(f"accuracy must lie in [0, 1], got {accuracy!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        hit = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
        q = 1.0 - p
        miss = np.where(q > 0, q * np.log2(np.where(q > 0, q, 1.0) / (n - 1)), 0.0)
    bits = np.log2(n) + hit + miss
    out = np.where(p <= 1.0 / n, 0.0, bits) * 60.0 / total_s
    return float(out) if out.ndim == 0 else out


def accuracy(y_true, y_pred) -> float:
    """Fraction of trials whose predicted label equals the true label."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or y_true.size == 0:
        raise InvalidParameterError(
            f"y_true and y_pred must be non-empty 1-d arrays of the same length, got shapes "
            f"{y_true.shape} and {y_pred.shape}"
        )
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, *, labels=None, normalize=None) -> np.ndarray:
    """Confusion matrix (rows: true class, columns: predicted class).

    A thin wrapper over :func:`sklearn.metrics.confusion_matrix` (same ``labels`` and
    ``normalize`` in {None, "true", "pred", "all"}).
    """
    from sklearn.metrics import confusion_matrix as _confusion_matrix

    return _confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)


def itr_per_block(
    y_true, y_pred, blocks, subjects, n_classes, window_s, gaze_shift_s: float = 0.5
) -> float:
    """Mean ITR over (subject, block) cells, as in Guney et al. (2022).

    The accuracy of every (subject, block) cell is turned into an ITR with :func:`itr`, and the
    ITRs are averaged (the ITR of the mean accuracy would be larger, ITR being convex in the
    accuracy above chance).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n_trials,)
        True and predicted labels.
    blocks, subjects : array-like, shape (n_trials,)
        Block (session run) and subject of every trial.
    n_classes : int
        Number of targets.
    window_s, gaze_shift_s : float
        As in :func:`itr`.

    Returns
    -------
    float
        Mean ITR in bits per minute.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    blocks, subjects = np.asarray(blocks), np.asarray(subjects)
    n = y_true.shape[0]
    for name, arr in (("y_pred", y_pred), ("blocks", blocks), ("subjects", subjects)):
        if arr.ndim != 1 or arr.shape[0] != n:
            raise InvalidParameterError(
                f"{name} must be 1-d with one entry per trial ({n}), got shape {arr.shape}"
            )
    if n == 0:
        raise InvalidParameterError("no trials: y_true is empty")
    cells = {}
    for s, b, hit in zip(subjects.tolist(), blocks.tolist(), (y_true == y_pred).tolist()):
        cells.setdefault((s, b), []).append(hit)
    accs = np.array([np.mean(v) for v in cells.values()])
    return float(np.mean(itr(n_classes, accs, window_s, gaze_shift_s)))
