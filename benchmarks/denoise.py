"""Single-channel EEG denoising: AT-AT and TIGER against the EEGdenoiseNet networks.

Data. By default the semi-synthetic benchmark of :func:`neurokit.artifacts.
make_semisynthetic_benchmark` (``seed=--seed``): clean 2-s EEG epochs at 256 Hz from the shared
EEGMMIDB and SSVEP recordings, artifact epochs from the EOG / EMG / ECG channels of the shared
loader recordings cut every ``--artifact-stride-s`` (0.0625 s instead of the builder's 0.5 s:
the protocol makes as many pairs as there are artifact windows, so this also multiplies the
distinct clean EEG epochs used in training), every epoch z-scored. With ``--eegdenoisenet
FOLDER`` the official EEGdenoiseNet epochs at 256 Hz (:func:`neurokit.artifacts.
load_eegdenoisenet`; EMG too, so that every model keeps its 512-sample size) go through the
very same protocol afterwards (``--no-semisynthetic`` skips the semi-synthetic part).

Splits. :func:`neurokit.artifacts.make_splits` (EEGdenoiseNet protocol: 80/10/10 of the artifact
epochs, training pairs re-paired ``--combinations`` (10) times at SNRs uniform in [-7, 2] dB,
validation and test pairs mixed at each integer SNR -7..2 dB; "amplitude" SNR convention of the
reference), one split per artifact kind of ``--artifact`` (default ``eog,emg``: two tables, as
EEGdenoiseNet reports them). On the semi-synthetic data nothing leaks between splits:
``eeg_groups`` keep the EEG windows of one file and time (all channels) in one split, and the
artifact windows are grouped by time blocks of ``--block-s`` (4 s) of their recording, windows
crossing a block edge being dropped, so overlapping windows never reach two splits (whole
groups fill each held-out split and the surplus is dropped). The artifact pool is small: about
34 s of EOG (6 channels, 4 files) and 16 s of EMG (essentially one 14-s leg EMG channel); with
the defaults, seed 0, EOG gives 1670 / 240 / 230 train / validation / test pairs (167 distinct
training windows, 23 test windows, each at 10 SNRs) and EMG 330 / 100 / 100 (33 and 10): read
its numbers as a development check, not as a published result. ``mixed`` pools every artifact
kind (EOG, EMG and ECG; EOG and EMG on EEGdenoiseNet): the clean EEG is first divided into
disjoint parts (by group), one per kind, each kind is split as above and the splits are
concatenated; ``ecg`` is available alone too.

Budget. Every model gets the same training: :class:`neurokit.training.Trainer` (AdamW, lr
``--lr``, weight decay 0.01, linear warmup over 5 % of the steps then cosine decay to zero,
gradient clipping at norm 1), ``--steps`` optimizer steps of ``--batch-size`` pairs, seed
``--seed`` for the weights and the data order, ``--threads`` CPU threads. Each model trains with
its own training loss (MSE for the EEGdenoiseNet networks and TIGER; AT-AT: MSE + 0.1 (1 - CC) +
0.5 autoencoder MSE + 0.05 adversarial, its defaults, in joint mode: the discriminator shares
the step). The validation MSE is computed every ``steps / --n-evals`` steps and the weights
of the best evaluation are kept (the reference keeps the best validation MSE). Models are built
with their ``base`` presets (EEGdenoiseNet sizes at 512 samples; AT-AT and TIGER defaults);
``--atat-kwargs '{"d_model": 48}'`` changes AT-AT's hyperparameters (the budget stays the same).
The reference trains 50 epochs of RMSprop at lr 5e-5 (tens of thousands of steps): this CPU
budget is far smaller and favours models that learn fast.

Metrics on the test split (:func:`neurokit.artifacts.denoising_report`, standardized scale):
RRMSE in time and of the Welch PSD, and the correlation coefficient CC, per SNR and averaged
over SNRs; the noisy input is reported as a baseline. Also: trainable parameters at inference
(AT-AT without its discriminator); CPU real-time factor: seconds of 64-channel 256-Hz signal
denoised per second of compute, in eval mode under ``torch.inference_mode``, on one batch of
``64 x --rtf-windows`` windows of 2 s (fastest of ``--rtf-repeats`` runs after one warm-up, as
:mod:`timeit` advises on a shared machine),
``torch.set_num_threads(--threads)``; training seconds and the selected step. ``--rtf-only``
times the real-time factor alone (untrained ``base`` models; no data, no training) and prints
one JSON line per model.

Multi-channel table (skipped with ``--no-multichannel``). ICA + ICLabel and ASR work across
channels, which the single-channel protocol cannot rate, so they get a separate table on
:func:`neurokit.artifacts.multichannel.make_multichannel_benchmark` (``seed=--seed``): 60 s of
real low-artifact 64-channel EEGMMIDB EEG at 160 Hz plus the real EOG of the loader
recordings projected with a frontal spatial pattern, mixed at -6, -4, -2, 0 and 2 dB over the
whole array. Methods: :class:`neurokit.models.ICALabelCleaner` (extended infomax, ICLabel's
artifact classes at probability >= 0.8; in the recording's reference, and ``_avgref`` in the
average reference), :class:`neurokit.models.ASRCleaner` (cutoff 20, calibrated on the mixture
itself; ``_calibrated``: on the clean EEG, as a clean baseline recording would be used, with
cutoff 20 and 5), and AT-AT as trained above on the EOG split, applied channel by channel through
:class:`neurokit.models.Denoiser` (resampled to 256 Hz and back). The same metrics, on 2-s
windows of every channel (``per_snr`` over the mixing SNRs); most channels carry little EOG,
so the noisy baseline is already high there. One JSON line per method
``denoise_multichannel_<method>`` with ``seconds`` (all SNRs). The single-channel models are
not rated on it except AT-AT, and the classic methods are not in the single-channel tables.

Output: tables on stderr (every model, every SNR), and on stdout one JSON line per model
(``name`` ``denoise_<model>``, ``metrics`` per split, ``params``, ``realtime_factor``) and last
``{"name": "denoise", "ours": AT-AT mean CC, "peer": the best EEGdenoiseNet network's mean CC,
"ratio", "unit": "CC", "params_ratio": AT-AT / Novel CNN parameters, "realtime_factor": AT-AT's}``
where a mean CC is the CC averaged over SNRs and then over the splits (EEGdenoiseNet's when it
was given), and the peer is the network with the highest such mean.

Runtime with ``--threads 1`` on the shared two-core machine (load average about 5 while it
ran): the default run (two splits, seven models, 200 steps of 16 pairs) took 25 min, 60 % of it
the Novel CNN (33.6 M parameters, about 0.8 s per step on an idle core); ``--quick`` (20 steps
of 8 pairs, a smoke test whose numbers mean nothing) took 3.5 min. Timings, the real-time
factor included, move with the load of the machine. The multi-channel table adds about 2 min (the
last full run, on a lightly loaded machine, took 942 s in all).

    python benchmarks/denoise.py [--quick] [--artifact eog,emg|mixed] [--models atat,novel_cnn]
        [--steps 200] [--batch-size 16] [--threads 1] [--seed 0] [--eegdenoisenet FOLDER]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MODELS = ("fcnn", "simple_cnn", "complex_cnn", "rnn_lstm", "novel_cnn", "atat", "tiger_separator")
PEERS = ("fcnn", "simple_cnn", "complex_cnn", "rnn_lstm", "novel_cnn")  # EEGdenoiseNet networks
KINDS = ("eog", "emg", "ecg", "mixed")
BUDGETS = {
    "full": dict(steps=200, batch_size=16, n_evals=4, rtf_windows=4, rtf_repeats=5),
    "quick": dict(steps=20, batch_size=8, n_evals=2, rtf_windows=4, rtf_repeats=2),
}
METRICS = (("rrmse_temporal", "RRMSE_t"), ("rrmse_spectral", "RRMSE_s"), ("cc", "CC"))


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ data --


def _concat(splits: list):
    from neurokit.artifacts import Split

    fields = ("noisy", "clean", "artifact", "snr_db", "scale", "eeg_index", "noise_index")
    return Split(*(np.concatenate([getattr(s, f) for s in splits]) for f in fields))


def _eeg_parts(n_eeg: int, groups, n_parts: int, rng) -> list:
    """Disjoint index sets of the EEG epochs (whole groups), one per artifact kind."""
    labels = np.arange(n_eeg) if groups is None else np.unique(groups, return_inverse=True)[1]
    owner = rng.integers(0, n_parts, size=labels.max() + 1)[labels]
    return [np.flatnonzero(owner == k) for k in range(n_parts)]


def block_groups(provenance: list, block_s: float) -> tuple:
    """Rows of the windows lying inside one ``block_s``-long time block of their recording,
    and their group labels ``file@block``."""
    keep, labels = [], []
    for i, p in enumerate(provenance):
        block = math.floor(p["start_s"] / block_s + 1e-9)
        if p["stop_s"] <= (block + 1) * block_s + 1e-9:
            keep.append(i)
            labels.append(f"{p['file']}@{block}")
    return np.asarray(keep, dtype=np.int64), np.asarray(labels)


def make_task(bench, kind: str, *, seed: int, combinations: int, grouped: bool,
              block_s: float) -> dict:  # fmt: skip
    """``{"train", "validation", "test"}`` splits of one artifact kind (or ``"mixed"``)."""
    from neurokit.artifacts import make_splits

    def groups(k):
        return bench.groups(k) if grouped else None

    def one(k, eeg_index):
        noise, noise_groups = bench.noise(k), groups(k)
        if grouped:  # few, short artifact recordings: time blocks (see the docstring)
            rows, noise_groups = block_groups(bench.provenance[k], block_s)
            noise = noise[rows]
        eeg_groups = groups("eeg")
        return make_splits(
            bench.eeg[eeg_index],
            noise,
            seed=seed,
            n_train_combinations=combinations,
            eeg_groups=None if eeg_groups is None else eeg_groups[eeg_index],
            noise_groups=noise_groups,
        )

    if kind != "mixed":
        return one(kind, np.arange(len(bench.eeg)))
    kinds = bench.kinds()
    parts = _eeg_parts(len(bench.eeg), groups("eeg"), len(kinds), np.random.default_rng(seed))
    per_kind = [one(k, idx) for k, idx in zip(kinds, parts)]
    return {name: _concat([s[name] for s in per_kind]) for name in per_kind[0]}


# ------------------------------------------------------------------------------- models --


def build_model(name: str, n_times: int, sfreq: float, atat_kwargs: dict):
    from neurokit.models.denoise import DENOISERS

    cls = DENOISERS[name]
    extra = dict(atat_kwargs) if name == "atat" else {}
    return cls.from_preset("base", n_times=n_times, sfreq=sfreq, **extra)


def train(model, task: dict, args, out_dir: Path) -> dict:
    """Train with the shared budget, keep the weights of the best validation MSE."""
    from neurokit.artifacts.training import PairDataset
    from neurokit.training import TrainConfig, Trainer
    from neurokit.training.checkpoint import list_checkpoints, load_checkpoint

    every = max(1, math.ceil(args.steps / args.n_evals))
    config = TrainConfig(
        out_dir=str(out_dir),
        lr=args.lr,
        warmup_steps=max(1, args.steps // 20),
        max_steps=args.steps,
        batch_size=args.batch_size,
        log_every=every,
        eval_every=every,
        checkpoint_every=every,
        keep_checkpoints=0,
        seed=args.seed,
        device="cpu",
        progress=False,
        tensorboard=False,
        resume=False,
    )
    trainer = Trainer(
        model,
        PairDataset(task["train"]),
        config=config,
        eval_dataset=PairDataset(task["validation"]),
    )
    start = time.perf_counter()
    trainer.fit()
    seconds = time.perf_counter() - start
    best = min(trainer.eval_history, key=lambda r: r["mse"])
    path = dict(list_checkpoints(out_dir / "checkpoints"))[best["step"]]
    load_checkpoint(path, model)
    curve = [(r["step"], round(r["mse"], 4)) for r in trainer.eval_history]
    shutil.rmtree(out_dir, ignore_errors=True)
    return {"train_seconds": seconds, "selected_step": best["step"], "val_mse": curve}


@torch.inference_mode()
def realtime_factor(model, n_times: int, sfreq: float, windows: int, repeats: int) -> float:
    """Seconds of 64-channel signal denoised per second of compute (one batch of windows)."""
    model.eval()
    x = torch.randn(64 * windows, n_times, generator=torch.Generator().manual_seed(0))
    model(x)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - start)
    return windows * n_times / sfreq / min(times)  # the least disturbed run (timeit's rule)


def rtf_only(args) -> dict:
    """``--rtf-only``: the real-time factor of each model, built untrained with its ``base``
    preset at 512 samples and 256 Hz (the timing does not depend on the weights with AT-AT's
    default soft gating); one JSON line per model."""
    rows = {}
    for name in args.models:
        torch.manual_seed(args.seed)
        model = build_model(name, 512, 256.0, args.atat_kwargs)
        rtf = realtime_factor(model, 512, 256.0, args.rtf_windows, args.rtf_repeats)
        rows[name] = row = {
            "name": f"denoise_rtf_{name}", "ours": round(rtf, 1), "unit": "x real time",
            "params": int(model.n_parameters()), "threads": args.threads,
            "windows": 64 * args.rtf_windows, "repeats": args.rtf_repeats,
        }  # fmt: skip
        print(json.dumps(row), flush=True)
    return rows


def _windows(x: np.ndarray, size: int) -> np.ndarray:
    """``[c, t]`` -> ``[c * n, size]`` non-overlapping windows, channel-major."""
    n = x.shape[1] // size
    return x[:, : n * size].reshape(x.shape[0] * n, size)


def multichannel_table(args, atat) -> dict:
    """The multi-channel blink table (see the module docstring): ICA + ICLabel, ASR and, when
    it was trained on the EOG split, AT-AT applied channel by channel."""
    import mne

    from neurokit.artifacts import denoising_report
    from neurokit.artifacts.multichannel import make_multichannel_benchmark
    from neurokit.models import ASRCleaner, Denoiser, ICALabelCleaner

    start = time.perf_counter()
    bench = make_multichannel_benchmark(args.data, seed=args.seed)
    calibration = mne.io.RawArray(bench.clean, bench.info.copy(), verbose="error")
    methods = {
        "ica_iclabel": ICALabelCleaner(),
        "ica_iclabel_avgref": ICALabelCleaner(reference="average"),
        "asr": ASRCleaner(),
        "asr_calibrated": ASRCleaner(calibration=calibration),
        "asr_calibrated_c5": ASRCleaner(calibration=calibration, cutoff=5.0),
    }
    if atat is not None:
        methods["atat"] = Denoiser(atat)
    size = int(round(bench.provenance["window_s"] * bench.sfreq))
    clean = _windows(bench.clean, size)
    snrs = sorted(bench.noisy)
    n_per = len(clean)
    preds, seconds = {m: [] for m in methods}, dict.fromkeys(methods, 0.0)
    for snr in snrs:
        raw = bench.raw(snr)
        for name, method in methods.items():
            t0 = time.perf_counter()
            if isinstance(method, Denoiser):
                out = method.denoise_array(bench.noisy[snr], bench.sfreq)
            else:
                out = method.apply(raw).get_data()
            seconds[name] += time.perf_counter() - t0
            preds[name].append(_windows(out, size))
    snr_col = np.repeat(snrs, n_per)
    truth = np.concatenate([clean] * len(snrs))
    noisy = np.concatenate([_windows(bench.noisy[s], size) for s in snrs])
    reports, rows = {}, {}
    for name in methods:
        rep = denoising_report(truth, np.concatenate(preds[name]), snr_col, sfreq=bench.sfreq,
                               noisy=noisy)  # fmt: skip
        reports[name] = rep
        rows[name] = {**compact(rep), "seconds": round(seconds[name], 1)}
    label = (f"multichannel blinks: {bench.clean.shape[0]} ch, "
             f"{bench.clean.shape[1] / bench.sfreq:.0f} s, {bench.sfreq:g} Hz")  # fmt: skip
    print_tables(label, reports, next(iter(reports.values())))
    log(f"multi-channel table in {time.perf_counter() - start:.0f} s; method seconds {seconds}")
    return rows


# ------------------------------------------------------------------------------- report --


def print_tables(label: str, reports: dict, noisy: dict) -> None:
    snrs = [r["snr_db"] for r in noisy["per_snr"]]
    head = f"{'model':<16}" + "".join(f"{s:>7.0f}" for s in snrs) + f"{'mean':>8}"
    for key, title in METRICS:
        log(f"\n[{label}] {title} per SNR (dB); test split, {noisy['average']['n_windows']} pairs")
        log(head)
        rows = [("noisy input", noisy, f"noisy_{key}")] + [(m, r, key) for m, r in reports.items()]
        for name, rep, k in rows:
            cells = "".join(f"{row[k]:>7.3f}" for row in rep["per_snr"])
            log(f"{name:<16}{cells}{rep['average'][k]:>8.3f}")


def compact(report: dict) -> dict:
    keys = [k for k, _ in METRICS]
    return {
        "average": {k: round(report["average"][k], 4) for k in keys},
        "per_snr": {
            f"{row['snr_db']:g}": {k: round(row[k], 4) for k in keys} for row in report["per_snr"]
        },
    }


def run_dataset(source: str, bench, args, results: dict, tmp: Path, trained=None) -> list:
    """Train and evaluate every model on every split of ``bench``; fill ``results`` (and
    ``trained[label][model]`` with the trained models when a dict is given)."""
    from neurokit.artifacts import denoising_report
    from neurokit.artifacts.training import predict

    kinds = [k for k in args.artifact if k == "mixed" or k in bench.kinds()]
    if not kinds:
        raise SystemExit(f"{source} has none of the artifact kinds {args.artifact}")
    labels = []
    for kind in kinds:
        label = kind if source == "semisynthetic" else f"{source}_{kind}"
        labels.append(label)
        task = make_task(
            bench, kind, seed=args.seed, combinations=args.combinations,
            grouped=source == "semisynthetic", block_s=args.block_s,
        )  # fmt: skip
        sizes = {name: len(s) for name, s in task.items()}
        log(f"\n== {source} / {kind}: pairs {sizes}")
        test, reports = task["test"], {}
        for name in args.models:
            torch.manual_seed(args.seed)
            model = build_model(name, bench.n_times, bench.sfreq, args.atat_kwargs)
            info = train(model, task, args, tmp / f"{label}-{name}")
            pred = predict(model, test.noisy)
            rep = denoising_report(
                test.clean, pred, test.snr_db, sfreq=bench.sfreq, noisy=test.noisy
            )
            reports[name] = rep
            if trained is not None:
                trained.setdefault(label, {})[name] = model
            entry = results.setdefault(name, {"metrics": {}, "train": {}})
            entry["metrics"][label] = compact(rep)
            entry["train"][label] = {
                "seconds": round(info["train_seconds"], 1),
                "selected_step": info["selected_step"],
                "val_mse": info["val_mse"],
            }
            if "params" not in entry:
                entry["params"] = int(model.n_parameters())
                entry["realtime_factor"] = round(
                    realtime_factor(
                        model, bench.n_times, bench.sfreq, args.rtf_windows, args.rtf_repeats
                    ),
                    1,
                )  # fmt: skip
            avg = rep["average"]
            log(
                f"  {name:<16} CC {avg['cc']:.3f}  RRMSE_t {avg['rrmse_temporal']:.3f}  "
                f"RRMSE_s {avg['rrmse_spectral']:.3f}  train {info['train_seconds']:.0f} s  "
                f"best step {info['selected_step']}  val MSE {info['val_mse']}"
            )
        noisy_rep = next(iter(reports.values()))
        print_tables(label, reports, noisy_rep)
    return labels


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-test budget (3-4 min)")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated subset")
    parser.add_argument("--artifact", default="eog,emg", help="comma list of eog|emg|ecg|mixed")
    parser.add_argument("--steps", type=int, help="optimizer steps per model (200; quick 20)")
    parser.add_argument("--batch-size", type=int, help="pairs per step (16; quick 8)")
    parser.add_argument("--n-evals", type=int, help="validation passes per run (4; quick 2)")
    parser.add_argument("--lr", type=float, default=1e-3, help="AdamW peak learning rate")
    parser.add_argument("--combinations", type=int, default=10, help="training re-pairings")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=str(DATA), help="the shared data folder")
    parser.add_argument(
        "--artifact-stride-s", type=float, default=0.0625, help="artifact window step (s)"
    )
    parser.add_argument("--block-s", type=float, default=4.0, help="artifact split blocks (s)")
    parser.add_argument("--eegdenoisenet", help="folder of the official EEGdenoiseNet files")
    parser.add_argument("--no-semisynthetic", action="store_true", help="official data only")
    parser.add_argument("--atat-kwargs", default="{}", help="JSON dict of AT-AT hyperparameters")
    parser.add_argument("--rtf-windows", type=int, help="2-s windows per channel timed (4)")
    parser.add_argument("--rtf-repeats", type=int, help="timed repeats (5)")
    parser.add_argument(
        "--no-multichannel", action="store_true", help="skip the multi-channel blink table"
    )
    parser.add_argument(
        "--rtf-only", action="store_true",
        help="only the real-time factor of untrained base models (no data, no training)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    for key, value in BUDGETS["quick" if args.quick else "full"].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.artifact = [k.strip() for k in args.artifact.split(",") if k.strip()]
    args.atat_kwargs = json.loads(args.atat_kwargs)
    for name in args.models:
        if name not in MODELS:
            parser.error(f"--models: unknown {name!r}; choose from {', '.join(MODELS)}")
    for kind in args.artifact:
        if kind not in KINDS:
            parser.error(f"--artifact: unknown {kind!r}; choose from {', '.join(KINDS)}")
    if args.no_semisynthetic and not args.eegdenoisenet:
        parser.error("--no-semisynthetic needs --eegdenoisenet FOLDER")
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", message=".*find_unused_parameters.*")

    if args.rtf_only:
        return rtf_only(args)

    from neurokit.artifacts import load_eegdenoisenet, make_semisynthetic_benchmark

    start = time.perf_counter()
    sources = []
    if not args.no_semisynthetic:
        bench = make_semisynthetic_benchmark(
            args.data, seed=args.seed, artifact_stride_s=args.artifact_stride_s
        )
        log(f"semi-synthetic benchmark built in {time.perf_counter() - start:.0f} s: "
            f"{ {k: len(getattr(bench, k)) for k in ('eeg', *bench.kinds())} }")  # fmt: skip
        sources.append(("semisynthetic", bench))
    if args.eegdenoisenet:
        sources.append(("eegdenoisenet", load_eegdenoisenet(args.eegdenoisenet, sfreq=256)))
    results, labels, trained = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="neurokit-denoise-") as tmp:
        for source, bench in sources:
            labels[source] = run_dataset(source, bench, args, results, Path(tmp), trained)
    multichannel = None
    if not args.no_multichannel:
        multichannel = multichannel_table(args, trained.get("eog", {}).get("atat"))

    budget = {k: getattr(args, k) for k in ("steps", "batch_size", "lr", "combinations", "seed")}
    for name, entry in results.items():
        row = {"name": f"denoise_{name}", **entry, "threads": args.threads, "budget": budget}
        print(json.dumps(row), flush=True)
    for name, entry in (multichannel or {}).items():
        print(json.dumps({"name": f"denoise_multichannel_{name}", **entry}), flush=True)

    final_labels = labels.get("eegdenoisenet") or labels["semisynthetic"]

    def mean_cc(name):
        return float(np.mean([results[name]["metrics"][s]["average"]["cc"] for s in final_labels]))

    summary = {"name": "denoise", "unit": "CC", "splits": final_labels}
    peers = [m for m in PEERS if m in results]
    if "atat" in results:
        summary.update(ours=round(mean_cc("atat"), 4))
        summary["realtime_factor"] = results["atat"]["realtime_factor"]
    if peers:
        best = max(peers, key=mean_cc)
        summary.update(peer=round(mean_cc(best), 4), peer_model=best)
    if "ours" in summary and "peer" in summary:
        summary["ratio"] = round(summary["ours"] / summary["peer"], 4)
    if "atat" in results:  # the Novel CNN is built (not trained) when it was not run
        bench = sources[0][1]
        novel = results.get("novel_cnn", {}).get("params") or int(
            build_model("novel_cnn", bench.n_times, bench.sfreq, {}).n_parameters()
        )
        summary["params_ratio"] = round(results["atat"]["params"] / novel, 6)
    summary["seconds"] = round(time.perf_counter() - start, 1)
    log(f"\ntotal {summary['seconds']:.0f} s")
    print(json.dumps(summary), flush=True)
    return summary


if __name__ == "__main__":
    main()
