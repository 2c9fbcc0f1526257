"""CI settings of the bake file (cache, attestations, docker/metadata-action): the manifest keys,
their messages and the bake model (unit tier)."""

from __future__ import annotations

from typing import Any

import pytest

from bakegen.emit.bakefile import METADATA_TARGET, bake_model
from bakegen.emit.hcl import text_template
from bakegen.manifest.values import CI, Attestations, Cache
from testing.unit import manifest_data, plan_of, problems, typed


def targets(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    model = bake_model(plan_of(data))
    return {b.name: dict(b.attrs) for b in model.targets}


def test_defaults_add_no_cache_no_attestations_no_metadata_target() -> None:
    m = typed(manifest_data())
    assert m.ci == CI()
    found = targets(manifest_data())
    assert METADATA_TARGET not in found
    for attrs in found.values():
        assert not {"cache-from", "cache-to", "attest"} & set(attrs)
        assert attrs.get("inherits", ["_common"]) == ["_common"] or "inherits" not in attrs
    assert "CACHE_SUFFIX" not in dict(plan_of(manifest_data()).variables)


def test_cache_type_none_is_no_cache() -> None:
    assert typed(manifest_data(cache={"type": "none"})).ci.cache is None


@pytest.mark.parametrize(
    ("cache", "reads"),
    [
        ({"type": "gha"}, "type=gha,scope={t}${{CACHE_SUFFIX}}"),
        (
            {"type": "registry", "ref": "ghcr.io/o/cache"},
            "type=registry,ref=ghcr.io/o/cache:{t}${{CACHE_SUFFIX}}",
        ),
        (
            {"type": "local", "dir": ".cache/bake/"},
            "type=local,src=.cache/bake/{t}${{CACHE_SUFFIX}}",
        ),
    ],
)
def test_every_image_target_has_its_own_scope_and_reads_its_parents(
    cache: dict[str, str], reads: str
) -> None:
    found = targets(manifest_data(cache=cache))
    base, runtime = "app-base-debian12-py312", "app-runtime-debian12-py312"
    assert [text_template(e) for e in found[runtime]["cache-from"]] == [
        reads.format(t=runtime),
        reads.format(t=base),
    ]
    assert [text_template(e) for e in found[base]["cache-from"]] == [reads.format(t=base)]
    written = [text_template(e) for e in found[runtime]["cache-to"]]
    expected = reads.format(t=runtime).replace("src=", "dest=") + ",mode=max"
    assert written == [expected]
    assert "cache-to" not in found[f"{runtime}-verify"]
    assert dict(plan_of(manifest_data(cache=cache)).variables)["CACHE_SUFFIX"] == ""


def test_attestations_on_pushed_images_only() -> None:
    data = manifest_data(attestations={"sbom": True, "provenance": "max"})
    assert typed(data).ci.attestations == Attestations(sbom=True, provenance="max")
    found = targets(data)
    assert found["app-runtime-debian12-py312"]["attest"] == [
        "type=sbom",
        "type=provenance,mode=max",
    ]
    assert "attest" not in found["app-base-debian12-py312"]


def test_metadata_action_is_inherited_by_pushed_images_and_declared_empty() -> None:
    found = targets(manifest_data(metadata_action=True))
    assert found[METADATA_TARGET] == {}
    assert found["app-runtime-debian12-py312"]["inherits"] == ["_common", METADATA_TARGET]
    assert found["app-base-debian12-py312"]["inherits"] == ["_common"]


def test_typed_cache_strips_a_trailing_slash() -> None:
    m = typed(manifest_data(cache={"type": "local", "dir": "c/"}))
    assert m.ci.cache == Cache("local", dir="c")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"cache": {"type": "s3"}},
            "cache.type: 's3' is not a cache type: gha, registry, local or none",
        ),
        ({"cache": {"type": "registry"}}, "cache: `ref` is a required property"),
        ({"cache": {"type": "local"}}, "cache: `dir` is a required property"),
        (
            {"cache": {"type": "gha", "ref": "ghcr.io/o/c"}},
            "cache: `ref` is read only with type: registry",
        ),
        ({"cache": {"type": "gha", "dir": "c"}}, "cache: `dir` is read only with type: local"),
        ({"cache": {"type": "local", "dir": "/tmp/c"}}, "is not a folder inside the workspace"),
        ({"cache": {"type": "local", "dir": "../c"}}, "is not a folder inside the workspace"),
        (
            {"cache": {"type": "registry", "ref": "Bad Ref"}},
            "cache.ref: 'Bad Ref' is not an image repository",
        ),
        ({"cache": {"typ": "gha"}}, "unknown key 'typ'; did you mean 'type'?"),
        (
            {"attestations": {"provenance": "full"}},
            "attestations.provenance: 'full' is not a provenance mode: min or max",
        ),
        ({"attestations": {"sbom": "yes"}}, "attestations.sbom: a string 'yes' is not a boolean"),
        ({"metadata_action": "yes"}, "metadata_action: a string 'yes' is not a boolean"),
    ],
)
def test_ci_keys_have_clear_messages(changes: dict[str, Any], message: str) -> None:
    found = problems(manifest_data(**changes))
    assert any(message in line for line in found), found


def test_cache_suffix_is_reserved_for_gates() -> None:
    data = manifest_data(
        repository={"r": {"only_if": "CACHE_SUFFIX", "registry": {"app": "ghcr.io/o/app"}}}
    )
    found = problems(data)
    assert any("is a name the bake file uses itself" in line for line in found), found
