"""``neurokit train tokenizer|denoiser --recipe R --out RUN``: train through the shared loop.

- ``neurokit train tokenizer --recipe R --corpus DIR --out RUN``: a tokenizer on a corpus.
- ``neurokit train denoiser --recipe datasets/denoise_<x>.yaml --out RUN [--data FOLDER]``: a
  denoiser on EEGdenoiseNet-style pairs (the semi-synthetic benchmark of ``shared/data`` by
  default, the official EEGdenoiseNet files with ``--data``); see
  :mod:`neurokit.artifacts.training`.
- ``neurokit train pretrain --recipe brainomni_pretrain_micro --corpus DIR --out RUN``: BrainOmni
  on the BrainTokenizer tokens of a corpus; ``neurokit train finetune --recipe
  brainomni_finetune_micro --corpus DIR --backbone RUN --out FT``: a BrainOmni classifier on the
  corpus's labelled windows; see :mod:`neurokit.models.brainomni_pipeline`.
"""

from __future__ import annotations

import argparse


def add_parser(sub):
    p = sub.add_parser(
        "train",
        help="train a tokenizer or a denoiser (resumes a killed run)",
        description="Train a model with the shared training loop. "
        "Rerunning the same command resumes from the latest checkpoint in --out. "
        "Multi-process: torchrun --nproc_per_node N -m neurokit train ...",
    )
    p.add_argument(
        "what", choices=("tokenizer", "denoiser", "pretrain", "finetune"), help="what to train"
    )
    p.add_argument(
        "--recipe",
        required=True,
        help="tokenizer recipe (tokenizers/*.yaml path or name, e.g. tfm_tiny) or denoiser "
        "recipe (datasets/denoise_*.yaml path or name, e.g. denoise_atat_tiny)",
    )
    p.add_argument("--corpus", default=None, help="tokenizer: corpus folder (neurokit preprocess)")
    p.add_argument(
        "--data",
        default=None,
        help="denoiser: a shared/data folder (semi-synthetic benchmark) or a folder holding the "
        "official EEGdenoiseNet files (default: the recipe's data section)",
    )
    p.add_argument(
        "--backbone",
        default=None,
        help="finetune: a BrainOmni pretraining run (default: the recipe's "
        "from_pretrained_backbone)",
    )
    p.add_argument("--out", required=True, help="run folder (checkpoints, metrics, model/)")
    p.add_argument("--max-steps", type=int, default=None, help="override the recipe's steps")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from ..errors import InvalidParameterError

    if args.what in ("pretrain", "finetune"):
        from ..models.brainomni_pipeline import run_cli

        return run_cli(args)
    if args.what == "denoiser":
        if args.corpus is not None:
            raise InvalidParameterError(
                "--corpus is for tokenizers; a denoiser trains on artifact pairs (use --data)"
            )
        from ..artifacts.training import train_denoiser

        result = train_denoiser(
            args.recipe, args.out, data=args.data, max_steps=args.max_steps,
            progress=not args.quiet,
        )  # fmt: skip
        test = result["test"]
        scores = (
            f" (test RRMSE {test['rrmse_temporal']:.3f}, CC {test['cc']:.3f}, averaged over SNRs)"
            if test
            else ""
        )
        print(f"neurokit train: denoiser saved to {result['model']}{scores}")
        return 0
    if args.corpus is None:
        raise InvalidParameterError("--corpus is required to train a tokenizer (a corpus folder)")
    if args.data is not None:
        raise InvalidParameterError("--data is for denoisers; a tokenizer trains on --corpus")
    from ..tokenizers.pipeline import train_tokenizer

    final = train_tokenizer(
        args.recipe, args.corpus, args.out, max_steps=args.max_steps, progress=not args.quiet
    )
    print(f"neurokit train: tokenizer saved to {final}")
    return 0
