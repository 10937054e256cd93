"""BrainOmni stage 2: a criss-cross transformer pretrained by masked prediction of BrainTokenizer
tokens (Xiao et al., 2025, "BrainOmni: A Brain Foundation Model for Unified EEG and MEG Signals").

Re-implemented on :mod:`neurokit.nn` after the reference code (github.com/OpenTSLab/BrainOmni,
``brainomni/model.py``, ``brainomni/config.py``, ``model_utils/attn.py``). Input: the
:class:`~neurokit.tokenizers.Tokens` of a BrainTokenizer, ``codes [b, s, k, n]`` (16 latent
sources, 4 residual levels of 512 codes, n frames) with ``mask [b, s, n]``.

Kept from the reference:

- A token is a whole (source, frame) position; its input is the sum over the k levels of the
  code vectors (the tokenizer's quantized latent), plus a per-source vector (the reference
  adds the tokenizer's detached latent-source queries), mapped linearly to the model width.
  ``token_embedding`` holds one table per level: learned, or copied from a residual quantizer
  and frozen (:meth:`BrainOmni.from_tokenizer`), as the reference's frozen tokenizer.
- Masking: each valid position is hidden with probability ``mask_ratio`` (0.5), all levels at
  once; it then gets the mask vector with probability ``mask_token_ratio`` (0.8), else the
  input vector of a random position of the batch (``random_tokens="batch"``; ``"uniform"``
  draws random codes, as BERT). Loss: cross-entropy of the codes of the k levels at every
  hidden position, averaged over positions and levels.
- ``depth`` pre-RMSNorm :class:`~neurokit.nn.CrissCrossBlock`: the first half of the width and
  heads attends over time (bidirectional, rotary positions), the other half over sources (no
  positions); SELU feed-forward 4 x dim; no norm after the last block; a linear layer predicts
  k x codebook_size logits. Linear weights: truncated normal (std 0.02), zero biases.
- Rotary frequencies: the reference spreads one frequency ladder ``base**(-2j / (dim / 2))``
  over the time heads, a band per head (``rope_layout="banded"``, default); ``"standard"``
  gives each head the full ladder. Its interleaved feature pairs versus split halves here are
  a fixed permutation of query/key features: the same model class.

Differences: padded sources or frames (``mask`` False) are left out of attention, random
replacements and the loss (the reference has no padding). The reference block concatenates
the space output before the time output, so each half of the residual stream gets the other
axis' update; :class:`~neurokit.nn.CrissCrossBlock` keeps halves in place. The reference also
keeps attention dropout on in eval mode; here dropout acts in training only.

>>> import torch
>>> model = BrainOmni.from_preset("micro")
>>> out = model(torch.randint(0, 512, (2, 16, 4, 6)))  # codes [b, s, k, n]
>>> out["loss"].backward()
>>> sorted(out)[:4]
['acc', 'acc_level0', 'acc_level1', 'acc_level2']
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidParameterError
from ..nn import CrissCrossBlock, RotaryEmbedding

__all__ = ["BrainOmni", "BrainOmniBackbone", "PRESETS", "parse_tokens", "quantizer_code_vectors"]

#: architecture presets: reference "tiny" (256 wide, 8 heads, 12 blocks) and "base" (512, 16, 12)
#: over 256-dimensional tokenizer vectors; "micro" for tests and demos
PRESETS = {
    "micro": dict(embed_dim=64, dim=64, n_heads=4, depth=2),
    "tiny": dict(embed_dim=256, dim=256, n_heads=8, depth=12),
    "base": dict(embed_dim=256, dim=512, n_heads=16, depth=12),
}
ARCH_DEFAULTS = dict(
    n_sources=16, n_levels=4, codebook_size=512, embed_dim=256, dim=256, n_heads=8, depth=12,
    dropout=0.1, ffn="selu", rope_layout="banded", freeze_embeddings=False,
)  # fmt: skip
_LAYOUTS = ("banded", "standard")


def _positive_int(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidParameterError(f"{name}={value!r}; must be an integer >= {low}")


def _fraction(name, value, *, open_high=True):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not (0.0 < value < 1.0 if open_high else 0.0 <= value <= 1.0):
        allowed = "in (0, 1)" if open_high else "in [0, 1]"
        raise InvalidParameterError(f"{name}={value!r}; must be a number {allowed}")


def init_linear(module: nn.Module) -> None:
    """Truncated-normal (std 0.02) weights and zero biases for every linear layer of ``module``."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class PretrainedMixin:
    """``from_preset``, ``get_config``, ``save_pretrained`` and ``from_pretrained`` of the
    BrainOmni models (``name``, ``presets``, ``config``, ``backbone``, ``sfreq``, ``n_times``)."""

    @classmethod
    def from_preset(cls, preset: str = "tiny", **overrides):
        if preset not in cls.presets:
            raise InvalidParameterError(
                f"{cls.__name__}: unknown preset {preset!r}; available: {sorted(cls.presets)}"
            )
        return cls(**{**cls.presets[preset], **overrides})

    def get_config(self) -> dict:
        """``config.json``: kind, name, keyword arguments, input and token contracts."""
        from ..training.checkpoint import make_config

        bb = self.backbone
        tokens = {"n_sources": bb.n_sources, "n_levels": bb.n_levels,
                  "codebook_size": bb.codebook_size}  # fmt: skip
        return make_config(
            "model", self.name, self.config, sfreq=self.sfreq, n_times=self.n_times, tokens=tokens
        )

    def save_pretrained(self, path, meta=None):
        """Write ``config.json``, ``model.safetensors`` and ``meta.json`` into ``path``."""
        from ..training.checkpoint import save_pretrained

        return save_pretrained(self, path, self.get_config(), meta=meta)

    @classmethod
    def from_pretrained(cls, path):
        """Rebuild a model written by :meth:`save_pretrained` (JSON + safetensors only)."""
        from ..training.checkpoint import from_pretrained

        return from_pretrained(path, {cls.name: cls})


