#!/bin/bash
# Turns on hooks in the agent's Codex configuration so that /etc/codex/hooks.json is used:
# set an existing `hooks =` line to true, else add it under [features], else append
# /tmp/sforge-codex-config-append.toml. Runs as root; gives the directory back to the agent user.
set -euo pipefail

config=/home/agent/.codex/config.toml
mkdir -p "$(dirname "$config")"
touch "$config"
if grep -qE '^[[:space:]]*hooks[[:space:]]*=' "$config"; then
    sed -i -E 's/^[[:space:]]*hooks[[:space:]]*=.*$/hooks = true/' "$config"
elif grep -qE '^[[:space:]]*\[features\][[:space:]]*$' "$config"; then
    sed -i -E '/^[[:space:]]*\[features\][[:space:]]*$/a hooks = true' "$config"
else
    if [ -s "$config" ] && [ -n "$(tail -c 1 "$config")" ]; then
        echo >>"$config"
    fi
    cat /tmp/sforge-codex-config-append.toml >>"$config"
fi
chown -R agent:agent "$(dirname "$config")"
