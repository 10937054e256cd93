"""Feed a corpus to PyTorch: a lazy windows dataset, a padding collate, a bucketing sampler.

A batch is a dict: ``x`` (b, c, t) float32, ``pos``/``ori`` (b, c, 3) in metres and unit vectors
(0 where unknown), ``type_id`` (b, c) int64 indices into :data:`neurokit.sensors.SENSOR_TYPES`,
``channel_mask`` (b, c) bool (True for real channels), ``label``/``recording``/``start`` (b,)
int64. Montages of different sizes are padded to the largest one and masked, never truncated.

Windows are read from the memory-mapped arrays on demand; the manifest is read once, each
process maps each array once, and a DataLoader batch is read straight into one block.
:func:`neurokit.corpus.to_braindecode` serves the same windows as a braindecode dataset.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import torch

from ..errors import InvalidParameterError
from ..preprocessing.windows import fixed_windows
from ..sensors import SENSOR_TYPES
from .reader import SPLITS, Corpus

__all__ = ["CorpusDataset", "collate", "BucketBatchSampler"]

_NUMPY = {getattr(torch, n): getattr(np, n) for n in ("float16", "float32", "float64", "int64")}
_NUMPY[torch.bool] = np.bool_


def _seconds(name, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, Real) or value <= 0):
        raise InvalidParameterError(f"{name}={value!r}; must be a positive number of seconds")
    return None if value is None else float(value)


def _resolve_picks(picks, tables: dict) -> dict:
    """Channel selection per recording: ``{recording: slice | int array | None}``."""
    if picks is None:
        return {r: slice(None) for r in tables}
    if isinstance(picks, str) or not len(picks) or not all(isinstance(p, str) for p in picks):
        raise InvalidParameterError(
            f"picks={picks!r}; must be None, a non-empty list of sensor types "
            f"(from {list(SENSOR_TYPES)}) or a list of channel names"
        )
    by_type = all(p in SENSOR_TYPES for p in picks)
    wanted, seen, out = list(dict.fromkeys(picks)), set(), {}
    for r, table in tables.items():
        names = {n: i for i, n in enumerate(table.names)}
        seen.update(table.types if by_type else names)
        if by_type:
            idx = [i for i, t in enumerate(table.types) if t in wanted]
        else:
            idx = [names[p] for p in wanted if p in names]
        if idx and idx == list(range(idx[0], idx[-1] + 1)):
            out[r] = slice(idx[0], idx[-1] + 1)  # a contiguous block reads fastest
        else:
            out[r] = np.asarray(idx, dtype=np.int64) if idx else None
    missing = [p for p in wanted if p not in seen]
    if missing:
        kind = "sensor type(s)" if by_type else "channel name(s) (or sensor types mixed in)"
        raise InvalidParameterError(
            f"picks={list(picks)}: unknown {kind} {missing}; no selected recording has them. "
            f"Pass sensor types from {list(SENSOR_TYPES)} or channel names of the corpus"
        )
    return out


class CorpusDataset(torch.utils.data.Dataset):
    """Windows of a corpus as a map-style PyTorch dataset, read lazily from memory maps.

    Parameters
    ----------
    root_or_corpus : path-like | Corpus
        A corpus folder written by :func:`~neurokit.corpus.build_corpus`, or an open corpus.
    window_s : float | None
        None serves the manifest's windows (with their labels). A length in seconds cuts fixed
        windows from every recording instead (unlabeled); the selected recordings must then
        share one sampling rate.
    stride_s : float | None
        Step between fixed windows in seconds (default ``window_s``); needs ``window_s``.
    picks : list of str | None
        None keeps every channel; sensor types (``["eeg"]``, recording order) or channel
        names (given order) keep those. Recordings with no picked channel are skipped.
    split : {"train", "valid", "test"} | None
        Keep the recordings of one subject-wise split (:meth:`Corpus.split`) ...
    fractions, seed : tuple of 3 float, int
        ... made with these subject fractions and this seed.
    dtype : torch.dtype
        Dtype of ``x`` (float16 corpora are scaled back to SI units first).

    Notes
    -----
    An item is a dict: ``x`` (c, t) (a copy, never the memory map), ``pos``/``ori`` (c, 3)
    float32 (NaN -> 0; shared by the items of a recording: read-only), ``type_id`` (c,) int64,
    ``label`` int64 scalar (index into ``classes``, the sorted labels of the whole corpus, so
    the same in every split; -1 unlabeled), ``recording`` (index in the corpus) and ``start``
    (first sample) ints. ``sfreq`` is the rate shared by the selected recordings (None when
    mixed); ``channel_counts`` (n_items,) is what :class:`BucketBatchSampler` groups by.
    """

    def __init__(
        self,
        root_or_corpus,
        *,
        window_s=None,
        stride_s=None,
        picks=None,
        split=None,
        fractions=(0.8, 0.1, 0.1),
        seed=0,
        dtype=torch.float32,
    ):
        corpus = root_or_corpus if isinstance(root_or_corpus, Corpus) else Corpus(root_or_corpus)
        window_s, stride_s = _seconds("window_s", window_s), _seconds("stride_s", stride_s)
        if stride_s is not None and window_s is None:
            raise InvalidParameterError(
                f"stride_s={stride_s} needs window_s; manifest windows have their own stride"
            )
        if split is not None and split not in SPLITS:
            raise InvalidParameterError(f"split={split!r}; allowed: None or one of {list(SPLITS)}")
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise InvalidParameterError(f"dtype={dtype!r}; must be a floating torch.dtype")
        if window_s is None and len(corpus) and not len(corpus.window_bounds):
            raise InvalidParameterError(
                f"window_s=None but {corpus.root} stores no windows; pass window_s to cut "
                "fixed windows or rebuild with a recipe that has a windows: section"
            )
        self.corpus, self.dtype, self.window_s, self.stride_s = corpus, dtype, window_s, stride_s
        chosen = range(len(corpus)) if split is None else corpus.split(fractions, seed)[split]
        sel = _resolve_picks(picks, {r: corpus.sensors(r) for r in chosen})
        self._sel = {r: s for r, s in sel.items() if s is not None}
        self.recordings = sorted(self._sel)
        self.classes = sorted({lab for lab in corpus.window_labels if lab is not None})
        rates = sorted({corpus.recordings[r]["sfreq"] for r in self.recordings})
        self.sfreq = rates[0] if len(rates) == 1 else None
        self._pos, self._ori, self._tid, self._scale = {}, {}, {}, {}
        n_ch = np.zeros(len(corpus), dtype=np.int64)
        for r in self.recordings:
            table, s = corpus.sensors(r), self._sel[r]
            self._pos[r] = torch.from_numpy(np.nan_to_num(table.pos[s]).astype(np.float32))
            self._ori[r] = torch.from_numpy(np.nan_to_num(table.ori[s]).astype(np.float32))
            self._tid[r] = torch.from_numpy(table.type_ids[s])
            n_ch[r] = len(self._tid[r])
            stored = corpus.recordings[r]["dtype"] != "float32"  # float16: scaled per channel
            self._scale[r] = corpus.channel_scale(r)[s][:, None] if stored else None
        if window_s is None:
            keep = np.isin(corpus.window_recording, self.recordings)
            self._rec = corpus.window_recording[keep]
            self._start, self._stop = corpus.window_bounds[keep].T.copy()
            index = {c: i for i, c in enumerate(self.classes)}
            labels = [index.get(lab, -1) for lab, k in zip(corpus.window_labels, keep) if k]
            self._label = np.asarray(labels, dtype=np.int64)
        else:
            if len(rates) > 1:
                raise InvalidParameterError(
                    f"window_s={window_s} needs one sampling rate, but the selected recordings "
                    f"have {rates} Hz; select recordings of one rate (split, picks) or resample "
                    "in the recipe"
                )
            parts = [
                fixed_windows(corpus.recordings[r]["n_times"], self.sfreq, window_s, stride_s)
                for r in self.recordings
            ]
            self._rec = np.repeat(self.recordings, [len(p) for p in parts]).astype(np.int64)
            self._start, self._stop = np.concatenate(parts or [np.zeros((0, 2), np.int64)]).T
            self._label = np.full(len(self._rec), -1, dtype=np.int64)
        self.channel_counts = n_ch[self._rec]
        self._views = {}

    def __len__(self) -> int:
        return len(self._rec)

    def __repr__(self) -> str:
        return (
            f"<CorpusDataset | {len(self)} windows from {len(self.recordings)} recordings, "
            f"{len(self.classes)} classes, sfreq {self.sfreq}>"
        )

    def __getstate__(self):  # each process maps the arrays itself
        return {**self.__dict__, "_views": {}}

    def n_channels(self, i: int) -> int:
        """Channels of item ``i`` (no data read)."""
        return int(self.channel_counts[i])

    def window(self, i: int) -> tuple:
        """``(recording, start, stop)`` of item ``i`` in samples (stop exclusive)."""
        return int(self._rec[i]), int(self._start[i]), int(self._stop[i])

    def _read_into(self, out: np.ndarray, r: int, start: int) -> None:
        """Copy samples ``[start, start + t)`` of the picked channels of ``r`` into ``out``."""
        view = self._views.get(r)
        if view is None:  # a plain ndarray over the map: slicing skips np.memmap's overhead
            view = self._views[r] = self.corpus.array(r).view(np.ndarray)
        np.copyto(out, view[self._sel[r], start : start + out.shape[-1]])
        if self._scale[r] is not None:
            out *= self._scale[r]

    def _read(self, r: int, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` of the picked channels of recording ``r``, float32 (c, t)."""
        out = np.empty((len(self._tid[r]), stop - start), dtype=np.float32)
        self._read_into(out, r, start)
        return out

    def _item(self, x: torch.Tensor, label: torch.Tensor, r: int, start: int) -> dict:
        pos, ori, tid = self._pos[r], self._ori[r], self._tid[r]
        return dict(x=x, pos=pos, ori=ori, type_id=tid, label=label, recording=r, start=start)

    def __getitem__(self, i: int) -> dict:
        r, start, stop = self.window(i)
        x = torch.from_numpy(self._read(r, start, stop)).to(self.dtype)
        return self._item(x, torch.tensor(int(self._label[i])), r, start)

    def __getitems__(self, indices) -> list:
        """Items ``indices`` (what a DataLoader asks for per batch). When they share a channel
        count and a length, their ``x`` are read straight into one (b, c, t) block and are
        views of it, so :func:`collate` returns that block without copying."""
        idx = np.asarray(indices, dtype=np.int64)
        counts, lengths = self.channel_counts[idx], self._stop[idx] - self._start[idx]
        if not len(idx) or counts.min() != counts.max() or lengths.min() != lengths.max():
            return [self[int(i)] for i in idx]
        block = _empty((len(idx), int(counts[0]), int(lengths[0])), torch.float32)
        recs, starts = self._rec[idx].tolist(), self._start[idx].tolist()
        data = block.numpy()
        for k, (r, start) in enumerate(zip(recs, starts)):
            self._read_into(data[k], r, start)
        xs, labels = block.to(self.dtype).unbind(0), torch.from_numpy(self._label[idx]).unbind(0)
        return [self._item(*args) for args in zip(xs, labels, recs, starts)]


