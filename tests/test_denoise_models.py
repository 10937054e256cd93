"""Single-channel denoisers: EEGdenoiseNet networks, AT-AT and the TIGER separator."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from neurokit.errors import InvalidParameterError
from neurokit.models.atat import ATAT, AlternatingAdversarialLoss
from neurokit.models.denoise import (
    DENOISERS,
    FCNN,
    BaseDenoiser,
    NovelCNN,
    SimpleCNN,
    window_metrics,
)
from neurokit.models.tiger_separator import TIGERSeparator
from neurokit.training import from_pretrained, save_pretrained
from neurokit.training.loop import TrainConfig, Trainer

NAMES = sorted(DENOISERS)
T, SFREQ = 128, 64.0  # the tiny presets: 2-s windows at 64 Hz


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _tiny(name, seed=0, **kwargs):
    torch.manual_seed(seed)
    return DENOISERS[name].from_preset("tiny", **kwargs)


# ------------------------------------------------------------------------------ synthetic data
def _pink(rng, n, t):
    spec = np.fft.rfft(rng.standard_normal((n, t)), axis=-1)
    spec /= np.sqrt(np.maximum(np.arange(spec.shape[-1]), 1.0))
    pink = np.fft.irfft(spec, n=t, axis=-1)
    return pink / pink.std(-1, keepdims=True)


def _pairs(n, kind="emg", seed=0, t=T, sfreq=SFREQ):
    """Clean windows (sines + pink noise) and noisy ones (+ EMG-like bursts or EOG-like slow
    bumps at -3..2 dB), both divided by the noisy window's standard deviation."""
    rng = np.random.default_rng(seed)
    time = np.arange(t) / sfreq
    freqs = rng.uniform(4.0, 14.0, (n, 3, 1))
    phases = rng.uniform(0, 2 * np.pi, (n, 3, 1))
    clean = np.sin(2 * np.pi * freqs * time + phases).sum(1) + 0.5 * _pink(rng, n, t)
    if kind == "emg":
        spec = np.fft.rfft(rng.standard_normal((n, t)), axis=-1)
        spec[:, np.fft.rfftfreq(t, 1 / sfreq) < 15.0] = 0.0  # high-frequency only
        centre = rng.uniform(0, t / sfreq, (n, 1))
        width = rng.uniform(0.2, 0.6, (n, 1))
        noise = np.fft.irfft(spec, n=t, axis=-1) * np.exp(-(((time - centre) / width) ** 2))
    else:
        centre = rng.uniform(0.3, t / sfreq - 0.3, (n, 1))
        noise = rng.choice([-1.0, 1.0], (n, 1)) * np.exp(-(((time - centre) / 0.15) ** 2))
    snr_db = rng.uniform(-3.0, 2.0, (n, 1))
    rms = lambda v: np.sqrt((v**2).mean(-1, keepdims=True))  # noqa: E731
    noisy = clean + noise * rms(clean) / (rms(noise) * 10 ** (snr_db / 20))
    scale = noisy.std(-1, keepdims=True)
    return (noisy / scale).astype(np.float32), (clean / scale).astype(np.float32)


class PairDataset(torch.utils.data.Dataset):
    def __init__(self, n, kind="emg", seed=0):
        self.noisy, self.clean = _pairs(n, kind, seed)

    def __len__(self):
        return len(self.noisy)

    def __getitem__(self, i):
        return {"noisy": torch.from_numpy(self.noisy[i]), "clean": torch.from_numpy(self.clean[i])}


def _batch(n=4, kind="emg", seed=0):
    noisy, clean = _pairs(n, kind, seed)
    return {"noisy": torch.from_numpy(noisy), "clean": torch.from_numpy(clean)}


