"""``neurokit tokenize CKPT CORPUS``: write a tokenizer's codes into a corpus (resumable)."""

from __future__ import annotations

import argparse


def add_parser(sub):
    p = sub.add_parser(
        "tokenize",
        help="write a tokenizer's codes into a corpus",
        description="Encode every recording of CORPUS with the tokenizer in CKPT "
        "(a saved model or a training run folder) into fixed windows, stored as "
        "tokens/<id>/*.npy with manifest rows; a rerun skips what is done. "
        "`neurokit info CORPUS` then shows codebook usage and perplexity per quantizer level. "
        "--windows manifest encodes the corpus's own (labelled, e.g. event-locked) windows "
        "instead of fixed ones, for fine-tuning.",
    )
    p.add_argument("checkpoint", help="saved tokenizer folder or training run folder")
    p.add_argument("corpus", help="corpus folder")
    p.add_argument(
        "--window-s",
        type=float,
        default=None,
        help="window length in seconds (default: the training recipe's)",
    )
    p.add_argument(
        "--stride-s",
        type=float,
        default=None,
        help="step between fixed windows in seconds (default: the training recipe's)",
    )
    p.add_argument(
        "--windows",
        choices=("fixed", "manifest"),
        default="fixed",
        help="fixed windows (default) or the corpus's own labelled windows",
    )
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from ..tokenizers.pipeline import tokenize_corpus

    s = tokenize_corpus(
        args.checkpoint,
        args.corpus,
        window_s=args.window_s,
        stride_s=args.stride_s,
        windows=args.windows,
        batch_size=args.batch_size,
        progress=not args.quiet,
    )
    print(
        f"neurokit tokenize: {s['tokenizer']}: {s['written']} recordings written, "
        f"{s['skipped']} already done"
    )
    return 0
