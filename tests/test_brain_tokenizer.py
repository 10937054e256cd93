"""BrainTokenizer (BrainOmni): contract behaviours on sensor batches, permutation and padding
invariance, the BrainOmni position step, and real EEG / MEG / iEEG files."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from conftest import DATA, REPO
from hypothesis import given, settings
from hypothesis import strategies as st

import neurokit
from neurokit.errors import InvalidParameterError
from neurokit.preprocessing import apply_step
from neurokit.sensors import SENSOR_TYPES

# The tokenizer is imported inside the tests (not at collection time), so that the shared
# tokenizer contract suite is parametrized over the tokenizers that neurokit itself registers.


def _brain():
    from neurokit.tokenizers import brain

    return brain


def _tiny(**overrides):
    torch.manual_seed(0)
    return _brain().BrainTokenizer.from_preset("tiny", **overrides)


def _items(table, x):
    """CorpusDataset-like items for one montage (NaN -> 0, type ids of the table)."""
    pos = torch.from_numpy(np.nan_to_num(table.pos).astype(np.float32))
    ori = torch.from_numpy(np.nan_to_num(table.ori).astype(np.float32))
    tid = torch.from_numpy(table.type_ids)
    return [dict(x=xi, pos=pos, ori=ori, type_id=tid, label=-1, recording=0, start=0) for xi in x]


def _montage(kind="meg", n_channels=9):
    rec = neurokit.io.synthetic(kind, n_channels=n_channels, duration_s=1.0, sfreq=256.0)
    data = [t for t in ("eeg", "mag", "grad", "seeg", "ecog") if t in rec.sensors.types]
    return apply_step(rec, "pick_types", types=data).sensors


def _batch(table, b=2, seconds=5.0, seed=0):
    from neurokit.corpus import collate

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, len(table), int(seconds * 256), generator=g)
    return collate(_items(table, x))


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Small models run fastest on one thread on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained(_one_thread):
    """A tiny tokenizer after one training pass (codebooks initialized by k-means on its
    features, so that codes differ), in eval mode, with the MEG montage it saw."""
    tok = _tiny()
    table = _montage("meg", 9)
    tok.train()
    tok(_batch(table, b=4, seconds=2.0, seed=1))
    return tok.eval(), table


def test_shapes_dtypes_frames_and_code_range(trained):
    tok, table = trained
    batch = _batch(table, b=2, seconds=5.0)
    tokens = tok.encode(batch)
    assert tokens.codes.shape == (2, 4, 2, 20) and tokens.codes.dtype == torch.int64
    assert tokens.mask.shape == (2, 4, 20) and tokens.mask.dtype == torch.bool
    assert tokens.mask.all() and tokens.frame_rate == 4.0 and tokens.codebook_sizes == (32, 32)
    assert 0 <= int(tokens.codes.min()) and int(tokens.codes.max()) < 32
    assert len(torch.unique(tokens.codes[:, :, 0])) > 3  # trained: codes differ
    # frames = frame_rate x duration; a trailing part of a window is encoded as a shorter one
    assert tok.n_frames(1280) == 20 == round(tok.frame_rate * 5.0)
    assert tok.n_frames(512) == 8 and tok.n_frames(600) == 10 and tok.n_frames(64) == 1
    short = tok.encode({**batch, "x": batch["x"][..., :600]})
    assert short.codes.shape[-1] == 10
    assert tok.decode(tokens).shape == (2, 9, 1280)


def test_configurations_and_derived_sample_counts():
    brain = _brain()
    base = brain.BrainTokenizer.from_preset("base")
    assert base.window == 512 and base.hop == 64 and base.frame_rate == 4.0
    assert base.codebook_sizes == (512,) * 4 and base.to_sources.sources.shape == (16, 256)
    assert base.quantizer.levels[0].codebook.shape == (512, 256)
    assert base.source_vectors.shape == (16, 256) and not base.source_vectors.requires_grad
    assert base.n_streams(306) == 16 and base.input_contract()["window_s"] == 2.0
    assert base.config["phase_weight"] == 0.5 and base.config["channel_drop"] == 0.25
    fast = _tiny(sfreq=512.0)  # derived from sfreq and seconds, never fixed in samples
    assert fast.window == 1024 and fast.frame_rate == 8.0 and fast.n_frames(1024) == 16
    with pytest.raises(InvalidParameterError, match="multiple of prod"):
        _tiny(window_s=1.9)
    with pytest.raises(InvalidParameterError, match="unknown preset"):
        brain.BrainTokenizer.from_preset("huge")


def test_eval_determinism_and_batch_independence(trained):
    tok, table = trained
    batch = _batch(table, b=3, seed=2)
    a, b = tok.encode(batch).codes, tok.encode(batch).codes
    assert torch.equal(a, b)
    one = {k: v[1:2] for k, v in batch.items()}
    assert torch.equal(tok.encode(one).codes, a[1:2])


def test_padded_channels_give_the_codes_of_the_unpadded_recording(trained):
    """A recording padded with masked channels (garbage inside) keeps its codes, also in a
    batch with a larger montage."""
    from neurokit.corpus import collate

    tok, table = trained
    g = torch.Generator().manual_seed(3)
    small = table.select(range(6))
    xs = torch.randn(1, 6, 768, generator=g)
    alone = tok.encode(collate(_items(small, xs))).codes
    big = collate(_items(small, xs) + _items(table, torch.randn(1, 9, 768, generator=g)))
    assert big["x"].shape[1] == 9 and not big["channel_mask"][0, 6:].any()
    big["x"][0, 6:] = 1e3 * torch.randn(3, 768, generator=g)
    big["pos"][0, 6:] = 5.0
    assert torch.equal(tok.encode(big).codes[:1], alone)
    empty = {**big, "channel_mask": torch.zeros_like(big["channel_mask"])}
    empty["channel_mask"][1] = True
    tokens = tok.encode(empty)
    assert not tokens.mask[0].any() and tokens.mask[1].all()


@settings(max_examples=8, deadline=None)
@given(perm=st.permutations(list(range(9))))
def test_permuting_channels_with_their_sensors_keeps_the_codes(trained, perm):
    tok, table = trained
    batch = _batch(table, b=1, seconds=2.0, seed=4)
    idx = torch.tensor(perm)
    shuffled = {
        k: (v[:, idx] if k in ("x", "pos", "ori", "type_id", "channel_mask") else v)
        for k, v in batch.items()
    }
    a, b = tok.encode(batch), tok.encode(shuffled)
    assert torch.equal(a.codes, b.codes)
    torch.testing.assert_close(tok.decode(b), tok.decode(a)[:, idx], rtol=1e-4, atol=1e-4)


def test_decode_into_another_montage(trained):
    tok, table = trained
    tokens = tok.encode(_batch(table, b=2, seconds=2.0))
    eeg = _montage("eeg", 7)
    out = tok.decode(tokens, sensors=eeg)
    assert out.shape == (2, 7, 512) and torch.isfinite(out).all()
    bare = neurokit.tokenizers.Tokens(tokens.codes, tokens.mask, 4.0, tokens.codebook_sizes)
    with pytest.raises(InvalidParameterError, match="decode needs the sensors"):
        tok.decode(bare)


def test_save_load_gives_identical_codes(trained, tmp_path):
    from neurokit.tokenizers import Tokenizer

    tok, table = trained
    tok.save_pretrained(tmp_path / "ckpt")
    again = Tokenizer.from_pretrained(tmp_path / "ckpt").eval()
    assert type(again) is type(tok) and again.config == tok.config
    batch = _batch(table, seed=5)
    assert torch.equal(again.encode(batch).codes, tok.encode(batch).codes)


def test_training_loss_and_gradients_reach_every_parameter():
    tok = _tiny().train()
    table = _montage("meg", 9)
    batch = _batch(table, b=2, seconds=2.5)
    batch["channel_mask"][1, 7:] = False  # padded channels in training too
    out = tok(batch)
    assert set(out.losses) == {"loss", "time", "pcc", "amp", "phase", "commit", "perplexity"}
    assert all(torch.isfinite(v) for v in out.losses.values())
    expected = (
        out.losses["time"]
        + torch.exp(-out.losses["pcc"])
        + out.losses["commit"]
        + out.losses["amp"]
        + 0.5 * out.losses["phase"]
    )
    torch.testing.assert_close(out.losses["loss"].detach(), expected)
    assert out.recon.shape == (2, 9, 640) and not out.recon[1, 7:].any()
    assert out.latents.shape == (2, 4, 10, 32)
    out.losses["loss"].backward()
    missing = [
        n
        for n, p in tok.named_parameters()
        if p.requires_grad and (p.grad is None or not torch.isfinite(p.grad).all())
    ]
    assert not missing, f"no gradient for {missing}"


def test_training_hides_a_quarter_of_the_real_channels():
    from neurokit.tokenizers.brain_modules import hide_channels

    valid = torch.tensor([[True] * 8, [True] * 3 + [False] * 5, [True] + [False] * 7])
    torch.manual_seed(0)
    for _ in range(5):
        visible = hide_channels(valid, 0.25)
        assert visible.sum(1).tolist() == [6, 2, 1]  # int(0.25 c) but >= 1, never all
        assert not (visible & ~valid).any()
    assert torch.equal(hide_channels(valid, 0.0), valid)


def test_clear_errors_on_wrong_input(trained):
    tok, table = trained
    batch = _batch(table, b=1, seconds=2.0)
    with pytest.raises(InvalidParameterError, match="does not match"):
        tok.encode(batch, sfreq=250.0)
    with pytest.raises(InvalidParameterError, match=r"\[batch, channels, samples\]"):
        tok.encode({**batch, "x": batch["x"][0]})
    with pytest.raises(InvalidParameterError, match="at least 64 samples"):
        tok.encode({**batch, "x": batch["x"][..., :40]})
    with pytest.raises(InvalidParameterError, match="needs the sensors"):
        tok.encode(batch["x"])
    with pytest.raises(InvalidParameterError, match=r"sensors\['pos'\] has shape"):
        tok.encode({**batch, "pos": batch["pos"][:, :4]})
    eog = batch["type_id"].clone()
    eog[0, 0] = SENSOR_TYPES.index("eog")
    with pytest.raises(InvalidParameterError, match=r"\['eog'\] cannot be tokenized"):
        tok.encode({**batch, "type_id": eog})
    with pytest.raises(InvalidParameterError, match="no 'ori'"):
        tok.encode({k: v for k, v in batch.items() if k != "ori"})
    with pytest.raises(InvalidParameterError, match="looks like SI units"):
        tok.encode({**batch, "x": batch["x"] * 1e-12})
    assert tok.encode(batch["x"], sensors=table).codes.shape == (1, 4, 2, 8)


def test_position_step_normalizes_per_modality_without_touching_its_input():
    from neurokit.preprocessing import brainomni

    rec = neurokit.io.synthetic("meg", n_channels=12, duration_s=1.0, sfreq=256.0)
    before = rec.sensors.pos.copy()
    out = apply_step(rec, "brainomni_positions")
    assert np.array_equal(rec.sensors.pos, before, equal_nan=True)  # input untouched
    assert out.history[-1] == {"step": "brainomni_positions"}
    assert out.sensors.frame == "brainomni-normalized"
    meg = np.isin(out.sensors.types, ("mag", "grad"))
    p = out.sensors.pos[meg]  # magnetometers and gradiometers share one normalization
    np.testing.assert_allclose(p.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(3 * np.mean(np.sum(p**2, 1)), 1.0)
    np.testing.assert_array_equal(out.sensors.ori, rec.sensors.ori)
    again = brainomni.normalize_positions(out.sensors.pos, out.sensors.types)
    np.testing.assert_allclose(again, out.sensors.pos, atol=1e-12)  # idempotent
    mixed = brainomni.normalize_positions(
        [[0.1, 0, 0], [-0.1, 0, 0], [0, 0.05, 0], [0, -0.05, 0], [0, 0, 0], [1, 1, 1]],
        ["eeg", "eeg", "seeg", "seeg", "seeg", "eog"],
    )
    np.testing.assert_allclose(
        mixed[:4, :2], [[0.5774, 0], [-0.5774, 0], [0, 0.5774], [0, -0.5774]], atol=1e-4
    )
    assert np.isnan(mixed[4]).all() and np.array_equal(mixed[5], [1, 1, 1])


def test_positions_in_metres_or_normalized_give_the_same_codes(trained):
    tok, table = trained
    batch = _batch(table, b=1, seconds=2.0, seed=6)
    from neurokit.preprocessing.brainomni import normalize_positions

    norm = normalize_positions(table.pos, table.types)
    moved = {**batch, "pos": torch.from_numpy(norm[None].astype(np.float32))}
    assert torch.equal(tok.encode(batch).codes, tok.encode(moved).codes)


def test_train_and_tokenize_a_mixed_montage_corpus(tmp_path):
    """The tiny recipe's path end to end: an MEG and an EEG recording (padded together in
    batches), BrainOmni normalization, training steps, tokens written to the corpus."""
    from neurokit.corpus import Corpus, build_corpus
    from neurokit.preprocessing import (
        Pipeline,
        brainomni,  # noqa: F401  (registers its step)
    )
    from neurokit.tokenizers.pipeline import load_recipe, tokenize_corpus, train_tokenizer

    _brain()
    for i, (kind, n) in enumerate([("meg", 9), ("eeg", 5)]):
        rec = neurokit.io.synthetic(kind, n_channels=n, duration_s=4.0, sfreq=256.0, seed=i)
        rec.raw.save(tmp_path / f"sub-{i:02d}_raw.fif", verbose="error")
    steps = [
        {"pick_types": {"types": ["eeg", "mag", "grad"]}},
        {"scale": {"method": "brainomni"}},
        {"brainomni_positions": {}},
    ]
    pipe = Pipeline.from_dict({"name": "c", "steps": steps, "windows": {"length_s": 2.0}})
    build_corpus([tmp_path], pipe, tmp_path / "corpus", quiet=True)
    recipe = load_recipe(REPO / "tokenizers" / "brain_tiny.yaml")
    assert recipe["tokenizer"] == "brain" and recipe["preset"] == "tiny"
    recipe["data"] = {**recipe["data"], "window_s": 2.0, "stride_s": 2.0}
    recipe["train"] = {**recipe["train"], "batch_size": 2, "max_steps": 2, "tensorboard": False}
    train_tokenizer(recipe, tmp_path / "corpus", tmp_path / "run", progress=False)
    done = tokenize_corpus(tmp_path / "run", tmp_path / "corpus", progress=False)
    assert done["written"] == 2
    corpus = Corpus(tmp_path / "corpus")
    codes = np.load(tmp_path / "corpus" / corpus.token_sets[0]["rows"][0]["array"])
    assert codes.shape == (2, 4, 2, 8) and 0 <= codes.min() and codes.max() < 32


# ---------------------------------------------------------------------------------- real data
REAL = {
    "neuromag_meg_eeg": ("loaders/fif/sample_audvis_trunc_raw_sss.fif", {}, "scale"),
    "ctf": ("loaders/ctf/testdata_ctf_short_discontinuous.ds", {}, "scale"),
    "kit": (
        "loaders/kit/test.sqd",
        {
            "mrk": "loaders/kit/test_mrk.sqd",
            "elp": "loaders/kit/test.elp",
            "hsp": "loaders/kit/test.hsp",
        },
        "scale",
    ),
    "eeg_eeglab": ("loaders/eeglab/test_raw_chanloc.set", {}, "scale"),
    "ecog_seeg": ("loaders/ieeg/sample_ecog_ieeg.fif", {}, "zscore"),
}


@pytest.mark.parametrize("key", sorted(REAL))
def test_real_recordings_encode(trained, key):
    from neurokit.corpus import collate

    path, companions, method = REAL[key]
    if not (DATA / path).exists():
        pytest.skip(f"real recording {path} not found under {DATA} (set NEUROKIT_TEST_DATA)")
    tok, _ = trained
    kwargs = {k: DATA / v for k, v in companions.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = neurokit.io.load(DATA / path, **kwargs)
        types = [t for t in ("eeg", "mag", "grad", "seeg", "ecog") if t in rec.sensors.types]
        rec = apply_step(rec, "pick_types", types=types)
        rec = apply_step(rec, "resample", sfreq=256.0)
        # BrainOmni's normalization; its scale mode covers EEG and MEG only (iEEG: z-score)
        rec = apply_step(rec, "scale", method="brainomni" if method == "scale" else "zscore")
    table = rec.sensors
    n = min(rec.n_times, 512)
    x = torch.from_numpy(rec.get_data()[None, :, :n].astype(np.float32))
    batch = collate(_items(table, x))
    tokens = tok.encode(batch)
    assert tokens.codes.shape == (1, 4, 2, tok.n_frames(n))
    assert 0 <= int(tokens.codes.min()) and int(tokens.codes.max()) < 32
    out = tok(batch)
    assert torch.isfinite(out.latents).all() and torch.isfinite(out.recon).all()
    assert out.recon.shape == (1, len(table), n) and torch.isfinite(out.losses["loss"])
    if key == "neuromag_meg_eeg":
        assert {"eeg", "mag", "grad"} <= set(table.types)
