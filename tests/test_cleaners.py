"""Classic multi-channel cleaners (ICA + ICLabel, ASR): real blinks, synthetic artifacts, CLI."""

from __future__ import annotations

import warnings

import mne
import numpy as np
import pytest
from conftest import DATA

import neurokit
from neurokit.cli import main
from neurokit.errors import InvalidParameterError
from neurokit.models import CLEANERS, ASRCleaner, ICALabelCleaner
from neurokit.models.cleaners import ICLABEL_CLASSES

EDF = DATA / "motor_imagery" / "S001R04.edf"  # 64 EEG channels, 160 Hz, blinks on Fp1/Fp2


@pytest.fixture(scope="module")
def blinks():
    """40 s of EEGMMIDB S001R04 with its blink onsets (found on Fp1)."""
    if not EDF.exists():
        pytest.skip(f"real recordings not found at {DATA} (set NEUROKIT_TEST_DATA)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = neurokit.io.load(EDF)
    raw = rec.raw.copy().load_data(verbose="error").crop(0, 40)
    events = mne.preprocessing.find_eog_events(raw, ch_name="Fp1.", verbose="error")[:, 0]
    assert len(events) >= 4  # the recording has real blinks
    return rec.with_step(raw, "crop", tmax=40.0), events - raw.first_samp


def _blink_amplitude(raw, onsets, ch="Fp1."):
    """Median peak-to-peak of ``ch`` (1-15 Hz) in 0.5-s windows around the blinks."""
    x = mne.filter.filter_data(raw.get_data(picks=ch)[0], raw.info["sfreq"], 1.0, 15.0,
                               verbose="error")  # fmt: skip
    half = int(0.25 * raw.info["sfreq"])
    return np.median([np.ptp(x[max(o - half, 0) : o + half]) for o in onsets])


def test_ica_iclabel_removes_real_blinks(blinks):
    rec, onsets = blinks
    raw = rec.raw
    out = ICALabelCleaner(method="fastica", n_components=20).apply(rec)
    entry = out.history[-1]
    assert entry["model"] == "ica-iclabel" and entry["n_components"] == 20
    assert "eye blink" in [label for label, _ in entry["removed"].values()]
    clean = out.raw
    assert clean.ch_names == raw.ch_names and clean.info["sfreq"] == raw.info["sfreq"]
    assert clean.annotations.description.tolist() == raw.annotations.description.tolist()
    assert clean.n_times == raw.n_times
    before, after = _blink_amplitude(raw, onsets), _blink_amplitude(clean, onsets)
    assert after < 0.6 * before
    # with reference="average" the mean over channels (the common mode) is left as recorded
    avg = ICALabelCleaner(method="fastica", n_components=20, reference="average").apply(raw)
    np.testing.assert_allclose(avg.get_data().mean(0), raw.get_data().mean(0), atol=1e-12)
    assert _blink_amplitude(avg, onsets) < 0.8 * before
    # posterior channels are barely touched (volts in, volts out)
    ratio = clean.get_data(picks="Oz..").std() / raw.get_data(picks="Oz..").std()
    assert 0.7 < ratio <= 1.05


def test_asr_removes_real_blinks_and_keeps_other_channels(blinks):
    rec, onsets = blinks
    both = rec.raw.copy().set_channel_types({"Fp2.": "eog"})  # a non-picked channel
    clean = ASRCleaner(cutoff=5.0).apply(both)
    assert clean.ch_names == both.ch_names and clean.info["sfreq"] == both.info["sfreq"]
    np.testing.assert_array_equal(clean.get_data(picks="Fp2."), both.get_data(picks="Fp2."))
    assert _blink_amplitude(clean, onsets) < 0.6 * _blink_amplitude(both, onsets)
    assert np.isfinite(clean.get_data()).all()


def _synthetic_with_artifact(duration_s=40.0, seed=0):
    """Synthetic 19-channel EEG plus a frontal blink-like source; returns raw and clean data."""
    rec = neurokit.io.synthetic("eeg", n_channels=19, duration_s=duration_s, seed=seed)
    raw = rec.raw.copy().load_data(verbose="error")
    clean = raw.get_data()
    sfreq, n = raw.info["sfreq"], raw.n_times
    t = np.arange(n) / sfreq
    source = np.zeros(n)
    for onset in np.arange(1.0, duration_s - 1, 2.5):
        source += np.exp(-0.5 * ((t - onset) / 0.08) ** 2)
    pos = np.array([ch["loc"][:3] for ch in raw.info["chs"]])
    weight = np.exp(-np.linalg.norm(pos - pos[raw.ch_names.index("Fp1")], axis=1) / 0.05)
    weight = np.nan_to_num(weight)  # channels without a position (the EOG) get none
    raw._data += 8 * clean.std() * weight[:, None] * source[None]
    return raw, clean, weight > 0.3


def test_asr_on_synthetic_bursts_and_calibration_span():
    raw, clean, frontal = _synthetic_with_artifact()
    out = ASRCleaner(cutoff=5.0, calibration=(0.0, 20.0)).apply(raw).get_data()
    err_in = np.sqrt(np.mean((raw.get_data() - clean)[frontal] ** 2))
    err_out = np.sqrt(np.mean((out - clean)[frontal] ** 2))
    assert err_out < 0.7 * err_in


def test_ica_on_synthetic_has_exact_bookkeeping():
    raw, _, _ = _synthetic_with_artifact(duration_s=20.0)
    cleaner = ICALabelCleaner(method="fastica", n_components=8, remove=ICLABEL_CLASSES,
                              threshold=0.1)  # fmt: skip
    ica, labels = cleaner.fit(raw)
    assert labels["proba"].shape == (8, 7)
    np.testing.assert_allclose(labels["proba"].sum(1), 1.0, atol=1e-4)
    assert len(ica.exclude) == 8  # the largest of 7 probabilities is >= 1/7 > 0.1
    out = cleaner.apply(raw)
    # removing every component leaves only the part outside the ICA subspace, plus the mean
    x, y = raw.get_data(), out.get_data()
    assert np.abs(y - y.mean(0)).std() < np.abs(x - x.mean(0)).std()
    assert cleaner.get_config()["kwargs"]["n_components"] == 8


def test_cleaner_errors_say_how_to_fix():
    raw, _, _ = _synthetic_with_artifact(duration_s=20.0)
    with pytest.raises(InvalidParameterError, match="needs at least 3 good channels"):
        ICALabelCleaner().apply(raw, picks=["Fp1", "Fp2"])
    no_pos = raw.copy().set_montage(None)
    with pytest.raises(InvalidParameterError, match=r"set_montage\('standard_1005'\)"):
        ICALabelCleaner(method="fastica").apply(no_pos)
    with pytest.raises(InvalidParameterError, match="n_components=30 is too many"):
        ICALabelCleaner(n_components=30).apply(raw)
    with pytest.raises(InvalidParameterError, match="remove="):
        ICALabelCleaner(remove=["blinks"])
    with pytest.raises(InvalidParameterError, match="threshold="):
        ICALabelCleaner(threshold=1.5)
    with pytest.raises(InvalidParameterError, match="method="):
        ICALabelCleaner(method="jade")
    with pytest.raises(InvalidParameterError, match="reference="):
        ICALabelCleaner(reference="mastoids")
    with pytest.raises(InvalidParameterError, match="calibration="):
        ASRCleaner(calibration=(5, 1))
    with pytest.raises(InvalidParameterError, match="need >= 15 s"):
        ASRCleaner(calibration=(0, 5)).apply(raw)
    with pytest.raises(InvalidParameterError, match="mne.io.BaseRaw"):
        ASRCleaner().apply(np.zeros((4, 100)))
    assert sorted(CLEANERS) == ["asr", "ica-iclabel"]


def test_cli_denoise_with_classic_cleaners(blinks, tmp_path, capsys):
    raw = blinks[0].raw
    src = tmp_path / "blinks_raw.fif"
    raw.copy().crop(0, 30).save(src, verbose="error")
    for name in ("ica-iclabel", "asr"):
        out = tmp_path / f"{name}_raw.fif"
        code = main(["denoise", str(src), str(out), "--model", name])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        assert f"64 of 64 channels cleaned with {name}" in captured.out
        clean = mne.io.read_raw_fif(out, preload=True, verbose="error")
        assert clean.ch_names == raw.ch_names and clean.n_times == 30 * 160 + 1
        assert np.isfinite(clean.get_data()).all()
