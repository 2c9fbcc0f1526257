"""What one build of a wave builds, and the bake settings it passes with --set.

For each image of the build: what `bakegen ci ids` says of it (its parent, its verify target,
whether images are built FROM it); its parent's image, from the file an earlier wave wrote
(its digest in the staging repository; on a pull request, an OCI layout); its build id (`bakegen
ci ids` again, with that digest standing for the parent); and whether the staging repository holds that
id already (the tag `bakegen-<id>`): then its digest is reused and nothing is built. Otherwise
the image is built FROM the parent's digest (`--set T.contexts.base=docker-image://...`), never
from its target, and pushed to staging under its id only: no public tag exists before the merge.
A pull request pushes nothing: an image with children is written as an OCI layout (uploaded as
an artifact for the next wave), any other only to the build cache; only what the change affects
is built.

  TARGETS        the image targets of this build, separated by commas or spaces
  PLATFORM       the one platform this job builds (linux/arm64)
  SLUG           the platform as a file name (linux-arm64)
  PUSH           "true" to push (to STAGING)
  STAGING        the staging repository (lowercased here: references take no capitals)
  PARENT_CONTEXT the named context an image's Dockerfile takes its parent from (base)
  DIGESTS_DIR    the folder of the earlier waves' `<target>@<slug>` files: an image reference each
  OCI_DIR        the folder of the earlier waves' OCI layouts (pull requests)
  BUILT_DIR      where this build's files go: `<target>@<slug>` of the images reused (the
                 export step adds those built), `oci/<target>` layouts (pull requests)
  BAKEGEN        the bakegen command (with its -m option) the ids are computed with
  CACHE_READONLY "true": write no cache at all (registry cache without a login)
  ONLY_AFFECTED  "true" (a pull request): build only the targets named in AFFECTED
  AFFECTED       the targets `bakegen affected` names, separated by commas or spaces
  GITHUB_OUTPUT  where `targets`, `verify`, `children`, `allow`, `set` and `verify-set` are written
                 (default stdout)
The build ids are computed without REVISION and SOURCE_DATE_EPOCH, which change with every
commit: an image whose inputs did not change is reused, labelled with the commit that built it.
"""

# The rest of this file is the step's script byte for byte, as the generated workflows hold
# it: its formatting stays as it is, and these findings are let pass.
# ruff: noqa: E401, I001, SIM115
# mypy: allow-untyped-defs, allow-untyped-calls
# fmt: off
# --- the workflow's step runs the rest of this file, as it is ---
import hashlib, json, os, pathlib, shlex, subprocess, sys

def names(variable):
    return os.environ.get(variable, "").replace(",", " ").split()

env = os.environ
unstable = {"REVISION": "", "SOURCE_DATE_EPOCH": ""}
targets = names("TARGETS")
cmd = [*shlex.split(env.get("BAKEGEN") or "bakegen"), "ci", "ids", "--json", "--platform", env["PLATFORM"]]
for target in targets:
    cmd += ["--target", target]

def build_ids(*args):
    return json.loads(subprocess.run([*cmd, *args], check=True, capture_output=True, text=True, env={**env, **unstable}).stdout)

rows = build_ids()
parents = {r["target"]: r["parent"] for r in rows if r["parent"]}
verify = {r["target"]: r["verify"] for r in rows if r["verify"]}
children = {r["target"] for r in rows if r["children"]}
platform, slug, push = env["PLATFORM"], env["SLUG"], env.get("PUSH") == "true"
staging = env["STAGING"].lower()
pr = env.get("ONLY_AFFECTED") == "true"
affected = set(names("AFFECTED"))
digests, oci, own = pathlib.Path(env["DIGESTS_DIR"]), pathlib.Path(env["OCI_DIR"]), pathlib.Path(env["BUILT_DIR"])
own.mkdir(parents=True, exist_ok=True)

