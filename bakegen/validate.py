"""Validate stage: the JSON Schema first, then the semantic rules; every problem at once."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from string import Formatter
from typing import Any

import jsonschema

from bakegen import names
from bakegen.errors import KeyPath, ManifestError, Problem
from bakegen.load import Loaded
from bakegen.schema import defaults, manifest_schema

PACKAGE_KEYS = ("python_versions", "parent")
# The platforms CUDA images are built for (NVIDIA's x86_64 and sbsa repositories).
CUDA_PLATFORMS = ("linux/amd64", "linux/arm64")
TAG_FIELDS = {
    "version",
    "python",
    "suffix",
    "cuda",
    "cuda_short",
    "cuda_suffix",
    "distro",
    "package",
    "release",
}


def did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def validate(loaded: Loaded, workspace: Path) -> None:
    """Raise ManifestError listing every problem of the manifest; return if there is none."""
    problems = list(schema_problems(loaded))
    if not problems:
        problems.extend(semantic_problems(loaded, workspace))
    if problems:
        raise ManifestError(problems)


def schema_problems(loaded: Loaded) -> Iterator[Problem]:
    validator = jsonschema.Draft202012Validator(manifest_schema())
    for error in validator.iter_errors(loaded.data):
        path: KeyPath = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = sorted(error.schema.get("properties", {}))
            for key in sorted(error.instance):
                if key not in allowed:
                    yield loaded.problem(
                        (*path, key), f"unknown key '{key}'{did_you_mean(key, allowed)}"
                    )
        elif error.validator == "required":
            yield loaded.problem(path, error.message.replace("'", "`", 2))
        elif error.validator in ("type", "anyOf"):
            yield loaded.problem(path, f"{_describe(error.instance)} is not {_expected(error)}")
        else:
            yield loaded.problem(path, error.message)


def _describe(value: Any) -> str:
    kind = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )
    return kind if value is None or isinstance(value, (dict, list)) else f"{kind} {value!r}"


def _expected(error: jsonschema.ValidationError) -> str:
    words = {
        "object": "a mapping",
        "array": "a list",
        "string": "a string",
        "boolean": "a boolean",
        "integer": "an integer",
        "null": "empty",
    }
    if error.validator == "anyOf":
        schema = error.schema if isinstance(error.schema, dict) else {}
        kinds = [s.get("type") for s in schema.get("anyOf", [])]
    else:
        kinds = [error.validator_value]
    flat: list[str] = []
    for kind in kinds:
        flat.extend(kind if isinstance(kind, list) else [str(kind)])
    return " or ".join(words.get(k, k) for k in flat)


def release_types(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The defaults' release types with the manifest's merged over them, key by key."""
    merged = {k: dict(v) for k, v in defaults()["release_types"].items()}
    for name, spec in (data.get("release_types") or {}).items():
        merged.setdefault(name, {}).update(spec)
    return merged


def used_releases(data: dict[str, Any]) -> dict[str, set[str]]:
    """Distro -> the release types that use it, over every package."""
    used: dict[str, set[str]] = {}
    for spec in data["packages"].values():
        for rtype, distros in spec.items():
            if rtype in PACKAGE_KEYS:
                continue
            for distro in distros:
                used.setdefault(distro, set()).add(rtype)
    return used


def lineage(types: dict[str, dict[str, Any]], rtype: str) -> list[str]:
    """`rtype` and its ancestors, nearest first; stops at a cycle or an unknown parent."""
    chain = [rtype]
    while (parent := types.get(chain[-1], {}).get("parent")) and parent in types:
        if parent in chain:
            break
        chain.append(parent)
    return chain


