"""`signing:` and `gates:`: the model (shorthand, key pairs, the levels' merge), their checks,
what `explain` and `docs` show, and the merge job's steps bakegen.github.trust makes (the
scripts themselves: tests/integration/test_gates.py and test_sign.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bakegen.commands import docs
from bakegen.commands.explain import explain
from bakegen.github import trust
from bakegen.github.scripts import GATES, SIGN, START, script
from bakegen.manifest.trust import image_gates, image_signing
from bakegen.pipeline import plan_manifest, read_manifest
from testing.docs_pages import blocks
from testing.helpers import ROOT, make_workspace
from testing.unit import manifest_data, plan_of, problems, typed

TWO_PACKAGES: dict[str, Any] = {
    "app": {"runtime": ["debian"], "devel": ["debian"]},
    "tool": {"runtime": ["debian"], "signing": False},
}
HUB = {"hub": {"registry": {"app": "docker.io/example/app", "tool": "docker.io/example/tool"}}}


def data(**changes: Any) -> dict[str, Any]:
    return manifest_data(packages=TWO_PACKAGES, repository=HUB, **changes)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("cosign", ("cosign", True, None, None, True)),
        ({"tool": "cosign"}, ("cosign", True, None, None, True)),
        ({"tool": "cosign", "keyless": True}, ("cosign", True, None, None, True)),
        ({"tool": "cosign", "key": "SIGN_KEY"}, ("cosign", False, "SIGN_KEY", None, True)),
        (
            {"tool": "cosign", "key": "K", "password": "P", "tlog": False},
            ("cosign", False, "K", "P", False),
        ),
    ],
)
def test_signing_forms(written: Any, expected: tuple[Any, ...]) -> None:
    s = typed(data(signing=written)).signing
    assert s is not None
    assert (s.tool, s.keyless, s.key, s.password, s.tlog) == expected


def test_no_signing_key_signs_nothing() -> None:
    m = typed(data())
    assert m.signing is None
    assert image_signing(m, "app") is None


def test_a_package_turns_signing_off_and_its_variant_inherits_or_turns_it_back_on() -> None:
    packages = {
        **TWO_PACKAGES,
        "tool": {
            "runtime": ["debian"],
            "signing": False,
            "variants": {"slim": {"tag_suffix": "-slim"}, "full": {"signing": True}},
        },
    }
    m = typed(manifest_data(packages=packages, repository=HUB, signing="cosign"))
    assert image_signing(m, "app") is m.signing
    assert image_signing(m, "tool") is None
    assert image_signing(m, "tool-slim") is None
    assert image_signing(m, "tool-full") is m.signing


GATED = {
    "gates": [
        {"name": "scan", "run": "scan $IMAGE_REF"},
        {"name": "size", "run": "size $IMAGE_REF"},
    ],
    "release_types": {
        "runtime": {"gates": [{"name": "scan", "run": "deep-scan $IMAGE_REF"}]},
        "devel": {"gates": [{"name": "size", "disabled": True}, {"name": "lint", "run": "lint"}]},
    },
    "packages": {
        "app": {
            "runtime": ["debian"],
            "devel": ["debian"],
            "gates": [{"name": "app-only", "run": "app-check"}],
            "variants": {
                "slim": {"tag_suffix": "-slim", "gates": [{"name": "scan", "disabled": True}]},
            },
        },
    },
}


def test_gates_add_up_level_by_level_a_name_replacing_and_off_removing() -> None:
    m = typed(manifest_data(**GATED))

    def runs(package: str, release_type: str) -> list[tuple[str, str | None]]:
        return [(g.name, g.run) for g in image_gates(m, package, release_type)]

    # the release type's scan replaces the top level's in its place
    assert runs("app", "runtime") == [
        ("scan", "deep-scan $IMAGE_REF"),
        ("size", "size $IMAGE_REF"),
        ("app-only", "app-check"),
    ]
    assert runs("app", "devel") == [
        ("scan", "scan $IMAGE_REF"),
        ("lint", "lint"),
        ("app-only", "app-check"),
    ]
    # a variant: its package's gates, then its own (which turn the scan off)
    assert runs("app-slim", "runtime") == [("size", "size $IMAGE_REF"), ("app-only", "app-check")]


def test_gates_check_lists_and_levels() -> None:
    assert problems(manifest_data(**GATED)) == []
    twice = [{"name": "a", "run": "x"}, {"name": "a", "run": "y"}]
    assert problems(manifest_data(gates=twice)) == [
        "gates[1].name: gate 'a' is listed twice here; keep one"
    ]
    off_top = [{"name": "a", "disabled": True}]
    assert problems(manifest_data(gates=off_top)) == [
        "gates[0].disabled: no gate 'a' to turn off: the top level has no level above it"
    ]
    # a package may turn off what a release type it is not built for names: it is still above
    off_devel = manifest_data(
        release_types={"devel": {"gates": [{"name": "lint", "run": "x"}]}},
        packages={"app": {"runtime": ["debian"], "gates": [{"name": "lint", "disabled": True}]}},
    )
    assert problems(off_devel) == []
    unpushed = manifest_data(release_types={"base": {"gates": [{"name": "a", "run": "x"}]}})
    assert problems(unpushed) == [
        "release_types.base.gates: release type 'base' is not pushed: gates run only on pushed images"
    ]


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ({"name": "a", "run": ""}, "a gate's `run` is a shell command"),
        ({"name": "a", "run": " \t\n"}, "a gate's `run` is a shell command"),
        ({"name": "a"}, "give exactly one of `run`"),
        ({"name": "a", "run": "x", "disabled": True}, "give exactly one of `run`"),
        ({"name": "a", "disabled": False}, "`disabled: false` turns nothing off"),
    ],
)
def test_a_gate_without_a_command_is_refused(gate: dict[str, Any], message: str) -> None:
    found = problems(manifest_data(gates=[gate]))
    assert len(found) == 1, found
    assert message in found[0]


@pytest.mark.parametrize(
    ("signing", "message"),
    [
        ("gpg", "'gpg' is not a signing tool: cosign"),
        ({"tool": "notation"}, "'notation' is not a signing tool: cosign"),
        ({"tool": "cosign", "key": "my-key"}, "'my-key' is not a GitHub secret name"),
        ({"tool": "cosign", "key": "9KEY"}, "'9KEY' is not a GitHub secret name"),
        ({"tool": "cosign", "key": "github_key"}, "names starting with GITHUB_ are GitHub's own"),
        ({"tool": "cosign", "key": "K", "password": "a b"}, "'a b' is not a GitHub secret name"),
        ({"tool": "cosign", "password": "P"}, "`password` is read only with `key`"),
        ({"tool": "cosign", "key": "K", "keyless": False}, "`keyless` is read only without"),
        ({"tool": "cosign", "keyless": False}, "keyless: false needs `key`"),
        ({"tool": "cosign", "tlog": False}, "`tlog: false` needs `key`"),
        ({"key": "K"}, "`tool` is a required property"),
    ],
)
def test_bad_signing_is_one_line(signing: Any, message: str) -> None:
    found = problems(data(signing=signing))
    assert len(found) == 1, found
    assert message in found[0]


def test_a_package_signing_key_needs_the_top_level_one() -> None:
    assert problems(data()) == [
        "packages.tool.signing: read only with a top-level `signing` (e.g. `signing: cosign`)"
    ]


SIGNED_MANIFEST = """\
python_versions: ["3.12"]
attestations: {sbom: true, provenance: max}
signing: {tool: cosign, key: SIGNING_KEY, password: SIGNING_PASSWORD}
gates:
  - {name: scan, run: trivy image "$IMAGE_REF"}
