"""Spectral front ends and TIGER's time-frequency blocks.

Shapes use ``b`` batch, ``t`` samples, ``f`` frequency bins, ``n`` frames, ``k`` sub-bands and
``d`` width. Every sample count is derived from the sampling frequency and durations in
seconds. Frame padding masks are boolean ``[b, n]`` with ``True`` at padded frames.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidParameterError

__all__ = [
    "STFTFrontEnd",
    "band_patches",
    "band_widths_from_edges",
    "BandSplit",
    "MultiScaleSelectiveAttention",
    "FullFrequencyFrameAttention",
]


class STFTFrontEnd(nn.Module):
    """Magnitude short-time Fourier transform with a Hann window.

    ``round(window_s * sfreq)`` samples per window and ``round(hop_s * sfreq)`` between frames;
    bins above ``fmax`` are dropped. With ``center=True`` a signal of ``t`` samples gives
    ``1 + t // hop`` frames, that is ``1 + floor(duration * frame_rate)``.

    Parameters
    ----------
    sfreq : float
        Sampling frequency in Hz.
    window_s, hop_s : float
        Window length and hop in seconds.
    fmax : float, optional
        Highest kept frequency in Hz (inclusive); all bins up to Nyquist when ``None``.
    n_fft : int, optional
        FFT size (zero-padded window); defaults to the window length in samples.
    center : bool
        Pad half a window on both sides so frame ``i`` is centred on sample ``i * hop``.
    pad_mode : {"reflect", "constant"}
        Padding used with ``center`` (signals too short for reflection use zeros).
    """

    def __init__(
        self,
        sfreq: float,
        window_s: float,
        hop_s: float,
        fmax: float | None = None,
        *,
        n_fft: int | None = None,
        center: bool = True,
        pad_mode: str = "reflect",
    ):
        super().__init__()
        if sfreq <= 0 or window_s <= 0 or hop_s <= 0:
            raise InvalidParameterError(
                f"sfreq={sfreq}, window_s={window_s}, hop_s={hop_s}; all must be positive"
            )
        self.sfreq = float(sfreq)
        self.win_length = int(round(window_s * sfreq))
        self.hop_length = int(round(hop_s * sfreq))
        if self.win_length < 2 or self.hop_length < 1:
            raise InvalidParameterError(
                f"window_s={window_s}, hop_s={hop_s} at sfreq={sfreq} give a window of "
                f"{self.win_length} and a hop of {self.hop_length} samples; need >= 2 and >= 1"
            )
        self.n_fft = int(n_fft) if n_fft is not None else self.win_length
        if self.n_fft < self.win_length:
            raise InvalidParameterError(f"n_fft={n_fft} is shorter than the window")
        if pad_mode not in ("reflect", "constant"):
            raise InvalidParameterError(f"pad_mode={pad_mode!r}; allowed: 'reflect', 'constant'")
        self.center, self.pad_mode = center, pad_mode
        freqs = torch.arange(self.n_fft // 2 + 1, dtype=torch.float64) * self.sfreq / self.n_fft
        if fmax is not None:
            if fmax <= 0:
                raise InvalidParameterError(f"fmax={fmax}; must be positive")
            freqs = freqs[freqs <= fmax * (1 + 1e-9)]
        self.n_freqs = len(freqs)
        self.register_buffer("freqs", freqs.float(), persistent=False)
        window = torch.hann_window(self.win_length, periodic=True)
        self.register_buffer("window", window, persistent=False)

    @property
    def frame_rate(self) -> float:
        """Frames per second, ``sfreq / hop``."""
        return self.sfreq / self.hop_length

    def n_frames(self, n_times: int) -> int:
        """Number of frames produced for a signal of ``n_times`` samples."""
        if self.center:
            return 1 + n_times // self.hop_length
        return max(0, 1 + (n_times - self.n_fft) // self.hop_length)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Transform ``[..., t]`` into the magnitude spectrogram ``[..., f, n]``."""
        lead, t = x.shape[:-1], x.shape[-1]
        mode = self.pad_mode if t > self.n_fft // 2 else "constant"
        spec = torch.stft(
            x.reshape(-1, t),
            self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window.to(x.dtype),
            center=self.center,
            pad_mode=mode,
            return_complex=True,
        )
        mag = spec[:, : self.n_freqs].abs()
        return mag.reshape(*lead, self.n_freqs, mag.shape[-1])


