"""The sensor table: one row per channel with type, position, orientation, unit, group, bad flag.

:meth:`SensorTable.from_info` is the only code in neurokit that reads ``info["chs"][i]["loc"]``
(and :func:`scale_electrode_positions` the only one that repairs it).
Every other stage (preprocessing, corpus, tokenizers) works on the table, so the conventions live
here once:

- ``pos`` (c, 3) in metres in the head frame; NaN where the file gives no position. MEG sensor
  positions come in the device frame and are moved to the head frame through ``info["dev_head_t"]``
  (identity when the file has none; ``frame`` then says ``"device"``).
- ``ori`` (c, 3): unit normal of the MEG coil (the z axis of the coil frame, ``loc[9:12]``), rotated
  into the head frame; NaN for non-MEG channels.
- ``type`` is one of :data:`SENSOR_TYPES`; MNE's finer types are kept in ``mne_type``
  (``ref_meg``, ``bio``, ``resp`` ... map to ``misc``).
- ``group``: the shaft or grid of an sEEG/ECoG contact, derived from its name (``"LAHC3"`` ->
  ``"LAHC"``); empty for other channels.

MNE has no such table, hence this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .errors import InvalidParameterError

__all__ = [
    "SensorTable",
    "SENSOR_TYPES",
    "canonical_type",
    "shaft_name",
    "scale_electrode_positions",
]

#: Allowed sensor types, in the order used for integer type ids.
SENSOR_TYPES = (
    "eeg",
    "seeg",
    "ecog",
    "mag",
    "grad",
    "eog",
    "ecg",
    "emg",
    "misc",
    "stim",
)
MEG_TYPES = ("mag", "grad")

_TYPE_MAP = {"dbs": "seeg", "csd": "eeg", "ref_meg": "misc"}

# FIFF unit codes (mne.io.constants.FIFF.FIFF_UNIT_*) written as SI strings.
_UNITS = {
    107: "V",
    112: "T",
    201: "T/m",
    202: "T/m^2",
    114: "Am",
    0: "",
    -1: "",
    1: "m",
    2: "kg",
    3: "s",
    4: "A",
    5: "K",
    6: "mol",
    7: "cd",
    101: "Hz",
    105: "W",
    108: "F",
    109: "Ohm",
    110: "S",
    111: "Wb",
    113: "H",
    115: "Am/m^2",
    116: "Am/m^3",
}

_SHAFT_RE = re.compile(r"^(.*?[A-Za-z'_][A-Za-z'_\- ]*?)[\s\-_]*(\d+)$")


def canonical_type(mne_type: str) -> str:
    """Map an MNE channel type to one of :data:`SENSOR_TYPES`."""
    if mne_type in SENSOR_TYPES:
        return mne_type
    return _TYPE_MAP.get(mne_type, "misc")


def shaft_name(ch_name: str) -> str:
    """Shaft/grid name of an intracranial contact: the name without its trailing contact number.

    >>> shaft_name("LAHC3"), shaft_name("LENT 12"), shaft_name("A'2"), shaft_name("G_10")
    ('LAHC', 'LENT', "A'", 'G')

    Returns ``""`` when the name does not end in a contact number.
    """
    match = _SHAFT_RE.match(ch_name.strip())
    return match.group(1).strip(" -_") if match else ""


def scale_electrode_positions(info, factor: float) -> None:
    """Multiply the positions of every non-MEG channel and of the digitized head points by
    ``factor`` (in place), to repair a file that stored them in the wrong unit."""
    from mne.io.constants import FIFF

    meg = (FIFF.FIFFV_MEG_CH, FIFF.FIFFV_REF_MEG_CH)
    with info._unlock():
        for ch in info["chs"]:
            if ch["kind"] not in meg:
                ch["loc"][:6] *= factor
        for d in info["dig"] or []:
            if d["kind"] in (
                FIFF.FIFFV_POINT_EEG,
                FIFF.FIFFV_POINT_CARDINAL,
                FIFF.FIFFV_POINT_EXTRA,
            ):
                d["r"] = d["r"] * factor


def _nan_rows(n: int) -> np.ndarray:
    return np.full((n, 3), np.nan)


@dataclass(eq=False)
class SensorTable:
    """Per-channel sensor description aligned 1:1 with ``raw.ch_names``.

    Parameters
    ----------
    names : sequence of str, length c
    types : sequence of str, length c, each in :data:`SENSOR_TYPES`
    pos : array (c, 3), metres, head frame, NaN when unknown
    ori : array (c, 3), unit vectors for MEG coils, NaN otherwise
    units : sequence of str, SI unit of each channel's data (``"V"``, ``"T"``, ``"T/m"``)
    groups : sequence of str, shaft/grid of intracranial contacts, ``""`` otherwise
    bads : array of bool (c,)
    mne_types : sequence of str, the MNE channel type (finer than ``types``)
    frame : str, coordinate frame of ``pos`` (``"head"``, or ``"device"`` for MEG without
        a device-to-head transform)

    Examples
    --------
    >>> import mne
    >>> info = mne.create_info(["Cz", "EOG1"], 256.0, ["eeg", "eog"])
    >>> table = SensorTable.from_info(info)
    >>> table.types
    ('eeg', 'eog')
    """

    names: tuple
    types: tuple
    pos: np.ndarray
    ori: np.ndarray
    units: tuple
    groups: tuple
    bads: np.ndarray
    mne_types: tuple = ()
    frame: str = "head"
    _index: dict = field(default=None, init=False, repr=False)

    def __post_init__(self):
        self.names = tuple(str(n) for n in self.names)
        n = len(self.names)
        self.types = tuple(self.types)
        self.units = tuple(self.units)
        self.groups = tuple(self.groups)
        self.mne_types = tuple(self.mne_types) if len(self.mne_types) else self.types
        self.pos = np.asarray(self.pos, dtype=float).reshape(-1, 3) if n else np.zeros((0, 3))
        self.ori = np.asarray(self.ori, dtype=float).reshape(-1, 3) if n else np.zeros((0, 3))
        self.bads = np.asarray(self.bads, dtype=bool).reshape(-1)
        for name in ("types", "units", "groups", "mne_types", "pos", "ori", "bads"):
            if len(getattr(self, name)) != n:
                raise InvalidParameterError(
                    f"SensorTable: {name} has {len(getattr(self, name))} rows but there are {n} "
                    "channel names; every column must have one row per channel"
                )
        unknown = sorted(set(self.types) - set(SENSOR_TYPES))
        if unknown:
            raise InvalidParameterError(
                f"SensorTable: unknown sensor type(s) {unknown}; allowed: {list(SENSOR_TYPES)}"
            )
        if len(set(self.names)) != n:
            dup = sorted({x for x in self.names if self.names.count(x) > 1})
            raise InvalidParameterError(f"SensorTable: duplicate channel names {dup}")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_info(cls, info) -> "SensorTable":
        """Build the table from an :class:`mne.Info` (positions moved to the head frame)."""
        import mne
        from mne.io.constants import FIFF

        n = len(info["chs"])
        mne_types = tuple(info.get_channel_types()) if n else ()
        pos, ori = _nan_rows(n), _nan_rows(n)
        dev_head = info.get("dev_head_t")
        has_dev_head = dev_head is not None
        dev_head = dev_head["trans"] if has_dev_head else np.eye(4)
        frame = "head"
        for i, ch in enumerate(info["chs"]):
            loc = np.asarray(ch["loc"], dtype=float)
            if loc.size < 3 or not np.all(np.isfinite(loc[:3])) or not np.any(loc[:3]):
                continue
            xyz = loc[:3]
            if mne_types[i] in MEG_TYPES or mne_types[i] == "ref_meg":
                xyz = mne.transforms.apply_trans(dev_head, xyz)
                if mne_types[i] in MEG_TYPES and loc.size >= 12 and np.any(loc[9:12]):
                    ez = dev_head[:3, :3] @ loc[9:12]
                    ori[i] = ez / np.linalg.norm(ez)
                if not has_dev_head:
                    frame = "device"
            elif ch.get("coord_frame", FIFF.FIFFV_COORD_HEAD) == FIFF.FIFFV_COORD_DEVICE:
                xyz = mne.transforms.apply_trans(dev_head, xyz)
            pos[i] = xyz
        types = tuple(canonical_type(t) for t in mne_types)
        groups = tuple(
            shaft_name(ch) if t in ("seeg", "ecog") else ""
            for ch, t in zip(info["ch_names"], types)
        )
        units = tuple(_UNITS.get(int(ch["unit"]), str(ch["unit"])) for ch in info["chs"])
        bads = np.isin(info["ch_names"], info["bads"]) if n else np.zeros(0, bool)
        return cls(
            names=tuple(info["ch_names"]),
            types=types,
            pos=pos,
            ori=ori,
            units=units,
            groups=groups,
            bads=bads,
            mne_types=mne_types,
            frame=frame,
        )

    @classmethod
    def from_dict(cls, data: dict) -> "SensorTable":
        """Inverse of :meth:`to_dict`."""
        d = dict(data)
        d["pos"] = np.array(d["pos"], dtype=float).reshape(-1, 3)
        d["ori"] = np.array(d["ori"], dtype=float).reshape(-1, 3)
        return cls(**d)

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return len(self.names)

    @property
    def type_ids(self) -> np.ndarray:
        """Integer type of each channel: index into :data:`SENSOR_TYPES` (int64, (c,))."""
        return np.array([SENSOR_TYPES.index(t) for t in self.types], dtype=np.int64)

    @property
    def has_position(self) -> np.ndarray:
        """Bool (c,): the channel has a finite position."""
        return np.all(np.isfinite(self.pos), axis=1)

    def index(self, name: str) -> int:
        """Row of channel ``name``."""
        if self._index is None:
            self._index = {n: i for i, n in enumerate(self.names)}
        try:
            return self._index[name]
        except KeyError:
            raise InvalidParameterError(f"SensorTable: no channel named {name!r}") from None

    def select(self, picks) -> "SensorTable":
        """Rows ``picks`` (channel names or integer indices), in that order."""
        idx = [self.index(p) if isinstance(p, str) else int(p) for p in picks]
        return SensorTable(
            names=[self.names[i] for i in idx],
            types=[self.types[i] for i in idx],
            pos=self.pos[idx],
            ori=self.ori[idx],
            units=[self.units[i] for i in idx],
            groups=[self.groups[i] for i in idx],
            bads=self.bads[idx],
            mne_types=[self.mne_types[i] for i in idx],
            frame=self.frame,
        )

    def counts(self) -> dict:
        """Number of channels per sensor type, in :data:`SENSOR_TYPES` order."""
        return {t: self.types.count(t) for t in SENSOR_TYPES if t in self.types}

    def to_dict(self) -> dict:
        """JSON-able dict (NaN positions become ``None``)."""

        def rows(a):
            return [[None if not np.isfinite(v) else float(v) for v in r] for r in a]

        return {
            "names": list(self.names),
            "types": list(self.types),
            "pos": rows(self.pos),
            "ori": rows(self.ori),
            "units": list(self.units),
            "groups": list(self.groups),
            "bads": [bool(b) for b in self.bads],
            "mne_types": list(self.mne_types),
            "frame": self.frame,
        }

    def __eq__(self, other) -> bool:
        if not isinstance(other, SensorTable):
            return NotImplemented
        return (
            self.names == other.names
            and self.types == other.types
            and self.units == other.units
            and self.groups == other.groups
            and self.mne_types == other.mne_types
            and self.frame == other.frame
            and np.array_equal(self.bads, other.bads)
            and np.allclose(self.pos, other.pos, equal_nan=True, rtol=0, atol=1e-9)
            and np.allclose(self.ori, other.ori, equal_nan=True, rtol=0, atol=1e-9)
        )

    def __repr__(self) -> str:
        n_pos = int(self.has_position.sum())
        return (
            f"<SensorTable | {len(self)} channels {self.counts()}, "
            f"{n_pos} with position ({self.frame} frame), {int(self.bads.sum())} bad>"
        )
