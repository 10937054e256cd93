"""Preprocessing steps, recipes and windows."""

from __future__ import annotations

import mne
import numpy as np
import pytest

import neurokit.io as nio
from neurokit.errors import InvalidParameterError
from neurokit.preprocessing import (
    Pipeline,
    apply_step,
    event_windows,
    fixed_windows,
    list_recipes,
    list_steps,
)

STEP_CASES = [
    ("pick_types", {"types": ["eeg"]}),
    ("pick_channels", {"names": ["O1", "T3", "fp1"]}),
    ("crop", {"tmin_s": 1.0, "tmax_s": 5.0}),
    ("resample", {"sfreq": 128.0}),
    ("bandpass", {"l_freq": 1.0, "h_freq": 40.0}),
    ("notch", {"line_freq": 50.0}),
    ("rereference", {"kind": "average"}),
    ("rereference", {"kind": "per_type"}),
    ("rereference", {"kind": "tcp16"}),
    ("scale", {"method": "zscore"}),
    ("scale", {"method": "quantile", "window_s": 2.0}),
    ("scale", {"method": "brainomni"}),
    ("detect_bads", {"noisy_z": 5.0, "psd_iqr": 10.0}),
    ("interpolate_bads", {}),
    ("reject_annotated", {"pattern": "^stimulus/left"}),
]


@pytest.fixture(scope="module")
def eeg():
    return nio.synthetic("eeg", n_channels=19, duration_s=12.0, seed=2)


def test_every_registered_step_is_covered():
    assert {name for name, _ in STEP_CASES} == set(list_steps())


@pytest.mark.parametrize(
    "name, opts", STEP_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(STEP_CASES)]
)
def test_step_contract(eeg, name, opts):
    before = eeg.get_data().copy()
    history = list(eeg.history)
    out = apply_step(eeg, name, **opts)
    np.testing.assert_array_equal(eeg.get_data(), before)  # input untouched
    assert eeg.history == history
    assert out.history[:-1] == history and out.history[-1]["step"] == name
    assert {k: out.history[-1][k] for k in opts} == opts
    assert list(out.sensors.names) == out.raw.ch_names
    assert np.isfinite(out.get_data()).all()


def test_signal_effects(eeg):
    assert apply_step(eeg, "resample", sfreq=128.0).n_times == eeg.n_times // 2
    filt = apply_step(eeg, "bandpass", l_freq=None, h_freq=4.0)
    psd = filt.raw.compute_psd(fmin=8, fmax=12, picks="eeg", verbose="error").get_data()
    psd0 = eeg.raw.compute_psd(fmin=8, fmax=12, picks="eeg", verbose="error").get_data()
    assert psd.mean() < 0.01 * psd0.mean()  # alpha removed by a 4 Hz low-pass
    avg = apply_step(eeg, "rereference", kind="average").get_data(picks="eeg")
    np.testing.assert_allclose(avg.mean(axis=0), 0, atol=1e-12)
    z = apply_step(eeg, "scale", method="zscore").get_data(picks="eeg")
    np.testing.assert_allclose(z.std(axis=1), 1, rtol=1e-6)
    q = apply_step(eeg, "scale", method="quantile").get_data(picks="eeg")
    ref = np.quantile(np.abs(eeg.get_data(picks="eeg")), 0.95, axis=1)
    # the reference code's +1e-8 is added in volts, hence slightly below 1
    np.testing.assert_allclose(np.quantile(np.abs(q), 0.95, axis=1), ref / (ref + 1e-8), rtol=1e-9)
    bip = apply_step(eeg, "rereference", kind="tcp16")
    assert bip.ch_names[:2] == ["Fp1-F7", "F7-T7"] and len(bip.ch_names) == 16
    np.testing.assert_allclose(
        bip.get_data()[0], eeg.get_data(["Fp1"])[0] - eeg.get_data(["F7"])[0]
    )


def test_brainomni_scaling_matches_its_definition():
    meg = nio.synthetic("meg", n_channels=12, duration_s=4.0, seed=1)
    out = apply_step(meg, "scale", method="brainomni").get_data()
    x = meg.get_data()
    mags = [i for i, t in enumerate(meg.sensors.types) if t == "mag"]
    seg = x[mags] - x[mags].mean(axis=0, keepdims=True)
    np.testing.assert_allclose(out[mags], seg / (seg.std() + 1e-13), rtol=1e-6)