def band_patches(
    spec: torch.Tensor, *, n_bands: int | None = None, band_width: int | None = None
) -> torch.Tensor:
    """Split the frequency axis of ``spec`` into equal patches of adjacent bins.

    Give exactly one of ``n_bands`` and ``band_width``. When the bin count is not a multiple of
    the patch width, the top of the spectrum is zero-padded.

    Parameters
    ----------
    spec : Tensor, shape ``[..., f, n]``
    n_bands : int, optional
        Number of patches ``k`` (width ``ceil(f / k)``).
    band_width : int, optional
        Bins per patch ``w`` (count ``ceil(f / w)``).

    Returns
    -------
    Tensor, shape ``[..., k, w, n]``
    """
    if (n_bands is None) == (band_width is None):
        raise InvalidParameterError("give exactly one of n_bands and band_width")
    f = spec.shape[-2]
    if n_bands is not None:
        if n_bands < 1 or n_bands > f:
            raise InvalidParameterError(f"n_bands={n_bands}; must be in [1, {f}]")
        band_width = math.ceil(f / n_bands)
    if band_width < 1:
        raise InvalidParameterError(f"band_width={band_width}; must be >= 1")
    k = math.ceil(f / band_width)
    spec = F.pad(spec, (0, 0, 0, k * band_width - f))
    return spec.reshape(*spec.shape[:-2], k, band_width, spec.shape[-1])


def band_widths_from_edges(freqs, edges_hz: Sequence[float]) -> list[int]:
    """Bin counts of the sub-bands delimited by ``edges_hz`` (interior boundaries, in Hz).

    Band 0 holds the bins below ``edges_hz[0]``, band ``i`` those in
    ``[edges_hz[i-1], edges_hz[i])`` and the last band those at or above ``edges_hz[-1]``.
    Non-uniform edges (narrow at low frequencies) give TIGER-style band splits.
    """
    freqs = torch.as_tensor(freqs, dtype=torch.float64)
    bounds = torch.as_tensor(list(edges_hz), dtype=torch.float64)
    if len(bounds) and bool((bounds[1:] <= bounds[:-1]).any()):
        raise InvalidParameterError(f"edges_hz={list(edges_hz)}; must be strictly increasing")
    idx = torch.bucketize(freqs, bounds, right=True)
    widths = torch.bincount(idx, minlength=len(bounds) + 1).tolist()
    if 0 in widths:
        raise InvalidParameterError(
            f"edges_hz={list(edges_hz)} leave an empty band for bins {freqs.tolist()}"
        )
    return widths


class BandSplit(nn.Module):
    """Band-split front end of TIGER (Xu et al., 2024, "TIGER: Time-frequency Interleaved Gain
    Extraction and Reconstruction for Efficient Speech Separation"), after BSRNN.

    The frequency axis is cut into sub-bands of possibly different widths; each band's bins
    (real and imaginary parts for complex input) are normalised and projected by their own
    linear layer to a shared width ``d``. Simplification: the per-band normalisation is a
    layer norm over the band's features within each frame (TIGER normalises over the band and
    time), so that frames stay independent of each other.

    Parameters
    ----------
    band_widths : sequence of int
        Bins per sub-band, low to high; their sum is the expected bin count ``f``.
    dim : int
        Shared width ``d``.
    complex_input : bool
        Expect a complex spectrogram (2 features per bin) instead of a real one (1 feature).
    """

    def __init__(self, band_widths: Sequence[int], dim: int, *, complex_input: bool = False):
        super().__init__()
        self.band_widths = [int(w) for w in band_widths]
        if not self.band_widths or min(self.band_widths) < 1:
            raise InvalidParameterError(f"band_widths={list(band_widths)}; need widths >= 1")
        self.n_freqs, self.complex_input = sum(self.band_widths), complex_input
        per_bin = 2 if complex_input else 1
        self.norms = nn.ModuleList([nn.LayerNorm(w * per_bin) for w in self.band_widths])
        self.projs = nn.ModuleList([nn.Linear(w * per_bin, dim) for w in self.band_widths])

    @classmethod
    def from_edges(cls, freqs, edges_hz: Sequence[float], dim: int, **kwargs) -> BandSplit:
        """Build from bin frequencies and band edges (see :func:`band_widths_from_edges`)."""
        return cls(band_widths_from_edges(freqs, edges_hz), dim, **kwargs)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """Map ``[b, f, n]`` (real, or complex with ``complex_input``) to ``[b, d, k, n]``."""
        if spec.shape[-2] != self.n_freqs:
            raise InvalidParameterError(
                f"spectrogram has {spec.shape[-2]} bins; band widths sum to {self.n_freqs}"
            )
        if spec.is_complex() != self.complex_input:
            raise InvalidParameterError(
                f"complex_input={self.complex_input} but got a {spec.dtype} spectrogram"
            )
        feats = torch.view_as_real(spec) if self.complex_input else spec[..., None]
        feats = feats.transpose(-3, -2)  # [b, n, f, per_bin]
        out, start = [], 0
        for w, norm, proj in zip(self.band_widths, self.norms, self.projs):
            band = feats[..., start : start + w, :].flatten(-2)  # [b, n, w * per_bin]
            out.append(proj(norm(band)))
            start += w
        return torch.stack(out, dim=-1).permute(0, 2, 3, 1)  # [b, d, k, n]


