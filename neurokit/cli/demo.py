"""``neurokit demo``: the pipeline end to end on built-in synthetic recordings.

Synthesizes EEG, MEG and sEEG recordings, normalizes and summarizes them, draws their sensor
layouts, then builds a small corpus from them (plus the shared motor-imagery runs when a
``shared/data`` folder is found or given) and prints the corpus summary.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEMO_RECIPE = {
    "name": "demo",
    "description": "Demo: data channels, 1-40 Hz, 128 Hz, per-channel z-score, 2 s windows.",
    "steps": [
        {"pick_types": {"types": ["eeg", "seeg", "ecog", "mag", "grad"]}},
        {"bandpass": {"l_freq": 1.0, "h_freq": 40.0}},
        {"resample": {"sfreq": 128.0}},
        {"scale": {"method": "zscore"}},
    ],
    "windows": {"length_s": 2.0, "stride_s": 2.0},
}


def add_parser(sub):
    p = sub.add_parser(
        "demo",
        help="run the pipeline on built-in synthetic recordings",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("--out", default="neurokit-demo", help="output folder (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument(
        "--data",
        default=None,
        help="shared data folder to add its motor-imagery runs to the corpus "
        "(default: ../shared/data when it exists)",
    )
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    p.set_defaults(run=run)


def run(args) -> int:
    import warnings

    from ..corpus import Corpus, build_corpus
    from ..io import synthetic
    from ..preprocessing import Pipeline
    from ..viz import plot_sensor_layouts
    from .info import format_corpus, format_summary

    out = Path(args.out)
    (out / "recordings").mkdir(parents=True, exist_ok=True)
    recs = [synthetic(kind, duration_s=10.0, seed=args.seed) for kind in ("eeg", "meg", "seeg")]
    inputs = []
    for rec in recs:
        print(f"== synthetic {rec.meta['kind']}")
        print(format_summary(rec.summary()))
        path = out / "recordings" / f"sub-{rec.meta['kind']}_run-{args.seed:02d}_raw.fif"
        rec.raw.save(path, overwrite=True, verbose="error")
        inputs.append(path)
    fig = out / "sensor_layouts.png"
    plot_sensor_layouts(recs, fig, titles=["EEG", "MEG", "sEEG"])
    print(f"wrote {fig}")
    data = Path(args.data) if args.data else Path("../shared/data")
    if (data / "motor_imagery").is_dir():
        inputs.append(data / "motor_imagery")
        print(f"adding the motor-imagery runs of {data}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_corpus(inputs, Pipeline.from_dict(DEMO_RECIPE), out / "corpus", quiet=True)
    print("== corpus")
    print(format_corpus(Corpus(out / "corpus").info()))
    return 0
