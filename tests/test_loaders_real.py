"""Loader contract over every recording of ``shared/data/loaders/index.json``."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest
from conftest import DATA, entry_param, index_entries

import neurokit.io as nio
from neurokit.errors import (
    CorruptRecordingError,
    NoSignalError,
    RecordingError,
    RecordingWarning,
    UnsupportedFormatError,
)
from neurokit.sensors import SENSOR_TYPES

ENTRIES = index_entries()
OK = [e for e in ENTRIES if e["expected_outcome"] == "ok"]
FAILING = [e for e in ENTRIES if e["expected_outcome"] != "ok"]

# What each broken file must raise, and words the message must contain.
EXPECTED_ERRORS = {
    "broken_fif_truncated": (CorruptRecordingError, "truncated"),
    "edge_fif_maxshield": (RecordingError, "MaxShield"),
    "broken_edf_crlf_size_mismatch": (CorruptRecordingError, "header declares 125 data records"),
    "broken_edf_crlf_same_size": (CorruptRecordingError, "LF -> CRLF"),
    "edge_edf_annotations_only": (NoSignalError, "only annotations"),
    "edge_nsx_unsupported_version": (UnsupportedFormatError, "2.1"),
}
# Odd files that load: the warning must name the oddity.
EXPECTED_WARNINGS = {
    "edge_edf_duplicate_labels": "not unique",
    "edge_edf_uneven_sampling": "uneven sampling rates",
    "edge_edf_subsecond_start": "sub-second start",
    "edge_edf_utf8_annotations": "UTF-8 annotations",
    "edge_brainvision_old_latin1": "old BrainVision header layout",
}


def _load(entry, **extra):
    """Load like a user would: the primary path, plus the index's non-path reader options."""
    kwargs = {k: v for k, v in entry["kwargs"].items() if k not in entry["path_kwargs"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecordingWarning)
        return nio.load(DATA / entry["primary"], **kwargs, **extra)


def test_index_has_the_documented_corpus():
    if not ENTRIES:
        pytest.skip(f"real recordings not found at {DATA}")
    assert len(OK) == 35 and len(FAILING) == 6
    assert set(EXPECTED_ERRORS) == {e["id"] for e in FAILING}


@pytest.mark.parametrize("entry", entry_param(OK))
def test_loader_contract(entry):
    md = entry["metadata"]
    rec = _load(entry)
    s = rec.sensors
    # aligned 1:1, allowed vocabulary
    assert list(s.names) == rec.raw.ch_names
    assert len(s) == md["n_channels"]
    assert set(s.types) <= set(SENSOR_TYPES)
    assert rec.sfreq == pytest.approx(md["sfreq"], rel=1e-6)
    assert rec.n_times == md["n_times"]
    # channel types: the reader's types, once this loader's logged repairs are undone
    mne_types = dict(zip(s.names, s.mne_types))
    for step in rec.history:
        if step["step"] == "repair_types":
            assert step["to"] == mne_types[step["channels"][0]]
            for ch in step["channels"]:
                mne_types[ch] = step["from"]
    assert Counter(mne_types.values()) == Counter(md["channel_types"])
    # positions: finite wherever the file has them, metres, near the head origin
    assert s.has_position.sum() >= md["n_with_position"]
    # (MEG reference sensors, typed misc, sit far above the helmet and are left out here)
    head = s.has_position & ~np.isin(s.types, ["misc", "stim"])
    assert np.all(np.linalg.norm(s.pos[head], axis=1) < 0.3), "positions not in metres/head frame"
    # MEG coil orientations: unit norm, one per MEG channel the file describes
    ori = s.ori[np.all(np.isfinite(s.ori), axis=1)]
    assert len(ori) == md["n_meg_with_orientation"]
    np.testing.assert_allclose(np.linalg.norm(ori, axis=1), 1.0, atol=1e-6)
    assert np.all(np.isin(np.array(s.types)[np.all(np.isfinite(s.ori), axis=1)], ["mag", "grad"]))
    # bads flagged in both places
    assert [n for n, b in zip(s.names, s.bads) if b] == [
        n for n in rec.raw.ch_names if n in rec.raw.info["bads"]
    ]


@pytest.mark.parametrize("entry", entry_param(OK))
def test_loader_data_is_reproducible(entry):
    lazy, eager, again = _load(entry), _load(entry, preload=True), _load(entry)
    data = lazy.get_data()
    assert np.isfinite(data).all()
    np.testing.assert_array_equal(data, eager.get_data())
    np.testing.assert_array_equal(data, again.get_data())
    assert lazy.sensors == again.sensors == eager.sensors


@pytest.mark.parametrize("entry", entry_param(FAILING))
def test_broken_files_raise_typed_errors(entry):
    cls, words = EXPECTED_ERRORS[entry["id"]]
    path = DATA / entry["primary"]
    with pytest.raises(cls) as err:
        nio.load(path)
    assert str(path) in str(err.value) and words in str(err.value)
    assert err.value.path == str(path)


@pytest.mark.parametrize("entry", entry_param([e for e in OK if e["id"] in EXPECTED_WARNINGS]))
def test_odd_files_warn_and_name_the_oddity(entry):
    with pytest.warns(RecordingWarning, match=EXPECTED_WARNINGS[entry["id"]]):
        rec = nio.load(DATA / entry["primary"])
    assert any(EXPECTED_WARNINGS[entry["id"]] in w for w in rec.meta["warnings"])


def test_maxshield_loads_when_allowed(data_root):
    with pytest.warns(RecordingWarning, match="MaxShield"):
        rec = nio.load(
            data_root / "loaders/broken/test_move_anon_erm_raw.fif", allow_maxshield=True
        )
    assert rec.sensors.counts()["mag"] == 102


def test_companions_found_by_convention_and_given_explicitly(data_root):
    bti = data_root / "loaders/bti/test_pdf_linux"
    auto = _load(next(e for e in OK if e["id"] == "bti_4d_magnes3600"))
    explicit = nio.load(
        bti,
        config_fname=data_root / "loaders/bti/test_config_linux",
        head_shape_fname=data_root / "loaders/bti/test_hs_linux",
    )
    assert auto.sensors == explicit.sensors
    kit = data_root / "loaders/kit"
    with_dig = nio.load(
        kit / "test.sqd", mrk=kit / "test_mrk.sqd", elp=kit / "test.elp", hsp=kit / "test.hsp"
    )
    assert with_dig.raw.info["dig"] and with_dig.raw.info["dev_head_t"] is not None
    with pytest.raises(RecordingError, match="config_fname"):
        nio.load(bti, config_fname=data_root / "loaders/bti/nope")


def test_sidecars_give_intracranial_types_and_positions(data_root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecordingWarning)
        seeg = nio.load(data_root / "loaders/ieeg/sample_seeg.edf")
        ecog = nio.load(data_root / "loaders/ieeg/sample_ecog.edf")
        no_sidecar = nio.load(data_root / "loaders/ieeg/sample_seeg.edf", electrodes=False)
    assert seeg.sensors.counts()["seeg"] == 88 and ecog.sensors.counts()["ecog"] == 76
    assert seeg.sensors.has_position.sum() == 88 and not no_sidecar.sensors.has_position.any()
    assert {"L'", "N'", "F'", "O'", "G'", "X'"} == {g for g in seeg.sensors.groups if g}
    assert seeg.sensors.types[seeg.sensors.index("EKG1")] == "ecg"
    # L'1 of the sidecar is at (-2.5, 49.1, 50.5) mm
    np.testing.assert_allclose(
        seeg.sensors.pos[seeg.sensors.index("L'1")], [-2.501e-3, 49.138e-3, 50.471e-3], atol=1e-6
    )


def test_file_positions_win_over_the_template(data_root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecordingWarning)
        dig = nio.load(data_root / "loaders/brainvision/testv2.vhdr")
        none = nio.load(data_root / "loaders/brainvision/testv2.vhdr", montage=None)
    assert dig.sensors == none.sensors
    assert not any(h["step"] == "positions" for h in dig.history)


def test_unit_sphere_positions_are_rescaled_to_metres(data_root):
    with pytest.warns(RecordingWarning, match="unit sphere"):
        rec = nio.load(data_root / "loaders/neuroscan_cnt/scan41_short.cnt")
    radius = np.linalg.norm(rec.sensors.pos[rec.sensors.has_position], axis=1)
    np.testing.assert_allclose(np.median(radius), 0.095, rtol=1e-6)
