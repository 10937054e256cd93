"""BrainOmni stage 2: masked-token pretraining model and its fine-tuning classifier."""

from __future__ import annotations

import math

import pytest
import torch

from neurokit.errors import InvalidParameterError
from neurokit.models.brainomni import BrainOmni, _BandedRotary
from neurokit.models.brainomni_heads import BrainOmniClassifier
from neurokit.nn.quantizers import ResidualVectorQuantizer
from neurokit.tokenizers import Tokens

V = 512  # codes per level


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _model(**kwargs):
    torch.manual_seed(0)
    return BrainOmni.from_preset("micro", **kwargs)


def _codes(b=2, s=16, n=6, seed=0):
    return torch.randint(0, V, (b, s, 4, n), generator=torch.Generator().manual_seed(seed))


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _lm_parameters(model):
    """Parameters outside the code/source tables (the reference reads those from its tokenizer)."""
    bb = model.backbone
    tables = bb.token_embedding.weight.numel() + bb.source_embedding.numel()
    return sum(p.numel() for p in model.parameters()) - tables


def test_presets_match_the_reference_sizes():
    tiny = BrainOmni.from_preset("tiny")
    bb = tiny.backbone
    assert (bb.dim, len(bb.blocks), bb.blocks[0].time_attn.n_heads * 2) == (256, 12, 8)
    assert isinstance(bb.projection, torch.nn.Identity)  # 256-wide tokenizer vectors
    # reference LM part (blocks, mask vector, prediction head), counted from its code
    assert _lm_parameters(tiny) == 8_424_704
    assert _lm_parameters(BrainOmni.from_preset("base")) == 32_707_328
    with torch.no_grad():
        out = tiny.eval()(_codes(b=1, n=3), generator=_gen(), return_logits=True)
    assert out["logits"].shape == (1, 16, 3, 4, V)
    assert BrainOmniClassifier.presets["tiny"]["depth"] == 11
    assert BrainOmniClassifier.presets["base"]["dim"] == 512
    with pytest.raises(InvalidParameterError, match="unknown preset"):
        BrainOmni.from_preset("huge")
    with pytest.raises(TypeError):
        BrainOmni(64)  # keyword-only


def test_shapes_outputs_and_heads_contract():
    model = _model().eval()
    codes = _codes()
    feats = model.forward_features(codes)
    assert feats.shape == (2, 16, 6, 64)
    assert model.forward_head(feats).shape == (2, 16, 6, 4, V)
    out = model(Tokens(codes, torch.ones(2, 16, 6, dtype=torch.bool), 32.0, (V,) * 4))
    names = {"loss", "acc", "mask_fraction"} | {
        f"{m}_level{i}" for m in ("loss", "acc") for i in range(4)
    }
    assert set(out) == names and all(v.ndim == 0 for v in out.values())
    assert abs(out["loss"].item() - math.log(V)) < 0.5  # chance level at initialization
    assert list(dict(model.named_children()))[-1] == "head"
    # int32 codes (as stored in a corpus) and a batch dict give the same result
    a = model({"codes": codes.int()}, generator=_gen())["loss"]
    assert torch.allclose(a, model(codes, generator=_gen())["loss"])
    clf = BrainOmniClassifier.from_preset("micro", n_outputs=3).eval()
    assert clf.forward_features(codes).shape == (2, 16 * 64)
    assert clf(codes).shape == (2, 3)
    assert list(dict(clf.named_children()))[-1] == "head"
    assert clf.head[-1].out_features == clf.n_outputs == 3
    assert len(clf.backbone.blocks) == 1


