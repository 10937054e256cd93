"""Repository layout and import layering."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_recipe_folders_hold_no_python():
    for folder in ("datasets", "tokenizers"):
        offenders = [p for p in (REPO / folder).rglob("*.py")] if (REPO / folder).exists() else []
        assert not offenders, f"{folder}/ holds recipes only: {offenders}"


def test_import_neurokit_io_does_not_import_torch():
    code = (
        "import sys, neurokit, neurokit.io, neurokit.sensors, neurokit.errors, neurokit.artifacts; "
        "rec = neurokit.io.synthetic('eeg', n_channels=2, duration_s=1.0); "
        "bad = [m for m in ('torch', 'braindecode') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_import_neurokit_is_light():
    code = "import sys, neurokit; sys.exit(1 if 'mne' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_only_sensor_table_reads_channel_locations():
    hits = [
        p
        for p in (REPO / "neurokit").rglob("*.py")
        if '["loc"]' in p.read_text() and p.name != "sensors.py"
    ]
    # synthetic.py only *writes* the geometry it invents
    assert {p.name for p in hits} <= {"synthetic.py"}
    text = (REPO / "neurokit" / "io" / "synthetic.py").read_text()
    assert all(
        line.strip().startswith('ch["loc"][:] =') for line in text.splitlines() if '["loc"]' in line
    )
