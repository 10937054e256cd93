"""Neural-network building blocks shared by neurokit's tokenizers and models (torch only).

Tensor shapes in the docstrings use ``b`` batch, ``c`` channels, ``t`` samples, ``f``
frequencies, ``n`` frames (tokens) and ``d`` width. Padding masks passed to attention layers
are boolean with ``True`` at padded positions.
"""

from __future__ import annotations

from .attention import CrissCrossBlock, LinearAttention, MultiHeadAttention, RotaryEmbedding
from .conv import SEANetDecoder, SEANetEncoder
from .embeddings import PositionalEmbedding, SensorEmbedding
from .losses import fft_amplitude_phase_loss, multi_resolution_stft_loss, pearson_loss
from .spectral import (
    BandSplit,
    FullFrequencyFrameAttention,
    MultiScaleSelectiveAttention,
    STFTFrontEnd,
    band_patches,
    band_widths_from_edges,
)
from .transformer import (
    AugmentedShortcut,
    FeedForward,
    RMSNorm,
    SeriesActivation,
    Transformer,
    TransformerBlock,
    make_norm,
)

__all__ = [
    "RotaryEmbedding",
    "MultiHeadAttention",
    "LinearAttention",
    "CrissCrossBlock",
    "RMSNorm",
    "SeriesActivation",
    "FeedForward",
    "AugmentedShortcut",
    "TransformerBlock",
    "Transformer",
    "make_norm",
    "SEANetEncoder",
    "SEANetDecoder",
    "STFTFrontEnd",
    "band_patches",
    "band_widths_from_edges",
    "BandSplit",
    "MultiScaleSelectiveAttention",
    "FullFrequencyFrameAttention",
    "SensorEmbedding",
    "PositionalEmbedding",
    "multi_resolution_stft_loss",
    "pearson_loss",
    "fft_amplitude_phase_loss",
]
