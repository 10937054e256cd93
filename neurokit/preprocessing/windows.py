"""Windows over a recording: fixed length with stride, or event-locked epochs with labels.

Windows are ``(start, stop)`` sample indices into the recording's data (``stop`` exclusive), so a
corpus can store them beside one array per recording and cut them lazily.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import InvalidParameterError

__all__ = ["fixed_windows", "event_windows", "make_windows"]

_BAD = re.compile(r"^(bad|edge)", re.I)


def fixed_windows(
    n_times: int, sfreq: float, window_s: float, stride_s: float | None = None, *, bad_spans=()
) -> np.ndarray:
    """Fixed-length windows ``(n, 2)`` int64; the last partial window is dropped, and so is any
    window overlapping one of ``bad_spans`` (``(start, stop)`` in samples)."""
    size = int(round(window_s * sfreq))
    step = size if stride_s is None else int(round(stride_s * sfreq))
    if size < 1 or step < 1:
        raise InvalidParameterError(
            f"windows: window_s={window_s}, stride_s={stride_s} at {sfreq:g} Hz give "
            f"{size}/{step} samples; both must be at least one sample"
        )
    starts = np.arange(0, max(n_times - size + 1, 0), step, dtype=np.int64)
    bounds = (
        np.stack([starts, starts + size], axis=1) if len(starts) else np.zeros((0, 2), np.int64)
    )
    for a, b in bad_spans:
        bounds = bounds[(bounds[:, 1] <= a) | (bounds[:, 0] >= b)]
    return bounds


def _bad_spans(raw) -> list:
    sfreq = raw.info["sfreq"]
    return [
        (
            int(np.floor((a["onset"] - raw.first_time) * sfreq)),
            int(np.ceil((a["onset"] - raw.first_time + a["duration"]) * sfreq)),
        )
        for a in raw.annotations
        if _BAD.search(a["description"])
    ]


def event_windows(rec, *, tmin_s: float, tmax_s: float, mapping: dict | None = None):
    """Event-locked windows: one per annotation (matched by ``mapping`` description -> label,
    or every non-bad annotation with its own description as label), from ``onset + tmin_s`` to
    ``onset + tmax_s``. Windows outside the data or over bad spans are dropped.

    Returns ``(bounds (n, 2) int64, labels list of str)``.
    """
    if not tmax_s > tmin_s:
        raise InvalidParameterError(
            f"windows: tmax_s={tmax_s} must be greater than tmin_s={tmin_s}"
        )
    raw, sfreq = rec.raw, rec.sfreq
    size = int(round((tmax_s - tmin_s) * sfreq))
    bad = _bad_spans(raw)
    bounds, labels = [], []
    for a in raw.annotations:
        desc = a["description"]
        if mapping is not None:
            if desc not in mapping:
                continue
            label = mapping[desc]
        elif _BAD.search(desc):
            continue
        else:
            label = desc
        start = int(round((a["onset"] - raw.first_time + tmin_s) * sfreq))
        stop = start + size
        if start < 0 or stop > rec.n_times or any(start < b and stop > a_ for a_, b in bad):
            continue
        bounds.append((start, stop))
        labels.append(str(label))
    return np.array(bounds, dtype=np.int64).reshape(-1, 2), labels


def make_windows(rec, spec: dict | None):
    """Windows from a recipe's ``windows:`` section: ``{length_s, stride_s}`` or
    ``{events: {tmin_s, tmax_s, mapping}}``; None gives no windows."""
    if not spec:
        return np.zeros((0, 2), np.int64), []
    if "events" in spec:
        return event_windows(rec, **spec["events"])
    bounds = fixed_windows(
        rec.n_times,
        rec.sfreq,
        spec["length_s"],
        spec.get("stride_s"),
        bad_spans=_bad_spans(rec.raw),
    )
    return bounds, [None] * len(bounds)
