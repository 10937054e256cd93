"""Intracranial acquisition systems via ``mne.io``: Neuralynx and Blackrock NSx."""

from __future__ import annotations

from pathlib import Path

from ._registry import mne_reader, register_format


def _folder(path: Path) -> Path:
    return path.parent if path.is_file() else path


register_format(
    "neuralynx",
    "Neuralynx (.ncs files in a folder)",
    extensions=(".ncs",),
    is_folder=lambda p: any(p.glob("*.ncs")),
    requires=("neo",),
)(mne_reader("read_raw_neuralynx", target=_folder))

register_format(
    "blackrock",
    "Blackrock NeuroPort NSx (.ns1-.ns6, file spec 2.2+)",
    extensions=tuple(f".ns{i}" for i in range(1, 7)),
)(mne_reader("read_raw_nsx"))
