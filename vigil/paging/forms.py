import apprise
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from vigil.accounts.models import Role, Team, User
from vigil.oncall.models import Schedule

from .models import ContactMethod


class ContactMethodForm(forms.Form):
    kind = forms.ChoiceField(choices=ContactMethod.Kind.choices)
    name = forms.CharField(max_length=100, required=False, help_text="So you can tell them apart, e.g. “phone”.")
    address = forms.CharField(
        max_length=2000,
        help_text="An email address; an http(s) URL for a webhook; or an Apprise URL such as ntfy://my-topic, "
                  "slack://TokenA/TokenB/TokenC/#channel, msteams://…, discord://webhook_id/webhook_token, "
                  "tgram://bot_token/chat_id, pover://user_key@app_token.",
    )

    def clean(self):
        data = super().clean()
        kind, address = data.get("kind"), data.get("address")
        if not kind or not address:
            return data
        try:
            if kind == ContactMethod.Kind.EMAIL:
                validate_email(address)
            elif kind == ContactMethod.Kind.WEBHOOK:
                URLValidator(schemes=["http", "https"])(address)
            elif apprise.Apprise.instantiate(address) is None:
                self.add_error("address", "Apprise does not know this URL: see its list of services.")
        except ValidationError:
            self.add_error("address", "Not a valid email address." if kind == "email" else "Not a valid http(s) URL.")
        return data


class RuleForm(forms.Form):
    contact_method = forms.ModelChoiceField(queryset=ContactMethod.objects.none())
    delay_minutes = forms.IntegerField(min_value=0, max_value=24 * 60, initial=0, label="After (minutes)")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_method"].queryset = user.contact_methods.all()

    def clean(self):
        data = super().clean()
        method, minutes = data.get("contact_method"), data.get("delay_minutes")
        if method is not None and minutes is not None and method.rules.filter(delay_seconds=minutes * 60).exists():
            self.add_error("delay_minutes", "This method already has a rule with this delay.")
        return data


def target_choices(team):
    """Who a level can page: the team's responders, its schedules, and any team."""
    people = User.objects.filter(memberships__team=team, memberships__role__in=[Role.ADMIN, Role.RESPONDER],
                                 is_active=True).distinct()
    return [
        ("People", [(f"user:{u.pk}", str(u)) for u in people]),
        ("Schedules (whoever is on call)", [(f"schedule:{s.pk}", s.name) for s in Schedule.objects.filter(team=team)]),
        ("Teams (all responders)", [(f"team:{t.pk}", t.name) for t in Team.objects.all()]),
    ]


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    repeat = forms.IntegerField(min_value=0, max_value=9, initial=0, help_text="Run all levels again this many times.")

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
    delay_minutes = forms.IntegerField(min_value=0, max_value=7 * 24 * 60, required=False, label="Next level after (minutes)")
    targets = forms.MultipleChoiceField(required=False, widget=forms.SelectMultiple(attrs={"size": 6}))

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["targets"].choices = target_choices(team)

    def as_level(self):
        """The level as the policy stores it, or None for a row left empty."""
        targets = self.cleaned_data.get("targets") or []
        if not targets:
            return None
        return {
            "delay_seconds": (self.cleaned_data.get("delay_minutes") or 0) * 60,
            "targets": [{"type": t.split(":")[0], "id": int(t.split(":")[1])} for t in targets],
        }


LevelFormSet = forms.formset_factory(LevelForm, extra=0)


class AskForHelpForm(forms.Form):
    reason = forms.CharField(max_length=2000, required=False)
    users = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False, label="These people")
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, label="Or a whole team")

    def __init__(self, *args, incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = User.objects.filter(
            memberships__team_id=incident.team_id, memberships__role__in=[Role.ADMIN, Role.RESPONDER],
            is_active=True).distinct()