class _BandedRotary(RotaryEmbedding):
    """Rotary embedding whose heads share one ladder of frequencies, a band each (reference)."""

    def __init__(self, head_dim: int, n_heads: int, *, base: float = 10000.0):
        super().__init__(head_dim, base=base)
        width = head_dim * n_heads
        j = torch.arange(width // 2, dtype=torch.float32).reshape(n_heads, 1, head_dim // 2)
        self.inv_freq = base ** (-2.0 * j / width)  # [h, 1, e/2]: broadcasts over [b, h, n, e]


def parse_tokens(tokens, mask=None, *, n_levels, codebook_size, n_sources):
    """Check token inputs; returns ``codes`` int64 ``[b, s, k, n]`` (0 at padded positions) and
    ``valid`` bool ``[b, s, n]``.

    ``tokens`` is a :class:`~neurokit.tokenizers.Tokens`, a dict with ``"codes"`` (and
    optionally ``"mask"``) or an integer tensor ``[b, s, k, n]``; ``mask`` (True = real token),
    when given, overrides the one carried by ``tokens``.
    """
    sizes = None
    if isinstance(tokens, dict):
        if "codes" not in tokens:
            raise InvalidParameterError(
                f"a batch dict needs a 'codes' entry [b, s, k, n]; got keys {sorted(tokens)}"
            )
        mask = tokens.get("mask") if mask is None else mask
        tokens = tokens["codes"]
    elif hasattr(tokens, "codes") and hasattr(tokens, "mask"):
        sizes = getattr(tokens, "codebook_sizes", None)
        mask = tokens.mask if mask is None else mask
        tokens = tokens.codes
    codes = tokens
    if not isinstance(codes, torch.Tensor) or codes.ndim != 4:
        got = tuple(codes.shape) if isinstance(codes, torch.Tensor) else type(codes).__name__
        raise InvalidParameterError(
            f"codes must be an integer tensor [batch, sources, levels, frames]; got {got}"
        )
    if codes.dtype.is_floating_point or codes.dtype.is_complex or codes.dtype == torch.bool:
        raise InvalidParameterError(f"codes must hold integer code indices; got {codes.dtype}")
    b, s, k, n = codes.shape
    if k != n_levels:
        raise InvalidParameterError(
            f"codes have {k} quantizer levels (axis 2 of {tuple(codes.shape)}); the model "
            f"predicts n_levels={n_levels}: pass the tokens of a tokenizer with {n_levels} levels"
        )
    if s > n_sources or s < 1 or n < 1:
        raise InvalidParameterError(
            f"codes have {s} sources and {n} frames; the model takes 1 to n_sources={n_sources} "
            "sources and at least one frame"
        )
    if sizes is not None and any(int(v) != codebook_size for v in sizes):
        raise InvalidParameterError(
            f"tokens.codebook_sizes={tuple(sizes)}; the model was built for codebook_size="
            f"{codebook_size} at every level"
        )
    if mask is None:
        valid = torch.ones((b, s, n), dtype=torch.bool, device=codes.device)
    else:
        if not isinstance(mask, torch.Tensor) or tuple(mask.shape) != (b, s, n):
            got = tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__
            raise InvalidParameterError(
                f"mask must be a bool tensor [b, s, n] = {(b, s, n)} (True = real token); got {got}"
            )
        valid = mask.to(device=codes.device, dtype=torch.bool)
    codes = codes.long().masked_fill(~valid[:, :, None, :], 0)
    if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= codebook_size):
        raise InvalidParameterError(
            f"codes must lie in [0, {codebook_size - 1}] (codebook_size={codebook_size}) at "
            f"real positions; got values in [{int(codes.min())}, {int(codes.max())}]"
        )
    return codes, valid


