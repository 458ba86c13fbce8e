"""Header parsing: split a raw log line into time, level, component, host and the message.

Common formats are recognised without configuration; a user-given format such as
`<Date> <Time> <Level> <Component>: <Content>` covers the rest. A parser remembers the last
format that matched, so a stream of one format costs one regular expression per line.
"""

import json
import re

LEVELS = {
    "trace": "DEBUG", "debug": "DEBUG", "dbg": "DEBUG", "fine": "DEBUG", "finer": "DEBUG", "finest": "DEBUG",
    "v": "DEBUG", "d": "DEBUG", "verbose": "DEBUG",
    "info": "INFO", "i": "INFO", "information": "INFO", "notice": "INFO", "config": "INFO",
    "warn": "WARN", "warning": "WARN", "w": "WARN",
    "error": "ERROR", "err": "ERROR", "e": "ERROR", "severe": "ERROR", "failure": "ERROR",
    "crit": "FATAL", "critical": "FATAL", "fatal": "FATAL", "f": "FATAL", "alert": "FATAL",
    "emerg": "FATAL", "emergency": "FATAL", "panic": "FATAL", "a": "FATAL",
}
SYSLOG_SEVERITY = ["FATAL", "FATAL", "FATAL", "ERROR", "WARN", "INFO", "INFO", "DEBUG"]


def clean_text(text):
    """Text safe to store anywhere: no NUL, no lone surrogates (JSON escapes can make both)."""
    if "\x00" in text:
        text = text.replace("\x00", " ")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def normalise_level(word):
    if not word:
        return ""
    return LEVELS.get(word.strip("[]:<>").lower(), "")


class Record:
    __slots__ = ("message", "level", "time", "component", "host", "format")

    def __init__(self, message, level="", time="", component="", host="", format="plain"):
        self.message = message
        self.level = level
        self.time = time
        self.component = component
        self.host = host
        self.format = format

    def __repr__(self):
        return (f"Record(format={self.format!r}, time={self.time!r}, level={self.level!r}, "
                f"component={self.component!r}, host={self.host!r}, message={self.message!r})")


_LEVEL_WORDS = (r"TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|ERR|SEVERE|CRIT(?:ICAL)?|FATAL|ALERT|EMERG(?:ENCY)?|"
                r"PANIC|Trace|Debug|Info|Notice|Warn(?:ing)?|Error|Critical|Fatal")

_SYSLOG = re.compile(
    r"^(?:<(?P<pri>\d{1,3})>)?(?:.{0,60}? )??(?P<time>[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)?(?: \d{4})?) "
    r"(?P<host>\S+) (?P<component>[^\s:\[]+?(?:\([^)\s]*\))?(?: v?\d[\w.-]*)?)(?:\[(?P<pid>[^\]\s]*)\])?: ?(?P<message>.*)$", re.S)
_RFC5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>\d{1,2} (?P<time>\S+) (?P<host>\S+) (?P<component>\S+) \S+ \S+ "
    r"(?:-|(?:\[(?:[^\]\\]|\\.)*\])+) ?(?P<message>.*)$", re.S)
_APACHE_ERROR = re.compile(
    r"^\[(?P<time>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)? \d{4})\] "
    r"\[(?:(?P<component>[\w]+):)?(?P<level>\w+)\](?: \[pid \d+(?::tid \d+)?\])?(?: \[client (?P<host>[^\]]+)\])? "
    r"?(?P<message>.*)$", re.S)
_ACCESS = re.compile(
    r'^(?P<host>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<request>[^"]*)" (?P<status>\d{3}) \S+(?P<tail>.*)$', re.S)
_NGINX_ERROR = re.compile(
    r"^(?P<time>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(?P<level>\w+)\] \d+#\d+: (?:\*\d+ )?(?P<message>.*)$", re.S)
_BRACKET_TIME = re.compile(
    r"^\[(?P<time>[\d./:, T-]{8,})\] (?P<component>[^\[\]]+?) - (?P<message>.*)$", re.S)
_PIPES = re.compile(r"^(?P<time>[^|\s]*\d[^|\s]*)\|(?P<component>[^|]*)\|[^|]*\|(?P<message>.*)$", re.S)
# A time stamp, ids or host names, then a level word; Log4j, Python logging, Spark, Hadoop, Android, ...
_LEVELLED = re.compile(
    rf"^(?P<pre>(?:[^\s]+\s+){{0,10}}?)\[?(?P<level>{_LEVEL_WORDS})\]?:?,?\s+(?P<rest>.*)$", re.S)
