"""Check stage: the values of the manifest's `bake:` attributes that have a grammar, read as
buildx reads them, so that a value bake would refuse is a line at its place in the manifest
instead of a bake file that `docker buildx bake` refuses later.

- read when bake loads the file (`--print` refuses them): `shm-size` (a size, as docker's
  MemBytes), `ulimits` (`name=soft[:hard]`, as docker's ulimit option), `annotations`
  (`[type[platform],...:]key=value`), `attest`, `output`, `cache-from` and `cache-to` (CSV
  entries of `key=value` fields with a type, or a bare destination or cache image);
- read when bake builds: `call` (a method, with `format=` and `ignorestatus=`), `network`
  (`default`, `host` or `none`), `entitlements` (BuildKit's: `network.host`,
  `security.insecure`, `device`), and `extra-hosts` (a host name without `=`, and IP
  addresses or `host-gateway`).

The names a `contexts` value gives as `target:NAME` are checked against the bake file itself
(checks/bake_file.py); `ssh` depends on the environment bake runs in, so only bake knows it.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterator

from bakegen.errors import Problem
from bakegen.manifest.platforms import normalize_platform
from bakegen.manifest.records import Manifest
from bakegen.manifest.values import BakeSetting

# A value -> what is wrong with it (and what to write), or None.
Check = Callable[[str], str | None]

_BOOL = {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"}
_DIGITS = r"[0-9](?:_?[0-9])*"  # Go's literals: `_` between digits
_FLOAT = re.compile(
    rf"[+-]?(?:(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?"
    r"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+)\Z"
)
_INT64 = re.compile(r"[+-]?[0-9]+\Z")
ULIMITS = (
    "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
    "rss", "rtprio", "rttime", "sigpending", "stack",
)  # fmt: skip
# containerd's names of operating systems and architectures (platforms.Parse of one word).
KNOWN_OSES = (
    "aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux",
    "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos",
)  # fmt: skip
KNOWN_ARCHITECTURES = (
    "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "loong64", "mips",
    "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "ppc64", "ppc64le",
    "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm",
)  # fmt: skip
ANNOTATION_TYPES = ("index", "index-descriptor", "manifest", "manifest-descriptor")
_ANNOTATION_TYPE = re.compile(r"([a-z-]+)(?:\[([A-Za-z0-9_/-]+)\])?\Z")
CALLS = ("build", "check", "lint", "outline", "targets")
NETWORKS = ("", "default", "host", "none")
ENTITLEMENTS = ("network.host", "security.insecure", "device")
HOST_GATEWAY = "host-gateway"


_FIELD = re.compile(r'"((?:[^"]|"")*)"(?=,|\Z)|([^,"]*)(?=,|\Z)')


def csv_fields(text: str) -> list[str] | None:
    """The fields of one CSV record as buildx reads one (Go's encoding/csv: quotes only around
    a whole field, `""` inside them), or None when `text` is none."""
    if text.endswith("\n"):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    if not text:
        return None
    fields: list[str] = []
    at = 0
    while True:
        found = _FIELD.match(text, at)
        if found is None:
            return None
        quoted, bare = found.groups()
        fields.append(quoted.replace('""', '"') if quoted is not None else bare)
        at = found.end()
        if at == len(text):
            return fields
        at += 1  # the comma


def _size(value: str) -> str | None:
    """docker's MemBytes: a number, a space at most, then b, k, m, g, t or p (and b or ib)."""
    sep = max(value.rfind(c) for c in "0123456789. ")
    number, suffix = value[: sep + 1], value[sep + 1 :].lower()
    if sep >= 0 and value[sep] == " ":
        number = value[:sep]
    ok_suffix = suffix in ("", "b") or (
        suffix[:1] in tuple("kmgtp") and suffix[1:] in ("", "b", "ib")
    )
    amount = _float(number) if sep >= 0 else None
    if ok_suffix and amount is not None and not amount < 0:
        return None
    return f"'{value}' is not a size: write a number and a unit, e.g. 2g, 512m or 1024k"


