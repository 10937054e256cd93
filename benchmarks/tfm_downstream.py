"""SSVEP decoding: TFM tokens + masked-token encoder vs a braindecode raw-signal model.

Data: the shared SSVEP recordings (``shared/data/ssvep``, Kalunga et al. 2016: 8 occipital EEG
channels at 256 Hz, 5 s trials labelled rest / 13 / 17 / 21 Hz, 8 subjects), built into a
temporary corpus with the ``kalunga2016_ssvep`` recipe plus a ``resample: {sfreq: 200.0}`` step
and ``scale: {method: quantile, q: 0.95}`` per recording. Then, as the TFM-Tokenizer reference
data loaders do, every 5 s window (trial or unlabelled window) is divided channel by channel by
the 0.95 quantile of its own absolute values (``--scale recording`` skips this). Both models get
the same windows.

Split: subject-wise with :meth:`neurokit.corpus.Corpus.split`, fractions (0.75, 0, 0.25) (six
training subjects, two test subjects). Subjects 03 and 07 share one identical recording, so
they must be on the same side: the split seed is the first one from ``--seed`` (default 0) for
which they are; with the default that is seed 1: train 01 03 04 07 08 10, test 06 12. The
split is printed on stderr and checked.

Pipeline (all on the training subjects but the final scoring):

1. a tiny TFM-Tokenizer (``create_tokenizer("tfm", preset="tiny")``) trained with the neurokit
   Trainer on 5 s windows cut every 2.5 s from the whole training recordings (unlabelled,
   pauses included). The ``tiny`` preset standardizes each frequency bin of the spectrum and
   keeps its codebook in use (k-means start, dead-code replacement); ``--tokenizer reference``
   trains the same sizes with the reference's options instead, whose codebook collapses at
   this budget (see :mod:`neurokit.tokenizers.tfm`);
2. every window tokenized (``[8 channels, 9 tokens]`` per 5 s window); the codebook
   perplexity and the number of codes used on the trials, and the mean pairwise cosine of the
   latents before quantization, are printed on stderr and added to the first JSON line;
3. a :class:`neurokit.models.TFMTokenEncoder` (``tiny`` preset, token embedding copied from the
   tokenizer's codebook) pretrained by masked-token prediction on the unlabelled windows;
4. fine-tuned on the labelled training trials (4 classes, label smoothing 0.1), scored on the
   test trials.

Peer: ``braindecode.models.ShallowFBCSPNet`` (``--peer eegnet``: ``EEGNet``) on the same 5 s
trials of the same corpus (200 Hz, the same scaling), trained by the same Trainer for the same
number of supervised steps, batch size and learning rate as the fine-tuning. ShallowFBCSPNet is
the default because it was the stronger of the two here (EEGNet stayed near 0.33 accuracy at
this budget). Prints one JSON line per model (name, accuracy, balanced_accuracy, kappa,
f1_weighted, roc_auc, seconds of training) and a last line comparing the balanced accuracies
(ours / peer). Seeded; CPU only; ``--threads 1`` by default because these models are small and
a single thread is fastest on a busy two-core machine.

On an idle two-core machine the full run takes about 5 min, ``--quick`` about 1 min.

    python benchmarks/tfm_downstream.py [--quick] [--seed 0] [--threads 1] [--peer shallow|eegnet]
        [--tokenizer tiny|reference] [--scale window|recording]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ssvep"
PAIR = ("03", "07")  # subjects sharing a recording
FRACTIONS = (0.75, 0.0, 0.25)
#: the tiny sizes with the reference's training options (``--tokenizer reference``)
REFERENCE_OPTIONS = dict(spectrum_norm="none", kmeans_init=False, dead_code_threshold=0.0)
BUDGETS = {  # optimizer steps and batch sizes of each stage
    "full": dict(tok_steps=400, tok_batch=8, stride_s=2.5, mtp_steps=800, mtp_batch=64,
                 sup_steps=600, sup_batch=32),
    "quick": dict(tok_steps=40, tok_batch=8, stride_s=5.0, mtp_steps=40, mtp_batch=64,
                  sup_steps=60, sup_batch=32),
}  # fmt: skip


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def build(data: Path, out: Path, jobs: int):
    """The SSVEP corpus at 200 Hz with TFM's quantile scaling."""
    from neurokit.corpus import Corpus, build_corpus
    from neurokit.preprocessing import Pipeline

    recipe = Pipeline.from_recipe("kalunga2016_ssvep").to_dict()
    recipe["name"] = "kalunga2016_ssvep_tfm"
    recipe["steps"] = list(recipe["steps"]) + [
        {"resample": {"sfreq": 200.0}},
        {"scale": {"method": "quantile", "q": 0.95}},
    ]
    build_corpus([data], Pipeline.from_dict(recipe), out, quiet=True, jobs=jobs)
    return Corpus(out)


