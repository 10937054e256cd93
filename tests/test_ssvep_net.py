"""GuneySSVEPNet (Guney et al. 2022 SSVEP network) and its two-stage GuneySSVEPClassifier."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import signal

from neurokit.decoding.evaluation import evaluate, make_method
from neurokit.decoding.filterbank import FilterBank
from neurokit.decoding.phase_locked import make_phase_locked_benchmark
from neurokit.errors import InvalidParameterError
from neurokit.models.ssvep import GuneySSVEPClassifier, GuneySSVEPNet, subband_stack
from neurokit.training import from_pretrained, save_pretrained

SFREQ, N_CHANS, N_TIMES = 250.0, 8, 125  # 0.5 s windows


@pytest.fixture(autouse=True)
def _one_thread():
    """Small models: one thread is fastest, and immune to a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _net(**kwargs):
    torch.manual_seed(0)
    kwargs = {"n_chans": N_CHANS, "n_outputs": 4, "n_times": N_TIMES, "sfreq": SFREQ, **kwargs}
    return GuneySSVEPNet.from_preset("tiny", **kwargs)


def _ssvep(n_subjects=3, n_per_class=10, seed=0, noise=4.0):
    """Phase-locked SSVEP trials in uV: 4 targets (9/11/13/15 Hz, phases 0, pi/2, pi, 3pi/2,
    with a second harmonic), a subject-specific channel mixing and latency, white noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(N_TIMES) / SFREQ
    X, y, groups = [], [], []
    for subject in range(n_subjects):
        sub = np.random.default_rng(100 + subject)  # the same subjects in every split
        mix, lag = sub.normal(1.0, 0.3, size=(N_CHANS, 2)), sub.uniform(0.0, 0.03)
        for k, f in enumerate((9.0, 11.0, 13.0, 15.0)):
            phase = k * np.pi / 2
            src = np.stack(
                [
                    np.sin(2 * np.pi * f * (t - lag) + phase),
                    0.5 * np.sin(4 * np.pi * f * (t - lag) + 2 * phase),
                ]
            )
            for _ in range(n_per_class):
                X.append(mix @ src + noise * rng.standard_normal((N_CHANS, N_TIMES)))
                y.append(k)
                groups.append(f"s{subject}")
    return np.asarray(X), np.asarray(y), np.asarray(groups)


def _clf(**kwargs):
    params = dict(
        sfreq=SFREQ, n_spatial=8, lr=1e-3, n_epochs_global=20, n_epochs_subject=5,
        batch_size=16, device="cpu", random_state=0,
    )  # fmt: skip
    return GuneySSVEPClassifier(**{**params, **kwargs})


@pytest.fixture(scope="module")
def fitted():
    torch.set_num_threads(1)
    X, y, groups = _ssvep()
    return _clf().fit(X, y, groups)


# ---------------------------------------------------------------------------------- filter bank
def test_filter_bank_of_the_reference():
    bank = FilterBank.guney2022(SFREQ, 3)
    assert bank.passbands == [(8.0, 90.0), (16.0, 90.0), (24.0, 90.0)]
    # MATLAB's 'FilterOrder', 2 band-pass = one second-order section per band
    assert [np.asarray(sos).shape for sos in bank.sos] == [(1, 6)] * 3
    _, h = signal.sosfreqz(bank.sos[0], worN=[8.0, 40.0, 90.0, 4.0, 118.0], fs=SFREQ)
    gain_db = 20 * np.log10(np.abs(h))
    np.testing.assert_allclose(gain_db[[0, 2]], -1.0, atol=1e-6)  # 1 dB ripple at the edges
    assert -1.0 <= gain_db[1] <= 0.0 and gain_db[3] < -3.0 and gain_db[4] < -3.0
    X = np.random.default_rng(0).standard_normal((2, N_CHANS, N_TIMES))
    stack = subband_stack(X, SFREQ)
    assert stack.shape == (2, 3, N_CHANS, N_TIMES) and stack.dtype == np.float32
    np.testing.assert_allclose(stack[:, 1], bank.apply(X)[1], rtol=1e-5, atol=1e-5)
    assert FilterBank.guney2022(100.0, 2).passbands[0][1] == pytest.approx(45.0)  # capped
    with pytest.raises(InvalidParameterError, match="n_bands"):
        FilterBank.guney2022(SFREQ, 0)
    with pytest.raises(InvalidParameterError, match="n_times"):
        subband_stack(X[0], SFREQ)


# ---------------------------------------------------------------------------------- network
def test_shapes_features_head_and_config():
    net = _net().eval()
    x = torch.randn(2, 3, N_CHANS, N_TIMES)
    assert net(x).shape == (2, 4)
    assert (net.stride, net.kernel_size, net.n_frames) == (2, 10, 62)
    features = net.forward_features(x)
    assert features.shape == (2, 8 * 62)
    assert torch.allclose(net.forward_head(features), net(x))
    assert list(dict(net.named_children()))[-1] == "head"
    assert torch.allclose(net(x.reshape(2, 3 * N_CHANS, N_TIMES)), net(x))  # band-major 3-d
    config = net.get_config()
    assert config["name"] == "guney_ssvep" == GuneySSVEPNet.name
    assert config["input"] == {"sfreq": SFREQ, "n_times": N_TIMES, "channel_types": None}
    # kernel and stride follow the sampling rate: 2 and 10 samples at 250 Hz, 4 and 20 at 500 Hz
    fast = _net(sfreq=500.0, n_times=250)
    assert (fast.stride, fast.kernel_size, fast(torch.randn(1, 3, N_CHANS, 250)).shape[1]) == (
        4,
        20,
        4,
    )
    # braindecode signal arguments: channels from chs_info, samples from the window length
    alt = GuneySSVEPNet(
        chs_info=[{"ch_name": f"E{i}"} for i in range(5)], n_outputs=3,
        input_window_seconds=0.4, sfreq=SFREQ, n_spatial=4,
    )  # fmt: skip
    assert (alt.n_chans, alt.n_times) == (5, 100)
    with pytest.raises(TypeError):
        GuneySSVEPNet(N_CHANS, 4, N_TIMES)  # keyword-only
    with pytest.raises(InvalidParameterError, match="3 sub-bands"):
        net(torch.randn(2, N_CHANS, N_TIMES))
    with pytest.raises(InvalidParameterError, match="n_times is None"):
        GuneySSVEPNet(n_chans=N_CHANS, n_outputs=4)
    with pytest.raises(InvalidParameterError, match="drop_prob_final"):
        _net(drop_prob_final=1.0)
    with pytest.raises(InvalidParameterError, match="unknown preset"):
        GuneySSVEPNet.from_preset("huge")


def test_same_padding_puts_the_extra_zero_on_the_right():
    net = _net().eval()
    h = torch.randn(2, 8, 1, 62)
    ours = net.temporal(F.pad(h, net._pad))
    with warnings.catch_warnings():  # torch notes that even kernels need a padded copy
        warnings.simplefilter("ignore", UserWarning)
        ref = F.conv2d(h, net.temporal.weight, net.temporal.bias, padding="same")
    assert net._pad[:2] == (4, 5) and torch.allclose(ours, ref, atol=1e-6)


def test_initialization():
    net = _net(n_spatial=120)  # the reference width, for the statistics
    assert net.band_combine.bias is None
    assert torch.equal(net.band_combine.weight, torch.ones(1, 3, 1, 1))
    for layer in (net.spatial, net.downsample, net.temporal, net.head):
        w = layer.weight.detach()
        assert abs(float(w.std()) - 0.01) < 0.001 and abs(float(w.mean())) < 0.002
        assert torch.count_nonzero(layer.bias) == 0
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    net.reset_parameters(g1)
    first = net.head.weight.clone()
    net.reset_parameters(g2)
    assert torch.equal(first, net.head.weight)


def test_gradient_reaches_every_parameter():
    net = _net().train()
    x, y = torch.randn(6, 3, N_CHANS, N_TIMES) * 10, torch.arange(6) % 4
    F.cross_entropy(net(x), y).backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.count_nonzero(p.grad) > 0, name


def test_set_dropout_and_save_load_round_trip(tmp_path):
    net = _net().eval()
    net.set_dropout(spatial=0.6, downsample=0.6)
    assert (net.drop_spatial.p, net.drop_downsample.p, net.drop_final.p) == (0.6, 0.6, 0.95)
    with pytest.raises(InvalidParameterError, match="drop_prob_spatial"):
        net.set_dropout(spatial=-0.1)
    x = torch.randn(3, 3, N_CHANS, N_TIMES)
    save_pretrained(net, tmp_path / "a")
    back = from_pretrained(tmp_path / "a", {GuneySSVEPNet.name: GuneySSVEPNet}).eval()
    assert torch.equal(back(x), net(x))
    assert (back.drop_spatial.p, back.drop_downsample.p, back.drop_final.p) == (0.6, 0.6, 0.95)
    net.save_pretrained(tmp_path / "b")
    assert torch.equal(GuneySSVEPNet.from_pretrained(tmp_path / "b").eval()(x), net(x))


def test_eeg_classifier_compatibility():
    braindecode = pytest.importorskip("braindecode")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((24, 3, N_CHANS, N_TIMES)).astype(np.float32)
    y = np.arange(24) % 4
    clf = braindecode.EEGClassifier(
        GuneySSVEPNet, module__sfreq=SFREQ, module__n_spatial=4, max_epochs=2, batch_size=8,
        train_split=None, optimizer=torch.optim.Adam, optimizer__lr=1e-3, device="cpu",
        verbose=0,
    )  # fmt: skip
    clf.fit(X, y)
    # n_chans, n_times and n_outputs are inferred from the [b, n_bands, c, t] array
    assert (clf.module_.n_chans, clf.module_.n_times, clf.module_.n_outputs) == (8, 125, 4)
    assert len(clf.history) == 2
    assert clf.predict_proba(X).shape == (24, 4) and set(clf.predict(X)) <= set(range(4))


# ---------------------------------------------------------------------------------- classifier
def test_two_stage_classifier_learns_ssvep(fitted):
    X, y, groups = _ssvep(n_per_class=5, seed=1)
    subject_acc = float(np.mean(fitted.predict(X, groups) == y))
    global_acc = float(np.mean(fitted.predict(X) == y))
    assert subject_acc > 0.6 and global_acc > 0.6  # chance: 0.25
    assert sorted(fitted.subject_models_) == ["s0", "s1", "s2"]
    assert fitted.history_["global"][-1]["step"] == 20 * (120 // 16)
    assert (
        len(fitted.history_["subjects"]["s0"]) == 5
    )  # one record per epoch; one batch per subject
    proba = fitted.predict_proba(X, groups)
    assert proba.shape == (60, 4) and np.allclose(proba.sum(1), 1.0)


def test_stage_two_dropouts(fitted):
    g = fitted.global_model_
    assert (g.drop_spatial.p, g.drop_downsample.p, g.drop_final.p) == (0.1, 0.1, 0.95)
    for model in fitted.subject_models_.values():
        assert (model.drop_spatial.p, model.drop_downsample.p, model.drop_final.p) == (
            0.6,
            0.6,
            0.95,
        )
        assert model.config["drop_prob_spatial"] == 0.6
        assert not torch.equal(model.head.weight, g.head.weight)  # fine-tuned
    # stage 1 trained every layer, the sub-band weights (initialised to one) included
    assert not torch.equal(g.band_combine.weight, torch.ones_like(g.band_combine.weight))


def test_groups_route_to_subject_or_global_model(fitted):
    X, _, _ = _ssvep(n_subjects=1, n_per_class=2, seed=2)
    stack = torch.from_numpy(subband_stack(X, SFREQ))
    with torch.no_grad():
        own = torch.softmax(fitted.subject_models_["s0"](stack), 1).double().numpy()
        common = torch.softmax(fitted.global_model_(stack), 1).double().numpy()
    assert not np.allclose(own, common)
    np.testing.assert_allclose(fitted.predict_proba(X, ["s0"] * 8), own, atol=1e-6)
    np.testing.assert_allclose(fitted.predict_proba(X, ["new"] * 8), common, atol=1e-6)
    np.testing.assert_allclose(fitted.predict_proba(X), common, atol=1e-6)
    mixed = fitted.predict_proba(X, ["s0"] * 4 + ["new"] * 4)
    np.testing.assert_allclose(mixed, np.concatenate([own[:4], common[4:]]), atol=1e-6)
    with pytest.raises(InvalidParameterError, match="groups"):
        fitted.predict(X, ["s0"] * 3)
    with pytest.raises(InvalidParameterError, match="fitted on 8 x 125"):
        fitted.predict(X[:, :, :100])


def test_deterministic_global_stage_epochs_input_and_rng_untouched():
    mne = pytest.importorskip("mne")
    X, y, _ = _ssvep(n_subjects=1, n_per_class=4)
    state = torch.get_rng_state()
    a = _clf(n_epochs_global=2).fit(X, y)
    assert torch.equal(torch.get_rng_state(), state)  # the global generator is left alone
    assert a.subject_models_ == {}
    b = _clf(n_epochs_global=2).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = _clf(n_epochs_global=2, random_state=1).fit(X, y)
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X))
    # mne.Epochs in volts are read in microvolts with their own sampling rate
    info = mne.create_info(N_CHANS, SFREQ, "eeg")
    epochs = mne.EpochsArray(X * 1e-6, info, verbose=False)
    d = _clf(n_epochs_global=2, sfreq=None).fit(epochs, y)
    assert (d.sfreq_, d.n_chans_, d.n_times_) == (SFREQ, N_CHANS, N_TIMES)
    np.testing.assert_allclose(d.predict_proba(epochs), a.predict_proba(X), atol=1e-4)
    # arrays in volts with units="V" are the same signals as arrays in microvolts
    v = _clf(n_epochs_global=2, units="V").fit(X * 1e-6, y)
    np.testing.assert_allclose(v.predict_proba(X * 1e-6), a.predict_proba(X), atol=1e-4)
    with pytest.raises(InvalidParameterError, match="units='mV'"):
        _clf(units="mV").fit(X, y)
    for lr in (0.0, -1e-3, float("nan"), float("inf")):
        with pytest.raises(InvalidParameterError, match="lr=.*learning rate"):
            _clf(lr=lr).fit(X, y)
    with pytest.raises(InvalidParameterError, match="sfreq is None"):
        _clf(sfreq=None).fit(X, y)
    with pytest.raises(InvalidParameterError, match="resample"):
        _clf(sfreq=500.0).fit(epochs, y)
    assert _clf().get_params()["n_epochs_subject"] == 5


# ---------------------------------------------------------------------------------- evaluation
def _phase_locked(n_subjects=2, seed=0):
    """The 40-target phase-locked benchmark (volts, 250 Hz, 6 blocks) on white-noise
    background, at a higher SNR than the shared-EEG one so that a short budget suffices."""
    rng = np.random.default_rng(seed)
    background = rng.standard_normal((240 * n_subjects, N_CHANS, 375)) * 1e-5
    return make_phase_locked_benchmark(
        background, n_subjects=n_subjects, snr_db=-6.0, snr_spread_db=0.0, seed=seed
    )


def test_evaluation_budget_learns_the_phase_locked_benchmark():
    """``make_method("guney")`` on volts (as SSVEPData holds them) with a short budget learns:
    the loss falls and a held-out block is decoded far above chance (1/40)."""
    data = _phase_locked()
    clf = make_method("guney", data, deep_epochs=15)
    assert (clf.units, clf.lr, clf.n_epochs_global, clf.n_epochs_subject) == ("V", 1e-3, 15, 7)
    assert GuneySSVEPClassifier().lr == 1e-4  # the reference's rate stays the default
    d = data.crop(0.4)
    train, test = d.block != 5, d.block == 5
    clf.set_params(device="cpu").fit(d.X[train], d.y[train], groups=d.subject[train])
    first, last = clf.history_["global"][0], clf.history_["global"][-1]
    assert last["cross_entropy"] < first["cross_entropy"] - 1.0
    accuracy = float(np.mean(clf.predict(d.X[test], groups=d.subject[test]) == d.y[test]))
    assert accuracy > 0.3, accuracy


@pytest.mark.parametrize("bad", [0, -1e-3, float("nan"), float("inf"), "fast", True, None])
def test_deep_lr_validation(bad):
    data = _phase_locked(n_subjects=1)
    with pytest.raises(InvalidParameterError, match=r"deep_lr=.* \(--deep-lr\); must be"):
        make_method("guney", data, deep_lr=bad)
    with pytest.raises(InvalidParameterError, match=r"deep_lr=.* \(--deep-lr\)"):
        evaluate(data, ["cca", "guney"], [0.4], "leave-one-block-out", deep_lr=bad)


def test_deep_budget_validation_and_cli(tmp_path, capsys):
    from neurokit.cli import main

    data = _phase_locked(n_subjects=1)
    assert make_method("guney", data, deep_lr=3e-4, deep_epochs=4).lr == 3e-4
    for bad in (0, -5, 2.5, True):
        with pytest.raises(InvalidParameterError, match=r"deep_epochs=.* \(--deep-epochs\)"):
            make_method("guney", data, deep_epochs=bad)
    # the options are checked before the data are read
    nope = str(tmp_path / "nope")
    args = ["ssvep", "evaluate", "--data", nope, "--methods", "cca,guney", "--quiet"]
    assert main([*args, "--deep-lr", "0"]) == 2
    err = capsys.readouterr().err
    assert "deep_lr=0.0 (--deep-lr); must be a positive, finite learning rate" in err
    assert main([*args, "--deep-lr", "nan"]) == 2
    assert "--deep-lr" in capsys.readouterr().err
    assert main([*args, "--deep-epochs", "0"]) == 2
    assert "deep_epochs=0 (--deep-epochs)" in capsys.readouterr().err
    assert main([*args, "--deep-lr", "1e-4"]) == 2  # a valid rate: now the missing data
    assert "no such folder" in capsys.readouterr().err
