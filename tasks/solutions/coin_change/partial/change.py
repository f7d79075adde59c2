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
