"""Single-channel EEG denoisers: the EEGdenoiseNet networks and the shared denoiser contract.

The contract every denoiser of :data:`DENOISERS` follows (so that benchmarks, the training loop
and a recording-level wrapper can treat them alike):

- **Input**: standardized single-channel windows ``x`` float32 ``[b, t]`` (``[b, 1, t]`` is
  accepted too) of ``n_times`` samples at ``sfreq`` Hz. EEGdenoiseNet divides each noisy
  window, and its clean target, by the standard deviation of the noisy window; a wrapper
  multiplies the output back by that factor. Multichannel data go in as ``[b * c, t]``.
  Models marked ``fixed_length = True`` (those ending in a dense layer over the whole window)
  accept exactly ``n_times`` samples; the others accept any length they can tile.
- **Output**: ``model(x)`` returns the denoised window with the input's shape.
- **Training**: ``model(batch)`` with a mapping ``{"noisy": [b, t], "clean": [b, t]}`` returns
  :meth:`BaseDenoiser.training_loss`: a dict with a scalar ``"loss"`` (the mean over the batch)
  and scalar metrics ``"mse"``, ``"rrmse_t"`` (relative RMS error in time) and ``"cc"``
  (Pearson correlation), which is what :class:`neurokit.training.Trainer` needs.
- **Description**: keyword-only hyperparameters, stored unchanged in ``model.config``; a
  registry ``name`` class attribute; :meth:`~BaseDenoiser.get_config` writes ``sfreq`` and
  ``n_times`` as the input contract of the checkpoint; ``presets`` with a ``"tiny"`` entry;
  ``save_pretrained`` / ``from_pretrained`` through :mod:`neurokit.training.checkpoint`.

EEGdenoiseNet networks (Zhang et al., 2021, "EEGdenoiseNet: a benchmark dataset for deep
learning solutions of EEG denoising", J. Neural Eng.; reference code
github.com/ncclabsustech/EEGdenoiseNet, TensorFlow), re-implemented in torch from the facts of
the reference code (``benchmark_networks/Network_structure.py`` and ``Novel_CNN/Novel_CNN.py``):

- :class:`FCNN`: three dense layers of ``n_times`` units, ReLU, dropout 0.3, then a dense
  output of ``n_times``.
- :class:`SimpleCNN`: four convolutions (64 filters, kernel 3, "same"), batch norm, ReLU,
  flattened into a dense output (the reference leaves its dropout commented out).
- :class:`ComplexCNN` (1D-ResCNN): a convolution (32, kernel 5), three parallel branches
  (kernels 3, 5, 7) of two residual blocks each (convolutions 32 -> 16 -> 32 with batch norm
  and ReLU, identity shortcut), concatenated, a 1x1 convolution to 32, a dense output.
- :class:`RNNLSTM`: an LSTM with one unit over the samples, flattened, two dense layers of
  ``n_times`` (ReLU, dropout 0.3) and a dense output.
- :class:`NovelCNN` (Zhang et al., 2021, "A novel convolutional neural network model to remove
  muscle artifacts from EEG", ICASSP): seven stages of two convolutions (kernel 3, ReLU,
  He-normal) with 32, 64, ..., 2048 filters, average pooling by 2 between stages, dropout 0.5
  after stages 4 to 7, flattened into a dense output. An earlier version of the reference
  used max pooling and no dropout: ``pool="max", dropout=0.0``.

Reference training (``reference_training``): MSE loss, RMSprop (lr 5e-5, rho 0.9), batch size
40, 50 epochs, best validation MSE kept in the last 20 % of epochs; EOG windows are 512
samples at 256 Hz, EMG windows 1024 samples at 512 Hz. Differences: batch norm uses torch's
defaults (Keras: momentum 0.99, eps 1e-3); flattening is channel-major (Keras: time-major),
which only permutes the dense weights; :class:`~neurokit.training.Trainer` uses AdamW.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ..errors import InvalidParameterError
from ..nn import pearson_loss
from ..nn.dropout import Dropout

__all__ = [
    "BaseDenoiser",
    "FCNN",
    "SimpleCNN",
    "ComplexCNN",
    "RNNLSTM",
    "NovelCNN",
    "DENOISERS",  # noqa: F822 (built on first access by __getattr__)
    "window_metrics",
    "count_parameters",
]

#: facts of the EEGdenoiseNet reference training (main.py, train_method.py)
REFERENCE_TRAINING = dict(
    loss="mse", optimizer="rmsprop", lr=5e-5, rho=0.9, batch_size=40, epochs=50
)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def window_metrics(pred: torch.Tensor, clean: torch.Tensor, eps: float = 1e-8) -> dict:
    """Mean ``mse``, ``rrmse_t`` (RMS error over RMS of the clean window) and ``cc`` (Pearson
    correlation) of ``pred`` against ``clean``, both ``[b, t]``; scalar tensors with grad."""
    err = pred - clean
    mse = err.square().mean()
    rrmse = (err.square().mean(-1).sqrt() / clean.square().mean(-1).add(eps).sqrt()).mean()
    cc = 1.0 - pearson_loss(pred, clean)
    return {"mse": mse, "rrmse_t": rrmse, "cc": cc}


def _positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidParameterError(f"{name}={value!r}; must be an integer >= {minimum}")


class BaseDenoiser(nn.Module):
    """Base of the single-channel denoisers (see the module docstring for the contract).

    Subclasses call ``self._set_config(locals())`` first in ``__init__``, build their layers and
    implement :meth:`denoise` on ``[b, t]`` windows.
    """

    name = "base"
    fixed_length = True
    presets: dict = {"tiny": {}}
    reference_training = REFERENCE_TRAINING

    def _set_config(self, params: dict) -> None:
        """Check the contract's arguments and store all of them (``locals()`` of __init__)."""
        config = {k: v for k, v in params.items() if k not in ("self", "__class__")}
        n_times, sfreq = config["n_times"], config["sfreq"]
        _positive_int("n_times", n_times, 2)
        if isinstance(sfreq, bool) or not isinstance(sfreq, (int, float)) or not sfreq > 0:
            raise InvalidParameterError(f"sfreq={sfreq!r}; must be a positive number (Hz)")
        cc = config.get("cc_weight", 0.0)
        if not isinstance(cc, (int, float)) or cc < 0:
            raise InvalidParameterError(f"cc_weight={cc!r}; must be a number >= 0")
        self.config = dict(config)
        self.n_times, self.sfreq = n_times, float(sfreq)
        self.cc_weight = float(cc)

    @classmethod
    def from_preset(cls, preset: str = "tiny", **overrides):
        """Build from a named preset (``"tiny"`` for tests and demos), with overrides."""
        if preset not in cls.presets:
            raise InvalidParameterError(
                f"{cls.__name__}: unknown preset {preset!r}; available: {sorted(cls.presets)}"
            )
        return cls(**{**cls.presets[preset], **overrides})

    # ------------------------------------------------------------------ inputs
    def _windows(self, x) -> torch.Tensor:
        """``x`` as float ``[b, t]`` after the contract's checks."""
        if not isinstance(x, torch.Tensor):
            raise InvalidParameterError(
                f"{type(self).__name__} takes a tensor [batch, n_times] or a batch mapping; "
                f"got a {type(x).__name__}"
            )
        if x.ndim == 3 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 2:
            raise InvalidParameterError(
                f"{type(self).__name__} takes single-channel windows [batch, n_times] or "
                f"[batch, 1, n_times]; got shape {tuple(x.shape)}. Reshape multichannel "
                "windows [b, c, t] to [b * c, t]."
            )
        if self.fixed_length and x.shape[-1] != self.n_times:
            raise InvalidParameterError(
                f"{type(self).__name__} was built for n_times={self.n_times} samples "
                f"({self.n_times / self.sfreq:g} s at {self.sfreq:g} Hz); got {x.shape[-1]}. "
                f"Cut windows of {self.n_times} samples or build the model with "
                f"n_times={x.shape[-1]}."
            )
        if not x.is_floating_point():
            x = x.float()
        return x

    def _pair(self, batch: Mapping) -> tuple[torch.Tensor, torch.Tensor]:
        if "noisy" not in batch or "clean" not in batch:
            raise InvalidParameterError(
                f"a training batch needs 'noisy' and 'clean' tensors [b, t]; got keys "
                f"{sorted(batch)}"
            )
        noisy, clean = self._windows(batch["noisy"]), self._windows(batch["clean"])
        if noisy.shape != clean.shape:
            raise InvalidParameterError(
                f"batch['noisy'] {tuple(noisy.shape)} and batch['clean'] "
                f"{tuple(clean.shape)} must have the same shape"
            )
        return noisy, clean.to(noisy.dtype)

    # ------------------------------------------------------------------ network
    def denoise(self, x: torch.Tensor) -> torch.Tensor:
        """Map checked windows ``[b, t]`` to denoised windows ``[b, t]``."""
        raise NotImplementedError

    def forward(self, x):
        """Denoise ``x`` ``[b, t]`` (or ``[b, 1, t]``; same shape out), or, given a batch
        mapping with ``"noisy"`` and ``"clean"``, return :meth:`training_loss`."""
        if isinstance(x, Mapping):
            return self.training_loss(x)
        shape = x.shape if isinstance(x, torch.Tensor) else None
        return self.denoise(self._windows(x)).reshape(shape)

    def training_loss(self, batch: Mapping) -> dict:
        """``{"loss", "mse", "rrmse_t", "cc"}``: loss = MSE + ``cc_weight`` * (1 - CC)."""
        noisy, clean = self._pair(batch)
        metrics = window_metrics(self.denoise(noisy), clean)
        loss = metrics["mse"] + self.cc_weight * (1.0 - metrics["cc"])
        return {"loss": loss, **metrics}

    def n_parameters(self) -> int:
        """Trainable parameters used at inference."""
        return count_parameters(self)

    # ------------------------------------------------------------------ persistence
    def get_config(self) -> dict:
        from ..training.checkpoint import make_config

        return make_config(
            "model", self.name, self.config, sfreq=self.sfreq, n_times=self.n_times,
            channel_types=["eeg"], task="denoise",
        )  # fmt: skip

    def save_pretrained(self, path, meta=None):
        from ..training.checkpoint import save_pretrained

        return save_pretrained(self, path, self.get_config(), meta=meta)

    @classmethod
    def from_pretrained(cls, path):
        """Rebuild a denoiser saved by :meth:`save_pretrained` (any class of
        :data:`DENOISERS` when called on the base class)."""
        from ..training.checkpoint import from_pretrained

        model = from_pretrained(path, _registry())
        if not isinstance(model, cls):
            raise InvalidParameterError(
                f"{path} holds a {type(model).__name__}, not a {cls.__name__}; load it with "
                f"{type(model).__name__}.from_pretrained or BaseDenoiser.from_pretrained"
            )
        return model


