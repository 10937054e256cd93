"""``neurokit train tokenizer --recipe R --corpus DIR --out RUN``: train through the shared loop."""

from __future__ import annotations

import argparse


def add_parser(sub):
    p = sub.add_parser(
        "train",
        help="train a model on a corpus (resumes a killed run)",
        description="Train a model on a corpus with the shared training loop. "
        "Rerunning the same command resumes from the latest checkpoint in --out. "
        "Multi-process: torchrun --nproc_per_node N -m neurokit train ...",
    )
    p.add_argument("what", choices=("tokenizer",), help="what to train")
    p.add_argument(
        "--recipe",
        required=True,
        help="tokenizer recipe (tokenizers/*.yaml path or name, e.g. tfm_tiny)",
    )
    p.add_argument("--corpus", required=True, help="corpus folder (neurokit preprocess)")
    p.add_argument("--out", required=True, help="run folder (checkpoints, metrics, model/)")
    p.add_argument("--max-steps", type=int, default=None, help="override the recipe's steps")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from ..tokenizers.pipeline import train_tokenizer

    final = train_tokenizer(
        args.recipe, args.corpus, args.out, max_steps=args.max_steps, progress=not args.quiet
    )
    print(f"neurokit train: tokenizer saved to {final}")
    return 0
