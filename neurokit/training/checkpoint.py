"""Checkpoints and pretrained models on disk: JSON and safetensors only, written atomically.

A checkpoint is a directory::

    config.json            what the model is: kind, name, kwargs, input contract, neurokit version
    model.safetensors      the model's state dict
    meta.json              step, metrics, recipe hash, ...
    optimizer.safetensors  (optional) the optimizer's tensor state (moments, step counters)
    optimizer.json         (optional) its param groups and non-tensor state
    scheduler.json         (optional) the LR scheduler's state dict
    extra.json             (optional) anything JSON-able (the trainer stores RNG states and the
                           sampler position there)

Nothing is ever unpickled, so a checkpoint from an untrusted source cannot run code: tensors go
through safetensors and everything else through JSON. A directory is written under a temporary
name beside its final one, its files are fsynced, and it is renamed into place; a process killed
at any moment leaves either the complete checkpoint or none (plus, at worst, a hidden temporary
directory that readers ignore).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from numbers import Real
from pathlib import Path

import torch

from ..errors import InvalidParameterError
from .serialization import (
    atomic_directory,
    load_tensors,
    optimizer_parts,
    optimizer_state,
    read_json,
    save_tensors,
    to_jsonable,
    write_json,
)

__all__ = [
    "make_config",
    "save_checkpoint",
    "load_checkpoint",
    "save_pretrained",
    "from_pretrained",
    "list_checkpoints",
    "latest_checkpoint",
    "checkpoint_name",
    "to_jsonable",
]

FORMAT_VERSION = 1
_STEP_DIR = re.compile(r"^step-(\d+)$")


# ---------------------------------------------------------------------------------------- config
def make_config(
    kind: str,
    name: str,
    kwargs: dict | None = None,
    *,
    sfreq: float | None = None,
    n_times: int | None = None,
    channel_types: list | None = None,
    **extra,
) -> dict:
    """The ``config.json`` of a model: what to build and what input it expects.

    Parameters
    ----------
    kind : str
        Family of the object (``"model"``, ``"encoder"``, ``"classifier"``, ...).
    name : str
        Key of the class in the registry given to :func:`from_pretrained`.
    kwargs : dict | None
        JSON-able constructor arguments: ``registry[name](**kwargs)`` rebuilds the model.
    sfreq, n_times, channel_types : input contract
        Sampling rate (Hz), window length (samples) and sensor types the model was trained on
        (None where it does not care).
    **extra
        Any further JSON-able entries.
    """
    if not isinstance(kind, str) or not kind:
        raise InvalidParameterError(f"kind={kind!r}; must be a non-empty string")
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(f"name={name!r}; must be a non-empty string")
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise InvalidParameterError(f"kwargs={kwargs!r}; must be a dict of constructor arguments")
    if sfreq is not None and (
        isinstance(sfreq, bool) or not isinstance(sfreq, Real) or not sfreq > 0
    ):
        raise InvalidParameterError(f"sfreq={sfreq!r}; must be None or a positive number (Hz)")
    if n_times is not None and (
        isinstance(n_times, bool) or not isinstance(n_times, int) or n_times < 1
    ):
        raise InvalidParameterError(f"n_times={n_times!r}; must be None or a positive integer")
    if channel_types is not None and (
        isinstance(channel_types, str) or not all(isinstance(t, str) for t in channel_types)
    ):
        raise InvalidParameterError(
            f"channel_types={channel_types!r}; must be None or a list of sensor type names"
        )
    from .. import __version__

    config = {
        "kind": kind,
        "name": name,
        "kwargs": dict(kwargs or {}),
        "input": {
            "sfreq": None if sfreq is None else float(sfreq),
            "n_times": n_times,
            "channel_types": None if channel_types is None else list(channel_types),
        },
        "neurokit_version": __version__,
        "format_version": FORMAT_VERSION,
        **extra,
    }
    return to_jsonable(config, "config")


def _complete_config(config, model) -> dict:
    """A checkpoint's config: the one given (checked), or a minimal one naming the class."""
    if config is None:
        config = make_config("model", type(model).__name__)
    if not isinstance(config, Mapping):
        raise InvalidParameterError(f"config is a {type(config).__name__}; must be a dict")
    config = dict(config)
    for key in ("kind", "name"):
        if not isinstance(config.get(key), str) or not config[key]:
            raise InvalidParameterError(
                f"config[{key!r}]={config.get(key)!r}; a model config needs 'kind' and 'name' "
                "strings (build one with neurokit.training.checkpoint.make_config)"
            )
    if not isinstance(config.setdefault("kwargs", {}), Mapping):
        raise InvalidParameterError(f"config['kwargs']={config['kwargs']!r}; must be a dict")
    if "neurokit_version" not in config:
        from .. import __version__

        config["neurokit_version"] = __version__
    config.setdefault("format_version", FORMAT_VERSION)
    return config


# ---------------------------------------------------------------------------------------- writing
def _unwrap(model):
    """The user's module inside DistributedDataParallel / DataParallel wrappers."""
    while hasattr(model, "module") and isinstance(
        model, (torch.nn.parallel.DistributedDataParallel, torch.nn.DataParallel)
    ):
        model = model.module
    return model


