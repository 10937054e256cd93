"""``neurokit denoise IN OUT --model NAME_OR_CKPT``: clean a recording with a denoiser."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path


def add_parser(sub):
    p = sub.add_parser(
        "denoise",
        help="remove artifacts from a recording with a trained denoiser",
        description="Load a recording (any supported format), clean the picked channels with "
        "a single-channel denoiser (windows at the model's rate, overlap-added, processed in "
        "blocks), and write the result as FIF. Other channels, annotations and info are kept.",
    )
    p.add_argument("input", metavar="IN", help="recording file or folder")
    p.add_argument("output", metavar="OUT", help="output FIF file (*_raw.fif or *.fif)")
    p.add_argument(
        "--model",
        required=True,
        help="checkpoint folder (save_pretrained, or a neurokit train denoiser run folder), a "
        "registered name, optionally with a preset (atat, atat:tiny: untrained), or a classic "
        "multi-channel cleaner with its defaults: ica-iclabel (ICA + ICLabel), asr",
    )
    p.add_argument(
        "--picks",
        default="eeg",
        help="comma-separated channel types or names to clean (default: eeg, bads left out)",
    )
    p.add_argument("--chunk-s", type=float, default=60.0, help="seconds processed at a time")
    p.add_argument("--batch-size", type=int, default=256, help="windows per forward pass")
    p.add_argument(
        "--no-residual",
        action="store_true",
        help="replace the samples by the model output (low-passed at the model's Nyquist "
        "frequency) instead of adding the model's correction to them",
    )
    p.add_argument("--format", default=None, help="force the input format")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    p.set_defaults(run=run)


def _check_output(path: Path, overwrite: bool) -> None:
    from ..errors import InvalidParameterError

    if not (path.name.endswith(".fif") or path.name.endswith(".fif.gz")):
        raise InvalidParameterError(
            f"{path}: OUT must be a FIF file name ending in .fif or .fif.gz (e.g. "
            f"{path.with_suffix('').name}_raw.fif)"
        )
    if path.exists() and not overwrite:
        raise InvalidParameterError(f"{path}: already exists; pass --overwrite to replace it")
    if not path.parent.is_dir():
        raise InvalidParameterError(f"{path}: folder {path.parent} does not exist")


def _say(caught) -> None:
    """One line per warning on stderr."""
    for w in caught:
        print(f"neurokit: warning: {w.message}", file=sys.stderr)


def run(args) -> int:
    from ..io import load
    from ..models.cleaners import CLEANERS
    from ..models.denoiser import Denoiser

    out_path = Path(args.output)
    _check_output(out_path, args.overwrite)
    picks = [p.strip() for p in args.picks.split(",") if p.strip()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        if args.model in CLEANERS:  # classic cleaners: no windows, chunks or residual
            denoiser = CLEANERS[args.model]()
        else:
            denoiser = Denoiser.from_pretrained(
                args.model, batch_size=args.batch_size, chunk_s=args.chunk_s,
                residual=not args.no_residual,
            )  # fmt: skip
    _say(caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # loader oddities are for `neurokit info`
        rec = load(args.input, format=args.format)
    start = time.perf_counter()
    cleaned = denoiser.apply(rec, picks=picks)
    elapsed = time.perf_counter() - start
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MNE's file-name convention warning
        cleaned.raw.save(out_path, overwrite=args.overwrite, verbose="error")
    n_clean = len(cleaned.history[-1]["channels"])
    duration = rec.duration_s
    factor = elapsed / duration if duration else float("nan")
    print(
        f"neurokit denoise: {n_clean} of {len(rec.ch_names)} channels cleaned with "
        f"{denoiser.name}, {duration:.1f} s in {elapsed:.1f} s (real-time factor "
        f"{factor:.3f}) -> {out_path}"
    )
    return 0
