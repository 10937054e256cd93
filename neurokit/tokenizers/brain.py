"""BrainTokenizer: sensor-aware spatiotemporal tokens for EEG, MEG and iEEG (BrainOmni, Xiao et
al., 2025, "BrainOmni: A Brain Foundation Model for Unified EEG and MEG Signals").

Re-implemented on :mod:`neurokit.nn` following the reference code (OpenTSLab/BrainOmni,
``braintokenizer/`` and ``model_utils/``), with these facts from it:

- the signal is cut into windows of 2 s at 256 Hz (512 samples); each channel of each window
  goes alone through a SEANet encoder (width 32, strides 2, 4, 8 so 64 samples per frame and 8
  frames per window, kernels 5, residual units with 1x1-convolution shortcuts, a 2-layer LSTM,
  output width 256);
- a sensor encoder embeds each channel from its normalized position and orientation (6
  numbers) and its type (EEG 0, MAG 1, GRAD 2), see :class:`~.brain_modules.BrainSensorEncoder`;
- at every frame, 16 learned latent sources attend to the channels (4 heads; keys from features
  plus sensor embeddings), giving ``[sources, frames, 256]``;
- the source vectors are L2-normalized and quantized by a residual quantizer of 4 levels x 512
  Euclidean codes of width 256 (EMA decay 0.99, k-means initialization, codes used less than
  twice replaced, rotation trick at each level, commitment weight 0.25 averaged over levels);
- decoding: every channel's sensor embedding attends to the quantized sources of its frame,
  then a SEANet decoder (mirror of the encoder) rebuilds each channel's window;
- the target is each window z-scored per channel; the loss is
  ``L1 + exp(-mean Pearson r) + commitment + L1(FFT amplitude) + 0.5 L1(FFT phase)``
  (Hamming window, orthonormal FFT, phase as raw angle difference);
- training corruption: the channels are shuffled and the first 25 % (at least one) are hidden
  from the encoder, the visible ones get Gaussian noise of standard deviation 0.1; the decoder
  rebuilds all channels. The network is permutation-equivariant, so only the random choice of
  hidden channels matters: here it is drawn per batch item among its real channels (the
  reference's batches share one montage) and at least one channel stays visible.

Choices and differences (all documented options):

- ``phase_weight=0.5`` is the reference code; ``phase_weight=1.0`` gives the paper's equal
  weighting of the loss terms.
- Inputs are expected normalized as BrainOmni's preprocessing does (the ``scale`` step with
  ``method="brainomni"``); the tokenizer itself does not rescale signals (nor does the reference)
  and refuses inputs whose RMS is below 1e-3, which are SI units (V, T) by mistake.
- Positions are normalized per modality inside the tokenizer (``normalize_positions=True``, the
  function of :mod:`neurokit.preprocessing.brainomni`, which the reference applies in
  preprocessing); it is idempotent, so corpora built with the ``brainomni_positions`` step give
  the same embeddings. Positions come in the head frame (:class:`~neurokit.sensors.SensorTable`);
  the reference takes MEG coil locations in the device frame. The per-modality centring and
  scaling remove the translation between the two frames, not the rotation.
- Orientation: :class:`~neurokit.sensors.SensorTable` gives the coil normal of every MEG sensor;
  the reference uses the normal for magnetometers and axial gradiometers but the in-plane
  gradient direction for planar gradiometers, so the two planar gradiometers of a Neuromag
  triplet get the same sensor embedding here.
- Sensor types: the reference's ids for EEG, MAG and GRAD, plus sEEG (3) and ECoG (4). The
  reference calls every MEG coil without "MAG" in its MNE coil name a gradiometer, so CTF and
  KIT axial gradiometers are GRAD there but "mag" in neurokit (and here).
- A signal that is not a whole number of windows: the trailing part is encoded as a shorter
  window (``ceil(samples / 64)`` frames) and decoded as such; the reference drops it (or pads a
  signal shorter than one window). Frames: ``n_frames(t)``, which is ``frame_rate x duration``
  when the duration is a multiple of 1 / frame_rate.
- Padded channels (``channel_mask`` False) are left out of the spatial attention, of the
  position statistics and of the loss, so a padded batch gives the codes of the unpadded items.
- k-means seeding and dead-code replacement are those of :mod:`neurokit.nn.quantizers`
  (k-means++ seeding on all vectors of the first batch; the reference seeds uniformly from 4096).

Written by hand because no library provides this model.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import InvalidParameterError
from ..nn import SEANetDecoder, SEANetEncoder
from ..nn.quantizers import ResidualVectorQuantizer
from ..sensors import SensorTable
from .base import Tokenizer, TokenizerOutput, Tokens, as_signal, register_tokenizer
from .brain_modules import (
    BRAIN_TYPES,
    BrainSensorEncoder,
    BrainTokens,
    ChannelReadout,
    SourceAttention,
    hide_channels,
    quantize_per_level,
    reconstruction_losses,
    resolve_sensors,
    sensor_geometry,
    standardize_windows,
    window_chunks,
)

__all__ = ["BrainTokenizer", "BrainTokens"]

_MIN_RMS = 1e-3


@register_tokenizer
class BrainTokenizer(Tokenizer):
    """BrainOmni's BrainTokenizer (see the module docstring for the architecture and sources).

    Parameters (keyword-only)
    ----------
    sfreq : float
        Sampling rate of the input in Hz (reference: 256).
    window_s : float
        Window encoded on its own, in seconds (reference: 2); ``window_s * sfreq`` must be a
        multiple of ``prod(ratios)``.
    ratios : sequence of int
        SEANet strides, encoder order (reference: 2, 4, 8); stored as a list.
    n_filters, kernel_size, last_kernel_size, lstm : int
        SEANet width (32), first and last kernels (5, 5) and LSTM layers (2).
    dim, n_sources, n_heads : int
        Feature width (256), latent sources ``s`` (16) and attention heads (4).
    dropout : float
        Attention dropout (0).
    n_levels, codebook_size : int
        Quantizer levels ``k`` (4) and codes per level (512).
    codebook_dim : int | None
        Code width; None (reference: 256 = dim) means ``dim``.
    decay, kmeans_init, kmeans_iters, dead_code_threshold, commitment_weight : quantizer
        options (0.99, True, 10, 2, 0.25; see :class:`neurokit.nn.quantizers.VectorQuantizer`).
    rotation_trick : bool
        Rotation-trick gradient at each level (reference); False: straight-through.
    channel_drop, noise_std : float
        Training corruption: fraction of channels hidden from the encoder (0.25) and standard
        deviation of the noise added to the visible ones (0.1).
    phase_weight : float
        Weight of the FFT phase loss (0.5, reference code; 1.0, paper).
    normalize_positions : bool
        Normalize positions per modality (see the module docstring).

    Input: a batch dict as :func:`neurokit.corpus.collate` makes (``x [b, c, t]``, ``pos``,
    ``ori [b, c, 3]``, ``type_id [b, c]`` with neurokit type ids, ``channel_mask [b, c]``), or
    a tensor ``x`` with ``sensors=`` such a dict or a :class:`~neurokit.sensors.SensorTable`.
    Channel types: eeg, mag, grad, seeg, ecog (drop others with the ``pick_types`` step).

    Tokens: ``codes [b, n_sources, n_levels, n_frames]``, ``frame_rate = sfreq / prod(ratios)``
    (4 Hz). ``decode(tokens, sensors=None)`` returns the reconstruction ``[b, c, n * hop]`` of
    the windows z-scored per channel, for the channels of ``sensors`` (default: the encoded
    ones, kept in the tokens), so a montage can also be decoded into another.

    Examples
    --------
    >>> import neurokit
    >>> rec = neurokit.io.synthetic("meg", n_channels=9, duration_s=2.0, sfreq=256.0)
    >>> x = torch.randn(1, 9, 512)
    >>> tok = BrainTokenizer.from_preset("tiny").eval()
    >>> tokens = tok.encode(x, sensors=rec.sensors)
    >>> tokens.codes.shape, tok.decode(tokens).shape
    (torch.Size([1, 4, 2, 8]), torch.Size([1, 9, 512]))
    """

    name = "brain"
    reconstruction_target = (
        "per-channel signal [b, c, n * hop]: each window z-scored per channel, for the channels "
        "of the given sensors (default: the encoded ones)"
    )
    #: encode needs sensor positions and types (not only the signal)
    requires_sensors = True
    #: the streams of the tokens are latent sources, not channels
    stream_kind = "sources"
    presets = {
        "base": dict(sfreq=256.0),
        "tiny": dict(
            sfreq=256.0,
            n_filters=4,
            lstm=1,
            dim=32,
            n_sources=4,
            n_heads=2,
            n_levels=2,
            codebook_size=32,
        ),
    }

    def __init__(
        self,
        *,
        sfreq: float = 256.0,
        window_s: float = 2.0,
        ratios=(2, 4, 8),
        n_filters: int = 32,
        kernel_size: int = 5,
        last_kernel_size: int = 5,
        lstm: int = 2,
        dim: int = 256,
        n_sources: int = 16,
        n_heads: int = 4,
        dropout: float = 0.0,
        n_levels: int = 4,
        codebook_size: int = 512,
        codebook_dim: int | None = None,
        decay: float = 0.99,
        kmeans_init: bool = True,
        kmeans_iters: int = 10,
        dead_code_threshold: float = 2.0,
        commitment_weight: float = 0.25,
        rotation_trick: bool = True,
        channel_drop: float = 0.25,
        noise_std: float = 0.1,
        phase_weight: float = 0.5,
        normalize_positions: bool = True,
    ):
        ratios = [int(r) for r in ratios]
        super().__init__(
            sfreq=sfreq,
            window_s=window_s,
            ratios=ratios,
            n_filters=n_filters,
            kernel_size=kernel_size,
            last_kernel_size=last_kernel_size,
            lstm=lstm,
            dim=dim,
            n_sources=n_sources,
            n_heads=n_heads,
            dropout=dropout,
            n_levels=n_levels,
            codebook_size=codebook_size,
            codebook_dim=codebook_dim,
            decay=decay,
            kmeans_init=kmeans_init,
            kmeans_iters=kmeans_iters,
            dead_code_threshold=dead_code_threshold,
            commitment_weight=commitment_weight,
            rotation_trick=rotation_trick,
            channel_drop=channel_drop,
            noise_std=noise_std,
            phase_weight=phase_weight,
            normalize_positions=normalize_positions,
        )
        self.hop = math.prod(ratios)
        window = float(window_s) * float(sfreq)
        if window < self.hop or abs(window - round(window)) > 1e-6 or round(window) % self.hop:
            raise InvalidParameterError(
                f"window_s={window_s} s at sfreq={sfreq} Hz is {window:g} samples; it must be "
                f"a whole multiple of prod(ratios)={self.hop} samples (e.g. window_s="
                f"{2 * self.hop / float(sfreq):g})"
            )
        if dim < 2 or dim % n_heads:
            raise InvalidParameterError(
                f"dim={dim}, n_heads={n_heads}; dim must be a multiple of n_heads and >= 2"
            )
        if not 0.0 <= channel_drop < 1.0:
            raise InvalidParameterError(f"channel_drop={channel_drop}; must be in [0, 1)")
        self.window = int(round(window))
        seanet = dict(
            dim=dim,
            n_filters=n_filters,
            ratios=ratios,
            kernel_size=kernel_size,
            last_kernel_size=last_kernel_size,
            lstm=lstm,
            true_skip=False,
        )
        self.sensor_encoder = BrainSensorEncoder(dim, len(BRAIN_TYPES))
        self.encoder = SEANetEncoder(1, **seanet)
        self.to_sources = SourceAttention(dim, n_sources, n_heads, dropout)
        self.quantizer = ResidualVectorQuantizer(
            dim,
            n_levels,
            codebook_size,
            codebook_dim=codebook_dim,
            decay=decay,
            eps=1e-6,
            kmeans_init=kmeans_init,
            kmeans_iters=kmeans_iters,
            dead_code_threshold=dead_code_threshold,
            gradient="rotation" if rotation_trick else "ste",
            commitment_weight=commitment_weight,
        )
        self.to_channels = ChannelReadout(dim, n_heads, dropout)
        self.decoder = SEANetDecoder(1, **seanet)
        self.apply(_init_weights)

    # ------------------------------------------------------------------ contract
    @property
    def frame_rate(self) -> float:
        return self.sfreq / self.hop

    @property
    def codebook_sizes(self) -> tuple:
        return (int(self.config["codebook_size"]),) * int(self.config["n_levels"])

    def n_frames(self, n_times: int) -> int:
        """Frames of a signal of ``n_times`` samples: 8 per whole window, then one per started
        hop of the trailing part."""
        full, tail = divmod(int(n_times), self.window)
        return full * (self.window // self.hop) + math.ceil(tail / self.hop)

    @property
    def source_vectors(self) -> torch.Tensor:
        """The learned latent-source queries ``[n_sources, dim]``, detached (BrainOmni's
        stage-2 model adds them to its token embeddings)."""
        return self.to_sources.sources.detach()

    def n_streams(self, n_channels: int) -> int:
        """Streams ``s`` of the tokens of ``n_channels`` channels: the latent sources."""
        return int(self.config["n_sources"])

    def input_contract(self) -> dict:
        return {
            **super().input_contract(),
            "window_s": float(self.config["window_s"]),
            "n_sources": int(self.config["n_sources"]),
            "channel_types": list(BRAIN_TYPES),
        }

    # ------------------------------------------------------------------ inputs
    def _inputs(self, batch, sfreq, sensors):
        """Checked ``x [b, c, t]``, ``valid [b, c]``, the sensors dict, the 6-d geometry and
        the brain type ids."""
        x, valid, extras = as_signal(batch)
        self.check_sfreq(sfreq if sfreq is not None else extras.get("sfreq"))
        if x.shape[-1] < self.hop:
            raise InvalidParameterError(
                f"x has {x.shape[-1]} samples; BrainTokenizer needs at least {self.hop} samples "
                f"(one frame, {self.hop / self.sfreq:g} s at {self.sfreq:g} Hz)"
            )
        if sensors is None and isinstance(batch, dict):
            sensors = {**extras, "channel_mask": valid}
        sensors = resolve_sensors(sensors, x.shape[0], x.shape[1], x.device, valid)
        geometry, types = sensor_geometry(sensors, self.config["normalize_positions"])
        mask = sensors["channel_mask"]
        rms = float(x[mask].square().mean().sqrt()) if bool(mask.any()) else 0.0
        if 0 < rms < _MIN_RMS:
            raise InvalidParameterError(
                f"x has an RMS of {rms:.3g} over its channels: it looks like SI units "
                "(V, T, T/m). BrainTokenizer expects BrainOmni's normalization; add "
                "{scale: {method: brainomni, window_s: 10.0}} to the preprocessing recipe"
            )
        return x, sensors, geometry, types

    # ------------------------------------------------------------------ network
    def _features(self, x, emb, visible):
        """``x [b, c, t]`` -> source features ``[b, s, n, d]`` (before normalization)."""
        b, c, t = x.shape
        visible = visible | ~visible.any(dim=1, keepdim=True)  # an item with no channel
        # The encoder works on each channel alone and hidden or padded channels are masked
        # out of the attention, so only the visible ones are encoded (as the reference does
        # for the channels it drops); the others get zero features.
        packed = x[visible] if not bool(visible.all()) else x.reshape(b * c, t)
        parts = []
        for start, n_win, length in window_chunks(t, self.window):
            chunk = packed[:, start : start + n_win * length].reshape(-1, length, 1)
            h = self.encoder.forward_time_major(chunk)  # [c_visible N, f, d]
            f, d = h.shape[1:]
            h = h.reshape(-1, n_win, f, d)
            if h.shape[0] != b * c:
                h = h.new_zeros(b, c, n_win, f, d).index_put((visible,), h)
            h = h.reshape(b, c, n_win, f, d).permute(0, 2, 3, 1, 4).reshape(-1, c, d)
            e = emb[:, None].expand(b, n_win * f, c, d).reshape(-1, c, d)
            keep = visible[:, None].expand(b, n_win * f, c).reshape(-1, c)
            z = self.to_sources(h, e, keep)  # [b N f, s, d]
            parts.append(z.reshape(b, n_win * f, -1, d).transpose(1, 2))
        return torch.cat(parts, dim=2)

    def _reconstruct(self, q, emb, n_times=None):
        """Source vectors ``q [b, s, n, d]`` and sensor embeddings ``[b, c, d]`` ->
        ``[b, c, n * hop]`` (cropped to ``n_times`` when given)."""
        b, s, n, d = q.shape
        c, per_window = emb.shape[1], self.window // self.hop
        full, tail = divmod(n, per_window)
        parts = []
        for first, n_win, f in ((0, full, per_window), (full * per_window, 1, tail)):
            if not n_win or not f:
                continue
            lat = q[:, :, first : first + n_win * f].transpose(1, 2).reshape(-1, s, d)
            e = emb[:, None].expand(b, n_win * f, c, d).reshape(-1, c, d)
            y = self.to_channels(e, lat).reshape(b, n_win, f, c, d)
            y = y.permute(0, 3, 1, 2, 4).reshape(b * c * n_win, f, d)
            y = self.decoder.forward_time_major(y)  # [b c N, f hop, 1]
            parts.append(y.reshape(b, c, n_win * f * self.hop))
        out = torch.cat(parts, dim=-1)
        return out if n_times is None else out[..., :n_times]

    # ------------------------------------------------------------------ API
    def encode(self, batch, *, sfreq=None, sensors=None) -> BrainTokens:
        """Codes ``[b, n_sources, n_levels, n]`` (``n = n_frames(t)``), mask ``[b, s, n]``
        (False for items without any real channel), and the sensors for :meth:`decode`."""
        x, sensors, geometry, types = self._inputs(batch, sfreq, sensors)
        valid = sensors["channel_mask"]
        emb = self.sensor_encoder(geometry, types)
        z = nn.functional.normalize(self._features(x, emb, valid), dim=-1)
        codes = self.quantizer.encode(z).permute(0, 1, 3, 2)
        mask = valid.any(dim=1)[:, None, None].expand(codes.shape[0], codes.shape[1], z.shape[2])
        return BrainTokens(codes, mask, self.frame_rate, self.codebook_sizes, sensors)

    def decode(self, tokens: Tokens, *, sensors=None) -> torch.Tensor:
        """Reconstruction ``[b, c, n * hop]`` for the channels of ``sensors`` (a dict with
        ``pos``, ``ori``, ``type_id`` and optionally ``channel_mask``, or a SensorTable);
        default: the encoded channels kept in ``tokens``. Padded channels are zero."""
        b, s, k, n = tokens.codes.shape
        if sensors is None:
            sensors = getattr(tokens, "sensors", None)
        if sensors is None:
            raise InvalidParameterError(
                "decode needs the sensors of the channels to rebuild: pass sensors= (a batch "
                "dict with pos, ori, type_id, or a SensorTable), or tokens from encode()"
            )
        if isinstance(sensors, SensorTable):
            c = len(sensors)
        else:
            c = sensors["pos"].shape[1] if sensors.get("pos") is not None else 0
        sensors = resolve_sensors(sensors, b, c, tokens.codes.device)
        geometry, types = sensor_geometry(sensors, self.config["normalize_positions"])
        emb = self.sensor_encoder(geometry, types)
        q = self.quantizer.decode(tokens.codes.permute(0, 1, 3, 2))
        return self._reconstruct(q, emb) * sensors["channel_mask"][..., None]

    def forward(self, batch, *, sfreq=None, sensors=None) -> TokenizerOutput:
        """Training pass (with channel hiding and noise in training mode).

        ``losses``: ``loss`` (time + exp(-pcc) + commit + amp + phase_weight x phase),
        ``time`` (L1), ``pcc`` (mean Pearson r), ``amp`` and ``phase`` (FFT L1 terms),
        ``commit`` (commitment, mean over levels), ``perplexity`` (mean over levels).
        ``recon [b, c, t]``, ``latents [b, s, n, d]`` (L2-normalized, before quantization).
        """
        x, sensors, geometry, types = self._inputs(batch, sfreq, sensors)
        valid = sensors["channel_mask"]
        t = x.shape[-1]
        emb = self.sensor_encoder(geometry, types)
        visible, x_in = valid, x
        if self.training:
            visible = hide_channels(valid, float(self.config["channel_drop"]))
            x_in = x + torch.randn_like(x) * float(self.config["noise_std"])
        z = nn.functional.normalize(self._features(x_in, emb, visible), dim=-1)
        item = valid.any(dim=1)
        frames = item[:, None, None].expand(z.shape[:-1])
        q, codes, commit, perplexity = quantize_per_level(self.quantizer, z, frames)
        recon = self._reconstruct(q, emb, t) * valid[..., None]
        terms = reconstruction_losses(
            recon[valid], standardize_windows(x, self.window)[valid], self.window
        )
        loss = (
            terms["time"]
            + torch.exp(-terms["pcc"])
            + commit
            + terms["amp"]
            + float(self.config["phase_weight"]) * terms["phase"]
        )
        tokens = BrainTokens(
            codes.permute(0, 1, 3, 2),
            frames,
            self.frame_rate,
            self.codebook_sizes,
            sensors,
        )
        losses = {"loss": loss, **{k: v.detach() for k, v in terms.items()}}
        losses.update(commit=commit.detach(), perplexity=perplexity.detach())
        return TokenizerOutput(recon, tokens, z, losses)


def _init_weights(module: nn.Module) -> None:
    """The reference's initialization: linear and embedding weights from a normal of standard
    deviation 0.02 truncated at +-2, zero biases (convolutions, LSTMs and the latent sources
    keep PyTorch's defaults; the sources are standard normal)."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
