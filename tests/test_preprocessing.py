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
    ("resample_filter", {"sfreq": 128.0, "l_freq": 1.0, "h_freq": 40.0, "line_freq": 50.0}),
    ("brainomni_positions", {}),
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


def test_fused_resample_filter_equals_the_chain_of_steps():
    """One FFT pass == MNE's resample (fft) -> band-pass -> notch, away from the edges."""
    rec = nio.synthetic("eeg", n_channels=8, duration_s=60.0, sfreq=160.0, seed=4)
    chain = Pipeline(
        [
            ("resample", {"sfreq": 200.0, "method": "fft"}),
            ("bandpass", {"l_freq": 0.5, "h_freq": 45.0}),
            ("notch", {"line_freq": 60.0}),
        ]
    )(rec)
    fused = apply_step(rec, "resample_filter", sfreq=200.0, l_freq=0.5, h_freq=45.0, line_freq=60.0)
    a, b = chain.get_data(picks="eeg"), fused.get_data(picks="eeg")
    edge = 3000  # about one filter length at 200 Hz on each side
    assert np.abs(a - b)[:, edge:-edge].max() < 1e-6 * np.abs(a).max()
    assert np.sqrt(np.mean((a - b) ** 2) / np.mean(a**2)) < 3e-2  # edges differ slightly
    assert fused.sfreq == 200.0 and fused.raw.info["lowpass"] == 45.0


def test_fused_filtering_without_resampling_is_exactly_mne():
    rec = nio.synthetic("eeg", n_channels=4, duration_s=20.0, seed=5)
    mne_out = rec.raw.copy().filter(1.0, 30.0, picks="eeg", verbose="error")
    mne_out.notch_filter([50.0, 100.0], picks="eeg", verbose="error")
    fused = apply_step(rec, "resample_filter", l_freq=1.0, h_freq=30.0, line_freq=50.0)
    np.testing.assert_allclose(
        fused.get_data(picks="eeg"),
        mne_out.get_data(picks="eeg"),
        rtol=0,
        atol=1e-12 * np.abs(mne_out.get_data()).max(),
    )


def test_spectral_resampling_of_tones_is_accurate():
    from neurokit.preprocessing.spectral import spectral_resample_filter

    t = np.arange(16000) / 160.0
    x = np.sin(2 * np.pi * 10.3 * t)[None] + 0.5 * np.cos(2 * np.pi * 31.7 * t + 0.3)[None]
    for new in (128.0, 200.0, 256.0):
        y = spectral_resample_filter(x, 160.0, new, [])
        t1 = np.arange(y.shape[1]) / new
        truth = np.sin(2 * np.pi * 10.3 * t1) + 0.5 * np.cos(2 * np.pi * 31.7 * t1 + 0.3)
        assert y.shape[1] == int(round(16000 * new / 160.0))
        assert np.abs(y[0] - truth)[500:-500].max() < 5e-3


def test_fused_step_keeps_stim_events():
    rec = nio.synthetic("eeg", n_channels=4, duration_s=10.0, seed=0)
    raw = rec.raw.copy()
    stim = np.zeros((1, raw.n_times))
    stim[0, [300, 301, 1500]] = [3, 3, 7]
    raw.add_channels(
        [
            mne.io.RawArray(
                stim, mne.create_info(["STI"], raw.info["sfreq"], "stim"), verbose="error"
            )
        ]
    )
    out = apply_step(nio.normalize(raw, montage=None), "resample_filter", sfreq=64.0)
    codes = out.get_data(picks=["STI"])[0]
    assert sorted(set(codes[codes > 0])) == [3.0, 7.0]
    assert np.flatnonzero(codes == 7)[0] == 1500 // 4
