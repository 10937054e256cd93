"""``neurokit demo``: the pipeline end to end on built-in synthetic recordings.

Synthesizes EEG, MEG and sEEG recordings, normalizes and summarizes them, draws their sensor
layouts, builds a small corpus from them (plus the shared motor-imagery runs when a
``shared/data`` folder is found or given), trains a tiny TFM tokenizer on it for a few steps,
writes its tokens into the corpus, prints the corpus summary (with codebook usage) and draws an
input vs reconstructed spectrogram and the codebook usage histogram.

Then BrainOmni end to end (``--skip-brainomni`` leaves it out): a 256-Hz EEG + MEG corpus with
BrainOmni's scaling, a tiny BrainTokenizer trained a few steps, its tokens, a micro BrainOmni
pretrained a few steps on them, and fine-tuning on a labelled set -- two SSVEP recordings
(two subjects) of the shared data through the ``kalunga2016_ssvep`` recipe when the shared
folder is found, synthetic labelled trials otherwise -- with a figure of the three loss curves.
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
        "--skip-brainomni",
        action="store_true",
        help="stop after the TFM part (no BrainTokenizer / BrainOmni run)",
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
    if not getattr(args, "skip_brainomni", False):
        run_brainomni(out / "brainomni", data=data, seed=args.seed)
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


BRAIN_STEPS = [
    {"pick_types": {"types": ["eeg", "mag", "grad"]}},
    {"scale": {"method": "brainomni", "window_s": 4.0}},
]
BRAIN_TOKENIZER = {
    "name": "demo_brain",
    "tokenizer": "brain",
    "preset": "tiny",
    "data": {"window_s": 4.0, "stride_s": 4.0, "picks": ["eeg", "mag", "grad"]},
    "train": {"max_steps": 6, "batch_size": 4, "lr": 2e-3, "betas": [0.5, 0.9],
              "grad_clip": None, "warmup_steps": 1, "checkpoint_every": 0, "log_every": 1,
              "tensorboard": False},
}  # fmt: skip
PRETRAIN = {
    "name": "demo_pretrain",
    "model": "brainomni",
    "preset": "micro",
    "train": {"max_steps": 12, "batch_size": 4, "lr": 2e-3, "warmup_steps": 2,
              "checkpoint_every": 0, "log_every": 1, "tensorboard": False},
}  # fmt: skip
FINETUNE = {
    "name": "demo_finetune",
    "model": "brainomni_classifier",
    "split": {"fractions": [0.5, 0.0, 0.5], "seed": 0},
    "train": {"max_steps": 12, "batch_size": 8, "lr": 1e-3, "warmup_steps": 2,
              "checkpoint_every": 0, "log_every": 1, "tensorboard": False},
}  # fmt: skip


def _labelled_corpus(out: Path, data: Path, seed: int) -> tuple:
    """``(corpus folder, description, split fractions)`` of the fine-tuning set."""
    import warnings

    from ..corpus import build_corpus
    from ..models.brainomni_pipeline import synthetic_labelled_recordings
    from ..preprocessing import Pipeline

    sessions = sorted((data / "ssvep").glob("subject*/*_raw.fif"))
    firsts = {}
    for path in sessions:  # the first session of the first two subjects
        firsts.setdefault(path.parent.name, path)
    if len(firsts) >= 2:
        inputs = [firsts[k] for k in sorted(firsts)[:2]]
        recipe = Pipeline.from_recipe("kalunga2016_ssvep").to_dict()
        recipe["steps"] = recipe["steps"] + [{"scale": {"method": "brainomni", "window_s": 5.0}}]
        what, fractions = f"shared SSVEP data ({', '.join(p.name for p in inputs)})", [0.5, 0, 0.5]
    else:
        inputs = synthetic_labelled_recordings(out / "labelled_recordings", n_subjects=3,
                                               n_trials=8, seed=seed)  # fmt: skip
        recipe = {"name": "demo_labelled", "steps": BRAIN_STEPS,
                  "windows": {"events": {"tmin_s": 0.0, "tmax_s": 4.0}}}  # fmt: skip
        what = (f"synthetic labelled trials ({len(inputs)} subjects; no SSVEP recordings "
                f"under {data / 'ssvep'})")  # fmt: skip
        fractions = [0.6, 0.0, 0.4]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_corpus(inputs, Pipeline.from_dict(recipe), out / "labelled", quiet=True)
    return out / "labelled", what, fractions


def run_brainomni(out, *, data=None, seed: int = 0) -> dict:
    """BrainTokenizer -> tokens -> BrainOmni pretraining -> fine-tuning, a few steps each, in
    ``out``; prints what it does and writes ``out/brainomni_losses.png``. Returns the
    fine-tuning result (see :func:`neurokit.models.brainomni_pipeline.finetune`)."""
    import warnings

    import torch

    from ..corpus import Corpus, build_corpus
    from ..io import synthetic
    from ..models.brainomni_pipeline import finetune, pretrain
    from ..preprocessing import Pipeline
    from ..tokenizers.pipeline import tokenize_corpus, train_tokenizer
    from .info import format_tokens

    out = Path(out)
    data = Path(data) if data else Path("../shared/data")
    (out / "recordings").mkdir(parents=True, exist_ok=True)
    for kind, n in (("eeg", 19), ("meg", 12)):
        rec = synthetic(kind, n_channels=n, duration_s=16.0, seed=seed)
        rec.raw.save(out / "recordings" / f"sub-{kind}_raw.fif", overwrite=True, verbose="error")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_corpus([out / "recordings"],
                     Pipeline.from_dict({"name": "demo_brainomni", "steps": BRAIN_STEPS,
                                         "windows": {"length_s": 4.0}}),
                     out / "corpus", quiet=True)  # fmt: skip
    torch.manual_seed(seed)
    steps = BRAIN_TOKENIZER["train"]["max_steps"]
    print(f"== BrainOmni: tiny BrainTokenizer, {steps} steps on 256-Hz EEG (19) + MEG (12)")
    model = train_tokenizer(BRAIN_TOKENIZER, out / "corpus", out / "tokenizer", progress=False)
    summary = tokenize_corpus(model, out / "corpus", progress=False)
    print("\n".join(format_tokens(Corpus(out / "corpus").info())))
    print(f"== BrainOmni micro: {PRETRAIN['train']['max_steps']} pretraining steps on "
          f"{summary['tokenizer']} tokens")  # fmt: skip
    pretrain(PRETRAIN, out / "corpus", out / "pretrain", progress=False)
    labelled, what, fractions = _labelled_corpus(out, data, seed)
    print(f"== fine-tuning on {what}")
    result = finetune({**FINETUNE, "split": {"fractions": fractions, "seed": 0}}, labelled,
                      out / "pretrain", out / "finetune", progress=False)  # fmt: skip
    test = result["test"]
    print(
        f"classes {result['classes']}, windows {result['n_windows']}; test subjects: "
        + ", ".join(f"{k} {v:.3f}" for k, v in test.items() if v is not None)
        + " (a few steps of each stage: expect chance level)"
    )
    fig = out / "brainomni_losses.png"
    _plot_losses({"BrainTokenizer": out / "tokenizer", "BrainOmni pretraining": out / "pretrain",
                  "fine-tuning": out / "finetune"}, fig)  # fmt: skip
    print(f"wrote {fig}")
    return result


def _plot_losses(runs: dict, fname) -> None:
    """One panel per run: the training loss per step (from its ``metrics.csv``)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ..training.logger import read_metrics

    fig, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.2))
    for ax, (title, run) in zip(axes, runs.items()):
        steps, values = zip(*read_metrics(Path(run) / "metrics.csv")["train/loss"])
        ax.plot(steps, values, marker="o", markersize=3)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylabel("training loss")
    fig.tight_layout()
    fig.savefig(fname, dpi=100)
    plt.close(fig)
