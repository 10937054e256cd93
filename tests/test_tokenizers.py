"""Contract suite over every registered tokenizer (tiny presets), plus TFM-specific checks."""

from __future__ import annotations

import pytest
import torch

from neurokit.errors import InvalidParameterError
from neurokit.tokenizers import Tokenizer, create_tokenizer, list_tokenizers

NAMES = sorted(list_tokenizers())


def _make(name):
    torch.manual_seed(0)
    return create_tokenizer(name, preset="tiny")


def _signal(tok, b=2, c=3, seconds=5.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, c, int(seconds * tok.sfreq), generator=g)


def _batch(tok, x, channel_mask=None):
    """What ``tok`` encodes: the tensor, or for sensor-aware tokenizers a batch dict as
    neurokit.corpus.collate makes (EEG electrodes on a ring 9 cm from the head centre)."""
    if not getattr(tok, "requires_sensors", False):
        return x if channel_mask is None else {"x": x, "channel_mask": channel_mask}
    b, c, _ = x.shape
    angle = torch.arange(c) * (6.283 / c)
    ring = torch.stack([angle.cos(), angle.sin(), torch.full_like(angle, 0.3)], dim=-1) * 0.09
    batch = {
        "x": x,
        "pos": ring.expand(b, c, 3),
        "ori": torch.zeros(b, c, 3),
        "type_id": torch.zeros(b, c, dtype=torch.long),  # eeg
    }
    if channel_mask is not None:
        batch["channel_mask"] = channel_mask
    return batch


def _take(batch, rows):
    if isinstance(batch, torch.Tensor):
        return batch[rows]
    return {k: v[rows] for k, v in batch.items()}


def _n_streams(tok, n_channels):
    """Streams of the tokens: one per channel, unless the tokenizer says otherwise."""
    return getattr(tok, "n_streams", lambda c: c)(n_channels)


@pytest.mark.parametrize("name", NAMES)
def test_presets_and_registry(name):
    cls = type(_make(name))
    assert "tiny" in list_tokenizers()[name] and issubclass(cls, Tokenizer)
    with pytest.raises(InvalidParameterError, match="unknown preset"):
        create_tokenizer(name, preset="enormous")


@pytest.mark.parametrize("name", NAMES)
def test_encode_shapes_dtypes_and_range(name):
    tok = _make(name).eval()
    x = _signal(tok)
    tokens = tok.encode(_batch(tok, x))
    b, s, k, n = tokens.codes.shape
    assert tokens.codes.dtype == torch.int64 and tokens.mask.dtype == torch.bool
    assert (b, s) == (2, _n_streams(tok, 3)) and k == len(tokens.codebook_sizes)
    assert tokens.mask.shape == (b, s, n) and tokens.mask.all()
    assert n == tok.n_frames(x.shape[-1])
    for level, size in enumerate(tokens.codebook_sizes):
        codes = tokens.codes[:, :, level]
        assert codes.min() >= 0 and codes.max() < size
    # about frame_rate x duration: fewer only by the frames of one analysis window
    duration, window_s = x.shape[-1] / tok.sfreq, tok.config.get("window_s", 0.0)
    assert n <= round(tok.frame_rate * duration) + 1
    assert n >= round(tok.frame_rate * (duration - window_s))


@pytest.mark.parametrize("name", NAMES)
def test_eval_determinism_and_batch_independence(name):
    tok = _make(name).eval()
    batch = _batch(tok, _signal(tok, b=3))
    a, b = tok.encode(batch).codes, tok.encode(batch).codes
    assert torch.equal(a, b)
    assert torch.equal(tok.encode(_take(batch, slice(1, 2))).codes, a[1:2])
    assert tok.decode(tok.encode(batch)).shape[:2] == (3, 3)


@pytest.mark.parametrize("name", NAMES)
def test_save_load_gives_identical_codes(name, tmp_path):
    tok = _make(name)
    tok.train()
    tok(_batch(tok, _signal(tok)))  # one training pass moves the EMA codebook
    tok.eval()
    x = _batch(tok, _signal(tok, seed=1))
    tok.save_pretrained(tmp_path / "ckpt")
    again = Tokenizer.from_pretrained(tmp_path / "ckpt").eval()
    assert type(again) is type(tok) and again.config == tok.config
    assert torch.equal(again.encode(x).codes, tok.encode(x).codes)


