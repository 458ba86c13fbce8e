import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from vigil.accounts.models import Role
from vigil.accounts.permissions import get_for_user, has_role, require_role
from vigil.incidents.models import Incident

from . import actions, export
from .api import items_for, reviews_for, visible_teams
from .forms import (ActionItemForm, CommentForm, FactorFormSet, ReasonForm, ReviewForm, SectionFormSet, SettingsForm,
                    TimelineFormSet, factors_from, timeline_from, whys_formset, whys_from)
from .models import ActionItem, ReviewNotAllowed, ReviewSettings, Status


def _review(request, pk):
    return get_object_or_404(reviews_for(request.user).select_related("author", "no_action_by"), pk=pk)


@login_required
def review_list(request):
    reviews = reviews_for(request.user).select_related("incident")
    status = request.GET.get("status")
    if status in Status.values:
        reviews = reviews.filter(status=status)
    page = Paginator(reviews, 50).get_page(request.GET.get("page"))
    overdue = actions.overdue(items_for(request.user)).count()
    return render(request, "reviews/list.html", {"page": page, "statuses": Status.choices, "status": status,
                                                 "overdue": overdue})


@require_POST
@login_required
def review_start(request, incident_pk):
    incident = get_for_user(Incident.objects.select_related("team", "service"), request.user, pk=incident_pk)
    require_role(request.user, incident.team_id, Role.RESPONDER)
    review = actions.do_start_review(incident, actor=request.user, title=request.POST.get("title", "").strip()[:255])
    messages.success(request, f"Review #{review.pk} started: the incident's timeline and facts are filled in.")
    return redirect("review-edit", review.pk)


@login_required
def review_detail(request, pk):
    review = _review(request, pk)
    ctx = export.context(review)
    is_reviewer = any(r.user_id == request.user.pk for r in ctx["reviewers"])
    ctx.update({
        "can_edit": review.editable and has_role(request.user, review.team_id, Role.RESPONDER),
        "can_respond": has_role(request.user, review.team_id, Role.RESPONDER),
        "is_reviewer": is_reviewer,
        "has_approved": any(r.user_id == request.user.pk and r.approved_at for r in ctx["reviewers"]),
        "comments": review.comments.select_related("author"),
        "comment_form": CommentForm(),
        "reason_form": ReasonForm(initial={"reason": review.no_action_reason}),
        "item_form": ActionItemForm(team=review.team, prefix="item"),
        "status_pages": [p.page for p in actions.public_incidents(review.incident)] if review.status == Status.APPROVED else [],
    })
    return render(request, "reviews/detail.html", ctx)


@login_required
def review_edit(request, pk):
    review = _review(request, pk)
    require_role(request.user, review.team_id, Role.RESPONDER)
    if not review.editable:
        messages.warning(request, "A review that is approved or published cannot be edited; a reviewer can ask for changes.")
        return redirect(review)
    initial = {"title": review.title, "root_cause_category": review.root_cause_category, "root_cause": review.root_cause,
               "fix_type": review.fix_type, "technique": review.technique,
               "reviewers": [r.user_id for r in review.reviewer_rows.all()],
               **{f"section_{key}": text for key, _t, _p, text in review.section_list()}}
    data = request.POST if request.method == "POST" else None
    form = ReviewForm(data, review=review, initial=initial)
    whys = whys_formset(review, data)
    factors = FactorFormSet(data, prefix="factors", initial=review.factors)
    timeline = TimelineFormSet(data, prefix="timeline", initial=review.timeline)
    error = None
    if data is not None and all(f.is_valid() for f in (form, whys, factors, timeline)):
        d = form.cleaned_data
        try:
            actions.do_update_review(
                review, actor=request.user, reviewers=list(d["reviewers"]), title=d["title"],
                root_cause_category=d["root_cause_category"], root_cause=d["root_cause"], fix_type=d["fix_type"],
                technique=d["technique"], sections={key: d[name] for key, name in form.section_keys},
                whys=whys_from(whys), factors=factors_from(factors), timeline=timeline_from(timeline),
            )
        except actions.Invalid as e:
            error = f"Not saved: {e.field.replace('_', ' ')}: {e.message}."
        except ReviewNotAllowed as e:
            messages.warning(request, f"Not saved: {e}.")
            return redirect(review)
        else:
            messages.success(request, "Review saved.")
            return redirect(review)
    return render(request, "reviews/edit.html", {"review": review, "form": form, "whys": whys, "factors": factors,
                                                 "timeline": timeline, "error": error})


STEPS = {
    "submit": (actions.do_submit_review, "Sent to the reviewers."),
    "approve": (actions.do_approve_review, "Approved."),
    "request-changes": (actions.do_request_changes, "Sent back to draft with your comment."),
    "no-action": (actions.do_mark_no_action_needed, "Noted."),
    "publish": (actions.do_publish_review, "Published."),
}


@require_POST
@login_required
def review_step(request, pk, step):
    if step not in STEPS:
        raise Http404("no such step")
    review = _review(request, pk)
    if step in ("submit", "publish"):
        require_role(request.user, review.team_id, Role.RESPONDER)
    do, done = STEPS[step]
    kwargs = {"reason": request.POST.get("reason", "")[:5000]} if step in ("request-changes", "no-action") else {}
    if step == "publish":
        kwargs = {"postmortem": request.POST.get("postmortem", "")[:20000]}
    try:
        do(review, actor=request.user, **kwargs)
    except (ReviewNotAllowed, actions.Invalid, PermissionDenied) as e:
        messages.warning(request, f"Not done: {e}.")
    else:
        messages.success(request, done)
    return redirect(review)


