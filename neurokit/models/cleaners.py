"""Classic multi-channel artifact removal: ICA with ICLabel, and ASR.

Both cleaners have the user-facing shape of :class:`~neurokit.models.Denoiser`:
``cleaner.apply(raw, picks="eeg")`` returns a cleaned copy of an MNE raw object (or of a
:class:`~neurokit.Recording`, with one more history entry) with the same channels, units,
info, annotations and sampling rate, and they are selected by name on the command line:
``neurokit denoise IN OUT --model ica-iclabel`` or ``--model asr``. Unlike the learned
denoisers they look at all picked channels at once, so they need several EEG channels.

The decompositions are the libraries': :class:`mne.preprocessing.ICA`,
:func:`mne_icalabel.label_components` and :class:`meegkit.asr.ASR`. Written here is only the
glue: the picks, the filtered copies the methods are fitted on, which parts are subtracted,
and the checks with their messages.

**ICA + ICLabel** (:class:`ICALabelCleaner`). ICLabel was trained on extended-infomax
decompositions of EEG band-passed between 1 and 100 Hz, so the ICA is fitted on a copy of the
picked channels high-passed at ``l_freq`` (1 Hz) and low-passed at ``min(100 Hz, 0.45
sfreq)``. Every component whose ICLabel probability of one of the classes ``remove`` is at
least ``threshold`` is removed: the back-projection of the removed components, computed from
the *unfiltered* data, is subtracted from the recording. ``reference`` says in which reference
the ICA is fitted, labelled and applied:

- ``"own"`` (default): the recording's own reference. A removed component is removed
  entirely, including its share of the common mode. ICLabel asks for average-referenced data;
  the maps of this decomposition differ from average-referenced ones by a constant per
  component.
- ``"average"``: average-referenced copies, as ICLabel asks. What is removed is then known only
  up to the common mode: the output re-referenced to the average is exactly the ICA-cleaned
  average-referenced data, and the mean over the picked channels is left as recorded (the
  artifact's common-mode part stays in; the output keeps the input's reference).

On the multi-channel benchmark of :mod:`benchmarks.denoise`, ``"own"`` is the better of the
two (``"average"`` leaves the blink's common mode on every channel).

**ASR** (:class:`ASRCleaner`, Artifact Subspace Reconstruction, Mullen et al. 2015). ASR
needs drift-free data: a copy of the picked channels is high-passed at ``l_freq`` (0.5 Hz,
zero-phase FIR from :func:`mne.filter.filter_data`) and scaled to microvolts; ASR is calibrated
on ``calibration`` (by default the recording itself: ASR keeps the windows whose channel RMS
lies in a clean range, which needs at least ~30 s of data of which most is clean; or a span
``(tmin, tmax)`` in seconds, or another raw object of the same channels) with the cutoff
``cutoff`` (standard deviations of the calibration's component amplitudes; 20 is
conservative, 5 aggressive) and applied to the filtered copy in blocks of ``win_len`` seconds
(meegkit estimates one reconstruction matrix per call and blends successive ones), causally,
as an online ASR would. What ASR removed (filtered
input minus ASR output) is subtracted from the recording, so frequencies below ``l_freq`` are
kept as recorded.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np

from ..errors import InvalidParameterError

__all__ = ["ICALabelCleaner", "ASRCleaner", "CLEANERS", "ICLABEL_CLASSES"]

#: the classes of ICLabel, in the order of its output
ICLABEL_CLASSES = (
    "brain", "muscle artifact", "eye blink", "heart beat", "line noise", "channel noise", "other",
)  # fmt: skip
_ARTIFACT_CLASSES = ("muscle artifact", "eye blink", "heart beat", "line noise", "channel noise")


def _number(name, value, *, low=0.0, high=None, strict=True):
    ok = not isinstance(value, bool) and isinstance(value, (int, float))
    ok = ok and (value > low if strict else value >= low) and (high is None or value <= high)
    if not ok:
        bound = f"> {low}" if strict else f">= {low}"
        bound += f" and <= {high}" if high is not None else ""
        raise InvalidParameterError(f"{name}={value!r}; must be a number {bound}")
    return float(value)


class _Cleaner:
    """Shared part: picks, copy, history entry."""

    name = "cleaner"
    min_channels = 2

    def get_config(self) -> dict:
        """The constructor's keyword arguments and the registry name."""
        return {"name": self.name, "kwargs": copy.deepcopy(self._config)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"<{type(self).__name__} | {self.name}: {args}>"

    def apply(self, raw, *, picks="eeg"):
        """A cleaned copy of a recording; only the picked channels change.

        Parameters
        ----------
        raw : mne.io.BaseRaw | neurokit.Recording
            The recording (never modified).
        picks : str | list of str | list of int
            Channel types, names or indices (see :meth:`Denoiser.apply
            <neurokit.models.Denoiser.apply>`). Default: the good EEG channels.

        Returns
        -------
        mne.io.BaseRaw | neurokit.Recording
            Same type as ``raw``: a loaded copy with the same channels, units, info,
            annotations and sampling rate; with a Recording, one more history entry
            ``{"step": "denoise", "model": name, "channels": [...], ...}``.
        """
        from .denoiser import _resolve_picks, _unwrap_raw

        rec, raw = _unwrap_raw(raw)
        idx = _resolve_picks(raw, picks)
        if len(idx) < self.min_channels:
            raise InvalidParameterError(
                f"{self.name} needs at least {self.min_channels} good channels; picks={picks!r} "
                f"selects {len(idx)}. Pick more EEG channels, or clean channel by channel with "
                "a single-channel denoiser (e.g. --model RUN/model of neurokit train denoiser)"
            )
        out = raw.copy().load_data(verbose="error")
        sub = out.copy().pick(idx, verbose="error")
        info = self._clean(sub)
        out._data[idx] = sub._data
        if rec is None:
            return out
        params = {"model": self.name, "channels": [raw.ch_names[i] for i in idx], **info}
        return rec.with_step(out, "denoise", sensors=copy.deepcopy(rec.sensors), **params)


class ICALabelCleaner(_Cleaner):
    """ICA, components labelled by ICLabel, artifact components removed (module docstring).

    Parameters (keyword-only)
    ----------
    n_components : int | float | None
        ICA components: an int, a fraction of explained variance (float in (0, 1)), or None
        for ``min(n_channels - 1, 30)`` (the average reference removes one dimension).
    method : {"infomax", "fastica", "picard"}
        ICA algorithm; ``"infomax"`` runs extended infomax, the decomposition ICLabel was
        trained on; ``"fastica"`` is several times faster; ``"picard"`` needs python-picard.
    remove : sequence of str
        ICLabel classes removed (default every artifact class: muscle artifact, eye blink,
        heart beat, line noise, channel noise; never "brain" or "other").
    threshold : float
        A component is removed when its probability of a class in ``remove`` is at least
        this (0.8).
    l_freq : float
        High-pass of the copy the ICA is fitted on, Hz (1.0, as ICLabel expects).
    reference : {"own", "average"}
        Reference in which the ICA is fitted, labelled and applied (module docstring).
    max_iter : int | "auto"
        ICA iterations (MNE's ``"auto"``).
    random_state : int
        Seed of the ICA (0), so that a rerun gives the same result.

    Notes
    -----
    ICLabel's warnings about decompositions other than extended infomax, about a low-pass
    below 100 Hz (recordings sampled under 222 Hz) and about the reference are silenced: they
    are choices made here (see the module docstring).
    ICLabel runs on the torch backend of mne-icalabel (torch is a neurokit dependency;
    onnxruntime is used instead if torch is missing). It needs the positions of the EEG
    channels: :func:`neurokit.io.load` sets them from the 10-05 template for standard names;
    otherwise call ``raw.set_montage("standard_1005")`` (or your digitization) first.
    ``apply`` adds ``removed`` (component: class, probability) and ``n_components`` to the
    history entry of a Recording.

    Examples
    --------
    >>> import neurokit
    >>> rec = neurokit.io.synthetic("eeg", n_channels=19, duration_s=20.0, seed=0)
    >>> clean = ICALabelCleaner(method="fastica").apply(rec)
    >>> clean.ch_names == rec.ch_names
    True
    """

    name = "ica-iclabel"
    min_channels = 3

    def __init__(self, *, n_components=None, method="infomax", remove=_ARTIFACT_CLASSES,
                 threshold=0.8, l_freq=1.0, reference="own", max_iter="auto",
                 random_state=0):  # fmt: skip
        if reference not in ("own", "average"):
            raise InvalidParameterError(f"reference={reference!r}; allowed: 'own', 'average'")
        self.reference = reference
        if method not in ("infomax", "fastica", "picard"):
            raise InvalidParameterError(
                f"method={method!r}; allowed: 'infomax' (extended), 'fastica', 'picard'"
            )
        remove = (remove,) if isinstance(remove, str) else tuple(remove)
        unknown = [c for c in remove if c not in ICLABEL_CLASSES]
        if unknown or not remove:
            raise InvalidParameterError(
                f"remove={remove!r}; must be a non-empty list of ICLabel classes "
                f"{list(ICLABEL_CLASSES)}"
            )
        if n_components is not None and not (
            (isinstance(n_components, int) and not isinstance(n_components, bool)
             and n_components >= 1) or (isinstance(n_components, float) and 0 < n_components < 1)
        ):  # fmt: skip
            raise InvalidParameterError(
                f"n_components={n_components!r}; must be None, an int >= 1 or a fraction of "
                "explained variance in (0, 1)"
            )
        self.n_components, self.method, self.remove = n_components, method, remove
        self.threshold = _number("threshold", threshold, high=1.0)
        self.l_freq = _number("l_freq", l_freq)
        self.max_iter, self.random_state = max_iter, random_state
        self._config = dict(n_components=n_components, method=method, remove=list(remove),
                            threshold=threshold, l_freq=l_freq, reference=reference,
                            max_iter=max_iter,
                            random_state=random_state)  # fmt: skip

    def _check_positions(self, raw):
        types = set(raw.get_channel_types())
        if types != {"eeg"}:
            raise InvalidParameterError(
                f"ica-iclabel labels EEG components only; the picks hold {sorted(types)}. "
                "Pass picks='eeg' (or EEG channel names)"
            )
        from ..sensors import SensorTable

        known = SensorTable.from_info(raw.info).has_position
        missing = [n for n, ok in zip(raw.ch_names, known) if not ok]
        if missing:
            raise InvalidParameterError(
                f"ICLabel needs EEG channel positions; {len(missing)} picked channels have none "
                f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}). Set a montage "
                "first, e.g. raw.set_montage('standard_1005') for 10-05 names (neurokit.io.load "
                "does it for standard names), or leave those channels out of picks"
            )

    def fit(self, raw):
        """Fit the ICA on the good EEG channels of ``raw`` and label its components.

        Returns
        -------
        ica : mne.preprocessing.ICA
            The fitted decomposition (``ica.exclude`` holds the removed components).
        labels : dict
            ``"labels"`` (most probable class per component), ``"proba"`` ``[n, 7]`` (ICLabel's
            probabilities, columns :data:`ICLABEL_CLASSES`).
        """
        import mne
        from mne_icalabel import label_components

        if set(raw.get_channel_types()) != {"eeg"}:
            raw = raw.copy().pick("eeg", exclude="bads")
        self._check_positions(raw)
        n = len(raw.ch_names)
        n_components = self.n_components
        if n_components is None:
            n_components = min(n - 1, 30)
        elif isinstance(n_components, int) and n_components > n - 1:
            raise InvalidParameterError(
                f"n_components={n_components} is too many for {n} channels (at most "
                f"{n - 1} after the average reference); lower it or pass None"
            )
        sfreq = raw.info["sfreq"]
        h_freq = min(100.0, 0.45 * sfreq)
        fitted = raw.copy().filter(self.l_freq, h_freq, verbose="error")
        if self.reference == "average":
            fitted.set_eeg_reference("average", projection=False, verbose="error")
        fit_params = {"extended": True} if self.method == "infomax" else None
        ica = mne.preprocessing.ICA(
            n_components=n_components, method=self.method, fit_params=fit_params,
            max_iter=self.max_iter, random_state=self.random_state, verbose="error",
        )  # fmt: skip
        ica.fit(fitted, verbose="error")
        with warnings.catch_warnings(), mne.utils.use_log_level("error"):
            # ICLabel's notes on the decomposition and the band are documented in the class
            warnings.filterwarnings("ignore", message=".*ICLabel was designed.*")
            warnings.filterwarnings("ignore", message=".*not filtered between 1 and 100.*")
            warnings.filterwarnings("ignore", message=".*common average reference.*")
            labels = label_components(fitted, ica, method="iclabel")
        proba = np.asarray(ica.labels_scores_)
        cols = [ICLABEL_CLASSES.index(c) for c in self.remove]
        ica.exclude = [int(i) for i in np.flatnonzero(proba[:, cols].max(axis=1) >= self.threshold)]
        return ica, {"labels": list(labels["labels"]), "proba": proba}

    def _clean(self, sub) -> dict:
        self._check_positions(sub)
        ica, labels = self.fit(sub)
        if ica.exclude:
            base = sub.copy()
            if self.reference == "average":
                base.set_eeg_reference("average", projection=False, verbose="error")
            kept = ica.apply(base.copy(), exclude=ica.exclude, verbose="error")
            sub._data -= base._data - kept._data
        removed = {
            int(i): [labels["labels"][i], round(float(labels["proba"][i].max()), 3)]
            for i in ica.exclude
        }
        return {"n_components": int(ica.n_components_), "removed": removed}


