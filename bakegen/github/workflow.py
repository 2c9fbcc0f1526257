"""`bakegen ci github`: a GitHub Actions workflow that builds the plan across runners.

Jobs of the workflow:

- `check`: installs bakegen and runs `bakegen render --check` and this command's `--check`, so
  neither the generated files nor the workflow's matrix can drift from the manifest;
- `build`: one job per pushed image and platform (several images per job past `max_jobs`), on a
  native runner for its platform; it builds the image's verify target first (against what it is
  about to push), then the image with its parents (their `target:` contexts), pushed by digest;
  the digest is uploaded as an artifact. Pull requests build without pushing and without logins;
- `merge`: one job per image (after every build), refusing to publish when a promised platform's
  digest is missing; otherwise `docker buildx imagetools create` with every tag bake gives the
  image, then `imagetools inspect` of each tag.

Matrices hold at most 256 jobs (GitHub's limit); more jobs are split over several build and
merge jobs. The jobs' steps are in `steps`, the scripts they run in `resources/github/`.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import yaml

from bakegen.github import steps
from bakegen.github.jobs import (
    DEFAULT_MAX_JOBS,
    MergeJob,
    Options,
    Wave,
    _chunks,
    _names,
    depths,
    merge_jobs,
    waves,
)
from bakegen.github.settings import Settings, settings
from bakegen.github.staging import (
    GITHUB_REGISTRY,
    logs_in_with_token,
    registry_host,
    staging_repository,
)
from bakegen.github.steps import ACTIONS, IS_PR, NOT_PR, PINS, expression
from bakegen.github.tag_variables import tag_variable_steps
from bakegen.github.trust import PINS as TRUST_PINS
from bakegen.github.trust import gate_step, merge_permissions, sign_steps
from bakegen.layout import MARKER
from bakegen.manifest.records import Manifest, Registry
from bakegen.plan.records import Plan


def _token_login(registry: Registry) -> bool:
    """Whether the workflow logs in to `registry` with its own GITHUB_TOKEN (a ghcr.io registry
    that names no credentials of its own)."""
    return registry_host(registry) == GITHUB_REGISTRY and not (registry.user and registry.pwd)


def _pushes_with_token(m: Manifest) -> bool:
    return logs_in_with_token(m) or any(_token_login(r) for r in m.registries)


def _secret(name: str) -> str:
    return "${{ secrets." + name + " }}"


def _job_env(m: Manifest, plan: Plan) -> dict[str, str]:
    env = {
        "VERSION": "${{ github.ref_type == 'tag' && github.ref_name || '"
        + dict(plan.variables)["VERSION"]
        + "' }}",
        "REVISION": "${{ github.sha }}",
        "SOURCE": "${{ github.server_url }}/${{ github.repository }}",
    }
    for registry in m.registries:
        for name in (registry.only_if, registry.user, registry.pwd):
            if name:
                env[name] = _secret(name)
    env["REPOSITORIES"] = " ".join(
        sorted({repo for r in m.registries for _, repo in r.repositories})
    )
    return env


def _logins(m: Manifest) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for registry in m.registries:
        host = registry_host(registry)
        if registry.user and registry.pwd:
            user, password = f"${{{{ env.{registry.user} }}}}", f"${{{{ env.{registry.pwd} }}}}"
        elif _token_login(registry):
            user, password = "${{ github.actor }}", "${{ secrets.GITHUB_TOKEN }}"
        else:
            continue  # no credentials named: the registry takes anonymous pushes
        condition = NOT_PR + (f" && env.{registry.only_if} != ''" if registry.only_if else "")
        steps.append(
            {
                "name": f"Log in to {registry.name}",
                "if": "${{ " + condition + " }}",
                "uses": ACTIONS["login"],
                "with": {"registry": host, "username": user, "password": password},
            }
        )
    if logs_in_with_token(m) and not any(_token_login(r) for r in m.registries):
        steps.append(
            {
                "name": "Log in to the staging repository",
                "if": expression(NOT_PR),
                "uses": ACTIONS["login"],
                "with": {
                    "registry": GITHUB_REGISTRY,
                    "username": "${{ github.actor }}",
                    "password": "${{ secrets.GITHUB_TOKEN }}",
                },
            }
        )
    return steps


def _build_matrix(wave: Wave) -> list[dict[str, Any]]:
    return [{"targets": ",".join(e.targets), "key": e.targets[0]} for e in wave.entries]


def _build_steps(
    m: Manifest, plan: Plan, wave: Wave, s: Settings, tool: Tool, events: str
) -> list[dict[str, Any]]:
    """A wave job's steps; `publish`: with the logins (which only run on pushes). The
    manifest's own steps come right after the checkout."""
    found: list[dict[str, Any]] = [steps.checkout(), *s.steps, *tag_variable_steps(m)]
    found += [steps.commit_time(), *steps.install_bakegen(tool.options)]
    if wave.emulated:
        found.append({"uses": ACTIONS["setup-qemu"]})
    found.append({"uses": ACTIONS["setup-buildx"]})
    publish = events != PULL_REQUESTS
    if publish:
        found.extend(_logins(m))
    if plan.ci.metadata_action:
        found.append({"id": "meta", "uses": ACTIONS["metadata"]})
    layouts = events != PUSHES  # on a pull request, parents travel as OCI layouts
    found += steps.parents_in(wave, layouts=layouts)
    found.append(steps.settings(plan, wave, tool.command))
    if plan.verifies:
        found.append(steps.verify(plan))
    return found + steps.build_and_push(plan, wave, publish=publish, layouts=layouts)


