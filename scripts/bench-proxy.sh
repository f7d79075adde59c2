#!/usr/bin/env bash
# Measures what `sforge proxy` adds on loopback: throughput and p50/p99 latency of keep-alive GETs
# sent directly to a minimal upstream vs through the proxy, in one run, as a small table.
# Usage: scripts/bench-proxy.sh [CONNECTIONS] [SECONDS] [BODY_BYTES]   (defaults: 8 5 1024)
# Builds the release binaries if needed (honours CARGO_TARGET_DIR). Only 127.0.0.1 is used.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
connections="${1:-8}"
seconds="${2:-5}"
body_bytes="${3:-1024}"

cargo build --release --locked --quiet --bin sforge --example proxy_bench
target_dir="${CARGO_TARGET_DIR:-target}"
sforge="$target_dir/release/sforge"
bench="$target_dir/release/examples/proxy_bench"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for_port() {
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "nothing listens on port $1" >&2
    return 1
}

pids=()
workdir="$(mktemp -d)"
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$workdir"
}
trap cleanup EXIT

upstream_port="$(free_port)"
"$bench" upstream "$upstream_port" "$body_bytes" 2>"$workdir/upstream.log" &
pids+=("$!")
wait_for_port "$upstream_port"

proxy_port="$(free_port)"
env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy -u SFORGE_HTTP_PROXY -u SFORGE_HTTPS_PROXY \
    "$sforge" --log-dir "$workdir/logs" proxy --host 127.0.0.1 --port "$proxy_port" \
    --target "http://127.0.0.1:$upstream_port" 2>"$workdir/proxy.log" &
pids+=("$!")
wait_for_port "$proxy_port"

echo "sforge proxy benchmark: $connections keep-alive connections, ${seconds}s each, ${body_bytes}-byte responses, loopback"
read -r d_rate d_p50 d_p99 d_err < <("$bench" load "http://127.0.0.1:$upstream_port/v1/bench" "$connections" "$seconds")
read -r p_rate p_p50 p_p99 p_err < <("$bench" load "http://127.0.0.1:$proxy_port/v1/bench" "$connections" "$seconds")

printf '%-8s %12s %10s %10s %8s\n' path "req/s" "p50 µs" "p99 µs" errors
printf '%-8s %12s %10s %10s %8s\n' direct "$d_rate" "$d_p50" "$d_p99" "$d_err"
printf '%-8s %12s %10s %10s %8s\n' proxy "$p_rate" "$p_p50" "$p_p99" "$p_err"
printf '%-8s %12s %10s %10s\n' added "" "$((p_p50 - d_p50))" "$((p_p99 - d_p99))"
