"""Registry of recording formats and the dispatch from a path to a reader.

Each reader module in :mod:`neurokit.io` registers its formats with :func:`register_format`; a new
format is one new module. The readers themselves are MNE's; this module adds dispatch by
extension, folder type and content, companion-file discovery, and the translation of reader
failures and warnings into :mod:`neurokit.errors` types that name the file and the cause.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import (
    CorruptRecordingError,
    MissingCompanionFileError,
    MissingDependencyError,
    RecordingError,
    UnsupportedFormatError,
)

__all__ = ["Format", "register_format", "list_formats", "find_format", "read_raw"]


@dataclass(frozen=True)
class Format:
    """One recording format: how to recognize it and which MNE reader opens it.

    ``read(path, options) -> (raw, notes)`` opens the file; ``notes`` is a list of oddities found
    while reading (they become :class:`~neurokit.errors.RecordingWarning`). ``options`` is the dict
    of
    keyword arguments given to :func:`neurokit.io.load`; a reader pops what it uses.
    """

    name: str
    description: str
    read: Callable
    extensions: tuple = ()
    is_folder: Callable | None = None
    sniff: Callable | None = None
    requires: tuple = ()
    modality: str = "eeg"
    companions: tuple = field(default=())
    typed_channels: bool = False


_FORMATS: dict = {}


def register_format(
    name,
    description,
    *,
    extensions=(),
    is_folder=None,
    sniff=None,
    requires=(),
    modality="eeg",
    companions=(),
    typed_channels=False,
):
    """Decorator registering ``read(path, options)`` as the reader of format ``name``.

    ``typed_channels=True`` says the format stores channel types itself (FIF, MEG systems): the
    loader then does not repair them from names unless asked.
    """

    def deco(read):
        _FORMATS[name] = Format(
            name,
            description,
            read,
            tuple(e.lower() for e in extensions),
            is_folder,
            sniff,
            tuple(requires),
            modality,
            tuple(companions),
            typed_channels,
        )
        return read

    return deco


def list_formats() -> list:
    """Supported formats: a list of dicts with name, description, extensions, modality, requires.

    Examples
    --------
    >>> import neurokit
    >>> "edf" in [f["name"] for f in neurokit.io.list_formats()]
    True
    """
    _load_readers()
    return [
        {
            "name": f.name,
            "description": f.description,
            "extensions": list(f.extensions),
            "folder": f.is_folder is not None,
            "modality": f.modality,
            "requires": list(f.requires),
            "companions": list(f.companions),
        }
        for f in _FORMATS.values()
    ]


def _load_readers():
    # Importing the reader modules registers their formats (once; Python caches modules).
    from . import clinical, edf, fif, intracranial, meg, vendors  # noqa: F401


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for ext in sorted({e for f in _FORMATS.values() for e in f.extensions}, key=len, reverse=True):
        if name.endswith(ext):
            return ext
    return path.suffix.lower()


def find_format(path, format: str | None = None) -> Format:
    """The :class:`Format` that reads ``path`` (by folder type, extension, then content)."""
    _load_readers()
    path = Path(path)
    if format is not None:
        if format not in _FORMATS:
            raise UnsupportedFormatError(
                path, f"unknown format={format!r}; allowed: {sorted(_FORMATS)}"
            )
        return _FORMATS[format]
    if path.is_dir():
        for fmt in _FORMATS.values():
            if fmt.is_folder is not None and fmt.is_folder(path):
                return fmt
        if any(path.glob("sub-*")) or (path / "dataset_description.json").exists():
            raise UnsupportedFormatError(
                path,
                "this folder is a BIDS dataset; use neurokit.io.load_bids(root, subject=...)",
            )
        raise UnsupportedFormatError(
            path,
            "folder is not a recognized recording (CTF .ds, EGI .mff, Neuralynx); "
            "give the path of the recording file instead",
        )
    ext = _suffix(path)
    candidates = [f for f in _FORMATS.values() if ext in f.extensions]
    if not candidates:
        candidates = [f for f in _FORMATS.values() if not f.extensions and f.sniff]
    for fmt in candidates:
        if fmt.sniff is None or fmt.sniff(path):
            return fmt
    known = sorted({e for f in _FORMATS.values() for e in f.extensions})
    raise UnsupportedFormatError(
        path,
        f"no reader for extension {ext or '(none)'!r}; supported extensions: "
        f"{', '.join(known)} (see neurokit.io.list_formats()); pass format=NAME to force one",
    )


_OPTIONAL_HINTS = {
    "mffpy": "mffpy",
    "neo": "neo",
    "antio": "antio",
    "curryreader": "curryreader",
    "pymatreader": "pymatreader",
    "defusedxml": "defusedxml",
    "edfio": "edfio",
}


def read_raw(path, fmt: Format, options: dict):
    """Open ``path`` with ``fmt``; return ``(raw, notes)`` or raise a neurokit error."""
    import mne

    path = Path(path)
    for pkg in fmt.requires:
        if importlib.util.find_spec(pkg) is None:
            raise MissingDependencyError(
                f"{path}: reading {fmt.description} needs the package {pkg!r}; "
                f"install it with: pip install {_OPTIONAL_HINTS.get(pkg, pkg)}"
            )
    with (
        warnings.catch_warnings(record=True) as caught,
        contextlib.redirect_stdout(io.StringIO()),
        mne.utils.use_log_level("error"),
    ):
        warnings.simplefilter("always")
        try:
            raw, notes = fmt.read(path, options)
        except RecordingError:
            raise
        except FileNotFoundError as err:
            missing = getattr(err, "filename", None) or str(err)
            raise MissingCompanionFileError(
                path,
                f"a file needed by the {fmt.description} reader is missing: {missing}",
            ) from err
        except NotImplementedError as err:
            raise UnsupportedFormatError(path, f"{fmt.description}: {err}") from err
        except ImportError as err:
            raise MissingDependencyError(f"{path}: {err}") from err
        except TypeError as err:
            if "unexpected keyword" in str(err):
                raise UnsupportedFormatError(
                    path, f"option not accepted by the {fmt.name} reader: {err}"
                ) from err
            raise CorruptRecordingError(path, f"{fmt.description} reader failed: {err}") from err
        except (
            OSError,
            ValueError,
            KeyError,
            IndexError,
            EOFError,
            RuntimeError,
            Exception,
        ) as err:
            raise CorruptRecordingError(
                path,
                f"{fmt.description} reader failed ({type(err).__name__}): {_first_line(err)}",
            ) from err
    notes = list(notes) + [
        _first_line(w.message) for w in caught if not _IGNORED_WARNINGS.search(str(w.message))
    ]
    return raw, notes


_IGNORED_WARNINGS = re.compile(
    r"does not conform to MNE naming conventions|birthdate|DeprecationWarning|"
    r"is deprecated|will be removed|no longer supported in numpy"
)


def _first_line(msg) -> str:
    text = str(msg).strip().replace("\n", " ")
    return text if len(text) <= 300 else text[:297] + "..."


def sibling(path: Path, *names) -> Path | None:
    """First existing file among ``names`` (relative to ``path``'s folder), else None."""
    for name in names:
        cand = path.parent / name
        if cand.exists():
            return cand
    return None


def companion(path: Path, option: str, options: dict, candidates, what: str, required=True):
    """Companion file: ``options[option]`` if given, else the first existing candidate."""
    given = options.pop(option, None)
    if given is not None:
        given = Path(given)
        if not given.exists():
            raise MissingCompanionFileError(path, f"{option}={str(given)!r} does not exist")
        return given
    found = sibling(path, *candidates)
    if found is None and required:
        raise MissingCompanionFileError(
            path,
            f"{what} not found beside the data (looked for {', '.join(candidates)}); "
            f"pass {option}=PATH",
        )
    return found


def mne_reader(func_name: str, *, target=None, **defaults):
    """A ``read(path, options)`` calling ``mne.io.<func_name>``; ``target(path)`` may redirect
    from a companion file (``.vmrk``, ``.dat``) to the file the reader wants."""

    def read(path: Path, options: dict):
        import mne

        kwargs = {"preload": False, **defaults, **options}
        options.clear()
        src = target(path) if target is not None else path
        return getattr(mne.io, func_name)(src, verbose="warning", **kwargs), []

    read.__name__ = f"read_{func_name}"
    return read
