"""CorpusDataset, collate, BucketBatchSampler and to_braindecode on small synthetic corpora."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import neurokit.io as nio
from neurokit.corpus import BucketBatchSampler, Corpus, CorpusDataset, build_corpus, collate
from neurokit.errors import InvalidParameterError
from neurokit.preprocessing import Pipeline
from neurokit.preprocessing.windows import fixed_windows
from neurokit.sensors import SENSOR_TYPES

FIXED = {"name": "fixed", "steps": [], "windows": {"length_s": 2.0, "stride_s": 2.0}}
EVENTS = {"name": "events", "steps": [], "windows": {"events": {"tmin_s": 0.0, "tmax_s": 0.5}}}


def _build(root, specs, recipe, **kwargs):
    """Write synthetic recordings ``(subject, kind, n_channels, sfreq, seed)`` and build."""
    for subject, kind, n, sfreq, seed in specs:
        folder = root / "src" / subject
        folder.mkdir(parents=True, exist_ok=True)
        rec = nio.synthetic(kind, n_channels=n, duration_s=12.0, sfreq=sfreq, seed=seed)
        rec.raw.save(folder / f"{kind}{seed}_raw.fif", overwrite=True, verbose="error")
    build_corpus([root / "src"], Pipeline.from_dict(recipe), root / "corpus", quiet=True, **kwargs)
    return Corpus(root / "corpus")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """EEG (8 + EOG), MEG (12) and sEEG (6) recordings of three subjects, 2 s windows."""
    specs = [("s1", "eeg", 8, 256.0, 1), ("s2", "meg", 12, 256.0, 2), ("s3", "seeg", 6, 256.0, 3)]
    return _build(tmp_path_factory.mktemp("mixed"), specs, FIXED)


@pytest.fixture(scope="module")
def labeled(tmp_path_factory):
    """Eight 8-channel EEG recordings of six subjects, event windows labelled left/right."""
    subjects = ["s1", "s1", "s2", "s3", "s4", "s4", "s5", "s6"]
    specs = [(s, "eeg", 8, 128.0, seed) for seed, s in enumerate(subjects)]
    return _build(tmp_path_factory.mktemp("labeled"), specs, EVENTS)


def _same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(torch.as_tensor(a[key]), torch.as_tensor(b[key])), key


# ---------------------------------------------------------------------- items
def test_items_have_the_documented_shapes_and_dtypes(mixed):
    ds = CorpusDataset(mixed)
    assert len(ds) == len(mixed.window_bounds) and ds.sfreq == 256.0 and ds.classes == []
    for i in (0, len(ds) - 1):
        item, (r, start, stop) = ds[i], ds.window(i)
        c = mixed.recordings[r]["n_channels"]
        assert item["x"].shape == (c, stop - start) and item["x"].dtype == torch.float32
        for key in ("pos", "ori"):
            assert item[key].shape == (c, 3) and item[key].dtype == torch.float32
            assert torch.isfinite(item[key]).all()
        table = mixed.sensors(r)
        assert item["type_id"].dtype == torch.int64
        assert [SENSOR_TYPES[t] for t in item["type_id"]] == list(table.types)
        assert (
            item["label"].dtype == torch.int64 and item["label"].shape == () and item["label"] == -1
        )
        assert (item["recording"], item["start"]) == (r, start) and ds.n_channels(i) == c


def test_lazy_reads_equal_the_array_slices(mixed):
    ds = CorpusDataset(mixed)
    by_batch = ds.__getitems__(list(range(len(ds))))
    for i in range(len(ds)):
        r, start, stop = ds.window(i)
        expected = torch.from_numpy(np.array(mixed.array(r)[:, start:stop]))
        assert torch.equal(ds[i]["x"], expected) and torch.equal(by_batch[i]["x"], expected)
    x = ds[0]["x"]
    x.zero_()  # a writable copy, not the read-only map
    assert mixed.array(0)[:, : x.shape[1]].any()
    ds64 = CorpusDataset(mixed, dtype=torch.float64)
    assert ds64[3]["x"].dtype == torch.float64
    assert ds64.__getitems__([3, 4])[0]["x"].dtype == torch.float64


def test_float16_corpus_is_scaled_back(tmp_path):
    corpus = _build(tmp_path, [("s1", "eeg", 4, 128.0, 0)], FIXED, dtype="float16")
    ds = CorpusDataset(corpus)
    r, start, stop = ds.window(2)
    expected = corpus.read(r, start, stop)
    np.testing.assert_allclose(ds[2]["x"].numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(ds.__getitems__([1, 2])[1]["x"].numpy(), expected, rtol=1e-6)
    assert np.abs(expected).max() < 1e-2  # volts, not the stored scaled values


def test_picks_by_type_and_by_name(mixed):
    eeg = CorpusDataset(mixed, picks=["eeg"])
    (r,) = eeg.recordings
    assert mixed.recordings[r]["n_channels"] == 9 and eeg[0]["x"].shape[0] == 8
    assert set(eeg[0]["type_id"].tolist()) == {SENSOR_TYPES.index("eeg")}
    mags = CorpusDataset(mixed, picks=["mag"])
    r = mags.recordings[0]
    rows = [k for k, t in enumerate(mixed.sensors(r).types) if t == "mag"]
    start, stop = mags.window(1)[1:]
    assert torch.equal(mags[1]["x"], torch.from_numpy(mixed.array(r)[rows, start:stop].copy()))
    assert torch.equal(mags.__getitems__([0, 1])[1]["x"], mags[1]["x"])
    names = CorpusDataset(mixed, picks=["Fz", "Fp1", "EOG"])
    table = mixed.sensors(names.recordings[0])
    rows = [table.names.index(n) for n in ("Fz", "Fp1", "EOG")]
    start, stop = names.window(0)[1:]
    assert torch.equal(
        names[0]["x"], torch.from_numpy(mixed.array(names.recordings[0])[rows, start:stop].copy())
    )
    pos = np.nan_to_num(table.pos[rows]).astype(np.float32)  # EOG: no position, 0
    assert torch.equal(names[0]["pos"], torch.from_numpy(pos)) and not pos[2].any()


def test_fixed_windows_from_window_s(mixed):
    ds = CorpusDataset(mixed, window_s=1.0, stride_s=0.5)
    expected = sum(len(fixed_windows(r["n_times"], 256.0, 1.0, 0.5)) for r in mixed.recordings)
    assert len(ds) == expected and ds[5]["x"].shape[-1] == 256 and (ds._label == -1).all()
    assert ds.window(1)[1] == 128


# ---------------------------------------------------------------------- collate
def test_mixed_montages_are_padded_and_masked_never_truncated(mixed):
    ds = CorpusDataset(mixed)
    firsts = [int(np.flatnonzero(ds._rec == r)[0]) for r in ds.recordings]
    items = [ds[i] for i in firsts]
    batch = collate(items)
    counts = [it["x"].shape[0] for it in items]
    assert sorted(counts) == [6, 9, 12]
    assert batch["x"].shape == (3, 12, 512) and batch["channel_mask"].dtype == torch.bool
    assert batch["channel_mask"].sum(1).tolist() == counts
    for k, (item, c) in enumerate(zip(items, counts)):
        for key in ("x", "pos", "ori", "type_id"):
            assert torch.equal(batch[key][k, :c], item[key])
            assert not batch[key][k, c:].any()
    loader = DataLoader(ds, batch_size=len(ds), shuffle=True, collate_fn=collate)
    (whole,) = list(loader)
    expected = [mixed.recordings[r]["n_channels"] for r in whole["recording"].tolist()]
    assert whole["channel_mask"].sum(1).tolist() == expected


def test_collate_errors_and_block_reuse(mixed):
    ds = CorpusDataset(mixed)
    with pytest.raises(InvalidParameterError, match="lengths"):
        collate([ds[0], {**ds[1], "x": ds[1]["x"][:, :100]}])
    with pytest.raises(InvalidParameterError, match="empty"):
        collate([])
    items = ds.__getitems__([0, 1, 2])
    batch = collate(items)
    assert batch["x"] is items[0]["x"]._base  # read once, straight into the batch
    reordered = collate([items[2], items[0], items[1]])
    assert torch.equal(reordered["x"][0], items[2]["x"])
    restored = pickle.loads(pickle.dumps(batch))
    assert type(restored) is type(batch)
    _same(restored, batch)


# ---------------------------------------------------------------------- sampler
def test_bucket_batches_have_one_channel_count_and_cover_everything(mixed):
    ds = CorpusDataset(mixed)
    sampler = BucketBatchSampler(ds, batch_size=4, seed=1)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert all(len({ds.n_channels(i) for i in b}) == 1 for b in batches)
    assert sorted(i for b in batches for i in b) == list(range(len(ds)))
    dropped = BucketBatchSampler(ds, batch_size=4, drop_last=True)
    assert len(list(dropped)) == len(dropped) and all(len(b) == 4 for b in dropped)


def test_bucket_shuffle_is_seeded_and_changes_with_epoch(mixed):
    ds = CorpusDataset(mixed)
    a, b = (BucketBatchSampler(ds, batch_size=3, seed=7) for _ in range(2))
    assert list(a) == list(b) == list(a)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first and sorted(map(sorted, a)) != sorted(map(sorted, first))
    b.set_epoch(1)
    assert list(a) == list(b)
    assert list(BucketBatchSampler(ds, batch_size=3, seed=8)) != first
    plain = list(BucketBatchSampler(ds, batch_size=3, shuffle=False))
    assert plain[0] == sorted(plain[0])


@pytest.mark.parametrize("batch_size", [3, 4, 6])  # 6, 6 and 3 batches over 3 buckets
def test_bucket_sampler_shards_like_distributed_sampler(mixed, batch_size):
    ds = CorpusDataset(mixed)
    ranks = [BucketBatchSampler(ds, batch_size=batch_size, num_replicas=2, rank=r) for r in (0, 1)]
    for s in ranks:
        s.set_epoch(2)
    got = [list(s) for s in ranks]
    assert len(got[0]) == len(got[1]) == len(ranks[0]) == len(ranks[1])
    total = BucketBatchSampler(ds, batch_size=batch_size)._total()
    assert len(got[0]) == -(-total // 2)
    assert {i for g in got for b in g for i in b} == set(range(len(ds)))
    as_sets = [{tuple(b) for b in g} for g in got]
    if total % 2 == 0:
        assert not as_sets[0] & as_sets[1]
    else:  # one batch repeated to even out the ranks, as DistributedSampler pads samples
        assert len(as_sets[0] & as_sets[1]) == 1
    dropped = [
        list(BucketBatchSampler(ds, batch_size=batch_size, num_replicas=2, rank=r, drop_last=True))
        for r in (0, 1)
    ]
    assert len(dropped[0]) == len(dropped[1])
    flat = [i for g in dropped for b in g for i in b]
    assert len(flat) == len(set(flat))


def test_dataloader_workers_give_the_same_batches(mixed):
    ds = CorpusDataset(mixed)

    def batches(workers):
        sampler = BucketBatchSampler(ds, batch_size=4, seed=3)
        sampler.set_epoch(1)
        loader = DataLoader(ds, batch_sampler=sampler, collate_fn=collate, num_workers=workers)
        return list(loader)

    def padded(workers):  # plain batches mixing montages: the padding path
        return list(DataLoader(ds, batch_size=5, collate_fn=collate, num_workers=workers))

    for make in (batches, padded):
        serial, parallel = make(0), make(2)
        assert len(serial) == len(parallel)
        for a, b in zip(serial, parallel):
            _same(a, b)
    assert any(not b["channel_mask"].all() for b in serial)  # some batches were padded


# ---------------------------------------------------------------------- splits and labels
def test_splits_are_subject_wise(labeled):
    subjects, seen = {}, []
    for name in ("train", "valid", "test"):
        ds = CorpusDataset(labeled, split=name, fractions=(0.5, 0.25, 0.25), seed=1)
        subjects[name] = {labeled.recordings[r]["subject"] for r in ds.recordings}
        seen += ds.recordings
        assert set(ds._rec.tolist()) <= set(ds.recordings)
        assert ds.classes == ["stimulus/left", "stimulus/right"]
    assert not subjects["train"] & subjects["valid"]
    assert not subjects["train"] & subjects["test"]
    assert not subjects["valid"] & subjects["test"]
    assert sorted(seen) == list(range(len(labeled)))


def test_labels_index_the_sorted_classes(labeled):
    ds = CorpusDataset(labeled)
    labels = [ds.classes[int(ds[i]["label"])] for i in range(len(ds))]
    assert labels == labeled.window_labels
    batch = collate(ds.__getitems__([0, 1, 2]))
    assert batch["label"].tolist() == [ds.classes.index(lab) for lab in labels[:3]]


# ---------------------------------------------------------------------- errors
def test_bad_parameters_raise_clear_errors(mixed, tmp_path):
    with pytest.raises(InvalidParameterError, match="split='training'"):
        CorpusDataset(mixed, split="training")
    with pytest.raises(InvalidParameterError, match=r"unknown .*\['nope'\]"):
        CorpusDataset(mixed, picks=["nope"])
    with pytest.raises(InvalidParameterError, match="picks='eeg'"):
        CorpusDataset(mixed, picks="eeg")
    with pytest.raises(InvalidParameterError, match="window_s=-1"):
        CorpusDataset(mixed, window_s=-1)
    with pytest.raises(InvalidParameterError, match="needs window_s"):
        CorpusDataset(mixed, stride_s=1.0)
    with pytest.raises(InvalidParameterError, match="batch_size=0"):
        BucketBatchSampler(CorpusDataset(mixed), batch_size=0)
    with pytest.raises(InvalidParameterError, match="rank=2"):
        BucketBatchSampler(CorpusDataset(mixed), batch_size=2, num_replicas=2, rank=2)
    rates = _build(tmp_path, [("a", "eeg", 4, 256.0, 0), ("b", "eeg", 4, 128.0, 1)], FIXED)
    assert CorpusDataset(rates).sfreq is None
    with pytest.raises(InvalidParameterError, match=r"one sampling rate.*\[128.0, 256.0\]"):
        CorpusDataset(rates, window_s=1.0)


# ---------------------------------------------------------------------- braindecode
@pytest.mark.filterwarnings("ignore:.*inplace keyword", "ignore:Montage name")
def test_to_braindecode_serves_the_corpus_windows(labeled):
    from braindecode.datasets import BaseConcatDataset, EEGWindowsDataset

    from neurokit.corpus import to_braindecode

    ds = CorpusDataset(labeled)
    bd = to_braindecode(labeled, picks=["eeg"])
    assert isinstance(bd, BaseConcatDataset) and len(bd) == len(ds)
    assert all(isinstance(d, EEGWindowsDataset) for d in bd.datasets)
    for i in (0, 7, len(bd) - 1):
        x, y, crop = bd[i]
        r, start, stop = ds.window(i)
        assert isinstance(x, np.ndarray) and x.dtype == np.float32
        np.testing.assert_array_equal(x, labeled.array(r)[:8, start:stop])
        assert y == int(ds[i]["label"]) and crop[1:] == [start, stop]
    assert set(bd.description["subject"]) == {"s1", "s2", "s3", "s4", "s5", "s6"}
    assert len(bd.split("subject")) == 6
    clone = pickle.loads(pickle.dumps(bd))
    np.testing.assert_array_equal(clone[3][0], bd[3][0])
    n = 0
    for x, y, _ in DataLoader(bd, batch_size=16, shuffle=True, num_workers=2):
        assert x.shape[1:] == (8, 64) and x.dtype == torch.float32 and y.dtype == torch.int64
        n += len(x)
    assert n == len(bd)
    raw = bd.datasets[0].raw  # built on demand, same samples
    np.testing.assert_allclose(raw.get_data(), labeled.array(0)[:8], rtol=1e-6)
    raw.apply_function(lambda v: 2 * v)  # in-place preprocessing shows in the windows
    start, stop = ds.window(0)[1:]
    np.testing.assert_allclose(bd[0][0], 2 * labeled.array(0)[:8, start:stop], rtol=1e-6)
    train = to_braindecode(labeled, split="train", window_s=1.0)
    assert all(d.y == [-1] * len(d) for d in train.datasets)


def test_importing_the_corpus_package_stays_torch_free(mixed):
    code = (
        "import sys; from neurokit.corpus import Corpus; "
        f"c = Corpus({str(mixed.root)!r}); c.array(0)[:, :10]; "
        "sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
