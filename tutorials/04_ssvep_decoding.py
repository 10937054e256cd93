# %% [markdown]
# # Decode SSVEP: CCA, filter-bank CCA, the TRCA family and TDCA
#
# A steady-state visual evoked potential (SSVEP) speller shows targets that flicker at different
# frequencies (and, in the 40-target Tsinghua layout, different phases); the EEG over the
# visual cortex follows the gazed target at its frequency and harmonics. `neurokit.decoding`
# holds the classic decoders behind one scikit-learn API: training-free CCA and filter-bank
# CCA, and trained methods that learn templates and spatial filters (TRCA, ensemble TRCA,
# TDCA, ...). They take trials `(n_trials, n_channels, n_times)` or `mne.Epochs`.
#
# This tutorial builds a small phase-locked 40-target data set (simulated responses on a
# noise background, so it runs anywhere), looks at its spectra, compares the decoders against
# the window length with accuracy and information transfer rate (ITR), and, where
# `../shared/data` exists, does the same on real recordings (Kalunga et al. 2016).

# %%
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy import signal

from neurokit.decoding import (
    CCA,
    TRCA,
    confusion_matrix,
    evaluate,
    itr,
    load_kalunga2016,
    make_phase_locked_benchmark,
)
from neurokit.decoding.evaluation import format_table

workdir = Path(tempfile.mkdtemp(prefix="neurokit-ssvep-"))

# %% [markdown]
# ## A phase-locked 40-target data set
#
# `make_phase_locked_benchmark` follows the Tsinghua Benchmark layout: 40 targets from 8 to
# 15.8 Hz in 0.2-Hz steps with joint frequency-phase coding, 6 blocks, 250 Hz, a visual latency
# near 0.14 s, and subject-specific amplitudes, latencies and spatial patterns. The background
# is any array of EEG segments in volts; `neurokit ssvep evaluate --data phase-locked` uses real
# EEG cut from the shared recordings (`background_from_shared`). Here a seeded coloured noise
# stands in for it, so that the tutorial needs no data.

# %%
n_subjects, sfreq = 1, 250.0
rng = np.random.default_rng(0)
white = rng.standard_normal((40 * 6 * n_subjects, 8, 375))
background = 1e-5 * signal.lfilter([1.0], [1.0, -0.9], white, axis=-1)  # volts, 1/f-like
channels = ["Oz", "O1", "O2", "PO3", "POz", "PO7", "PO8", "PO4"]
data = make_phase_locked_benchmark(
    background, n_subjects=n_subjects, sfreq=sfreq, ch_names=channels, seed=0
)
print(data.X.shape, "trials x channels x samples;", len(data.freqs), "targets")
print("first targets (Hz):", data.freqs[:5], "phases (rad):", np.round(data.phases[:5], 2))

# %% [markdown]
# ## Spectra at the stimulus frequencies and their harmonics
#
# The amplitude spectrum of Oz, averaged over the trials of one target and cut to 1 s after
# the visual latency, peaks at the stimulus frequency and its harmonics (dotted lines).


# %%
def amplitude_spectrum(X, sfreq, n_fft=2048):
    """Mean single-trial amplitude spectrum (Hann window) of ``X [n, t]``."""
    win = signal.windows.hann(X.shape[-1])
    spec = np.abs(np.fft.rfft(X * win, n=n_fft, axis=-1)).mean(axis=0)
    return np.fft.rfftfreq(n_fft, 1.0 / sfreq), spec


def plot_spectra(ax, trials, sfreq, freqs, labels, fmax):
    for x, f, label in zip(trials, freqs, labels):
        fr, spec = amplitude_spectrum(x, sfreq)
        keep = fr <= fmax
        (line,) = ax.plot(fr[keep], 1e6 * spec[keep], lw=1, label=label)
        if np.isfinite(f):
            for h in (1, 2, 3):
                if h * f <= fmax:
                    ax.axvline(h * f, color=line.get_color(), ls=":", lw=0.8)
    ax.set(xlabel="frequency (Hz)", ylabel="|FFT| of µV (a.u.)")
    ax.legend(fontsize=8)


one_second = data.crop(1.0)
oz = channels.index("Oz")
shown = [0, 10, 20]  # 8, 10 and 12 Hz
fig, ax = plt.subplots(figsize=(7, 3))
plot_spectra(
    ax,
    [one_second.X[one_second.y == k, oz] for k in shown],
    sfreq,
    data.freqs[shown],
    [data.classes[k] for k in shown],
    fmax=50.0,
)
ax.set_title("Oz, phase-locked set: stimulus frequency and harmonics")
fig.tight_layout()
fig.savefig(workdir / "spectra_phase_locked.png", dpi=100)
plt.close(fig)
print("figure:", workdir / "spectra_phase_locked.png")

