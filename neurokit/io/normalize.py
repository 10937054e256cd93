"""Normalization of a freshly read MNE raw into a :class:`~neurokit.Recording`.

In order: channel types from a BIDS ``channels.tsv`` sidecar, then repaired from channel names
where the name is unambiguous; positions from an ``electrodes.tsv`` sidecar, else (EEG only) from
a standard montage matched by name; an amplitude check of the units; the sensor table. Every
change is written to ``meta["history"]``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import CorruptRecordingError, InvalidParameterError
from ..recording import Recording
from ..sensors import SensorTable, scale_electrode_positions, shaft_name
from .sidecars import find_sidecar, read_channels_tsv, read_electrodes_tsv

__all__ = ["normalize", "infer_type", "standard_name", "DEFAULT_MONTAGE"]


def _default_montage() -> str:
    import mne

    builtin = mne.channels.get_builtin_montages()
    # MNE 1.13 renamed standard_1005 (Colin27 template positions) to colin27_1005.
    return "colin27_1005" if "colin27_1005" in builtin else "standard_1005"


#: Montage used for EEG channels without positions: the 10-05 template.
DEFAULT_MONTAGE = "default"

# Type named by a leading word of the label ("ECG ECG1", "EEG Fp1-Ref", "SaO2 X9").
_PREFIX_TYPES = {
    "EEG": "eeg",
    "ECG": "ecg",
    "EKG": "ecg",
    "EOG": "eog",
    "EMG": "emg",
    "SEEG": "seeg",
    "ECOG": "ecog",
    "RESP": "misc",
    "SAO2": "misc",
    "SPO2": "misc",
    "MISC": "misc",
    "PLETH": "misc",
}
_RULES = (
    ("ecg", re.compile(r"ECG|EKG"), "ECG/EKG in the name"),
    ("eog", re.compile(r"EOG|^(LOC|ROC)$"), "EOG/LOC/ROC in the name"),
    ("emg", re.compile(r"EMG|^CHIN"), "EMG/chin in the name"),
    (
        "misc",
        re.compile(
            r"^(RESP|SAO2|SPO2|PLETH|PULSE|TEMP|BODY|POSITION|X?AIR|FLOW|SNORE|"
            r"DC\d+$|\$)"
        ),
        "auxiliary input (respiration, SaO2, DC, $-reference)",
    ),
)
_GENERIC = ("eeg", "seeg", "ecog", "misc", "bio")
_OLD_NAMES = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}
_REF_SUFFIX = re.compile(
    r"(?<=\w)[\s_\-]+(REF|LE|RE|AVG|AV|AR|CAR|LINKED|M1|M2|A1|A2)(-\d+)?$", re.I
)


def infer_type(name: str, current: str) -> tuple:
    """Channel type implied by a channel name, as ``(type, rule)``; ``(None, None)`` if none.

    Only generic types (eeg, seeg, ecog, misc, bio) are repaired: a type set on purpose by the
    file (eog, mag, stim ...) is trusted.

    >>> infer_type("ECG ECG1", "eeg")
    ('ecg', "label prefix 'ECG'")
    >>> infer_type("xEKG1", "seeg")
    ('ecg', 'ECG/EKG in the name')
    """
    if current not in _GENERIC:
        return None, None
    upper = name.strip().upper()
    head, _, rest = upper.partition(" ")
    if rest and head in _PREFIX_TYPES:
        new = _PREFIX_TYPES[head]
        return (new, f"label prefix {head!r}") if new != current else (None, None)
    if head == "POL" and rest:
        upper = rest
    for new, rule, why in _RULES:
        if rule.search(upper):
            if new == current or (new == "misc" and current == "bio"):
                return None, None
            return new, why
    return None, None


def standard_name(name: str, known: dict) -> str | None:
    """Match a label to a standard-montage name, tolerant of case, a type prefix
    (``EEG Fp1-REF``), a reference suffix, trailing dots and old names (T3 -> T7 ...).

    ``known`` maps upper-case standard names to their spelling in the montage.
    """
    label = name.strip().rstrip(".").strip()
    head, _, rest = label.partition(" ")
    if rest and head.upper() in ("EEG", "POL"):
        label = rest.strip()
    label = _REF_SUFFIX.sub("", label).rstrip(".").upper()
    label = _OLD_NAMES.get(label, label)
    return known.get(label)


def _ieeg_kind(path: Path | None) -> str | None:
    if path is None:
        return None
    stem = path.name.lower()
    for kind in ("ecog", "seeg"):
        if re.search(rf"(^|[_\-.]){kind}([_\-.]|$)", stem) or f"acq-{kind}" in stem:
            return kind
    return None


def _bare(name: str) -> str:
    head, _, rest = name.strip().partition(" ")
    return rest.strip() if rest and head.upper() in ("EEG", "POL") else name.strip()


def _contact_counts(names) -> dict:
    counts = {}
    for name in names:
        shaft = shaft_name(_bare(name))
        if shaft:
            counts[shaft] = counts.get(shaft, 0) + 1
    return counts


def _standard_names() -> dict:

    return {n.upper(): n for n in template_positions(_default_montage())["ch_pos"]}


_TEMPLATES: dict = {}


def template_positions(name: str) -> dict:
    """``get_positions()`` of MNE's standard montage ``name`` (built once per process)."""
    import mne

    if name not in _TEMPLATES:
        _TEMPLATES[name] = mne.channels.make_standard_montage(name).get_positions()
    return _TEMPLATES[name]


