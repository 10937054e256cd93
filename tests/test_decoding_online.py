"""Streaming SSVEP decoder, evaluation protocols and ``neurokit ssvep evaluate``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurokit.decoding.datasets import SSVEPData
from neurokit.decoding.evaluation import evaluate, format_table, protocol_splits
from neurokit.decoding.online import StreamingDecoder
from neurokit.errors import InvalidParameterError

SFREQ = 250.0
FREQS = [8.0, 10.0, 12.0, 15.0]


def _trials(n_per_class=6, seconds=2.0, snr=0.6, seed=0, n_subjects=2, n_blocks=3):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SFREQ)) / SFREQ
    X, y, subject, block = [], [], [], []
    for s in range(n_subjects):
        mixing = rng.standard_normal(6)
        for b in range(n_blocks):
            for k, f in enumerate(FREQS):
                for _ in range(n_per_class // n_blocks):
                    phase = rng.uniform(0, 2 * np.pi)
                    src = np.sin(2 * np.pi * f * t + phase) + 0.5 * np.sin(4 * np.pi * f * t)
                    X.append(snr * mixing[:, None] * src + rng.standard_normal((6, t.size)))
                    y.append(k)
                    subject.append(s)
                    block.append(b)
    return SSVEPData(
        X=np.array(X) * 1e-6,
        y=np.array(y),
        freqs=np.array(FREQS),
        sfreq=SFREQ,
        ch_names=[f"O{i}" for i in range(6)],
        subject=np.array(subject),
        session=np.zeros(len(y), int),
        block=np.array(block),
        name="toy",
    )


def test_streaming_decoder_decides_at_max_window_without_threshold():
    from neurokit.decoding import CCA

    data = _trials()
    dec = StreamingDecoder(
        CCA(FREQS, sfreq=SFREQ, classes=[0, 1, 2, 3]), sfreq=SFREQ, max_window_s=1.0
    ).fit(None)
    hits = 0
    for trial, label in zip(data.X, data.y):
        d = dec.decide(trial)
        assert d.window_s == pytest.approx(1.0)
        assert not d.early and 0 < d.confidence <= 1
        hits += d.label == label
    assert hits / len(data.y) > 0.8


def test_streaming_decoder_chunks_and_dynamic_stopping():
    from neurokit.decoding import CCA

    data = _trials(snr=2.0)
    dec = StreamingDecoder(
        CCA(FREQS, sfreq=SFREQ, classes=[0, 1, 2, 3]),
        sfreq=SFREQ,
        min_window_s=0.3,
        step_s=0.1,
        max_window_s=1.5,
        threshold=0.6,
    ).fit(None)
    dec.start_trial()
    trial = data.X[0]
    decision = None
    for start in range(0, trial.shape[1], 7):  # odd chunk size
        decision = dec.push(trial[:, start : start + 7])
        if decision is not None:
            break
    assert decision is not None and decision.early
    assert decision.window_s < 1.5 and decision.confidence >= 0.6
    assert decision.n_samples >= int(decision.window_s * SFREQ)
    assert dec.push(trial[:, :10]) is None  # ignored until the next trial
    windows = [dec.decide(x).window_s for x in data.X[:8]]
    assert min(windows) < 1.5


def test_streaming_decoder_trained_estimator_per_decision_point():
    from neurokit.decoding import TRCA

    data = _trials(n_subjects=1)
    dec = StreamingDecoder(
        TRCA(ensemble=True), sfreq=SFREQ, min_window_s=0.5, max_window_s=1.0, step_s=0.25
    ).fit(data.X, data.y)
    assert sorted(dec.estimators_) == [125, 188, 250]
    assert all(e.classes_.tolist() == [0, 1, 2, 3] for e in dec.estimators_.values())


def test_streaming_decoder_errors():
    from neurokit.decoding import CCA

    with pytest.raises(InvalidParameterError, match="min_window_s"):
        StreamingDecoder(CCA(FREQS, sfreq=SFREQ), sfreq=SFREQ, max_window_s=1, min_window_s=2)
    with pytest.raises(InvalidParameterError, match="threshold"):
        StreamingDecoder(CCA(FREQS, sfreq=SFREQ), sfreq=SFREQ, max_window_s=1, threshold=2)
    dec = StreamingDecoder(CCA(FREQS, sfreq=SFREQ), sfreq=SFREQ, max_window_s=1)
    with pytest.raises(InvalidParameterError, match="not fitted"):
        dec.push(np.zeros((6, 10)))
    dec.fit(None)
    with pytest.raises(InvalidParameterError, match="n_channels, n_samples"):
        dec.push(np.zeros(10))
    with pytest.raises(InvalidParameterError, match="samples"):
        dec.decide(np.zeros((6, 100)))


@pytest.mark.parametrize("protocol", ["within-session", "cross-subject", "leave-one-block-out"])
def test_protocol_splits_partition_the_trials(protocol):
    data = _trials()
    splits = protocol_splits(data, protocol)
    test = np.concatenate([te for _, te, _ in splits])
    assert sorted(test.tolist()) == list(range(len(data.y)))  # each trial tested once
    for tr, te, _ in splits:
        assert not set(tr) & set(te)
        if protocol == "cross-subject":
            assert not set(data.subject[tr]) & set(data.subject[te])
        if protocol == "leave-one-block-out":
            assert len(set(data.subject[te])) == 1 and len(set(data.block[te])) == 1


def test_protocol_errors():
    data = _trials(n_subjects=1)
    with pytest.raises(InvalidParameterError, match="two subjects"):
        protocol_splits(data, "cross-subject")
    with pytest.raises(InvalidParameterError, match="no split"):
        protocol_splits(data, "cross-session")
    with pytest.raises(InvalidParameterError, match="protocol"):
        protocol_splits(data, "random")


def test_evaluate_rows_and_table():
    data = _trials()
    rows = evaluate(data, ["cca", "etrca"], [0.5, 1.0], "leave-one-block-out")
    assert [(r["method"], r["window_s"]) for r in rows] == [
        ("cca", 0.5),
        ("etrca", 0.5),
        ("cca", 1.0),
        ("etrca", 1.0),
    ]
    for r in rows:
        assert 0 <= r["accuracy"] <= 1 and r["itr_bits_per_min"] >= 0
        assert r["n_trials"] == len(data.y)
    cca_1s = next(r for r in rows if r["method"] == "cca" and r["window_s"] == 1.0)
    assert cca_1s["accuracy"] > 0.7 and cca_1s["itr_bits_per_min"] > 10
    assert "etrca" in format_table(rows)
    with pytest.raises(InvalidParameterError, match="unknown SSVEP method"):
        evaluate(data, ["nope"], [1.0], "within-session")


def test_evaluate_rest_class_with_training_free_method():
    data = _trials(seed=3)
    rng = np.random.default_rng(0)
    n_rest = 12
    rest = rng.standard_normal((n_rest, 6, data.X.shape[-1])) * 1e-6
    data = SSVEPData(
        X=np.concatenate([data.X, rest]),
        y=np.concatenate([data.y + 1, np.zeros(n_rest, int)]),
        freqs=np.array([np.nan] + FREQS),
        sfreq=SFREQ,
        ch_names=data.ch_names,
        subject=np.concatenate([data.subject, np.arange(n_rest) % 2]),
        session=np.zeros(len(data.y) + n_rest, int),
        block=np.concatenate([data.block, np.arange(n_rest) % 3]),
        name="toy+rest",
    )
    row = evaluate(data, ["cca"], [1.0], "cross-subject")[0]
    assert row["n_classes"] == 5
    assert row["accuracy"] > 0.6  # rest trials are recognised through the calibrated threshold


def test_cli_ssvep_evaluate_on_shared_data(tmp_path, capsys):
    from pathlib import Path

    from neurokit.cli import main

    root = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    if not (root / "ssvep").is_dir():
        pytest.skip("shared data folder ../shared/data/ssvep is absent")
    out = tmp_path / "rows.json"
    code = main(
        [
            "ssvep", "evaluate", "--data", str(root / "ssvep"), "--methods", "cca,fbcca",
            "--window-s", "1", "--protocol", "within-session", "--subjects", "1", "--quiet",
            "--json", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    rows = json.loads(out.read_text())
    assert {r["method"] for r in rows} == {"cca", "fbcca"}
    assert set(rows[0]) >= {"method", "protocol", "window_s", "accuracy", "itr_bits_per_min"}
    assert "fbcca" in capsys.readouterr().out
    assert main(["ssvep", "evaluate", "--data", str(tmp_path / "nope"), "--quiet"]) == 2
