#!/usr/bin/env bash
# Prepares this machine for sforge's tests: Debian's Docker Engine, iptables and registry, a
# running dockerd, and the local test images (no image registry is reachable from CI machines,
# so the images are made from Debian packages). Idempotent: a ready machine takes seconds.
#
# Usage: scripts/setup.sh [--fresh-network]
#   --fresh-network  restart the engine with its network state as on a machine where Docker never
#                    ran (the network store deleted, docker0 made anew), so that tests cannot lean
#                    on state that only an older engine has. scripts/test.sh (and so CI) uses it.
#                    Refused while containers run, unless SFORGE_SETUP_KEEP_NETWORK=1 skips it.
#
# Environment (all optional):
#   SFORGE_DEBIAN_MIRROR       Debian mirror for debootstrap (default: the one apt already uses)
#   SFORGE_DOCKERD_LOG         dockerd log file when this script starts the daemon
#   SFORGE_DOCKERD_ARGS        dockerd flags (default: IPv6 on the default bridge, fd00:5f0:e::/64)
#   SFORGE_SETUP_KEEP_NETWORK  1: --fresh-network leaves the running engine alone (with a warning)
set -euo pipefail

readonly BUSYBOX_IMAGE="sforge-test/busybox:latest"
readonly DEBIAN_IMAGE="debian:bookworm-slim"
readonly DEBIAN_SUITE="bookworm"
# python3/pytest run the example tasks' graders; git, curl and jq are what the base Dockerfile and
# sforge-submit need; sudo and ca-certificates mirror what the task images expect.
readonly DEBOOTSTRAP_INCLUDE="python3,python3-pytest,git,curl,jq,sudo,ca-certificates"
# curl, jq and shellcheck: the host-side tests of the in-container sforge-submit script.
# chromium: the visualizer's pages are rendered and screenshotted in headless Chromium by its tests.
# maven: tests/audit_toolchains.rs checks that mvn reads the .mvn/ files `sforge audit` submits.
readonly PACKAGES=(docker.io iptables busybox-static debootstrap docker-registry curl jq shellcheck tmux
  chromium maven)
readonly DOCKERD_WAIT_SECONDS=60
readonly DOCKERD_STOP_SECONDS=60
# Validates generated k8s manifests against the official schemas (1.22 to 1.33 in this release).
readonly KUBERNETES_VALIDATE_VERSION="1.33.1"

log() { printf 'setup: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Root needs no prefix; anyone else needs passwordless sudo (never prompt: CI has no terminal).
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || die "not root and no sudo: run this script as root"
  SUDO=(sudo -n)
fi

# Temporary directories are removed on any exit; --one-file-system keeps rm away from a /proc or
# /sys that a failed debootstrap left mounted inside its target.
TMP_DIRS=()
cleanup() {
  local dir mount
  for dir in "${TMP_DIRS[@]}"; do
    [[ -d $dir ]] || continue
    # Deepest mounts first.
    while read -r mount; do
      "${SUDO[@]}" umount -l "$mount" 2>/dev/null || true
    done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
    "${SUDO[@]}" rm -rf --one-file-system "$dir"
  done
}
trap cleanup EXIT
# Turn Ctrl-C and SIGTERM into an exit so the EXIT trap cleans up (e.g. a half-made rootfs).
trap 'exit 130' INT
trap 'exit 143' TERM

is_installed() {
  [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == ii* ]]
}

install_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "packages present: ${PACKAGES[*]}"
    return
  fi
  log "installing ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Debian's 20.10 client speaks BuildKit without a buildx plugin, unlike the docker 28 client that
# may come first on PATH, so prefer it.
pick_docker() {
  if [[ -n ${SFORGE_DOCKER:-} ]]; then
    DOCKER_BIN=$SFORGE_DOCKER
  elif [[ -x /usr/bin/docker ]]; then
    DOCKER_BIN=/usr/bin/docker
  else
    DOCKER_BIN=docker
  fi
}

daemon_answers() {
  timeout 10 "${SUDO[@]}" "$DOCKER_BIN" info >/dev/null 2>&1
}

