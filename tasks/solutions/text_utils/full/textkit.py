"""Small text helpers. A word is a maximal run of ASCII letters and digits."""

import re

_WORD = re.compile(r"[A-Za-z0-9]+")


def _words(text):
    return [word.lower() for word in _WORD.findall(text)]


def slugify(text):
    """Return the lower-cased words of text joined by single hyphens."""
    return "-".join(_words(text))


def word_count(text):
    """Return a dict mapping each lower-cased word to its number of occurrences."""
    counts = {}
    for word in _words(text):
        counts[word] = counts.get(word, 0) + 1
    return counts


def is_palindrome(text):
    """Return True when the letters and digits of text read the same both ways, ignoring case."""
    chars = "".join(_words(text))
    return chars == chars[::-1]
