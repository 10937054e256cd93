"""AT-AT: autoencoder-targeted adversarial transformer for single-channel EEG denoising.

After Choi, 2025, "Removing Neural Signal Artifacts with Autoencoder-Targeted Adversarial
Transformers (AT-AT)" (arXiv 2502.05332). No reference code is public; what the paper states:
a lightweight convolutional autoencoder (max-pooling encoder, upsampling decoder) gives a first
denoised estimate; the correlation of that estimate with the input serves as a proxy of the
noise level and decides where a time-series transformer is applied; adversarial training keeps
the outputs EEG-like; the model is over 90 % smaller than the Novel CNN; trained and tested on
EEGdenoiseNet's EMG-contaminated EEG. Everything else below is a design of this module.

Network, for a window ``x`` ``[b, t]`` (padded at the end to a multiple of the patch length and
of ``2 ** len(ae_channels)``, cropped back at the output):

1. ``a = autoencoder(x)``: convolutions (kernel ``ae_kernel_size``, ReLU) with max pooling by 2
   after each, then as many nearest upsamplings by 2 each followed by a convolution, and a
   last convolution to one channel. The bottleneck cannot copy fast transients, so where EMG
   dominates ``a`` departs from ``x``.
2. Targeting: the window is cut into patches of ``round(patch_s * sfreq)`` samples; ``r_p`` is
   the Pearson correlation of ``a`` and ``x`` on patch ``p`` (``a`` detached, so that the
   autoencoder does not learn to steer the gate). The gate is ``g_p = sigmoid((threshold -
   r_p) / temperature)`` (``gating="soft"``), ``1[r_p < threshold]`` (``"hard"``: windows
   with no flagged patch skip the transformer entirely) or 1 everywhere (``"none"``, an
   ablation).
3. Transformer: each patch becomes a token from ``[x_p, a_p, r_p]`` (linear map to
   ``d_model``, plus a sinusoidal position embedding); ``n_blocks`` pre-norm blocks of
   :class:`neurokit.nn.Transformer` attend over all patches of the window; a linear map gives
   a correction ``delta_p`` per patch.
4. Output ``y_p = a_p + g_p * delta_p``: patches judged clean keep the autoencoder's estimate,
   artifact-likely ones get the transformer's correction.

Discriminator: strided convolutions (stride 2, LeakyReLU 0.2) ending in a 1x1 convolution
that scores every position of the downsampled window (patch-level logits), real = clean
windows, fake = denoised ones. It is used in training only and is not counted by
:meth:`ATAT.n_parameters`.

Losses: generator ``MSE(y, clean) + cc_weight * (1 - CC(y, clean)) + ae_weight *
MSE(a, clean) + adv_weight * adversarial``, with the adversarial term non-saturating BCE
(``adv_loss="bce"``), hinge or least squares; :meth:`ATAT.discriminator_loss` is the matching
discriminator loss on detached outputs.

Training with :class:`neurokit.training.Trainer`, which drives one optimizer:

- ``model(batch)`` (joint, the default): one scalar ``generator loss + discriminator loss``
  in which the generator terms see the discriminator through detached weights
  (:func:`torch.func.functional_call`) and the discriminator loss sees detached outputs, so
  each part's gradient reaches only its own parameters and one AdamW step updates both
  (simultaneous gradient descent). DDP and exact resume work unchanged. ``gen_loss`` and
  ``disc_loss`` are logged apart.
- ``loss_fn=AlternatingAdversarialLoss(...)``: each call first updates the discriminator with
  its own Adam (``betas=(0.5, 0.9)`` by default), then returns the generator loss only; the
  trainer's optimizer never sees a discriminator gradient. Under torchrun set
  ``TrainConfig(find_unused_parameters=True)``; the discriminator's gradients are averaged
  across processes; its Adam moments are not in the trainer's checkpoints (a resumed run
  restarts them; save ``loss_fn.state_dict()`` yourself if that matters).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidParameterError
from ..nn import PositionalEmbedding, Transformer
from .denoise import BaseDenoiser, window_metrics

__all__ = ["ATAT", "AlternatingAdversarialLoss"]

GATINGS = ("soft", "hard", "none")
ADV_LOSSES = ("bce", "hinge", "lsgan")


def _channels(name, value):
    try:
        out = tuple(int(c) for c in value)
    except TypeError:
        out = ()
    if not out or min(out) < 1:
        raise InvalidParameterError(f"{name}={value!r}; must be a non-empty list of widths >= 1")
    return out


def _odd_kernel(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value % 2 == 0:
        raise InvalidParameterError(f"{name}={value!r}; must be an odd integer >= 1")


class _ConvAutoencoder(nn.Module):
    """``[b, 1, t] -> [b, 1, t]``, ``t`` a multiple of ``2 ** len(channels)``."""

    def __init__(self, channels, kernel_size):
        super().__init__()
        pad, c_in, enc = kernel_size // 2, 1, []
        for c in channels:
            enc += [nn.Conv1d(c_in, c, kernel_size, padding=pad), nn.ReLU(), nn.MaxPool1d(2)]
            c_in = c
        dec = []
        for c in [*reversed(channels[:-1]), channels[0]]:
            dec += [nn.Upsample(scale_factor=2.0, mode="nearest"),
                    nn.Conv1d(c_in, c, kernel_size, padding=pad), nn.ReLU()]  # fmt: skip
            c_in = c
        dec.append(nn.Conv1d(c_in, 1, kernel_size, padding=pad))
        self.encoder, self.decoder = nn.Sequential(*enc), nn.Sequential(*dec)

    def forward(self, x):
        if torch.is_grad_enabled():
            return self.decoder(self.encoder(x))
        return self._fast(x)

    def _fast(self, x):
        """Inference path: the same function with less work (see :func:`_phase_conv`).

        Max pooling comes before the ReLU (they commute). The decoder never materializes an
        upsampled signal: a signal of length ``f * n`` is held as its ``f`` phases stacked
        along channels ``[b, f * c, n]`` (phase ``r`` holds samples ``f j + r``), every
        upsampling + convolution and the last convolution are convolutions between phase
        stacks at the bottleneck's rate, and the output is interleaved once."""
        enc, dec = list(self.encoder), list(self.decoder)
        for i in range(0, len(enc), 3):
            x = F.relu_(F.max_pool1d(enc[i](x), 2))
        phases = 1
        for i in range(0, len(dec) - 1, 3):
            x = F.relu_(_phase_conv(x, dec[i + 1], phases, 2))
            phases *= 2
        y = _phase_conv(x, dec[-1], phases, 1)  # [b, phases, n]
        return y.transpose(1, 2).reshape(y.shape[0], 1, -1)


