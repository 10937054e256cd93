"""SensorTable: construction from MNE info, validation, and properties (hypothesis)."""

from __future__ import annotations

import json

import mne
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurokit.errors import InvalidParameterError
from neurokit.sensors import SENSOR_TYPES, SensorTable, canonical_type, shaft_name

finite = st.floats(-0.2, 0.2, allow_nan=False)


@st.composite
def tables(draw, max_channels=12):
    n = draw(st.integers(0, max_channels))
    names = draw(
        st.lists(
            st.text("ABCXYZ'0123456789", min_size=1, max_size=6),
            min_size=n,
            max_size=n,
            unique=True,
        )
    )
    types = draw(st.lists(st.sampled_from(SENSOR_TYPES), min_size=n, max_size=n))
    pos = np.array(
        draw(st.lists(st.tuples(finite, finite, finite), min_size=n, max_size=n)), dtype=float
    ).reshape(n, 3)
    unknown = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    pos[unknown] = np.nan
    ori = np.full((n, 3), np.nan)
    meg = np.isin(types, ["mag", "grad"])
    ori[meg] = [0.0, 0.0, 1.0]
    bads = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return SensorTable(
        names=names,
        types=types,
        pos=pos,
        ori=ori,
        units=["V"] * n,
        groups=[shaft_name(x) for x in names],
        bads=bads,
    )


@given(tables())
def test_dict_round_trip_is_lossless_and_json_able(table):
    data = json.loads(json.dumps(table.to_dict()))
    assert SensorTable.from_dict(data) == table


@given(tables(), st.data())
def test_select_permutes_every_column_together(table, data):
    perm = data.draw(st.permutations(range(len(table))))
    sub = table.select(perm)
    assert sub.names == tuple(table.names[i] for i in perm)
    for i, j in enumerate(perm):
        assert sub.types[i] == table.types[j] and sub.bads[i] == table.bads[j]
        np.testing.assert_array_equal(sub.pos[i], table.pos[j])
    assert sub.select([sub.index(n) for n in table.names]) == table  # and back


@given(tables())
def test_counts_and_type_ids_agree(table):
    assert sum(table.counts().values()) == len(table)
    ids = table.type_ids
    assert ids.dtype == np.int64 and all(SENSOR_TYPES[i] == t for i, t in zip(ids, table.types))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8), st.floats(-0.05, 0.05), st.floats(-0.05, 0.05), st.data())
def test_from_info_moves_meg_to_head_frame(n, dx, dz, data):
    """MEG positions and normals go through dev_head_t; EEG stays as given (head frame)."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    info = mne.create_info([f"M{i}" for i in range(n)] + ["Cz"], 100.0, ["mag"] * n + ["eeg"])
    angle = data.draw(st.floats(-0.5, 0.5))
    rot = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    trans = np.eye(4)
    trans[:3, :3], trans[:3, 3] = rot, [dx, 0.0, dz]
    pos = rng.uniform(-0.1, 0.1, (n, 3))
    ez = rng.normal(size=(n, 3))
    ez /= np.linalg.norm(ez, axis=1, keepdims=True)
    with info._unlock():
        info["dev_head_t"] = mne.transforms.Transform("meg", "head", trans)
        for i in range(n):
            info["chs"][i]["loc"][:3] = pos[i]
            info["chs"][i]["loc"][9:12] = ez[i]
        info["chs"][n]["loc"][:3] = [0.0, 0.0, 0.09]
    table = SensorTable.from_info(info)
    np.testing.assert_allclose(table.pos[:n], pos @ rot.T + [dx, 0.0, dz], atol=1e-12)
    np.testing.assert_allclose(table.ori[:n], ez @ rot.T, atol=1e-12)
    np.testing.assert_allclose(table.pos[n], [0.0, 0.0, 0.09])
    assert np.isnan(table.ori[n]).all() and table.frame == "head"


def test_from_info_unknown_positions_are_nan_and_types_canonical():
    info = mne.create_info(["A1", "ref", "resp", "LAH3"], 100.0, ["eeg", "ref_meg", "resp", "seeg"])
    table = SensorTable.from_info(info)
    assert np.isnan(table.pos).all()
    assert table.types == ("eeg", "misc", "misc", "seeg")
    assert table.mne_types == ("eeg", "ref_meg", "resp", "seeg")
    assert table.groups == ("", "", "", "LAH")
    assert table.units[0] == "V"


def test_validation_errors_name_the_problem():
    with pytest.raises(InvalidParameterError, match="unknown sensor type"):
        SensorTable(
            names=["a"],
            types=["brain"],
            pos=[[0, 0, 0]],
            ori=[[0, 0, 0]],
            units=["V"],
            groups=[""],
            bads=[False],
        )
    with pytest.raises(InvalidParameterError, match="pos has 2 rows"):
        SensorTable(
            names=["a"],
            types=["eeg"],
            pos=np.zeros((2, 3)),
            ori=[[0, 0, 0]],
            units=["V"],
            groups=[""],
            bads=[False],
        )
    with pytest.raises(InvalidParameterError, match="duplicate channel names"):
        SensorTable(
            names=["a", "a"],
            types=["eeg"] * 2,
            pos=np.zeros((2, 3)),
            ori=np.zeros((2, 3)),
            units=["V"] * 2,
            groups=[""] * 2,
            bads=[False] * 2,
        )
    table = SensorTable.from_info(mne.create_info(["Cz"], 100.0, "eeg"))
    with pytest.raises(InvalidParameterError, match="no channel named 'Pz'"):
        table.index("Pz")


@pytest.mark.parametrize(
    "name, shaft",
    [("LAHC3", "LAHC"), ("LENT 12", "LENT"), ("A'2", "A'"), ("G_10", "G"), ("Cz", ""), ("X", "")],
)
def test_shaft_name(name, shaft):
    assert shaft_name(name) == shaft


def test_canonical_type():
    assert canonical_type("dbs") == "seeg" and canonical_type("bio") == "misc"
    assert all(canonical_type(t) == t for t in SENSOR_TYPES)
