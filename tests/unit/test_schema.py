"""`bakegen schema`: a valid JSON Schema with the reference grammar in one home, and the good and
bad manifests that check-jsonschema and `bakegen validate` must agree on
(tests/integration/test_schema_editors.py)."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from bakegen.load.sourcemap import Loaded
from bakegen.manifest.references import REFERENCE, REPOSITORY
from bakegen.schema.document import manifest_schema
from bakegen.schema.messages import schema_problems
from testing.helpers import ROOT, WORKSPACES

GOOD = sorted(
    [
        *(ROOT / "manifest").glob("*.yml"),
        *(ROOT / "examples").glob("*/manifest/*.yml"),
        *WORKSPACES.glob("*/manifest/*.yml"),
        *(ROOT / "tests" / "corpus" / "_base" / "manifest").glob("*.yml"),
    ]
)
BASE = (ROOT / "tests" / "corpus" / "_base" / "manifest" / "manifest.yml").read_text("utf-8")

# Each bad manifest: the base one with one line replaced (old text, new text).
BAD = {
    "platform": (
        "add_to_tags: bookworm",
        "add_to_tags: bookworm\n      platforms: [linux/amd64, not-a-platform]",
    ),
    "python leading zero": ('python_versions: ["3.11", "3.12"]', 'python_versions: ["03.12"]'),
    "python list empty": ('python_versions: ["3.11", "3.12"]', "python_versions: []"),
    "python free-threaded": ('python_versions: ["3.11", "3.12"]', 'python_versions: ["3.13t"]'),
    "base image upper case": ("base_image: debian:bookworm-slim", "base_image: Debian:bookworm"),
    "base image two tags": ("base_image: debian:bookworm-slim", "base_image: debian:a:b"),
    "base image short digest": (
        "base_image: debian:bookworm-slim",
        "base_image: debian@sha256:abc",
    ),
    "gate named like a keyword": ("only_if: HUB_TOKEN", 'only_if: "true"'),
    "gate named like bakegen's variable": ("only_if: HUB_TOKEN", "only_if: VERSION"),
    "repository ending in a separator": (
        "app: docker.io/example/app",
        "app: docker.io/example/app.",
    ),
    "templates_dir with a newline": (
        "templates_dir: templates/std",
        'templates_dir: "templates/std\\nRUN x"',
    ),
    "envar without a value": ("envars: [LANG=C.UTF-8]", "envars: [LANG]"),
    "signing tool unknown": ('version: "1.0"', 'version: "1.0"\nsigning: notary'),
    "signing key not a secret name": (
        'version: "1.0"',
        'version: "1.0"\nsigning: {tool: cosign, key: my-key}',
    ),
    "signing password without a key": (
        'version: "1.0"',
        'version: "1.0"\nsigning: {tool: cosign, password: PW}',
    ),
    "gate with an empty command": (
        'version: "1.0"',
        'version: "1.0"\ngates: [{name: a, run: " "}]',
    ),
    "gate both run and disabled": (
        'version: "1.0"',
        'version: "1.0"\ngates: [{name: a, run: x, disabled: true}]',
    ),
}


def test_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(manifest_schema())


def test_reference_grammar_has_one_home() -> None:
    defs = manifest_schema()["$defs"]
    assert defs["image_repository"]["pattern"] == f"^{REPOSITORY}$"
    assert defs["image_reference"]["pattern"] == f"^(?:{REFERENCE})?$"


@pytest.mark.parametrize("value", ["linux/amd64\n", "app\n"])
def test_a_trailing_newline_never_passes_a_pattern(value: str) -> None:
    data = yaml.safe_load(BASE)
    data["platforms"] = [value]
    data["packages"] = {value: data["packages"]["app"]}
    found, _ = schema_problems(Loaded(data=data))
    assert len(found) == 2


def test_every_bad_case_changes_the_base() -> None:
    for old, _ in BAD.values():
        assert old in BASE, old
