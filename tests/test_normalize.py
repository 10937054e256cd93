"""Name-based repairs, template positions, sidecars, units."""

from __future__ import annotations

import warnings

import mne
import numpy as np
import pytest

import neurokit.io as nio
from neurokit.errors import InvalidParameterError, RecordingWarning
from neurokit.io.normalize import _default_montage, infer_type, standard_name


@pytest.mark.parametrize(
    "name, current, expected",
    [
        ("ECG ECG1", "eeg", "ecg"),
        ("xEKG1", "seeg", "ecg"),
        ("POL EKG2", "eeg", "ecg"),
        ("LEOG", "eeg", "eog"),
        ("ROC", "eeg", "eog"),
        ("EMG-Leg", "bio", "emg"),
        ("SaO2 X9", "eeg", "misc"),
        ("DC01", "eeg", "misc"),
        ("xAIR1", "seeg", "misc"),
        ("Fp1", "eeg", None),
        ("C3", "eeg", None),
        ("EOG", "eog", None),
        ("ECG", "stim", None),
        ("Resp. Temperature", "bio", None),  # bio is already auxiliary
    ],
)
def test_infer_type(name, current, expected):
    assert infer_type(name, current)[0] == expected


@pytest.mark.parametrize(
    "label, expected",
    [
        ("EEG Fp1-REF", "Fp1"),
        ("FP1", "Fp1"),
        ("Fc5.", "FC5"),
        ("T3", "T7"),
        ("T6-LE", "P8"),
        ("cz", "Cz"),
        ("EEG O2-Ref", "O2"),
        ("Oz..", "Oz"),
        ("LAHC1", None),
        ("A1", "A1"),
    ],
)
def test_standard_name(label, expected):
    montage = mne.channels.make_standard_montage(_default_montage())
    known = {n.upper(): n for n in montage.ch_names}
    assert standard_name(label, known) == expected


def _raw(names, types="eeg", sfreq=100.0, seed=0):
    data = np.random.default_rng(seed).normal(0, 10e-6, (len(names), 200))
    return mne.io.RawArray(data, mne.create_info(names, sfreq, types), verbose="error")


def test_template_positions_match_mne_for_any_spelling():
    canonical = nio.normalize(_raw(["Fp1", "T7", "FC5", "Cz"]))
    messy = nio.normalize(_raw(["EEG Fp1-REF", "T3", "Fc5.", "CZ"]))
    mne_raw = _raw(["Fp1", "T7", "FC5", "Cz"])
    from neurokit.io.normalize import _default_montage

    mne_raw.set_montage(_default_montage())
    expected = np.array([ch["loc"][:3] for ch in mne_raw.info["chs"]])
    np.testing.assert_allclose(canonical.sensors.pos, expected, atol=1e-9)
    np.testing.assert_allclose(messy.sensors.pos, expected, atol=1e-9)
    step = [h for h in messy.history if h["step"] == "positions"][0]
    assert step["n_channels"] == 4 and step["unmatched"] == 0


def test_repairs_are_logged_and_input_types_follow():
    rec = nio.normalize(_raw(["Fp1", "Fp2", "EKG", "LOC", "Chin1"]))
    assert rec.sensors.types == ("eeg", "eeg", "ecg", "eog", "emg")
    logged = {
        (h["from"], h["to"], tuple(h["channels"]))
        for h in rec.history
        if h["step"] == "repair_types"
    }
    assert logged == {
        ("eeg", "ecg", ("EKG",)),
        ("eeg", "eog", ("LOC",)),
        ("eeg", "emg", ("Chin1",)),
    }
    kept = nio.normalize(_raw(["Fp1", "EKG"]), repair_types=False)
    assert kept.sensors.types == ("eeg", "eeg")


def test_ieeg_file_name_types_contacts_but_not_scalp_names(tmp_path):
    names = [f"G{i}" for i in range(1, 9)] + ["BT1", "BT2", "BT3", "BT4", "C3", "C4", "E", "EKG"]
    raw = _raw(names)
    path = tmp_path / "sub-01_acq-ecog_run-01_ieeg.fif"
    raw.save(path, verbose="error")
    rec = nio.load(path, repair_types=True)
    types = dict(zip(rec.sensors.names, rec.sensors.types))
    assert all(types[f"G{i}"] == "ecog" for i in range(1, 9))
    assert all(types[f"BT{i}"] == "ecog" for i in range(1, 5))
    assert types["C3"] == types["C4"] == types["E"] == "eeg" and types["EKG"] == "ecg"
    assert rec.meta["subject"] == "01" and rec.meta["run"] == "01"
    assert {g for g in rec.sensors.groups if g} == {"G", "BT"}


def test_bids_sidecars_beside_a_file(tmp_path):
    raw = _raw(["Fz", "Cz", "A1", "A2", "X"])
    path = tmp_path / "sub-02_ses-1_task-rest_run-1_eeg.fif"
    raw.save(path, verbose="error")
    (tmp_path / "sub-02_ses-1_task-rest_run-1_channels.tsv").write_text(
        "name\ttype\tunits\tstatus\nFz\tEEG\tuV\tgood\nCz\tEEG\tuV\tbad\nA1\tSEEG\tuV\tgood\n"
        "A2\tSEEG\tuV\tgood\nX\tTRIG\tn/a\tgood\n"
    )
    (tmp_path / "sub-02_ses-1_electrodes.tsv").write_text(
        "name\tx\ty\tz\nA1\t10\t20\t30\nA2\t11\t21\tn/a\nFz\t0\t80\t60\n"
    )
    rec = nio.load(path)
    assert rec.sensors.types == ("eeg", "eeg", "seeg", "seeg", "stim")
    assert list(rec.raw.info["bads"]) == ["Cz"] and rec.sensors.bads.tolist() == [
        False,
        True,
        False,
        False,
        False,
    ]
    np.testing.assert_allclose(rec.sensors.pos[2], [0.010, 0.020, 0.030])  # mm -> m
    assert np.isnan(rec.sensors.pos[3]).all()  # n/a stays unknown
    assert rec.meta["session"] == "1" and rec.meta["task"] == "rest"


def test_implausible_units_warn_and_scale_fixes_them(tmp_path):
    raw = _raw(["Fz", "Cz"])
    raw._data *= 1e6  # microvolts stored as volts
    path = tmp_path / "uv_as_v_raw.fif"
    raw.save(path, verbose="error")
    with pytest.warns(RecordingWarning, match="implausible eeg amplitude"):
        nio.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RecordingWarning)
        rec = nio.load(path, scale={"eeg": 1e-6})
    np.testing.assert_allclose(rec.get_data(), raw.get_data() * 1e-6)
    assert rec.history[-1] == {"step": "scale", "factors": {"eeg": 1e-6}}
    with pytest.raises(InvalidParameterError, match="scale: unknown channel type"):
        nio.load(path, scale={"brain": 2.0})