def _config(tmp_path, **kw):
    base = dict(
        out_dir=str(tmp_path / "run"), lr=3e-3, weight_decay=0.0, warmup_steps=3, max_steps=40,
        batch_size=16, log_every=1, checkpoint_every=0, keep_checkpoints=1, grad_clip=1.0,
        device="cpu", progress=False, tensorboard=False, seed=0,
    )  # fmt: skip
    base.update(kw)
    return TrainConfig(**base)


def _early_late(history, key):
    values = [h[key] for h in history]
    assert all(math.isfinite(v) for v in values)
    return np.mean(values[:5]), np.mean(values[-5:])


# ------------------------------------------------------------------------------ contract
def test_registry_names_and_keyword_only():
    assert NAMES == sorted(
        ["fcnn", "simple_cnn", "complex_cnn", "rnn_lstm", "novel_cnn", "atat", "tiger_separator"]
    )
    for name, cls in DENOISERS.items():
        assert cls.name == name and issubclass(cls, BaseDenoiser) and "tiny" in cls.presets
        with pytest.raises(TypeError):
            cls(512)


@pytest.mark.parametrize("name", NAMES)
def test_shapes_determinism_and_loss_dict(name):
    model = _tiny(name).eval()
    batch = _batch()
    x = batch["noisy"]
    y = model(x)
    assert y.shape == x.shape and y.dtype == torch.float32 and torch.isfinite(y).all()
    assert torch.equal(model(x), y)  # deterministic in eval mode
    assert torch.allclose(model(x[:, None]), y[:, None], atol=1e-6)  # [b, 1, t] accepted
    assert torch.allclose(model(x[:1]), y[:1], atol=1e-5)  # windows are independent
    out = model.train()(batch)
    assert out["loss"].ndim == 0 and out["loss"].requires_grad
    assert {"mse", "rrmse_t", "cc"} <= set(out)
    config = model.get_config()
    assert config["name"] == name and config["input"]["sfreq"] == SFREQ
    assert config["input"]["n_times"] == T
    with pytest.raises(InvalidParameterError, match="single-channel"):
        model(torch.randn(2, 3, T))
    with pytest.raises(InvalidParameterError, match="'noisy' and 'clean'"):
        model({"x": x})


def test_fixed_length_models_refuse_other_lengths_and_others_accept_them():
    with pytest.raises(InvalidParameterError, match="n_times=128"):
        _tiny("fcnn")(torch.randn(2, 100))
    for name in ("atat", "tiger_separator"):
        model = _tiny(name).eval()
        assert model(torch.randn(3, 150)).shape == (3, 150)
    with pytest.raises(InvalidParameterError, match="too short"):
        _tiny("tiger_separator")(torch.randn(2, 10))


@pytest.mark.parametrize("name", NAMES)
def test_gradients_reach_every_parameter(name):
    model = _tiny(name).train()
    model(_batch(n=6))["loss"].backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, pname


def test_window_metrics_values():
    clean = torch.randn(3, 64)
    m = window_metrics(clean, clean)
    assert float(m["mse"]) == 0.0 and float(m["rrmse_t"]) == 0.0
    assert float(m["cc"]) == pytest.approx(1.0, abs=1e-5)
    m = window_metrics(2 * clean, clean)
    assert float(m["rrmse_t"]) == pytest.approx(1.0, rel=1e-5)
    assert float(m["cc"]) == pytest.approx(1.0, abs=1e-5)


# ------------------------------------------------------------------------------ sizes
def test_parameter_counts_and_atat_budget():
    # reference Novel CNN on 2-s windows: 7 stages (32..2048 filters) + dense 8 * 2048 -> 512
    with torch.device("meta"):
        novel = NovelCNN(n_times=512, sfreq=256.0)
        novel_emg = NovelCNN(n_times=1024, sfreq=512.0)
    convs = sum(3 * c_in * c + c for c_in, c in _novel_convs())
    assert novel.n_parameters() == convs + 8 * 2048 * 512 + 512 == 33_560_096
    assert novel_emg.n_parameters() == convs + 16 * 2048 * 1024 + 1024
    assert FCNN().n_parameters() == 4 * (512 * 512 + 512)
    atat = ATAT()
    assert atat.n_parameters() < atat.n_parameters(include_discriminator=True)
    assert atat.n_parameters(include_discriminator=True) <= 0.1 * novel.n_parameters()
    assert ATAT(n_times=1024, sfreq=512.0).n_parameters() <= 0.1 * novel_emg.n_parameters()
    assert TIGERSeparator().n_parameters() <= 0.1 * novel.n_parameters()