def _float(number: str) -> float | None:
    """`number` as Go's ParseFloat reads it (finite), or None."""
    if not _FLOAT.match(number):
        return None
    try:
        amount = float.fromhex(number) if "x" in number.lower() else float(number)
    except (ValueError, OverflowError):
        return None
    return amount if math.isfinite(amount) else None


def _int64(text: str) -> bool:
    return bool(_INT64.match(text)) and -(2**63) <= int(text) < 2**63


def _ulimit(value: str) -> str | None:
    name, sep, limits = value.partition("=")
    if not sep:
        return f"'{value}' is not a ulimit: write name=soft[:hard], e.g. nofile=65536:65536"
    if name not in ULIMITS:
        return f"'{name}' is not a ulimit name (they are: {', '.join(ULIMITS)})"
    parts = limits.split(":")
    if len(parts) > 2 or not all(_int64(p) for p in parts):
        return f"'{value}': the limits are soft[:hard], whole numbers (-1: unlimited)"
    soft, hard = int(parts[0]), int(parts[-1])
    if hard != -1 and (soft == -1 or soft > hard):
        return f"'{value}': the soft limit may not be more than the hard one"
    return None


def _annotation(value: str) -> str | None:
    key, sep, _ = value.partition("=")
    if not sep:
        return f"'{value}' is not an annotation: write key=value, e.g. index:org.example.x=y"
    kinds, colon, _ = key.partition(":")
    if not colon:
        return None
    for kind in kinds.split(","):
        found = _ANNOTATION_TYPE.match(kind)
        if found is None or found.group(1) not in ANNOTATION_TYPES:
            return (
                f"'{kind}' is not an annotation type: write {', '.join(ANNOTATION_TYPES)}, "
                "each with an optional [platform], before the ':'"
            )
        platform = found.group(2)
        if platform is not None and not _platform_specifier(platform):
            return f"'{platform}' in '{kind}' is not a platform like linux/amd64"
    return None


def _platform_specifier(text: str) -> bool:
    """A platform containerd parses: os/arch[/variant]; alone, a known os or architecture."""
    parts = text.split("/")
    if not all(parts) or len(parts) > 3:
        return False
    if len(parts) > 1:
        return True
    arch = normalize_platform(f"linux/{parts[0].lower()}").split("/")[1]
    return parts[0].lower() in KNOWN_OSES or arch in KNOWN_ARCHITECTURES


def _key_values(value: str, what: str) -> tuple[dict[str, str], str | None]:
    """A CSV entry's `key=value` fields, lower-cased keys; or what is wrong with it."""
    fields = csv_fields(value)
    if fields is None:
        return {}, f"'{value}' is not {what}: write comma-separated key=value fields"
    found: dict[str, str] = {}
    for field in fields:
        key, sep, text = field.partition("=")
        if not sep and field == value:
            return {}, f"'{value}' is not {what}: write comma-separated key=value fields"
        if not sep:
            return {}, f"'{field}' in '{value}' is not key=value"
        found[key.strip().lower()] = text
    return found, None


def _attest(value: str) -> str | None:
    if not value:
        return None  # bake leaves it out
    found, wrong = _key_values(value, "an attestation")
    if wrong:
        return wrong
    if not found.get("type"):
        return f"'{value}': an attestation needs its type, e.g. type=sbom"
    if "disabled" in found and found["disabled"] not in _BOOL:
        return f"'{value}': disabled is true or false"
    return None


def _output(value: str) -> str | None:
    if not value:
        return None  # bake leaves it out
    if csv_fields(value) == [value] and not value.startswith("type="):
        return None  # a folder to write the result to (`-`: a tar on standard output)
    found, wrong = _key_values(value, "an output")
    if wrong:
        return wrong
    return None if found.get("type") else f"'{value}': an output needs its type, e.g. type=docker"