def semantic_problems(loaded: Loaded, workspace: Path) -> Iterator[Problem]:
    data = loaded.data
    p = loaded.problem
    yield from _check_python_lists(loaded)
    for key in ("version",):
        if key in data and not names.TAG_TEXT.match(data[key]):
            yield p((key,), "may hold only letters, digits, '_', '.' and '-' (it goes into tags)")
    for index, platform in enumerate(data.get("platforms") or []):
        if not names.PLATFORM.match(platform):
            yield p(("platforms", index), f"'{platform}' is not a platform like linux/arm64")
    if data.get("cuda_repo_url") is not None and not names.URL.match(data["cuda_repo_url"]):
        yield p(
            ("cuda_repo_url",),
            f"'{data['cuda_repo_url']}' is not an http(s) URL without spaces or quotes",
        )
    yield from _check_labels(loaded)
    yield from _check_secrets(loaded)
    types = release_types(data)
    yield from _check_release_types(loaded, types)
    yield from _check_cuda_dependencies(loaded)
    cuda_versions: dict[str, Any] = data.get("cuda_dependencies") or {}
    yield from _check_repository(loaded)
    yield from _check_packages(loaded, types)
    used = used_releases(data)
    yield from _check_release_ids(loaded, used)
    yield from _check_target_stems(loaded, types)
    for distro, versions in data["releases"].items():
        if not names.NAME.match(distro):
            yield p(("releases", distro), _name_rule(distro))
        for version, spec in versions.items():
            path: KeyPath = ("releases", distro, version)
            if not names.VERSION_KEY.match(version) or ".." in version:
                yield p(path, f"'{version}' is not a version usable in paths and tags")
            yield from _check_release(
                loaded, path, spec, used.get(distro, set()), types, cuda_versions, workspace
            )
    if "release_spec" in data:
        yield from _check_release(
            loaded, ("release_spec",), data["release_spec"], set(), types, cuda_versions, workspace
        )


def _check_release_ids(loaded: Loaded, used: dict[str, set[str]]) -> Iterator[Problem]:
    """Two distro releases in use must not share the name part of their targets and paths."""
    seen: dict[str, KeyPath] = {}
    for distro, versions in loaded.data["releases"].items():
        if distro not in used:
            continue
        for version in versions:
            path: KeyPath = ("releases", distro, version)
            slug = names.slug(f"{distro}{version}")
            first = seen.setdefault(slug, path)
            if first != path:
                yield loaded.problem(
                    path,
                    f"{distro} {version} and {first[1]} {first[2]} (at {loaded.where(first)}) "
                    f"both become '{slug}' in bake target names; rename one",
                )


def _check_target_stems(loaded: Loaded, types: dict[str, dict[str, Any]]) -> Iterator[Problem]:
    """Two package x release type x distro release must not give one bake target name.

    Names join with '-', which names may hold too: package `a-b` release type `c` and package `a`
    release type `b-c` both make `a-b-c-debian12-py312`.
    """
    data = loaded.data
    seen: dict[str, tuple[str, str, str]] = {}
    reported: set[tuple[tuple[str, str], tuple[str, str]]] = set()
    for package, spec in data["packages"].items():
        for rtype, distros in spec.items():
            if rtype in PACKAGE_KEYS or rtype not in types:
                continue
            for kind in [rtype] if spec.get("parent") else lineage(types, rtype):
                for distro in distros:
                    for version in data["releases"].get(distro) or {}:
                        distro_id = f"{distro}{version}"
                        stem = f"{package}-{kind}-{names.slug(distro_id)}"
                        first = seen.setdefault(stem, (package, kind, distro_id))
                        pair = ((first[0], first[1]), (package, kind))
                        if pair[0] == pair[1] or pair in reported:
                            continue
                        reported.add(pair)
                        yield loaded.problem(
                            ("packages", package, rtype),
                            f"package {package} release type {kind} on {distro_id} and package "
                            f"{first[0]} release type {first[1]} on {first[2]} both get the bake "
                            f"target names {stem}-...; rename a package or a release type",
                        )


def _name_rule(name: str) -> str:
    return (
        f"'{name}' is not a usable name: lower-case letters, digits, '_' and '-', "
        "starting with a letter or digit"
    )


def _check_python_lists(loaded: Loaded) -> Iterator[Problem]:
    data = loaded.data
    lists: list[tuple[KeyPath, Any]] = [(("python_versions",), data.get("python_versions"))]
    for name, spec in data["packages"].items():
        lists.append((("packages", name, "python_versions"), spec.get("python_versions")))
    for distro, versions in data["releases"].items():
        for version, spec in versions.items():
            for key in ("python_versions", "exclude_python"):
                lists.append((("releases", distro, version, key), spec.get(key)))
    for path, values in lists:
        for index, value in enumerate(values or []):
            if not names.PYTHON_VERSION.match(value):
                yield loaded.problem(
                    (*path, index), f"'{value}' is not a Python version like 3.12 (quote it)"
                )


