# %% [markdown]
# # Tokenize EEG with TFM-Tokenizer
#
# TFM-Tokenizer (Pradeepkumar et al.) turns each channel into a sequence of discrete
# time-frequency "motif" tokens, two per second. Here: build a 200 Hz corpus, train a tiny
# tokenizer for a few steps through the shared training loop, write its tokens into the corpus,
# and look at codebook usage and a reconstruction. (The `tiny` preset is for trying things out;
# `tokenizers/tfm_base.yaml` holds the reference configuration.)

# %%
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

import neurokit
from neurokit.corpus import Corpus, build_corpus
from neurokit.preprocessing import Pipeline
from neurokit.tokenizers import Tokenizer, create_tokenizer
from neurokit.tokenizers.pipeline import tokenize_corpus, train_tokenizer

torch.manual_seed(0)
workdir = Path(tempfile.mkdtemp(prefix="neurokit-tfm-"))

# %% [markdown]
# ## A 200 Hz corpus scaled as TFM expects
#
# TFM's reference code divides each window by the 95th percentile of |x|.

# %%
for i in range(3):
    rec = neurokit.io.synthetic("eeg", n_channels=8, duration_s=30.0, seed=i)
    rec.raw.save(workdir / f"sub-{i:02d}_raw.fif", verbose="error")
pipe = Pipeline.from_dict(
    {
        "name": "tfm_input",
        "steps": [
            {"pick_types": {"types": ["eeg"]}},
            {"resample_filter": {"sfreq": 200.0, "l_freq": 0.5, "h_freq": 75.0}},
            {"scale": {"method": "quantile", "q": 0.95, "window_s": 5.0}},
        ],
        "windows": {"length_s": 5.0},
    }
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    build_corpus([workdir], pipe, workdir / "corpus", quiet=True)

# %% [markdown]
# ## The tokenizer contract
#
# `encode` gives `codes [batch, streams, levels, frames]`; for TFM one stream per channel and
# one level.

# %%
tok = create_tokenizer("tfm", preset="tiny").eval()
x = torch.from_numpy(Corpus(workdir / "corpus").read(0, 0, 1000))[None]  # 5 s, 8 channels
tokens = tok.encode(x)
print(tokens.codes.shape, "frame rate", tokens.frame_rate, "Hz; codebook", tokens.codebook_sizes)

# %% [markdown]
# ## Train a few steps, then tokenize the corpus
#
# The command line does the same:
# `neurokit train tokenizer --recipe tfm_tiny --corpus DIR --out RUN` and
# `neurokit tokenize RUN DIR`.

# %%
recipe = {
    "name": "tutorial_tfm",
    "tokenizer": "tfm",
    "preset": "tiny",
    "data": {"window_s": 5.0},
    "train": {
        "max_steps": 15,
        "batch_size": 4,
        "warmup_steps": 2,
        "checkpoint_every": 0,
        "log_every": 5,
        "tensorboard": False,
    },
}
model_dir = train_tokenizer(recipe, workdir / "corpus", workdir / "run", progress=False)
print(tokenize_corpus(model_dir, workdir / "corpus", progress=False))
stats = Corpus(workdir / "corpus").info()["tokens"][0]
print(
    {k: stats[k] for k in ("tokenizer", "recordings", "streams", "token_rate_hz")}, stats["levels"]
)

# %% [markdown]
# ## Decode: tokens back to a magnitude spectrum

# %%
trained = Tokenizer.from_pretrained(model_dir).eval()
with torch.no_grad():
    spectrum = trained.stft(x[0, :1])[0]
    recon = trained.decode(trained.encode(x[:, :1]))[0, 0]
err = float(((recon - spectrum) ** 2).mean() / (spectrum**2).mean())
print(f"relative reconstruction error after a few steps: {err:.2f}")
assert np.isfinite(err)