def _novel_convs():
    pairs, c_in = [], 1
    for i in range(7):
        c = 32 * 2**i
        pairs += [(c_in, c), (c, c)]
        c_in = c
    return pairs


# ------------------------------------------------------------------------------ persistence
@pytest.mark.parametrize("name", NAMES)
def test_save_and_load_round_trip(name, tmp_path):
    model = _tiny(name)
    model.train()(_batch(n=8))  # moves batch-norm statistics away from their start
    model.eval()
    x = _batch(seed=3)["noisy"]
    path = save_pretrained(model, tmp_path / name)
    config = json.loads((path / "config.json").read_text())
    assert config["name"] == name and config["input"]["n_times"] == T
    loaded = from_pretrained(path, DENOISERS).eval()
    assert type(loaded) is type(model) and loaded.config == json.loads(json.dumps(model.config))
    assert torch.allclose(loaded(x), model(x), atol=1e-6)
    assert type(BaseDenoiser.from_pretrained(path)) is type(model)


def test_from_pretrained_refuses_another_class(tmp_path):
    path = _tiny("atat").save_pretrained(tmp_path / "atat")
    assert isinstance(ATAT.from_pretrained(path), ATAT)
    with pytest.raises(InvalidParameterError, match="not a FCNN"):
        FCNN.from_pretrained(path)


# ------------------------------------------------------------------------------ AT-AT
def test_atat_gating_modes():
    x = _batch(n=3)["noisy"]
    never = _tiny("atat", gating="hard", gate_threshold=-2.0).eval()
    out = never.generate(x)
    assert float(out["gate"].sum()) == 0.0
    assert torch.equal(out["denoised"], out["autoencoder"])  # nothing flagged: AE passes
    always = _tiny("atat", gating="hard", gate_threshold=2.0).eval()
    everywhere = _tiny("atat", gating="none").eval()
    assert torch.allclose(always(x), everywhere(x), atol=1e-6)
    soft_model = _tiny("atat", gate_threshold=0.5, gate_temperature=0.2).eval()
    soft = soft_model.generate(x)
    assert ((soft["corr"] >= -1.001) & (soft["corr"] <= 1.001)).all()
    expected = torch.sigmoid((0.5 - soft["corr"]) / 0.2)
    assert torch.allclose(soft["gate"], expected)
    assert ((soft["gate"] > 0) & (soft["gate"] < 1)).all()
    # hard gating: the transformer gets no gradient when no patch is flagged
    never.train()(_batch(n=3))["loss"].backward()
    assert never.correction.weight.grad is None
    assert never.autoencoder.encoder[0].weight.grad is not None
    with pytest.raises(InvalidParameterError, match="gating"):
        ATAT(gating="sometimes")
    with pytest.raises(InvalidParameterError, match="patch"):
        ATAT(patch_s=0.001)


@pytest.mark.parametrize("adv_loss", ["bce", "hinge", "lsgan"])
def test_atat_adversarial_losses(adv_loss):
    model = _tiny("atat", adv_loss=adv_loss)
    batch = _batch(n=4)
    gen = model.loss(batch)
    assert "adv" in gen and torch.isfinite(gen["loss"])
    model.zero_grad()
    gen["loss"].backward()  # the generator loss never reaches the discriminator
    assert all(p.grad is None for p in model.discriminator.parameters())
    assert model.correction.weight.grad is not None
    model.zero_grad()
    disc = model.discriminator_loss(batch)
    disc.backward()  # and the discriminator loss never reaches the generator
    assert all(p.grad is not None for p in model.discriminator.parameters())
    assert all(p.grad is None for n, p in model.named_parameters() if "discriminator" not in n)
    joint = model.training_loss(batch)
    assert {"gen_loss", "disc_loss"} <= set(joint)
    total = joint["gen_loss"] + joint["disc_loss"]
    assert float(joint["loss"].detach()) == pytest.approx(float(total))


