"""Shared fixtures: the real-data folder (skipped cleanly when absent) and the loader index."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NEUROKIT_TEST_DATA", REPO.parent / "shared" / "data")).resolve()
INDEX = DATA / "loaders" / "index.json"


def index_entries() -> list:
    """Entries of ``shared/data/loaders/index.json`` (empty when the data is absent)."""
    if not INDEX.exists():
        return []
    return json.loads(INDEX.read_text())["entries"]


def entry_param(entries):
    """One pytest param per entry, or a single skipped param when there is no data."""
    if not entries:
        return [
            pytest.param(
                None,
                marks=pytest.mark.skip(
                    reason=f"real recordings not found at {DATA} (set NEUROKIT_TEST_DATA)"
                ),
            )
        ]
    return [pytest.param(e, id=e["id"]) for e in entries]


@pytest.fixture(scope="session")
def data_root() -> Path:
    if not DATA.exists():
        pytest.skip(f"real recordings not found at {DATA} (set NEUROKIT_TEST_DATA)")
    return DATA


@pytest.fixture(autouse=True)
def _offscreen(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")


def pytest_sessionfinish(session, exitstatus):
    """A run in which no test passed is a failure, not a silent success."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or session.config.option.collectonly:
        return
    if exitstatus == 0 and not reporter.stats.get("passed"):
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
