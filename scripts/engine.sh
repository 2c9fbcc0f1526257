#!/usr/bin/env bash
# engine.sh - a local Docker engine for bakegen's end-to-end tests.
#
# Installs and runs dockerd + containerd (BuildKit built in), the docker CLI with the buildx plugin, and
# QEMU arm64 emulation on a Debian bookworm host, as root. No container registry is needed: base images
# are made here with debootstrap and busybox-static. See scripts/README.md.
#
#   scripts/engine.sh install-buildx                   # CLI + buildx only: enough for `bake --print`
#   eval "$(scripts/engine.sh start)"                  # installs, starts dockerd, exports DOCKER_HOST
#   scripts/engine.sh base-images                      # debian:bookworm-slim (amd64+arm64), busybox:local
#   docker buildx bake --print | scripts/engine.sh host-network "$dir/host.json"
#   docker buildx bake -f docker-bake.hcl -f "$dir/host.json" --allow network.host --load
#   scripts/engine.sh stop
set -euo pipefail

STATE=${BAKEGEN_ENGINE_STATE:-/tmp/bakegen-engine}
SOCK=$STATE/docker.sock
PLUGINS=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
CLI_DIR=${BAKEGEN_ENGINE_CLI_DIR:-/usr/local/bin}   # where the docker CLI goes when there is none
REGISTRY_ADDR=127.0.0.1:5555
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
PLATFORMS=(amd64 arm64)
export DEBIAN_FRONTEND=noninteractive

