"""ITR, accuracy and confusion matrix of ``neurokit.decoding.metrics``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurokit.decoding.metrics import accuracy, confusion_matrix, itr, itr_per_block
from neurokit.errors import InvalidParameterError


def _bits(n, p):
    """Wolpaw bits per selection written out term by term (0 < p < 1)."""
    return math.log2(n) + p * math.log2(p) + (1 - p) * math.log2((1 - p) / (n - 1))


def test_itr_perfect_accuracy_is_log2_n_per_selection():
    # 40 targets, 1 s window + 0.5 s gaze shift: log2(40) * 60 / 1.5
    assert itr(40, 1.0, 1.0, gaze_shift_s=0.5) == pytest.approx(212.877, abs=1e-3)
    assert itr(40, 1.0, 1.0) == pytest.approx(math.log2(40) * 40)


@pytest.mark.parametrize(
    ("n", "p", "window_s", "gaze_s"),
    [(4, 0.9, 2.0, 0.5), (2, 0.75, 1.0, 0.0), (40, 0.6, 0.5, 0.5), (12, 0.95, 3.0, 1.0)],
)
def test_itr_matches_hand_computed_values(n, p, window_s, gaze_s):
    expected = _bits(n, p) * 60.0 / (window_s + gaze_s)
    assert itr(n, p, window_s, gaze_shift_s=gaze_s) == pytest.approx(expected, rel=1e-12)


def test_itr_known_numbers():
    # 4 targets at 90 %: 2 + 0.9 log2 0.9 + 0.1 log2(0.1 / 3) = 1.37251 bits; 2.5 s per selection
    assert itr(4, 0.9, 2.0, 0.5) == pytest.approx(32.940, abs=1e-3)
    # 2 targets at 75 %, no gaze shift: 0.188722 bits per second
    assert itr(2, 0.75, 1.0, 0.0) == pytest.approx(11.3233, abs=1e-4)


def test_itr_at_or_below_chance_is_zero_and_arrays_work():
    assert itr(4, 0.25, 1.0) == 0.0
    assert itr(4, 0.1, 1.0) == 0.0
    assert itr(4, 0.0, 1.0) == 0.0
    out = itr(4, [0.0, 0.25, 0.9, 1.0], 2.0)
    assert out.shape == (4,)
    assert np.allclose(out, [0.0, 0.0, _bits(4, 0.9) * 24.0, 2.0 * 24.0])
    assert np.all(np.diff(itr(8, np.linspace(1 / 8, 1, 20), 1.0)) > 0)  # increasing above chance


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_classes=1, accuracy=0.5, window_s=1.0),
        dict(n_classes=4, accuracy=1.2, window_s=1.0),
        dict(n_classes=4, accuracy=np.nan, window_s=1.0),
        dict(n_classes=4, accuracy=0.5, window_s=0.0),
        dict(n_classes=4, accuracy=0.5, window_s=1.0, gaze_shift_s=-1.0),
    ],
)
def test_itr_rejects_bad_input(kwargs):
    with pytest.raises(InvalidParameterError):
        itr(**kwargs)


def test_itr_per_block_averages_subject_block_cells():
    # subject a: block 1 all correct, block 2 half correct; subject b: 3/4 and 1/4 correct
    y_true = np.zeros(16, int)
    hits = [1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0]
    y_pred = np.where(np.asarray(hits) == 1, 0, 1)
    subjects = np.repeat(["a", "b"], 8)
    blocks = np.tile(np.repeat([1, 2], 4), 2)
    got = itr_per_block(y_true, y_pred, blocks, subjects, 4, 1.0, 0.5)
    cells = [itr(4, p, 1.0, 0.5) for p in (1.0, 0.5, 0.75, 0.25)]
    assert got == pytest.approx(np.mean(cells))
    assert got != pytest.approx(itr(4, np.mean(hits), 1.0, 0.5))  # not the ITR of the mean
    with pytest.raises(InvalidParameterError, match="blocks"):
        itr_per_block(y_true, y_pred, blocks[:3], subjects, 4, 1.0)


def test_accuracy_and_confusion_matrix():
    y_true = ["13", "17", "21", "13", "rest"]
    y_pred = ["13", "21", "21", "13", "13"]
    assert accuracy(y_true, y_pred) == pytest.approx(0.6)
    cm = confusion_matrix(y_true, y_pred, labels=["13", "17", "21", "rest"])
    assert cm.tolist() == [[2, 0, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [1, 0, 0, 0]]
    norm = confusion_matrix(y_true, y_pred, labels=["13", "17", "21", "rest"], normalize="true")
    assert np.allclose(norm.sum(axis=1), 1.0)
    with pytest.raises(InvalidParameterError):
        accuracy([1, 2], [1])
