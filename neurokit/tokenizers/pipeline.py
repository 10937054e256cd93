"""Train a tokenizer on a corpus from a recipe, and write its tokens into the corpus.

A tokenizer recipe (``tokenizers/<name>.yaml``)::

    name: tfm_tiny
    tokenizer: tfm            # registry name
    preset: tiny              # optional; kwargs override it
    kwargs: {}
    data: {window_s: 10.0, stride_s: 10.0, picks: [eeg]}    # CorpusDataset options
    train: {max_steps: 200, batch_size: 16, lr: 0.001}      # TrainConfig fields

Tokens are stored per recording as ``tokens/<tokenizer id>/<recording>.npy`` with shape
``[windows, streams, levels, frames]`` (int32) and one ``tokens`` manifest row each; the windows
are fixed (``window_s``/``stride_s`` of the recipe's data section). Writing is resumable and
atomic like preprocessing: a rerun skips what is there.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidParameterError
from .base import Tokenizer, create_tokenizer

__all__ = ["load_recipe", "train_tokenizer", "tokenize_corpus", "TOKENS_SCHEMA"]

_KEYS = {"name", "tokenizer", "preset", "kwargs", "data", "train", "description"}

TOKENS_SCHEMA = """
CREATE TABLE IF NOT EXISTS token_sets (
    tokenizer TEXT PRIMARY KEY, name TEXT NOT NULL, config TEXT NOT NULL,
    frame_rate REAL NOT NULL, codebook_sizes TEXT NOT NULL, window_s REAL NOT NULL,
    stride_s REAL NOT NULL);
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


def train_tokenizer(recipe, corpus, out, *, max_steps=None, progress=True) -> Path:
    """Train the recipe's tokenizer on ``corpus``; returns the folder of the final model
    (``out/model``, loadable with ``Tokenizer.from_pretrained``). Resumes a killed run."""
    from ..training import TrainConfig, Trainer

    rec = load_recipe(recipe) if not isinstance(recipe, dict) else recipe
    tok = create_tokenizer(rec["tokenizer"], rec.get("preset"), **(rec.get("kwargs") or {}))
    ds = _dataset(corpus, rec.get("data") or {}, tok)
    train = {**(rec.get("train") or {})}
    if max_steps is not None:
        train["max_steps"] = int(max_steps)
    config = TrainConfig(out_dir=str(out), progress=progress, **train)
    Trainer(
        tok,
        ds,
        config=config,
        loss_fn=lambda model, batch: dict(model(batch).losses),
        model_config=tok.get_config(),
    ).fit()
    final = Path(out) / "model"
    tok.save_pretrained(
        final, meta={"recipe": rec, "corpus": str(corpus), "steps": config.max_steps}
    )
    return final


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


def tokenize_corpus(
    checkpoint, corpus_dir, *, window_s=None, stride_s=None, batch_size=32, progress=True
) -> dict:
    """Encode every recording of the corpus into ``tokens/<id>/`` (resumable)."""
    from tqdm.auto import tqdm

    from ..corpus import Corpus, collate
    from ..corpus import manifest as mf
    from ..corpus.writer import write_array_atomic

    model_dir = _model_dir(checkpoint)
    tok = Tokenizer.from_pretrained(model_dir).eval()
    meta = (
        json.loads((model_dir / "meta.json").read_text())
        if (model_dir / "meta.json").exists()
        else {}
    )
    data = (meta.get("recipe") or {}).get("data") or {}
    window_s = float(window_s or data.get("window_s") or 10.0)
    stride_s = float(stride_s or data.get("stride_s") or window_s)
    weights = hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest()
    token_id = f"{tok.name}-{weights[:12]}"
    corpus = Corpus(corpus_dir)
    ds = _dataset(
        corpus, {"window_s": window_s, "stride_s": stride_s, "picks": data.get("picks")}, tok
    )
    con = mf.connect(corpus_dir)
    con.executescript(TOKENS_SCHEMA)
    con.execute(
        "INSERT OR REPLACE INTO token_sets VALUES (?,?,?,?,?,?,?)",
        (
            token_id,
            tok.name,
            json.dumps(tok.get_config(), sort_keys=True),
            tok.frame_rate,
            json.dumps(list(tok.codebook_sizes)),
            window_s,
            stride_s,
        ),
    )
    done = {k for (k,) in con.execute("SELECT key FROM tokens WHERE tokenizer = ?", (token_id,))}
    folder = Path(corpus_dir) / "tokens" / token_id
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    todo = [r for r in ds.recordings if corpus.recordings[r]["key"] not in done]
    for r in tqdm(todo, disable=not progress, desc="tokenize", unit="rec"):
        idx = np.flatnonzero(ds._rec == r)
        parts = []
        with torch.no_grad():
            for a in range(0, len(idx), batch_size):
                batch = collate([ds[int(i)] for i in idx[a : a + batch_size]])
                parts.append(tok.encode(batch).codes.numpy().astype(np.int32))
        codes = np.concatenate(parts) if parts else np.zeros((0, 0, 0, 0), np.int32)
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
