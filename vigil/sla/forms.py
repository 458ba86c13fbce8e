import datetime as dt
from zoneinfo import available_timezones

from django import forms

from .models import SEVERITIES, WEEKDAYS, validate_holidays_of

DAY_CHOICES = [(i, name.capitalize()) for i, name in enumerate(WEEKDAYS)]


class SlaForm(forms.Form):
    business_hours_only = forms.BooleanField(required=False, label="Count business hours only (else 24x7)")
    time_zone = forms.CharField(max_length=64, initial="UTC", help_text="Of the business hours, e.g. Europe/Paris.")
    weekdays = forms.TypedMultipleChoiceField(choices=DAY_CHOICES, coerce=int, required=False,
                                              widget=forms.CheckboxSelectMultiple, label="Business days")
    day_start = forms.TimeField(label="Business hours from", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    day_end = forms.TimeField(label="Business hours until", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    holidays_of = forms.CharField(max_length=16, required=False, validators=[validate_holidays_of], label="Public holidays of",
                                  help_text='A country, or its region, whose public holidays are days off: "NL", "US-CA".')
    closed_days = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Other days off",
                                  help_text="One date a line, e.g. 2026-12-24.")
    escalate_percent = forms.IntegerField(min_value=1, max_value=100, initial=75, label="Escalate at (% of a target)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for severity in SEVERITIES:
            for kind, what in (("ack", "acknowledge"), ("resolve", "resolve")):
                self.fields[f"{severity}_{kind}"] = forms.IntegerField(
                    min_value=1, max_value=366 * 24 * 60, required=False,
                    label=f"{severity.upper()}: {what} within (minutes)")

    def clean_time_zone(self):
        value = self.cleaned_data["time_zone"].strip()
        if value not in available_timezones():
            raise forms.ValidationError(f"Unknown time zone {value!r}.")
        return value

    def clean_closed_days(self):
        days = set()
        for line in self.cleaned_data["closed_days"].split():
            try:
                days.add(dt.date.fromisoformat(line).isoformat())
            except ValueError:
                raise forms.ValidationError(f"{line!r} is not a date like 2026-12-24.") from None
        return sorted(days)

    def clean(self):
        data = super().clean()
        if data.get("business_hours_only") and not data.get("weekdays"):
            self.add_error("weekdays", "Choose at least one business day.")
        if data.get("day_start") and data.get("day_end") and data["day_end"] <= data["day_start"]:
            self.add_error("day_end", "Must be after the start.")
        return data

    def policy_values(self):
        data = self.cleaned_data
        targets = {}
        for severity in SEVERITIES:
            values = {f"{kind}_seconds": data[f"{severity}_{kind}"] * 60
                      for kind in ("ack", "resolve") if data.get(f"{severity}_{kind}")}
            if values:
                targets[severity] = values
        return {"business_hours_only": data["business_hours_only"], "time_zone": data["time_zone"],
                "weekdays": sorted(data["weekdays"] or [0, 1, 2, 3, 4]), "day_start": data["day_start"],
                "day_end": data["day_end"], "holidays_of": data["holidays_of"], "closed_days": data["closed_days"],
                "escalate_fraction": data["escalate_percent"] / 100, "targets": targets}

    @classmethod
    def initial_from(cls, policy):
        initial = {"business_hours_only": policy.business_hours_only, "time_zone": policy.time_zone,
                   "weekdays": policy.weekdays, "day_start": policy.day_start, "day_end": policy.day_end,
                   "holidays_of": policy.holidays_of, "closed_days": "\n".join(policy.closed_days),
                   "escalate_percent": round(policy.escalate_fraction * 100)}
        for severity in SEVERITIES:
            for kind in ("ack", "resolve"):
                seconds = policy.target(severity, kind)
                if seconds:
                    initial[f"{severity}_{kind}"] = max(1, seconds // 60)
        return initial
