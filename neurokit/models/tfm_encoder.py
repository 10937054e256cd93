"""TFM masked-token encoder: a transformer over the discrete tokens of a TFM-Tokenizer.

Re-implemented on :mod:`neurokit.nn` after the classifier of the TFM-Tokenizer reference code
(github.com/Jathurshan0330/TFM-Tokenizer, ``models/tfm_token.py``, ``TFM_TOKEN_Classifier``),
keeping its structure:

- a token embedding with ``codebook_size + 1`` rows, the last id being the mask token; it can
  start from the tokenizer's code vectors (:meth:`TFMTokenEncoder.from_tokenizer`);
- a learned channel embedding (16 channels in the reference) and a sinusoidal temporal position
  embedding, both added to every token of a channel, then dropout 0.1;
- the ``[b, c, n]`` tokens flattened to one sequence of ``c * n`` tokens behind a CLS token
  (zero-initialized, no weight decay), a linear-attention transformer (reference best model
  "64x4": width 64, depth 4, 8 heads, attention dropout 0.2), a linear head on the CLS output;
- pretraining by masked-token prediction: each token is replaced by the mask id with
  probability 0.5, the complementary view is masked too, and both predict the original codes
  of their masked positions (cross-entropy, the two losses summed).

Differences: the reference predicts codes with its classification head built with
``codebook_size`` outputs and swaps it before fine-tuning; here a separate ``token_head``
predicts codes and ``head`` classifies, so one module does both. The linear attention is
:class:`neurokit.nn.LinearAttention` (``elu + 1`` feature map) in a pre-norm block. Padded
channels (``mask`` False) are left out of attention and of the loss. A codebook whose width
differs from ``emb_size`` is mapped onto it: a random orthonormal embedding when it is
narrower (dot products kept), its leading principal directions when it is wider.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidParameterError
from ..nn import PositionalEmbedding, Transformer
from ..nn.dropout import Dropout

__all__ = ["TFMTokenEncoder"]


class TFMTokenEncoder(nn.Module):
    """Transformer encoder over TFM tokens, with classification and masked-token heads.

    Parameters (keyword-only)
    ----------
    n_outputs : int | None
        Classes of ``head`` (None: ``head`` is the identity and returns the CLS features).
    n_chans : int | None
        Channels of the inputs; the channel table holds ``max(max_channels, n_chans)`` rows.
    n_times, sfreq : int | None, float | None
        Window length in samples and sampling rate of the signal the codes come from (the
        input contract written by :meth:`get_config`; the computation does not use them).
    codebook_size : int
        Codes of the tokenizer; id ``codebook_size`` is the mask token.
    emb_size, depth, n_heads : int
        Width, transformer blocks and attention heads (reference: 64, 4, 8).
    max_channels : int
        Rows of the learned channel embedding (reference: 16).
    dropout, pos_dropout : float
        Transformer dropout (0.2) and dropout after the embeddings (0.1).

    Inputs of :meth:`forward`: ``codes`` int64 ``[b, c, n]`` (or ``[b, c, 1, n]``, or a
    :class:`~neurokit.tokenizers.Tokens`), and ``mask`` bool ``[b, c]`` (or ``[b, c, n]``),
    True for real channels. Output: logits ``[b, n_outputs]``.

    Examples
    --------
    >>> enc = TFMTokenEncoder.from_preset("tiny", n_outputs=4)
    >>> enc(torch.randint(0, 128, (2, 8, 9))).shape
    torch.Size([2, 4])
    """

    name = "tfm_encoder"
    presets = {
        "base": dict(codebook_size=8192, emb_size=64, depth=4, n_heads=8),
        "tiny": dict(codebook_size=128, emb_size=32, depth=2, n_heads=4),
    }

    def __init__(
        self,
        *,
        n_outputs: int | None = None,
        n_chans: int | None = None,
        n_times: int | None = None,
        sfreq: float | None = None,
        codebook_size: int = 8192,
        emb_size: int = 64,
        depth: int = 4,
        n_heads: int = 8,
        max_channels: int = 16,
        dropout: float = 0.2,
        pos_dropout: float = 0.1,
    ):
        super().__init__()
        for key, value in (("codebook_size", codebook_size), ("max_channels", max_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidParameterError(f"{key}={value!r}; must be a positive integer")
        if emb_size % 2 or emb_size % n_heads:
            raise InvalidParameterError(
                f"emb_size={emb_size} must be even and a multiple of n_heads={n_heads}"
            )
        self.config = dict(
            n_outputs=n_outputs, n_chans=n_chans, n_times=n_times, sfreq=sfreq,
            codebook_size=codebook_size, emb_size=emb_size, depth=depth, n_heads=n_heads,
            max_channels=max_channels, dropout=dropout, pos_dropout=pos_dropout,
        )  # fmt: skip
        self.n_outputs, self.n_chans, self.n_times, self.sfreq = n_outputs, n_chans, n_times, sfreq
        self.codebook_size, self.mask_id = codebook_size, codebook_size
        self.token_embedding = nn.Embedding(codebook_size + 1, emb_size)
        self.channel_embedding = nn.Embedding(max(max_channels, n_chans or 0), emb_size)
        self.temporal_embedding = PositionalEmbedding(emb_size)
        self.pos_drop = Dropout(pos_dropout)
        self.cls_token = nn.Parameter(torch.zeros(emb_size))  # 1-D: no weight decay
        self.encoder = Transformer(depth, emb_size, n_heads, attention="linear", dropout=dropout)
        self.token_head = nn.Linear(emb_size, codebook_size)
        self.head = nn.Linear(emb_size, n_outputs) if n_outputs else nn.Identity()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_preset(cls, preset: str = "tiny", **overrides) -> TFMTokenEncoder:
        if preset not in cls.presets:
            raise InvalidParameterError(
                f"{cls.__name__}: unknown preset {preset!r}; available: {sorted(cls.presets)}"
            )
        return cls(**{**cls.presets[preset], **overrides})

    @classmethod
    def from_tokenizer(cls, tokenizer, *, preset: str | None = None, **kwargs) -> TFMTokenEncoder:
        """An encoder whose token embedding starts from ``tokenizer.quantizer.codebook``.

        ``codebook_size`` and (unless given) ``sfreq`` come from the tokenizer; the mask-token
        row keeps its random initialization, as in the reference.
        """
        book = tokenizer.quantizer.codebook.detach().float().cpu()
        size = int(book.shape[0])
        if kwargs.get("codebook_size", size) != size:
            raise InvalidParameterError(
                f"codebook_size={kwargs['codebook_size']} differs from the tokenizer's {size}"
            )
        if preset is not None and preset not in cls.presets:
            raise InvalidParameterError(f"unknown preset {preset!r}; see {sorted(cls.presets)}")
        kwargs = {**cls.presets.get(preset, {}), **kwargs, "codebook_size": size}
        kwargs.setdefault("sfreq", getattr(tokenizer, "sfreq", None))
        model = cls(**kwargs)
        model.load_codebook(book)
        return model

    @torch.no_grad()
    def load_codebook(self, vectors: torch.Tensor) -> None:
        """Copy code vectors ``[codebook_size, e]`` into the token embedding (mask row kept)."""
        k, e = vectors.shape
        d = self.token_embedding.embedding_dim
        if k != self.codebook_size:
            raise InvalidParameterError(f"{k} code vectors for codebook_size={self.codebook_size}")
        vectors = vectors.float()
        if e < d:  # orthonormal columns: [k, e] -> [k, d] with the same inner products
            g = torch.Generator().manual_seed(0)
            q, _ = torch.linalg.qr(torch.randn(d, e, generator=g))
            vectors = vectors @ q.T
        elif e > d:  # keep the d directions of largest energy
            vectors = vectors @ torch.linalg.svd(vectors, full_matrices=False)[2][:d].T
        self.token_embedding.weight[:k] = vectors.to(self.token_embedding.weight)

    # ------------------------------------------------------------------ network
    def _inputs(self, codes, mask):
        """``codes [b, c, n]`` int64 and ``pad [b, c, n]`` bool (True where padded)."""
        if hasattr(codes, "codes") and hasattr(codes, "mask"):  # a Tokens object
            codes, mask = codes.codes, codes.mask if mask is None else mask
        if codes.ndim == 4:
            if codes.shape[2] != 1:
                raise InvalidParameterError(f"codes {tuple(codes.shape)} must have one level")
            codes = codes[:, :, 0]
        if codes.ndim != 3 or codes.dtype != torch.int64:
            raise InvalidParameterError(
                f"codes must be int64 [batch, channels, tokens]; got {codes.dtype} "
                f"{tuple(codes.shape)}"
            )
        b, c, n = codes.shape
        if c > self.channel_embedding.num_embeddings:
            raise InvalidParameterError(
                f"{c} channels > max_channels={self.channel_embedding.num_embeddings}"
            )
        valid = torch.ones_like(codes, dtype=torch.bool) if mask is None else mask.bool()
        if valid.ndim == 2:
            valid = valid[:, :, None].expand(b, c, n)
        if valid.shape != codes.shape:
            raise InvalidParameterError(
                f"mask {tuple(valid.shape)} must be [b, c] or [b, c, n] for codes {(b, c, n)}"
            )
        codes = codes.masked_fill(~valid, 0)
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) > self.mask_id):
            raise InvalidParameterError(
                f"codes must lie in [0, {self.mask_id}] (mask id {self.mask_id}); got "
                f"[{int(codes.min())}, {int(codes.max())}]"
            )
        return codes, ~valid

    def _encode(self, codes, pad):
        """Transformer outputs ``[b, 1 + c * n, d]`` (CLS first) of checked inputs."""
        b, c, n = codes.shape
        x = self.token_embedding(codes)
        x = x + self.channel_embedding.weight[:c, None, :]
        x = self.pos_drop(x + self.temporal_embedding(n))
        x = torch.cat([self.cls_token.expand(b, 1, -1), x.reshape(b, c * n, -1)], dim=1)
        pad = torch.cat([pad.new_zeros(b, 1), pad.reshape(b, c * n)], dim=1)
        return self.encoder(x, pad)

    def encode(self, codes, mask=None) -> torch.Tensor:
        """All outputs ``[b, 1 + c * n, d]``: the CLS token, then channel by channel."""
        return self._encode(*self._inputs(codes, mask))

    def forward_features(self, codes, mask=None) -> torch.Tensor:
        """The CLS output ``[b, emb_size]``."""
        return self.encode(codes, mask)[:, 0]

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features)

    def forward(self, codes, mask=None) -> torch.Tensor:
        """Class logits ``[b, n_outputs]``."""
        return self.forward_head(self.forward_features(codes, mask))

    def masked_token_loss(
        self, codes, mask=None, *, mask_ratio: float = 0.5, symmetric: bool = True,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:  # fmt: skip
        """Masked-token prediction loss (scalar).

        Each real token is replaced by the mask id with probability ``mask_ratio``; the
        ``token_head`` predicts the original codes of the masked positions (cross-entropy).
        With ``symmetric`` (the reference), the complementary view adds its own loss.
        """
        if not 0.0 < mask_ratio < 1.0:
            raise InvalidParameterError(f"mask_ratio={mask_ratio}; must be in (0, 1)")
        codes, pad = self._inputs(codes, mask)
        draw = torch.rand(codes.shape, generator=generator, device="cpu").to(codes.device)
        hidden = draw < mask_ratio
        target = codes.flatten(1)
        loss = torch.zeros((), device=codes.device)
        for view in [hidden, ~hidden] if symmetric else [hidden]:
            chosen = view & ~pad
            logits = self.token_head(self._encode(codes.masked_fill(chosen, self.mask_id), pad))
            picked = chosen.flatten(1)
            if picked.any():
                loss = loss + F.cross_entropy(logits[:, 1:][picked], target[picked])
            else:  # nothing masked: a zero that keeps the graph
                loss = loss + 0.0 * logits.sum()
        return loss

    # ------------------------------------------------------------------ persistence
    def get_config(self) -> dict:
        from ..training.checkpoint import make_config

        return make_config("model", self.name, self.config, sfreq=self.sfreq, n_times=self.n_times)

    def save_pretrained(self, path, meta=None):
        from ..training.checkpoint import save_pretrained

        return save_pretrained(self, path, self.get_config(), meta=meta)

    @classmethod
    def from_pretrained(cls, path) -> TFMTokenEncoder:
        from ..training.checkpoint import from_pretrained

        return from_pretrained(path, {cls.name: cls})
