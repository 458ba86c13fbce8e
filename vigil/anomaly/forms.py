from django import forms

from vigil.accounts.models import validate_time_zone

from .models import Rule

SEVERITIES = [("sev1", "SEV1 (critical)"), ("sev2", "SEV2 (high)"), ("sev3", "SEV3 (moderate)"), ("sev4", "SEV4 (low)")]


class RuleForm(forms.Form):
    name = forms.CharField(max_length=100)
    service = forms.ModelChoiceField(queryset=None, help_text="The service whose alert it raises.")
    kind = forms.ChoiceField(choices=Rule.Kind.choices, initial=Rule.Kind.DEVIATION)
    direction = forms.ChoiceField(choices=Rule.Direction.choices, initial=Rule.Direction.ABOVE)
    deviations = forms.FloatField(min_value=0.1, max_value=100, initial=3,
                                  help_text="For a deviation rule: how many deviations from the usual is unusual.")
    threshold = forms.FloatField(required=False, help_text="For a threshold rule.")
    window_minutes = forms.IntegerField(min_value=0, max_value=24 * 60, initial=10, label="For (minutes)",
                                        help_text="How long the value must stay away before it fires.")
    baseline_weeks = forms.IntegerField(min_value=1, max_value=8, initial=4,
                                        help_text="How many past weeks the baseline learns from.")
    time_zone = forms.CharField(max_length=64, initial="UTC", required=False, empty_value="UTC",
                                validators=[validate_time_zone],
                                help_text=Rule._meta.get_field("time_zone").help_text + " Blank: UTC.")
    severity = forms.ChoiceField(choices=SEVERITIES, initial="sev3")
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, data=None, *, services, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["service"].queryset = services

    @classmethod
    def for_rule(cls, rule, data=None, *, services):
        initial = {f: getattr(rule, f) for f in ["name", "kind", "direction", "deviations", "threshold",
                                                  "window_minutes", "baseline_weeks", "time_zone", "severity", "enabled"]}
        form = cls(data, services=services, initial={**initial, "service": rule.service_id})
        # What a rule watches, and for whom, is fixed once made.
        for name in ("service", "kind"):
            form.fields[name].disabled = True
        return form

    def clean(self):
        data = super().clean()
        if data.get("kind") == Rule.Kind.THRESHOLD and data.get("threshold") is None:
            self.add_error("threshold", "A threshold rule needs a threshold.")
        return data

    def rule_fields(self):
        data = self.cleaned_data
        return {f: data[f] for f in ["name", "direction", "deviations", "threshold", "window_minutes", "baseline_weeks",
                                     "time_zone", "severity", "enabled"]}
