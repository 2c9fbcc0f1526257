"""Each rule has one home: these tests fail when a second copy of a rule appears where one is
easy to add (a did-you-mean, the parent's context name, the registry-host test, the bake
variables under an environment, the tag fields, the path rules, a default)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from bakegen.checks import formats, manifest, packages
from bakegen.checks.manifest import manifest_problems
from bakegen.github.staging import registry_host
from bakegen.layout import PARENT_CONTEXT, dockerfile_path, template_path
from bakegen.manifest.references import normalize_reference, split_domain
from bakegen.pin.oci import Reference
from bakegen.plan.cuda import CUDA_FIELDS
from bakegen.plan.tags import TAG_FIELDS
from bakegen.schema.document import defaults, manifest_schema
from testing.helpers import ROOT
from testing.unit import manifest_data, plan_of, problems, typed

PACKAGE = ROOT / "bakegen"


@cache
def sources() -> dict[str, str]:
    """Every module of the package, by its path relative to the package folder."""
    return {
        p.relative_to(PACKAGE).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(PACKAGE.rglob("*.py"))
    }


def modules_with(pattern: str) -> set[str]:
    found = re.compile(pattern)
    return {name for name, text in sources().items() if found.search(text)}


def strings(tree: ast.AST) -> Iterator[str]:
    """The string constants of a module that are not docstrings."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.value


def modules_with_string(predicate: Any) -> set[str]:
    return {
        name
        for name, text in sources().items()
        if any(predicate(s) for s in strings(ast.parse(text)))
    }


# --- the scans: each rule is written in one module -------------------------------------------


def test_the_scans_see_the_package() -> None:
    assert {"errors.py", "layout.py", "manifest/references.py", "plan/tags.py"} <= set(sources())


def test_did_you_mean_is_only_in_errors() -> None:
    assert modules_with(r"get_close_matches") == {"errors.py"}


def test_the_parent_context_name_is_only_in_layout() -> None:
    assert modules_with_string(lambda s: s == PARENT_CONTEXT) == {"layout.py"}


def test_the_registry_host_rule_is_only_in_references() -> None:
    shape = r"""["']\.["']\s+in\s+\w+\s+or\s+["']:["']\s+in\s+\w+"""
    assert modules_with(shape) == {"manifest/references.py"}
    assert modules_with(r"==\s*[\"']localhost[\"']\s*\)") == {"manifest/references.py"}


def test_path_rules_are_only_in_layout() -> None:
    assert modules_with_string(lambda s: ".Dockerfile.j2" in s) == {"layout.py"}
    assert modules_with_string(lambda s: s.endswith("/Dockerfile")) == {"layout.py"}


def test_cuda_architectures_are_in_one_table() -> None:
    assert modules_with_string(lambda s: s in ("sbsa", "linux/arm64")) - {
        "github/jobs.py"  # runner labels by platform, not CUDA's
    } == {"manifest/platforms.py"}


def test_tag_field_names_are_only_in_the_plan() -> None:
    assert modules_with_string(lambda s: s in ("cuda_short", "cuda_suffix")) == {
        "plan/cuda.py",
        "plan/tags.py",
    }


def _functions_resolving_variables(tree: ast.AST) -> Iterator[str]:
    """Functions that read `.variables` and an environment (`os.environ`, or a parameter
    named env)."""
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        params = {a.arg for a in (*node.args.args, *node.args.kwonlyargs)}
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        attrs = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
        if "variables" in attrs and ("environ" in attrs or "env" in params & names):
            yield node.name


def test_bake_variables_meet_the_environment_in_one_place() -> None:
    found = {
        (name, function)
        for name, text in sources().items()
        for function in _functions_resolving_variables(ast.parse(text))
    }
    assert found == {("plan/records.py", "values")}


def test_no_literal_defaults_in_the_manifest_builder() -> None:
    """`spec.get("push", True)` states a default that belongs in defaults.yaml."""
    found = []
    for name, text in sources().items():
        if not name.startswith("manifest/"):
            continue
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and len(node.args) == 2
                and isinstance(node.args[1], ast.Constant)
            ):
                found.append(f"{name}:{node.lineno}")
    assert found == []