def test_masking_statistics_and_replacements():
    model = _model()
    valid = torch.ones(8, 16, 32, dtype=torch.bool)
    valid[:, :, 28:] = False  # padded frames are never hidden
    hidden, randomized = model.draw_mask(valid, _gen(3))
    n_valid = valid.sum().item()
    assert abs(hidden.sum().item() / n_valid - 0.5) < 0.03
    assert abs(randomized.sum().item() / hidden.sum().item() - 0.2) < 0.03
    assert not (randomized & ~hidden).any() and not (hidden & ~valid).any()
    # the corrupted inputs: mask vector (80 %), another valid position's vector (20 %), else kept
    codes = _codes(b=8, n=32)
    content = model.backbone.embed(codes)
    new = model.corrupt(content, codes, valid, hidden, randomized, _gen(4))
    keep = ~hidden
    assert torch.equal(new[keep], content[keep])
    assert torch.equal(
        new[hidden & ~randomized], model.mask_token.expand(*new[hidden & ~randomized].shape)
    )
    pool = content[valid]
    for vec in new[randomized][:50]:
        assert (pool == vec).all(dim=1).any()
    # the uniform variant draws fresh codes, not the mask vector
    uni = _model(random_tokens="uniform").corrupt(content, codes, valid, hidden, randomized, _gen())
    assert not (uni[randomized] == model.mask_token).all(dim=1).any()


def test_loss_is_finite_and_reaches_every_parameter():
    for model in (_model().train(), BrainOmniClassifier.from_preset("micro", n_outputs=2)):
        batch = {"codes": _codes(), "label": torch.tensor([0, 1])}
        out = (
            model(batch)
            if isinstance(model, BrainOmniClassifier)
            else model(batch, generator=_gen())
        )
        assert torch.isfinite(out["loss"])
        out["loss"].backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
            assert p.grad.abs().sum() > 0, name


