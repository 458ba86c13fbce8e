"""Markdown in every text field: rendered by markdown-it-py with raw HTML off, then sanitised by
nh3 (the Ammonia sanitiser), so what a user typed can never become live HTML on a page or in a PDF."""

import nh3
from markdown_it import MarkdownIt
from django.utils.safestring import mark_safe

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

# Images are left out on purpose: a review goes to clients as a PDF, and a Markdown image would make
# the server (WeasyPrint) or the reader's browser fetch an address a user chose.
TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td"}


def render(text):
    """Sanitised HTML for a Markdown text, safe to put in a template as is."""
    html = _md.render(text or "")
    return mark_safe(nh3.clean(html, tags=TAGS, attributes={"a": {"href", "title"}, "ol": {"start"}, "th": {"align"},
                                                          "td": {"align"}},
                            url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow"))
