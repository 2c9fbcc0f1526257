"""The merge job's steps that vouch for what it publishes: the manifest's gates, run against
each pushed per-platform digest before any tag exists (the gates script), and the signing of
each published index by digest, then its verification (cosign, the sign script).

The merge job runs: the digests' download, the gates step (`gate_step`), the publish step
(which publishes no image a gate refused, `DIGESTS_DIR/<target>.refused`, and writes
`DIGESTS_DIR/<target>.published`), then `sign_steps`. The job's permissions take
`merge_permissions` over its own: keyless signing needs the job's OIDC token."""

from __future__ import annotations

import json
from typing import Any

from bakegen.github.scripts import GATES, SIGN, script
from bakegen.github.steps import DIGESTS_DIR, expression
from bakegen.manifest.records import Manifest
from bakegen.manifest.trust import Signing, image_gates, image_signing
from bakegen.plan.records import Plan

# The actions these steps use: repository, the commit of a release tag, and that tag.
PINS = {
    # installs cosign v3.0.6 (the release it checks by its own digest)
    "cosign-installer": (
        "sigstore/cosign-installer",
        "6f9f17788090df1f26f669e9d70d6ae9567deba6",
        "v4.1.2",
    ),
}
ACTIONS = {name: f"{repo}@{commit}" for name, (repo, commit, _tag) in PINS.items()}
# The variable holding a key pair's private key in the sign step (COSIGN_KEY names it).
PRIVATE_KEY_ENV = "COSIGN_PRIVATE_KEY"
# After a failed step too: what was published is signed (the job has failed already).
NOT_CANCELLED = expression("!cancelled()")


def secret(name: str) -> str:
    return expression(f"secrets.{name}")


def gates_by_target(m: Manifest, plan: Plan) -> dict[str, list[dict[str, str]]]:
    """The gates of each pushed image that has any: target -> [{name, run}] (GATES)."""
    found: dict[str, list[dict[str, str]]] = {}
    for image in plan.images:
        gates = image_gates(m, image.package, image.release_type) if image.push else ()
        if gates:
            found[image.target] = [{"name": g.name, "run": g.run or ""} for g in gates]
    return found


def gate_step(m: Manifest, plan: Plan) -> dict[str, Any] | None:
    """The step running the gates of the merge job's images; None when no image has any."""
    gates = gates_by_target(m, plan)
    if not gates:
        return None
    return {
        "name": "Gates, against each pushed digest before any tag",
        "id": "gates",
        "shell": "python",
        "env": {
            "GATES": json.dumps(gates, sort_keys=True, separators=(",", ":")),
            "IMAGES": "${{ matrix.images }}",
            "DIGESTS_DIR": DIGESTS_DIR,
        },
        "run": script(GATES),
    }


def _signing(m: Manifest, plan: Plan) -> tuple[Signing | None, list[str]]:
    """How the pushed images are signed (None: none is), and the pushed ones left unsigned."""
    pushed = [i for i in plan.images if i.push]
    signed = [i for i in pushed if image_signing(m, i.package)]
    unsigned = sorted(i.target for i in pushed if not image_signing(m, i.package))
    return (m.signing if signed else None), unsigned


def _sign_env(signing: Signing, unsigned: list[str]) -> dict[str, str]:
    env = {"IMAGES": "${{ matrix.images }}", "DIGESTS_DIR": DIGESTS_DIR}
    if unsigned:
        env["UNSIGNED"] = " ".join(unsigned)
    if signing.key:
        env[PRIVATE_KEY_ENV] = secret(signing.key)
        env["COSIGN_KEY"] = f"env://{PRIVATE_KEY_ENV}"
        env["COSIGN_PASSWORD"] = secret(signing.password) if signing.password else ""
        if not signing.tlog:
            env["BAKEGEN_SIGN_NO_TLOG"] = "true"
    return env


def sign_steps(m: Manifest, plan: Plan) -> list[dict[str, Any]]:
    """cosign's installer, then the step signing and verifying each published index by digest;
    none when no pushed image is signed."""
    signing, unsigned = _signing(m, plan)
    if signing is None:
        return []
    return [
        {"name": "Install cosign", "if": NOT_CANCELLED, "uses": ACTIONS["cosign-installer"]},
        {
            "name": "Sign each published image by digest, and verify it",
            "if": NOT_CANCELLED,
            "shell": "python",
            "env": _sign_env(signing, unsigned),
            "run": script(SIGN),
        },
    ]


def merge_permissions(m: Manifest) -> dict[str, str]:
    """What the merge jobs' permissions need for signing, over their own: keyless signing asks
    GitHub for the job's OIDC token (`id-token: write`); checking out still needs
    `contents: read`, which a job's own `permissions` would otherwise drop."""
    keyless = m.signing is not None and m.signing.key is None
    if keyless and any(p.signing is not False for p in m.packages.values()):
        return {"contents": "read", "id-token": "write"}
    return {}