def _is_contact(name, contacts, known) -> bool:
    """In a file named as iEEG: is this EEG-typed channel an electrode contact?

    A contact belongs to a shaft/grid of at least 8 numbered contacts (``C1``..``C64``), or of
    at least 4 when its name is not a scalp 10-05 name (``BTM1``..``BTM6``). Scalp names in short
    runs (``C3``, ``C4``) and unnumbered labels (``E``, ``PAT``) stay EEG.
    """
    shaft = shaft_name(_bare(name))
    n = contacts.get(shaft, 0)
    return n >= 8 or (n >= 4 and standard_name(name, known) is None)


def _repair_types(raw, path, channels_tsv, history, by_name=True):
    changes = {}
    if channels_tsv is not None:
        types, bads = read_channels_tsv(channels_tsv)
        for name, new in types.items():
            if name in raw.ch_names:
                old = raw.get_channel_types(picks=[name])[0]
                if old != new:
                    changes[name] = (old, new, f"{channels_tsv.name}")
        new_bads = sorted(set(bads) & set(raw.ch_names) - set(raw.info["bads"]))
        if new_bads:
            raw.info["bads"] = list(raw.info["bads"]) + new_bads
            history.append(
                {
                    "step": "repair_bads",
                    "channels": new_bads,
                    "reason": f"status 'bad' in {channels_tsv.name}",
                }
            )
    kind = _ieeg_kind(path)
    contacts = _contact_counts(raw.ch_names) if kind else {}
    known = _standard_names() if kind else {}
    for name, old in zip(raw.ch_names, raw.get_channel_types()):
        if name in changes or not by_name:
            continue
        new, rule = infer_type(name, old)
        if new is None and old == "eeg" and kind is not None and _is_contact(name, contacts, known):
            new, rule = kind, f"file name says {kind}; contact of a shaft/grid"
        elif new is None and old == "eeg" and "'" in name and re.search(r"\d$", name):
            new, rule = "seeg", "sEEG contact name (shaft letter with apostrophe)"
        if new is not None:
            changes[name] = (old, new, rule)
    if not changes:
        return
    raw.set_channel_types(
        {n: c[1] for n, c in changes.items()}, on_unit_change="ignore", verbose="error"
    )
    grouped = {}
    for name, (old, new, reason) in changes.items():
        grouped.setdefault((old, new, reason), []).append(name)
    for (old, new, reason), names in grouped.items():
        history.append(
            {"step": "repair_types", "from": old, "to": new, "reason": reason, "channels": names}
        )


