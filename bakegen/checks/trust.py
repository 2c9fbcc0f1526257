"""The rules of `signing:` and `gates:` that the schema cannot state: a key pair where keyless
signing is turned off, a package's `signing` only beside a top-level one, gate names once per
list, `disabled` naming a gate of a level above, gates only where images are pushed."""

from __future__ import annotations

from collections.abc import Iterator

from bakegen.errors import Problem
from bakegen.manifest.records import Manifest, Package
from bakegen.manifest.trust import Gate


def trust_problems(m: Manifest) -> list[Problem]:
    return [*_signing_problems(m), *_gate_problems(m)]


def _signing_problems(m: Manifest) -> Iterator[Problem]:
    signing = m.signing
    if signing is not None and signing.key is None and not signing.keyless:
        yield m.problem(
            (*signing.path, "keyless"),
            "keyless: false needs `key`, the GitHub secret holding cosign's private key",
        )
    if signing is not None and signing.key is None and not signing.tlog:
        yield m.problem(
            (*signing.path, "tlog"),
            "keyless signatures are always logged: `tlog: false` needs `key`",
        )
    if signing is None:
        for package in m.packages.values():
            own = package.signing_from
            if package.signing is not None and own and own[: len(package.path)] == package.path:
                yield m.problem(
                    own, "read only with a top-level `signing` (e.g. `signing: cosign`)"
                )


def _gate_problems(m: Manifest) -> Iterator[Problem]:
    top = {g.name for g in m.gates}
    yield from _list_problems(m, m.gates, set(), "the top level has no level above it")
    for rt in m.release_types.values():
        yield from _list_problems(m, rt.gates, top, "the top-level `gates` has none of that name")
        if rt.gates and not rt.push:
            yield m.problem(
                (*rt.path, "gates"),
                f"release type '{rt.name}' is not pushed: gates run only on pushed images",
            )
    above = top | {g.name for rt in m.release_types.values() for g in rt.gates}
    for package in m.packages.values():
        owner = m.packages.get(package.owner) if package.variant is not None else None
        inherited = {g.name for g in owner.gates} if owner else set()
        nowhere = "neither the top-level nor a release type's" + (
            " nor its package's" if owner else ""
        )
        yield from _list_problems(
            m, _own_gates(package), above | inherited, f"{nowhere} `gates` has one of that name"
        )


def _own_gates(package: Package) -> tuple[Gate, ...]:
    """The gates a package (or variant) lists itself, not those a variant inherits."""
    n = len(package.path)
    return tuple(g for g in package.gates if g.path[:n] == package.path)


def _list_problems(
    m: Manifest, gates: tuple[Gate, ...], above: set[str], nowhere: str
) -> Iterator[Problem]:
    seen: set[str] = set()
    for gate in gates:
        if gate.name in seen:
            yield m.problem(
                (*gate.path, "name"), f"gate '{gate.name}' is listed twice here; keep one"
            )
        seen.add(gate.name)
        if gate.run is None and gate.disabled is False:
            yield m.problem(
                (*gate.path, "disabled"),
                "`disabled: false` turns nothing off: give `run`, or `disabled: true`",
            )
        elif gate.disabled and gate.run is None and gate.name not in above:
            yield m.problem(
                (*gate.path, "disabled"),
                f"no gate '{gate.name}' to turn off: {nowhere}",
            )
