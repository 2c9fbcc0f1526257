"""`bakegen affected` against a brute-force oracle, in temporary git repositories.

The oracle renders both revisions on disk, reads every target's entry with real
`docker buildx bake --print`, the bytes of its Dockerfile and of the files its COPY and ADD
instructions read (parsed with BuildKit's own parser), and propagates through `target:`
contexts. `affected` must give exactly the oracle's set for each scripted change.
"""

from __future__ import annotations

import glob
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import dockerfile
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bakegen.commands.affected import affected, bake_file
from bakegen.errors import UsageError
from bakegen.layout import MARKER
from testing.helpers import ROOT, bake_print, git, run_cli

pytestmark = pytest.mark.buildx


def example_repo(tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    for name in ("manifest", "templates"):
        shutil.copytree(ROOT / name, repo / name)
    (repo / "README.md").write_text("images\n", encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def gates_of(ws: Path) -> set[str]:
    manifest = yaml.safe_load((ws / "manifest/manifest.yml").read_text(encoding="utf-8"))
    return {r["only_if"] for r in (manifest.get("repository") or {}).values() if r.get("only_if")}


def oracle_inputs(ws: Path, gates: set[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """target -> (digest of everything it is built from, its target: parents), by brute force."""
    assert run_cli("render", cwd=ws).code == 0
    # Every group holds every pushed image and check; bake adds the parents they are built FROM.
    # Printed with the gates closed (their defaults), all open, and each open alone: a target
    # is unchanged only when bake gives it the same entry whichever registries are on.
    envs = [{}, dict.fromkeys(gates, "on"), *({g: "on"} for g in sorted(gates))]
    prints = [bake_print(ws, "default", "verify", env=env)["target"] for env in envs]
    out = {}
    for name, entry in prints[0].items():
        digest = hashlib.sha256(json.dumps([p[name] for p in prints], sort_keys=True).encode())
        text = (ws / entry["dockerfile"]).read_text(encoding="utf-8")
        digest.update(text.encode())
        for command in dockerfile.parse_string(text):
            if command.cmd.upper() not in ("COPY", "ADD"):
                continue
            if any(f.startswith("--from=") for f in command.flags):
                continue
            for source in command.value[:-1]:
                for match in sorted(glob.glob(str(ws / source), recursive=True)):
                    for path in (
                        sorted(Path(match).rglob("*")) if Path(match).is_dir() else [Path(match)]
                    ):
                        if path.is_file():
                            digest.update(path.relative_to(ws).as_posix().encode())
                            digest.update(path.read_bytes())
        parents = tuple(
            v.removeprefix("target:")
            for v in (entry.get("contexts") or {}).values()
            if v.startswith("target:")
        )
        out[name] = (digest.hexdigest(), parents)
    shutil.rmtree(ws / "generated")
    return out


def oracle(repo: Path, ref: str) -> set[str]:
    old = repo.parent / f"old-{ref}"
    old.mkdir()
    subprocess.run(f"git archive {ref} | tar -x -C {old}", shell=True, cwd=repo, check=True)
    gates = gates_of(old) | gates_of(repo)
    before, now = oracle_inputs(old, gates), oracle_inputs(repo, gates)
    shutil.rmtree(old)
    changed = {t for t, (d, _) in now.items() if before.get(t, ("", ()))[0] != d}
    grew = True
    while grew:
        grew = False
        for name, (_, parents) in now.items():
            if name not in changed and any(p in changed for p in parents):
                changed.add(name)
                grew = True
    return changed


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
def test_affected_equals_the_oracle(change: str, tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    CHANGES[change](repo)
    found = affected(repo, "HEAD")
    assert found.note is None
    expected = oracle(repo, "HEAD")
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
    (repo / "affected.hcl").write_text("an older one\n", encoding="utf-8")
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
def test_generated_manifest_edits_equal_the_oracle(
    edits: list[tuple[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    repo = example_repo(tmp_path_factory.mktemp("edits"))
    text = (repo / "manifest/manifest.yml").read_text(encoding="utf-8")
    for old, new in edits:
        text = text.replace(old, new, 1)
    yaml.safe_load(text)
    (repo / "manifest/manifest.yml").write_text(text, encoding="utf-8")
    assert set(affected(repo, "HEAD").targets) == oracle(repo, "HEAD")
