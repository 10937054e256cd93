"""``neurokit demo``: the pipeline end to end on built-in synthetic recordings.

Synthesizes EEG, MEG and sEEG recordings, normalizes and summarizes them, draws their sensor
layouts, builds a small corpus from them (plus the shared motor-imagery runs when a
``shared/data`` folder is found or given), trains a tiny TFM tokenizer on it for a few steps,
writes its tokens into the corpus, prints the corpus summary (with codebook usage) and draws an
input vs reconstructed spectrogram and the codebook usage histogram.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEMO_RECIPE = {
    "name": "demo",
    "description": "Demo: data channels, 0.5-75 Hz at 200 Hz, 95th-percentile scaling per 4 s "
    "window (TFM-Tokenizer's input), 4 s windows.",
    "steps": [
        {"pick_types": {"types": ["eeg", "seeg", "ecog", "mag", "grad"]}},
        {"resample_filter": {"sfreq": 200.0, "l_freq": 0.5, "h_freq": 75.0}},
        {"scale": {"method": "quantile", "q": 0.95, "window_s": 4.0}},
    ],
    "windows": {"length_s": 4.0, "stride_s": 4.0},
}
TOKENIZER_RECIPE = {
    "name": "demo_tfm",
    "tokenizer": "tfm",
    "preset": "tiny",
    "data": {"window_s": 4.0, "stride_s": 4.0},
    "train": {
        "max_steps": 10,
        "batch_size": 4,
        "lr": 1e-3,
        "warmup_steps": 2,
        "checkpoint_every": 0,
        "log_every": 5,
        "tensorboard": False,
    },
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
    recs = [synthetic(kind, duration_s=20.0, seed=args.seed) for kind in ("eeg", "meg", "seeg")]
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
    _tokens(out)
    print("== corpus")
    print(format_corpus(Corpus(out / "corpus").info()))
    return 0


def _tokens(out: Path) -> None:
    """Train the tiny TFM tokenizer a few steps, tokenize the corpus, draw the figure."""
    import numpy as np
    import torch

    from ..corpus import Corpus, CorpusDataset
    from ..tokenizers import Tokenizer
    from ..tokenizers.pipeline import tokenize_corpus, train_tokenizer
    from ..viz import plot_tokens

    torch.manual_seed(0)
    print("== tokenizer: tiny TFM-Tokenizer, 10 training steps")
    model = train_tokenizer(TOKENIZER_RECIPE, out / "corpus", out / "tokenizer", progress=False)
    summary = tokenize_corpus(model, out / "corpus", progress=False)
    print(f"tokenized {summary['recordings']} recordings with {summary['tokenizer']}")
    tok = Tokenizer.from_pretrained(model).eval()
    item = CorpusDataset(out / "corpus", window_s=4.0)[0]
    x = item["x"][None, :1]
    with torch.no_grad():
        spectrum = tok.stft(x[0])[0]
        recon = tok.decode(tok.encode(x))[0, 0]
    corpus = Corpus(out / "corpus")
    stats = corpus.token_sets[-1]
    counts = np.zeros(stats["codebook_sizes"][0], dtype=np.int64)
    for row in stats["rows"]:
        codes = np.load(out / "corpus" / row["array"])
        counts += np.bincount(codes[:, :, 0].ravel(), minlength=len(counts))[: len(counts)]
    fig = out / "tokens.png"
    plot_tokens(
        spectrum.numpy(),
        recon.numpy(),
        counts,
        fig,
        frame_rate=tok.frame_rate,
        fmax_hz=tok.config["fmax_hz"],
        title="TFM (tiny)",
    )
    print(f"wrote {fig}")
