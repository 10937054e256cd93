"""Scalp-EEG vendor formats via ``mne.io``: BrainVision, EEGLAB, EGI, Neuroscan, ANT, Curry."""

from __future__ import annotations

from pathlib import Path

from ._registry import mne_reader, register_format


def _vhdr(path: Path) -> Path:
    if path.suffix.lower() in (".vhdr", ".ahdr"):
        return path
    for ext in (".vhdr", ".ahdr"):
        cand = path.with_suffix(ext)
        if cand.exists():
            return cand
    return path


def _has_vhdr(path: Path) -> bool:
    return _vhdr(path) != path or path.suffix.lower() in (".vhdr", ".ahdr")


@register_format(
    "brainvision",
    "BrainVision (.vhdr + .vmrk + .eeg)",
    extensions=(".vhdr", ".ahdr", ".vmrk", ".eeg"),
    sniff=_has_vhdr,
    companions=(".vmrk", ".eeg"),
)
def read_brainvision(path: Path, options: dict):
    raw, notes = mne_reader("read_raw_brainvision")(_vhdr(path), options)
    head = _vhdr(path).read_bytes()[:4096]
    if b"Codepage=" not in head:
        notes.append(
            "old BrainVision header layout (no Codepage or DataPoints entries, "
            "channel resolution without a unit field); header read as Latin-1"
        )
    return raw, notes


register_format(
    "eeglab",
    "EEGLAB (.set, with or without .fdt)",
    extensions=(".set",),
    requires=(),
    companions=(".fdt",),
)(mne_reader("read_raw_eeglab"))

register_format("egi", "EGI simple binary (.raw)", extensions=(".raw",))(mne_reader("read_raw_egi"))

register_format(
    "egi_mff",
    "EGI MFF (.mff folder)",
    extensions=(".mff",),
    requires=("mffpy",),
    is_folder=lambda p: p.suffix.lower() == ".mff" and (p / "info.xml").exists(),
)(mne_reader("read_raw_egi"))


def _is_riff(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) in (b"RIFF", b"RF64")


register_format(
    "ant",
    "ANT Neuro eego/asalab (.cnt, RIFF)",
    extensions=(".cnt",),
    sniff=_is_riff,
    requires=("antio",),
)(mne_reader("read_raw_ant"))


@register_format(
    "neuroscan", "Neuroscan CNT (.cnt)", extensions=(".cnt",), sniff=lambda p: not _is_riff(p)
)
def read_cnt(path: Path, options: dict):
    if "data_format" in options:
        return mne_reader("read_raw_cnt")(path, options)
    try:
        return mne_reader("read_raw_cnt")(path, dict(options))
    except RuntimeError as err:
        if "bytes per sample" not in str(err):
            raise
    # Old headers leave the sample width undeclared; 16-bit is by far the most common.
    raw, notes = mne_reader("read_raw_cnt", data_format="int16")(path, options)
    return raw, notes + [
        "the header does not give the sample width; read as 16-bit integers "
        "(pass data_format='int32' if the signal looks wrong)"
    ]


def _curry_file(path: Path) -> Path:
    # MNE wants the data file; accept the header/label companions too.
    name = path.name
    for tail in (".dpa", ".cef", ".dap", ".rs3", ".ceo"):
        if name.lower().endswith(tail) and (path.parent / name[: -len(tail)]).exists():
            return path.parent / name[: -len(tail)]
    return path


def _is_curry(path: Path) -> bool:
    path = _curry_file(path)
    if path.suffix.lower() == ".cdt":
        return True
    return any(path.with_suffix(e).exists() for e in (".dap", ".rs3"))


register_format(
    "curry",
    "Neuroscan Curry 7/8 (.cdt + .dpa/.cef, .dat + .dap)",
    extensions=(".cdt", ".dpa", ".cef", ".dat"),
    sniff=_is_curry,
    requires=("curryreader",),
    companions=(".cdt.dpa", ".cdt.cef"),
)(mne_reader("read_raw_curry", target=_curry_file))
