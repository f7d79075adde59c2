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