# --- tag fields: the check's list is the plan's table ----------------------------------------


def test_the_checks_read_the_plans_tag_fields() -> None:
    assert "TAG_FIELDS" not in vars(formats)  # no copy of its own
    assert vars(manifest)["TAG_FIELDS"] is TAG_FIELDS
    assert vars(packages)["CUDA_FIELDS"] is CUDA_FIELDS
    assert set(CUDA_FIELDS) < set(TAG_FIELDS)


def test_every_tag_field_the_check_allows_the_plan_fills_in() -> None:
    fmt = "-".join(f"{{{name}}}" for name in TAG_FIELDS)
    release_types = {"runtime": {"parent": "base", "tag": fmt}}
    plan = plan_of(manifest_data(release_types=release_types))
    (tag,) = {t.text for i in plan.images for t in i.tags}
    assert "{" not in "".join(p for p in tag if isinstance(p, str))


def test_a_field_the_plan_lacks_is_refused_naming_the_plans_fields() -> None:
    found = problems(manifest_data(release_types={"runtime": {"tag": "{python}-{cuda_long}"}}))
    assert found == [
        "release_types.runtime.tag: unknown field {cuda_long} in tag format; known: "
        + ", ".join(sorted(TAG_FIELDS))
    ]
    m = typed(manifest_data(release_types={"runtime": {"tag": "{release}"}}))
    assert list(manifest_problems(m)) == []


def test_the_schema_names_the_tag_fields() -> None:
    """The schema's description of `tag` lists every field (`release`, the older name of
    `release_type`, aside)."""
    schema = manifest_schema()
    tag = schema["properties"]["release_types"]["additionalProperties"]["properties"]["tag"]
    named = re.findall(r"\{(\w+)\}", tag["description"])
    assert len(named) == len(set(named))
    assert set(named) == set(TAG_FIELDS) - {"release"}


# --- the registry host an image reference names ----------------------------------------------


@pytest.mark.parametrize(
    ("reference", "host"),
    [
        ("debian:12", None),
        ("org/app:1", None),
        ("ghcr.io/org/app:1", "ghcr.io"),
        ("localhost/app:1", "localhost"),
        ("registry:5000/app", "registry:5000"),
        ("localhost", None),
    ],
)
def test_split_domain(reference: str, host: str | None) -> None:
    assert split_domain(reference)[0] == host


def test_the_pin_client_and_the_plan_checks_read_references_alike() -> None:
    for text in ("debian:12", "org/app:1", "index.docker.io/app:2", "localhost:5000/a/b:3"):
        assert str(Reference.parse(text)) == normalize_reference(text)


def test_the_workflow_logs_in_to_the_host_the_repository_names() -> None:
    m = typed(
        manifest_data(
            repository={
                "gh": {"registry": {"app": "ghcr.io/org/app"}},
                "hub": {"registry": {"app": "org/app"}},
            }
        )
    )
    assert [registry_host(r) for r in m.registries] == ["ghcr.io", "docker.io"]


# --- path rules ------------------------------------------------------------------------------


def test_the_plan_takes_its_paths_from_layout() -> None:
    plan = plan_of(manifest_data())
    (df,) = [d for d in plan.dockerfiles if d.release_type == "runtime"]
    assert df.path == dockerfile_path("app", df.distro_id, "runtime", None)
    assert df.template == template_path("templates/t", "runtime")
    assert df.path.endswith("/runtime/Dockerfile")


def test_the_parent_target_is_the_parents_own_name() -> None:
    plan = plan_of(manifest_data(python_versions=["3.11", "3.12"]))
    targets = {i.target for i in plan.images}
    parents = {i.parent for i in plan.images if i.parent}
    assert parents
    assert parents <= targets
    for image in plan.images:
        if image.parent:
            assert plan.image(image.parent).python == image.python


# --- defaults: the schema's `default`s are the defaults file ---------------------------------

