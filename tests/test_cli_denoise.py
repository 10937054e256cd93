"""``neurokit train denoiser`` and ``neurokit denoise`` end to end on shared recordings."""

from __future__ import annotations

import json
import warnings

import mne
import numpy as np
import pytest
import torch
from conftest import DATA

from neurokit.cli import main

EDF = DATA / "motor_imagery" / "S001R04.edf"  # 64 EEG channels, 160 Hz, 125 s, annotations
FIF = DATA / "ssvep" / "subject01" / "sub-01_rec-20120706T190216_raw.fif"  # 8 EEG, 256 Hz


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _needs(path):
    if not path.exists():
        pytest.skip(f"real recordings not found at {DATA} (set NEUROKIT_TEST_DATA)")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny AT-AT trained for a few steps through the command line."""
    _needs(EDF)
    out = tmp_path_factory.mktemp("denoise") / "run"
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["train", "denoiser", "--recipe", "denoise_atat_tiny", "--out", str(out),
                     "--data", str(DATA), "--max-steps", "3", "--quiet"])  # fmt: skip
    assert code == 0
    return out


def test_train_denoiser_writes_a_model(run_dir):
    model = run_dir / "model"
    config = json.loads((model / "config.json").read_text())
    assert config["name"] == "atat" and config["input"]["sfreq"] == 64.0
    assert config["input"]["n_times"] == 128
    meta = json.loads((model / "meta.json").read_text())
    assert meta["steps"] == 3 and meta["data"]["source"] == "semisynthetic"
    assert meta["data"]["artifact"] == "eog" and meta["data"]["pairs"]["train"] > 0
    assert set(meta["test"]) == {"rrmse_temporal", "rrmse_spectral", "cc"}
    assert all(np.isfinite(v) for v in meta["test"].values())
    steps = [line.split(",")[0] for line in (run_dir / "metrics.csv").read_text().splitlines()]
    assert "3" in steps


def test_denoise_end_to_end(run_dir, tmp_path, capsys):
    out = tmp_path / "clean_raw.fif"
    code = main(["denoise", str(EDF), str(out), "--model", str(run_dir), "--chunk-s", "30"])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert stdout.startswith("neurokit denoise: 64 of 64 channels cleaned with atat, 125.0 s")
    assert "real-time factor" in stdout and len(stdout.strip().splitlines()) == 1
    raw = mne.io.read_raw_edf(EDF, preload=True, verbose="error")
    clean = mne.io.read_raw_fif(out, preload=True, verbose="error")
    assert clean.get_data().shape == raw.get_data().shape
    assert clean.info["sfreq"] == raw.info["sfreq"] and len(clean.ch_names) == 64
    assert list(clean.annotations.description) == list(raw.annotations.description)
    x, y = raw.get_data(), clean.get_data()
    assert np.isfinite(y).all() and not np.allclose(x, y)
    assert 0.01 < np.median(y.std(axis=1) / x.std(axis=1)) < 100  # still volts
    # refuse to overwrite
    assert main(["denoise", str(EDF), str(out), "--model", str(run_dir)]) == 2
    assert (
        capsys.readouterr().err.strip().endswith("already exists; pass --overwrite to replace it")
    )


def test_denoise_untrained_name_warns_and_keeps_other_channels(tmp_path, capsys):
    _needs(FIF)
    out = tmp_path / "ssvep_raw.fif"
    code = main(["denoise", str(FIF), str(out), "--model", "atat:tiny", "--picks", "Oz,O1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "neurokit: warning: atat (tiny preset) is untrained" in captured.err
    assert "2 of 8 channels cleaned" in captured.out
    raw = mne.io.read_raw_fif(FIF, preload=True, verbose="error")
    clean = mne.io.read_raw_fif(out, preload=True, verbose="error")
    assert clean.ch_names == raw.ch_names
    changed = [n for n in raw.ch_names if not np.allclose(raw.get_data(n), clean.get_data(n))]
    assert sorted(changed) == ["O1", "Oz"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["denoise", "missing.edf", "{out}", "--model", "atat:tiny"], "no such file"),
        (["denoise", "{fif}", "{out}", "--model", "no_such_model"], "registered denoiser"),
        (["denoise", "{fif}", "{tmp}/out.edf", "--model", "atat:tiny"], "must be a FIF file"),
        (["denoise", "{fif}", "{out}", "--model", "atat:tiny", "--picks", "XYZ"], "'XYZ'"),
        (["train", "denoiser", "--recipe", "nope", "--out", "{tmp}/r"], "recipe 'nope' not"),
        (
            [
                "train",
                "denoiser",
                "--recipe",
                "denoise_atat_tiny",
                "--out",
                "{tmp}/r",
                "--corpus",
                "{tmp}",
            ],
            "--corpus is for tokenizers",
        ),  # fmt: skip
        (
            ["train", "tokenizer", "--recipe", "tfm_tiny", "--out", "{tmp}/r"],
            "--corpus is required",
        ),
    ],
)
def test_errors_are_one_line(args, message, tmp_path, capsys):
    _needs(FIF)
    fill = {"out": str(tmp_path / "o_raw.fif"), "fif": str(FIF), "tmp": str(tmp_path)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main([a.format(**fill) for a in args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("neurokit: error: ") and message in err[-1]
    assert not any("Traceback" in line for line in err)
