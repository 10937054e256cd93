"""BrainOmni over a tokenized corpus: pretraining and fine-tuning drivers, and a DDP self-test.

The two stages of BrainOmni (Xiao et al., 2025) on neurokit's corpus:

1. ``neurokit train tokenizer --recipe brain_tiny --corpus DIR --out TOK`` and
   ``neurokit tokenize TOK DIR`` write BrainTokenizer codes ``[windows, s, k, n]`` per
   recording (``tokens/<id>/``, with a copy of the tokenizer);
2. :func:`pretrain` (``neurokit train pretrain``) trains :class:`~.brainomni.BrainOmni` by
   masked token prediction on those windows, its code vectors copied from the tokenizer;
3. :func:`finetune` (``neurokit train finetune``) encodes the corpus's own labelled windows
   (event-locked trials) with the backbone's tokenizer, trains a
   :class:`~.brainomni_heads.BrainOmniClassifier` on a subject-wise split
   (:meth:`neurokit.corpus.Corpus.split`) and reports balanced accuracy, Cohen's kappa,
   weighted F1 and ROC-AUC on the test subjects.

A model recipe (``tokenizers/brainomni_*.yaml``; the keys are those of :data:`RECIPE_KEYS`)::

    name: brainomni_pretrain_micro
    model: brainomni              # or brainomni_classifier (fine-tuning)
    preset: micro
    kwargs: {}                    # model keywords over the preset
    init: {from_tokenizer: true, freeze_embeddings: true}
    tokens: {tokenizer: brain_tiny}   # token set id or tokenizer recipe name (optional)
    split: {fractions: [0.8, 0.1, 0.1], seed: 0}   # subject-wise; optional for pretraining
    train: {max_steps: 200, batch_size: 8, lr: 0.001}   # TrainConfig fields
    # fine-tuning only:
    from_pretrained_backbone: runs/brainomni_pretrain_micro   # default of --backbone
    n_blocks: null                # pretrained blocks kept (default: all but the last)

A pretraining run folder holds ``model/`` (the BrainOmni checkpoint), ``tokenizer/`` (the
tokenizer the tokens came from), ``metrics.csv`` and ``checkpoints/``; a fine-tuning run
``model/``, ``test_metrics.json``, ``metrics.csv`` and ``checkpoints/``. Both resume a killed
run and work under ``torchrun`` (:class:`~neurokit.training.Trainer`; bf16 autocast on CUDA
with ``precision: bf16``).

Token windows hold a fixed number of sources, so batches need no bucketing by montage
(which the tokenizer's training does, see :mod:`neurokit.tokenizers.pipeline`).

Self-test of multi-process tokenizer training (gloo on CPU)::

    torchrun --standalone --nproc_per_node 2 -m neurokit.models.brainomni_pipeline \\
        --selftest-ddp --out runs/ddp --batch-size 2
    python -m neurokit.models.brainomni_pipeline --selftest-ddp --out runs/one --batch-size 4
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidParameterError

__all__ = [
    "RECIPE_KEYS",
    "load_model_recipe",
    "find_token_set",
    "TokenWindows",
    "collate_tokens",
    "pretrain",
    "finetune",
    "run_cli",
    "synthetic_labelled_recordings",
    "selftest_ddp",
]

RECIPE_KEYS = {"name", "description", "model", "preset", "kwargs", "init", "tokens", "split",
               "train", "from_pretrained_backbone", "n_blocks"}  # fmt: skip
_MODELS = ("brainomni", "brainomni_classifier")
_SECTIONS = {
    "tokens": {"tokenizer", "window_s", "stride_s"},
    "init": {"from_tokenizer", "freeze_embeddings"},
    "split": {"fractions", "seed"},
}


def load_model_recipe(recipe, model: str | None = None) -> dict:
    """Read and check a BrainOmni recipe (a dict, a YAML path or a name under ``tokenizers/``);
    ``model`` is the ``model:`` value the caller needs."""
    import yaml

    from ..preprocessing.pipeline import recipe_dirs

    if isinstance(recipe, dict):
        data, where = dict(recipe), "recipe"
    else:
        path = Path(recipe)
        if not path.exists():
            cands = [d.parent / "tokenizers" / f"{path.stem}.yaml" for d in recipe_dirs()]
            path = next((c for c in cands if c.exists()), path)
        if not path.exists():
            raise InvalidParameterError(
                f"BrainOmni recipe {str(recipe)!r} not found; pass a YAML path or a name of "
                "tokenizers/ (e.g. brainomni_pretrain_micro)"
            )
        data, where = yaml.safe_load(path.read_text()) or {}, f"recipe {path}"
        data.setdefault("name", path.stem)
    unknown = sorted(set(data) - RECIPE_KEYS)
    if unknown:
        raise InvalidParameterError(
            f"{where}: unknown key {unknown[0]!r}; allowed: {sorted(RECIPE_KEYS)}"
        )
    for section, keys in _SECTIONS.items():
        extra = sorted(set(data.get(section) or {}) - keys)
        if extra:
            raise InvalidParameterError(
                f"{where}: unknown key {extra[0]!r} in {section}; allowed: {sorted(keys)}"
            )
    kind = data.get("model", model)
    if kind not in _MODELS or (model is not None and kind != model):
        raise InvalidParameterError(
            f"{where}: model={data.get('model')!r}; this command needs model: {model or _MODELS}"
        )
    return data


# ------------------------------------------------------------------ token windows
def _tokenizer_recipe_name(corpus, token_set) -> str | None:
    meta = corpus.root / "tokens" / token_set["tokenizer"] / "tokenizer" / "meta.json"
    if not meta.exists():
        return None
    return (json.loads(meta.read_text()).get("recipe") or {}).get("name")


def find_token_set(corpus, spec=None, *, windows="fixed") -> dict:
    """The BrainTokenizer token set of ``corpus`` (a :class:`~neurokit.corpus.Corpus`) with
    ``windows`` ("fixed" or "manifest") named by ``spec`` (``{"tokenizer": id or tokenizer
    recipe name}``); without a name, the only such set."""
    spec = spec or {}
    sets = [t for t in corpus.token_sets if t["name"] == "brain" and t["windows"] == windows]
    wanted = spec.get("tokenizer")
    named = [t for t in sets if t["tokenizer"] == wanted] or [
        t for t in sets if wanted is not None and _tokenizer_recipe_name(corpus, t) == wanted
    ]
    ids = [t["tokenizer"] for t in sets]
    how = "neurokit tokenize TOKENIZER_RUN CORPUS" + (
        " --windows manifest" if windows == "manifest" else ""
    )
    if len(named) == 1 or (wanted is None and len(sets) == 1):
        chosen = named[0] if named else sets[0]
    elif wanted is not None and not named and len(sets) == 1:
        warnings.warn(f"no token set of tokenizer {wanted!r} in {corpus.root}; using {ids[0]}")
        chosen = sets[0]
    elif not sets:
        raise InvalidParameterError(
            f"{corpus.root} holds no BrainTokenizer tokens on {windows} windows; write them "
            f"with: {how}"
        )
    else:
        raise InvalidParameterError(
            f"tokens.tokenizer={wanted!r} does not pick one of the token sets {ids} of "
            f"{corpus.root}; set tokens: {{tokenizer: <id>}} in the recipe"
        )
    for key in ("window_s", "stride_s"):
        if windows == "fixed" and spec.get(key) is not None and spec[key] != chosen[key]:
            raise InvalidParameterError(
                f"the recipe asks tokens.{key}={spec[key]}, the token set {chosen['tokenizer']} "
                f"has {chosen[key]}; tokenize again with --{key.replace('_', '-')} {spec[key]}"
            )
    return chosen


class TokenWindows(torch.utils.data.Dataset):
    """Token windows of one token set of a corpus, read from memory maps.

    Parameters
    ----------
    corpus : path-like | Corpus
    token_set : dict | str
        An entry of ``Corpus.token_sets`` or its id.
    split : {"train", "valid", "test"} | None
        Keep the recordings of one subject-wise split (``Corpus.split(fractions, seed)``).
    fractions, seed : subject fractions and seed of the split.
    labelled : bool
        Keep only windows with a label (manifest windows of a labelled corpus).

    An item: ``codes`` int64 ``[s, k, n]`` (-1 on missing frames), ``label`` int64 (index into
    ``classes``, the sorted labels of the whole corpus; -1 unlabeled), ``recording`` int.
    """

    def __init__(self, corpus, token_set, *, split=None, fractions=(0.8, 0.1, 0.1), seed=0,
                 labelled=False):  # fmt: skip
        from ..corpus import Corpus

        self.corpus = corpus if isinstance(corpus, Corpus) else Corpus(corpus)
        if isinstance(token_set, str):
            found = [t for t in self.corpus.token_sets if t["tokenizer"] == token_set]
            if not found:
                ids = [t["tokenizer"] for t in self.corpus.token_sets]
                raise InvalidParameterError(f"token_set={token_set!r}; the corpus has {ids}")
            token_set = found[0]
        self.token_set = token_set
        c = self.corpus
        keep = set(range(len(c))) if split is None else set(c.split(fractions, seed)[split])
        self.classes = sorted({lab for lab in c.window_labels if lab is not None})
        index = {r["key"]: i for i, r in enumerate(c.recordings)}
        codes = {lab: i for i, lab in enumerate(self.classes)}
        self._arrays, self._paths, items = {}, {}, []
        for row in token_set["rows"]:
            r = index.get(row["key"])
            if r is None or r not in keep:
                continue
            n = np.load(c.root / row["array"], mmap_mode="r").shape[0]
            labels = [-1] * n
            if token_set["windows"] == "manifest":
                names = [c.window_labels[j] for j in np.flatnonzero(c.window_recording == r)]
                if len(names) != n:
                    raise InvalidParameterError(
                        f"{row['array']} holds {n} windows, the manifest {len(names)}: the "
                        "corpus changed since it was tokenized; tokenize it again"
                    )
                labels = [codes.get(lab, -1) for lab in names]
            self._paths[r] = c.root / row["array"]
            items += [(r, j, lab) for j, lab in enumerate(labels) if lab >= 0 or not labelled]
        self._items = np.array(items, dtype=np.int64).reshape(-1, 3)
        self.labels = self._items[:, 2]

    def __len__(self) -> int:
        return len(self._items)

    def __getstate__(self):  # memory maps are reopened in each process
        return {**self.__dict__, "_arrays": {}}

    def __getitem__(self, i: int) -> dict:
        r, j, label = (int(v) for v in self._items[i])
        if r not in self._arrays:
            self._arrays[r] = np.load(self._paths[r], mmap_mode="r")
        codes = torch.from_numpy(np.asarray(self._arrays[r][j], dtype=np.int64))
        return {"codes": codes, "label": torch.tensor(label), "recording": r}


def collate_tokens(items) -> dict:
    """Batch of :class:`TokenWindows` items: ``codes`` ``[b, s, k, n_max]`` (0 where padded),
    ``mask`` ``[b, s, n_max]`` (False on missing frames), ``label``/``recording`` ``[b]``."""
    n = max(it["codes"].shape[-1] for it in items)
    codes = torch.stack(
        [torch.nn.functional.pad(it["codes"], (0, n - it["codes"].shape[-1]), value=-1)
         for it in items]
    )  # fmt: skip
    mask = (codes >= 0).all(dim=2)
    return {
        "codes": codes.clamp_min(0),
        "mask": mask,
        "label": torch.stack([torch.as_tensor(it["label"]) for it in items]).long(),
        "recording": torch.tensor([int(it["recording"]) for it in items]),
    }


# ------------------------------------------------------------------ drivers
def _train_config(rec: dict, out, max_steps, progress):
    from ..training import TrainConfig

    train = {"tensorboard": False, **(rec.get("train") or {})}
    if max_steps is not None:
        train["max_steps"] = int(max_steps)
    return TrainConfig(out_dir=str(out), progress=progress, **train)


def _splits(rec: dict) -> tuple:
    spec = rec.get("split") or {}
    return tuple(spec.get("fractions", (0.8, 0.1, 0.1))), int(spec.get("seed", 0))


def pretrain(recipe, corpus, out, *, max_steps=None, progress=True) -> Path:
    """Pretrain BrainOmni on the BrainTokenizer tokens of ``corpus`` (fixed windows); returns
    ``out/model`` (its tokenizer is copied to ``out/tokenizer``). Resumes a killed run.

    With a ``split`` section, trains on the train subjects and evaluates on the valid ones;
    without, trains on every recording.
    """
    from ..corpus import Corpus
    from ..tokenizers import Tokenizer
    from ..training import Trainer
    from .brainomni import BrainOmni

    rec = load_model_recipe(recipe, "brainomni")
    corpus = Corpus(corpus)
    tset = find_token_set(corpus, rec.get("tokens"), windows="fixed")
    tok_dir = corpus.root / "tokens" / tset["tokenizer"] / "tokenizer"
    tok = Tokenizer.from_pretrained(tok_dir)
    fractions, seed = _splits(rec)
    has_split = rec.get("split") is not None
    train_ds = TokenWindows(corpus, tset, split="train" if has_split else None,
                            fractions=fractions, seed=seed)  # fmt: skip
    valid = TokenWindows(corpus, tset, split="valid", fractions=fractions, seed=seed)
    init = {"from_tokenizer": True, "freeze_embeddings": True, **(rec.get("init") or {})}
    n_times = int(round(tset["window_s"] * tok.sfreq))
    kwargs = {"n_sources": int(tok.config["n_sources"]), "sfreq": tok.sfreq,
              "n_times": n_times, **(rec.get("kwargs") or {})}  # fmt: skip
    preset = rec.get("preset")
    if init["from_tokenizer"]:
        model = BrainOmni.from_tokenizer(
            tok, preset=preset, source_vectors=tok.source_vectors,
            freeze_embeddings=bool(init["freeze_embeddings"]), **kwargs,
        )  # fmt: skip
    else:
        kwargs.update(n_levels=len(tset["codebook_sizes"]),
                      codebook_size=int(tset["codebook_sizes"][0]))  # fmt: skip
        model = BrainOmni(**{**(BrainOmni.presets[preset] if preset else {}), **kwargs})
    config = _train_config(rec, out, max_steps, progress)
    trainer = Trainer(model, train_ds, config=config, collate_fn=collate_tokens,
                      eval_dataset=valid if has_split and len(valid) else None)  # fmt: skip
    trainer.fit()
    final = Path(out) / "model"
    if trainer._ctx.main:
        tok.save_pretrained(Path(out) / "tokenizer", meta={"token_set": tset["tokenizer"]})
        meta = {"recipe": rec, "corpus": str(corpus.root), "token_set": tset["tokenizer"],
                "steps": config.max_steps}  # fmt: skip
        model.save_pretrained(final, meta=meta)
    return final


def _backbone_dirs(backbone) -> tuple:
    """``(model folder, tokenizer folder)`` of a pretraining run or a saved model."""
    path = Path(backbone)
    model = path / "model" if (path / "model" / "config.json").exists() else path
    if not (model / "config.json").exists():
        raise InvalidParameterError(
            f"backbone {str(path)!r} is neither a pretraining run (model/config.json) nor a "
            "saved BrainOmni model (config.json); run neurokit train pretrain first"
        )
    for cand in (model.parent / "tokenizer", model / "tokenizer", path / "tokenizer"):
        if (cand / "config.json").exists():
            return model, cand
    raise InvalidParameterError(
        f"no tokenizer beside the backbone {model} (expected {model.parent / 'tokenizer'}, "
        "as neurokit train pretrain writes it)"
    )


def _stack(ds: TokenWindows) -> dict:
    return collate_tokens([ds[i] for i in range(len(ds))])


def finetune(recipe, corpus, backbone=None, out="runs/finetune", *, max_steps=None,
             progress=True) -> dict:  # fmt: skip
    """Fine-tune a BrainOmni classifier on the labelled windows of ``corpus``.

    The windows are encoded with the backbone's tokenizer first (``tokens/<id>-manifest``,
    skipped when done). Subject-wise split from the recipe's ``split`` section; the test
    subjects give the reported metrics (:func:`neurokit.metrics.classification_report`).

    Returns
    -------
    dict: ``model`` (``out/model``), ``classes``, ``n_windows`` per split, ``test`` (accuracy,
    balanced_accuracy, kappa, f1_weighted, roc_auc), also written to ``out/test_metrics.json``.
    """
    from ..training.distributed import setup, teardown

    rec = load_model_recipe(recipe, "brainomni_classifier")
    backbone = backbone or rec.get("from_pretrained_backbone")
    if backbone is None:
        raise InvalidParameterError("no backbone: pass --backbone RUN (a pretraining run)")
    model_dir, tok_dir = _backbone_dirs(backbone)
    config = _train_config(rec, out, max_steps, progress)
    ctx = setup(config.device)  # under torchrun: rank 0 tokenizes while the others wait
    done = False
    try:
        result = _finetune(rec, corpus, model_dir, tok_dir, config, ctx)
        done = True
    finally:
        teardown(ctx, wait=done)
    return result


def _finetune(rec, corpus_dir, model_dir, tok_dir, config, ctx) -> dict:
    from ..corpus import Corpus
    from ..tokenizers.pipeline import tokenize_corpus
    from ..training import Trainer
    from .brainomni_heads import BrainOmniClassifier

    if ctx.main:
        tokenize_corpus(tok_dir, corpus_dir, windows="manifest", progress=False)
    ctx.barrier()
    token_id = tokenize_corpus(tok_dir, corpus_dir, windows="manifest", progress=False)
    corpus = Corpus(corpus_dir)
    fractions, seed = _splits(rec)
    parts = {name: TokenWindows(corpus, token_id["tokenizer"], split=name, fractions=fractions,
                                seed=seed, labelled=True)
             for name in ("train", "valid", "test")}  # fmt: skip
    sizes = {name: len(ds) for name, ds in parts.items()}
    classes = parts["train"].classes
    if len(classes) < 2 or not sizes["train"] or not sizes["test"]:
        raise InvalidParameterError(
            f"{corpus.root}: {len(classes)} window labels {classes}, labelled windows per split "
            f"{sizes} with split fractions {fractions}; fine-tuning needs two classes and "
            "train and test subjects (build the corpus with event windows, or change "
            "split.fractions)"
        )
    kwargs = rec.get("kwargs") or {}
    model = BrainOmniClassifier.from_pretrained_backbone(
        model_dir, n_outputs=len(classes), n_blocks=rec.get("n_blocks"), **kwargs
    )
    trainer = Trainer(model, parts["train"], config=config, collate_fn=collate_tokens,
                      eval_dataset=parts["valid"] if sizes["valid"] else None)  # fmt: skip
    trainer.fit()
    out = Path(config.out_dir)
    test = _stack(parts["test"])
    report = model.evaluate(test["codes"], test["label"], test["mask"])
    result = {"model": str(out / "model"), "classes": classes, "n_windows": sizes,
              "subjects": len(corpus.subjects()), "test": report}  # fmt: skip
    if ctx.main:
        meta = {"recipe": rec, "corpus": str(corpus.root), "backbone": str(model_dir),
                "classes": classes, "test": report, "steps": config.max_steps}  # fmt: skip
        model.save_pretrained(out / "model", meta=meta)
        (out / "test_metrics.json").write_text(json.dumps(result, indent=2))
    return result


def run_cli(args) -> int:
    """``neurokit train pretrain|finetune`` (parsed by :mod:`neurokit.cli.train`)."""
    if args.corpus is None:
        raise InvalidParameterError(
            f"--corpus is required to {args.what}: a corpus folder holding BrainTokenizer tokens "
            "(pretrain) or labelled windows (finetune)"
        )
    if getattr(args, "data", None) is not None:
        raise InvalidParameterError(f"--data is for denoisers; {args.what} reads --corpus")
    progress = not args.quiet
    if args.what == "pretrain":
        if args.backbone is not None:
            raise InvalidParameterError("--backbone is for finetune; pretrain starts from scratch")
        final = pretrain(args.recipe, args.corpus, args.out, max_steps=args.max_steps,
                         progress=progress)  # fmt: skip
        print(f"neurokit train: BrainOmni saved to {final}")
        return 0
    result = finetune(args.recipe, args.corpus, args.backbone, args.out,
                      max_steps=args.max_steps, progress=progress)  # fmt: skip
    scores = ", ".join(f"{k} {v:.3f}" for k, v in result["test"].items() if v is not None)
    print(
        f"neurokit train: classifier saved to {result['model']}; {len(result['classes'])} "
        f"classes, windows {result['n_windows']}; test subjects: {scores}"
    )
    return 0


def synthetic_labelled_recordings(
    folder, *, n_subjects=3, n_trials=12, trial_s=4.0, freqs=(8.0, 13.0), n_channels=8, seed=0
) -> list:
    """Write ``n_subjects`` FIF files (``sub-XX_task-ssvep_raw.fif``) of synthetic EEG at 256 Hz
    with labelled steady-state trials, for demos and tests without real data.

    Each trial (``trial_s`` seconds, 1 s apart) adds a sinusoid at one of ``freqs`` (cycled)
    of twice the channels' standard deviation to every EEG channel, and is annotated with its
    label ``"<f>Hz"`` (build the corpus with ``windows: {events: {tmin_s: 0, tmax_s:
    trial_s}}``). Returns the paths.
    """
    import mne

    from ..io import synthetic

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for subject in range(n_subjects):
        duration = n_trials * (trial_s + 1.0) + 1.0
        rec = synthetic("eeg", n_channels=n_channels, duration_s=duration, seed=seed + subject)
        raw, sfreq = rec.raw, rec.sfreq
        eeg = mne.pick_types(raw.info, eeg=True)
        data = raw.get_data()
        onsets, labels = [], []
        for k in range(n_trials):
            f, onset = freqs[k % len(freqs)], 1.0 + k * (trial_s + 1.0)
            a, b = int(onset * sfreq), int((onset + trial_s) * sfreq)
            t = np.arange(b - a) / sfreq
            amp = 2.0 * data[eeg].std(axis=1, keepdims=True)
            data[eeg, a:b] += amp * np.sin(2 * np.pi * f * t + subject)
            onsets.append(onset)
            labels.append(f"{f:g}Hz")
        raw._data[:] = data
        raw.set_annotations(mne.Annotations(onsets, [trial_s] * n_trials, labels))
        path = folder / f"sub-{subject + 1:02d}_task-ssvep_raw.fif"
        raw.save(path, overwrite=True, verbose="error")
        paths.append(path)
    return paths


# ------------------------------------------------------------------ DDP self-test
class _SyntheticWindows(torch.utils.data.Dataset):
    """``n`` windows of white noise on one scalp montage (``n_channels`` EEG sensors spread on
    the upper half of a 9-cm sphere), as :class:`~neurokit.corpus.CorpusDataset` items."""

    def __init__(self, n=16, n_channels=6, n_times=512, seed=0):
        from ..sensors import SENSOR_TYPES

        gen = torch.Generator().manual_seed(seed)
        angle = torch.arange(n_channels) * 2.399963  # golden-angle spiral
        height = 1.0 - (torch.arange(n_channels) + 0.5) / n_channels
        ring = (1.0 - height**2).sqrt()
        self.pos = 0.09 * torch.stack([ring * angle.cos(), ring * angle.sin(), height], dim=1)
        self.ori = torch.zeros(n_channels, 3)
        self.type_id = torch.full((n_channels,), SENSOR_TYPES.index("eeg"), dtype=torch.int64)
        self.x = torch.randn(n, n_channels, n_times, generator=gen)
        self.channel_counts = np.full(n, n_channels)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(x=self.x[i], pos=self.pos, ori=self.ori, type_id=self.type_id,
                    label=torch.tensor(-1), recording=0, start=0)  # fmt: skip


def selftest_ddp(argv=None) -> int:
    """Train a tiny BrainTokenizer a few steps (the path of ``train_tokenizer``), on one
    process or under ``torchrun``; rank 0 saves ``OUT/final`` and prints ``SELFTEST {json}``.

    Training corruption (hidden channels, noise) and dead-code replacement are off: their
    random draws come from each process's own stream, so they differ with the number of
    processes by design. Everything else (data sharding, gradient averaging, EMA codebooks,
    k-means initialization) must give the run of one process with the same global batch.
    """
    from ..corpus import collate
    from ..tokenizers import create_tokenizer
    from ..tokenizers.pipeline import fit_tokenizer
    from ..training import TrainConfig

    p = argparse.ArgumentParser(prog="python -m neurokit.models.brainomni_pipeline")
    p.add_argument("--selftest-ddp", action="store_true", help="run the DDP self-test")
    p.add_argument("--out", default="runs/selftest_brain")
    p.add_argument("--batch-size", type=int, default=4, help="windows per process per step")
    p.add_argument("--max-steps", type=int, default=3)
    p.add_argument("--n-items", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if not args.selftest_ddp:
        p.print_help()
        return 2
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    print(f"selftest: rank {rank} of {world} started", flush=True)
    torch.manual_seed(args.seed)  # the same initial weights on every process
    tok = create_tokenizer("brain", "tiny", channel_drop=0.0, noise_std=0.0,
                           dead_code_threshold=0.0, kmeans_init=False)  # fmt: skip
    config = TrainConfig(
        out_dir=args.out, lr=2e-3, max_steps=args.max_steps, batch_size=args.batch_size,
        grad_clip=None, log_every=1, checkpoint_every=0, keep_checkpoints=1, seed=args.seed,
        device="cpu", progress=False, tensorboard=False,
    )  # fmt: skip
    data = _SyntheticWindows(n=args.n_items, seed=args.seed)
    trainer = fit_tokenizer(tok, data, config, collate_fn=collate)
    if rank == 0:
        tok.save_pretrained(Path(args.out) / "final")
        summary = {"world_size": world, "steps": trainer.step,
                   "loss": [h["loss"] for h in trainer.history]}  # fmt: skip
        print("SELFTEST " + json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover - run by the tests through torchrun
    sys.exit(selftest_ddp())
