"""Parts of the BrainTokenizer (:mod:`neurokit.tokenizers.brain`): sensor-type ids and the
checking of sensor inputs, the sensor encoder, the two cross-attentions between channels and
latent sources, the residual quantizer pass, windowing, training corruption and the losses.

Shapes: ``b`` batch, ``c`` channels, ``s`` latent sources, ``n`` frames, ``d`` width, ``B`` a
batch of (item, frame) pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidParameterError
from ..nn import FeedForward, RMSNorm, pearson_loss
from ..preprocessing.brainomni import normalize_positions
from ..sensors import SENSOR_TYPES, SensorTable
from .base import Tokens

__all__ = [
    "BRAIN_TYPES",
    "BrainTokens",
    "brain_type_ids",
    "resolve_sensors",
    "sensor_geometry",
    "window_chunks",
    "standardize_windows",
    "hide_channels",
    "reconstruction_losses",
    "BrainSensorEncoder",
    "SourceAttention",
    "ChannelReadout",
    "quantize_per_level",
    "spectral_l1_sums",
]

#: Sensor types the BrainTokenizer accepts, in the order of its type ids. The first three are
#: the reference code's ``SENSOR_TYPE_DICT`` (EEG 0, MAG 1, GRAD 2; every MEG coil whose MNE
#: coil name does not contain "MAG" is a gradiometer there, so CTF and KIT axial gradiometers
#: are GRAD while neurokit calls them "mag"). sEEG and ECoG (3, 4) are neurokit additions.
BRAIN_TYPES = ("eeg", "mag", "grad", "seeg", "ecog")

_LOOKUP = tuple(BRAIN_TYPES.index(t) if t in BRAIN_TYPES else -1 for t in SENSOR_TYPES)


def brain_type_ids(type_id: torch.Tensor) -> torch.Tensor:
    """Map neurokit type ids (indices into :data:`neurokit.sensors.SENSOR_TYPES`) to indices
    into :data:`BRAIN_TYPES`; -1 for types the tokenizer does not take (EOG, misc ...) and for
    ids out of range."""
    table = torch.tensor(_LOOKUP, dtype=torch.long, device=type_id.device)
    ids = type_id.long()
    inside = (ids >= 0) & (ids < len(_LOOKUP))
    return torch.where(inside, table[ids.clamp(0, len(_LOOKUP) - 1)], torch.full_like(ids, -1))


@dataclass
class BrainTokens(Tokens):
    """:class:`~neurokit.tokenizers.Tokens` plus the sensors of the encoded channels
    (``sensors``: dict with ``pos``, ``ori``, ``type_id``, ``channel_mask``), which
    :meth:`~neurokit.tokenizers.brain.BrainTokenizer.decode` uses when given no other montage."""

    sensors: dict | None = None

    def to(self, device) -> BrainTokens:
        moved = None if self.sensors is None else {k: v.to(device) for k, v in self.sensors.items()}
        return BrainTokens(
            self.codes.to(device), self.mask.to(device), self.frame_rate, self.codebook_sizes, moved
        )


def _table_tensors(table: SensorTable, b: int, device) -> dict:
    def rows(a):
        return torch.from_numpy(np.nan_to_num(a).astype(np.float32)).to(device).expand(b, -1, -1)

    ids = torch.from_numpy(table.type_ids).to(device).expand(b, -1)
    return {"pos": rows(table.pos), "ori": rows(table.ori), "type_id": ids}


def resolve_sensors(sensors, b: int, c: int, device, valid=None) -> dict:
    """Check the sensors of ``b`` items of ``c`` channels and return them as tensors ``pos,
    ori [b, c, 3]``, ``type_id, channel_mask [b, c]``.

    ``sensors`` is a dict (``pos``, ``type_id``, optional ``ori`` and ``channel_mask``) or a
    :class:`~neurokit.sensors.SensorTable` shared by all items. ``valid`` is the channel mask
    to use when ``sensors`` has none. Raises when a key is missing or of the wrong shape, when a
    real channel is not of a :data:`BRAIN_TYPES` type, or when MEG channels come without
    orientations.
    """
    if isinstance(sensors, SensorTable):
        sensors = _table_tensors(sensors, b, device)
    if (
        not isinstance(sensors, dict)
        or sensors.get("pos") is None
        or sensors.get("type_id") is None
    ):
        raise InvalidParameterError(
            "BrainTokenizer needs the sensors of the channels: pass a batch dict with 'x', "
            "'pos' [b, c, 3], 'ori' [b, c, 3] and 'type_id' [b, c] (as "
            "neurokit.corpus.collate makes), or sensors= such a dict or a SensorTable"
        )
    pos, type_id, ori = sensors["pos"], sensors["type_id"], sensors.get("ori")
    ori = torch.zeros_like(pos) if ori is None else ori
    mask = sensors.get("channel_mask")
    mask = valid if mask is None else mask
    mask = torch.ones(b, c, dtype=torch.bool, device=device) if mask is None else mask.bool()
    for key, value, shape in (
        ("pos", pos, (b, c, 3)),
        ("ori", ori, (b, c, 3)),
        ("type_id", type_id, (b, c)),
        ("channel_mask", mask, (b, c)),
    ):
        if tuple(value.shape) != shape:
            raise InvalidParameterError(
                f"sensors[{key!r}] has shape {tuple(value.shape)}; the signal has {b} items "
                f"and {c} channels, so it must be {shape} (one row per channel)"
            )
    types = brain_type_ids(type_id)
    wrong = mask & (types < 0)
    if bool(wrong.any()):
        ids = sorted({int(i) for i in type_id[wrong]})
        names = [SENSOR_TYPES[i] if 0 <= i < len(SENSOR_TYPES) else str(i) for i in ids]
        raise InvalidParameterError(
            f"channels of type {names} cannot be tokenized; BrainTokenizer takes "
            f"{list(BRAIN_TYPES)}. Keep those with the pick_types step (or mask them)"
        )
    if sensors.get("ori") is None and bool((mask & ((types == 1) | (types == 2))).any()):
        raise InvalidParameterError(
            "sensors has MEG channels but no 'ori' [b, c, 3]; pass the coil orientations"
        )
    return {"pos": pos, "ori": ori, "type_id": type_id, "channel_mask": mask}


def sensor_geometry(sensors: dict, normalize: bool):
    """``[b, c, 6]`` geometry (position, normalized per modality when ``normalize``, then
    orientation; zeros where unknown or padded) and ``[b, c]`` indices into
    :data:`BRAIN_TYPES` (0 at padded channels) of checked ``sensors``."""
    mask, pos = sensors["channel_mask"], sensors["pos"].float()
    types = brain_type_ids(sensors["type_id"]).clamp_min(0)
    if normalize:
        names = np.array((*SENSOR_TYPES, ""))
        names = names[sensors["type_id"].clamp(-1, len(SENSOR_TYPES)).cpu().numpy()]
        rows = [
            normalize_positions(p, n, v)
            for p, n, v in zip(pos.detach().cpu().numpy(), names, mask.cpu().numpy())
        ]
        pos = torch.from_numpy(np.stack(rows)).to(pos)
    geometry = torch.cat([pos, sensors["ori"].float()], dim=-1)
    geometry = torch.nan_to_num(geometry, nan=0.0) * mask[..., None]
    return geometry, types * mask


def window_chunks(t: int, window: int) -> list:
    """``(start, n_windows, length)`` of the whole windows of ``t`` samples, then of the
    trailing part (a shorter window) when there is one."""
    full, tail = divmod(t, window)
    out = [(0, full, window)] if full else []
    return out + ([(full * window, 1, tail)] if tail else [])


def standardize_windows(x: torch.Tensor, window: int) -> torch.Tensor:
    """``x [..., t]`` with each window (and the trailing part) z-scored: mean removed, divided
    by the unbiased standard deviation + 1e-6 (the reference's target)."""
    parts = []
    for start, n_win, length in window_chunks(x.shape[-1], window):
        w = x[..., start : start + n_win * length].unflatten(-1, (n_win, length))
        w = w - w.mean(dim=-1, keepdim=True)
        std = w.std(dim=-1, keepdim=True, correction=1 if length > 1 else 0)
        parts.append((w / (std + 1e-6)).flatten(-2))
    return torch.cat(parts, dim=-1)


def hide_channels(valid: torch.Tensor, fraction: float) -> torch.Tensor:
    """Training corruption: per item, ``max(1, int(fraction * c_real))`` random real channels
    (never all of them; none when ``fraction`` is 0) are hidden. Returns the visible mask
    ``[b, c]``."""
    n_real = valid.sum(dim=1)
    n_drop = (n_real.float() * fraction).long().clamp_min(1 if fraction > 0 else 0)
    n_drop = torch.minimum(n_drop, (n_real - 1).clamp_min(0))
    score = torch.rand(valid.shape, device=valid.device).masked_fill(~valid, 2.0)
    rank = score.argsort(dim=1).argsort(dim=1)
    return valid & (rank >= n_drop[:, None])


class BrainSensorEncoder(nn.Module):
    """BrainOmni's sensor encoder: geometry MLP plus a type embedding, a residual feed-forward
    and an RMSNorm (reference ``BrainSensorModule``)::

        e = W2 selu(W1 [pos, ori]) + type_embedding[type]     (W1: 6 -> d/2, W2: d/2 -> d)
        e = rmsnorm(e + ffn(e))                                (ffn: d -> 4d -> d, SELU)

    Unlike :class:`neurokit.nn.SensorEmbedding` (GELU, a pre-norm in the residual branch and a
    fixed position scale), this follows the reference exactly; positions are expected already
    normalized (:func:`neurokit.preprocessing.brainomni.normalize_positions`).

    Parameters
    ----------
    dim : int
        Width ``d``.
    n_types : int
        Number of sensor types.
    """

    def __init__(self, dim: int, n_types: int = len(BRAIN_TYPES)):
        super().__init__()
        self.geometry = nn.Sequential(nn.Linear(6, dim // 2), nn.SELU(), nn.Linear(dim // 2, dim))
        self.type_embedding = nn.Embedding(n_types, dim)
        self.ffn = FeedForward(dim, activation="selu")
        self.norm = RMSNorm(dim)

    def forward(self, geometry: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        """``geometry [b, c, 6]`` (normalized position, orientation) and ``types [b, c]``
        (indices into :data:`BRAIN_TYPES`) -> ``[b, c, d]``."""
        e = self.geometry(geometry) + self.type_embedding(types)
        return self.norm(e + self.ffn(e))


def _heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    b, n, d = x.shape
    return x.view(b, n, n_heads, d // n_heads).transpose(1, 2)


def _merge(x: torch.Tensor) -> torch.Tensor:
    b, h, n, e = x.shape
    return x.transpose(1, 2).reshape(b, n, h * e)


class SourceAttention(nn.Module):
    """Spatial compression: ``s`` learned latent sources attend to the channels (the
    reference's ``BackWardSolution``). Queries are the source vectors themselves (no query
    projection), keys ``k_proj(h + e)`` mix each channel's features ``h`` with its sensor
    embedding ``e``, values are ``v(h)``; masked (padded or dropped) channels get zero weight.

    Parameters
    ----------
    dim, n_sources, n_heads : int
    dropout : float
        Attention dropout (training only).
    """

    def __init__(self, dim: int, n_sources: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        self.n_heads, self.dropout = n_heads, float(dropout)
        self.sources = nn.Parameter(torch.randn(n_sources, dim))
        self.k_proj = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, h: torch.Tensor, e: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """``h, e [B, c, d]``, ``valid [B, c]`` (True = attend; at least one per row) ->
        ``[B, s, d]``."""
        q = self.sources.to(h.dtype).expand(h.shape[0], -1, -1)
        k, v = self.k_proj(h + e), self.v(h)
        out = F.scaled_dot_product_attention(
            _heads(q, self.n_heads),
            _heads(k, self.n_heads),
            _heads(v, self.n_heads),
            attn_mask=valid[:, None, None, :],
            dropout_p=self.dropout if self.training else 0.0,
        )
        return self.proj(_merge(out))


class ChannelReadout(nn.Module):
    """Back to the sensors: each channel's sensor embedding (used as the query, without a
    projection) attends to the latent sources, keys and values from one ``kv`` projection
    (the reference's ``ForwardSolution``).

    Parameters
    ----------
    dim, n_heads : int
    dropout : float
    """

    def __init__(self, dim: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        self.n_heads, self.dropout = n_heads, float(dropout)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, e: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        """``e [B, c, d]`` sensor embeddings, ``latents [B, s, d]`` -> ``[B, c, d]``."""
        k, v = self.kv(latents).chunk(2, dim=-1)
        out = F.scaled_dot_product_attention(
            _heads(e, self.n_heads),
            _heads(k, self.n_heads),
            _heads(v, self.n_heads),
            dropout_p=self.dropout if self.training else 0.0,
        )
        return self.proj(_merge(out))


def quantize_per_level(rvq, x: torch.Tensor, mask: torch.Tensor):
    """Residual quantization with the gradient estimator applied at every level, as the
    reference does (each level's output carries the rotation-trick gradient of its own
    residual); :meth:`neurokit.nn.quantizers.ResidualVectorQuantizer.forward` applies it once
    to the sum. Values, codes and codebook updates are the same.

    Parameters
    ----------
    rvq : ResidualVectorQuantizer
    x : Tensor ``[..., dim]``
    mask : BoolTensor ``[...]``
        True where the vector counts (loss, EMA, k-means, dead codes).

    Returns
    -------
    quantized ``[..., dim]``, codes ``[..., n_levels]``, commitment loss (mean over levels,
    as the reference), perplexity (mean over levels)
    """
    residual = rvq.project_in(x)
    total = torch.zeros_like(residual)
    codes, losses, perplexities = [], [], []
    for level in rvq.levels:
        out = level(residual, mask)
        total = total + out.quantized
        residual = residual - out.quantized.detach()
        codes.append(out.codes)
        losses.append(out.loss)
        perplexities.append(out.perplexity)
    return (
        rvq.project_out(total),
        torch.stack(codes, dim=-1),
        torch.stack(losses).mean(),
        torch.stack(perplexities).mean(),
    )


def spectral_l1_sums(pred: torch.Tensor, target: torch.Tensor):
    """Sums of BrainOmni's spectral errors along the last axis (reference ``loss.py``): both
    signals times a Hamming window, orthonormal real FFT, then ``|(|P| - |T|)|`` and the
    absolute difference of the (unwrapped) phase angles.

    :func:`neurokit.nn.fft_amplitude_phase_loss` differs (squared amplitude error, cosine or
    wrapped phase), so it is not used here.

    Returns
    -------
    amplitude_sum, phase_sum : Tensor (scalars)
    n_bins : int
        Number of terms in each sum (to average over windows of several lengths).
    """
    window = torch.hamming_window(pred.shape[-1], dtype=pred.dtype, device=pred.device)
    fp = torch.fft.rfft(pred * window, norm="ortho")
    ft = torch.fft.rfft(target * window, norm="ortho")
    amplitude = (fp.abs() - ft.abs()).abs().sum()
    phase = (torch.angle(fp) - torch.angle(ft)).abs().sum()
    return amplitude, phase, fp.numel()


def reconstruction_losses(pred: torch.Tensor, target: torch.Tensor, window: int) -> dict:
    """BrainOmni's reconstruction terms of real channels ``pred, target [V, t]``, window by
    window: ``time`` (mean L1), ``pcc`` (mean Pearson r of the windows), ``amp`` and ``phase``
    (:func:`spectral_l1_sums` averaged over all bins)."""
    time_sum = amp_sum = phase_sum = r_sum = pred.new_zeros(())
    n_windows = n_bins = 0
    for start, n_win, length in window_chunks(pred.shape[-1], window):
        p = pred[:, start : start + n_win * length].unflatten(-1, (n_win, length))
        y = target[:, start : start + n_win * length].unflatten(-1, (n_win, length))
        time_sum = time_sum + (p - y).abs().sum()
        r_sum = r_sum + (1.0 - pearson_loss(p, y, reduction="none")).sum()
        amp, phase, bins = spectral_l1_sums(p, y)
        amp_sum, phase_sum = amp_sum + amp, phase_sum + phase
        n_windows, n_bins = n_windows + p.shape[0] * n_win, n_bins + bins
    return {
        "time": time_sum / max(pred.numel(), 1),
        "pcc": r_sum / max(n_windows, 1),
        "amp": amp_sum / max(n_bins, 1),
        "phase": phase_sum / max(n_bins, 1),
    }
