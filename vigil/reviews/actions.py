"""The write path for reviews and action items: one transaction each, audit rows inside it."""

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from vigil import worker
from vigil.accounts import audit
from vigil.accounts.models import User
from vigil.incidents.models import TimelineEntry

from .models import (ActionItem, Comment, FactorCategory, FixType, Reminder, Review, ReviewNotAllowed, ReviewSettings,
                     Reviewer, RootCauseCategory, Status, Technique, reminder_times)
from .signals import review_published


class Invalid(Exception):
    """Bad input for one field (answered as 422 naming the field, shown on the form)."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


MAX_WHYS, MAX_FACTORS, MAX_TIMELINE = 100, 100, 1000
REVIEW_FIELDS = ["title", "sections", "timeline", "technique", "whys", "factors", "root_cause_category", "root_cause",
                 "fix_type"]
ITEM_FIELDS = ["title", "description", "kind", "owner", "due_date", "priority", "status", "wont_do_reason",
               "external_url"]


# --- starting a review -----------------------------------------------------------------------------

def default_reviewers(incident):
    """The team's chosen reviewers, else its lead and the service's project manager."""
    chosen = ReviewSettings.objects.filter(team_id=incident.team_id).first()
    if chosen is not None and chosen.reviewers.exists():
        return list(chosen.reviewers.filter(is_active=True))
    people = [incident.team.lead, incident.service.project_manager]
    out = []
    for user in people:
        if user is not None and user.is_active and user not in out:
            out.append(user)
    return out


def duration(delta):
    if delta is None:
        return "unknown"
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 60 * 24)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * (bool(minutes) or not (days or hours))
    return " ".join(parts)


def incident_facts(incident):
    """What the incident's own record says about impact and detection."""
    first_alert = incident.alerts.order_by("started_at").first()
    started = min(first_alert.started_at, incident.created_at) if first_alert else incident.created_at
    ended = incident.resolved_at
    return {
        "started": started,
        "detected": incident.created_at,
        "acknowledged": incident.acknowledged_at,
        "resolved": ended,
        "duration": duration(ended - started) if ended else f"ongoing ({duration(timezone.now() - started)} so far)",
        "time_to_detect": duration(incident.created_at - started),
        "time_to_acknowledge": duration(incident.acknowledged_at - incident.created_at) if incident.acknowledged_at else "not acknowledged",
        "detected_by": f"alert “{first_alert.summary}”" if first_alert else
                       (f"{incident.created_by} opened it by hand" if incident.created_by else "opened by hand"),
        "alert_count": incident.alert_count,
        "sla_breaches": sla_breaches(incident),
    }


def sla_breaches(incident):
    """"time to acknowledge (target 15 min) breached at ..." for each breached SLA clock of the incident.
    Read through the relation the SLA app adds, so reviews need not import it."""
    clocks = getattr(incident, "sla_clocks", None)
    if clocks is None:
        return "not tracked"
    breached = [f"time to {clock.get_kind_display().lower()} (target {duration(timedelta(seconds=clock.target_seconds))}) "
                f"breached at {clock.breached_at:%Y-%m-%d %H:%M UTC}" for clock in clocks.exclude(breached_at=None)]
    return "; ".join(breached) or "none"


def _prefill(incident):
    facts = incident_facts(incident)
    at = "%Y-%m-%d %H:%M UTC"
    impact = (
        f"- **Duration:** {facts['duration']} (from {facts['started']:{at}}"
        + (f" to {facts['resolved']:{at}})" if facts["resolved"] else ")")
        + f"\n- **Severity:** {incident.get_severity_display()}"
        f"\n- **Affected services:** {incident.service.name}"
        "\n- **Affected customers:** "
        f"\n- **SLA breaches:** {facts['sla_breaches']}"
    )
    detection = (
        f"- **Detected by:** {facts['detected_by']}"
        f"\n- **Time to detect:** {facts['time_to_detect']}"
        f"\n- **Time to acknowledge:** {facts['time_to_acknowledge']}"
    )
    return {"impact": impact, "detection": detection}


