"""The scripts the generated GitHub Actions workflow runs, as text (`shell: python` steps).

They live here, not only inside the workflow, so that tests run the very same code against a
local engine and registry. Each reads its inputs from the environment and needs only Python 3 and
`docker buildx` on the runner.
"""

from __future__ import annotations

# What a build job builds (on a pull request, only what the change affects) and the bake
# settings it passes with --set: the platform, each target's output (its
# image pushed by digest to every repository its tags name, or, without pushing, the build
# cache only), and no cache export for the parents this job does not own.
#   TARGETS       the image targets of this job, separated by commas or spaces
#   PLATFORM      the one platform this job builds (linux/arm64)
#   PUSH          "true" to push
#   DROP_CACHE    space-separated targets whose cache another job writes
#   CACHE_READONLY "true": write no cache at all (registry cache without a login)
#   REPOSITORIES  space-separated image repositories the manifest names (pushes go nowhere else)
#   VERIFY        the verify targets of this job's images, separated by commas or spaces
#   ONLY_AFFECTED "true" (a pull request): build only the targets named in AFFECTED
#   AFFECTED      the targets `bakegen affected` names, separated by commas or spaces
#   GITHUB_OUTPUT where `set`, `targets` and `verify` (what to build) are written (default stdout)
BAKE_SETTINGS = r"""
import json, os, subprocess, sys

def names(variable):
    return os.environ.get(variable, "").replace(",", " ").split()

targets, verify = names("TARGETS"), names("VERIFY")
if os.environ.get("ONLY_AFFECTED") == "true":
    affected = set(names("AFFECTED"))
    skipped = [t for t in targets if t not in affected]
    targets = [t for t in targets if t in affected]
    verify = [t for t in verify if t in affected]
    if skipped:
        print("not affected by this change, not built: " + " ".join(skipped))
output = open(os.environ.get("GITHUB_OUTPUT") or "/dev/stdout", "a", encoding="utf-8")
output.write(f"targets={','.join(targets)}\nverify={','.join(verify)}\n")
if not targets:
    sys.exit(0)
push = os.environ.get("PUSH") == "true"
allowed = set(os.environ.get("REPOSITORIES", "").split())
printed = json.loads(
    subprocess.run(
        ["docker", "buildx", "bake", "--print", *targets],
        check=True, capture_output=True, text=True,
    ).stdout
)["target"]
lines = ["*.platform=" + os.environ["PLATFORM"]]
if os.environ.get("CACHE_READONLY") == "true":
    lines.append("*.cache-to=")
else:
    lines += [t + ".cache-to=" for t in os.environ.get("DROP_CACHE", "").split()]
failed = False
for target in targets:
    if not push:
        lines.append(target + ".output=type=cacheonly")
        continue
    repos = sorted({tag.rsplit(":", 1)[0] for tag in printed[target].get("tags") or []})
    stray = [r for r in repos if r not in allowed]
    if not repos or stray:
        print(
            f"::error::{target}: no registry to push to ({' '.join(stray) or 'no tags'}); "
            "set the secrets of a registry's only_if variable",
            file=sys.stderr,
        )
        failed = True
        continue
    lines.append(target + ".tags=")
    lines.append(
        f'{target}.output=type=image,"name={",".join(repos)}",'
        "push-by-digest=true,name-canonical=true,push=true"
    )
if failed:
    sys.exit(1)
output.write("set<<BAKEGEN_EOF\n" + "\n".join(lines) + "\nBAKEGEN_EOF\n")
"""

# Each pushed image's digest, from bake's metadata, as a file `<target>@<platform slug>`.
#   METADATA     the build's metadata (docker/bake-action's `metadata` output, JSON)
#   TARGETS      the image targets of this job, separated by commas or spaces
#   SLUG         the platform as a file name (linux-arm64)
#   DIGESTS_DIR  the folder the files go to (uploaded as an artifact)
EXPORT_DIGESTS = r"""
import json, os, pathlib, sys

metadata = json.loads(os.environ["METADATA"])
folder = pathlib.Path(os.environ["DIGESTS_DIR"])
folder.mkdir(parents=True, exist_ok=True)
for target in os.environ["TARGETS"].replace(",", " ").split():
    digest = (metadata.get(target) or {}).get("containerimage.digest")
    if not digest:
        sys.exit(f"::error::{target}: the build reported no digest")
    (folder / f"{target}@{os.environ['SLUG']}").write_text(digest + "\n", encoding="utf-8")
    print(f"{target} {os.environ['SLUG']}: {digest}")
"""

# One multi-platform index per image from the per-platform digests, tagged with every tag bake
# gives the image (VERSION and the only_if gates as set in the environment), then inspected.
# Refuses an image, and fails, when any promised platform's digest is missing, and fails when
# the published index does not hold exactly the promised platforms.
#   IMAGES       space-separated `target=platform,platform` (the platforms promised)
#   DIGESTS_DIR  the folder of `<target>@<platform slug>` files
MERGE = r"""
import json, os, pathlib, subprocess, sys

def run(*cmd):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout

folder = pathlib.Path(os.environ["DIGESTS_DIR"])
images = {}
for item in os.environ["IMAGES"].split():
    target, _, platforms = item.partition("=")
    images[target] = platforms.split(",")
missing = []
digests = {}
for target, platforms in images.items():
    for platform in platforms:
        found = folder / f"{target}@{platform.replace('/', '-')}"
        if found.is_file():
            digests.setdefault(target, []).append(found.read_text(encoding="utf-8").strip())
        else:
            missing.append(f"{target} {platform}")
if missing:
    for item in missing:
        print(f"::error::{item}: no digest; refusing to publish an image without it", file=sys.stderr)
    sys.exit(1)
printed = json.loads(run("docker", "buildx", "bake", "--print", *images))["target"]
failed = False
for target, platforms in images.items():
    tags = printed[target].get("tags") or []
    if not tags:
        sys.exit(f"::error::{target}: bake gives it no tag")
    by_repo = {}
    for tag in tags:
        by_repo.setdefault(tag.rsplit(":", 1)[0], []).append(tag)
    for repo, repo_tags in sorted(by_repo.items()):
        cmd = ["docker", "buildx", "imagetools", "create"]
        for tag in repo_tags:
            cmd += ["--tag", tag]
        run(*cmd, *(f"{repo}@{d}" for d in digests[target]))
    for tag in tags:
        index = json.loads(run("docker", "buildx", "imagetools", "inspect", "--raw", tag))
        got = sorted(
            "/".join(p for p in (m["platform"]["os"], m["platform"]["architecture"], m["platform"].get("variant")) if p)
            for m in index.get("manifests", [])
            if m.get("platform", {}).get("os") not in (None, "unknown")
        )
        if got != sorted(platforms):
            print(f"::error::{tag}: holds {got}, promised {sorted(platforms)}", file=sys.stderr)
            failed = True
        else:
            print(f"{tag}: {', '.join(got)}")
sys.exit(1 if failed else 0)
"""