_ANDROID = re.compile(
    r"^(?P<time>\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\s+\d+\s+\d+\s+(?P<level>[VDIWEFA]) (?P<component>[^:]*?)\s*: ?(?P<message>.*)$",
    re.S)
_THREAD = re.compile(r"^\[(?:[^\[\]]|\[[^\[\]]*\])*\]\s*(?P<dash>-\s+)?")
_COMPONENT_COLON = re.compile(r"^(?P<component>[\w.$@/()<>#-]+?)(?:\[\d+\])?:\s+(?P<message>.*)$", re.S)
_COMPONENT_CONTEXT = re.compile(r"^(?P<component>[\w.$-]+) \[[^\]]*\]\s+(?P<message>.*)$", re.S)
_COMPONENT_SPACED = re.compile(r"^(?P<component>\S+)\s{2,}(?P<message>.*)$", re.S)
_TIMEISH = re.compile(r"\d[:.]\d\d|\d{6}")


def _json(line):
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    message = None
    for key in ("message", "msg", "log", "text", "MESSAGE", "@message", "event"):
        value = data.get(key)
        if isinstance(value, str):
            message = value
            break
    if message is None:
        return None
    level = ""
    for key in ("level", "severity", "levelname", "lvl", "log.level", "loglevel", "PRIORITY"):
        value = data.get(key)
        if isinstance(value, str):
            level = normalise_level(value)
            break
        if isinstance(value, int) and key == "PRIORITY" and 0 <= value < 8:
            level = SYSLOG_SEVERITY[value]
            break
    time = next((str(data[k]) for k in ("time", "timestamp", "@timestamp", "ts", "date") if k in data), "")
    component = next((str(data[k]) for k in ("logger", "component", "logger_name", "name", "service", "app", "SYSLOG_IDENTIFIER") if k in data), "")
    host = next((str(data[k]) for k in ("host", "hostname", "_HOSTNAME") if k in data), "")
    return Record(clean_text(message.rstrip("\n")), level, clean_text(time), clean_text(component), clean_text(host), "json")


def _syslog(line):
    m = _SYSLOG.match(line)
    if not m:
        return None
    level = SYSLOG_SEVERITY[int(m["pri"]) % 8] if m["pri"] else ""
    return Record(m["message"], level, m["time"], m["component"], m["host"], "syslog")


def _rfc5424(line):
    m = _RFC5424.match(line)
    if not m:
        return None
    return Record(m["message"], SYSLOG_SEVERITY[int(m["pri"]) % 8], m["time"], m["component"], m["host"], "rfc5424")


def _apache_error(line):
    m = _APACHE_ERROR.match(line)
    if not m:
        return None
    return Record(m["message"], normalise_level(m["level"]), m["time"], m["component"] or "", m["host"] or "", "apache-error")


def _access(line):
    m = _ACCESS.match(line)
    if not m:
        return None
    status = m["status"]
    level = "ERROR" if status[0] == "5" else "WARN" if status[0] == "4" else "INFO"
    request = m["request"].split(" ")
    # GET /path?query HTTP/1.1 -> GET /path 200: the query string is a variable, the path often is not.
    if len(request) >= 2:
        request[1] = request[1].split("?", 1)[0]
    return Record(f"{' '.join(request[:2])} {status}", level, m["time"], "", m["host"], "access")


def _nginx_error(line):
    m = _NGINX_ERROR.match(line)
    if not m:
        return None
    return Record(m["message"], normalise_level(m["level"]), m["time"], "", "", "nginx-error")


def _bracket_time(line):
    m = _BRACKET_TIME.match(line)
    if not m:
        return None
    return Record(m["message"], "", m["time"], m["component"], "", "bracket-time")


def _pipes(line):
    m = _PIPES.match(line)
    if not m:
        return None
    return Record(m["message"], "", m["time"], m["component"], "", "pipes")


def _android(line):
    m = _ANDROID.match(line)
    if not m:
        return None
    return Record(m["message"], normalise_level(m["level"]), m["time"], m["component"], "", "android")


def _levelled(line):
    m = _LEVELLED.match(line)
    if not m:
        return None
    pre = m["pre"]
    if not _TIMEISH.search(pre):
        return None
    rest = m["rest"]
    component = ""
    t = _THREAD.match(rest)
    if t:
        component = rest[1:t.end()].rstrip(" -]")
        rest = rest[t.end():]
    c = None
    if not t:
        c = _COMPONENT_COLON.match(rest) or _COMPONENT_CONTEXT.match(rest) or _COMPONENT_SPACED.match(rest)
    elif not t["dash"]:
        c = _COMPONENT_COLON.match(rest)  # Log4j: "INFO [main] org.example.Class: message"
    if c:
        component, rest = c["component"], c["message"]
    elif not component:
        words = pre.split()
        if words and not any(ch.isdigit() for ch in words[-1]):
            component = words[-1]  # "... RAS KERNEL INFO message"
    if rest.startswith("- "):
        rest = rest[2:]
    return Record(rest, normalise_level(m["level"]), pre.strip(), component, "", "levelled")


