#!/usr/bin/env bash
# Benchmark: grading latency and throughput of `sforge serve` (release build) against the bare
# docker floor measured in the same run on the same image (`docker create` + `docker start` +
# `docker cp` + `docker exec` + `docker rm -f`, one container after the other).
#   warm eval: one submission at a time to a judge whose warm pool is full, submit to report;
#   bursts:    20 and 100 submissions sent at once, until the last report, per configuration.
# The client is scripts/bench_judge_client.py (in-process HTTP, so that client processes do not
# take the judge's CPU).
# Targets (README, "Throughput"): warm eval <= 0.5x the floor; a burst of 20 <= 6x the floor.
#
# Usage: scripts/bench-judge.sh
#   BENCH_REPS=N        floor and warm-eval repetitions (default 9)
#   BENCH_CONFIGS="C:P[:R] ..."  --judge-concurrency C and --judge-pool P ("-": the default) of
#                       each burst, spread over R registered runs (default 1; each run has its
#                       own warm containers, as concurrent agent runs do)
#   BENCH_BURSTS="20 100"   burst sizes
#   BENCH_SFORGE=PATH   the sforge binary to measure (default: a release build of this tree)
# Needs a running Docker engine, curl, jq and the local image debian:bookworm-slim
# (scripts/setup.sh). Everything it makes (a temporary benchmark, an image tag, containers, the
# server) is removed on exit.
set -euo pipefail

