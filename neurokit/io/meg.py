"""MEG systems other than FIF: CTF .ds, KIT/Yokogawa .sqd/.con, 4D/BTi, via ``mne.io``.

Companion files are found by convention beside the data and can be given explicitly:
KIT ``mrk=``, ``elp=``, ``hsp=``; BTi ``config_fname=``, ``head_shape_fname=``.
"""

from __future__ import annotations

from pathlib import Path

from ._registry import companion, mne_reader, register_format

register_format(
    "ctf",
    "CTF MEG (.ds folder)",
    extensions=(".ds",),
    is_folder=lambda p: p.suffix.lower() == ".ds" and any(p.glob("*.res4")),
    modality="meg",
    typed_channels=True,
)(mne_reader("read_raw_ctf"))


@register_format(
    "kit",
    "KIT/Yokogawa/Ricoh MEG (.sqd, .con)",
    extensions=(".sqd", ".con"),
    modality="meg",
    typed_channels=True,
    companions=("marker .mrk/*mrk*.sqd", ".elp", ".hsp"),
)
def read_kit(path: Path, options: dict):
    import mne

    preload = options.pop("preload", False)
    markers = [
        p.name
        for p in path.parent.iterdir()
        if p != path and "mrk" in p.name.lower() and p.suffix.lower() in (".sqd", ".mrk")
    ]
    elps = [p.name for p in path.parent.glob("*.elp")]
    hsps = [p.name for p in path.parent.glob("*.hsp")]
    # Only pick companions by convention when there is exactly one of each kind: digitization
    # files of another session would silently give wrong head positions.
    auto = len(markers) == 1 and len(elps) == 1 and len(hsps) == 1
    mrk = companion(path, "mrk", options, markers if auto else [], "marker file", required=False)
    elp = companion(path, "elp", options, elps if auto else [], "digitizer .elp", required=False)
    hsp = companion(path, "hsp", options, hsps if auto else [], "head shape .hsp", required=False)
    kwargs = {k: str(v) for k, v in (("mrk", mrk), ("elp", elp), ("hsp", hsp)) if v is not None}
    raw = mne.io.read_raw_kit(path, preload=preload, verbose="warning", **kwargs, **options)
    notes = (
        []
        if kwargs
        else [
            "no marker/digitizer files beside the data: MEG positions are in "
            "the device frame (identity device-to-head transform)"
        ]
    )
    return raw, notes


def _is_bti(path: Path) -> bool:
    name = path.name.lower()
    return not path.suffix and (name.startswith("c,rf") or "pdf" in name or name.startswith("e,rf"))


@register_format(
    "bti",
    "4D Neuroimaging / BTi MEG (pdf + config + head shape)",
    sniff=_is_bti,
    modality="meg",
    typed_channels=True,
    companions=("config", "hs_file"),
)
def read_bti(path: Path, options: dict):
    import mne

    preload = options.pop("preload", False)
    name = path.name
    config = companion(
        path,
        "config_fname",
        options,
        ["config", name.replace("pdf", "config")],
        "BTi config file",
    )
    hs = companion(
        path,
        "head_shape_fname",
        options,
        ["hs_file", name.replace("pdf", "hs")],
        "BTi head shape file",
        required=False,
    )
    raw = mne.io.read_raw_bti(
        path,
        config_fname=str(config),
        head_shape_fname=str(hs) if hs else None,
        preload=preload,
        verbose="warning",
        **options,
    )
    return raw, [] if hs else ["no head shape file: no digitization or device-to-head transform"]
