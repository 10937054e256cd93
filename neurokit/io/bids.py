"""BIDS datasets through mne-bids (which reads the sidecars: channel types, bads, positions)."""

from __future__ import annotations

from pathlib import Path

from ..errors import MissingDependencyError, RecordingError


def load_bids(
    root,
    *,
    subject: str,
    session=None,
    task=None,
    run=None,
    datatype=None,
    acquisition=None,
    suffix=None,
    montage="default",
    **options,
):
    """Load one recording of a BIDS dataset.

    Parameters
    ----------
    root : path-like
        The dataset root (the folder with ``dataset_description.json``).
    subject, session, task, run, datatype, acquisition, suffix
        BIDS entities; ``datatype`` (eeg, meg, ieeg) is guessed when only one exists.
    **options
        Passed to :func:`mne_bids.read_raw_bids` (``extra_params`` ...).

    Returns
    -------
    Recording
        ``meta`` carries ``dataset`` (the root's name), ``subject``, ``session``, ``task``, ``run``.
    """
    try:
        import mne_bids
    except ImportError as err:  # pragma: no cover - mne-bids is a dependency
        raise MissingDependencyError("load_bids needs mne-bids: pip install mne-bids") from err
    from .normalize import normalize

    root = Path(root)
    if not root.is_dir():
        raise RecordingError(root, "BIDS root is not a folder")
    bids_path = mne_bids.BIDSPath(
        root=root,
        subject=subject,
        session=session,
        task=task,
        run=run,
        datatype=datatype,
        acquisition=acquisition,
        suffix=suffix,
    )
    matches = [p for p in bids_path.match() if p.extension not in (".json", ".tsv")]
    if not matches:
        raise RecordingError(
            root,
            f"no recording matches {bids_path.basename!r} "
            f"(subject={subject!r}, session={session!r}, task={task!r}, "
            f"run={run!r}, datatype={datatype!r})",
        )
    if len({p.fpath for p in matches}) > 1:
        names = sorted({p.basename for p in matches})
        raise RecordingError(root, f"{len(names)} recordings match: {names}; give more entities")
    match = matches[0]
    try:
        raw = mne_bids.read_raw_bids(match, verbose="error", **options)
    except (OSError, ValueError, RuntimeError) as err:
        raise RecordingError(match.fpath, f"mne-bids could not read it: {err}") from err
    meta = {
        "dataset": root.name,
        "subject": match.subject,
        "session": match.session,
        "task": match.task,
        "run": match.run,
        "datatype": match.datatype,
    }
    return normalize(
        raw,
        path=match.fpath,
        notes=[],
        montage=montage,
        electrodes=False,
        channels=False,
        meta=meta,
    )
