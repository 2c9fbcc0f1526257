"""One multi-platform index per image from the per-platform digests, tagged with every tag bake
gives the image (VERSION and the only_if gates as set in the environment), then inspected.
Refuses an image, and fails, when any promised platform's digest is missing, and fails when the
published index does not hold exactly the promised platforms.

  IMAGES       space-separated `target=platform,platform` (the platforms promised)
  DIGESTS_DIR  the folder of `<target>@<platform slug>` files
"""

# The rest of this file is the step's script byte for byte, as the generated workflows hold
# it: its formatting stays as it is, and these findings are let pass.
# ruff: noqa: E401, I001
# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="var-annotated,assignment"
# fmt: off
# --- the workflow's step runs the rest of this file, as it is ---
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
