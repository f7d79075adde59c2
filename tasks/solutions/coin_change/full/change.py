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
