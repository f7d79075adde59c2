#!/usr/bin/env bash
# The project's single test command (README and CI call exactly this): prepares Docker and the
# local test images, restarts the engine with the network state of a new machine (so that no test
# can pass on state an older engine happens to have), then runs every test with real engines
# required. Extra arguments go to `cargo test` (for example a test name filter).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh --fresh-network
# Under SFORGE_TEST_REQUIRE_DOCKER=1 an engine-backed test that cannot reach Docker fails instead
# of skipping, so a broken setup can never pass as green.
SFORGE_TEST_REQUIRE_DOCKER=1 exec cargo test --locked "$@"
