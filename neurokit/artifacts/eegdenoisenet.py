"""EEGdenoiseNet: loader, noise mixing and the train/validation/test protocol.

EEGdenoiseNet (Zhang et al., "EEGdenoiseNet: a benchmark dataset for deep learning solutions of
EEG denoising", J. Neural Eng. 18, 056057, 2021) ships single-channel 2-s epochs: 4514 clean EEG,
3400 EOG and 5598 EMG epochs at 256 Hz (files ``EEG_all_epochs``, ``EOG_all_epochs``,
``EMG_all_epochs`` as ``.npy`` and ``.mat``; inside each ``.mat`` the array has the file's stem as
its name, beside ``fs``), plus 512-Hz versions of EEG and EMG (``EEG_all_epochs_512hz``,
``EMG_all_epochs_512hz``, distributed on G-Node GIN). There is no 512-Hz EOG file.

Protocol facts, taken from the authors' ``code/benchmark_networks/data_prepare.py`` and ``main.py``
(commit 8d29066 of ``ncclabsustech/EEGdenoiseNet``) and the paper:

- Mixing (paper eq. 1-2, same in the code): ``y = x + lambda * n`` with
  ``SNR_dB = 10 log10(RMS(x) / RMS(lambda n))``, i.e.
  ``lambda = RMS(x) / (RMS(n) 10**(SNR_dB/10))``.
  Note the ratio of RMS *amplitudes* under ``10 log10``: a reference "SNR" of -7 dB is -14 dB in
  the usual power convention. :func:`mix` follows the reference (``snr_definition="amplitude"``)
  and offers ``"power"`` (``20 log10`` of the RMS ratio).
- Normalization: each noisy epoch and its clean target are divided by ``std(y)`` of the noisy
  epoch (population std); the divisor is kept so outputs can be put back in the input scale.
- Splits: EEG and noise are shuffled once; the number of pairs is the number of noise epochs.
  With fewer EEG than noise epochs (EMG) the first ``n_noise - n_eeg`` shuffled EEG epochs are
  used twice; with more (EOG) the surplus EEG is dropped. 80 % of the pairs train, the rest is
  halved into validation and test (``round``). The training pairs are re-paired 10 times
  (``combin_num = 10``), each time with new random permutations of EEG and noise and a new SNR
  drawn uniformly in [-7, 2] dB. Validation and test keep their pairing and repeat it at each of
  the 10 SNRs -7, -6, ..., 2 dB.
- The paper's text describes 3000/400 EOG pairs and 5000/598 EMG pairs without a validation set;
  the code (followed here) uses 80/10/10. Pass ``ratios=(3000/3400, 0, 400/3400)`` for the paper's
  EOG split (a zero ratio gives an empty split).

Reused EEG epochs are put in the training split only (the reference does the same whenever the
reused epochs fit in it, which holds for the published counts), so no clean epoch is shared by
training and evaluation. ``eeg_groups`` / ``noise_groups`` extend that guarantee to epochs that
are not identical but come from the same source (overlapping windows, simultaneous channels).

The official files are not bundled: download them from the authors' repository or GIN.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> eeg, eog = rng.standard_normal((40, 512)), rng.standard_normal((30, 512))
>>> splits = make_splits(eeg, eog, seed=0, n_train_combinations=2)
>>> splits["train"].noisy.shape, splits["test"].noisy.shape
((48, 512), (30, 512))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DatasetNotFoundError, InvalidParameterError

__all__ = [
    "ArtifactEpochs",
    "DatasetNotFoundError",
    "Split",
    "load_eegdenoisenet",
    "mix",
    "make_splits",
    "TEST_SNR_DB",
    "TRAIN_SNR_RANGE_DB",
]

TRAIN_SNR_RANGE_DB = (-7.0, 2.0)
TEST_SNR_DB = tuple(float(s) for s in range(-7, 3))
KINDS = ("eeg", "eog", "emg", "ecg")
FILE_STEMS = {
    256: {"eeg": "EEG_all_epochs", "eog": "EOG_all_epochs", "emg": "EMG_all_epochs"},
    512: {"eeg": "EEG_all_epochs_512hz", "emg": "EMG_all_epochs_512hz"},
}


@dataclass
class ArtifactEpochs:
    """Single-channel epochs of clean EEG and of artifacts, all at one sampling rate.

    Attributes
    ----------
    eeg : ndarray, shape (n_epochs, n_times)
        Clean EEG epochs.
    eog, emg, ecg : ndarray, shape (n_epochs_kind, n_times) | None
        Artifact epochs of each kind (None where the source has none).
    sfreq : float
        Sampling rate in Hz.
    provenance : dict
        Per kind, a list with one dict per epoch (where it came from) or one dict describing the
        whole array (a file); see the builder that made the object.
    source : str
        Name of the benchmark.
    """

    eeg: np.ndarray
    eog: np.ndarray | None
    emg: np.ndarray | None
    ecg: np.ndarray | None
    sfreq: float
    provenance: dict = field(default_factory=dict)
    source: str = ""

    @property
    def n_times(self) -> int:
        return int(self.eeg.shape[1])

    def noise(self, kind: str) -> np.ndarray:
        """The artifact epochs of ``kind`` ('eog', 'emg' or 'ecg'), shape (n, n_times)."""
        if kind not in KINDS[1:]:
            raise InvalidParameterError(f"kind must be one of 'eog', 'emg', 'ecg'; got {kind!r}")
        arr = getattr(self, kind)
        if arr is None or len(arr) == 0:
            raise InvalidParameterError(
                f"{self.source or 'this benchmark'} has no {kind.upper()} epochs at "
                f"{self.sfreq:g} Hz; use one of {self.kinds()}"
            )
        return arr

    def kinds(self) -> list:
        """Artifact kinds present (non-empty)."""
        return [k for k in KINDS[1:] if getattr(self, k) is not None and len(getattr(self, k))]

    def groups(self, kind: str) -> np.ndarray | None:
        """Group label per epoch of ``kind`` (for leak-free splits), or None when unknown."""
        prov = self.provenance.get(kind)
        if not isinstance(prov, list) or not prov or "group" not in prov[0]:
            return None
        return np.asarray([p["group"] for p in prov])


# ------------------------------------------------------------------------------- loading --


def _read_mat(path: Path, stem: str) -> tuple:
    import scipy.io

    try:
        content = scipy.io.loadmat(str(path))
    except NotImplementedError as err:  # MATLAB v7.3 files are HDF5
        raise InvalidParameterError(
            f"{path} is a MATLAB v7.3 (HDF5) file that scipy cannot read; use the .npy twin "
            f"of the dataset instead ({err})"
        ) from None
    fs = content.get("fs")
    fs = float(np.ravel(fs)[0]) if fs is not None and np.size(fs) else None
    base = stem.replace("_512hz", "")
    for name in (stem, base):
        if name in content:
            return np.asarray(content[name]), fs
    arrays = {
        k: v
        for k, v in content.items()
        if not k.startswith("__") and isinstance(v, np.ndarray) and v.ndim == 2 and v.size > 1
    }
    if len(arrays) != 1:
        raise InvalidParameterError(
            f"{path}: expected a variable {stem!r} (or one 2-D array); found {sorted(arrays)}"
        )
    return np.asarray(next(iter(arrays.values()))), fs


def _as_epochs(arr: np.ndarray, path: Path, n_times: int) -> np.ndarray:
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim != 2:
        raise InvalidParameterError(
            f"{path}: expected a 2-D (epochs, times) array, got {arr.shape}"
        )
    if arr.shape[1] != n_times and arr.shape[0] == n_times:
        arr = arr.T  # stored (times, epochs)
    if arr.shape[1] != n_times:
        raise InvalidParameterError(
            f"{path}: epochs have {arr.shape[1]} samples; 2-s epochs at the requested sfreq have "
            f"{n_times}. Pass the sfreq the file was made at (256 or 512)"
        )
    return np.ascontiguousarray(arr)


def _find(folder: Path, stem: str) -> list:
    hits = []
    for ext in (".npy", ".mat"):
        hits += sorted(folder.rglob(stem + ext), key=lambda p: (len(p.parts), str(p)))
    return hits


def load_eegdenoisenet(folder, *, sfreq: int = 256) -> ArtifactEpochs:
    """Load EEGdenoiseNet epochs from a folder holding the official files.

    Parameters
    ----------
    folder : path-like
        Folder searched recursively for ``EEG_all_epochs``, ``EOG_all_epochs``,
        ``EMG_all_epochs`` (256 Hz) or ``EEG_all_epochs_512hz``, ``EMG_all_epochs_512hz``
        (512 Hz), each as ``.npy`` (preferred) or ``.mat``.
    sfreq : {256, 512}
        Which version to load. There is no 512-Hz EOG: ``eog`` is None then.

    Returns
    -------
    ArtifactEpochs
        ``eeg``, ``eog``, ``emg`` arrays ``(n_epochs, 2 * sfreq)`` float64 (``ecg`` is None),
        ``sfreq``, and ``provenance[kind] = {"file": path}``.

    Raises
    ------
    DatasetNotFoundError
        When the EEG file or every artifact file is missing; the message lists the names
        searched and the dataset files that were found.
    """
    if sfreq not in FILE_STEMS:
        raise InvalidParameterError(
            f"sfreq must be 256 or 512 (the rates EEGdenoiseNet is published at); got {sfreq!r}"
        )
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DatasetNotFoundError(f"EEGdenoiseNet folder {folder} does not exist")
    stems = FILE_STEMS[sfreq]
    n_times = 2 * sfreq
    arrays, provenance = {}, {}
    for kind, stem in stems.items():
        hits = _find(folder, stem)
        if not hits:
            continue
        path = hits[0]
        if path.suffix == ".npy":
            arr, fs = np.load(path, allow_pickle=False), None
        else:
            arr, fs = _read_mat(path, stem)
        arrays[kind] = _as_epochs(arr, path, n_times)
        # ``fs`` saved beside the array is informative only: the authors' script writes
        # ``fs = 256`` whatever the array, so the epoch length is what is checked
        provenance[kind] = {"file": str(path), "declared_fs": fs}
    if "eeg" not in arrays or len(arrays) < 2:
        wanted = [f"{s}.npy|.mat" for s in stems.values()]
        present = sorted(
            str(p.relative_to(folder))
            for p in folder.rglob("*")
            if p.suffix in (".npy", ".mat") and "_all_epochs" in p.name
        )
        other = 512 if sfreq == 256 else 256
        hint = (
            f" (the files found look like the {other}-Hz version: pass sfreq={other})"
            if any(any(s in p for s in FILE_STEMS[other].values()) for p in present)
            else ""
        )
        raise DatasetNotFoundError(
            f"EEGdenoiseNet at {sfreq} Hz needs {wanted[0]} and at least one artifact file "
            f"({', '.join(wanted[1:])}) under {folder} (searched recursively); found "
            f"{present or 'no dataset file'}{hint}. Download the files from "
            "github.com/ncclabsustech/EEGdenoiseNet (data/) or gin.g-node.org/NCClab/EEGdenoiseNet"
        )
    return ArtifactEpochs(
        eeg=arrays["eeg"],
        eog=arrays.get("eog"),
        emg=arrays.get("emg"),
        ecg=None,
        sfreq=float(sfreq),
        provenance=provenance,
        source=f"EEGdenoiseNet ({sfreq} Hz)",
    )


# -------------------------------------------------------------------------------- mixing --


def _rms(x: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(np.square(x), axis=-1))


def mix(clean, noise, snr_db, *, snr_definition: str = "amplitude", return_noise: bool = False):
    """Add ``noise`` to ``clean`` at a given SNR: ``y = x + lambda * n``.

    Parameters
    ----------
    clean, noise : array_like, shape (..., n_times)
        Clean epochs ``x`` and artifact epochs ``n`` (broadcast against each other).
    snr_db : float | array_like, shape (...)
        Target SNR per epoch in dB.
    snr_definition : {"amplitude", "power"}
        ``"amplitude"`` (EEGdenoiseNet paper and code): ``SNR = 10 log10(RMS(x) / RMS(lambda n))``.
        ``"power"``: ``SNR = 20 log10(RMS(x) / RMS(lambda n))`` (the usual power ratio).
    return_noise : bool
        Also return the scaled artifact ``lambda * n``.

    Returns
    -------
    noisy : ndarray, shape (..., n_times)
    scaled_noise : ndarray, shape (..., n_times)
        Only with ``return_noise=True``.
    """
    if snr_definition not in ("amplitude", "power"):
        raise InvalidParameterError(
            f"snr_definition must be 'amplitude' (EEGdenoiseNet) or 'power'; got {snr_definition!r}"
        )
    x = np.asarray(clean, dtype=np.float64)
    n = np.asarray(noise, dtype=np.float64)
    snr = np.asarray(snr_db, dtype=np.float64)
    ratio = 10.0 ** (snr / (10.0 if snr_definition == "amplitude" else 20.0))
    rms_n = _rms(n)
    if np.any(rms_n == 0):
        raise InvalidParameterError("noise contains an all-zero epoch; its SNR is undefined")
    lam = _rms(x) / (rms_n * ratio)
    scaled = n * lam[..., None]
    noisy = x + scaled
    return (noisy, scaled) if return_noise else noisy


# -------------------------------------------------------------------------------- splits --


@dataclass
class Split:
    """One split of mixed pairs, standardized as in EEGdenoiseNet.

    Attributes
    ----------
    noisy, clean, artifact : ndarray, shape (n_pairs, n_times)
        Network input ``y / std(y)``, target ``x / std(y)`` and the scaled artifact
        ``lambda n / std(y)`` (``noisy = clean + artifact``).
    snr_db : ndarray, shape (n_pairs,)
        SNR of each pair (definition of :func:`mix`).
    scale : ndarray, shape (n_pairs,)
        ``std(y)`` of each noisy epoch: multiply outputs by it to return to input units.
    eeg_index, noise_index : ndarray of int, shape (n_pairs,)
        Rows of the ``eeg`` and ``noise`` arrays given to :func:`make_splits`.
    """

    noisy: np.ndarray
    clean: np.ndarray
    artifact: np.ndarray
    snr_db: np.ndarray
    scale: np.ndarray
    eeg_index: np.ndarray
    noise_index: np.ndarray

    def __len__(self) -> int:
        return int(self.noisy.shape[0])


def _grouped_order(n: int, groups, rng) -> list:
    """Indices as a list of groups (arrays), groups and members in random order."""
    perm = rng.permutation(n)
    if groups is None:
        return [perm[i : i + 1] for i in range(n)]
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise InvalidParameterError(
            f"groups must have one label per epoch ({n}); got {groups.shape}"
        )
    _, inverse = np.unique(groups[perm], return_inverse=True)
    members = [perm[inverse == g] for g in range(inverse.max() + 1)]
    return [members[g] for g in rng.permutation(len(members))]


def _take_from_end(order: list, count: int) -> tuple:
    """Remove whole groups from the end of ``order`` until ``count`` indices are covered;
    return (the last ``count`` of them, remaining groups). The surplus is discarded."""
    taken = []
    while count and sum(map(len, taken)) < count and order:
        taken.insert(0, order.pop())
    flat = np.concatenate(taken) if taken else np.zeros(0, np.int64)
    return flat[len(flat) - count :] if count else flat[:0], order


def _split_counts(n: int, ratios) -> tuple:
    ratios = tuple(float(r) for r in ratios)
    if len(ratios) != 3 or min(ratios) < 0 or ratios[0] <= 0 or abs(sum(ratios) - 1) > 1e-6:
        raise InvalidParameterError(
            f"ratios must be three non-negative numbers (train > 0) summing to 1; got {ratios}"
        )
    n_train = int(round(ratios[0] * n))
    rest = n - n_train
    held = ratios[1] + ratios[2]
    n_val = int(round(rest * ratios[1] / held)) if held else 0
    return n_train, n_val, rest - n_val


def _standardize(noisy, clean, artifact):
    scale = np.std(noisy, axis=-1)
    if np.any(scale == 0):
        raise InvalidParameterError("a mixed epoch is constant; check for all-zero EEG epochs")
    s = scale[:, None]
    return noisy / s, clean / s, artifact / s, scale


def _make_split(eeg, noise, ie, in_, snr, snr_definition) -> Split:
    y, a = mix(eeg[ie], noise[in_], snr, snr_definition=snr_definition, return_noise=True)
    noisy, clean, artifact, scale = _standardize(y, eeg[ie], a)
    return Split(noisy, clean, artifact, np.asarray(snr, float), scale, ie, in_)


def make_splits(
    eeg,
    noise,
    *,
    ratios=(0.8, 0.1, 0.1),
    seed=0,
    n_train_combinations: int = 10,
    train_snr_range_db=TRAIN_SNR_RANGE_DB,
    test_snr_db=TEST_SNR_DB,
    snr_definition: str = "amplitude",
    eeg_groups=None,
    noise_groups=None,
) -> dict:
    """Build EEGdenoiseNet-style train / validation / test pairs (see the module docstring).

    Parameters
    ----------
    eeg : array_like, shape (n_eeg, n_times)
        Clean EEG epochs.
    noise : array_like, shape (n_noise, n_times)
        Artifact epochs of one kind; the number of pairs is ``n_noise``.
    ratios : tuple of 3 floats
        Train, validation, test fractions of the pairs (reference: 0.8 and the rest halved).
    seed : int | numpy.random.Generator
        Seeds every permutation and SNR draw.
    n_train_combinations : int
        How many times training EEG and noise are re-paired (reference ``combin_num = 10``).
    train_snr_range_db : (float, float)
        Training SNRs are uniform in this range.
    test_snr_db : sequence of float
        SNRs at which every validation and test pair is mixed.
    snr_definition : {"amplitude", "power"}
        See :func:`mix`.
    eeg_groups, noise_groups : array_like, shape (n_eeg,) / (n_noise,) | None
        Source label per epoch (e.g. recording and time). Whole groups are kept inside one
        split; a held-out split is filled with whole groups and the surplus is dropped.

    Returns
    -------
    dict
        ``{"train": Split, "validation": Split, "test": Split}``. Validation and test are
        ordered SNR-major: all pairs at ``test_snr_db[0]``, then all at ``test_snr_db[1]``...
    """
    eeg = np.asarray(eeg, dtype=np.float64)
    noise = np.asarray(noise, dtype=np.float64)
    if eeg.ndim != 2 or noise.ndim != 2 or eeg.shape[1] != noise.shape[1]:
        raise InvalidParameterError(
            f"eeg and noise must be 2-D (epochs, times) with the same n_times; got {eeg.shape} "
            f"and {noise.shape}. Resample one of them (EEGdenoiseNet EMG needs the 512-Hz EEG)"
        )
    if int(n_train_combinations) < 1:
        raise InvalidParameterError(
            f"n_train_combinations must be >= 1; got {n_train_combinations}"
        )
    lo, hi = (float(v) for v in train_snr_range_db)
    if not hi >= lo:
        raise InvalidParameterError(f"train_snr_range_db must be (low, high); got {(lo, hi)}")
    test_snr = np.asarray(test_snr_db, dtype=np.float64).ravel()
    rng = np.random.default_rng(seed)

    # noise: shuffled (by group), test from the end, then validation, the rest trains
    n_train, n_val, n_test = _split_counts(len(noise), ratios)
    order = _grouped_order(len(noise), noise_groups, rng)
    noise_test, order = _take_from_end(order, n_test)
    noise_val, order = _take_from_end(order, n_val)
    noise_train = np.concatenate(order)[:n_train] if order else np.zeros(0, np.int64)
    if len(noise_test) < n_test or len(noise_val) < n_val or not len(noise_train):
        raise InvalidParameterError(
            f"{len(noise)} noise epochs in {len(set(map(str, noise_groups)))} noise_groups cannot "
            f"fill {n_test} test and {n_val} validation pairs with whole groups and leave some "
            "for training; use finer groups, more noise epochs, or noise_groups=None"
            if noise_groups is not None
            else f"{len(noise)} noise epochs are too few for ratios {tuple(ratios)}"
        )
    n_train, n_val, n_test = len(noise_train), len(noise_val), len(noise_test)

    # EEG: as many as pairs; surplus dropped, shortfall reused inside the training split only
    order = _grouped_order(len(eeg), eeg_groups, rng)
    if eeg_groups is None:
        order = order[: n_train + n_val + n_test]
    eeg_test, order = _take_from_end(order, n_test)
    eeg_val, order = _take_from_end(order, n_val)
    pool = np.concatenate(order) if order else np.zeros(0, np.int64)
    if len(eeg_test) < n_test or len(eeg_val) < n_val or (n_train and not len(pool)):
        raise InvalidParameterError(
            f"{len(eeg)} EEG epochs cannot fill {n_val} validation and {n_test} test pairs "
            "and still leave some for training; provide more EEG epochs or change ratios"
        )
    reuse = max(n_train - len(pool), 0)
    eeg_train = np.concatenate([pool[np.arange(reuse) % len(pool)], pool])[:n_train]

    k = int(n_train_combinations)
    ie = np.concatenate([eeg_train[rng.permutation(n_train)] for _ in range(k)])
    in_ = np.concatenate([noise_train[rng.permutation(n_train)] for _ in range(k)])
    snr_train = rng.uniform(lo, hi, size=len(ie))
    out = {"train": _make_split(eeg, noise, ie, in_, snr_train, snr_definition)}
    for name, e_idx, n_idx in (("validation", eeg_val, noise_val), ("test", eeg_test, noise_test)):
        reps = len(test_snr)
        snr = np.repeat(test_snr, len(e_idx))
        out[name] = _make_split(
            eeg, noise, np.tile(e_idx, reps), np.tile(n_idx, reps), snr, snr_definition
        )
    return out
