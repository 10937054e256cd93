"""Attention layers: rotary positions, softmax and linear multi-head attention, criss-cross block.

Shapes use ``b`` batch, ``n`` tokens (frames), ``s`` sources (space), ``d`` width, ``h`` heads.
Padding masks follow one convention everywhere in :mod:`neurokit.nn`: a boolean tensor of shape
``[b, n]`` where ``True`` marks a padded (ignored) position.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidParameterError
from .dropout import Dropout

__all__ = ["RotaryEmbedding", "MultiHeadAttention", "LinearAttention", "CrissCrossBlock"]


def _check_heads(dim: int, n_heads: int) -> int:
    if n_heads < 1 or dim % n_heads:
        raise InvalidParameterError(
            f"dim={dim}, n_heads={n_heads}; dim must be a positive multiple of n_heads"
        )
    return dim // n_heads


def _split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    b, n, d = x.shape
    return x.view(b, n, n_heads, d // n_heads).transpose(1, 2)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    b, h, n, e = x.shape
    return x.transpose(1, 2).reshape(b, n, h * e)


def _head_positions(positions: torch.Tensor | None) -> torch.Tensor | None:
    """Give ``[b, n]`` positions a head axis so they broadcast against ``[b, h, n, e]``."""
    if positions is not None and positions.ndim == 2:
        return positions[:, None, :]
    return positions


class RotaryEmbedding(nn.Module):
    """Rotary position embedding (RoPE) applied to the last dimension.

    Pairs of features ``(x[i], x[i + dim/2])`` are rotated by the angle ``p * base**(-2i/dim)``
    where ``p`` is the token position (Su et al., 2021, "RoFormer: Enhanced Transformer with
    Rotary Position Embedding"). The dot product of a rotated query and a rotated key then
    depends on their positions only through the difference ``p_q - p_k``.

    Parameters
    ----------
    dim : int
        Number of rotated features (even). Features beyond ``dim`` pass through unchanged, so a
        partial rotation of a wider head is possible.
    base : float
        Wavelength base of the rotation frequencies.
    """

    def __init__(self, dim: int, *, base: float = 10000.0):
        super().__init__()
        if dim < 2 or dim % 2:
            raise InvalidParameterError(f"dim={dim}; RotaryEmbedding needs an even dim >= 2")
        self.dim = dim
        self.base = float(base)
        inv_freq = base ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """Rotate ``x``.

        Parameters
        ----------
        x : Tensor, shape ``[..., n, e]`` with ``e >= dim``
        positions : Tensor, optional
            Positions of the ``n`` tokens, shape ``[n]`` or any shape broadcastable to
            ``x.shape[:-1]`` (integer or float). Defaults to ``arange(n)``.

        Returns
        -------
        Tensor, same shape and dtype as ``x``.
        """
        n = x.shape[-2]
        if x.shape[-1] < self.dim:
            raise InvalidParameterError(
                f"last dimension {x.shape[-1]} is smaller than the rotary dim {self.dim}"
            )
        if positions is None:
            positions = torch.arange(n, device=x.device)
        angles = positions.to(torch.float32)[..., None] * self.inv_freq  # [..., n, dim/2]
        cos, sin = angles.cos(), angles.sin()
        rot, rest = x[..., : self.dim].float(), x[..., self.dim :]
        half = self.dim // 2
        x1, x2 = rot[..., :half], rot[..., half:]
        out = torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).to(x.dtype)
        return torch.cat([out, rest], dim=-1) if rest.shape[-1] else out


class MultiHeadAttention(nn.Module):
    """Multi-head scaled dot-product attention (Vaswani et al., 2017, "Attention Is All You Need").

    Built on :func:`torch.nn.functional.scaled_dot_product_attention`. Works as self-attention
    (``context=None``) or cross-attention (queries from ``x``, keys and values from
    ``context``). Padded keys receive zero attention weight; outputs at padded queries are set
    to zero, and a query whose keys are all padded yields zeros instead of NaN.

    Parameters
    ----------
    dim : int
        Model width ``d``.
    n_heads : int
        Number of heads; ``dim`` must be a multiple of it.
    dropout : float
        Dropout on the attention weights (training only).
    rope : RotaryEmbedding, optional
        Rotary embedding applied to queries and keys of every head.
    qkv_bias : bool
        Whether the query/key/value projections have a bias.
    """

    def __init__(
        self,
        dim: int,
        n_heads: int,
        dropout: float = 0.0,
        rope: RotaryEmbedding | None = None,
        qkv_bias: bool = True,
    ):
        super().__init__()
        head_dim = _check_heads(dim, n_heads)
        if rope is not None and rope.dim > head_dim:
            raise InvalidParameterError(f"rope.dim={rope.dim} exceeds the head width {head_dim}")
        self.dim, self.n_heads, self.dropout, self.rope = dim, n_heads, float(dropout), rope
        self.q_proj = nn.Linear(dim, dim, bias=qkv_bias)
        self.k_proj = nn.Linear(dim, dim, bias=qkv_bias)
        self.v_proj = nn.Linear(dim, dim, bias=qkv_bias)
        self.out_proj = nn.Linear(dim, dim)

    def forward(
        self,
        x: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        *,
        context: torch.Tensor | None = None,
        context_padding_mask: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
        context_positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Attend.

        Parameters
        ----------
        x : Tensor, shape ``[b, n, d]``
            Queries (and keys/values in self-attention).
        key_padding_mask : Tensor of bool, shape ``[b, n]``, optional
            ``True`` at padded positions of ``x``. In self-attention these keys are ignored; in
            both modes the outputs at these positions are zero.
        context : Tensor, shape ``[b, m, d]``, optional
            Keys/values for cross-attention.
        context_padding_mask : Tensor of bool, shape ``[b, m]``, optional
            ``True`` at padded positions of ``context``.
        positions, context_positions : Tensor, shape ``[n]`` / ``[b, n]`` (``[m]`` / ``[b, m]``)
            Token positions for the rotary embedding; default ``arange``.

        Returns
        -------
        Tensor, shape ``[b, n, d]``
        """
        source = x if context is None else context
        source_mask = key_padding_mask if context is None else context_padding_mask
        if context is None:
            context_positions = positions
        q = _split_heads(self.q_proj(x), self.n_heads)
        k = _split_heads(self.k_proj(source), self.n_heads)
        v = _split_heads(self.v_proj(source), self.n_heads)
        if self.rope is not None:
            q = self.rope(q, _head_positions(positions))
            k = self.rope(k, _head_positions(context_positions))
        attn_mask = None
        if source_mask is not None:
            keep = ~source_mask.bool()
            keep = keep | ~keep.any(dim=-1, keepdim=True)  # all-padded rows: avoid NaN
            attn_mask = keep[:, None, None, :]
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=self.dropout if self.training else 0.0
        )
        out = self.out_proj(_merge_heads(out))
        if key_padding_mask is not None:
            out = out.masked_fill(key_padding_mask.bool()[..., None], 0.0)
        if source_mask is not None and context is not None:
            empty = source_mask.bool().all(dim=-1)
            out = out.masked_fill(empty[:, None, None], 0.0)
        return out


