"""Each pushed image's digest, from bake's metadata, as a file `<target>@<platform slug>`.

METADATA     the build's metadata (docker/bake-action's `metadata` output, JSON)
TARGETS      the image targets of this job, separated by commas or spaces
SLUG         the platform as a file name (linux-arm64)
DIGESTS_DIR  the folder the files go to (uploaded as an artifact)
"""

# The rest of this file is the step's script byte for byte, as the generated workflows hold
# it: its formatting stays as it is, and these findings are let pass.
# ruff: noqa: E401, I001
# fmt: off
# --- the workflow's step runs the rest of this file, as it is ---
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
