"""SSVEP data access (SSVEPData, Kalunga / Tsinghua Benchmark / BETA loaders) and the
semi-synthetic phase-locked benchmark."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io as sio
from conftest import DATA

from neurokit.decoding.datasets import (
    BETA_FREQS,
    BETA_PHASES,
    OCCIPITAL_9,
    TSINGHUA_CH_NAMES,
    TSINGHUA_FREQS,
    TSINGHUA_PHASES,
    DatasetNotFoundError,
    SSVEPData,
    load_beta,
    load_kalunga2016,
    load_tsinghua_benchmark,
)
from neurokit.decoding.phase_locked import (
    background_from_shared,
    make_phase_locked_benchmark,
)
from neurokit.errors import CorruptRecordingError, InvalidParameterError

SSVEP_DIR = DATA / "ssvep"


def _need_shared():
    if not (SSVEP_DIR / "dataset.json").exists():
        pytest.skip(f"shared SSVEP recordings not found at {SSVEP_DIR} (set NEUROKIT_TEST_DATA)")


# ----------------------------------------------------------------------------- tables
def test_stimulus_tables_follow_the_published_order():
    assert TSINGHUA_FREQS[:9].tolist() == [8, 9, 10, 11, 12, 13, 14, 15, 8.2]
    assert TSINGHUA_FREQS[-1] == 15.8 and np.allclose(
        np.sort(TSINGHUA_FREQS), np.arange(40) * 0.2 + 8
    )
    # first two rows of Freq_Phase.mat, in units of pi
    assert np.allclose(TSINGHUA_PHASES[:16] / np.pi, [0, 0.5, 1, 1.5] * 2 + [0.5, 1, 1.5, 0] * 2)
    assert BETA_FREQS[:3].tolist() == [8.6, 8.8, 9.0] and BETA_FREQS[-3:].tolist() == [8, 8.2, 8.4]
    assert np.allclose(BETA_PHASES[:3] / np.pi, [1.5, 0, 0.5])
    assert [TSINGHUA_CH_NAMES.index(c) for c in OCCIPITAL_9] == [47, 53, 54, 55, 56, 57, 60, 61, 62]


# ----------------------------------------------------------------------------- SSVEPData
def _toy(n_times=500, tmin=-0.5):
    X = np.arange(4 * 2 * n_times, dtype=float).reshape(4, 2, n_times)
    return SSVEPData(
        X=X,
        y=[0, 1, 0, 1],
        freqs=[8.0, np.nan],
        sfreq=250.0,
        ch_names=["O1", "Oz"],
        block=[0, 0, 1, 1],
        tmin=tmin,
        visual_latency_s=0.14,
    )


def test_crop_is_relative_to_the_latency_shifted_onset():
    d = _toy()
    c = d.crop(0.4, start_s=0.06)
    i0 = int(round((0.14 + 0.06 + 0.5) * 250))
    assert c.X.shape == (4, 2, 100) and np.array_equal(c.X, d.X[..., i0 : i0 + 100])
    assert c.tmin == pytest.approx(0.2) and c.times[0] == pytest.approx(0.2)
    assert np.array_equal(c.crop(0.4, start_s=0.06).X, c.X)  # idempotent
    assert np.array_equal(d.crop(0.1, latency=False).X, d.X[..., 125:150])
    assert d.classes == ["8 Hz", "rest"]
    with pytest.raises(InvalidParameterError, match="outside the trials"):
        d.crop(2.0)


def test_subset_and_concat_keep_design_factors():
    d = _toy()
    s = d.subset(d.block == 1)
    assert s.n_trials == 2 and s.block.tolist() == [1, 1] and np.array_equal(s.X, d.X[2:])
    assert s.subset([1]).y.tolist() == [1]
    both = SSVEPData.concat([s, d.subset(d.block == 0)])
    assert both.block.tolist() == [1, 1, 0, 0] and both.trial_freqs[0] == 8.0
    with pytest.raises(InvalidParameterError, match="mask"):
        d.subset(np.ones(3, bool))
    with pytest.raises(InvalidParameterError, match="differ"):
        SSVEPData.concat([d, d.crop(0.2)])
    with pytest.raises(InvalidParameterError, match="y has 3"):
        SSVEPData(X=np.zeros((4, 1, 5)), y=[0, 0, 0], freqs=[8.0], sfreq=1.0, ch_names=["a"])


# ----------------------------------------------------------------------------- Tsinghua
def _benchmark_file(path, n_times=150, n_blocks=6, shape=None):
    """Tsinghua layout [64, n_times, 40, n_blocks] (int16 to keep it small): sample 0 encodes
    target and block, sample 1 the channel index."""
    data = np.zeros(shape or (64, n_times, 40, n_blocks), np.int16)
    if shape is None:
        data[:, 0] = (np.arange(40)[:, None] * 10 + np.arange(n_blocks))[None]
        data[:, 1] = np.arange(64)[:, None, None]
    sio.savemat(path, {"data": data})


@pytest.fixture(scope="module")
def benchmark_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tsinghua")
    for s in (1, 2):
        _benchmark_file(root / f"S{s}.mat")
    sio.savemat(
        root / "Freq_Phase.mat", {"freqs": TSINGHUA_FREQS[None], "phases": TSINGHUA_PHASES[None]}
    )
    loc = [f"{i + 1}\t0\t0.5\t{n.upper()}" for i, n in enumerate(TSINGHUA_CH_NAMES)]
    (root / "64-channels.loc").write_text("\n".join(loc) + "\n")
    return root


def test_tsinghua_loader_shapes_labels_units(benchmark_dir):
    d = load_tsinghua_benchmark(benchmark_dir)
    assert d.X.shape == (2 * 6 * 40, 9, 150) and d.X.dtype == np.float64
    assert d.ch_names == list(OCCIPITAL_9) and d.sfreq == 250.0 and d.tmin == -0.5
    assert np.array_equal(d.freqs, TSINGHUA_FREQS) and np.allclose(d.phases, TSINGHUA_PHASES)
    assert d.visual_latency_s == pytest.approx(0.14) and len(d.classes) == 40
    assert np.bincount(d.subject).tolist() == [0, 240, 240]
    assert np.bincount(d.y).tolist() == [12] * 40 and np.bincount(d.block).tolist() == [80] * 6
    # microvolts -> volts, target/block/channel mapping preserved
    assert np.allclose(d.X[:, 0, 0], (d.y * 10 + d.block) * 1e-6)
    assert np.allclose(d.X[0, :, 1], np.array([47, 53, 54, 55, 56, 57, 60, 61, 62]) * 1e-6)
    one = load_tsinghua_benchmark(
        benchmark_dir, subjects=[2], picks=["oz", "O1"], window_s=0.1, start_s=-0.64
    )
    assert one.ch_names == ["Oz", "O1"] and one.X.shape == (240, 2, 25)
    assert set(one.subject) == {2} and np.allclose(one.X[:, 0, 0], (one.y * 10 + one.block) * 1e-6)
    assert load_tsinghua_benchmark(benchmark_dir, [1], picks="all").X.shape[1] == 64


def test_tsinghua_accepts_the_moabb_layout(tmp_path):
    files = tmp_path / "MNE-wang-data" / "records" / "14865172" / "files"
    files.mkdir(parents=True)
    _benchmark_file(files / "S3.mat", n_times=130, n_blocks=2)
    for folder in (tmp_path, tmp_path / "MNE-wang-data", files):
        d = load_tsinghua_benchmark(folder)
        assert d.X.shape == (80, 9, 130) and set(d.subject) == {3}
        assert np.array_equal(d.freqs, TSINGHUA_FREQS)  # built-in table (no Freq_Phase.mat)


def test_tsinghua_errors_name_the_file_and_expectation(tmp_path, benchmark_dir):
    with pytest.raises(DatasetNotFoundError, match="folder not found") as err:
        load_tsinghua_benchmark(tmp_path / "absent")
    assert isinstance(err.value, FileNotFoundError)
    with pytest.raises(DatasetNotFoundError, match=r"subjects \[7\]"):
        load_tsinghua_benchmark(benchmark_dir, subjects=[7])
    with pytest.raises(DatasetNotFoundError, match="no S<n>.mat"):
        load_tsinghua_benchmark(tmp_path)
    _benchmark_file(tmp_path / "S1.mat", shape=(64, 20, 6, 40))
    with pytest.raises(CorruptRecordingError, match=r"S1\.mat.*\(64, 20, 6, 40\).*40 targets"):
        load_tsinghua_benchmark(tmp_path)
    with pytest.raises(InvalidParameterError, match="picks"):
        load_tsinghua_benchmark(benchmark_dir, [1], picks=["Xx"])


# ----------------------------------------------------------------------------- BETA
def _beta_file(path, n_times, phases_in_pi=False):
    eeg = np.zeros((64, n_times, 4, 40), np.int16)
    eeg[:, 0] = (np.arange(4)[:, None] * 100 + np.arange(40))[None]
    chan = np.empty((64, 4), object)
    for i, name in enumerate(TSINGHUA_CH_NAMES):
        chan[i] = [float(i + 1), 0.0, 0.5, name.upper()]
    phases = BETA_PHASES / np.pi if phases_in_pi else BETA_PHASES
    info = {"freqs": BETA_FREQS, "phases": phases, "chan": chan, "srate": 250.0, "sub": "S"}
    sio.savemat(path, {"data": {"EEG": eeg, "suppl_info": info}})


def test_beta_loader(tmp_path):
    _beta_file(tmp_path / "S1.mat", 150, phases_in_pi=True)
    _beta_file(tmp_path / "S16.mat", 175)
    d = load_beta(tmp_path)
    assert d.X.shape == (2 * 4 * 40, 9, 150)  # cut to the shortest subject
    assert d.ch_names == list(OCCIPITAL_9) and d.visual_latency_s == pytest.approx(0.13)
    assert np.array_equal(d.freqs, BETA_FREQS) and np.allclose(d.phases, BETA_PHASES)
    assert sorted(set(d.subject)) == [1, 16] and np.bincount(d.block).tolist() == [80] * 4
    assert np.allclose(d.X[:, 0, 0], (d.block * 100 + d.y) * 1e-6)
    _benchmark_file(tmp_path / "S9.mat", n_times=10, n_blocks=1)
    with pytest.raises(CorruptRecordingError, match="S9.mat.*struct 'data'"):
        load_beta(tmp_path, subjects=[9])
    with pytest.raises(DatasetNotFoundError):
        load_beta(tmp_path / "nope")


# ----------------------------------------------------------------------------- Kalunga
def test_kalunga_loader_units_dedup_and_blocks():
    _need_shared()
    d = load_kalunga2016(SSVEP_DIR, subjects=[3, 7], window_s=2.0)
    # subject 03: 2 sessions, subject 07: 3 sessions minus the shared recording
    assert d.X.shape == (4 * 32, 8, 512) and d.sfreq == 256.0
    assert d.classes == ["rest", "13 Hz", "17 Hz", "21 Hz"] and np.isnan(d.freqs[0])
    assert np.bincount(d.y).tolist() == [32] * 4 and d.phases is None
    assert d.meta["dropped"] == ["subject 07 20120711T153308 (duplicate recording)"]
    assert np.array_equal(d.block, d.session)
    assert sorted(zip(d.subject[::32], d.session[::32])) == [(3, 0), (3, 1), (7, 0), (7, 1)]
    flat = d.X.reshape(len(d.X), -1)
    assert len(np.unique(flat, axis=0)) == len(flat)  # no trial twice
    # volts: a few microvolts after removing the offset
    std = np.median((d.X - d.X.mean(-1, keepdims=True)).std(-1))
    assert 1e-6 < std < 1e-4


# ----------------------------------------------------------------------------- benchmark
def _array_background(n=500, seed=1):
    rng = np.random.default_rng(seed)
    return (
        np.cumsum(rng.standard_normal((n, 8, 400)), axis=-1) * 1e-7
        + rng.standard_normal((n, 8, 400)) * 3e-6
    )


@pytest.fixture(scope="module")
def small_bench():
    bg = _array_background()
    kw = dict(n_subjects=2, n_blocks=6, snr_db=-8.0, seed=3)
    return bg, kw, make_phase_locked_benchmark(bg, **kw)


def test_benchmark_layout_and_reproducibility(small_bench):
    bg, kw, d = small_bench
    assert d.X.shape == (480, 8, 375) and d.tmin == -0.25 and d.sfreq == 250.0
    assert np.array_equal(d.freqs, TSINGHUA_FREQS) and np.allclose(d.phases, TSINGHUA_PHASES)
    assert d.y[:41].tolist() == list(range(40)) + [0]
    assert np.bincount(d.block).tolist() == [80] * 6 and np.bincount(d.subject).tolist() == [
        0,
        240,
        240,
    ]
    again = make_phase_locked_benchmark(bg, **kw)
    assert np.array_equal(again.X, d.X) and np.array_equal(again.y, d.y)
    other = make_phase_locked_benchmark(bg, **{**kw, "seed": 4})
    assert not np.allclose(other.X, d.X)


def test_benchmark_never_reuses_background(small_bench):
    bg, _, d = small_bench
    idx = d.meta["background_index"]
    assert len(np.unique(idx)) == len(idx) == d.n_trials
    # before the earliest possible response only the background is there
    pre = d.X[..., : int(0.25 * 250)]
    assert np.allclose(pre, bg[idx, :, : pre.shape[-1]])
    with pytest.raises(InvalidParameterError, match="needs 960 segments"):
        make_phase_locked_benchmark(bg, n_subjects=4)


def test_benchmark_is_phase_locked(small_bench):
    bg, _, d = small_bench
    sig = (d.X - bg[d.meta["background_index"], :, : d.X.shape[-1]])[..., 100:]
    sub = sig[d.subject == 1].reshape(6, 40, -1)  # block, target, channels*time
    tmpl = sub[:5].mean(0)
    held = sub[5]
    r = np.corrcoef(np.vstack([held, tmpl]))[:40, 40:]
    assert np.all(np.diag(r) > 0.5)
    assert np.all(np.diag(r) > r.max(axis=1, where=~np.eye(40, dtype=bool), initial=-1) + 0.2)


def test_benchmark_input_errors():
    bg = _array_background(n=300)
    with pytest.raises(InvalidParameterError, match="n_subjects"):
        make_phase_locked_benchmark(bg, n_subjects=0)
    with pytest.raises(InvalidParameterError, match="at least 500 samples"):
        make_phase_locked_benchmark(bg, n_subjects=1, duration_s=1.75)
    with pytest.raises(InvalidParameterError, match=r"\[n_segments"):
        make_phase_locked_benchmark(bg[0])


def test_background_from_shared_missing_folder(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="ssvep"):
        background_from_shared(tmp_path)


def _cca_accuracy(X, y, freqs, sfreq, n_harmonics=5):
    t = np.arange(X.shape[-1]) / sfreq
    Qx = np.linalg.qr(np.swapaxes(X - X.mean(-1, keepdims=True), 1, 2))[0]  # (n, t, c)
    scores = np.empty((len(X), len(freqs)))
    for k, f in enumerate(freqs):
        Y = np.stack(
            [
                fn(2 * np.pi * h * f * t)
                for h in range(1, n_harmonics + 1)
                for fn in (np.sin, np.cos)
            ],
            axis=1,
        )
        Qy = np.linalg.qr(Y - Y.mean(0))[0]
        scores[:, k] = np.linalg.svd(np.swapaxes(Qx, 1, 2) @ Qy, compute_uv=False)[:, 0]
    return np.mean(scores.argmax(1) == y)


def _etrca_accuracy(d):
    """Leave-one-block-out ensemble TRCA (one filter per class), per subject."""
    accs = []
    for s in np.unique(d.subject):
        sub = d.subset(d.subject == s)
        X = sub.X - sub.X.mean(-1, keepdims=True)
        for b in np.unique(sub.block):
            tr, te = sub.block != b, sub.block == b
            T, W = [], []
            for k in range(40):
                Xk = X[tr & (sub.y == k)]
                S = Xk.sum(0) @ Xk.sum(0).T - np.einsum("nct,ndt->cd", Xk, Xk)
                Q = np.einsum("nct,ndt->cd", Xk, Xk)
                vals, vecs = np.linalg.eig(np.linalg.solve(Q, S))
                W.append(np.real(vecs[:, np.argmax(np.real(vals))]))
                T.append(Xk.mean(0))
            W = np.stack(W, 1)
            A = np.einsum("cj,nct->njt", W, X[te]).reshape(te.sum(), -1)
            B = np.einsum("cj,kct->kjt", W, np.stack(T)).reshape(40, -1)
            A, B = A - A.mean(1, keepdims=True), B - B.mean(1, keepdims=True)
            r = A @ B.T / np.outer(np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1))
            accs.append(np.mean(r.argmax(1) == sub.y[te]))
    return float(np.mean(accs))


def test_shared_background_and_default_difficulty():
    _need_shared()
    from scipy.signal import butter, sosfiltfilt

    bg = background_from_shared(DATA)
    assert bg.data.shape[1:] == (8, 375) and bg.sfreq == 250.0 and len(bg.data) >= 1920
    for src in np.unique(bg.source):  # segments of one recording never overlap
        starts = np.sort(bg.start_s[bg.source == src])
        assert np.all(np.diff(starts) >= 1.5 - 1e-9)
    assert not any("sub-07/20120711T153308" in s for s in bg.source)  # duplicate read once
    d = make_phase_locked_benchmark(bg, n_subjects=2, seed=0)
    assert np.all(np.isin(d.meta["background_source"], bg.source))
    d.X = sosfiltfilt(butter(4, [6, 90], "band", fs=250, output="sos"), d.X, axis=-1)
    acc = {
        w: (_cca_accuracy(c.X, c.y, c.freqs, 250.0), _etrca_accuracy(c))
        for w in (0.3, 1.0)
        for c in [d.crop(w)]
    }
    assert 0.3 <= acc[1.0][0] <= 0.9  # CCA moderate on 1-s windows
    assert acc[0.3][1] > acc[0.3][0] + 0.15  # templates clearly better on short windows
