# %% [markdown]
# # Build a corpus and read it lazily
#
# A corpus is a folder with one memory-mappable array per recording and a SQLite manifest
# (recordings, sensor tables, windows, labels, provenance, failures). Building is resumable and
# crash-safe: rerun the same command after a crash and it continues where it stopped.

# %%
import tempfile
import warnings
from pathlib import Path

import numpy as np

import neurokit
from neurokit.corpus import Corpus, build_corpus
from neurokit.preprocessing import Pipeline, list_recipes, list_steps

workdir = Path(tempfile.mkdtemp(prefix="neurokit-corpus-"))
print("shipped recipes:", sorted(list_recipes()))
print("steps:", sorted(list_steps()))

# %% [markdown]
# ## Some recordings on disk
#
# Synthetic EEG and MEG saved as FIF files, plus one damaged file: a bad recording becomes a
# failure row in the manifest; the build goes on.

# %%
inputs = workdir / "recordings"
inputs.mkdir()
for i, kind in enumerate(["eeg", "eeg", "meg", "seeg"]):
    rec = neurokit.io.synthetic(kind, duration_s=30.0, seed=i)
    rec.raw.save(inputs / f"sub-{i:02d}_task-rest_raw.fif", verbose="error")
(inputs / "damaged.edf").write_bytes(b"not an EDF file")

# %% [markdown]
# ## A recipe
#
# Recipes are YAML files in `datasets/` (see `physionet_mi`, `kalunga2016_ssvep`,
# `tfm_tcp_200hz`, `brainomni_256hz`); the same structure can be given as a dict.

# %%
pipe = Pipeline.from_dict(
    {
        "name": "tutorial",
        "steps": [
            {"pick_types": {"types": ["eeg", "seeg", "mag", "grad"]}},
            {"bandpass": {"l_freq": 1.0, "h_freq": 40.0}},
            {"resample": {"sfreq": 128.0}},
            {"scale": {"method": "zscore"}},
        ],
        "windows": {"length_s": 4.0, "stride_s": 2.0},
    }
)
print(pipe)

# %% [markdown]
# ## Build, then build again (nothing to do the second time)
#
# The command line does the same: `neurokit preprocess INPUTS --recipe R --out DIR --jobs 2`.

# %%
out = workdir / "corpus"
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    print(build_corpus([inputs], pipe, out, quiet=True))
    print(build_corpus([inputs], pipe, out, quiet=True))

# %% [markdown]
# ## Read it back
#
# `Corpus` needs no torch. `neurokit info DIR` prints the same summary.

# %%
corpus = Corpus(out)
info = corpus.info()
print(
    info["recordings"],
    "recordings,",
    info["windows"]["total"],
    "windows,",
    f"{info['hours']['total']:.3f} h; failures:",
    [f["reason"] for f in info["failures"]],
)
x = corpus.read(0, 0, 512)  # float32 (channels, samples), from the memory map
print(x.shape, x.dtype, corpus.sensors(0))
print("subject-wise split:", corpus.split(fractions=(0.5, 0.25, 0.25), seed=0))

# %% [markdown]
# ## Feed PyTorch
#
# `CorpusDataset` cuts windows lazily from the memory maps; `collate` pads different montages
# and returns a channel mask; `BucketBatchSampler` groups windows of equal channel count.

# %%
from torch.utils.data import DataLoader  # noqa: E402

from neurokit.corpus import BucketBatchSampler, CorpusDataset, collate  # noqa: E402

dataset = CorpusDataset(out)
loader = DataLoader(
    dataset, batch_sampler=BucketBatchSampler(dataset, batch_size=8, seed=0), collate_fn=collate
)
batch = next(iter(loader))
print({k: tuple(v.shape) for k, v in batch.items()})
assert np.isfinite(batch["x"].numpy()).all()
