"""Masking of common variables before template mining.

A line is split on white space and each token is masked on its own; the masked form of a token is
cached, so a stream pays for the regular expressions once per distinct token shape. Numbers are
turned into `0` first, so `took 15 ms` and `took 7 ms` share their tokens in the cache.
"""

import re

WILDCARD = "<*>"

# Quantities: a number with its unit is one variable (`303 bytes`, `12 KB`, `<1 sec`).
_NUMBER = re.compile(
    r"(?<![A-Z])[<>~]?\d+(?:\.\d+)?(?:\s?(?:bytes|[KMGT]i?B|ms|us|ns|secs?|seconds|mins?|minutes|hours)\b)?")
_QUOTED_VALUE = re.compile(r'(?<=[=:])"[^"]*"')
_LEADER = re.compile(r"(\w)(?=\.{3,}\S)")

# Order matters: the first alternative that matches at a position wins.
_VARIABLE = re.compile(
    r"""
      (?<![\w.\-])(?:[\w-]+\.)+(?:com|net|org|edu|gov|mil|io|info|biz|local|lan|internal)(?![\w.\-])  # host names
    | (?<![\w.\-])(?:[\w-]+\.){2,}[a-z]{2}(?![\w.\-])                                               # www.example.co.uk
    | (?<==)[^\s,;&'"()\[\]{}]+(?:\{[^{}]*\}|\([^()]*\)|\[[^\[\]]*\])?   # key=value
    | \b(?:true|false|null|None|nil)\b                                     # booleans and nothing
    | (?:[a-zA-Z][a-zA-Z0-9+.-]*://|(?<![\w.<])/)[^\s'"<>,;()\[\]]*         # URLs and absolute paths
    | [A-Za-z]:\\[^\s'"<>,;()\[\]]*                                        # Windows paths
    | (?<![\w.\-])(?![A-Z]{3,}\d{1,2}(?![\w.\-]))[\w.\-]*\d[\w.\-]*(?::[\w.\-]*\d[\w.\-]*)*  # numbers, hex, IPs, ids, times
    """,
    re.VERBOSE,
)
_ONLY_VARIABLE = re.compile(r"^(?:<\*>|[^\w<>=])*<\*>(?:<\*>|[^\w<>=])*$")
_EMPTY = {"()", "[]", "{}", '""', "''"}
_CALENDAR = {
    *"Mon Tue Wed Thu Fri Sat Sun Jan Feb Mar Apr May Jun Jul Aug Sep Sept Oct Nov Dec".split(),
    *"Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April June July "
     "August September October November December".split(),
}


def mask_token(token):
    """The masked form of one white-space separated token."""
    if token in _CALENDAR or token.rstrip(",") in _CALENDAR or token in _EMPTY:
        return WILDCARD
    masked = _VARIABLE.sub(WILDCARD, token)
    if masked == WILDCARD or (WILDCARD in masked and _ONLY_VARIABLE.match(masked)):
        return WILDCARD  # "<*>:<*>", "[<*>]", "<*>,": only variables and punctuation
    return masked


class Masker:
    def __init__(self, cache_size=100_000):
        self.cache = {}
        self.cache_size = cache_size

    def tokens(self, text):
        """The masked tokens of a message, runs of variables collapsed into one `<*>`."""
        if '="' in text or ':"' in text:
            text = _QUOTED_VALUE.sub(WILDCARD, text)
        if "..." in text:
            text = _LEADER.sub(r"\1 ", text)  # "address space.......0x0": the dots lead to a value
        cache = self.cache
        out = []
        prev = None
        for token in _NUMBER.sub("0", text).split():
            masked = cache.get(token)
            if masked is None:
                if len(cache) >= self.cache_size:
                    cache.clear()
                masked = cache[token] = mask_token(token)
            if masked is WILDCARD and prev is WILDCARD:
                continue
            out.append(masked)
            prev = masked
        return out


def mask(text):
    """The masked message as one string (for display and tests)."""
    return " ".join(Masker().tokens(text))
