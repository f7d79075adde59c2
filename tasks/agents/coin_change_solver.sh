#!/usr/bin/env bash
# Example agent for `sforge run --agent script`: solves the coin_change example task in two steps.
# It writes a partial solution to change.py and submits it, then writes the full solution and
# submits again. Runs as user `agent` in the task's directory; `sforge-submit` packs the submit
# paths, sends them to the judge and waits for the grade.
#
#   sforge run --task coin_change --agent script --agent-script tasks/agents/coin_change_solver.sh
set -euo pipefail

# Poll the judge every second instead of every 10 s: the example's grades take seconds.
export SFORGE_SUBMIT_POLL_INTERVAL="${SFORGE_SUBMIT_POLL_INTERVAL:-1}"

echo "Step 1: a greedy solution (not always optimal)"
cat > change.py <<'PYTHON'
"""Coin change: pay an amount with as few coins as possible."""


def make_change(amount, coins):
    """Return a list of coins (values from coins, repeats allowed) that sums to amount
    and has as few elements as possible, or None when no combination sums to amount."""
    # Greedy: largest coin first. Often optimal, sometimes not, and it can get stuck.
    answer = []
    for coin in sorted(coins, reverse=True):
        while amount >= coin:
            answer.append(coin)
            amount -= coin
    return answer if amount == 0 else None
PYTHON
sforge-submit

echo "Step 2: the full solution"
cat > change.py <<'PYTHON'
"""Coin change: pay an amount with as few coins as possible."""


def make_change(amount, coins):
    """Return a list of coins (values from coins, repeats allowed) that sums to amount
    and has as few elements as possible, or None when no combination sums to amount."""
    best = [[]] + [None] * amount
    for value in range(1, amount + 1):
        for coin in coins:
            rest = best[value - coin] if coin <= value else None
            if rest is not None and (best[value] is None or len(rest) + 1 < len(best[value])):
                best[value] = rest + [coin]
    return best[amount]
PYTHON
sforge-submit

echo "Done: two submissions graded."
exit 0
