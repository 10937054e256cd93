"""The deep SSVEP network of Guney, Oblokulov and Ozkan (IEEE TBME 2022) and its two-stage
classifier (torch).

Re-implemented after the authors' MATLAB code (github.com/osmanberke/Deep-SSVEP-BCI). Facts
taken from it, with the file that holds each:

- ``PreProcess.m``: a trial is cut to the analysis window first (after the 0.5 s cue and the
  visual latency, 0.14 s Benchmark / 0.13 s BETA; 0.4 s long by default, 250 Hz), then each
  channel goes through ``filtfilt`` (zero phase) with 3 band-pass filters, band ``m`` passing
  ``[8 m, 90]`` Hz, designed by ``designfilt('bandpassiir', 'FilterOrder', 2, 'PassBandRipple',
  1, 'DesignMethod', 'cheby1')``. MATLAB's order counts the whole band-pass filter: one
  second-order section per band, scipy's ``cheby1`` order 1 (``FilterBank.guney2022``).
- ``main.m``, layers over a ``[channels, samples, sub-bands]`` image, not normalised: (1) 1x1
  convolution merging the sub-bands, weights initialised to 1, bias zero and frozen
  (learning-rate factor 0; no bias here); (2) ``[n_chans x 1]`` convolution, 120 filters,
  dropout 0.1; (3) ``[1 x 2]`` convolution, stride ``[1 x 2]``, 120 filters, no padding,
  dropout 0.1, the only ReLU; (4) ``[1 x 10]`` convolution, 120 filters, "same" padding (the
  odd extra zero on the right, as in torch), dropout 0.95; (5) fully connected layer to the
  classes, softmax, cross-entropy. Other weights "narrow-normal", N(0, 0.01^2); biases zero.
- ``main.m``, stage 1 (global model on every subject's training blocks): Adam, learning rate
  1e-4 without decay, mini-batches of 100 reshuffled every epoch, L2 regularisation 1e-3, 1000
  epochs (Benchmark; 800 for BETA).
- ``main.m``, stage 2 (one model per subject, from the stage-1 weights): the first two dropouts
  become 0.6 (Benchmark; 0.7 for BETA), the last stays 0.95; Adam 1e-4, L2 1e-3, 1000 epochs,
  one mini-batch of all the subject's training trials (40 targets x 5 blocks).

The README's hyperparameters agree with ``main.m``; the BETA values are options
(``subject_drop_prob=0.7``, ``n_epochs_global=800``). Choices made here:

- Stride and temporal kernel (2 and 10 samples at 250 Hz in the reference) derive from
  ``sfreq``: ``downsample_s=0.008`` and ``temporal_kernel_s=0.04`` give 2 and 10 at 250 Hz.
- The zero-phase IIR filtering stays outside the network: the module takes the sub-band stack
  ``[b, n_bands, c, t]`` made by :func:`subband_stack` (:class:`GuneySSVEPClassifier` calls
  it). Edge padding is scipy's ``sosfiltfilt`` default, which may differ from MATLAB's
  ``filtfilt`` over the first and last few samples.
- MATLAB's L2 adds ``1e-3 / 2 * ||w||^2`` of the weights (not biases) to the loss of a plain
  Adam: the same term is added to the loss here, and the shared
  :class:`~neurokit.training.Trainer` runs with ``weight_decay=0`` at a constant rate.
- As in MATLAB, the last incomplete mini-batch of an epoch is dropped.
- The dropouts are :class:`neurokit.nn.dropout.Dropout`: ``torch.nn.Dropout`` with a cheaper
  CPU mask (16 random bits per element; the probability on a 2^-16 grid), which makes a CPU
  training step about 1.7x faster; elsewhere the same as torch's.
- Input scale: the network is not normalised and its weights start at N(0, 0.01^2), so it
  needs the signals in the reference's unit, microvolts (tens of uV); in volts (1e-5) every
  activation is swamped by the biases and nothing is learned. Arrays are taken in microvolts
  (``units="uV"``, the default) or in volts (``units="V"``: multiplied by 1e6, as the
  :class:`~neurokit.decoding.datasets.SSVEPData` loaders give them); ``mne.Epochs`` are always
  read in microvolts, as braindecode does.
- Learning rate: ``lr=1e-4`` is the reference's and the default. With far fewer epochs than
  the reference's 1000 (a CPU budget of tens of epochs is a few hundred Adam steps) the model
  stays near chance at that rate; a larger rate (e.g. 1e-3, used by ``neurokit ssvep
  evaluate --deep-lr``) is then a deliberate deviation from the reference.

>>> net = GuneySSVEPNet.from_preset("tiny", n_chans=8, n_outputs=4, n_times=100, sfreq=250.0)
>>> net(torch.zeros(2, 3, 8, 100)).shape
torch.Size([2, 4])
"""

