"""A review as Markdown (to paste anywhere) and as PDF (to send to a client).

The PDF is the review's HTML, the same sanitised rendering as its page, laid out by WeasyPrint with
reviews/print.css. WeasyPrint runs no script and is given a URL fetcher that fetches nothing, so
nothing a user typed can make the server load an address."""

from datetime import datetime
from datetime import timezone as dt_timezone
from pathlib import Path

from django.template.loader import render_to_string
from .models import FactorCategory

CSS = Path(__file__).parent / "static" / "reviews" / "print.css"


def _when(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(dt_timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _block(text):
    return text.strip() if text and text.strip() else "_Not written yet._"


def _why_lines(tree, indent=0):
    lines = []
    for n, (node, children) in enumerate(tree, 1):
        pad = "   " * indent
        lines.append(f"{pad}{n}. **Why? {node['why']}**")
        if node["answer"]:
            lines.append(f"{pad}   Because: {node['answer']}")
        for link in node["evidence"]:
            lines.append(f"{pad}   Evidence: <{link}>")
        lines += _why_lines(children, indent + 1)
    return lines


def context(review):
    incident = review.incident
    reviewers = list(review.reviewer_rows.select_related("user"))
    items = list(review.action_items.select_related("owner"))
    labels = dict(FactorCategory.choices)
    return {
        "review": review, "incident": incident, "reviewers": reviewers, "items": items,
        "sections": review.section_list(), "why_tree": review.why_tree(),
        "factors": [dict(f, label=labels.get(f["category"], f["category"])) for f in review.factors],
        "timeline": [{"at": datetime.fromisoformat(e["at"]), "text": e["text"]} for e in review.timeline],
    }


def markdown(review):
    ctx = context(review)
    incident = ctx["incident"]
    out = [
        f"# {review.title}",
        "",
        f"- **Incident:** #{incident.number} {incident.title} ({incident.service.name}, "
        f"{incident.get_severity_display()}, {incident.get_status_display().lower()})",
        f"- **Review:** #{review.pk}, {review.get_status_display().lower()}"
        + (f", published {_when(review.published_at)}" if review.published_at else ""),
        f"- **Author:** {review.author or 'unknown'}",
        "- **Reviewers:** " + (", ".join(f"{r.user} ({'approved ' + _when(r.approved_at) if r.approved_at else 'not approved yet'})"
                                         for r in ctx["reviewers"]) or "none"),
        f"- **Root cause category:** {review.get_root_cause_category_display()}",
        f"- **Root cause:** {review.root_cause or 'not stated yet'}",
        f"- **Fix applied:** {review.get_fix_type_display()}",
    ]
    for key, title, _prompt, text in ctx["sections"]:
        out += ["", f"## {title}", "", _block(text)]
        if key == "root_cause":
            out += _analysis(review, ctx)
    if "root_cause" not in {s[0] for s in ctx["sections"]}:
        out += ["", "## Root cause analysis"] + _analysis(review, ctx)
    out += ["", "## Timeline", ""]
    out += [f"- **{_when(e['at'])}** {e['text']}" for e in ctx["timeline"]] or ["_No entries._"]
    out += ["", "## Action items", ""]
    for item in ctx["items"]:
        line = (f"- [{'x' if item.status == 'done' else ' '}] **{item.title}** ({item.get_kind_display().lower()}, "
                f"{item.get_priority_display().lower()} priority): {item.owner}, due {item.due_date.isoformat()}, "
                f"{item.get_status_display().lower()}")
        if item.wont_do_reason:
            line += f" (won't do: {item.wont_do_reason})"
        if item.external_url:
            line += f" <{item.external_url}>"
        out.append(line)
    if not ctx["items"]:
        out.append(f"No action needed: {review.no_action_reason} ({review.no_action_by})" if review.no_action_reason
                   else "_None yet._")
    return "\n".join(out) + "\n"


def _analysis(review, ctx):
    out = []
    if ctx["why_tree"]:
        out += ["", "### 5 Whys", ""] + _why_lines(ctx["why_tree"])
    if ctx["factors"]:
        out += ["", "### Contributing factors", ""] + [f"- **{f['label']}:** {f['description']}" for f in ctx["factors"]]
    return out


def html(review):
    return render_to_string("reviews/print.html", context(review))


def _fetch_nothing(url, *args, **kwargs):
    raise ValueError(f"the PDF export loads no outside resource ({url[:80]})")


class PdfUnavailable(Exception):
    """WeasyPrint cannot load its system libraries (Pango)."""


def pdf(review):
    try:
        from weasyprint import CSS as Stylesheet
        from weasyprint import HTML
    except OSError as e:  # the Python package is installed, Pango is not
        raise PdfUnavailable(f"PDF export needs Pango on the server (Debian: apt-get install libpango-1.0-0 "
                             f"libpangoft2-1.0-0): {e}") from e

    return HTML(string=html(review), url_fetcher=_fetch_nothing).write_pdf(stylesheets=[Stylesheet(string=CSS.read_text())])
