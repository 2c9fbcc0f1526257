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
from dataclasses import replace
from typing import Any

import yaml

from bakegen.github import steps
from bakegen.github.jobs import (
    DEFAULT_MAX_JOBS,
    BuildJob,
    MergeJob,
    Options,
    _chunks,
    _names,
    build_jobs,
    merge_jobs,
)
from bakegen.github.settings import Settings, settings
from bakegen.github.steps import ACTIONS, IS_PR, NOT_PR, PINS, expression
from bakegen.github.tag_variables import tag_variable_steps
from bakegen.layout import MARKER
from bakegen.manifest.records import Manifest, Registry
from bakegen.manifest.references import split_domain
from bakegen.plan.records import Plan


def registry_host(registry: Registry) -> str:
    """The host of a registry's repositories (docker.io when they name none)."""
    return next(filter(None, (split_domain(r)[0] for _, r in registry.repositories)), "docker.io")


def _token_login(registry: Registry) -> bool:
    """Whether the workflow logs in to `registry` with its own GITHUB_TOKEN (a ghcr.io registry
    that names no credentials of its own)."""
    return registry_host(registry) == "ghcr.io" and not (registry.user and registry.pwd)


def _pushes_with_token(m: Manifest) -> bool:
    return any(_token_login(r) for r in m.registries)


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
    return steps


def _build_matrix(jobs: Sequence[BuildJob]) -> list[dict[str, Any]]:
    return [
        {
            "targets": ",".join(j.targets),
            "platform": j.platform,
            "slug": j.slug,
            "runner": j.runner,
            **({"emulated": True} if j.emulated else {}),
            "verify": ",".join(j.verify),
            "drop-cache": " ".join(j.drop_cache),
            "key": f"{j.slug}-{j.targets[0]}",
        }
        for j in jobs
    ]


def _build_steps(
    m: Manifest, plan: Plan, jobs: Sequence[BuildJob], s: Settings, *, publish: bool
) -> list[dict[str, Any]]:
    """A build job's steps; `publish`: with the logins and the digests' upload (which only
    run on pushes). The manifest's own steps come right after the checkout."""
    found: list[dict[str, Any]] = [steps.checkout(), *s.steps, *tag_variable_steps(m)]
    if any(j.emulated for j in jobs):
        found.append({"if": "${{ matrix.emulated }}", "uses": ACTIONS["setup-qemu"]})
    found.append({"uses": ACTIONS["setup-buildx"]})
    if publish:
        found.extend(_logins(m))
    if plan.ci.metadata_action:
        found.append({"id": "meta", "uses": ACTIONS["metadata"]})
    found.append(steps.settings(plan))
    if plan.verifies:
        found.append(steps.verify(plan))
    return found + steps.build_and_push(plan, publish=publish)


# The events a build job runs on: every one, pushes only (it may push with the workflow's own
# token), or pull requests only (the pull request's Dockerfiles run, with no write permission).
ANY_EVENT, PUSHES, PULL_REQUESTS = "any", "pushes", "pull requests"


def _build_job(
    m: Manifest,
    plan: Plan,
    jobs: Sequence[BuildJob],
    s: Settings,
    events: str = ANY_EVENT,
) -> dict[str, Any]:
    gate = {PUSHES: {"if": expression(NOT_PR)}, PULL_REQUESTS: {"if": expression(IS_PR)}}
    return {
        "name": "build ${{ matrix.targets }} (${{ matrix.platform }})",
        "needs": "check",
        **gate.get(events, {}),
        "runs-on": "${{ matrix.runner }}",
        **s.timeout("build"),
        **(_permissions("write") if events == PUSHES else {}),
        "strategy": {"fail-fast": False, "matrix": {"include": _build_matrix(jobs)}},
        "env": {
            **_job_env(m, plan),
            "PUSH": expression(NOT_PR),
            **({"CACHE_SUFFIX": "-${{ matrix.slug }}"} if plan.ci.cache else {}),
        },
        "steps": _build_steps(m, plan, jobs, s, publish=events != PULL_REQUESTS),
    }


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
        **(_permissions("write") if _pushes_with_token(m) else {}),
        "strategy": {"fail-fast": False, "matrix": {"include": include}},
        "env": _job_env(m, plan),
        "steps": [
            steps.checkout(),
            *tag_variable_steps(m),
            {"uses": ACTIONS["setup-buildx"]},
            *_logins(m),
            *steps.publish(),
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
    builds = _chunks(build_jobs(plan, options))
    merges = _chunks(merge_jobs(plan, options))
    build_names = _names("build", len(builds))
    jobs: dict[str, Any] = {"check": _check_job(options, s, manifest_arg)}
    split = _pushes_with_token(m)  # the pushes' jobs may write packages, pull requests' not
    for name, chunk in zip(build_names, builds, strict=True):
        if chunk:
            jobs[name] = _build_job(m, plan, chunk, s, PUSHES if split else ANY_EVENT)
    for name, chunk in zip(_names("build-pr", len(builds)), builds, strict=True):
        if chunk and split and "pull_request" in s.events:
            jobs[name] = _build_job(m, plan, chunk, s, PULL_REQUESTS)
    merge_names = _names("merge", len(merges))
    for name, chunk in zip(merge_names, merges, strict=True):
        if chunk:
            jobs[name] = _merge_job(m, plan, chunk, ["check", *build_names], s)
    if options.gpu_runner:
        jobs["smoke"] = _smoke_job(
            m, plan, [n for n in merge_names if n in jobs], options, s, manifest_arg
        )
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
        + ", ".join(f"{repo} {tag}" for repo, _commit, tag in PINS.values())
        + "\n"
    )
    return header + _dump(document)


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
