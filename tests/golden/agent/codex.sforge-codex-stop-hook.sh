#!/bin/bash
# SForge stop hook for codex: runs when the agent wants to end its turn.
# While time is left, it tells the agent to keep going. Once SFORGE_DEADLINE (epoch seconds)
# has passed it prints {} and lets the agent stop; without SFORGE_DEADLINE it always blocks.
cat >/dev/null

now="$(date +%s)"
deadline="${SFORGE_DEADLINE:-}"
left=""
if [[ "$deadline" =~ ^[0-9]+$ ]]; then
    if (( now >= deadline )); then
        echo '{}'
        exit 0
    fi
    left=" About $(( (deadline - now + 59) / 60 )) minute(s) of your time budget remain."
fi

# Game tasks (GAME_SERVER_URL set) are played, not submitted.
if [ -n "${GAME_SERVER_URL:-}" ]; then
    advice="Keep playing: start a new game session or continue one through the game server to raise your best score."
else
    advice="Keep improving your solution: check the latest grade with sforge-submit, fix what still fails, and submit again."
fi
printf '{"decision":"block","reason":"%s"}\n' \
    "Do not stop yet: the session is not over.${left} ${advice}"