@pytest.mark.parametrize("name", NAMES)
def test_training_loss_is_finite_and_reaches_every_parameter(name):
    tok = _make(name).train()
    out = tok(_batch(tok, _signal(tok)))
    assert torch.isfinite(out.losses["loss"])
    out.losses["loss"].backward()
    missing = [
        n
        for n, p in tok.named_parameters()
        if p.requires_grad and (p.grad is None or not torch.isfinite(p.grad).all())
    ]
    assert not missing, f"no gradient for {missing}"


@pytest.mark.parametrize("name", NAMES)
def test_clear_errors_on_wrong_input(name):
    tok = _make(name).eval()
    with pytest.raises(InvalidParameterError, match="does not match"):
        tok.encode(_batch(tok, _signal(tok)), sfreq=tok.sfreq + 56.0)
    with pytest.raises(InvalidParameterError, match=r"\[batch, channels, samples\]"):
        tok.encode(torch.zeros(10, 200))
    with pytest.raises(InvalidParameterError, match="samples"):
        tok.encode(torch.zeros(1, 1, 10))
    with pytest.raises(InvalidParameterError, match="must be a tensor"):
        tok.encode([1, 2, 3])
    if getattr(tok, "requires_sensors", False):
        with pytest.raises(InvalidParameterError, match="sensors"):
            tok.encode(_signal(tok))


@pytest.mark.parametrize("name", NAMES)
def test_padded_channels_are_masked(name):
    tok = _make(name).eval()
    x = _signal(tok, b=2, c=4)
    mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    tokens = tok.encode(_batch(tok, x, mask))
    if getattr(tok, "stream_kind", "channels") == "channels":
        assert torch.equal(tokens.mask[:, :, 0], mask)
    else:  # every item has real channels, so every stream is real
        assert tokens.mask.all()
    tok.train()
    out = tok(_batch(tok, x, mask))
    assert torch.isfinite(out.losses["loss"])


def test_tfm_channels_are_tokenized_independently():
    """Property: changing one channel leaves every other channel's codes unchanged."""
    tok = _make("tfm").eval()
    for seed in range(3):
        x = _signal(tok, b=1, c=5, seed=seed)
        y = x.clone()
        ch = seed % 5
        y[:, ch] = torch.randn_like(y[:, ch]) * 3
        a, b = tok.encode(x).codes, tok.encode(y).codes
        others = [i for i in range(5) if i != ch]
        assert torch.equal(a[:, others], b[:, others])


def test_tfm_frames_are_one_per_hop_once_the_window_is_full():
    tok = _make("tfm").eval()
    x = _signal(tok)
    n = tok.encode(x).codes.shape[-1]
    assert n == int(round(tok.frame_rate * (x.shape[-1] / tok.sfreq - tok.config["window_s"]))) + 1


def test_tfm_matches_the_reference_configuration():
    tok = create_tokenizer("tfm", preset="base")
    assert tok.n_freq == 100 and tok.stft.n_fft == 200 and tok.stft.hop_length == 100
    assert tok.frame_rate == 2.0 and tok.codebook_sizes == (8192,)
    assert tok.quantizer.codebook.shape[-1] == 64
    other = create_tokenizer("tfm", preset="base", sfreq=256.0)  # derived, not hard-coded
    assert other.stft.n_fft == 256 and other.stft.hop_length == 128 and other.n_freq == 100
    with pytest.raises(InvalidParameterError, match="multiple of freq_patch"):
        create_tokenizer("tfm", preset="tiny", fmax_hz=80.0)


def test_tfm_training_masks_are_complementary():
    tok = _make("tfm").train()
    spec = torch.rand(2, tok.n_freq, 9)
    kept, rest = tok._views(spec)
    assert torch.equal(kept + rest, spec)
    assert ((kept != 0) & (rest != 0)).sum() == 0
    frac = (kept != 0).float().mean().item()
    assert 0.15 < frac < 0.4  # about half of the bands x half of the frames kept


# ---------------------------------------------------------------- TFM short-run options
REFERENCE_OPTIONS = dict(spectrum_norm="none", kmeans_init=False, dead_code_threshold=0.0)