class _Select(nn.Module):
    """Selective injection ``local' * sigmoid(gate(global)) + value(global)`` (TIGER, TDANet)."""

    def __init__(self, width: int):
        super().__init__()

        def unit():
            return nn.Sequential(nn.Conv1d(width, width, 1), nn.GroupNorm(1, width))

        self.local, self.gate, self.value = unit(), unit(), unit()

    def forward(self, local: torch.Tensor, glob: torch.Tensor) -> torch.Tensor:
        glob = F.interpolate(glob, size=local.shape[-1], mode="nearest")
        return self.local(local) * torch.sigmoid(self.gate(glob)) + self.value(glob)


class MultiScaleSelectiveAttention(nn.Module):
    """Multi-scale selective attention (MSA) module of TIGER (Xu et al., 2024).

    Structure: a 1x1 projection to ``hidden``; an encoder of ``depth`` depthwise convolutions,
    all but the first with stride 2, giving features at ``depth`` scales; their average-pooled
    sum at the coarsest scale forms a global context; at each scale a selective-attention unit
    gates the local features by ``sigmoid`` of the (upsampled) global context and adds it; a
    top-down pass fuses adjacent scales with the same unit; a 1x1 projection back to ``dim``
    and a residual connection. Simplification: TIGER's global stage also runs a small
    attention/feed-forward on the pooled context; here it is a 1x1 convolution with PReLU.
    There is no padding mask: fold the other axis into the batch and give equal lengths.

    Parameters
    ----------
    dim : int
        Channels ``d``.
    hidden : int, optional
        Inner width; default ``dim``.
    depth : int
        Number of scales.
    kernel_size : int
        Kernel of the depthwise convolutions (odd).
    """

    def __init__(
        self, dim: int, *, hidden: int | None = None, depth: int = 4, kernel_size: int = 5
    ):
        super().__init__()
        if depth < 1 or kernel_size < 1 or kernel_size % 2 == 0:
            raise InvalidParameterError(
                f"depth={depth}, kernel_size={kernel_size}; need depth >= 1 and an odd kernel"
            )
        h = hidden or dim
        self.proj_in = nn.Sequential(nn.Conv1d(dim, h, 1), nn.PReLU(), nn.GroupNorm(1, h))
        self.down = nn.ModuleList(
            nn.Sequential(
                nn.Conv1d(h, h, kernel_size, 1 if i == 0 else 2, kernel_size // 2, groups=h),
                nn.GroupNorm(1, h),
            )
            for i in range(depth)
        )
        self.context = nn.Sequential(nn.Conv1d(h, h, 1), nn.PReLU())
        self.select = nn.ModuleList(_Select(h) for _ in range(depth))
        self.merge = nn.ModuleList(_Select(h) for _ in range(depth - 1))
        self.proj_out = nn.Conv1d(h, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``[b, d, l]`` (``l`` frames or bands) to ``[b, d, l]``."""
        z = self.proj_in(x)
        scales = []
        for conv in self.down:
            z = conv(z)
            scales.append(z)
        size = scales[-1].shape[-1]
        glob = self.context(sum(F.adaptive_avg_pool1d(s, size) for s in scales))
        picked = [sel(s, glob) for sel, s in zip(self.select, scales)]
        y = picked[-1]
        for i in range(len(picked) - 2, -1, -1):
            y = self.merge[i](picked[i], y)
        return x + self.proj_out(y)


class _FullAxisAttention(nn.Module):
    """Attention over one axis whose tokens are embedded by all positions of the other axis."""

    def __init__(self, dim: int, n_heads: int, key_dim: int, dropout: float):
        super().__init__()
        if dim % n_heads:
            raise InvalidParameterError(f"dim={dim} is not a multiple of n_heads={n_heads}")
        self.h, self.e, self.dropout = n_heads, key_dim, float(dropout)
        self.q = nn.Sequential(nn.Linear(dim, n_heads * key_dim), nn.PReLU())
        self.k = nn.Sequential(nn.Linear(dim, n_heads * key_dim), nn.PReLU())
        self.v = nn.Sequential(nn.Linear(dim, dim), nn.PReLU())
        self.q_norm, self.k_norm = nn.LayerNorm(key_dim), nn.LayerNorm(key_dim)
        self.out = nn.Sequential(nn.Linear(dim, dim), nn.PReLU(), nn.LayerNorm(dim))

    def forward(self, x, token_mask=None, other_mask=None):
        """``x`` [b, T, O, d]: attend over T, embedding each token by its O positions."""
        b, n_tok, n_oth, d = x.shape
        h = self.h
        q = self.q_norm(self.q(x).view(b, n_tok, n_oth, h, self.e))
        k = self.k_norm(self.k(x).view(b, n_tok, n_oth, h, self.e))
        v = self.v(x).view(b, n_tok, n_oth, h, d // h)
        count = torch.full((b,), float(n_oth), device=x.device)
        if other_mask is not None:
            keep = (~other_mask.bool())[:, None, :, None, None].to(x.dtype)
            q, k, v = q * keep, k * keep, v * keep
            count = keep.flatten(1).sum(1).clamp_min(1.0)
        q = q / torch.sqrt(count * self.e)[:, None, None, None, None]

        def heads(z):
            return z.permute(0, 3, 1, 2, 4).reshape(b, h, n_tok, -1)

        attn_mask = None
        if token_mask is not None:
            allow = ~token_mask.bool()
            allow = allow | ~allow.any(-1, keepdim=True)
            attn_mask = allow[:, None, None, :]
        drop = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(
            heads(q), heads(k), heads(v), attn_mask=attn_mask, dropout_p=drop, scale=1.0
        )
        y = y.view(b, h, n_tok, n_oth, d // h).permute(0, 2, 3, 1, 4).reshape(b, n_tok, n_oth, d)
        y = self.out(y)
        if token_mask is not None:
            y = y.masked_fill(token_mask.bool()[:, :, None, None], 0.0)
        if other_mask is not None:
            y = y.masked_fill(other_mask.bool()[:, None, :, None], 0.0)
        return y


class FullFrequencyFrameAttention(nn.Module):
    """Full-frequency-frame attention (F3A) of TIGER (Xu et al., 2024), after TF-GridNet.

    Two residual attentions over a band-split representation ``[b, d, k, n]``:

    - across frames: each frame is a token whose query/key embedding concatenates the features
      of all ``k`` sub-bands (full-frequency), so attention weights see the whole spectrum;
    - across sub-bands within the whole excerpt: each band is a token embedded by all of its
      frames (full-frame).

    Queries/keys are per-position linear maps to ``key_dim`` features per head with PReLU and
    layer norm; values keep ``d / n_heads`` features per head; the output goes through a linear
    map, PReLU and layer norm and is added to the input. Simplification: TIGER normalises the
    projections over the whole band-by-frame plane; here the normalisation is per position,
    which lets padded frames be excluded exactly. Padded frames never change valid outputs.

    Parameters
    ----------
    dim : int
        Width ``d``.
    n_heads : int
        Heads per attention.
    key_dim : int
        Query/key features per head and position.
    axes : {"both", "frame", "band"}
        Which of the two attentions to run (frames first when both).
    dropout : float
        Dropout on the attention weights.
    """

    def __init__(
        self,
        dim: int,
        n_heads: int = 4,
        *,
        key_dim: int = 4,
        axes: str = "both",
        dropout: float = 0.0,
    ):
        super().__init__()
        if axes not in ("both", "frame", "band"):
            raise InvalidParameterError(f"axes={axes!r}; allowed: 'both', 'frame', 'band'")
        both = axes == "both"
        use_frame, use_band = both or axes == "frame", both or axes == "band"
        self.frame = _FullAxisAttention(dim, n_heads, key_dim, dropout) if use_frame else None
        self.band = _FullAxisAttention(dim, n_heads, key_dim, dropout) if use_band else None

    def forward(self, x: torch.Tensor, frame_padding_mask: torch.Tensor | None = None):
        """Attend across frames and/or bands.

        Parameters
        ----------
        x : Tensor, shape ``[b, d, k, n]``
        frame_padding_mask : Tensor of bool, shape ``[b, n]``, optional
            ``True`` at padded frames.

        Returns
        -------
        Tensor, shape ``[b, d, k, n]``
        """
        if self.frame is not None:
            y = x.permute(0, 3, 2, 1)  # [b, n, k, d]
            y = y + self.frame(y, token_mask=frame_padding_mask)
            x = y.permute(0, 3, 2, 1)
        if self.band is not None:
            y = x.permute(0, 2, 3, 1)  # [b, k, n, d]
            y = y + self.band(y, other_mask=frame_padding_mask)
            x = y.permute(0, 3, 1, 2)
        return x