def _empty(shape, dtype, shared=True) -> torch.Tensor:
    """Uninitialised CPU tensor. In a DataLoader worker (with ``shared``) it lives in shared
    memory, so it is sent back without a copy. Otherwise its memory comes from NumPy, whose
    allocator recycles freed blocks (torch maps fresh pages for every large tensor, which can
    cost more than filling them)."""
    if shared and torch.utils.data.get_worker_info() is not None:
        storage = torch.empty(0, dtype=dtype)._typed_storage()._new_shared(math.prod(shape))
        return torch.empty(0, dtype=dtype).new(storage).resize_(shape)  # a base, not a view
    if dtype in _NUMPY:
        return torch.from_numpy(np.empty(shape, dtype=_NUMPY[dtype]))
    return torch.empty(shape, dtype=dtype)


class Batch(dict):
    """The dict :func:`collate` returns. Pickled (from a DataLoader worker to the main process),
    its small CPU tensors travel by value and only ``x`` through shared memory: one shared
    block and file descriptor per batch instead of one per tensor."""

    def __reduce__(self):
        small = [
            k
            for k, v in self.items()
            if k != "x" and isinstance(v, torch.Tensor) and v.dtype in _NUMPY
            if v.device.type == "cpu" and not v.requires_grad
        ]
        return _unpack_batch, ({k: v.numpy() if k in small else v for k, v in self.items()}, small)


