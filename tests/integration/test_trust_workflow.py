"""The gates and signing steps (bakegen.github.trust) in the workflow's merge jobs (gates before
the publish step, signing after it, the permissions merged), through actionlint and
check-jsonschema's schema of GitHub workflows."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from bakegen.github.workflow import workflow
from testing.helpers import ROOT, TOOLS, need_tool, unavailable
from testing.unit import manifest_data, plan_of, typed

ACTIONLINT_MODULE = TOOLS / "node_modules" / "@tktco" / "node-actionlint"
HUB = {
    "hub": {
        "user": "HUB_USER",
        "pwd": "HUB_TOKEN",
        "registry": {"app": "docker.io/example/app", "tool": "docker.io/example/tool"},
    }
}
PACKAGES = {
    "app": {"runtime": ["debian"], "devel": ["debian"]},
    "tool": {
        "runtime": ["debian"],
        "signing": False,
        "gates": [{"name": "scan", "disabled": True}],
    },
}
GATES = [
    {"name": "scan", "run": 'trivy image --exit-code 1 "$IMAGE_REF"'},
    {"name": "labels", "run": 'docker buildx imagetools inspect --raw "$IMAGE_REF" | head -c 200'},
]


def wired(data: dict[str, Any]) -> str:
    """The workflow of `data`: the merge jobs run the gates before the publish step and sign
    after it."""
    return workflow(typed(data), plan_of(data))


def workflows(tmp_path: Path) -> list[str]:
    cases = {
        "keyless": manifest_data(packages=PACKAGES, repository=HUB, signing="cosign", gates=GATES),
        "key": manifest_data(
            packages=PACKAGES,
            repository=HUB,
            signing={
                "tool": "cosign",
                "key": "COSIGN_KEY_PEM",
                "password": "COSIGN_PW",
                "tlog": False,
            },
            gates=GATES,
        ),
        "ghcr": manifest_data(
            repository={"ghcr": {"registry": {"app": "ghcr.io/example/app"}}},
            signing="cosign",
            gates=GATES[:1],
        ),
    }
    out = []
    for name, data in cases.items():
        path = tmp_path / f"{name}.yml"
        path.write_text(wired(data), encoding="utf-8")
        out.append(str(path))
    return out


def test_the_wired_steps_are_in_place(tmp_path: Path) -> None:
    keyless, key, ghcr = (yaml.safe_load(Path(p).read_text("utf-8")) for p in workflows(tmp_path))
    steps = [s.get("name", s.get("uses", "")) for s in keyless["jobs"]["merge-1"]["steps"]]
    gates = steps.index("Gates, against each pushed digest before any tag")
    assert steps[gates + 1] == "Publish every platform under every tag"
    assert steps[gates + 2 :] == [
        "Install cosign",
        "Sign each published image by digest, and verify it",
    ]
    assert keyless["jobs"]["merge-1"]["permissions"] == {"contents": "read", "id-token": "write"}
    assert "permissions" not in key["jobs"]["merge-1"]
    # a ghcr.io job keeps its own packages permission beside the OIDC token
    assert ghcr["jobs"]["merge-1"]["permissions"] == {
        "contents": "read",
        "packages": "write",
        "id-token": "write",
    }
    assert not any(
        "id-token" in str(job.get("permissions"))
        for n, job in ghcr["jobs"].items()
        if not n.startswith("merge")
    )


def test_actionlint_finds_nothing(tmp_path: Path) -> None:
    node = need_tool("node", "apt-get install nodejs npm, or run scripts/tools.sh actionlint")
    if not (ACTIONLINT_MODULE / "main.wasm").is_file():
        unavailable(f"actionlint not installed in {TOOLS}; run scripts/tools.sh actionlint")
    proc = subprocess.run(
        [node, str(ROOT / "scripts" / "actionlint.cjs"), *workflows(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "BAKEGEN_TOOLS": str(TOOLS)},
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]


def test_check_jsonschema_github_workflows(tmp_path: Path) -> None:
    tool = need_tool("check-jsonschema", "pip install -e '.[test]'")
    proc = subprocess.run(
        [tool, "--builtin-schema", "vendor.github-workflows", *workflows(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
