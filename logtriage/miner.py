"""A streaming template miner: each message gets a group with a template and a stable id.

How a message finds its group:

1. Lines that differ only in their digits are the same event: the line without digits is looked up
   in a bounded cache (one C-level translate and one dict look-up for most lines).
2. Otherwise the message is masked (see masking.py) into tokens, runs of variables collapsed into
   one `<*>`; masked forms seen before are looked up in a second bounded cache.
3. Otherwise the message is compared with the groups of the same token count, Drain-style: the
   share of equal tokens, less a penalty when the first tokens differ (the first word usually names
   the event), and never across a differing "event word" (started/stopped, GET/POST). The best
   group above the threshold takes the message and its template generalises (differing tokens
   become `<*>`); else the message starts a new group. A group whose template generalises into the
   template of another group absorbs it; the absorbed id stays an alias of the survivor.

Memory is bounded by the number of groups (the caches are cleared when full). One configuration
serves all inputs.
"""

import json
import operator
import os
import re
import tempfile

from .masking import WILDCARD, Masker

STATE_VERSION = 1

_EVENT_WORD = re.compile(
    r"^\W*(?:[A-Za-z]{3,}(?:ed|ing)|startup|shutdown|start|stop|open|close|enable|disable|[A-Z]{2,})\W*$|=$")
_event_words = {}


def is_event_word(token):
    """Words that name what happened ("started", "Closing", "GET"): a difference there is a different event."""
    known = _event_words.get(token)
    if known is None:
        if len(_event_words) > 100_000:
            _event_words.clear()
        known = _event_words[token] = bool(_EVENT_WORD.match(token))
    return known


def _matches(template_token, token):
    return template_token == token or template_token == WILDCARD


def collapse(tokens):
    out = []
    prev = None
    for t in tokens:
        if t == WILDCARD and prev == WILDCARD:
            continue
        out.append(t)
        prev = t
    return out


class Group:
    __slots__ = ("id", "skeleton", "template", "count", "merged_into")

    def __init__(self, gid, skeleton, count=0):
        self.id = gid
        self.skeleton = list(skeleton)
        self.template = " ".join(collapse(self.skeleton))
        self.count = count
        self.merged_into = None

    def __repr__(self):
        return f"Group({self.id}, {self.template!r}, count={self.count})"


