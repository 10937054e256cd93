"""Preprocessing throughput: neurokit vs braindecode vs the floor (MNE read + np.save).

The same work on about one hour of 64-channel EDF (the shared PhysioNet motor-imagery runs,
copied until they reach the requested duration): read, pick EEG, resample to 200 Hz, band-pass
0.5-45 Hz, 60 Hz notch, average reference, 4 s windows, store. Single process. Prints one JSON
line per comparison: name, ours, peer, ratio (ours / peer), unit (recording-hours per minute).

    python benchmarks/preprocess.py [--hours 1.0] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

RECIPE = {
    "name": "bench_mi",
    "steps": [
        {"pick_types": {"types": ["eeg"]}},
        {"resample": {"sfreq": 200.0}},
        {"bandpass": {"l_freq": 0.5, "h_freq": 45.0}},
        {"notch": {"line_freq": 60.0}},
        {"rereference": {"kind": "average"}},
    ],
    "windows": {"length_s": 4.0, "stride_s": 4.0},
}
# The same work with resampling, band-pass and notch fused into one FFT pass per channel.
FUSED = {
    **RECIPE,
    "name": "bench_mi_fused",
    "steps": [
        {"pick_types": {"types": ["eeg"]}},
        {"resample_filter": {"sfreq": 200.0, "l_freq": 0.5, "h_freq": 45.0, "line_freq": 60.0}},
        {"rereference": {"kind": "average"}},
    ],
}


def make_inputs(data: Path, hours: float, folder: Path) -> list:
    runs = sorted((data / "motor_imagery").glob("*.edf"))
    if not runs:
        sys.exit(f"no EDF runs in {data / 'motor_imagery'}")
    import mne

    files, total = [], 0.0
    while total < hours * 3600:
        for run in runs:
            dst = folder / f"copy{len(files):03d}_{run.name}"
            shutil.copyfile(run, dst)
            files.append(dst)
            total += mne.io.read_raw_edf(run, verbose="error").duration
            if total >= hours * 3600:
                break
    return files, total / 3600


def run_neurokit(files, out, recipe=RECIPE) -> float:
    from neurokit.corpus import build_corpus
    from neurokit.preprocessing import Pipeline

    t0 = time.perf_counter()
    summary = build_corpus(files, Pipeline.from_dict(recipe), out, jobs=1, quiet=True)
    elapsed = time.perf_counter() - t0
    if summary["built"] != len(files):
        sys.exit(f"neurokit built {summary['built']} of {len(files)} recordings: {summary}")
    return elapsed


def run_neurokit_fused(files, out) -> float:
    return run_neurokit(files, out, FUSED)


def run_braindecode(files, out) -> float:
    import mne
    from braindecode.datasets import BaseConcatDataset, RawDataset
    from braindecode.preprocessing import Preprocessor, create_fixed_length_windows, preprocess

    t0 = time.perf_counter()
    ds = BaseConcatDataset(
        [
            RawDataset(
                mne.io.read_raw_edf(f, preload=True, verbose="error"), description={"file": f.name}
            )
            for f in files
        ]
    )
    preprocess(
        ds,
        [
            Preprocessor("pick_types", eeg=True),
            Preprocessor("resample", sfreq=200.0),
            Preprocessor("filter", l_freq=0.5, h_freq=45.0),
            Preprocessor("notch_filter", freqs=[60.0]),
            Preprocessor("set_eeg_reference", ref_channels="average"),
        ],
        n_jobs=1,
    )
    windows = create_fixed_length_windows(
        ds, window_size_samples=800, window_stride_samples=800, drop_last_window=True
    )
    windows.save(str(out), overwrite=True)
    return time.perf_counter() - t0


def run_floor(files, out) -> float:
    import mne

    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for i, f in enumerate(files):
        raw = mne.io.read_raw_edf(f, preload=True, verbose="error")
        np.save(out / f"{i}.npy", raw.get_data().astype(np.float32))
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument(
        "--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    parser.add_argument("--peak-memory-of", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--inputs", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.peak_memory_of:  # child process: run one method, report its peak RSS
        files = sorted(Path(args.inputs).glob("*.edf"))
        with tempfile.TemporaryDirectory() as tmp:
            METHODS[args.peak_memory_of](files, Path(tmp) / "out")
        # VmHWM (peak RSS of this address space): unlike ru_maxrss it does not inherit the
        # parent's peak across fork + exec
        status = Path("/proc/self/status").read_text().split("\n")
        print(int(next(x for x in status if x.startswith("VmHWM")).split()[1]) / 1024)  # MiB
        return
    import mne

    mne.set_log_level("ERROR")
    import braindecode.preprocessing  # noqa: F401  (imports paid before timing, for all)
    import scipy.signal  # noqa: F401

    import neurokit.corpus  # noqa: F401
    import neurokit.preprocessing.steps  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        files, hours = make_inputs(Path(args.data), args.hours, tmp / "in")
        print(f"{len(files)} EDF files, {hours:.3f} h of 64-channel EEG", file=sys.stderr)
        times = {}
        for name, fn in (
            ("floor", run_floor),
            ("neurokit", run_neurokit),
            ("neurokit_fused", run_neurokit_fused),
            ("braindecode", run_braindecode),
        ):
            times[name] = fn(files, tmp / name)
            print(f"{name}: {times[name]:.1f} s", file=sys.stderr)
        peak = {}
        for name in ("neurokit_fused", "braindecode"):
            child = subprocess.run(
                [sys.executable, __file__, "--peak-memory-of", name, "--inputs", str(tmp / "in")],
                capture_output=True,
                text=True,
                check=True,
            )
            peak[name] = float(child.stdout.split()[-1])
            print(f"{name}: peak RSS {peak[name]:.0f} MiB", file=sys.stderr)
    rate = {k: hours / (v / 60) for k, v in times.items()}
    for ours in ("neurokit", "neurokit_fused"):
        for peer in ("braindecode", "floor"):
            line = {
                "name": f"preprocess_{ours}_vs_{peer}",
                "ours": round(rate[ours], 3),
                "peer": round(rate[peer], 3),
                "ratio": round(rate[ours] / rate[peer], 3),
                "unit": "recording-hours/min",
            }
            print(json.dumps(line))
    print(
        json.dumps(
            {
                "name": "preprocess_peak_memory_vs_braindecode",
                "ours": round(peak["neurokit_fused"], 1),
                "peer": round(peak["braindecode"], 1),
                "ratio": round(peak["neurokit_fused"] / peak["braindecode"], 3),
                "unit": "MiB peak RSS (lower is better)",
            }
        )
    )


METHODS = {
    "neurokit_fused": lambda files, out: run_neurokit_fused(files, out),
    "braindecode": lambda files, out: run_braindecode(files, out),
}


if __name__ == "__main__":
    main()
