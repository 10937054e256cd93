"""BrainOmni's sensor-position normalization (Xiao et al., 2025, "BrainOmni: A Brain Foundation
Model for Unified EEG and MEG Signals"; reference code OpenTSLab/BrainOmni).

BrainOmni's preprocessing (``factory/utils.py`` of the reference) does two normalizations:

- signals: per sensor type (EEG, magnetometers, gradiometers), a common average over the type's
  channels at each sample, then one standard deviation for the whole group, on 10-s segments.
  That is the ``scale`` step with ``method="brainomni"`` (:mod:`.steps`); use
  ``window_s: 10.0`` to match the reference's segments;
- sensor positions: per modality (EEG; MEG with magnetometers and gradiometers together), the
  centroid of the modality's sensors is subtracted and the positions are divided by
  ``sqrt(3 * mean(|p|^2))``, which leaves a mean squared distance to the centroid of 1/3.
  Orientations are left as they are.

This module holds the second one, as :func:`normalize_positions` (the array function that the
BrainTokenizer also applies to every batch) and the registered step ``brainomni_positions``.
sEEG and ECoG, which the reference does not cover, are normalized as two more groups of their
own. The reference's whole chain, written as neurokit steps, is :data:`BRAINOMNI_STEPS`.

MNE has no such normalization (it keeps positions in metres in a coordinate frame), hence this
module.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import InvalidParameterError
from ..recording import owned
from ._registry import register_step

__all__ = ["POSITION_GROUPS", "BRAINOMNI_STEPS", "normalize_positions", "brainomni_positions"]

#: Sensor type -> the group whose sensors share one centroid and one scale. The reference has
#: the groups "eeg" and "meg" (magnetometers with gradiometers); "seeg" and "ecog" are additions.
POSITION_GROUPS = {"eeg": "eeg", "mag": "meg", "grad": "meg", "seeg": "seeg", "ecog": "ecog"}

#: The reference's preprocessing as a neurokit recipe (``factory/utils.py``: pick MEG and EEG,
#: notch 50 and 60 Hz, resample to 256 Hz, band-pass 0.1-96 Hz, flag EEG channels whose log
#: spectrum is an outlier (10 x IQR), interpolate them, normalize per sensor type on 10-s
#: segments, normalize positions). The position step comes last: every step that changes the
#: raw data rebuilds the sensor table from the file's channel locations.
BRAINOMNI_STEPS = [
    ("pick_types", {"types": ["eeg", "mag", "grad"]}),
    ("notch", {"freqs": [50.0, 60.0]}),
    ("resample", {"sfreq": 256.0}),
    ("bandpass", {"l_freq": 0.1, "h_freq": 96.0}),
    ("detect_bads", {"psd_iqr": 10.0}),
    ("interpolate_bads", {"origin": [0.0, 0.0, 0.04]}),
    ("scale", {"method": "brainomni", "window_s": 10.0}),
    ("brainomni_positions", {}),
]


def normalize_positions(pos, types, valid=None) -> np.ndarray:
    """BrainOmni's per-modality normalization of sensor positions.

    For each group of :data:`POSITION_GROUPS`, the mean position of the group's known sensors is
    subtracted and the result divided by ``sqrt(3 * mean(|p - mean|^2))`` over those sensors.
    A group with a single known sensor is only centred (it lands on the origin).

    Parameters
    ----------
    pos : array-like, shape ``(c, 3)``
        Positions (any unit; metres from :class:`~neurokit.sensors.SensorTable`). A row that is
        not finite or exactly zero counts as unknown.
    types : sequence of str, length c
        Sensor type of each row (:data:`neurokit.sensors.SENSOR_TYPES` names).
    valid : array-like of bool, shape ``(c,)``, optional
        Rows that take part (e.g. not padding); the others count as unknown.

    Returns
    -------
    ndarray, shape ``(c, 3)``, float64
        Normalized positions (unitless); unknown rows are NaN; rows of other types (EOG,
        misc ...) are returned unchanged.

    Examples
    --------
    >>> p = normalize_positions([[0.1, 0, 0], [-0.1, 0, 0]], ["eeg", "eeg"])
    >>> p.round(4).tolist()
    [[0.5774, 0.0, 0.0], [-0.5774, 0.0, 0.0]]
    """
    pos = np.array(pos, dtype=float).reshape(-1, 3)
    types = list(types)
    if len(types) != len(pos):
        raise InvalidParameterError(
            f"normalize_positions: {len(types)} types for {len(pos)} positions; pass one sensor "
            "type per row"
        )
    known = np.all(np.isfinite(pos), axis=1) & np.any(pos != 0, axis=1)
    if valid is not None:
        known &= np.asarray(valid, dtype=bool).reshape(-1)
    group = np.array([POSITION_GROUPS.get(t, "") for t in types])
    out = pos.copy()
    out[(group != "") & ~known] = np.nan
    for name in sorted(set(POSITION_GROUPS.values())):
        rows = (group == name) & known
        if not rows.any():
            continue
        centred = pos[rows] - pos[rows].mean(axis=0, keepdims=True)
        scale = np.sqrt(3.0 * np.mean(np.sum(centred**2, axis=1)))
        out[rows] = centred / scale if scale > 0 else centred
    return out


@register_step("brainomni_positions")
def brainomni_positions(rec):
    """Replace the sensor positions by BrainOmni's per-modality normalized ones
    (:func:`normalize_positions`; EEG, MEG = magnetometers + gradiometers, sEEG, ECoG).

    Positions become unitless and the table's ``frame`` becomes ``"brainomni-normalized"``;
    orientations, the data and ``info`` are unchanged. Put this step last in a recipe: any
    later step that changes the data rebuilds the table from the file's channel locations
    (in metres). The BrainTokenizer applies the same normalization to every batch
    (``normalize_positions=True``), which gives the same result on already normalized
    positions.
    """
    table = rec.sensors
    pos = normalize_positions(table.pos, table.types)
    sensors = dataclasses.replace(table, pos=pos, frame="brainomni-normalized")
    raw = rec.raw if owned() else rec.raw.copy()
    return rec.with_step(raw, "brainomni_positions", sensors=sensors)
