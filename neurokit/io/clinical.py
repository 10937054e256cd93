"""Clinical EEG systems via ``mne.io``: Nihon Kohden, Nicolet, Persyst, Nexstim eXimia."""

from __future__ import annotations

from pathlib import Path

from ._registry import mne_reader, register_format


def _is_nihon(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(32)
    return head[1:].lstrip().startswith((b"EEG-1100", b"EEG-1200", b"QI-403", b"EEG-2100")) or any(
        path.with_suffix(e).exists() for e in (".PNT", ".pnt", ".21E", ".21e")
    )


register_format(
    "nihon_kohden",
    "Nihon Kohden (.EEG + .PNT/.LOG/.21E)",
    extensions=(".eeg",),
    sniff=_is_nihon,
    companions=(".PNT", ".LOG", ".21E"),
)(mne_reader("read_raw_nihon"))


def _nicolet_data(path: Path) -> Path:
    return path.with_suffix(".data") if path.suffix.lower() == ".head" else path


register_format(
    "nicolet",
    "Nicolet (.data + .head)",
    extensions=(".data", ".head"),
    companions=(".head",),
)(mne_reader("read_raw_nicolet", target=_nicolet_data, ch_type="eeg"))


def _lay(path: Path) -> Path:
    return path.with_suffix(".lay") if path.suffix.lower() == ".dat" else path


register_format(
    "persyst",
    "Persyst (.lay + .dat)",
    extensions=(".lay", ".dat"),
    sniff=lambda p: _lay(p).exists(),
    companions=(".dat",),
)(mne_reader("read_raw_persyst", target=_lay))

register_format("eximia", "Nexstim eXimia (.nxe)", extensions=(".nxe",))(
    mne_reader("read_raw_eximia")
)
