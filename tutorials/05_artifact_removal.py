# %% [markdown]
# # Remove blinks and muscle artifacts from a recording
#
# neurokit offers two routes, both taking an MNE `Raw` (or a neurokit `Recording`) and giving
# back a cleaned copy with the same channels, units, annotations and sampling rate:
#
# - **learned single-channel denoisers** (AT-AT, the EEGdenoiseNet networks, a TIGER
#   separator) trained on EEGdenoiseNet-style pairs, applied window by window by `Denoiser`;
# - **classic multi-channel cleaners**: ICA with ICLabel (`ICALabelCleaner`) and Artifact
#   Subspace Reconstruction (`ASRCleaner`).
#
# On the command line: `neurokit train denoiser --recipe denoise_atat_tiny --out RUN`, then
# `neurokit denoise IN OUT --model RUN` (or `--model ica-iclabel`, `--model asr`). Here the
# denoiser is the tiny AT-AT trained for a few seconds on synthetic pairs: it shows the
# plumbing, not the quality of a trained model (`benchmarks/denoise.py` measures that).

# %%
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mne  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import neurokit  # noqa: E402
from neurokit.artifacts import make_splits  # noqa: E402
from neurokit.artifacts.training import PairDataset  # noqa: E402
from neurokit.models import ATAT, Denoiser, ICALabelCleaner  # noqa: E402
from neurokit.training import TrainConfig, Trainer  # noqa: E402

torch.manual_seed(0)
torch.set_num_threads(1)
rng = np.random.default_rng(0)
workdir = Path(tempfile.mkdtemp(prefix="neurokit-artifacts-"))

# %% [markdown]
# ## A recording with blinks
#
# The PhysioNet motor-imagery run `S001R04` (64 EEG channels, 160 Hz) has real blinks on the
# frontal channels; we use its first 30 s. Without `../shared/data`, a synthetic recording
# with blink-like frontal bumps stands in.

# %%
data = Path("../shared/data")
edf = data / "motor_imagery" / "S001R04.edf"
if edf.exists():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = neurokit.io.load(edf)
    raw = full.raw.copy().load_data(verbose="error").crop(0, 30)
    rec = full.with_step(raw, "crop", tmax=30.0)
    frontal = "Fp1."
else:
    print("no ../shared/data here: skipping the real recording, using a synthetic one")
    rec = neurokit.io.synthetic("eeg", n_channels=19, duration_s=30.0, seed=0)
    raw = rec.raw.copy().load_data(verbose="error")
    t = raw.times
    bumps = sum(np.exp(-0.5 * ((t - s) / 0.1) ** 2) for s in np.arange(1.5, 29, 3.1))
    pos = np.array([ch["loc"][:3] for ch in raw.info["chs"]])
    weight = np.nan_to_num(np.exp(-np.linalg.norm(pos - pos[0], axis=1) / 0.06))
    raw._data += 6 * raw.get_data().std() * weight[:, None] * bumps[None]
    rec = rec.with_step(raw, "add_blinks")
    frontal = "Fp1"
print(rec)

# %% [markdown]
# ## Route 1: a learned denoiser
#
# Training pairs follow the EEGdenoiseNet protocol: clean windows plus artifact windows mixed
# at SNRs between -7 and 2 dB (`make_splits`). Here both are synthetic (background EEG from
# `neurokit.io.synthetic`, blinks as random smooth bumps) at the tiny preset's 64 Hz and 2-s
# windows; `neurokit train denoiser` builds them from real recordings instead.

# %%
model = ATAT.from_preset("tiny")
sfreq, size = model.sfreq, model.n_times
background = neurokit.io.synthetic("eeg", n_channels=8, duration_s=120.0, seed=1).raw
background = background.copy().pick("eeg").resample(sfreq, verbose="error").get_data()
n = background.shape[1] // size
clean = background[:, : n * size].reshape(-1, size)
tt = np.arange(size) / sfreq
blinks = np.stack([
    sum(np.exp(-0.5 * ((tt - c) / w) ** 2) for c, w in zip(rng.uniform(0, 2, 2),
                                                          rng.uniform(0.05, 0.15, 2)))
    for _ in range(200)
])  # fmt: skip
splits = make_splits(clean, blinks, seed=0)
config = TrainConfig(out_dir=str(workdir / "atat"), max_steps=30, batch_size=16, lr=3e-3,
                     warmup_steps=3, log_every=10, eval_every=0, checkpoint_every=0,
                     progress=False, tensorboard=False, resume=False)  # fmt: skip
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    Trainer(model, PairDataset(splits["train"]), config=config).fit()

denoiser = Denoiser(model)
print(denoiser)
learned = denoiser.apply(rec)
print(learned.history[-1]["step"], "of", len(learned.history[-1]["channels"]), "channels")

# %% [markdown]
# ## Route 2: ICA + ICLabel
#
# The ICA is fitted on a 1-100 Hz, average-referenced copy (what ICLabel was trained on);
# components ICLabel gives at least 80 % probability of an artifact class (muscle, eye, heart,
# line noise, channel noise) are removed. `method="fastica"` keeps this tutorial fast;
# the default, extended infomax, is the decomposition ICLabel expects.

# %%
cleaner = ICALabelCleaner(method="fastica", n_components=15)
ica, labels = cleaner.fit(rec.raw)
for i, (label, p) in enumerate(zip(labels["labels"], labels["proba"].max(axis=1))):
    mark = "removed" if i in ica.exclude else ""
    print(f"component {i:2d}: {label:<16} {p:.2f} {mark}")
classic = cleaner.apply(rec)
print(classic.history[-1]["removed"])

# %% [markdown]
# ## Before and after
#
# The frontal channel over 10 s, as recorded and after each route, and the scalp maps of the
# components ICA removed.

# %%
sl = slice(0, int(10 * rec.sfreq))
times = rec.raw.times[sl]
fig, ax = plt.subplots(figsize=(9, 3.5))
for r, label, color in ((rec, "recorded", "0.6"), (learned, "AT-AT (tiny, 30 steps)", "C0"),
                        (classic, "ICA + ICLabel", "C3")):  # fmt: skip
    ax.plot(times, 1e6 * r.raw.get_data(picks=frontal)[0, sl], color=color, lw=1, label=label)
ax.set(xlabel="time (s)", ylabel="µV", title=f"{frontal.rstrip('.')}: before and after")
ax.legend(loc="upper right", fontsize=8)
fig.tight_layout()
fig.savefig(workdir / "before_after.png", dpi=100)
plt.close(fig)

maps = ica.get_components()
shown = ica.exclude[:4] or [0]
fig, axes = plt.subplots(1, len(shown), figsize=(2.4 * len(shown), 2.6), squeeze=False)
for ax, i in zip(axes[0], shown):
    mne.viz.plot_topomap(maps[:, i], rec.raw.copy().pick("eeg").info, axes=ax, show=False)
    ax.set_title(f"IC {i}: {labels['labels'][i]}", fontsize=8)
fig.savefig(workdir / "removed_components.png", dpi=100)
plt.close(fig)
print("figures:", workdir / "before_after.png", workdir / "removed_components.png")

# %%
x = rec.raw.get_data(picks=frontal)[0]
for r, label in ((learned, "AT-AT"), (classic, "ICA + ICLabel")):
    y = r.raw.get_data(picks=frontal)[0]
    print(f"{label:<14} frontal RMS {1e6 * y.std():6.1f} µV (recorded {1e6 * x.std():.1f} µV)")
