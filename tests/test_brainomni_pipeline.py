"""BrainOmni over a tokenized corpus: tokens per RVQ level, pretraining, fine-tuning, DDP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import neurokit.io as nio
from neurokit.cli import main
from neurokit.corpus import Corpus, CorpusDataset, build_corpus, collate
from neurokit.errors import InvalidParameterError
from neurokit.models.brainomni_pipeline import (
    TokenWindows,
    collate_tokens,
    find_token_set,
    finetune,
    load_model_recipe,
    pretrain,
    synthetic_labelled_recordings,
)
from neurokit.preprocessing import Pipeline
from neurokit.tokenizers import Tokenizer
from neurokit.tokenizers.pipeline import tokenize_corpus
from neurokit.training import checkpoint as ckpt
from neurokit.training.logger import read_metrics
from neurokit.training.sampling import default_sampler_factory

REPO = Path(__file__).resolve().parents[1]
FAST = {"checkpoint_every": 0, "log_every": 1, "tensorboard": False}
TOKENIZER = {"name": "brain_test", "tokenizer": "brain", "preset": "tiny",
             "data": {"window_s": 2.0, "picks": ["eeg", "mag", "grad"]},
             "train": {"max_steps": 2, "batch_size": 2, "grad_clip": None, **FAST}}  # fmt: skip
PRETRAIN = {"name": "p", "model": "brainomni", "preset": "micro",
            "train": {"max_steps": 2, "batch_size": 2, **FAST}}  # fmt: skip
FINETUNE = {"name": "f", "model": "brainomni_classifier", "split": {"fractions": [0.6, 0, 0.4]},
            "train": {"max_steps": 2, "batch_size": 4, **FAST}}  # fmt: skip


def _build(inputs, recipe, out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_corpus(inputs, Pipeline.from_dict(recipe), out, quiet=True)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A 256-Hz EEG + MEG corpus with BrainOmni scaling, a tokenizer trained on it (2 steps)
    and its tokens; a labelled 3-subject corpus."""
    root = tmp_path_factory.mktemp("brainomni")
    for kind, n, seed in (("eeg", 5, 0), ("meg", 6, 1)):
        rec = nio.synthetic(kind, n_channels=n, duration_s=6.0, seed=seed)
        rec.raw.save(root / f"sub-{kind}_raw.fif", verbose="error")
    steps = [{"pick_types": {"types": ["eeg", "mag", "grad"]}},
             {"scale": {"method": "brainomni", "window_s": 2.0}}]  # fmt: skip
    corpus = _build([root], {"name": "b", "steps": steps, "windows": {"length_s": 2.0}},
                    root / "corpus")  # fmt: skip
    assert main(["train", "tokenizer", "--recipe", _yaml(root, TOKENIZER), "--corpus",
                 str(corpus), "--out", str(root / "tok"), "--quiet"]) == 0  # fmt: skip
    labelled = synthetic_labelled_recordings(root / "lab", n_subjects=3, n_trials=4,
                                             trial_s=2.0, n_channels=4)  # fmt: skip
    events = {"events": {"tmin_s": 0.0, "tmax_s": 2.0}}
    lab = _build(labelled, {"name": "l", "steps": steps, "windows": events}, root / "labelled")
    return {"root": root, "corpus": corpus, "tok": root / "tok", "labelled": lab}


def _yaml(folder, recipe) -> str:
    import yaml

    path = Path(folder) / f"{recipe['name']}.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return str(path)


def test_tokenizer_training_never_mixes_montages(runs):
    ds = CorpusDataset(runs["corpus"], window_s=2.0, picks=["eeg", "mag", "grad"])
    assert sorted(set(ds.channel_counts)) == [5, 6]
    sampler = default_sampler_factory(ds, batch_size=4, shuffle=True, seed=0,
                                      num_replicas=1, rank=0)  # fmt: skip
    batches = list(sampler)
    assert sum(len(b) for b in batches) == len(ds)
    assert all(len({ds.n_channels(i) for i in b}) == 1 for b in batches)