def _check_labels(loaded: Loaded) -> Iterator[Problem]:
    for key, value in (loaded.data.get("labels") or {}).items():
        if not key or any(ord(c) < 32 for c in key + value):
            yield loaded.problem(
                ("labels", key), "labels may not be empty or hold control characters"
            )


def _check_secrets(loaded: Loaded) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, secret in enumerate(loaded.data.get("secrets") or []):
        path: KeyPath = ("secrets", index)
        sid = secret["id"]
        if not names.SECRET_ID.match(sid):
            yield loaded.problem((*path, "id"), f"'{sid}' is not a usable secret id")
        if sid in seen:
            yield loaded.problem((*path, "id"), f"secret '{sid}' is declared twice")
        seen.add(sid)
        if ("env" in secret) == ("src" in secret):
            yield loaded.problem(path, "give exactly one of `env` (a variable) or `src` (a file)")
        if "env" in secret and not names.ENV_NAME.match(secret["env"]):
            yield loaded.problem((*path, "env"), f"'{secret['env']}' is not a variable name")
        if "src" in secret and (not secret["src"] or any(c in secret["src"] for c in ',"\n')):
            yield loaded.problem((*path, "src"), "a file path without commas, quotes or newlines")


def _check_release_types(loaded: Loaded, types: dict[str, dict[str, Any]]) -> Iterator[Problem]:
    for name, spec in types.items():
        path: KeyPath = ("release_types", name)
        if not names.NAME.match(name) or name in PACKAGE_KEYS:
            yield loaded.problem(path, _name_rule(name))
        parent = spec.get("parent")
        if parent is not None and parent not in types:
            yield loaded.problem(
                (*path, "parent"),
                f"unknown release type '{parent}'{did_you_mean(parent, sorted(types))}",
            )
        elif parent is not None and name in lineage(types, parent):
            yield loaded.problem((*path, "parent"), "release types form a cycle; break it")
        if spec.get("push", True):
            if not spec.get("tag"):
                yield loaded.problem(path, "a pushed release type needs a `tag` format")
            else:
                yield from _check_tag_format(loaded, (*path, "tag"), spec["tag"])


def _check_tag_format(loaded: Loaded, path: KeyPath, fmt: str) -> Iterator[Problem]:
    try:
        parsed = list(Formatter().parse(fmt))
    except ValueError as exc:
        yield loaded.problem(path, f"bad tag format: {exc}")
        return
    for literal, field, spec, conv in parsed:
        if not names.TAG_TEXT.match(literal):
            yield loaded.problem(path, f"'{literal}' has characters not allowed in a tag")
        if field is not None and field not in TAG_FIELDS:
            known = ", ".join(sorted(TAG_FIELDS))
            yield loaded.problem(path, f"unknown field {{{field}}} in tag format; known: {known}")
        elif field is not None and (spec or conv):
            shown = field + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "")
            yield loaded.problem(
                path,
                f"{{{shown}}}: a tag field takes no conversion or format spec; write {{{field}}}",
            )


def _check_cuda_dependencies(loaded: Loaded) -> Iterator[Problem]:
    versions = loaded.data.get("cuda_dependencies") or {}
    for version, components in versions.items():
        path: KeyPath = ("cuda_dependencies", version)
        if not names.CUDA_VERSION.match(version):
            yield loaded.problem(path, f"'{version}' is not a CUDA version like 12.4.1")
        cudnn = [c for c in components if c.startswith("cudnn")]
        if len(cudnn) > 1:
            yield loaded.problem(path, f"at most one cuDNN component per CUDA version: {cudnn}")
        for name, value in components.items():
            if not names.NAME.match(name):
                yield loaded.problem((*path, name), _name_rule(name))
            if not isinstance(value, str) or not names.PACKAGE_VERSION.match(value):
                yield loaded.problem((*path, name), f"{value!r} is not a package version")