def _fix_position_scale(raw, history, notes):
    """Rescale electrode positions a reader left in the wrong unit (mm, cm, or a unit sphere).

    Real electrodes lie 5-15 cm from the head origin. A median radius near 1 means positions on a
    unit sphere (Neuroscan CNT headers store them so): they are scaled to MNE's 95 mm head
    radius. Radii of tens or hundreds mean centimetres or millimetres.
    """
    table = SensorTable.from_info(raw.info)
    non_meg = ~np.isin(table.mne_types, ("mag", "grad", "ref_meg"))
    locs = table.pos[non_meg & table.has_position]
    if not len(locs):
        return
    radius = float(np.median(np.linalg.norm(locs, axis=1)))
    if radius <= 0.3:
        return
    if radius < 3:
        factor, why = 0.095 / radius, f"on a sphere of radius {radius:.3g} (unit sphere)"
    elif radius < 30:
        factor, why = 1e-2, f"in centimetres (median radius {radius:.3g})"
    else:
        factor, why = 1e-3, f"in millimetres (median radius {radius:.3g})"
    scale_electrode_positions(raw.info, factor)
    history.append(
        {"step": "repair_positions", "factor": factor, "reason": f"electrode positions were {why}"}
    )
    notes.append(f"electrode positions were {why}; rescaled by {factor:g} to metres")


def _set_positions(raw, path, electrodes_tsv, montage, history):
    import mne

    if electrodes_tsv is not None:
        pos, note = read_electrodes_tsv(electrodes_tsv)
        lookup = {n.upper(): n for n in pos}
        ch_pos = {}
        allowed = (
            set(raw.copy().pick(["eeg", "seeg", "ecog", "dbs"], exclude=[]).ch_names)
            if any(t in raw for t in ("eeg", "seeg", "ecog", "dbs"))
            else set()
        )
        for ch in raw.ch_names:
            key = ch if ch in pos else lookup.get(ch.upper())
            if key is not None and ch in allowed:
                ch_pos[ch] = pos[key]
        if ch_pos:
            raw.set_montage(
                mne.channels.make_dig_montage(ch_pos=ch_pos, coord_frame="head"),
                on_missing="ignore",
                verbose="error",
            )
            history.append(
                {
                    "step": "positions",
                    "source": electrodes_tsv.name,
                    "n_channels": len(ch_pos),
                    "note": note,
                }
            )
            return
    if montage is None or "eeg" not in raw:
        return
    eeg = mne.pick_types(raw.info, meg=False, eeg=True, exclude=[])
    if SensorTable.from_info(raw.info).has_position[eeg].any():
        return  # positions from the file (digitization) win
    if montage == DEFAULT_MONTAGE:
        montage = _default_montage()
    ref = template_positions(montage) if isinstance(montage, str) else montage.get_positions()
    known = {n.upper(): n for n in ref["ch_pos"]}
    ch_pos = {}
    for i in eeg:
        match = standard_name(raw.ch_names[i], known)
        if match is not None:
            ch_pos[raw.ch_names[i]] = ref["ch_pos"][match]
    if not ch_pos:
        return
    dig = mne.channels.make_dig_montage(
        ch_pos=ch_pos,
        nasion=ref["nasion"],
        lpa=ref["lpa"],
        rpa=ref["rpa"],
        coord_frame=ref["coord_frame"],
    )
    raw.set_montage(dig, on_missing="ignore", verbose="error")
    history.append(
        {
            "step": "positions",
            "source": f"standard montage {montage}",
            "n_channels": len(ch_pos),
            "unmatched": len(eeg) - len(ch_pos),
        }
    )


# Plausible per-channel standard deviation (SI units) of a few seconds of data, by type.
_PLAUSIBLE = {
    "eeg": (1e-7, 1e-2, "V"),
    "seeg": (1e-7, 1e-1, "V"),
    "ecog": (1e-7, 1e-1, "V"),
    "mag": (1e-16, 1e-8, "T"),
    "grad": (1e-14, 1e-6, "T/m"),
}


def _probe_samples(raw, path, notes) -> np.ndarray:
    """Read the first 10 s and the last sample: a lazily opened file that cannot deliver its
    samples is reported now, as corrupt, rather than at some later ``get_data``."""
    stop = int(min(raw.n_times, 10 * raw.info["sfreq"]))
    try:
        head = raw.get_data(stop=stop)
        raw.get_data(start=raw.n_times - 1)
    except Exception as err:  # any reader failure here means the data part is damaged
        raise CorruptRecordingError(
            path,
            f"the header reads but the samples do not ({type(err).__name__}: {err}); "
            "the file is truncated or damaged",
        ) from err
    bad = np.flatnonzero(~np.isfinite(head).all(axis=1))
    if bad.size:
        names = [raw.ch_names[i] for i in bad[:5]]
        notes.append(f"non-finite samples (NaN/inf) in {bad.size} channel(s), e.g. {names}")
    return head


