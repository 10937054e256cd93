"""Registry of preprocessing steps: ``@register_step("name")`` on ``Recording -> Recording``.

A step takes a :class:`~neurokit.Recording` and JSON-able keyword-only arguments, never mutates
its input, and returns a new recording whose history ends with ``{"step": name, **kwargs}``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable

from ..errors import InvalidParameterError

__all__ = ["register_step", "get_step", "list_steps", "check_step_kwargs", "apply_step"]

_STEPS: dict = {}


def register_step(name: str) -> Callable:
    """Register ``func(rec, *, ...)`` as step ``name``; its keyword-only parameters are the
    step's options (validated against recipes)."""

    def deco(func):
        params = list(inspect.signature(func).parameters.values())
        if not params or any(p.kind not in (p.KEYWORD_ONLY,) for p in params[1:]):
            raise TypeError(f"step {name!r}: options after the recording must be keyword-only")
        func.step_name = name
        _STEPS[name] = func
        return func

    return deco


def list_steps() -> dict:
    """``{name: {option: default or None}}`` for every registered step."""
    from . import brainomni, steps  # noqa: F401  (registers the built-in steps)

    return {
        name: {
            p.name: (None if p.default is p.empty else p.default)
            for p in list(inspect.signature(f).parameters.values())[1:]
        }
        for name, f in sorted(_STEPS.items())
    }


def get_step(name: str) -> Callable:
    from . import brainomni, steps  # noqa: F401

    if name not in _STEPS:
        raise InvalidParameterError(
            f"unknown preprocessing step {name!r}; registered steps: {sorted(_STEPS)}"
        )
    return _STEPS[name]


def check_step_kwargs(name: str, kwargs: dict, where: str = "") -> None:
    """Raise :class:`InvalidParameterError` naming the bad key when ``kwargs`` do not fit."""
    func = get_step(name)
    params = {p.name: p for p in list(inspect.signature(func).parameters.values())[1:]}
    prefix = f"{where}: " if where else ""
    if not isinstance(kwargs, dict):
        raise InvalidParameterError(
            f"{prefix}options of step {name!r} must be a mapping, got {type(kwargs).__name__}"
        )
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        raise InvalidParameterError(
            f"{prefix}step {name!r} has no option {unknown[0]!r}; allowed: {sorted(params)}"
        )
    missing = [p for p, v in params.items() if v.default is v.empty and p not in kwargs]
    if missing:
        raise InvalidParameterError(f"{prefix}step {name!r} needs option {missing[0]!r}")
    try:
        json.dumps(kwargs)
    except TypeError as err:
        raise InvalidParameterError(
            f"{prefix}options of step {name!r} must be JSON-able: {err}"
        ) from None


def apply_step(rec, name: str, **kwargs):
    """Run step ``name`` on ``rec`` (validated), returning the new recording."""
    check_step_kwargs(name, kwargs)
    return get_step(name)(rec, **kwargs)
