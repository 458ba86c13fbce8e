from django.conf import settings
from django.db import transaction
from django.utils import timezone

from vigil.accounts import audit
from vigil.oncall.models import EscalationPolicy

from . import channels
from .models import ContactMethod, NotificationRule

POLICY_FIELDS = ["name", "description", "repeat", "levels"]


@transaction.atomic
def do_create_contact_method(user, *, actor, kind, address, name=""):
    method = ContactMethod.objects.create(user=user, kind=kind, address=address, name=name)
    audit.record("contact_method.create", method, actor=actor, after={"user": user.pk, "kind": kind, "name": name})
    return method


@transaction.atomic
def do_delete_contact_method(method, *, actor):
    audit.record("contact_method.delete", method, actor=actor, before={"user": method.user_id, "kind": method.kind})
    method.delete()


@transaction.atomic
def do_create_rule(user, method, delay_seconds, *, actor):
    rule = NotificationRule.objects.create(user=user, contact_method=method, delay_seconds=delay_seconds)
    audit.record("notification_rule.create", rule, actor=actor,
                 after={"user": user.pk, "contact_method": method.pk, "delay_seconds": delay_seconds})
    return rule


@transaction.atomic
def do_delete_rule(rule, *, actor):
    audit.record("notification_rule.delete", rule, actor=actor,
                 before={"contact_method": rule.contact_method_id, "delay_seconds": rule.delay_seconds})
    rule.delete()


def send_test(method):
    """Send a test message through the method now (not through the outbox: the person is waiting
    for the answer). Returns (ok, detail)."""
    message = channels.Message(
        subject="[Vigil] Test notification",
        text=f"This is a test from Vigil ({settings.BASE_URL}): {method} works for {method.user}.",
        data={"event": "test", "user": {"id": method.user_id, "email": method.user.email}},
        idempotency_key=f"test:{method.pk}:{timezone.now().timestamp()}",
    )
    return channels.deliver(method.kind, method.address, message, secret=method.signing_secret)


@transaction.atomic
def do_create_policy(team, *, actor, name, levels, repeat=0, description=""):
    policy = EscalationPolicy.objects.create(team=team, name=name, levels=levels, repeat=repeat, description=description)
    audit.record("escalation_policy.create", policy, actor=actor, team=team, after=audit.snapshot(policy, POLICY_FIELDS))
    return policy


@transaction.atomic
def do_update_policy(policy, *, actor, **changes):
    before = audit.snapshot(policy, POLICY_FIELDS)
    for name, value in changes.items():
        setattr(policy, name, value)
    policy.save(update_fields=list(changes))
    audit.record("escalation_policy.update", policy, actor=actor, team=policy.team, before=before,
                 after=audit.snapshot(policy, POLICY_FIELDS))
    return policy


@transaction.atomic
def do_delete_policy(policy, *, actor):
    audit.record("escalation_policy.delete", policy, actor=actor, team=policy.team, before=audit.snapshot(policy, POLICY_FIELDS))
    policy.delete()
