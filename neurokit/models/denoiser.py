"""Apply a single-channel denoiser to whole recordings: :class:`Denoiser`.

A model of :data:`neurokit.models.denoise.DENOISERS` cleans standardized single-channel windows
of ``n_times`` samples at its ``sfreq``. :meth:`Denoiser.apply` turns that into a cleaned copy
of a recording, channel by channel:

1. **Resampling** of each picked channel to the model's rate with a polyphase FIR filter
   (:func:`scipy.signal.resample_poly` with its default Kaiser design, built here so that its
   length is known; signal ends are extended by odd reflection, which keeps their value and
   slope). Rates are related by the fraction ``up / down`` closest to their ratio with
   ``down <= 10_000``.
2. **Windows** of ``n_times`` samples every ``n_times // 2`` samples from the first sample,
   plus one window ending at the last sample; a recording shorter than one window is
   extended by reflection. Each window is centred and divided by its standard deviation
   (EEGdenoiseNet divides its epochs by their standard deviation; their mean is already
   zero, which a raw recording's offset is not), denoised, and brought back (times the
   standard deviation, plus the mean).
3. **Overlap-add** with the weights ``sin^2(pi (i + 1/2) / n_times)``, which sum to one for
   windows half a window apart; every output sample is divided by the sum of the weights that
   cover it, so the first and last half windows (one window only) and the last, shifted
   window come out right, and an identity model gives back its input.
4. **Back to the recording's rate**. With ``residual=True`` (default) the model's correction
   (output minus input at the model's rate) is resampled and added to the recorded samples:
   what the model cannot see -- frequencies above its Nyquist frequency -- is kept as
   recorded. With ``residual=False`` the model's output itself is resampled, i.e. the result
   is also low-passed at the model's Nyquist frequency when the model's rate is the lower.

**Streaming.** The recording is processed in blocks of ``chunk_s`` seconds. For each block the
samples it needs are read with a margin (the resampling filters' half lengths and the windows
that overlap the block), on the global window grid and with block starts aligned to the
polyphase grid, so the result equals the all-at-once result up to floating-point rounding,
while at most one block of resampled data and its windows are held. The cleaned copy of the
recording itself is in memory (an MNE raw object with its data loaded).

Units are unchanged (volts in, volts out): the model only ever sees standardized windows.
Bad channels are left as they are unless picked by name. Written here rather than taken from
MNE, which has no windowed overlap-add of a learned single-channel model.
"""

from __future__ import annotations

import copy
import math
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from scipy.signal import firwin, resample_poly

from ..errors import InvalidParameterError

__all__ = ["Denoiser"]

_MAX_DENOMINATOR = 10_000


def _filter(up: int, down: int) -> tuple[np.ndarray, int]:
    """The anti-aliasing FIR filter of ``resample_poly`` (Kaiser 5.0) and its half length."""
    rate = max(up, down)
    half_len = 10 * rate
    return firwin(2 * half_len + 1, 1.0 / rate, window=("kaiser", 5.0)), half_len


def _resample(x: np.ndarray, up: int, down: int, h: np.ndarray) -> np.ndarray:
    """Polyphase resampling of ``x`` ``[c, t]`` along time, odd reflection at both ends."""
    pad = "antireflect" if x.shape[-1] >= 2 else "edge"
    return resample_poly(x, up, down, axis=-1, window=h, padtype=pad)


def _window_starts(total: int, size: int, hop: int) -> np.ndarray:
    """Starts of the windows covering ``total`` samples (one window if shorter than ``size``)."""
    if total <= size:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, total - size + 1, hop, dtype=np.int64)
    if starts[-1] != total - size:
        starts = np.append(starts, total - size)
    return starts


