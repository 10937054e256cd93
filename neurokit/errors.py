"""Public error and warning types of neurokit.

A batch job can catch :class:`RecordingError` to skip a bad recording and still let bugs
(anything else) stop the run::

    try:
        rec = neurokit.io.load(path)
    except neurokit.errors.RecordingError as err:
        failures.append((path, str(err)))

Every error raised on user input says which file or parameter is at fault, what was received,
and, where there is one, how to fix it.
"""

from __future__ import annotations

__all__ = [
    "NeurokitError",
    "RecordingError",
    "UnsupportedFormatError",
    "CorruptRecordingError",
    "MissingCompanionFileError",
    "NoSignalError",
    "MissingDependencyError",
    "InvalidParameterError",
    "DatasetNotFoundError",
    "RecordingWarning",
]


class NeurokitError(Exception):
    """Base class of every error neurokit raises on purpose."""


class RecordingError(NeurokitError):
    """A recording cannot be turned into a valid :class:`~neurokit.Recording`.

    ``path`` is the offending file (or folder) and ``cause`` a one-line reason.
    """

    def __init__(self, path, cause: str):
        self.path = str(path) if path is not None else None
        self.cause = cause
        super().__init__(f"{self.path}: {cause}" if self.path else cause)


class UnsupportedFormatError(RecordingError):
    """No reader handles this file type or this version of the format."""


class CorruptRecordingError(RecordingError):
    """The file is damaged: truncated, altered, or internally inconsistent."""


class MissingCompanionFileError(RecordingError):
    """A file the format needs beside the data (header, config, markers) is absent."""


class NoSignalError(RecordingError):
    """The file is valid but holds no signal channels (for instance annotations only)."""


class MissingDependencyError(NeurokitError, ImportError):
    """An optional package needed by a reader or feature is not installed."""


class DatasetNotFoundError(RecordingError, FileNotFoundError):
    """The folder or a file of a public dataset is not where the user said it is.

    Raised as ``DatasetNotFoundError(path, cause)`` or with a single message.
    """

    def __init__(self, path, cause: str | None = None):
        if cause is None:
            path, cause = None, str(path)
        super().__init__(path, cause)


class InvalidParameterError(NeurokitError, ValueError):
    """A parameter value is outside what is allowed."""


class RecordingWarning(UserWarning):
    """A recording loaded but has an oddity worth knowing about (named in the message)."""
