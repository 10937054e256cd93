r"""Pipelines of registered steps, built in code or from a YAML recipe.

A recipe (``datasets/<name>.yaml``)::

    name: physionet_mi
    description: PhysioNet EEG motor imagery, 160 Hz, 4 s epochs of imagined movement
    loader: {}                   # options of neurokit.io.load (scale, montage, ...)
    steps:
      - pick_types: {types: [eeg]}
      - bandpass: {l_freq: 0.5, h_freq: 45.0}
    windows:                     # fixed: {length_s, stride_s}; or events: {tmin_s, tmax_s, mapping}
      events: {tmin_s: 0.0, tmax_s: 4.0, mapping: {T1: left_fist, T2: right_fist}}
    dtype: float32               # array dtype in a corpus (float32 or float16)
    subject_pattern: 'S(\d+)R'   # regex on the file name whose group 1 is the subject id

Every key and every step option is checked against the registered step signatures; an error
names the recipe, the key and what is allowed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..errors import InvalidParameterError
from ..recording import owning
from ._registry import check_step_kwargs, get_step

__all__ = ["Pipeline", "find_recipe", "list_recipes", "recipe_dirs"]

_KEYS = {
    "name",
    "description",
    "loader",
    "steps",
    "windows",
    "dtype",
    "splits",
    "reference",
    "subject_pattern",
}
_WINDOW_KEYS = {"length_s", "stride_s", "events"}
_EVENT_KEYS = {"tmin_s", "tmax_s", "mapping"}


def recipe_dirs() -> list:
    """Folders searched for recipes by name: ``$NEUROKIT_RECIPES`` (``os.pathsep``-separated),
    the repository's ``datasets/``, and the copy installed with the package."""
    dirs = [Path(p) for p in os.environ.get("NEUROKIT_RECIPES", "").split(os.pathsep) if p]
    here = Path(__file__).resolve().parents[1]
    dirs += [here.parent / "datasets", here / "recipes" / "datasets"]
    return [d for d in dirs if d.is_dir()]


def list_recipes() -> dict:
    """``{name: path}`` of every preprocessing recipe found in :func:`recipe_dirs` (first one
    wins). Denoiser training recipes (``denoise_*.yaml``, read by
    :mod:`neurokit.artifacts.training`) live beside them and are left out."""
    found = {}
    for d in recipe_dirs():
        for p in sorted(d.glob("*.yaml")):
            if not p.stem.startswith("denoise_"):
                found.setdefault(p.stem, p)
    return found


