"""Property-based conformance: for generated valid manifests, real `docker buildx bake --print`
resolves exactly the targets bakegen's plan says (tests/conformance.py is the oracle).

The generator only builds manifests bakegen must accept, and the test asserts that it does:
names are drawn from the allowed alphabets with a prefix per kind (packages `p`, distros `os`,
custom release types `t`) so that bake groups and target names cannot collide by construction;
every Python list holds one common version so that no package x release is left without Python;
CUDA versions differ in major.minor, and releases used by CUDA release types have CUDA.

Each example renders into a fresh workspace (tiny templates), then runs bake --print twice:
the default group with no variables set, and a drawn group with VERSION and every registry gate
set. Seeded (derandomize=True): every run checks the same examples.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bakegen.load.merge import load
from bakegen.manifest.records import PACKAGE_KEYS
from bakegen.pipeline import plan_workspace
from bakegen.plan.records import Plan
from testing.conformance import expected_targets, printed_targets
from testing.helpers import bake_print, buildx, run_cli
from testing.printed import as_printed

pytestmark = [
    pytest.mark.buildx,
    # Reporting a failure imports hypothesis.extra._patching, which imports a deprecated name of
    # mypy_extensions; with warnings as errors that would hide the counterexample.
    pytest.mark.filterwarnings("ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"),
]

# 300 in CI; BAKEGEN_PROPERTY_EXAMPLES=N runs more (or fewer, while working on the generator).
EXAMPLES = int(os.environ.get("BAKEGEN_PROPERTY_EXAMPLES", "300"))
PYTHONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]
PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/ppc64le", "linux/s390x"]
DEFAULT_TYPES = ["runtime", "devel", "cudnn"]
GATE_PREFIX = "BAKEGEN_TEST_GATE_"
TEMPLATE = (
    # trim_blocks eats the newline right after a block tag: the second one ends the FROM line.
    "{% if from_parent %}FROM base{% else %}FROM {{ base_image }}{% endif %}\n\n"
    "ARG PYTHON_VERSION={{ python_version }}\n"
    "{% for key, value in envars.items() %}ENV {{ key }}={{ value | env_quote }}\n{% endfor %}"
)
LABEL_TEXT = st.text(
    alphabet=st.sampled_from(list("ab zé中😀$%{}\"'\\/.:=-_#`\u2028\u202e")), max_size=12
)

package_names = st.from_regex(r"p([a-z0-9_]{0,5}[a-z0-9])?", fullmatch=True)
distro_names = st.from_regex(r"os[a-z0-9_]{0,4}[a-z]", fullmatch=True)
type_names = st.from_regex(r"t[a-z0-9_]{0,5}", fullmatch=True)
distro_versions = st.from_regex(r"[0-9]{1,2}(\.[0-9]{1,2}){0,2}", fullmatch=True)
cuda_versions = st.from_regex(r"1[0-3]\.[0-9]\.[0-9]{1,2}", fullmatch=True)


def sublist(draw: st.DrawFn, items: list[str], *, keep: str | None = None) -> list[str]:
    """A non-empty ordered subset of `items` (always holding `keep` when given)."""
    chosen = draw(st.lists(st.sampled_from(items), unique=True, min_size=1, max_size=len(items)))
    if keep is not None and keep not in chosen:
        chosen.append(keep)
    return chosen


def tag_format(draw: st.DrawFn) -> str:
    """A tag format that tells every image of its release type apart: release, Python, distro
    release (suffix) and CUDA, in a drawn order with drawn separators and extras."""
    fields = ["{python}", "{suffix}", draw(st.sampled_from(["{cuda}", "{cuda_short}"]))]
    fields += draw(
        st.lists(
            st.sampled_from(["{version}", "{package}", "{distro}", "py", "x.1"]),
            unique=True,
            max_size=2,
        )
    )
    fields = draw(st.permutations(fields))
    out = "{release}"
    for part in fields:
        out += draw(st.sampled_from(["-", "_", ".", "--"])) + part
    return out


def top_level(draw: st.DrawFn, common: str) -> dict[str, Any]:
    """The manifest's top-level keys before CUDA: version, Pythons, platforms, labels, verify."""
    manifest: dict[str, Any] = {}
    if draw(st.booleans()):
        manifest["version"] = draw(st.from_regex(r"[0-9a-z][0-9A-Za-z_.-]{0,8}", fullmatch=True))
    manifest["python_versions"] = sublist(draw, PYTHONS[:5], keep=common)
    if draw(st.booleans()):
        manifest["platforms"] = sublist(draw, PLATFORMS)
    if draw(st.booleans()):
        manifest["labels"] = draw(
            st.dictionaries(LABEL_TEXT.filter(bool), LABEL_TEXT, min_size=1, max_size=4)
        )
    if draw(st.booleans()):
        manifest["verify"] = draw(st.booleans())
    return manifest