def test_tokenize_writes_codes_per_level_and_resumes(runs, capsys):
    corpus, tok_run = runs["corpus"], runs["tok"]
    assert main(["tokenize", str(tok_run), str(corpus), "--quiet"]) == 0
    assert "2 recordings written, 0 already done" in capsys.readouterr().out
    assert main(["tokenize", str(tok_run), str(corpus), "--quiet"]) == 0
    assert "0 recordings written, 2 already done" in capsys.readouterr().out
    assert main(["info", str(corpus), "--json"]) == 0
    (stats,) = json.loads(capsys.readouterr().out)["tokens"]
    assert stats["streams"] == 4 and stats["token_rate_hz"] == 4.0 and stats["windows"] == "fixed"
    assert [lv["level"] for lv in stats["levels"]] == [0, 1]
    assert all(lv["codebook_size"] == 32 and lv["perplexity"] >= 1 for lv in stats["levels"])
    assert stats["n_windows"] == 6 and stats["levels"][1]["tokens"] == 6 * 4 * 8
    assert main(["info", str(corpus)]) == 0
    text = capsys.readouterr().out
    assert "6 fixed windows, 4 streams x 2 levels" in text and "level 1: " in text
    # stored codes [w, s, k, n] are what the saved tokenizer gives on the same window
    c = Corpus(corpus)
    tset = find_token_set(c)
    tok = Tokenizer.from_pretrained(tok_run / "model").eval()
    ds = CorpusDataset(c, window_s=2.0, picks=["eeg", "mag", "grad"])
    r = ds.window(0)[0]
    row = next(t for t in tset["rows"] if t["key"] == c.recordings[r]["key"])
    codes = np.load(c.root / row["array"])
    assert codes.shape == (3, 4, 2, 8) and codes.dtype == np.int32
    with torch.no_grad():
        assert np.array_equal(codes[0], tok.encode(collate([ds[0]])).codes[0].numpy())
    assert (c.root / "tokens" / tset["tokenizer"] / "tokenizer" / "model.safetensors").exists()
    with pytest.raises(InvalidParameterError, match="would mix two layouts"):
        tokenize_corpus(tok_run, corpus, window_s=4.0, progress=False)


def test_pretrain_then_finetune_reports_subject_wise_metrics(runs, tmp_path, capsys):
    tokenize_corpus(runs["tok"], runs["corpus"], progress=False)
    pre = tmp_path / "pre"
    with pytest.warns(UserWarning, match="no token set of tokenizer 'brain_tiny'"):
        code = main(["train", "pretrain", "--recipe", "brainomni_pretrain_micro", "--corpus",
                     str(runs["corpus"]), "--out", str(pre), "--max-steps", "2", "--quiet"])  # fmt: skip
    assert code == 0 and "BrainOmni saved to" in capsys.readouterr().out
    model_dir = pre / "model"
    assert (pre / "tokenizer" / "config.json").exists()
    meta = json.loads((model_dir / "meta.json").read_text())
    assert meta["token_set"].startswith("brain-") and meta["steps"] == 2
    losses = read_metrics(pre / "metrics.csv")["train/loss"]
    assert [s for s, _ in losses] == [2] and np.isfinite(losses[0][1])
    loaded = ckpt.load_checkpoint(model_dir)
    kw = loaded["config"]["kwargs"]
    assert (kw["n_sources"], kw["n_levels"], kw["codebook_size"], kw["embed_dim"]) == (4, 2, 32, 32)
    tok = Tokenizer.from_pretrained(runs["tok"] / "model")
    table = loaded["model"]["backbone.token_embedding.weight"].reshape(2, 32, 32)
    torch.testing.assert_close(table[1], tok.quantizer.levels[1].codebook)  # frozen copy
    # a small recipe through the Python API
    assert pretrain(PRETRAIN, runs["corpus"], tmp_path / "pre2", progress=False).exists()

    assert main(["train", "finetune", "--recipe", "brainomni_finetune_micro", "--corpus",
                 str(runs["labelled"]), "--backbone", str(pre), "--out", str(tmp_path / "ft"),
                 "--max-steps", "2", "--quiet"]) == 0  # fmt: skip
    assert "test subjects: accuracy" in capsys.readouterr().out
    result = json.loads((tmp_path / "ft" / "test_metrics.json").read_text())
    assert result["classes"] == ["13Hz", "8Hz"] and result["subjects"] == 3
    assert result["n_windows"] == {"train": 8, "valid": 0, "test": 4}
    test = result["test"]
    assert set(test) == {"accuracy", "balanced_accuracy", "kappa", "f1_weighted", "roc_auc"}
    assert 0 <= test["balanced_accuracy"] <= 1 and 0 <= test["f1_weighted"] <= 1
    again = finetune(FINETUNE, runs["labelled"], pre, tmp_path / "ft2", progress=False)
    assert again["n_windows"] == result["n_windows"]  # the same subject-wise split
    # the labelled windows were encoded into the corpus with the backbone's tokenizer
    sets = Corpus(runs["labelled"]).token_sets
    (manifest,) = [t for t in sets if t["windows"] == "manifest"]
    ds = TokenWindows(runs["labelled"], manifest, labelled=True)
    assert len(ds) == 12 and sorted(set(ds.labels.tolist())) == [0, 1]
    assert ds[0]["codes"].shape == (4, 2, 8)