@require_POST
@login_required
def review_comment(request, pk):
    review = _review(request, pk)
    if not review.reviewer_rows.filter(user=request.user).exists():
        require_role(request.user, review.team_id, Role.RESPONDER)
    form = CommentForm(request.POST)
    if form.is_valid():
        actions.do_add_comment(review, actor=request.user, body=form.cleaned_data["body"])
        messages.success(request, "Comment added.")
    else:
        messages.error(request, "The comment is empty or too long.")
    return redirect(review.get_absolute_url() + "#comments")


def _add_item(request, team, **links):
    form = ActionItemForm(request.POST, team=team, prefix="item")
    if form.is_valid():
        try:
            actions.do_create_action_item(team, actor=request.user, **links, **form.cleaned_data)
        except actions.Invalid as e:
            messages.error(request, f"Not added: {e.field.replace('_', ' ')}: {e.message}.")
        else:
            messages.success(request, "Action item added.")
    else:
        messages.error(request, "Not added: " + "; ".join(
            f"{form.fields[f].label or f.replace('_', ' ').capitalize() if f in form.fields else f}: {' '.join(errs)}"
            for f, errs in form.errors.items()))


@require_POST
@login_required
def review_add_item(request, pk):
    review = _review(request, pk)
    require_role(request.user, review.team_id, Role.RESPONDER)
    _add_item(request, review.team, review=review)
    return redirect(review.get_absolute_url() + "#action-items")


@require_POST
@login_required
def incident_add_item(request, incident_pk):
    incident = get_for_user(Incident.objects.select_related("team"), request.user, pk=incident_pk)
    require_role(request.user, incident.team_id, Role.RESPONDER)
    _add_item(request, incident.team, incident=incident)
    return redirect(incident.get_absolute_url() + "#incident-reviews")


@login_required
def review_export(request, pk, fmt):
    if fmt not in ("md", "pdf"):
        raise Http404("export as .md or .pdf")
    review = _review(request, pk)
    if fmt == "md":
        response = HttpResponse(export.markdown(review), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="review-{review.pk}.md"'
    else:
        try:
            document = export.pdf(review)
        except export.PdfUnavailable as e:
            messages.error(request, str(e))
            return redirect(review)
        response = HttpResponse(document, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="review-{review.pk}.pdf"'
    return response


# --- action items ----------------------------------------------------------------------------------

@login_required
def item_list(request):
    items = items_for(request.user).select_related("review", "incident")
    mine = request.GET.get("mine") == "1"
    if mine:
        items = items.filter(owner=request.user)
    show = request.GET.get("show", "open")
    listed = items.filter(status__in=ActionItem.OPEN_STATES) if show == "open" else items
    overdue = list(actions.overdue(items).order_by("team__name", "due_date"))
    by_team = {}
    for item in overdue:
        by_team.setdefault(item.team, []).append(item)
    page = Paginator(listed, 50).get_page(request.GET.get("page"))
    return render(request, "reviews/items.html", {"page": page, "overdue_by_team": list(by_team.items()), "mine": mine,
                                                  "show": show})


@login_required
def item_detail(request, pk):
    item = get_for_user(items_for(request.user).select_related("review", "incident"), request.user, pk=pk)
    can_edit = item.owner_id == request.user.pk or has_role(request.user, item.team_id, Role.RESPONDER)
    # A copy: a ModelForm writes its input onto its instance while validating; the action decides.
    form = ActionItemForm(request.POST if request.method == "POST" else None, instance=copy.copy(item), team=item.team)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("only the owner or a responder of the team can change an action item")
        if form.is_valid():
            try:
                actions.do_update_action_item(item, actor=request.user, **{
                    f: form.cleaned_data[f] for f in form.Meta.saved})
            except actions.Invalid as e:
                form.add_error(e.field if e.field in form.fields else None, e.message)
            else:
                messages.success(request, "Action item saved.")
                return redirect(item)
    reminders = item.reminders.all()
    return render(request, "reviews/item.html", {"item": item, "form": form, "can_edit": can_edit, "reminders": reminders})


# --- a team's review settings ------------------------------------------------------------------------

@login_required
def team_settings(request, slug):
    team = get_object_or_404(visible_teams(request.user), slug=slug)
    chosen = ReviewSettings.of(team)
    is_admin = has_role(request.user, team.pk, Role.ADMIN)
    initial = {"lead": team.lead_id, "reviewers": list(chosen.reviewers.values_list("pk", flat=True)) if chosen.pk else [],
               "remind_days_before": chosen.remind_days_before, "escalate_days_after": chosen.escalate_days_after}
    data = request.POST if request.method == "POST" else None
    form = SettingsForm(data, team=team, initial=initial)
    sections = SectionFormSet(data, prefix="sections", initial=chosen.template())
    error = None
    if data is not None:
        require_role(request.user, team.pk, Role.ADMIN)
        if form.is_valid() and sections.is_valid():
            d = form.cleaned_data
            rows = [s.cleaned_data for s in sections if s.cleaned_data.get("key") or s.cleaned_data.get("title")]
            try:
                actions.do_update_review_settings(
                    team, actor=request.user, lead=d["lead"], reviewers=list(d["reviewers"]), sections=rows,
                    remind_days_before=d["remind_days_before"], escalate_days_after=d["escalate_days_after"])
            except actions.Invalid as e:
                error = f"Not saved: {e.field.replace('_', ' ')}: {e.message}."
            else:
                messages.success(request, "Review settings saved.")
                return redirect("review-settings", team.slug)
    return render(request, "reviews/settings.html", {"team": team, "form": form, "sections": sections,
                                                     "is_admin": is_admin, "error": error})
