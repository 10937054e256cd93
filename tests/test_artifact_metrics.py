"""Denoising metrics (EEGdenoiseNet) and set-to-set fidelity measures (ArtifactGen)."""

from __future__ import annotations

import numpy as np
import pytest

from neurokit.artifacts import (
    acf_distance,
    autocorrelation,
    band_power_error,
    band_powers,
    correlation_coefficient,
    covariance_distance,
    denoising_report,
    diversity,
    fidelity_report,
    make_splits,
    mmd_rbf,
    psd,
    psd_distance,
    rrmse_spectral,
    rrmse_temporal,
)
from neurokit.errors import InvalidParameterError

SFREQ = 256.0


@pytest.fixture
def windows():
    return np.random.default_rng(0).standard_normal((40, 512))


# ------------------------------------------------------------------ denoising metrics --


def test_rrmse_and_cc_known_values(windows):
    x = windows
    np.testing.assert_allclose(rrmse_temporal(x, x), 0.0)
    np.testing.assert_allclose(rrmse_temporal(x, 0.5 * x), 0.5)
    np.testing.assert_allclose(rrmse_temporal(x, np.zeros_like(x)), 1.0)
    np.testing.assert_allclose(rrmse_spectral(x, x, SFREQ), 0.0)
    # PSD scales with the square of the amplitude: |a^2 - 1|
    np.testing.assert_allclose(rrmse_spectral(x, 2.0 * x, SFREQ), 3.0)
    np.testing.assert_allclose(correlation_coefficient(x, 3.0 * x + 1.0), 1.0)
    np.testing.assert_allclose(correlation_coefficient(x, -x), -1.0)
    assert rrmse_temporal(x, x).shape == (40,)
    assert np.isnan(rrmse_temporal(np.zeros((1, 8)), np.ones((1, 8)))[0])
    with pytest.raises(InvalidParameterError, match="same shape"):
        rrmse_temporal(x, x[:, :100])


def test_psd_uses_matlab_pwelch_defaults():
    x = np.random.default_rng(1).standard_normal((200, 512))
    freqs, p = psd(x, SFREQ)
    assert freqs.shape == (129,) and freqs[-1] == 128.0  # nfft = 256 for 113-sample segments
    # white noise of unit variance: the one-sided density integrates to the variance
    np.testing.assert_allclose(np.trapezoid(p.mean(0), freqs), 1.0, rtol=0.05)
    with pytest.raises(InvalidParameterError, match="nperseg"):
        psd(x, SFREQ, nperseg=1000)


def test_denoising_report_per_snr_and_average():
    rng = np.random.default_rng(2)
    splits = make_splits(rng.standard_normal((30, 512)), rng.standard_normal((30, 512)), seed=0)
    test = splits["test"]
    denoised = test.clean + 0.1 * test.artifact
    report = denoising_report(test.clean, denoised, test.snr_db, sfreq=SFREQ, noisy=test.noisy)
    rows = report["per_snr"]
    assert [r["snr_db"] for r in rows] == list(np.arange(-7.0, 3.0))
    assert all(r["n_windows"] == 3 for r in rows)
    for r in rows:  # output is 10x closer to the target than the input
        np.testing.assert_allclose(r["rrmse_temporal"], 0.1 * r["noisy_rrmse_temporal"])
        assert r["cc"] > r["noisy_cc"]
    # noisier inputs (lower SNR) leave a larger error
    assert rows[0]["noisy_rrmse_temporal"] > rows[-1]["noisy_rrmse_temporal"]
    avg = report["average"]
    assert avg["n_windows"] == 30 and avg["snr_db"] is None
    np.testing.assert_allclose(avg["cc"], np.mean([r["cc"] for r in rows]))
    multi = denoising_report(
        np.stack([test.clean] * 2, 1), np.stack([denoised] * 2, 1), test.snr_db, sfreq=SFREQ
    )
    np.testing.assert_allclose(multi["average"]["rrmse_spectral"], avg["rrmse_spectral"])
    with pytest.raises(InvalidParameterError, match="one per window"):
        denoising_report(test.clean, denoised, test.snr_db[:5])


# -------------------------------------------------------------------------- fidelity --


def test_identical_sets_give_zero_errors(windows):
    report = fidelity_report(windows, windows, SFREQ)
    assert all(v == 0.0 for v in report["band_power_error"].values())
    for key in ("psd_distance", "covariance_distance", "acf_distance"):
        assert report[key] == 0.0
    assert abs(report["mmd"]) < 0.05
    assert report["diversity_ratio"] == 1.0
    assert report["n_real"] == report["n_other"] == 40


