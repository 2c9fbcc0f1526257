"""What a build job builds (on a pull request, only what the change affects) and the bake
settings it passes with --set: the platform, each target's output (its image pushed by digest to
every repository its tags name, or, without pushing, the build cache only), and no cache export
for the parents this job does not own.

  TARGETS        the image targets of this job, separated by commas or spaces
  PLATFORM       the one platform this job builds (linux/arm64)
  PUSH           "true" to push
  DROP_CACHE     space-separated targets whose cache another job writes
  CACHE_READONLY "true": write no cache at all (registry cache without a login)
  REPOSITORIES   space-separated image repositories the manifest names (pushes go nowhere else)
  VERIFY         the verify targets of this job's images, separated by commas or spaces
  ONLY_AFFECTED  "true" (a pull request): build only the targets named in AFFECTED
  AFFECTED       the targets `bakegen affected` names, separated by commas or spaces
  GITHUB_OUTPUT  where `set`, `targets` and `verify` (what to build) are written (default stdout)
"""

# The rest of this file is the step's script byte for byte, as the generated workflows hold
# it: its formatting stays as it is, and these findings are let pass.
# ruff: noqa: E401, I001, SIM115
# mypy: allow-untyped-defs, allow-untyped-calls
# fmt: off
# --- the workflow's step runs the rest of this file, as it is ---
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