def _check_units(raw, head, scale, history, notes):
    if scale is not None:
        factors = scale if isinstance(scale, dict) else {t: scale for t in _PLAUSIBLE if t in raw}
        bad = sorted(set(factors) - set(_PLAUSIBLE))
        if bad:
            raise InvalidParameterError(
                f"scale: unknown channel type(s) {bad}; allowed {sorted(_PLAUSIBLE)}, e.g. "
                "scale={'eeg': 1e-6}"
            )
        raw.load_data(verbose="error")
        for ch_type, factor in factors.items():
            if ch_type in raw:
                raw.apply_function(lambda x, f=float(factor): x * f, picks=ch_type, verbose="error")
        history.append({"step": "scale", "factors": {k: float(v) for k, v in factors.items()}})
        return
    for ch_type, (low, high, unit) in _PLAUSIBLE.items():
        if ch_type not in raw or head.shape[1] < 2:
            continue
        picks = mne_picks(raw, ch_type)
        if not len(picks):
            continue
        std = np.nanstd(head[picks], axis=1)
        std = std[np.isfinite(std) & (std > 0)]
        if std.size and not low <= np.median(std) <= high:
            notes.append(
                f"implausible {ch_type} amplitude: median channel std "
                f"{np.median(std):.3g} {unit}, expected {low:g}-{high:g} {unit}; the "
                f"file's units are likely wrong: pass scale={{'{ch_type}': FACTOR}}"
            )


def mne_picks(raw, ch_type):
    """Indices of good channels of ``ch_type`` in ``raw``."""
    import mne

    return mne.pick_types(
        raw.info,
        meg=ch_type if ch_type in ("mag", "grad") else False,
        **({ch_type: True} if ch_type not in ("mag", "grad") else {}),
        exclude="bads",
    )


_BIDS_ENTITY = re.compile(r"(sub|ses|task|run|acq)-([A-Za-z0-9]+)")


def normalize(
    raw,
    *,
    path=None,
    fmt=None,
    notes=(),
    repair_types=True,
    montage=DEFAULT_MONTAGE,
    electrodes=None,
    channels=None,
    scale=None,
    meta=None,
) -> Recording:
    """Turn an MNE raw into a :class:`Recording` (see the module docstring for the steps).

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Modified in place (channel types, montage, scaling); pass a copy to keep the original.
    path : path-like | None
        Source file, used to find sidecars and read BIDS entities from the name.
    repair_types : bool | None
        Repair generic channel types from channel and file names; None (default) does so
        unless the format stores channel types itself (FIF, MEG systems).
    montage : str | mne.channels.DigMontage | None
        Standard montage for EEG channels without positions ("default": the 10-05 template,
        ``colin27_1005`` in MNE >= 1.13, ``standard_1005`` before); None leaves them unknown.
    electrodes, channels : path-like | False | None
        BIDS sidecars; None searches beside ``path``, False disables.
    scale : float | dict | None
        Multiply data channels (all, or per type) to fix wrong units, e.g. ``{"eeg": 1e-6}``.
    """
    path = Path(path) if path is not None else None
    history = [
        {
            "step": "load",
            "format": getattr(fmt, "name", None),
            "source": str(path) if path else None,
        }
    ]
    notes = list(notes)
    channels_tsv = find_sidecar(path, "channels", channels) if path else None
    electrodes_tsv = find_sidecar(path, "electrodes", electrodes) if path else None
    if repair_types is None:
        repair_types = not getattr(fmt, "typed_channels", False)
    if repair_types or channels_tsv is not None:
        _repair_types(raw, path, channels_tsv, history, by_name=repair_types)
    _fix_position_scale(raw, history, notes)
    _set_positions(raw, path, electrodes_tsv, montage, history)
    head = _probe_samples(raw, path, notes)
    _check_units(raw, head, scale, history, notes)
    info = dict(meta or {})
    if path is not None:
        for key, value in _BIDS_ENTITY.findall(path.name):
            info.setdefault(
                {"sub": "subject", "ses": "session", "acq": "acquisition"}.get(key, key), value
            )
    info.update(
        source=str(path) if path else None,
        format=getattr(fmt, "name", None) or info.get("format"),
        history=history,
        warnings=notes,
    )
    return Recording(raw, SensorTable.from_info(raw.info), info)
