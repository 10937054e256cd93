# %% [markdown]
# # Load and normalize recordings
#
# neurokit reads a recording from any acquisition system into one form: an MNE `Raw` with data
# in SI units, plus a sensor table (type, position in metres in the head frame, MEG coil
# orientation, shaft of sEEG contacts, bad flag) and a history of every repair made on the way.
# This tutorial runs on synthetic data and, where `../shared/data` exists, on real files.

# %%
import tempfile
import warnings
from pathlib import Path

import numpy as np

import neurokit
from neurokit.errors import RecordingError, RecordingWarning

workdir = Path(tempfile.mkdtemp(prefix="neurokit-tutorial-"))

# %% [markdown]
# ## A synthetic recording
#
# `neurokit.io.synthetic` makes seeded EEG, MEG (on the Neuromag helmet) and sEEG recordings.

# %%
rec = neurokit.io.synthetic("eeg", n_channels=19, duration_s=10.0, seed=0)
print(rec)
print(rec.sensors)
print("first positions (m):\n", np.round(rec.sensors.pos[:3], 3))

# %% [markdown]
# ## What the loader repairs
#
# Files often get channel types wrong and carry no positions. We save the EEG with clinical
# labels (`EEG Fp1-REF`, old names such as `T3`) and an ECG channel stored as EEG, then load it.

# %%
raw = rec.raw.copy().pick(["Fp1", "Fp2", "T7", "Cz", "O1"])
raw.rename_channels({"Fp1": "EEG Fp1-REF", "Fp2": "EEG Fp2-REF", "T7": "T3", "O1": "o1."})
raw.add_channels([rec.raw.copy().pick(["Cz"]).rename_channels({"Cz": "EKG"})])
raw.set_montage(None)
path = workdir / "clinical_raw.fif"
raw.save(path, verbose="error")

loaded = neurokit.io.load(path, repair_types=True)
for step in loaded.history:
    print(step)
print(dict(zip(loaded.sensors.names, loaded.sensors.types)))
assert loaded.sensors.types[loaded.sensors.index("EKG")] == "ecg"
assert loaded.sensors.has_position[loaded.sensors.index("T3")]

# %% [markdown]
# ## MEG and sEEG
#
# MEG positions come in the device frame and are moved to the head frame through `dev_head_t`;
# coil normals become orientations. sEEG contacts are grouped by shaft from their names.

# %%
meg = neurokit.io.synthetic("meg", duration_s=2.0)
print(meg.sensors, "orientation norms:", np.linalg.norm(meg.sensors.ori, axis=1)[:3])
seeg = neurokit.io.synthetic("seeg", n_channels=12, duration_s=2.0)
print("shafts:", sorted(set(seeg.sensors.groups)))

# %% [markdown]
# ## Bad input gives a typed error that names the file
#
# A batch job catches `neurokit.errors.RecordingError` and moves on.

# %%
broken = workdir / "broken_raw.fif"
broken.write_bytes(path.read_bytes()[:5000])
try:
    neurokit.io.load(broken)
except RecordingError as err:
    print(type(err).__name__, "->", err)

# %% [markdown]
# ## Real recordings (when `../shared/data` is present)

# %%
data = Path("../shared/data")
if not data.exists():
    data = Path(__file__).resolve().parents[2] / "shared" / "data" if "__file__" in dir() else data
if data.exists():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RecordingWarning)
        for rel in (
            "loaders/fif/sample_audvis_trunc_raw_sss.fif",
            "loaders/ieeg/sample_seeg.edf",
            "loaders/broken/test_utf8_annotations.edf",
        ):
            real = neurokit.io.load(data / rel)
            print(real, "| positions:", int(real.sensors.has_position.sum()))
    for w in caught:
        print("warning:", w.message)
else:
    print("no ../shared/data here: skipping the real recordings")

# %% [markdown]
# ## A figure of the sensor layouts

# %%
from neurokit.viz import plot_sensor_layouts  # noqa: E402

plot_sensor_layouts([rec, meg, seeg], workdir / "layouts.png", titles=["EEG", "MEG", "sEEG"])
print("figure:", workdir / "layouts.png")
