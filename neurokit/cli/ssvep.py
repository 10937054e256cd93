"""``neurokit ssvep evaluate``: accuracy and ITR of SSVEP decoders per window length."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

DATASETS = ("auto", "kalunga2016", "tsinghua", "beta", "phase-locked")


def add_parser(sub):
    p = sub.add_parser(
        "ssvep",
        help="SSVEP decoding: evaluate CCA/TRCA-family, Riemannian and deep decoders",
        description="Evaluate SSVEP decoders on a data set under a protocol; prints accuracy "
        "and ITR (bits/min, Wolpaw, gaze shift included, mean over subject-blocks) per method "
        "and window length.",
    )
    p.add_argument("action", choices=("evaluate",), help="what to do")
    p.add_argument(
        "--data",
        required=True,
        help="a data folder (Kalunga2016 'ssvep' folder with dataset.json; Tsinghua Benchmark "
        "or BETA S*.mat folder, MOABB layout accepted), the recipe name kalunga2016_ssvep, or "
        "'phase-locked' (the semi-synthetic phase-locked benchmark on shared EEG background)",
    )
    p.add_argument("--dataset", choices=DATASETS, default="auto", help="how to read --data")
    p.add_argument(
        "--data-root",
        default="../shared/data",
        help="shared data folder (for --data kalunga2016_ssvep / phase-locked)",
    )
    p.add_argument(
        "--methods",
        default="cca,fbcca,ecca,msetcca,trca,etrca,tdca,riemann",
        help="comma-separated: cca,fbcca,ecca,msetcca,trca,etrca,fbtrca,fbetrca,tdca,riemann,guney",
    )
    p.add_argument("--window-s", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    p.add_argument(
        "--protocol",
        default="within-session",
        choices=("within-session", "cross-session", "cross-subject", "leave-one-block-out"),
    )
    p.add_argument("--subjects", type=int, nargs="+", default=None, help="subset of subjects")
    p.add_argument("--gaze-shift-s", type=float, default=0.5, help="added to each selection")
    p.add_argument("--folds", type=int, default=4, help="folds of within-session")
    p.add_argument(
        "--deep-epochs",
        type=int,
        default=100,
        help="stage-1 epochs of the guney network (stage 2: half); the reference trains 1000",
    )
    p.add_argument(
        "--deep-lr",
        type=float,
        default=1e-3,
        help="Adam learning rate of the guney network (default 1e-3 for short budgets; the "
        "reference uses 1e-4 with 1000 epochs)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", dest="json_out", default=None, help="write the rows to this file")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    p.set_defaults(run=run)


def _guess(path: Path) -> str:
    if (path / "dataset.json").is_file() or any(path.glob("subject*/*-eve.fif")):
        return "kalunga2016"
    mats = sorted(path.rglob("S*.mat"))
    if not mats:
        return "tsinghua"  # the loader explains what is missing
    from scipy.io import whosmat

    try:
        names = {n for n, *_ in whosmat(mats[0])}
    except Exception:  # v7.3 / unreadable: let the Tsinghua loader report it
        return "tsinghua"
    return "beta" if "data" in names and "Freq_Phase" not in mats[0].name else "tsinghua"


def load_data(args):
    from ..decoding import datasets, phase_locked
    from ..errors import InvalidParameterError

    kind, data = args.dataset, args.data
    if data in ("phase-locked", "phase_locked"):
        kind = "phase-locked"
    if kind == "phase-locked":
        background = phase_locked.background_from_shared(args.data_root)
        n_subjects = 8 if args.subjects is None else max(args.subjects)
        out = phase_locked.make_phase_locked_benchmark(
            background, n_subjects=n_subjects, seed=args.seed
        )
        if args.subjects is not None:
            import numpy as np

            out = out.subset(np.isin(out.subject, args.subjects))
        return out
    if data in ("kalunga2016", "kalunga2016_ssvep"):
        kind, data = "kalunga2016", str(Path(args.data_root) / "ssvep")
    path = Path(data)
    if not path.exists():
        raise InvalidParameterError(
            f"--data {data!r}: no such folder, and not a known name (kalunga2016_ssvep, "
            "phase-locked)"
        )
    if kind == "auto":
        kind = _guess(path)
    if kind == "kalunga2016":
        return datasets.load_kalunga2016(path, args.subjects)
    if kind == "beta":
        return datasets.load_beta(path, args.subjects)
    return datasets.load_tsinghua_benchmark(path, args.subjects)


def run(args) -> int:
    from ..decoding.evaluation import check_deep_budget, evaluate, format_table

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if "guney" in methods:  # before the data are read
        check_deep_budget(args.deep_epochs, args.deep_lr)
    data = load_data(args)
    say = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    if say:
        say(
            f"{data.name or 'data'}: {len(data.y)} trials, {data.X.shape[1]} channels, "
            f"{data.sfreq:g} Hz, {len(data.freqs)} classes; protocol {args.protocol}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rows = evaluate(
            data,
            methods,
            args.window_s,
            args.protocol,
            gaze_shift_s=args.gaze_shift_s,
            n_folds=args.folds,
            deep_epochs=args.deep_epochs,
            deep_lr=args.deep_lr,
            random_state=args.seed,
            progress=say,
        )
    print(f"{data.name or 'data'} - {args.protocol} - accuracy (0-1) and ITR (bits/min)")
    print(format_table(rows))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=1))
    return 0
