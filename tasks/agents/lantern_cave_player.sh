#!/usr/bin/env bash
# Example agent for game mode (`sforge run --agent script`): plays the lantern_cave example
# task to its full score through the judge's game routes. GAME_SERVER_URL is
# <judge>/api/v1/game/<run>/<task>; every call carries the run's token (SFORGE_TOKEN) as a bearer
# token. Runs as user `agent` in the task's directory.
#
#   sforge run --tasks-dir tasks/games --task lantern_cave --agent script \
#     --agent-script tasks/agents/lantern_cave_player.sh
set -euo pipefail

: "${GAME_SERVER_URL:?not a game task: GAME_SERVER_URL is not set}"
: "${SFORGE_TOKEN:?SFORGE_TOKEN is not set}"

# One call to the game server: METHOD PATH [JSON body]; prints the JSON answer.
call() {
    curl -sS --fail-with-body --max-time 60 -X "$1" \
        -H "Authorization: Bearer $SFORGE_TOKEN" -H 'Content-Type: application/json' \
        --data "${3:-{\}}" "$GAME_SERVER_URL$2"
}

game=$(call POST /new)
sid=$(jq -r .session_id <<<"$game")
echo "Session $sid (max score $(jq .max_score <<<"$game"))"
jq -r .observation <<<"$game"

for action in "take lamp" "north" "take key" "unlock door" "east" "take treasure"; do
    state=$(call POST "/$sid/step" "$(jq -cn --arg a "$action" '{action: $a}')")
    echo "> $action"
    jq -r .observation <<<"$state"
    echo "Score: $(jq .score <<<"$state")/$(jq .max_score <<<"$state"), done: $(jq .done <<<"$state")"
    if [ "$(jq .done <<<"$state")" = true ]; then
        break
    fi
done
exit 0
