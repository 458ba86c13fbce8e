"""A monitor's latency and uptime as one SVG, drawn on the server (no script, so the strict CSP holds).

Top: average latency per bucket as a line (the worst check of each bucket as a lighter band).
Bottom: one bar per bucket, green when every check passed, amber when some failed, red when
all failed, grey when nothing was checked. Each bar has a <title> the browser shows on hover.
Colours are SVG presentation attributes, not inline styles.
"""

from django.utils import timezone
from django.utils.html import escape

WIDTH, HEIGHT = 720, 224
LEFT, RIGHT, TOP = 64, 8, 14
PLOT_BOTTOM = 150  # the latency plot
BAR_TOP, BAR_HEIGHT = 168, 22  # the uptime strip
UP, SOME, DOWN, NONE = "#2e9d57", "#d99a1e", "#d0453c", "#9aa3ad"


def _nice_max(value):
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 60000):
        if value <= step:
            return step
    return value


def _time_label(moment, span):
    local = timezone.localtime(moment)
    return local.strftime("%H:%M") if span == "24h" else local.strftime("%b %-d")


def svg(summary):
    buckets = summary["buckets"]
    n = len(buckets)
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / n
    top_value = _nice_max(max((b["latency_max_ms"] or 0 for b in buckets), default=0) or 1)

    def y(value):
        return PLOT_BOTTOM - (value / top_value) * (PLOT_BOTTOM - TOP)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg" font-size="13" '
        f'font-family="system-ui, sans-serif">',
        f'<title id="chart-title">Latency and uptime, last {summary["span"]}: '
        f'{_percent(summary["uptime_percent"])} up</title>',
    ]
    # Grid and latency axis.
    for share in (0, 0.5, 1):
        line_y = y(top_value * share)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{line_y:.1f}" y2="{line_y:.1f}" '
                     f'stroke="#9aa3ad" stroke-opacity="0.35" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{line_y + 4:.1f}" text-anchor="end" fill="currentColor">'
                     f'{top_value * share:g} ms</text>')
    # Worst check per bucket (band) and average latency (line), broken where nothing was measured.
    segments, current = [], []
    for i, bucket in enumerate(buckets):
        x = LEFT + (i + 0.5) * slot
        if bucket["latency_max_ms"] is not None:
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y(bucket["latency_avg_ms"]):.1f}" '
                         f'y2="{y(bucket["latency_max_ms"]):.1f}" stroke="#4a7fd6" stroke-opacity="0.3" '
                         f'stroke-width="{max(1.0, slot * 0.6):.1f}"/>')
            current.append(f"{x:.1f},{y(bucket['latency_avg_ms']):.1f}")
        elif current:
            segments.append(current)
            current = []
    if current:
        segments.append(current)
    for points in segments:
        if len(points) == 1:
            cx, cy = points[0].split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="#4a7fd6"/>')
        else:
            parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#4a7fd6" stroke-width="2"/>')
    # Uptime strip.
    for i, bucket in enumerate(buckets):
        x = LEFT + i * slot
        if not bucket["checks"]:
            colour, words = NONE, "not checked"
        elif bucket["failures"] == 0:
            colour, words = UP, f"{bucket['checks']} checks, all passed"
        elif bucket["failures"] == bucket["checks"]:
            colour, words = DOWN, f"{bucket['checks']} checks, all failed"
        else:
            colour, words = SOME, f"{bucket['failures']} of {bucket['checks']} checks failed"
        latency = f", {bucket['latency_avg_ms']:.0f} ms average" if bucket["latency_avg_ms"] is not None else ""
        label = f"{_time_label(bucket['start'], 'x')} {timezone.localtime(bucket['start']):%H:%M}: {words}{latency}"
        parts.append(f'<rect x="{x + 0.5:.1f}" y="{BAR_TOP}" width="{max(1.0, slot - 1):.1f}" height="{BAR_HEIGHT}" '
                     f'rx="1.5" fill="{colour}"><title>{escape(label)}</title></rect>')
    # Time axis.
    for i in (0, n // 2, n):
        moment = summary["start"] + (summary["end"] - summary["start"]) * (i / n)
        anchor = "start" if i == 0 else "end" if i == n else "middle"
        parts.append(f'<text x="{LEFT + i * slot:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}" fill="currentColor">'
                     f'{_time_label(moment, summary["span"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _percent(value):
    return "no data" if value is None else f"{value:.2f} %"
