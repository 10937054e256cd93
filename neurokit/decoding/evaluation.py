"""SSVEP evaluation protocols: accuracy and ITR per method and window length.

:func:`evaluate` crops every trial of an :class:`~neurokit.decoding.datasets.SSVEPData` to each
window length (after the visual latency), splits the trials by a protocol, fits each method on
the training part and predicts the test part:

``within-session``
    per subject and session, stratified ``n_folds``-fold cross-validation; a fold is a block.
``cross-session``
    per subject with two sessions or more, leave one session out.
``cross-subject``
    leave one subject out (trained methods never see the test subject).
``leave-one-block-out``
    per subject, leave one block out (the Tsinghua / BETA protocol).

Accuracy is pooled over all test trials; the ITR is the mean over (subject, test block) cells
(:func:`~neurokit.decoding.metrics.itr_per_block`, as Guney et al. 2022 report it), with
``gaze_shift_s`` added to every selection. Training-free methods (CCA, FBCCA) on a data set
with a rest class use a no-control threshold chosen on the training trials (the value that
maximizes training accuracy), so that they can output "rest".

Methods are named as on the command line: ``cca, fbcca, ecca, msetcca, trca, etrca, fbtrca,
fbetrca, tdca, riemann, guney``. ``guney`` (the deep network of Guney et al. 2022) needs torch
and is imported only when asked for; it gets the trials in volts (``units="V"``: the network
sees microvolts, as in the reference), ``deep_epochs`` epochs of stage 1 and half as many of
stage 2, at the Adam rate ``deep_lr``. The default rate, 1e-3, is ten times the reference's
1e-4: the reference trains 1000 + 1000 epochs, and at 1e-4 a budget of tens of epochs (a few
hundred Adam steps) leaves the network near chance. Pass ``deep_lr=1e-4`` with the reference's
epochs for the faithful setting.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.model_selection import StratifiedKFold

from ..errors import InvalidParameterError
from .metrics import itr_per_block

__all__ = [
    "METHODS",
    "PROTOCOLS",
    "check_deep_budget",
    "make_method",
    "evaluate",
    "protocol_splits",
    "format_table",
]

PROTOCOLS = ("within-session", "cross-session", "cross-subject", "leave-one-block-out")
METHODS = (
    "cca",
    "fbcca",
    "ecca",
    "msetcca",
    "trca",
    "etrca",
    "fbtrca",
    "fbetrca",
    "tdca",
    "riemann",
    "guney",
)
TRAINING_FREE = ("cca", "fbcca")
DEEP_LR = 1e-3  # Adam rate of the guney network here (reference: 1e-4 over 1000 epochs)


def check_deep_budget(deep_epochs, deep_lr):
    """Validate the budget of the deep network; errors name the parameter (and CLI option)."""
    bad_epochs = isinstance(deep_epochs, bool) or not isinstance(deep_epochs, (int, np.integer))
    if bad_epochs or deep_epochs < 1:
        raise InvalidParameterError(
            f"deep_epochs={deep_epochs!r} (--deep-epochs); must be an integer >= 1"
        )
    if (
        isinstance(deep_lr, bool)
        or not isinstance(deep_lr, (int, float, np.integer, np.floating))
        or not np.isfinite(deep_lr)
        or not deep_lr > 0
    ):
        raise InvalidParameterError(
            f"deep_lr={deep_lr!r} (--deep-lr); must be a positive, finite learning rate "
            f"(default {DEEP_LR:g}; the reference's is 1e-4)"
        )
    return int(deep_epochs), float(deep_lr)


def _stimulus(data):
    """Labels and frequencies of the stimulus classes, and the rest label (or None)."""
    freqs = np.asarray(data.freqs, dtype=float)
    labels = np.arange(len(freqs))
    stim = np.isfinite(freqs)
    rest = labels[~stim]
    return labels[stim], freqs[stim], (int(rest[0]) if len(rest) else None)


def make_method(
    name: str, data, *, deep_epochs: int = 100, deep_lr: float = DEEP_LR, random_state: int = 0
):
    """A fresh estimator for method ``name`` on ``data`` (frequencies, phases, sampling rate).

    ``deep_epochs`` and ``deep_lr`` set the budget of ``guney``: stage-1 epochs (stage 2 gets
    half, at least one) and the Adam learning rate (default 1e-3, a deviation from the
    reference's 1e-4 for short budgets; see the module docstring)."""
    from . import cca, riemann, trca

    labels, stim_freqs, rest = _stimulus(data)
    sfreq = float(data.sfreq)
    fb = 5 if sfreq / 2 > 5 * 8 + 10 else 3
    # the template methods band-pass every trial through the first sub-band of the filter bank
    # (as Nakanishi et al.'s TRCA code does with one band); fb* variants use all sub-bands
    one = 1
    if name == "cca":
        return cca.CCA(list(stim_freqs), sfreq=sfreq, classes=list(labels), rest_label=rest)
    if name == "fbcca":
        return cca.FBCCA(
            list(stim_freqs), sfreq=sfreq, n_bands=fb, classes=list(labels), rest_label=rest
        )
    if name == "ecca":
        return cca.ExtendedCCA(list(stim_freqs), sfreq=sfreq, classes=list(labels), rest_label=rest)
    if name == "msetcca":
        return cca.MsetCCA(sfreq=sfreq, n_bands=one)
    if name in ("trca", "etrca", "fbtrca", "fbetrca"):
        return trca.TRCA(
            ensemble="etrca" in name, n_bands=fb if name.startswith("fb") else one, sfreq=sfreq
        )
    if name == "tdca":
        return trca.TDCA(
            list(stim_freqs), sfreq=sfreq, classes=list(labels), rest_label=rest, n_bands=one
        )
    if name == "riemann":
        return riemann.SSVEPRiemann(list(stim_freqs), sfreq=sfreq)
    if name == "guney":
        from ..models.ssvep import GuneySSVEPClassifier

        epochs, lr = check_deep_budget(deep_epochs, deep_lr)
        return GuneySSVEPClassifier(
            sfreq=sfreq,
            units="V",  # SSVEPData holds volts; the network is fed microvolts
            n_epochs_global=epochs,
            n_epochs_subject=max(1, epochs // 2),
            lr=lr,
            random_state=random_state,
        )
    raise InvalidParameterError(f"unknown SSVEP method {name!r}; choose from {', '.join(METHODS)}")


def protocol_splits(data, protocol: str, *, n_folds: int = 4, random_state: int = 0):
    """``[(train_idx, test_idx, test_block), ...]`` of ``protocol`` on ``data``'s trials."""
    if protocol not in PROTOCOLS:
        raise InvalidParameterError(f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    n = len(data.y)
    subject = np.zeros(n, int) if data.subject is None else np.asarray(data.subject)
    session = np.zeros(n, int) if data.session is None else np.asarray(data.session)
    block = session if data.block is None else np.asarray(data.block)
    idx = np.arange(n)
    splits = []
    if protocol == "cross-subject":
        if len(np.unique(subject)) < 2:
            raise InvalidParameterError("cross-subject needs at least two subjects in --data")
        for s in np.unique(subject):
            test = idx[subject == s]
            splits.append((idx[subject != s], test, block[test]))
    elif protocol == "within-session":
        for s in np.unique(subject):
            for ses in np.unique(session[subject == s]):
                cell = idx[(subject == s) & (session == ses)]
                counts = np.bincount(data.y[cell])
                k = min(n_folds, int(counts[counts > 0].min()))
                if k < 2:
                    continue
                folds = StratifiedKFold(k, shuffle=True, random_state=random_state)
                for f, (tr, te) in enumerate(folds.split(cell, data.y[cell])):
                    splits.append((cell[tr], cell[te], np.full(len(te), ses * 1000 + f)))
    else:
        unit = session if protocol == "cross-session" else block
        for s in np.unique(subject):
            mine = idx[subject == s]
            units = np.unique(unit[mine])
            if len(units) < 2:
                continue
            for u in units:
                test = mine[unit[mine] == u]
                splits.append((mine[unit[mine] != u], test, unit[test]))
    if not splits:
        raise InvalidParameterError(
            f"protocol {protocol!r} finds no split in {data.name or 'the data'}: it needs "
            "two sessions (cross-session) or two blocks (leave-one-block-out) per subject"
        )
    return splits


def _splits_for(name, protocol, data, splits):
    """The deep network learns across subjects (a global model, then one fine-tuned copy per
    subject), so under leave-one-block-out it is trained, as Guney et al. (2022) do, on the
    other blocks of *all* subjects at once; every trial is still tested exactly once."""
    if name != "guney" or protocol != "leave-one-block-out" or data.block is None:
        return splits
    idx = np.arange(len(data.y))
    block = np.asarray(data.block)
    return [(idx[block != b], idx[block == b], block[block == b]) for b in np.unique(block)]


def _calibrate_rest(est, X, y, rest):
    """Pick the no-control threshold that maximizes training accuracy (rest = below it)."""
    est.set_params(no_control_threshold=None)
    est.fit(X)
    scores = np.asarray(est.decision_function(X))
    best, pred = scores.max(axis=1), est.classes_[scores.argmax(axis=1)]
    candidates = np.unique(np.concatenate([[-np.inf], best]))
    acc = [np.mean(np.where(best < t, rest, pred) == y) for t in candidates]
    threshold = float(candidates[int(np.argmax(acc))])
    est.set_params(no_control_threshold=threshold if np.isfinite(threshold) else None)
    return est.fit(X)


def _fit_predict(name, est, X_tr, y_tr, X_te, groups_tr, groups_te, rest):
    if name in TRAINING_FREE:
        if rest is not None and np.any(y_tr == rest):
            est = _calibrate_rest(est, X_tr, y_tr, rest)
        else:
            est.fit(X_tr)
    elif name == "guney":
        est.fit(X_tr, y_tr, groups=groups_tr)
        return est.predict(X_te, groups=groups_te)
    else:
        est.fit(X_tr, y_tr)
    return est.predict(X_te)


def evaluate(
    data,
    methods,
    windows_s,
    protocol: str,
    *,
    gaze_shift_s: float = 0.5,
    n_folds: int = 4,
    deep_epochs: int = 100,
    deep_lr: float = DEEP_LR,
    random_state: int = 0,
    progress=None,
) -> list[dict]:
    """Accuracy and ITR of every method at every window length under ``protocol``.

    Parameters
    ----------
    data : SSVEPData
        Trials long enough for the longest window after the visual latency.
    methods : list of str
        Names from :data:`METHODS`.
    windows_s : list of float
        Window lengths in seconds.
    protocol : str
        One of :data:`PROTOCOLS`.
    gaze_shift_s : float
        Seconds added to each selection in the ITR.
    n_folds : int
        Folds of the within-session protocol.
    deep_epochs : int
        Training epochs of the deep network (stage 1; stage 2 gets half).
    deep_lr : float
        Adam learning rate of the deep network (1e-3; the reference's 1e-4 suits its 1000
        epochs, not a short budget).
    progress : callable | None
        Called with a line of text after each (method, window).

    Returns
    -------
    list of dict
        One row per (method, window): ``method``, ``protocol``, ``window_s``, ``accuracy``
        (0-1), ``itr_bits_per_min``, ``n_trials``, ``n_classes``, ``fit_predict_s``.
    """
    for m in methods:
        if m not in METHODS:
            raise InvalidParameterError(
                f"unknown SSVEP method {m!r}; choose from {', '.join(METHODS)}"
            )
    if "guney" in methods:
        check_deep_budget(deep_epochs, deep_lr)
    splits = protocol_splits(data, protocol, n_folds=n_folds, random_state=random_state)
    _, _, rest = _stimulus(data)
    n_classes = len(data.freqs)
    subject = np.zeros(len(data.y), int) if data.subject is None else np.asarray(data.subject)
    rows = []
    for window_s in windows_s:
        cropped = data.crop(float(window_s))
        X, y = cropped.X, cropped.y
        for name in methods:
            y_true, y_pred, blocks, subs = [], [], [], []
            t0 = time.perf_counter()
            for train, test, test_block in _splits_for(name, protocol, data, splits):
                est = make_method(
                    name, data, deep_epochs=deep_epochs, deep_lr=deep_lr, random_state=random_state
                )
                pred = _fit_predict(
                    name, est, X[train], y[train], X[test], subject[train], subject[test], rest
                )
                y_true.append(y[test])
                y_pred.append(np.asarray(pred).astype(y.dtype))
                blocks.append(test_block)
                subs.append(subject[test])
            spent = time.perf_counter() - t0
            y_true, y_pred = np.concatenate(y_true), np.concatenate(y_pred)
            row = {
                "method": name,
                "protocol": protocol,
                "window_s": float(window_s),
                "accuracy": float(np.mean(y_true == y_pred)),
                "itr_bits_per_min": itr_per_block(
                    y_true,
                    y_pred,
                    np.concatenate(blocks),
                    np.concatenate(subs),
                    n_classes,
                    float(window_s),
                    gaze_shift_s,
                ),
                "n_trials": int(len(y_true)),
                "n_classes": int(n_classes),
                "fit_predict_s": round(spent, 3),
            }
            rows.append(row)
            if progress is not None:
                progress(
                    f"{name:>8s} {window_s:5.2f} s  acc {row['accuracy']:.3f}  "
                    f"ITR {row['itr_bits_per_min']:7.2f} bits/min  ({spent:.1f} s)"
                )
    return rows


def format_table(rows: list[dict]) -> str:
    """A text table: one line per method, accuracy and ITR for each window length."""
    windows = sorted({r["window_s"] for r in rows})
    methods = list(dict.fromkeys(r["method"] for r in rows))
    cell = {(r["method"], r["window_s"]): r for r in rows}
    head = f"{'method':<10s}" + "".join(f"{w:>9.2f} s acc   ITR" for w in windows)
    lines = [head, "-" * len(head)]
    for m in methods:
        parts = []
        for w in windows:
            r = cell.get((m, w))
            parts.append(f"{r['accuracy']:>15.3f} {r['itr_bits_per_min']:6.1f}" if r else " " * 22)
        lines.append(f"{m:<10s}" + "".join(parts))
    return "\n".join(lines)
