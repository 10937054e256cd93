"""``neurokit info`` and ``neurokit demo``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import DATA, entry_param, index_entries

from neurokit.cli import main

ENTRIES = index_entries()


@pytest.mark.parametrize("entry", entry_param(ENTRIES))
def test_info_on_every_indexed_file(entry, capsys):
    path = DATA / entry["primary"]
    code = main(["info", str(path)])
    out, err = capsys.readouterr()
    if entry["expected_outcome"] == "ok":
        assert code == 0, err
        assert f"channels     {entry['metadata']['n_channels']}:" in out
        assert "Traceback" not in out + err
    else:
        assert code == 2 and out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith(f"neurokit: error: {path}: ")


def test_info_json(data_root, capsys):
    assert main(["info", "--json", str(data_root / "loaders/edf_bdf/chtypes_edf.edf")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_channels"] == 42 and summary["sfreq"] == 200.0
    assert {r["to"] for r in summary["repairs"]} == {"ecg", "misc"}


def test_console_script_fails_cleanly_without_traceback(tmp_path):
    bad = tmp_path / "broken.edf"
    bad.write_bytes(b"not an edf at all")
    proc = subprocess.run(
        [sys.executable, "-m", "neurokit", "info", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"neurokit: error: {bad}: file has 17 bytes, fewer than the 256-byte EDF/BDF header"
    ]
    debug = subprocess.run(
        [sys.executable, "-m", "neurokit", "--debug", "info", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_demo_writes_its_figure(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "out"), "--data", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    fig = tmp_path / "out" / "sensor_layouts.png"
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and fig.stat().st_size > 20_000
    for kind in ("eeg", "meg", "seeg"):
        assert f"== synthetic {kind}" in out
    assert "channels     306: mag 102, grad 204" in out
    assert "== corpus" in out and "failures     0" in out
    assert "tokens       tfm-" in out and "codes used, perplexity" in out
    assert (tmp_path / "out" / "tokens.png").read_bytes()[:4] == b"\x89PNG"
    corpus = tmp_path / "out" / "corpus"
    assert (corpus / "manifest.sqlite").exists() and len(
        list((corpus / "arrays").glob("*.npy"))
    ) >= 3


def test_missing_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