class Denoiser:
    """A single-channel denoiser applied to recordings (see the module docstring).

    Parameters
    ----------
    model : BaseDenoiser
        Any model of :data:`~neurokit.models.denoise.DENOISERS` (or a module with ``sfreq``
        and ``n_times`` attributes mapping ``[b, n_times]`` to ``[b, n_times]``). It is put in
        evaluation mode.
    batch_size : int
        Windows per forward pass.
    chunk_s : float
        Seconds of the recording processed at a time (bounds the memory of the resampled
        data and windows; the result does not depend on it).
    residual : bool
        Add the model's correction to the recorded samples (True) or replace them with the
        resampled model output (False); see the module docstring.
    device : str | torch.device | None
        Where the model runs (default: where its parameters are).

    Examples
    --------
    >>> import neurokit
    >>> from neurokit.models import ATAT
    >>> rec = neurokit.io.synthetic("eeg", n_channels=4, duration_s=4.0, seed=0)
    >>> clean = Denoiser(ATAT.from_preset("tiny")).apply(rec)
    >>> clean.ch_names == rec.ch_names
    True
    """

    def __init__(self, model, *, batch_size=256, chunk_s=60.0, residual=True, device=None):
        if not isinstance(model, torch.nn.Module) or not all(
            hasattr(model, attr) for attr in ("sfreq", "n_times")
        ):
            raise InvalidParameterError(
                f"model is a {type(model).__name__}; Denoiser needs a denoiser module with "
                "sfreq and n_times (a model of neurokit.models.denoise.DENOISERS, or "
                "Denoiser.from_pretrained(path_or_name))"
            )
        self.model = model.eval()
        self.batch_size = self._check_batch_size(batch_size)
        self.chunk_s = self._check_chunk_s(chunk_s)
        self.residual = bool(residual)
        if device is not None:
            self.model.to(device)
        param = next(iter(self.model.parameters()), None)
        self.device = param.device if param is not None else torch.device("cpu")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_pretrained(cls, path_or_name, *, preset=None, **kwargs) -> Denoiser:
        """A denoiser from a checkpoint folder, or an untrained registered model.

        Parameters
        ----------
        path_or_name : path-like | str
            A folder written by ``save_pretrained`` (or a ``neurokit train denoiser`` run
            folder holding ``model/``), or a registered name such as ``"atat"``, optionally
            with a preset: ``"atat:tiny"``. A name gives that model with random weights (its
            ``"base"`` preset unless another is named), with a warning that it is untrained.
        preset : str | None
            Preset of a registered name (overrides the one after the colon).
        **kwargs
            Options of :class:`Denoiser` (``batch_size``, ``chunk_s``, ``residual``, ``device``).
        """
        from .denoise import DENOISERS, BaseDenoiser

        path = Path(str(path_or_name)).expanduser()
        if path.exists():
            if (path / "model" / "config.json").is_file() and not (path / "config.json").exists():
                path = path / "model"
            if not (path / "config.json").is_file():
                raise InvalidParameterError(
                    f"model {str(path_or_name)!r}: the folder holds no config.json; pass a "
                    "folder written by save_pretrained or a run folder of neurokit train denoiser"
                )
            return cls(BaseDenoiser.from_pretrained(path), **kwargs)
        name, _, after = str(path_or_name).partition(":")
        preset = preset or after or None
        if name not in DENOISERS:
            raise InvalidParameterError(
                f"model {str(path_or_name)!r} is neither an existing checkpoint folder nor a "
                f"registered denoiser {sorted(DENOISERS)}; pass NAME or NAME:PRESET (e.g. "
                "atat:tiny) or the model folder written by save_pretrained (RUN/model); the "
                "classic multi-channel cleaners are neurokit.models.cleaners.CLEANERS "
                "(ica-iclabel, asr)"
            )
        model_cls = DENOISERS[name]
        preset = preset or ("base" if "base" in model_cls.presets else None)
        model = model_cls.from_preset(preset) if preset else model_cls()
        warnings.warn(
            f"{name} ({preset or 'default'} preset) is untrained: random weights do not denoise. "
            "Train one with `neurokit train denoiser` and pass its checkpoint.",
            UserWarning,
            stacklevel=2,
        )
        return cls(model, **kwargs)

    @staticmethod
    def _check_batch_size(value) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidParameterError(f"batch_size={value!r}; must be an integer >= 1")
        return value

    @staticmethod
    def _check_chunk_s(value) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise InvalidParameterError(f"chunk_s={value!r}; must be a number of seconds > 0")
        return float(value)

    @property
    def sfreq(self) -> float:
        """Sampling rate of the model in Hz."""
        return float(self.model.sfreq)

    @property
    def n_times(self) -> int:
        """Window length of the model in samples."""
        return int(self.model.n_times)

    @property
    def name(self) -> str:
        return str(getattr(self.model, "name", type(self.model).__name__))

    def __repr__(self) -> str:
        return (
            f"<Denoiser | {self.name}: windows of {self.n_times} samples at {self.sfreq:g} Hz, "
            f"chunks of {self.chunk_s:g} s>"
        )

    # ------------------------------------------------------------------ recordings
    def apply(self, raw, *, picks="eeg", batch_size=None, chunk_s=None):
        """A cleaned copy of a recording; only the picked channels change.

        Parameters
        ----------
        raw : mne.io.BaseRaw | neurokit.Recording
            The recording (loaded or not; it is read one block at a time and never modified).
        picks : str | list of str | list of int
            Channel types (``"eeg"``, ``"seeg"``, ...; bad channels left out), channel names
            or indices. Default: the good EEG channels.
        batch_size, chunk_s : int, float | None
            Override the denoiser's settings for this call.

        Returns
        -------
        mne.io.BaseRaw | neurokit.Recording
            Same type as ``raw``: a copy with its data loaded, the same channels, units, info,
            annotations and sampling rate; with a Recording, one more history entry
            ``{"step": "denoise", ...}``.
        """
        rec, raw = _unwrap_raw(raw, "Use Denoiser.denoise_array for arrays [c, t].")
        idx = _resolve_picks(raw, picks)
        out = raw.copy().load_data(verbose="error")
        sfreq = float(raw.info["sfreq"])

        def read(start, stop):
            return raw.get_data(picks=idx, start=start, stop=stop)

        def write(start, stop, block):
            out._data[idx, start:stop] = block

        self._stream(read, write, raw.n_times, sfreq, batch_size, chunk_s)
        if rec is None:
            return out
        params = {"model": self.name, "channels": [raw.ch_names[i] for i in idx]}
        params["residual"] = self.residual
        return rec.with_step(out, "denoise", sensors=copy.deepcopy(rec.sensors), **params)

    def denoise_array(self, data, sfreq, *, batch_size=None, chunk_s=None) -> np.ndarray:
        """Clean every row of ``data`` ``[c, t]`` sampled at ``sfreq`` Hz; float64 ``[c, t]``
        in the same units."""
        data = np.asarray(data, dtype=np.float64)
        if data.ndim != 2:
            raise InvalidParameterError(
                f"data must be 2-D [channels, times]; got shape {data.shape}"
            )
        if isinstance(sfreq, bool) or not isinstance(sfreq, (int, float)) or not sfreq > 0:
            raise InvalidParameterError(f"sfreq={sfreq!r}; must be a positive number (Hz)")
        out = np.empty_like(data)

        def write(start, stop, block):
            out[:, start:stop] = block

        self._stream(lambda a, b: data[:, a:b], write, data.shape[1], float(sfreq),
                     batch_size, chunk_s)  # fmt: skip
        return out

    # ------------------------------------------------------------------ engine
    def _stream(self, read, write, n, sfreq, batch_size, chunk_s):
        """Process ``n`` samples block by block: ``read(a, b) -> [c, b - a]``,
        ``write(a, b, block)``."""
        batch_size = self._check_batch_size(self.batch_size if batch_size is None else batch_size)
        chunk_s = self._check_chunk_s(self.chunk_s if chunk_s is None else chunk_s)
        if n == 0:
            return
        ratio = Fraction(self.sfreq / sfreq).limit_denominator(_MAX_DENOMINATOR)
        up, down = ratio.numerator, ratio.denominator
        plan = _Plan(n, up, down, self.n_times)
        step = max(int(round(chunk_s * sfreq)), int(math.ceil(self.n_times * down / up)), 1)
        for a in range(0, n, step):
            b = min(n, a + step)
            write(a, b, self._block(read, plan, a, b, batch_size))

    def _block(self, read, plan, a, b, batch_size) -> np.ndarray:
        """Cleaned samples ``[a, b)`` of the picked channels."""
        p, q, x_lo, x_hi, z_lo, z_hi = plan.ranges(a, b)
        x = read(x_lo, x_hi)
        z = plan.forward(x)  # model rate, starting at x_lo * up / down
        z = z[:, z_lo - x_lo * plan.up // plan.down : z_hi - x_lo * plan.up // plan.down]
        y = self._overlap_add(z, z_lo, p, q, plan, batch_size)
        if self.residual:
            y = y - z[:, p - z_lo : q - z_lo]
        back = plan.backward(y)[:, a - p * plan.down // plan.up : b - p * plan.down // plan.up]
        if self.residual:
            back = x[:, a - x_lo : b - x_lo] + back
        return back

    def _overlap_add(self, z, z_lo, p, q, plan, batch_size) -> np.ndarray:
        """Model output on ``[p, q)`` of the model-rate signal, from ``z`` starting at
        ``z_lo`` (holding every window that overlaps ``[p, q)``)."""
        size = self.n_times
        starts = plan.starts[(plan.starts < q) & (plan.starts + size > p)]
        seg = z
        if plan.total < size:  # one window, extended by reflection
            seg = np.pad(z, ((0, 0), (0, size - z.shape[1])), mode="reflect" if
                         z.shape[1] >= 2 else "edge")  # fmt: skip
        offsets = (starts - z_lo)[:, None] + np.arange(size)
        windows = seg[:, offsets]  # [c, k, size]
        c, k = windows.shape[:2]
        flat = windows.reshape(c * k, size)
        mean = flat.mean(axis=1, keepdims=True)
        std = flat.std(axis=1, keepdims=True)
        std[~(np.isfinite(std) & (std > 0))] = 1.0
        outputs = np.empty_like(flat)
        inputs = ((flat - mean) / std).astype(np.float32)
        with torch.inference_mode():
            for i in range(0, len(inputs), batch_size):
                batch = torch.from_numpy(inputs[i : i + batch_size]).to(self.device)
                outputs[i : i + batch_size] = self.model(batch).float().cpu().numpy()
        outputs = (outputs * std + mean).reshape(c, k, size)
        lo, hi = int(starts[0]), int(starts[-1]) + size
        acc = np.zeros((c, hi - lo))
        weight = np.zeros(hi - lo)
        for j, s in enumerate(starts - lo):
            acc[:, s : s + size] += plan.taper * outputs[:, j]
            weight[s : s + size] += plan.taper
        return (acc / weight)[:, p - lo : q - lo]


class _Plan:
    """Sample bookkeeping of one recording: rates, filters, margins, window grid."""

    def __init__(self, n: int, up: int, down: int, size: int):
        self.n, self.up, self.down, self.size = n, up, down, size
        self.total = -(-n * up // down)  # samples at the model's rate
        self.starts = _window_starts(self.total, size, max(size // 2, 1))
        self.taper = np.sin(np.pi * (np.arange(size) + 0.5) / size) ** 2
        if up == down == 1:
            self.h, self.margin_in, self.margin_model = None, 0, 0
        else:
            self.h, half_len = _filter(up, down)
            self.margin_in = -(-half_len // up) + 1  # original samples
            self.margin_model = -(-half_len // down) + 1  # model-rate samples

    def ranges(self, a, b):
        """For output samples ``[a, b)``: model-rate range ``[p, q)`` of the output needed by
        the back-resampling, ``[x_lo, x_hi)`` to read, ``[z_lo, z_hi)`` of the windows."""
        up, down, size = self.up, self.down, self.size
        p = max(a * up // down - self.margin_model, 0) // up * up
        q = min(-(-b * up // down) + self.margin_model, self.total)
        used = self.starts[(self.starts < q) & (self.starts + size > p)]
        z_lo, z_hi = int(used[0]), min(int(used[-1]) + size, self.total)
        z_lo = min(z_lo, p)
        x_lo = max(z_lo * down // up - self.margin_in, 0) // down * down
        x_hi = min(-(-z_hi * down // up) + self.margin_in, self.n)
        return p, q, x_lo, x_hi, z_lo, z_hi

    def forward(self, x):
        """Original rate -> model rate (block starts aligned by :meth:`ranges`)."""
        return x if self.h is None else _resample(x, self.up, self.down, self.h)

    def backward(self, y):
        """Model rate -> original rate."""
        return y if self.h is None else _resample(y, self.down, self.up, self.h)


def _unwrap_raw(raw, hint: str = ""):
    """``(recording or None, mne Raw)`` from what ``apply`` received; typed error otherwise."""
    import mne

    from ..recording import Recording

    rec = raw if isinstance(raw, Recording) else None
    raw = rec.raw if rec is not None else raw
    if not isinstance(raw, mne.io.BaseRaw):
        raise InvalidParameterError(
            "apply takes an mne.io.BaseRaw or a neurokit Recording; got a "
            f"{type(raw).__name__}. {hint}".rstrip()
        )
    return rec, raw


def _resolve_picks(raw, picks) -> list:
    """Indices of ``picks`` (types without bads, names, indices) in ``raw``."""
    types = raw.get_channel_types()
    names = list(raw.ch_names)
    bads = set(raw.info["bads"])
    single = isinstance(picks, (str, int, np.integer)) and not isinstance(picks, bool)
    items = (
        [picks] if single else list(picks) if isinstance(picks, (list, tuple, np.ndarray)) else []
    )
    if not items:
        raise InvalidParameterError(
            f"picks={picks!r}; pass channel types (e.g. 'eeg'), names or indices"
        )
    chosen = []
    for item in items:
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not -len(names) <= item < len(names):
                raise InvalidParameterError(
                    f"picks: index {item} out of range for {len(names)} channels"
                )
            chosen.append(int(item) % len(names))
        elif isinstance(item, str) and item in names:
            chosen.append(names.index(item))
        elif isinstance(item, str) and item in set(types) | _KNOWN_TYPES:
            chosen += [i for i, t in enumerate(types) if t == item and names[i] not in bads]
        else:
            raise InvalidParameterError(
                f"picks: {item!r} is neither a channel name nor a channel type of this "
                f"recording (types: {sorted(set(types))}); pass types such as 'eeg', channel "
                "names or indices"
            )
    chosen = sorted(set(chosen))
    if not chosen:
        raise InvalidParameterError(
            f"picks={picks!r} selects no good channel (types present: {sorted(set(types))}, "
            f"bads: {sorted(bads)}); pick another type or name the channels"
        )
    return chosen


_KNOWN_TYPES = {"eeg", "seeg", "ecog", "dbs", "eog", "ecg", "emg", "mag", "grad", "misc", "stim"}