def test_detect_and_interpolate_bads(eeg):
    raw = eeg.raw.copy()
    raw._data[3] = 0.0  # flat
    raw._data[5] *= 50  # noisy
    rec = nio.normalize(raw, montage=None)
    found = apply_step(rec, "detect_bads", noisy_z=5.0)
    assert found.history[-1]["found"] == {
        "F3": "flat",
        "F4": "noisy (z=" + found.history[-1]["found"]["F4"].split("=")[1],
    } and set(found.raw.info["bads"]) == {"F3", "F4"}
    fixed = apply_step(found, "interpolate_bads")
    assert fixed.raw.info["bads"] == [] and np.std(fixed.get_data(["F3"])) > 0


def test_reject_annotated_cuts_the_span():
    rec = nio.synthetic("eeg", n_channels=4, duration_s=10.0, seed=0)
    raw = rec.raw.copy()
    raw.set_annotations(mne.Annotations([2.0], [3.0], ["BAD_motion"]))
    out = apply_step(nio.normalize(raw, montage=None), "reject_annotated")
    assert out.n_times == rec.n_times - 3 * int(rec.sfreq)


def test_step_errors_name_the_problem(eeg):
    with pytest.raises(InvalidParameterError, match="unknown preprocessing step 'wavelet'"):
        apply_step(eeg, "wavelet")
    with pytest.raises(InvalidParameterError, match="has no option 'hz'"):
        apply_step(eeg, "resample", hz=100)
    with pytest.raises(InvalidParameterError, match="needs option 'sfreq'"):
        apply_step(eeg, "resample")
    with pytest.raises(InvalidParameterError, match="below Nyquist"):
        apply_step(eeg, "bandpass", l_freq=1.0, h_freq=200.0)
    with pytest.raises(InvalidParameterError, match="power-line frequency"):
        apply_step(eeg, "notch")
    with pytest.raises(InvalidParameterError, match=r"channels \['Xx'\] not in"):
        apply_step(eeg, "pick_channels", names=["Xx"])
    with pytest.raises(InvalidParameterError, match="kind='ring'"):
        apply_step(eeg, "rereference", kind="ring")


def test_shipped_recipes_validate():
    recipes = list_recipes()
    assert {"kalunga2016_ssvep", "physionet_mi", "tfm_tcp_200hz", "brainomni_256hz"} <= set(recipes)
    for name in recipes:
        pipe = Pipeline.from_recipe(name)
        assert pipe.steps and len(pipe.hash) == 64


def test_recipe_errors_name_the_key(tmp_path):
    cases = {
        "name: x\nstepz: []\n": "unknown key 'stepz'",
        "name: x\nsteps:\n  - bandpass: {l_freq: 1, hfreq: 40}\n": "steps[0]: step 'bandpass' has no option 'hfreq'",
        "name: x\nsteps:\n  - fourier: {}\n": "steps[0]: unknown preprocessing step 'fourier'",
        "name: x\nsteps: []\nwindows: {length: 4}\n": "windows has unknown key",
        "name: x\nsteps: []\ndtype: float64\n": "dtype='float64'",
        "name: x\nsteps: []\nwindows: {events: {tmin_s: 0}}\n": "windows.events needs tmin_s and tmax_s",
    }
    for i, (text, message) in enumerate(cases.items()):
        path = tmp_path / f"r{i}.yaml"
        path.write_text(text)
        with pytest.raises(
            InvalidParameterError, match=message.replace("[", r"\[").replace("]", r"\]")
        ):
            Pipeline.from_recipe(path)
    with pytest.raises(InvalidParameterError, match="recipe 'nope' not found"):
        Pipeline.from_recipe("nope")


def test_fixed_and_event_windows():
    b = fixed_windows(1000, 100.0, 2.0, 1.0, bad_spans=[(450, 520)])
    assert b.tolist() == [[0, 200], [100, 300], [200, 400], [600, 800], [700, 900], [800, 1000]]
    with pytest.raises(InvalidParameterError, match="window_s"):
        fixed_windows(1000, 100.0, 0.001)
    rec = nio.synthetic("eeg", n_channels=2, duration_s=10.0, seed=0)
    bounds, labels = event_windows(
        rec, tmin_s=0.0, tmax_s=1.0, mapping={"stimulus/left": "L", "stimulus/right": "R"}
    )
    onsets = [a["onset"] for a in rec.raw.annotations]
    assert len(bounds) == len(onsets) and set(labels) <= {"L", "R"}
    assert bounds[0].tolist() == [int(onsets[0] * 256), int(onsets[0] * 256) + 256]


def test_pipeline_equals_steps_in_sequence(eeg):
    pipe = Pipeline([("pick_types", {"types": ["eeg"]}), ("resample", {"sfreq": 128.0})])
    by_hand = apply_step(apply_step(eeg, "pick_types", types=["eeg"]), "resample", sfreq=128.0)
    np.testing.assert_array_equal(pipe(eeg).get_data(), by_hand.get_data())
    assert "pick_types -> resample" in repr(pipe)
