"""Reconstruction losses for signals: multi-resolution STFT, Pearson correlation, Fourier
amplitude and phase.

Shapes use ``b`` batch, ``c`` channels and ``t`` samples; every loss accepts any leading shape
``[..., t]``. ``x`` is the prediction and ``y`` the target. ``valid_mask`` is a boolean tensor
broadcastable to ``[..., t]`` that is ``True`` where a sample counts (note: the opposite of
the attention padding masks, which mark the padded positions); masked samples are zeroed in
both signals (spectral losses) or left out of the statistics (Pearson).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..errors import InvalidParameterError

__all__ = ["multi_resolution_stft_loss", "pearson_loss", "fft_amplitude_phase_loss"]


def _apply_mask(x, y, valid_mask):
    if valid_mask is None:
        return x, y
    w = valid_mask.to(x.dtype)
    return x * w, y * w


def _stft_magnitude(x, n_fft, hop, win, eps):
    t = x.shape[-1]
    window = torch.hann_window(win, device=x.device, dtype=x.dtype)
    spec = torch.stft(
        x.reshape(-1, t),
        n_fft,
        hop_length=hop,
        win_length=win,
        window=window,
        center=True,
        pad_mode="reflect" if t > n_fft // 2 else "constant",
        return_complex=True,
    )
    return (spec.real.square() + spec.imag.square()).clamp_min(eps).sqrt()  # [b', f, n]


def multi_resolution_stft_loss(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    fft_sizes: Sequence[int] = (32, 64, 128),
    hop_sizes: Sequence[int] = (8, 16, 32),
    win_lengths: Sequence[int] = (32, 64, 128),
    valid_mask: torch.Tensor | None = None,
    eps: float = 1e-7,
) -> torch.Tensor:
    """Multi-resolution STFT loss (Yamamoto et al., 2020, "Parallel WaveGAN"; used by EnCodec).

    For each resolution, spectral convergence ``||Y| - |X||_F / ||Y||_F`` (per signal) plus the
    mean absolute log-magnitude difference; the result is averaged over resolutions. Sizes are
    in samples (defaults suit signals of a few hundred samples, such as EEG at 100-500 Hz).

    Parameters
    ----------
    x, y : Tensor, shape ``[..., t]``
        Prediction and target.
    fft_sizes, hop_sizes, win_lengths : sequence of int
        One entry per resolution (same lengths; ``win_length <= fft_size``).
    valid_mask : Tensor of bool, broadcastable to ``[..., t]``, optional
        ``True`` on samples that count; the others are zeroed in both signals.
    eps : float
        Floor of the squared magnitude.

    Returns
    -------
    Tensor, scalar
    """
    if not (len(fft_sizes) == len(hop_sizes) == len(win_lengths)) or not len(fft_sizes):
        raise InvalidParameterError("fft_sizes, hop_sizes and win_lengths need equal lengths > 0")
    if x.shape != y.shape:
        raise InvalidParameterError(f"shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
    x, y = _apply_mask(x, y, valid_mask)
    total = x.new_zeros(())
    for n_fft, hop, win in zip(fft_sizes, hop_sizes, win_lengths):
        if win > n_fft:
            raise InvalidParameterError(f"win_length={win} exceeds fft_size={n_fft}")
        mx = _stft_magnitude(x, n_fft, hop, win, eps)
        my = _stft_magnitude(y, n_fft, hop, win, eps)
        num = torch.linalg.vector_norm(my - mx, dim=(-2, -1))
        den = torch.linalg.vector_norm(my, dim=(-2, -1)).clamp_min(eps)
        sc = (num / den).mean()
        log_mag = (my.log() - mx.log()).abs().mean()
        total = total + sc + log_mag
    return total / len(fft_sizes)


def pearson_loss(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    valid_mask: torch.Tensor | None = None,
    kind: str = "linear",
    dim: int = -1,
    eps: float = 1e-8,
    reduction: str = "mean",
) -> torch.Tensor:
    """Correlation loss ``1 - r`` (``kind="linear"``) or ``exp(-r)`` (``kind="exp"``).

    ``r`` is Pearson's correlation between ``x`` and ``y`` along ``dim``, computed on the valid
    samples only. ``1 - r`` is 0 for identical signals (up to ``eps``) and at most 2;
    ``exp(-r)`` is minimal (``1/e``) for identical signals.

    Parameters
    ----------
    x, y : Tensor, shape ``[..., t]``
    valid_mask : Tensor of bool, broadcastable to ``x``, optional
        ``True`` on samples that count.
    kind : {"linear", "exp"}
    dim : int
        Axis along which the correlation is taken.
    eps : float
        Added to the variances.
    reduction : {"mean", "none"}
        Mean over the remaining axes, or the per-signal values ``[...]``.

    Returns
    -------
    Tensor, scalar (or ``[...]`` with ``reduction="none"``)
    """
    if kind not in ("linear", "exp"):
        raise InvalidParameterError(f"kind={kind!r}; allowed: 'linear', 'exp'")
    if reduction not in ("mean", "none"):
        raise InvalidParameterError(f"reduction={reduction!r}; allowed: 'mean', 'none'")
    w = torch.ones_like(x) if valid_mask is None else valid_mask.to(x.dtype).expand_as(x)
    count = w.sum(dim, keepdim=True).clamp_min(1.0)
    xc = (x - (x * w).sum(dim, keepdim=True) / count) * w
    yc = (y - (y * w).sum(dim, keepdim=True) / count) * w
    cov = (xc * yc).sum(dim)
    r = cov / ((xc.square().sum(dim) + eps).sqrt() * (yc.square().sum(dim) + eps).sqrt())
    loss = 1.0 - r if kind == "linear" else torch.exp(-r)
    return loss.mean() if reduction == "mean" else loss


def fft_amplitude_phase_loss(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    valid_mask: torch.Tensor | None = None,
    phase: str = "cosine",
    eps: float = 1e-8,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fourier amplitude and phase losses of ``x`` against ``y`` (as in LaBraM's spectral
    targets, Jiang et al., 2024, "Large Brain Model for Learning Generic Representations").

    Both signals go through an orthonormal real FFT along the last axis. The amplitude term is
    the mean squared difference of amplitudes. The phase term uses the phase difference
    ``delta`` per bin, obtained from ``X conj(Y)`` without calling ``angle``: ``1 - cos(delta)``
    (``phase="cosine"``) or the squared wrapped angle ``delta**2`` (``phase="angle"``). Bins in
    which either amplitude is below ``sqrt(eps)`` have no defined phase and count as zero.

    Parameters
    ----------
    x, y : Tensor, shape ``[..., t]``
    valid_mask : Tensor of bool, broadcastable to ``[..., t]``, optional
        ``True`` on samples that count; the others are zeroed in both signals.
    phase : {"cosine", "angle"}
    eps : float
        Floor of the squared amplitude.

    Returns
    -------
    amplitude_loss, phase_loss : Tensor, scalar each
    """
    if phase not in ("cosine", "angle"):
        raise InvalidParameterError(f"phase={phase!r}; allowed: 'cosine', 'angle'")
    x, y = _apply_mask(x, y, valid_mask)
    fx, fy = torch.fft.rfft(x, norm="ortho"), torch.fft.rfft(y, norm="ortho")
    px = fx.real.square() + fx.imag.square()
    py = fy.real.square() + fy.imag.square()
    ax, ay = px.clamp_min(eps).sqrt(), py.clamp_min(eps).sqrt()
    amplitude = (ax - ay).square().mean()
    defined = (px > eps) & (py > eps)
    norm = ax * ay
    cos = (fx.real * fy.real + fx.imag * fy.imag) / norm
    sin = (fx.imag * fy.real - fx.real * fy.imag) / norm
    cos = torch.where(defined, cos, torch.ones_like(cos))
    sin = torch.where(defined, sin, torch.zeros_like(sin))
    if phase == "cosine":
        phase_loss = (1.0 - cos.clamp(max=1.0)).mean()
    else:
        phase_loss = torch.atan2(sin, cos).square().mean()
    return amplitude, phase_loss
