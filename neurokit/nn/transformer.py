"""Pre-norm transformer: normalisations, feed-forwards and PanGu-pi nonlinearity options.

Shapes use ``b`` batch, ``n`` tokens, ``d`` width. Padding masks are boolean ``[b, n]`` with
``True`` at padded positions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidParameterError
from .attention import LinearAttention, MultiHeadAttention, RotaryEmbedding
from .dropout import Dropout

__all__ = [
    "RMSNorm",
    "SeriesActivation",
    "FeedForward",
    "AugmentedShortcut",
    "TransformerBlock",
    "Transformer",
    "make_norm",
]

NORMS = ("layernorm", "rmsnorm")
FFNS = ("gelu", "selu", "swiglu", "series")
ATTENTIONS = ("softmax", "linear")


def _choice(name: str, value: str, allowed: tuple) -> str:
    if value not in allowed:
        raise InvalidParameterError(f"{name}={value!r}; allowed: {', '.join(map(repr, allowed))}")
    return value


class RMSNorm(nn.Module):
    """Root-mean-square normalisation (Zhang & Sennrich, 2019, "Root Mean Square Layer
    Normalization"): ``x / rms(x) * g`` over the last dimension, no centring, no bias.

    Parameters
    ----------
    dim : int
        Size ``d`` of the last dimension.
    eps : float
        Added to the mean square before the square root.
    """

    def __init__(self, dim: int, *, eps: float = 1e-6):
        super().__init__()
        self.eps = float(eps)
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` of shape ``[..., d]``; returns the same shape and dtype."""
        xf = x.float()
        out = xf * torch.rsqrt(xf.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return out.to(x.dtype) * self.weight


def make_norm(kind: str, dim: int) -> nn.Module:
    """Build ``"layernorm"`` (:class:`torch.nn.LayerNorm`) or ``"rmsnorm"`` (:class:`RMSNorm`)."""
    _choice("norm", kind, NORMS)
    return nn.LayerNorm(dim) if kind == "layernorm" else RMSNorm(dim)


class SeriesActivation(nn.Module):
    """Series informed activation of PanGu-pi (Wang et al., 2023, "PanGu-pi: Enhancing Language
    Model Architectures via Nonlinearity Compensation").

    ``sigma_s(x) = sum_i a_i * sigma(x + b_i)`` for ``i = 1..n_terms``, with learnable scalars
    ``a_i`` and ``b_i`` and a base activation ``sigma`` (GELU). The offsets start spread over
    ``[-1, 1]`` so that the terms differ from the first step; the scales start at ``1/n``.

    Parameters
    ----------
    n_terms : int
        Number of shifted copies ``n``.
    """

    def __init__(self, n_terms: int = 3):
        super().__init__()
        if n_terms < 1:
            raise InvalidParameterError(f"n_terms={n_terms}; must be >= 1")
        self.n_terms = n_terms
        self.scale = nn.Parameter(torch.full((n_terms,), 1.0 / n_terms))
        offsets = torch.linspace(-1.0, 1.0, n_terms) if n_terms > 1 else torch.zeros(1)
        self.offset = nn.Parameter(offsets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply elementwise to ``x`` of any shape."""
        out = torch.zeros_like(x)
        for a, b in zip(self.scale, self.offset):
            out = out + a * F.gelu(x + b)
        return out


class FeedForward(nn.Module):
    """Position-wise feed-forward ``W2 act(W1 x)`` (Vaswani et al., 2017).

    ``activation`` is ``"gelu"``, ``"selu"`` (self-normalising, Klambauer et al., 2017),
    ``"swiglu"`` (gated ``silu(W1 x) * W3 x``, Shazeer, 2020, "GLU Variants Improve
    Transformer") or ``"series"`` (:class:`SeriesActivation`, PanGu-pi).

    Parameters
    ----------
    dim : int
        Input and output width ``d``.
    hidden : int, optional
        Hidden width; default ``4 * dim``.
    activation : str
        One of ``"gelu"``, ``"selu"``, ``"swiglu"``, ``"series"``.
    dropout : float
        Dropout after the activation (the block that holds the feed-forward drops its
        residual branch).
    n_terms : int
        Number of terms of the series activation.
    """

    def __init__(
        self,
        dim: int,
        hidden: int | None = None,
        activation: str = "gelu",
        dropout: float = 0.0,
        *,
        n_terms: int = 3,
    ):
        super().__init__()
        _choice("activation", activation, FFNS)
        hidden = hidden or 4 * dim
        self.activation = activation
        self.w1 = nn.Linear(dim, hidden)
        self.w2 = nn.Linear(hidden, dim)
        self.w3 = nn.Linear(dim, hidden) if activation == "swiglu" else None
        if activation == "gelu":
            self.act = nn.GELU()
        elif activation == "selu":
            self.act = nn.SELU()
        elif activation == "swiglu":
            self.act = nn.SiLU()
        else:
            self.act = SeriesActivation(n_terms)
        self.drop = Dropout(dropout) if dropout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``[..., d]`` to ``[..., d]``."""
        h = self.act(self.w1(x))
        if self.w3 is not None:
            h = h * self.w3(x)
        return self.w2(self.drop(h))


class AugmentedShortcut(nn.Module):
    """Learnable shortcut ``T(z) = gelu(z Theta)`` run in parallel with attention (PanGu-pi,
    after Tang et al., 2021, "Augmented Shortcuts for Vision Transformers").

    With ``rank`` set, ``Theta`` is factorised as a bottleneck ``d -> rank -> d`` to save
    parameters. The last projection starts at zero so the shortcut is off at initialisation.

    Parameters
    ----------
    dim : int
        Width ``d``.
    rank : int, optional
        Bottleneck width; full ``d x d`` projection when ``None``.
    """

    def __init__(self, dim: int, *, rank: int | None = None):
        super().__init__()
        if rank is None:
            self.proj = nn.Linear(dim, dim)
        else:
            self.proj = nn.Sequential(nn.Linear(dim, rank), nn.Linear(rank, dim))
        last = self.proj if rank is None else self.proj[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Map ``[..., d]`` to ``[..., d]``."""
        return F.gelu(self.proj(z))


class TransformerBlock(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm(x)) [+ sum_i T_i(norm(x))]``, then
    ``x + ffn(norm(x))`` (Vaswani et al., 2017; pre-norm as in Xiong et al., 2020).

    PanGu-pi options (Wang et al., 2023): ``ffn="series"`` uses the series informed activation,
    ``augmented_shortcut=True`` adds ``n_shortcuts`` :class:`AugmentedShortcut` branches next to
    the attention.

    Parameters
    ----------
    dim : int
        Width ``d``.
    n_heads : int
        Attention heads.
    norm : {"layernorm", "rmsnorm"}
    ffn : {"gelu", "selu", "swiglu", "series"}
    attention : {"softmax", "linear"}
        :class:`~neurokit.nn.attention.MultiHeadAttention` or
        :class:`~neurokit.nn.attention.LinearAttention`.
    rope : bool
        Rotary positions on every head.
    dropout : float
        Dropout on the attention output.
    ffn_dropout : float, optional
        Dropout inside the feed-forward and on its residual branch; default ``dropout``.
    residual_dropout : float, optional
        Dropout on the attention residual branch (after the shortcuts are added); default
        ``dropout``. Set 0 to drop the attention output only once, as the
        ``linear-attention-transformer`` package that TFM-Tokenizer uses does.
    augmented_shortcut : bool
        Add the PanGu-pi augmented shortcut(s).
    n_shortcuts : int
        Number of parallel augmented shortcuts.
    shortcut_rank : int, optional
        Bottleneck width of each augmented shortcut.
    ffn_hidden : int, optional
        Feed-forward hidden width; default ``4 * dim``.
    qkv_bias : bool
        Bias of the attention input projections.
    attention_options : dict, optional
        Further keyword arguments of the attention class (e.g. ``{"feature_map": "softmax"}``
        for linear attention).
    """

    def __init__(
        self,
        dim: int,
        n_heads: int,
        *,
        norm: str = "layernorm",
        ffn: str = "gelu",
        attention: str = "softmax",
        rope: bool = False,
        dropout: float = 0.0,
        ffn_dropout: float | None = None,
        residual_dropout: float | None = None,
        augmented_shortcut: bool = False,
        n_shortcuts: int = 1,
        shortcut_rank: int | None = None,
        ffn_hidden: int | None = None,
        qkv_bias: bool = True,
        attention_options: dict | None = None,
    ):
        super().__init__()
        _choice("attention", attention, ATTENTIONS)
        if dim % n_heads:
            raise InvalidParameterError(f"dim={dim} is not a multiple of n_heads={n_heads}")
        head_dim = dim // n_heads
        rotary = RotaryEmbedding(head_dim - head_dim % 2) if rope and head_dim >= 2 else None
        attn_cls = MultiHeadAttention if attention == "softmax" else LinearAttention
        self.attn = attn_cls(
            dim,
            n_heads,
            dropout=dropout,
            rope=rotary,
            qkv_bias=qkv_bias,
            **(attention_options or {}),
        )
        self.norm1 = make_norm(norm, dim)
        self.norm2 = make_norm(norm, dim)
        ffn_dropout = dropout if ffn_dropout is None else ffn_dropout
        residual_dropout = dropout if residual_dropout is None else residual_dropout
        self.ffn = FeedForward(dim, ffn_hidden, activation=ffn, dropout=ffn_dropout)
        self.shortcuts = nn.ModuleList(
            [AugmentedShortcut(dim, rank=shortcut_rank) for _ in range(n_shortcuts)]
            if augmented_shortcut
            else []
        )
        self.drop = Dropout(residual_dropout) if residual_dropout else nn.Identity()
        self.ffn_drop = Dropout(ffn_dropout) if ffn_dropout else nn.Identity()

    def forward(
        self,
        x: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        *,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Apply the block.

        Parameters
        ----------
        x : Tensor, shape ``[b, n, d]``
        key_padding_mask : Tensor of bool, shape ``[b, n]``, optional
            ``True`` at padded tokens; they never influence the other tokens.
        positions : Tensor, shape ``[n]`` or ``[b, n]``, optional
            Token positions for the rotary embedding.

        Returns
        -------
        Tensor, shape ``[b, n, d]``
        """
        h = self.norm1(x)
        update = self.attn(h, key_padding_mask, positions=positions)
        for shortcut in self.shortcuts:
            update = update + shortcut(h)
        x = x + self.drop(update)
        return x + self.ffn_drop(self.ffn(self.norm2(x)))


class Transformer(nn.Module):
    """A stack of ``depth`` :class:`TransformerBlock`, optionally followed by a final norm.

    Parameters
    ----------
    depth : int
        Number of blocks.
    dim, n_heads :
        Width and heads of every block.
    **block_options
        Keyword options of :class:`TransformerBlock` (``norm``, ``ffn``, ``attention``,
        ``rope``, ``dropout``, ``augmented_shortcut`` ...); ``norm`` also sets the final norm.
    final_norm : bool
        Normalise the output of the last block (pre-norm stacks usually do; the
        ``linear-attention-transformer`` stacks of TFM-Tokenizer do not).
    """

    def __init__(
        self, depth: int, dim: int, n_heads: int, *, final_norm: bool = True, **block_options
    ):
        super().__init__()
        if depth < 1:
            raise InvalidParameterError(f"depth={depth}; must be >= 1")
        self.blocks = nn.ModuleList(
            [TransformerBlock(dim, n_heads, **block_options) for _ in range(depth)]
        )
        norm = block_options.get("norm", "layernorm")
        self.norm = make_norm(norm, dim) if final_norm else nn.Identity()

    def forward(
        self,
        x: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        *,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Run all blocks.

        Parameters
        ----------
        x : Tensor, shape ``[b, n, d]``
        key_padding_mask : Tensor of bool, shape ``[b, n]``, optional
            ``True`` at padded tokens, passed to every block.
        positions : Tensor, shape ``[n]`` or ``[b, n]``, optional
            Rotary positions, passed to every block.

        Returns
        -------
        Tensor, shape ``[b, n, d]``
        """
        for block in self.blocks:
            x = block(x, key_padding_mask, positions=positions)
        return self.norm(x)
