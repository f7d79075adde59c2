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