# Keys of defaults.yaml that are no manifest key; `entries` holds the defaults of every entry
# of a kind, by key path (`*` any name, `-` any item).
NOT_MANIFEST_KEYS = {"entries", "os_release_ids"}


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = manifest_schema()["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _step(node: dict[str, Any], key: str) -> dict[str, Any]:
    node = _resolve(node)
    if key == "*":
        found: dict[str, Any] = node["additionalProperties"]
    elif key == "-":
        found = node["items"]
    else:
        found = node["properties"][key]
    return found


def _node(path: tuple[str, ...]) -> dict[str, Any]:
    node = manifest_schema()
    for part in path:
        node = _step(node, part)
    return node


def _defaults_by_path() -> dict[tuple[str, ...], Any]:
    """defaults.yaml as key path -> value, down to the keys the schema gives a default."""
    out: dict[tuple[str, ...], Any] = {}

    def walk(path: tuple[str, ...], value: Any) -> None:
        if "default" in _node(path) or not isinstance(value, dict):
            out[path] = value
            return
        for key, inner in value.items():
            walk((*path, key), inner)

    data = defaults()
    for key, value in data.items():
        if key not in NOT_MANIFEST_KEYS:
            walk((key,), value)
    for entry, keys in data["entries"].items():
        for key, value in keys.items():
            out[(*entry.split("."), key)] = value
    return out


def _schema_defaults(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema within `node` (a schema) that has a `default`."""
    if isinstance(node, list):
        for child in node:
            yield from _schema_defaults(child)
        return
    if not isinstance(node, dict):
        return
    if "default" in node:
        yield node
    for key, child in node.items():
        if key in ("properties", "$defs", "patternProperties"):
            for schema in child.values():
                yield from _schema_defaults(schema)
        elif key not in ("default", "enum", "const", "x-messages"):
            yield from _schema_defaults(child)


def test_the_schema_defaults_are_the_defaults_file() -> None:
    """Every default of defaults.yaml is the `default` of its key path in the schema, and the
    schema has no other."""
    by_node: dict[int, Any] = {}
    for path, value in _defaults_by_path().items():
        node = _node(path)
        assert "default" in node, f"{'.'.join(path)}: the schema gives no default"
        assert node["default"] == value, ".".join(path)
        by_node[id(node)] = value
    assert {id(n) for n in _schema_defaults(manifest_schema())} == set(by_node)
    assert by_node[id(_node(("release_types", "*", "push")))] is True  # entries are read


def test_the_defaults_walk_sees_every_kind_of_key() -> None:
    paths = set(_defaults_by_path())
    assert {("verify",), ("attestations", "sbom"), ("release_types",)} <= paths
    assert ("packages", "*", "tests", "-", "gpu") in paths


def test_descriptions_that_name_a_default_name_its_value() -> None:
    for path, value in _defaults_by_path().items():
        text = _node(path).get("description", "")
        if "default" not in text.lower() or isinstance(value, dict):
            continue
        for leaf in value if isinstance(value, list) else [value]:
            shown = str(leaf).lower() if isinstance(leaf, bool) else str(leaf)
            assert shown in text, (path, leaf, text)


def test_os_release_ids_are_what_the_os_id_description_says() -> None:
    """os_release_ids is no manifest key (the schema refuses it); the description of a
    release's `os_id` lists it."""
    schema = manifest_schema()
    assert "os_release_ids" not in schema["properties"]
    assert schema["additionalProperties"] is False
    text = schema["$defs"]["release"]["properties"]["os_id"]["description"]
    assert dict(re.findall(r"`([\w.-]+)` -> `([\w.-]+)`", text)) == defaults()["os_release_ids"]


def test_the_builder_takes_entry_defaults_from_the_file() -> None:
    entries = defaults()["entries"]
    m = typed(manifest_data())
    assert m.release_types["runtime"].push is entries["release_types.*"]["push"]
    assert m.release_types["base"].push is False  # the named release type's own default
    (release,) = m.releases
    assert release.multistage_image is entries["releases.*.*"]["multistage_image"]
    assert m.ci.metadata_action is defaults()["metadata_action"]
    assert m.ci.attestations.sbom is defaults()["attestations"]["sbom"]
