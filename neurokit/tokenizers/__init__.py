"""Tokenizers: signals to discrete tokens (``Tokens`` with ``codes [b, s, k, n]``).

>>> from neurokit.tokenizers import create_tokenizer
>>> tok = create_tokenizer("tfm", preset="tiny")
"""

from .base import (
    Tokenizer,
    TokenizerOutput,
    Tokens,
    create_tokenizer,
    get_tokenizer,
    list_tokenizers,
    register_tokenizer,
)

__all__ = [
    "Tokenizer",
    "TokenizerOutput",
    "Tokens",
    "create_tokenizer",
    "get_tokenizer",
    "list_tokenizers",
    "register_tokenizer",
    "TFMTokenizer",
    "BrainTokenizer",
]


def __getattr__(name):
    if name == "TFMTokenizer":
        from .tfm import TFMTokenizer

        return TFMTokenizer
    if name == "BrainTokenizer":
        from .brain import BrainTokenizer

        return BrainTokenizer
    raise AttributeError(f"module 'neurokit.tokenizers' has no attribute {name!r}")
