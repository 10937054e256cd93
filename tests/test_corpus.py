"""Corpus building: manifest contents, resume, change detection, failures, kill-and-resume,
parallel and Dask builds, the CLI."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import neurokit.io as nio
from neurokit.cli import main
from neurokit.corpus import Corpus, build_corpus
from neurokit.corpus import manifest as mf
from neurokit.errors import InvalidParameterError
from neurokit.preprocessing import Pipeline

RECIPE = {
    "name": "test_recipe",
    "steps": [
        {"pick_types": {"types": ["eeg"]}},
        {"bandpass": {"l_freq": 1.0, "h_freq": 40.0}},
        {"resample": {"sfreq": 128.0}},
    ],
    "windows": {"length_s": 2.0, "stride_s": 1.0},
}


def _write_inputs(folder: Path, n: int, duration_s: float = 20.0, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        rec = nio.synthetic("eeg", n_channels=16, duration_s=duration_s, seed=seed + i)
        sub = folder / f"sub-{i % 3:02d}"
        sub.mkdir(exist_ok=True)
        rec.raw.save(sub / f"sub-{i % 3:02d}_run-{i:02d}_raw.fif", verbose="error")
    (folder / "broken.edf").write_bytes(b"0" * 300)
    return folder


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return _write_inputs(tmp_path_factory.mktemp("inputs"), 5)


@pytest.fixture(scope="module")
def recipe_file(tmp_path_factory):
    import yaml

    path = tmp_path_factory.mktemp("recipes") / "test_recipe.yaml"
    path.write_text(yaml.safe_dump(RECIPE))
    return path


def _snapshot(root: Path) -> tuple:
    arrays = {p.name: p.read_bytes() for p in sorted((root / "arrays").iterdir())}
    con = mf.connect(root)
    try:
        return arrays, mf.dump(con)
    finally:
        con.close()


def test_build_contents_and_failures(inputs, recipe_file, tmp_path):
    summary = build_corpus([inputs], recipe_file, tmp_path / "c", quiet=True)
    assert summary["inputs"] == 6 and summary["built"] == 5 and summary["failures"] == 1
    corpus = Corpus(tmp_path / "c")
    assert len(corpus) == 5 and corpus.meta["recipe_name"] == "test_recipe"
    rec = corpus.recordings[0]
    assert rec["sfreq"] == 128.0 and rec["n_channels"] == 16 and rec["dtype"] == "float32"
    assert rec["subject"] == "00" and rec["run"] == "00"
    assert rec["size"] == Path(rec["source"]).stat().st_size and len(rec["sha256"]) == 64
    x = corpus.array(0)
    assert isinstance(x, np.memmap) and x.shape == (16, rec["n_times"]) and x.dtype == np.float32
    # the stored data is the recipe applied to the source, sample for sample
    expected = Pipeline.from_recipe(recipe_file).load(rec["source"]).get_data()
    np.testing.assert_allclose(x, expected.astype(np.float32))
    assert corpus.sensors(0).types == ("eeg",) * 16
    n_win = (rec["n_times"] - 256) // 128 + 1
    assert (corpus.window_recording == 0).sum() == n_win
    assert corpus.window_bounds[1].tolist() == [128, 384]
    (failure,) = corpus.failures
    assert failure["source"].endswith("broken.edf") and "header declares" in failure["reason"]
    info = corpus.info()
    assert info["recordings"] == 5 and info["subjects"] == 3
    assert info["hours"]["eeg"] == pytest.approx(5 * 20 / 3600, rel=1e-3)
    assert info["windows"]["total"] == len(corpus.window_bounds)


def test_rerun_skips_and_changed_sources_are_rebuilt(inputs, recipe_file, tmp_path):
    work = tmp_path / "inputs"
    _write_inputs(work, 3)
    out = tmp_path / "c"
    assert build_corpus([work], recipe_file, out, quiet=True)["built"] == 3
    again = build_corpus([work], recipe_file, out, quiet=True)
    assert again["built"] == 0 and again["skipped"] == 4  # 3 recordings + 1 known failure
    target = next(work.glob("sub-01/*.fif"))
    before = Corpus(out)
    i = [r["key"] for r in before.recordings].index(str(target.resolve()))
    old = np.array(before.array(i))
    nio.synthetic("eeg", n_channels=16, duration_s=20.0, seed=99).raw.save(
        target, overwrite=True, verbose="error"
    )
    changed = build_corpus([work], recipe_file, out, quiet=True)
    assert changed["built"] == 1 and changed["skipped"] == 3
    after = Corpus(out)
    assert after.recordings[i]["sha256"] != before.recordings[i]["sha256"]
    assert not np.array_equal(after.array(i), old)


def test_a_corpus_keeps_one_recipe(inputs, recipe_file, tmp_path):
    build_corpus([inputs / "sub-00"], recipe_file, tmp_path / "c", quiet=True)
    with pytest.raises(InvalidParameterError, match="a corpus has one recipe"):
        build_corpus([inputs / "sub-00"], "physionet_mi", tmp_path / "c", quiet=True)


def test_float16_and_parallel_builds_match(inputs, recipe_file, tmp_path):
    one = build_corpus([inputs], recipe_file, tmp_path / "a", quiet=True)
    two = build_corpus([inputs], recipe_file, tmp_path / "b", jobs=2, quiet=True)
    assert one["built"] == two["built"] == 5
    arrays_a, rows_a = _snapshot(tmp_path / "a")
    arrays_b, rows_b = _snapshot(tmp_path / "b")
    assert arrays_a == arrays_b and rows_a == rows_b
    build_corpus([inputs], recipe_file, tmp_path / "h", dtype="float16", quiet=True)
    half, full = Corpus(tmp_path / "h"), Corpus(tmp_path / "a")
    assert half.array(0).dtype == np.float16 and full.read(0).dtype == np.float32
    x16, x32 = half.read(0), full.read(0)
    peak = np.abs(x32).max(axis=1, keepdims=True)
    assert np.all(np.abs(x16 - x32) <= 1e-3 * peak)  # float16 precision relative to the peak
    np.testing.assert_array_equal(full.read(0, 10, 20), full.array(0)[:, 10:20])


def test_dask_backend_on_a_local_cluster(inputs, recipe_file, tmp_path):
    distributed = pytest.importorskip("distributed")
    build_corpus([inputs], recipe_file, tmp_path / "ref", quiet=True)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        summary = build_corpus(
            [inputs], recipe_file, tmp_path / "dask", dask=cluster.scheduler_address, quiet=True
        )
    assert summary["built"] == 5 and summary["failures"] == 1
    assert _snapshot(tmp_path / "dask") == _snapshot(tmp_path / "ref")


def _count(root: Path) -> int:
    path = root / mf.MANIFEST
    if not path.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.1)
        try:
            return con.execute(
                "SELECT (SELECT COUNT(*) FROM recordings) + (SELECT COUNT(*) FROM failures)"
            ).fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_killed_builds_resume_to_the_same_bytes(recipe_file, tmp_path):
    """SIGKILL a build several times (after k committed recordings, and at random moments);
    the resumed corpus equals an uninterrupted build byte for byte and row for row."""
    inputs = _write_inputs(tmp_path / "inputs", 8, duration_s=60.0)
    ref, killed = tmp_path / "ref", tmp_path / "killed"
    build_corpus([inputs], recipe_file, ref, quiet=True)
    cmd = [
        sys.executable,
        "-m",
        "neurokit",
        "preprocess",
        str(inputs),
        "--recipe",
        str(recipe_file),
        "--out",
        str(killed),
        "--quiet",
    ]
    rng = np.random.default_rng(0)
    interrupted = []
    for target in (1, 3, None, 6, None):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        delay = rng.uniform(0.5, 4.0)
        while proc.poll() is None and time.time() - t0 < 120:
            if (target is not None and _count(killed) >= target) or (
                target is None and time.time() - t0 > delay
            ):
                break
            time.sleep(0.005)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            interrupted.append(_count(killed))
        proc.wait()
    assert any(0 < n < 9 for n in interrupted), f"no kill landed mid-build: {interrupted}"
    final = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert final.returncode == 1, final.stderr  # one failed recording: broken.edf
    assert not list((killed / "arrays").glob("*.tmp*"))
    assert _snapshot(killed) == _snapshot(ref)


def test_cli_preprocess_and_info(inputs, recipe_file, tmp_path, capsys):
    out = tmp_path / "c"
    code = main(
        [
            "preprocess",
            str(inputs),
            "--recipe",
            str(recipe_file),
            "--out",
            str(out),
            "--quiet",
            "--jobs",
            "2",
        ]
    )
    assert code == 1  # the exit status is the number of failed recordings
    assert "6 recordings found, 5 built, 0 already done, 1 failed" in capsys.readouterr().out
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {"recordings", "failures", "hours", "windows"} <= set(info)
    assert info["recordings"] == 5 and len(info["failures"]) == 1
    assert main(["info", str(out)]) == 0
    assert "recordings   5 from 3 subjects" in capsys.readouterr().out
    assert (
        main(
            ["preprocess", str(tmp_path / "nope"), "--recipe", str(recipe_file), "--out", str(out)]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err


def test_bids_root_as_input(recipe_file, tmp_path):
    mne_bids = pytest.importorskip("mne_bids")
    root = tmp_path / "bids"
    for sub in ("01", "02"):
        rec = nio.synthetic("eeg", n_channels=16, duration_s=10.0, seed=int(sub))
        raw = rec.raw.copy()
        raw.info["line_freq"] = 50.0
        bp = mne_bids.BIDSPath(subject=sub, task="rest", root=root, datatype="eeg")
        mne_bids.write_raw_bids(raw, bp, allow_preload=True, format="EDF", verbose="error")
    summary = build_corpus([root], recipe_file, tmp_path / "c", quiet=True)
    assert summary["inputs"] == 2 and summary["built"] == 2
    corpus = Corpus(tmp_path / "c")
    assert [r["subject"] for r in corpus.recordings] == ["01", "02"]
    assert {r["task"] for r in corpus.recordings} == {"rest"}
