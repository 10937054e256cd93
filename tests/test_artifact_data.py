"""EEGdenoiseNet loader / mixing / splits, and the semi-synthetic benchmark on shared/data."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.io
from conftest import DATA

from neurokit.artifacts import (
    ArtifactEpochs,
    DatasetNotFoundError,
    load_eegdenoisenet,
    make_semisynthetic_benchmark,
    make_splits,
    mix,
)
from neurokit.artifacts.semisynthetic import _clean_mask
from neurokit.errors import InvalidParameterError


def _rms(x):
    return np.sqrt(np.mean(x**2, axis=-1))


# ---------------------------------------------------------------------------- loader --


@pytest.fixture
def arrays():
    rng = np.random.default_rng(1)
    return {
        "EEG": rng.standard_normal((6, 512)),
        "EOG": rng.standard_normal((5, 512)),
        "EMG": rng.standard_normal((7, 512)),
    }


def test_loader_reads_npy_files_in_a_nested_folder(tmp_path, arrays):
    (tmp_path / "data").mkdir()
    for kind, arr in arrays.items():
        np.save(tmp_path / "data" / f"{kind}_all_epochs.npy", arr)
    bench = load_eegdenoisenet(tmp_path)
    assert isinstance(bench, ArtifactEpochs) and bench.sfreq == 256.0
    np.testing.assert_array_equal(bench.eeg, arrays["EEG"])
    np.testing.assert_array_equal(bench.eog, arrays["EOG"])
    np.testing.assert_array_equal(bench.emg, arrays["EMG"])
    assert bench.ecg is None and bench.kinds() == ["eog", "emg"]
    assert bench.provenance["eog"]["file"].endswith("data/EOG_all_epochs.npy")
    assert bench.noise("emg").shape == (7, 512)
    with pytest.raises(InvalidParameterError, match="no ECG"):
        bench.noise("ecg")


def test_loader_reads_mat_files_with_their_variable_names(tmp_path, arrays):
    for kind, arr in arrays.items():
        name = f"{kind}_all_epochs"
        # one file stored (times, epochs): the loader puts it back to (epochs, times)
        data = arr.T if kind == "EOG" else arr
        scipy.io.savemat(tmp_path / f"{name}.mat", {name: data, "fs": 256})
    bench = load_eegdenoisenet(tmp_path, sfreq=256)
    np.testing.assert_allclose(bench.eeg, arrays["EEG"])
    np.testing.assert_allclose(bench.eog, arrays["EOG"])
    assert bench.provenance["emg"]["declared_fs"] == 256.0


def test_loader_512hz_names_and_no_eog(tmp_path):
    rng = np.random.default_rng(2)
    eeg, emg = rng.standard_normal((4, 1024)), rng.standard_normal((6, 1024))
    np.save(tmp_path / "EEG_all_epochs_512hz.npy", eeg)
    scipy.io.savemat(tmp_path / "EMG_all_epochs_512hz.mat", {"EMG_all_epochs": emg, "fs": 256})
    np.save(tmp_path / "EOG_all_epochs.npy", rng.standard_normal((3, 512)))  # 256-Hz only
    bench = load_eegdenoisenet(tmp_path, sfreq=512)
    assert bench.sfreq == 512.0 and bench.eog is None
    np.testing.assert_array_equal(bench.eeg, eeg)
    np.testing.assert_allclose(bench.emg, emg)


def test_loader_missing_files_say_what_was_searched_and_found(tmp_path):
    np.save(tmp_path / "EOG_all_epochs.npy", np.zeros((2, 512)))
    with pytest.raises(DatasetNotFoundError) as err:
        load_eegdenoisenet(tmp_path)
    msg = str(err.value)
    assert "EEG_all_epochs.npy|.mat" in msg and "EOG_all_epochs.npy" in msg
    np.save(tmp_path / "EEG_all_epochs_512hz.npy", np.zeros((2, 1024)))
    np.save(tmp_path / "EMG_all_epochs_512hz.npy", np.zeros((2, 1024)))
    with pytest.raises(DatasetNotFoundError, match="pass sfreq=512"):
        load_eegdenoisenet(tmp_path)
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        load_eegdenoisenet(tmp_path / "nope")
    with pytest.raises(InvalidParameterError, match="256 or 512"):
        load_eegdenoisenet(tmp_path, sfreq=250)


def test_loader_rejects_wrong_epoch_length(tmp_path):
    np.save(tmp_path / "EEG_all_epochs.npy", np.zeros((3, 500)))
    np.save(tmp_path / "EOG_all_epochs.npy", np.zeros((3, 500)))
    with pytest.raises(InvalidParameterError, match="500 samples"):
        load_eegdenoisenet(tmp_path)


# ---------------------------------------------------------------------------- mixing --


def test_mix_reaches_the_reference_snr_definition():
    rng = np.random.default_rng(0)
    x, n = rng.standard_normal((4, 512)), 3 * rng.standard_normal((4, 512))
    snr = np.array([-7.0, -2.5, 0.0, 2.0])
    y, a = mix(x, n, snr, return_noise=True)
    np.testing.assert_allclose(y, x + a)
    np.testing.assert_allclose(10 * np.log10(_rms(x) / _rms(a)), snr, atol=1e-9)
    _, a_pow = mix(x, n, snr, snr_definition="power", return_noise=True)
    np.testing.assert_allclose(20 * np.log10(_rms(x) / _rms(a_pow)), snr, atol=1e-9)
    with pytest.raises(InvalidParameterError, match="snr_definition"):
        mix(x, n, 0.0, snr_definition="db")
    with pytest.raises(InvalidParameterError, match="all-zero"):
        mix(x, np.zeros_like(n), 0.0)


# ---------------------------------------------------------------------------- splits --


def _data(n_eeg, n_noise, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_eeg, 64)), rng.standard_normal((n_noise, 64))


def test_splits_eog_case_drops_surplus_eeg_and_follows_reference_counts():
    eeg, noise = _data(45, 34)
    s = make_splits(eeg, noise, seed=3)
    # 34 pairs: round(0.8 * 34) = 27 train, rest 7 halved -> 4 validation, 3 test
    assert len(s["train"]) == 270 and len(s["validation"]) == 40 and len(s["test"]) == 30
    test = s["test"]
    np.testing.assert_array_equal(test.snr_db, np.repeat(np.arange(-7.0, 3.0), 3))
    np.testing.assert_allclose(np.std(test.noisy, axis=1), 1.0)
    np.testing.assert_allclose(test.noisy, test.clean + test.artifact)
    np.testing.assert_allclose(test.clean * test.scale[:, None], eeg[test.eeg_index])
    np.testing.assert_allclose(
        10 * np.log10(_rms(test.clean) / _rms(test.artifact)), test.snr_db, atol=1e-9
    )
    train = s["train"]
    assert train.snr_db.min() >= -7 and train.snr_db.max() <= 2 and np.ptp(train.snr_db) > 5
    assert len(np.unique(train.eeg_index)) == 27  # 10 re-pairings of the same 27 epochs
    for a, b in (("train", "test"), ("train", "validation"), ("validation", "test")):
        assert not set(s[a].eeg_index) & set(s[b].eeg_index)
        assert not set(s[a].noise_index) & set(s[b].noise_index)


def test_splits_emg_case_reuses_eeg_inside_training_only():
    eeg, noise = _data(40, 50)
    s = make_splits(eeg, noise, seed=1, n_train_combinations=2)
    n_train, n_val, n_test = 40, 5, 5
    assert len(s["train"]) == 2 * n_train and len(s["test"]) == 10 * n_test
    held = set(s["validation"].eeg_index) | set(s["test"].eeg_index)
    assert len(held) == n_val + n_test and not held & set(s["train"].eeg_index)
    counts = np.bincount(s["train"].eeg_index, minlength=40) // 2
    # 30 unique training epochs, 10 of them used twice per combination (50 pairs, 40 EEG)
    assert (counts > 0).sum() == 30 and (counts == 2).sum() == 10


def test_splits_keep_groups_inside_one_split():
    eeg, noise = _data(60, 48)
    eeg_groups = np.arange(60) // 4  # e.g. channels recorded at the same time
    noise_groups = np.arange(48) // 6  # e.g. overlapping windows of one recording
    s = make_splits(eeg, noise, seed=0, eeg_groups=eeg_groups, noise_groups=noise_groups)
    for kind, groups in (("eeg_index", eeg_groups), ("noise_index", noise_groups)):
        seen = {name: set(groups[getattr(s[name], kind)]) for name in s}
        assert not seen["train"] & seen["test"] and not seen["train"] & seen["validation"]
        assert not seen["validation"] & seen["test"]
    assert len(s["test"]) % 10 == 0 and len(s["test"]) > 0


def test_splits_are_reproducible_and_seeded():
    eeg, noise = _data(30, 25)
    a, b, c = (make_splits(eeg, noise, seed=k) for k in (7, 7, 8))
    for name in a:
        np.testing.assert_array_equal(a[name].noisy, b[name].noisy)
    assert not np.array_equal(a["train"].noisy, c["train"].noisy)


def test_splits_reject_bad_input():
    eeg, noise = _data(30, 25)
    with pytest.raises(InvalidParameterError, match="same n_times"):
        make_splits(eeg[:, :32], noise)
    with pytest.raises(InvalidParameterError, match="ratios"):
        make_splits(eeg, noise, ratios=(0.5, 0.2, 0.2))
    with pytest.raises(InvalidParameterError, match="cannot fill"):
        make_splits(eeg[:4], noise)
    with pytest.raises(InvalidParameterError, match="whole groups"):  # 2 groups for 3 splits
        make_splits(eeg, noise, noise_groups=np.arange(25) < 20)


def test_import_is_free_of_torch():
    code = "import sys, neurokit.artifacts; sys.exit(1 if 'torch' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# --------------------------------------------------------------------- semi-synthetic --


def test_low_artifact_rule_rejects_a_blink_and_a_muscle_burst():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 40, 256))
    w[0, 5] += 20 * np.hanning(256)  # slow large deflection (blink-like)
    w[1, 9] += 8 * rng.standard_normal(256) * (np.arange(256) % 2 * 2 - 1)  # high-frequency
    mask = _clean_mask(w, 128.0, 30.0, 3.0)
    assert not mask[0, 5] and not mask[1, 9]
    assert mask.sum() >= 0.85 * mask.size


@pytest.fixture(scope="module")
def bench():
    if not (DATA / "motor_imagery").is_dir():
        pytest.skip(f"real recordings not found at {DATA} (set NEUROKIT_TEST_DATA)")
    return make_semisynthetic_benchmark(DATA, seed=0, max_files=1, max_windows=80)


def test_semisynthetic_has_the_eegdenoisenet_structure(bench):
    assert bench.sfreq == 256.0 and bench.eeg.shape == (80, 512)
    assert bench.kinds() == ["eog", "emg", "ecg"]
    for kind in ("eeg", "eog", "emg", "ecg"):
        x = getattr(bench, kind)
        assert x.shape[1] == 512 and np.isfinite(x).all()
        np.testing.assert_allclose(x.std(axis=1), 1.0, rtol=1e-9)
        prov = bench.provenance[kind]
        assert len(prov) == len(x)
        assert {"file", "channel", "start_s", "stop_s", "group", "scale"} <= set(prov[0])
        assert all(p["stop_s"] - p["start_s"] == 2.0 for p in prov)
    files = {p["file"].split("/")[0] for p in bench.provenance["eeg"]}
    assert files == {"motor_imagery", "ssvep"}
    assert {p["file"] for p in bench.provenance["eog"]} >= {"loaders/eximia/test_eximia.nxe"}
    splits = make_splits(
        bench.eeg,
        bench.ecg,
        seed=0,
        n_train_combinations=1,
        eeg_groups=bench.groups("eeg"),
        noise_groups=bench.groups("ecg"),
    )
    assert len(splits["test"]) > 0


def test_semisynthetic_is_reproducible_from_the_seed(bench):
    again = make_semisynthetic_benchmark(DATA, seed=0, max_files=1, max_windows=80)
    np.testing.assert_array_equal(again.eeg, bench.eeg)
    np.testing.assert_array_equal(again.ecg, bench.ecg)
    assert again.provenance["eeg"] == bench.provenance["eeg"]
    other = make_semisynthetic_benchmark(DATA, seed=1, max_files=1, max_windows=80)
    assert other.provenance["eeg"] != bench.provenance["eeg"]


def test_semisynthetic_missing_root_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="motor_imagery"):
        make_semisynthetic_benchmark(tmp_path)
