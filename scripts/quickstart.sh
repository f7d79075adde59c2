#!/usr/bin/env bash
# Runs the README quick start's `sforge run` command end to end (script agent, example task,
# images built and judge started on demand) and checks that the run reached a 100% pass rate.
# CI calls it after the test suite; it needs what scripts/setup.sh prepares.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --locked --quiet
export PATH="${CARGO_TARGET_DIR:-$PWD/target}/debug:$PATH"
SFORGE_LOG_DIR="$(mktemp -d)"
export SFORGE_LOG_DIR
trap 'rm -rf "$SFORGE_LOG_DIR"' EXIT

# The command exactly as the README shows it.
sforge run --task text_utils --agent script --agent-script tasks/agents/text_utils_solver.sh --timeout 300

result=$(find "$SFORGE_LOG_DIR/runs" -name final_result.json | head -n 1)
rate=$(jq -r .best_pass_rate "$result")
if [[ "$rate" != "1" && "$rate" != "1.0" ]]; then
  echo "quickstart: expected best_pass_rate 1.0, got $rate ($result)" >&2
  exit 1
fi
echo "quickstart: ok (best pass rate $rate)"