# Via /proc, not kill -0: a daemon started through sudo cannot be signalled by us, and an exited
# child lingers as a zombie until this script ends.
is_alive() {
  local state=""
  [[ -r /proc/$1/stat ]] && read -r _ _ state _ <"/proc/$1/stat" && [[ $state != Z ]]
}

# The pid of a live dockerd on this machine, if any (a stopped one may linger as a zombie until
# its parent reaps it).
dockerd_pid() {
  local pid
  for pid in $(pidof dockerd 2>/dev/null || true); do
    if is_alive "$pid"; then
      printf '%s\n' "$pid"
      return
    fi
  done
}

# The flags of a dockerd this script starts (empty: from SFORGE_DOCKERD_ARGS or the default).
DOCKERD_ARGS=()

start_dockerd() {
  if daemon_answers; then
    log "docker engine answers"
    return
  fi
  local log_file=${SFORGE_DOCKERD_LOG:-}
  if [[ -z $log_file ]]; then
    if [[ -w /var/log ]]; then log_file=/var/log/sforge-dockerd.log; else log_file=/tmp/sforge-dockerd.log; fi
  fi
  local pid=""
  # A dockerd that is still starting must not get a twin.
  if [[ -n $(dockerd_pid) ]]; then
    log "dockerd is running but not answering yet; waiting"
  else
    log "starting dockerd (log: $log_file)"
    # setsid + nohup: the daemon must outlive this script and CI's process group.
    # IPv6 on the default bridge gives containers a global IPv6 address, so the isolation tests
    # prove that IPv6 egress is blocked rather than merely absent.
    if ((${#DOCKERD_ARGS[@]} == 0)); then
      read -r -a DOCKERD_ARGS <<<"${SFORGE_DOCKERD_ARGS:---ipv6 --fixed-cidr-v6 fd00:5f0:e::/64}"
    fi
    "${SUDO[@]}" setsid nohup dockerd "${DOCKERD_ARGS[@]}" >>"$log_file" 2>&1 </dev/null &
    pid=$!
    disown
  fi
  local waited=0
  until daemon_answers; do
    if [[ -n $pid ]] && ! is_alive "$pid"; then
      tail -n 30 "$log_file" >&2 2>/dev/null || true
      die "dockerd exited during start-up (log: $log_file)"
    fi
    if ((waited >= DOCKERD_WAIT_SECONDS)); then
      tail -n 30 "$log_file" >&2 2>/dev/null || true
      die "docker engine did not answer within ${DOCKERD_WAIT_SECONDS}s (log: $log_file)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "docker engine answers after ${waited}s"
}


is_systemd_managed() {
  [[ -d /run/systemd/system ]] && systemctl is-active --quiet docker 2>/dev/null
}

# Restart the engine with the network state of a machine where it never ran: Docker keeps its
# networks (and the gateway it recorded for each) in <data root>/network across restarts, and the
# kernel keeps the docker0 bridge; a new machine has neither. Images and volumes stay.
reset_network_state() {
  if [[ ${SFORGE_SETUP_KEEP_NETWORK:-} == 1 ]]; then
    log "warning: SFORGE_SETUP_KEEP_NETWORK=1: the engine keeps its network state; green tests" \
      "may then not mean green on a new machine"
    return
  fi
  local running
  running=$("${DOCKER[@]}" ps -q | wc -l)
  if ((running > 0)); then
    "${DOCKER[@]}" ps --format '  {{.Names}} ({{.Image}}, {{.Status}})' >&2
    die "--fresh-network restarts the docker engine, but $running container(s) run (above);" \
      "stop them, or set SFORGE_SETUP_KEEP_NETWORK=1 to test against the engine as it is"
  fi
  local root pid manager
  root=$("${DOCKER[@]}" info --format '{{.DockerRootDir}}')
  [[ -n $root && -d $root ]] || die "cannot read the docker data root from 'docker info'"
  pid=$(dockerd_pid)
  if is_systemd_managed; then
    manager=systemd
    log "stopping docker (systemd) to reset its network state"
    "${SUDO[@]}" systemctl stop docker.socket docker
  elif [[ -n $pid ]]; then
    manager=process
    # Start it again with the flags it had (the user's, or SFORGE_DOCKERD_ARGS).
    mapfile -d '' -t DOCKERD_ARGS < <("${SUDO[@]}" cat "/proc/$pid/cmdline")
    DOCKERD_ARGS=("${DOCKERD_ARGS[@]:1}")
    log "stopping dockerd ($pid) to reset its network state"
    "${SUDO[@]}" kill -TERM "$pid"
    local waited=0
    while is_alive "$pid"; do
      ((waited < DOCKERD_STOP_SECONDS)) || die "dockerd ($pid) did not stop within ${DOCKERD_STOP_SECONDS}s"
      sleep 1
      waited=$((waited + 1))
    done
  else
    die "--fresh-network: no dockerd process on this machine to restart (a remote or rootless" \
      "engine?); set SFORGE_SETUP_KEEP_NETWORK=1 to test against it as it is"
  fi
  "${SUDO[@]}" rm -rf "${root:?}/network"
  if ip link show docker0 >/dev/null 2>&1; then
    "${SUDO[@]}" ip link delete docker0
  fi
  log "removed $root/network and the docker0 bridge"
  if [[ $manager == systemd ]]; then
    "${SUDO[@]}" systemctl start docker
  fi
  start_dockerd
}

# After the daemon is up: use the client directly when the socket lets us, else through sudo.
pick_docker_prefix() {
  DOCKER=("$DOCKER_BIN")
  if ! timeout 10 "$DOCKER_BIN" info >/dev/null 2>&1; then
    DOCKER=("${SUDO[@]}" "$DOCKER_BIN")
  fi
}

image_exists() {
  "${DOCKER[@]}" image inspect "$1" >/dev/null 2>&1
}

# Sets TMP_DIR (not printed: a command substitution would lose the TMP_DIRS update).
new_tmp_dir() {
  TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sforge-setup.XXXXXX")
  TMP_DIRS+=("$TMP_DIR")
}

build_busybox_image() {
  if image_exists "$BUSYBOX_IMAGE"; then
    log "image $BUSYBOX_IMAGE exists"
    return
  fi
  log "building $BUSYBOX_IMAGE from Debian's busybox-static"
  local ctx root applet
  new_tmp_dir
  ctx=$TMP_DIR
  root=$ctx/rootfs
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  # One relative symlink per applet, like `busybox --install -s`, but inside the context.
  for applet in $(/bin/busybox --list); do
    [[ $applet == busybox ]] || ln -s busybox "$root/bin/$applet"
  done
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' \
    >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"
  printf '%s\n' 'FROM scratch' 'COPY rootfs/ /' 'ENV PATH=/bin' 'CMD ["sh"]' >"$ctx/Dockerfile"
  # The classic builder needs no buildx plugin and no registry for FROM scratch.
  DOCKER_BUILDKIT=0 "${DOCKER[@]}" build -q -t "$BUSYBOX_IMAGE" "$ctx" >/dev/null
  log "built $BUSYBOX_IMAGE"
}

# The mirror apt already uses for the main suite of this release (deb822 .sources files or
# one-line .list files); CI machines may only reach that one.
detect_mirror() {
  if [[ -n ${SFORGE_DEBIAN_MIRROR:-} ]]; then
    printf '%s\n' "$SFORGE_DEBIAN_MIRROR"
    return
  fi
  local files=() mirror=""
  shopt -s nullglob
  files=(/etc/apt/sources.list.d/*.sources)
  if [[ ${#files[@]} -gt 0 ]]; then
    mirror=$(awk -v suite="$DEBIAN_SUITE" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && enabled != "no" && uri != "")
          { print uri; found = 1; exit }
        types = ""; suites = ""; uri = ""; enabled = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      /^URIs:/ { uri = $2 }
      /^Enabled:/ { enabled = tolower($2) }
      END { if (!found) flush() }
    ' "${files[@]}")
  fi
  if [[ -z $mirror ]]; then
    files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
    for f in "${files[@]}"; do
      [[ -r $f ]] || continue
      # "deb [options] URI SUITE COMPONENTS..."
      mirror=$(sed -E 's/\[[^]]*\]//' "$f" |
        awk -v suite="$DEBIAN_SUITE" '$1 == "deb" && $3 == suite { print $2; exit }')
      [[ -z $mirror ]] || break
    done
  fi
  shopt -u nullglob
  printf '%s\n' "${mirror:-http://deb.debian.org/debian}"
}

build_debian_image() {
  if image_exists "$DEBIAN_IMAGE"; then
    # An image pulled from Docker Hub has the same tag but lacks what the tests need.
    if "${DOCKER[@]}" run --rm --network none "$DEBIAN_IMAGE" python3 -c 'import pytest' >/dev/null 2>&1; then
      log "image $DEBIAN_IMAGE exists"
    else
      log "warning: $DEBIAN_IMAGE exists but has no python3/pytest (not made by this script);" \
        "remove it (docker rmi $DEBIAN_IMAGE) and rerun to replace it"
    fi
    return
  fi
  local mirror dir root
  mirror=$(detect_mirror)
  new_tmp_dir
  dir=$TMP_DIR
  root=$dir/rootfs
  log "debootstrap $DEBIAN_SUITE (minbase + $DEBOOTSTRAP_INCLUDE) from $mirror; takes a minute or two"
  if ! "${SUDO[@]}" debootstrap --variant=minbase --include="$DEBOOTSTRAP_INCLUDE" \
    "$DEBIAN_SUITE" "$root" "$mirror" >"$dir/debootstrap.log" 2>&1; then
    tail -n 30 "$dir/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  # Slim like the official image: no package lists or downloaded archives.
  "${SUDO[@]}" find "$root/var/lib/apt/lists" "$root/var/cache/apt" -type f -delete
  log "importing the rootfs as $DEBIAN_IMAGE"
  "${SUDO[@]}" tar --numeric-owner -C "$root" -c . |
    "${DOCKER[@]}" import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null
  log "imported $DEBIAN_IMAGE"
}

# A Linux bridge without an address of its own takes the lowest MAC address of its ports, so
# starting a container can change the bridge's MAC under running containers: their ARP entry for
# the gateway goes stale and their connections to the host (the judge) time out for up to a
# minute. Docker 20.10 does not pin it; we do (idempotent: only when not set yet).
pin_bridge_mac() {
  local bridge=docker0 type_file=/sys/class/net/docker0/addr_assign_type
  [[ -r $type_file ]] || return 0
  if [[ $(cat "$type_file") == 3 ]]; then
    log "$bridge has a fixed MAC address"
    return
  fi
  command -v ip >/dev/null 2>&1 || die "ip (iproute2) is needed to pin the $bridge MAC address"
  "${SUDO[@]}" ip link set "$bridge" address 02:42:5f:0e:00:01
  log "pinned the MAC address of $bridge"
}

# kubernetes-validate from PyPI, pinned; skipped when that version is already installed.
install_kubernetes_validate() {
  local have=""
  if command -v kubernetes-validate >/dev/null 2>&1; then
    have=$(kubernetes-validate --version 2>/dev/null || true)
  fi
  if [[ $have == *"$KUBERNETES_VALIDATE_VERSION"* ]]; then
    log "kubernetes-validate $KUBERNETES_VALIDATE_VERSION present"
    return
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 is needed for kubernetes-validate"
  log "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2 ||
    python3 -m pip install --quiet --disable-pip-version-check --break-system-packages \
      "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2 ||
    die "cannot install kubernetes-validate with pip"
  command -v kubernetes-validate >/dev/null 2>&1 ||
    die "kubernetes-validate is installed but not on PATH (add pip's script directory to PATH)"
}

main() {
  local fresh_network=false arg
  for arg in "$@"; do
    case $arg in
      --fresh-network) fresh_network=true ;;
      -h | --help)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
      *) die "unknown argument '$arg' (see --help)" ;;
    esac
  done
  install_packages
  install_kubernetes_validate
  pick_docker
  start_dockerd
  if $fresh_network; then
    pick_docker_prefix
    reset_network_state
  fi
  pin_bridge_mac
  pick_docker_prefix
  build_busybox_image
  build_debian_image
  log "ready"
}

main "$@"