def test_scaled_set_gives_the_expected_band_power_error(windows):
    a = 1.5
    absolute = band_power_error(windows, a * windows, SFREQ, relative=False)
    for value in absolute.values():
        np.testing.assert_allclose(value, a**2 - 1, rtol=1e-9)
    relative = band_power_error(windows, a * windows, SFREQ)
    assert max(relative.values()) < 1e-9  # the spectral shape did not change
    np.testing.assert_allclose(covariance_distance(windows, a * windows, relative=True), a**2 - 1)
    np.testing.assert_allclose(psd_distance(windows, a * windows, SFREQ), a**2 - 1)
    assert acf_distance(windows, a * windows) < 1e-9


def test_a_frequency_shift_moves_power_between_bands():
    rng = np.random.default_rng(3)
    t = np.arange(512) / SFREQ
    phases = rng.uniform(0, 2 * np.pi, (30, 1))
    noise = 0.1 * rng.standard_normal((30, 512))
    alpha = np.sin(2 * np.pi * 10 * t + phases) + noise
    beta = np.sin(2 * np.pi * 20 * t + phases) + noise
    pa = band_powers(alpha, SFREQ)
    assert pa["alpha"] > 0.8 and pa["beta"] < 0.1
    err = band_power_error(alpha, beta, SFREQ)
    assert err["alpha"] > 0.8 and err["beta"] > 5
    assert acf_distance(alpha, beta) > 1.0
    # averaging the windows in time first (ArtifactGen's code) cancels random-phase activity
    time_avg = band_powers(alpha, SFREQ, relative=False, average="time")
    psd_avg = band_powers(alpha, SFREQ, relative=False)
    assert time_avg["alpha"] < 0.2 * psd_avg["alpha"]


def test_autocorrelation_of_white_noise_and_sine():
    rng = np.random.default_rng(4)
    acf = autocorrelation(rng.standard_normal((100, 1024)), max_lag=5)
    assert acf.shape == (1, 6) and acf[0, 0] == 1.0
    assert np.abs(acf[0, 1:]).max() < 0.02
    t = np.arange(1024)
    sine = np.sin(2 * np.pi * t / 32 + rng.uniform(0, 6, (20, 1)))
    acf = autocorrelation(sine, max_lag=16)
    assert acf[0, 16] < -0.9 and acf[0, 8] == pytest.approx(0.0, abs=0.02)


def test_mmd_grows_with_distribution_shift():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((60, 16))
    same = mmd_rbf(x, rng.standard_normal((60, 16)), bandwidth=4.0)
    shifts = [mmd_rbf(x, rng.standard_normal((60, 16)) + d, bandwidth=4.0) for d in (0.5, 1, 2)]
    assert abs(same) < 0.02 and same < shifts[0] < shifts[1] < shifts[2]
    # median heuristic: also separates a shifted set from one of the same distribution
    assert mmd_rbf(x, rng.standard_normal((60, 16)) + 1) > 5 * abs(mmd_rbf(x, x[::-1]))
    with pytest.raises(InvalidParameterError, match="at least 2"):
        mmd_rbf(x[:1], x)


def test_diversity_definitions(windows):
    copies = np.repeat(windows[:1], 10, axis=0)
    assert diversity(copies) == pytest.approx(0.0, abs=1e-12)
    assert diversity(windows) == pytest.approx(1.0, abs=0.02)
    assert diversity(copies, metric="euclidean") == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(
        diversity(2 * windows, metric="euclidean"), 2 * diversity(windows, metric="euclidean")
    )
    collapsed = fidelity_report(windows, copies + 0.01 * windows[:10], SFREQ)
    assert collapsed["diversity_ratio"] < 0.1


def test_fidelity_report_on_multichannel_windows():
    rng = np.random.default_rng(6)
    real = rng.standard_normal((30, 3, 256))
    mixing = np.array([[1, 0, 0], [0.8, 0.6, 0], [0, 0, 1.0]])
    other = np.einsum("cd,ndt->nct", mixing, rng.standard_normal((25, 3, 256)))
    report = fidelity_report(real, other, SFREQ, mmd_features="log_psd", max_windows=20)
    assert report["covariance_distance"] > 0.3  # the channel coupling differs
    assert report["n_other"] == 25 and set(report["band_power_error"]) == {
        "delta",
        "theta",
        "alpha",
        "beta",
        "gamma",
    }
    with pytest.raises(InvalidParameterError, match="share"):
        fidelity_report(real, other[:, :2], SFREQ)
    with pytest.raises(InvalidParameterError, match="mmd_features"):
        fidelity_report(real, other, SFREQ, mmd_features="fft")
