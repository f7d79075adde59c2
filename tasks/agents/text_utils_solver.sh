#!/usr/bin/env bash
# Example agent for `sforge run --agent script`: solves the text_utils example task in two steps.
# It writes a partial solution to textkit.py and submits it, then writes the full solution and
# submits again. Runs as user `agent` in the task's directory; `sforge-submit` packs the submit
# paths, sends them to the judge and waits for the grade.
#
#   sforge run --task text_utils --agent script --agent-script tasks/agents/text_utils_solver.sh
set -euo pipefail

# Poll the judge every second instead of every 10 s: the example's grades take seconds.
export SFORGE_SUBMIT_POLL_INTERVAL="${SFORGE_SUBMIT_POLL_INTERVAL:-1}"

echo "Step 1: a partial solution (is_palindrome still missing)"
cat > textkit.py <<'PYTHON'
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
    raise NotImplementedError
PYTHON
sforge-submit

echo "Step 2: the full solution"
cat > textkit.py <<'PYTHON'
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
PYTHON
sforge-submit

echo "Done: two submissions graded."
exit 0