def context(reference):
    """A `<target>@<slug>` file's reference as a bake context."""
    if reference.startswith("oci-layout://"):
        return "oci-layout://" + str(oci / reference.removeprefix("oci-layout://"))
    return "docker-image://" + reference

failed, refs = False, {}
for target, parent in parents.items():
    found = digests / f"{parent}@{slug}"
    if found.is_file():
        refs[target] = found.read_text(encoding="utf-8").split()[0]
    elif pr:
        print(f"{target}: its parent {parent} was not built in this run; bake builds it from its target")
    else:
        print(f"::error::{target} ({platform}): no digest of its parent {parent}; refusing to build it from anything else", file=sys.stderr)
        failed = True
if failed:
    sys.exit(1)
given = []
for parent, reference in sorted({(parents[t], r) for t, r in refs.items()}):
    given += ["--parent-digest", parent + "=" + reference.rsplit("@", 1)[1]]
ids = {row["target"]: row["id"] for row in (build_ids(*given) if given else rows)}

def staged(tag):
    """The digest of staging's `tag`, or None when there is none (or it cannot be read)."""
    proc = subprocess.run(["docker", "buildx", "imagetools", "inspect", "--raw", tag], capture_output=True, check=False)
    return "sha256:" + hashlib.sha256(proc.stdout).hexdigest() if proc.returncode == 0 and proc.stdout else None

build = []
for target in targets:
    tag = f"{staging}:bakegen-{ids[target]}"
    digest = staged(tag)
    if digest:
        (own / f"{target}@{slug}").write_text(f"{staging}@{digest}\n", encoding="utf-8")
        print(f"{target} ({platform}): built before, as {tag}: reused {digest}")
    elif pr and target not in affected:
        print(f"{target} ({platform}): not affected by this change, not built")
    else:
        build.append(target)
        print(f"{target} ({platform}): build id {ids[target]}, to build")
driver = subprocess.run(["docker", "buildx", "inspect"], capture_output=True, text=True, check=False).stdout
rewrite = ",rewrite-timestamp=true"
if any(line.split() == ["Driver:", "docker"] for line in driver.splitlines()):
    rewrite = ""  # the docker driver's image store refuses it
    print("::warning::the builder's docker driver cannot rewrite timestamps: the images are not reproducible")
contexts = [f"{t}.contexts.{env['PARENT_CONTEXT']}={context(refs[t])}" for t in build if t in refs]
common = ["*.platform=" + platform, *contexts]
lines = list(common)
if env.get("CACHE_READONLY") == "true":
    lines.append("*.cache-to=")
for target in build:
    lines.append(target + ".tags=")
    if push:
        lines.append(f"{target}.output=type=image,name={staging}:bakegen-{ids[target]},push=true{rewrite}")
    elif target in children:
        lines.append(f"{target}.output=type=oci,dest={own / 'oci' / target},tar=false{rewrite}")
    else:
        lines.append(target + ".output=type=cacheonly")
output = open(env.get("GITHUB_OUTPUT") or "/dev/stdout", "a", encoding="utf-8")
output.write(f"targets={','.join(build)}\nverify={','.join(verify[t] for t in build if t in verify)}\n")
output.write(f"children={' '.join(sorted(children))}\n")
# bake's entitlements: OCI layouts written outside the workspace, and read as contexts
layouts = pr and any(t in children for t in build)
read = pr and any(context(refs[t]).startswith("oci-layout://") for t in build if t in refs)
allow = ([f"fs.write={own}"] if layouts and not push else []) + ([f"fs.read={oci}"] if read else [])
output.write(f"allow={','.join(allow)}\n")
output.write("set<<BAKEGEN_EOF\n" + "\n".join(lines) + "\nBAKEGEN_EOF\n")
output.write("verify-set<<BAKEGEN_EOF\n" + "\n".join([*common, "*.cache-to="]) + "\nBAKEGEN_EOF\n")
