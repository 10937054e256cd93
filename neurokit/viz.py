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
