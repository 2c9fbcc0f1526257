"""Test tiers: every test is in exactly one, assigned here.

- engine:   real builds on a running Docker engine (the `engine` marker)
- registry: real registries on loopback (Debian's docker-registry; the `registry` marker)
- hadolint: runs hadolint (the `hadolint` marker)
- buildx:   runs `docker buildx bake --print`, no daemon (the `buildx` marker)
- slow:     in-process but long: the modules in SLOW_MODULES
- fast:     everything else, the default for a new module

Plain `pytest` runs the fast tier only. `pytest --all-tiers` (what scripts/test.sh runs) runs
every tier; `pytest -m buildx` runs one; naming a file or test runs it whatever its tier.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from pathlib import Path

import pytest

TIERS = ("fast", "slow", "registry", "buildx", "hadolint", "engine")
# Markers a test module sets itself, because the test needs a tool: the first found wins.
TOOL_TIERS = ("engine", "hadolint", "buildx", "registry")
# In-process but long (measured with --durations=0): not part of the quick check.
SLOW_MODULES = frozenset(
    {
        "test_corpus",
        "test_determinism",
        "test_hardening",
        "test_precommit",
        "test_schema",
        "test_write_safety",
    }
)
# Long tests in otherwise fast modules ("module::function", every parameter set).
SLOW_TESTS = frozenset(
    {
        "test_limits::test_max_targets_option_raises_the_limit",
        "test_limits::test_max_targets_in_the_manifest_and_the_option_wins",
        "test_ci_github::test_check_jsonschema_github_workflows",
        "test_ci_github::test_actionlint_finds_nothing",
        "test_ci_github::test_thousands_of_targets_fit_githubs_limits",
    }
)
DEFAULT_TIER = "fast"

_TESTS = Path(__file__).resolve().parent
_selected: dict[str, str] = {}
_durations: defaultdict[str, float] = defaultdict(float)
_outcomes: defaultdict[str, Counter[str]] = defaultdict(Counter)
_tier_of_collected: Counter[str] = Counter()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--all-tiers",
        action="store_true",
        help="run every tier (fast, slow, registry, buildx, hadolint, engine), not only the fast one",
    )


@pytest.fixture(autouse=True, scope="session")
def _render_state_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Renders keep their state in a folder of this run, not the user's cache (and processes
    the tests start inherit it)."""
    os.environ["BAKEGEN_CACHE"] = str(tmp_path_factory.mktemp("bakegen-cache"))


def pytest_configure(config: pytest.Config) -> None:
    missing = sorted(m for m in SLOW_MODULES if not (_TESTS / f"{m}.py").is_file())
    if missing:
        raise pytest.UsageError(f"tests/conftest.py: SLOW_MODULES names no module: {missing}")
    declared = {line.split(":")[0].strip() for line in config.getini("markers")}
    if undeclared := sorted(set(TIERS) - declared):
        raise pytest.UsageError(f"pyproject.toml declares no marker for tiers {undeclared}")


def _test_name(item: pytest.Item) -> str:
    """`module::function` of a test, without its parameters."""
    return (
        f"{item.path.stem}::{item.originalname if isinstance(item, pytest.Function) else item.name}"
    )


def tier_of(item: pytest.Item) -> str:
    """The one tier of a test; a test that names two tiers itself is an error."""
    own = [t for t in TIERS if item.get_closest_marker(t) is not None]
    tools = [t for t in TOOL_TIERS if t in own]
    if tools:
        tier = tools[0]
    elif item.path.stem in SLOW_MODULES or _test_name(item) in SLOW_TESTS:
        tier = "slow"
    else:
        tier = own[0] if own else DEFAULT_TIER
    extra = sorted(set(own) - {tier})
    if extra:
        raise pytest.UsageError(
            f"{item.nodeid}: in tier {tier} but also marked {', '.join(extra)}; "
            "a test is in exactly one tier (see tests/conftest.py)"
        )
    return tier


def _chose_tiers(config: pytest.Config) -> bool:
    """True when the command line says what to run: --all-tiers, -m, or test files or tests.

    A folder (`pytest tests`) chooses nothing: it runs the fast tier, like plain `pytest`.
    """
    opt = config.option
    named = [a for a in opt.file_or_dir or [] if "::" in a or Path(a).is_file()]
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
    names = {_test_name(i) for i in items}
    modules = {i.path.stem for i in items}
    stale = sorted(t for t in SLOW_TESTS if t.split("::")[0] in modules and t not in names)
    if stale:
        raise pytest.UsageError(f"tests/conftest.py: SLOW_TESTS names no test: {stale}")
    if _chose_tiers(config):
        return
    keep = [i for i in items if tiers[i.nodeid] == "fast"]
    dropped = [i for i in items if tiers[i.nodeid] != "fast"]
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
            f"{tier:<9}{run[tier]:>5} of {_tier_of_collected[tier]:>4} selected, "
            f"{_durations[tier]:7.1f} s: {done}"
        )
    total = sum(_tier_of_collected.values())
    tr.write_line(f"{'all':<9}{sum(run.values()):>5} of {total:>4} selected")
    if sum(run.values()) < total and not _chose_tiers(tr.config):
        tr.write_line("only the fast tier ran; scripts/test.sh or pytest --all-tiers runs all")
