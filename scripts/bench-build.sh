#!/usr/bin/env bash
# Benchmark (not a test): how long a no-op `sforge build --all` takes over many tasks whose images
# all exist, and how many `docker` commands it runs. Target: under 1 s, and a constant number of
# docker invocations (one listing of the local images), whatever the number of tasks.
#
# It builds sforge in release mode, generates a tasks directory with N tiny tasks under a unique
# benchmark name in a temporary directory, makes every image exist by `docker tag`-ging one small
# local image to each base/work/judge name (from `sforge list --json`), then times a few runs with
# SFORGE_DOCKER pointing at a wrapper that counts invocations. Tags and files are removed on exit.
#
# Environment (all optional):
#   SFORGE_BENCH_TASKS  number of generated tasks (default 50)
#   SFORGE_BENCH_RUNS   timed runs (default 5)
#   SFORGE_BENCH_IMAGE  the local image to tag (default sforge-test/busybox:latest)
#   SFORGE_DOCKER       the docker client sforge runs (default: `docker` on PATH, as sforge does)
#   CARGO_TARGET_DIR    where cargo builds (default target/)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly TASKS=${SFORGE_BENCH_TASKS:-50}
readonly RUNS=${SFORGE_BENCH_RUNS:-5}
readonly SOURCE_IMAGE=${SFORGE_BENCH_IMAGE:-sforge-test/busybox:latest}
readonly TARGET_SECONDS=1
REAL_DOCKER=${SFORGE_DOCKER:-$(command -v docker || true)}
readonly REAL_DOCKER

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -n $REAL_DOCKER ]] || die "no docker client (install docker or set SFORGE_DOCKER)"
command -v jq >/dev/null || die "jq is required"
"$REAL_DOCKER" image inspect "$SOURCE_IMAGE" >/dev/null 2>&1 \
  || die "image $SOURCE_IMAGE is missing (run scripts/setup.sh, or set SFORGE_BENCH_IMAGE)"

log "building sforge (release)"
cargo build --release --quiet --bin sforge
readonly SFORGE="${CARGO_TARGET_DIR:-target}/release/sforge"
[[ -x $SFORGE ]] || die "$SFORGE was not built"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sforge-bench.XXXXXX")
readonly WORK
readonly NAME="sforge-bench-$$-${RANDOM}"
IMAGES=()
cleanup() {
  if ((${#IMAGES[@]} > 0)); then
    "$REAL_DOCKER" image rm "${IMAGES[@]}" >/dev/null 2>&1 || log "warning: could not remove some ${NAME}.* tags"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- a benchmark with $TASKS tiny tasks on one base image -------------------------------------
mkdir -p "$WORK/tasks" "$WORK/logs"
cat >"$WORK/tasks/BENCHMARK.yaml" <<EOF
name: $NAME
base_images:
  python:
    official_image: debian:bookworm-slim
    extra_packages:
      - python3
EOF
for ((i = 0; i < TASKS; i++)); do
  id=$(printf 'bench_%03d' "$i")
  jq -n --arg id "$id" '{
    task_id: $id, name: "Bench \($id)", base_image: "python", platform: "linux/amd64",
    cwd: "/home/workspace/\($id)", submit_paths: ["."],
    work: {setup_cmds: ["mkdir -p /home/workspace/\($id)", "touch /home/workspace/\($id)/stub.py"],
           agent_query: "Nothing to do."},
    judge: {setup_cmds: ["mkdir -p /home/workspace/\($id)/tests"], eval_cmd: "true", parser: "pytest_v"}
  }' >"$WORK/tasks/$id.json"
done

# A minimal environment, so the caller's proxies and SFORGE_* settings cannot change the result.
run_sforge() {
  env -i PATH="$PATH" HOME="$HOME" SFORGE_DOCKER="$1" "$SFORGE" \
    --tasks-dir "$WORK/tasks" --log-dir "$WORK/logs" "${@:2}"
}

# --- every image present: one small image tagged under all names ------------------------------
mapfile -t IMAGES < <(run_sforge "$REAL_DOCKER" list --json \
  | jq -r '.[].images | .base, .work, .judge' | sort -u)
((${#IMAGES[@]} == 2 * TASKS + 1)) || die "expected $((2 * TASKS + 1)) image names, got ${#IMAGES[@]}"
log "tagging $SOURCE_IMAGE as ${#IMAGES[@]} images of $TASKS tasks"
for image in "${IMAGES[@]}"; do
  "$REAL_DOCKER" tag "$SOURCE_IMAGE" "$image"
done

# --- the counting docker wrapper ----------------------------------------------------------------
readonly CALLS="$WORK/docker-calls"
readonly WRAPPER="$WORK/docker"
cat >"$WRAPPER" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>'$CALLS'
exec '$REAL_DOCKER' "\$@"
EOF
chmod +x "$WRAPPER"

# --- timed runs -----------------------------------------------------------------------------------
readonly EXPECTED="0 built, $((3 * TASKS)) already present, 0 failed"
times=()
counts=()
for ((run = 1; run <= RUNS; run++)); do
  : >"$CALLS"
  start=$(date +%s.%N)
  status=0
  run_sforge "$WRAPPER" build --all >"$WORK/out" 2>"$WORK/err" || status=$?
  end=$(date +%s.%N)
  if ((status != 0)) || ! grep -q "$EXPECTED" "$WORK/out"; then
    cat "$WORK/out" "$WORK/err" >&2
    die "run $run: sforge build --all exited $status or did not report '$EXPECTED'"
  fi
  times+=("$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')")
  counts+=("$(wc -l <"$CALLS")")
  log "run $run: ${times[-1]} s, ${counts[-1]} docker invocation(s)"
done

# --- report -----------------------------------------------------------------------------------
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
min=$(head -n1 <<<"$sorted")
max=$(tail -n1 <<<"$sorted")
median=$(awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : sprintf("%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2) }' <<<"$sorted")
distinct_counts=$(printf '%s\n' "${counts[@]}" | sort -u | paste -sd, -)
time_ok=$(awk -v m="$max" -v t="$TARGET_SECONDS" 'BEGIN { print (m < t) ? "yes" : "NO" }')
count_ok=$([[ $distinct_counts != *,* ]] && echo yes || echo NO)

echo "sforge build --all, no-op: $TASKS tasks, $((3 * TASKS)) images present, $RUNS runs"
echo "  docker client:      $REAL_DOCKER"
echo "  wall time (s):      min $min  median $median  max $max   (target < ${TARGET_SECONDS} s: $time_ok)"
echo "  docker invocations: $distinct_counts per run   (constant: $count_ok)"
echo "  commands of the last run:"
sed 's/^/    docker /' "$CALLS"
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 1 --runs "$RUNS" \
    "env -i PATH='$PATH' HOME='$HOME' SFORGE_DOCKER='$REAL_DOCKER' '$SFORGE' --tasks-dir '$WORK/tasks' --log-dir '$WORK/logs' build --all"
fi
