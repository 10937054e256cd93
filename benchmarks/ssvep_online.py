"""Online SSVEP decoding: latency of each decision of neurokit's streaming decoder.

Data: the shared SSVEP recordings (``shared/data/ssvep``, Kalunga et al. 2016; 8 channels,
256 Hz, 13/17/21 Hz stimuli; the rest trials are left out), loaded with
:func:`neurokit.decoding.datasets.load_kalunga2016`. For every subject the first session's
stimulus trials train the decoder and the other sessions are streamed to it in chunks of
``--chunk-s`` seconds (default 1/16 s, a typical amplifier block), trial by trial, as an online
system would receive them.

Measured, per decision: the wall-clock time spent inside ``push`` on the chunk that produced
the decision (scoring included; the time the signal itself takes to arrive is not), median and
95th percentile; with dynamic stopping (``--threshold``, default 0.9) also the mean decision
window and the accuracy. Decoders: FBCCA (training-free) and ensemble TRCA (one fit per
decision point), decision points every 0.25 s from 0.5 to 2 s.

Peer: MOABB's ``SSVEP_CCA`` scoring the same 2-s windows one at a time (``predict`` on a
one-trial ``mne.EpochsArray``, the way an online loop would call it), run in the same process
when MOABB imports (``peer: null`` otherwise; it does in the benchmark environment of
``benchmarks/ssvep.py``). The last JSON line compares it with neurokit's CCA (3 harmonics, as
MOABB's default) streamed to a decision at 2 s without dynamic stopping, ratio = peer / ours
(> 1: ours is faster).

Prints JSON lines only (details on stderr). About 1 min on a two-core machine.

    python benchmarks/ssvep_online.py [--data ../shared/data/ssvep] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

import numpy as np

from neurokit.decoding import CCA, ETRCA, FBCCA
from neurokit.decoding.datasets import load_kalunga2016
from neurokit.decoding.online import StreamingDecoder


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def stream(decoder, trials, labels, chunk):
    latencies, windows, hits = [], [], []
    for trial, label in zip(trials, labels):
        decoder.start_trial()
        for start in range(0, trial.shape[1], chunk):
            t0 = time.perf_counter()
            decision = decoder.push(trial[:, start : start + chunk])
            spent = time.perf_counter() - t0
            if decision is not None:
                latencies.append(spent)
                windows.append(decision.window_s)
                hits.append(decision.label == label)
                break
    return np.array(latencies), np.array(windows), np.array(hits)


def moabb_latency(train_X, train_y, trials, sfreq, freqs_by_label, n_harmonics):
    try:
        import mne
        from moabb.pipelines.classification import SSVEP_CCA
    except ImportError as err:
        log(f"peer unavailable: {err}")
        return None
    names = {lab: f"{f:g}" for lab, f in freqs_by_label.items()}
    info = mne.create_info(train_X.shape[1], sfreq, "eeg", verbose=False)
    event_id = {names[lab]: int(lab) for lab in names}

    def epochs(X, y):
        events = np.column_stack([np.arange(len(X)), np.zeros(len(X), int), np.asarray(y)])
        return mne.EpochsArray(
            X, info, events, event_id=event_id, on_missing="ignore", verbose=False
        )

    clf = SSVEP_CCA(n_harmonics=n_harmonics, freq_map=None)
    ytr = [names[v] for v in train_y]
    clf.fit(epochs(train_X, train_y), ytr)
    lat = []
    for x in trials:
        one = epochs(x[None], [next(iter(freqs_by_label))])
        t0 = time.perf_counter()
        clf.predict(one)
        lat.append(time.perf_counter() - t0)
    return np.array(lat)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data/ssvep")
    p.add_argument("--chunk-s", type=float, default=1 / 16)
    p.add_argument("--threshold", type=float, default=0.9)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    except ImportError:
        pass
    warnings.simplefilter("ignore")
    data = load_kalunga2016(args.data)
    stim = np.isfinite(data.freqs)
    keep = stim[data.y]
    data = data.subset(keep).crop(2.0)
    labels = np.flatnonzero(stim)
    freqs = data.freqs[labels]
    sfreq = data.sfreq
    chunk = max(1, int(round(args.chunk_s * sfreq)))
    train_mask = np.zeros(len(data.y), bool)
    for s in np.unique(data.subject):
        first = data.session[data.subject == s].min()
        train_mask |= (data.subject == s) & (data.session == first)
    test_mask = ~train_mask & np.isin(
        data.subject, np.unique(data.subject[data.session > 0]) if data.session is not None else []
    )
    log(f"{train_mask.sum()} training trials, {test_mask.sum()} streamed trials, chunk {chunk}")
    results = {}
    fixed = None
    for name, est in (
        ("fbcca", FBCCA(list(freqs), sfreq=sfreq, n_bands=5, classes=list(labels))),
        ("etrca", ETRCA(sfreq=sfreq)),
    ):
        lat_all, win_all, hit_all, lat_fix = [], [], [], []
        for s in np.unique(data.subject[test_mask]):
            tr = train_mask & (data.subject == s)
            te = test_mask & (data.subject == s)
            dyn = StreamingDecoder(
                est, sfreq=sfreq, min_window_s=0.5, step_s=0.25, max_window_s=2.0,
                threshold=args.threshold,
            ).fit(data.X[tr], data.y[tr])  # fmt: skip
            lat, win, hit = stream(dyn, data.X[te], data.y[te], chunk)
            lat_all.append(lat)
            win_all.append(win)
            hit_all.append(hit)
            if name == "fbcca":
                cca = CCA(list(freqs), sfreq=sfreq, n_harmonics=3, classes=list(labels))
                one = StreamingDecoder(cca, sfreq=sfreq, max_window_s=2.0).fit(None)
                lat_fix.append(stream(one, data.X[te], data.y[te], chunk)[0])
        lat, win, hit = map(np.concatenate, (lat_all, win_all, hit_all))
        results[name] = (lat, win, hit)
        log(
            f"{name}: decision latency median {np.median(lat) * 1e3:.2f} ms, p95 "
            f"{np.percentile(lat, 95) * 1e3:.2f} ms; mean window {win.mean():.2f} s; "
            f"accuracy {hit.mean():.3f} (dynamic stopping at {args.threshold})"
        )
        print(
            json.dumps(
                {
                    "name": f"ssvep_online_{name}_latency",
                    "ours": round(float(np.median(lat)) * 1e3, 4),
                    "peer": None,
                    "ratio": None,
                    "unit": "ms/decision",
                    "p95_ms": round(float(np.percentile(lat, 95)) * 1e3, 4),
                    "mean_window_s": round(float(win.mean()), 3),
                    "accuracy": round(float(hit.mean()), 4),
                }
            )
        )
        if lat_fix:
            fixed = np.concatenate(lat_fix)
    te = test_mask
    first = {s: train_mask & (data.subject == s) for s in np.unique(data.subject[te])}
    peer = []
    for s, tr in first.items():
        out = moabb_latency(
            data.X[tr], data.y[tr], data.X[te & (data.subject == s)], sfreq,
            dict(zip(labels.tolist(), freqs.tolist())), 3,
        )  # fmt: skip
        if out is None:
            peer = None
            break
        peer.append(out)
    ours = float(np.median(fixed)) * 1e3
    peer_ms = None if peer is None else float(np.median(np.concatenate(peer))) * 1e3
    log(f"CCA fixed 2 s: {ours:.2f} ms/decision; MOABB SSVEP_CCA: {peer_ms} ms/decision")
    print(
        json.dumps(
            {
                "name": "ssvep_online_decision_latency",
                "ours": round(ours, 4),
                "peer": None if peer_ms is None else round(peer_ms, 4),
                "ratio": None if peer_ms is None else round(peer_ms / ours, 3),
                "unit": "ms/decision",
            }
        )
    )


if __name__ == "__main__":
    main()
