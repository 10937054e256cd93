"""Train a denoiser from a recipe on EEGdenoiseNet-style pairs (imports torch).

Only the training path imports this module; :mod:`neurokit.artifacts` itself stays free of
torch. A denoiser recipe is a YAML file ``datasets/denoise_<name>.yaml``::

    name: denoise_atat_tiny
    description: ...
    model: {name: atat, preset: tiny, kwargs: {}}   # a DENOISERS name, preset, overrides
    data:
      source: semisynthetic        # or eegdenoisenet (the official files; needs a folder)
      data_root: ../shared/data    # semisynthetic: the shared/data folder
      folder: null                 # eegdenoisenet: the folder holding the official files
      artifact: eog                # eog | emg | ecg
      groups: true                 # keep each source's epochs inside one split ('eeg': EEG only)
      seed: 0
      ratios: [0.8, 0.1, 0.1]
      n_train_combinations: 10
      benchmark: {max_files: 1, max_windows: 200}   # options of make_semisynthetic_benchmark
    loss: joint                    # or {name: alternating, lr: 0.0002} (ATAT only)
    train: {max_steps: 5, batch_size: 16, lr: 0.001}   # TrainConfig fields

The pairs are :func:`~neurokit.artifacts.make_splits` of the chosen benchmark, built at the
model's ``sfreq`` with windows of its ``n_times`` samples. ``data=FOLDER`` (``neurokit train
denoiser --data FOLDER``) overrides the source: a folder with ``motor_imagery/`` or ``ssvep/``
is a ``shared/data`` folder (semi-synthetic benchmark), any other folder must hold the official
EEGdenoiseNet files. Validation pairs are the trainer's evaluation set; after training the
model is scored on the test pairs (:func:`~neurokit.artifacts.denoising_report`, averaged over
SNRs) and the scores are stored in ``model/meta.json``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidParameterError
from .eegdenoisenet import Split

__all__ = ["PairDataset", "load_denoise_recipe", "build_splits", "train_denoiser"]

_KEYS = {"name", "description", "model", "data", "loss", "train"}
_DATA_KEYS = {
    "source", "data_root", "folder", "artifact", "groups", "seed", "ratios",
    "n_train_combinations", "train_snr_range_db", "test_snr_db", "snr_definition", "benchmark",
}  # fmt: skip
_SOURCES = ("semisynthetic", "eegdenoisenet")


class PairDataset(torch.utils.data.Dataset):
    """Training pairs of one :class:`~neurokit.artifacts.Split` as torch items.

    Item ``i`` is ``{"noisy": float32 [t], "clean": float32 [t]}``: the standardized noisy
    window and its target, the batch :meth:`BaseDenoiser.training_loss` takes.

    Parameters
    ----------
    split : Split
        Pairs from :func:`~neurokit.artifacts.make_splits`.
    sfreq : float | None
        Sampling rate of the windows in Hz (informative).
    """

    def __init__(self, split: Split, sfreq: float | None = None):
        if not isinstance(split, Split):
            raise InvalidParameterError(
                f"split is a {type(split).__name__}; pass a Split of make_splits"
            )
        self.noisy = torch.as_tensor(np.asarray(split.noisy, dtype=np.float32))
        self.clean = torch.as_tensor(np.asarray(split.clean, dtype=np.float32))
        self.sfreq = sfreq

    def __len__(self) -> int:
        return int(self.noisy.shape[0])

    def __getitem__(self, i):
        return {"noisy": self.noisy[i], "clean": self.clean[i]}


def _find_recipe(path_or_name) -> Path:
    """A recipe file given by path, or by name in the recipe folders (``datasets/``)."""
    from ..preprocessing.pipeline import recipe_dirs

    path = Path(str(path_or_name)).expanduser()
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    for folder in recipe_dirs():
        if (folder / f"{path.name}.yaml").is_file():
            return folder / f"{path.name}.yaml"
    found = sorted(p.stem for d in recipe_dirs() for p in d.glob("denoise_*.yaml"))
    raise InvalidParameterError(
        f"denoiser recipe {str(path_or_name)!r} not found: not a YAML file, and not one of "
        f"{found}; pass a path or the name of a datasets/denoise_*.yaml recipe"
    )


def load_denoise_recipe(path_or_name) -> dict:
    """Read and check a denoiser recipe (a path or a name found in the recipe folders)."""
    import yaml

    from ..models.denoise import DENOISERS

    path = _find_recipe(path_or_name)
    rec = yaml.safe_load(path.read_text()) or {}
    if not isinstance(rec, dict):
        raise InvalidParameterError(f"recipe {path}: expected a mapping at the top level")
    unknown = sorted(set(rec) - _KEYS)
    if unknown:
        raise InvalidParameterError(
            f"recipe {path}: unknown key {unknown[0]!r}; a denoiser recipe allows {sorted(_KEYS)}"
        )
    model = rec.get("model")
    if not isinstance(model, dict) or model.get("name") not in DENOISERS:
        raise InvalidParameterError(
            f"recipe {path}: model.name must be one of {sorted(DENOISERS)}; got "
            f"{(model or {}).get('name') if isinstance(model, dict) else model!r}"
        )
    data = rec.setdefault("data", {}) or {}
    unknown = sorted(set(data) - _DATA_KEYS)
    if unknown:
        raise InvalidParameterError(
            f"recipe {path}: data has unknown key {unknown[0]!r}; allowed {sorted(_DATA_KEYS)}"
        )
    if data.get("source", "semisynthetic") not in _SOURCES:
        raise InvalidParameterError(
            f"recipe {path}: data.source={data['source']!r}; allowed {list(_SOURCES)}"
        )
    rec["data"] = data
    rec.setdefault("name", path.stem)
    rec["path"] = str(path)
    return rec


def build_model(rec: dict):
    """The recipe's denoiser (registry name, preset, keyword overrides)."""
    from ..models.denoise import DENOISERS

    spec = rec["model"]
    cls = DENOISERS[spec["name"]]
    return cls.from_preset(spec.get("preset") or "base", **(spec.get("kwargs") or {}))