def _phase_taps(w, pad, phases, up):
    """Weights ``[phases * up * o, phases * i, taps]`` of :func:`_phase_conv` and the padding
    ``(left, right)`` of the input stack."""
    n_out, n_in, size = w.shape
    out_phases = phases * up
    # output phase r, tap k reads upsampled sample r + k - pad of the block, i.e. sample
    # e = (r + k - pad) // up of the input signal: phase e % phases, offset e // phases
    spots = [(r, k, (r + k - pad) // up) for r in range(out_phases) for k in range(size)]
    lo = min(e // phases for _, _, e in spots)
    hi = max(e // phases for _, _, e in spots)
    taps = w.new_zeros(out_phases, n_out, phases, n_in, hi - lo + 1)
    for r, k, e in spots:
        taps[r, :, e % phases, :, e // phases - lo] += w[:, :, k]
    return taps.reshape(out_phases * n_out, phases * n_in, hi - lo + 1), (-lo, hi)


def _phase_conv(z, conv, phases, up):
    """``conv(nearest_upsample_up(signal))`` between phase stacks (see ``_fast``).

    ``z`` ``[b, phases * c_in, n]`` holds a signal of length ``phases * n``; the result
    ``[b, phases * up * c_out, n]`` holds the convolution (stride 1, "same", zero padding) of
    its ``up``-times nearest-upsampled version with ``up * phases`` phases. Each output
    phase is a short convolution of the input phases whose taps are sums of the original
    taps; zero padding maps to zero padding (a sample lies outside the upsampled signal
    exactly when its source sample lies outside the input). The taps are cached per weight
    version.
    """
    w, b = conv.weight, conv.bias
    key = (phases, up, w._version, w.data_ptr())
    cache = conv.__dict__.setdefault("_phase_taps", {})
    if key not in cache:
        cache.clear()
        cache[key] = _phase_taps(w.detach(), conv.padding[0], phases, up)
    taps, pad = cache[key]
    bias = None if b is None else b.repeat(phases * up)
    return F.conv1d(F.pad(z, pad), taps, bias)


class _Discriminator(nn.Module):
    """``[b, t] -> [b, n]`` logits, one per position of the ``2 ** len(channels)``-times
    downsampled window."""

    def __init__(self, channels, kernel_size):
        super().__init__()
        layers, c_in = [], 1
        for c in channels:
            layers += [nn.Conv1d(c_in, c, kernel_size, stride=2, padding=kernel_size // 2),
                       nn.LeakyReLU(0.2)]  # fmt: skip
            c_in = c
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv1d(c_in, 1, 1)

    def forward(self, x):
        return self.head(self.body(x[:, None]))[:, 0]


def _patch_correlation(a, x, eps=1e-6):
    """Pearson correlation of ``a`` and ``x`` ``[b, n, p]`` along the last axis: ``[b, n]``."""
    a = a - a.mean(-1, keepdim=True)
    x = x - x.mean(-1, keepdim=True)
    den = (a.square().sum(-1) * x.square().sum(-1) + eps).sqrt()
    return (a * x).sum(-1) / den


class ATAT(BaseDenoiser):
    """Autoencoder-targeted adversarial transformer (see the module docstring).

    Parameters (keyword-only)
    ----------
    n_times, sfreq : int, float
        Training window in samples and sampling rate (the network accepts any length).
    patch_s : float
        Patch length in seconds (0.125 s: 32 samples at 256 Hz).
    ae_channels : sequence of int
        Widths of the autoencoder's levels, one max pooling each ((8, 16)).
    ae_kernel_size : int
        Autoencoder convolution kernel (odd, 7).
    d_model, n_blocks, n_heads : int
        Transformer width (32), blocks (2) and heads (4).
    ffn_hidden : int | None
        Feed-forward width (default ``2 * d_model``).
    attention : {"softmax", "linear"}
        Attention of the transformer blocks.
    dropout : float
        Transformer dropout.
    gating : {"soft", "hard", "none"}
        How the correlation proxy selects the transformer's patches.
    gate_threshold, gate_temperature : float
        Patches with correlation below the threshold (0.9) are artifact-likely; the
        temperature (0.05) sets the width of the soft gate.
    cc_weight, ae_weight, adv_weight : float
        Weights of ``1 - CC`` (0.1), of the autoencoder's own MSE (0.5) and of the adversarial
        term (0.05; 0 trains without adversary and leaves the discriminator unused, so set
        ``find_unused_parameters=True`` under torchrun).
    adv_loss : {"bce", "hinge", "lsgan"}
    disc_channels, disc_kernel_size : sequence of int, int
        Discriminator widths ((8, 16, 32), one stride-2 convolution each) and kernel (7).

    Examples
    --------
    >>> model = ATAT.from_preset("tiny")
    >>> model(torch.randn(4, 128)).shape
    torch.Size([4, 128])
    """

    name = "atat"
    fixed_length = False
    presets = {
        "base": {},
        "tiny": dict(
            n_times=128,
            sfreq=64.0,
            patch_s=0.25,
            d_model=16,
            n_blocks=1,
            n_heads=2,
            disc_channels=(4, 8),
        ),  # fmt: skip
    }

    def __init__(
        self, *, n_times=512, sfreq=256.0, patch_s=0.125, ae_channels=(8, 16), ae_kernel_size=7,
        d_model=32, n_blocks=2, n_heads=4, ffn_hidden=None, attention="softmax", dropout=0.0,
        gating="soft", gate_threshold=0.9, gate_temperature=0.05, cc_weight=0.1, ae_weight=0.5,
        adv_weight=0.05, adv_loss="bce", disc_channels=(8, 16, 32), disc_kernel_size=7,
    ):  # fmt: skip
        super().__init__()
        self._set_config(locals())
        if gating not in GATINGS:
            raise InvalidParameterError(f"gating={gating!r}; allowed: {GATINGS}")
        if adv_loss not in ADV_LOSSES:
            raise InvalidParameterError(f"adv_loss={adv_loss!r}; allowed: {ADV_LOSSES}")
        if not gate_temperature > 0:
            raise InvalidParameterError(f"gate_temperature={gate_temperature!r}; must be > 0")
        for key, value in (("ae_weight", ae_weight), ("adv_weight", adv_weight)):
            if not isinstance(value, (int, float)) or value < 0:
                raise InvalidParameterError(f"{key}={value!r}; must be a number >= 0")
        self.patch = int(round(patch_s * self.sfreq)) if patch_s and patch_s > 0 else 0
        if self.patch < 2:
            raise InvalidParameterError(
                f"patch_s={patch_s!r} at sfreq={sfreq} gives {self.patch} samples per patch; "
                "need >= 2 (raise patch_s)"
            )
        if d_model % 2 or d_model % n_heads:
            raise InvalidParameterError(
                f"d_model={d_model} must be even and a multiple of n_heads={n_heads}"
            )
        _odd_kernel("ae_kernel_size", ae_kernel_size)
        _odd_kernel("disc_kernel_size", disc_kernel_size)
        ae_channels = _channels("ae_channels", ae_channels)
        self.multiple = math.lcm(2 ** len(ae_channels), self.patch)
        self.gating, self.gate_threshold = gating, float(gate_threshold)
        self.gate_temperature = float(gate_temperature)
        self.ae_weight, self.adv_weight = float(ae_weight), float(adv_weight)
        self.adv_loss = adv_loss
        self.autoencoder = _ConvAutoencoder(ae_channels, ae_kernel_size)
        self.embed = nn.Linear(2 * self.patch + 1, d_model)
        self.position = PositionalEmbedding(d_model)
        self.transformer = Transformer(
            n_blocks, d_model, n_heads, ffn_hidden=ffn_hidden or 2 * d_model,
            attention=attention, dropout=dropout,
        )  # fmt: skip
        self.correction = nn.Linear(d_model, self.patch)
        self.discriminator = _Discriminator(_channels("disc_channels", disc_channels),
                                            disc_kernel_size)  # fmt: skip

    # ------------------------------------------------------------------ network
    def _pad(self, x):
        extra = -x.shape[-1] % self.multiple
        if not extra:
            return x
        mode = "reflect" if extra < x.shape[-1] else "replicate"
        return F.pad(x[:, None], (0, extra), mode=mode)[:, 0]

    def _gate(self, r):
        if self.gating == "soft":
            return torch.sigmoid((self.gate_threshold - r) / self.gate_temperature)
        if self.gating == "hard":
            return (r < self.gate_threshold).to(r.dtype)
        return torch.ones_like(r)

    def _correct(self, xs, as_, r):
        """Transformer corrections ``[b, n, p]`` from patches ``[b, n, p]`` and ``r [b, n]``."""
        tokens = self.embed(torch.cat([xs, as_, r[..., None]], dim=-1))
        tokens = tokens + self.position(xs.shape[1]).to(tokens)
        return self.correction(self.transformer(tokens))

    def generate(self, x: torch.Tensor) -> dict:
        """Run the generator on checked windows ``x`` ``[b, t]``.

        Returns
        -------
        dict with ``denoised`` ``[b, t]``, ``autoencoder`` ``[b, t]`` (the first estimate),
        ``corr`` ``[b, n]`` (patch correlations) and ``gate`` ``[b, n]`` (in [0, 1]).
        """
        t = x.shape[-1]
        xp = self._pad(x)
        b, total = xp.shape
        a = self.autoencoder(xp[:, None])[:, 0]
        xs, as_ = xp.view(b, -1, self.patch), a.view(b, -1, self.patch)
        r = _patch_correlation(as_.detach(), xs)
        gate = self._gate(r)
        if self.gating == "hard":
            rows = gate.bool().any(dim=1).nonzero()[:, 0]
            delta = xs.new_zeros(xs.shape)
            if rows.numel():
                delta = delta.index_copy(0, rows, self._correct(xs[rows], as_[rows], r[rows]))
        else:
            delta = self._correct(xs, as_, r)
        y = (as_ + gate[..., None] * delta).reshape(b, total)[:, :t]
        return {"denoised": y, "autoencoder": a[:, :t], "corr": r, "gate": gate}

    def denoise(self, x):
        return self.generate(x)["denoised"]

    def n_parameters(self, *, include_discriminator: bool = False) -> int:
        """Trainable parameters of the generator (plus the discriminator if asked)."""
        total = sum(p.numel() for p in self.parameters() if p.requires_grad)
        if include_discriminator:
            return total
        return total - sum(p.numel() for p in self.discriminator.parameters() if p.requires_grad)

    # ------------------------------------------------------------------ losses
    def _frozen_discriminator(self, y):
        """Discriminator logits whose gradient reaches ``y`` but not the discriminator."""
        weights = {k: v.detach() for k, v in self.discriminator.named_parameters()}
        return torch.func.functional_call(self.discriminator, weights, (y,))

    def _adversarial(self, logits):
        if self.adv_loss == "bce":
            return F.softplus(-logits).mean()  # non-saturating: -log sigmoid(D(y))
        if self.adv_loss == "hinge":
            return -logits.mean()
        return (logits - 1.0).square().mean()

    def generator_loss(self, batch, out: dict | None = None) -> dict:
        """Generator loss dict: ``loss`` (see the module docstring), ``mse``, ``rrmse_t``,
        ``cc``, ``ae_mse``, ``adv`` (when ``adv_weight > 0``) and ``gate`` (mean gate)."""
        noisy, clean = self._pair(batch)
        out = self.generate(noisy) if out is None else out
        metrics = window_metrics(out["denoised"], clean)
        loss = metrics["mse"] + self.cc_weight * (1.0 - metrics["cc"])
        ae_mse = F.mse_loss(out["autoencoder"], clean)
        loss = loss + self.ae_weight * ae_mse
        result = {**metrics, "ae_mse": ae_mse, "gate": out["gate"].detach().mean()}
        if self.adv_weight:
            adv = self._adversarial(self._frozen_discriminator(out["denoised"]))
            loss = loss + self.adv_weight * adv
            result["adv"] = adv
        return {"loss": loss, **result}

    def loss(self, batch) -> dict:
        """The generator loss dict (:meth:`generator_loss`)."""
        return self.generator_loss(batch)

    def discriminator_loss(self, batch, out: dict | None = None) -> torch.Tensor:
        """Discriminator loss (scalar): clean windows real, denoised windows (detached) fake."""
        noisy, clean = self._pair(batch)
        if out is None:
            with torch.no_grad():
                out = self.generate(noisy)
        real = self.discriminator(clean)
        fake = self.discriminator(out["denoised"].detach())
        if self.adv_loss == "bce":
            return F.softplus(-real).mean() + F.softplus(fake).mean()
        if self.adv_loss == "hinge":
            return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
        return 0.5 * ((real - 1.0).square().mean() + fake.square().mean())

    def training_loss(self, batch) -> dict:
        """Joint loss for one optimizer: generator loss + discriminator loss (each part's
        gradient reaches only its own parameters); ``gen_loss`` and ``disc_loss`` apart."""
        noisy, _ = self._pair(batch)
        out = self.generate(noisy)
        result = self.generator_loss(batch, out)
        result["gen_loss"] = result["loss"].detach()
        if self.adv_weight:
            disc = self.discriminator_loss(batch, out)
            result["loss"] = result["loss"] + disc
            result["disc_loss"] = disc.detach()
        return result


class AlternatingAdversarialLoss:
    """``loss_fn(model, batch)`` for :class:`~neurokit.training.Trainer` with a second
    optimizer: each training call updates ``model.discriminator`` (``n_disc_steps`` Adam steps
    on :meth:`ATAT.discriminator_loss`), then returns :meth:`ATAT.generator_loss`. In
    evaluation (model in eval mode or gradients disabled) nothing is updated.

    Parameters (keyword-only)
    ----------
    lr : float
        Discriminator learning rate (2e-4).
    betas : tuple of float
        Adam betas ((0.5, 0.9), common for GAN discriminators).
    weight_decay : float
    n_disc_steps : int
        Discriminator steps per generator step (1).
    """

    def __init__(self, *, lr=2e-4, betas=(0.5, 0.9), weight_decay=0.0, n_disc_steps=1):
        if isinstance(n_disc_steps, bool) or not isinstance(n_disc_steps, int) or n_disc_steps < 1:
            raise InvalidParameterError(f"n_disc_steps={n_disc_steps!r}; must be an integer >= 1")
        if not lr > 0:
            raise InvalidParameterError(f"lr={lr!r}; must be > 0")
        self.lr, self.betas, self.weight_decay = lr, tuple(betas), weight_decay
        self.n_disc_steps = n_disc_steps
        self.optimizer = None
        self._params: list = []

    def _optimizer_for(self, model):
        params = list(model.discriminator.parameters())
        if (
            self.optimizer is None
            or len(params) != len(self._params)
            or any(p is not q for p, q in zip(params, self._params))
        ):
            self._params = params
            self.optimizer = torch.optim.Adam(
                params, lr=self.lr, betas=self.betas, weight_decay=self.weight_decay
            )
        return self.optimizer

    def _step(self, model, batch, out):
        optimizer = self._optimizer_for(model)
        dist = torch.distributed
        world = dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
        for _ in range(self.n_disc_steps):
            disc = model.discriminator_loss(batch, out)
            grads = torch.autograd.grad(disc, self._params)
            for p, g in zip(self._params, grads):
                if world > 1:
                    dist.all_reduce(g)
                    g = g / world
                p.grad = g
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return disc.detach()

    def __call__(self, model, batch) -> dict:
        if not isinstance(model, ATAT):
            raise InvalidParameterError(
                f"AlternatingAdversarialLoss trains an ATAT model; got a {type(model).__name__}"
            )
        noisy, _ = model._pair(batch)
        out = model.generate(noisy)
        disc = None
        if model.training and torch.is_grad_enabled():
            disc = self._step(model, batch, out)
        result = model.generator_loss(batch, out)
        if disc is not None:
            result["disc_loss"] = disc
        return result

    def state_dict(self) -> dict:
        """The discriminator optimizer's state (empty before the first training call)."""
        return {} if self.optimizer is None else self.optimizer.state_dict()

    def load_state_dict(self, state: dict, model) -> None:
        """Restore the discriminator optimizer of ``model`` from :meth:`state_dict`."""
        if state:
            self._optimizer_for(model).load_state_dict(state)
