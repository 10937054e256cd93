"""Low-level storage of checkpoints: strict JSON, safetensors files, atomic directories.

Nothing here unpickles: tensors go through safetensors, every other value through JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidParameterError, MissingDependencyError

__all__ = [
    "to_jsonable",
    "write_json",
    "read_json",
    "save_tensors",
    "load_tensors",
    "optimizer_parts",
    "optimizer_state",
    "atomic_directory",
]


# ---------------------------------------------------------------------------------------- JSON
def to_jsonable(obj, where: str = "value"):
    """``obj`` with tuples as lists and NumPy scalars as Python numbers; an error naming the
    offending key for anything JSON cannot hold (tensors, arrays, arbitrary objects)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise InvalidParameterError(f"{where}: key {k!r} is not a str or int; JSON needs")
            out[str(k)] = to_jsonable(v, f"{where}[{k!r}]")
        return out
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise InvalidParameterError(
        f"{where} is a {type(obj).__name__}; only JSON values (None, bool, numbers, str, lists, "
        "dicts) can be stored in a checkpoint's JSON files (tensors go to safetensors)"
    )


def write_json(path: Path, obj, where: str) -> None:
    text = json.dumps(to_jsonable(obj, where), indent=1, allow_nan=True)
    _write_bytes(path, text.encode("utf-8"))


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be fsynced
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---------------------------------------------------------------------------------------- tensors
def _safetensors():
    try:
        from safetensors import torch as st
    except ImportError as err:  # pragma: no cover - safetensors is installed with the extras
        raise MissingDependencyError(
            "checkpoints need the 'safetensors' package: pip install safetensors"
        ) from err
    return st


def save_tensors(path: Path, tensors: dict, metadata: dict | None = None) -> None:
    """Save a name -> tensor dict; tensors sharing memory (tied weights) are stored as copies."""
    seen, out = set(), {}
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise InvalidParameterError(f"{path.name}: {name!r} is not a tensor")
        t = t.detach().to("cpu")
        ptr = t.untyped_storage().data_ptr()
        if not t.is_contiguous() or (ptr and ptr in seen):  # safetensors refuses shared memory
            t = t.contiguous().clone()
        seen.add(t.untyped_storage().data_ptr())
        out[name] = t
    data = _safetensors().save(out, metadata=metadata)
    _write_bytes(path, data)


def load_tensors(path: Path, device="cpu") -> dict:
    return _safetensors().load_file(os.fspath(path), device=str(device))


def optimizer_parts(state_dict: dict) -> tuple[dict, dict]:
    """Split an optimizer state dict into (tensors, JSON-able rest)."""
    tensors, scalars = {}, {}
    for pid, state in state_dict["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{int(pid)}.{key}"] = value
            else:
                scalars.setdefault(str(int(pid)), {})[key] = value
    rest = {"param_groups": state_dict["param_groups"], "scalar_state": scalars}
    return tensors, rest


def optimizer_state(tensors: dict, rest: dict) -> dict:
    """Rebuild an optimizer state dict from its two halves (inverse of ``optimizer_parts``)."""
    state: dict = {}
    for name, value in tensors.items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    for pid, values in rest.get("scalar_state", {}).items():
        state.setdefault(int(pid), {}).update(values)
    groups = []
    for group in rest["param_groups"]:
        # JSON turns tuples (AdamW's betas) into lists; only ``params`` is a list for real
        groups.append(
            {k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in group.items()}
        )
    return {"state": {pid: state[pid] for pid in sorted(state)}, "param_groups": groups}


# ---------------------------------------------------------------------------------------- folders
@contextlib.contextmanager
def atomic_directory(target: Path):
    """Yield an empty temporary directory beside ``target``; on success it replaces
    ``target`` (an existing one is swapped out, then removed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        os.chmod(tmp, 0o755)
        yield tmp
        _fsync_dir(tmp)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(target, old)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