def find_recipe(name_or_path) -> Path:
    """Path of a recipe given by path or by name."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    recipes = list_recipes()
    if str(name_or_path) in recipes:
        return recipes[str(name_or_path)]
    raise InvalidParameterError(
        f"recipe {str(name_or_path)!r} not found: not a file, and not "
        f"one of {sorted(recipes)} (searched {[str(d) for d in recipe_dirs()]})"
    )


class Pipeline:
    """An ordered list of registered steps, with a recipe's loader, windows and dtype.

    Parameters
    ----------
    steps : list of (name, options) pairs
    name : str
    loader : dict, options of :func:`neurokit.io.load`
    windows : dict | None, see :func:`neurokit.preprocessing.windows.make_windows`
    dtype : {"float32", "float16"}
    """

    def __init__(
        self,
        steps,
        *,
        name="custom",
        description="",
        loader=None,
        windows=None,
        dtype="float32",
        splits=None,
        reference=None,
        subject_pattern=None,
        source=None,
    ):
        self.name = name
        self.description = description
        self.steps = [(str(s), dict(o or {})) for s, o in steps]
        self.loader = dict(loader or {})
        self.windows = windows
        self.dtype = dtype
        self.splits = splits
        self.reference = reference
        self.subject_pattern = subject_pattern
        self.source = source
        self._validate()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_recipe(cls, name_or_path) -> "Pipeline":
        """Load and validate a YAML recipe (a path, or a name in :func:`recipe_dirs`)."""
        import yaml

        path = find_recipe(name_or_path)
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            raise InvalidParameterError(f"recipe {path}: not valid YAML: {err}") from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data, source=None) -> "Pipeline":
        where = f"recipe {source or '(dict)'}"
        if not isinstance(data, dict):
            raise InvalidParameterError(f"{where}: must be a mapping with keys {sorted(_KEYS)}")
        unknown = sorted(set(data) - _KEYS)
        if unknown:
            raise InvalidParameterError(
                f"{where}: unknown key {unknown[0]!r}; allowed keys: {sorted(_KEYS)}"
            )
        steps = []
        for i, item in enumerate(data.get("steps") or []):
            if isinstance(item, str):
                steps.append((item, {}))
            elif isinstance(item, dict) and len(item) == 1:
                ((name, opts),) = item.items()
                steps.append((name, opts or {}))
            else:
                raise InvalidParameterError(
                    f"{where}: steps[{i}] must be a step name or a "
                    f"one-key mapping {{name: {{options}}}}, got {item!r}"
                )
        kwargs = {
            k: data[k]
            for k in (
                "loader",
                "windows",
                "dtype",
                "splits",
                "reference",
                "description",
                "subject_pattern",
            )
            if k in data
        }
        return cls(
            steps, name=data.get("name") or Path(source or "custom").stem, source=source, **kwargs
        )

    def _validate(self):
        where = f"recipe {self.source or self.name}"
        for i, (name, opts) in enumerate(self.steps):
            try:
                get_step(name)
            except InvalidParameterError as err:
                raise InvalidParameterError(f"{where}: steps[{i}]: {err}") from None
            check_step_kwargs(name, opts, where=f"{where}: steps[{i}]")
        if self.dtype not in ("float32", "float16"):
            raise InvalidParameterError(f"{where}: dtype={self.dtype!r}; allowed float32, float16")
        if not isinstance(self.loader, dict):
            raise InvalidParameterError(f"{where}: loader must be a mapping of load() options")
        w = self.windows
        if w is not None:
            if not isinstance(w, dict) or set(w) - _WINDOW_KEYS:
                raise InvalidParameterError(
                    f"{where}: windows has unknown key(s) "
                    f"{sorted(set(w) - _WINDOW_KEYS) if isinstance(w, dict) else w}; "
                    f"allowed: {sorted(_WINDOW_KEYS)}"
                )
            if "events" in w:
                ev = w["events"]
                if (
                    not isinstance(ev, dict)
                    or set(ev) - _EVENT_KEYS
                    or not {"tmin_s", "tmax_s"} <= set(ev)
                ):
                    raise InvalidParameterError(
                        f"{where}: windows.events needs tmin_s and tmax_s "
                        f"(and optionally mapping); got {ev!r}"
                    )
            elif "length_s" not in w:
                raise InvalidParameterError(
                    f"{where}: windows needs length_s (fixed windows) "
                    "or events (event-locked windows)"
                )

    # ------------------------------------------------------------------ use
    def __call__(self, rec):
        """Run the steps on ``rec`` (never modified); returns the new recording.

        The input is copied once; the steps then work in place on that private copy.
        """
        if not self.steps:
            return rec
        rec = rec.copy()
        with owning():
            for name, opts in self.steps:
                rec = get_step(name)(rec, **opts)
        return rec

    def load(self, path, **options):
        """Load ``path`` with the recipe's loader options and run the steps (in place: the
        freshly loaded recording belongs to the pipeline)."""
        from ..io import load

        rec = load(path, **{**self.loader, **options})
        with owning():
            for name, opts in self.steps:
                rec = get_step(name)(rec, **opts)
        return rec

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "loader": self.loader,
            "steps": [{n: o} for n, o in self.steps],
            "windows": self.windows,
            "dtype": self.dtype,
            "splits": self.splits,
            "reference": self.reference,
            "subject_pattern": self.subject_pattern,
        }

    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON of everything that changes the output."""
        d = self.to_dict()
        d.pop("description")
        d.pop("reference")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()

    def __repr__(self) -> str:
        return f"<Pipeline {self.name!r}: {' -> '.join(n for n, _ in self.steps) or 'no steps'}>"
