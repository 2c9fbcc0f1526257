"""The steps of the generated workflow's jobs, and the pinned actions they use."""

from __future__ import annotations

import shlex
from typing import Any

from bakegen.github.jobs import Options
from bakegen.github.scripts import BAKE_SETTINGS, EXPORT_DIGESTS, MERGE, script
from bakegen.layout import BAKE_FILES
from bakegen.plan.records import Plan

DIGESTS_DIR = "${{ runner.temp }}/digests"
NOT_PR = "github.event_name != 'pull_request'"
IS_PR = "github.event_name == 'pull_request'"

# The actions the workflow uses: repository, the commit of a release tag, and that tag.
PINS = {
    "checkout": ("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "setup-python": ("actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "upload-artifact": (
        "actions/upload-artifact",
        "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
        "v7.0.0",
    ),
    "download-artifact": (
        "actions/download-artifact",
        "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c",
        "v8.0.1",
    ),
    "setup-qemu": (
        "docker/setup-qemu-action",
        "96fe6ef7f33517b61c61be40b68a1882f3264fb8",
        "v4.2.0",
    ),
    "setup-buildx": (
        "docker/setup-buildx-action",
        "37fe631027851001ddb9b187196cc803df7f5f0e",
        "v4.3.0",
    ),
    "login": ("docker/login-action", "4907a6ddec9925e35a0a9e82d7399ccc52663121", "v4.1.0"),
    "metadata": ("docker/metadata-action", "dc802804100637a589fabce1cb79ff13a1411302", "v6.2.0"),
    "bake": ("docker/bake-action", "a66e1c87e2eca0503c343edf1d208c716d54b8a8", "v7.1.0"),
}
ACTIONS = {name: f"{repo}@{commit}" for name, (repo, commit, _tag) in PINS.items()}


def expression(text: str) -> str:
    """A GitHub expression: `${{ text }}`."""
    return "${{ " + text + " }}"


def checkout() -> dict[str, Any]:
    return {"uses": ACTIONS["checkout"], "with": {"persist-credentials": False}}


def install_bakegen(options: Options) -> list[dict[str, Any]]:
    return [
        {"uses": ACTIONS["setup-python"], "with": {"python-version": "3.12"}},
        {"run": f"python -m pip install {shlex.quote(options.requirement)}"},
    ]


def _bake_files(plan: Plan) -> str:
    files = [BAKE_FILES["hcl"]]
    if plan.ci.metadata_action:
        files.append("${{ steps.meta.outputs.bake-file }}")
    return "\n".join(files) + "\n"


def _run_script(name: str) -> str:
    return script(name).lstrip("\n")


def settings(plan: Plan) -> dict[str, Any]:
    """What a build job builds, and its bake settings (the bake_settings script)."""
    readonly = plan.ci.cache is not None and plan.ci.cache.type == "registry"
    return {
        "name": "What to build, and bake settings",
        "id": "settings",
        "shell": "python",
        "env": {
            "TARGETS": "${{ matrix.targets }}",
            "VERIFY": "${{ matrix.verify }}",
            "PLATFORM": "${{ matrix.platform }}",
            "DROP_CACHE": "${{ matrix.drop-cache }}",
            # a pull request builds only what it affects
            "ONLY_AFFECTED": expression(IS_PR),
            "AFFECTED": "${{ needs.check.outputs.affected }}",
            # a registry cache needs a login to be written: pull requests only read it
            **({"CACHE_READONLY": expression(IS_PR)} if readonly else {}),
        },
        "run": _run_script(BAKE_SETTINGS),
    }


def verify(plan: Plan) -> dict[str, Any]:
    """Bake the verify targets of a build job's images, against what it is about to push."""
    return {
        "name": "Verify (what is about to be pushed)",
        "if": "${{ steps.settings.outputs.verify != '' }}",
        "uses": ACTIONS["bake"],
        "with": {
            "source": ".",
            "files": _bake_files(plan),
            "targets": "${{ steps.settings.outputs.verify }}",
            "set": "*.platform=${{ matrix.platform }}\n*.cache-to=\n",
        },
    }


def build_and_push(plan: Plan, *, publish: bool = True) -> list[dict[str, Any]]:
    """Bake a build job's images, push them by digest and (`publish`) upload the digests."""
    bake = [
        {
            "name": "Build" + " and push by digest",
            "id": "bake",
            "if": "${{ steps.settings.outputs.targets != '' }}",
            "uses": ACTIONS["bake"],
            "with": {
                "source": ".",
                "files": _bake_files(plan),
                "targets": "${{ steps.settings.outputs.targets }}",
                "set": "${{ steps.settings.outputs.set }}",
            },
        },
    ]
    return bake + _upload_digests() if publish else bake


def _upload_digests() -> list[dict[str, Any]]:
    return [
        {
            "name": "Export digests",
            "if": expression(NOT_PR),
            "shell": "python",
            "env": {
                "METADATA": "${{ steps.bake.outputs.metadata }}",
                "TARGETS": "${{ matrix.targets }}",
                "SLUG": "${{ matrix.slug }}",
                "DIGESTS_DIR": DIGESTS_DIR,
            },
            "run": _run_script(EXPORT_DIGESTS),
        },
        {
            "if": expression(NOT_PR),
            "uses": ACTIONS["upload-artifact"],
            "with": {
                "name": "digests-${{ matrix.key }}",
                "path": DIGESTS_DIR + "/*",
                "if-no-files-found": "error",
                "retention-days": 1,
            },
        },
    ]


def publish() -> list[dict[str, Any]]:
    """Download every build's digests and publish each image under every tag (merge)."""
    return [
        {
            "uses": ACTIONS["download-artifact"],
            "with": {"pattern": "digests-*", "merge-multiple": True, "path": DIGESTS_DIR},
        },
        {
            "name": "Publish every platform under every tag",
            "shell": "python",
            "env": {"IMAGES": "${{ matrix.images }}", "DIGESTS_DIR": DIGESTS_DIR},
            "run": _run_script(MERGE),
        },
    ]


def check(bakegen: str, args: list[str]) -> list[dict[str, Any]]:
    """The check job's steps after installing bakegen: the generated files and this workflow
    are current; on a pull request, the targets it affects."""
    return [
        {"name": "Generated files are current", "run": f"{bakegen} render --check"},
        {
            "name": "This workflow is current",
            "run": f"{bakegen} ci github --check {shlex.join(args)}",
        },
        {
            "name": "Targets this pull request affects",
            "id": "affected",
            "if": expression(IS_PR),
            "env": {"BASE": "${{ github.event.pull_request.base.sha }}"},
            "run": (
                f'targets=$({bakegen} affected --since "$BASE")\n'
                'echo "$targets"\n'
                'echo "targets=$(echo "$targets" | paste -sd, -)" >> "$GITHUB_OUTPUT"\n'
            ),
        },
    ]
