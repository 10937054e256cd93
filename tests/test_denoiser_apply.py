"""``Denoiser``: a single-channel denoiser applied to whole recordings."""

from __future__ import annotations

import mne
import numpy as np
import pytest
import torch
from torch import nn

import neurokit
from neurokit.errors import InvalidParameterError
from neurokit.models import ATAT
from neurokit.models.denoise import BaseDenoiser
from neurokit.models.denoiser import Denoiser

SFREQ = 100.0  # recording rate; the test models run at 32 Hz


class Identity(BaseDenoiser):
    """Gives back its (standardized) input."""

    name = "identity_test"

    def __init__(self, *, n_times=64, sfreq=32.0):
        super().__init__()
        self._set_config(locals())
        self.unused = nn.Parameter(torch.zeros(()))

    def denoise(self, x):
        return x


class Squash(Identity):
    """A fixed sample-wise nonlinearity: results do not depend on how windows are batched."""

    name = "squash_test"

    def denoise(self, x):
        return torch.tanh(x) + 0.1 * x.roll(3, dims=-1)


@pytest.fixture(autouse=True)
def _one_thread():
    """Small networks run much faster on one thread of a shared machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def make_raw(duration_s=12.0, sfreq=SFREQ, seed=0):
    """6 EEG (one bad) + EOG + ECG + stim, microvolt-scale EEG with offsets, annotations."""
    rng = np.random.default_rng(seed)
    names = [f"E{i}" for i in range(6)] + ["VEOG", "ECG", "STI"]
    types = ["eeg"] * 6 + ["eog", "ecg", "stim"]
    n = int(duration_s * sfreq)
    data = rng.standard_normal((len(names), n)).cumsum(axis=1) * 2e-6
    data[:6] += rng.uniform(-50e-6, 50e-6, size=(6, 1))
    data[-1] = (np.arange(n) % 250 == 0) * 5.0
    info = mne.create_info(names, sfreq, types)
    info["bads"] = ["E5"]
    info["line_freq"] = 50.0
    raw = mne.io.RawArray(data, info, verbose="error")
    if duration_s > 7:
        raw.set_annotations(mne.Annotations([1.0, 4.5], [0.5, 2.0], ["blink", "move"]))
    return raw


def tiny_atat(seed=0):
    torch.manual_seed(seed)
    return ATAT.from_preset("tiny", sfreq=32.0, n_times=64, patch_s=0.25)


def test_apply_changes_only_the_picked_channels():
    raw = make_raw()
    before = raw.get_data().copy()
    out = Denoiser(tiny_atat(), chunk_s=5.0).apply(raw)
    assert isinstance(out, mne.io.BaseRaw) and out is not raw
    np.testing.assert_array_equal(raw.get_data(), before)  # input untouched
    assert out.ch_names == raw.ch_names and out.info["sfreq"] == raw.info["sfreq"]
    assert out.get_channel_types() == raw.get_channel_types()
    assert [c["unit"] for c in out.info["chs"]] == [c["unit"] for c in raw.info["chs"]]
    assert out.info["bads"] == ["E5"] and out.info["line_freq"] == 50.0
    assert list(out.annotations.description) == ["blink", "move"]
    np.testing.assert_allclose(out.annotations.onset, raw.annotations.onset)
    np.testing.assert_allclose(out.annotations.duration, raw.annotations.duration)
    data = out.get_data()
    assert data.shape == before.shape and np.isfinite(data).all()
    # EOG, ECG, stim and the bad EEG channel are bit-identical; the good EEG changed
    np.testing.assert_array_equal(data[5:], before[5:])
    for i in range(5):
        assert not np.allclose(data[i], before[i], rtol=0, atol=1e-3 * before[i].std())
    # scale is kept (volts in, volts out): same order of magnitude as the input
    ratio = data[:5].std(axis=1) / before[:5].std(axis=1)
    assert np.all((ratio > 0.05) & (ratio < 20))


def test_apply_on_a_recording_returns_a_recording():
    rec = neurokit.io.synthetic("eeg", n_channels=4, duration_s=6.0, sfreq=128.0, seed=1)
    out = Denoiser(tiny_atat()).apply(rec, picks=["eeg"])
    assert isinstance(out, neurokit.Recording) and out is not rec
    assert out.ch_names == rec.ch_names and out.sensors.types == rec.sensors.types
    assert out.history[-1]["step"] == "denoise" and out.history[-1]["model"] == "atat"
    assert out.history[-1]["channels"] == [n for n, t in zip(rec.ch_names, rec.sensors.types)
                                           if t == "eeg"]  # fmt: skip
    eog = rec.sensors.types.index("eog")
    np.testing.assert_array_equal(out.get_data()[eog], rec.get_data()[eog])
    assert len(rec.history) == len(out.history) - 1


@pytest.mark.parametrize("sfreq", [32.0, 100.0, 20.0])
def test_identity_model_gives_back_the_input(sfreq):
    raw = make_raw(sfreq=sfreq, duration_s=9.1)
    x = raw.get_data(picks=range(5))
    for chunk_s in (2.0, 100.0):
        y = Denoiser(Identity(), chunk_s=chunk_s).apply(raw).get_data(picks=range(5))
        np.testing.assert_allclose(y, x, rtol=0, atol=1e-6 * np.abs(x).max())


def test_identity_without_residual_checks_the_resampling_path():
    """Output = resampled model output: exact without resampling, accurate for content well
    below the model's Nyquist frequency with it (edges included, the last window shifted)."""
    rng = np.random.default_rng(3)

    def sines(sfreq):
        t = np.arange(int(9.3 * sfreq)) / sfreq
        x = np.stack([np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in (1.0, 3.5, 6.0)])
        return x * 1e-5 + 2e-5

    same = sines(32.0)
    y = Denoiser(Identity(), residual=False).denoise_array(same, 32.0)
    np.testing.assert_allclose(y, same, rtol=0, atol=1e-6 * np.abs(same).max())
    x = sines(SFREQ)
    y = Denoiser(Identity(), residual=False).denoise_array(x, SFREQ)
    inner = slice(int(SFREQ), -int(SFREQ))
    assert np.abs(y - x)[:, inner].max() < 1e-3 * np.abs(x).max()
    assert np.abs(y - x).max() < 0.05 * np.abs(x).max()


