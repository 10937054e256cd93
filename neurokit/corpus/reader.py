"""Read a corpus without torch: recordings, sensor tables, memory-mapped arrays, windows, splits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import InvalidParameterError
from ..sensors import SensorTable
from . import manifest as mf

__all__ = ["Corpus"]

SPLITS = ("train", "valid", "test")


def _token_sets(con) -> list:
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "token_sets" not in tables:
        return []
    cols = {c[1] for c in con.execute("PRAGMA table_info(token_sets)")}
    kind = "windows" if "windows" in cols else "'fixed'"  # corpora tokenized before 'windows'
    sets = []
    for tid, name, rate, sizes, window_s, stride_s, windows in con.execute(
        "SELECT tokenizer, name, frame_rate, codebook_sizes, window_s, stride_s, "
        f"{kind} FROM token_sets ORDER BY tokenizer"
    ):
        rows = [
            {"key": k, "array": a}
            for k, a in con.execute(
                "SELECT key, array FROM tokens WHERE tokenizer = ? ORDER BY key", (tid,)
            )
        ]
        sets.append(
            {
                "tokenizer": tid,
                "name": name,
                "frame_rate": rate,
                "codebook_sizes": json.loads(sizes),
                "window_s": window_s,
                "stride_s": stride_s,
                "windows": windows,
                "rows": rows,
            }
        )
    return sets


class Corpus:
    """A corpus folder written by :func:`neurokit.corpus.build_corpus`.

    Recordings are ordered by their key (the source path). Arrays are opened as read-only
    memory maps on first use, in whichever process uses them (safe with DataLoader workers).

    Examples
    --------
    >>> corpus = Corpus("my_corpus")                       # doctest: +SKIP
    >>> x = corpus.array(0)[:, 0:1024]                      # doctest: +SKIP
    """

    def __init__(self, root):
        self.root = Path(root)
        con = mf.connect(self.root)
        try:
            self.meta = mf.get_meta(con)
            cols = [c[1] for c in con.execute("PRAGMA table_info(recordings)")]
            self.recordings = []
            for values in con.execute("SELECT * FROM recordings ORDER BY key"):
                row = dict(zip(cols, values))
                row["channel_types"] = json.loads(row["channel_types"])
                self.recordings.append(row)
            index = {r["key"]: i for i, r in enumerate(self.recordings)}
            sensors = {}
            for row in con.execute(
                "SELECT key, name, type, x, y, z, ox, oy, oz, unit, grp, bad, scale "
                "FROM sensors ORDER BY key, idx"
            ):
                sensors.setdefault(row[0], []).append(row[1:])
            self._sensor_rows = sensors
            win = con.execute("SELECT key, start, stop, label FROM windows ORDER BY key, idx")
            rec_idx, bounds, labels = [], [], []
            for key, start, stop, label in win:
                rec_idx.append(index[key])
                bounds.append((start, stop))
                labels.append(label)
            self.window_recording = np.array(rec_idx, dtype=np.int64)
            self.window_bounds = np.array(bounds, dtype=np.int64).reshape(-1, 2)
            self.window_labels = labels
            self.token_sets = _token_sets(con)
            fcols = [c[1] for c in con.execute("PRAGMA table_info(failures)")]
            self.failures = [
                dict(zip(fcols, v)) for v in con.execute("SELECT * FROM failures ORDER BY key")
            ]
        finally:
            con.close()
        self._arrays = {}
        self._tables = {}

    def __len__(self) -> int:
        return len(self.recordings)

    def __repr__(self) -> str:
        return (
            f"<Corpus {str(self.root)!r} | {len(self)} recordings, "
            f"{len(self.window_bounds)} windows, recipe {self.meta.get('recipe_name')!r}>"
        )

    def array(self, i: int) -> np.ndarray:
        """Memory map ``(c, t)`` of recording ``i`` (read-only)."""
        if i not in self._arrays:
            self._arrays[i] = np.load(self.root / self.recordings[i]["array"], mmap_mode="r")
        return self._arrays[i]

    def channel_scale(self, i: int) -> np.ndarray:
        """Per-channel factors (c,) float32 that turn stored values into SI units (all ones for
        float32 corpora; float16 corpora store each channel divided by its scale)."""
        rows = self._sensor_rows[self.recordings[i]["key"]]
        return np.array([r[11] for r in rows], dtype=np.float32)

    def read(self, i: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Samples ``[start, stop)`` of recording ``i`` as float32 (c, t) in SI units."""
        x = np.asarray(self.array(i)[:, start:stop], dtype=np.float32)
        if self.recordings[i]["dtype"] != "float32":
            x *= self.channel_scale(i)[:, None]
        return x

    def sensors(self, i: int) -> SensorTable:
        """Sensor table of recording ``i``."""
        if i not in self._tables:
            rows = self._sensor_rows[self.recordings[i]["key"]]
            pos = np.array([[np.nan if v is None else v for v in r[2:5]] for r in rows])
            ori = np.array([[np.nan if v is None else v for v in r[5:8]] for r in rows])
            self._tables[i] = SensorTable(
                names=[r[0] for r in rows],
                types=[r[1] for r in rows],
                pos=pos,
                ori=ori,
                units=[r[8] for r in rows],
                groups=[r[9] or "" for r in rows],
                bads=[bool(r[10]) for r in rows],
            )
        return self._tables[i]

    def __getstate__(self):  # memory maps are reopened in the receiving process
        state = self.__dict__.copy()
        state["_arrays"] = {}
        return state

    # ------------------------------------------------------------------ subjects and splits
    def subjects(self) -> list:
        """Sorted ``(dataset, subject)`` pairs."""
        return sorted({(r["dataset"] or "", r["subject"] or "") for r in self.recordings})

    def split(self, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> dict:
        """Subject-wise split: ``{"train": [recording indices], "valid": [...], "test": [...]}``.

        Subjects are shuffled with ``seed`` and assigned by cumulative ``fractions``; all the
        recordings of a subject land in the same split.
        """
        fractions = np.asarray(fractions, dtype=float)
        if fractions.shape != (3,) or (fractions < 0).any() or not np.isclose(fractions.sum(), 1):
            raise InvalidParameterError(
                f"fractions={tuple(fractions)}; need three non-negative "
                "numbers (train, valid, test) summing to 1"
            )
        subjects = self.subjects()
        order = np.random.default_rng(seed).permutation(len(subjects))
        edges = np.round(np.cumsum(fractions) * len(subjects)).astype(int)
        which = {}
        for rank, s in enumerate(order):
            which[subjects[s]] = (
                SPLITS[int(np.searchsorted(edges, rank, side="right"))]
                if rank < edges[-1]
                else SPLITS[-1]
            )
        out = {name: [] for name in SPLITS}
        for i, r in enumerate(self.recordings):
            out[which[(r["dataset"] or "", r["subject"] or "")]].append(i)
        return out

    # ------------------------------------------------------------------ summary
    def info(self) -> dict:
        """JSON-able summary: recordings, subjects, hours (total and per sensor type), windows,
        failures with reasons, disk size."""
        hours = {"total": sum(r["duration_s"] for r in self.recordings) / 3600}
        for r in self.recordings:
            for t in r["channel_types"]:
                hours[t] = hours.get(t, 0.0) + r["duration_s"] / 3600
        labels = {}
        for lab in self.window_labels:
            if lab is not None:
                labels[lab] = labels.get(lab, 0) + 1
        disk = sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())
        return {
            "corpus": str(self.root),
            "recipe": self.meta.get("recipe_name"),
            "recipe_hash": self.meta.get("recipe_hash"),
            "recordings": len(self.recordings),
            "subjects": len(self.subjects()),
            "hours": {k: round(v, 6) for k, v in hours.items()},
            "windows": {"total": int(len(self.window_bounds)), "labels": labels},
            "failures": [
                {"source": f["source"], "error": f["error"], "reason": f["reason"]}
                for f in self.failures
            ],
            "disk_bytes": int(disk),
            "tokens": [self.token_stats(t) for t in self.token_sets],
        }

    def token_stats(self, token_set: dict) -> dict:
        """Codebook usage, perplexity and token rate of a token set written by
        ``neurokit tokenize``.

        Per quantizer level (one for TFM, the residual levels of a BrainTokenizer): the
        fraction of the codebook used and the perplexity ``exp(H)`` of the code histogram over
        all tokens of that level (padding codes ``-1`` left out). ``token_rate_hz`` is tokens
        per second per stream and level (the frame rate); ``streams`` are channels (TFM) or
        latent sources (BrainTokenizer); ``windows`` says which windows were encoded
        (``fixed`` or the corpus's ``manifest`` windows) and ``n_windows`` how many."""
        sizes = token_set["codebook_sizes"]
        counts = [np.zeros(n, dtype=np.int64) for n in sizes]
        n_streams = n_windows = 0
        for row in token_set["rows"]:
            codes = np.load(self.root / row["array"], mmap_mode="r")  # [w, s, k, n]
            n_streams = max(n_streams, codes.shape[1] if codes.ndim == 4 else 0)
            n_windows += codes.shape[0] if codes.ndim == 4 else 0
            for level, size in enumerate(sizes):
                if codes.size:
                    values = np.asarray(codes[:, :, level]).ravel()
                    counts[level] += np.bincount(values[values >= 0], minlength=size)[:size]
        levels = []
        for level, c in enumerate(counts):
            p = c / max(c.sum(), 1)
            nz = p[p > 0]
            levels.append(
                {
                    "level": level,
                    "codebook_size": int(len(c)),
                    "usage": round(float((c > 0).mean()), 6),
                    "perplexity": round(float(np.exp(-(nz * np.log(nz)).sum())), 3),
                    "tokens": int(c.sum()),
                }
            )
        return {
            "tokenizer": token_set["tokenizer"],
            "name": token_set["name"],
            "recordings": len(token_set["rows"]),
            "streams": n_streams,
            "token_rate_hz": token_set["frame_rate"],
            "window_s": token_set["window_s"],
            "windows": token_set.get("windows", "fixed"),
            "n_windows": int(n_windows),
            "levels": levels,
        }
