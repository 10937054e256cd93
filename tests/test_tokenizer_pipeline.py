"""`neurokit train tokenizer` and `neurokit tokenize` on a small corpus."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

import neurokit.io as nio
from neurokit.cli import main
from neurokit.corpus import Corpus, build_corpus
from neurokit.errors import InvalidParameterError
from neurokit.preprocessing import Pipeline
from neurokit.tokenizers import Tokenizer
from neurokit.tokenizers.pipeline import load_recipe, tokenize_corpus, train_tokenizer

RECIPE = {
    "name": "t",
    "tokenizer": "tfm",
    "preset": "tiny",
    "data": {"window_s": 2.0},
    "train": {
        "max_steps": 3,
        "batch_size": 2,
        "checkpoint_every": 2,
        "log_every": 1,
        "tensorboard": False,
    },
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("tok")
    for i in range(2):
        rec = nio.synthetic("eeg", n_channels=3, duration_s=8.0, sfreq=200.0, seed=i)
        rec.raw.save(root / f"sub-{i:02d}_raw.fif", verbose="error")
    pipe = Pipeline.from_dict(
        {"name": "c", "steps": [{"scale": {"method": "zscore"}}], "windows": {"length_s": 2.0}}
    )
    build_corpus([root], pipe, root / "corpus", quiet=True)
    return root / "corpus"


def test_train_tokenize_and_info(corpus, tmp_path, capsys):
    recipe = tmp_path / "tfm_test.yaml"
    recipe.write_text(yaml.safe_dump(RECIPE))
    assert (
        main(
            [
                "train",
                "tokenizer",
                "--recipe",
                str(recipe),
                "--corpus",
                str(corpus),
                "--out",
                str(tmp_path / "run"),
                "--quiet",
            ]
        )
        == 0
    )
    assert (tmp_path / "run" / "model" / "model.safetensors").exists()
    assert (tmp_path / "run" / "metrics.csv").exists()
    assert main(["tokenize", str(tmp_path / "run"), str(corpus), "--quiet"]) == 0
    assert "2 recordings written, 0 already done" in capsys.readouterr().out
    assert main(["tokenize", str(tmp_path / "run"), str(corpus), "--quiet"]) == 0
    assert "0 recordings written, 2 already done" in capsys.readouterr().out
    assert main(["info", str(corpus), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    (stats,) = info["tokens"]
    assert stats["recordings"] == 2 and stats["streams"] == 4 and stats["token_rate_hz"] == 2.0
    (level,) = stats["levels"]
    assert 0 < level["usage"] <= 1 and level["perplexity"] >= 1
    # the stored codes are what the saved tokenizer gives on the same windows
    tok = Tokenizer.from_pretrained(tmp_path / "run" / "model").eval()
    c = Corpus(corpus)
    codes = np.load(corpus / c.token_sets[0]["rows"][0]["array"])
    x = c.read(0, 0, 400)[None]
    import torch

    assert np.array_equal(codes[0], tok.encode(torch.from_numpy(x)).codes[0].numpy())
    assert level["tokens"] == 2 * codes.size


def test_errors_name_the_problem(corpus, tmp_path):
    with pytest.raises(InvalidParameterError, match="does not match"):
        train_tokenizer({**RECIPE, "kwargs": {"sfreq": 256.0}}, corpus, tmp_path / "r")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tokenizer: tfm\noptimizer: sgd\n")
    with pytest.raises(InvalidParameterError, match="unknown key 'optimizer'"):
        load_recipe(bad)
    with pytest.raises(InvalidParameterError, match="neither a saved tokenizer"):
        tokenize_corpus(tmp_path, corpus)
    assert load_recipe("tfm_tiny")["tokenizer"] == "tfm"
