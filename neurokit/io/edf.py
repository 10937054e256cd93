"""EDF, EDF+, BDF and GDF via ``mne.io``, with integrity checks MNE does not make.

MNE trusts the EDF header. Files damaged in transit (most often by a text-mode LF -> CRLF
conversion, which inserts a 0x0D byte before every 0x0A) then either fail deep inside the
annotation parser or, with ``encoding="latin1"``, load silently wrong. Before reading, this module
checks the header against the file: the declared record count times the record size must equal
the file size, and in EDF+ every data record's annotation signal must begin with its time-keeping
stamp. Oddities that MNE reads without comment (channels at different rates, a sub-second start,
non-ASCII annotations) are reported as notes.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import CorruptRecordingError, NoSignalError
from ._registry import mne_reader, register_format

_FIELDS = (16, 80, 8, 8, 8, 8, 8, 80, 8, 32)  # per-signal header fields, in file order


def read_header(path: Path) -> dict:
    """Parse the fixed EDF/BDF header (no data): counts, labels, samples per record, sizes."""
    with open(path, "rb") as f:
        head = f.read(256)
        if len(head) < 256:
            raise CorruptRecordingError(
                path,
                f"file has {len(head)} bytes, fewer than the 256-byte EDF/BDF header",
            )
        try:
            n_signals = int(head[252:256].decode("ascii").strip())
            n_records = int(head[236:244].decode("ascii").strip())
            record_s = float(head[244:252].decode("ascii").strip())
        except ValueError:
            raise CorruptRecordingError(
                path,
                "EDF/BDF header fields (record count, duration, number of signals) are not numbers",
            ) from None
        block = f.read(256 * n_signals)
    if len(block) < 256 * n_signals:
        raise CorruptRecordingError(
            path,
            f"header declares {n_signals} signals but the file ends inside the signal headers",
        )
    cols, off = [], 0
    for width in _FIELDS:
        cols.append(
            [
                block[off + i * width : off + (i + 1) * width].decode("latin1").strip()
                for i in range(n_signals)
            ]
        )
        off += width * n_signals
    try:
        samples = [int(v) for v in cols[8]]
    except ValueError:
        raise CorruptRecordingError(
            path, "EDF/BDF samples-per-record fields are not integers"
        ) from None
    width = 3 if head[:8] == b"\xffBIOSEMI" else 2
    return {
        "n_signals": n_signals,
        "n_records": n_records,
        "record_s": record_s,
        "labels": cols[0],
        "samples": samples,
        "bytes_per_sample": width,
        "header_bytes": 256 * (n_signals + 1),
        "record_bytes": sum(samples) * width,
        "edf_plus": head[192:197] in (b"EDF+C", b"EDF+D"),
        "file_bytes": path.stat().st_size,
    }


def _crlf_hint(path: Path) -> str:
    data = path.read_bytes()
    n_lf, n_crlf = data.count(b"\n"), data.count(b"\r\n")
    if n_lf >= 20 and n_crlf == n_lf:
        return (
            f"; every one of its {n_lf} LF bytes is preceded by CR, the mark of a text-mode "
            "LF -> CRLF line-ending conversion (e.g. git autocrlf): get an unconverted copy"
        )
    return ""


def check_integrity(path: Path, hdr: dict) -> None:
    """Raise :class:`CorruptRecordingError` when the header and the file disagree."""
    expected = hdr["header_bytes"] + hdr["n_records"] * hdr["record_bytes"]
    if hdr["n_records"] >= 0 and hdr["file_bytes"] != expected:
        raise CorruptRecordingError(
            path,
            f"header declares {hdr['n_records']} data records of {hdr['record_bytes']} "
            f"bytes ({expected} bytes with the header) but the file has {hdr['file_bytes']} bytes"
            + _crlf_hint(path),
        )
    if not hdr["edf_plus"]:
        return
    annot = [i for i, lab in enumerate(hdr["labels"]) if lab.endswith("Annotations")]
    if not annot or not hdr["record_bytes"]:
        return
    start = sum(hdr["samples"][: annot[0]]) * hdr["bytes_per_sample"]
    with open(path, "rb") as f:
        for k in range(max(hdr["n_records"], 0)):
            f.seek(hdr["header_bytes"] + k * hdr["record_bytes"] + start)
            if f.read(1) not in (b"+", b"-"):
                raise CorruptRecordingError(
                    path,
                    f"data record {k} of {hdr['n_records']} does not start its annotation "
                    "signal with a time stamp, so records and header are misaligned"
                    + _crlf_hint(path),
                )


def _notes(path: Path, hdr: dict, raw) -> list:
    notes = []
    signals = [
        (lab, n) for lab, n in zip(hdr["labels"], hdr["samples"]) if not lab.endswith("Annotations")
    ]
    rates = sorted({n / hdr["record_s"] for _, n in signals}) if hdr["record_s"] > 0 else []
    if len(rates) > 1:
        notes.append(
            f"uneven sampling rates: channels recorded at {', '.join(f'{r:g}' for r in rates)}"
            f" Hz were resampled by the reader to {raw.info['sfreq']:g} Hz"
        )
    if hdr["edf_plus"] and hdr["n_records"] > 0:
        annot = [i for i, lab in enumerate(hdr["labels"]) if lab.endswith("Annotations")]
        if annot:
            start = hdr["header_bytes"] + sum(hdr["samples"][: annot[0]]) * hdr["bytes_per_sample"]
            with open(path, "rb") as f:
                f.seek(start)
                stamp = f.read(32).split(b"\x14", 1)[0]
            try:
                offset = float(stamp.decode("ascii"))
            except ValueError:
                offset = 0.0
            if offset % 1:
                notes.append(
                    f"sub-second start time: the first data record begins {offset:g} s "
                    "after the header's start time (EDF+ time-keeping annotation)"
                )
    non_ascii = sorted({d for d in raw.annotations.description if not d.isascii()})
    if non_ascii:
        notes.append(
            f"UTF-8 annotations: {len(non_ascii)} annotation label(s) contain non-ASCII "
            f"text, e.g. {non_ascii[0]!r}"
        )
    return notes


def _read_edf_like(path: Path, options: dict, reader):
    preload = options.pop("preload", False)
    hdr = read_header(path)
    check_integrity(path, hdr)
    if all(lab.endswith("Annotations") for lab in hdr["labels"]):
        import mne

        n = len(mne.read_annotations(path))
        raise NoSignalError(
            path,
            f"EDF+ file holds no signal channels, only annotations ({n}); "
            "read them with mne.read_annotations(path) and attach them to the "
            "recording they describe",
        )
    rates = {n for lab, n in zip(hdr["labels"], hdr["samples"]) if not lab.endswith("Annotations")}
    # MNE resamples mixed-rate files on read; lazily that leaves edge artifacts at every block
    # (mne-python#10635), so such files are always preloaded: the data is then the same either way.
    preload = preload or len(rates) > 1
    raw = reader(path, preload=preload, verbose="warning", **options)
    return raw, _notes(path, hdr, raw)


@register_format("edf", "EDF / EDF+ (European Data Format)", extensions=(".edf", ".rec"))
def read_edf(path: Path, options: dict):
    import mne

    return _read_edf_like(path, options, mne.io.read_raw_edf)


@register_format("bdf", "BDF (BioSemi 24-bit)", extensions=(".bdf",))
def read_bdf(path: Path, options: dict):
    import mne

    return _read_edf_like(path, options, mne.io.read_raw_bdf)


register_format("gdf", "GDF 1.x / 2.x (General Data Format)", extensions=(".gdf",))(
    mne_reader("read_raw_gdf")
)