def split_seed(corpus, start: int) -> tuple[int, dict]:
    """The first seed from ``start`` whose subject-wise split keeps the pair together."""
    for seed in range(start, start + 1000):
        split = corpus.split(FRACTIONS, seed)
        subjects = {
            k: sorted({corpus.recordings[i]["subject"] for i in v}) for k, v in split.items()
        }
        sides = [k for k, v in subjects.items() if set(PAIR) & set(v)]
        if len(sides) == 1:
            return seed, subjects
    raise RuntimeError(f"no seed keeps subjects {PAIR} together")


def trainer_config(out_dir, steps, batch, seed, **kw):
    from neurokit.training import TrainConfig

    return TrainConfig(
        out_dir=str(out_dir), max_steps=steps, batch_size=batch, seed=seed, progress=False,
        tensorboard=False, device="cpu", checkpoint_every=0, keep_checkpoints=1,
        log_every=max(steps // 4, 1), warmup_steps=max(steps // 10, 1), **kw,
    )  # fmt: skip


def stack(dataset, batch=64):
    """All windows of a CorpusDataset: x [N, c, t] float32, labels [N] int64."""
    from neurokit.corpus import collate

    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, collate_fn=collate)
    xs, ys = zip(*[(b["x"].clone(), b["label"].clone()) for b in loader])
    return torch.cat(xs), torch.cat(ys)


def window_scale(x, q=0.95):
    """Each window ``[c, t]`` divided, channel by channel, by the ``q`` quantile of ``|x|``."""
    return x / (torch.quantile(x.abs(), q, dim=-1, keepdim=True) + 1e-8)


@torch.no_grad()
def code_stats(tok, codes, x, n_pairs=2000) -> dict:
    """Perplexity and number of the codes used, mean pairwise cosine of the latents."""
    counts = torch.bincount(codes.flatten(), minlength=tok.codebook_sizes[0]).double()
    probs = counts / counts.sum()
    perplexity = torch.exp(-(probs * probs.clamp_min(1e-12).log()).sum()).item()
    tok.eval()
    out = tok(x[:64])  # eval forward: one unmasked pass
    lat = torch.nn.functional.normalize(out.latents.reshape(-1, out.latents.shape[-1]), dim=-1)
    lat = lat[torch.randperm(len(lat), generator=torch.Generator().manual_seed(0))[:n_pairs]]
    cos = lat @ lat.T
    off = cos[~torch.eye(len(lat), dtype=torch.bool)]
    return {
        "tokenizer_perplexity": round(perplexity, 2),
        "codes_used": int((counts > 0).sum()),
        "latent_cosine": round(off.mean().item(), 3),
    }


@torch.no_grad()
def tokenize(tok, x, batch=64):
    tok.eval()
    return torch.cat([tok.encode(x[i : i + batch]).codes[:, :, 0] for i in range(0, len(x), batch)])


@torch.no_grad()
def predict(model, inputs, batch=128):
    model.eval()
    out = torch.cat([model(inputs[i : i + batch]) for i in range(0, len(inputs), batch)])
    return out.softmax(-1).numpy()


def supervised(model, inputs, labels, out_dir, budget, seed, smoothing=0.0, model_config=None):
    """Train ``model`` on ``(inputs, labels)`` with the neurokit Trainer; its seconds."""
    from neurokit.training import Trainer

    config = trainer_config(
        out_dir, budget["sup_steps"], budget["sup_batch"], seed, lr=1e-3, weight_decay=1e-5
    )

    def loss_fn(net, batch):
        x, y = batch
        logits = net(x)
        loss = F.cross_entropy(logits, y, label_smoothing=smoothing)
        return {"loss": loss, "accuracy": (logits.argmax(-1) == y).float().mean()}

    dataset = torch.utils.data.TensorDataset(inputs, labels)
    t0 = time.perf_counter()
    trainer = Trainer(model, dataset, config=config, loss_fn=loss_fn, model_config=model_config)
    history = trainer.fit()
    log(f"  last record: {history[-1]}")
    return time.perf_counter() - t0


