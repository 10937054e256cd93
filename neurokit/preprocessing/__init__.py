"""Preprocessing: registered ``Recording -> Recording`` steps, recipes and windows.

>>> import neurokit
>>> from neurokit.preprocessing import Pipeline
>>> rec = neurokit.io.synthetic("eeg", n_channels=4, duration_s=4.0)
>>> pipe = Pipeline([("pick_types", {"types": ["eeg"]}), ("resample", {"sfreq": 128.0})])
>>> pipe(rec).sfreq
128.0
"""

from ._registry import apply_step, check_step_kwargs, get_step, list_steps, register_step
from .pipeline import Pipeline, find_recipe, list_recipes
from .windows import event_windows, fixed_windows

__all__ = [
    "register_step",
    "get_step",
    "list_steps",
    "check_step_kwargs",
    "apply_step",
    "Pipeline",
    "find_recipe",
    "list_recipes",
    "fixed_windows",
    "event_windows",
]
