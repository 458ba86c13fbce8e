from django.dispatch import Signal

# Sent inside the transaction that publishes a review, with `review` and `actor`, after the optional
# public `postmortem` update was posted to the status pages (reviews.actions.do_publish_review).
review_published = Signal()
