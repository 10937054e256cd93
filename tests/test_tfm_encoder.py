"""TFMTokenEncoder (masked-token encoder over TFM tokens) and neurokit.metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurokit.errors import InvalidParameterError
from neurokit.metrics import classification_report
from neurokit.models import MODELS, TFMTokenEncoder
from neurokit.tokenizers import create_tokenizer


@pytest.fixture(autouse=True)
def _one_thread():
    """These models are small: one thread is fastest, and immune to a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _encoder(**kwargs):
    torch.manual_seed(0)
    return TFMTokenEncoder.from_preset("tiny", **{"n_outputs": 4, "n_chans": 3, **kwargs})


def _codes(b=2, c=3, n=9, k=128, seed=0):
    return torch.randint(0, k, (b, c, n), generator=torch.Generator().manual_seed(seed))


def test_shapes_and_braindecode_attributes():
    enc = _encoder(n_times=1000, sfreq=200.0).eval()
    codes = _codes()
    assert enc(codes).shape == (2, 4)
    assert enc.forward_features(codes).shape == (2, 32)
    assert enc.encode(codes).shape == (2, 1 + 3 * 9, 32)
    assert torch.allclose(enc.forward_head(enc.forward_features(codes)), enc(codes))
    assert (enc.n_chans, enc.n_outputs, enc.n_times, enc.sfreq) == (3, 4, 1000, 200.0)
    assert list(dict(enc.named_children()))[-1] == "head"
    assert enc.head.out_features == 4
    # [b, c, 1, n] codes (as Tokens carry them) give the same logits
    assert torch.allclose(enc(codes[:, :, None]), enc(codes))
    config = enc.get_config()
    assert config["name"] == "tfm_encoder" and config["input"]["sfreq"] == 200.0
    assert MODELS["tfm_encoder"] is TFMTokenEncoder
    with pytest.raises(TypeError):
        TFMTokenEncoder(4)  # keyword-only
    with pytest.raises(InvalidParameterError, match="unknown preset"):
        TFMTokenEncoder.from_preset("huge")


def test_mask_token_id_and_embedding_size():
    enc = _encoder()
    assert enc.mask_id == 128 == enc.codebook_size
    assert enc.token_embedding.num_embeddings == 129
    assert enc.token_head.out_features == 128
    codes = _codes()
    codes[0, 0, 0] = enc.mask_id  # the mask id is a valid input
    assert torch.isfinite(enc.eval()(codes)).all()
    codes[0, 0, 0] = 129
    with pytest.raises(InvalidParameterError, match="must lie in"):
        enc(codes)


def test_channel_mask_hides_padded_channels():
    enc = _encoder().eval()
    codes = _codes(b=1, c=3)
    mask = torch.tensor([[True, True, False]])
    other = codes.clone()
    other[:, 2] = (other[:, 2] + 7) % 128  # change only the padded channel
    assert torch.allclose(enc(codes, mask), enc(other, mask), atol=1e-6)
    assert torch.allclose(enc(codes, mask), enc(codes[:, :2]), atol=1e-5)


def test_from_tokenizer_copies_the_codebook():
    torch.manual_seed(0)
    tok = create_tokenizer("tfm", preset="tiny")
    book = tok.quantizer.codebook
    enc = TFMTokenEncoder.from_tokenizer(tok, preset="tiny", n_outputs=4)
    assert enc.codebook_size == book.shape[0] and enc.sfreq == tok.sfreq
    assert torch.equal(enc.token_embedding.weight[: book.shape[0]], book)
    # a wider encoder: projected code vectors keep their inner products
    wide = TFMTokenEncoder.from_tokenizer(tok, emb_size=64, depth=1, n_heads=4)
    w = wide.token_embedding.weight[: book.shape[0]].detach()
    assert w.shape[1] == 64
    assert torch.allclose(w @ w.T, book @ book.T, atol=1e-4)
    # the codes of the tokenizer run through the encoder
    codes = tok.eval().encode(torch.randn(2, 3, 1000)).codes
    assert enc.eval()(codes).shape == (2, 4)


def test_masked_token_loss_is_finite_with_gradients():
    enc = _encoder().train()
    codes = _codes()
    loss = enc.masked_token_loss(codes, mask_ratio=0.5, generator=torch.Generator().manual_seed(1))
    assert loss.ndim == 0 and torch.isfinite(loss)
    # roughly log(K) at initialization, summed over the two complementary views
    assert 0.5 * 2 * np.log(128) < loss.item() < 2 * 2 * np.log(128)
    loss.backward()
    for name in ("token_embedding.weight", "token_head.weight", "cls_token"):
        grad = dict(enc.named_parameters())[name].grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    single = enc.masked_token_loss(codes, symmetric=False, generator=torch.Generator())
    assert torch.isfinite(single)
    with pytest.raises(InvalidParameterError, match="mask_ratio"):
        enc.masked_token_loss(codes, mask_ratio=1.0)


def test_masked_token_pretraining_learns_a_repeated_pattern():
    enc = _encoder(n_outputs=None).train()
    assert isinstance(enc.head, torch.nn.Identity)
    codes = torch.arange(9).repeat(8, 3, 1)  # every channel counts 0..8
    opt = torch.optim.AdamW(enc.parameters(), lr=3e-3)
    first = None
    for _ in range(40):
        loss = enc.masked_token_loss(codes)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


def test_save_and_load(tmp_path):
    enc = _encoder().eval()
    enc.save_pretrained(tmp_path / "enc")
    back = TFMTokenEncoder.from_pretrained(tmp_path / "enc").eval()
    codes = _codes()
    assert torch.allclose(back(codes), enc(codes))


def test_metrics_perfect_and_chance():
    y = np.array([0, 1, 2, 3] * 25)
    perfect = classification_report(y, y, np.eye(4)[y])
    assert perfect == {
        "accuracy": 1.0,
        "balanced_accuracy": 1.0,
        "kappa": 1.0,
        "f1_weighted": 1.0,
        "roc_auc": 1.0,
    }
    rng = np.random.default_rng(0)
    truth, guess = rng.integers(0, 4, 4000), rng.integers(0, 4, 4000)
    chance = classification_report(truth, guess, rng.random((4000, 4)))
    assert abs(chance["kappa"]) < 0.05 and abs(chance["balanced_accuracy"] - 0.25) < 0.03
    assert abs(chance["roc_auc"] - 0.5) < 0.03


def test_metrics_known_values_and_undefined_auc():
    report = classification_report([0, 0, 1, 1], [0, 1, 0, 1], [0.1, 0.6, 0.4, 0.9])
    assert report["accuracy"] == 0.5 and report["kappa"] == 0.0
    assert report["roc_auc"] == pytest.approx(0.75)
    # logits are accepted (softmax inside); ranking decides the AUC
    logits = np.log(np.eye(3)[[0, 1, 2, 2]] + 0.1)
    assert classification_report([0, 1, 2, 2], [0, 1, 2, 2], logits)["roc_auc"] == 1.0
    assert classification_report([0, 1, 1], [0, 1, 1], np.eye(3)[[0, 1, 1]])["roc_auc"] is None
    assert classification_report([0, 1], [1, 0])["roc_auc"] is None
    with pytest.raises(InvalidParameterError):
        classification_report([0, 1], [0])
