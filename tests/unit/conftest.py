"""The unit tier's guard, for every test in this folder: starting a process, opening a network
connection and writing outside the temporary folders or in $HOME fail the test (testing.sandbox)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.sandbox import Sandbox


@pytest.fixture(autouse=True)
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    guard = Sandbox([tmp_path_factory.getbasetemp(), Path(tempfile.gettempdir())], Path.home())
    with pytest.MonkeyPatch.context() as mp:
        guard.install(mp)
        yield guard
    if guard.refused:
        pytest.fail("; ".join(guard.refused), pytrace=False)