def test_masked_prediction_learns_periodic_tokens():
    model = _model(dropout=0.0).train()
    table = torch.randint(0, V, (16, 4, 4), generator=_gen(5))  # period 4 in time
    codes = table[:, :, torch.arange(12) % 4].expand(4, -1, -1, -1)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for step in range(30):
        loss = model(codes, generator=_gen(step))["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[:5]) / 5 > 5.0  # about log(512) at the start
    assert sum(losses[-5:]) / 5 < 2.0  # near the log(4) of four codes per source and level


def test_padding_leaves_real_tokens_unchanged():
    model = _model().eval()
    codes = _codes(n=8)
    mask = torch.ones(2, 16, 8, dtype=torch.bool)
    mask[0, 12:] = False  # 4 padded sources
    mask[1, :, 6:] = False  # 2 padded frames
    other = codes.clone()
    other[~mask[:, :, None, :].expand_as(codes)] = 99999  # anything, even out of range
    h = model.forward_features(codes, mask)
    assert torch.equal(h, model.forward_features(other, mask))
    assert (h[~mask] == 0).all()
    assert torch.allclose(h[0, :12], model.forward_features(codes[:1, :12])[0], atol=1e-5)
    assert torch.allclose(h[1, :, :6], model.forward_features(codes[1:, :, :, :6])[0], atol=1e-5)
    a = model(codes, mask, generator=_gen(), return_logits=True)
    assert not (a["hidden"] & ~mask).any()
    assert torch.equal(a["loss"], model(other, mask, generator=_gen())["loss"])
    clf = BrainOmniClassifier.from_preset("micro", n_outputs=2).eval()
    assert torch.equal(clf(codes, mask), clf(other, mask))
    assert torch.allclose(clf(codes, mask)[0], clf(codes[:1, :12])[0], atol=1e-5)
    bad = mask.clone()
    bad[1, 0, 0] = False  # a single token: not a padded source or frame
    with pytest.raises(InvalidParameterError, match="whole sources or whole frames"):
        model.forward_features(codes, bad)


def test_time_attention_is_bidirectional():
    model = _model().eval()
    codes = _codes(b=1, n=10)
    later = codes.clone()
    later[0, 3, :, 9] = (later[0, 3, :, 9] + 1) % V  # change the last frame of one source
    a, b = model.forward_features(codes), model.forward_features(later)
    assert not torch.allclose(a[0, 3, 0], b[0, 3, 0])  # earlier frame of that source sees it


def test_rotary_positions_only_on_the_time_half():
    model = _model().eval()
    for block in model.backbone.blocks:
        assert isinstance(block.time_attn.rope, _BandedRotary) and block.space_attn.rope is None
    rope = model.backbone.blocks[0].time_attn.rope  # 2 time heads of width 16
    j = torch.arange(16, dtype=torch.float32)
    assert torch.allclose(rope.inv_freq.flatten(), 10000.0 ** (-2 * j / 32))
    std = _model(rope_layout="standard").backbone.blocks[0].time_attn.rope
    assert std.inv_freq.shape == (8,)
    x = torch.randn(1, 5, 7, 64, generator=_gen())
    blocks = model.backbone.blocks
    torch.manual_seed(1)
    for layer in blocks.modules():  # larger weights, so the attention visibly moves the tokens
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.normal_(layer.weight, std=0.1)

    def run(x):
        for block in blocks:
            x = block(x)
        return x

    perm = torch.tensor([3, 0, 4, 1, 2])
    assert torch.allclose(
        run(x)[:, perm], run(x[:, perm]), atol=1e-4, rtol=1e-4
    )  # sources unordered
    flip = torch.arange(6, -1, -1)
    gap = (run(x)[:, :, flip] - run(x[:, :, flip])).abs().max()
    assert gap > 0.05  # time is ordered: reversing it changes more than the order


def test_save_load_round_trip_and_backbone_transfer(tmp_path):
    model = _model(sfreq=256.0, n_times=7680).eval()
    model.save_pretrained(tmp_path / "omni")
    back = BrainOmni.from_pretrained(tmp_path / "omni").eval()
    codes = _codes()
    assert torch.equal(
        back(codes, generator=_gen())["loss"], model(codes, generator=_gen())["loss"]
    )
    config = model.get_config()
    assert config["name"] == "brainomni" and config["input"]["sfreq"] == 256.0
    assert config["tokens"] == {"n_sources": 16, "n_levels": 4, "codebook_size": V}
    clf = BrainOmniClassifier.from_pretrained_backbone(tmp_path / "omni", n_outputs=3).eval()
    assert len(clf.backbone.blocks) == 1 and clf.sfreq == 256.0
    h = torch.nn.functional.normalize(model.backbone(codes, n_blocks=1), dim=-1, eps=1e-6)
    assert torch.allclose(clf.forward_features(codes), h.mean(dim=2).flatten(1), atol=1e-6)
    clf.save_pretrained(tmp_path / "clf")
    again = BrainOmniClassifier.from_pretrained(tmp_path / "clf").eval()
    assert torch.equal(again(codes), clf(codes))
    full = BrainOmniClassifier.from_pretrained_backbone(tmp_path / "omni", n_outputs=2, n_blocks=2)
    assert len(full.backbone.blocks) == 2
    with pytest.raises(InvalidParameterError, match="differ from the pretrained"):
        BrainOmniClassifier.from_pretrained_backbone(tmp_path / "omni", n_outputs=2, dim=128)
    with pytest.raises(InvalidParameterError, match="n_blocks"):
        BrainOmniClassifier.from_pretrained_backbone(tmp_path / "omni", n_outputs=2, n_blocks=3)


def test_classifier_learns_a_labelled_token_task():
    gen = _gen(7)

    def data(n):
        y = torch.arange(n) % 2
        codes = torch.randint(0, V // 2, (n, 16, 4, 6), generator=gen)
        codes[:, :, 0] += (y * (V // 2))[:, None, None]  # class 1 uses the upper codes at level 0
        return codes, y

    torch.manual_seed(0)
    clf = BrainOmniClassifier.from_preset("micro", n_outputs=2)
    codes, y = data(32)
    opt = torch.optim.AdamW(clf.parameters(), lr=1e-3)
    for _ in range(25):
        out = clf({"codes": codes, "label": y})
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
    test_codes, test_y = data(32)
    report = clf.evaluate(test_codes, test_y)
    assert set(report) == {"accuracy", "balanced_accuracy", "kappa", "f1_weighted", "roc_auc"}
    assert report["balanced_accuracy"] >= 0.9 and report["roc_auc"] >= 0.95
    assert clf.training  # evaluate restores the mode
    frozen = BrainOmniClassifier.from_preset("micro", n_outputs=2, freeze_backbone=True).train()
    assert not frozen.backbone.training and frozen.head.training
    assert not any(p.requires_grad for p in frozen.backbone.parameters())


def test_initialization_from_a_residual_quantizer():
    torch.manual_seed(0)
    rvq = ResidualVectorQuantizer(32, 4, V, codebook_dim=16)
    sources = torch.randn(16, 32)
    model = BrainOmni.from_tokenizer(rvq, preset="micro", source_vectors=sources)
    bb = model.backbone
    assert bb.embed_dim == 32 and isinstance(bb.projection, torch.nn.Linear)
    codes = _codes()
    with torch.no_grad():
        expected = rvq.decode(codes.permute(0, 1, 3, 2))  # [b, s, n, 32]
        assert torch.allclose(bb.embed(codes), expected, atol=1e-5)
    assert torch.equal(bb.source_embedding, sources)
    assert not bb.token_embedding.weight.requires_grad and not bb.source_embedding.requires_grad
    with pytest.raises(InvalidParameterError, match="residual quantizer"):
        BrainOmni.from_tokenizer(torch.nn.Linear(2, 2))


def test_clear_errors_on_wrong_tokens():
    model = _model()
    codes = _codes()
    with pytest.raises(InvalidParameterError, match="3 quantizer levels"):
        model(codes[:, :, :3])
    bad = codes.clone()
    bad[0, 0, 0, 0] = V
    with pytest.raises(InvalidParameterError, match=r"must lie in \[0, 511\]"):
        model(bad)
    bad[0, 0, 0, 0] = -1
    with pytest.raises(InvalidParameterError, match="must lie in"):
        model(bad)
    with pytest.raises(InvalidParameterError, match="integer code indices"):
        model(codes.float())
    with pytest.raises(InvalidParameterError, match="n_sources=16"):
        model(torch.zeros(1, 17, 4, 3, dtype=torch.long))
    with pytest.raises(InvalidParameterError, match=r"\[batch, sources, levels, frames\]"):
        model(codes[:, :, 0])
    with pytest.raises(InvalidParameterError, match="mask must be"):
        model(codes, torch.ones(2, 16, dtype=torch.bool))
    with pytest.raises(InvalidParameterError, match="codebook_sizes"):
        model(Tokens(codes, torch.ones(2, 16, 6, dtype=torch.bool), 32.0, (1024,) * 4))
    with pytest.raises(InvalidParameterError, match="rope_layout"):
        _model(rope_layout="spiral")
    with pytest.raises(InvalidParameterError, match="mask_ratio"):
        _model(mask_ratio=1.0)
    with pytest.raises(InvalidParameterError, match="n_heads"):
        _model(n_heads=3)
    clf = BrainOmniClassifier.from_preset("micro", n_outputs=2)
    with pytest.raises(InvalidParameterError, match="labels must lie"):
        clf({"codes": codes, "label": torch.tensor([0, 2])})


def test_pretraining_runs_in_the_trainer(tmp_path):
    from neurokit.training import TrainConfig, Trainer

    items = [{"codes": c, "mask": torch.ones(16, 6, dtype=torch.bool)} for c in _codes(b=8)]
    model = _model()
    config = TrainConfig(
        out_dir=str(tmp_path / "run"), max_steps=3, batch_size=4, lr=1e-3, warmup_steps=1,
        progress=False, tensorboard=False, device="cpu",
    )  # fmt: skip
    history = Trainer(model, items, config=config).fit()
    assert len(history) >= 1 and all(math.isfinite(h["loss"]) for h in history)
    assert "acc_level3" in history[-1]
    ckpt = sorted((tmp_path / "run" / "checkpoints").iterdir())[-1]
    back = BrainOmni.from_pretrained(ckpt).eval()
    for (name, p), q in zip(model.state_dict().items(), back.state_dict().values()):
        assert torch.equal(p, q), name
