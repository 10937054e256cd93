"""BIDS sidecars beside a data file: ``*_channels.tsv`` (types, bad status) and
``*_electrodes.tsv`` (+ ``*_coordsystem.json``) for positions.

Sidecars are found by BIDS naming (``sub-01_ses-1_task-x_run-1_ieeg.edf`` ->
``sub-01_ses-1_electrodes.tsv``) or by plain prefix (``sample.edf`` -> ``sample_electrodes.tsv``).
mne-bids reads whole BIDS datasets (see :func:`neurokit.io.load_bids`); this module covers the
common case of a single file with its sidecars copied beside it, which mne-bids does not open.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from ..errors import CorruptRecordingError, MissingCompanionFileError

__all__ = ["find_sidecar", "read_channels_tsv", "read_electrodes_tsv", "BIDS_TYPES"]

BIDS_TYPES = {
    "EEG": "eeg",
    "SEEG": "seeg",
    "ECOG": "ecog",
    "DBS": "dbs",
    "EOG": "eog",
    "HEOG": "eog",
    "VEOG": "eog",
    "ECG": "ecg",
    "EMG": "emg",
    "MISC": "misc",
    "TRIG": "stim",
    "RESP": "resp",
    "GSR": "gsr",
    "TEMP": "temperature",
    "MEGMAG": "mag",
    "MEGGRADPLANAR": "grad",
    "MEGGRADAXIAL": "mag",
    "MEGREFMAG": "ref_meg",
    "MEGREFGRADAXIAL": "ref_meg",
    "SYSCLOCK": "misc",
    "PPG": "bio",
    "AUDIO": "misc",
    "REF": "eeg",
}


def _stem(path: Path) -> str:
    name = path.name
    for ext in (".fif.gz", ".nii.gz"):
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return path.stem if path.is_file() or path.suffix else name


def find_sidecar(path: Path, kind: str, given=None) -> Path | None:
    """The ``*_<kind>.tsv`` sidecar of ``path``; ``given`` (a path or False) overrides."""
    if given is False:
        return None
    if given is not None:
        given = Path(given)
        if not given.exists():
            raise MissingCompanionFileError(path, f"{kind}={str(given)!r} does not exist")
        return given
    stem = _stem(path)
    names = [f"{stem}_{kind}.tsv"]
    parts = stem.split("_")
    if parts[0].startswith("sub-"):
        entities = parts[:-1] if "-" not in parts[-1] else parts
        for n in range(len(entities), 0, -1):
            names.append("_".join(entities[:n]) + f"_{kind}.tsv")
    for name in names:
        cand = path.parent / name
        if cand.exists():
            return cand
    return None


def _rows(tsv: Path) -> list:
    with open(tsv, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if rows and "name" not in rows[0]:
        raise CorruptRecordingError(tsv, f"sidecar has no 'name' column (columns: {list(rows[0])})")
    return rows


def read_channels_tsv(tsv: Path) -> tuple:
    """``({name: mne_type}, [bad names])`` from a BIDS channels.tsv."""
    types, bads = {}, []
    for row in _rows(tsv):
        bids_type = (row.get("type") or "").strip().upper()
        if bids_type in BIDS_TYPES:
            types[row["name"]] = BIDS_TYPES[bids_type]
        if (row.get("status") or "").strip().lower() == "bad":
            bads.append(row["name"])
    return types, bads


def read_electrodes_tsv(tsv: Path) -> tuple:
    """``({name: xyz in metres}, unit_note)`` from a BIDS electrodes.tsv.

    The unit comes from ``*_coordsystem.json`` (``iEEGCoordinateUnits`` / ``EEGCoordinateUnits``)
    when present, else it is inferred: coordinates larger than 1 in magnitude are millimetres.
    """
    pos = {}
    for row in _rows(tsv):
        try:
            xyz = np.array([float(row[k]) for k in ("x", "y", "z")])
        except (KeyError, TypeError, ValueError):
            continue  # "n/a": no position for this contact
        if np.all(np.isfinite(xyz)):
            pos[row["name"]] = xyz
    unit = None
    stem = tsv.name[: -len("_electrodes.tsv")]
    for cand in (tsv.parent / f"{stem}_coordsystem.json", *tsv.parent.glob("*_coordsystem.json")):
        if cand.exists():
            meta = json.loads(cand.read_text())
            unit = meta.get("iEEGCoordinateUnits") or meta.get("EEGCoordinateUnits")
            break
    if unit is None:
        big = max((np.abs(v).max() for v in pos.values()), default=0.0)
        unit = "mm" if big > 1.0 else "m"
        note = f"unit inferred as {unit} from the coordinate magnitudes"
    else:
        note = f"unit {unit} from coordsystem.json"
    factor = {"m": 1.0, "mm": 1e-3, "cm": 1e-2}.get(unit)
    if factor is None:
        raise CorruptRecordingError(tsv, f"unknown coordinate unit {unit!r}; allowed m, cm, mm")
    return {k: v * factor for k, v in pos.items()}, note
