#!/usr/bin/env bash
# sforge-submit: send the code in $SFORGE_PATCH_DIR to the SForge judge and print its grade.
# Installed by sforge as /usr/local/bin/sforge-submit. Needs curl, jq, tar, mktemp and date.
#
# Environment:
#   SFORGE_JUDGE_URL, SFORGE_TOKEN     where to submit, and as whom (required)
#   SFORGE_PATCH_DIR                   directory to pack (default: the current directory)
#   SFORGE_SUBMIT_PATHS                space-separated paths to pack, relative to it
#   SFORGE_SUBMIT_EXCLUDE_FLAGS        space-separated --exclude=<pattern> words for tar
#   SFORGE_STATE_FILE                  local progress record (default: /tmp/sforge_state.json)
#   SFORGE_SUBMIT_POLL_INTERVAL        seconds between result checks (default: 10)
#   SFORGE_SUBMIT_POLL_MAX             how many checks before giving up (default: 720)
set -euo pipefail

readonly STATE_FILE="${SFORGE_STATE_FILE:-/tmp/sforge_state.json}"
readonly POLL_INTERVAL="${SFORGE_SUBMIT_POLL_INTERVAL:-10}"
readonly POLL_MAX="${SFORGE_SUBMIT_POLL_MAX:-720}"

usage() {
    cat <<'USAGE'
Usage: sforge-submit [--details] [--list]

Without options, packs your submitted files, sends them to the judge, waits for the
grade and prints it.

Options:
  -d, --details   also print one line per test: [STATUS] name: message
  -l, --list      print the grades of all your earlier submissions instead
  -h, --help      print this help
USAGE
}

mode=submit
details=false
for arg in "$@"; do
    case "$arg" in
        -l | --list) mode=list ;;
        -d | --details) details=true ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "ERROR: Unknown option: $arg" >&2
            echo "Run 'sforge-submit --help' to see the options." >&2
            exit 1
            ;;
    esac
done

for var in SFORGE_JUDGE_URL SFORGE_TOKEN; do
    if [ -z "${!var:-}" ]; then
        echo "ERROR: $var not set" >&2
        exit 1
    fi
done
readonly JUDGE="${SFORGE_JUDGE_URL%/}"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/sforge-submit.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

# A pass rate (0..1) as a percentage rounded down to 0.1, e.g. 0.6666 -> "66.6%".
# shellcheck disable=SC2016 # a jq definition: the $ belongs to jq
readonly JQ_PERCENT='def percent: ((. // 0) * 1000 + 1e-6 | floor) as $t
    | "\($t / 10 | floor).\($t % 10)%";'

# Print the reason of a failed curl call and stop.
unreachable() {
    local reason
    reason="$(sed -e 's/^curl: //' "$scratch/curl.err" 2>/dev/null | tail -n 1)"
    echo "ERROR: cannot reach the judge at $JUDGE: ${reason:-no answer}" >&2
    exit 1
}

# The `detail` of an error response, as text.
detail_of() {
    jq -r '.detail // empty | if type == "string" then . else tojson end' "$1" 2>/dev/null || true
}