def timeline_copy(incident):
    """The incident's timeline as the review's editable copy (delivery receipts left out)."""
    return [
        {"at": entry.at.isoformat(), "text": f"{entry.kind.replace('_', ' ')}" + (f": {entry.body}" if entry.body else "")
                                             + (f" ({entry.actor})" if entry.actor_id else "")}
        for entry in incident.timeline.select_related("actor").exclude(kind=TimelineEntry.Kind.DELIVERY)[:MAX_TIMELINE]
    ]


@transaction.atomic
def do_start_review(incident, *, actor, title=""):
    template = ReviewSettings.of(incident.team).template()
    keys = {s["key"] for s in template}
    review = Review.objects.create(
        team_id=incident.team_id, incident=incident, title=title or f"Review of #{incident.number} {incident.title}"[:255],
        author=actor if getattr(actor, "pk", None) else None, template=template,
        sections={k: v for k, v in _prefill(incident).items() if k in keys}, timeline=timeline_copy(incident),
    )
    for user in default_reviewers(incident):
        Reviewer.objects.create(review=review, user=user)
    audit.record("review.create", review, actor=actor, team=incident.team,
                 after={"incident": incident.pk, "title": review.title})
    incident.add_entry(TimelineEntry.Kind.NOTE, actor=actor, body=f"Review #{review.pk} started: {review.title}",
                       data={"review": review.pk})
    return review


# --- editing ---------------------------------------------------------------------------------------

def _text(field, value, limit=100_000):
    if not isinstance(value, str):
        raise Invalid(field, "must be text")
    if len(value) > limit:
        raise Invalid(field, f"at most {limit} characters")
    return value


def _choice(field, value, choices):
    if value not in choices.values:
        raise Invalid(field, f"must be one of: {', '.join(v or '(empty)' for v in choices.values)}")
    return value


def clean_whys(whys):
    """Each why has an id, its parent (an earlier why, or none for a first-level why), the question,
    the answer and evidence links. Branches are several whys with one parent."""
    if not isinstance(whys, list) or len(whys) > MAX_WHYS:
        raise Invalid("whys", f"must be a list of at most {MAX_WHYS} whys")
    seen, out = set(), []
    for n, node in enumerate(whys):
        where = f"whys.{n}"
        if not isinstance(node, dict):
            raise Invalid(where, "must be an object {id, parent, why, answer, evidence}")
        unknown = set(node) - {"id", "parent", "why", "answer", "evidence"}
        if unknown:
            raise Invalid(f"{where}.{sorted(unknown)[0]}", "unknown field")
        node_id = node.get("id", n + 1)
        if not isinstance(node_id, int) or isinstance(node_id, bool) or node_id in seen:
            raise Invalid(f"{where}.id", "must be a whole number, unique in the chain")
        parent = node.get("parent")
        if parent is not None and parent not in seen:
            raise Invalid(f"{where}.parent", "must be the id of an earlier why, or null")
        why = _text(f"{where}.why", node.get("why", ""), 2000).strip()
        if not why:
            raise Invalid(f"{where}.why", "must not be empty")
        evidence = node.get("evidence", [])
        if not isinstance(evidence, list) or len(evidence) > 20:
            raise Invalid(f"{where}.evidence", "must be a list of at most 20 links")
        for i, link in enumerate(evidence):
            if not isinstance(link, str) or not link.startswith(("http://", "https://")) or len(link) > 2000:
                raise Invalid(f"{where}.evidence.{i}", "must be an http(s) link")
        seen.add(node_id)
        out.append({"id": node_id, "parent": parent, "why": why,
                    "answer": _text(f"{where}.answer", node.get("answer", ""), 5000).strip(), "evidence": evidence})
    return out


