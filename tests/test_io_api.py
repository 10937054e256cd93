"""load() dispatch and errors, list_formats, synthetic recordings, load_bids."""

from __future__ import annotations

import mne
import numpy as np
import pytest

import neurokit.io as nio
from neurokit.errors import (
    InvalidParameterError,
    NeurokitError,
    RecordingError,
    UnsupportedFormatError,
)

# The raw formats the foundation issue names, by the registry's names.
REQUIRED = {
    "fif",
    "edf",
    "bdf",
    "gdf",
    "brainvision",
    "eeglab",
    "egi",
    "egi_mff",
    "neuroscan",
    "ant",
    "curry",
    "nihon_kohden",
    "nicolet",
    "eximia",
    "persyst",
    "kit",
    "ctf",
    "bti",
    "neuralynx",
    "blackrock",
}


def test_list_formats_covers_every_required_reader():
    formats = nio.list_formats()
    assert REQUIRED <= {f["name"] for f in formats}
    for f in formats:
        assert f["description"] and (f["extensions"] or f["folder"] or f["name"] == "bti")


def test_missing_and_unknown_files_raise_neurokit_errors(tmp_path):
    with pytest.raises(RecordingError, match="no such file"):
        nio.load(tmp_path / "nope.edf")
    odd = tmp_path / "notes.txt"
    odd.write_text("hello")
    with pytest.raises(UnsupportedFormatError, match=r"no reader for extension '\.txt'"):
        nio.load(odd)
    with pytest.raises(UnsupportedFormatError, match="unknown format='xyz'"):
        nio.load(odd, format="xyz")
    (tmp_path / "sub-01").mkdir()
    with pytest.raises(UnsupportedFormatError, match="load_bids"):
        nio.load(tmp_path)


def test_garbage_with_a_known_extension_is_reported_as_corrupt(tmp_path):
    bad = tmp_path / "garbage.edf"
    bad.write_bytes(b"0" * 100)
    with pytest.raises(NeurokitError, match="garbage.edf") as err:
        nio.load(bad)
    assert "256-byte" in str(err.value)
    fif = tmp_path / "garbage_raw.fif"
    fif.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(RecordingError, match="garbage_raw.fif"):
        nio.load(fif)


def test_unknown_reader_option_is_a_clear_error(tmp_path):
    path = tmp_path / "x_raw.fif"
    nio.synthetic("eeg", n_channels=2, duration_s=1.0).raw.save(path, verbose="error")
    with pytest.raises(RecordingError, match="bogus"):
        nio.load(path, bogus=1)


@pytest.mark.parametrize(
    "kind, n, expected",
    [
        ("eeg", 8, {"eeg": 8, "eog": 1}),
        ("meg", 12, {"mag": 4, "grad": 8}),
        ("seeg", 10, {"seeg": 10}),
    ],
)
def test_synthetic_recordings(kind, n, expected):
    rec = nio.synthetic(kind, n_channels=n, duration_s=3.0, sfreq=200.0, seed=3)
    assert rec.sensors.counts() == expected
    assert rec.sfreq == 200.0 and rec.n_times == 600 and len(rec.raw.annotations) >= 1
    data = rec.get_data(picks=["eeg", "seeg", "mag", "grad"])
    assert np.isfinite(data).all() and 0 < np.std(data) < 1e-3
    assert rec.summary()["positions_known"]
    again = nio.synthetic(kind, n_channels=n, duration_s=3.0, sfreq=200.0, seed=3)
    np.testing.assert_array_equal(rec.get_data(), again.get_data())
    other = nio.synthetic(kind, n_channels=n, duration_s=3.0, sfreq=200.0, seed=4)
    assert not np.array_equal(rec.get_data(), other.get_data())


def test_synthetic_meg_sits_on_the_helmet_with_unit_normals():
    rec = nio.synthetic("meg", duration_s=1.0)
    s = rec.sensors
    assert s.counts() == {"mag": 102, "grad": 204} and s.frame == "head"
    np.testing.assert_allclose(np.linalg.norm(s.ori, axis=1), 1.0)
    radius = np.linalg.norm(s.pos, axis=1)
    assert radius.min() > 0.05 and radius.max() < 0.2


def test_synthetic_eeg_has_alpha_at_the_back():
    rec = nio.synthetic("eeg", duration_s=20.0, seed=0)
    psd = rec.raw.compute_psd(fmin=1, fmax=40, picks=["O1", "Fz"], verbose="error")
    power, freqs = psd.get_data(), psd.freqs
    alpha = (freqs >= 8) & (freqs <= 12)
    assert power[0, alpha].mean() > 2 * power[1, alpha].mean()


def test_synthetic_rejects_bad_parameters():
    with pytest.raises(InvalidParameterError, match="kind='fnirs'"):
        nio.synthetic("fnirs")
    with pytest.raises(InvalidParameterError, match="multiples of 3"):
        nio.synthetic("meg", n_channels=10)
    with pytest.raises(InvalidParameterError, match="duration_s"):
        nio.synthetic("eeg", duration_s=0.0)


def test_load_bids_reads_a_dataset_written_by_mne_bids(tmp_path):
    mne_bids = pytest.importorskip("mne_bids")
    rec = nio.synthetic("meg", n_channels=30, duration_s=2.0, seed=1)
    src = tmp_path / "src_raw.fif"
    raw = rec.raw.copy()
    raw.info["line_freq"] = 50.0
    raw.save(src, verbose="error")
    root = tmp_path / "bids"
    bp = mne_bids.BIDSPath(
        subject="07", session="a", task="rest", run="1", root=root, datatype="meg"
    )
    mne_bids.write_raw_bids(mne.io.read_raw_fif(src, verbose="error"), bp, verbose="error")
    got = nio.load_bids(root, subject="07", session="a", task="rest", run="1")
    assert got.sensors.counts() == {"mag": 10, "grad": 20}
    assert got.meta["subject"] == "07" and got.meta["task"] == "rest"
    assert got.meta["dataset"] == "bids"
    np.testing.assert_allclose(got.get_data(), rec.get_data(), rtol=1e-6, atol=1e-20)
    np.testing.assert_allclose(got.sensors.pos, rec.sensors.pos, atol=1e-6)
    with pytest.raises(RecordingError, match="no recording matches"):
        nio.load_bids(root, subject="99")
