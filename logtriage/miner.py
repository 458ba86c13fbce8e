"""A streaming template miner."""

import re

from .masking import WILDCARD, mask


class Group:
    __slots__ = ("id", "skeleton", "tokens", "count", "template")

    def __init__(self, gid, skeleton, tokens):
        self.id = gid
        self.skeleton = list(skeleton)
        self.tokens = tokens
        self.count = 0
        self.template = " ".join(tokens)


_ONLY_VARIABLE = re.compile(r"^(?:<\*>|[^\w<>=])*<\*>(?:<\*>|[^\w<>=])*$")
_EVENT_WORD = re.compile(r"^\W*(?:[A-Za-z]{3,}(?:ed|ing)|startup|shutdown|start|stop|open|close|enable|disable|[A-Z]{2,})\W*$|=$")


_EMPTY = {"()", "[]", "{}", '""', "''"}


def collapse(tokens):
    out = []
    prev = None
    for t in tokens:
        if t in _EMPTY or (t != WILDCARD and "<*>" in t and _ONLY_VARIABLE.match(t)):
            t = WILDCARD
        if t == WILDCARD and prev == WILDCARD:
            continue
        out.append(t)
        prev = t
    return out


class Miner:
    def __init__(self, similarity=0.5, first_penalty=0.4, cache_size=100_000):
        self.first_penalty = first_penalty
        self.similarity = similarity
        self.cache_size = cache_size
        self.cache = {}
        self.by_skeleton = {}
        self.groups = {}
        self.buckets = {}
        self.next_id = 1

    def add(self, content):
        masked = mask(content)
        group = self.cache.get(masked)
        if group is None:
            tokens = collapse(masked.split())
            skeleton = tuple(tokens)
            group = self.by_skeleton.get(skeleton)
            if group is None:
                group = self._match(skeleton, tokens)
                self.by_skeleton[skeleton] = group
            if len(self.cache) >= self.cache_size:
                self.cache.clear()
            self.cache[masked] = group
        group.count += 1
        return group

    def _match(self, skeleton, tokens):
        n = len(skeleton)
        key = n
        bucket = self.buckets.setdefault(key, [])
        best, best_sim = None, -1.0
        for g in bucket:
            same = 0
            for a, b in zip(g.skeleton, skeleton):
                if a == b:
                    same += 1
                elif a != WILDCARD and (_EVENT_WORD.match(a) or _EVENT_WORD.match(b)):
                    same = -n
                    break
            sim = same / n
            if n and g.skeleton[0] != skeleton[0] and g.skeleton[0] != WILDCARD and skeleton[0] != WILDCARD:
                sim -= self.first_penalty
            if sim > best_sim:
                best, best_sim = g, sim
        if best is not None and best_sim > self.similarity:
            changed = False
            for i, (a, b) in enumerate(zip(best.skeleton, skeleton)):
                if a != b and a != WILDCARD:
                    best.skeleton[i] = WILDCARD
                    changed = True
            if changed:
                best.template = " ".join(collapse(best.skeleton))
            return best
        g = Group(self.next_id, skeleton, tokens)
        self.next_id += 1
        self.groups[g.id] = g
        bucket.append(g)
        return g