# %% [markdown]
# ## One estimator by hand
#
# Estimators follow scikit-learn: `fit(X, y)`, `predict`, `decision_function`. CCA needs only
# the stimulus frequencies; TRCA learns a spatial filter and a template per target. Train on
# blocks 0-4 and test on block 5 at 0.5 s.

# %%
half = data.crop(0.5)
train, test = half.block < 5, half.block == 5
cca = CCA(list(data.freqs), sfreq=sfreq, n_harmonics=5, classes=list(range(40)))
trca = TRCA(ensemble=True)
for name, est in (("CCA", cca), ("eTRCA", trca)):
    pred = est.fit(half.X[train], half.y[train]).predict(half.X[test])
    acc = float(np.mean(pred == half.y[test]))
    print(f"{name:>6s}: accuracy {acc:.3f}, ITR {itr(40, acc, 0.5, gaze_shift_s=0.5):.1f} bits/min")
cm = confusion_matrix(half.y[test], pred, labels=np.arange(40))
print("eTRCA confusion matrix:", cm.shape, "correct on the diagonal:", int(np.trace(cm)))

# %% [markdown]
# ## Accuracy and ITR against the window length
#
# `evaluate` crops every trial to each window (after the visual latency), splits by a protocol
# (here leave one block out per subject, the Tsinghua protocol), fits and predicts. The ITR is
# Wolpaw's, with a 0.5-s gaze shift added to every selection and averaged over (subject, test
# block) cells as Guney et al. (2022) report it. The command line does the same:
# `neurokit ssvep evaluate --data phase-locked --methods cca,fbcca,trca,etrca,tdca,guney
# --window-s 0.2 0.4 0.6 0.8 1.0 --protocol leave-one-block-out` (the deep network `guney`
# trains for minutes per fold, so it is left out here).

# %%
methods = ["cca", "fbcca", "trca", "etrca", "tdca"]
windows = [0.2, 0.4, 0.6, 0.8, 1.0]
rows = evaluate(data, methods, windows, "leave-one-block-out")
print(format_table(rows))


def plot_curves(rows, title, path):
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for method in dict.fromkeys(r["method"] for r in rows):
        ours = sorted((r for r in rows if r["method"] == method), key=lambda r: r["window_s"])
        w = [r["window_s"] for r in ours]
        axes[0].plot(w, [100 * r["accuracy"] for r in ours], "o-", label=method)
        axes[1].plot(w, [r["itr_bits_per_min"] for r in ours], "o-", label=method)
    axes[0].set(xlabel="window (s)", ylabel="accuracy (%)", title=title)
    axes[1].set(xlabel="window (s)", ylabel="ITR (bits/min)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("figure:", path)


plot_curves(rows, "phase-locked, leave one block out", workdir / "accuracy_itr_phase_locked.png")

# %% [markdown]
# With phase-locked responses the template methods (TRCA, eTRCA, TDCA) learn each subject's
# latency, phase and spatial pattern and lead at the shortest windows (0.2-0.4 s), where the
# sine-cosine references of CCA and FBCCA fit the short response poorly; with longer windows
# FBCCA, which uses the harmonics in separate sub-bands, catches up. The ITR peaks at a short
# window, since every selection also pays the gaze shift.
#
# ## Real recordings (when `../shared/data` is present)
#
# The shared SSVEP recordings (Kalunga et al. 2016: 8 occipital channels, 256 Hz, LEDs at 13,
# 17 and 21 Hz plus a rest class) have free-running flicker: the phase is not locked to the
# trial onset, so here the training-free methods and the Riemannian pipeline are the ones to
# compare. `load_kalunga2016` corrects the unit error of the files (they hold microvolts times
# a gain of about 0.001, labelled volts). One subject, within-session cross-validation.

# %%
shared = Path("../shared/data")
if not shared.exists():
    here = Path(__file__).resolve() if "__file__" in dir() else None
    shared = here.parents[2] / "shared" / "data" if here else shared
if (shared / "ssvep").exists():
    real = load_kalunga2016(shared / "ssvep", subjects=[12])
    print(real.X.shape, real.classes)
    two = real.crop(2.0, start_s=1.0)
    fig, ax = plt.subplots(figsize=(7, 3))
    plot_spectra(
        ax,
        [two.X[two.y == k, real.ch_names.index("Oz")] for k in range(len(real.freqs))],
        real.sfreq,
        real.freqs,
        real.classes,
        fmax=45.0,
    )
    ax.set_title("Oz, Kalunga et al. 2016, subject 12")
    fig.tight_layout()
    fig.savefig(workdir / "spectra_kalunga.png", dpi=100)
    plt.close(fig)
    print("figure:", workdir / "spectra_kalunga.png")
    real_rows = evaluate(real, ["cca", "fbcca", "riemann"], [0.5, 1.0, 2.0], "within-session")
    print(format_table(real_rows))
    plot_curves(real_rows, "Kalunga 2016, within session", workdir / "accuracy_itr_kalunga.png")
else:
    print("no ../shared/data here: skipping the real recordings")