def _unpack_batch(packed: dict, small: list) -> Batch:
    return Batch({k: torch.from_numpy(v) if k in small else v for k, v in packed.items()})


def collate(items) -> dict:
    """Batch items of :class:`CorpusDataset` (all of one length t), padding channels.

    Returns a dict: ``x`` (b, c_max, t), ``pos``/``ori`` (b, c_max, 3), ``type_id`` (b, c_max),
    ``channel_mask`` (b, c_max) bool, ``label``/``recording``/``start`` (b,) int64. Padded
    entries are 0 (type id 0 too) and False in ``channel_mask``; nothing is truncated.
    """
    if not len(items):
        raise InvalidParameterError("collate: items is empty; need at least one window")
    xs = [it["x"] for it in items]
    lengths = {x.shape[-1] for x in xs}
    if len(lengths) > 1:
        raise InvalidParameterError(
            f"collate: windows of one batch have lengths {sorted(lengths)} samples; a batch "
            "needs one length (cut fixed windows with window_s or batch per length)"
        )
    b, t, counts = len(items), lengths.pop(), [x.shape[0] for x in xs]
    c, uniform = max(counts), min(counts) == max(counts)
    out, base = Batch(), xs[0]._base
    if uniform and base is not None and _is_stack(base, xs):
        out["x"] = base  # read as one block by CorpusDataset.__getitems__
    else:
        out["x"], base = _empty((b, c, t), xs[0].dtype), None
    for key, shape in (("pos", (b, c, 3)), ("ori", (b, c, 3)), ("type_id", (b, c))):
        out[key] = _empty(shape, items[0][key].dtype, shared=False)
    for key, tensor in out.items():
        if tensor is base:
            continue
        if uniform:
            torch.stack([it[key] for it in items], out=tensor)
        else:
            tensor.zero_()
            for k, it in enumerate(items):
                tensor[k, : counts[k]] = it[key]
    out["channel_mask"] = torch.arange(c)[None, :] < torch.tensor(counts)[:, None]
    labels = [it["label"] for it in items]
    if all(isinstance(v, torch.Tensor) for v in labels):
        out["label"] = torch.stack(labels).to(torch.int64)
    else:
        out["label"] = torch.tensor([int(v) for v in labels], dtype=torch.int64)
    for key in ("recording", "start"):
        out[key] = torch.tensor([int(it[key]) for it in items], dtype=torch.int64)
    return out


