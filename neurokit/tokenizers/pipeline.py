"""Train a tokenizer on a corpus from a recipe, and write its tokens into the corpus.

A tokenizer recipe (``tokenizers/<name>.yaml``)::

    name: tfm_tiny
    tokenizer: tfm            # registry name
    preset: tiny              # optional; kwargs override it
    kwargs: {}
    data: {window_s: 10.0, stride_s: 10.0, picks: [eeg]}    # CorpusDataset options
    train: {max_steps: 200, batch_size: 16, lr: 0.001}      # TrainConfig fields

Training batches come from :class:`~neurokit.corpus.BucketBatchSampler` (the trainer's default
for a corpus), so a batch never mixes montages of different sizes: each recording's channels
are encoded as they are, with no padding.

Tokens are stored per recording as ``tokens/<tokenizer id>/<recording>.npy`` with shape
``[windows, streams, levels, frames]`` (int32) and one ``tokens`` manifest row each, and the
tokenizer itself is copied to ``tokens/<tokenizer id>/tokenizer/`` (so a model trained on the
tokens can find the code vectors). Two kinds of windows (``windows``):

- ``"fixed"``: windows of ``window_s`` every ``stride_s`` seconds (default: the training
  recipe's data section), unlabeled; for pretraining;
- ``"manifest"``: the corpus's own windows in manifest order (event-locked trials with their
  labels, e.g. ``datasets/kalunga2016_ssvep.yaml``); for fine-tuning. Windows of one recording
  shorter than the longest get code ``-1`` on their missing frames.

Writing is resumable and atomic like preprocessing: a rerun skips what is there.

Multi-process training (``torchrun``): the EMA codebooks of the tokenizer's vector quantizers
are updated from the vectors of the whole global batch (gathered from every process), and
their k-means initialization runs on the first global batch with a seed that does not depend
on the process, so a run on N processes follows a single process with the same global batch
(checked by ``python -m neurokit.models.brainomni_pipeline --selftest-ddp``). The BrainOmni
reference does the same with all-reduced EMA statistics; here the hooks of
:func:`sync_quantizers` do it from outside :mod:`neurokit.nn.quantizers`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidParameterError
from .base import Tokenizer, create_tokenizer

__all__ = [
    "load_recipe",
    "train_tokenizer",
    "fit_tokenizer",
    "tokenize_corpus",
    "sync_quantizers",
    "TOKENS_SCHEMA",
    "WINDOW_KINDS",
]

_KEYS = {"name", "tokenizer", "preset", "kwargs", "data", "train", "description"}
WINDOW_KINDS = ("fixed", "manifest")

TOKENS_SCHEMA = """
CREATE TABLE IF NOT EXISTS token_sets (
    tokenizer TEXT PRIMARY KEY, name TEXT NOT NULL, config TEXT NOT NULL,
    frame_rate REAL NOT NULL, codebook_sizes TEXT NOT NULL, window_s REAL NOT NULL,
    stride_s REAL NOT NULL, windows TEXT NOT NULL DEFAULT 'fixed');
CREATE TABLE IF NOT EXISTS tokens (
    tokenizer TEXT NOT NULL, key TEXT NOT NULL, array TEXT NOT NULL,
    n_windows INTEGER NOT NULL, n_streams INTEGER NOT NULL, n_levels INTEGER NOT NULL,
    n_frames INTEGER NOT NULL, PRIMARY KEY (tokenizer, key));