def _source(data: dict, folder) -> tuple[str, Path]:
    if folder is not None:
        folder = Path(folder).expanduser()
        shared = (folder / "motor_imagery").is_dir() or (folder / "ssvep").is_dir()
        return ("semisynthetic" if shared else "eegdenoisenet"), folder
    source = data.get("source", "semisynthetic")
    if source == "eegdenoisenet":
        if not data.get("folder"):
            raise InvalidParameterError(
                "data.source is eegdenoisenet but no folder is given; pass --data FOLDER (the "
                "folder holding EEG_all_epochs.npy and the artifact files) or set data.folder"
            )
        return source, Path(data["folder"]).expanduser()
    return source, Path(data.get("data_root", "../shared/data")).expanduser()


def build_splits(data: dict, *, sfreq: float, n_times: int, folder=None) -> tuple[dict, dict]:
    """Train / validation / test pairs of a recipe's ``data`` section for a model's input.

    Returns
    -------
    splits : dict of Split
        ``{"train", "validation", "test"}`` from :func:`~neurokit.artifacts.make_splits`.
    info : dict
        ``source``, ``folder``, ``artifact``, ``sfreq``, ``n_times`` and the number of pairs.
    """
    from . import load_eegdenoisenet, make_semisynthetic_benchmark, make_splits

    source, where = _source(data, folder)
    if source == "semisynthetic":
        options = dict(data.get("benchmark") or {})
        bench = make_semisynthetic_benchmark(
            where, seed=data.get("seed", 0), sfreq=sfreq, window_s=n_times / sfreq, **options
        )
    else:
        if float(sfreq) not in (256.0, 512.0):
            raise InvalidParameterError(
                f"the model's sfreq is {sfreq:g} Hz but EEGdenoiseNet is published at 256 and "
                "512 Hz; set model.kwargs.sfreq (and n_times) in the recipe"
            )
        bench = load_eegdenoisenet(where, sfreq=int(sfreq))
        if bench.n_times != n_times:
            raise InvalidParameterError(
                f"EEGdenoiseNet epochs have {bench.n_times} samples but the model takes "
                f"n_times={n_times}; set model.kwargs.n_times={bench.n_times} in the recipe"
            )
    kind = data.get("artifact", "eog")
    groups = data.get("groups", True)
    if groups not in (True, False, "eeg"):
        raise InvalidParameterError(
            f"data.groups={groups!r}; allowed true (EEG and artifact epochs grouped by source), "
            "'eeg' (EEG only) or false"
        )
    options = {
        k: data[k]
        for k in ("ratios", "n_train_combinations", "train_snr_range_db", "test_snr_db",
                  "snr_definition")
        if k in data
    }  # fmt: skip
    splits = make_splits(
        bench.eeg,
        bench.noise(kind),
        seed=data.get("seed", 0),
        eeg_groups=bench.groups("eeg") if groups else None,
        noise_groups=bench.groups(kind) if groups is True else None,
        **options,
    )
    info = {
        "source": source,
        "folder": str(where),
        "artifact": kind,
        "sfreq": float(sfreq),
        "n_times": int(n_times),
        "pairs": {name: len(split) for name, split in splits.items()},
    }
    return splits, info


