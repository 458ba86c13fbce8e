from datetime import timedelta

from django import forms

from .models import Heartbeat, cron_error, valid_time_zone

MAX_MINUTES = 365 * 24 * 60
SEVERITIES = [("sev1", "SEV1 (critical)"), ("sev2", "SEV2 (high)"), ("sev3", "SEV3 (moderate)"), ("sev4", "SEV4 (low)")]


class HeartbeatForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="The job, as people call it: “Nightly database backup”.")
    kind = forms.ChoiceField(choices=Heartbeat.Kind.choices, label="Schedule", initial=Heartbeat.Kind.SIMPLE)
    period_minutes = forms.IntegerField(min_value=1, max_value=MAX_MINUTES, initial=1440, required=False,
                                        label="Period (minutes)", help_text="How often the job runs: 1440 is daily.")
    cron = forms.CharField(max_length=100, required=False, label="Cron expression",
                           help_text="Five fields, as in crontab: “30 2 * * *” is 02:30 every day.")
    time_zone = forms.CharField(max_length=64, initial="UTC", help_text="The zone the cron expression is read in.")
    grace_minutes = forms.IntegerField(min_value=1, max_value=MAX_MINUTES, initial=60, label="Grace (minutes)",
                                       help_text="How late a ping may be, and how long a started run may take, "
                                                 "before it alerts.")
    severity = forms.ChoiceField(choices=SEVERITIES, initial="sev2")
    description = forms.CharField(widget=forms.Textarea, required=False, max_length=5000)

    @classmethod
    def for_heartbeat(cls, heartbeat, data=None):
        return cls(data, initial={
            "name": heartbeat.name, "kind": heartbeat.kind, "period_minutes": int(heartbeat.period.total_seconds()) // 60,
            "cron": heartbeat.cron, "time_zone": heartbeat.time_zone,
            "grace_minutes": int(heartbeat.grace.total_seconds()) // 60, "severity": heartbeat.severity,
            "description": heartbeat.description})

    def clean(self):
        data = super().clean()
        if not valid_time_zone(data.get("time_zone") or "UTC"):
            self.add_error("time_zone", f"Unknown time zone {data.get('time_zone')!r} (e.g. Europe/Berlin).")
        elif data.get("kind") == Heartbeat.Kind.CRON:
            if not data.get("cron"):
                self.add_error("cron", "Give the cron expression of the job.")
            elif why := cron_error(data["cron"], data["time_zone"]):
                self.add_error("cron", why)
        elif data.get("kind") == Heartbeat.Kind.SIMPLE and not data.get("period_minutes"):
            self.add_error("period_minutes", "Give the period of the job.")
        return data

    def fields_for_model(self):
        data = self.cleaned_data
        fields = {"name": data["name"], "description": data["description"], "kind": data["kind"],
                  "grace": timedelta(minutes=data["grace_minutes"]), "time_zone": data["time_zone"],
                  "severity": data["severity"]}
        if data["kind"] == Heartbeat.Kind.CRON:
            fields["cron"] = data["cron"]
        else:
            fields.update(cron="", period=timedelta(minutes=data["period_minutes"]))
        return fields
