"""Forms of the alerts pages: integrations, silences, maintenance windows, the alert filter.

Times are typed in the user's time zone (the view activates it) and come out aware UTC."""

import json
import re

from django import forms
from django.utils import timezone

from .models import MAX_BODY_KB, Alert, Integration, Silence

MAX_WINDOW_MINUTES = 7 * 24 * 60  # the API's bound, 7 days


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's date-and-time picker; Django reads its ISO value (2026-11-26T23:10)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class IntegrationSettingsForm(forms.Form):
    name = forms.CharField(max_length=100)
    grouping = forms.ChoiceField(choices=Integration.Grouping.choices, label="Grouping into incidents")
    window_minutes = forms.IntegerField(
        min_value=0, max_value=MAX_WINDOW_MINUTES, label="Window (minutes)",
        help_text="An alert joins an open incident of its group opened this recently, and an alert resolved "
                  "this recently reopens when it fires again.")
    rate_limit_per_minute = forms.IntegerField(
        min_value=0, initial=Integration._meta.get_field("rate_limit_per_minute").default,
        label="Rate limit (requests a minute)", help_text=Integration._meta.get_field("rate_limit_per_minute").help_text)
    max_body_kb = forms.IntegerField(
        min_value=1, max_value=MAX_BODY_KB, initial=Integration._meta.get_field("max_body_kb").default,
        label="Body limit (kB)", help_text=Integration._meta.get_field("max_body_kb").help_text)

    @classmethod
    def for_integration(cls, integration, data=None):
        return cls(data, initial={"name": integration.name, "grouping": integration.grouping,
                                  "window_minutes": integration.group_window_seconds // 60,
                                  "rate_limit_per_minute": integration.rate_limit_per_minute,
                                  "max_body_kb": integration.max_body_kb})

    def settings(self):
        """Every field, named as the model names them."""
        data = self.cleaned_data
        return {"name": data["name"].strip(), "grouping": data["grouping"],
                "group_window_seconds": data["window_minutes"] * 60,
                "rate_limit_per_minute": data["rate_limit_per_minute"], "max_body_kb": data["max_body_kb"]}

    def changes(self):
        """The changed fields, named as the model names them."""
        renamed = {"window_minutes": "group_window_seconds"}
        settings = self.settings()
        return {renamed.get(f, f): settings[renamed.get(f, f)] for f in self.changed_data}


class IntegrationForm(IntegrationSettingsForm):
    """A new integration: what sends, and how its alerts group."""

    kind = forms.ChoiceField(choices=Integration.Kind.choices, label="Sender")
    name = forms.CharField(max_length=100, required=False, help_text="Blank: the sender's name.")
    window_minutes = forms.IntegerField(
        min_value=0, max_value=MAX_WINDOW_MINUTES, initial=60, label="Window (minutes)",
        help_text=IntegrationSettingsForm.base_fields["window_minutes"].help_text)
    field_order = ["kind", "name", "grouping", "window_minutes", "rate_limit_per_minute", "max_body_kb"]

    def settings(self):
        return {"kind": self.cleaned_data["kind"], **super().settings()}


# name, operator, value. The name is anything but blanks and operator characters, so Grafana's and
# UTF-8 label names pass; the longest operators are tried first ("!=" before "=").
MATCHER = re.compile(r"^\s*([^\s=!~\"]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
MATCHER_HELP = "One a line: name=value, name!=value, name=~regex or name!~regex (regexes match the whole value)."


def parse_matchers(text):
    """Lines of Alertmanager-style matchers -> [{"name", "op", "value"}]. A value may be written in
    double quotes, as amtool writes it. Raises ValidationError naming each bad line."""
    matchers, errors = [], []
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    for n, line in lines:
        m = MATCHER.match(line)
        if m is None:
            errors.append(f"Line {n}: “{line.strip()[:80]}” is not a matcher. {MATCHER_HELP}")
            continue
        name, op, value = m.groups()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            try:
                value = json.loads(value)
            except ValueError:
                errors.append(f"Line {n}: the quoted value of {name} is not closed properly.")
                continue
        if len(name) > 100 or len(value) > 1000:
            errors.append(f"Line {n}: a name is at most 100 characters and a value at most 1000.")
            continue
        if op in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as e:
                errors.append(f"Line {n}: “{value[:80]}” is not a valid regular expression ({e}).")
                continue
        matchers.append({"name": name, "op": op, "value": value})
    if errors:
        raise forms.ValidationError(errors)
    if not lines:
        raise forms.ValidationError(f"Give at least one matcher. {MATCHER_HELP}")
    # As Alertmanager does: a silence must leave some alert unsilenced. A silence that matches an
    # alert with no labels at all would silence every alert of the service.
    if Silence(matchers=matchers).matches({}):
        raise forms.ValidationError("These matchers match every alert. Add one that needs a label value, "
                                    "or use a maintenance window to quiet the whole service.")
    return matchers


class TimeSpanForm(forms.Form):
    """Start and end, the end after the start and not in the past."""

    starts_at = forms.DateTimeField(widget=DateTimeLocalInput, label="Starts")
    ends_at = forms.DateTimeField(widget=DateTimeLocalInput, label="Ends")

    def clean(self):
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if ends_at is not None:
            if ends_at <= timezone.now():
                self.add_error("ends_at", "The end is in the past.")
            elif starts_at is not None and ends_at <= starts_at:
                self.add_error("ends_at", "The end must come after the start.")
        return data


class SilenceForm(TimeSpanForm):
    matchers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocapitalize": "off",
                                     "placeholder": 'alertname="DiskFull"\ninstance=~"db[0-9]+:9100"'}),
        max_length=10000, help_text=MATCHER_HELP)
    starts_at = forms.DateTimeField(widget=DateTimeLocalInput, label="Starts", required=False,
                                    help_text="Blank: now.")
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
                              help_text="Why, and who to ask, for whoever wonders tomorrow.")
    field_order = ["matchers", "starts_at", "ends_at", "comment"]

    def clean_matchers(self):
        return parse_matchers(self.cleaned_data["matchers"])


class MaintenanceWindowForm(TimeSpanForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)


class AlertFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Alert.Status.choices])