def _check_repository(loaded: Loaded) -> Iterator[Problem]:
    packages = sorted(loaded.data["packages"])
    for name, spec in (loaded.data.get("repository") or {}).items():
        path: KeyPath = ("repository", name)
        for key in ("only_if", "user", "pwd"):
            value = spec.get(key)
            if value is not None and not names.ENV_NAME.match(value):
                yield loaded.problem((*path, key), f"'{value}' is not an environment variable name")
        for package, repo in spec["registry"].items():
            if package not in packages:
                yield loaded.problem(
                    (*path, "registry", package),
                    f"no package '{package}' in `packages`{did_you_mean(package, packages)}",
                )
            if not names.IMAGE_REPO.match(repo):
                yield loaded.problem(
                    (*path, "registry", package),
                    f"'{repo}' is not an image repository like docker.io/org/name (lower case)",
                )


def _check_packages(loaded: Loaded, types: dict[str, dict[str, Any]]) -> Iterator[Problem]:
    data = loaded.data
    distros = sorted(data["releases"])
    packages = data["packages"]
    for name, spec in packages.items():
        path: KeyPath = ("packages", name)
        if not names.NAME.match(name):
            yield loaded.problem(path, _name_rule(name))
        parent = spec.get("parent")
        if parent is not None:
            if parent == name:
                yield loaded.problem((*path, "parent"), "a package cannot be its own parent")
            elif parent not in packages:
                others = sorted(set(packages) - {name})
                yield loaded.problem(
                    (*path, "parent"),
                    f"no other package '{parent}'{did_you_mean(parent, others)}",
                )
            elif _package_cycle(packages, name):
                yield loaded.problem((*path, "parent"), "packages' parents form a cycle")
        for rtype, listed in spec.items():
            if rtype in PACKAGE_KEYS:
                continue
            if rtype not in types:
                yield loaded.problem(
                    (*path, rtype),
                    f"unknown release type '{rtype}'; declare it under `release_types`"
                    f"{did_you_mean(rtype, sorted(types))}",
                )
            for index, distro in enumerate(listed):
                if distro not in data["releases"]:
                    yield loaded.problem(
                        (*path, rtype, index),
                        f"no distro '{distro}' under `releases`{did_you_mean(distro, distros)}",
                    )
                elif parent in packages and distro not in packages[parent].get(rtype, []):
                    yield loaded.problem(
                        (*path, rtype, index),
                        f"parent package '{parent}' has no {rtype} image on '{distro}'",
                    )


def _package_cycle(packages: dict[str, Any], start: str) -> bool:
    seen = {start}
    current = packages[start].get("parent")
    while current in packages:
        if current in seen:
            return True
        seen.add(current)
        current = packages[current].get("parent")
    return False