class LinearAttention(nn.Module):
    """Kernelised linear attention (Katharopoulos et al., 2020, "Transformers are RNNs").

    Softmax similarity is replaced by ``phi(q) . phi(k)`` with ``phi(x) = elu(x) + 1``, so that
    ``out_i = phi(q_i) S / (phi(q_i) z)`` with ``S = sum_j phi(k_j) v_j^T`` and
    ``z = sum_j phi(k_j)``: cost linear in the sequence length. TFM-Tokenizer (Pradeepkumar et
    al., 2025) uses this kind of global linear attention through the ``linear-attention-
    transformer`` package; ``feature_map="softmax"`` gives that package's variant (softmax of
    queries over features and of keys over tokens, Shen et al., 2021, "Efficient Attention").

    Padded keys are removed from ``S`` and ``z``; outputs at padded queries are zero. With a
    rotary embedding, positions enter the numerator only, as in RoFormer's linear-attention
    form, so the normaliser stays positive.

    Parameters
    ----------
    dim : int
        Model width ``d``.
    n_heads : int
        Number of heads.
    dropout : float
        Dropout on the output projection (training only).
    rope : RotaryEmbedding, optional
        Rotary embedding applied to the feature-mapped queries and keys.
    qkv_bias : bool
        Bias of the query/key/value projections.
    feature_map : {"elu", "softmax"}
        Kernel feature map.
    eps : float
        Floor of the normaliser.
    """

    def __init__(
        self,
        dim: int,
        n_heads: int,
        *,
        dropout: float = 0.0,
        rope: RotaryEmbedding | None = None,
        qkv_bias: bool = True,
        feature_map: str = "elu",
        eps: float = 1e-6,
    ):
        super().__init__()
        head_dim = _check_heads(dim, n_heads)
        if feature_map not in ("elu", "softmax"):
            raise InvalidParameterError(f"feature_map={feature_map!r}; allowed: 'elu', 'softmax'")
        if rope is not None and rope.dim > head_dim:
            raise InvalidParameterError(f"rope.dim={rope.dim} exceeds the head width {head_dim}")
        self.dim, self.n_heads, self.rope = dim, n_heads, rope
        self.feature_map, self.eps = feature_map, float(eps)
        self.q_proj = nn.Linear(dim, dim, bias=qkv_bias)
        self.k_proj = nn.Linear(dim, dim, bias=qkv_bias)
        self.v_proj = nn.Linear(dim, dim, bias=qkv_bias)
        self.out_proj = nn.Linear(dim, dim)
        self.drop = Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        *,
        context: torch.Tensor | None = None,
        context_padding_mask: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
        context_positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Attend; same arguments and shapes as :meth:`MultiHeadAttention.forward`.

        Returns
        -------
        Tensor, shape ``[b, n, d]``
        """
        source = x if context is None else context
        source_mask = key_padding_mask if context is None else context_padding_mask
        if context is None:
            context_positions = positions
        q = _split_heads(self.q_proj(x), self.n_heads)  # [b, h, n, e]
        k = _split_heads(self.k_proj(source), self.n_heads)
        v = _split_heads(self.v_proj(source), self.n_heads)
        keep = None
        if source_mask is not None:
            keep = (~source_mask.bool())[:, None, :, None].to(k.dtype)  # [b, 1, m, 1]
        if self.feature_map == "elu":
            q, k = F.elu(q) + 1.0, F.elu(k) + 1.0
        else:
            q = q.softmax(dim=-1)
            if keep is not None:
                k = k.masked_fill(keep == 0, float("-inf"))
            k = k.softmax(dim=-2).nan_to_num(0.0)
        if keep is not None:
            k, v = k * keep, v * keep
        denom = torch.einsum("bhne,bhe->bhn", q, k.sum(dim=-2)).clamp_min(self.eps)
        if self.rope is not None:
            q = self.rope(q, _head_positions(positions))
            k = self.rope(k, _head_positions(context_positions))
        kv = torch.einsum("bhme,bhmf->bhef", k, v)
        out = torch.einsum("bhne,bhef->bhnf", q, kv) / denom[..., None]
        out = self.drop(self.out_proj(_merge_heads(out)))
        if key_padding_mask is not None:
            out = out.masked_fill(key_padding_mask.bool()[..., None], 0.0)
        return out


class CrissCrossBlock(nn.Module):
    """Criss-cross (space/time factorised) transformer block of BrainOmni.

    BrainOmni (Xiao et al., 2025, "BrainOmni: A Brain Foundation Model for Unified EEG and MEG
    Signals") mixes its latent-source tokens ``[b, s, n, d]`` with a criss-cross attention in
    the spirit of CSWin/CBraMod: half of the width and heads attend along time (within each
    source, with rotary positions) and the other half along space (within each time step, no
    positions since sources are unordered); the two halves are concatenated. The block is
    pre-norm with residual connections around the attention and a feed-forward.

    Parameters
    ----------
    dim : int
        Width ``d`` (a multiple of ``n_heads``, which must be even).
    n_heads : int
        Total number of heads; ``n_heads / 2`` per axis.
    ffn_hidden : int, optional
        Hidden width of the feed-forward; default ``4 * dim``.
    ffn : str
        Feed-forward activation, see :class:`~neurokit.nn.transformer.FeedForward`.
    norm : {"rmsnorm", "layernorm"}
        Normalisation before each sub-layer.
    rope : bool
        Rotary positions on the time half.
    dropout : float
        Dropout in attention and feed-forward.
    """

    def __init__(
        self,
        dim: int,
        n_heads: int,
        *,
        ffn_hidden: int | None = None,
        ffn: str = "gelu",
        norm: str = "rmsnorm",
        rope: bool = True,
        dropout: float = 0.0,
    ):
        super().__init__()
        from .transformer import FeedForward, make_norm

        if n_heads < 2 or n_heads % 2:
            raise InvalidParameterError(f"n_heads={n_heads}; CrissCrossBlock needs an even count")
        head_dim = _check_heads(dim, n_heads)
        half = dim // 2
        self.norm1 = make_norm(norm, dim)
        self.norm2 = make_norm(norm, dim)
        rotary = RotaryEmbedding(head_dim - head_dim % 2) if rope and head_dim >= 2 else None
        self.time_attn = MultiHeadAttention(half, n_heads // 2, dropout=dropout, rope=rotary)
        self.space_attn = MultiHeadAttention(half, n_heads // 2, dropout=dropout)
        self.ffn = FeedForward(dim, ffn_hidden or 4 * dim, activation=ffn, dropout=dropout)
        self.drop = Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,
        time_padding_mask: torch.Tensor | None = None,
        space_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mix tokens along time and space.

        Parameters
        ----------
        x : Tensor, shape ``[b, s, n, d]``
        time_padding_mask : Tensor of bool, shape ``[b, n]``, optional
            ``True`` at padded time steps.
        space_padding_mask : Tensor of bool, shape ``[b, s]``, optional
            ``True`` at padded sources.

        Returns
        -------
        Tensor, shape ``[b, s, n, d]``
        """
        b, s, n, d = x.shape
        h = self.norm1(x)
        ht, hs = h.chunk(2, dim=-1)
        tmask = None
        if time_padding_mask is not None:
            tmask = time_padding_mask.bool()[:, None, :].expand(b, s, n).reshape(b * s, n)
        yt = self.time_attn(ht.reshape(b * s, n, d // 2), tmask).view(b, s, n, d // 2)
        smask = None
        if space_padding_mask is not None:
            smask = space_padding_mask.bool()[:, None, :].expand(b, n, s).reshape(b * n, s)
        hs = hs.transpose(1, 2).reshape(b * n, s, d // 2)
        ys = self.space_attn(hs, smask).view(b, n, s, d // 2).transpose(1, 2)
        x = x + self.drop(torch.cat([yt, ys], dim=-1))
        return x + self.drop(self.ffn(self.norm2(x)))
