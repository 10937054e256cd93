"""Online SSVEP decoding: feed chunks of samples, get a decision and its confidence when ready.

A :class:`StreamingDecoder` wraps any neurokit (or scikit-learn) SSVEP estimator. During a trial
it buffers the incoming samples; at every *decision point* (``min_window_s``, then every
``step_s`` up to ``max_window_s``, all counted from the stimulus onset plus ``latency_s``) it
scores the buffer so far. With dynamic stopping (``threshold`` set) it emits a decision at the
first point where the confidence reaches the threshold; otherwise, and at the last point in any
case, it decides at ``max_window_s``.

Estimators that learn templates of a fixed length (TRCA, TDCA, ...) are fitted once per
decision point on training trials cropped to that length (:meth:`StreamingDecoder.fit`);
training-free ones (CCA, FBCCA) are simply cloned. Confidence is the largest class probability
(``predict_proba``), or the softmax of ``decision_function`` scores multiplied by
``temperature`` when the estimator has no probabilities.

>>> import numpy as np
>>> from neurokit.decoding import CCA                                     # doctest: +SKIP
>>> dec = StreamingDecoder(CCA(freqs=[13, 17, 21], sfreq=256), sfreq=256,  # doctest: +SKIP
...                        max_window_s=2.0, threshold=0.9).fit()
>>> dec.start_trial()                                                      # doctest: +SKIP
>>> for chunk in chunks:                                                   # doctest: +SKIP
...     decision = dec.push(chunk)          # None until a decision is ready
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone

from ..errors import InvalidParameterError

__all__ = ["Decision", "StreamingDecoder"]


@dataclass(frozen=True)
class Decision:
    """One decision of a :class:`StreamingDecoder`.

    Attributes
    ----------
    label : object
        The predicted class.
    confidence : float
        Probability of that class (0-1).
    window_s : float
        Signal length the decision used (seconds after onset + latency).
    n_samples : int
        Samples received in the trial when it was made (latency included).
    compute_s : float
        Wall-clock seconds spent scoring at this decision point.
    early : bool
        True when dynamic stopping decided before ``max_window_s``.
    """

    label: object
    confidence: float
    window_s: float
    n_samples: int
    compute_s: float
    early: bool


def _softmax(scores: np.ndarray) -> np.ndarray:
    z = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class StreamingDecoder:
    """Decide on SSVEP trials from a stream of sample chunks.

    Parameters
    ----------
    estimator : estimator
        A neurokit SSVEP estimator (or any classifier taking ``(n_trials, n_channels,
        n_times)``), cloned for each decision point.
    sfreq : float
        Sampling rate of the stream in Hz.
    max_window_s : float
        Longest window; a decision is always made when it is reached.
    min_window_s : float | None
        First decision point; default ``max_window_s`` (no dynamic stopping).
    step_s : float
        Spacing of the decision points after ``min_window_s``.
    threshold : float | None
        Dynamic stopping: decide as soon as the confidence reaches this probability. None:
        decide at ``max_window_s`` only.
    latency_s : float
        Samples of this duration after the onset are received but not scored (visual
        latency, about 0.14 s for SSVEP).
    temperature : float
        Scale of ``decision_function`` scores before the softmax that turns them into
        confidences (estimators without ``predict_proba`` only).
    """

    def __init__(
        self,
        estimator,
        *,
        sfreq: float,
        max_window_s: float,
        min_window_s: float | None = None,
        step_s: float = 0.1,
        threshold: float | None = None,
        latency_s: float = 0.0,
        temperature: float = 10.0,
    ):
        self.estimator = estimator
        self.sfreq = float(sfreq)
        self.max_window_s = float(max_window_s)
        self.min_window_s = self.max_window_s if min_window_s is None else float(min_window_s)
        self.step_s = float(step_s)
        self.threshold = threshold
        self.latency_s = float(latency_s)
        self.temperature = float(temperature)
        if not self.sfreq > 0:
            raise InvalidParameterError(f"sfreq must be > 0 Hz, got {sfreq!r}")
        if not 0 < self.min_window_s <= self.max_window_s:
            raise InvalidParameterError(
                f"need 0 < min_window_s <= max_window_s, got min_window_s={min_window_s!r}, "
                f"max_window_s={max_window_s!r}"
            )
        if not self.step_s > 0:
            raise InvalidParameterError(f"step_s must be > 0 s, got {step_s!r}")
        if threshold is not None and not 0.0 < float(threshold) <= 1.0:
            raise InvalidParameterError(
                f"threshold must be a probability in (0, 1] or None, got {threshold!r}"
            )
        if self.latency_s < 0:
            raise InvalidParameterError(f"latency_s must be >= 0 s, got {latency_s!r}")
        n_points = int(np.floor((self.max_window_s - self.min_window_s) / self.step_s + 1e-9))
        points = self.min_window_s + self.step_s * np.arange(n_points + 1)
        if points[-1] < self.max_window_s - 1e-9:
            points = np.append(points, self.max_window_s)
        #: decision points in samples after onset + latency
        self.points = np.unique(np.round(points * self.sfreq).astype(int))
        self._offset = int(round(self.latency_s * self.sfreq))
        self.estimators_: dict[int, object] | None = None
        self.start_trial()

    # ------------------------------------------------------------------ training
    def fit(self, X=None, y=None, **fit_params) -> StreamingDecoder:
        """Fit one clone of the estimator per decision point.

        Parameters
        ----------
        X : array, shape ``(n_trials, n_channels, n_times)`` | None
            Training trials starting at the stimulus onset (latency included: the first
            ``latency_s`` seconds are skipped here as online). None for training-free
            estimators, which are then fitted without data when they allow it.
        y : array, shape ``(n_trials,)`` | None
        **fit_params
            Passed to every ``fit`` (e.g. ``groups``).
        """
        self.estimators_ = {}
        if X is not None:
            X = np.asarray(X, dtype=float)
            if X.ndim != 3:
                raise InvalidParameterError(
                    f"X must be (n_trials, n_channels, n_times), got shape {X.shape}"
                )
            need = self._offset + int(self.points[-1])
            if X.shape[-1] < need:
                raise InvalidParameterError(
                    f"training trials have {X.shape[-1]} samples; latency_s + max_window_s "
                    f"need {need} at {self.sfreq:g} Hz"
                )
        for n in self.points:
            est = clone(self.estimator)
            if X is None:
                est.fit(None, y, **fit_params)
            else:
                est.fit(X[..., self._offset : self._offset + n], y, **fit_params)
            self.estimators_[int(n)] = est
        return self

    # ------------------------------------------------------------------ streaming
    def start_trial(self) -> None:
        """Forget the buffer: the next sample pushed is the stimulus onset."""
        self._chunks: list[np.ndarray] = []
        self._n = 0
        self._next = 0  # index into self.points
        self._done = False

    def _confidences(self, est, window: np.ndarray) -> tuple[object, float]:
        if hasattr(est, "predict_proba"):
            try:
                proba = np.asarray(est.predict_proba(window))[0]
            except (AttributeError, NotImplementedError):
                proba = None
            if proba is not None:
                k = int(np.argmax(proba))
                return est.classes_[k], float(proba[k])
        scores = np.atleast_2d(np.asarray(est.decision_function(window), dtype=float))
        proba = _softmax(self.temperature * scores)[0]
        k = int(np.argmax(proba))
        return est.classes_[k], float(proba[k])

    def push(self, chunk) -> Decision | None:
        """Add ``chunk`` (``(n_channels, n_samples)``) to the trial.

        Returns the :class:`Decision` when one is made at a decision point covered by the
        samples received so far, else None. After a decision, further chunks are ignored
        (None) until :meth:`start_trial`.
        """
        if self.estimators_ is None:
            raise InvalidParameterError("StreamingDecoder is not fitted; call fit() first")
        if self._done:
            return None
        chunk = np.asarray(chunk, dtype=float)
        if chunk.ndim != 2:
            raise InvalidParameterError(
                f"chunk must be (n_channels, n_samples), got shape {chunk.shape}"
            )
        if self._chunks and chunk.shape[0] != self._chunks[0].shape[0]:
            raise InvalidParameterError(
                f"chunk has {chunk.shape[0]} channels; the trial started with "
                f"{self._chunks[0].shape[0]}"
            )
        self._chunks.append(chunk)
        self._n += chunk.shape[1]
        decision = None
        while self._next < len(self.points):
            n = int(self.points[self._next])
            if self._n < self._offset + n:
                break
            last = self._next == len(self.points) - 1
            self._next += 1
            if not last and self.threshold is None:
                continue
            data = np.concatenate(self._chunks, axis=1)
            self._chunks = [data]
            window = data[None, :, self._offset : self._offset + n]
            t0 = time.perf_counter()
            label, conf = self._confidences(self.estimators_[n], window)
            spent = time.perf_counter() - t0
            if last or conf >= float(self.threshold):
                decision = Decision(label, conf, n / self.sfreq, self._n, spent, not last)
                self._done = True
                break
        return decision

    def decide(self, trial) -> Decision:
        """Run a whole trial ``(n_channels, n_times)`` through the stream in one go."""
        self.start_trial()
        step = max(1, int(round(self.step_s * self.sfreq)))
        trial = np.asarray(trial, dtype=float)
        for start in range(0, trial.shape[-1], step):
            decision = self.push(trial[:, start : start + step])
            if decision is not None:
                return decision
        raise InvalidParameterError(
            f"the trial has {trial.shape[-1]} samples; a decision needs "
            f"{self._offset + int(self.points[-1])} (latency_s + max_window_s)"
        )