def cuda_versions_of(draw: st.DrawFn, manifest: dict[str, Any]) -> list[str]:
    """CUDA versions: distinct major.minor, so target names and tags tell them apart."""
    cudas = draw(
        st.lists(cuda_versions, unique_by=lambda v: v.rsplit(".", 1)[0], min_size=0, max_size=3)
    )
    if cudas:
        manifest["cuda_dependencies"] = {
            v: {"cudart": f"{v}-1", **({"cudnn9": f"9.{i}.0-1"} if i % 2 == 0 else {})}
            for i, v in enumerate(cudas)
        }
    return cudas


def release_types(
    draw: st.DrawFn, manifest: dict[str, Any], cudas: list[str]
) -> tuple[list[str], set[str]]:
    """Drawn custom release types, each FROM base, an earlier one, a default one, or nothing;
    returns the release types known and those that build CUDA images."""
    types: dict[str, dict[str, Any]] = {}
    known = ["base", *DEFAULT_TYPES]
    cuda_types = {"cudnn"}
    for name in draw(st.lists(type_names, unique=True, max_size=3)):
        spec: dict[str, Any] = {}
        parent = draw(st.sampled_from([None, *known]))
        if parent is not None:
            spec["parent"] = parent
        if len(cudas) > 0 and draw(st.booleans()):
            spec["cuda"] = True
        if draw(st.integers(0, 3)) == 0:
            spec["push"] = False
        else:
            spec["tag"] = tag_format(draw)
        if spec.get("cuda") or parent in cuda_types:
            cuda_types.add(name)
        types[name] = spec
        known.append(name)
    if types:
        manifest["release_types"] = types
    return known, cuda_types


def distro_release(
    draw: st.DrawFn, manifest: dict[str, Any], distro: str, version: str, *, cuda: bool, common: str
) -> dict[str, Any]:
    cudas = list(manifest.get("cuda_dependencies", {}))
    """One release of a distro; with `cuda`, CUDA images (built for amd64 and arm64 only)."""
    spec: dict[str, Any] = {
        "templates_dir": draw(st.sampled_from(["templates/one", f"templates/{distro}"])),
        "base_image": f"{distro}:{version}",
        "add_to_tags": f"{distro}{version}",
    }
    if draw(st.booleans()):
        spec["python_versions"] = sublist(draw, PYTHONS, keep=common)
    if draw(st.integers(0, 3)) == 0:
        spec["exclude_python"] = [p for p in sublist(draw, PYTHONS) if p != common]
    if cuda:
        spec["platforms"] = sublist(draw, PLATFORMS, keep=draw(st.sampled_from(PLATFORMS[:2])))
    elif draw(st.booleans()):
        spec["platforms"] = sublist(draw, PLATFORMS)
    if draw(st.integers(0, 3)) == 0:
        spec["envars"] = ["LANG=C.UTF-8", "A=b c"]
    if cuda:
        spec["cuda_prefix_url"] = f"{distro}{version.replace('.', '')}"
        spec["cuda"] = draw(cuda_choice(cudas, manifest["cuda_dependencies"]))
    return spec


def releases_of(
    draw: st.DrawFn, manifest: dict[str, Any], cudas: list[str], common: str
) -> tuple[dict[str, dict[str, Any]], dict[str, bool]]:
    """Distros and their releases (a distro has CUDA in all of its releases or in none), and
    whether each distro has CUDA."""
    distros = draw(st.lists(distro_names, unique=True, min_size=1, max_size=3))
    has_cuda = {d: bool(cudas) and draw(st.booleans()) for d in distros}
    releases: dict[str, dict[str, Any]] = {}
    for distro in distros:
        versions = draw(st.lists(distro_versions, unique=True, min_size=1, max_size=2))
        releases[distro] = {
            version: distro_release(
                draw, manifest, distro, version, cuda=has_cuda[distro], common=common
            )
            for version in versions
        }
    return releases, has_cuda


def packages_of(
    draw: st.DrawFn,
    has_cuda: dict[str, bool],
    usable_types: list[str],
    cuda_types: set[str],
    common: str,
) -> dict[str, dict[str, Any]]:
    """Packages: each builds drawn release types on drawn distros; some build FROM another."""
    distros = list(has_cuda)
    packages: dict[str, dict[str, Any]] = {}
    for name in draw(st.lists(package_names, unique=True, min_size=1, max_size=3)):
        spec: dict[str, Any] = {}
        parent = draw(st.sampled_from([None, *packages])) if packages else None
        if parent is not None:
            spec["parent"] = parent
            offered = {t: d for t, d in packages[parent].items() if t not in PACKAGE_KEYS}
            for rtype in sublist(draw, sorted(offered)):
                spec[rtype] = sublist(draw, offered[rtype])
        else:
            for rtype in sublist(draw, usable_types[:6]):
                able = [d for d in distros if has_cuda[d] or rtype not in cuda_types]
                if able:
                    spec[rtype] = sublist(draw, able)
            if not spec:
                spec["runtime"] = [distros[0]]
        if draw(st.booleans()):
            spec["python_versions"] = sublist(draw, PYTHONS, keep=common)
        packages[name] = spec
    return packages