"""


def load_recipe(path) -> dict:
    """Read and check a tokenizer recipe (keys and the registry name)."""
    import yaml

    from ..preprocessing.pipeline import recipe_dirs

    path = Path(path)
    if not path.exists():
        cands = [d.parent / "tokenizers" / f"{path.stem}.yaml" for d in recipe_dirs()]
        path = next((c for c in cands if c.exists()), path)
    if not path.exists():
        raise InvalidParameterError(f"tokenizer recipe {str(path)!r} not found")
    data = yaml.safe_load(path.read_text()) or {}
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise InvalidParameterError(
            f"recipe {path}: unknown key {unknown[0]!r}; allowed: {sorted(_KEYS)}"
        )
    if "tokenizer" not in data:
        raise InvalidParameterError(f"recipe {path}: missing key 'tokenizer' (a registry name)")
    data.setdefault("name", path.stem)
    return data


def _dataset(corpus, data: dict, tok: Tokenizer, split=None):
    from ..corpus import CorpusDataset

    ds = CorpusDataset(
        corpus,
        window_s=data.get("window_s", 10.0),
        stride_s=data.get("stride_s"),
        picks=data.get("picks"),
        split=split,
    )
    if ds.sfreq is not None and abs(ds.sfreq - tok.sfreq) > 1e-6:
        raise InvalidParameterError(
            f"corpus sfreq {ds.sfreq:g} Hz does not match the {tok.name} tokenizer's sfreq "
            f"{tok.sfreq:g} Hz; build the corpus with a resample step (resample: {{sfreq: "
            f"{tok.sfreq:g}}}) or set kwargs.sfreq in the recipe"
        )
    return ds


# ------------------------------------------------------------------ quantizers under DDP
def _group():
    dist = torch.distributed
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _gather_rows(t: torch.Tensor) -> torch.Tensor:
    """Concatenation in rank order of every process's ``t`` ``[n_rank, ...]`` (sizes may
    differ between processes)."""
    dist = torch.distributed
    n = torch.tensor([t.shape[0]], device=t.device)
    sizes = [torch.zeros_like(n) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, n)
    sizes = [int(s) for s in sizes]
    pad = t.new_zeros((max(sizes) - t.shape[0], *t.shape[1:]))
    parts = [t.new_empty((max(sizes), *t.shape[1:])) for _ in sizes]
    dist.all_gather(parts, torch.cat([t, pad]))
    return torch.cat([p[:s] for p, s in zip(parts, sizes)])


def _vectors(vq, args) -> tuple:
    """The valid vectors ``[m, codebook_dim]`` a quantizer call gets (as its EMA sees them) and
    the flat validity mask."""
    x, mask = args[0], (args[1] if len(args) > 1 else None)
    z = vq.project_in(x.detach()).reshape(-1, vq.codebook_dim).to(vq.codebook.dtype)
    if vq.l2_normalized:
        z = torch.nn.functional.normalize(z, dim=-1)
    valid = None if mask is None else mask.reshape(-1)
    return (z if valid is None else z[valid]), valid


def _seeded(vq, seed: int):
    """A private RNG context seeded from ``seed`` and the quantizer's statistics (equal on
    every process once they are synchronised, and restored from a checkpoint on resume)."""
    device = vq.codebook.device
    forked = torch.random.fork_rng(devices=[device] if device.type == "cuda" else [])
    state = int(float(vq.cluster_size.double().sum()) * 1000) % (2**31)
    torch.manual_seed(int(seed) * 1_000_003 + state)
    return forked


def _pre_hook(vq, args):
    group = _group()
    if not vq.training or not (group or vq.kmeans_init and not bool(vq.initialized)):
        return
    with torch.no_grad():
        chosen, _ = _vectors(vq, args)
        if group:
            chosen = _gather_rows(chosen)
        if not bool(vq.initialized) and chosen.shape[0] > 0:
            with _seeded(vq, vq._nk_seed):
                vq._kmeans(chosen)
        if group:  # the state the update of this step starts from
            vq._nk_snapshot = [b.clone() for b in (vq.codebook, vq.cluster_size, vq.embed_sum)]


def _post_hook(vq, args, output):
    snapshot = getattr(vq, "_nk_snapshot", None)
    if not vq.training or snapshot is None:
        return
    vq._nk_snapshot = None
    with torch.no_grad():
        chosen, valid = _vectors(vq, args)
        codes = output.codes.reshape(-1)
        codes = codes if valid is None else codes[valid]
        for buffer, old in zip((vq.codebook, vq.cluster_size, vq.embed_sum), snapshot):
            buffer.copy_(old)  # undo the update from this process's share only
        chosen, codes = _gather_rows(chosen), _gather_rows(codes)
        if chosen.shape[0]:
            counts = torch.bincount(codes, minlength=vq.codebook_size).to(chosen.dtype)
            with _seeded(vq, vq._nk_seed):  # dead-code draws: the same on every process
                vq._ema_update(chosen, codes, counts)


def sync_quantizers(model, *, seed: int = 0) -> list:
    """Make the vector quantizers of ``model`` train alike on one or several processes.

    Forward hooks on every :class:`~neurokit.nn.quantizers.VectorQuantizer` (training mode
    only): the k-means initialization runs on the first batch under a private RNG seeded from
    ``seed`` (the same on every process), and, in a multi-process group, on the vectors of
    every process; the EMA update of each step is redone from the vectors and codes gathered
    from every process (so the codebooks follow the global batch, not rank 0's share).
    Returns the hook handles (``h.remove()`` undoes it).
    """
    from ..nn.quantizers import VectorQuantizer

    handles = []
    for module in model.modules():
        if isinstance(module, VectorQuantizer):
            module._nk_seed, module._nk_snapshot = int(seed), None
            handles.append(module.register_forward_pre_hook(_pre_hook))
            handles.append(module.register_forward_hook(_post_hook))
    return handles


# ------------------------------------------------------------------ training
def fit_tokenizer(tok: Tokenizer, dataset, config, **trainer_kwargs):
    """Train ``tok`` on ``dataset`` with :class:`~neurokit.training.Trainer` (quantizers
    synchronised across processes, see :func:`sync_quantizers`); returns the trainer."""
    from ..training import Trainer

    handles = sync_quantizers(tok, seed=config.seed)
    trainer = Trainer(
        tok,
        dataset,
        config=config,
        loss_fn=lambda model, batch: dict(model(batch).losses),
        model_config=tok.get_config(),
        **trainer_kwargs,
    )
    try:
        trainer.fit()
    finally:
        for h in handles:
            h.remove()
    return trainer


def train_tokenizer(recipe, corpus, out, *, max_steps=None, progress=True) -> Path:
    """Train the recipe's tokenizer on ``corpus``; returns the folder of the final model
    (``out/model``, loadable with ``Tokenizer.from_pretrained``). Resumes a killed run."""
    from ..training import TrainConfig

    rec = load_recipe(recipe) if not isinstance(recipe, dict) else recipe
    tok = create_tokenizer(rec["tokenizer"], rec.get("preset"), **(rec.get("kwargs") or {}))
    ds = _dataset(corpus, rec.get("data") or {}, tok)
    train = {**(rec.get("train") or {})}
    if max_steps is not None:
        train["max_steps"] = int(max_steps)
    config = TrainConfig(out_dir=str(out), progress=progress, **train)
    trainer = fit_tokenizer(tok, ds, config)
    final = Path(out) / "model"
    if trainer._ctx.main:
        meta = {"recipe": rec, "corpus": str(corpus), "steps": config.max_steps}
        tok.save_pretrained(final, meta=meta)
    return final


# ------------------------------------------------------------------ tokens
def _model_dir(checkpoint) -> Path:
    path = Path(checkpoint)
    if (path / "model" / "config.json").exists():
        return path / "model"
    if (path / "config.json").exists():
        return path
    raise InvalidParameterError(
        f"{path} is neither a saved tokenizer (config.json) nor a "
        "training run folder (model/config.json)"
    )


def _open_token_tables(corpus_dir):
    from ..corpus import manifest as mf

    con = mf.connect(corpus_dir)
    con.executescript(TOKENS_SCHEMA)
    cols = [c[1] for c in con.execute("PRAGMA table_info(token_sets)")]
    if "windows" not in cols:  # a corpus tokenized before manifest windows existed
        con.execute("ALTER TABLE token_sets ADD COLUMN windows TEXT NOT NULL DEFAULT 'fixed'")
    return con


def _encode_windows(tok, ds, idx, batch_size) -> np.ndarray:
    """Codes ``[w, s, k, n]`` int32 of the items ``idx`` of ``ds`` (batches of one length;
    frames missing from shorter windows are -1)."""
    from ..corpus import collate

    lengths = np.array([ds.window(int(i))[2] - ds.window(int(i))[1] for i in idx])
    out = [None] * len(idx)
    with torch.no_grad():
        for length in np.unique(lengths):
            same = np.flatnonzero(lengths == length)
            for a in range(0, len(same), batch_size):
                part = same[a : a + batch_size]
                codes = tok.encode(collate([ds[int(idx[j])] for j in part])).codes
                for j, c in zip(part, codes.numpy().astype(np.int32)):
                    out[j] = c
    if not out:
        return np.zeros((0, 0, 0, 0), np.int32)
    n = max(c.shape[-1] for c in out)
    return np.stack([np.pad(c, ((0, 0), (0, 0), (0, n - c.shape[-1])), constant_values=-1)
                     for c in out])  # fmt: skip


def tokenize_corpus(
    checkpoint,
    corpus_dir,
    *,
    window_s=None,
    stride_s=None,
    windows="fixed",
    batch_size=32,
    progress=True,
) -> dict:
    """Encode every recording of the corpus into ``tokens/<id>/`` (resumable).

    Parameters
    ----------
    checkpoint : path-like
        A saved tokenizer or a training run folder.
    corpus_dir : path-like
    window_s, stride_s : float | None
        Fixed windows in seconds (default: the training recipe's, else 10 s).
    windows : {"fixed", "manifest"}
        Fixed windows, or the corpus's own (labelled) windows; see the module docstring.
    batch_size : int
        Windows per encoder call.

    Returns
    -------
    dict: ``tokenizer`` (the token set id: ``<name>-<weights hash>``, plus ``-manifest`` for
    manifest windows), ``recordings``, ``written``, ``skipped``.
    """
    from tqdm.auto import tqdm

    from ..corpus import Corpus
    from ..corpus.writer import write_array_atomic

    if windows not in WINDOW_KINDS:
        raise InvalidParameterError(f"windows={windows!r}; allowed: {list(WINDOW_KINDS)}")
    if windows == "manifest" and (window_s is not None or stride_s is not None):
        raise InvalidParameterError(
            "window_s/stride_s are for windows='fixed'; manifest windows have their own bounds"
        )
    model_dir = _model_dir(checkpoint)
    tok = Tokenizer.from_pretrained(model_dir).eval()
    meta = (
        json.loads((model_dir / "meta.json").read_text())
        if (model_dir / "meta.json").exists()
        else {}
    )
    data = (meta.get("recipe") or {}).get("data") or {}
    weights = hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest()
    token_id = f"{tok.name}-{weights[:12]}" + ("-manifest" if windows == "manifest" else "")
    corpus = Corpus(corpus_dir)
    if windows == "fixed":
        window_s = float(window_s or data.get("window_s") or 10.0)
        stride_s = float(stride_s or data.get("stride_s") or window_s)
        spec = {"window_s": window_s, "stride_s": stride_s, "picks": data.get("picks")}
    else:
        spec = {"window_s": None, "picks": data.get("picks")}
    ds = _dataset(corpus, spec, tok)
    if windows == "manifest":
        bounds = corpus.window_bounds
        sizes = bounds[:, 1] - bounds[:, 0] if len(bounds) else np.zeros(1)
        window_s, stride_s = float(np.max(sizes)) / tok.sfreq, 0.0
    con = _open_token_tables(corpus_dir)
    old = con.execute(
        "SELECT window_s, stride_s FROM token_sets WHERE tokenizer = ?", (token_id,)
    ).fetchone()
    if windows == "fixed" and old is not None and tuple(old) != (window_s, stride_s):
        con.close()
        raise InvalidParameterError(
            f"{corpus_dir} already holds tokens of {token_id} on {old[0]:g}-s windows every "
            f"{old[1]:g} s; window_s={window_s:g}, stride_s={stride_s:g} would mix two "
            f"layouts. Keep the stored windows or tokenize into a copy of the corpus"
        )
    con.execute(
        "INSERT OR REPLACE INTO token_sets (tokenizer, name, config, frame_rate, "
        "codebook_sizes, window_s, stride_s, windows) VALUES (?,?,?,?,?,?,?,?)",
        (
            token_id,
            tok.name,
            json.dumps(tok.get_config(), sort_keys=True),
            tok.frame_rate,
            json.dumps(list(tok.codebook_sizes)),
            window_s,
            stride_s,
            windows,
        ),
    )
    folder = Path(corpus_dir) / "tokens" / token_id
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "tokenizer" / "model.safetensors").exists():
        tok.save_pretrained(folder / "tokenizer", meta={**meta, "token_set": token_id})
    done = {k for (k,) in con.execute("SELECT key FROM tokens WHERE tokenizer = ?", (token_id,))}
    written = 0
    todo = [r for r in ds.recordings if corpus.recordings[r]["key"] not in done]
    for r in tqdm(todo, disable=not progress, desc="tokenize", unit="rec"):
        codes = _encode_windows(tok, ds, np.flatnonzero(ds._rec == r), batch_size)
        key = corpus.recordings[r]["key"]
        name = f"tokens/{token_id}/{hashlib.sha256(key.encode()).hexdigest()[:24]}.npy"
        write_array_atomic(codes, Path(corpus_dir) / name)
        con.execute(
            "INSERT OR REPLACE INTO tokens VALUES (?,?,?,?,?,?,?)",
            (token_id, key, name, *[int(v) for v in codes.shape]),
        )
        written += 1
    con.close()
    return {
        "tokenizer": token_id,
        "recordings": len(ds.recordings),
        "written": written,
        "skipped": len(ds.recordings) - written,
    }