from __future__ import annotations

import copy
import functools
import tempfile
from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..decoding.filterbank import FilterBank
from ..errors import InvalidParameterError
from ..nn.dropout import Dropout

__all__ = ["GuneySSVEPNet", "GuneySSVEPClassifier", "subband_stack"]

UNITS = {"uV": 1.0, "V": 1e6}  # unit of array inputs -> factor to microvolts


def subband_stack(X, sfreq: float, *, n_bands: int = 3) -> np.ndarray:
    """Sub-band inputs of :class:`GuneySSVEPNet`: ``X [n, c, t]`` through
    :meth:`FilterBank.guney2022` (zero phase), returned float32 ``[n, n_bands, c, t]``."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 3:
        raise InvalidParameterError(f"X has shape {X.shape}; need (n_trials, n_channels, n_times)")
    bands = FilterBank.guney2022(sfreq, n_bands).apply(X)
    return np.ascontiguousarray(np.moveaxis(bands, 0, 1), dtype=np.float32)


def _check_int(name, value, low=1, optional=False):
    if optional and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        extra = " or None" if optional else ""
        raise InvalidParameterError(f"{name}={value!r}; must be an integer >= {low}{extra}")
    return int(value)


def _check_positive(name, value, what="a positive number"):
    if isinstance(value, bool) or not isinstance(value, Real) or not value > 0:
        raise InvalidParameterError(f"{name}={value!r}; must be {what}")
    return float(value)


def _check_probability(name, value):
    if isinstance(value, bool) or not isinstance(value, Real) or not 0.0 <= value < 1.0:
        raise InvalidParameterError(f"{name}={value!r}; must be a dropout probability in [0, 1)")
    return float(value)


class GuneySSVEPNet(nn.Module):
    """Guney et al. (2022) SSVEP network over a stack of sub-band filtered signals.

    Parameters (keyword-only)
    ----------
    n_chans, n_outputs, n_times : int
        Channels, classes and window length in samples (``n_chans`` may come from
        ``chs_info``, ``n_times`` from ``input_window_seconds * sfreq``).
    sfreq : float
        Sampling rate in Hz (reference: 250); sets the stride and temporal kernel.
    chs_info, input_window_seconds : braindecode signal arguments (optional).
    n_bands, n_spatial : int
        Sub-bands of the input (3) and filters of every convolution (120).
    drop_prob_spatial, drop_prob_downsample, drop_prob_final : float
        The three dropouts (stage 1: 0.1, 0.1, 0.95); see :meth:`set_dropout`.
    downsample_s, temporal_kernel_s : float
        Stride (= kernel) of the down-sampling convolution and kernel of the temporal
        convolution, in seconds (0.008 s and 0.04 s: 2 and 10 samples at 250 Hz).

    Input: ``x [b, n_bands, n_chans, n_times]`` (:func:`subband_stack`), or the same flattened
    band-major to ``[b, n_bands * n_chans, n_times]``. Output: logits ``[b, n_outputs]``.
    :meth:`forward_features` gives ``[b, n_spatial * n_frames]``, ``n_frames = n_times //
    stride``; :meth:`forward_head` applies the last dropout and ``head``.
    """

    name = "guney_ssvep"
    presets = {"base": dict(n_spatial=120), "tiny": dict(n_spatial=8)}

    # fmt: off
    def __init__(
        self, *, n_chans: int | None = None, n_outputs: int | None = None,
        n_times: int | None = None, sfreq: float = 250.0, chs_info=None,
        input_window_seconds: float | None = None, n_bands: int = 3, n_spatial: int = 120,
        drop_prob_spatial: float = 0.1, drop_prob_downsample: float = 0.1,
        drop_prob_final: float = 0.95, downsample_s: float = 0.008,
        temporal_kernel_s: float = 0.04,
    ):
        # fmt: on
        super().__init__()
        _check_positive("sfreq", sfreq, "a positive sampling rate (Hz)")
        if n_chans is None and chs_info is not None:
            n_chans = len(chs_info)
        if n_times is None and input_window_seconds is not None:
            n_times = int(round(float(input_window_seconds) * float(sfreq)))
        for key, value in (("n_chans", n_chans), ("n_outputs", n_outputs), ("n_times", n_times)):
            if value is None:
                raise InvalidParameterError(
                    f"{key} is None; GuneySSVEPNet needs n_chans, n_outputs and n_times (or "
                    "chs_info / input_window_seconds) to size its layers"
                )
            _check_int(key, value)
        _check_int("n_bands", n_bands)
        _check_int("n_spatial", n_spatial)
        _check_positive("downsample_s", downsample_s, "a positive duration (s)")
        _check_positive("temporal_kernel_s", temporal_kernel_s, "a positive duration (s)")
        self.n_chans, self.n_outputs, self.n_times, self.sfreq = n_chans, n_outputs, n_times, sfreq
        self.chs_info, self.n_bands, self.n_spatial = chs_info, n_bands, n_spatial
        self.stride = max(1, int(round(downsample_s * sfreq)))
        self.kernel_size = max(1, int(round(temporal_kernel_s * sfreq)))
        self.n_frames = n_times // self.stride
        if self.n_frames < 1:
            raise InvalidParameterError(
                f"n_times={n_times} is shorter than the down-sampling stride ({self.stride} "
                f"samples at {sfreq:g} Hz); use longer windows"
            )
        self.config = dict(
            n_chans=n_chans, n_outputs=n_outputs, n_times=n_times, sfreq=float(sfreq),
            n_bands=n_bands, n_spatial=n_spatial, drop_prob_spatial=drop_prob_spatial,
            drop_prob_downsample=drop_prob_downsample, drop_prob_final=drop_prob_final,
            downsample_s=downsample_s, temporal_kernel_s=temporal_kernel_s,
        )  # fmt: skip
        d = n_spatial
        self.band_combine = nn.Conv2d(n_bands, 1, (1, 1), bias=False)
        self.spatial = nn.Conv2d(1, d, (n_chans, 1))
        self.drop_spatial = Dropout(0.0)
        self.downsample = nn.Conv2d(d, d, (1, self.stride), stride=(1, self.stride))
        self.drop_downsample = Dropout(0.0)
        self.relu = nn.ReLU()
        self._pad = ((self.kernel_size - 1) // 2, self.kernel_size // 2, 0, 0)  # "same"
        self.temporal = nn.Conv2d(d, d, (1, self.kernel_size))
        self.drop_final = Dropout(0.0)
        self.head = nn.Linear(d * self.n_frames, n_outputs)
        self.set_dropout(
            spatial=drop_prob_spatial, downsample=drop_prob_downsample, final=drop_prob_final
        )
        self.reset_parameters()

    @classmethod
    def from_preset(cls, preset: str = "tiny", **overrides) -> GuneySSVEPNet:
        """``base`` is the reference width (120 filters); ``tiny`` (8) is for tests and demos."""
        if preset not in cls.presets:
            raise InvalidParameterError(
                f"{cls.__name__}: unknown preset {preset!r}; available: {sorted(cls.presets)}"
            )
        return cls(**{**cls.presets[preset], **overrides})

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Sub-band weights to 1; other weights from N(0, 0.01^2); biases to 0."""
        self.band_combine.weight.fill_(1.0)
        for layer in (self.spatial, self.downsample, self.temporal, self.head):
            nn.init.normal_(layer.weight, 0.0, 0.01, generator=generator)
            nn.init.zeros_(layer.bias)

    def set_dropout(self, *, spatial=None, downsample=None, final=None) -> None:
        """Change dropout probabilities (None keeps one); stage 2 sets the first two to 0.6.
        The stored config follows, so a saved model keeps them."""
        for key, value, module in (
            ("spatial", spatial, self.drop_spatial),
            ("downsample", downsample, self.drop_downsample),
            ("final", final, self.drop_final),
        ):
            if value is not None:
                module.p = _check_probability(f"drop_prob_{key}", value)
                self.config[f"drop_prob_{key}"] = module.p

    # ------------------------------------------------------------------ network
    def _check(self, x: torch.Tensor) -> torch.Tensor:
        nb, c, t = self.n_bands, self.n_chans, self.n_times
        if x.ndim == 3 and x.shape[1] == nb * c:
            x = x.reshape(x.shape[0], nb, c, x.shape[-1])
        if x.ndim != 4 or tuple(x.shape[1:]) != (nb, c, t):
            raise InvalidParameterError(
                f"input has shape {tuple(x.shape)}; GuneySSVEPNet expects [batch, {nb} sub-bands, "
                f"{c} channels, {t} samples] (or [batch, {nb * c}, {t}] band-major); filter the "
                "windows with neurokit.models.ssvep.subband_stack"
            )
        return x

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Features ``[b, n_spatial * n_frames]`` (before the last dropout)."""
        x = self.spatial(self.band_combine(self._check(x)))  # [b, d, 1, t]
        x = self.relu(self.drop_downsample(self.downsample(self.drop_spatial(x))))  # [b, d, 1, n]
        return self.temporal(F.pad(x, self._pad)).flatten(1)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop_final(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``[b, n_outputs]``."""
        return self.forward_head(self.forward_features(x))

    # ------------------------------------------------------------------ persistence
    def get_config(self) -> dict:
        from ..training.checkpoint import make_config

        return make_config("model", self.name, self.config, sfreq=self.sfreq, n_times=self.n_times)

    def save_pretrained(self, path, meta=None):
        from ..training.checkpoint import save_pretrained

        return save_pretrained(self, path, self.get_config(), meta=meta)

    @classmethod
    def from_pretrained(cls, path) -> GuneySSVEPNet:
        from ..training.checkpoint import from_pretrained

        return from_pretrained(path, {cls.name: cls})


