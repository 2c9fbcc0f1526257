"""A CUDA apt repository on loopback, laid out and signed as NVIDIA's (or an internal mirror's):
`<root>/<prefix>/<x86_64|sbsa>/` each holding dummy `.deb`s named as NVIDIA names them, a
`Packages` index, a `Release` signed into `InRelease` by a throwaway key, and that key (armored)
under the file name the templates fetch. Served over plain HTTP on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import subprocess
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

# NVIDIA's repository folders by Debian architecture.
FOLDERS = {"amd64": "x86_64", "arm64": "sbsa"}


@dataclass(frozen=True)
class Repository:
    root: Path  # served as http://127.0.0.1:<port>/
    gnupg: Path  # the signing key's home


def package_names(components: Mapping[str, str], cuda: str) -> dict[str, str]:
    """Package name -> version, as the Debian templates install a CUDA version's components:
    `cudart` is `cuda-cudart-12-6`, `cudnn9` is `libcudnn9-cuda-12`, the others `<name>-12-6`."""
    major, minor = cuda.split(".")[:2]
    out = {}
    for name, version in components.items():
        if name.startswith("cudnn"):
            out[f"lib{name}-cuda-{major}"] = version
        elif name == "cudart":
            out[f"cuda-cudart-{major}-{minor}"] = version
        else:
            out[f"{name}-{major}-{minor}"] = version
    return out


def other_major(name: str) -> str | None:
    """For a cuDNN package (`libcudnn9-cuda-12`), the same cuDNN for the CUDA major before it
    (`libcudnn9-cuda-11`), as NVIDIA's repositories hold both; None for other packages."""
    stem, sep, major = name.rpartition("-cuda-")
    return f"{stem}{sep}{int(major) - 1}" if sep and stem.startswith("libcudnn") else None


def newer(version: str) -> str:
    """A version apt would choose over `version` if nothing pinned it."""
    upstream, _, revision = version.rpartition("-")
    return f"{upstream}.999-{revision}" if upstream else version + ".999"


def _run(*cmd: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)}: {proc.stderr[-2000:]}"
    return proc.stdout


def make_key(home: Path) -> None:
    """A throwaway signing key in GnuPG home `home`."""
    home.mkdir(mode=0o700, parents=True)
    _run(
        *("gpg", "--batch", "--homedir", str(home), "--passphrase", ""),
        *("--quick-gen-key", "CUDA test repository <cuda@example.invalid>", "rsa3072", "sign"),
        "never",
    )


def _deb(folder: Path, name: str, version: str, arch: str) -> Path:
    """A dummy package: one file naming itself."""
    tree = folder / f".build-{name}-{version}-{arch}"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: {arch}\n"
        "Maintainer: CUDA test repository <cuda@example.invalid>\n"
        f"Description: stands for NVIDIA's {name}\n",
        encoding="utf-8",
    )
    doc = tree / "usr" / "share" / "doc" / name
    doc.mkdir(parents=True)
    (doc / "version").write_text(version + "\n", encoding="utf-8")
    deb = folder / f"{name}_{version}_{arch}.deb"
    _run("dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(tree), str(deb))
    subprocess.run(["rm", "-rf", str(tree)], check=True)
    return deb


def _stanza(deb: Path) -> str:
    control = _run("dpkg-deb", "--field", str(deb)).rstrip("\n")
    data = deb.read_bytes()
    return (
        f"{control}\nFilename: ./{deb.name}\nSize: {len(data)}\n"
        f"SHA256: {hashlib.sha256(data).hexdigest()}\n"
    )


def write_folder(folder: Path, arch: str, packages: Mapping[str, list[str]], gnupg: Path) -> None:
    """One architecture's flat repository: debs, Packages, Release, InRelease."""
    folder.mkdir(parents=True)
    debs = [_deb(folder, name, v, arch) for name, versions in packages.items() for v in versions]
    index = "\n".join(_stanza(d) for d in debs)
    (folder / "Packages").write_text(index, encoding="utf-8")
    body = index.encode()
    release = (
        f"Origin: CUDA test repository\nLabel: CUDA test repository\nArchitectures: {arch}\n"
        f"Date: {formatdate(usegmt=True)}\n"
        f"SHA256:\n {hashlib.sha256(body).hexdigest()} {len(body)} Packages\n"
    )
    (folder / "Release").write_text(release, encoding="utf-8")
    _run(
        *("gpg", "--batch", "--homedir", str(gnupg), "--yes", "--clearsign"),
        *("--output", str(folder / "InRelease"), str(folder / "Release")),
    )


def export_key(gnupg: Path, dest: Path) -> None:
    dest.write_text(_run("gpg", "--homedir", str(gnupg), "--armor", "--export"), encoding="utf-8")


def make_repository(
    root: Path,
    prefix: str,
    releases: Mapping[str, Mapping[str, str]],
    key_name: str = "3bf863cc.pub",
) -> Repository:
    """`root/prefix/<folder>/` for both architectures, with every CUDA version's packages at their
    pinned version and at a newer one, and its cuDNN for another CUDA major; the public key as
    `key_name` in each folder."""
    gnupg = root.parent / f"{root.name}-gnupg"
    make_key(gnupg)
    packages: dict[str, list[str]] = {}
    for cuda, components in releases.items():
        for name, version in package_names(components, cuda).items():
            packages.setdefault(name, []).extend([version, newer(version)])
            decoy = other_major(name)
            if decoy:
                packages.setdefault(decoy, []).append(version)
    unique = {name: sorted(set(versions)) for name, versions in packages.items()}
    for arch, folder in FOLDERS.items():
        write_folder(root / prefix / folder, arch, unique, gnupg)
        export_key(gnupg, root / prefix / folder / key_name)
    return Repository(root, gnupg)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No log lines on the test's output."""


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve `root` on 127.0.0.1 (a free port); yields its base URL."""
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