def test_recording_shorter_than_one_window():
    raw = make_raw(duration_s=1.3)  # 1.3 s < 2 s windows
    x = raw.get_data()
    y = Denoiser(Identity()).apply(raw).get_data()
    np.testing.assert_allclose(y, x, rtol=0, atol=1e-6 * np.abs(x).max())
    out = Denoiser(tiny_atat()).apply(raw).get_data()
    assert out.shape == x.shape and np.isfinite(out).all()


@pytest.mark.parametrize("residual", [False, True])
def test_chunked_equals_all_at_once(residual):
    raw = make_raw(duration_s=20.0)
    kwargs = dict(residual=residual, batch_size=7)
    whole = Denoiser(Squash(), chunk_s=1000.0, **kwargs).apply(raw).get_data()
    for chunk_s in (1.5, 4.0):
        part = Denoiser(Squash(), chunk_s=chunk_s, **kwargs).apply(raw).get_data()
        np.testing.assert_allclose(part, whole, rtol=0, atol=1e-12 * np.abs(whole).max())
    # a real network: the same up to float32 rounding
    model = tiny_atat()
    a = Denoiser(model, chunk_s=3.0, **kwargs).apply(raw).get_data()
    b = Denoiser(model, chunk_s=1000.0, **kwargs).apply(raw).get_data()
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * np.abs(b).max())


def test_streaming_reads_one_block_at_a_time(tmp_path, monkeypatch):
    path = tmp_path / "long_raw.fif"
    make_raw(duration_s=60.0).save(path, verbose="error")
    raw = mne.io.read_raw_fif(path, preload=False, verbose="error")
    spans = []
    get_data = raw.get_data

    def spy(*args, start=0, stop=None, **kwargs):
        spans.append((start, stop))
        return get_data(*args, start=start, stop=stop, **kwargs)

    monkeypatch.setattr(raw, "get_data", spy)
    out = Denoiser(Squash(), chunk_s=5.0).apply(raw)
    monkeypatch.undo()
    # 5-s blocks of 60 s, read with margins (filters, windows): never the whole recording
    assert len(spans) == 12 and max(b - a for a, b in spans) < 10 * SFREQ
    whole = Denoiser(Squash(), chunk_s=100.0).apply(raw)
    cleaned = mne.io.BaseRaw.get_data(out)  # out.get_data is the spy, copied with the raw
    np.testing.assert_allclose(cleaned, whole.get_data(), rtol=0, atol=1e-15)
    assert not np.allclose(cleaned[0], raw.get_data()[0])


def test_from_pretrained(tmp_path):
    model = tiny_atat(seed=2)
    model.save_pretrained(tmp_path / "run" / "model")
    raw = make_raw(duration_s=8.0)
    expected = Denoiser(model).apply(raw).get_data()
    for where in (tmp_path / "run" / "model", tmp_path / "run"):
        loaded = Denoiser.from_pretrained(where)
        assert loaded.name == "atat" and loaded.sfreq == 32.0 and loaded.n_times == 64
        np.testing.assert_allclose(loaded.apply(raw).get_data(), expected, atol=1e-12)
    with pytest.warns(UserWarning, match="untrained"):
        tiny = Denoiser.from_pretrained("atat:tiny")
    assert tiny.n_times == 128 and tiny.sfreq == 64.0
    with pytest.warns(UserWarning, match="untrained"):
        assert Denoiser.from_pretrained("fcnn").n_times == 512  # default preset


def test_errors_name_the_parameter(tmp_path):
    raw = make_raw(duration_s=3.0)
    den = Denoiser(Identity())
    with pytest.raises(InvalidParameterError, match="registered denoiser"):
        Denoiser.from_pretrained("no_such_model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidParameterError, match="no config.json"):
        Denoiser.from_pretrained(tmp_path / "empty")
    with pytest.raises(InvalidParameterError, match="'XYZ' is neither a channel name"):
        den.apply(raw, picks=["XYZ"])
    with pytest.raises(InvalidParameterError, match="selects no good channel"):
        den.apply(raw, picks="seeg")
    with pytest.raises(InvalidParameterError, match="mne.io.BaseRaw or a neurokit Recording"):
        den.apply(raw.get_data())
    with pytest.raises(InvalidParameterError, match="chunk_s=0"):
        den.apply(raw, chunk_s=0)
    with pytest.raises(InvalidParameterError, match="batch_size"):
        Denoiser(Identity(), batch_size=0)
    with pytest.raises(InvalidParameterError, match="needs a denoiser module"):
        Denoiser(nn.Linear(2, 2))
    with pytest.raises(InvalidParameterError, match="2-D"):
        den.denoise_array(np.zeros(10), 32.0)
