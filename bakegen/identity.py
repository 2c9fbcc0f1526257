"""What a render's result depends on besides the workspace: bakegen's own code and resources, the
Python that runs it, and the libraries that make its outputs, down to every file they install.

A render's state and the compiled templates are kept under `code_digest()`: a changed bakegen,
another Python, a library upgraded, installed beside the others or patched in place (one file
of Jinja's edited) renders again. It is worked out at every render, so it must be cheap: the
libraries are found from the listings of the import path's folders (importing
`importlib.metadata` would cost a fifth of an unchanged render), and their files known by the
list each installer keeps (a `*.dist-info/RECORD`) and the status of every file on it (size,
modification and change times, inode), not by reading them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from bakegen import __version__

_PACKAGE = Path(__file__).resolve().parent
_METADATA = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+?)(?:-py[^-]*)?\.(?:dist|egg)-info$")

# The distributions whose code makes a render's outputs and messages: the YAML reader, Jinja
# (and MarkupSafe, which it renders through), and jsonschema with what it requires (it words
# a manifest's schema errors). tests/unit/test_identity.py holds this to what bakegen's modules
# import. typer, click and rich only read the command line and print: a render's options are
# in its key and its messages are kept as text, so they do not change what is kept.
RENDER_LIBRARIES = (
    "pyyaml",
    "jinja2",
    "markupsafe",
    "jsonschema",
    "jsonschema-specifications",
    "referencing",
    "rpds-py",
    "attrs",
    "typing-extensions",
)


def normalized(name: str) -> str:
    """A distribution's name as the packaging rules compare it."""
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def installed() -> dict[str, tuple[str, str]]:
    """Every distribution installed where this Python imports from (the first of each name on
    the import path, as the import system finds it), by normalized name: its version and the
    path of its metadata folder (`*.dist-info`, or an older installer's `*.egg-info`)."""
    found: dict[str, tuple[str, str]] = {}
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in sorted(names):
            match = _METADATA.match(name)
            if match:
                where = os.path.join(folder or ".", name)
                found.setdefault(normalized(match["name"]), (match["version"], where))
    return found


def libraries() -> dict[str, str]:
    """Every installed distribution's version, by normalized name (what `importlib.metadata`
    reports: tests/unit/test_fingerprint.py holds them to it)."""
    return {name: version for name, (version, _) in installed().items()}


def _record(metadata: str) -> Iterator[str]:
    """The files a distribution installed, as its installer listed them (absolute paths): the
    RECORD of a `*.dist-info`, the installed-files.txt of an `*.egg-info`; else every file
    under the packages its top_level.txt names."""
    site = os.path.dirname(metadata)
    for listing, base in (("RECORD", site), ("installed-files.txt", metadata)):
        try:
            with open(os.path.join(metadata, listing), encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except (OSError, ValueError):
            continue
        for line in lines:
            path = line.rsplit(",", 2)[0] if listing == "RECORD" else line
            if path.startswith('"') and path.endswith('"'):  # quoted: it holds a comma
                path = path[1:-1].replace('""', '"')
            if path:
                yield os.path.normpath(os.path.join(base, path))
        return
    yield from _top_level(metadata, site)


def _top_level(metadata: str, site: str) -> Iterator[str]:
    yield metadata
    try:
        with open(os.path.join(metadata, "top_level.txt"), encoding="utf-8") as handle:
            tops = handle.read().split()
    except (OSError, ValueError):
        return
    for top in tops:
        for folder, _, files in os.walk(os.path.join(site, top)):
            yield from (os.path.join(folder, name) for name in files)
        yield os.path.join(site, top + ".py")


def _status(path: str) -> str:
    try:
        info = os.stat(path)
    except OSError:
        return "-"
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"


def library_files() -> dict[str, str]:
    """Every file of the installed RENDER_LIBRARIES, by path, with its status (size, times,
    inode; '-' when it cannot be looked at)."""
    found: dict[str, str] = {}
    have = installed()
    for name in RENDER_LIBRARIES:
        if name in have:
            for path in _record(have[name][1]):
                found[path] = _status(path)
    return found


@functools.cache
def code_digest() -> str:
    """bakegen's own code and resources (their bytes), the Python that runs it, every installed
    distribution's name and version, and every file of the libraries that make the outputs."""
    python = f"{sys.implementation.name} {sys.version} {sys.implementation.cache_tag}"
    h = hashlib.sha256(f"{__version__}\0{python}\0".encode())
    h.update(json.dumps(sorted(libraries().items())).encode())
    h.update(json.dumps(sorted(library_files().items())).encode())
    for folder, folders, files in os.walk(_PACKAGE):
        folders[:] = sorted(name for name in folders if name != "__pycache__")
        for name in sorted(files):
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                data = handle.read()
            h.update(os.path.relpath(path, _PACKAGE).encode() + b"\0" + data)
    return h.hexdigest()
