"""The manifest's gates, run against each pushed per-platform image before any tag exists. Each
gate's `run` is a bash command, run in the workspace with the step's environment and:

  IMAGE_REF       the image in staging by digest, REGISTRY/REPO@sha256:...
  IMAGE_DIGEST    its digest, sha256:...
  IMAGE_TARGET    its bake target
  IMAGE_PLATFORM  its platform, linux/arm64

A gate exiting non-zero refuses its image: `::error::TARGET PLATFORM DIGEST: gate NAME failed
(exit N)`, and a line naming the gate and the digest in `DIGESTS_DIR/<target>.refused`, which
the publish step reads (it publishes no refused image, and fails). Every gate of every image
runs, whatever the others did; this step itself exits 0. A platform without a digest file is
left to the publish step, which refuses the image for it.

  GATES        JSON: target -> [{"name": ..., "run": ...}] (targets not in IMAGES are skipped)
  IMAGES       space-separated `target=platform,platform`
  DIGESTS_DIR  the folder of `<target>@<platform slug>` files, whose first line is IMAGE_REF
"""

# The rest of this file is the step's script byte for byte, as the generated workflows hold
# it: its formatting stays as it is, and these findings are let pass.
# ruff: noqa: E401, I001
# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="var-annotated,assignment"
# fmt: off
# --- the workflow's step runs the rest of this file, as it is ---
import json, os, pathlib, subprocess, sys

folder = pathlib.Path(os.environ["DIGESTS_DIR"])
gates = json.loads(os.environ.get("GATES") or "{}")
refused = 0
for item in os.environ["IMAGES"].split():
    target, _, platforms = item.partition("=")
    for platform in platforms.split(","):
        found = folder / f"{target}@{platform.replace('/', '-')}"
        if not gates.get(target) or not found.is_file():
            continue
        ref = found.read_text(encoding="utf-8").splitlines()[0].strip()
        digest = ref.rpartition("@")[2]
        env = {**os.environ, "IMAGE_REF": ref, "IMAGE_DIGEST": digest,
               "IMAGE_TARGET": target, "IMAGE_PLATFORM": platform}
        for gate in gates[target]:
            print(f"::group::{target} {platform}: gate {gate['name']}", flush=True)
            code = subprocess.run(["bash", "-c", gate["run"]], env=env, check=False).returncode
            print("::endgroup::", flush=True)
            if code != 0:
                refused += 1
                print(f"::error::{target} {platform} {digest}: gate {gate['name']} failed (exit {code})", flush=True)
                with open(folder / f"{target}.refused", "a", encoding="utf-8") as out:
                    out.write(f"gate {gate['name']} refused {ref} ({platform}, exit {code})\n")
            else:
                print(f"{target} {platform} {digest}: gate {gate['name']} passed", flush=True)
print(f"gates: {refused} refusal(s)" if refused else "gates: every image passed", flush=True)
sys.exit(0)
