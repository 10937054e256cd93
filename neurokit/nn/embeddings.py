"""Sensor and position embeddings.

Shapes use ``b`` batch, ``c`` channels (sensors), ``n`` tokens and ``d`` width.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import InvalidParameterError
from ..sensors import SENSOR_TYPES
from .transformer import FeedForward, RMSNorm

__all__ = ["SensorEmbedding", "PositionalEmbedding"]


class SensorEmbedding(nn.Module):
    """Embedding of each sensor from its geometry and type, as BrainOmni's sensor encoder.

    BrainOmni (Xiao et al., 2025, "BrainOmni: A Brain Foundation Model for Unified EEG and MEG
    Signals") describes a sensor by its position and orientation (6 numbers) and its type.
    Here the geometry goes through a two-layer MLP, a learned type embedding is added, then a
    residual feed-forward with pre-RMSNorm and a final RMSNorm::

        e = mlp([pos, ori]) + type_embedding[type_id]
        e = rmsnorm(e + ffn(rmsnorm(e)))

    Missing coordinates (NaN, as :class:`~neurokit.sensors.SensorTable` stores an unknown
    position or the orientation of a non-MEG sensor) are read as zeros. Channels are embedded
    independently, so permuting channels permutes the outputs.

    Parameters
    ----------
    dim : int
        Output width ``d``.
    n_types : int
        Number of sensor types; ids index :data:`neurokit.sensors.SENSOR_TYPES` by default.
    hidden : int, optional
        Hidden width of the MLP and feed-forward; default ``2 * dim``.
    pos_scale : float
        Factor applied to positions before the MLP (positions are in metres, so the default
        10 brings head coordinates to order one).
    """

    def __init__(
        self,
        dim: int,
        n_types: int = len(SENSOR_TYPES),
        *,
        hidden: int | None = None,
        pos_scale: float = 10.0,
    ):
        super().__init__()
        if n_types < 1:
            raise InvalidParameterError(f"n_types={n_types}; must be >= 1")
        hidden = hidden or 2 * dim
        self.n_types, self.pos_scale = n_types, float(pos_scale)
        self.geometry = nn.Sequential(nn.Linear(6, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self.type_embedding = nn.Embedding(n_types, dim)
        self.norm_ffn = RMSNorm(dim)
        self.ffn = FeedForward(dim, hidden)
        self.norm_out = RMSNorm(dim)

    def forward(self, pos: torch.Tensor, ori: torch.Tensor, type_id: torch.Tensor) -> torch.Tensor:
        """Embed sensors.

        Parameters
        ----------
        pos : Tensor, shape ``[b, c, 3]``
            Positions in metres (NaN where unknown).
        ori : Tensor, shape ``[b, c, 3]``
            Unit orientations (NaN where undefined).
        type_id : Tensor of int, shape ``[b, c]``
            Index into the sensor types.

        Returns
        -------
        Tensor, shape ``[b, c, d]``
        """
        if type_id.numel() and (int(type_id.min()) < 0 or int(type_id.max()) >= self.n_types):
            raise InvalidParameterError(f"type_id outside [0, {self.n_types}): {type_id}")
        dtype = self.type_embedding.weight.dtype
        geo = torch.cat([pos.to(dtype) * self.pos_scale, ori.to(dtype)], dim=-1)
        e = self.geometry(torch.nan_to_num(geo, nan=0.0)) + self.type_embedding(type_id.long())
        return self.norm_out(e + self.ffn(self.norm_ffn(e)))


class PositionalEmbedding(nn.Module):
    """Absolute position embedding: sinusoidal (Vaswani et al., 2017) or learned table.

    Parameters
    ----------
    dim : int
        Width ``d`` (even for ``"sinusoidal"``).
    kind : {"sinusoidal", "learned"}
    max_len : int
        Table size of the learned kind (positions ``0 .. max_len - 1``).
    base : float
        Wavelength base of the sinusoidal kind.
    """

    def __init__(
        self, dim: int, *, kind: str = "sinusoidal", max_len: int = 1024, base: float = 10000.0
    ):
        super().__init__()
        if kind not in ("sinusoidal", "learned"):
            raise InvalidParameterError(f"kind={kind!r}; allowed: 'sinusoidal', 'learned'")
        if kind == "sinusoidal" and dim % 2:
            raise InvalidParameterError(f"dim={dim}; the sinusoidal kind needs an even dim")
        self.dim, self.kind, self.max_len = dim, kind, max_len
        if kind == "learned":
            self.table = nn.Embedding(max_len, dim)
            nn.init.normal_(self.table.weight, std=0.02)
        else:
            inv = torch.exp(-math.log(base) * torch.arange(0, dim, 2, dtype=torch.float32) / dim)
            self.register_buffer("inv_freq", inv, persistent=False)

    def forward(self, positions: torch.Tensor | int) -> torch.Tensor:
        """Embed positions.

        Parameters
        ----------
        positions : Tensor of shape ``[...]``, or int ``n`` for ``arange(n)``
            Integer positions (float allowed for the sinusoidal kind).

        Returns
        -------
        Tensor, shape ``[..., d]``
        """
        if isinstance(positions, int):
            device = self.table.weight.device if self.kind == "learned" else self.inv_freq.device
            positions = torch.arange(positions, device=device)
        if self.kind == "learned":
            if positions.numel() and int(positions.max()) >= self.max_len:
                raise InvalidParameterError(
                    f"position {int(positions.max())} >= max_len={self.max_len}"
                )
            return self.table(positions.long())
        angles = positions.to(torch.float32)[..., None] * self.inv_freq
        return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(-2)
