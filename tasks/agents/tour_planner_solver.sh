#!/usr/bin/env bash
# Example agent for `sforge run --agent script`: solves the tour_planner example task in two steps.
# It writes a partial solution to tour.py and submits it, then writes the full solution and
# submits again. Runs as user `agent` in the task's directory; `sforge-submit` packs the submit
# paths, sends them to the judge and waits for the grade.
#
#   sforge run --task tour_planner --agent script --agent-script tasks/agents/tour_planner_solver.sh
set -euo pipefail

# Poll the judge every second instead of every 10 s: the example's grades take seconds.
export SFORGE_SUBMIT_POLL_INTERVAL="${SFORGE_SUBMIT_POLL_INTERVAL:-1}"

echo "Step 1: a nearest-neighbour tour (valid, rarely the shortest)"
cat > tour.py <<'PYTHON'
"""Tour planning: visit every point once and come back, as short as possible."""

import math


def plan_tour(points):
    """Return a visiting order for points (a list of (x, y) pairs): a permutation of
    range(len(points)). The tour returns from the last point to the first; shorter is better."""
    # Nearest neighbour from point 0: always a valid tour, rarely the shortest one.
    order = [0] if points else []
    left = set(range(1, len(points)))
    while left:
        here = points[order[-1]]
        nearest = min(left, key=lambda i: (math.dist(here, points[i]), i))
        order.append(nearest)
        left.remove(nearest)
    return order
PYTHON
sforge-submit

echo "Step 2: the full solution"
cat > tour.py <<'PYTHON'
"""Tour planning: visit every point once and come back, as short as possible."""

import itertools
import math


def _length(points, order):
    return sum(math.dist(points[a], points[b]) for a, b in zip(order, order[1:] + order[:1]))


def plan_tour(points):
    """Return a visiting order for points (a list of (x, y) pairs): a permutation of
    range(len(points)). The tour returns from the last point to the first; shorter is better."""
    if len(points) < 3:
        return list(range(len(points)))
    # Exhaustive search with point 0 fixed; fine for the handful of points given here.
    rest = itertools.permutations(range(1, len(points)))
    return min(([0] + list(tail) for tail in rest), key=lambda order: _length(points, order))
PYTHON
sforge-submit

echo "Done: two submissions graded."
exit 0
