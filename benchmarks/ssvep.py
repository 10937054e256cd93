"""SSVEP decoders: neurokit against MOABB, MetaBCI, meegkit and pyriemann, side by side.

What. For each SSVEP method, accuracy and fit + predict wall time of the neurokit estimator and
of the same method in each peer library, on the same folds and the same input arrays, in one
process, interleaved fold by fold (the order of the two sides alternates every fold) so that
the load of the shared machine hits both alike.

Data and protocol. The shared Kalunga et al. (2016) recordings
(:func:`neurokit.decoding.datasets.load_kalunga2016`, 8 subjects, 22 distinct sessions, 256 Hz,
8 occipito-parietal channels, ``X`` in volts). Only the three stimulus classes 13, 17 and 21 Hz
are used (8 trials each per session; the rest class is dropped because the training-free peers
cannot predict it). Windows: ``--window`` seconds (2 s) from the stimulus onset (no latency
shift: the LEDs are not phase coded). Protocol: within-session stratified 4-fold
cross-validation (:func:`neurokit.decoding.evaluation.protocol_splits`, ``random_state=0``):
18 training and 6 test trials per fold, 88 folds, 528 test trials in all. Accuracy is pooled
over all test trials. Time is the sum over folds of fit + predict (estimator construction
included); building each side's input (slicing, the ``mne.Epochs`` MOABB requires, meegkit's
``(n_times, n_channels, n_trials)`` layout, MetaBCI's reference signals) is done before the
clock starts. One untimed warm-up fold per pair comes first. BLAS and OpenMP run on one thread
(``OMP_NUM_THREADS`` etc. default to 1 here) and every peer runs with ``n_jobs`` unset (serial).

Caveat: in this data set the LEDs flicker continuously, so the SSVEP phase is not locked to the
trial onset (inter-trial phase coherence at the stimulus frequency on Oz: 0.31, the value of
random phases for 8 trials). Class-mean templates then average the response away, and every
template method (TRCA, eTRCA, MsetCCA, and the template part of TDCA), in every library, is
near chance (1/3); accuracy differences between libraries there are noise. ``--phase-locked
AMP`` is a secondary check for those methods: the same trials plus a synthetic SSVEP locked to
the onset (fixed phase per class and harmonic, 3 harmonics of amplitudes 1, 0.5, 0.25, a
random per-session spatial pattern in [0.5, 1] times each channel's standard deviation, times
AMP; 0.2 gives mid-range accuracies), JSON names suffixed ``_phaselocked``.

Units. Every side gets ``X`` in volts. MetaBCI, meegkit and the pyriemann pipeline were checked
to give identical accuracy on microvolts (``X * 1e6``) on subject 1, so no side is rescaled.

Pairs (neurokit configuration | peer configuration; peers at their defaults unless stated):

- ``cca``: ``CCA(n_harmonics=3)`` | MOABB ``SSVEP_CCA(n_harmonics=3, freq_map=...)`` (MNE
  Epochs, labels "13"/"17"/"21") and MetaBCI ``SCCA(n_components=1)`` with references
  ``sin/cos(2 pi h f n / sfreq)``, h = 1..3.
- ``fbcca``: ``FBCCA(n_harmonics=5, n_bands=5)`` | MetaBCI ``FBSCCA`` with the same Chen et al.
  (2015) bank (``generate_filterbank``: pass ``[8m, 88]``, stop ``[8m - 2, 98]`` Hz, m = 1..5),
  weights ``m**-1.25 + 0.25`` and 5-harmonic references (MetaBCI sums weighted correlations,
  neurokit weighted squared correlations, as Chen et al.).
- ``trca`` / ``etrca``: ``TRCA(ensemble=False / True)`` | MetaBCI ``TRCA(ensemble=False / True)``
  (no filter bank on either side).
- ``fbtrca`` / ``fbetrca``: ``TRCA(n_bands=3, ensemble=False / True)`` (Chen et al. bank,
  3 bands) | meegkit ``TRCA(sfreq, filterbank=[[(8m, 88), (8m - 2, 98)] for m = 1..3],
  ensemble=False / True)``; for ``fbetrca`` also MOABB ``SSVEP_TRCA(n_fbands=3)`` (its default
  ensemble, its own filter bank; 3 bands is both its SSVEP-exoskeleton example setting and its
  maximum with 3 stimulus frequencies). MOABB always uses a filter bank, so it has no plain
  TRCA to compare with. MOABB 1.7's ``SSVEP_TRCA`` ("original" method) removes the mean over
  channels, not over time, from each trial of a pair before the inter-trial covariance
  (``x1 -= np.mean(x1, 0)`` on a ``(n_channels, n_times)`` trial, in place); with a
  phase-locked SSVEP (``--phase-locked 0.2``) it reaches 0.51 where neurokit and meegkit
  reach 0.90.
- ``msetcca``: ``MsetCCA(n_components=1)`` | MOABB ``SSVEP_MsetCCA(n_filters=1)``, and
  ``MsetCCA(n_components=8)`` | MetaBCI ``MsetCCA(method="msetcca1")`` (Zhang et al. 2014),
  which always keeps all ``n_channels`` MAXVAR components in its reference (its
  ``n_components`` only picks canonical pairs). MetaBCI's default ``"msetcca2"`` is a different
  method (template CCA features fed to an SVM) and is not compared. MOABB 1.7's
  ``SSVEP_MsetCCA`` stacks the whitened trials channel-major (``transpose(1, 0, 2)``: row
  ``c * n_trials + i`` is channel ``c`` of trial ``i``) but masks and reshapes them
  trial-major (``kron(eye(n_trials), ones(c, c))``, ``W.reshape(n_trials, c, ...)``), so its
  "within-trial" blocks mix channels of different trials: it is not the MAXVAR problem of
  Zhang et al., and its accuracy need not match a correct MsetCCA.
- ``tdca``: ``TDCA(n_harmonics=5, n_delays=5, n_components=8)`` (8 is capped to
  ``n_classes - 1 = 2``) | MetaBCI ``TDCA(padding_len=5, n_components=2)`` with 5-harmonic
  references. MetaBCI needs ``padding_len`` samples after the window in both fit and predict,
  so it receives the same trials cropped ``5 / sfreq`` s longer (the first ``n_times`` samples
  are the neurokit input; at predict MetaBCI does not use the extra samples).
- ``riemann``: ``SSVEPRiemann()`` (its defaults) | the MOABB/pyriemann SSVEP pipeline on the
  trials: MNE IIR band-pass ``f +- 0.5`` Hz per stimulus frequency (MOABB ``FilterBankSSVEP``
  default bands, ``method="iir"``: 4th-order Butterworth, zero phase), stacked into an
  extended signal, ``Covariances("lwf") -> TangentSpace() -> LogisticRegression()``. MOABB
  filters the continuous recording before epoching; here both sides see the same trial arrays.

Output. A table on stderr; on stdout one JSON line per (method, peer)::

    {"name": "ssvep_<method>_vs_<peer>", "ours": s, "peer": s, "ratio": peer / ours,
     "unit": "s", "accuracy_ours": ..., "accuracy_peer": ..., "accuracy_diff_pp": ...}

``accuracy_diff_pp`` is ours minus peer in percentage points; ``accuracy_diff_p`` is the
two-sided p-value of an exact McNemar test on the paired per-trial outcomes (same test
trials on both sides; :func:`mcnemar`), which tells a real accuracy gap from fold noise:
on the free-running flicker, where the template methods are at chance, gaps of 1-2 pp have
p far above 0.05. A peer that does not import or
fails gets ``"peer": null`` (and ``ratio``/``accuracy_peer`` null), with the reason on stderr.

Run in an environment with the peers (``pip install -e ".[bench]"``; about 80 s on a quiet
two-core machine, several minutes under load; ``--quick``, subject 12 only, 3 sessions, well
under a minute)::

    python benchmarks/ssvep.py [--quick] [--window 2.0] [--phase-locked 0.2]
        [--methods cca,fbcca,...] [--peers moabb,metabci,meegkit,pyriemann]
        [--data ../shared/data/ssvep]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from neurokit.decoding import cca, riemann, trca  # noqa: E402
from neurokit.decoding._base import sine_cosine_reference  # noqa: E402
from neurokit.decoding.datasets import load_kalunga2016  # noqa: E402
from neurokit.decoding.evaluation import protocol_splits  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FREQS = [13.0, 17.0, 21.0]
CLASS_NAMES = np.array(["13", "17", "21"])
FB_BANDS = 3  # filter-bank TRCA sub-bands (MOABB allows at most n_classes)
TDCA_DELAYS = 5
PAIRS = [  # (method, peer), in the order of the report
    ("cca", "moabb"),
    ("cca", "metabci"),
    ("fbcca", "metabci"),
    ("trca", "metabci"),
    ("etrca", "metabci"),
    ("fbtrca", "meegkit"),
    ("fbetrca", "meegkit"),
    ("fbetrca", "moabb"),
    ("msetcca", "moabb"),
    ("msetcca", "metabci"),
    ("tdca", "metabci"),
    ("riemann", "pyriemann"),
]


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


class Inputs:
    """Every side's view of the same trials, built once, outside the timed region."""

    def __init__(self, data, window_s: float, phase_locked: float = 0.0):
        stim = np.isfinite(data.freqs[data.y])
        data = data.subset(stim)
        if [float(f) for f in data.freqs[1:]] != FREQS:
            raise SystemExit(f"unexpected stimulus frequencies {data.freqs}")
        win = data.crop(window_s, latency=False)
        self.data = win
        self.sfreq = float(win.sfreq)
        self.y = win.y - 1  # 0, 1, 2 for 13, 17, 21 Hz
        self.X_pad = data.crop(window_s + TDCA_DELAYS / self.sfreq, latency=False).X
        n_times = win.X.shape[2]
        if phase_locked:
            session = win.subject * 100 + win.session
            self.X_pad = _add_phase_locked(self.X_pad, self.y, session, self.sfreq, phase_locked)
        self.X = np.ascontiguousarray(self.X_pad[..., :n_times])  # (n, c, t) volts
        self.Yf3 = sine_cosine_reference(FREQS, self.sfreq, n_times, 3)
        self.Yf5 = sine_cosine_reference(FREQS, self.sfreq, n_times, 5)
        self._epochs = None

    def epochs(self):
        if self._epochs is None:
            import mne

            info = mne.create_info(self.X.shape[1], self.sfreq, "eeg")
            n = len(self.y)
            events = np.c_[np.arange(n) * 10 * self.X.shape[2], np.zeros(n, int), self.y + 1]
            event_id = {name: i + 1 for i, name in enumerate(CLASS_NAMES)}
            self._epochs = mne.EpochsArray(self.X, info, events, event_id=event_id, verbose=False)
        return self._epochs