@dataclass(frozen=True)
class Tool:
    """How a job installs bakegen, and the command it runs it with."""

    options: Options
    command: str


# The events a build job runs on: every one, pushes only (it may push with the workflow's own
# token), or pull requests only (the pull request's Dockerfiles run, with no write permission).
ANY_EVENT, PUSHES, PULL_REQUESTS = "any", "pushes", "pull requests"


def _build_job(
    m: Manifest,
    plan: Plan,
    wave: Wave,
    chunk: Sequence[dict[str, Any]],
    needs: list[str],
    s: Settings,
    tool: Tool,
    events: str = ANY_EVENT,
) -> dict[str, Any]:
    event = {PUSHES: " && " + NOT_PR, PULL_REQUESTS: " && " + IS_PR}.get(events, "")
    return {
        "name": f"build {wave.platform} wave {wave.depth}: ${{{{ matrix.targets }}}}",
        "needs": needs,
        # after the wave before, even when one of its builds failed: a build whose parent
        # has no digest refuses itself, its siblings go on
        "if": expression("!cancelled() && needs.check.result == 'success'" + event),
        "runs-on": wave.runner,
        **s.timeout("build"),
        **(_permissions("write") if events == PUSHES else {}),
        "strategy": {"fail-fast": False, "matrix": {"include": list(chunk)}},
        "env": {
            **_job_env(m, plan),
            "PUSH": expression(NOT_PR),
            "STAGING": staging_repository(m),
            **({"CACHE_SUFFIX": f"-{wave.slug}"} if plan.ci.cache else {}),
        },
        "steps": _build_steps(m, plan, wave, s, tool, events),
    }


def _wave_jobs(
    m: Manifest, plan: Plan, s: Settings, tool: Tool
) -> tuple[dict[str, Any], dict[int, list[str]]]:
    """Every wave's jobs (a push's, and a pull request's when they differ), and the names of
    the jobs that push, by depth."""
    split = _pushes_with_token(m)  # the pushes' jobs may write packages, pull requests' not
    kinds = [(PUSHES if split else ANY_EVENT, "build")]
    if split and "pull_request" in s.events:
        kinds.append((PULL_REQUESTS, "build-pr"))
    jobs: dict[str, Any] = {}
    pushing: dict[int, list[str]] = {}
    for events, prefix in kinds:
        before: dict[str, list[str]] = {}
        for wave in waves(plan, tool.options):
            chunks = _chunks(_build_matrix(wave))
            names = _names(f"{prefix}-{wave.slug}-{wave.depth}", len(chunks))
            needs = ["check", *before.get(wave.platform, [])]
            for name, chunk in zip(names, chunks, strict=True):
                jobs[name] = _build_job(m, plan, wave, chunk, needs, s, tool, events)
            before[wave.platform] = names
            if events != PULL_REQUESTS:
                pushing.setdefault(wave.depth, []).extend(names)
    return jobs, pushing


def _merge_permissions(m: Manifest) -> dict[str, Any]:
    """A merge job's: `packages: write` with the workflow's token, `id-token: write` to sign
    keyless."""
    own = _permissions("write")["permissions"] if _pushes_with_token(m) else {}
    found = {**own, **merge_permissions(m)}
    return {"permissions": found} if found else {}


def _permissions(packages: str) -> dict[str, Any]:
    """The permissions of a job that logs in to ghcr.io with the workflow's own token."""
    return {"permissions": {"contents": "read", "packages": packages}}


def _merge_job(
    m: Manifest, plan: Plan, jobs: Sequence[MergeJob], needs: list[str], s: Settings
) -> dict[str, Any]:
    include = [
        {
            "images": " ".join(f"{t}={','.join(p)}" for t, p in j.images),
            "name": j.images[0][0] + (f" (+{len(j.images) - 1})" if len(j.images) > 1 else ""),
        }
        for j in jobs
    ]
    return {
        "name": "merge ${{ matrix.name }}",
        "needs": needs,
        # after every build, even failed ones (the merge refuses images missing a platform),
        # but not after a failed check, which builds nothing
        "if": expression("!cancelled() && needs.check.result == 'success' && " + NOT_PR),
        "runs-on": s.runners["linux/amd64"],
        **s.timeout("merge"),
        **_merge_permissions(m),
        "strategy": {"fail-fast": False, "matrix": {"include": include}},
        "env": _job_env(m, plan),
        "steps": [
            steps.checkout(),
            *tag_variable_steps(m),
            {"uses": ACTIONS["setup-buildx"]},
            *_logins(m),
            *steps.publish(plan, gate_step(m, plan), sign_steps(m, plan)),
        ],
    }


