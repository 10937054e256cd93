"""neurokit.nn building blocks: shapes, gradients, masking, determinism and loss behaviour."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from neurokit.errors import InvalidParameterError
from neurokit.nn import (
    BandSplit,
    CrissCrossBlock,
    FeedForward,
    FullFrequencyFrameAttention,
    LinearAttention,
    MultiHeadAttention,
    MultiScaleSelectiveAttention,
    PositionalEmbedding,
    RMSNorm,
    RotaryEmbedding,
    SEANetDecoder,
    SEANetEncoder,
    SensorEmbedding,
    SeriesActivation,
    STFTFrontEnd,
    Transformer,
    TransformerBlock,
    band_patches,
    band_widths_from_edges,
    fft_amplitude_phase_loss,
    multi_resolution_stft_loss,
    pearson_loss,
)
from neurokit.sensors import SENSOR_TYPES

ATOL = 1e-5


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def assert_grads(module: torch.nn.Module, out: torch.Tensor) -> None:
    """Backpropagate a scalar from ``out`` and check every trainable parameter got a gradient."""
    module.zero_grad()
    (out.float().square().mean() + out.float().mean()).backward()
    for name, p in module.named_parameters():
        if p.requires_grad:
            assert p.grad is not None, f"{name} received no gradient"
            assert torch.isfinite(p.grad).all(), f"{name} has a non-finite gradient"


def padded_mask(b: int, n: int, lengths: list[int]) -> torch.Tensor:
    mask = torch.zeros(b, n, dtype=torch.bool)
    for i, length in enumerate(lengths):
        mask[i, length:] = True
    return mask


# ----------------------------------------------------------------------------- imports


def test_nn_does_not_import_mne():
    code = "import sys, neurokit.nn; assert 'mne' not in sys.modules, 'mne imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------------- RoPE


def test_rope_relative_position_property():
    rope = RotaryEmbedding(8)
    q, k = torch.randn(8), torch.randn(8)

    def score(pq, pk):
        rq = rope(q[None, :], torch.tensor([pq]))[0]
        rk = rope(k[None, :], torch.tensor([pk]))[0]
        return float(rq @ rk)

    assert score(3, 1) == pytest.approx(score(12, 10), abs=1e-4)
    assert score(0, 5) == pytest.approx(score(7, 12), abs=1e-4)
    assert score(2.5, 0.5) == pytest.approx(score(4.0, 2.0), abs=1e-4)
    assert score(0, 0) == pytest.approx(float(q @ k), abs=1e-5)
    assert abs(score(3, 1) - score(3, 2)) > 1e-4


def test_rope_shapes_norm_and_partial_rotation():
    rope = RotaryEmbedding(4)
    x = torch.randn(2, 3, 5, 6)
    y = rope(x)
    assert y.shape == x.shape and y.dtype == torch.float32
    torch.testing.assert_close(y[..., 4:], x[..., 4:])
    torch.testing.assert_close(y[..., :4].norm(dim=-1), x[..., :4].norm(dim=-1))
    torch.testing.assert_close(rope(x, torch.arange(5)), y)
    torch.testing.assert_close(y[..., 0, :], x[..., 0, :])  # position 0 is not rotated
    with pytest.raises(InvalidParameterError):
        RotaryEmbedding(5)


# ----------------------------------------------------------------------------- attention

ATTENTIONS = [
    pytest.param(lambda: MultiHeadAttention(16, 4), id="softmax"),
    pytest.param(lambda: MultiHeadAttention(16, 4, rope=RotaryEmbedding(4)), id="softmax-rope"),
    pytest.param(lambda: LinearAttention(16, 4), id="linear-elu"),
    pytest.param(lambda: LinearAttention(16, 4, feature_map="softmax"), id="linear-softmax"),
    pytest.param(lambda: LinearAttention(16, 4, rope=RotaryEmbedding(4)), id="linear-rope"),
]


@pytest.mark.parametrize("make", ATTENTIONS)
def test_attention_shape_grad_determinism(make):
    attn = make()
    x = torch.randn(2, 7, 16)
    out = attn(x)
    assert out.shape == (2, 7, 16) and out.dtype == torch.float32
    assert_grads(attn, out)
    attn.eval()
    torch.testing.assert_close(attn(x), attn(x), rtol=0, atol=0)


@pytest.mark.parametrize("make", ATTENTIONS)
def test_attention_padding_matches_truncation(make):
    attn = make().eval()
    x = torch.randn(2, 9, 16)
    mask = padded_mask(2, 9, [6, 9])
    out = attn(x, mask)
    torch.testing.assert_close(out[0, :6], attn(x[:1, :6])[0], atol=ATOL, rtol=0)
    torch.testing.assert_close(out[1], attn(x[1:])[0], atol=ATOL, rtol=0)
    assert torch.all(out[0, 6:] == 0)
    x2 = x.clone()
    x2[0, 6:] = 100.0 * torch.randn(3, 16)  # padded keys carry no weight
    torch.testing.assert_close(attn(x2, mask)[0, :6], out[0, :6], atol=ATOL, rtol=0)


@pytest.mark.parametrize("make", ATTENTIONS)
def test_attention_cross_attention_with_context_mask(make):
    attn = make().eval()
    x, ctx = torch.randn(2, 5, 16), torch.randn(2, 8, 16)
    cmask = padded_mask(2, 8, [4, 8])
    out = attn(x, context=ctx, context_padding_mask=cmask)
    assert out.shape == (2, 5, 16)
    ref = attn(x[:1], context=ctx[:1, :4])
    torch.testing.assert_close(out[0], ref[0], atol=ATOL, rtol=0)


@pytest.mark.parametrize("make", ATTENTIONS)
def test_attention_fully_padded_rows_are_finite(make):
    attn = make()
    x = torch.randn(2, 4, 16, requires_grad=True)
    mask = torch.ones(2, 4, dtype=torch.bool)
    out = attn(x, mask)
    assert torch.isfinite(out).all() and torch.all(out == 0)
    cross = attn(x, context=torch.randn(2, 3, 16), context_padding_mask=torch.ones(2, 3).bool())
    assert torch.isfinite(cross).all()
    (out.sum() + cross.sum()).backward()
    assert torch.isfinite(x.grad).all()


def test_multihead_attention_dropout_only_in_training():
    attn = MultiHeadAttention(16, 2, dropout=0.5)
    x = torch.randn(2, 6, 16)
    assert not torch.allclose(attn(x), attn(x))
    attn.eval()
    torch.testing.assert_close(attn(x), attn(x))


def test_attention_rejects_bad_heads():
    with pytest.raises(InvalidParameterError):
        MultiHeadAttention(10, 3)
    with pytest.raises(InvalidParameterError):
        LinearAttention(16, 4, feature_map="relu")


# ----------------------------------------------------------------------------- criss-cross


def test_criss_cross_block_shape_grad_and_masks():
    block = CrissCrossBlock(16, 4, ffn_hidden=32)
    x = torch.randn(2, 3, 6, 16)
    out = block(x)
    assert out.shape == x.shape and out.dtype == torch.float32
    assert_grads(block, out)
    block.eval()
    torch.testing.assert_close(block(x), block(x), rtol=0, atol=0)
    tmask = padded_mask(2, 6, [4, 6])
    smask = padded_mask(2, 3, [2, 3])
    out = block(x, tmask, smask)
    ref = block(x[:1, :2, :4])
    torch.testing.assert_close(out[0, :2, :4], ref[0], atol=ATOL, rtol=0)
    torch.testing.assert_close(out[1], block(x[1:])[0], atol=ATOL, rtol=0)


def test_criss_cross_is_equivariant_to_source_order():
    block = CrissCrossBlock(16, 4, rope=True).eval()
    x = torch.randn(1, 4, 5, 16)
    perm = torch.tensor([2, 0, 3, 1])
    torch.testing.assert_close(block(x[:, perm]), block(x)[:, perm], atol=ATOL, rtol=0)
    with pytest.raises(InvalidParameterError):
        CrissCrossBlock(16, 3)


# ----------------------------------------------------------------------------- transformer


def test_rmsnorm_unit_rms():
    norm = RMSNorm(32)
    y = norm(5.0 * torch.randn(4, 32))
    torch.testing.assert_close(y.square().mean(-1), torch.ones(4), atol=1e-4, rtol=0)
    assert_grads(norm, y)


@pytest.mark.parametrize("activation", ["gelu", "selu", "swiglu", "series"])
def test_feedforward(activation):
    ffn = FeedForward(8, 16, activation=activation)
    out = ffn(torch.randn(3, 5, 8))
    assert out.shape == (3, 5, 8) and out.dtype == torch.float32
    assert_grads(ffn, out)


def test_series_activation_is_sum_of_shifted_gelus():
    act = SeriesActivation(3)
    x = torch.randn(10)
    with torch.no_grad():
        act.scale.copy_(torch.tensor([0.5, 2.0, -1.0]))
        act.offset.copy_(torch.tensor([-1.0, 0.0, 0.5]))
    ref = sum(
        a * torch.nn.functional.gelu(x + b) for a, b in [(0.5, -1.0), (2.0, 0.0), (-1.0, 0.5)]
    )
    torch.testing.assert_close(act(x), ref)
    out = act(x)
    assert_grads(act, out)


BLOCK_OPTIONS = [
    dict(norm=norm, ffn=ffn, attention=attention, augmented_shortcut=aug)
    for norm in ("layernorm", "rmsnorm")
    for ffn in ("gelu", "selu", "swiglu", "series")
    for attention in ("softmax", "linear")
    for aug in (False, True)
]


@pytest.mark.parametrize(
    "options",
    BLOCK_OPTIONS,
    ids=lambda o: "-".join(str(v) for v in o.values()),
)
def test_transformer_block_options(options):
    block = TransformerBlock(16, 4, ffn_hidden=32, **options)
    x = torch.randn(2, 7, 16)
    out = block(x)
    assert out.shape == x.shape and out.dtype == torch.float32
    assert_grads(block, out)
    block.eval()
    mask = padded_mask(2, 7, [5, 7])
    out = block(x, mask)
    torch.testing.assert_close(out[0, :5], block(x[:1, :5])[0], atol=ATOL, rtol=0)
    torch.testing.assert_close(block(x, mask), out, rtol=0, atol=0)


@pytest.mark.parametrize("attention", ["softmax", "linear"])
def test_transformer_stack_with_rope_and_shortcuts(attention):
    model = Transformer(
        2,
        16,
        4,
        norm="rmsnorm",
        ffn="series",
        attention=attention,
        rope=True,
        augmented_shortcut=True,
        n_shortcuts=2,
        shortcut_rank=4,
    )
    assert len(model.blocks) == 2 and len(model.blocks[0].shortcuts) == 2
    x = torch.randn(2, 6, 16)
    out = model(x)
    assert out.shape == x.shape
    assert_grads(model, out)
    model.eval()
    mask = padded_mask(2, 6, [3, 6])
    out = model(x, mask)
    torch.testing.assert_close(out[0, :3], model(x[:1, :3])[0], atol=ATOL, rtol=0)
    shifted = model(x, positions=torch.arange(6) + 5)  # rotary: only differences matter
    torch.testing.assert_close(shifted, model(x), atol=1e-4, rtol=0)


def test_transformer_rejects_unknown_options():
    with pytest.raises(InvalidParameterError):
        TransformerBlock(16, 4, norm="batchnorm")
    with pytest.raises(InvalidParameterError):
        TransformerBlock(16, 4, ffn="relu")
    with pytest.raises(InvalidParameterError):
        TransformerBlock(16, 4, attention="sparse")
    with pytest.raises(InvalidParameterError):
        Transformer(0, 16, 4)


# ----------------------------------------------------------------------------- SEANet


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("lstm", [0, 2])
def test_seanet_round_trip_length(causal, lstm):
    kw = dict(dim=8, n_filters=4, ratios=(2, 4), causal=causal, lstm=lstm)
    enc, dec = SEANetEncoder(2, **kw), SEANetDecoder(2, **kw)
    assert enc.hop_length == 8
    x = torch.randn(3, 2, 64)
    z = enc(x)
    assert z.shape == (3, 8, 8) and z.dtype == torch.float32
    y = dec(z)
    assert y.shape == x.shape
    assert_grads(torch.nn.ModuleList([enc, dec]), y)
    odd = enc(torch.randn(1, 2, 61))
    assert odd.shape[-1] == math.ceil(61 / 8)


def test_seanet_default_ratios_and_determinism():
    enc = SEANetEncoder(dim=16, n_filters=4).eval()
    dec = SEANetDecoder(dim=16, n_filters=4).eval()
    x = torch.randn(2, 1, 128)
    z = enc(x)
    assert z.shape == (2, 16, 128 // 64)
    torch.testing.assert_close(dec(z), dec(enc(x)), rtol=0, atol=0)
    assert dec(z).shape == x.shape


def test_seanet_causal_encoder_ignores_the_future():
    enc = SEANetEncoder(dim=8, n_filters=4, ratios=(2, 2), causal=True, lstm=1).eval()
    x = torch.randn(1, 1, 64)
    y = x.clone()
    y[..., 40:] = torch.randn(24)
    torch.testing.assert_close(enc(x)[..., :10], enc(y)[..., :10])


def _grads_of(module, x, fn):
    x = x.detach().requires_grad_(True)
    y = fn(module, x)
    weights = torch.linspace(-1, 1, y.numel(), dtype=y.dtype).reshape(y.shape)
    params = [p for p in module.parameters()]
    grads = torch.autograd.grad((y * weights).sum(), [x, *params])
    return y.detach(), grads


@pytest.mark.parametrize(
    "kernel,stride,dilation", [(1, 1, 1), (3, 1, 2), (4, 2, 1), (7, 1, 1), (5, 3, 1)]
)
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("pad_mode", ["reflect", "constant"])
@pytest.mark.parametrize("t", [6, 17])
def test_seanet_matrix_product_convolution_matches_conv1d(
    monkeypatch, kernel, stride, dilation, causal, pad_mode, t
):
    """The CPU matrix-product path of the time-major convolution gives conv1d's values and
    gradients on the [b, c, t] layout with explicit padding (float64, every padding case)."""
    from neurokit.nn import conv as seanet_conv

    monkeypatch.setattr(seanet_conv, "_GEMM_MIN_WORK", 0)
    layer = seanet_conv._Conv(
        3, 5, kernel, stride=stride, dilation=dilation, causal=causal, norm="weight_norm",
        pad_mode=pad_mode,
    ).double()  # fmt: skip
    x = torch.randn(2, t, 3, dtype=torch.float64)

    def reference(m, inp):
        k_eff = (kernel - 1) * dilation + 1
        fixed, n_out = k_eff - stride, max(1, math.ceil(t / stride))
        extra = n_out * stride - t
        right = 0 if causal else fixed // 2
        left, right = fixed - right, right + extra
        xt = inp.transpose(1, 2)
        if pad_mode == "reflect" and t <= max(left, right):
            pytest.skip("short-signal reflect padding takes the library path")
        xt = torch.nn.functional.pad(xt, (left, right), mode=pad_mode)
        w = m.conv.weight
        out = torch.nn.functional.conv1d(xt, w, m.conv.bias, stride, dilation=dilation)
        return out.transpose(1, 2)

    want, want_grads = _grads_of(layer, x, reference)
    got, got_grads = _grads_of(layer, x, lambda m, inp: m(inp))
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
    for g, w in zip(got_grads, want_grads):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("c_in,kernel,stride", [(64, 8, 4), (128, 16, 8)])
def test_seanet_strided_convolution_paths_agree_in_inference(c_in, kernel, stride):
    """Outside autograd a strided convolution below the inference threshold runs on oneDNN,
    above it as a matrix product: both give what the training path (matrix product) gives."""
    from neurokit.nn import conv as seanet_conv

    torch.manual_seed(0)
    layer = seanet_conv._Conv(
        c_in, 2 * c_in, kernel, stride=stride, causal=False, norm="weight_norm",
        pad_mode="reflect",
    )  # fmt: skip
    x = torch.randn(3, 16 * stride, c_in)
    with torch.no_grad():
        got = layer(x)
    want = layer(x).detach()  # autograd on: the matrix-product path
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_seanet_encoder_inference_chunks_give_the_full_batch_result():
    """Outside autograd the encoder runs ``inference_chunk`` items at a time; the result is
    the one-batch result (the items are independent), and autograd runs the whole batch."""
    torch.manual_seed(0)
    enc = SEANetEncoder(dim=16, n_filters=4, ratios=(2, 4)).eval()
    x = torch.randn(7, 64, 1)
    with torch.no_grad():
        whole = enc.forward_time_major(x)
        enc.inference_chunk = 3
        chunked = enc.forward_time_major(x)
        enc.inference_chunk = 0  # no chunking
        unchunked = enc.forward_time_major(x)
    torch.testing.assert_close(chunked, whole, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(unchunked, whole, rtol=1e-6, atol=1e-6)
    assert chunked.shape == (7, 8, 16)
    y = enc.forward_time_major(x.requires_grad_(True))
    y.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


@pytest.mark.parametrize("stride", [1, 2, 8])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n", [1, 5])
def test_seanet_matrix_product_transposed_convolution_matches(stride, causal, n):
    from neurokit.nn import conv as seanet_conv

    layer = seanet_conv._ConvTranspose(
        4, 3, 2 * stride, stride=stride, causal=causal, norm="weight_norm"
    ).double()
    x = torch.randn(2, n, 4, dtype=torch.float64)

    def reference(m, inp):
        full = torch.nn.functional.conv_transpose1d(
            inp.transpose(1, 2), m.conv.weight, m.conv.bias, stride
        )
        right = stride if causal else stride // 2
        left = stride - right
        return full[..., left : full.shape[-1] - right].transpose(1, 2)

    want, want_grads = _grads_of(layer, x, reference)
    got, got_grads = _grads_of(layer, x, lambda m, inp: m(inp))
    assert got.shape == (2, n * stride, 3)
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
    for g, w in zip(got_grads, want_grads):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-12)


def test_seanet_library_path_under_autocast_matches():
    """Under CPU autocast the library kernels run; in float32 the two paths agree."""
    enc = SEANetEncoder(dim=16, n_filters=4, ratios=(2, 4)).eval()
    x = torch.randn(2, 1, 64)
    with torch.no_grad():
        fast = enc(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            slow = enc(x)
    assert slow.dtype == torch.bfloat16
    assert float((slow.float() - fast).norm() / fast.norm()) < 0.05


# ----------------------------------------------------------------------------- spectral


@pytest.mark.parametrize("sfreq", [100.0, 256.0, 1000.0])
@pytest.mark.parametrize("duration", [1.0, 2.5, 4.0])
def test_stft_frame_count_formula(sfreq, duration):
    stft = STFTFrontEnd(sfreq, 0.25, 0.0625)
    n_times = int(round(duration * sfreq))
    spec = stft(torch.randn(2, n_times))
    assert stft.hop_length == round(0.0625 * sfreq) and stft.win_length == round(0.25 * sfreq)
    assert spec.shape == (2, stft.n_freqs, stft.n_frames(n_times))
    assert spec.shape[-1] == 1 + math.floor(n_times / stft.hop_length)
    if (duration * stft.frame_rate).is_integer():
        assert spec.shape[-1] == 1 + int(duration * stft.frame_rate)
    uncentered = STFTFrontEnd(sfreq, 0.25, 0.0625, center=False)
    assert uncentered(torch.randn(n_times)).shape[-1] == uncentered.n_frames(n_times)


def test_stft_fmax_peak_and_shapes():
    stft = STFTFrontEnd(200.0, 1.0, 0.25, fmax=40.0)
    assert stft.frame_rate == pytest.approx(4.0)
    assert float(stft.freqs[-1]) <= 40.0 and stft.n_freqs == 41
    t = torch.arange(400) / 200.0
    spec = stft(torch.sin(2 * math.pi * 12.0 * t)[None, None].expand(2, 3, 400))
    assert spec.shape == (2, 3, 41, 9) and spec.dtype == torch.float32
    assert float(stft.freqs[spec[0, 0, :, 4].argmax()]) == pytest.approx(12.0)
    with pytest.raises(InvalidParameterError):
        STFTFrontEnd(100.0, 0.005, 0.01)


def test_band_patches():
    spec = torch.randn(2, 10, 5)
    patches = band_patches(spec, band_width=4)
    assert patches.shape == (2, 3, 4, 5)
    torch.testing.assert_close(patches.flatten(1, 2)[:, :10], spec)
    assert torch.all(patches[:, -1, 2:] == 0)
    assert band_patches(spec, n_bands=5).shape == (2, 5, 2, 5)
    with pytest.raises(InvalidParameterError):
        band_patches(spec, n_bands=2, band_width=5)


def test_band_split_nonuniform():
    freqs = torch.arange(33) * 1.0
    widths = band_widths_from_edges(freqs, [4, 8, 13, 20])
    assert widths == [4, 4, 5, 7, 13] and sum(widths) == 33
    split = BandSplit(widths, 12)
    out = split(torch.randn(2, 33, 9))
    assert out.shape == (2, 12, 5, 9) and out.dtype == torch.float32
    assert_grads(split, out)
    csplit = BandSplit.from_edges(freqs, [4, 8, 13, 20], 12, complex_input=True)
    spec = torch.stft(
        torch.randn(2, 256), 64, 16, window=torch.hann_window(64), return_complex=True
    )
    assert csplit(spec).shape == (2, 12, 5, spec.shape[-1])
    with pytest.raises(InvalidParameterError):
        split(torch.randn(2, 30, 9))
    with pytest.raises(InvalidParameterError):
        band_widths_from_edges(freqs, [4.2, 4.5])


def test_multi_scale_selective_attention():
    msa = MultiScaleSelectiveAttention(8, hidden=12, depth=3)
    x = torch.randn(4, 8, 20)
    out = msa(x)
    assert out.shape == x.shape and out.dtype == torch.float32
    assert_grads(msa, out)
    msa.eval()
    torch.testing.assert_close(msa(x), msa(x), rtol=0, atol=0)
    assert msa(torch.randn(2, 8, 3)).shape == (2, 8, 3)


@pytest.mark.parametrize("axes", ["both", "frame", "band"])
def test_full_frequency_frame_attention(axes):
    f3a = FullFrequencyFrameAttention(8, 2, key_dim=3, axes=axes)
    x = torch.randn(2, 8, 5, 7)
    out = f3a(x)
    assert out.shape == x.shape and out.dtype == torch.float32
    assert_grads(f3a, out)
    f3a.eval()
    mask = padded_mask(2, 7, [4, 7])
    out = f3a(x, mask)
    torch.testing.assert_close(out[0, :, :, :4], f3a(x[:1, :, :, :4])[0], atol=ATOL, rtol=0)
    torch.testing.assert_close(out[1], f3a(x[1:])[0], atol=ATOL, rtol=0)


# ----------------------------------------------------------------------------- embeddings


def test_sensor_embedding_shape_grad_and_permutation_equivariance():
    emb = SensorEmbedding(16)
    assert emb.n_types == len(SENSOR_TYPES)
    pos, ori = 0.1 * torch.randn(2, 6, 3), torch.randn(2, 6, 3)
    types = torch.randint(0, len(SENSOR_TYPES), (2, 6))
    out = emb(pos, ori, types)
    assert out.shape == (2, 6, 16) and out.dtype == torch.float32
    assert_grads(emb, out)
    emb.eval()
    perm = torch.randperm(6)
    torch.testing.assert_close(emb(pos[:, perm], ori[:, perm], types[:, perm]), out[:, perm])
    other = emb(pos, ori, (types + 1) % len(SENSOR_TYPES))
    assert not torch.allclose(other, out)


def test_sensor_embedding_missing_geometry_and_bad_types():
    emb = SensorEmbedding(8)
    pos = torch.randn(1, 3, 3)
    ori = torch.full((1, 3, 3), float("nan"))
    out = emb(pos, ori, torch.zeros(1, 3, dtype=torch.long))
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, emb(pos, torch.zeros(1, 3, 3), torch.zeros(1, 3).long()))
    with pytest.raises(InvalidParameterError):
        emb(pos, ori, torch.full((1, 3), len(SENSOR_TYPES)))


def test_positional_embedding():
    sin = PositionalEmbedding(8)
    table = sin(5)
    assert table.shape == (5, 8)
    torch.testing.assert_close(table[0], torch.tensor([0.0, 1.0] * 4))
    torch.testing.assert_close(sin(torch.arange(5)[None].expand(3, 5)), table.expand(3, 5, 8))
    learned = PositionalEmbedding(8, kind="learned", max_len=10)
    out = learned(torch.arange(4)[None])
    assert out.shape == (1, 4, 8)
    assert_grads(learned, out)
    with pytest.raises(InvalidParameterError):
        learned(torch.tensor([10]))


# ----------------------------------------------------------------------------- losses

LOSSES = [
    pytest.param(lambda x, y, m=None: multi_resolution_stft_loss(x, y, valid_mask=m), id="mrstft"),
    pytest.param(lambda x, y, m=None: pearson_loss(x, y, valid_mask=m), id="pearson"),
    pytest.param(
        lambda x, y, m=None: sum(fft_amplitude_phase_loss(x, y, valid_mask=m)), id="fft-cosine"
    ),
    pytest.param(
        lambda x, y, m=None: sum(fft_amplitude_phase_loss(x, y, valid_mask=m, phase="angle")),
        id="fft-angle",
    ),
]


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_loss_zero_for_identical_positive_otherwise(loss_fn):
    y = torch.randn(2, 3, 200)
    x = y.clone().requires_grad_(True)
    same = loss_fn(x, y)
    assert same.shape == () and abs(same.item()) < 1e-4
    same.backward()
    assert torch.isfinite(x.grad).all()
    x = (y + 0.5 * torch.randn_like(y)).requires_grad_(True)
    diff = loss_fn(x, y)
    assert diff.item() > 1e-3
    diff.backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@pytest.mark.parametrize("loss_fn", LOSSES)
def test_loss_ignores_masked_samples(loss_fn):
    y = torch.randn(2, 160)
    x = y + 0.3 * torch.randn_like(y)
    mask = torch.ones(2, 160, dtype=torch.bool)
    mask[:, 120:] = False
    x2 = x.clone()
    x2[:, 120:] = 50.0 * torch.randn(2, 40)
    torch.testing.assert_close(loss_fn(x, y, mask), loss_fn(x2, y, mask))
    assert abs(float(loss_fn(x2, torch.where(mask, x2, y), mask))) < 1e-4


def test_pearson_loss_variants():
    y = torch.randn(4, 100)
    assert float(pearson_loss(2.0 * y + 3.0, y)) == pytest.approx(0.0, abs=1e-5)
    assert float(pearson_loss(-y, y)) == pytest.approx(2.0, abs=1e-5)
    assert float(pearson_loss(y, y, kind="exp")) == pytest.approx(math.exp(-1.0), abs=1e-5)
    assert float(pearson_loss(-y, y, kind="exp")) == pytest.approx(math.e, abs=1e-4)
    assert pearson_loss(y, -y, reduction="none").shape == (4,)
    noisy = y + torch.randn(4, 100)
    mask = torch.arange(100) < 50
    full = pearson_loss(noisy, y, valid_mask=mask, reduction="none")
    torch.testing.assert_close(full, pearson_loss(noisy[:, :50], y[:, :50], reduction="none"))


def test_fft_amplitude_phase_terms():
    t = torch.arange(128) / 128.0
    a = torch.sin(2 * math.pi * 8 * t)
    shifted = torch.sin(2 * math.pi * 8 * t + 1.0)
    amp, phase = fft_amplitude_phase_loss(shifted, a)
    assert float(amp) < 1e-3 and float(phase) > 1e-3
    amp, phase = fft_amplitude_phase_loss(2.0 * a, a)
    assert float(amp) > 1e-3 and float(phase) < 1e-5
    with pytest.raises(InvalidParameterError):
        fft_amplitude_phase_loss(a, a, phase="wrapped")


# ---------------------------------------------------------------- Dropout (16-bit CPU mask)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.95])
def test_dropout_keeps_the_expected_fraction_and_scales(p):
    from neurokit.nn.dropout import Dropout

    torch.manual_seed(0)
    drop = Dropout(p).train()
    n = 400_000
    out = drop(torch.ones(n))
    kept = out > 0
    # binomial standard error is below 8e-4 here; 5 of them is a loose but failing bound
    assert abs(kept.float().mean().item() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
    assert torch.allclose(out[kept], torch.full_like(out[kept], 1 / (1 - p)))
    # mask elements are independent of their position (no pattern from the 4 words per draw)
    words = kept.view(-1, 4).float().mean(0)
    assert torch.all((words - (1 - p)).abs() < 5 * np.sqrt(p * (1 - p) / (n / 4)))


def test_dropout_gradient_is_the_same_mask_and_eval_is_identity():
    from neurokit.nn.dropout import Dropout

    torch.manual_seed(1)
    drop = Dropout(0.3).train()
    x = torch.randn(64, 5, 33, requires_grad=True)
    torch.manual_seed(2)
    out = drop(x)
    grad = torch.randn_like(out)
    out.backward(grad)
    keep = out.detach() != 0
    assert 0.6 < keep.float().mean().item() < 0.8
    assert torch.allclose(out.detach(), torch.where(keep, x.detach() / 0.7, 0.0))
    assert torch.allclose(x.grad, torch.where(keep, grad / 0.7, 0.0))
    torch.manual_seed(2)
    again = Dropout(0.3).train()(x.detach())
    assert torch.equal(again, out.detach())  # the default generator seeds it
    assert torch.equal(drop.eval()(x), x)
    assert torch.equal(Dropout(0.0).train()(x), x)
    half = Dropout(0.5).train()(x.detach().double())
    assert half.dtype == torch.float64 and ((half == 0) | torch.isclose(half, 2 * x.double())).all()