def _add_phase_locked(X, y, session, sfreq: float, amplitude: float, seed: int = 0):
    """``X`` plus a phase-locked SSVEP (fixed phase per class and harmonic from the onset).

    Waveform ``sum_h 0.5**(h-1) sin(2 pi h f t + phi)``, h = 1..3; per session, a spatial
    pattern drawn in [0.5, 1] times each channel's standard deviation, times ``amplitude``.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(X.shape[2]) / sfreq
    phi = rng.uniform(0.0, 2.0 * np.pi, (len(FREQS), 3))
    waves = np.stack(
        [
            sum(0.5**h * np.sin(2 * np.pi * (h + 1) * f * t + phi[k, h]) for h in range(3))
            for k, f in enumerate(FREQS)
        ]
    )
    out = X.copy()
    for key in np.unique(session):
        m = session == key
        pattern = rng.uniform(0.5, 1.0, X.shape[1]) * X[m].std(axis=(0, 2))
        out[m] += amplitude * pattern[None, :, None] * waves[y[m]][:, None, :]
    return out


def _chen_bank(n_bands: int):
    return [(8.0 * m, 88.0) for m in range(1, n_bands + 1)], [
        (8.0 * m - 2.0, 98.0) for m in range(1, n_bands + 1)
    ]


# ------------------------------------------------------------------ the neurokit side
def ours(method: str, inp: Inputs, peer: str):
    """``prepare(train, test) -> run() -> predicted class indices`` for neurokit ``method``."""
    sf, labels = inp.sfreq, [0, 1, 2]
    # MetaBCI's "msetcca1" always keeps all n_channels MAXVAR components in its reference
    mset_comp = inp.X.shape[1] if peer == "metabci" else 1
    make = {
        "cca": lambda: cca.CCA(FREQS, sfreq=sf, n_harmonics=3, classes=labels),
        "fbcca": lambda: cca.FBCCA(FREQS, sfreq=sf, n_harmonics=5, n_bands=5, classes=labels),
        "trca": lambda: trca.TRCA(ensemble=False),
        "etrca": lambda: trca.TRCA(ensemble=True),
        "fbtrca": lambda: trca.TRCA(ensemble=False, n_bands=FB_BANDS, sfreq=sf),
        "fbetrca": lambda: trca.TRCA(ensemble=True, n_bands=FB_BANDS, sfreq=sf),
        "msetcca": lambda: cca.MsetCCA(n_components=mset_comp),
        "tdca": lambda: trca.TDCA(
            FREQS, sfreq=sf, n_harmonics=5, n_delays=TDCA_DELAYS, n_components=8, classes=labels
        ),
        "riemann": lambda: riemann.SSVEPRiemann(FREQS, sfreq=sf),
    }[method]

    def prepare(tr, te):
        Xtr, ytr, Xte = inp.X[tr], inp.y[tr], inp.X[te]
        return lambda: make().fit(Xtr, ytr).predict(Xte)

    return prepare


# ------------------------------------------------------------------ the peers
def _moabb(method: str, inp: Inputs):
    from moabb.pipelines.classification import SSVEP_CCA, SSVEP_TRCA, SSVEP_MsetCCA

    logging.getLogger("moabb").setLevel(logging.ERROR)
    freq_map = {name: f for name, f in zip(CLASS_NAMES, FREQS)}
    make = {
        "cca": lambda: SSVEP_CCA(n_harmonics=3, freq_map=freq_map),
        "fbetrca": lambda: SSVEP_TRCA(n_fbands=FB_BANDS, is_ensemble=True),
        "msetcca": lambda: SSVEP_MsetCCA(n_filters=1),
    }[method]
    epochs = inp.epochs()
    names = CLASS_NAMES[inp.y]

    def prepare(tr, te):
        ep_tr, ep_te, ytr = epochs[tr], epochs[te], names[tr]

        def run():
            pred = make().fit(ep_tr, ytr).predict(ep_te)
            return np.searchsorted(CLASS_NAMES, np.asarray(pred, dtype=str))

        return run

    return prepare


def _metabci(method: str, inp: Inputs):
    from metabci.brainda.algorithms.decomposition import FBSCCA, SCCA, TDCA, MsetCCA
    from metabci.brainda.algorithms.decomposition import TRCA as MTRCA
    from metabci.brainda.algorithms.decomposition.base import generate_filterbank

    if method == "fbcca":
        bank = generate_filterbank(*_chen_bank(5), srate=inp.sfreq)
        weights = np.arange(1, 6, dtype=float) ** -1.25 + 0.25
    specs = {  # (factory, fit keyword arguments, padded input)
        "cca": (lambda: SCCA(n_components=1), {"Yf": inp.Yf3}, False),
        "fbcca": (
            lambda: FBSCCA(bank, n_components=1, filterweights=weights),
            {"Yf": inp.Yf5},
            False,
        ),
        "trca": (lambda: MTRCA(n_components=1, ensemble=False), {}, False),
        "etrca": (lambda: MTRCA(n_components=1, ensemble=True), {}, False),
        "msetcca": (lambda: MsetCCA(n_components=1, method="msetcca1"), {}, False),
        "tdca": (
            lambda: TDCA(padding_len=TDCA_DELAYS, n_components=2),
            {"Yf": inp.Yf5},
            True,
        ),
    }
    make, kwargs, padded = specs[method]
    X = inp.X_pad if padded else inp.X

    def prepare(tr, te):
        Xtr, ytr, Xte = X[tr], inp.y[tr], X[te]  # copies: MetaBCI's TDCA centres in place
        return lambda: np.asarray(make().fit(Xtr, ytr, **kwargs).predict(Xte))

    return prepare


def _meegkit(method: str, inp: Inputs):
    from meegkit.trca import TRCA as KTRCA

    passbands, stopbands = _chen_bank(FB_BANDS)
    bank = [[p, s] for p, s in zip(passbands, stopbands)]
    ensemble = {"fbtrca": False, "fbetrca": True}[method]
    XT = np.transpose(inp.X, (2, 1, 0))  # (n_times, n_channels, n_trials)

    def prepare(tr, te):
        Xtr, ytr, Xte = (
            np.ascontiguousarray(XT[..., tr]),
            inp.y[tr],
            np.ascontiguousarray(XT[..., te]),
        )
        return lambda: KTRCA(inp.sfreq, bank, ensemble=ensemble).fit(Xtr, ytr).predict(Xte)

    return prepare


def _pyriemann(method: str, inp: Inputs):
    import mne
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    if method != "riemann":
        raise KeyError(method)
    sfreq = inp.sfreq

    def extended(X):  # MOABB FilterBankSSVEP bands + ExtendedSSVEPSignal, on trials
        bands = [
            mne.filter.filter_data(X, sfreq, f - 0.5, f + 0.5, method="iir", verbose=False)
            for f in FREQS
        ]
        return np.stack(bands, axis=1).reshape(X.shape[0], -1, X.shape[2])

    def make():
        return make_pipeline(
            FunctionTransformer(extended),
            Covariances(estimator="lwf"),
            TangentSpace(),
            LogisticRegression(),
        )

    def prepare(tr, te):
        Xtr, ytr, Xte = inp.X[tr], inp.y[tr], inp.X[te]
        return lambda: make().fit(Xtr, ytr).predict(Xte)

    return prepare


PEERS = {"moabb": _moabb, "metabci": _metabci, "meegkit": _meegkit, "pyriemann": _pyriemann}


# ------------------------------------------------------------------ the benchmark
def run_pair(method, peer, inp, splits):
    """Interleaved timing of one (method, peer) pair; returns the result row.

    A side that cannot be built or fails on a fold is dropped (its reason kept in
    ``row["errors"]``); the other side still runs, so its numbers are reported.
    """
    row = {"name": f"ssvep_{method}_vs_{peer}", "method": method, "peer_lib": peer, "errors": []}
    sides = {"ours": ours(method, inp, peer)}
    try:
        sides["peer"] = PEERS[peer](method, inp)
    except Exception as err:  # import failure or missing dependency
        row["errors"].append(f"{peer} unavailable: {type(err).__name__}: {err}")
    spent = dict.fromkeys(sides, 0.0)
    preds = {side: [] for side in sides}
    truth = []
    for i, (tr, te, _) in enumerate([splits[0], *splits]):  # fold 0 twice: untimed warm-up
        for side in sorted(sides, reverse=i % 2 == 1):  # alternate which side goes first
            call = sides[side](tr, te)
            try:
                t0 = time.perf_counter()
                pred = np.asarray(call()).astype(int)
                dt = time.perf_counter() - t0
            except Exception as err:
                who = "neurokit" if side == "ours" else peer
                row["errors"].append(f"{who} failed on fold {i}: {type(err).__name__}: {err}")
                del sides[side]
                continue
            if i > 0:
                spent[side] += dt
                preds[side].append(pred)
        if i > 0:
            truth.append(inp.y[te])
    truth = np.concatenate(truth)
    correct = {}
    for side in sides:
        correct[side] = np.concatenate(preds[side]) == truth
        row[f"time_{side}"] = spent[side]
        row[f"acc_{side}"] = float(np.mean(correct[side]))
    if len(correct) == 2:
        row["mcnemar"] = mcnemar(correct["ours"], correct["peer"])
    return row


def mcnemar(ours_ok: np.ndarray, peer_ok: np.ndarray) -> dict:
    """Exact two-sided McNemar test of paired per-trial correctness.

    Only the discordant trials count: ``b`` right for neurokit only, ``c`` right for the peer
    only; under the null hypothesis (same accuracy) ``b ~ Binomial(b + c, 1/2)``. Returns
    ``{"only_ours": b, "only_peer": c, "p": p}``; ``p = 1`` when no trial is discordant.
    """
    from scipy.stats import binomtest

    b = int(np.sum(ours_ok & ~peer_ok))
    c = int(np.sum(~ours_ok & peer_ok))
    p = 1.0 if b + c == 0 else float(binomtest(b, b + c, 0.5).pvalue)
    return {"only_ours": b, "only_peer": c, "p": p}


def json_line(row) -> dict:
    t_ours, t_peer = row.get("time_ours"), row.get("time_peer")
    a_ours, a_peer = row.get("acc_ours"), row.get("acc_peer")
    both = t_ours is not None and t_peer is not None
    return {
        "name": row["name"],
        "ours": None if t_ours is None else round(t_ours, 4),
        "peer": None if t_peer is None else round(t_peer, 4),
        "ratio": round(t_peer / t_ours, 2) if both else None,
        "unit": "s",
        "accuracy_ours": None if a_ours is None else round(a_ours, 4),
        "accuracy_peer": None if a_peer is None else round(a_peer, 4),
        "accuracy_diff_pp": round(100 * (a_ours - a_peer), 2) if both else None,
        "accuracy_diff_p": round(row["mcnemar"]["p"], 4) if "mcnemar" in row else None,
    }


def table(rows) -> str:
    head = (
        f"{'method':<9}{'peer':<10}{'ours s':>9}{'peer s':>9}{'speedup':>9}"
        f"{'acc ours':>10}{'acc peer':>10}{'diff pp':>9}{'p':>7}  goal (acc >= peer - 1 pp, >= 5x)"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        if "time_ours" not in r or "time_peer" not in r:
            lines.append(f"{r['method']:<9}{r['peer_lib']:<10}  -- {'; '.join(r['errors'])}")
            continue
        speed = r["time_peer"] / r["time_ours"]
        diff = 100 * (r["acc_ours"] - r["acc_peer"])
        goal = ("acc ok" if diff >= -1.0 else "ACC BEHIND") + (
            ", speed ok" if speed >= 5 else ", SPEED BEHIND"
        )
        lines.append(
            f"{r['method']:<9}{r['peer_lib']:<10}{r['time_ours']:>9.3f}{r['time_peer']:>9.3f}"
            f"{speed:>8.1f}x{r['acc_ours']:>10.3f}{r['acc_peer']:>10.3f}{diff:>+9.1f}"
            f"{r['mcnemar']['p']:>7.2f}  {goal}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "ssvep"))
    p.add_argument("--window", type=float, default=2.0, help="window length in seconds")
    p.add_argument("--quick", action="store_true", help="subject 12 only (3 sessions)")
    p.add_argument("--methods", default=None, help="comma-separated subset of the methods")
    p.add_argument("--peers", default=None, help="comma-separated subset of the peers")
    p.add_argument(
        "--phase-locked",
        type=float,
        default=0.0,
        metavar="AMP",
        help="add a phase-locked SSVEP of relative amplitude AMP (secondary check, see above)",
    )
    args = p.parse_args(argv)

    warnings.filterwarnings("ignore")  # peers' convergence / filter-length chatter
    try:
        import mne

        mne.set_log_level("ERROR")
    except ImportError:
        pass
    methods = None if args.methods is None else set(args.methods.split(","))
    peers = None if args.peers is None else set(args.peers.split(","))
    pairs = [
        (m, q)
        for m, q in PAIRS
        if (methods is None or m in methods) and (peers is None or q in peers)
    ]
    if not pairs:
        raise SystemExit("no (method, peer) pair left after --methods/--peers")

    t_start = time.perf_counter()
    data = load_kalunga2016(args.data, subjects=[12] if args.quick else None)
    inp = Inputs(data, args.window, args.phase_locked)
    splits = protocol_splits(inp.data, "within-session", n_folds=4, random_state=0)
    n_sessions = len({(s, e) for s, e in zip(inp.data.subject, inp.data.session)})
    log(
        f"Kalunga 2016, 3 stimulus classes (13/17/21 Hz), {inp.X.shape[0]} trials, "
        f"{n_sessions} sessions, {args.window:g}-s windows from onset, within-session 4-fold "
        f"CV ({len(splits)} folds); threads: OMP={os.environ['OMP_NUM_THREADS']}"
        + (
            f"; phase-locked SSVEP added, amplitude {args.phase_locked:g}"
            if args.phase_locked
            else ""
        )
    )
    rows = []
    for method, peer in pairs:
        t0 = time.perf_counter()
        row = run_pair(method, peer, inp, splits)
        if args.phase_locked:
            row["name"] += "_phaselocked"
        rows.append(row)
        for err in row["errors"]:
            log(f"{method} vs {peer}: {err}")
        if "time_ours" in row and "time_peer" in row:
            log(
                f"{method:>8} vs {peer:<9} ours {row['time_ours']:7.3f} s  peer "
                f"{row['time_peer']:7.3f} s  acc {row['acc_ours']:.3f} / {row['acc_peer']:.3f}"
                f"  ({time.perf_counter() - t0:.0f} s)"
            )
        print(json.dumps(json_line(row)), flush=True)
    log("")
    log(table(rows))
    log(f"total {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