REPS=${BENCH_REPS:-9}
CONFIGS=${BENCH_CONFIGS:-"-:- -:-:20 1:0 4:0 8:0 4:20 8:20"}
BURSTS=${BENCH_BURSTS:-"20 100"}
IMAGE=debian:bookworm-slim
DOCKER=${SFORGE_DOCKER:-$(command -v /usr/bin/docker || command -v docker)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH=sforge-bench-judge-$$
TASK=trivial
TAG=bench
SECRET=bench-secret-$$
KEEP_ALIVE="trap 'exit 0' TERM INT; while :; do sleep 3600 & wait \$!; done"

WORK=$(mktemp -d -t sforge-bench-judge.XXXXXX)
SERVER_PID=
stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
cleanup() {
    stop_server
    "$DOCKER" ps -aq --filter "name=^${BENCH}" 2>/dev/null | xargs -r "$DOCKER" rm -f >/dev/null 2>&1 || true
    "$DOCKER" image rm "${BENCH}.judge.${TASK}:${TAG}" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in curl jq; do
    command -v "$tool" >/dev/null || { echo "error: $tool is missing (run scripts/setup.sh)" >&2; exit 1; }
done
if [[ -n ${BENCH_SFORGE:-} ]]; then
    SFORGE=$BENCH_SFORGE
else
    echo "Building sforge (release)..." >&2
    (cd "$ROOT" && cargo build --release --quiet --bin sforge)
    SFORGE=$TARGET_DIR/release/sforge
fi
"$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1 || {
    echo "error: the image $IMAGE is missing (run scripts/setup.sh)" >&2
    exit 1
}

# A one-task benchmark whose judge image is $IMAGE under the benchmark's name (no build).
mkdir -p "$WORK/tasks" "$WORK/submission"
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
  "name": "Trivial task for the judge benchmark",
  "base_image": "plain",
  "platform": "linux/amd64",
  "cwd": "/work",
  "submit_paths": ["."],
  "submit_exclude": ["tests/"],
  "internet": false,
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
echo 'print("hello")' >"$WORK/submission/main.py"
tar -C "$WORK/submission" -czf "$WORK/submission.tar.gz" .
mkdir -p "$WORK/floor/tmp" "$WORK/floor/work"
cp "$WORK/submission/main.py" "$WORK/floor/work/"
printf '#!/bin/bash\necho ">>>>> Start Test Output"\necho "tests/test_trivial.py::test_ok PASSED"\necho ">>>>> End Test Output"\n' >"$WORK/floor/tmp/eval.sh"
tar -C "$WORK/floor" -cf "$WORK/floor.tar" work tmp

now_ms() {
    local t=$EPOCHREALTIME
    echo $((${t%.*} * 1000 + 10#${t#*.} / 1000))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

floor_once() { # $1: repetition
    local name=$BENCH-floor-$1
    {
        "$DOCKER" create --name "$name" --network none --workdir /work "$IMAGE" sh -c "$KEEP_ALIVE"
        "$DOCKER" start "$name"
        "$DOCKER" cp - "$name:/" <"$WORK/floor.tar"
        "$DOCKER" exec --workdir /work "$name" /bin/bash /tmp/eval.sh
        "$DOCKER" rm -f "$name"
    } >"$WORK/floor.out" 2>&1 || { cat "$WORK/floor.out" >&2; exit 1; }
}

PORT=
start_server() { # $1: concurrency or -, $2: pool or -
    local args=(--judge-concurrency "$1" --judge-pool "$2")
    [[ $1 == - ]] && args=("${args[@]:2}")
    [[ $2 == - ]] && args=("${args[@]:0:${#args[@]}-2}")
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    rm -rf "$WORK/logs"
    env -i PATH="$PATH" HOME="$HOME" SFORGE_DOCKER="$DOCKER" SFORGE_JUDGE_ADMIN_SECRET="$SECRET" \
        "$SFORGE" --tasks-dir "$WORK/tasks" --log-dir "$WORK/logs" \
        serve --host 127.0.0.1 --port "$PORT" "${args[@]}" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/" && return
        sleep 0.1
    done
    echo "error: the judge did not start:" >&2
    cat "$WORK/server.log" >&2
    exit 1
}

register() { # $1: run id; prints the token
    curl -fsS -H 'content-type: application/json' \
        -d "{\"task_id\":\"$TASK\",\"run_id\":\"$1\",\"admin_secret\":\"$SECRET\"}" \
        "http://127.0.0.1:$PORT/api/v1/register" | jq -r .token
}

# Sends $2 submissions at once with token $1 and prints the milliseconds until the last report
# (in-process HTTP: see the client's header).
burst() { # $1: token(s), comma-separated, $2: submissions
    python3 "$ROOT/scripts/bench_judge_client.py" "$PORT" "$1" "$SECRET" "$WORK/submission.tar.gz" "$2"
}

warm_ready() { # $1: containers wanted
    for _ in $(seq 300); do
        (($("$DOCKER" ps -q --filter "name=^${BENCH}.judge.${TASK}.warm-" | wc -l) >= $1)) && return
        sleep 0.05
    done
    echo "error: the warm pool did not fill" >&2
    exit 1
}

echo "Warming up..." >&2
floor_once warmup
: >"$WORK/floor.ms"
for i in $(seq 1 "$REPS"); do
    start=$(now_ms)
    floor_once "$i"
    echo $(($(now_ms) - start)) >>"$WORK/floor.ms"
done
FLOOR=$(median <"$WORK/floor.ms")

# Warm eval: one submission at a time, each to a full pool of one.
start_server 1 1
token=$(register warm)
: >"$WORK/warm.ms"
for i in $(seq 0 "$REPS"); do
    warm_ready 1
    took=$(burst "$token" 1)
    ((i == 0)) || echo "$took" >>"$WORK/warm.ms"
done
stop_server
WARM=$(median <"$WORK/warm.ms")

echo
echo "sforge judge benchmark (docker $("$DOCKER" version --format '{{.Server.Version}}'), $(nproc) CPUs, image $IMAGE)"
printf '  %-44s median %6d ms\n' "docker floor: create+start+cp+exec+rm" "$FLOOR"
printf '  %-44s median %6d ms  = %.2fx the floor (target <= 0.50x)\n' "warm eval (pool 1): submit to report" "$WARM" \
    "$(awk -v a="$WARM" -v b="$FLOOR" 'BEGIN { print a / b }')"

for config in $CONFIGS; do
    IFS=: read -r c p runs <<<"$config"
    runs=${runs:-1}
    for n in $BURSTS; do
        start_server "$c" "$p"
        tokens=
        for r in $(seq 1 "$runs"); do
            tokens+=${tokens:+,}$(register "burst-$n-$r")
        done
        per_run=$p
        [[ $p == - ]] && per_run=1
        ((per_run == 0)) || warm_ready $((per_run * runs))
        took=$(burst "$tokens" "$n")
        stop_server
        label="burst of $n, concurrency $c, pool $p"
        [[ $c:$p == -:- ]] && label="burst of $n, defaults"
        ((runs == 1)) || label+=", $runs runs"
        printf '  %-44s %9d ms  = %.1fx the floor\n' "$label" "$took" \
            "$(awk -v a="$took" -v b="$FLOOR" 'BEGIN { print a / b }')"
    done
done
left=$("$DOCKER" ps -aq --filter "name=^${BENCH}" | wc -l)
((left == 0)) || { echo "error: $left container(s) left behind" >&2; exit 1; }