def report(name, labels, probs, seconds, **extra) -> dict:
    from neurokit.metrics import classification_report

    row = {"name": name, **classification_report(labels.numpy(), probs.argmax(1), probs)}
    row["seconds"] = round(seconds, 1)
    row.update(extra)
    print(json.dumps(row), flush=True)
    return row


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short budgets (about 1-2 min)")
    parser.add_argument("--seed", type=int, default=0, help="first split seed; training seed")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--jobs", type=int, default=2, help="corpus build processes")
    parser.add_argument("--data", default=str(DATA), help="the shared SSVEP folder")
    parser.add_argument("--peer", choices=("shallow", "eegnet"), default="shallow")
    parser.add_argument(
        "--tokenizer", choices=("tiny", "reference"), default="tiny",
        help="tiny preset, or its sizes with the reference's options (collapses)",
    )  # fmt: skip
    parser.add_argument(
        "--scale", choices=("window", "recording"), default="window",
        help="quantile scaling per 5 s window (reference) or per recording only",
    )  # fmt: skip
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    from braindecode.models import EEGNet, ShallowFBCSPNet

    from neurokit.corpus import CorpusDataset
    from neurokit.models import TFMTokenEncoder
    from neurokit.tokenizers import create_tokenizer
    from neurokit.training import Trainer, make_config

    budget = BUDGETS["quick" if args.quick else "full"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="tfm_downstream_") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        corpus = build(Path(args.data), tmp / "corpus", args.jobs)
        seed, subjects = split_seed(corpus, args.seed)
        log(f"corpus built in {time.perf_counter() - t0:.0f} s; split seed {seed}: {subjects}")
        assert any(set(PAIR) <= set(v) for v in subjects.values())
        split = dict(fractions=FRACTIONS, seed=seed)
        x_train, y_train = stack(CorpusDataset(corpus, split="train", **split))
        x_test, y_test = stack(CorpusDataset(corpus, split="test", **split))
        unlabeled = CorpusDataset(
            corpus, window_s=5.0, stride_s=budget["stride_s"], split="train", **split
        )
        x_unlabeled, _ = stack(unlabeled)
        if args.scale == "window":
            x_train, x_test, x_unlabeled = map(window_scale, (x_train, x_test, x_unlabeled))
        log(f"trials: train {tuple(x_train.shape)}, test {tuple(x_test.shape)}; "
            f"unlabelled train windows {len(x_unlabeled)}")  # fmt: skip

        # 1. tokenizer
        t0 = time.perf_counter()
        options = REFERENCE_OPTIONS if args.tokenizer == "reference" else {}
        tok = create_tokenizer("tfm", preset="tiny", **options)
        config = trainer_config(
            tmp / "tok", budget["tok_steps"], budget["tok_batch"], args.seed,
            lr=1e-3, weight_decay=1e-5, betas=(0.9, 0.99),
        )  # fmt: skip
        history = Trainer(
            tok, torch.utils.data.TensorDataset(x_unlabeled), config=config,
            loss_fn=lambda m, b: m(b[0]).losses,
        ).fit()  # fmt: skip
        log(f"tokenizer: {time.perf_counter() - t0:.0f} s, last record {history[-1]}")

        # 2. tokens
        t0 = time.perf_counter()
        c_unlabeled = tokenize(tok, x_unlabeled)
        c_train, c_test = tokenize(tok, x_train), tokenize(tok, x_test)
        stats = code_stats(tok, torch.cat([c_train, c_test]), x_train)
        log(f"tokens {tuple(c_train.shape[1:])} per trial, {time.perf_counter() - t0:.0f} s; "
            f"on the trials: {stats}")  # fmt: skip

        # 3. masked-token pretraining, 4. fine-tuning
        t0 = time.perf_counter()
        torch.manual_seed(args.seed)
        enc = TFMTokenEncoder.from_tokenizer(tok, preset="tiny", n_outputs=4, n_chans=8,
                                             n_times=x_train.shape[-1])  # fmt: skip
        config = trainer_config(
            tmp / "mtp", budget["mtp_steps"], budget["mtp_batch"], args.seed,
            lr=1e-3, weight_decay=1e-5, betas=(0.9, 0.99),
        )  # fmt: skip
        history = Trainer(
            enc,
            torch.utils.data.TensorDataset(c_unlabeled),
            config=config,
            loss_fn=lambda m, b: {"loss": m.masked_token_loss(b[0])},
        ).fit()
        log(f"masked-token pretraining: last record {history[-1]}")
        seconds = time.perf_counter() - t0
        seconds += supervised(enc, c_train, y_train, tmp / "ft", budget, args.seed, 0.1)
        rows.append(report("tfm_tokens_encoder", y_test, predict(enc, c_test), seconds, **stats))

        # peer: a braindecode model on the raw trials
        torch.manual_seed(args.seed)
        peer_cls = {"shallow": ShallowFBCSPNet, "eegnet": EEGNet}[args.peer]
        peer = peer_cls(n_chans=x_train.shape[1], n_outputs=4, n_times=x_train.shape[-1],
                      sfreq=float(corpus.recordings[0]["sfreq"]))  # fmt: skip
        peer_config = make_config(  # its own get_config is braindecode's, not a checkpoint's
            "model", f"braindecode.{peer_cls.__name__}", sfreq=peer.sfreq, n_times=peer.n_times
        )
        seconds = supervised(
            peer, x_train, y_train, tmp / "peer", budget, args.seed, model_config=peer_config
        )
        rows.append(
            report(
                f"braindecode_{peer_cls.__name__.lower()}", y_test, predict(peer, x_test), seconds
            )
        )

    ours, other = rows[0]["balanced_accuracy"], rows[1]["balanced_accuracy"]
    final = {
        "name": "tfm_tokens_vs_braindecode",
        "ours": ours,
        "peer": other,
        "ratio": ours / other if other else None,
        "unit": "balanced accuracy",
    }
    print(json.dumps(final), flush=True)
    return rows + [final]


if __name__ == "__main__":
    main()
