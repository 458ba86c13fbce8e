import datetime as dt
import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.http import require_POST

from vigil.accounts.models import Membership, Role
from vigil.accounts.permissions import for_user, get_for_user, has_role, is_any_team_admin, require_role

from . import actions
from .calendars import find_feed, schedule_calendar, user_calendar
from .forms import LayerForm, LayerFormSet, NewScheduleForm, OverrideForm, ScheduleForm, ShiftForm, naive_local
from .models import LayerMember, Schedule, calendar_url, on_call_candidates
from .shifts import ONE_DAY, local_instant, oncall_users, schedule_shifts

UTC = dt.timezone.utc
COLOURS = 8
MAX_LISTED_SHIFTS = 60


# --- The calendar feeds (no login: the token in the URL authenticates) ---------------------------


def calendar_feed(request, token):
    feed = find_feed(token)
    if feed is None:
        raise Http404("no such calendar")
    body = schedule_calendar(feed) if isinstance(feed, Schedule) else user_calendar(feed.user)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="oncall.ics"'
    # The URL is a secret: keep it out of shared caches, let the client poll.
    patch_cache_control(response, private=True, max_age=300)
    return response


# --- Pages ---------------------------------------------------------------------------------------


def _schedules(user):
    members = Prefetch("layers__members", queryset=LayerMember.objects.select_related("user"))
    return for_user(Schedule.objects.select_related("team").prefetch_related(members), user)


@login_required
def schedule_list(request):
    now = timezone.now()
    schedules = [(s, oncall_users(s, now)) for s in _schedules(request.user)]
    ctx = {"schedules": schedules, "can_create": is_any_team_admin(request.user)}
    return render(request, "oncall/list.html", ctx)


def _day_rows(shifts, tz, first_day, days, colour_of, names):
    """One row per local day: the spans on call (clipped to the day) and the widths of a bar of
    the day, in whole percent adding up to 100 (a DST day is 23 or 25 hours long)."""
    rows = []
    for i in range(days):
        day = first_day + dt.timedelta(days=i)
        lo, hi = local_instant(day, dt.time(0), tz), local_instant(day + ONE_DAY, dt.time(0), tz)
        length = (hi - lo).total_seconds()
        spans, cursor = [], lo

        def edge(t):
            return round((t - lo).total_seconds() / length * 100)

        for shift in shifts:
            if shift.end <= lo or shift.start >= hi:
                continue
            start, end = max(shift.start, lo), min(shift.end, hi)
            if start > cursor:
                spans.append({"who": None, "start": cursor, "end": start})
            spans.append({"who": names.get(shift.user_id, "?"), "colour": colour_of(shift.user_id),
                          "start": start, "end": end, "user_id": shift.user_id})
            cursor = end
        if cursor < hi:
            spans.append({"who": None, "start": cursor, "end": hi})
        for span in spans:
            span["width"] = edge(span["end"]) - edge(span["start"])
            span["ends_next_day"] = span["end"] == hi
        rows.append({"day": day, "spans": spans, "hours": round(length / 3600)})
    return rows


def _timeline_days(request):
    try:
        return min(max(int(request.GET.get("days", 14)), 7), 28)
    except ValueError:
        return 14


def _detail_context(request, schedule, override_form=None):
    user, tz, now = request.user, schedule.tz, timezone.now()
    days = _timeline_days(request)
    first_day = now.astimezone(tz).date()
    start = local_instant(first_day, dt.time(0), tz)
    end = local_instant(first_day + dt.timedelta(days=days), dt.time(0), tz)
    # A week more than shown, so that the last shift listed is whole (and taken whole).
    shifts = schedule_shifts(schedule, start, end + dt.timedelta(days=7))
    candidates = on_call_candidates(schedule.team_id).order_by("name", "email")
    layers = list(schedule.layers.all())
    people = {u.pk: u for layer in layers for u in layer.participant_users()}
    people.update({u.pk: u for u in candidates})
    names = {pk: str(u) for pk, u in people.items()}
    order = []
    for layer in layers:
        order += [u.pk for u in layer.participant_users() if u.pk not in order]
    colour_of = lambda pk: (order.index(pk) if pk in order else pk) % COLOURS  # noqa: E731
    viewer_tz = zoneinfo.ZoneInfo(user.time_zone) if user.time_zone else UTC
    upcoming = [
        {"shift": s, "who": names.get(s.user_id, "?"), "mine": s.user_id == user.pk,
         "now": s.start <= now < s.end, "colour": colour_of(s.user_id)}
        for s in shifts if s.end > now and s.start < end
    ]
    more_shifts = max(len(upcoming) - MAX_LISTED_SHIFTS, 0)
    can_respond = has_role(user, schedule.team_id, Role.RESPONDER)
    others = candidates.exclude(pk=user.pk)
    current = next((s for s in shifts if s.start <= now < s.end), None)  # its end, even if next week
    return {
        "schedule": schedule,
        "on_call": oncall_users(schedule, now),
        "on_call_until": current.end if current else None,
        "rows": _day_rows(shifts, tz, first_day, days, colour_of, names),
        "days": days,
        "upcoming": upcoming[:MAX_LISTED_SHIFTS],
        "more_shifts": more_shifts,
        "layers": layers,
        "overrides": schedule.overrides.filter(end__gt=now).select_related("user", "covers", "created_by"),
        "can_respond": can_respond,
        "is_admin": has_role(user, schedule.team_id, Role.ADMIN),
        "is_candidate": any(c.pk == user.pk for c in candidates),
        "override_form": override_form or OverrideForm(candidates=candidates, initial={
            "user": user.pk if can_respond else None,
            "start": naive_local(now, tz) + dt.timedelta(minutes=5 - naive_local(now, tz).minute % 5),
        }),
        "cover_candidates": others,
        "viewer_tz": viewer_tz,
        "other_zone": str(viewer_tz) != schedule.time_zone,
        "tz_now": now.astimezone(tz),
    }