FORMATS = [_json, _rfc5424, _apache_error, _access, _nginx_error, _android, _syslog, _bracket_time, _pipes, _levelled]


class UserFormat:
    """A format given as `<Date> <Time> <Level> <Component>: <Content>` (the Loghub convention)."""

    FIELDS = {"level": ("level", "severity", "lvl"), "component": ("component", "logger", "process", "program", "source"),
              "host": ("host", "node", "hostname"), "time": ("time", "timestamp", "date", "datetime")}

    def __init__(self, spec):
        parts = re.split(r"(<[^<>]+>)", spec)
        pattern, self.names = "", []
        for part in parts:
            if part.startswith("<") and part.endswith(">"):
                name = part[1:-1]
                group = f"f{len(self.names)}"
                self.names.append(name)
                pattern += f"(?P<{group}>.*?)"
            elif part:
                pattern += r"\s+".join(re.escape(p) for p in part.split()) if part.strip() else r"\s+"
                if part != part.rstrip():
                    pattern += r"\s*" if part.strip() else ""
        if "Content" not in self.names and "Message" not in self.names:
            raise ValueError("a log format needs a <Content> field")
        self.regex = re.compile("^" + pattern + "$", re.S)
        self.spec = spec

    def __call__(self, line):
        m = self.regex.match(line)
        if not m:
            return None
        values = {name: m[f"f{i}"] for i, name in enumerate(self.names)}
        rec = Record(values.get("Content", values.get("Message", "")), format="user")
        times = []
        for name, value in values.items():
            low = name.lower()
            if low in self.FIELDS["level"]:
                rec.level = normalise_level(value)
            elif low in self.FIELDS["component"] and not rec.component:
                rec.component = value
            elif low in self.FIELDS["host"]:
                rec.host = value
            elif low in self.FIELDS["time"] or low in ("month", "day"):
                times.append(value)
        rec.time = " ".join(times)
        return rec


class HeaderParser:
    def __init__(self, log_format=None):
        self.formats = [UserFormat(log_format)] if log_format else list(FORMATS)
        self.last = None
        self.width = None  # header fields of lines in no known format, once learnt
        self.widths = {}

    def parse(self, line):
        line = line.rstrip("\r\n")
        if self.last is not None:
            rec = self.last(line)
            if rec is not None:
                return rec
        for fmt in self.formats:
            if fmt is self.last:
                continue
            rec = fmt(line) if fmt is not _json or line[:1] == "{" else None
            if rec is not None:
                self.last = fmt
                return rec
        return self._plain(line)

    def _plain(self, line):
        """No known header: leading fields that look like ids, times or dotted names are taken as one.

        `134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change: ...`
        Once most lines of the stream show the same number of such fields, that number is used for
        every line (a header with a plain word in it, `... node status 1086028827 0 running`).
        """
        tokens = line.split(" ", 9)
        n = self.width
        if n is None:
            n = 0
            while n < len(tokens) - 1 and n < 8 and _HEADER_TOKEN.match(tokens[n]):
                n += 1
            digits = [i + 1 for i, t in enumerate(tokens[:8]) if i < len(tokens) - 1 and _DIGITS.match(t)]
            last = digits[-1] if len(digits) >= 2 else 0
            self.widths[(0, n)] = self.widths.get((0, n), 0) + 1
            self.widths[(1, last)] = self.widths.get((1, last), 0) + 1
            seen = sum(self.widths.values()) // 2
            if seen >= 20:
                self.width = 0
                for kind in (0, 1):
                    counts = {w: c for (k, w), c in self.widths.items() if k == kind}
                    best = max(counts, key=counts.get)
                    if best >= 2 and counts[best] >= 0.8 * seen:
                        self.width = best
                        break
        if n < 2 or n >= len(tokens):
            return Record(line)
        component = next((t for t in reversed(tokens[:n]) if not any(ch.isdigit() for ch in t)), "")
        return Record(" ".join(tokens[n:]), component=component, time=" ".join(tokens[:n]), format="plain")


_DIGITS = re.compile(r"[^\s]*\d[^\s]*$")
_HEADER_TOKEN = re.compile(r"[^\s]*[\d._:/-][^\s]*$")
