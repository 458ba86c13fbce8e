"""Masking of common variables before template mining: one regular expression pass per line."""

import re

WILDCARD = "<*>"

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*"

# Order matters: the first alternative that matches at a position wins.
_VARIABLE = re.compile(
    rf"""
      (?:{_DAY}\s+)?{_MONTH}\s+\d{{1,2}}\s+\d\d:\d\d(?::\d\d)?(?:\s+\d{{4}})?     # Mon Jul  1 09:00:01 2005
    | (?<![\w.\-])(?:[\w-]+\.)+(?:com|net|org|edu|gov|mil|io|info|biz|local|lan|internal)(?![\w.\-])  # host names
    | (?<![\w.\-])(?:[\w-]+\.){{2,}}[a-z]{{2}}(?![\w.\-])
    | [<>~]?\d+(?:\.\d+)?\s?(?:bytes|[KMGT]i?B|B|ms|us|ns|secs?|seconds|s|mins?|minutes|hours|h)\b  # quantities
    | (?<==)"[^"]*"                               # key="quoted value"
    | (?<==)[^\s,;&'"()\[\]{{}}]+(?:\{{[^{{}}]*\}}|\([^()]*\)|\[[^\[\]]*\])?   # key=value
    | \b(?:true|false|null|None|nil)\b            # booleans and nothing
    | (?:[a-zA-Z][a-zA-Z0-9+.-]*://|(?<![\w.])/)[^\s'"<>,;()\[\]]*  # URLs and absolute paths
    | [A-Za-z]:\\[^\s'"<>,;()\[\]]*                # Windows paths
    | (?<![\w.\-])(?![A-Z]{3,}\d{1,2}(?![\w.\-]))[\w.\-]*\d[\w.\-]*(?::[\w.\-]*\d[\w.\-]*)*    # words with a digit: numbers, hex, IPs, ids, times
    """,
    re.VERBOSE,
)


_LEADER = re.compile(r"(\w)(?=\.{3,}\S)")


def mask(text):
    if "..." in text:
        text = _LEADER.sub(r"\1 ", text)  # "address space.......0x0": the dots lead to a value
    return _VARIABLE.sub(WILDCARD, text)
