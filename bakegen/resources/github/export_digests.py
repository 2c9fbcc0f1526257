"""Each image a build built, as a file `<target>@<platform slug>` whose line is its reference:
`<staging>@<digest>` when pushed, `oci-layout://<target>@<digest>` (a folder of OCI_DIR) on a
pull request. The files of reused images were written by the bake settings' step already.

METADATA     the build's metadata (docker/bake-action's `metadata` output, JSON)
TARGETS      the image targets built, separated by commas or spaces
SLUG         the platform as a file name (linux-arm64)
PUSH         "true" when the images were pushed to STAGING
STAGING      the staging repository
CHILDREN     space-separated targets some image of a later wave is built FROM
DIGESTS_DIR  the folder the files go to (uploaded as an artifact)
"""

# The rest of this file is the step's script byte for byte, as the generated workflows hold
# it: its formatting stays as it is, and these findings are let pass.
# ruff: noqa: E401, I001
# fmt: off
# --- the workflow's step runs the rest of this file, as it is ---
import json, os, pathlib, sys

env = os.environ
metadata = json.loads(env.get("METADATA") or "{}")
folder = pathlib.Path(env["DIGESTS_DIR"])
folder.mkdir(parents=True, exist_ok=True)
children = set(env.get("CHILDREN", "").split())
for target in env.get("TARGETS", "").replace(",", " ").split():
    push = env.get("PUSH") == "true"
    if not push and target not in children:
        continue  # built to the cache only: nothing is built FROM it
    digest = (metadata.get(target) or {}).get("containerimage.digest")
    if not digest:
        sys.exit(f"::error::{target}: the build reported no digest")
    reference = f"{env['STAGING'].lower()}@{digest}" if push else f"oci-layout://{target}@{digest}"
    (folder / f"{target}@{env['SLUG']}").write_text(reference + "\n", encoding="utf-8")
    print(f"{target} {env['SLUG']}: {reference}")
