"""Text matches: Qdrant's word tokens and the five ways to match them.

Without a text index Qdrant splits text into words (runs of letters and
digits), lowercased; ``text`` wants every query word in the value,
``text_any`` one of them, ``phrase`` them in a row; ``prefix`` and
``substring`` compare the raw string, case-sensitive.

>>> tokens("Hello, World_2!")
['hello', 'world', '2']
>>> text_matcher("text", "world hello")("Hello, World")
True
>>> text_matcher("phrase", "world hello")("Hello, World")
False
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["tokens", "text_matcher"]

_WORD = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    """Lowercased words of ``text``."""
    return [t.lower() for t in _WORD.findall(text)]


def text_matcher(mode: str, query: str) -> Callable[[str], bool]:
    """A predicate on one string for a MatchText of that ``mode``."""
    if mode == "prefix":
        return lambda s: s.startswith(query)
    if mode == "substring":
        return lambda s: query in s
    want = tokens(query)
    if mode == "text":
        need = set(want)
        return lambda s: bool(need) and need.issubset(tokens(s))
    if mode == "text_any":
        need = set(want)
        return lambda s: not need.isdisjoint(tokens(s))
    if mode == "phrase":
        k = len(want)

        def phrase(s: str) -> bool:
            got = tokens(s)
            return k > 0 and any(got[i : i + k] == want for i in range(len(got) - k + 1))

        return phrase
    raise ValueError(f"unknown text match mode {mode!r}")
