# %% [markdown]
# # BrainOmni: tokenize EEG and MEG together, pretrain, fine-tune
#
# BrainOmni (Xiao et al., 2025) works in two stages. The BrainTokenizer turns any montage of
# EEG or MEG sensors into a fixed number of latent "sources" and quantizes them with a
# residual codebook: `codes [batch, sources, levels, frames]`. A criss-cross transformer is
# then pretrained to predict masked tokens, and fine-tuned with a small head on labelled
# windows. Here everything runs on the tiny/micro presets for a few steps (plumbing, not
# results); `tokenizers/brain_base.yaml` and `tokenizers/brainomni_pretrain_tiny.yaml` hold the
# reference configurations.

# %%
import tempfile
import warnings
from pathlib import Path

import torch

import neurokit
from neurokit.corpus import Corpus, build_corpus
from neurokit.models.brainomni_pipeline import (
    TokenWindows,
    finetune,
    pretrain,
    synthetic_labelled_recordings,
)
from neurokit.preprocessing import Pipeline
from neurokit.tokenizers.pipeline import tokenize_corpus, train_tokenizer

torch.manual_seed(0)
workdir = Path(tempfile.mkdtemp(prefix="neurokit-brainomni-"))

# %% [markdown]
# ## One corpus for EEG and MEG
#
# The tokenizer expects 256 Hz and BrainOmni's scaling (per sensor type: common average, then
# divide by the group's standard deviation, on each segment). Two montages of different sizes
# go into the same corpus; training batches are bucketed by montage size.

# %%
for kind, n in (("eeg", 8), ("meg", 9)):
    rec = neurokit.io.synthetic(kind, n_channels=n, duration_s=8.0, seed=1)
    rec.raw.save(workdir / f"sub-{kind}_raw.fif", verbose="error")
steps = [
    {"pick_types": {"types": ["eeg", "mag", "grad"]}},
    {"scale": {"method": "brainomni", "window_s": 2.0}},
]
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    build_corpus(
        [workdir],
        Pipeline.from_dict({"name": "bo", "steps": steps, "windows": {"length_s": 2.0}}),
        workdir / "corpus",
        quiet=True,
    )

# %% [markdown]
# ## Stage 1: BrainTokenizer
#
# The command line does the same: `neurokit train tokenizer --recipe brain_tiny --corpus DIR
# --out TOK`, then `neurokit tokenize TOK DIR` and `neurokit info DIR` (codebook usage and
# perplexity for every residual level).

# %%
tok_recipe = {
    "name": "tutorial_brain",
    "tokenizer": "brain",
    "preset": "tiny",
    "data": {"window_s": 2.0, "picks": ["eeg", "mag", "grad"]},
    "train": {
        "max_steps": 4,
        "batch_size": 2,
        "grad_clip": None,
        "checkpoint_every": 0,
        "log_every": 1,
        "tensorboard": False,
    },
}
tok_dir = train_tokenizer(tok_recipe, workdir / "corpus", workdir / "tok", progress=False)
print(tokenize_corpus(tok_dir, workdir / "corpus", progress=False))
stats = Corpus(workdir / "corpus").info()["tokens"][0]
print(stats["tokenizer"], stats["streams"], "sources x", len(stats["levels"]), "levels")
for level in stats["levels"]:
    print(
        f"  level {level['level']}: perplexity {level['perplexity']:.1f} of "
        f"{level['codebook_size']} codes"
    )

# %% [markdown]
# ## Stage 2: masked-token pretraining
#
# `neurokit train pretrain --recipe brainomni_pretrain_micro --corpus DIR --out PRE`. The
# model's code vectors are copied from the tokenizer's codebooks and frozen.

# %%
pre_recipe = {
    "name": "tutorial_pretrain",
    "model": "brainomni",
    "preset": "micro",
    "train": {
        "max_steps": 4,
        "batch_size": 2,
        "checkpoint_every": 0,
        "log_every": 1,
        "tensorboard": False,
    },
}
backbone = pretrain(pre_recipe, workdir / "corpus", workdir / "pre", progress=False)
windows = TokenWindows(workdir / "corpus", Corpus(workdir / "corpus").token_sets[0])
print(len(windows), "token windows of shape", tuple(windows[0]["codes"].shape))

# %% [markdown]
# ## Fine-tuning on labelled windows, split by subject
#
# Labels come from the corpus's event windows (here synthetic steady-state trials at 8 and
# 13 Hz; with real data, e.g. `datasets/kalunga2016_ssvep.yaml` plus the brainomni scale
# step). The windows are encoded with the backbone's tokenizer, the subjects split into train
# and test, and the test subjects give balanced accuracy, kappa, weighted F1 and ROC-AUC.
# `neurokit train finetune --recipe brainomni_finetune_micro --corpus DIR --backbone PRE
# --out FT` does the same.

# %%
paths = synthetic_labelled_recordings(
    workdir / "labelled", n_subjects=3, n_trials=4, trial_s=2.0, n_channels=6
)
events = {"events": {"tmin_s": 0.0, "tmax_s": 2.0}}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    build_corpus(
        paths,
        Pipeline.from_dict({"name": "lab", "steps": steps, "windows": events}),
        workdir / "labelled_corpus",
        quiet=True,
    )
ft_recipe = {
    "name": "tutorial_finetune",
    "model": "brainomni_classifier",
    "split": {"fractions": [0.6, 0.0, 0.4]},
    "train": {
        "max_steps": 4,
        "batch_size": 4,
        "checkpoint_every": 0,
        "log_every": 1,
        "tensorboard": False,
    },
}
result = finetune(
    ft_recipe, workdir / "labelled_corpus", workdir / "pre", workdir / "ft", progress=False
)
print(result["classes"], result["n_windows"])
print({k: None if v is None else round(v, 3) for k, v in result["test"].items()})
assert 0.0 <= result["test"]["balanced_accuracy"] <= 1.0
