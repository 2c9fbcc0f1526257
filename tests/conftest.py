"""Test tiers: a test's folder is its tier.

- unit:        in-process; no subprocess, no network, no write outside temporary folders
               (tests/unit/conftest.py makes each attempt fail the test)
- integration: real tools: `docker buildx bake --print`, hadolint, actionlint, check-jsonschema,
               pre-commit, git, loopback registries, bakegen in a real process
- e2e:         real builds on a running Docker engine

Plain `pytest` runs the unit tier. `pytest --all-tiers` (what scripts/test.sh runs) runs every
tier; naming a tier's folder, a file or a test runs what is named; `-m` selects across all tiers
(the markers `unit`, `integration` and `e2e` are set from the folder, and `buildx`, `hadolint`,
`registry` and `cosign` say which tool a test needs). A missing tool skips its tests, or fails
them when CI=true (testing.helpers.unavailable).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from hypothesis import configuration as hypothesis_configuration

TIERS = ("unit", "integration", "e2e")
DEFAULT_TIER = "unit"
# Markers that say which tool a test needs: none of them may be in the unit tier.
TOOL_MARKERS = ("buildx", "hadolint", "registry", "cosign")

_TESTS = Path(__file__).resolve().parent
_selected: dict[str, str] = {}
_durations: defaultdict[str, float] = defaultdict(float)
_outcomes: defaultdict[str, Counter[str]] = defaultdict(Counter)
_tier_of_collected: Counter[str] = Counter()
_scratch: list[Path] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--all-tiers",
        action="store_true",
        help="run every tier (unit, integration, e2e), not only the unit one",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Before any test module is imported (some build plans at import time): bakegen's cache
    and hypothesis's files go to a folder of this run, never the user's cache, $HOME or the
    checkout; processes the tests start inherit BAKEGEN_CACHE."""
    declared = {line.split(":")[0].strip() for line in config.getini("markers")}
    if undeclared := sorted({*TIERS, *TOOL_MARKERS} - declared):
        raise pytest.UsageError(f"pyproject.toml declares no marker {undeclared}")
    scratch = Path(tempfile.mkdtemp(prefix="bakegen-tests-"))
    _scratch.append(scratch)
    os.environ["BAKEGEN_CACHE"] = str(scratch / "bakegen-cache")
    hypothesis_configuration.set_hypothesis_home_dir(str(scratch / "hypothesis"))


def pytest_unconfigure() -> None:
    while _scratch:
        shutil.rmtree(_scratch.pop(), ignore_errors=True)


def tier_of(item: pytest.Item) -> str:
    """The tier of a test: the folder under tests/ it lives in."""
    try:
        parts = item.path.resolve().relative_to(_TESTS).parts
    except ValueError:
        parts = ()
    tier = parts[0] if len(parts) > 1 else ""
    if tier not in TIERS:
        raise pytest.UsageError(
            f"{item.nodeid}: a test lives in tests/unit, tests/integration or tests/e2e "
            "(its folder is its tier; see tests/conftest.py)"
        )
    marked = sorted(t for t in TIERS if t != tier and item.get_closest_marker(t) is not None)
    tools = [t for t in TOOL_MARKERS if item.get_closest_marker(t) is not None]
    if marked or (tier == "unit" and tools):
        raise pytest.UsageError(
            f"{item.nodeid}: in tests/{tier} but marked {', '.join(marked + tools)}; "
            "a test's folder is its one tier, and unit tests need no tool"
        )
    return tier


def _names_a_tier(arg: str) -> bool:
    """Whether a command-line path is inside one tier's folder (or names a test)."""
    path = Path(arg.split("::", maxsplit=1)[0]).resolve()
    return "::" in arg or any(path.is_relative_to(_TESTS / tier) for tier in TIERS)


def _chose_tiers(config: pytest.Config) -> bool:
    """True when the command line says what to run: --all-tiers, -m, a tier's folder, a test
    file or a test. `pytest tests` chooses nothing: it runs the unit tier, like plain `pytest`."""
    opt = config.option
    named = config.args_source == pytest.Config.ArgsSource.ARGS and any(
        _names_a_tier(a) for a in config.args
    )
    return bool(opt.all_tiers or opt.markexpr or named)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # tryfirst: the tier markers must be on the items before `-m` selects by them.
    tiers = {}
    for item in items:
        tier = tier_of(item)
        if item.get_closest_marker(tier) is None:
            item.add_marker(tier)
        tiers[item.nodeid] = tier
        _tier_of_collected[tier] += 1
    _selected.update(tiers)
    if _chose_tiers(config):
        return
    keep = [i for i in items if tiers[i.nodeid] == DEFAULT_TIER]
    dropped = [i for i in items if tiers[i.nodeid] != DEFAULT_TIER]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    kept = {i.nodeid for i in session.items}
    for nodeid in list(_selected):
        if nodeid not in kept:
            del _selected[nodeid]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    tier = _selected.get(report.nodeid)
    if tier is None:
        return
    _durations[tier] += report.duration
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome: str = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        _outcomes[tier][outcome] += 1
    elif report.when == "teardown" and report.failed:
        _outcomes[tier]["error"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _tier_of_collected:
        return
    tr = terminalreporter
    tr.section("tiers")
    run = Counter(_selected.values())
    for tier in TIERS:
        if not _tier_of_collected[tier]:
            continue
        done = ", ".join(f"{n} {k}" for k, n in sorted(_outcomes[tier].items())) or "none run"
        tr.write_line(
            f"{tier:<12}{run[tier]:>5} of {_tier_of_collected[tier]:>4} selected, "
            f"{_durations[tier]:7.1f} s: {done}"
        )
    total = sum(_tier_of_collected.values())
    tr.write_line(f"{'all':<12}{sum(run.values()):>5} of {total:>4} selected")
    if sum(run.values()) < total and not _chose_tiers(tr.config):
        tr.write_line("only the unit tier ran; scripts/test.sh or pytest --all-tiers runs all")