def split_padding(valid: torch.Tensor):
    """``(source_pad [b, s], frame_pad [b, n])`` (True = padded) of a ``valid [b, s, n]`` mask,
    which must be an outer product: a padded source or frame is padded throughout."""
    source_ok, frame_ok = valid.any(dim=2), valid.any(dim=1)
    if not torch.equal(valid, source_ok[:, :, None] & frame_ok[:, None, :]):
        raise InvalidParameterError(
            "mask pads single (source, frame) tokens; BrainOmni pads whole sources or whole "
            "frames only (mask[b, s, n] must equal source_ok[b, s] & frame_ok[b, n])"
        )
    return ~source_ok, ~frame_ok


class BrainOmniBackbone(nn.Module):
    """Token embedding and criss-cross blocks shared by :class:`BrainOmni` and the classifier.

    Parameters (keyword-only)
    ----------
    n_sources, n_levels, codebook_size : int
        Latent sources ``s`` (16), residual levels ``k`` (4) and codes per level (512) of the
        tokenizer.
    embed_dim : int
        Width ``e`` of the code and source vectors (the tokenizer's latent width, 256).
    dim, n_heads, depth : int
        Model width ``d``, heads (even; half per axis) and criss-cross blocks.
    dropout : float
        Dropout of the blocks (reference: 0.1).
    ffn : str
        Feed-forward activation (reference: ``"selu"``), see :class:`~neurokit.nn.FeedForward`.
    rope_layout : {"banded", "standard"}
        Rotary frequencies of the time heads (see the module docstring).
    freeze_embeddings : bool
        Keep the code and source vectors fixed (as when copied from a frozen tokenizer).
    """

    def __init__(
        self,
        *,
        n_sources: int = 16,
        n_levels: int = 4,
        codebook_size: int = 512,
        embed_dim: int = 256,
        dim: int = 256,
        n_heads: int = 8,
        depth: int = 12,
        dropout: float = 0.1,
        ffn: str = "selu",
        rope_layout: str = "banded",
        freeze_embeddings: bool = False,
    ):
        super().__init__()
        for key, value in (("n_sources", n_sources), ("n_levels", n_levels),
                           ("codebook_size", codebook_size), ("embed_dim", embed_dim),
                           ("depth", depth)):  # fmt: skip
            _positive_int(key, value)
        _positive_int("n_heads", n_heads, 2)
        if n_heads % 2 or dim % n_heads or (dim // n_heads) % 2:
            raise InvalidParameterError(
                f"dim={dim}, n_heads={n_heads}; n_heads must be even and dim a multiple of "
                "n_heads with an even head width (e.g. dim=256, n_heads=8)"
            )
        if rope_layout not in _LAYOUTS:
            raise InvalidParameterError(f"rope_layout={rope_layout!r}; allowed: {_LAYOUTS}")
        _fraction("dropout", dropout, open_high=False)
        self.n_sources, self.n_levels, self.codebook_size = n_sources, n_levels, codebook_size
        self.embed_dim, self.dim, self.depth = embed_dim, dim, depth
        self.token_embedding = nn.Embedding(n_levels * codebook_size, embed_dim)
        self.source_embedding = nn.Parameter(torch.randn(n_sources, embed_dim))
        self.projection = nn.Linear(embed_dim, dim) if embed_dim != dim else nn.Identity()
        self.blocks = nn.ModuleList(
            CrissCrossBlock(dim, n_heads, ffn=ffn, norm="rmsnorm", rope=True, dropout=dropout)
            for _ in range(depth)
        )
        if rope_layout == "banded":
            for block in self.blocks:
                block.time_attn.rope = _BandedRotary(dim // n_heads, n_heads // 2)
        self.register_buffer(
            "level_offsets", torch.arange(n_levels) * codebook_size, persistent=False
        )
        nn.init.normal_(self.token_embedding.weight, std=n_levels**-0.5)  # sum: unit variance
        init_linear(self)
        if freeze_embeddings:
            self.token_embedding.weight.requires_grad_(False)
            self.source_embedding.requires_grad_(False)

    def parse(self, tokens, mask=None):
        """:func:`parse_tokens` with this model's sizes."""
        return parse_tokens(
            tokens, mask, n_levels=self.n_levels, codebook_size=self.codebook_size,
            n_sources=self.n_sources,
        )  # fmt: skip

    def embed(self, codes: torch.Tensor) -> torch.Tensor:
        """Input vectors ``[b, s, n, e]`` of checked codes ``[b, s, k, n]``: the sum over levels
        of the code vectors (the tokenizer's quantized latent when the tables are copied)."""
        return self.token_embedding(codes + self.level_offsets[:, None]).sum(dim=2)

    def encode_embedded(self, content, valid, *, n_blocks=None) -> torch.Tensor:
        """Run the first ``n_blocks`` blocks (default all) on input vectors ``[b, s, n, e]``;
        returns ``[b, s, n, d]``, zero at padded positions."""
        source_pad, frame_pad = split_padding(valid)
        s = content.shape[1]
        x = self.projection(content + self.source_embedding[:s, None, :].to(content.dtype))
        for block in self.blocks[: self.depth if n_blocks is None else n_blocks]:
            x = block(x, frame_pad, source_pad)
        return x.masked_fill(~valid[..., None], 0.0)

    def forward(self, tokens, mask=None, *, n_blocks=None) -> torch.Tensor:
        """Hidden states ``[b, s, n, d]`` of clean (unmasked) tokens."""
        codes, valid = self.parse(tokens, mask)
        return self.encode_embedded(self.embed(codes), valid, n_blocks=n_blocks)

    @torch.no_grad()
    def load_codebooks(self, vectors, source_vectors=None) -> None:
        """Copy code vectors ``[k, codebook_size, e]`` (level by level; their sum over levels is
        a token's input) and optionally source vectors ``[s, e]`` into the embeddings."""
        vectors = torch.as_tensor(vectors, dtype=torch.float32)
        want = (self.n_levels, self.codebook_size, self.embed_dim)
        if tuple(vectors.shape) != want:
            raise InvalidParameterError(
                f"code vectors of shape {tuple(vectors.shape)}; this model needs {want} "
                "(levels, codebook_size, embed_dim)"
            )
        self.token_embedding.weight.copy_(vectors.reshape(-1, self.embed_dim))
        if source_vectors is not None:
            source_vectors = torch.as_tensor(source_vectors, dtype=torch.float32)
            if tuple(source_vectors.shape) != (self.n_sources, self.embed_dim):
                raise InvalidParameterError(
                    f"source vectors of shape {tuple(source_vectors.shape)}; need "
                    f"{(self.n_sources, self.embed_dim)} (n_sources, embed_dim)"
                )
            self.source_embedding.copy_(source_vectors)


def quantizer_code_vectors(quantizer) -> torch.Tensor:
    """Per-level code vectors ``[k, v, dim]`` of a residual quantizer
    (:class:`~neurokit.nn.quantizers.ResidualVectorQuantizer`) whose sum over levels equals
    ``quantizer.decode(codes)`` (the output projection's bias, if any, goes into level 0)."""
    with torch.no_grad():
        proj = quantizer.project_out
        zero = proj(torch.zeros(1, quantizer.codebook_dim))
        tables = []
        for i, level in enumerate(quantizer.levels):
            table = proj(level.codebook.float())
            tables.append(table if i == 0 else table - zero)
        return torch.stack(tables).float()


class BrainOmni(PretrainedMixin, nn.Module):
    """BrainOmni foundation model: masked prediction of all residual levels of BrainTokenizer
    tokens with a criss-cross transformer.

    Parameters (keyword-only)
    ----------
    n_sources, n_levels, codebook_size, embed_dim, dim, n_heads, depth, dropout, ffn,
    rope_layout, freeze_embeddings :
        Architecture, see :class:`BrainOmniBackbone`. Presets: ``micro`` (64 wide, 4 heads,
        2 blocks), ``tiny`` (256, 8, 12) and ``base`` (512, 16, 12, from 256-wide vectors).
    mask_ratio : float
        Probability that a valid (source, frame) position is hidden (0.5).
    mask_token_ratio : float
        Share of hidden positions given the mask vector (0.8); the rest get a random token.
    random_tokens : {"batch", "uniform"}
        Random replacement: another position's input vector from the batch (reference) or
        uniformly random codes at every level.
    sfreq, n_times : float | None, int | None
        Sampling rate and window length of the signals behind the tokens (input contract of
        the checkpoint; unused by the computation).

    :meth:`forward` takes ``Tokens``, a batch dict (``"codes"``, ``"mask"``) or codes
    ``[b, s, k, n]`` and returns ``{"loss", "acc", "loss_level<i>", "acc_level<i>",
    "mask_fraction"}`` (scalars), so it plugs into :class:`neurokit.training.Trainer`.
    """

    name = "brainomni"
    presets = PRESETS

    def __init__(
        self,
        *,
        n_sources: int = 16,
        n_levels: int = 4,
        codebook_size: int = 512,
        embed_dim: int = 256,
        dim: int = 256,
        n_heads: int = 8,
        depth: int = 12,
        dropout: float = 0.1,
        ffn: str = "selu",
        rope_layout: str = "banded",
        freeze_embeddings: bool = False,
        mask_ratio: float = 0.5,
        mask_token_ratio: float = 0.8,
        random_tokens: str = "batch",
        sfreq: float | None = None,
        n_times: int | None = None,
    ):
        super().__init__()
        arch = dict(
            n_sources=n_sources, n_levels=n_levels, codebook_size=codebook_size,
            embed_dim=embed_dim, dim=dim, n_heads=n_heads, depth=depth, dropout=dropout,
            ffn=ffn, rope_layout=rope_layout, freeze_embeddings=freeze_embeddings,
        )  # fmt: skip
        _fraction("mask_ratio", mask_ratio)
        _fraction("mask_token_ratio", mask_token_ratio, open_high=False)
        if random_tokens not in ("batch", "uniform"):
            raise InvalidParameterError(
                f"random_tokens={random_tokens!r}; allowed: 'batch', 'uniform'"
            )
        self.config = dict(
            **arch, mask_ratio=mask_ratio, mask_token_ratio=mask_token_ratio,
            random_tokens=random_tokens, sfreq=sfreq, n_times=n_times,
        )  # fmt: skip
        self.sfreq, self.n_times = sfreq, n_times
        self.mask_ratio, self.mask_token_ratio = float(mask_ratio), float(mask_token_ratio)
        self.random_tokens = random_tokens
        self.backbone = BrainOmniBackbone(**arch)
        self.mask_token = nn.Parameter(torch.randn(embed_dim))
        self.head = nn.Linear(dim, n_levels * codebook_size)
        init_linear(self.head)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_tokenizer(cls, tokenizer, *, preset=None, source_vectors=None, **kwargs):
        """A model whose code vectors are those of ``tokenizer.quantizer`` (or of a residual
        quantizer given directly), frozen by default as in the reference. ``embed_dim``,
        ``n_levels`` and ``codebook_size`` follow the quantizer; ``source_vectors``
        ``[n_sources, e]`` (the tokenizer's latent-source vectors) are copied when given."""
        quantizer = getattr(tokenizer, "quantizer", tokenizer)
        if not hasattr(quantizer, "levels") or not hasattr(quantizer, "project_out"):
            raise InvalidParameterError(
                f"{type(tokenizer).__name__} has no residual quantizer (a `quantizer` "
                "attribute with `levels` and `project_out`, as "
                "neurokit.nn.quantizers.ResidualVectorQuantizer has)"
            )
        vectors = quantizer_code_vectors(quantizer)
        k, v, e = vectors.shape
        if preset is not None and preset not in cls.presets:
            raise InvalidParameterError(f"unknown preset {preset!r}; see {sorted(cls.presets)}")
        base = cls.presets[preset] if preset is not None else {}
        kwargs = {**base, **kwargs, "n_levels": k, "codebook_size": v, "embed_dim": e}
        kwargs.setdefault("freeze_embeddings", True)
        if getattr(tokenizer, "config", None) and "sfreq" in tokenizer.config:
            kwargs.setdefault("sfreq", float(tokenizer.config["sfreq"]))
        model = cls(**kwargs)
        model.backbone.load_codebooks(vectors, source_vectors)
        return model

    # ------------------------------------------------------------------ masking
    def draw_mask(self, valid: torch.Tensor, generator: torch.Generator | None = None):
        """``(hidden, randomized)`` bool ``[b, s, n]``: hidden valid positions, and among them
        those that get a random token instead of the mask vector."""
        device = generator.device if generator is not None else valid.device
        u = torch.rand((2, *valid.shape), generator=generator, device=device).to(valid.device)
        hidden = valid & (u[0] < self.mask_ratio)
        return hidden, hidden & (u[1] >= self.mask_token_ratio)

    def corrupt(self, content, codes, valid, hidden, randomized, generator=None):
        """Input vectors ``[b, s, n, e]`` with hidden positions replaced (mask vector or a
        random token)."""
        device = generator.device if generator is not None else content.device
        if randomized.any():
            if self.random_tokens == "batch":
                pool = valid.flatten().nonzero().squeeze(1)
                draw = torch.randint(
                    len(pool), (int(randomized.sum()),), generator=generator, device=device
                )
                index = torch.arange(valid.numel(), device=content.device)
                index[randomized.flatten()] = pool[draw.to(content.device)]
                other = content.reshape(-1, content.shape[-1])[index].view_as(content)
            else:
                random_codes = torch.randint(
                    self.backbone.codebook_size, codes.shape, generator=generator, device=device
                )
                other = self.backbone.embed(random_codes.to(codes.device))
            content = torch.where(randomized[..., None], other, content)
        masked = (hidden & ~randomized)[..., None]
        return torch.where(masked, self.mask_token.to(content.dtype), content)

    # ------------------------------------------------------------------ network
    def forward_features(self, tokens, mask=None) -> torch.Tensor:
        """Hidden states ``[b, s, n, d]`` of the clean tokens after all blocks."""
        return self.backbone(tokens, mask)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Code logits ``[b, s, n, k, codebook_size]`` of hidden states ``[b, s, n, d]``."""
        logits = self.head(features)
        return logits.unflatten(-1, (self.backbone.n_levels, self.backbone.codebook_size))

    def forward(self, tokens, mask=None, *, generator=None, return_logits=False) -> dict:
        """Masked-token loss and accuracies (see the class docstring); ``generator`` fixes the
        masking, ``return_logits`` adds ``"logits"`` ``[b, s, n, k, v]`` and ``"hidden"``."""
        bb = self.backbone
        codes, valid = bb.parse(tokens, mask)
        hidden, randomized = self.draw_mask(valid, generator)
        content = self.corrupt(bb.embed(codes), codes, valid, hidden, randomized, generator)
        logits = self.forward_head(bb.encode_embedded(content, valid))
        out = self.masked_loss(logits, codes, hidden)
        out["mask_fraction"] = hidden.sum() / valid.sum().clamp_min(1)
        if return_logits:
            out.update(logits=logits, hidden=hidden)
        return out

    def masked_loss(self, logits, codes, hidden) -> dict:
        """Cross-entropy of the codes of every level at the ``hidden`` positions, averaged over
        positions and levels, with per-level losses and accuracies."""
        k = self.backbone.n_levels
        picked = logits[hidden].float()  # [x, k, v]
        target = codes.permute(0, 1, 3, 2)[hidden]  # [x, k]
        if picked.shape[0] == 0:  # nothing hidden: a zero that keeps the graph
            zero = logits.sum() * 0.0
            return {"loss": zero, "acc": zero.detach()}
        per = F.cross_entropy(picked.flatten(0, 1), target.flatten(), reduction="none")
        per_level = per.view(-1, k).mean(dim=0)
        hits = (picked.argmax(dim=-1) == target).float().mean(dim=0)
        out = {"loss": per_level.mean(), "acc": hits.mean()}
        for i in range(k):
            out[f"loss_level{i}"] = per_level[i].detach()
            out[f"acc_level{i}"] = hits[i]
        return out
