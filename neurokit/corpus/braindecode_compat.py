"""The windows of a corpus as a braindecode dataset (braindecode is imported on first use)."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameterError
from .dataset import CorpusDataset

__all__ = ["to_braindecode"]


def _windows_class():
    """Make the braindecode windows dataset class (braindecode is imported on first use)."""
    import mne
    from braindecode.datasets import EEGWindowsDataset
    from braindecode.datasets.base import RecordDataset

    class CorpusWindowsDataset(EEGWindowsDataset):
        """A braindecode ``EEGWindowsDataset`` over one recording of a corpus; items
        ``(x, y, crop_inds)`` are read from the memory map.

        ``raw`` (an :class:`mne.io.RawArray` of the picked channels) is built on first access
        and loads the whole recording; from then on items come from it, as in braindecode, so
        in-place preprocessing of ``raw`` shows in the windows.
        """

        def __init__(self, source, recording, metadata, description, transform=None):
            RecordDataset.__init__(self, description, transform)
            self._source, self.recording, self._raw = source, recording, None
            self.metadata, self.targets_from, self.last_target_only = metadata, "metadata", True
            cols = ["i_window_in_trial", "i_start_in_trial", "i_stop_in_trial"]
            self.crop_inds = metadata.loc[:, cols].to_numpy()
            self.y = metadata.loc[:, "target"].to_list()
            self.raw_preproc_kwargs = []

        def _make_mne_info(self):
            table, sel = (
                self._source.corpus.sensors(self.recording),
                self._source._sel[self.recording],
            )
            names, types = np.asarray(table.names)[sel], np.asarray(table.types)[sel]
            sfreq = self._source.corpus.recordings[self.recording]["sfreq"]
            return mne.create_info(list(names), sfreq, list(types))

        @property
        def raw(self):
            if self._raw is None:
                n_times = self._source.corpus.recordings[self.recording]["n_times"]
                data = self._source._read(self.recording, 0, n_times)
                self._raw = mne.io.RawArray(data, self._make_mne_info(), verbose="error")
            return self._raw

        @raw.setter
        def raw(self, value):
            self._raw = value

        @property
        def ch_pos(self):
            return self._source._pos[self.recording].numpy()

        def __getitem__(self, index):
            crop_inds = self.crop_inds[index].tolist()
            _, start, stop = crop_inds
            if self._raw is None:
                x = self._source._read(self.recording, start, stop)
            else:
                x = self._raw.get_data(start=start, stop=stop).astype(np.float32)
            if self.transform is not None:
                x = self.transform(x)
            if self.return_ch_pos:
                return x, self.y[index], crop_inds, self.ch_pos
            return x, self.y[index], crop_inds

    CorpusWindowsDataset.__module__, CorpusWindowsDataset.__qualname__ = (
        __name__,
        "CorpusWindowsDataset",
    )
    return CorpusWindowsDataset


def __getattr__(name):  # the braindecode class is made (and braindecode imported) on demand
    if name == "CorpusWindowsDataset":
        globals()[name] = cls = _windows_class()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_braindecode(root_or_corpus, *, picks=None, split=None, transform=None, **options):
    """The corpus windows as a braindecode :class:`~braindecode.datasets.BaseConcatDataset`.

    One ``CorpusWindowsDataset`` (a braindecode ``EEGWindowsDataset``) per recording, with
    items ``(x, y, crop_inds)``: ``x`` (c, t) float32 read lazily from the memory map, ``y`` the
    label index in the sorted corpus labels (-1 unlabeled), ``crop_inds`` ``[i_window_in_trial,
    start, stop]`` in samples. Each ``description`` holds ``recording``, ``key``, ``sfreq``,
    ``dataset``, ``subject``, ``session``, ``task`` and ``run`` (so ``split("subject")`` works).

    ``picks``, ``split`` and ``options`` (``window_s``, ``stride_s``, ``fractions``, ``seed``)
    are those of :class:`CorpusDataset`; ``transform`` is applied to each ``x``.
    """
    import pandas as pd
    from braindecode.datasets import BaseConcatDataset

    source = CorpusDataset(root_or_corpus, picks=picks, split=split, **options)
    cls, parts = __getattr__("CorpusWindowsDataset"), []
    for r in source.recordings:
        where = np.flatnonzero(source._rec == r)
        fixed = source.window_s is not None or (source._label[where] < 0).all()
        meta = pd.DataFrame(
            {
                "i_window_in_trial": np.arange(len(where)) if fixed else 0,
                "i_start_in_trial": source._start[where],
                "i_stop_in_trial": source._stop[where],
                "target": source._label[where],
            }
        )
        row = source.corpus.recordings[r]
        desc = {k: row.get(k) for k in ("key", "sfreq", "dataset", "subject", "session", "task")}
        desc.update(recording=r, run=row.get("run"))
        if len(where):
            parts.append(cls(source, r, meta, desc, transform=transform))
    if not parts:
        raise InvalidParameterError(
            f"to_braindecode: split={split!r}, picks={picks!r} leave no window; braindecode "
            "needs at least one"
        )
    return BaseConcatDataset(parts)
