"""EEG artifact removal: benchmark data, mixing protocol and metrics (numpy / scipy / MNE only).

- :mod:`.eegdenoisenet`: :func:`load_eegdenoisenet`, :func:`mix`, :func:`make_splits` (the
  EEGdenoiseNet protocol) and the :class:`ArtifactEpochs` container.
- :mod:`.semisynthetic`: :func:`make_semisynthetic_benchmark`, the same structure built from the
  real recordings in ``shared/data``.
- :mod:`.metrics`: RRMSE (time, spectrum), correlation and :func:`denoising_report`.
- :mod:`.fidelity`: how close a (generated or denoised) set of windows is to a real one.

>>> import numpy as np
>>> from neurokit.artifacts import make_splits, denoising_report
>>> rng = np.random.default_rng(0)
>>> splits = make_splits(rng.standard_normal((60, 512)), rng.standard_normal((50, 512)), seed=0)
>>> test = splits["test"]
>>> report = denoising_report(test.clean, test.noisy, test.snr_db, sfreq=256)
>>> [row["snr_db"] for row in report["per_snr"]][:3]
[-7.0, -6.0, -5.0]
"""

from __future__ import annotations

from .eegdenoisenet import (
    TEST_SNR_DB,
    TRAIN_SNR_RANGE_DB,
    ArtifactEpochs,
    DatasetNotFoundError,
    Split,
    load_eegdenoisenet,
    make_splits,
    mix,
)
from .fidelity import (
    DEFAULT_BANDS,
    acf_distance,
    autocorrelation,
    band_power_error,
    band_powers,
    covariance_distance,
    diversity,
    fidelity_report,
    median_bandwidth,
    mmd_rbf,
    psd_distance,
)
from .metrics import (
    correlation_coefficient,
    denoising_report,
    psd,
    rrmse_spectral,
    rrmse_temporal,
)
from .semisynthetic import make_semisynthetic_benchmark

__all__ = [
    "ArtifactEpochs",
    "DatasetNotFoundError",
    "Split",
    "TEST_SNR_DB",
    "TRAIN_SNR_RANGE_DB",
    "load_eegdenoisenet",
    "mix",
    "make_splits",
    "make_semisynthetic_benchmark",
    "psd",
    "rrmse_temporal",
    "rrmse_spectral",
    "correlation_coefficient",
    "denoising_report",
    "DEFAULT_BANDS",
    "band_powers",
    "band_power_error",
    "psd_distance",
    "covariance_distance",
    "autocorrelation",
    "acf_distance",
    "mmd_rbf",
    "median_bandwidth",
    "diversity",
    "fidelity_report",
]
