"""``neurokit demo``: synthesize EEG, MEG and sEEG, normalize, summarize, draw the sensors."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub):
    p = sub.add_parser(
        "demo",
        help="run the pipeline on built-in synthetic recordings",
        description="Synthesize EEG, MEG and sEEG recordings, normalize them, "
        "print their summaries and write a PNG of their sensor layouts.",
    )
    p.add_argument("--out", default="neurokit-demo", help="output folder (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from ..io import synthetic
    from ..viz import plot_sensor_layouts
    from .info import format_summary

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    recs = [synthetic(kind, duration_s=10.0, seed=args.seed) for kind in ("eeg", "meg", "seeg")]
    for rec in recs:
        print(f"== synthetic {rec.meta['kind']}")
        print(format_summary(rec.summary()))
    fig = out / "sensor_layouts.png"
    plot_sensor_layouts(recs, fig, titles=["EEG", "MEG", "sEEG"])
    print(f"wrote {fig}")
    return 0
