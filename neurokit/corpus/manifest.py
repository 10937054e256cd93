"""The corpus manifest: one SQLite database beside the arrays.

Tables: ``meta`` (recipe, its hash, format version), ``recordings`` (one row per stored
recording with provenance: source path, size, sha256, recipe hash, neurokit version),
``sensors`` (the sensor table of each recording), ``windows`` (sample bounds and labels),
``failures`` (source, reason); view ``subjects``. Rows carry no timestamps, so rebuilding the same
inputs with the same recipe gives the same rows.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

FORMAT_VERSION = "1"
MANIFEST = "manifest.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS recordings (
    key TEXT PRIMARY KEY, array TEXT NOT NULL, source TEXT NOT NULL, size INTEGER NOT NULL,
    sha256 TEXT NOT NULL, recipe_hash TEXT NOT NULL, neurokit_version TEXT NOT NULL,
    dataset TEXT, subject TEXT, session TEXT, task TEXT, run TEXT,
    sfreq REAL NOT NULL, n_channels INTEGER NOT NULL, n_times INTEGER NOT NULL,
    duration_s REAL NOT NULL, dtype TEXT NOT NULL, channel_types TEXT NOT NULL,
    array_sha256 TEXT NOT NULL, history TEXT NOT NULL, warnings TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sensors (
    key TEXT NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
    x REAL, y REAL, z REAL, ox REAL, oy REAL, oz REAL, unit TEXT, grp TEXT, bad INTEGER NOT NULL,
    scale REAL NOT NULL,
    PRIMARY KEY (key, idx));
CREATE TABLE IF NOT EXISTS windows (
    key TEXT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL, stop INTEGER NOT NULL,
    label TEXT, PRIMARY KEY (key, idx));
CREATE TABLE IF NOT EXISTS failures (
    key TEXT PRIMARY KEY, source TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
    recipe_hash TEXT NOT NULL, error TEXT NOT NULL, reason TEXT NOT NULL);
CREATE VIEW IF NOT EXISTS subjects AS
    SELECT dataset, subject, COUNT(*) AS n_recordings, SUM(duration_s) AS seconds
    FROM recordings GROUP BY dataset, subject;
"""

TABLES = ("meta", "recordings", "sensors", "windows", "failures")


def connect(root, create: bool = False) -> sqlite3.Connection:
    """Open the manifest of the corpus in ``root`` (created with ``create=True``)."""
    path = Path(root) / MANIFEST
    if not create and not path.exists():
        from ..errors import InvalidParameterError

        raise InvalidParameterError(
            f"{root} is not a neurokit corpus (no {MANIFEST}); build one "
            "with: neurokit preprocess INPUTS --recipe R --out DIR"
        )
    con = sqlite3.connect(path, isolation_level=None, timeout=60)
    con.execute("PRAGMA synchronous=FULL")
    if create:
        con.executescript(_SCHEMA)
    return con


def get_meta(con) -> dict:
    return dict(con.execute("SELECT key, value FROM meta"))


def _nan_to_none(v):
    return None if v is None or not np.isfinite(v) else float(v)


def commit_recording(con, row: dict) -> None:
    """Replace everything about ``row["key"]`` by this recording, in one transaction."""
    key = row["key"]
    s = row["sensors"]
    con.execute("BEGIN IMMEDIATE")
    try:
        for table in ("recordings", "sensors", "windows", "failures"):
            con.execute(f"DELETE FROM {table} WHERE key = ?", (key,))
        con.execute(
            "INSERT INTO recordings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                key,
                row["array"],
                row["source"],
                row["size"],
                row["sha256"],
                row["recipe_hash"],
                row["neurokit_version"],
                row["dataset"],
                row["subject"],
                row["session"],
                row["task"],
                row["run"],
                row["sfreq"],
                row["n_channels"],
                row["n_times"],
                row["duration_s"],
                row["dtype"],
                json.dumps(row["channel_types"], sort_keys=True),
                row["array_sha256"],
                json.dumps(row["history"], sort_keys=True, default=str),
                json.dumps(row["warnings"]),
            ),
        )
        con.executemany(
            "INSERT INTO sensors VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    key,
                    i,
                    s["names"][i],
                    s["types"][i],
                    *[_nan_to_none(v) for v in s["pos"][i]],
                    *[_nan_to_none(v) for v in s["ori"][i]],
                    s["units"][i],
                    s["groups"][i],
                    int(s["bads"][i]),
                    float(row["scales"][i]),
                )
                for i in range(len(s["names"]))
            ],
        )
        con.executemany(
            "INSERT INTO windows VALUES (?,?,?,?,?)",
            [
                (key, i, int(a), int(b), lab)
                for i, ((a, b), lab) in enumerate(zip(row["windows"], row["labels"]))
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def commit_failure(con, row: dict) -> None:
    """Record a recording that could not be processed (replacing any earlier rows of it)."""
    con.execute("BEGIN IMMEDIATE")
    try:
        for table in ("recordings", "sensors", "windows", "failures"):
            con.execute(f"DELETE FROM {table} WHERE key = ?", (row["key"],))
        con.execute(
            "INSERT INTO failures VALUES (?,?,?,?,?,?,?)",
            (
                row["key"],
                row["source"],
                row["size"],
                row["sha256"],
                row["recipe_hash"],
                row["error"],
                row["reason"],
            ),
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def dump(con) -> dict:
    """Every table's rows, sorted: equal dumps mean equal manifests."""
    return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}
