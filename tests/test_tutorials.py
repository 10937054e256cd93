"""Every tutorial runs top to bottom."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("[0-9]*.py"))


@pytest.mark.parametrize("script", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(script, tmp_path, monkeypatch):
    monkeypatch.chdir(script.parents[1])  # tutorials expect the repository as working directory
    runpy.run_path(str(script), run_name="__main__")


def test_there_is_a_tutorial():
    assert any(p.name == "01_load_and_normalize.py" for p in TUTORIALS)