class _Trials(torch.utils.data.Dataset):
    """Sub-band trials ``{"x": [n_bands, c, t], "y": int64}`` for the training loop."""

    def __init__(self, X: np.ndarray, y: np.ndarray):
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i):
        return {"x": self.X[i], "y": self.y[i]}


class _CrossEntropyL2:
    """Loss of the reference: cross-entropy plus ``l2 / 2 * sum ||weight||^2`` (biases free)."""

    def __init__(self, l2: float):
        self.l2 = float(l2)

    def __call__(self, model, batch) -> dict:
        logits = model(batch["x"])
        ce = F.cross_entropy(logits, batch["y"])
        loss = ce
        if self.l2:
            weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
            loss = ce + 0.5 * self.l2 * sum(w.pow(2).sum() for w in weights)
        accuracy = (logits.argmax(1) == batch["y"]).float().mean()
        return {"loss": loss, "cross_entropy": ce.detach(), "accuracy": accuracy}


def _key(value):
    return value.item() if hasattr(value, "item") else value


class GuneySSVEPClassifier(ClassifierMixin, BaseEstimator):
    """Two-stage training of :class:`GuneySSVEPNet` behind the scikit-learn API.

    ``fit`` filters the windows (:func:`subband_stack`), trains a global model on every trial
    (stage 1) and, when ``groups`` (subject ids) are given, fine-tunes a copy per subject on
    its trials with the first two dropouts at ``subject_drop_prob`` (stage 2), both through the
    shared :class:`~neurokit.training.Trainer`. ``predict(X, groups)`` uses a subject's model
    when the subject was seen in ``fit``, the global model otherwise. Defaults: the reference's
    Benchmark settings.

    Parameters (keyword-only)
    ----------
    sfreq : float | None
        Sampling rate (Hz) of array inputs; read from ``info`` for ``mne.Epochs``.
    units : {"uV", "V"}
        Unit of array inputs: microvolts (the reference's data, used as given) or volts
        (multiplied by 1e6). The network needs microvolts; ``mne.Epochs`` are read in uV.
    n_bands, n_spatial : int
        Sub-bands (3) and convolution filters (120).
    drop_prob_spatial, drop_prob_downsample, drop_prob_final : float
        Stage-1 dropouts (0.1, 0.1, 0.95).
    subject_drop_prob : float
        Stage-2 value of the first two dropouts (0.6 Benchmark, 0.7 BETA).
    n_epochs_global, n_epochs_subject : int
        Epochs of stage 1 (1000; 800 for BETA) and stage 2 (1000; 0 skips stage 2).
    lr : float
        Adam learning rate (1e-4, constant: the reference's, meant for its 1000 + 1000 epochs).
        Short budgets (tens of epochs) need a larger rate, e.g. 1e-3: a deviation from the
        reference, see the module docstring.
    batch_size, batch_size_subject : int, int | None
        Mini-batch of stage 1 (100) and stage 2 (None: all the subject's trials).
    weight_decay : float
        L2 factor on the weights (1e-3), added to the loss as in MATLAB.
    device : {"auto", "cpu", "cuda"}
    random_state : int | None
        Seeds the initial weights and the loop (results repeat exactly on CPU).
    verbose : bool
        Show progress bars.

    Attributes: ``classes_``, ``global_model_``, ``subject_models_`` (subject id ->
    :class:`GuneySSVEPNet`), ``sfreq_``, ``n_chans_``, ``n_times_``, ``history_`` (the loop's
    records, one per epoch: ``{"global": [...], "subjects": {id: [...]}}``).
    """

    # fmt: off
    def __init__(
        self, *, sfreq: float | None = None, units: str = "uV", n_bands: int = 3,
        n_spatial: int = 120, drop_prob_spatial: float = 0.1, drop_prob_downsample: float = 0.1,
        drop_prob_final: float = 0.95, subject_drop_prob: float = 0.6,
        n_epochs_global: int = 1000, n_epochs_subject: int = 1000, lr: float = 1e-4,
        batch_size: int = 100, batch_size_subject: int | None = None,
        weight_decay: float = 1e-3, device: str = "auto", random_state: int | None = None,
        verbose: bool = False,
    ):
        # fmt: on
        self.sfreq, self.units, self.n_bands, self.n_spatial = sfreq, units, n_bands, n_spatial
        self.drop_prob_spatial = drop_prob_spatial
        self.drop_prob_downsample = drop_prob_downsample
        self.drop_prob_final = drop_prob_final
        self.subject_drop_prob = subject_drop_prob
        self.n_epochs_global, self.n_epochs_subject = n_epochs_global, n_epochs_subject
        self.lr, self.batch_size, self.batch_size_subject = lr, batch_size, batch_size_subject
        self.weight_decay, self.device = weight_decay, device
        self.random_state, self.verbose = random_state, verbose

    def _signals(self, X) -> tuple[np.ndarray, float]:
        """``(array [n, c, t] in uV, sfreq)`` from an array or ``mne.Epochs``."""
        if hasattr(X, "get_data") and hasattr(X, "info"):
            data, sfreq = X.get_data(units="uV"), float(X.info["sfreq"])
            if self.sfreq is not None and not np.isclose(float(self.sfreq), sfreq):
                raise InvalidParameterError(
                    f"sfreq={self.sfreq} Hz but the epochs are sampled at {sfreq:g} Hz; "
                    "resample the epochs or leave sfreq=None"
                )
        elif self.sfreq is None:
            raise InvalidParameterError(
                "sfreq is None and X is an array; pass GuneySSVEPClassifier(sfreq=...) or "
                "give mne.Epochs"
            )
        else:
            if self.units not in UNITS:
                raise InvalidParameterError(
                    f"units={self.units!r}; must be one of {', '.join(map(repr, UNITS))} (the "
                    "unit of array inputs)"
                )
            data = np.asarray(X, dtype=float) * UNITS[self.units]
            sfreq = _check_positive("sfreq", self.sfreq, "a positive sampling rate (Hz)")
        if data.ndim != 3 or min(data.shape) < 1:
            raise InvalidParameterError(
                f"X has shape {data.shape}; need (n_trials, n_channels, n_times)"
            )
        return data, sfreq

    @staticmethod
    def _groups(groups, n):
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != (n,):
                raise InvalidParameterError(
                    f"groups has shape {groups.shape}; need one subject id per trial ({n})"
                )
        return groups

    def _train(self, net, X, y, *, n_epochs, batch_size, seed) -> list:
        """``n_epochs`` epochs of the shared training loop; returns its logged records."""
        from ..training import TrainConfig, Trainer
        from ..training.sampling import ShuffledBatchSampler

        batch = min(int(batch_size), len(y))
        steps_per_epoch = len(y) // batch  # the last incomplete batch is dropped, as in MATLAB
        if n_epochs == 0:
            return []
        with tempfile.TemporaryDirectory(prefix="guney-ssvep-") as tmp:
            config = TrainConfig(
                out_dir=tmp, lr=float(self.lr), weight_decay=0.0, min_lr_ratio=1.0,
                max_steps=int(n_epochs) * steps_per_epoch, grad_clip=None, batch_size=batch,
                log_every=steps_per_epoch, checkpoint_every=0, keep_checkpoints=1,
                seed=int(seed), device=self.device, progress=bool(self.verbose),
                tensorboard=False, resume=False,
            )  # fmt: skip
            sampler = functools.partial(ShuffledBatchSampler, drop_last=True)
            loss_fn = _CrossEntropyL2(self.weight_decay)
            trainer = Trainer(
                net, _Trials(X, y), config=config, loss_fn=loss_fn, sampler_factory=sampler
            )
            return trainer.fit()

    def fit(self, X, y, groups=None) -> GuneySSVEPClassifier:
        """Stage 1 on all trials, then stage 2 per subject when ``groups`` is given.

        Parameters
        ----------
        X : ndarray (n_trials, n_channels, n_times) | mne.Epochs
            Windows cut to the analysis interval (arrays in ``units``: microvolts by default).
        y : array-like (n_trials,)
        groups : array-like (n_trials,) | None
            Subject id of each trial.
        """
        from ..training.state import capture_rng, restore_rng

        data, sfreq = self._signals(X)
        y = np.asarray(y)
        if y.shape != (len(data),):
            raise InvalidParameterError(f"y has shape {y.shape}; need one label per trial")
        groups = self._groups(groups, len(data))
        _check_int("batch_size", self.batch_size)
        lr = _check_positive("lr", self.lr, "a positive, finite learning rate")
        if not np.isfinite(lr):
            raise InvalidParameterError(f"lr={self.lr!r}; must be a positive, finite learning rate")
        _check_int("batch_size_subject", self.batch_size_subject, optional=True)
        _check_int("n_epochs_global", self.n_epochs_global, low=0)
        _check_int("n_epochs_subject", self.n_epochs_subject, low=0)
        p_subject = _check_probability("subject_drop_prob", self.subject_drop_prob)
        self.classes_, labels = np.unique(y, return_inverse=True)
        self.sfreq_, self.n_chans_, self.n_times_ = sfreq, data.shape[1], data.shape[2]
        stack = subband_stack(data, sfreq, n_bands=self.n_bands)
        seed = int(np.random.RandomState(self.random_state).randint(0, 2**31 - 1))
        saved = capture_rng()  # the loop seeds the global generators: leave them as found
        try:
            torch.manual_seed(seed)
            net = GuneySSVEPNet(
                n_chans=self.n_chans_, n_outputs=len(self.classes_), n_times=self.n_times_,
                sfreq=sfreq, n_bands=self.n_bands, n_spatial=self.n_spatial,
                drop_prob_spatial=self.drop_prob_spatial,
                drop_prob_downsample=self.drop_prob_downsample,
                drop_prob_final=self.drop_prob_final,
            )  # fmt: skip
            run = self._train(
                net, stack, labels, n_epochs=self.n_epochs_global, batch_size=self.batch_size,
                seed=seed,
            )  # fmt: skip
            self.history_ = {"global": run, "subjects": {}}
            self.global_model_, self.subject_models_ = net, {}
            subjects = np.unique(groups) if groups is not None and self.n_epochs_subject else []
            for k, subject in enumerate(subjects):
                mask = groups == subject
                local = copy.deepcopy(net)
                local.set_dropout(spatial=p_subject, downsample=p_subject)
                self.history_["subjects"][_key(subject)] = self._train(
                    local, stack[mask], labels[mask], n_epochs=self.n_epochs_subject,
                    batch_size=self.batch_size_subject or int(mask.sum()), seed=seed + 1 + k,
                )  # fmt: skip
                self.subject_models_[_key(subject)] = local.eval()
        finally:
            restore_rng(saved)
        self.global_model_.eval()
        return self

    @staticmethod
    @torch.no_grad()
    def _proba(model, stack, chunk=512) -> np.ndarray:
        model.eval()
        device = next(model.parameters()).device
        out = [
            torch.softmax(model(torch.from_numpy(stack[i : i + chunk]).to(device)), dim=1)
            for i in range(0, len(stack), chunk)
        ]
        return torch.cat(out).double().cpu().numpy()

    def predict_proba(self, X, groups=None) -> np.ndarray:
        """Class probabilities ``(n_trials, n_classes)``, by subject model where known."""
        check_is_fitted(self, "global_model_")
        data, sfreq = self._signals(X)
        if not np.isclose(sfreq, self.sfreq_) or data.shape[1:] != (self.n_chans_, self.n_times_):
            raise InvalidParameterError(
                f"X has {data.shape[1]} channels x {data.shape[2]} samples at {sfreq:g} Hz; "
                f"the model was fitted on {self.n_chans_} x {self.n_times_} at "
                f"{self.sfreq_:g} Hz; give windows of that shape and rate"
            )
        groups = self._groups(groups, len(data))
        stack = subband_stack(data, sfreq, n_bands=self.n_bands)
        if groups is None:
            return self._proba(self.global_model_, stack)
        proba = np.empty((len(stack), len(self.classes_)))
        for subject in np.unique(groups):
            mask = groups == subject
            model = self.subject_models_.get(_key(subject), self.global_model_)
            proba[mask] = self._proba(model, stack[mask])
        return proba

    def predict(self, X, groups=None) -> np.ndarray:
        """Predicted labels ``(n_trials,)``."""
        return self.classes_[self.predict_proba(X, groups).argmax(axis=1)]
