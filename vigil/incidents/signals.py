from django.dispatch import Signal

# Sent inside the transaction of the change, with `incident`, `action` ("create", "acknowledge",
# "escalate", ...) and `actor`, plus what the action adds (`escalate`: `user_ids`, `team_id`).
# Apps further down (paging, status pages) listen to this instead of being called: they write
# their own rows in the same transaction, so a change and its consequences commit together or not
# at all, and put any I/O in transaction.on_commit.
incident_changed = Signal()
