"""Figures: sensor layouts of recordings (matplotlib, off-screen)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .sensors import SENSOR_TYPES

_COLORS = dict(
    zip(
        SENSOR_TYPES,
        (
            "tab:blue",
            "tab:red",
            "tab:purple",
            "tab:green",
            "tab:olive",
            "tab:orange",
            "tab:pink",
            "tab:brown",
            "tab:gray",
            "black",
        ),
    )
)


def plot_sensor_layouts(recordings, fname=None, titles=None):
    """Top and side views of the sensors of each recording, in the head frame (mm).

    Parameters
    ----------
    recordings : sequence of Recording
    fname : path-like | None
        Write the figure there (PNG by extension); the figure is returned either way.
    titles : sequence of str | None

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n = len(recordings)
    fig, axes = plt.subplots(2, n, figsize=(4.2 * n, 8.0), squeeze=False)
    for j, rec in enumerate(recordings):
        s = rec.sensors
        ok = s.has_position
        for row, (a, b, label) in enumerate(
            ((0, 1, "top (x right, y front)"), (1, 2, "side (y front, z up)"))
        ):
            ax = axes[row, j]
            ax.add_patch(plt.Circle((0, 0), 95, fill=False, color="0.7", lw=1))
            for t in SENSOR_TYPES:
                sel = ok & (np.array(s.types) == t)
                if sel.any():
                    xy = s.pos[sel][:, [a, b]] * 1e3
                    ax.scatter(xy[:, 0], xy[:, 1], s=12, c=_COLORS[t], label=f"{t} ({sel.sum()})")
            meg = ok & np.all(np.isfinite(s.ori), axis=1) & (np.array(s.types) == "mag")
            if meg.any():
                p, o = s.pos[meg] * 1e3, s.ori[meg] * 12
                ax.quiver(
                    p[:, a],
                    p[:, b],
                    o[:, a],
                    o[:, b],
                    angles="xy",
                    scale_units="xy",
                    scale=1,
                    width=0.003,
                    color="tab:green",
                    alpha=0.6,
                )
            ax.set_aspect("equal")
            ax.set_xlim(-130, 130)
            ax.set_ylim(-130, 130)
            ax.set_xlabel("mm")
            ax.set_title(
                f"{titles[j] if titles else rec.meta.get('kind', '')} - {label}", fontsize=9
            )
            if row == 0:
                ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    if fname is not None:
        Path(fname).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(fname, dpi=100)
        plt.close(fig)
    return fig


def plot_tokens(
    spectrum, recon, counts, fname=None, *, frame_rate=None, fmax_hz=None, title="tokens"
):
    """Input vs reconstructed spectrogram of one channel, and the codebook usage histogram.

    Parameters
    ----------
    spectrum, recon : array (f, n)
        Magnitude spectrogram and the tokenizer's reconstruction of it.
    counts : array (v,)
        How often each code was used (e.g. over a whole corpus).
    fname : path-like | None
        Write the figure there; the figure is returned either way.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    spectrum, recon, counts = (np.asarray(a) for a in (spectrum, recon, counts))
    n = spectrum.shape[1]
    extent = [0, n / frame_rate if frame_rate else n, 0, fmax_hz or spectrum.shape[0]]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    vmax = float(np.percentile(spectrum, 99)) or 1.0
    for ax, data, label in ((axes[0], spectrum, "input"), (axes[1], recon, "reconstruction")):
        ax.imshow(data, aspect="auto", origin="lower", extent=extent, vmin=0, vmax=vmax)
        ax.set_title(f"{title}: {label}", fontsize=9)
        ax.set_xlabel("s" if frame_rate else "frame")
        ax.set_ylabel("Hz" if fmax_hz else "bin")
    order = np.sort(counts)[::-1]
    axes[2].bar(np.arange(len(order)), order, width=1.0)
    used = int((counts > 0).sum())
    axes[2].set_title(f"codebook usage: {used}/{len(counts)} codes", fontsize=9)
    axes[2].set_xlabel("code (sorted by use)")
    axes[2].set_ylabel("count")
    fig.tight_layout()
    if fname is not None:
        Path(fname).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(fname, dpi=100)
        plt.close(fig)
    return fig