def _cache(value: str) -> str | None:
    if not value:
        return None  # bake leaves it out
    if "=" not in value:  # cache images, comma-separated
        fields = csv_fields(value) or [""]
        if all(f and csv_fields(f) == [f] for f in fields):
            return None
        return f"'{value}' is not a cache image (or several, comma-separated)"
    found, wrong = _key_values(value, "a cache entry")
    if wrong:
        return wrong
    return None if found.get("type") else f"'{value}': a cache entry needs its type, e.g. type=gha"


def _call(value: str) -> str | None:
    fields = csv_fields(value)
    if fields is None:
        return f"'{value}' is not a method: write one of {', '.join(CALLS)}"
    names = [f for f in fields if "=" not in f]
    for field in fields:
        key, sep, text = field.partition("=")
        if sep and key not in ("format", "ignorestatus"):
            return f"'{field}' in '{value}': the options of a method are format= and ignorestatus="
        if key == "ignorestatus" and sep and text not in _BOOL:
            return f"'{field}' in '{value}': ignorestatus is true or false"
    if len(names) != 1 or names[0] not in CALLS:
        return f"'{value}' is not a method: write one of {', '.join(CALLS)}"
    return None


def _network(value: str) -> str | None:
    if value in NETWORKS:
        return None
    return f"'{value}' is not a network mode bake knows: write default, host or none"


def _entitlement(value: str) -> str | None:
    name, _, rest = value.partition("=")
    if name in ENTITLEMENTS and (name != "device" or not rest or _device(rest)):
        return None
    return (
        f"'{value}' is not an entitlement of a build: write network.host, security.insecure "
        "or device[=NAME]"
    )


def _device(config: str) -> bool:
    """BuildKit's device entitlement: a device name, then `alias=` at most."""
    fields = csv_fields(config)
    return fields is not None and all(
        f.partition("=")[0] == "alias" and "=" in f for f in fields[1:]
    )


def _extra_host(key: str, value: str) -> str | None:
    if "=" in key:
        return f"host name '{key}' may not hold '='"
    if value == HOST_GATEWAY:
        return None
    for address in value.split(","):
        bare = address[1:-1] if len(address) > 2 and address[0] + address[-1] == "[]" else address
        if "%" in bare or not _ip(bare):
            return f"'{address}' is not an IP address (or {HOST_GATEWAY}); list several with ','"
    return None


def _ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# Attribute -> the check of its value (a string attribute) or of each item (a list attribute).
STRINGS: dict[str, Check] = {"shm-size": _size, "call": _call, "network": _network}
ITEMS: dict[str, Check] = {
    "ulimits": _ulimit,
    "annotations": _annotation,
    "attest": _attest,
    "output": _output,
    "cache-from": _cache,
    "cache-to": _cache,
    "entitlements": _entitlement,
}


def every_setting(m: Manifest) -> Iterator[BakeSetting]:
    """Every value the manifest's `bake:` keys give, at each level that gives one."""
    for level in (
        m.bake,
        *(rt.bake for rt in m.release_types.values()),
        *(p.bake for p in m.packages.values()),
        *(r.bake for r in m.releases),
    ):
        yield from level


def value_problems(m: Manifest) -> Iterator[Problem]:
    """Each `bake:` value that bake would refuse, at its place."""
    for setting in every_setting(m):
        value = setting.value
        if setting.attribute in STRINGS and isinstance(value, str):
            said = STRINGS[setting.attribute](value)
            if said:
                yield m.problem(setting.path, said)
        elif setting.attribute in ITEMS and isinstance(value, tuple):
            for index, item in enumerate(value):
                said = ITEMS[setting.attribute](item)
                if said:
                    yield m.problem((*setting.path, index), said)
        elif setting.attribute == "extra-hosts" and setting.key is not None:
            said = _extra_host(setting.key, str(value))
            if said:
                yield m.problem(setting.path, said)
