"""The staging repository of the workflow: where each image is pushed per platform, tagged with
its build id only (`bakegen-<id>`), before the merge jobs publish it under its tags. Images
built FROM it take it from there by digest, and a later run whose build id is already there
reuses it instead of building."""

from __future__ import annotations

from bakegen.errors import ManifestError
from bakegen.manifest.records import Manifest, Registry
from bakegen.manifest.references import split_domain

GITHUB_REGISTRY = "ghcr.io"
# No registry named: the GitHub registry of the workflow's repository (lowercased when used).
DEFAULT = GITHUB_REGISTRY + "/${{ github.repository }}-staging"
SUFFIX = "-staging"


def registry_host(registry: Registry) -> str:
    """The host of a registry's repositories (docker.io when they name none)."""
    return next(filter(None, (split_domain(r)[0] for _, r in registry.repositories)), "docker.io")


def host(repository: str) -> str:
    return split_domain(repository)[0] or "docker.io"


def staging_repository(m: Manifest) -> str:
    """The manifest's `workflow.staging`; else beside the first registry with credentials
    (else the first registry): its first repository with `-staging` added; else DEFAULT."""
    if m.workflow.staging:
        repository = m.workflow.staging
        hosts = {registry_host(r) for r in m.registries} | {GITHUB_REGISTRY}
        if host(repository) not in hosts:
            raise ManifestError(
                [
                    m.problem(
                        ("workflow", "staging"),
                        f"'{repository}' is on {host(repository)}, which the workflow does not "
                        f"log in to; name a repository on {' or '.join(sorted(hosts))}",
                    )
                ]
            )
        return repository
    named = [r for r in m.registries if r.repositories]
    gated = [r for r in named if r.user and r.pwd] or named
    return gated[0].repositories[0][1] + SUFFIX if gated else DEFAULT


def logs_in_with_token(m: Manifest) -> bool:
    """Whether the staging repository is the GitHub registry's and no registry of the manifest
    names credentials for it: the workflow's own token logs in."""
    on_github = host(staging_repository(m)) == GITHUB_REGISTRY
    return on_github and not any(
        registry_host(r) == GITHUB_REGISTRY and r.user and r.pwd for r in m.registries
    )
