"""FIF (MEGIN/Elekta Neuromag, CTF-in-FIF, MNE's own files): raw and evoked, via ``mne.io``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import CorruptRecordingError, MissingCompanionFileError, RecordingError
from ._registry import register_format

_EVOKED_SUFFIXES = ("-ave.fif", "_ave.fif", "-ave.fif.gz", "_ave.fif.gz")


@register_format(
    "fif",
    "FIF (Neuromag/MEGIN, MNE raw or evoked)",
    extensions=(".fif", ".fif.gz"),
    modality="meg",
    typed_channels=True,
)
def read_fif(path: Path, options: dict):
    import mne

    preload = options.pop("preload", False)
    if path.name.lower().endswith(_EVOKED_SUFFIXES) or options.pop("evoked", False):
        return _read_evoked(path, options)
    allow_maxshield = options.pop("allow_maxshield", False)
    events = options.pop("events", None)
    try:
        raw = mne.io.read_raw_fif(
            path,
            preload=preload,
            allow_maxshield=allow_maxshield,
            verbose="warning",
            **options,
        )
    except ValueError as err:
        if "Internal Active Shielding" in str(err):
            raise RecordingError(
                path,
                "contains raw Internal Active Shielding (MaxShield) data, which is distorted "
                "until processed with MaxFilter/SSS; pass allow_maxshield=True to load it anyway",
            ) from err
        if "No raw data" in str(err):
            return _read_evoked(path, options)
        raise
    except OSError as err:
        if "corrupt" not in str(err).lower():
            raise
        raise CorruptRecordingError(
            path,
            f"FIF file is truncated or damaged: the data could not "
            f"be read ({_header_summary(path)})",
        ) from err
    notes = []
    if allow_maxshield:
        notes.append(
            "loaded with allow_maxshield=True: MaxShield data is distorted until "
            "processed with MaxFilter/SSS"
        )
    eve = _events_file(path, events)
    if eve is not None:
        # MNE keeps events in a separate -eve.fif; neurokit carries events as annotations
        # (description = event code), so they travel with the recording.
        found = mne.read_events(eve, verbose="error")
        onsets = (found[:, 0] - raw.first_samp) / raw.info["sfreq"] + raw.first_time
        raw.set_annotations(
            raw.annotations
            + mne.Annotations(
                onsets,
                np.zeros(len(found)),
                [str(c) for c in found[:, 2]],
                orig_time=raw.annotations.orig_time,
            )
        )
    return raw, notes


def _events_file(path: Path, given) -> Path | None:
    """The MNE events file beside a raw FIF (``x_raw.fif`` -> ``x-eve.fif``), or ``given``."""
    if given is False:
        return None
    if given is not None:
        if not Path(given).exists():
            raise MissingCompanionFileError(path, f"events={str(given)!r} does not exist")
        return Path(given)
    name = path.name
    for raw_tail in ("_raw.fif", "-raw.fif", "_raw.fif.gz", "-raw.fif.gz"):
        if name.endswith(raw_tail):
            stem = name[: -len(raw_tail)]
            for eve_tail in ("-eve.fif", "_eve.fif", "-eve.fif.gz", "_eve.fif.gz"):
                if (path.parent / (stem + eve_tail)).exists():
                    return path.parent / (stem + eve_tail)
    return None


def _read_evoked(path: Path, options: dict):
    import mne

    condition = options.pop("condition", 0)
    evoked = mne.read_evokeds(path, condition=condition, verbose="warning", **options)
    raw = mne.io.RawArray(evoked.data, evoked.info, first_samp=evoked.first, verbose="warning")
    note = (
        f"evoked (averaged) data, condition {evoked.comment!r} of nave={evoked.nave}, "
        "returned as a continuous recording"
    )
    return raw, [note]


def _header_summary(path: Path) -> str:
    import mne

    try:
        info = mne.io.read_info(path, verbose="warning")
    except Exception:  # header unreadable too: say only that
        return "the header is unreadable as well"
    return (
        f"the header is intact: {len(info['ch_names'])} channels at {info['sfreq']:g} Hz, "
        "so the file was most likely cut short"
    )
