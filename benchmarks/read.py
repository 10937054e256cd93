"""Windows per second through a torch DataLoader: neurokit's CorpusDataset against braindecode's
windows dataset and against a bare NumPy memory-map dataset (the floor), on the same data.

The corpus is built in a temporary folder from the PhysioNet motor-imagery EDF files of
``shared/data/motor_imagery`` (64 channels, 160 Hz, 4 s windows), or from synthetic 64-channel
recordings when that folder is absent. braindecode reads the same recordings loaded with
``preload=True`` and windowed by ``create_fixed_length_windows``.

Every configuration runs in a DataLoader with batch size 64 (random windows), with 0 and 2
worker processes (persistent, after one warm-up epoch), alternating ours and the peer. One JSON
line per configuration goes to
stdout: ``name``, ``ours``, ``peer``, ``ratio`` (ours / peer) and ``unit``; progress goes to
stderr.

Usage: ``python benchmarks/read.py [--quick]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "motor_imagery"
BATCH = 64
EPOCH_BATCHES = 24
WINDOW_S = 4.0


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def sources(tmp: Path) -> list:
    """EDF files of the motor-imagery folder, or six synthetic 64-channel FIF recordings."""
    files = sorted(DATA.glob("*.edf")) if DATA.is_dir() else []
    if files:
        return files
    import neurokit.io as nio

    log(f"{DATA} not found: using synthetic recordings")
    out = []
    for seed in range(6):
        rec = nio.synthetic("eeg", n_channels=63, duration_s=125.0, sfreq=160.0, seed=seed)
        path = tmp / f"synthetic{seed}_raw.fif"
        rec.raw.save(path, overwrite=True, verbose="error")
        out.append(path)
    return out


class MemmapWindows(torch.utils.data.Dataset):
    """The floor: windows sliced from ``.npy`` memory maps, opened once per process."""

    def __init__(self, paths, windows):
        self.paths, self.windows, self.maps = [str(p) for p in paths], windows, {}

    def __len__(self):
        return len(self.windows)

    def __getstate__(self):
        return {**self.__dict__, "maps": {}}

    def __getitem__(self, i):
        r, start, stop = self.windows[i]
        if r not in self.maps:
            self.maps[r] = np.load(self.paths[r], mmap_mode="r")
        return torch.from_numpy(np.array(self.maps[r][:, start:stop])), 0


def braindecode_windows(files):
    import mne
    from braindecode.datasets import BaseConcatDataset, RawDataset
    from braindecode.preprocessing import create_fixed_length_windows

    raws = []
    for f in files:
        raw = (
            mne.io.read_raw_edf(f, preload=True, verbose="error")
            if str(f).endswith(".edf")
            else mne.io.read_raw_fif(f, preload=True, verbose="error")
        )
        raws.append(RawDataset(raw, description={"source": str(f)}))
    size = int(round(WINDOW_S * raws[0].raw.info["sfreq"]))
    return create_fixed_length_windows(
        BaseConcatDataset(raws),
        window_size_samples=size,
        window_stride_samples=size,
        drop_last_window=True,
        n_jobs=1,
    )


def rate(dataset, workers, collate_fn, seconds, min_epochs=2):
    """Windows per second over whole epochs after one warm-up epoch.

    An epoch is ``EPOCH_BATCHES`` full batches of windows drawn at random (with replacement):
    the data holds only a few batches, and epochs that short would mostly time the restart of
    the loader's pipeline instead of the reading.
    """
    sampler = torch.utils.data.RandomSampler(
        dataset,
        replacement=True,
        num_samples=BATCH * EPOCH_BATCHES,
        generator=torch.Generator().manual_seed(0),
    )
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=BATCH,
        sampler=sampler,
        num_workers=workers,
        persistent_workers=workers > 0,
        collate_fn=collate_fn,
    )
    for _ in loader:  # warm-up: workers started, arrays mapped, pages cached
        pass
    n, epochs, t0 = 0, 0, time.perf_counter()
    while epochs < min_epochs or time.perf_counter() - t0 < seconds:
        for batch in loader:
            x = batch["x"] if isinstance(batch, dict) else batch[0]
            n += len(x)
        epochs += 1
    elapsed = time.perf_counter() - t0
    del loader
    return n / elapsed


def compare(name, ours, peer, workers, seconds, rounds):
    """Alternate ours and peer ``rounds`` times; report the medians."""
    a, b = [], []
    for _ in range(rounds):
        a.append(rate(ours[0], workers, ours[1], seconds))
        b.append(rate(peer[0], workers, peer[1], seconds))
    ours_rate, peer_rate = statistics.median(a), statistics.median(b)
    line = {
        "name": f"{name}_workers{workers}",
        "ours": round(ours_rate, 1),
        "peer": round(peer_rate, 1),
        "ratio": round(ours_rate / peer_rate, 3),
        "unit": "windows/s",
    }
    print(json.dumps(line), flush=True)
    log(f"done {line['name']}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings (about 1 min)")
    args = parser.parse_args(argv)
    seconds, rounds = (0.8, 1) if args.quick else (2.0, 3)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)

    from neurokit.corpus import CorpusDataset, build_corpus, collate, to_braindecode
    from neurokit.preprocessing import Pipeline

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = sources(tmp)
        recipe = {
            "name": "bench",
            "steps": [],
            "windows": {"length_s": WINDOW_S, "stride_s": WINDOW_S},
        }
        log(f"building a corpus from {len(files)} recordings")
        build_corpus(files, Pipeline.from_dict(recipe), tmp / "corpus", quiet=True, jobs=2)
        ours = CorpusDataset(tmp / "corpus")
        log(f"{len(ours)} windows of {ours.channel_counts.max()} channels at {ours.sfreq} Hz")
        corpus = ours.corpus
        bare = MemmapWindows(
            [corpus.root / r["array"] for r in corpus.recordings],
            [ours.window(i) for i in range(len(ours))],
        )
        log("loading the recordings for braindecode (preload=True)")
        peer = braindecode_windows(files)
        log(f"braindecode: {len(peer)} windows")
        adapter = to_braindecode(corpus)
        for workers in (0, 2):
            compare(
                "corpus_vs_braindecode", (ours, collate), (peer, None), workers, seconds, rounds
            )
            compare("corpus_vs_memmap", (ours, collate), (bare, None), workers, seconds, rounds)
            compare(  # the braindecode view of the corpus, read by braindecode's collate
                "to_braindecode_vs_braindecode",
                (adapter, None),
                (peer, None),
                workers,
                seconds,
                rounds,
            )


if __name__ == "__main__":
    main()