def _conv_bn_relu(c_in, c_out, kernel_size):
    return [
        nn.Conv1d(c_in, c_out, kernel_size, padding=kernel_size // 2),
        nn.BatchNorm1d(c_out),
        nn.ReLU(),
    ]


def _dense_stack(n_in, width, n_layers, dropout):
    layers = []
    for _ in range(n_layers):
        layers += [nn.Linear(n_in, width), nn.ReLU(), Dropout(dropout)]
        n_in = width
    return nn.Sequential(*layers), n_in


class FCNN(BaseDenoiser):
    """Fully connected denoiser of EEGdenoiseNet.

    Parameters (keyword-only)
    ----------
    n_times, sfreq : int, float
        Window length in samples and sampling rate (reference: 512 at 256 Hz).
    hidden : int | None
        Width of the hidden layers (default ``n_times``, as the reference).
    n_hidden : int
        Hidden layers (3).
    dropout : float
        Dropout after each hidden layer (0.3).
    cc_weight : float
        Weight of ``1 - CC`` added to the MSE loss (0: the reference's MSE).

    Examples
    --------
    >>> FCNN(n_times=64, sfreq=32.0)(torch.randn(2, 64)).shape
    torch.Size([2, 64])
    """

    name = "fcnn"
    presets = {"base": {}, "tiny": dict(n_times=128, sfreq=64.0)}

    def __init__(self, *, n_times=512, sfreq=256.0, hidden=None, n_hidden=3, dropout=0.3,
                 cc_weight=0.0):  # fmt: skip
        super().__init__()
        self._set_config(locals())
        _positive_int("n_hidden", n_hidden, 0)
        self.body, width = _dense_stack(n_times, hidden or n_times, n_hidden, dropout)
        self.head = nn.Linear(width, n_times)

    def denoise(self, x):
        return self.head(self.body(x))


class SimpleCNN(BaseDenoiser):
    """Simple convolutional denoiser of EEGdenoiseNet.

    Parameters (keyword-only)
    ----------
    n_times, sfreq : int, float
    n_filters, kernel_size, depth : int
        Filters (64), kernel (3) and number (4) of the convolution/batch-norm/ReLU layers.
    dropout : float
        Dropout after each layer (0: the reference comments its 0.3 out).
    cc_weight : float
    """

    name = "simple_cnn"
    presets = {"base": {}, "tiny": dict(n_times=128, sfreq=64.0, n_filters=8)}

    def __init__(self, *, n_times=512, sfreq=256.0, n_filters=64, kernel_size=3, depth=4,
                 dropout=0.0, cc_weight=0.0):  # fmt: skip
        super().__init__()
        self._set_config(locals())
        _positive_int("depth", depth)
        layers, c_in = [], 1
        for _ in range(depth):
            layers += _conv_bn_relu(c_in, n_filters, kernel_size)
            if dropout:
                layers.append(Dropout(dropout))
            c_in = n_filters
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(n_filters * n_times, n_times)

    def denoise(self, x):
        return self.head(self.body(x[:, None]).flatten(1))


class _ResBlock(nn.Module):
    """Three convolutions ``width -> bottleneck -> width`` with batch norm and ReLU, plus the
    identity (EEGdenoiseNet's ``Res_BasicBlock``)."""

    def __init__(self, width, bottleneck, kernel_size):
        super().__init__()
        self.body = nn.Sequential(
            *_conv_bn_relu(width, width, kernel_size),
            *_conv_bn_relu(width, bottleneck, kernel_size),
            *_conv_bn_relu(bottleneck, width, kernel_size),
        )

    def forward(self, x):
        return self.body(x) + x


class ComplexCNN(BaseDenoiser):
    """Complex convolutional denoiser of EEGdenoiseNet (1D-ResCNN).

    Parameters (keyword-only)
    ----------
    n_times, sfreq : int, float
    width, bottleneck : int
        Channels of the residual branches (32) and of their middle convolution (16).
    kernel_sizes : sequence of int
        One branch per kernel (3, 5, 7); the stem uses kernel 5.
    n_res_blocks : int
        Residual blocks per branch (2).
    cc_weight : float
    """

    name = "complex_cnn"
    presets = {"base": {}, "tiny": dict(n_times=128, sfreq=64.0, width=8, bottleneck=4)}

    def __init__(self, *, n_times=512, sfreq=256.0, width=32, bottleneck=16,
                 kernel_sizes=(3, 5, 7), n_res_blocks=2, cc_weight=0.0):  # fmt: skip
        super().__init__()
        self._set_config(locals())
        kernels = [int(k) for k in kernel_sizes]
        if not kernels or min(kernels) < 1 or any(k % 2 == 0 for k in kernels):
            raise InvalidParameterError(f"kernel_sizes={kernel_sizes!r}; need odd kernels >= 1")
        _positive_int("n_res_blocks", n_res_blocks)
        self.stem = nn.Sequential(*_conv_bn_relu(1, width, 5))
        self.branches = nn.ModuleList(
            nn.Sequential(*(_ResBlock(width, bottleneck, k) for _ in range(n_res_blocks)))
            for k in kernels
        )
        self.merge = nn.Sequential(*_conv_bn_relu(width * len(kernels), width, 1))
        self.head = nn.Linear(width * n_times, n_times)

    def denoise(self, x):
        z = self.stem(x[:, None])
        z = self.merge(torch.cat([branch(z) for branch in self.branches], dim=1))
        return self.head(z.flatten(1))


class RNNLSTM(BaseDenoiser):
    """Recurrent denoiser of EEGdenoiseNet: an LSTM over the samples, then dense layers.

    Parameters (keyword-only)
    ----------
    n_times, sfreq : int, float
    hidden_size : int
        LSTM units (1, as the reference: the LSTM outputs one value per sample).
    n_hidden : int
        Dense hidden layers of ``n_times`` units after the LSTM (2).
    dropout : float
        Dropout after each dense hidden layer (0.3).
    cc_weight : float
    """

    name = "rnn_lstm"
    presets = {"base": {}, "tiny": dict(n_times=128, sfreq=64.0)}

    def __init__(self, *, n_times=512, sfreq=256.0, hidden_size=1, n_hidden=2, dropout=0.3,
                 cc_weight=0.0):  # fmt: skip
        super().__init__()
        self._set_config(locals())
        _positive_int("hidden_size", hidden_size)
        _positive_int("n_hidden", n_hidden, 0)
        self.lstm = nn.LSTM(1, hidden_size, batch_first=True)
        self.body, width = _dense_stack(n_times * hidden_size, n_times, n_hidden, dropout)
        self.head = nn.Linear(width, n_times)

    def denoise(self, x):
        seq, _ = self.lstm(x[:, :, None])
        return self.head(self.body(seq.flatten(1)))


class NovelCNN(BaseDenoiser):
    """Novel CNN for muscle artifacts (Zhang et al., 2021), as in EEGdenoiseNet's reference.

    ``n_times`` must be a multiple of ``2 ** (n_stages - 1)`` (64 by default); the reference
    runs it on 1024 samples at 512 Hz (EMG) and counts about 58.7 M parameters there
    (33.6 M at 512 samples).

    Parameters (keyword-only)
    ----------
    n_times, sfreq : int, float
    base_filters : int
        Filters of the first stage (32), doubled at each stage.
    n_stages : int
        Stages of two convolutions (7).
    kernel_size : int
        Convolution kernel (3).
    dropout : float
        Dropout after the stages from ``dropout_from`` on (0.5).
    dropout_from : int
        First stage (1-based) followed by dropout (4).
    pool : {"avg", "max"}
        Pooling between stages ("avg"; "max" was an earlier version of the reference).
    cc_weight : float
    """

    name = "novel_cnn"
    presets = {"base": {}, "tiny": dict(n_times=128, sfreq=64.0, base_filters=4, n_stages=4)}

    def __init__(self, *, n_times=512, sfreq=256.0, base_filters=32, n_stages=7, kernel_size=3,
                 dropout=0.5, dropout_from=4, pool="avg", cc_weight=0.0):  # fmt: skip
        super().__init__()
        self._set_config(locals())
        _positive_int("n_stages", n_stages)
        _positive_int("base_filters", base_filters)
        if pool not in ("avg", "max"):
            raise InvalidParameterError(f"pool={pool!r}; allowed: 'avg', 'max'")
        factor = 2 ** (n_stages - 1)
        if n_times % factor:
            raise InvalidParameterError(
                f"n_times={n_times} must be a multiple of 2 ** (n_stages - 1) = {factor}; "
                "change n_times or n_stages"
            )
        stages, c_in = [], 1
        for i in range(n_stages):
            c_out = base_filters * 2**i
            layers = []
            for c in (c_in, c_out):
                layers += [nn.Conv1d(c, c_out, kernel_size, padding=kernel_size // 2), nn.ReLU()]
            if dropout and i + 1 >= dropout_from:
                layers.append(Dropout(dropout))
            if i < n_stages - 1:
                layers.append(nn.AvgPool1d(2) if pool == "avg" else nn.MaxPool1d(2))
            stages.append(nn.Sequential(*layers))
            c_in = c_out
        self.body = nn.Sequential(*stages)
        self.head = nn.Linear(c_in * (n_times // factor), n_times)
        for module in self.body.modules():
            if isinstance(module, nn.Conv1d):  # He-normal weights, zero biases (reference)
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def denoise(self, x):
        return self.head(self.body(x[:, None]).flatten(1))


_EEGDENOISENET = {cls.name: cls for cls in (FCNN, SimpleCNN, ComplexCNN, RNNLSTM, NovelCNN)}


def _registry() -> dict:
    """Every denoiser by name (the AT-AT and TIGER modules import this one, hence lazily)."""
    from .atat import ATAT
    from .tiger_separator import TIGERSeparator

    return {**_EEGDENOISENET, ATAT.name: ATAT, TIGERSeparator.name: TIGERSeparator}


def __getattr__(name):
    if name == "DENOISERS":  # name -> class, for neurokit.training.from_pretrained
        registry = _registry()
        globals()["DENOISERS"] = registry
        return registry
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
