from django import template

from vigil.reviews import markdown as md
from vigil.reviews.recurrence import incident_context

register = template.Library()


@register.filter
def markdown(text):
    """{{ text|markdown }}: Markdown rendered and sanitised (see vigil/reviews/markdown.py)."""
    return md.render(text)


@register.inclusion_tag("reviews/_incident_reviews.html", takes_context=True)
def incident_reviews(context, incident):
    """The incident page's Review section: its reviews and action items, and "this happened before"."""
    return incident_context(incident, context["request"].user)