repository:
  hub:
    registry: {app: docker.io/example/app, tool: docker.io/example/tool}
packages:
  app:
    runtime: [debian]
  tool:
    runtime: [debian]
    signing: false
    gates:
      - {name: scan, disabled: true}
releases:
  debian:
    "12":
      templates_dir: templates/debian
      base_image: debian:bookworm-slim
      add_to_tags: bookworm
"""


def line_of(text: str) -> str:
    number = next(i for i, line in enumerate(SIGNED_MANIFEST.splitlines(), 1) if text in line)
    return f"manifest/manifest.yml:{number}:"


def test_explain_shows_attestations_signing_and_gates_where_written(tmp_path: Path) -> None:
    m = read_manifest(make_workspace(tmp_path, SIGNED_MANIFEST))
    plan = plan_manifest(m)
    rows = {r.field: r for r in explain(m, plan, "app-runtime-debian12-py312")[1]}
    assert rows["attestations"].value == "sbom, provenance (max)"
    assert rows["attestations"].origin.startswith(line_of("attestations:"))
    assert rows["signing"].value == "cosign, key from secret SIGNING_KEY"
    assert rows["signing"].origin.startswith(line_of("signing:"))
    assert rows["gate scan"].value == 'trivy image "$IMAGE_REF"'
    assert rows["gate scan"].origin.startswith(line_of("- {name: scan, run:"))
    tool = {r.field: r for r in explain(m, plan, "tool-runtime-debian12-py312")[1]}
    assert tool["signing"].value == "off for this package"
    assert tool["signing"].origin.startswith(line_of("signing: false"))
    assert not any(f.startswith("gate ") for f in tool)
    base = {r.field for r in explain(m, plan, "app-base-debian12-py312")[1]}
    assert not base & {"attestations", "signing"}  # not pushed: nothing to vouch for


def test_explain_without_signing_or_gates_says_only_the_attestations() -> None:
    m = read_manifest(ROOT)
    rows = {
        r.field: r for r in explain(m, plan_manifest(m), "model-server-runtime-debian12-py311")[1]
    }
    assert rows["attestations"].value == "none"
    assert rows["attestations"].origin == "default"
    assert "signing" not in rows
    assert not any(f.startswith("gate ") for f in rows)


def test_docs_marks_signed_images_only_when_the_manifest_signs(tmp_path: Path) -> None:
    m = read_manifest(make_workspace(tmp_path, SIGNED_MANIFEST))
    plan = plan_manifest(m)
    text = docs.table(plan, {"VERSION": "1.0"}, signed=docs.signing_marks(m, plan))
    assert "| tags | signed |" in text
    rows = [line for line in text.splitlines() if line.startswith("| runtime |")]
    assert rows[0].endswith("| cosign |")
    assert "example/app" in rows[0]
    assert rows[1].endswith("|  |")
    assert "example/tool" in rows[1]
    unsigned = read_manifest(ROOT)
    assert docs.signing_marks(unsigned, plan_manifest(unsigned)) == {}
    assert "signed" not in docs.table(plan, {"VERSION": "1.0"})


# -- the merge job's steps -----------------------------------------------------------------


def test_gate_step_names_each_pushed_images_gates() -> None:
    m = typed(manifest_data(**GATED, repository={"hub": {"registry": {"app": "docker.io/x/app"}}}))
    plan = plan_of(
        manifest_data(**GATED, repository={"hub": {"registry": {"app": "docker.io/x/app"}}})
    )
    step = trust.gate_step(m, plan)
    assert step is not None
    assert step["shell"] == "python"
    assert step["run"] == script(GATES)
    assert step["env"]["IMAGES"] == "${{ matrix.images }}"
    gates = json.loads(step["env"]["GATES"])
    pushed = {i.target for i in plan.images if i.push}
    assert set(gates) == pushed  # every pushed image has gates here; base images are not pushed
    assert gates["app-slim-runtime-debian12-py312"] == [
        {"name": "size", "run": "size $IMAGE_REF"},
        {"name": "app-only", "run": "app-check"},
    ]
    assert trust.gate_step(typed(manifest_data()), plan_of(manifest_data())) is None


def test_keyless_sign_steps_and_permissions() -> None:
    m = typed(data(signing="cosign"))
    install, sign = trust.sign_steps(m, plan_of(data(signing="cosign")))
    assert install["uses"] == trust.ACTIONS["cosign-installer"]
    assert re.fullmatch(r"sigstore/cosign-installer@[0-9a-f]{40}", install["uses"])
    assert sign["run"] == script(SIGN)
    assert sign["env"] == {
        "IMAGES": "${{ matrix.images }}",
        "DIGESTS_DIR": "${{ runner.temp }}/digests",
        "UNSIGNED": "tool-runtime-debian12-py312",
    }
    assert install["if"] == sign["if"] == "${{ !cancelled() }}"
    assert trust.merge_permissions(m) == {"contents": "read", "id-token": "write"}


def test_key_sign_steps_take_the_secrets_and_no_oidc_token() -> None:
    signing = {"tool": "cosign", "key": "SIGN_KEY", "password": "SIGN_PW", "tlog": False}
    m = typed(data(signing=signing))
    _, sign = trust.sign_steps(m, plan_of(data(signing=signing)))
    env = sign["env"]
    assert env["COSIGN_PRIVATE_KEY"] == "${{ secrets.SIGN_KEY }}"
    assert env["COSIGN_KEY"] == "env://COSIGN_PRIVATE_KEY"
    assert env["COSIGN_PASSWORD"] == "${{ secrets.SIGN_PW }}"
    assert env["BAKEGEN_SIGN_NO_TLOG"] == "true"
    assert trust.merge_permissions(m) == {}
    without_password = {"tool": "cosign", "key": "SIGN_KEY"}
    _, sign = trust.sign_steps(
        typed(data(signing=without_password)), plan_of(data(signing=without_password))
    )
    assert sign["env"]["COSIGN_PASSWORD"] == ""  # an empty password, never a prompt
    assert "BAKEGEN_SIGN_NO_TLOG" not in sign["env"]


def test_nothing_signed_no_steps_no_permissions() -> None:
    m = typed(manifest_data())
    assert trust.sign_steps(m, plan_of(manifest_data())) == []
    assert trust.merge_permissions(m) == {}
    every_off = {"app": {"runtime": ["debian"], "signing": False}}
    off = manifest_data(packages=every_off, signing="cosign")
    assert trust.sign_steps(typed(off), plan_of(off)) == []
    assert trust.merge_permissions(typed(off)) == {}


def test_the_scripts_hold_their_marker_once_and_compile() -> None:
    folder = ROOT / "bakegen" / "resources" / "github"
    for name in (GATES, SIGN):
        text = (folder / f"{name}.py").read_text(encoding="utf-8")
        assert text.count(START) == 1, name
        assert script(name).startswith("import "), name
        compile(text, name, "exec")


def test_the_pages_manifest_examples_are_valid() -> None:
    """Each YAML block of the how-to page, over a small manifest, passes every check."""
    text = (ROOT / "docs" / "how-to" / "sign-and-gate.md").read_text(encoding="utf-8")
    examples = [b.text for b in blocks(text) if b.language == "yaml"]
    assert len(examples) == 3
    for example in examples:
        written = yaml.safe_load(example)
        packages = {
            "app": {"runtime": ["debian"], "devel": ["debian"]},
            **written.pop("packages", {}),
        }
        assert problems(manifest_data(packages=packages, **written)) == [], example
