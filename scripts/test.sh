#!/usr/bin/env bash
# The whole test suite, with everything it needs installed first:
#   scripts/test.sh              # every tier: tests/unit, tests/integration, tests/e2e (pytest
#                                # arguments may follow, e.g. -k conformance)
# Installs bakegen with its test extras (MkDocs among them), the docker buildx plugin (bake
# --print), Graphviz (graph --format svg), the registry tools of the pin tests (docker-registry,
# htpasswd, openssl), cosign (the signing step's tests) and, unless BAKEGEN_NO_ENGINE=1, a local Docker engine with arm64 emulation
# for the end-to-end builds (scripts/engine.sh; needs root on Debian). Then lint, types, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*" >&2; }

step "python packages"
python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

step "docker buildx"
scripts/engine.sh install-buildx

step "actionlint"
scripts/tools.sh actionlint >/dev/null

step "graphviz (bakegen graph --format svg, the documentation's pictures)"
scripts/tools.sh graphviz >/dev/null

step "registry tools (docker-registry, htpasswd, openssl)"
scripts/engine.sh install-registry

step "cosign (the signing step's tests)"
scripts/tools.sh cosign >/dev/null

if [[ ${BAKEGEN_NO_ENGINE:-0} != 1 && -n $(find tests/e2e -name 'test_*.py' -print -quit) ]]; then
  step "docker engine"
  eval "$(scripts/engine.sh start)"
  export DOCKER_HOST
  scripts/engine.sh base-images
fi

step "ruff"
ruff check bakegen testing tests benchmarks scripts
ruff format --check bakegen testing tests benchmarks scripts
step "mypy --strict"
mypy

step "pytest"
set +e
python3 -m pytest --all-tiers "$@"
code=$?
set -e
if [[ $code -eq 5 ]]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$code"
