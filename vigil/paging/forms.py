from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from ninja.errors import ValidationError as ApiValidationError

from vigil.accounts.models import Role, Team, User
from vigil.oncall.models import Schedule

from .models import ContactMethod

MAX_LEVELS = 20  # as the API allows
MAX_TARGETS = 20


class ContactMethodForm(forms.Form):
    kind = forms.ChoiceField(choices=ContactMethod.Kind.choices)
    name = forms.CharField(max_length=100, required=False, help_text="So you can tell them apart, e.g. “phone”.")
    address = forms.CharField(
        max_length=2000,
        help_text="Email: an address. Webhook: an http(s) URL. Apprise: a URL such as ntfy://my-topic, "
                  "slack://TokenA/TokenB/TokenC/#channel, msteams://…, discord://webhook_id/webhook_token, "
                  "tgram://bot_token/chat_id or pover://user_key@app_token.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not settings.SMTP_URL:
            self.fields["kind"].help_text = "Email is switched off on this server (VIGIL_SMTP_URL is not set)."

    def clean(self):
        data = super().clean()
        kind, address = data.get("kind"), data.get("address")
        if kind and address:
            # The API's rules, so a method refused there is refused here too. (Imported here:
            # vigil.api imports every app's router, so a module-level import would be circular.)
            from .api import check_address

            try:
                check_address(kind, address)
            except ApiValidationError as e:
                message = e.errors[0]["msg"]
                self.add_error("address", message[0].upper() + message[1:] + ".")
        return data


class RuleForm(forms.Form):
    delay_minutes = forms.IntegerField(min_value=0, max_value=24 * 60, initial=0, label="After (minutes)",
                                       help_text="0: as soon as you are paged.")
    contact_method = forms.ModelChoiceField(queryset=ContactMethod.objects.none(), label="By", empty_label=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_method"].queryset = user.contact_methods.all()

    def clean(self):
        data = super().clean()
        method, minutes = data.get("contact_method"), data.get("delay_minutes")
        if method is not None and minutes is not None and method.rules.filter(delay_seconds=minutes * 60).exists():
            self.add_error("delay_minutes", "This method already has a rule with this delay.")
        return data


def team_responders(team_id):
    """Who a policy of the team may page by name, and whom a responder may ask for help: its
    active admins and responders (viewers only follow). The API's check_levels has the same rule."""
    return User.objects.filter(memberships__team_id=team_id, memberships__role__in=[Role.ADMIN, Role.RESPONDER],
                               is_active=True).distinct().order_by("name", "email")


def target_choices(team):
    """Who a level can page, encoded "user:ID", "schedule:ID", "team:ID": the team's responders,
    whoever is on call in one of its schedules, or every responder of a team (any team, as in the API)."""
    teams = sorted(Team.objects.all(), key=lambda t: (t.pk != team.pk, t.name.lower()))
    groups = [
        ("People", [(f"user:{u.pk}", str(u)) for u in team_responders(team.pk)]),
        ("Whoever is on call in", [(f"schedule:{s.pk}", s.name) for s in Schedule.objects.filter(team=team)]),
        ("Every responder of", [(f"team:{t.pk}", t.name) for t in teams]),
    ]
    return [(group, options) for group, options in groups if options]


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    repeat = forms.IntegerField(min_value=0, max_value=9, initial=0, label="Repeat",
                                help_text="When the last level has had its time, start again from level 1 this many times.")

    def __init__(self, *args, team, policy=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.team, self.policy = team, policy

    def clean_name(self):
        name = self.cleaned_data["name"]
        taken = self.team.escalation_policies.filter(name__iexact=name)
        if self.policy is not None:
            taken = taken.exclude(pk=self.policy.pk)
        if taken.exists():
            raise ValidationError("The team has a policy with this name.")
        return name


class LevelForm(forms.Form):
    targets = forms.MultipleChoiceField(
        required=False, label="Page", widget=forms.CheckboxSelectMultiple(attrs={"class": "choices"}),
        error_messages={"invalid_choice": "%(value)s cannot be paged by this team's policy: choose its "
                                          "responders, its schedules or a team."})
    delay_minutes = forms.IntegerField(
        min_value=0, max_value=7 * 24 * 60, required=False, initial=5, label="Then wait (minutes)",
        help_text="How long to wait for an acknowledgement before paging the next level.")

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["targets"].choices = choices

    def clean_targets(self):
        targets = self.cleaned_data["targets"]
        if len(targets) > MAX_TARGETS:
            raise ValidationError(f"At most {MAX_TARGETS} targets on one level.")
        return targets

    def as_level(self):
        """The level as the policy stores it, or None for a level left without targets (dropped)."""
        targets = self.cleaned_data.get("targets") or []
        if not targets:
            return None
        return {
            "delay_seconds": (self.cleaned_data.get("delay_minutes") or 0) * 60,
            "targets": [{"type": kind, "id": int(pk)} for kind, pk in (t.split(":") for t in targets)],
        }


LevelFormSet = forms.formset_factory(LevelForm, extra=0, max_num=MAX_LEVELS, validate_max=True)


def levels_initial(levels):
    """A policy's stored levels as the level forms' initial data (seconds shown as minutes)."""
    return [{"delay_minutes": level.get("delay_seconds", 0) // 60,
             "targets": [f"{t['type']}:{t['id']}" for t in level.get("targets", [])]} for level in levels]


def levels_from_post(data, prefix="level"):
    """What was typed into the level forms, as initial data: for "Add a level", which shows the
    form again with one more level and no errors for fields not filled in yet."""
    try:
        count = min(int(data.get(f"{prefix}-TOTAL_FORMS", 0)), MAX_LEVELS)
    except ValueError:
        count = 0
    return [{"delay_minutes": data.get(f"{prefix}-{i}-delay_minutes", ""),
             "targets": data.getlist(f"{prefix}-{i}-targets")} for i in range(count)]


class AskForHelpForm(forms.Form):
    users = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(), required=False, label="People of the team",
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choices"}))
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, label="Or a whole team",
                                  empty_label="No team", help_text="Pages every responder of that team.")
    reason = forms.CharField(max_length=2000, required=False, label="What do you need?")

    def __init__(self, *args, incident, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = team_responders(incident.team_id).exclude(pk=user.pk)
        self.fields["team"].queryset = Team.objects.order_by("name")