def _is_stack(base: torch.Tensor, xs: list) -> bool:
    """True when ``xs`` are ``base[0], base[1], ...`` in order (nothing left to copy)."""
    if base.dim() != 3 or base.shape[0] != len(xs) or not base.is_contiguous():
        return False
    step, offset = base.stride(0), base.storage_offset()
    return all(
        x._base is base and x.storage_offset() == offset + k * step and x.shape == base.shape[1:]
        for k, x in enumerate(xs)
    )


def _integer(name, value, low, high=None) -> int:
    """``value`` if it is an integer in ``[low, high)``, else a clear error."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or value >= (high or math.inf)
    ):
        allowed = f">= {low}" if high is None else f"in [{low}, {high - 1}]"
        raise InvalidParameterError(f"{name}={value!r}; must be an integer {allowed}")
    return value


class BucketBatchSampler(torch.utils.data.Sampler):
    """Batches of indices whose items all have the same channel count, sharded across ranks.

    Parameters
    ----------
    dataset : CorpusDataset or any dataset with ``n_channels(i)``
    batch_size : int
    shuffle : bool
        Shuffle items within each channel count, then the batches, from ``(seed, epoch)``
        (identical on every rank; see :meth:`set_epoch`).
    seed : int
    drop_last : bool
        Drop each channel count's incomplete batch and the batches that would not fill every
        rank; otherwise pad by repeating the first batches, as ``DistributedSampler`` does.
    num_replicas, rank : int | None
        Processes and this one's rank (default from ``torch.distributed`` when initialised,
        else 1 and 0). Ranks get disjoint batches (but padding), the same number each.

    Examples
    --------
    >>> sampler = BucketBatchSampler(ds, batch_size=32)                      # doctest: +SKIP
    >>> loader = DataLoader(ds, batch_sampler=sampler, collate_fn=collate)    # doctest: +SKIP
    >>> sampler.set_epoch(epoch)                                             # doctest: +SKIP
    """

    def __init__(
        self,
        dataset,
        *,
        batch_size,
        shuffle=True,
        seed=0,
        drop_last=False,
        num_replicas=None,
        rank=None,
    ):
        dist = torch.distributed
        ready = dist.is_available() and dist.is_initialized()
        if num_replicas is None:
            num_replicas = dist.get_world_size() if ready else 1
        if rank is None:
            rank = dist.get_rank() if ready else 0
        self.batch_size = _integer("batch_size", batch_size, 1)
        self.num_replicas = _integer("num_replicas", num_replicas, 1)
        self.rank = _integer("rank", rank, 0, self.num_replicas)
        counts = getattr(dataset, "channel_counts", None)
        if counts is None:
            counts = [dataset.n_channels(i) for i in range(len(dataset))]
        counts = np.asarray(counts, dtype=np.int64)
        self.buckets = {int(c): np.flatnonzero(counts == c) for c in np.unique(counts)}
        self.shuffle, self.seed, self.drop_last, self.epoch = bool(shuffle), seed, drop_last, 0

    def set_epoch(self, epoch: int) -> None:
        """Use the shuffle of ``epoch`` for the next iteration (call it at every epoch)."""
        self.epoch = int(epoch)

    def _total(self) -> int:
        rnd = math.floor if self.drop_last else math.ceil
        return sum(rnd(len(idx) / self.batch_size) for idx in self.buckets.values())

    def __len__(self) -> int:
        rnd = math.floor if self.drop_last else math.ceil
        return rnd(self._total() / self.num_replicas)

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        batches = []
        for idx in self.buckets.values():
            order = rng.permutation(idx) if self.shuffle else idx
            stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
            batches += [order[k : k + self.batch_size] for k in range(0, stop, self.batch_size)]
        if self.shuffle:
            batches = [batches[k] for k in rng.permutation(len(batches))]
        total = len(self) * self.num_replicas
        if total > len(batches) and batches:
            batches += (batches * math.ceil(total / len(batches)))[: total - len(batches)]
        for batch in batches[self.rank : total : self.num_replicas]:
            yield batch.tolist()