class Miner:
    def __init__(self, similarity=0.5, first_penalty=0.4, cache_size=50_000):
        self.similarity = similarity
        self.first_penalty = first_penalty
        self.cache_size = cache_size
        self.masker = Masker()
        self.groups = {}  # id -> Group (live groups only)
        self.aliases = {}  # id of an absorbed group -> id it was merged into
        self.by_length = {}  # token count -> [Group]
        self.by_tokens = {}  # masked form (tuple of tokens) -> Group
        self.lines = {}  # line without digits (bytes) -> Group
        self.next_id = 1

    # -- adding messages ---------------------------------------------------------------------------

    def add(self, message):
        """The group of one message (a line's text without its header)."""
        quick = message.encode("utf-8", "surrogateescape").translate(None, b"0123456789")
        group = self.lines.get(quick)
        if group is None:
            group = self._add(message)
            if len(self.lines) >= self.cache_size:
                self.lines.clear()
            self.lines[quick] = group
        elif group.merged_into is not None:
            group = self._live(group)
            self.lines[quick] = group
        group.count += 1
        return group

    def _add(self, message):
        tokens = tuple(self.masker.tokens(message))
        group = self.by_tokens.get(tokens)
        if group is None:
            group = self._match(tokens)
            if len(self.by_tokens) >= self.cache_size // 4:  # token tuples are the bigger entries
                self.by_tokens.clear()
            self.by_tokens[tokens] = group
        elif group.merged_into is not None:
            group = self._live(group)
        return group

    def _live(self, group):
        while group.merged_into is not None:
            group = group.merged_into
        return group

    def _match(self, tokens):
        n = len(tokens)
        bucket = self.by_length.setdefault(n, [])
        if n == 0:
            if bucket:
                return bucket[0]
            return self._new(tokens, bucket)
        eq = operator.eq
        # A line that fits a template as it is belongs to it (this is what the caches remember, so
        # the answer is the same after a restart, with the caches empty).
        fits = [g for g in bucket if all(map(_matches, g.skeleton, tokens))
                and (g.skeleton.count(WILDCARD) < n or tokens.count(WILDCARD) == n)]  # "<*>" alone fits no word
        if fits:
            return min(fits, key=lambda g: g.skeleton.count(WILDCARD))  # the most specific
        penalty, first = self.first_penalty, tokens[0]
        scored = []
        for g in bucket:
            # a position the group has generalised matches any token
            sim = sum(map(eq, g.skeleton, tokens)) / n
            head = g.skeleton[0]
            if head != first and head != WILDCARD and first != WILDCARD:
                sim -= penalty
            if sim > self.similarity:
                scored.append((sim, g))
        scored.sort(key=lambda sg: -sg[0])
        for _, g in scored:
            if not self._conflict(g.skeleton, tokens):
                self._generalise(g, tokens, bucket)
                return self._live(g)  # g may have been absorbed by an older group
        return self._new(tokens, bucket)

    @staticmethod
    def _conflict(skeleton, tokens):
        for a, b in zip(skeleton, tokens):
            if a != b and a != WILDCARD and (is_event_word(a) or is_event_word(b)):
                return True
        return False

    def _new(self, tokens, bucket):
        g = Group(self.next_id, tokens)
        self.next_id += 1
        self.groups[g.id] = g
        bucket.append(g)
        return g

    def _generalise(self, g, tokens, bucket):
        changed = False
        skeleton = g.skeleton
        for i, (a, b) in enumerate(zip(skeleton, tokens)):
            if a != b and a != WILDCARD:
                skeleton[i] = WILDCARD
                changed = True
        if not changed:
            return
        g.template = " ".join(collapse(skeleton))
        # Groups whose template the generalised one now covers are the same event: merge them.
        for other in list(bucket):
            g = self._live(g)
            if other is not g and other.merged_into is None and all(map(_matches, g.skeleton, other.skeleton)):
                self._merge(other, g, bucket)

    def _merge(self, absorbed, into, bucket):
        """Two groups whose templates became the same are one: the older id survives."""
        if absorbed.id < into.id:
            # keep the older id: the surviving object takes it over
            absorbed, into = into, absorbed
            into.skeleton = list(absorbed.skeleton)
            into.template = absorbed.template
        bucket.remove(absorbed)
        del self.groups[absorbed.id]
        into.count += absorbed.count
        absorbed.merged_into = into
        self.aliases[absorbed.id] = into.id
        for gid, target in self.aliases.items():
            if target == absorbed.id:
                self.aliases[gid] = into.id

    def resolve(self, gid):
        """The live group id for an id handed out before (absorbed groups point to their survivor)."""
        return self.aliases.get(gid, gid)

    # -- state ---------------------------------------------------------------------------------------

    def to_dict(self):
        return {
            "version": STATE_VERSION,
            "config": {"similarity": self.similarity, "first_penalty": self.first_penalty},
            "next_id": self.next_id,
            "groups": [[g.id, g.count, g.skeleton] for g in self.groups.values()],
            "aliases": {str(k): v for k, v in self.aliases.items()},
        }

    @classmethod
    def from_dict(cls, data, **options):
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unknown template state version {data.get('version')!r}")
        miner = cls(**{**data.get("config", {}), **options})
        miner.next_id = int(data["next_id"])
        for gid, count, skeleton in data["groups"]:
            g = Group(int(gid), skeleton, int(count))
            miner.groups[g.id] = g
            miner.by_length.setdefault(len(g.skeleton), []).append(g)
        miner.aliases = {int(k): int(v) for k, v in data.get("aliases", {}).items()}
        return miner

    def save(self, path):
        """Write the state atomically (a crash leaves the previous file)."""
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".templates-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.to_dict(), f, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path, **options):
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f), **options)