list_history() {
    local body="$scratch/history.json" code
    code="$(curl -sS --max-time 30 -o "$body" -w '%{http_code}' --get \
        --data-urlencode "token=$SFORGE_TOKEN" "$JUDGE/api/v1/history" 2>"$scratch/curl.err")" \
        || unreachable
    if [ ! -s "$body" ]; then
        echo "ERROR: No response from judge server" >&2
        exit 1
    fi
    if [ "$code" != 200 ]; then
        echo "ERROR: $(detail_of "$body") (HTTP $code)" >&2
        exit 1
    fi
    jq -r "$JQ_PERCENT"'
        def cell($n): tostring | if length < $n then . + (" " * ($n - length)) else . end;
        def short: tostring | gsub("[\\r\\n\\t]+"; " ")
            | if length > 40 then .[0:37] + "..." else . end;
        (.entries // []) as $entries
        | "============================================================",
          " Submission history: \($entries | length) total",
          " Best pass rate: \(.best_pass_rate | percent)",
          (if .best_score != null then " Best score: \(.best_score)" else empty end),
          "============================================================",
          "",
          (["ROUND" | cell(14)] + ["STATUS" | cell(10)] + ["VALID" | cell(8)]
            + ["PASS_RATE" | cell(12)] + ["SCORE" | cell(10)] + ["SUMMARY"] | join("")),
          ($entries[] | select(.type == "submission")
            | [(.round // "-" | cell(14)), (.status // "-" | cell(10)),
               (if .valid == false then "no" else "yes" end | cell(8)),
               (if .pass_rate != null then (.pass_rate | percent) else "-" end | cell(12)),
               (if .score != null then .score else "-" end | cell(10)),
               (.summary // "" | short)]
            | join(""))' "$body"
}

# Pack the submitted paths that exist into $1 (an empty archive when none exist).
pack() {
    local archive="$1" path
    local -a wanted=() present=() excludes=()
    read -r -a wanted <<<"${SFORGE_SUBMIT_PATHS:-}"
    read -r -a excludes <<<"${SFORGE_SUBMIT_EXCLUDE_FLAGS:-}"
    for path in ${wanted[@]+"${wanted[@]}"}; do
        if [ -e "$path" ]; then
            present+=("$path")
        fi
    done
    if [ "${#present[@]}" -eq 0 ]; then
        tar czf "$archive" -T /dev/null
        return
    fi
    tar czf "$archive" --exclude=.git ${excludes[@]+"${excludes[@]}"} -- "${present[@]}"
}

# POST the archive; sets `submission` to the response body file or stops with a message.
send() {
    local archive="$1" code detail
    submission="$scratch/submit.json"
    code="$(curl -sS --max-time 120 -o "$submission" -w '%{http_code}' \
        --form-string "token=$SFORGE_TOKEN" \
        -F "archive=@$archive;type=application/gzip;filename=submission.tar.gz" \
        "$JUDGE/api/v1/submit" 2>"$scratch/curl.err")" || unreachable
    detail="$(detail_of "$submission")"
    if [ "$code" = 429 ]; then
        if grep -qiE 'budget|exhausted' <<<"$detail"; then
            echo "SUBMISSION LIMIT REACHED: $detail" >&2
        else
            echo "COOLDOWN: $detail" >&2
        fi
        echo "$detail"
        exit 1
    fi
    if [ "$code" = 403 ] && [ -n "$detail" ]; then
        echo "ERROR: $detail" >&2
        exit 1
    fi
    if [ -z "$(jq -r '.submission_id // empty' "$submission" 2>/dev/null || true)" ]; then
        echo "ERROR: Failed to submit to judge server (HTTP $code)" >&2
        cat "$submission" >&2 2>/dev/null || true
        echo >&2
        exit 1
    fi
}

# Wait until the grade of submission $1 is final; its last answer is left in $2.
wait_for_grade() {
    local id="$1" out="$2" status="" tries=0
    while [ "$tries" -lt "$POLL_MAX" ]; do
        tries=$((tries + 1))
        sleep "$POLL_INTERVAL"
        if curl -sS --max-time 30 -o "$out" "$JUDGE/api/v1/result/$id" 2>"$scratch/curl.err"; then
            status="$(jq -r '.status // empty' "$out" 2>/dev/null || true)"
            if [ "$status" = completed ] || [ "$status" = error ]; then
                return 0
            fi
        fi
    done
    echo "ERROR: Evaluation timed out or judge unreachable" >&2
    exit 1
}

# Record a graded round in the state file (written to a temp file, then renamed).
record_state() {
    local round="$1" result="$2" current tmp
    current='{"best_pass_rate": 0, "best_score": null, "best_round": "", "submissions": []}'
    if [ -s "$STATE_FILE" ] && jq -e 'type == "object"' "$STATE_FILE" >/dev/null 2>&1; then
        current="$(cat "$STATE_FILE")"
    fi
    tmp="$(mktemp "$STATE_FILE.XXXXXX" 2>/dev/null)" || return 0
    if jq --arg round "$round" --argjson at "$(date +%s)" --slurpfile result "$result" '
        ($result[0].report // {}) as $r
        | ($r.pass_rate // 0) as $rate
        | .submissions = ((.submissions // []) + [{kind: "agent", round: $round, at: $at,
                                                    pass_rate: $rate, score: $r.score}])
        | if $rate > (.best_pass_rate // 0)
          then .best_pass_rate = $rate | .best_score = $r.score | .best_round = $round
          else . end' <<<"$current" >"$tmp"; then
        mv -f "$tmp" "$STATE_FILE"
    else
        rm -f "$tmp"
    fi
}

# Print the results block of a completed grade.
print_grade() {
    jq -r --argjson details "$details" "$JQ_PERCENT"'
        def failed: .status == "FAILED" or .status == "ERROR";
        def names($list): ($list | map(select(failed) | .name)) as $n
            | ($n[0:20][] | "  - \(.)"),
              (if ($n | length) > 20 then "  ... and \(($n | length) - 20) more" else empty end);
        (.report // {}) as $r
        | ($r.details // []) as $d
        | ($r.test_details // []) as $t
        | ($r.total_tests // 0) as $total
        | (if $r.valid == false then "Valid: no" else empty end),
          (if $r.score != null then "Score: \($r.score)" else empty end),
          (if $total > 0
           then "Pass rate: \($r.pass_rate | percent) (\($r.passed // 0)/\($total) tests passed)"
           else empty end),
          (if ($r.summary // "") != "" then "Summary: \($r.summary)" else empty end),
          (($r.metrics // {}) | to_entries[]
            | "\(.key): \(.value | if type == "string" then . else tojson end)"),
          (if ($d | map(select(failed)) | length) > 0 then "Failures:", names($d)
           elif ($t | map(select(failed)) | length) > 0 then "Failures:", names($t)
           elif $total > 0 then "All tests passed!"
           else empty end),
          (if $details then
             ($d[] | "[\(.status)] \(.name): \(.message // "")"),
             (if ($d | length) == 0 then ($t[] | "[\(.status)] \(.name)") else empty end)
           else empty end)' "$1"
}

submit() {
    local archive="$scratch/submission.tar.gz" result="$scratch/result.json"
    local id round remaining
    if ! cd "${SFORGE_PATCH_DIR:-$PWD}"; then
        echo "ERROR: cannot enter SFORGE_PATCH_DIR (${SFORGE_PATCH_DIR:-})" >&2
        exit 1
    fi
    pack "$archive"
    echo "============================================================"
    echo " Submitting $(wc -c <"$archive" | tr -d ' ') bytes from $PWD"
    echo " The judge grades it now; this can take a few minutes."
    echo "============================================================"
    send "$archive"
    id="$(jq -r '.submission_id' "$submission")"
    round="$(jq -r '.round_id // .submission_id' "$submission")"
    remaining="$(jq -r '.remaining_submissions // empty' "$submission")"
    if [ -n "$remaining" ]; then
        echo "Round: $round (remaining submissions: $remaining)"
    else
        echo "Round: $round"
    fi
    wait_for_grade "$id" "$result"
    if [ "$(jq -r '.status' "$result")" = error ]; then
        echo "Round $round: ERROR"
        echo "ERROR: $(jq -r '.error // "the judge could not grade this submission"' "$result")" >&2
        exit 1
    fi
    record_state "$round" "$result"
    echo
    echo "Results of round $round:"
    print_grade "$result"
}

if [ "$mode" = list ]; then
    list_history
else
    submit
fi
