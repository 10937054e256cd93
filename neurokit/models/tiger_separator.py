"""A compact time-frequency EEG denoiser built from TIGER's blocks.

TIGER (Xu et al., 2024, "TIGER: Time-frequency Interleaved Gain Extraction and Reconstruction
for Efficient Speech Separation") separates sources in a band-split complex spectrogram with
multi-scale selective attention (MSA) and full-frequency-frame attention (F3A). This model
reuses those blocks of :mod:`neurokit.nn.spectral` to pull the clean EEG out of a noisy
single-channel window:

1. complex STFT (Hann window of ``window_s``, hop ``hop_s``, centred; the window and hop in
   samples come from :class:`~neurokit.nn.STFTFrontEnd`);
2. :class:`~neurokit.nn.BandSplit` on real and imaginary parts, with band edges in Hz
   (narrow at low frequencies, where EEG lives; edges at or above Nyquist are dropped);
3. ``n_blocks`` blocks, each an MSA along frames (bands folded into the batch), an MSA along
   bands (frames folded into the batch) and an F3A over both axes; with ``share_weights`` one
   block is applied ``n_blocks`` times, as TIGER iterates its block;
4. per band, a small MLP gives real and imaginary parts for each bin: a complex mask
   ``1 + m`` (``output="mask"``; the network starts near the identity) or a residual complex
   spectrum ``X + m`` (``output="mapping"``);
5. inverse STFT back to ``t`` samples.

Differences from TIGER: one speaker-free output (the clean signal) instead of several
sources, and the simplifications of the blocks listed in :mod:`neurokit.nn.spectral`.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import InvalidParameterError
from ..nn import BandSplit, FullFrequencyFrameAttention, MultiScaleSelectiveAttention, STFTFrontEnd
from .denoise import BaseDenoiser

__all__ = ["TIGERSeparator"]


class _Block(nn.Module):
    """MSA along frames, MSA along bands, F3A; ``[b, d, k, n] -> [b, d, k, n]``."""

    def __init__(self, dim, *, frame_depth, band_depth, kernel_size, n_heads, key_dim, dropout):
        super().__init__()
        self.frame_msa = MultiScaleSelectiveAttention(
            dim, depth=frame_depth, kernel_size=kernel_size
        )
        self.band_msa = MultiScaleSelectiveAttention(dim, depth=band_depth, kernel_size=kernel_size)
        self.f3a = FullFrequencyFrameAttention(dim, n_heads, key_dim=key_dim, dropout=dropout)

    def forward(self, z):
        b, d, k, n = z.shape
        y = self.frame_msa(z.permute(0, 2, 1, 3).reshape(b * k, d, n))
        z = y.reshape(b, k, d, n).permute(0, 2, 1, 3)
        y = self.band_msa(z.permute(0, 3, 1, 2).reshape(b * n, d, k))
        z = y.reshape(b, n, d, k).permute(0, 2, 3, 1)
        return self.f3a(z)


class TIGERSeparator(BaseDenoiser):
    """TIGER-style band-split denoiser of single-channel windows (see the module docstring).

    Parameters (keyword-only)
    ----------
    n_times, sfreq : int, float
        Training window in samples and sampling rate (the network accepts any length longer
        than half an STFT window).
    window_s, hop_s : float
        STFT window (0.5 s) and hop (0.125 s).
    band_edges_hz : sequence of float
        Interior band edges in Hz ((4, 8, 13, 20, 30, 45, 70, 100)).
    dim : int
        Band feature width (16).
    n_blocks : int
        Block applications (2).
    share_weights : bool
        Apply one block ``n_blocks`` times (True) or stack distinct blocks.
    frame_depth, band_depth : int
        Scales of the MSA along frames (3) and along bands (2).
    kernel_size : int
        Depthwise kernel of the MSA (odd, 3).
    n_heads, key_dim : int
        F3A heads (2) and query/key features per head (4).
    dropout : float
        F3A attention dropout.
    output : {"mask", "mapping"}
        Complex mask or residual complex mapping.
    cc_weight : float
        Weight of ``1 - CC`` added to the MSE loss.

    Examples
    --------
    >>> model = TIGERSeparator.from_preset("tiny")
    >>> model(torch.randn(2, 128)).shape
    torch.Size([2, 128])
    """

    name = "tiger_separator"
    fixed_length = False
    presets = {"base": {}, "tiny": dict(n_times=128, sfreq=64.0, dim=8, n_blocks=1)}

    def __init__(
        self, *, n_times=512, sfreq=256.0, window_s=0.5, hop_s=0.125,
        band_edges_hz=(4.0, 8.0, 13.0, 20.0, 30.0, 45.0, 70.0, 100.0), dim=16, n_blocks=2,
        share_weights=True, frame_depth=3, band_depth=2, kernel_size=3, n_heads=2, key_dim=4,
        dropout=0.0, output="mask", cc_weight=0.0,
    ):  # fmt: skip
        super().__init__()
        self._set_config(locals())
        if output not in ("mask", "mapping"):
            raise InvalidParameterError(f"output={output!r}; allowed: 'mask', 'mapping'")
        if isinstance(n_blocks, bool) or not isinstance(n_blocks, int) or n_blocks < 1:
            raise InvalidParameterError(f"n_blocks={n_blocks!r}; must be an integer >= 1")
        self.output, self.n_blocks = output, n_blocks
        self.stft = STFTFrontEnd(self.sfreq, window_s, hop_s)
        nyquist = self.sfreq / 2
        edges = [float(e) for e in band_edges_hz if 0 < float(e) < nyquist]
        self.band_split = BandSplit.from_edges(self.stft.freqs, edges, dim, complex_input=True)
        widths = self.band_split.band_widths
        options = dict(frame_depth=frame_depth, band_depth=band_depth, kernel_size=kernel_size,
                       n_heads=n_heads, key_dim=key_dim, dropout=dropout)  # fmt: skip
        self.blocks = nn.ModuleList(
            _Block(dim, **options) for _ in range(1 if share_weights else n_blocks)
        )
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.Tanh(), nn.Linear(2 * dim, 2 * w)
            )  # fmt: skip
            for w in widths
        )

    def _spectrum(self, x, inverse=False, length=None):
        s = self.stft
        window = s.window.to(x.real.dtype if x.is_complex() else x.dtype)
        if inverse:
            return torch.istft(x, s.n_fft, hop_length=s.hop_length, win_length=s.win_length,
                               window=window, center=True, length=length)  # fmt: skip
        return torch.stft(x, s.n_fft, hop_length=s.hop_length, win_length=s.win_length,
                          window=window, center=True, pad_mode="reflect",
                          return_complex=True)  # fmt: skip

    def denoise(self, x):
        t = x.shape[-1]
        if t <= self.stft.n_fft // 2:
            raise InvalidParameterError(
                f"windows of {t} samples are too short for the STFT window of "
                f"{self.stft.win_length} samples; need more than {self.stft.n_fft // 2}"
            )
        spec = self._spectrum(x)  # [b, f, n] complex
        z = self.band_split(spec)  # [b, d, k, n]
        for i in range(self.n_blocks):
            z = self.blocks[i % len(self.blocks)](z)
        feats = z.permute(0, 2, 3, 1)  # [b, k, n, d]
        parts = [head(feats[:, j]) for j, head in enumerate(self.heads)]  # [b, n, 2w]
        m = torch.cat([p.unflatten(-1, (-1, 2)) for p in parts], dim=2)  # [b, n, f, 2]
        m = torch.view_as_complex(m.transpose(1, 2).contiguous().float())  # [b, f, n]
        out = spec * (1 + m) if self.output == "mask" else spec + m
        return self._spectrum(out, inverse=True, length=t).to(x.dtype)