@login_required
def schedule_detail(request, pk):
    schedule = get_for_user(_schedules(request.user), request.user, pk=pk)
    return render(request, "oncall/detail.html", _detail_context(request, schedule))


def _responder_schedule(request, pk):
    schedule = get_for_user(_schedules(request.user), request.user, pk=pk)
    require_role(request.user, schedule.team_id, Role.RESPONDER)
    return schedule


def _admin_schedule(request, pk):
    schedule = get_for_user(_schedules(request.user), request.user, pk=pk)
    require_role(request.user, schedule.team_id, Role.ADMIN)
    return schedule


@require_POST
@login_required
def override_new(request, pk):
    schedule = _responder_schedule(request, pk)
    form = OverrideForm(request.POST, candidates=on_call_candidates(schedule.team_id))
    # The times are typed in the schedule's zone, as the page labels them.
    with timezone.override(schedule.tz):
        valid = form.is_valid()
    if not valid:
        messages.error(request, "The override was not added: see the form below.")
        return render(request, "oncall/detail.html", _detail_context(request, schedule, override_form=form), status=422)
    data = form.cleaned_data
    actions.do_create_override(schedule, actor=request.user, user=data["user"], start=data["start"], end=data["end"])
    messages.success(request, f"{data['user']} is on call from {data['start'].astimezone(schedule.tz):%a %d %b %H:%M}.")
    return redirect(schedule)


@require_POST
@login_required
def override_delete(request, pk, override_id):
    schedule = _responder_schedule(request, pk)
    override = get_object_or_404(schedule.overrides.select_related("schedule__team", "user"), pk=override_id)
    actions.do_delete_override(override, actor=request.user)
    messages.success(request, f"Override for {override.user} removed.")
    return redirect(schedule)


@require_POST
@login_required
def shift_take(request, pk):
    """The current user takes a shift of someone else: an override covering that person."""
    schedule = _responder_schedule(request, pk)
    candidates = on_call_candidates(schedule.team_id)
    if not candidates.filter(pk=request.user.pk).exists():
        messages.error(request, "Only admins and responders of the team can be on call.")
        return redirect(schedule)
    form = ShiftForm(request.POST, candidates=candidates)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("__all__", ["This shift cannot be taken."])))
        return redirect(schedule)
    data = form.cleaned_data
    actions.do_create_override(schedule, actor=request.user, user=request.user, start=data["start"],
                               end=data["end"], covers=data["user"])
    messages.success(request, "You took the shift.")
    return redirect(schedule)


@require_POST
@login_required
def shift_cover(request, pk):
    """Someone chosen by the current user covers the current user's shift."""
    schedule = _responder_schedule(request, pk)
    form = ShiftForm(request.POST, candidates=on_call_candidates(schedule.team_id).exclude(pk=request.user.pk))
    if not form.is_valid() or form.cleaned_data.get("user") is None:
        messages.error(request, " ".join(form.errors.get("__all__", ["Choose who covers for you."])))
        return redirect(schedule)
    data = form.cleaned_data
    actions.do_create_override(schedule, actor=request.user, user=data["user"], start=data["start"],
                               end=data["end"], covers=request.user)
    messages.success(request, f"{data['user']} covers for you from {data['start'].astimezone(schedule.tz):%a %d %b %H:%M}.")
    return redirect(schedule)


