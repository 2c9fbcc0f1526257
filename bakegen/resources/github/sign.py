"""Sign each published image by digest (its multi-platform index in every repository it was
published to, never a tag) with cosign, then verify each signature; any failure is an
`::error::` line, and the step fails after trying every image. An image a gate refused is not
published and is not signed; one neither published nor refused is an error.

  IMAGES               space-separated `target=platform,platform`
  DIGESTS_DIR          the folder of `<target>.published` files (a line per repository:
                       REPO@sha256:<index digest>) and `<target>.refused` ones
  UNSIGNED             optional: space-separated targets not to sign
  COSIGN_KEY           optional: cosign's --key, `env://NAME` (the private key in the variable
                       NAME) or a file; absent or empty: keyless, a certificate for the
                       workflow's OIDC identity (the job needs `id-token: write`)
  COSIGN_PASSWORD      the private key's password (cosign's own variable)
  COSIGN_PUBLIC_KEY    optional: the public key file to verify with; default COSIGN_KEY's
                       public half (`cosign public-key`)
  BAKEGEN_SIGN_NO_TLOG optional, `true` or `1` (with COSIGN_KEY only): no transparency log;
                       sign with a signing config naming no service, verify with
                       --insecure-ignore-tlog=true
  GITHUB_SERVER_URL, GITHUB_WORKFLOW_REF  set by GitHub: keyless signatures are verified
                       against the identity of this workflow's file (any ref) and GitHub's
                       OIDC issuer
"""

# The rest of this file is the step's script byte for byte, as the generated workflows hold
# it: its formatting stays as it is, and these findings are let pass.
# ruff: noqa: E401, I001
# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="var-annotated,assignment"
# fmt: off
# --- the workflow's step runs the rest of this file, as it is ---
import atexit, os, pathlib, re, shutil, subprocess, sys, tempfile

ISSUER = "https://token.actions.githubusercontent.com"
DIGEST_REF = re.compile(r"[^\s@]+@sha256:[0-9a-f]{64}")

def cosign(*args):
    print("+ cosign", " ".join(args), flush=True)
    done = subprocess.run(["cosign", *args], capture_output=True, text=True, check=False)
    said = (done.stderr.strip().splitlines() or [""])[-1]
    return done.returncode, said

def fail(message):
    print(f"::error::{message}", flush=True)
    return 1

folder = pathlib.Path(os.environ["DIGESTS_DIR"])
unsigned = set(os.environ.get("UNSIGNED", "").split())
key = os.environ.get("COSIGN_KEY", "")
no_tlog = os.environ.get("BAKEGEN_SIGN_NO_TLOG", "").lower() in ("1", "true")
scratch = pathlib.Path(tempfile.mkdtemp())  # the public key, the signing config
atexit.register(shutil.rmtree, scratch, True)
if no_tlog and not key:
    sys.exit(fail("BAKEGEN_SIGN_NO_TLOG needs COSIGN_KEY: keyless signatures are always logged"))
sign_args, verify_args = ["--yes"], []
if key:
    public = os.environ.get("COSIGN_PUBLIC_KEY", "")
    if not public:
        public = str(scratch / "cosign.pub")
        code, said = cosign("public-key", "--key", key, "--outfile", public)
        if code != 0:
            sys.exit(fail(f"cannot read the signing key: {said}"))
    sign_args += ["--key", key]
    verify_args += ["--key", public]
    if no_tlog:
        config = str(scratch / "signing-config.json")
        code, said = cosign("signing-config", "create", "--no-default-fulcio", "--no-default-oidc",
                            "--no-default-rekor", "--no-default-tsa", "--out", config)
        if code != 0:
            sys.exit(fail(f"cannot write a signing config without a transparency log: {said}"))
        sign_args += ["--signing-config", config]
        verify_args += ["--insecure-ignore-tlog=true"]
else:
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    workflow = os.environ.get("GITHUB_WORKFLOW_REF", "").partition("@")[0]
    if not workflow:
        sys.exit(fail("keyless signing runs in GitHub Actions: GITHUB_WORKFLOW_REF is not set"))
    identity = "^" + re.escape(f"{server}/{workflow}") + "@"
    verify_args += ["--certificate-identity-regexp", identity, "--certificate-oidc-issuer", ISSUER]
failed = 0
for item in os.environ["IMAGES"].split():
    target = item.partition("=")[0]
    published = folder / f"{target}.published"
    if target in unsigned:
        print(f"{target}: not signed (the manifest says so)", flush=True)
        continue
    if (folder / f"{target}.refused").is_file():
        print(f"{target}: refused by a gate, not published: nothing to sign", flush=True)
        continue
    if not published.is_file():
        failed |= fail(f"{target}: no {published.name}: it was not published, so it is not signed")
        continue
    for ref in published.read_text(encoding="utf-8").split():
        if not DIGEST_REF.fullmatch(ref):
            failed |= fail(f"{target}: {ref!r} is not REPO@sha256:<digest>; only digests are signed")
            continue
        code, said = cosign("sign", *sign_args, ref)
        if code != 0:
            failed |= fail(f"{target} {ref}: signing failed (exit {code}): {said}")
            continue
        code, said = cosign("verify", *verify_args, ref)
        if code != 0:
            failed |= fail(f"{target} {ref}: the signature does not verify (exit {code}): {said}")
        else:
            print(f"{target} {ref}: signed and verified", flush=True)
sys.exit(failed)