class ASRCleaner(_Cleaner):
    """Artifact Subspace Reconstruction through meegkit (see the module docstring).

    Parameters (keyword-only)
    ----------
    cutoff : float
        Rejection threshold in standard deviations of the calibration data (20; meegkit's
        default 5 is aggressive, 2.5 its most aggressive advisable value).
    calibration : None | tuple of float | mne.io.BaseRaw
        Calibration data: None for the whole recording, ``(tmin, tmax)`` in seconds of it, or
        a raw object holding the picked channels (same names, same sampling rate).
    l_freq : float
        High-pass of the copy ASR sees, Hz (0.5).
    win_len : float
        ASR window in seconds (0.5).
    method : {"euclid", "riemann"}
        meegkit's subspace estimation.

    Examples
    --------
    >>> import neurokit
    >>> rec = neurokit.io.synthetic("eeg", n_channels=8, duration_s=40.0, seed=0)
    >>> clean = ASRCleaner().apply(rec)
    >>> clean.sfreq == rec.sfreq
    True
    """

    name = "asr"
    min_channels = 2

    def __init__(self, *, cutoff=20.0, calibration=None, l_freq=0.5, win_len=0.5,
                 method="euclid"):  # fmt: skip
        self.cutoff = _number("cutoff", cutoff)
        self.l_freq = _number("l_freq", l_freq)
        self.win_len = _number("win_len", win_len)
        if method not in ("euclid", "riemann"):
            raise InvalidParameterError(f"method={method!r}; allowed: 'euclid', 'riemann'")
        if calibration is not None and not hasattr(calibration, "get_data"):
            try:
                tmin, tmax = (float(v) for v in calibration)
            except (TypeError, ValueError):
                tmin, tmax = 0.0, -1.0
            if not 0 <= tmin < tmax:
                raise InvalidParameterError(
                    f"calibration={calibration!r}; pass None (the whole recording), "
                    "(tmin, tmax) in seconds with 0 <= tmin < tmax, or a raw object"
                )
            calibration = (tmin, tmax)
        self.calibration, self.method = calibration, method
        self._config = dict(cutoff=cutoff, l_freq=l_freq, win_len=win_len, method=method,
                            calibration=None if hasattr(calibration, "get_data") else
                            calibration)  # fmt: skip

    def _prepared(self, data, sfreq):
        import mne

        return mne.filter.filter_data(data * 1e6, sfreq, self.l_freq, None, verbose="error")

    def _calibration_data(self, sub, filtered):
        sfreq = sub.info["sfreq"]
        cal = self.calibration
        if cal is None:
            data = filtered
        elif hasattr(cal, "get_data"):
            missing = [n for n in sub.ch_names if n not in cal.ch_names]
            if missing or cal.info["sfreq"] != sfreq:
                raise InvalidParameterError(
                    f"calibration: the raw object must hold the picked channels at {sfreq:g} Hz; "
                    f"missing {missing[:5]}, sfreq {cal.info['sfreq']:g} Hz"
                )
            data = self._prepared(cal.get_data(picks=sub.ch_names), sfreq)
        else:
            a, b = (int(round(v * sfreq)) for v in cal)
            if b > filtered.shape[1]:
                raise InvalidParameterError(
                    f"calibration={cal!r} ends after the recording "
                    f"({filtered.shape[1] / sfreq:.1f} s)"
                )
            data = filtered[:, a:b]
        if data.shape[1] < 15 * sfreq:
            raise InvalidParameterError(
                f"ASR calibration data last {data.shape[1] / sfreq:.1f} s; need >= 15 s "
                "(30 s or more is advised): pass a longer calibration span or recording"
            )
        return data

    def _clean(self, sub) -> dict:
        from meegkit.asr import ASR

        sfreq = float(sub.info["sfreq"])
        filtered = self._prepared(sub._data, sfreq)
        asr = ASR(sfreq=sfreq, cutoff=self.cutoff, win_len=self.win_len, method=self.method)
        try:
            asr.fit(self._calibration_data(sub, filtered))
        except (ValueError, np.linalg.LinAlgError) as err:
            raise InvalidParameterError(
                f"ASR calibration failed ({err}); give longer or cleaner calibration data "
                "(calibration=(tmin, tmax) of a quiet span)"
            ) from err
        # meegkit's transform estimates one reconstruction per call: feed it blocks of one
        # window, as an online ASR would see them (successive blocks are blended by meegkit)
        step = max(int(round(self.win_len * sfreq)), 1)
        cleaned = np.concatenate(
            [asr.transform(filtered[:, a : a + step]) for a in range(0, filtered.shape[1], step)],
            axis=1,
        )
        removed = filtered - cleaned
        sub._data -= removed * 1e-6
        share = float(np.sqrt(np.mean(removed**2) / max(np.mean(filtered**2), 1e-30)))
        return {"cutoff": self.cutoff, "removed_rms_ratio": round(share, 4)}


#: registry name -> class of the classic cleaners (``--model NAME``)
CLEANERS = {cls.name: cls for cls in (ICALabelCleaner, ASRCleaner)}