def test_collate_pads_missing_frames_and_the_mask_follows():
    items = [{"codes": torch.zeros(2, 3, 5, dtype=torch.int64) + 7, "label": 1, "recording": 0},
             {"codes": torch.cat([torch.ones(2, 3, 3, dtype=torch.int64),
                                  torch.full((2, 3, 2), -1)], dim=2),
              "label": torch.tensor(0), "recording": 1},
             {"codes": torch.ones(2, 3, 4, dtype=torch.int64), "label": -1, "recording": 2}]  # fmt: skip
    batch = collate_tokens(items)
    assert batch["codes"].shape == (3, 2, 3, 5) and batch["mask"].shape == (3, 2, 5)
    assert batch["mask"][0].all() and batch["mask"][1, :, :3].all()
    assert not batch["mask"][1, :, 3:].any() and not batch["mask"][2, :, 4].any()
    assert int(batch["codes"].min()) == 0 and batch["label"].tolist() == [1, 0, -1]


def test_errors_name_the_problem(runs, tmp_path):
    with pytest.raises(InvalidParameterError, match="unknown key 'optimizer'"):
        load_model_recipe({"model": "brainomni", "optimizer": "sgd"}, "brainomni")
    with pytest.raises(InvalidParameterError, match="needs model: brainomni_classifier"):
        load_model_recipe(PRETRAIN, "brainomni_classifier")
    with pytest.raises(InvalidParameterError, match="holds no BrainTokenizer tokens"):
        pretrain(PRETRAIN, runs["labelled"], tmp_path / "x", progress=False)
    with pytest.raises(InvalidParameterError, match="neither a pretraining run"):
        finetune(FINETUNE, runs["labelled"], tmp_path, tmp_path / "y", progress=False)
    assert main(["train", "pretrain", "--recipe", "brainomni_pretrain_micro", "--out",
                 str(tmp_path / "z")]) == 2  # fmt: skip
    for path in sorted((REPO / "tokenizers").glob("brainomni_*.yaml")):
        rec = load_model_recipe(path)
        assert rec["model"] in ("brainomni", "brainomni_classifier") and rec["train"]["lr"] > 0


def test_ddp_tokenizer_training_matches_one_process(tmp_path):
    """torchrun, 2 gloo processes x 2 windows == one process x 4 windows (tiny BrainTokenizer,
    a few steps): losses and EMA code counts (rank 0's share alone gives other counts and a
    loss off by ~1e-2 from the second step). Weights are not compared one by one: Adam turns
    the float noise of near-zero gradients into steps the size of the learning rate."""
    from neurokit.models.brainomni_pipeline import selftest_ddp

    common = ["--selftest-ddp", "--max-steps", "3", "--n-items", "12"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "neurokit.models.brainomni_pipeline", "--out", str(tmp_path / "ddp"),
           "--batch-size", "2", *common]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, cwd=REPO)
    except (OSError, subprocess.TimeoutExpired) as err:
        pytest.skip(f"torchrun could not start two processes here: {err}")
    if proc.returncode != 0 and proc.stdout.count("selftest: rank") < 2:
        pytest.skip(f"torchrun could not start two processes here: {proc.stderr[-800:]}")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert selftest_ddp([*common, "--out", str(tmp_path / "one"), "--batch-size", "4"]) == 0
    finally:
        torch.set_num_threads(threads)
    two = ckpt.load_checkpoint(tmp_path / "ddp" / "final")["model"]
    one = ckpt.load_checkpoint(tmp_path / "one" / "final")["model"]
    assert set(two) == set(one)
    l2 = [v for _, v in read_metrics(tmp_path / "ddp" / "metrics.csv")["train/loss"]]
    l1 = [v for _, v in read_metrics(tmp_path / "one" / "metrics.csv")["train/loss"]]
    assert len(l2) == 3 and l2 == pytest.approx(l1, rel=5e-4)
    sizes = [name for name in one if name.endswith("cluster_size")]
    assert len(sizes) == 2  # EMA code counts of the global batch: the same assignments
    for name in sizes:
        torch.testing.assert_close(two[name], one[name], rtol=0, atol=1e-4)
