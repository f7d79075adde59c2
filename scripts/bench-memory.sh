#!/usr/bin/env bash
# Benchmark: peak memory of sforge (release build) under the four attacks of issue 12, "Why" 3,
# at full size (docs/security.md#bounded-reads). Target: under 200 MiB each.
#
#   state     `sforge run`; the agent runs `truncate -s 2G /tmp/sforge_state.json`
#   flood     `sforge eval`; the graded code prints 600 MiB to stdout
#   snapshot  `sforge run`; the agent leaves a 300 MB file (random bytes) in cwd; then once more
#             with 200 MB, under the snapshot limit, so that it is copied, submitted and graded
#   bomb      `sforge eval` of a 1 MB gzip holding 1000 MiB of zeros (two 500 MiB files, within
#             the archive limits, so that they are unpacked, re-packed and extracted)
#
# For each: VmHWM of the sforge process (polled from /proc every 50 ms) and GNU time's maximum
# resident set size (sforge or the largest process it waited for, e.g. a docker client).
#
# Usage: scripts/bench-memory.sh [case...]     (default: all; SFORGE_BIN=path to test another build)
# Needs a running Docker engine, GNU time (/usr/bin/time) and what `sforge build` of the example
# benchmark needs (scripts/setup.sh). Everything it makes (a copy of the benchmark under a unique
# name, its images and containers, the attack files) is removed on exit.
set -euo pipefail

