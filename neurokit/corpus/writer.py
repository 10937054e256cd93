"""Build a corpus: recordings -> recipe -> one ``.npy`` per recording + the SQLite manifest.

Crash safety: a worker writes the array to a temporary name, fsyncs it, renames it into place
and fsyncs the folder; only then does the main process commit the recording's manifest rows, in
one transaction. A build killed at any moment therefore leaves either a complete recording or
none in the manifest (at worst an array that is rewritten, with the same bytes, on the next run),
and rerunning skips every recording whose source (size, sha256) and recipe are unchanged.

Parallelism is joblib's: ``jobs`` worker processes, or a Dask cluster through joblib's Dask
backend. Each worker holds one recording at a time, so peak memory is bounded by ``jobs``
recordings whatever the corpus size.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import time
import warnings
from pathlib import Path

import numpy as np

from ..errors import InvalidParameterError, NeurokitError
from . import manifest as mf

__all__ = ["build_corpus", "discover", "digest"]

# Primary files (companions such as .vmrk/.eeg, .fdt, .dat, -eve.fif are found by the loader).
_PRIMARY = (
    ".fif",
    ".fif.gz",
    ".edf",
    ".bdf",
    ".gdf",
    ".vhdr",
    ".set",
    ".raw",
    ".cnt",
    ".cdt",
    ".data",
    ".lay",
    ".nxe",
    ".sqd",
    ".con",
    ".ns1",
    ".ns2",
    ".ns3",
    ".ns4",
    ".ns5",
    ".ns6",
    ".eeg",
)
_SKIP = re.compile(r"(-|_)(eve|ave|cov|fwd|inv|trans|epo|proj|sss|ica)\.fif(\.gz)?$|mrk", re.I)


def _is_folder_recording(path: Path) -> bool:
    suffix = path.suffix.lower()
    return (
        (suffix == ".ds" and any(path.glob("*.res4")))
        or (suffix == ".mff" and (path / "info.xml").exists())
        or any(path.glob("*.ncs"))
    )


def _is_primary(path: Path) -> bool:
    name = path.name.lower()
    if _SKIP.search(name) and not name.endswith("_raw_sss.fif"):
        return False
    if name.endswith(".eeg"):  # BrainVision data (has a .vhdr) is reached through its header
        return not path.with_suffix(".vhdr").exists() and any(
            path.with_suffix(e).exists() for e in (".PNT", ".pnt", ".21E", ".21e")
        )
    return name.endswith(_PRIMARY)


def discover(inputs) -> list:
    """Recording paths under ``inputs`` (files, folders searched recursively, BIDS roots),
    sorted and without duplicates."""
    found = []
    for item in inputs:
        path = Path(item)
        if not path.exists():
            raise InvalidParameterError(f"input {str(path)!r} does not exist")
        if path.is_file() or _is_folder_recording(path):
            found.append(path)
            continue
        for root, dirs, files in os.walk(path):
            root = Path(root)
            for d in list(dirs):
                if _is_folder_recording(root / d):
                    found.append(root / d)
                    dirs.remove(d)
            found.extend(root / f for f in files if _is_primary(root / f))
    return sorted({p.resolve() for p in found}, key=str)


def digest(path: Path) -> tuple:
    """``(size, sha256)`` of a file, or of every file of a folder recording (sorted by name)."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    h, size = hashlib.sha256(), 0
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda fh=fh: fh.read(1 << 22), b""):
                h.update(chunk)
                size += len(chunk)
    return size, h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_array_atomic(data: np.ndarray, final: Path) -> str:
    """Write ``data`` as ``.npy`` at ``final`` atomically (temp, fsync, rename); its sha256."""
    tmp = final.with_name(f"{final.name}.tmp{os.getpid()}")
    h = hashlib.sha256()
    with open(tmp, "wb") as f:
        np.lib.format.write_array(f, data, allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
    with open(tmp, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    os.replace(tmp, final)
    _fsync_dir(final.parent)
    return h.hexdigest()


def _subject(rec, path: Path, pattern: str | None) -> str:
    if rec.meta.get("subject"):
        return str(rec.meta["subject"])
    if pattern:
        match = re.search(pattern, path.name)
        if match:
            return match.group(1)
    return path.parent.name


def _encode(data: np.ndarray, dtype: str) -> tuple:
    """Cast to the storage dtype. float16 cannot hold volts or teslas (1e-6 and 1e-12 are below
    its normal range), so each channel is divided by a scale that maps its peak to 2**14; the
    scales are stored in the manifest and the reader multiplies them back."""
    if dtype == "float32":
        return data.astype(np.float32), np.ones(len(data))
    peak = np.abs(data).max(axis=1) if data.size else np.zeros(len(data))
    scales = np.where(np.isfinite(peak) & (peak > 0), peak / 2.0**14, 1.0)
    return (data / scales[:, None]).astype(np.float16), scales


def process_one(job: dict) -> dict:
    """Load, preprocess, window and store one recording (runs in a worker process)."""
    from .. import __version__
    from ..preprocessing import Pipeline
    from ..preprocessing.windows import make_windows

    base = {k: job[k] for k in ("key", "source", "size", "sha256", "recipe_hash")}
    pipe = Pipeline.from_dict(job["recipe"], source=job["recipe_source"])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rec = pipe.load(job["source"])
            bounds, labels = make_windows(rec, pipe.windows)
            data, scales = _encode(rec.get_data(), job["dtype"])
        if not np.isfinite(data).all():
            raise NeurokitError(
                "non-finite samples after preprocessing (NaN/inf); add a "
                "detect_bads + interpolate_bads step or drop the channel"
            )
    except Exception as err:  # a bad recording is a failure row; the batch goes on
        reason = str(err) if isinstance(err, NeurokitError) else f"{type(err).__name__}: {err}"
        return {
            **base,
            "failed": True,
            "error": type(err).__name__,
            "reason": reason.replace(job["source"] + ": ", "", 1),
        }
    out = Path(job["out"])
    array = f"arrays/{hashlib.sha256(job['key'].encode()).hexdigest()[:24]}.npy"
    array_sha = write_array_atomic(np.ascontiguousarray(data), out / array)
    meta = rec.meta
    return {
        **base,
        "failed": False,
        "array": array,
        "array_sha256": array_sha,
        "neurokit_version": __version__,
        "dataset": meta.get("dataset") or pipe.name,
        "subject": _subject(rec, Path(job["source"]), job.get("subject_pattern")),
        "session": meta.get("session"),
        "task": meta.get("task"),
        "run": meta.get("run"),
        "sfreq": rec.sfreq,
        "n_channels": len(rec.ch_names),
        "n_times": rec.n_times,
        "duration_s": rec.duration_s,
        "dtype": job["dtype"],
        "channel_types": rec.sensors.counts(),
        "sensors": rec.sensors.to_dict(),
        "scales": scales.tolist(),
        "windows": bounds.tolist(),
        "labels": labels,
        "history": rec.history,
        "warnings": sorted({str(w.message) for w in caught}),
    }


def _executor(jobs: int, dask: str | None):
    from joblib import Parallel, delayed, parallel_config

    @contextlib.contextmanager
    def run(todo):
        if dask:
            from distributed import Client

            with Client(dask), parallel_config(backend="dask"):
                yield Parallel(n_jobs=-1, return_as="generator_unordered")(
                    delayed(process_one)(j) for j in todo
                )
        elif jobs == 1:
            yield (process_one(j) for j in todo)
        else:
            yield Parallel(n_jobs=jobs, return_as="generator_unordered")(
                delayed(process_one)(j) for j in todo
            )

    return run


def build_corpus(
    inputs,
    recipe,
    out,
    *,
    jobs: int = 1,
    dask: str | None = None,
    dtype: str | None = None,
    quiet: bool = False,
) -> dict:
    """Build or resume the corpus in ``out`` from ``inputs`` with ``recipe``.

    Parameters
    ----------
    inputs : list of path-like
        Files, folders (searched recursively by known extensions) or BIDS roots.
    recipe : str | path-like | Pipeline
        A recipe name (see :func:`neurokit.preprocessing.list_recipes`), a YAML path, or a
        :class:`~neurokit.preprocessing.Pipeline`.
    out : path-like
        The corpus folder (created; resumed when it exists).
    jobs : int
        Worker processes (joblib).
    dask : str | None
        Address of a Dask scheduler; the per-recording work then runs on that cluster.
    dtype : {"float32", "float16"} | None
        Array dtype; default the recipe's.

    Returns
    -------
    dict
        ``inputs``, ``built``, ``skipped``, ``failed`` (this run), ``failures`` (in the
        corpus, for these inputs), ``hours_built``, ``seconds``, ``out``.
    """
    from tqdm.auto import tqdm

    from .. import __version__
    from ..preprocessing import Pipeline

    if jobs < 1:
        raise InvalidParameterError(f"jobs={jobs}; must be at least 1")
    pipe = recipe if isinstance(recipe, Pipeline) else Pipeline.from_recipe(recipe)
    if dtype is not None:
        pipe = Pipeline.from_dict({**pipe.to_dict(), "dtype": dtype}, source=pipe.source)
    out = Path(out)
    (out / "arrays").mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    lock = open(out / ".lock", "w")  # noqa: SIM115 - held for the whole build
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise InvalidParameterError(f"{out} is being written by another build") from None
    try:
        con = mf.connect(out, create=True)
        meta = mf.get_meta(con)
        if meta and meta.get("recipe_hash") != pipe.hash:
            raise InvalidParameterError(
                f"{out} holds a corpus built with recipe {meta.get('recipe_name')!r} (hash "
                f"{meta.get('recipe_hash', '')[:12]}); a corpus has one recipe: use another --out"
            )
        if not meta:
            con.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("format_version", mf.FORMAT_VERSION),
                    ("recipe_name", pipe.name),
                    ("recipe_hash", pipe.hash),
                    ("recipe", json.dumps(pipe.to_dict(), sort_keys=True)),
                    ("neurokit_version", __version__),
                ],
            )
        for stale in (out / "arrays").glob("*.tmp*"):
            stale.unlink()
        paths = discover(inputs)
        done = {
            k: (s, h, a)
            for k, s, h, a in con.execute(
                "SELECT key, size, sha256, array FROM recordings WHERE recipe_hash = ?",
                (pipe.hash,),
            )
        }
        failed = {
            k: (s, h)
            for k, s, h in con.execute(
                "SELECT key, size, sha256 FROM failures WHERE recipe_hash = ?", (pipe.hash,)
            )
        }
        todo, skipped = [], 0
        for path in paths:
            key = str(path)
            size, sha = digest(path)
            if key in done and done[key][:2] == (size, sha) and (out / done[key][2]).exists():
                skipped += 1
                continue
            if failed.get(key) == (size, sha):
                skipped += 1
                continue
            todo.append(
                {
                    "key": key,
                    "source": key,
                    "size": size,
                    "sha256": sha,
                    "recipe": pipe.to_dict(),
                    "recipe_source": pipe.source,
                    "recipe_hash": pipe.hash,
                    "out": str(out),
                    "dtype": pipe.dtype,
                    "subject_pattern": pipe.subject_pattern,
                }
            )
        built = n_failed = 0
        hours = 0.0
        bar = tqdm(
            total=len(todo), unit="rec", disable=quiet, desc="preprocess", dynamic_ncols=True
        )
        with _executor(jobs, dask)(todo) as results:
            for row in results:
                if row["failed"]:
                    mf.commit_failure(con, row)
                    n_failed += 1
                else:
                    mf.commit_recording(con, row)
                    built += 1
                    hours += row["duration_s"] / 3600
                elapsed_min = max(time.time() - t0, 1e-9) / 60
                bar.set_postfix(
                    hours=f"{hours:.2f}", rate=f"{hours / elapsed_min:.2f} h/min", failed=n_failed
                )
                bar.update()
        bar.close()
        keys = [str(p) for p in paths]
        total_failures = (
            con.execute(
                f"SELECT COUNT(*) FROM failures WHERE key IN ({','.join('?' * len(keys))})", keys
            ).fetchone()[0]
            if keys
            else 0
        )
        con.close()
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    return {
        "inputs": len(paths),
        "built": built,
        "skipped": skipped,
        "failed": n_failed,
        "failures": total_failures,
        "hours_built": round(hours, 6),
        "seconds": round(time.time() - t0, 3),
        "out": str(out),
    }
