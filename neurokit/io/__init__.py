"""Read recordings from any acquisition system into a normalized :class:`~neurokit.Recording`.

>>> import neurokit
>>> rec = neurokit.io.synthetic("eeg", n_channels=4, duration_s=1.0, seed=0)
>>> rec.sfreq
256.0

Main entry points: :func:`load` (a file or a recording folder), :func:`load_bids` (a BIDS
dataset, through mne-bids), :func:`synthetic` (seeded EEG, MEG and sEEG for tests and demos) and
:func:`list_formats`. The readers are MNE's; neurokit adds format dispatch, companion-file
discovery, integrity checks, typed errors and the normalization of :mod:`.normalize`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from ..errors import NoSignalError, RecordingError, RecordingWarning
from ..recording import Recording
from ._registry import Format, find_format, list_formats, read_raw, register_format
from .bids import load_bids
from .normalize import normalize
from .synthetic import synthetic

__all__ = [
    "load",
    "load_bids",
    "list_formats",
    "synthetic",
    "normalize",
    "register_format",
    "Format",
    "find_format",
]


def load(
    path,
    *,
    format: str | None = None,
    preload: bool = False,
    repair_types: bool = True,
    montage="default",
    electrodes=None,
    channels=None,
    scale=None,
    **options,
) -> Recording:
    """Load a recording and normalize it.

    Parameters
    ----------
    path : path-like
        A recording file, or a folder that is one recording (CTF ``.ds``, EGI ``.mff``, Neuralynx).
    format : str | None
        Force a format by name (see :func:`list_formats`); by default it is found from the
        folder type, the extension and, where extensions are shared (``.cnt``, ``.eeg``,
        ``.dat``), the content.
    preload : bool
        Read the samples into memory now. Lazy by default.
    repair_types : bool | None
        Repair generic channel types from channel names and file names (each repair is written
        to ``rec.history``); None (default) does so unless the format stores channel types
        itself (FIF, CTF, KIT, BTi).
    montage : str | mne.channels.DigMontage | None
        Standard montage for EEG channels the file gives no position for, matched by name.
    electrodes, channels : path-like | False | None
        BIDS ``electrodes.tsv`` / ``channels.tsv``; found beside the file by default.
    scale : float | dict | None
        Multiply data channels to fix wrong units, e.g. ``{"eeg": 1e-6}`` for microvolts stored
        as volts.
    **options
        Passed to the MNE reader, e.g. companion files (``config_fname=`` for BTi, ``mrk=``,
        ``elp=``, ``hsp=`` for KIT), ``allow_maxshield=True`` for FIF.

    Returns
    -------
    Recording

    Raises
    ------
    neurokit.errors.RecordingError
        Subclasses say why: unsupported format, corrupt file, missing companion file, no signal.
    """
    path = Path(path)
    if not path.exists():
        raise RecordingError(path, "no such file or folder")
    fmt = find_format(path, format)
    raw, notes = read_raw(path, fmt, {**options, "preload": preload})
    if len(raw.ch_names) == 0:
        raise NoSignalError(path, "the recording holds no channels")
    if raw.n_times == 0:
        raise NoSignalError(path, "the recording holds no samples")
    rec = normalize(
        raw,
        path=path,
        fmt=fmt,
        notes=notes,
        repair_types=repair_types,
        montage=montage,
        electrodes=electrodes,
        channels=channels,
        scale=scale,
    )
    for note in rec.meta["warnings"]:
        warnings.warn(f"{path}: {note}", RecordingWarning, stacklevel=2)
    return rec