def _check_args(options: Options, s: Settings) -> list[str]:
    """The options this workflow was made with, for its `ci github --check` step."""
    args = ["--output", options.output, "--requirement", options.requirement]
    for platform, label in s.pinned:
        args += ["--runner", f"{platform}={label}"]
    for branch in options.branches:
        args += ["--branch", branch]
    if options.max_jobs != DEFAULT_MAX_JOBS:
        args += ["--max-jobs", str(options.max_jobs)]
    if options.gpu_runner:
        args += ["--gpu-runner", options.gpu_runner]
    return args


def _check_job(options: Options, s: Settings, manifest_arg: str | None) -> dict[str, Any]:
    manifest = ["-m", manifest_arg] if manifest_arg else []
    bakegen = shlex.join(["bakegen", *manifest])
    return {
        "runs-on": s.runners["linux/amd64"],
        **s.timeout("check"),
        # on a pull request: the targets whose inputs differ from the base (`bakegen affected`)
        "outputs": {"affected": "${{ steps.affected.outputs.targets }}"},
        "steps": [
            # the whole history: a pull request's base commit is compared with it
            {"uses": ACTIONS["checkout"], "with": {"persist-credentials": False, "fetch-depth": 0}},
            *steps.install_bakegen(options),
            *steps.check(bakegen, _check_args(options, s)),
        ],
    }


def _smoke_job(
    m: Manifest,
    plan: Plan,
    needs: list[str],
    options: Options,
    s: Settings,
    manifest_arg: str | None,
) -> dict[str, Any]:
    """`bakegen smoke` of the published images, GPU tests included, on a GPU runner."""
    manifest = ["-m", manifest_arg] if manifest_arg else []
    return {
        "name": "smoke tests (GPU)",
        "needs": needs,
        "if": expression(NOT_PR),
        "runs-on": options.gpu_runner,
        **s.timeout("smoke"),
        **(_permissions("read") if _pushes_with_token(m) else {}),
        "env": _job_env(m, plan),
        "steps": [
            steps.checkout(),
            *tag_variable_steps(m),
            *steps.install_bakegen(options),
            *_logins(m),
            {
                "name": "Declared tests, in the published images",
                "run": shlex.join(["bakegen", *manifest, "smoke"]),
            },
        ],
    }


def workflow(
    m: Manifest, plan: Plan, options: Options | None = None, manifest_arg: str | None = None
) -> str:
    """The workflow's text: bakegen's marker on the first line."""
    s = settings(m, options or Options())
    options = replace(options or Options(), runners=s.runners)
    command = shlex.join(["bakegen", *(["-m", manifest_arg] if manifest_arg else [])])
    jobs: dict[str, Any] = {"check": _check_job(options, s, manifest_arg)}
    built, pushing = _wave_jobs(m, plan, s, Tool(options, command))
    jobs.update(built)
    merge_names: list[str] = []
    level = depths(plan)
    for depth in sorted({level[i.target] for i in plan.images if i.push}):
        at = [i for i in plan.images if i.push and level[i.target] == depth]
        merges = _chunks(merge_jobs(at, options))
        # after the waves that build its images, on every platform
        needs = ["check", *pushing.get(depth, [])]
        for name, chunk in zip(_names(f"merge-{depth}", len(merges)), merges, strict=True):
            jobs[name] = _merge_job(m, plan, chunk, needs, s)
            merge_names.append(name)
    if options.gpu_runner:
        jobs["smoke"] = _smoke_job(m, plan, merge_names, options, s, manifest_arg)
    document = {
        "name": "bakegen",
        "on": s.on,
        "permissions": {"contents": "read"},
        "concurrency": {
            "group": "bakegen-${{ github.ref }}",
            "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
        },
        "jobs": jobs,
    }
    header = (
        f"# {MARKER}\n"
        "# Made by `bakegen ci github` from the manifest; run it again after changing the "
        "manifest.\n"
        "# Actions are pinned by commit: "
        + ", ".join(f"{repo} {tag}" for repo, _commit, tag in _pins(m))
        + "\n"
    )
    return header + _dump(document)


def _pins(m: Manifest) -> list[tuple[str, str, str]]:
    """The actions the workflow uses, pinned: cosign's installer only when it signs."""
    signs = m.signing is not None
    return [*PINS.values(), *(TRUST_PINS.values() if signs else ())]


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # noqa: ARG002
        return True  # workflows are read by tools that take no YAML aliases


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _none(dumper: yaml.SafeDumper, _value: None) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:null", "")


_Dumper.add_representer(str, _str)
_Dumper.add_representer(type(None), _none)


def _dump(document: Mapping[str, Any]) -> str:
    text: str = yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=1000)
    return text.replace("'on':", "on:", 1)