def repository_of(draw: st.DrawFn, packages: list[str]) -> dict[str, Any]:
    """Registries, with and without an only_if gate, each for some packages."""
    repository: dict[str, Any] = {}
    for index in range(draw(st.integers(0, 2))):
        registry = {p: f"reg{index}.example.com/org{index}/{p}" for p in sublist(draw, packages)}
        spec: dict[str, Any] = {"registry": registry}
        if draw(st.booleans()):
            spec["only_if"] = f"{GATE_PREFIX}{index}"
            spec["user"] = f"{GATE_PREFIX}USER_{index}"
            spec["pwd"] = f"{GATE_PREFIX}{index}"
        repository[f"r{index}"] = spec
    return repository


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    common = draw(st.sampled_from(PYTHONS))
    manifest = top_level(draw, common)
    cudas = cuda_versions_of(draw, manifest)
    known, cuda_types = release_types(draw, manifest, cudas)
    usable_types = [t for t in known if t != "base" and (cudas or t not in cuda_types)]
    releases, has_cuda = releases_of(draw, manifest, cudas, common)
    manifest["packages"] = packages_of(draw, has_cuda, usable_types, cuda_types, common)
    manifest["releases"] = releases
    if repository := repository_of(draw, sorted(manifest["packages"])):
        manifest["repository"] = repository
    return manifest


def cuda_choice(cudas: list[str], deps: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A release's `cuda`: one version, a list of versions, or the components of one."""
    return st.one_of(
        st.sampled_from(cudas),
        st.lists(st.sampled_from(cudas), unique=True, min_size=1, max_size=len(cudas)),
        st.sampled_from(cudas).map(lambda v: dict(deps[v])),
    )


def release_types_of(manifest: dict[str, Any]) -> set[str]:
    return {"base", *DEFAULT_TYPES, *manifest.get("release_types", {})}


def write_workspace(ws: Path, manifest: dict[str, Any]) -> None:
    (ws / "manifest").mkdir(parents=True)
    path = ws / "manifest" / "manifest.yml"
    path.write_text(
        yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False, width=1000),
        encoding="utf-8",
    )
    assert load(path, ws).data == manifest  # the YAML says exactly what was drawn
    folders = {spec["templates_dir"] for v in manifest["releases"].values() for spec in v.values()}
    for folder in folders:
        (ws / folder).mkdir(parents=True, exist_ok=True)
        for rtype in release_types_of(manifest):
            (ws / folder / f"{rtype}.Dockerfile.j2").write_text(TEMPLATE, encoding="utf-8")


def as_bake_prints(targets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Expected targets with label and arg values as --print writes them."""
    out = {}
    for name, target in targets.items():
        shown = dict(target)
        for key in ("labels", "args"):
            if key in shown:
                shown[key] = {k: as_printed(v) for k, v in shown[key].items()}
        out[name] = shown
    return out


@pytest.fixture(scope="module")
def have_buildx() -> None:
    """Fail (CI) or skip (locally) once when buildx is missing, not once per example."""
    buildx()


@settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same examples every run: a failure replays without a database
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(manifest=manifests(), fmt=st.sampled_from(["hcl", "json"]), data=st.data())
@pytest.mark.usefixtures("have_buildx")
def test_bake_print_equals_plan(manifest: dict[str, Any], fmt: str, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        write_workspace(ws, manifest)
        result = run_cli("render", "--format", fmt, cwd=ws)
        assert result.code == 0, result.err
        plan = plan_workspace(ws)
        assert plan.images
        describe(plan)
        gates = dict.fromkeys(plan.gates, "on")
        group = data.draw(st.sampled_from([g.name for g in plan.groups]), label="group")
        runs: list[tuple[str | None, dict[str, str]]] = [
            (None, {}),
            (group, {"VERSION": "9.9.9-rc.1", **gates}),
        ]
        with ThreadPoolExecutor(max_workers=len(runs)) as pool:  # one bake process per core
            prints = list(
                pool.map(
                    lambda run: bake_print(ws, *([run[0]] if run[0] else []), env=run[1]), runs
                )
            )
        for (name, env), printed in zip(runs, prints, strict=True):
            expected = as_bake_prints(expected_targets(plan, name, env))
            assert printed_targets(printed) == expected, json.dumps(
                {"group": name, "env": env}, indent=1
            )
        shutil.rmtree(ws / "generated")


def describe(plan: Plan) -> None:
    """Record what an example exercises (shown by --hypothesis-show-statistics)."""
    event("targets", str(min(len(plan.images) // 10 * 10, 100)) + "+")
    for what, present in (
        (
            "package parent",
            any(i.parent and i.parent.split("-")[0] != i.package for i in plan.images),
        ),
        ("release type parent", any(i.parent for i in plan.images)),
        ("cuda", any(i.cuda for i in plan.images)),
        ("several cuda versions", any("-cuda" in d.path for d in plan.dockerfiles)),
        ("gated registry", bool(plan.gates)),
        ("registry tags", any(t.registry != "local" for i in plan.images for t in i.tags)),
        ("labels", len(plan.labels) > 3),
        ("verify targets", bool(plan.verifies)),
    ):
        if present:
            event(what)
