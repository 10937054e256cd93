"""Deterministic batch plans: which indices make each global batch, and which part is a rank's.

The trainer never asks a sampler for a rank's share. It builds one sampler for the *global*
batch (``batch_size x world_size`` items, ``num_replicas=1``), iterates it from
``(seed, epoch)`` -- identical in every process -- and hands rank ``r`` the ``r``-th contiguous
part of each global batch. A run therefore sees the same global batches whatever the number of
processes, and resuming at ``(epoch, position)`` is a matter of skipping ``position`` batches
of the plan (indices only: no data is read for them).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import InvalidParameterError

__all__ = ["ShuffledBatchSampler", "default_sampler_factory", "epoch_plan", "rank_slice"]


class ShuffledBatchSampler(torch.utils.data.Sampler):
    """Batches of a reshuffled ``range(len(dataset))``, for datasets without channel counts.

    Same arguments and semantics as :class:`neurokit.corpus.BucketBatchSampler` (one order per
    ``(seed, epoch)``, ranks take every ``num_replicas``-th batch, padded by repeating the first
    batches unless ``drop_last``), minus the grouping by channel count.
    """

    def __init__(
        self,
        dataset,
        *,
        batch_size,
        shuffle=True,
        seed=0,
        drop_last=False,
        num_replicas=1,
        rank=0,
    ):
        for name, value, low in (("batch_size", batch_size, 1), ("num_replicas", num_replicas, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidParameterError(f"{name}={value!r}; must be an integer >= {low}")
        if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise InvalidParameterError(f"rank={rank!r}; must be in [0, {num_replicas - 1}]")
        self.n, self.batch_size, self.shuffle = len(dataset), batch_size, bool(shuffle)
        self.seed, self.drop_last, self.epoch = seed, bool(drop_last), 0
        self.num_replicas, self.rank = num_replicas, rank

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` for the next iteration."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        rnd = math.floor if self.drop_last else math.ceil
        return rnd(rnd(self.n / self.batch_size) / self.num_replicas)

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        stop = self.n - self.n % self.batch_size if self.drop_last else self.n
        batches = [order[k : k + self.batch_size] for k in range(0, stop, self.batch_size)]
        total = len(self) * self.num_replicas
        if total > len(batches) and batches:
            batches += (batches * math.ceil(total / len(batches)))[: total - len(batches)]
        for batch in batches[self.rank : total : self.num_replicas]:
            yield batch.tolist()


def default_sampler_factory(dataset, **kwargs):
    """:class:`~neurokit.corpus.BucketBatchSampler` for datasets that know their channel
    counts (``channel_counts`` or ``n_channels(i)``, as :class:`CorpusDataset`), so a batch
    never mixes montage sizes; :class:`ShuffledBatchSampler` otherwise."""
    if hasattr(dataset, "channel_counts") or callable(getattr(dataset, "n_channels", None)):
        from ..corpus.dataset import BucketBatchSampler

        return BucketBatchSampler(dataset, **kwargs)
    return ShuffledBatchSampler(dataset, **kwargs)


def epoch_plan(sampler, epoch: int, world_size: int = 1) -> list[list[int]]:
    """The global batches of ``epoch`` in order. Batches smaller than ``world_size`` (which
    would leave a process without data) are left out, in every process alike."""
    if hasattr(sampler, "set_epoch"):
        sampler.set_epoch(epoch)
    plan = [[int(i) for i in batch] for batch in sampler]
    return [b for b in plan if len(b) >= world_size]


def rank_slice(batch: list, world_size: int, rank: int) -> list:
    """Rank ``rank``'s contiguous part of a global batch (sizes differ by one at most)."""
    q, r = divmod(len(batch), world_size)
    start = rank * q + min(rank, r)
    return batch[start : start + q + (rank < r)]
