"""scikit-learn SSVEP classifiers and BCI metrics (numpy, scipy, scikit-learn, pyriemann; no torch).

Classifiers take trials ``(n_trials, n_channels, n_times)`` or :class:`mne.Epochs`:

- training-free: :class:`CCA`, :class:`FBCCA` (with an optional no-control / rest threshold);
- trained on individual templates: :class:`ExtendedCCA`, :class:`MsetCCA`, :class:`TRCA`,
  :class:`ETRCA`, :class:`TDCA`;
- Riemannian: :class:`SSVEPRiemann`.

Metrics: :func:`itr`, :func:`itr_per_block`, :func:`accuracy`, :func:`confusion_matrix`.
Data: :func:`load_kalunga2016`, :func:`load_tsinghua_benchmark`, :func:`load_beta`, and the
semi-synthetic :func:`make_phase_locked_benchmark`. Protocols: :func:`evaluate`. Online use:
:class:`StreamingDecoder`.

Nothing here imports torch, with one exception outside neurokit's control: pyriemann (used by
:class:`SSVEPRiemann`) tries ``import torch`` when it is first imported, so fitting
:class:`SSVEPRiemann` loads torch into the process when it is installed.
Submodules load on first attribute access, so importing this package is cheap.

>>> from neurokit.decoding import FBCCA
>>> FBCCA([13.0, 17.0, 21.0], sfreq=256.0)
FBCCA(freqs=[13.0, 17.0, 21.0], sfreq=256.0)
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "CCA": "cca",
    "FBCCA": "cca",
    "ExtendedCCA": "cca",
    "MsetCCA": "cca",
    "TRCA": "trca",
    "ETRCA": "trca",
    "TDCA": "trca",
    "SSVEPRiemann": "riemann",
    "sine_cosine_reference": "_base",
    "FilterBank": "filterbank",
    "filter_bank_weights": "filterbank",
    "itr": "metrics",
    "itr_per_block": "metrics",
    "accuracy": "metrics",
    "confusion_matrix": "metrics",
    "SSVEPData": "datasets",
    "load_kalunga2016": "datasets",
    "load_tsinghua_benchmark": "datasets",
    "load_beta": "datasets",
    "background_from_shared": "phase_locked",
    "make_phase_locked_benchmark": "phase_locked",
    "StreamingDecoder": "online",
    "Decision": "online",
    "evaluate": "evaluation",
    "protocol_splits": "evaluation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