DOCKER=${SFORGE_DOCKER:-$(command -v /usr/bin/docker || command -v docker)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH=sforge-bench-mem-$$
TARGET_KIB=$((200 * 1024))
CASES=("$@")
[ ${#CASES[@]} -gt 0 ] || CASES=(state flood snapshot bomb)

WORK=$(mktemp -d -t sforge-bench-memory.XXXXXX)
cleanup() {
    "$DOCKER" ps -aq --filter "name=^${BENCH}\." 2>/dev/null | xargs -r "$DOCKER" rm -f -v >/dev/null 2>&1 || true
    "$DOCKER" ps -aq --filter "name=^sforge\.run\..*\.mem-$$-" 2>/dev/null | xargs -r "$DOCKER" rm -f -v >/dev/null 2>&1 || true
    "$DOCKER" image ls --format '{{.Repository}}:{{.Tag}}' | grep "^${BENCH}\." | xargs -r "$DOCKER" image rm -f >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x /usr/bin/time ] || { echo "error: GNU time (/usr/bin/time) is missing" >&2; exit 1; }
if [ -n "${SFORGE_BIN:-}" ]; then
    SFORGE=$SFORGE_BIN
else
    echo "Building sforge (release)..." >&2
    (cd "$ROOT" && cargo build --release --quiet --bin sforge)
    SFORGE=$TARGET_DIR/release/sforge
fi

# A copy of the example benchmark under a unique name, with two tasks of our own: `quiet`
# (one passing test) and `flood` (600 MiB of output).
cp -r "$ROOT/tasks" "$WORK/tasks"
sed -i "s/^name: .*/name: $BENCH/" "$WORK/tasks/BENCHMARK.yaml"
task_json() { # $1: id, $2: eval_cmd
    cat <<EOF
{
  "task_id": "$1",
  "name": "Memory benchmark task $1",
  "base_image": "python",
  "platform": "linux/amd64",
  "cwd": "/home/workspace/$1",
  "submit_paths": ["."],
  "submit_exclude": ["tests/"],
  "internet": true,
  "work": {"setup_cmds": ["mkdir -p /home/workspace/$1"], "agent_query": "Nothing to do."},
  "judge": {
    "setup_cmds": ["mkdir -p /home/workspace/$1"],
    "eval_cmd": "$2",
    "eval_timeout": 600,
    "parser": "pytest_v"
  }
}
EOF
}
task_json quiet "echo 'tests/test_q.py::test_ok PASSED'" >"$WORK/tasks/quiet.json"
task_json flood "yes 'tests/test_f.py::test_flood PASSED' | head -c 629145600" >"$WORK/tasks/flood.json"

sforge() {
    env -i PATH="$PATH" HOME="$HOME" SFORGE_DOCKER="$DOCKER" "$SFORGE" --silent \
        --tasks-dir "$WORK/tasks" --log-dir "$WORK/logs" "$@"
}

echo "Building the benchmark's images..." >&2
sforge build --task quiet --task flood >"$WORK/build.out" 2>&1 || {
    cat "$WORK/build.out" >&2
    exit 1
}

# Runs "$@" under GNU time, polling the VmHWM of the process it starts; sets HWM_KIB, TIME_KIB
# and STATUS.
measure() {
    /usr/bin/time -v -o "$WORK/time.txt" "$@" >"$WORK/out" 2>&1 &
    local timer=$! pid="" value
    HWM_KIB=0
    while kill -0 "$timer" 2>/dev/null; do
        [ -n "$pid" ] || pid=$(pgrep -P "$timer" | head -n1 || true)
        if [ -n "$pid" ]; then
            value=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
            if [ -n "$value" ] && [ "$value" -gt "$HWM_KIB" ]; then HWM_KIB=$value; fi
        fi
        sleep 0.05
    done
    STATUS=0
    wait "$timer" || STATUS=$?
    TIME_KIB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time.txt")
}

RESULTS=()
report() { # $1: case, $2: what happened
    local verdict="ok"
    [ "$HWM_KIB" -lt "$TARGET_KIB" ] && [ "$TIME_KIB" -lt "$TARGET_KIB" ] || verdict="ABOVE TARGET"
    RESULTS+=("$(printf '  %-9s sforge VmHWM %4d MiB, max RSS (time -v) %4d MiB  %-12s %s' \
        "$1" $((HWM_KIB / 1024)) $((TIME_KIB / 1024)) "$verdict" "$2")")
    echo "${RESULTS[-1]}" >&2
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'; }

run_agent() { # $1: run id, $2: agent script; extra environment after
    local id=$1 script=$WORK/$1.sh
    printf '%s\n' "$2" >"$script"
    measure env -i PATH="$PATH" HOME="$HOME" SFORGE_DOCKER="$DOCKER" "$SFORGE" --silent \
        --tasks-dir "$WORK/tasks" --log-dir "$WORK/logs" \
        run --task quiet --run-id "$id" --agent script --agent-script "$script" \
        --eval-interval 0 --timeout 600 --judge-url "http://host.docker.internal:$(free_port)"
}

agent_log() { cat "$WORK/logs/runs/$1/quiet/run_agent.log" 2>/dev/null || true; }

case_state() {
    run_agent "mem-$$-state" 'truncate -s 2G /tmp/sforge_state.json'
    local copied="none"
    [ -e "$WORK/logs/runs/mem-$$-state/quiet/evolve_state.json" ] &&
        copied=$(stat -c %s "$WORK/logs/runs/mem-$$-state/quiet/evolve_state.json")
    report state "exit $STATUS; evolve_state.json: $copied; $(agent_log "mem-$$-state" | grep -o 'larger than [0-9]* bytes' | head -n1)"
}

case_flood() {
    : | gzip >"$WORK/empty.tar.gz"
    measure env -i PATH="$PATH" HOME="$HOME" SFORGE_DOCKER="$DOCKER" "$SFORGE" --silent \
        --tasks-dir "$WORK/tasks" --log-dir "$WORK/logs" \
        eval --json --task flood --run-id "mem-$$-flood" --archive "$WORK/empty.tar.gz"
    local dir=$WORK/logs/runs/mem-$$-flood/flood/submissions/manual-1
    report flood "exit $STATUS; test_output.txt $(stat -c %s "$dir/test_output.txt" 2>/dev/null || echo '?') bytes; output_bytes_cut $(grep -o '"output_bytes_cut": [0-9]*' "$dir/report.json" | grep -o '[0-9]*$' || echo 0)"
}

case_snapshot() {
    run_agent "mem-$$-snap300" 'head -c 300000000 /dev/urandom > big.bin'
    report snapshot "300 MB: exit $STATUS; final_archive.tar.gz $(stat -c %s "$WORK/logs/runs/mem-$$-snap300/quiet/final_archive.tar.gz" 2>/dev/null || echo '?') bytes; $(agent_log "mem-$$-snap300" | grep -o 'larger than [0-9]* bytes' | head -n1)"
    run_agent "mem-$$-snap200" 'head -c 200000000 /dev/urandom > big.bin'
    report snapshot "200 MB: exit $STATUS; final_archive.tar.gz $(stat -c %s "$WORK/logs/runs/mem-$$-snap200/quiet/final_archive.tar.gz" 2>/dev/null || echo '?') bytes; final round graded: $(grep -c '"status": "completed"' "$WORK/logs/runs/mem-$$-snap200/quiet/run_history.json" 2>/dev/null || echo 0)"
}

case_bomb() {
    python3 - "$WORK/bomb.tar.gz" <<'EOF'
import gzip, sys, tarfile
MIB = 1 << 20
zeros = gzip.compress(bytes(MIB), 9)
with open(sys.argv[1], "wb") as out:
    for name in ("zeros-1.bin", "zeros-2.bin"):
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = 500 * MIB, 0o644, 1700000000
        out.write(gzip.compress(info.tobuf(tarfile.GNU_FORMAT), 9))
        for _ in range(500):
            out.write(zeros)
    out.write(gzip.compress(bytes(1024), 9))
EOF
    measure env -i PATH="$PATH" HOME="$HOME" SFORGE_DOCKER="$DOCKER" "$SFORGE" --silent \
        --tasks-dir "$WORK/tasks" --log-dir "$WORK/logs" \
        eval --json --task quiet --run-id "mem-$$-bomb" --archive "$WORK/bomb.tar.gz"
    report bomb "$(stat -c %s "$WORK/bomb.tar.gz") bytes of gzip: exit $STATUS; $(grep -o '"passed": [0-9]*' "$WORK/out" | head -n1)"
}

for name in "${CASES[@]}"; do
    echo "Case $name..." >&2
    "case_$name"
done

echo
echo "sforge peak memory under the attacks of issue 12 (target < 200 MiB; $(basename "$SFORGE"), docker $("$DOCKER" version --format '{{.Server.Version}}'))"
printf '%s\n' "${RESULTS[@]}"
