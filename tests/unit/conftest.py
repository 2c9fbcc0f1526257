"""The unit tier's guard, for every test in this folder: starting a process, opening a network
connection and writing outside the temporary folders or in $HOME fail the test (testing.sandbox).
`bakegen validate` finds no docker buildx here (it would start one; the integration tier runs
it)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bakegen.commands import validate
from testing.sandbox import Sandbox


@pytest.fixture(autouse=True)
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    guard = Sandbox([tmp_path_factory.getbasetemp(), Path(tempfile.gettempdir())], Path.home())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(validate, "find_buildx", lambda: None)
        guard.install(mp)
        yield guard
    if guard.refused:
        pytest.fail("; ".join(guard.refused), pytrace=False)
