"""The tags read from each built image (`tags_from_image`): every command runs in the image for
its first promised platform (`docker run --rm --platform P --entrypoint sh REF -c RUN`), and
its output, stripped, is `{output}` in its tag. Writes `<target>.tags` (one tag a line, without
a repository) into DIGESTS_DIR for each image whose every command gave a tag; an image with a
command that exits non-zero, prints nothing or prints what makes no valid tag gets no `.tags`
file, and the merge refuses to publish an image that IMAGE_TAGS names without one. Tries every
image, then fails when any failed.

  IMAGE_TAGS   JSON: target -> [{"tag", "run"}] (bakegen.github.image_tags.image_tag_commands);
               a tag holds `{output}`, and `${NAME}` or `${NAME:-default}` for a bake variable:
               the environment's NAME when non-empty, else the default; a tag left with an
               empty variable is not given (as bake leaves out a tag whose variable is empty)
  IMAGES       space-separated `target=platform,platform` (the images of this merge job)
  DIGESTS_DIR  the folder of `<target>@<platform slug>` files (slug: the platform with '/' as
               '-'), each holding on its first line the image reference to run
"""

# The rest of this file is the step's script byte for byte, as the generated workflows hold
# it: its formatting stays as it is, and these findings are let pass.
# ruff: noqa: E401, I001
# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="var-annotated"
# fmt: off
# --- the workflow's step runs the rest of this file, as it is ---
import json, os, pathlib, re, shlex, subprocess, sys

TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

def error(target, tag, why):
    text = f"{target}: tags_from_image '{tag}': {why}"
    print("::error::" + text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"), file=sys.stderr)

def tail(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()][-5:]
    return (": " + " | ".join(lines))[-600:] if lines else ""

def expand(template):
    empty = []
    def value(match):
        found = os.environ.get(match.group(1)) or match.group(2) or ""
        if not found:
            empty.append(match.group(1))
        return found
    return VARIABLE.sub(value, template), empty

def read_tag(reference, platform, template, run):
    """The tag, or None and why not."""
    cmd = ["docker", "run", "--rm", "--platform", platform, "--entrypoint", "sh", reference, "-c", run]
    print("+", shlex.join(cmd), flush=True)
    try:
        done = subprocess.run(cmd, check=False, capture_output=True, text=True, errors="replace")
    except OSError as exc:
        return None, f"cannot run docker: {exc}"
    output = done.stdout.strip()
    if done.returncode != 0:
        return None, f"the command exited {done.returncode}" + tail(done.stderr)
    if not output:
        return None, "the command printed nothing" + tail(done.stderr)
    tag = template.replace("{output}", output)
    if not TAG.match(tag):
        return None, (
            f"it printed {output[:80]!r}, which makes {tag[:160]!r}: not a valid tag (letters, "
            "digits, '_', '.' and '-', at most 128, not starting with '.' or '-')"
        )
    return tag, None

commands = json.loads(os.environ.get("IMAGE_TAGS") or "{}")
folder = pathlib.Path(os.environ["DIGESTS_DIR"])
failed = False
for item in os.environ["IMAGES"].split():
    target, _, platforms = item.partition("=")
    if not commands.get(target):
        continue
    written = folder / f"{target}.tags"
    written.unlink(missing_ok=True)
    platform = platforms.split(",")[0]
    found = folder / f"{target}@{platform.replace('/', '-')}"
    lines = found.read_text(encoding="utf-8").splitlines() if found.is_file() else []
    if not lines or not lines[0]:
        print(f"::error::{target}: no image reference for {platform} to read its tags from", file=sys.stderr)
        failed = True
        continue
    tags, ok = [], True
    for entry in commands[target]:
        template, empty = expand(entry["tag"])
        if empty:
            print(f"{target}: tags_from_image '{entry['tag']}' not given: {', '.join(empty)} empty")
            continue
        tag, why = read_tag(lines[0], platform, template, entry["run"])
        if why:
            error(target, entry["tag"], why)
            ok = False
        elif tag not in tags:
            tags.append(tag)
            print(f"{target}: {tag}")
    if ok:
        written.write_text("".join(t + "\n" for t in tags), encoding="utf-8")
    failed = failed or not ok
sys.exit(1 if failed else 0)
