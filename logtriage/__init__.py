"""Log triage: header parsing, variable masking and streaming template mining (no Django needed).

    from logtriage import LogGrouper
    grouper = LogGrouper()
    record, group = grouper.add("2024-05-01 12:00:00 ERROR [main] db.Pool: connection 42 refused")
    group.id, group.template   # 1, 'connection <*> refused'
"""

from .headers import HeaderParser, Record, UserFormat, normalise_level
from .masking import WILDCARD, Masker, mask
from .miner import Group, Miner
from .stream import LogGrouper, group_lines

__all__ = ["WILDCARD", "Group", "HeaderParser", "LogGrouper", "Masker", "Miner", "Record", "UserFormat",
           "group_lines", "mask", "normalise_level"]
