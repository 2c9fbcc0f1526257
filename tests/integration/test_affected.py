"""`bakegen affected` against the brute-force judge (testing.judge), in temporary git
repositories: for each scripted change `affected` must give exactly the judge's set."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bakegen.commands.affected import affected, bake_file
from bakegen.errors import UsageError
from bakegen.layout import MARKER
from testing.helpers import ROOT, bake_print, git, run_cli
from testing.judge import example_repo, judge

pytestmark = pytest.mark.buildx


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def rename_package(repo: Path, old: str, new: str) -> None:
    edit(repo / "manifest/manifest.yml", f"  {old}:\n    python", f"  {new}:\n    python")
    edit(repo / "manifest/manifest.yml", f"{old}: docker.io", f"{new}: docker.io")


CHANGES: dict[str, Callable[[Path], object]] = {
    "a leaf template": lambda r: edit(
        r / "templates/debian/devel.Dockerfile.j2", "WORKDIR /src", "WORKDIR /src2"
    ),
    "an included file": lambda r: edit(
        r / "templates/common/check-python.j2", "# Fail the build", "# Stop the build"
    ),
    "a file COPYed from the context": lambda r: (r / "templates/common/entrypoint.sh").write_text(
        (r / "templates/common/entrypoint.sh").read_text(encoding="utf-8") + "# changed\n",
        encoding="utf-8",
    ),
    "a key inside a shared anchor": lambda r: edit(
        r / "manifest/manifest.yml", "- PIP_NO_CACHE_DIR=1", "- PIP_NO_CACHE_DIR=0"
    ),
    "a parent's template": lambda r: edit(
        r / "templates/rhel/base.Dockerfile.j2", "FROM", "# base\nFROM"
    ),
    "one CUDA component version": lambda r: edit(
        r / "manifest/manifest.yml", "libcufft: 11.3.0.4-1", "libcufft: 11.3.0.5-1"
    ),
    "nothing that builds": lambda r: (r / "README.md").write_text("more\n", encoding="utf-8"),
    "a renamed package": lambda r: rename_package(r, "yatai-service", "yatai"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_affected_equals_the_judge(change: str, tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    CHANGES[change](repo)
    found = affected(repo, "HEAD")
    assert found.note is None
    expected = judge(repo, "HEAD")
    assert set(found.targets) == expected
    if change == "nothing that builds":
        assert expected == set()
    else:
        assert expected, "a change that builds affects something"


def test_a_parent_change_reaches_children_and_their_checks(tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    CHANGES["a parent's template"](repo)
    found = affected(repo, "HEAD")
    assert found.targets["model-server-base-rockylinux9-py311"] == ["dockerfile changed"]
    runtime = "model-server-runtime-rockylinux9-py311"
    assert found.targets[runtime] == ["built FROM model-server-base-rockylinux9-py311"]
    assert found.targets[f"{runtime}-verify"] == [f"built FROM {runtime}"]
    assert not any("debian" in t for t in found.targets)


def test_unknown_ref_and_uncompilable_ref(tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    with pytest.raises(UsageError, match="'nope' is no commit"):
        affected(repo, "nope")
    (repo / "manifest/manifest.yml").write_text("packages: {}\n", encoding="utf-8")
    git(repo, "commit", "-qam", "broken")
    shutil.copytree(ROOT / "manifest", repo / "manifest", dirs_exist_ok=True)
    found = affected(repo, "HEAD")
    assert found.note is not None
    assert found.note.startswith("HEAD does not compile (")
    assert len(found.targets) > 40


def test_bake_file_has_one_group(tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    CHANGES["a leaf template"](repo)
    targets = list(affected(repo, "HEAD").targets)
    (repo / "affected.hcl").write_text(bake_file(targets), encoding="utf-8")
    assert run_cli("render", cwd=repo).code == 0
    printed = bake_print(repo, "affected", files=["docker-bake.hcl", "affected.hcl"])
    assert set(printed["group"]["affected"]["targets"]) == set(targets)


def test_affected_bake_writes_the_group_of_the_targets_it_prints(tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    CHANGES["a leaf template"](repo)
    (repo / "affected.hcl").write_text(bake_file(["an-older-one"]), encoding="utf-8")
    result = run_cli("affected", "--since", "HEAD", "--bake", "affected.hcl", "--json", cwd=repo)
    assert result.code == 0, result.err
    targets = list(json.loads(result.out))
    assert targets
    assert (repo / "affected.hcl").read_text(encoding="utf-8") == bake_file(targets)


def test_the_affected_group_is_written_as_the_bake_file_writes_groups() -> None:
    head = f'# {MARKER}\ngroup "affected" {{\n'
    assert bake_file(["a", "b"]) == head + '  targets = ["a", "b"]\n}\n'
    long = [f"target-{n:02}-" + "x" * 30 for n in range(3)]
    items = "".join(f'    "{name}",\n' for name in long)
    assert bake_file(long) == head + f"  targets = [\n{items}  ]\n}}\n"
    assert bake_file(['say "hi"']) == head + '  targets = ["say \\"hi\\""]\n}\n'


EDITS = st.sampled_from(
    [
        ("- LANG=C.UTF-8", "- LANG=C"),
        ('python_versions: ["3.11"]\n    "13"', 'python_versions: ["3.11"]\n    "13"'),
        ("cudart: 12.4.127-1", "cudart: 12.4.128-1"),
        ("add_to_tags: noble", "add_to_tags: noble2"),
        ("base_image: alpine:3.21", "base_image: alpine:3.22"),
        ("multistage_image: true", "multistage_image: false"),
        ("version: devel", 'version: "1.0"'),
        ("  - tag: latest", "  - tag: stable"),
        ('exclude_python: ["3.11"]', 'exclude_python: ["3.10"]'),
        ("only_if: GHCR_TOKEN", "only_if: GHCR_PUSH"),
        ("ghcr.io/example/model-server", "ghcr.io/example/server"),
    ]
)


@settings(
    max_examples=6,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(edits=st.lists(EDITS, min_size=1, max_size=3, unique=True))
def test_generated_manifest_edits_equal_the_judge(
    edits: list[tuple[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    repo = example_repo(tmp_path_factory.mktemp("edits"))
    text = (repo / "manifest/manifest.yml").read_text(encoding="utf-8")
    for old, new in edits:
        text = text.replace(old, new, 1)
    yaml.safe_load(text)
    (repo / "manifest/manifest.yml").write_text(text, encoding="utf-8")
    assert set(affected(repo, "HEAD").targets) == judge(repo, "HEAD")