def save_checkpoint(
    directory,
    model,
    config_dict=None,
    meta=None,
    optimizer=None,
    scheduler=None,
    extra=None,
) -> Path:
    """Write a checkpoint directory atomically (see the module docstring for its files).

    Parameters
    ----------
    directory : path-like
        The checkpoint directory; replaced if it exists.
    model : torch.nn.Module | dict
        A module (DDP wrappers are unwrapped) or a state dict.
    config_dict : dict | None
        The model config (:func:`make_config`); None writes a minimal one naming the class.
    meta : dict | None
        JSON-able run information (step, metrics, recipe hash, ...).
    optimizer, scheduler : torch optimizer / LR scheduler | None
    extra : dict | None
        JSON-able state of the caller (``extra.json``).

    Returns
    -------
    Path of the written directory.
    """
    directory = Path(directory)
    state = model if isinstance(model, Mapping) else _unwrap(model).state_dict()
    config = _complete_config(config_dict, model)
    with atomic_directory(directory) as tmp:
        write_json(tmp / "config.json", config, "config")
        save_tensors(tmp / "model.safetensors", dict(state), {"format": "pt"})
        write_json(tmp / "meta.json", dict(meta or {}), "meta")
        if optimizer is not None:
            tensors, rest = optimizer_parts(optimizer.state_dict())
            save_tensors(tmp / "optimizer.safetensors", tensors, {"format": "pt"})
            write_json(tmp / "optimizer.json", rest, "optimizer state")
        if scheduler is not None:
            write_json(tmp / "scheduler.json", scheduler.state_dict(), "scheduler state")
        if extra is not None:
            write_json(tmp / "extra.json", extra, "extra")
    return directory


def load_checkpoint(directory, model=None, *, map_location="cpu", strict=True) -> dict:
    """Read a checkpoint directory without unpickling anything.

    Parameters
    ----------
    directory : path-like
    model : torch.nn.Module | None
        When given, the weights are loaded into it (``strict`` as in ``load_state_dict``).
    map_location : str | torch.device
        Device of the returned tensors.

    Returns
    -------
    dict with ``path``, ``config``, ``meta``, ``model`` (the state dict), ``optimizer`` (a state
    dict for ``optimizer.load_state_dict`` or None), ``scheduler`` (or None), ``extra`` (or None).
    """
    directory = Path(directory)
    if not (directory / "model.safetensors").is_file() or not (directory / "config.json").is_file():
        raise InvalidParameterError(
            f"{directory} is not a checkpoint: it lacks config.json or model.safetensors"
        )
    out = {
        "path": directory,
        "config": read_json(directory / "config.json"),
        "meta": read_json(directory / "meta.json") if (directory / "meta.json").is_file() else {},
        "model": load_tensors(directory / "model.safetensors", map_location),
        "optimizer": None,
        "scheduler": None,
        "extra": None,
    }
    if (directory / "optimizer.json").is_file():
        tensors = load_tensors(directory / "optimizer.safetensors", map_location)
        out["optimizer"] = optimizer_state(tensors, read_json(directory / "optimizer.json"))
    if (directory / "scheduler.json").is_file():
        out["scheduler"] = read_json(directory / "scheduler.json")
    if (directory / "extra.json").is_file():
        out["extra"] = read_json(directory / "extra.json")
    if model is not None:
        _unwrap(model).load_state_dict(out["model"], strict=strict)
    return out


# ---------------------------------------------------------------------------------------- models
def save_pretrained(model, directory, config=None, meta=None) -> Path:
    """Save a model for :func:`from_pretrained`: ``config.json``, ``model.safetensors``,
    ``meta.json``. ``config`` defaults to ``model.get_config()`` when the model has one."""
    if config is None and callable(getattr(_unwrap(model), "get_config", None)):
        config = _unwrap(model).get_config()
    return save_checkpoint(directory, model, config, meta)


def from_pretrained(directory, cls_registry, *, map_location="cpu", strict=True):
    """Rebuild a model saved by :func:`save_pretrained` (or any checkpoint).

    ``cls_registry`` maps ``config["name"]`` to a class (or factory) called with
    ``**config["kwargs"]``: a dict, or a callable ``name -> class``. The model's ``config``
    attribute is set to the stored config when the model has none.
    """
    directory = Path(directory)
    if not (directory / "config.json").is_file():
        raise InvalidParameterError(f"{directory} holds no config.json; not a saved model")
    config = read_json(directory / "config.json")
    name = config.get("name")
    if isinstance(cls_registry, Mapping):
        cls = cls_registry.get(name)
        known = sorted(cls_registry)
    else:
        cls, known = cls_registry(name), None
    if cls is None:
        hint = f"; the registry knows {known}" if known is not None else ""
        raise InvalidParameterError(f"{directory}: model name {name!r} is not registered{hint}")
    model = cls(**config.get("kwargs", {}))
    state = load_tensors(directory / "model.safetensors", map_location)
    model.load_state_dict(state, strict=strict)
    if getattr(model, "config", None) is None:
        with contextlib.suppress(AttributeError, TypeError):
            model.config = config
    return model


# ---------------------------------------------------------------------------------------- runs
def checkpoint_name(step: int) -> str:
    """Directory name of the checkpoint of ``step`` (sorts by step)."""
    return f"step-{int(step):09d}"


def list_checkpoints(root) -> list[tuple[int, Path]]:
    """Complete checkpoints under ``root`` as ``(step, path)``, oldest first (temporary and
    half-written directories are skipped)."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        m = _STEP_DIR.match(p.name)
        if m and (p / "model.safetensors").is_file() and (p / "config.json").is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(root) -> Path | None:
    """The checkpoint of the highest step under ``root``, or None."""
    found = list_checkpoints(root)
    return found[-1][1] if found else None
