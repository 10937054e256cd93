"""TFM-Tokenizer: single-channel time-frequency motif tokens (Pradeepkumar et al.).

Re-implemented on :mod:`neurokit.nn` following the reference code
(github.com/Jathurshan0330/TFM-Tokenizer, ``models/tfm_token.py``), with these facts from it:

- magnitude STFT of 1 s Hann windows with a 0.5 s hop, no centring, bins 0-99 Hz;
- frequency path: each frame's spectrum cut into patches of 5 bins (strided convolution, then
  two 1x1 convolutions, each with GELU and GroupNorm), a linear-attention transformer over the
  patches without positional encoding, and a gated aggregation (sigmoid gate x value, both
  strided convolutions over the patch sequence) to half the width;
- raw-signal path: a strided convolution whose kernel and stride are the STFT window and hop,
  on the signal that was *not* masked, to the other half of the width;
- a temporal linear-attention transformer over frames, L2 normalization, an EMA vector
  quantizer (8192 x 64 in the reference ``2x2x8`` model: depths 2, 2 and 8), a straight-through
  estimator, a transformer decoder and a Linear-Tanh-Linear head to the magnitude spectrum;
- training: random frequency-band (5-bin groups) x frame masking with 50 % of each, applied to
  the spectrum only, and its complement; both views reconstruct the *full* spectrum (MSE);
  the loss adds the quantizer's commitment term (beta = 1).

Differences, all options: every sample count is derived from ``sfreq`` and seconds (the
reference hard-codes 200 Hz); any number of channels is accepted (each channel is tokenized on
its own, so its codes do not depend on the other channels); the reference normalizes the inputs
of the quantizer but not its EMA codebook (``cosine_codebook=False``, the default);
``cosine_codebook=True`` gives the fully L2-normalized codebook that the paper describes. The
reference's separate codebook-loss term only moves ``nn.Embedding`` weights that its EMA update
overwrites; here the codebook is EMA-only, so that term is omitted.

Short training runs: ``spectrum_norm``, ``kmeans_init`` and ``dead_code_threshold`` (all off by
default, as in the reference) exist because the reference recipe collapses on a budget of a few
hundred steps. Its decoder starts by predicting about zero for a raw magnitude spectrum whose
bins average about 16 at 1 Hz and 3 above 25 Hz (quantile-scaled EEG, 1 s Hann window); the
error has the same sign for every frame, so every frame pushes the encoder the same way and the
unit-length latents line up. On the shared SSVEP recordings the mean pairwise cosine of the
latents went from 0.10 at initialization to 0.90 after 30 steps (0.94 after 50 steps with the
quantizer removed), so the quantizer is not the cause; after 400 steps 4 codes of 128 were in
use and the reconstruction was worse than the mean spectrum. ``spectrum_norm="bin"``
standardizes each frequency bin with statistics taken from the first training batch, so that a
zero output is already the mean spectrum; the encoder sees the standardized spectrum too, and
``decode`` maps back to magnitudes. That keeps the latents spread, but the EMA codebook still
uses few codes (about 20 of 128 on the SSVEP data); ``kmeans_init`` and ``dead_code_threshold``
(options of :class:`~neurokit.nn.quantizers.VectorQuantizer`) keep it in use. The ``tiny``
preset turns all three on.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidParameterError
from ..nn import STFTFrontEnd, Transformer
from ..nn.quantizers import VectorQuantizer
from .base import Tokenizer, TokenizerOutput, Tokens, as_signal, register_tokenizer

__all__ = ["TFMTokenizer"]


def _conv_stack(c_in, width, c_out, kernel, stride, groups):
    return nn.Sequential(
        nn.Conv1d(c_in, width, kernel_size=kernel, stride=stride),
        nn.GELU(),
        nn.GroupNorm(groups, width),
        nn.Conv1d(width, width, kernel_size=1),
        nn.GELU(),
        nn.GroupNorm(groups, width),
        nn.Conv1d(width, c_out, kernel_size=1),
        nn.GELU(),
        nn.GroupNorm(groups, c_out),
    )


@register_tokenizer
class TFMTokenizer(Tokenizer):
    """TFM-Tokenizer (see the module docstring for the architecture and its sources).

    Parameters (keyword-only)
    ----------
    sfreq : float
        Sampling rate of the input in Hz.
    window_s, hop_s : float
        STFT window and hop in seconds (reference: 1.0 and 0.5).
    fmax_hz : float
        Highest kept frequency (reference: 99, i.e. bins 0-99 Hz at 1 Hz resolution).
    freq_patch : int
        Bins per frequency patch (reference: 5).
    emb_size, codebook_size : int
        Width and number of codes (reference: 64 and 8192).
    freq_depth, temporal_depth, decoder_depth, n_heads : int
        Transformer depths (reference 2x2x8: 2, 2, 8) and heads (8).
    dropout : float
        Attention dropout of the transformers (reference: 0.2).
    mask_ratio_freq, mask_ratio_time : float
        Fractions of frequency-patch groups and of frames masked in training (0.5 and 0.5).
    mask_freq_bins, mask_time_frames : int
        Sizes of the masked groups (5 bins, 1 frame).
    cosine_codebook : bool
        Also L2-normalize the codebook (paper); False follows the reference code.
    decay, beta : float
        EMA decay (0.99) and commitment weight (1.0).
    spectrum_norm : {"none", "bin", "log-bin"}
        What the network sees and reconstructs. ``"none"`` (reference): the magnitude
        spectrum. ``"bin"``: each frequency bin minus its mean, divided by its standard
        deviation; ``"log-bin"``: the same on ``log1p`` of the magnitude. The statistics are
        buffers set once, from the valid channels of the first training batch (before that,
        eval-mode calls use mean 0 and deviation 1). The loss is the MSE in that normalized
        space; ``decode`` and ``forward``'s ``recon`` are mapped back to magnitudes.
    kmeans_init : bool
        Initialize the codebook by k-means on the first training batch (reference: False).
    dead_code_threshold : float
        Replace codes whose EMA usage falls below this many assignments per batch by vectors
        of the current batch (reference: 0, no replacement).

    ``decode`` returns the magnitude spectrum ``[b, c, f, n]`` (f bins from 0 to ``fmax_hz``).

    Examples
    --------
    >>> tok = TFMTokenizer.from_preset("tiny")
    >>> tok.eval().encode(torch.randn(2, 3, 1000)).codes.shape
    torch.Size([2, 3, 1, 9])
    """

    name = "tfm"
    reconstruction_target = "magnitude STFT spectrum [b, c, f, n], bins 0 to fmax_hz"
    presets = {
        "base": dict(
            sfreq=200.0,
            emb_size=64,
            codebook_size=8192,
            freq_depth=2,
            temporal_depth=2,
            decoder_depth=8,
            n_heads=8,
        ),
        "tiny": dict(
            sfreq=200.0,
            emb_size=32,
            codebook_size=128,
            freq_depth=1,
            temporal_depth=1,
            decoder_depth=1,
            n_heads=4,
            dropout=0.0,
            # short runs collapse without these (see the module docstring)
            spectrum_norm="bin",
            kmeans_init=True,
            dead_code_threshold=1.0,
        ),
    }
    spectrum_norms = ("none", "bin", "log-bin")

    def __init__(
        self,
        *,
        sfreq: float = 200.0,
        window_s: float = 1.0,
        hop_s: float = 0.5,
        fmax_hz: float = 99.0,
        freq_patch: int = 5,
        emb_size: int = 64,
        codebook_size: int = 8192,
        freq_depth: int = 2,
        temporal_depth: int = 2,
        decoder_depth: int = 8,
        n_heads: int = 8,
        dropout: float = 0.2,
        mask_ratio_freq: float = 0.5,
        mask_ratio_time: float = 0.5,
        mask_freq_bins: int = 5,
        mask_time_frames: int = 1,
        cosine_codebook: bool = False,
        decay: float = 0.99,
        beta: float = 1.0,
        spectrum_norm: str = "none",
        kmeans_init: bool = False,
        dead_code_threshold: float = 0.0,
    ):
        super().__init__(
            sfreq=sfreq,
            window_s=window_s,
            hop_s=hop_s,
            fmax_hz=fmax_hz,
            freq_patch=freq_patch,
            emb_size=emb_size,
            codebook_size=codebook_size,
            freq_depth=freq_depth,
            temporal_depth=temporal_depth,
            decoder_depth=decoder_depth,
            n_heads=n_heads,
            dropout=dropout,
            mask_ratio_freq=mask_ratio_freq,
            mask_ratio_time=mask_ratio_time,
            mask_freq_bins=mask_freq_bins,
            mask_time_frames=mask_time_frames,
            cosine_codebook=cosine_codebook,
            decay=decay,
            beta=beta,
            spectrum_norm=spectrum_norm,
            kmeans_init=kmeans_init,
            dead_code_threshold=dead_code_threshold,
        )
        if spectrum_norm not in self.spectrum_norms:
            raise InvalidParameterError(
                f"spectrum_norm={spectrum_norm!r}; allowed: {', '.join(self.spectrum_norms)} "
                "('none' follows the reference code)"
            )
        self.stft = STFTFrontEnd(sfreq, window_s, hop_s, fmax=fmax_hz, center=False)
        n_freq, patch = self.stft.n_freqs, int(freq_patch)
        if fmax_hz >= sfreq / 2:
            raise InvalidParameterError(
                f"fmax_hz={fmax_hz} must be below the Nyquist frequency of sfreq={sfreq} Hz"
            )
        groups = n_freq // (patch * patch)
        if n_freq % (patch * patch) or emb_size % (2 * max(groups, 1)) or emb_size % 4:
            raise InvalidParameterError(
                f"TFMTokenizer: {n_freq} frequency bins (fmax_hz={fmax_hz}, window_s="
                f"{window_s}) must be a multiple of freq_patch**2={patch * patch}, and "
                f"emb_size={emb_size} a multiple of 4 and of 2 x {groups}"
            )
        self.n_freq, self.patch = n_freq, patch
        width = emb_size
        self.freq_embed = _conv_stack(1, width, width, patch, patch, width // 4)
        # as the reference's linear-attention-transformer stacks: softmax feature maps, no
        # q/k/v bias, dropout on the attention output only, no final norm
        block = dict(
            attention="linear",
            dropout=dropout,
            ffn_dropout=0.0,
            residual_dropout=0.0,
            qkv_bias=False,
            attention_options={"feature_map": "softmax"},
            final_norm=False,
        )
        self.freq_encoder = Transformer(freq_depth, width, n_heads, **block)
        agg = width // (2 * groups)
        self.gate = nn.Sequential(nn.Conv1d(width, agg, patch, stride=patch), nn.Sigmoid())
        self.value = nn.Conv1d(width, agg, patch, stride=patch)
        n_fft, hop = self.stft.n_fft, self.stft.hop_length
        self.raw_embed = _conv_stack(1, width, width // 2, n_fft, hop, width // 4)
        self.temporal_encoder = Transformer(temporal_depth, width, n_heads, **block)
        self.quantizer = VectorQuantizer(
            width,
            codebook_size,
            decay=decay,
            l2_normalized=cosine_codebook,
            commitment_weight=beta,
            dead_code_threshold=dead_code_threshold,
            kmeans_init=kmeans_init,
            init="uniform",
        )
        self.decoder = Transformer(decoder_depth, width, n_heads, **block)
        self.head = nn.Sequential(nn.Linear(width, width), nn.Tanh(), nn.Linear(width, n_freq))
        if spectrum_norm != "none":  # per-bin statistics, set by the first training batch
            self.register_buffer("spec_mean", torch.zeros(n_freq))
            self.register_buffer("spec_std", torch.ones(n_freq))
            self.register_buffer("spec_fitted", torch.tensor(False))

    # ------------------------------------------------------------------ contract
    @property
    def frame_rate(self) -> float:
        return self.stft.frame_rate

    @property
    def codebook_sizes(self) -> tuple:
        return (int(self.config["codebook_size"]),)

    def n_frames(self, n_times: int) -> int:
        return self.stft.n_frames(n_times)

    def _signal(self, batch, sfreq=None):
        x, channel_mask, extras = as_signal(batch)
        self.check_sfreq(sfreq if sfreq is not None else extras.get("sfreq"))
        if x.shape[-1] < self.stft.n_fft:
            raise InvalidParameterError(
                f"x has {x.shape[-1]} samples; TFMTokenizer needs at least {self.stft.n_fft} "
                f"({self.config['window_s']:g} s at {self.sfreq:g} Hz)"
            )
        return x, channel_mask

    # ------------------------------------------------------------------ spectrum
    def _spectrum(self, raw, valid=None):
        """What the network sees and reconstructs, ``[B, f, n]`` (see ``spectrum_norm``)."""
        spec = self.stft(raw)
        norm = self.config["spectrum_norm"]
        if norm == "none":
            return spec
        if norm == "log-bin":
            spec = torch.log1p(spec)
        if self.training and not bool(self.spec_fitted):
            self._fit_spectrum(spec if valid is None else spec[valid])
        return (spec - self.spec_mean[:, None]) / self.spec_std[:, None]

    @torch.no_grad()
    def _fit_spectrum(self, spec):
        if spec.shape[0] == 0:
            return
        frames = spec.transpose(1, 2).reshape(-1, spec.shape[1])
        self.spec_mean.copy_(frames.mean(0))
        std = frames.std(0) if frames.shape[0] > 1 else torch.ones_like(self.spec_mean)
        self.spec_std.copy_(std.clamp_min(1e-3 * float(std.mean()) + 1e-8))
        self.spec_fitted.fill_(True)

    def _magnitude(self, spec):
        """Inverse of the normalization of :meth:`_spectrum`."""
        norm = self.config["spectrum_norm"]
        if norm == "none":
            return spec
        spec = spec * self.spec_std[:, None] + self.spec_mean[:, None]
        return torch.expm1(spec) if norm == "log-bin" else spec

    # ------------------------------------------------------------------ network
    def _encode(self, spec, raw):
        """spec [B, f, n] (possibly masked), raw [B, t] -> L2-normalized features [B, n, d]."""
        n_b, f, n = spec.shape
        z = self.freq_embed(spec.transpose(1, 2).reshape(n_b * n, 1, f))  # [B n, d, f/p]
        z = self.freq_encoder(z.transpose(1, 2)).transpose(1, 2)
        z = (self.value(z) * self.gate(z)).reshape(n_b, n, -1)
        r = self.raw_embed(raw[:, None, :]).transpose(1, 2)[:, :n]  # [B, n, d/2]
        z = self.temporal_encoder(torch.cat([z, r], dim=-1))
        return F.normalize(z, dim=-1)

    def _decode(self, vectors):
        return self.head(self.decoder(vectors)).transpose(1, 2)  # [B, f, n]

    # ------------------------------------------------------------------ API
    def encode(self, batch, *, sfreq=None) -> Tokens:
        """Codes ``[b, c, 1, n]`` of every channel (``n = n_frames(t)``), mask ``[b, c, n]``."""
        x, channel_mask = self._signal(batch, sfreq)
        b, c, t = x.shape
        raw = x.reshape(b * c, t)
        latents = self._encode(self._spectrum(raw), raw)
        codes = self.quantizer.encode(latents).reshape(b, c, 1, -1)
        mask = channel_mask[:, :, None].expand(b, c, codes.shape[-1])
        return Tokens(codes, mask, self.frame_rate, self.codebook_sizes)

    def decode(self, tokens: Tokens) -> torch.Tensor:
        """Magnitude spectrum ``[b, c, f, n]`` reconstructed from the codes."""
        b, c, _, n = tokens.codes.shape
        vectors = self.quantizer.decode(tokens.codes[:, :, 0].reshape(b * c, n))
        return self._magnitude(self._decode(vectors)).reshape(b, c, self.n_freq, n)

    def _views(self, spec):
        """The training masks: kept = (band group kept) & (frame group kept); and its complement."""
        _, f, n = spec.shape
        cfg = self.config
        fb, tb = int(cfg["mask_freq_bins"]), int(cfg["mask_time_frames"])
        n_fg, n_tg = max(f // fb, 1), max(n // tb, 1)
        freq_keep = torch.ones(n_fg, dtype=torch.bool, device=spec.device)
        freq_keep[torch.randperm(n_fg)[: int(n_fg * cfg["mask_ratio_freq"])]] = False
        time_keep = torch.ones(n_tg, dtype=torch.bool, device=spec.device)
        time_keep[torch.randperm(n_tg)[: int(n_tg * cfg["mask_ratio_time"])]] = False
        fk = freq_keep.repeat_interleave(fb)[:f]
        fk = torch.cat([fk, fk.new_ones(f - len(fk))])
        tk = time_keep.repeat_interleave(tb)[:n]
        tk = torch.cat([tk, tk.new_ones(n - len(tk))])
        keep = fk[:, None] & tk[None, :]
        return [spec * keep, spec * ~keep]

    def forward(self, batch, *, sfreq=None) -> TokenizerOutput:
        """Training: both masked views reconstruct the full spectrum; eval: one unmasked pass.

        ``losses``: ``loss`` (recon + quant), ``recon`` (MSE in the space set by
        ``spectrum_norm``, summed over the views), ``quant`` (commitment), ``perplexity``
        (codebook perplexity of the batch). ``recon`` of the output is in magnitudes.
        """
        x, channel_mask = self._signal(batch, sfreq)
        b, c, t = x.shape
        raw = x.reshape(b * c, t)
        valid = channel_mask.reshape(b * c)
        spec = self._spectrum(raw, valid)
        n = spec.shape[-1]
        views = self._views(spec) if self.training else [spec]
        recon_loss = quant_loss = torch.zeros((), device=x.device)
        weight = valid[:, None, None].float()
        denom = weight.sum().clamp(min=1) * self.n_freq * n
        for view in views:
            latents = self._encode(view, raw)
            q = self.quantizer(latents, mask=valid[:, None].expand(-1, n))
            recon = self._decode(q.quantized)
            recon_loss = recon_loss + (((recon - spec) ** 2) * weight).sum() / denom
            quant_loss = quant_loss + q.loss
        tokens = Tokens(
            q.codes.reshape(b, c, 1, n),
            channel_mask[:, :, None].expand(b, c, n),
            self.frame_rate,
            self.codebook_sizes,
        )
        losses = {
            "loss": recon_loss + quant_loss,
            "recon": recon_loss,
            "quant": quant_loss,
            "perplexity": q.perplexity.detach(),
        }
        return TokenizerOutput(
            self._magnitude(recon).reshape(b, c, self.n_freq, n),
            tokens,
            latents.reshape(b, c, n, -1),
            losses,
        )
