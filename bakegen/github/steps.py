"""The steps of the generated workflow's jobs, and the pinned actions they use."""

from __future__ import annotations

import json
import shlex
from typing import Any

from bakegen.github.image_tags import image_tag_commands, platform_tag_templates
from bakegen.github.jobs import Options, Wave
from bakegen.github.scripts import BAKE_SETTINGS, EXPORT_DIGESTS, IMAGE_TAGS, MERGE, script
from bakegen.layout import BAKE_FILES, PARENT_CONTEXT
from bakegen.plan.records import Plan

DIGESTS_DIR = "${{ runner.temp }}/digests"
OCI_DIR = "${{ runner.temp }}/oci"
BUILT_DIR = "${{ runner.temp }}/built"  # what one build made: uploaded for the next waves
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


def commit_time() -> dict[str, Any]:
    """SOURCE_DATE_EPOCH, the time of the commit built: BuildKit clamps the images' times to it,
    so that the same sources give the same image."""
    return {
        "name": "Commit time, for reproducible images",
        "run": 'echo "SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)" >> "$GITHUB_ENV"\n',
    }


def _bake_files(plan: Plan) -> str:
    files = [BAKE_FILES["hcl"]]
    if plan.ci.metadata_action:
        files.append("${{ steps.meta.outputs.bake-file }}")
    return "\n".join(files) + "\n"


def _run_script(name: str) -> str:
    return script(name).lstrip("\n")


def settings(plan: Plan, wave: Wave, bakegen: str) -> dict[str, Any]:
    """What a build builds, and its bake settings (the bake_settings script)."""
    readonly = plan.ci.cache is not None and plan.ci.cache.type == "registry"
    return {
        "name": "Build ids, what to build, and bake settings",
        "id": "settings",
        "shell": "python",
        "env": {
            "TARGETS": "${{ matrix.targets }}",
            "PLATFORM": wave.platform,
            "SLUG": wave.slug,
            "PARENT_CONTEXT": PARENT_CONTEXT,
            "DIGESTS_DIR": DIGESTS_DIR,
            "OCI_DIR": OCI_DIR,
            "BUILT_DIR": BUILT_DIR,
            "BAKEGEN": bakegen,
            # a pull request builds only what it affects
            "ONLY_AFFECTED": expression(IS_PR),
            "AFFECTED": "${{ needs.check.outputs.affected }}",
            # a registry cache needs a login to be written: pull requests only read it
            **({"CACHE_READONLY": expression(IS_PR)} if readonly else {}),
        },
        "run": _run_script(BAKE_SETTINGS),
    }


def parents_in(wave: Wave, *, layouts: bool) -> list[dict[str, Any]]:
    """A wave after the first: the images of the waves before it on its platform (and, with
    `layouts`, on a pull request, their OCI layouts)."""
    if wave.depth == 0:
        return []
    found = [_download(f"digests-{wave.slug}-*", DIGESTS_DIR)]
    return [*found, _download(f"oci-{wave.slug}-*", OCI_DIR, IS_PR)] if layouts else found


def _download(pattern: str, path: str, condition: str | None = None) -> dict[str, Any]:
    return {
        **({"if": expression(condition)} if condition else {}),
        "uses": ACTIONS["download-artifact"],
        "with": {"pattern": pattern, "merge-multiple": True, "path": path},
    }


def verify(plan: Plan) -> dict[str, Any]:
    """Bake the verify targets of what is about to be pushed, FROM the parents' digests."""
    return {
        "name": "Verify (what is about to be pushed)",
        "if": "${{ steps.settings.outputs.verify != '' }}",
        "uses": ACTIONS["bake"],
        "with": {
            "source": ".",
            "files": _bake_files(plan),
            "targets": "${{ steps.settings.outputs.verify }}",
            "allow": "${{ steps.settings.outputs.allow }}",
            "set": "${{ steps.settings.outputs.verify-set }}",
        },
    }


def build_and_push(
    plan: Plan, wave: Wave, *, publish: bool = True, layouts: bool = True
) -> list[dict[str, Any]]:
    """Bake what a build builds, push it to staging (`publish`, on pushes), keep OCI layouts of
    the images with children (`layouts`, on pull requests), and upload each image's reference
    for the next waves and merges."""
    bake = {
        "name": "Build" + (" and push to staging" if publish else ""),
        "id": "bake",
        "if": "${{ steps.settings.outputs.targets != '' }}",
        "uses": ACTIONS["bake"],
        "with": {
            "source": ".",
            "files": _bake_files(plan),
            "targets": "${{ steps.settings.outputs.targets }}",
            "allow": "${{ steps.settings.outputs.allow }}",
            "set": "${{ steps.settings.outputs.set }}",
        },
    }
    export = {
        "name": "Export digests",
        "shell": "python",
        "env": {
            "METADATA": "${{ steps.bake.outputs.metadata }}",
            "TARGETS": "${{ steps.settings.outputs.targets }}",
            "CHILDREN": "${{ steps.settings.outputs.children }}",
            "SLUG": wave.slug,
            "DIGESTS_DIR": BUILT_DIR,
        },
        "run": _run_script(EXPORT_DIGESTS),
    }
    key = "${{ matrix.key }}"
    # a pull request's build may write nothing: what it did not build is not exported
    found = "error" if publish and not layouts else "ignore"
    uploads = [_upload(f"digests-{wave.slug}-{key}", BUILT_DIR + "/*@*", found)]
    if layouts:
        oci = _upload(f"oci-{wave.slug}-{key}", BUILT_DIR + "/oci/*", "ignore")
        uploads.append({"if": expression(IS_PR), **oci})
    return [bake, export, *uploads]


def _upload(name: str, path: str, if_none: str) -> dict[str, Any]:
    return {
        "uses": ACTIONS["upload-artifact"],
        "with": {"name": name, "path": path, "if-no-files-found": if_none, "retention-days": 1},
    }


def publish(
    plan: Plan, gate: dict[str, Any] | None, sign: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Download every build's references; read the tags images give (`tags_from_image`); run the
    gates against each per-platform image; publish each image under every tag, and its
    per-platform tags; sign what was published (merge)."""
    commands, platform_tags = image_tag_commands(plan), platform_tag_templates(plan)
    found: list[dict[str, Any]] = [
        {
            "uses": ACTIONS["download-artifact"],
            "with": {"pattern": "digests-*", "merge-multiple": True, "path": DIGESTS_DIR},
        }
    ]
    if commands:
        found.append(
            {
                "name": "Tags read from the images",
                "shell": "python",
                "env": {
                    "IMAGES": "${{ matrix.images }}",
                    "DIGESTS_DIR": DIGESTS_DIR,
                    "IMAGE_TAGS": json.dumps(commands, sort_keys=True),
                },
                "run": _run_script(IMAGE_TAGS),
            }
        )
    if gate:
        found.append(gate)
    extra = {"IMAGE_TAGS": json.dumps(sorted(commands))} if commands else {}
    if platform_tags:
        extra["PLATFORM_TAGS"] = json.dumps(platform_tags, sort_keys=True)
    found.append(
        {
            "name": "Publish every platform under every tag",
            "shell": "python",
            "env": {"IMAGES": "${{ matrix.images }}", "DIGESTS_DIR": DIGESTS_DIR, **extra},
            "run": _run_script(MERGE),
        }
    )
    return found + sign


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
