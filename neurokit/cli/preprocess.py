"""``neurokit preprocess INPUTS... --recipe R --out DIR``: build or resume a corpus."""

from __future__ import annotations

import argparse
import warnings


def add_parser(sub):
    p = sub.add_parser(
        "preprocess",
        help="turn recordings into a corpus (resumable, crash-safe)",
        description="Load every recording under INPUTS (files, folders searched recursively, "
        "BIDS roots), apply the recipe, and store one memory-mappable array per recording plus "
        "a SQLite manifest in --out. Rerunning resumes: finished recordings are skipped, changed "
        "ones rebuilt. Exit status: 0 when every recording is in the corpus, else the number of "
        "failed recordings (at most 100); the summary line says the same.",
    )
    p.add_argument("inputs", nargs="+", help="recording files, folders or BIDS roots")
    p.add_argument(
        "--recipe",
        required=True,
        help="recipe name (e.g. physionet_mi, kalunga2016_ssvep) or YAML path",
    )
    p.add_argument("--out", required=True, help="corpus folder (created or resumed)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default: %(default)s)")
    p.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="run the per-recording work on this Dask scheduler instead",
    )
    p.add_argument(
        "--dtype",
        choices=("float32", "float16"),
        default=None,
        help="array dtype (default: the recipe's)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from ..corpus import Corpus, build_corpus

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # per-recording warnings are kept in the manifest
        summary = build_corpus(
            args.inputs,
            args.recipe,
            args.out,
            jobs=args.jobs,
            dask=args.dask,
            dtype=args.dtype,
            quiet=args.quiet,
        )
    hours = Corpus(args.out).info()["hours"]["total"]
    print(
        f"neurokit preprocess: {summary['inputs']} recordings found, {summary['built']} built, "
        f"{summary['skipped']} already done, {summary['failures']} failed; corpus "
        f"{summary['out']} holds {hours:.3f} h ({summary['seconds']:.1f} s)"
    )
    return min(summary["failures"], 100)