def _levels_and_tones(n, seed):
    """Brown noise plus one random tone per channel, each window scaled by 1-20x: a
    broadband level that varies a lot between windows, as in real EEG."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(1000) / 200.0
    x = torch.cumsum(torch.randn(n, 4, 1000, generator=g), -1) * 0.05
    x = x - x.mean(-1, keepdim=True)
    freq = torch.randint(5, 40, (n, 4, 1), generator=g).float()
    x = x + torch.sin(2 * torch.pi * freq * t) * torch.rand(n, 4, 1, generator=g)
    return x * torch.rand(n, 1, 1, generator=g).mul(3).exp()


def _short_run(steps=30, **options):
    """Mean pairwise cosine of the latents and codes used after a short training run."""
    torch.manual_seed(0)
    tok = create_tokenizer("tfm", preset="tiny", **options)
    opt = torch.optim.AdamW(tok.parameters(), lr=1e-3)
    for step in range(steps):
        loss = tok(_levels_and_tones(4, step)).losses["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        out = tok.eval()(_levels_and_tones(8, 999))
    lat = torch.nn.functional.normalize(out.latents.reshape(-1, out.latents.shape[-1]), dim=-1)
    return (lat @ lat.T).mean().item(), len(out.tokens.codes.unique())


def test_tfm_tiny_preset_does_not_collapse_where_the_reference_options_do():
    """30 steps on signals whose level varies between windows: with the reference options the
    latents line up and a handful of codes remain; the tiny preset keeps both spread."""
    ref_cos, ref_used = _short_run(**REFERENCE_OPTIONS)
    cos, used = _short_run()
    assert ref_cos > 0.6 and ref_used <= 10
    assert cos < 0.35 and used >= 30


def test_tfm_defaults_follow_the_reference_and_tiny_turns_the_fixes_on():
    base = create_tokenizer("tfm", preset="base")
    assert base.config["spectrum_norm"] == "none" and not hasattr(base, "spec_mean")
    assert not base.quantizer.kmeans_init and base.quantizer.dead_code_threshold == 0.0
    tiny = _make("tfm")
    assert tiny.config["spectrum_norm"] == "bin" and tiny.quantizer.kmeans_init
    assert tiny.quantizer.dead_code_threshold > 0
    with pytest.raises(InvalidParameterError, match="spectrum_norm='db'.*allowed"):
        create_tokenizer("tfm", preset="tiny", spectrum_norm="db")


@pytest.mark.parametrize("norm", ["bin", "log-bin"])
def test_tfm_spectrum_statistics_come_from_the_first_training_batch(norm):
    torch.manual_seed(0)
    tok = create_tokenizer("tfm", preset="tiny", spectrum_norm=norm)
    x = _signal(tok, b=2, c=4) * torch.tensor([1.0, 3.0, 0.5, 100.0])[:, None]
    mask = torch.tensor([[True, True, True, False], [True, True, True, False]])
    raw = x.reshape(8, -1)
    eval_spec = tok.eval()._spectrum(raw)  # not fitted yet: eval leaves it unchanged
    assert not bool(tok.spec_fitted)
    assert torch.allclose(eval_spec, tok.stft(raw) if norm == "bin" else tok.stft(raw).log1p())
    tok.train()(_batch(tok, x, mask))
    assert bool(tok.spec_fitted)
    valid = mask.reshape(8)
    spec = tok.eval()._spectrum(raw[valid])  # padded channel (x100) left out of the fit
    frames = spec.transpose(1, 2).reshape(-1, tok.n_freq)
    assert frames.mean(0).abs().max() < 1e-4 and (frames.std(0) - 1).abs().max() < 1e-3
    fitted = tok.spec_mean.clone()
    tok.train()(_batch(tok, x * 7.0))  # later batches change nothing
    assert torch.equal(tok.spec_mean, fitted)
    # decode and forward give magnitudes again
    tok.eval()
    assert torch.allclose(tok._magnitude(tok._spectrum(raw)), tok.stft(raw), atol=1e-4)
    tokens = tok.encode(x)
    assert torch.allclose(
        tok.decode(tokens).reshape(8, tok.n_freq, -1),
        tok._magnitude(tok._decode(tok.quantizer.decode(tokens.codes[:, :, 0].reshape(8, -1)))),
        atol=1e-6,
    )
    assert torch.allclose(tok(x).recon, tok.decode(tokens), atol=1e-5)
