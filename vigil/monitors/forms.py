"""The monitor form: one form for every kind, in fieldsets; the rules are actions.config_errors."""

from django import forms

from . import actions
from .models import Monitor

HTTP_FIELDS = ["method", "headers", "body", "expected_status", "keyword", "keyword_mode", "max_latency_ms",
               "follow_redirects", "verify_tls", "tls_expiry_days"]
DNS_FIELDS = ["record_type", "expected_answer", "nameserver"]


class HeadersField(forms.CharField):
    """Request headers typed one per line as `Name: value`."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "Authorization: Bearer …"})

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{name}: {text}" for name, text in value.items())
        return value

    def to_python(self, value):
        headers = {}
        for number, line in enumerate((value or "").splitlines(), 1):
            if not line.strip():
                continue
            name, sep, text = line.partition(":")
            if not sep or not name.strip():
                raise forms.ValidationError(f"line {number}: write it as Name: value")
            headers[name.strip()] = text.strip()
        return headers


class MonitorForm(forms.ModelForm):
    headers = HeadersField(required=False, help_text="One per line, as Name: value.")

    class Meta:
        model = Monitor
        fields = actions.CONFIG_FIELDS
        widgets = {"body": forms.Textarea(attrs={"rows": 3}), "method": forms.Select(choices=[(m, m) for m in actions.METHODS])}
        labels = {"interval_seconds": "Interval (seconds)", "timeout_seconds": "Timeout (seconds)",
                  "retry_interval_seconds": "Retry after (seconds)", "recovery_checks": "Good checks to recover",
                  "max_latency_ms": "Max latency (ms)", "tls_expiry_days": "Certificate warning (days ahead)",
                  "expected_status": "Expected status", "record_type": "Record type", "body": "Request body"}

    def __init__(self, *args, service, **kwargs):
        super().__init__(*args, **kwargs)
        self.service = service

    def general_fields(self):
        return [self[f] for f in actions.CONFIG_FIELDS if f not in HTTP_FIELDS + DNS_FIELDS]

    def http_fields(self):
        return [self[f] for f in HTTP_FIELDS]

    def dns_fields(self):
        return [self[f] for f in DNS_FIELDS]

    def clean(self):
        data = super().clean()
        # Fields that failed already stand in with their defaults, so the rest are still checked.
        values = {f: data[f] if f in data else Monitor._meta.get_field(f).get_default() for f in actions.CONFIG_FIELDS}
        for field, message in actions.config_errors(values).items():
            if field not in self.errors:
                self.add_error(field, message)
        name = data.get("name")
        if name and self.service.monitors.exclude(pk=self.instance.pk).filter(name=name).exists():
            self.add_error("name", "The service already has a monitor of this name.")
        return data

    def _post_clean(self):
        # The model's own uniqueness check needs the service; clean() above says it in words.
        self.instance.service = self.service
        super()._post_clean()

    def config(self):
        return {f: self.cleaned_data[f] for f in actions.CONFIG_FIELDS}

    def changes(self):
        return {f: self.cleaned_data[f] for f in self.changed_data}
