"""Corpora on disk: build (resumable, crash-safe), read lazily, feed PyTorch.

``build_corpus`` and ``Corpus`` need no torch; ``CorpusDataset`` and its helpers live in
:mod:`neurokit.corpus.dataset` and import torch on first use.
"""

from .reader import Corpus
from .writer import build_corpus, discover

__all__ = [
    "Corpus",
    "build_corpus",
    "discover",
    "CorpusDataset",
    "collate",
    "BucketBatchSampler",
    "to_braindecode",
]


def __getattr__(name):
    if name in ("CorpusDataset", "collate", "BucketBatchSampler"):
        from . import dataset

        return getattr(dataset, name)
    if name == "to_braindecode":
        from .braindecode_compat import to_braindecode

        return to_braindecode
    raise AttributeError(f"module 'neurokit.corpus' has no attribute {name!r}")
