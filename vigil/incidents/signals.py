from django.dispatch import Signal

# Sent after commit, with `incident` and `action` ("create", "acknowledge", "escalate", ...).
# Apps further down (paging, status pages) listen to this instead of being called.
incident_changed = Signal()
