"""Readers of the 40-target SSVEP benchmarks stored as MATLAB files: the Tsinghua Benchmark
(Wang et al. 2017; original ``S<n>.mat`` layout or MOABB's ``MNE-wang-data`` folders) and BETA
(Liu et al. 2020). Both return :class:`~neurokit.decoding.datasets.SSVEPData` in volts; import
them from :mod:`neurokit.decoding.datasets` or :mod:`neurokit.decoding`.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import CorruptRecordingError, DatasetNotFoundError, InvalidParameterError
from .datasets import (
    BETA_FREQS,
    BETA_PHASES,
    OCCIPITAL_9,
    TSINGHUA_CH_NAMES,
    TSINGHUA_FREQS,
    TSINGHUA_PHASES,
    SSVEPData,
    _subject_ids,
)


def _read_mat(path: Path, names):
    from scipy.io import loadmat

    try:
        return loadmat(path, variable_names=list(names), simplify_cells=True)
    except NotImplementedError:  # MATLAB v7.3 (HDF5)
        from pymatreader import read_mat

        return read_mat(str(path), variable_names=list(names))
    except (ValueError, OSError, TypeError) as err:
        raise CorruptRecordingError(path, f"not a readable MATLAB file ({err})") from None


def _as_radians(phases) -> np.ndarray:
    """Phases in radians; tables written in units of pi (max <= 2) are converted."""
    phases = np.asarray(phases, float).ravel()
    return phases * np.pi if phases.size and phases.max() <= 2.0 + 1e-9 else phases


def _canonical_names(names, where) -> list:
    lookup = {n.upper(): n for n in TSINGHUA_CH_NAMES}
    out = [lookup.get(str(n).strip().upper(), str(n).strip()) for n in names]
    if len(out) != 64:
        raise CorruptRecordingError(where, f"lists {len(out)} channels, expected 64")
    return out


def _pick_indices(picks, ch_names) -> list:
    if picks is None:
        picks = OCCIPITAL_9
    elif isinstance(picks, str) and picks == "all":
        return list(range(len(ch_names)))
    elif isinstance(picks, str):
        picks = [picks]
    upper = [c.upper() for c in ch_names]
    missing = [p for p in picks if str(p).upper() not in upper]
    if missing:
        raise InvalidParameterError(
            f"picks {missing} are not channels of this data set; use None (the 9 occipital "
            f"channels), 'all', or names among {ch_names}"
        )
    return [upper.index(str(p).upper()) for p in picks]


_SUBJECT_FILE = re.compile(r"S0*(\d+)\.mat", re.IGNORECASE)


def _subject_files(folder: Path, wanted, what: str) -> dict:
    files = {
        int(m.group(1)): p
        for p in sorted(folder.iterdir())
        if (m := _SUBJECT_FILE.fullmatch(p.name))
    }
    if wanted is None:
        return files
    missing = [s for s in wanted if s not in files]
    if missing:
        raise DatasetNotFoundError(
            folder,
            f"no {what} file for subjects {missing} (expected S<n>.mat, found "
            f"{sorted(files) or 'none'})",
        )
    return {s: files[s] for s in wanted}


def _resolve_wang_folder(folder) -> Path:
    if folder is None:
        import mne

        folder = (
            mne.get_config("MNE_DATASETS_WANG_PATH")
            or mne.get_config("MNE_DATA")
            or os.path.join("~", "mne_data")
        )
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DatasetNotFoundError(
            root,
            "folder not found; pass the folder holding S1.mat ... S35.mat (and "
            "Freq_Phase.mat), or the MNE data root holding MOABB's MNE-wang-data",
        )
    bases = [root] if root.name == "MNE-wang-data" else [root, root / "MNE-wang-data"]
    for base in bases:  # MOABB: <MNE_DATA>/MNE-wang-data/<path of the download URL>/S1.mat
        for cand in (base, base / "records" / "14865172" / "files", base / "uploads" / "down"):
            if cand.is_dir() and _subject_files(cand, None, ""):
                return cand
    if bases[-1].is_dir() and bases[-1].name == "MNE-wang-data":
        for hit in sorted(bases[-1].rglob("*.mat")):
            if _SUBJECT_FILE.fullmatch(hit.name):
                return hit.parent
    raise DatasetNotFoundError(root, "no S<n>.mat subject files in it nor in MNE-wang-data/")


def _epoch_set(eeg, order, picks, ch_names, freqs, phases, sub, latency, name, window_s, start_s):
    """[..] EEG array -> SSVEPData; ``order`` names the axes of ``eeg`` (c, t, k, b)."""
    eeg = np.transpose(eeg, [order.index(a) for a in "bkct"])  # -> blocks, targets, chan, time
    nb, nk = eeg.shape[:2]
    X = eeg[:, :, picks].reshape(nb * nk, len(picks), -1).astype(np.float64) * 1e-6  # uV -> V
    data = SSVEPData(
        X=X,
        y=np.tile(np.arange(nk), nb),
        freqs=freqs,
        phases=phases,
        sfreq=250.0,
        ch_names=[ch_names[i] for i in picks],
        subject=np.full(nb * nk, sub),
        block=np.repeat(np.arange(nb), nk),
        classes=[f"{f:g} Hz" for f in freqs],
        visual_latency_s=latency,
        tmin=-0.5,
        name=name,
    )
    return data if window_s is None else data.crop(window_s, start_s)


def _check_shape(arr, path, var, expected: str, n_targets_axis: int):
    arr = np.asarray(arr)
    if arr.ndim != 4 or arr.shape[0] != 64 or arr.shape[n_targets_axis] != 40:
        raise CorruptRecordingError(
            path, f"variable {var!r} has shape {arr.shape}; expected {expected}"
        )
    return arr


def load_tsinghua_benchmark(
    folder=None,
    subjects=None,
    *,
    picks=None,
    window_s: float | None = None,
    start_s: float = 0.0,
) -> SSVEPData:
    """Load the Tsinghua SSVEP Benchmark (Wang et al., IEEE TNSRE 2017).

    35 subjects, 40 targets (8-15.8 Hz, step 0.2 Hz, joint frequency-phase modulation),
    6 blocks, 64 channels, 250 Hz; each ``S<n>.mat`` holds ``data`` of shape
    ``[64 channels, 1500 samples, 40 targets, 6 blocks]`` in microvolts: 6-s epochs starting
    0.5 s before the stimulus onset (``tmin = -0.5``). Visual latency 0.14 s.

    Parameters
    ----------
    folder : str | Path | None
        The folder holding ``S1.mat ... S35.mat`` (``Freq_Phase.mat`` and ``64-channels.loc``
        are read from it when present, else the built-in tables are used), or the MNE data
        root where MOABB's ``Wang2016`` stores them (``MNE-wang-data/records/14865172/files``,
        or ``MNE-wang-data/uploads/down`` in older MOABB). None: ``MNE_DATASETS_WANG_PATH``,
        then ``MNE_DATA``, then ``~/mne_data``.
    subjects : list of int | None
        Subject numbers; None loads every ``S<n>.mat`` found.
    picks : None | "all" | list of str
        None: ``OCCIPITAL_9`` (Pz, PO5, PO3, POz, PO4, PO6, O1, Oz, O2); "all": 64 channels.
    window_s, start_s : float | None
        When ``window_s`` is given, each subject is cropped at load time with
        :meth:`SSVEPData.crop` (saves memory); None keeps the whole epoch.

    Returns
    -------
    SSVEPData
        Trials ordered subject, block, target; ``y`` is the target index of the files
        (``freqs[y]``, ``phases[y]`` in Hz and radians), ``block`` 0-5, ``session`` 0.
    """
    root = _resolve_wang_folder(folder)
    files = _subject_files(root, _subject_ids(subjects, "Benchmark"), "Benchmark")
    freqs, phases = TSINGHUA_FREQS, TSINGHUA_PHASES
    fp = root / "Freq_Phase.mat"
    if fp.exists():
        tab = _read_mat(fp, ["freqs", "phases"])
        freqs = np.round(np.asarray(tab["freqs"], float).ravel(), 2)
        phases = _as_radians(tab["phases"])
        if freqs.size != 40 or phases.size != 40:
            raise CorruptRecordingError(fp, "freqs and phases must hold 40 values each")
    ch_names = list(TSINGHUA_CH_NAMES)
    loc = root / "64-channels.loc"
    if loc.exists():
        ch_names = _canonical_names(
            [ln.split()[-1] for ln in loc.read_text().splitlines() if ln.strip()], loc
        )
    picks_idx = _pick_indices(picks, ch_names)
    parts = []
    for sub, path in files.items():
        mat = _read_mat(path, ["data"])
        if "data" not in mat:
            raise CorruptRecordingError(path, "no variable 'data' (expected the Benchmark layout)")
        eeg = _check_shape(
            mat["data"],
            path,
            "data",
            "[64 channels, n_times, 40 targets, n_blocks] (published files: [64, 1500, 40, 6])",
            2,
        )
        parts.append(
            _epoch_set(
                eeg,
                "ctkb",
                picks_idx,
                ch_names,
                freqs,
                phases,
                sub,
                0.14,
                "tsinghua_benchmark",
                window_s,
                start_s,
            )
        )
    out = SSVEPData.concat(parts)
    out.meta = {"folder": str(root)}
    return out


def load_beta(
    folder,
    subjects=None,
    *,
    picks=None,
    window_s: float | None = None,
    start_s: float = 0.0,
) -> SSVEPData:
    """Load BETA (Liu et al., Front. Neurosci. 2020): 70 subjects, 40 targets, 4 blocks.

    Each ``S<n>.mat`` holds a struct ``data`` with ``EEG`` of shape ``[64 channels, n_times,
    4 blocks, 40 targets]`` in microvolts at 250 Hz (0.5 s before the onset, 2 s (S1-S15) or
    3 s (S16-S70) of stimulation, 0.5 s after) and ``suppl_info`` with ``freqs``, ``phases``,
    ``chan`` (64 x 4 cell: index, angle, radius, name) and ``srate``. Frequencies, phases and
    channel names are read from ``suppl_info`` (built-in tables when a field is absent;
    phases given in units of pi are converted to radians). Visual latency 0.13 s. Subjects of
    different epoch lengths are cut to the shortest one (``tmin = -0.5`` kept).

    Parameters are those of :func:`load_tsinghua_benchmark` (``folder`` holds the files).
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DatasetNotFoundError(root, "folder not found; pass the folder holding S1.mat ...")
    files = _subject_files(root, _subject_ids(subjects, "BETA"), "BETA")
    if not files:
        raise DatasetNotFoundError(root, "no S<n>.mat subject files in this folder")
    parts = []
    for sub, path in files.items():
        mat = _read_mat(path, ["data"]).get("data")
        if not isinstance(mat, dict) or "EEG" not in mat:
            raise CorruptRecordingError(path, "no struct 'data' with a field 'EEG' (BETA layout)")
        eeg = _check_shape(
            mat["EEG"], path, "data.EEG", "[64 channels, n_times, n_blocks, 40 targets]", 3
        )
        info = mat.get("suppl_info") or {}
        freqs = np.round(np.asarray(info.get("freqs", BETA_FREQS), float).ravel(), 2)
        phases = _as_radians(info.get("phases", BETA_PHASES))
        srate = float(np.asarray(info.get("srate", 250.0)).ravel()[0])
        if freqs.size != 40 or phases.size != 40 or srate != 250.0:
            raise CorruptRecordingError(
                path,
                f"suppl_info has {freqs.size} freqs, {phases.size} phases and srate "
                f"{srate:g}; expected 40, 40 and 250 Hz",
            )
        chan = info.get("chan")
        names = (
            _canonical_names([row[-1] for row in np.asarray(chan, object)], path)
            if chan is not None
            else list(TSINGHUA_CH_NAMES)
        )
        parts.append(
            _epoch_set(
                eeg,
                "ctbk",
                _pick_indices(picks, names),
                names,
                freqs,
                phases,
                sub,
                0.13,
                "beta",
                window_s,
                start_s,
            )
        )
    n_min = min(p.X.shape[-1] for p in parts)
    parts = [replace(p, X=p.X[..., :n_min]) for p in parts]
    out = SSVEPData.concat(parts)
    out.meta = {"folder": str(root)}
    return out