def _loss_fn(spec, model):
    """``None`` (the model's joint loss) or the alternating adversarial loss of ATAT."""
    name, options = spec, {}
    if isinstance(spec, dict):
        options = dict(spec)
        name = options.pop("name", "joint")
    if name in (None, "joint"):
        return None
    if name == "alternating":
        from ..models.atat import ATAT, AlternatingAdversarialLoss

        if not isinstance(model, ATAT):
            raise InvalidParameterError(
                f"loss 'alternating' trains an ATAT model; the recipe's model is {model.name}"
            )
        return AlternatingAdversarialLoss(**options)
    raise InvalidParameterError(f"loss={spec!r}; allowed 'joint' or 'alternating'")


def predict(model, noisy: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Model output on standardized windows ``noisy`` ``[n, t]`` (eval mode, no gradients)."""
    model.eval()
    param = next(iter(model.parameters()), None)
    device = param.device if param is not None else torch.device("cpu")
    out = []
    with torch.inference_mode():
        for i in range(0, len(noisy), batch_size):
            x = torch.as_tensor(np.asarray(noisy[i : i + batch_size], dtype=np.float32))
            out.append(model(x.to(device)).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros_like(noisy)


def train_denoiser(recipe, out, *, data=None, max_steps=None, progress=True) -> dict:
    """Train the recipe's denoiser; a rerun resumes from the run's latest checkpoint.

    Parameters
    ----------
    recipe : path-like | str | dict
        A recipe path or name (``denoise_atat_tiny``), or a recipe already read.
    out : path-like
        Run folder: ``checkpoints/``, ``metrics.csv`` and the final ``model/``.
    data : path-like | None
        Overrides the recipe's data source (see the module docstring).
    max_steps : int | None
        Overrides ``train.max_steps``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    dict
        ``model`` (the folder written by ``save_pretrained``), ``data`` (where the pairs came
        from) and ``test`` (the SNR-averaged RRMSE and CC on the test pairs, None if empty).
    """
    from ..training import TrainConfig, Trainer
    from .metrics import denoising_report

    rec = load_denoise_recipe(recipe) if not isinstance(recipe, dict) else recipe
    model = build_model(rec)
    splits, info = build_splits(
        rec.get("data") or {}, sfreq=model.sfreq, n_times=model.n_times, folder=data
    )
    train = dict(rec.get("train") or {})
    if max_steps is not None:
        train["max_steps"] = int(max_steps)
    config = TrainConfig(out_dir=str(out), progress=progress, **train)
    val = splits["validation"]
    Trainer(
        model,
        PairDataset(splits["train"], model.sfreq),
        config=config,
        eval_dataset=PairDataset(val, model.sfreq) if len(val) else None,
        loss_fn=_loss_fn(rec.get("loss", "joint"), model),
        model_config=model.get_config(),
    ).fit()
    test, scores = splits["test"], None
    if len(test):
        report = denoising_report(
            test.clean, predict(model, test.noisy), test.snr_db, sfreq=model.sfreq
        )
        scores = {k: report["average"][k] for k in ("rrmse_temporal", "rrmse_spectral", "cc")}
    final = Path(out) / "model"
    meta = {"recipe": rec, "data": info, "steps": config.max_steps, "test": scores}
    model.save_pretrained(final, meta=meta)
    return {"model": final, "data": info, "test": scores}
