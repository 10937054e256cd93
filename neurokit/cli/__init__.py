"""``neurokit <command>``: the command-line interface.

Each command is a module of this package with ``add_parser(subparsers)`` and ``run(args) -> int``.
Errors on bad input exit with status 2 and one line ``neurokit: error: <file>: <cause>`` on
stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from .. import __version__

COMMANDS = ("info", "preprocess", "train", "tokenize", "ssvep", "denoise", "demo")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neurokit", description="Read, normalize and summarize EEG, MEG and sEEG recordings."
    )
    parser.add_argument("--version", action="version", version=f"neurokit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``neurokit`` console script; returns the exit status."""
    from ..errors import NeurokitError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except NeurokitError as err:
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"neurokit: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("neurokit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
