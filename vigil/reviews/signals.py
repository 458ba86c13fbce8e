from django.dispatch import Signal

# Sent inside the transaction that publishes a review, with `review` and `actor`.
# HOOK for the status page (issue 6): a receiver there can post the public `postmortem` update
# (review.title, the summary section, vigil.reviews.markdown.render for HTML). Reviews do not import
# the status page, so either can land first.
review_published = Signal()
