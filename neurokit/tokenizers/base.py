"""The tokenizer contract shared by every neurokit tokenizer.

``encode(batch) -> Tokens`` turns signals into discrete codes ``[b, s, k, n]`` (batch, streams,
quantizer levels, frames) with a validity ``mask [b, s, n]``; ``decode(tokens)`` returns the
tokenizer's documented reconstruction target; ``forward(batch) -> TokenizerOutput`` (recon,
tokens, latents, losses) is what training calls. Hyperparameters are keyword-only and stored
unchanged in ``config`` (so ``save_pretrained`` / ``from_pretrained`` and presets are free);
every constant that depends on the sampling rate is derived from ``sfreq`` and seconds.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import torch
from torch import nn

from ..errors import InvalidParameterError

__all__ = [
    "Tokens",
    "TokenizerOutput",
    "Tokenizer",
    "register_tokenizer",
    "get_tokenizer",
    "list_tokenizers",
    "create_tokenizer",
    "as_signal",
]


@dataclass
class Tokens:
    """Discrete tokens.

    Attributes
    ----------
    codes : LongTensor [b, s, k, n]
        Code index per batch item, stream, quantizer level and frame.
    mask : BoolTensor [b, s, n]
        True where the token is real (False for padded channels or frames).
    frame_rate : float
        Frames per second.
    codebook_sizes : tuple of int
        Size of the codebook of each level (length k).
    """

    codes: torch.Tensor
    mask: torch.Tensor
    frame_rate: float
    codebook_sizes: tuple

    def to(self, device) -> Tokens:
        return Tokens(
            self.codes.to(device), self.mask.to(device), self.frame_rate, self.codebook_sizes
        )


@dataclass
class TokenizerOutput:
    """What ``Tokenizer.forward`` returns: ``recon`` (the reconstruction target's estimate),
    ``tokens``, ``latents`` (pre-quantization features) and ``losses`` (a dict of scalar
    tensors whose ``"loss"`` entry is the training objective)."""

    recon: torch.Tensor
    tokens: Tokens
    latents: torch.Tensor
    losses: dict = field(default_factory=dict)


def as_signal(batch):
    """``(x [b, c, t] float32, channel_mask [b, c] bool, extras)`` from a tensor or a batch dict
    as :func:`neurokit.corpus.collate` makes."""
    if isinstance(batch, torch.Tensor):
        x, mask, extras = batch, None, {}
    elif isinstance(batch, dict) and "x" in batch:
        x, mask, extras = batch["x"], batch.get("channel_mask"), batch
    else:
        raise InvalidParameterError(
            f"batch must be a tensor [b, c, t] or a dict with key 'x' (as neurokit.corpus.collate "
            f"makes); got {type(batch).__name__}"
        )
    if not isinstance(x, torch.Tensor) or x.ndim != 3:
        raise InvalidParameterError(
            f"x must be a tensor of shape [batch, channels, samples]; got "
            f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}"
        )
    if mask is None:
        mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    return x.float(), mask.bool(), extras


class Tokenizer(nn.Module):
    """Base class: subclasses set ``name`` and ``presets`` (``tiny`` is mandatory), take only
    keyword hyperparameters (``sfreq`` among them) and implement ``encode``, ``decode`` and
    ``forward``."""

    kind = "tokenizer"
    name = "base"
    presets: dict = {}
    #: what ``decode`` returns, in words (documentation and checkpoints)
    reconstruction_target = ""

    def __init__(self, **config):
        super().__init__()
        self.config = dict(config)

    # ------------------------------------------------------------------ contract helpers
    @property
    def sfreq(self) -> float:
        return float(self.config["sfreq"])

    @property
    def frame_rate(self) -> float:  # pragma: no cover - subclasses
        raise NotImplementedError

    @property
    def codebook_sizes(self) -> tuple:  # pragma: no cover - subclasses
        raise NotImplementedError

    def check_sfreq(self, sfreq) -> None:
        """Raise when a batch declares a sampling rate other than the tokenizer's."""
        if sfreq is not None and abs(float(sfreq) - self.sfreq) > 1e-6:
            raise InvalidParameterError(
                f"Input sfreq {float(sfreq):g} Hz does not match {type(self).__name__} sfreq "
                f"{self.sfreq:g} Hz; add a resample step (e.g. resample: {{sfreq: "
                f"{self.sfreq:g}}}) to the recipe"
            )

    def n_frames(self, n_times: int) -> int:  # pragma: no cover - subclasses
        raise NotImplementedError

    def input_contract(self) -> dict:
        return {
            "sfreq": self.sfreq,
            "frame_rate": self.frame_rate,
            "codebook_sizes": list(self.codebook_sizes),
        }

    # ------------------------------------------------------------------ persistence
    def get_config(self) -> dict:
        """``config.json`` content: kind, registry name, keyword arguments, input contract."""
        return {
            "kind": self.kind,
            "name": self.name,
            "kwargs": dict(self.config),
            "input": self.input_contract(),
        }

    def save_pretrained(self, path, meta=None):
        """Write ``config.json`` (kind, name, kwargs, input contract, neurokit version),
        ``model.safetensors`` and ``meta.json`` into the folder ``path``."""
        from ..training.checkpoint import save_pretrained

        return save_pretrained(self, path, self.get_config(), meta=meta)

    @classmethod
    def from_pretrained(cls, path) -> Tokenizer:
        """Load a tokenizer saved by :meth:`save_pretrained` or by a training run's checkpoint
        (JSON + safetensors only, nothing unpickled)."""
        from ..training.checkpoint import from_pretrained

        return from_pretrained(path, get_tokenizer)

    @classmethod
    def from_preset(cls, preset: str = "tiny", **overrides) -> Tokenizer:
        if preset not in cls.presets:
            raise InvalidParameterError(
                f"{cls.__name__}: unknown preset {preset!r}; available: {sorted(cls.presets)}"
            )
        return cls(**{**cls.presets[preset], **overrides})


_REGISTRY: dict = {}


def register_tokenizer(cls):
    """Class decorator: register a :class:`Tokenizer` subclass under ``cls.name``."""
    if "tiny" not in cls.presets:
        raise TypeError(f"{cls.__name__} must define a 'tiny' preset")
    params = inspect.signature(cls.__init__).parameters.values()
    if any(p.kind == p.POSITIONAL_OR_KEYWORD and p.name != "self" for p in params):
        raise TypeError(f"{cls.__name__}: hyperparameters must be keyword-only")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtin():
    from . import brain, tfm  # noqa: F401


def list_tokenizers() -> dict:
    """``{name: sorted preset names}`` of the registered tokenizers."""
    _load_builtin()
    return {n: sorted(c.presets) for n, c in sorted(_REGISTRY.items())}


def get_tokenizer(name: str) -> type:
    _load_builtin()
    if name not in _REGISTRY:
        raise InvalidParameterError(f"unknown tokenizer {name!r}; registered: {sorted(_REGISTRY)}")
    return _REGISTRY[name]


def create_tokenizer(name: str, preset: str | None = None, **kwargs) -> Tokenizer:
    """A tokenizer by registry name, from a preset (overridden by ``kwargs``) or kwargs."""
    cls = get_tokenizer(name)
    return cls.from_preset(preset, **kwargs) if preset is not None else cls(**kwargs)
