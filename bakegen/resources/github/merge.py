"""One multi-platform index per image from its per-platform images in staging, tagged with every
tag bake gives the image (VERSION and the only_if gates as set in the environment) and the tags
read from the image, then inspected; per-platform tags point at one platform's image.

An image is refused, and nothing of it is published, when a promised platform's image is
missing, when a gate refused it (`<target>.refused`), when tags were to be read from it and
were not (`<target>.tags` missing), or when a tag names a repository the manifest does not. The
step fails when any image was refused or a published index does not hold exactly the promised
platforms; the other images of the job are published.

  IMAGES         space-separated `target=platform,platform` (the platforms promised)
  DIGESTS_DIR    the folder of `<target>@<platform slug>` files (a staging reference each), and
                 of `<target>.tags` (tags read from the image) and `<target>.refused` files
  REPOSITORIES   space-separated repositories the manifest names (tags go nowhere else)
  IMAGE_TAGS     JSON: the targets whose tags are read from the image (`<target>.tags` needed)
  PLATFORM_TAGS  JSON: target -> platform -> tag template with {tag}
Each published repository's index is written to `<target>.published`: `REPO@sha256:...` lines.
"""

# The rest of this file is the step's script byte for byte, as the generated workflows hold
# it: its formatting stays as it is, and these findings are let pass.
# ruff: noqa: E401, I001
# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="var-annotated,assignment"
# fmt: off
# --- the workflow's step runs the rest of this file, as it is ---
import hashlib, json, os, pathlib, subprocess, sys, time

def run(*cmd, tries=3):
    """A command's output; registries fail now and then: tried again twice, then an error."""
    for attempt in range(1, tries + 1):
        print("+", " ".join(cmd), flush=True)
        proc = subprocess.run(cmd, check=False, capture_output=True)
        if proc.returncode == 0:
            return proc.stdout
        said = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        print(f"exit {proc.returncode} (try {attempt} of {tries}): " + " / ".join(said), file=sys.stderr, flush=True)
        time.sleep(2 * attempt)
    sys.exit(f"::error::{cmd[0]} {' '.join(cmd[1:4])}: failed {tries} times")

env = os.environ
folder = pathlib.Path(env["DIGESTS_DIR"])
allowed = set(env.get("REPOSITORIES", "").split())
from_image = set(json.loads(env.get("IMAGE_TAGS") or "{}"))
platform_tags = json.loads(env.get("PLATFORM_TAGS") or "{}")
images = {}
for item in env["IMAGES"].split():
    target, _, platforms = item.partition("=")
    images[target] = platforms.split(",")
printed = json.loads(run("docker", "buildx", "bake", "--print", *images))["target"]
failures = []

def refuse(target, why):
    print(f"::error::{target}: {why}; refusing to publish it", file=sys.stderr)
    failures.append(target)

def sources(target, platforms):
    """The staging reference of each promised platform, or None (refused) when one is missing."""
    found, missing = {}, []
    for platform in platforms:
        file = folder / f"{target}@{platform.replace('/', '-')}"
        if file.is_file():
            found[platform] = file.read_text(encoding="utf-8").split()[0]
        else:
            missing.append(platform)
    if missing:
        refuse(target, f"no image for {', '.join(missing)}")
    elif (folder / f"{target}.refused").is_file():
        refuse(target, "a gate refused it: " + (folder / f"{target}.refused").read_text(encoding="utf-8").strip())
    elif target in from_image and not (folder / f"{target}.tags").is_file():
        refuse(target, "its tags read from the image are missing")
    else:
        return found
    return None

def index_platforms(tag):
    raw = run("docker", "buildx", "imagetools", "inspect", "--raw", tag)
    index = json.loads(raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest(), sorted(
        "/".join(p for p in (m["platform"]["os"], m["platform"]["architecture"], m["platform"].get("variant")) if p)
        for m in index.get("manifests", [])
        if m.get("platform", {}).get("os") not in (None, "unknown")
    )

def per_platform(target, repo, repo_tags, refs):
    """The per-platform tags of one repository's tags: each names one platform's image."""
    for platform, template in sorted((platform_tags.get(target) or {}).items()):
        if platform not in refs:
            continue  # the image is not built for it: no tag for it
        for tag in repo_tags:
            one = repo + ":" + template.replace("{tag}", tag.rsplit(":", 1)[1])
            run("docker", "buildx", "imagetools", "create", "--tag", one, refs[platform])
            print(f"{one}: {platform} only")

def publish(target, platforms, refs):
    tags = list(printed[target].get("tags") or [])
    extra = folder / f"{target}.tags"
    if extra.is_file():
        repos = sorted({t.rsplit(":", 1)[0] for t in tags})
        tags += [f"{r}:{line.strip()}" for line in extra.read_text(encoding="utf-8").splitlines() if line.strip() for r in repos]
    by_repo = {}
    for tag in tags:
        by_repo.setdefault(tag.rsplit(":", 1)[0], []).append(tag)
    stray = sorted(r for r in by_repo if r not in allowed)
    if not tags or stray:
        refuse(target, f"no registry to push to ({' '.join(stray) or 'no tags'}); set the secrets of a registry's only_if variable")
        return
    published = []
    for repo, repo_tags in sorted(by_repo.items()):
        cmd = ["docker", "buildx", "imagetools", "create"]
        for tag in repo_tags:
            cmd += ["--tag", tag]
        run(*cmd, *(refs[p] for p in platforms))
        for tag in repo_tags:
            digest, got = index_platforms(tag)
            if got != sorted(platforms):
                print(f"::error::{tag}: holds {got}, promised {sorted(platforms)}", file=sys.stderr)
                failures.append(target)
            else:
                print(f"{tag}: {', '.join(got)} ({digest})")
        published.append(f"{repo}@{digest}")
        per_platform(target, repo, repo_tags, refs)
    (folder / f"{target}.published").write_text("".join(p + "\n" for p in published), encoding="utf-8")

for target, platforms in images.items():
    refs = sources(target, platforms)
    if refs is not None:
        publish(target, platforms, refs)
sys.exit(1 if failures else 0)
