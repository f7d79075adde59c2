#!/usr/bin/env bash
# Benchmark: wall time of `sforge eval` (release build) on a trivial task, against the bare docker
# floor measured in the same run on the same image: `docker create` + `docker start` +
# `docker cp` + `docker exec` + `docker rm -f`. Target: sforge's median <= 1.2x the floor's.
#
# Usage: scripts/bench-eval.sh            (BENCH_REPS=N for N timed repetitions each, default 9)
# Needs a running Docker engine and the local image debian:bookworm-slim (scripts/setup.sh).
# Everything it makes (a temporary benchmark, an image tag, containers) is removed on exit.
set -euo pipefail

REPS=${BENCH_REPS:-9}
IMAGE=debian:bookworm-slim
DOCKER=${SFORGE_DOCKER:-$(command -v /usr/bin/docker || command -v docker)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH=sforge-bench-$$
TASK=trivial
TAG=bench
# What sforge's judge containers run: idle, and gone at once on SIGTERM.
KEEP_ALIVE="trap 'exit 0' TERM INT; while :; do sleep 3600 & wait \$!; done"

WORK=$(mktemp -d -t sforge-bench-eval.XXXXXX)
cleanup() {
    "$DOCKER" ps -aq --filter "name=^${BENCH}" 2>/dev/null | xargs -r "$DOCKER" rm -f >/dev/null 2>&1 || true
    "$DOCKER" image rm "${BENCH}.judge.${TASK}:${TAG}" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "Building sforge (release)..." >&2
(cd "$ROOT" && cargo build --release --quiet --bin sforge)
SFORGE=$TARGET_DIR/release/sforge

"$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1 || {
    echo "error: the image $IMAGE is missing (run scripts/setup.sh)" >&2
    exit 1
}

# A one-task benchmark whose judge image is $IMAGE under the benchmark's name (no build).
mkdir -p "$WORK/tasks" "$WORK/logs" "$WORK/submission"
cat >"$WORK/tasks/BENCHMARK.yaml" <<EOF
name: $BENCH
base_images:
  plain:
    official_image: $IMAGE
    extra_packages: [git] # required by the schema; the base image is never built here
EOF
cat >"$WORK/tasks/$TASK.json" <<EOF
{
  "task_id": "$TASK",
  "name": "Trivial task for the eval benchmark",
  "base_image": "plain",
  "platform": "linux/amd64",
  "cwd": "/work",
  "submit_paths": ["."],
  "submit_exclude": ["tests/"],
  "internet": true,
  "work": {"image_tag": "$TAG", "agent_query": "Nothing to do."},
  "judge": {
    "image_tag": "$TAG",
    "eval_cmd": "echo 'tests/test_trivial.py::test_ok PASSED'",
    "eval_timeout": 60,
    "parser": "pytest_v"
  }
}
EOF
"$DOCKER" tag "$IMAGE" "${BENCH}.judge.${TASK}:${TAG}"

# The submission (one small file), gzip'd for sforge and plain for `docker cp -`.
echo 'print("hello")' >"$WORK/submission/main.py"
tar -C "$WORK/submission" -czf "$WORK/submission.tar.gz" .
# The floor copies the submission and the same eval.sh in one go.
mkdir -p "$WORK/floor/tmp" "$WORK/floor/work"
cp "$WORK/submission/main.py" "$WORK/floor/work/"
cat >"$WORK/floor/tmp/eval.sh" <<'EOF'
#!/bin/bash
set -uxo pipefail
echo '>>>>> Start Test Output'
echo 'tests/test_trivial.py::test_ok PASSED' 2>&1
status=$?
echo '>>>>> End Test Output'
echo "Exit code: $status"
exit 0
EOF
tar -C "$WORK/floor" -cf "$WORK/floor.tar" work tmp

now_ms() {
    local t=$EPOCHREALTIME
    echo $((${t%.*} * 1000 + 10#${t#*.} / 1000))
}

run_sforge() { # $1: repetition
    env -i PATH="$PATH" HOME="$HOME" SFORGE_DOCKER="$DOCKER" "$SFORGE" --silent \
        --tasks-dir "$WORK/tasks" --log-dir "$WORK/logs" \
        eval --task "$TASK" --archive "$WORK/submission.tar.gz" --run-id "rep-$1" >"$WORK/out" 2>&1 || {
        echo "error: sforge eval failed:" >&2
        cat "$WORK/out" >&2
        exit 1
    }
    grep -q 'Passed: *1' "$WORK/out" || {
        echo "error: sforge eval did not grade the trivial task as passed:" >&2
        cat "$WORK/out" >&2
        exit 1
    }
}

run_floor() { # $1: repetition
    local name=$BENCH-floor-$1
    {
        "$DOCKER" create --name "$name" --label sforge.bench=1 --workdir /work "$IMAGE" \
            sh -c "$KEEP_ALIVE"
        "$DOCKER" start "$name"
        "$DOCKER" cp - "$name:/" <"$WORK/floor.tar"
        "$DOCKER" exec --workdir /work "$name" /bin/bash /tmp/eval.sh
        "$DOCKER" rm -f "$name"
    } >"$WORK/floor.out" 2>&1 || {
        echo "error: the docker floor failed:" >&2
        cat "$WORK/floor.out" >&2
        exit 1
    }
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

echo "Warming up..." >&2
run_sforge warmup
run_floor warmup

: >"$WORK/sforge.ms"
: >"$WORK/floor.ms"
for i in $(seq 1 "$REPS"); do # interleaved, so drift in the engine's speed hits both alike
    start=$(now_ms)
    run_sforge "$i"
    echo $(($(now_ms) - start)) >>"$WORK/sforge.ms"
    start=$(now_ms)
    run_floor "$i"
    echo $(($(now_ms) - start)) >>"$WORK/floor.ms"
    echo "  repetition $i/$REPS: sforge $(tail -n1 "$WORK/sforge.ms") ms, floor $(tail -n1 "$WORK/floor.ms") ms" >&2
done

SFORGE_MEDIAN=$(median <"$WORK/sforge.ms")
FLOOR_MEDIAN=$(median <"$WORK/floor.ms")
RATIO=$(awk -v s="$SFORGE_MEDIAN" -v f="$FLOOR_MEDIAN" 'BEGIN { printf "%.2f", s / f }')
VERDICT=$(awk -v r="$RATIO" 'BEGIN { print (r <= 1.2) ? "within target (<= 1.20x)" : "ABOVE target (> 1.20x)" }')

echo
echo "sforge eval benchmark ($REPS repetitions each, image $IMAGE, docker $("$DOCKER" version --format '{{.Server.Version}}'))"
printf '  %-36s median %6d ms   min %6d ms   max %6d ms\n' \
    "sforge eval (release)" "$SFORGE_MEDIAN" "$(sort -n "$WORK/sforge.ms" | head -n1)" "$(sort -n "$WORK/sforge.ms" | tail -n1)"
printf '  %-36s median %6d ms   min %6d ms   max %6d ms\n' \
    "docker create+start+cp+exec+rm" "$FLOOR_MEDIAN" "$(sort -n "$WORK/floor.ms" | head -n1)" "$(sort -n "$WORK/floor.ms" | tail -n1)"
echo "  ratio: ${RATIO}x the floor, $VERDICT"
