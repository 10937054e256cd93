"""``neurokit info PATH [--json]``: summary of a recording, or of a corpus (with the codebook
usage and perplexity of each quantizer level of every token set written into it)."""

from __future__ import annotations

import argparse
import json
import warnings


def add_parser(sub):
    p = sub.add_parser(
        "info",
        help="summarize a recording (channels, rate, positions, repairs)",
        description="Load a recording, normalize it and print a summary.",
    )
    p.add_argument("path", help="recording file or folder (CTF .ds, EGI .mff, Neuralynx)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--format", default=None, help="force a format (see the list in the README)")
    p.add_argument(
        "--allow-maxshield",
        action="store_true",
        help="load FIF MaxShield (Internal Active Shielding) data anyway",
    )
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    p.set_defaults(run=run)


def format_summary(s: dict) -> str:
    """Human-readable lines of :meth:`Recording.summary`."""
    types = ", ".join(f"{t} {n}" for t, n in s["channel_types"].items())
    lines = [
        s["source"] or "(in memory)",
        f"  format       {s['format']}",
        f"  channels     {s['n_channels']}: {types}",
        f"  sfreq        {s['sfreq']:g} Hz",
        f"  duration     {s['duration_s']:.3f} s ({s['n_times']} samples)",
        f"  positions    {s['n_with_position']}/{s['n_channels']} channels "
        f"({s['position_frame']} frame); all data channels: "
        f"{'yes' if s['positions_known'] else 'no'}",
    ]
    if s["n_meg_with_orientation"]:
        lines.append(f"  MEG coils    {s['n_meg_with_orientation']} with orientation")
    lines.append(f"  bads         {', '.join(s['bads']) if s['bads'] else 'none'}")
    lines.append(f"  annotations  {s['n_annotations']}")
    for r in s["repairs"]:
        names = r.get("channels", [])
        shown = ", ".join(names[:6]) + (f" (+{len(names) - 6})" if len(names) > 6 else "")
        what = f"{r['from']} -> {r['to']}" if "to" in r else r["step"]
        lines.append(f"  repair       {what}: {shown} ({r.get('reason', '')})")
    for w in s["warnings"]:
        lines.append(f"  warning      {w}")
    return "\n".join(lines)


def format_corpus(s: dict) -> str:
    """Human-readable lines of :meth:`neurokit.corpus.Corpus.info`."""
    hours = ", ".join(f"{k} {v:.3f}" for k, v in s["hours"].items())
    labels = ", ".join(f"{k} {v}" for k, v in sorted(s["windows"]["labels"].items()))
    lines = [
        f"{s['corpus']} (corpus, recipe {s['recipe']})",
        f"  recordings   {s['recordings']} from {s['subjects']} subjects",
        f"  hours        {hours}",
        f"  windows      {s['windows']['total']}" + (f" ({labels})" if labels else ""),
        f"  disk         {s['disk_bytes'] / 1e6:.1f} MB",
        f"  failures     {len(s['failures'])}",
    ]
    lines += [f"    {f['source']}: {f['reason']}" for f in s["failures"]]
    lines += format_tokens(s)
    return "\n".join(lines)


def format_tokens(s: dict) -> list:
    """Lines about the token sets of a corpus summary: per set, its windows, streams and
    levels, then per quantizer level the codebook usage and perplexity."""
    lines = []
    for t in s.get("tokens", []):
        kind = "manifest windows" if t.get("windows") == "manifest" else "fixed windows"
        lines.append(
            f"  tokens       {t['tokenizer']}: {t['recordings']} recordings, "
            f"{t.get('n_windows', 0)} {kind}, {t['streams']} streams x "
            f"{len(t['levels'])} levels, {t['token_rate_hz']:g} tokens/s per stream"
        )
        lines += [
            f"    level {lv['level']}: {lv['usage'] * 100:.1f}% of {lv['codebook_size']} "
            f"codes used, perplexity {lv['perplexity']:.1f}, {lv['tokens']} tokens"
            for lv in t["levels"]
        ]
    return lines


def run(args) -> int:
    from pathlib import Path

    from ..corpus.manifest import MANIFEST
    from ..io import load

    if (Path(args.path) / MANIFEST).exists():
        from ..corpus import Corpus

        info = Corpus(args.path).info()
        print(json.dumps(info, indent=2) if args.json else format_corpus(info))
        return 0

    options = {"allow_maxshield": True} if args.allow_maxshield else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the warnings are part of the summary
        rec = load(args.path, format=args.format, **options)
    summary = rec.summary()
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0