def test_alternating_loss_updates_the_discriminator_only():
    model = _tiny("atat").train()
    loss_fn = AlternatingAdversarialLoss(lr=1e-2)
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    out = loss_fn(model, _batch(n=4))
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("discriminator.") for k in changed)
    assert len(changed) == len(list(model.discriminator.parameters()))
    assert "disc_loss" in out and "adv" in out
    out["loss"].backward()
    assert all(p.grad is None for p in model.discriminator.parameters())
    assert loss_fn.state_dict()["state"]
    with torch.no_grad():  # evaluation: no discriminator step
        model.eval()
        loss_fn(model, _batch(n=4))
    assert all(torch.equal(after[k], v) for k, v in model.state_dict().items())
    with pytest.raises(InvalidParameterError, match="ATAT"):
        loss_fn(_tiny("fcnn"), _batch(n=4))


# ------------------------------------------------------------------------------ training
def test_atat_joint_training_lowers_the_loss(tmp_path):
    model = _tiny("atat")
    history = Trainer(model, PairDataset(128, "emg"), config=_config(tmp_path)).fit()
    early, late = _early_late(history, "mse")
    assert late < 0.6 * early
    assert "disc_loss" in history[-1] and "gen_loss" in history[-1]


def test_atat_alternating_training_lowers_the_loss(tmp_path):
    model = _tiny("atat")
    d_before = [p.detach().clone() for p in model.discriminator.parameters()]
    loss_fn = AlternatingAdversarialLoss()
    history = Trainer(
        model, PairDataset(128, "eog", seed=1), config=_config(tmp_path), loss_fn=loss_fn
    ).fit()
    early, late = _early_late(history, "mse")
    assert late < 0.6 * early
    assert any(not torch.equal(a, p) for a, p in zip(d_before, model.discriminator.parameters()))


def test_eegdenoisenet_cnn_training_lowers_the_loss(tmp_path):
    model = SimpleCNN.from_preset("tiny")
    history = Trainer(model, PairDataset(128, "emg", seed=2), config=_config(tmp_path)).fit()
    early, late = _early_late(history, "loss")
    assert late < 0.6 * early


@pytest.mark.parametrize(
    "kwargs, n_times",
    [
        ({}, 512),
        (dict(ae_channels=(4, 8, 16), ae_kernel_size=5), 200),
        (dict(ae_kernel_size=3), 96),
    ],
)
def test_atat_inference_path_matches_the_training_graph(kwargs, n_times):
    """The autoencoder's no-grad path (pool before ReLU, phase-stacked decoder) is the same
    function as the module graph used with gradients."""
    torch.manual_seed(0)
    model = ATAT(n_times=n_times, **kwargs).eval()
    x = torch.randn(6, n_times)
    with torch.enable_grad():
        reference = model(x).detach()
        ae_reference = model.autoencoder(model._pad(x)[:, None]).detach()
    with torch.inference_mode():
        fast = model(x)
        ae_fast = model.autoencoder(model._pad(x)[:, None])
    torch.testing.assert_close(ae_fast, ae_reference, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fast, reference, rtol=1e-5, atol=1e-5)
    with torch.no_grad():  # new weights are picked up (the phase taps are cached per version)
        model.autoencoder.decoder[-1].weight.mul_(2.0)
        changed = model(x)
    assert not torch.allclose(changed, fast)
    with torch.enable_grad():
        torch.testing.assert_close(changed, model(x).detach(), rtol=1e-5, atol=1e-5)