def clean_factors(factors):
    if not isinstance(factors, list) or len(factors) > MAX_FACTORS:
        raise Invalid("factors", f"must be a list of at most {MAX_FACTORS} factors")
    out = []
    for n, factor in enumerate(factors):
        if not isinstance(factor, dict) or set(factor) - {"category", "description"}:
            raise Invalid(f"factors.{n}", "must be an object {category, description}")
        description = _text(f"factors.{n}.description", factor.get("description", ""), 5000).strip()
        if not description:
            raise Invalid(f"factors.{n}.description", "must not be empty")
        out.append({"category": _choice(f"factors.{n}.category", factor.get("category"), FactorCategory),
                    "description": description})
    return out


def clean_timeline(timeline):
    if not isinstance(timeline, list) or len(timeline) > MAX_TIMELINE:
        raise Invalid("timeline", f"must be a list of at most {MAX_TIMELINE} entries")
    out = []
    for n, entry in enumerate(timeline):
        if not isinstance(entry, dict) or set(entry) - {"at", "text"}:
            raise Invalid(f"timeline.{n}", "must be an object {at, text}")
        at = entry.get("at")
        try:
            parsed = datetime.fromisoformat(at) if isinstance(at, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise Invalid(f"timeline.{n}.at", "must be an ISO 8601 time with its offset")
        out.append({"at": parsed.isoformat(), "text": _text(f"timeline.{n}.text", entry.get("text", ""), 5000)})
    return sorted(out, key=lambda e: e["at"])


def _clean_review_change(review, field, value):
    if field == "title":
        value = _text("title", value, 255).strip()
        if not value:
            raise Invalid("title", "must not be empty")
        return value
    if field == "sections":
        if not isinstance(value, dict):
            raise Invalid("sections", "must be an object of section key to Markdown")
        keys = {s["key"] for s in review.template}
        for key, text in value.items():
            if key not in keys:
                raise Invalid(f"sections.{key}", f"no such section in this review (sections: {', '.join(sorted(keys))})")
            _text(f"sections.{key}", text)
        return {**review.sections, **value}
    if field == "timeline":
        return clean_timeline(value)
    if field == "whys":
        return clean_whys(value)
    if field == "factors":
        return clean_factors(value)
    if field == "root_cause":
        return _text("root_cause", value, 500).strip()
    choices = {"technique": Technique, "root_cause_category": RootCauseCategory, "fix_type": FixType}[field]
    return _choice(field, value, choices)


@transaction.atomic
def do_update_review(review, *, actor, reviewers=None, **changes):
    """Change the given fields. While in review, a change of content withdraws the approvals given:
    reviewers approve what they read."""
    review = Review.objects.select_for_update().get(pk=review.pk)
    if not review.editable:
        raise ReviewNotAllowed(f"a review that is {review.get_status_display().lower()} cannot be edited")
    before = audit.snapshot(review, REVIEW_FIELDS)
    for field, value in changes.items():
        if field not in REVIEW_FIELDS:
            raise Invalid(field, "cannot be changed here")
        setattr(review, field, _clean_review_change(review, field, value))
    after = audit.snapshot(review, REVIEW_FIELDS)
    changed = [f for f in REVIEW_FIELDS if before[f] != after[f]]
    if changed:
        review.updated_at = timezone.now()
        review.save(update_fields=changed + ["updated_at"])
        if review.status == Status.IN_REVIEW:
            review.reviewer_rows.exclude(approved_at=None).update(approved_at=None)
    if reviewers is not None:
        _set_reviewers(review, reviewers)
        after["reviewers"] = sorted(u.pk for u in reviewers)
    audit.record("review.update", review, actor=actor, team=review.team, before=before, after=after)
    return review


def _set_reviewers(review, users):
    manager_id = review.incident.service.project_manager_id
    for user in users:
        if not user.is_active or (user.role_in(review.team_id) is None and user.pk != manager_id):
            raise Invalid("reviewer_ids", f"{user} is neither a member of the team nor the service's project manager")
    review.reviewer_rows.exclude(user__in=users).delete()
    for user in users:
        Reviewer.objects.get_or_create(review=review, user=user)


# --- the review's course: draft → in review → approved → published -----------------------------------

def _locked(review):
    return Review.objects.select_for_update().select_related("team", "incident").get(pk=review.pk)


def _reviewer_row(review, user):
    row = review.reviewer_rows.filter(user=user).first()
    if row is None:
        raise PermissionDenied("only a reviewer of this review can do that")
    return row


def _move(review, actor, action, status, **fields):
    before = review.status
    review.status = status
    for name, value in fields.items():
        setattr(review, name, value)
    review.save(update_fields=["status", *fields])
    audit.record(f"review.{action}", review, actor=actor, team=review.team,
                 before={"status": before}, after={"status": status, **audit.snapshot(review, list(fields))})


@transaction.atomic
def do_submit_review(review, *, actor):
    review = _locked(review)
    if review.status != Status.DRAFT:
        raise ReviewNotAllowed(f"only a draft can be sent for review; this one is {review.get_status_display().lower()}")
    if not review.reviewer_rows.exists():
        raise ReviewNotAllowed("the review has no reviewer: add one (or set the team lead or the project manager)")
    _move(review, actor, "submit", Status.IN_REVIEW)
    return review


@transaction.atomic
def do_approve_review(review, *, actor):
    review = _locked(review)
    if review.status != Status.IN_REVIEW:
        raise ReviewNotAllowed(f"only a review in review can be approved; this one is {review.get_status_display().lower()}")
    row = _reviewer_row(review, actor)
    if row.approved_at is None:
        row.approved_at = timezone.now()
        row.save(update_fields=["approved_at"])
        audit.record("review.approve", review, actor=actor, team=review.team, after={"reviewer": actor.pk})
    if not review.approvals_missing():
        _move(review, actor, "approved", Status.APPROVED)
    return review


@transaction.atomic
def do_request_changes(review, *, actor, reason):
    review = _locked(review)
    if review.status not in (Status.IN_REVIEW, Status.APPROVED):
        raise ReviewNotAllowed("changes can be asked for only while the review is in review or approved")
    _reviewer_row(review, actor)
    if not reason.strip():
        raise Invalid("reason", "say what should change")
    review.reviewer_rows.update(approved_at=None)
    Comment.objects.create(review=review, author=actor, body=f"Changes requested: {reason.strip()}")
    _move(review, actor, "request_changes", Status.DRAFT)
    return review


@transaction.atomic
def do_mark_no_action_needed(review, *, actor, reason):
    """A reviewer says this review needs no action item (and why): it may then be published without one."""
    review = _locked(review)
    if review.status == Status.PUBLISHED:
        raise ReviewNotAllowed("the review is published")
    _reviewer_row(review, actor)
    reason = _text("reason", reason, 5000).strip()
    review.no_action_reason, review.no_action_by = reason, actor if reason else None
    review.save(update_fields=["no_action_reason", "no_action_by"])
    audit.record("review.no_action_needed", review, actor=actor, team=review.team, after={"reason": reason})
    return review


def public_incidents(incident):
    """The incident's public incidents on status pages that can take a postmortem (resolved ones)."""
    from vigil.statuspage.models import IncidentStatus, PublicIncident

    return PublicIncident.objects.select_related("page").filter(
        incident=incident, status__in=[IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM])


@transaction.atomic
def do_publish_review(review, *, actor, postmortem=""):
    """Publish; with `postmortem` text, also post it as the public `postmortem` update of the incident
    on each status page where the incident was told to customers and is resolved."""
    review = _locked(review)
    if review.status != Status.APPROVED:
        raise ReviewNotAllowed(f"only an approved review can be published; this one is {review.get_status_display().lower()}")
    if not review.action_items.exists() and not review.no_action_reason:
        raise ReviewNotAllowed("a review needs at least one action item, or a reviewer's “no action needed” with a reason")
    _move(review, actor, "publish", Status.PUBLISHED, published_at=timezone.now())
    review.incident.add_entry(TimelineEntry.Kind.NOTE, actor=actor, body=f"Review #{review.pk} published: {review.title}",
                              data={"review": review.pk})
    if postmortem.strip():
        from vigil.statuspage.services import post_public_update

        publics = list(public_incidents(review.incident))
        if not publics:
            raise ReviewNotAllowed("no status page has a resolved public incident for this incident to post a postmortem to")
        for public in publics:
            post_public_update(review.incident, page=public.page, status="postmortem", body=_text("postmortem", postmortem, 20000),
                               actor=actor)
    review_published.send(Review, review=review, actor=actor)
    return review


@transaction.atomic
def do_add_comment(review, *, actor, body):
    body = _text("body", body, 20000).strip()
    if not body:
        raise Invalid("body", "must not be empty")
    comment = Comment.objects.create(review=review, author=actor, body=body)
    audit.record("review.comment", comment, actor=actor, team=review.team, after={"review": review.pk, "body": body})
    return comment


# --- action items -----------------------------------------------------------------------------------

def _clean_item(team, data):
    if "title" in data:
        data["title"] = _text("title", data["title"], 255).strip()
        if not data["title"]:
            raise Invalid("title", "must not be empty")
    if "owner" in data:
        owner = data["owner"]
        if owner is None or not owner.is_active or owner.role_in(team.pk) is None:
            raise Invalid("owner_id", "must be an active member of the team")
    for field, choices in (("kind", ActionItem.Kind), ("priority", ActionItem.Priority), ("status", ActionItem.State)):
        if field in data:
            _choice(field, data[field], choices)
    if data.get("external_url") and not str(data["external_url"]).startswith(("http://", "https://")):
        raise Invalid("external_url", "must be an http(s) link")
    return data


def schedule_reminders(item, now=None):
    """Replace the item's pending reminders by the ones its due date, owner and status call for now."""
    now = now or timezone.now()
    item.reminders.filter(done_at=None).delete()
    if not item.is_open:
        return
    team_settings = ReviewSettings.of(item.team)
    Reminder.objects.bulk_create([Reminder(action_item=item, kind=kind, due_at=when)
                                  for kind, when in reminder_times(item, team_settings) if when > now])
    transaction.on_commit(worker.wake)


@transaction.atomic
def do_create_action_item(team, *, actor, review=None, incident=None, **data):
    data = _clean_item(team, dict(data))
    if data.get("status") == ActionItem.State.WONT_DO and not data.get("wont_do_reason", "").strip():
        raise Invalid("wont_do_reason", "say why it won't be done")
    if review is not None and incident is None:
        incident = review.incident
    item = ActionItem.objects.create(team=team, review=review, incident=incident,
                                     created_by=actor if getattr(actor, "pk", None) else None, **data)
    if not item.is_open:
        item.closed_at = item.created_at
        item.save(update_fields=["closed_at"])
    schedule_reminders(item)
    audit.record("action_item.create", item, actor=actor, team=team, after=audit.snapshot(item, ITEM_FIELDS))
    return item


@transaction.atomic
def do_update_action_item(item, *, actor, **changes):
    item = ActionItem.objects.select_for_update().select_related("team", "owner").get(pk=item.pk)
    before = audit.snapshot(item, ITEM_FIELDS)
    for field in changes:
        if field not in ITEM_FIELDS:
            raise Invalid(field, "cannot be changed here")
    changes = _clean_item(item.team, dict(changes))
    for field, value in changes.items():
        setattr(item, field, value)
    if item.status == ActionItem.State.WONT_DO and not item.wont_do_reason.strip():
        raise Invalid("wont_do_reason", "say why it won't be done")
    if item.status != ActionItem.State.WONT_DO:
        item.wont_do_reason = "" if "status" in changes else item.wont_do_reason
    after = audit.snapshot(item, ITEM_FIELDS)
    changed = [f for f in ITEM_FIELDS if before[f] != after[f]]
    if not changed:
        return item
    was_open = before["status"] in ActionItem.OPEN_STATES
    if was_open and not item.is_open:
        item.closed_at = timezone.now()
    elif item.is_open:
        item.closed_at = None
    item.save(update_fields=[*changed, "closed_at"])
    if {"due_date", "owner", "status"} & set(changed):
        schedule_reminders(item)
    audit.record("action_item.update", item, actor=actor, team=item.team, before=before, after=after)
    return item


# --- team settings ----------------------------------------------------------------------------------

def clean_sections(sections):
    if not isinstance(sections, list) or not 1 <= len(sections) <= 30:
        raise Invalid("sections", "must be a list of 1 to 30 sections")
    out, keys = [], set()
    for n, section in enumerate(sections):
        if not isinstance(section, dict) or set(section) - {"key", "title", "prompt"}:
            raise Invalid(f"sections.{n}", "must be an object {key, title, prompt}")
        key = section.get("key") or ""
        if not isinstance(key, str) or not key.replace("_", "").isalnum() or not key.isascii() or len(key) > 40 or key in keys:
            raise Invalid(f"sections.{n}.key", "must be a unique name of letters, digits and _")
        title = _text(f"sections.{n}.title", section.get("title", ""), 100).strip()
        if not title:
            raise Invalid(f"sections.{n}.title", "must not be empty")
        keys.add(key)
        out.append({"key": key, "title": title, "prompt": _text(f"sections.{n}.prompt", section.get("prompt", ""), 1000)})
    return out


@transaction.atomic
def do_update_review_settings(team, *, actor, lead=..., reviewers=None, sections=None, remind_days_before=None,
                              escalate_days_after=None):
    """Who reviews (empty: the lead and the project manager), the template, when reminders go out,
    and the team lead (who also hears about overdue action items)."""
    team_settings, _ = ReviewSettings.objects.get_or_create(team=team)
    before = {"lead": team.lead_id, "reviewers": sorted(team_settings.reviewers.values_list("pk", flat=True)),
              "sections": team_settings.sections, "remind_days_before": team_settings.remind_days_before,
              "escalate_days_after": team_settings.escalate_days_after}
    members = {u.pk for u in User.objects.filter(memberships__team=team, is_active=True)}
    if lead is not ...:
        if lead is not None and lead.pk not in members:
            raise Invalid("lead_id", "must be an active member of the team")
        team.lead = lead
        team.save(update_fields=["lead"])
    if reviewers is not None:
        for user in reviewers:
            if user.pk not in members:
                raise Invalid("reviewer_ids", f"{user} is not a member of the team")
        team_settings.reviewers.set(reviewers)
    if sections is not None:
        team_settings.sections = clean_sections(sections) if sections else []
    for field, value in (("remind_days_before", remind_days_before), ("escalate_days_after", escalate_days_after)):
        if value is not None:
            if not isinstance(value, int) or not 0 <= value <= 60:
                raise Invalid(field, "must be a number of days from 0 to 60")
            setattr(team_settings, field, value)
    team_settings.save()
    after = {"lead": team.lead_id, "reviewers": sorted(team_settings.reviewers.values_list("pk", flat=True)),
             "sections": team_settings.sections, "remind_days_before": team_settings.remind_days_before,
             "escalate_days_after": team_settings.escalate_days_after}
    audit.record("review_settings.update", team_settings, actor=actor, team=team, before=before, after=after)
    return team_settings


def overdue(items, today=None):
    return items.filter(status__in=ActionItem.OPEN_STATES, due_date__lt=today or timezone.localdate())