# --- Creating and editing (team admins) ----------------------------------------------------------


def _layer_formset(request, team_id, tz, initial=None):
    candidates = list(on_call_candidates(team_id)) if team_id else []
    formset = LayerFormSet(request.POST or None, initial=initial, prefix="layers",
                           form_kwargs={"candidates": candidates})
    if request.method == "POST":
        # A layer's start is typed in the schedule's zone.
        with timezone.override(tz):
            formset.is_valid()
    return formset


def _show_feed(request, schedule, raw, template="oncall/calendar_link.html"):
    """Render (not redirect) the page with the feed URL: it must not outlive this response."""
    response = render(request, template, {"schedule": schedule, "ical_url": calendar_url(raw)})
    add_never_cache_headers(response)
    return response


@login_required
def schedule_new(request):
    if not is_any_team_admin(request.user):
        raise Http404("only team admins create schedules")
    form = NewScheduleForm(request.POST or None, user=request.user,
                           initial={"time_zone": request.user.time_zone or "UTC"})
    team_id = None
    if request.method == "POST" and form.is_valid():
        team_id = form.cleaned_data["team"].pk
    formset = _layer_formset(request, team_id, form.tz())
    if request.method == "POST" and form.is_valid() and team_id and formset.is_valid():
        require_role(request.user, team_id, Role.ADMIN)
        schedule, raw = actions.do_create_schedule(
            form.cleaned_data["team"], actor=request.user, name=form.cleaned_data["name"],
            time_zone=form.cleaned_data["time_zone"], description=form.cleaned_data["description"],
            layers=[f.spec() for f in formset.layer_forms()],
        )
        messages.success(request, f"Schedule {schedule.name} created.")
        return _show_feed(request, schedule, raw)
    return render(request, "oncall/form.html", {"form": form, "formset": formset, "schedule": None,
                                                "people": _people(request.user)})


def _people(user, team_id=None):
    """Who can be put in a rotation, per team (that one, or those the user administers), to help
    fill in the participants."""
    memberships = Membership.objects.select_related("user", "team").filter(
        role__in=[Role.ADMIN, Role.RESPONDER], user__is_active=True).order_by("team__name", "user__name")
    if team_id:
        memberships = memberships.filter(team_id=team_id)
    elif not user.is_superuser:
        memberships = memberships.filter(team__memberships__user=user, team__memberships__role=Role.ADMIN)
    teams = {}
    for m in memberships:
        teams.setdefault(m.team.name, []).append(m.user)
    return teams


@login_required
def schedule_edit(request, pk):
    schedule = _admin_schedule(request, pk)
    form = ScheduleForm(request.POST or None, schedule=schedule, initial={
        "name": schedule.name, "time_zone": schedule.time_zone, "description": schedule.description})
    tz = form.tz()
    initial = [LayerForm.initial_for(layer, schedule.tz) for layer in schedule.layers.all()]
    formset = _layer_formset(request, schedule.team_id, tz, initial=initial)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        layers = [f.spec() for f in formset.layer_forms()]
        actions.do_update_schedule(schedule, actor=request.user, name=data["name"], time_zone=data["time_zone"],
                                   description=data["description"], layers=layers)
        messages.success(request, f"Schedule {schedule.name} saved.")
        return redirect(schedule)
    return render(request, "oncall/form.html", {"form": form, "formset": formset, "schedule": schedule,
                                                "people": _people(request.user, schedule.team_id)})


@require_POST
@login_required
def schedule_delete(request, pk):
    schedule = _admin_schedule(request, pk)
    used_by = schedule.escalation_policies_paging()
    if used_by:
        messages.error(request, f"Escalation policies page this schedule ({', '.join(used_by)}): change them first.")
        return redirect(schedule)
    actions.do_delete_schedule(schedule, actor=request.user)
    messages.success(request, f"Schedule {schedule.name} deleted.")
    return redirect("schedule-list")


@require_POST
@login_required
def schedule_calendar_rotate(request, pk):
    schedule = _admin_schedule(request, pk)
    raw = actions.do_rotate_schedule_calendar(schedule, actor=request.user)
    return _show_feed(request, schedule, raw)


@require_POST
@login_required
def my_calendar(request):
    """Make the user's own feed, or give it a new URL ("delete" in the form removes it)."""
    if request.POST.get("delete"):
        actions.do_delete_user_calendar(request.user, actor=request.user)
        messages.success(request, "Your calendar feed is switched off; its URL no longer works.")
        return redirect("token-list")
    _, raw = actions.do_rotate_user_calendar(request.user, actor=request.user)
    return _show_feed(request, None, raw)