def _check_release(
    loaded: Loaded,
    path: KeyPath,
    spec: dict[str, Any],
    used_by: set[str],
    types: dict[str, dict[str, Any]],
    cuda_versions: dict[str, Any],
    workspace: Path,
) -> Iterator[Problem]:
    p = loaded.problem
    for index, env in enumerate(spec.get("envars") or []):
        key, sep, value = env.partition("=")
        if not sep or not names.ENV_NAME.match(key):
            yield p((*path, "envars", index), f"'{env}' is not KEY=value")
        elif any(ord(c) < 32 and c != "\t" for c in value):
            yield p((*path, "envars", index), "a value may not hold newlines or control characters")
    header = spec.get("header") or ""
    if any(line.strip() and not line.startswith("#") for line in header.splitlines()) or (
        "\r" in header
    ):
        yield p((*path, "header"), "every header line must be a comment starting with '#'")
    elif any(
        (m := names.DIRECTIVE.match(line)) and m.group(1).lower() == "escape"
        for line in header.splitlines()
    ):
        yield p(
            (*path, "header"),
            "an `# escape=` parser directive changes how every Dockerfile line is read; remove it",
        )
    prefix = spec.get("cuda_prefix_url")
    if prefix and (not names.URL_PATH.match(prefix) or ".." in prefix):
        yield p(
            (*path, "cuda_prefix_url"),
            f"'{prefix}' is not a repository name like ubuntu2404 (letters, digits, '.', '_', '-')",
        )
    for index, platform in enumerate(spec.get("platforms") or []):
        if not names.PLATFORM.match(platform):
            yield p((*path, "platforms", index), f"'{platform}' is not a platform like linux/arm64")
    if spec.get("add_to_tags") and not names.TAG_TEXT.match(spec["add_to_tags"]):
        yield p((*path, "add_to_tags"), "may hold only letters, digits, '_', '.' and '-'")
    if spec.get("base_image") and not names.IMAGE_REF.match(spec["base_image"]):
        yield p((*path, "base_image"), f"'{spec['base_image']}' is not an image reference")
    if spec.get("cuda_requires") and any(ord(c) < 32 for c in spec["cuda_requires"]):
        yield p((*path, "cuda_requires"), "may not hold newlines or control characters")
    if not used_by:
        return
    for key in ("templates_dir", "base_image", "add_to_tags"):
        if not spec.get(key):
            yield p(path, f"`{key}` must be set: packages build {sorted(used_by)} on it")
    yield from _check_templates(loaded, path, spec, used_by, types, workspace)
    cudas = resolve_cuda(spec, cuda_versions)
    # A release type is a CUDA one when it or a type it is built FROM is (as the plan reads it).
    needs_cuda = sorted(
        r for r in used_by if any(types.get(k, {}).get("cuda") for k in lineage(types, r))
    )
    if isinstance(cudas, str):
        yield p((*path, "cuda"), cudas)
    elif spec.get("cuda_prefix_url") and not cudas and needs_cuda:
        yield p((*path, "cuda"), "CUDA is on (cuda_prefix_url is set) but no CUDA version is given")
    elif needs_cuda and not spec.get("cuda_prefix_url"):
        yield p(
            path,
            f"has no CUDA (cuda_prefix_url is empty) but packages build {needs_cuda} on it; "
            "remove it from those lists or set cuda_prefix_url",
        )
    elif needs_cuda:
        platforms = spec.get("platforms") or loaded.data.get("platforms") or defaults()["platforms"]
        if not set(platforms) & set(CUDA_PLATFORMS):
            yield p(
                (*path, "platforms"),
                f"CUDA images build only for {' and '.join(CUDA_PLATFORMS)}, and this release's "
                f"platforms {platforms} have neither; packages build {needs_cuda} on it",
            )


def resolve_cuda(spec: dict[str, Any], cuda_versions: dict[str, Any]) -> list[str] | str:
    """The CUDA versions of a release, or a message saying why they cannot be found."""
    if not spec.get("cuda_prefix_url"):
        return []
    cuda = spec.get("cuda")
    if cuda is None:
        return []
    if isinstance(cuda, dict):
        matches = [v for v, comps in cuda_versions.items() if comps == cuda]
        if not matches:
            return (
                "these components match no entry of cuda_dependencies; "
                "merge one with <<: *anchor or name the version (cuda: 12.4.1)"
            )
        return matches[:1]
    wanted = [cuda] if isinstance(cuda, str) else list(cuda)
    missing = [v for v in wanted if v not in cuda_versions]
    if missing:
        known = sorted(cuda_versions)
        return f"CUDA version(s) {missing} not under cuda_dependencies (known: {known})"
    if len(set(wanted)) != len(wanted):
        return "a CUDA version is listed twice"
    return wanted


def _check_templates(
    loaded: Loaded,
    path: KeyPath,
    spec: dict[str, Any],
    used_by: set[str],
    types: dict[str, dict[str, Any]],
    workspace: Path,
) -> Iterator[Problem]:
    tdir = spec.get("templates_dir")
    if not tdir:
        return
    posix = PurePosixPath(tdir)
    if posix.is_absolute() or ".." in posix.parts or "\\" in tdir:
        yield loaded.problem(
            (*path, "templates_dir"), "must be a relative path inside the workspace, without '..'"
        )
        return
    folder = workspace / tdir
    if not folder.is_dir():
        yield loaded.problem(
            (*path, "templates_dir"), f"folder '{tdir}' not found in the workspace"
        )
        return
    needed: set[str] = set()
    for rtype in used_by:
        if rtype in types:  # an unknown release type is reported where a package names it
            needed.update(lineage(types, rtype))
    for rtype in sorted(needed):
        if not (folder / f"{rtype}.Dockerfile.j2").is_file():
            yield loaded.problem(
                (*path, "templates_dir"), f"template '{tdir}/{rtype}.Dockerfile.j2' not found"
            )