log() { printf 'engine: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() {
  cat >&2 <<EOF
usage: $0 COMMAND
  mirror                  print the Debian mirror from this machine's apt configuration
  install-buildx          install the docker buildx plugin (and the docker CLI if missing)
  install                 install everything needed for real builds
  start                   start dockerd; prints only: export DOCKER_HOST=unix://...
  stop                    stop dockerd and the registry
  base-images             build debian:bookworm-slim (linux/amd64 + linux/arm64) and busybox:local
  host-network FILE.json [--ca-bundle[=PATH]]
                          read \`docker buildx bake --print\` JSON on stdin, write a bake file that puts
                          every target on the host network (and optionally adds the CA bundle secret)
  registry                start a registry on $REGISTRY_ADDR and print its address
  install-registry        install docker-registry, htpasswd and openssl (the pin tests need them)
  registry-config DATA_DIR ADDR [htpasswd FILE | token REALM SERVICE ISSUER CERT.pem]
                          print a registry configuration (open, basic auth, or token auth)
  sid-package PACKAGE     download Debian sid's PACKAGE, unpack it and print the folder it is in
State lives in \${BAKEGEN_ENGINE_STATE:-/tmp/bakegen-engine}.
EOF
  exit 2
}

# timed LABEL COMMAND...: run COMMAND and log how long it took.
timed() {
  local label=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  log "$label took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
}

host_arch() { dpkg --print-architecture; }

# lock: one install/start/base-images at a time per state directory (tests may run in parallel).
# Daemons started while it is held must not inherit the descriptor (9>&-).
lock() {
  mkdir -p "$STATE"
  exec 9>>"$STATE/lock"
  flock 9
}

# The first non-security Debian mirror this machine's apt uses (deb822 files first, then one-line lists).
mirror() {
  local m="" f
  local -a deb822=() oneline=()
  for f in /etc/apt/sources.list.d/*.sources; do [[ -f $f ]] && deb822+=("$f"); done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do [[ -f $f ]] && oneline+=("$f"); done
  if ((${#deb822[@]})); then
    m=$(awk '
      function flush() {
        if (uri != "" && out == "" && enabled != "no" && types ~ /(^| )deb( |$)/ &&
            suites !~ /security/ && uri !~ /security/) out = uri
        uri = ""; suites = ""; types = ""; enabled = ""
      }
      FNR == 1 { flush() }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]*#/ { next }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 }
      tolower($1) == "types:" { $1 = ""; types = $0 }
      tolower($1) == "enabled:" { enabled = tolower($2) }
      END { flush(); print out }' "${deb822[@]}")
  fi
  if [[ -z $m ]] && ((${#oneline[@]})); then
    m=$(awk '
      $1 == "deb" {
        sub(/\[[^]]*\]/, ""); $0 = $0
        if ($2 !~ /security/ && $3 !~ /security/) { print $2; exit }
      }' "${oneline[@]}")
  fi
  [[ -n $m ]] || die "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
  echo "${m%/}"
}

# apt_private NAME SUITE ARCH: an apt setup of its own under $STATE/apt/NAME (own sources, lists, cache
# and an empty dpkg status), so .debs can be fetched from another suite or architecture without touching
# the host's apt configuration. Sets APT_OPTS; fetches the package lists once.
APT_OPTS=()
apt_private() {
  local dir=$STATE/apt/$1 suite=$2 arch=$3
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/debs"
  [[ -f $dir/status ]] || : >"$dir/status"
  echo "deb [signed-by=$KEYRING] $(mirror) $suite main" >"$dir/sources.list"
  APT_OPTS=(
    -o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$dir/lists" -o "Dir::State::status=$dir/status"
    -o "Dir::State::extended_states=$dir/extended_states" -o "Dir::Cache=$dir/cache"
    -o "APT::Architecture=$arch" -o "APT::Architectures=$arch" -o "Acquire::Languages=none"
    -o "APT::Sandbox::User=root"
  )
  if ! compgen -G "$dir/lists/*_Packages*" >/dev/null; then
    log "fetching $suite/$arch package lists"
    apt-get "${APT_OPTS[@]}" -qq update >&2
  fi
}

# fetch_debs NAME SUITE ARCH PACKAGE...: download and unpack each PACKAGE into $STATE/apt/NAME/x/PACKAGE.
fetch_debs() {
  local name=$1 suite=$2 arch=$3 dir=$STATE/apt/$1 p
  shift 3
  apt_private "$name" "$suite" "$arch"
  for p in "$@"; do rm -f "$dir/debs/${p}_"*.deb; done
  # lists fetched long ago may name versions the mirror no longer has: fetch them again once
  if ! (cd "$dir/debs" && apt-get "${APT_OPTS[@]}" -qq download "$@" >&2); then
    log "refreshing $suite/$arch package lists"
    apt-get "${APT_OPTS[@]}" -qq update >&2
    (cd "$dir/debs" && apt-get "${APT_OPTS[@]}" -qq download "$@" >&2)
  fi
  for p in "$@"; do
    rm -rf "$dir/x/$p"
    mkdir -p "$dir/x/$p"
    dpkg -x "$(compgen -G "$dir/debs/${p}_*.deb" | head -n 1)" "$dir/x/$p"
  done
}

# sid_has PACKAGE: whether sid's package lists know PACKAGE.
sid_has() {
  apt_private sid sid "$(host_arch)"
  apt-cache "${APT_OPTS[@]}" show "$1" >/dev/null 2>&1
}

# The buildx plugin (and the docker CLI when there is none on PATH), from Debian sid: its builds need
# only glibc 2.34, so they run on bookworm.
install_buildx() {
  if [[ -x $PLUGINS/docker-buildx ]] && command -v docker >/dev/null; then return 0; fi
  local pkgs=(docker-buildx) cli="" x=$STATE/apt/sid/x
  if ! command -v docker >/dev/null; then
    if sid_has docker-cli; then cli="docker-cli"; else cli="docker.io"; fi
    pkgs+=("$cli")
  fi
  log "installing ${pkgs[*]} from sid"
  fetch_debs sid sid "$(host_arch)" "${pkgs[@]}"
  mkdir -p "$PLUGINS"
  install -m 0755 "$x/docker-buildx/usr/libexec/docker/cli-plugins/docker-buildx" "$PLUGINS/docker-buildx"
  if [[ -n $cli ]]; then
    [[ -x $x/$cli/usr/bin/docker ]] || die "sid's $cli holds no usr/bin/docker"
    mkdir -p "$CLI_DIR"
    install -m 0755 "$x/$cli/usr/bin/docker" "$CLI_DIR/docker"
  fi
  local docker
  docker=$(command -v docker) || { docker=$CLI_DIR/docker; log "note: $CLI_DIR is not on PATH"; }
  "$docker" buildx version >&2
}

# apt_install PACKAGE...: install the Debian packages not installed yet (updating the package
# lists only when the first try fails).
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

ENGINE_BINS=(dockerd docker-proxy containerd containerd-shim-runc-v2)
HOST_PKGS=(runc iptables qemu-user-static debootstrap busybox-static gnupg)

install_engine() {
  install_buildx
  local b
  apt_install "${HOST_PKGS[@]}"
  local absent=()
  for b in "${ENGINE_BINS[@]}"; do [[ -x $STATE/bin/$b ]] || absent+=("$b"); done
  ((${#absent[@]})) || return 0
  # dockerd and containerd from sid; sid's runc needs a newer glibc, so bookworm's runc (above) is used.
  log "installing dockerd and containerd from sid"
  fetch_debs sid sid "$(host_arch)" docker.io containerd
  mkdir -p "$STATE/bin"
  local x=$STATE/apt/sid/x
  install -m 0755 "$x/docker.io/usr/sbin/dockerd" "$x/docker.io/usr/sbin/docker-proxy" \
    "$x/containerd/usr/bin/containerd" "$x/containerd/usr/bin/containerd-shim-runc-v2" "$STATE/bin/"
}

# QEMU user emulation for the other platform, registered with the F flag (the interpreter is opened
# at registration, so it works inside containers and chroots).
emulation() {
  local m=/proc/sys/fs/binfmt_misc q=aarch64
  [[ $(host_arch) == arm64 ]] && q=x86_64
  if [[ ! -e $m/register ]] && ! mount -t binfmt_misc binfmt_misc "$m"; then
    log "cannot mount binfmt_misc: no $q emulation"
    return 0
  fi
  if [[ ! -e $m/qemu-$q ]]; then
    grep -v '^#' "/usr/lib/binfmt.d/qemu-$q.conf" >"$m/register" || log "could not register qemu-$q"
  fi
  if [[ -e $m/qemu-$q ]] && ! grep -q '^flags:.*F' "$m/qemu-$q"; then
    log "qemu-$q is registered without the F flag: emulated builds may fail"
  fi
}

engine_up() { [[ -S $SOCK ]] && DOCKER_HOST=unix://$SOCK docker version >/dev/null 2>&1; }

start() {
  timed install install_engine
  emulation
  if ! engine_up; then
    mkdir -p "$STATE"
    echo '{"features": {"containerd-snapshotter": true}}' >"$STATE/daemon.json"
    log "starting dockerd (log: $STATE/dockerd.log)"
    PATH=$STATE/bin:$PATH:/usr/sbin:/sbin setsid nohup dockerd --config-file "$STATE/daemon.json" \
      --bridge=none --iptables=false --ip6tables=false \
      --data-root "$STATE/data" --exec-root "$STATE/exec" --pidfile "$STATE/dockerd.pid" \
      --host "unix://$SOCK" </dev/null >>"$STATE/dockerd.log" 2>&1 9>&- &
    local i
    for i in $(seq 120); do
      engine_up && break
      ((i < 120)) || { tail -n 20 "$STATE/dockerd.log" >&2; die "dockerd did not come up"; }
      sleep 0.5
    done
  fi
  echo "export DOCKER_HOST=unix://$SOCK"
}

stop() {
  stop_registry
  local pid="" i
  [[ -f $STATE/dockerd.pid ]] && pid=$(cat "$STATE/dockerd.pid")
  if [[ -n $pid ]] && kill "$pid" 2>/dev/null; then
    for i in $(seq 60); do
      kill -0 "$pid" 2>/dev/null || break
      ((i < 60)) || die "dockerd ($pid) still running"
      sleep 0.5
    done
  fi
  rm -f "$STATE/dockerd.pid"
  engine_up && die "a dockerd without a pid file still serves $SOCK"
  # dockerd leaves its network namespace and data-root mounts behind; drop them so the state can be removed.
  unmount_under "$STATE/exec"
  unmount_under "$STATE/data"
}

# unmount_under DIR: undo mounts left on or inside DIR (by a failed debootstrap, or dockerd's network
# namespace after it stopped), deepest first.
unmount_under() {
  awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r |
    xargs -r -n 1 umount -l
}

# debian_rootfs ARCH OUT.tar: a minbase bookworm rootfs for ARCH (foreign ones run under QEMU).
debian_rootfs() {
  local arch=$1 out=$2 dir=$STATE/rootfs/debian-$1
  unmount_under "$dir"
  rm -rf --one-file-system "$dir"
  mkdir -p "$dir"
  debootstrap --variant=minbase --arch="$arch" bookworm "$dir" "$(mirror)" >"$STATE/debootstrap-$arch.log" 2>&1 ||
    { tail -n 20 "$STATE/debootstrap-$arch.log" >&2; die "debootstrap for $arch failed"; }
  # Slim like the official image: no docs, man pages or translations, empty apt lists and caches.
  cat >"$dir/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
  find "$dir/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  rm -rf "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/locale/* \
    "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
  mkdir -p "$dir/var/lib/apt/lists/partial"
  tar --numeric-owner -C "$dir" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
    -cf "$out.tmp" .
  mv "$out.tmp" "$out"
  rm -rf --one-file-system "$dir"
}

# busybox_rootfs ARCH OUT.tar: /bin/busybox (static) with a link per applet, and a minimal /etc.
busybox_rootfs() {
  local arch=$1 out=$2 dir=$STATE/rootfs/busybox-$1 bin a
  if [[ $arch == "$(host_arch)" ]]; then
    bin=/bin/busybox
  else
    fetch_debs "bookworm-$arch" bookworm "$arch" busybox-static
    bin=$STATE/apt/bookworm-$arch/x/busybox-static/bin/busybox
  fi
  rm -rf "$dir"
  mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var/tmp}
  chmod 1777 "$dir/tmp" "$dir/var/tmp"
  install -m 0755 "$bin" "$dir/bin/busybox"
  for a in $(/bin/busybox --list-full); do
    [[ -e $dir/$a || $a == bin/busybox ]] || ln -s /bin/busybox "$dir/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  tar --numeric-owner --owner=0 --group=0 -C "$dir" -cf "$out.tmp" .
  mv "$out.tmp" "$out"
  rm -rf "$dir"
}

# has_platforms IMAGE: whether IMAGE is in the engine's store for every platform in PLATFORMS.
has_platforms() {
  local p
  for p in "${PLATFORMS[@]}"; do
    docker image inspect --platform "linux/$p" "$1" >/dev/null 2>&1 || return 1
  done
}

base_images() {
  export DOCKER_HOST=${DOCKER_HOST:-unix://$SOCK}
  docker version >/dev/null 2>&1 || die "no engine at $DOCKER_HOST (run: eval \"\$($0 start)\")"
  if ! command -v debootstrap >/dev/null || [[ ! -x /bin/busybox ]]; then install_engine; fi
  local img=$STATE/images targets=() arch name
  local -A tag=([debian]=debian:bookworm-slim [busybox]=busybox:local)
  local -A cmd=([debian]=bash [busybox]=sh)
  for name in debian busybox; do
    if has_platforms "${tag[$name]}"; then
      log "${tag[$name]} already present"
      continue
    fi
    mkdir -p "$img/$name"
    for arch in "${PLATFORMS[@]}"; do
      [[ -f $img/$name/rootfs-$arch.tar ]] ||
        timed "$name rootfs for $arch" "${name}_rootfs" "$arch" "$img/$name/rootfs-$arch.tar"
    done
    # shellcheck disable=SC2016 # ${TARGETARCH} is for the Dockerfile
    printf 'FROM scratch\nARG TARGETARCH\nADD rootfs-${TARGETARCH}.tar /\nCMD ["%s"]\n' \
      "${cmd[$name]}" >"$img/$name/Dockerfile"
    targets+=("$name")
  done
  ((${#targets[@]})) || return 0
  local platforms tags
  platforms=$(printf '"linux/%s",' "${PLATFORMS[@]}")
  {
    echo '{"target": {'
    for name in "${targets[@]}"; do
      tags='"'${tag[$name]}'"'
      printf '"%s": {"context": "%s", "platforms": [%s], "tags": [%s]}' \
        "$name" "$name" "${platforms%,}" "$tags"
      [[ $name == "${targets[-1]}" ]] || echo ','
    done
    echo '}}'
  } >"$img/docker-bake.json"
  (cd "$img" && timed "loading ${targets[*]}" docker buildx bake -f docker-bake.json --load "${targets[@]}" >&2)
}

# host_network FILE [--ca-bundle[=PATH]]: with --bridge=none, RUN steps need the host network, and
# `--set '*.network=host'` is not applied to builds, so write it per target into an extra bake file.
host_network() {
  local file=${1:-} ca=""
  [[ -n $file ]] || usage
  case ${2:-} in
    "") ;;
    --ca-bundle) ca=/etc/ssl/certs/ca-certificates.crt ;;
    --ca-bundle=*) ca=${2#--ca-bundle=} ;;
    *) usage ;;
  esac
  python3 -c '
import json, sys

out, ca = sys.argv[1], sys.argv[2]
plan = json.load(sys.stdin)
targets = {}
for name in plan.get("target") or {}:
    extra = {"network": "host"}
    if ca:  # bake merges secrets by id, so the target keeps its own
        extra["secret"] = [{"id": "ca-bundle", "src": ca}]
    targets[name] = extra
with open(out, "w") as f:
    json.dump({"target": targets}, f, indent=2)
    f.write("\n")
print(out)
' "$file" "$ca"
}

# The registry tools: Debian's docker-registry, htpasswd (bcrypt files for basic auth), openssl.
install_registry() {
  apt_install docker-registry apache2-utils openssl
}

# registry_config DATA_DIR ADDR [htpasswd FILE | token REALM SERVICE ISSUER CERT.pem]: the
# configuration of a registry storing in DATA_DIR and listening on ADDR: open, behind basic
# auth (a bcrypt htpasswd file), or behind token auth (JWTs signed by CERT's key).
registry_config() {
  local data=${1:-} addr=${2:-}
  [[ -n $data && -n $addr ]] || usage
  cat <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $data
  delete:
    enabled: true
http:
  addr: $addr
EOF
  case ${3:-} in
    "") ;;
    htpasswd)
      [[ -n ${4:-} ]] || usage
      printf 'auth:\n  htpasswd:\n    realm: bakegen-registry\n    path: %s\n' "$4"
      ;;
    token)
      [[ -n ${7:-} ]] || usage
      printf 'auth:\n  token:\n    realm: %s\n    service: %s\n    issuer: %s\n    rootcertbundle: %s\n' \
        "$4" "$5" "$6" "$7"
      ;;
    *) usage ;;
  esac
}

registry() {
  command -v docker-registry >/dev/null || install_registry
  if curl -fs "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1; then echo "$REGISTRY_ADDR"; return 0; fi
  local dir=$STATE/registry i
  mkdir -p "$dir"
  registry_config "$dir/data" "$REGISTRY_ADDR" >"$dir/config.yml"
  setsid nohup docker-registry serve "$dir/config.yml" </dev/null >>"$dir/log" 2>&1 9>&- &
  echo $! >"$dir/pid"
  for i in $(seq 40); do
    if curl -fs "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1; then echo "$REGISTRY_ADDR"; return 0; fi
    ((i < 40)) || break
    sleep 0.25
  done
  tail -n 20 "$dir/log" >&2
  die "registry did not come up"
}

stop_registry() {
  local pidfile=$STATE/registry/pid
  [[ -f $pidfile ]] || return 0
  kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
}

case ${1:-} in
  mirror) mirror ;;
  install-buildx) lock; install_buildx ;;
  install) lock; install_engine ;;
  start) lock; start ;;
  stop) stop ;;
  base-images) lock; base_images ;;
  host-network) shift; host_network "$@" ;;
  registry) registry ;;
  install-registry) lock; install_registry ;;
  registry-config) shift; registry_config "$@" ;;
  sid-package) [[ -n ${2:-} ]] || usage; lock; fetch_debs sid sid "$(host_arch)" "$2"; echo "$STATE/apt/sid/x/$2" ;;
  *) usage ;;
esac
