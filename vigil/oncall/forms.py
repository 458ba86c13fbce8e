import datetime as dt
import zoneinfo

from django import forms
from django.utils import timezone

from vigil.accounts.models import Role, Team

from .models import MAX_ROTATION_DAYS, MAX_ROTATION_HOURS, WEEKDAYS, Schedule, format_rotation, parse_rotation

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


class LocalDateTimeField(forms.DateTimeField):
    """A datetime-local input, read in the active time zone (the views activate the schedule's)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT)
    input_formats = [LOCAL_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]

    def to_python(self, value):
        try:
            result = super().to_python(value)
        except OverflowError:
            result = None
        # Near datetime's limits the day arithmetic of the shifts would overflow.
        if result is not None and not dt.datetime(1970, 1, 2, tzinfo=dt.timezone.utc) <= result < dt.datetime(2200, 1, 1, tzinfo=dt.timezone.utc):
            raise forms.ValidationError("Choose a date between 1970 and 2200.")
        return result


def local_datetime_field(**kwargs):
    return LocalDateTimeField(**kwargs)


def time_field(**kwargs):
    return forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), **kwargs)


def naive_local(value, tz):
    """An aware datetime as the naive wall-clock value a datetime-local input shows in `tz`."""
    return value.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)


class ScheduleForm(forms.Form):
    name = forms.CharField(max_length=100)
    time_zone = forms.ChoiceField(help_text="Hand-offs and restrictions are in this zone's local time.")
    description = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, schedule=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.schedule = schedule
        self.fields["time_zone"].choices = [(z, z) for z in sorted(zoneinfo.available_timezones())]

    def team_id(self):
        return self.schedule.team_id

    def clean(self):
        data = super().clean()
        team_id = self.team_id()
        if team_id and data.get("name"):
            taken = Schedule.objects.filter(team_id=team_id, name__iexact=data["name"])
            if self.schedule is not None:
                taken = taken.exclude(pk=self.schedule.pk)
            if taken.exists():
                self.add_error("name", "The team has a schedule with this name.")
        return data

    def tz(self):
        """The chosen zone, in which the layers' start times are read (UTC until one is valid)."""
        name = self.data.get(self.add_prefix("time_zone")) if self.is_bound else self.initial.get("time_zone")
        try:
            return zoneinfo.ZoneInfo(name) if name in zoneinfo.available_timezones() else dt.timezone.utc
        except (TypeError, ValueError):
            return dt.timezone.utc


class NewScheduleForm(ScheduleForm):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    field_order = ["team", "name", "time_zone", "description"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.all()
        if not user.is_superuser:
            teams = teams.filter(memberships__user=user, memberships__role=Role.ADMIN)
        self.fields["team"].queryset = teams

    def team_id(self):
        team = self.cleaned_data.get("team")
        return team.pk if team else None


ROTATIONS = [("daily", "Daily"), ("weekly", "Weekly"), ("days", "Every N days"), ("hours", "Every N hours")]


class LayerForm(forms.Form):
    name = forms.CharField(max_length=100)
    start = local_datetime_field(help_text="In the schedule's time zone. The first person is on call from then.")
    rotation = forms.ChoiceField(choices=ROTATIONS, initial="weekly")
    every = forms.IntegerField(
        min_value=1, max_value=MAX_ROTATION_HOURS, initial=1, required=False, label="N",
        help_text="For “every N days/hours”.")
    handoff_time = time_field(initial=dt.time(9, 0), label="Hand-off time",
                              help_text="Local time of the hand-off (not used for “every N hours”).")
    participants = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, in rotation order: email or name of an admin or responder of the team.")
    restrict_days = forms.MultipleChoiceField(
        choices=[(str(i), d.capitalize()) for i, d in enumerate(WEEKDAYS)], required=False,
        widget=forms.CheckboxSelectMultiple, label="Only on",
        help_text="Leave all unticked for every day.")
    restrict_start = time_field(required=False, label="Only from")
    restrict_end = time_field(required=False, label="until",
                              help_text="E.g. 09:00 until 17:00, or nights 18:00 until 08:00. Empty: all day.")

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = list(candidates)

    def clean_participants(self):
        by_email = {u.email.lower(): u for u in self.candidates}
        by_name = {}
        for u in self.candidates:
            by_name.setdefault(u.name.lower(), []).append(u)
        users, unknown = [], []
        for line in self.cleaned_data["participants"].splitlines():
            key = line.strip().lower()
            if not key:
                continue
            user = by_email.get(key) or (by_name[key][0] if len(by_name.get(key, [])) == 1 else None)
            if user is None:
                unknown.append(line.strip())
            users.append(user)
        if unknown:
            raise forms.ValidationError(f"Not an admin or responder of the team: {', '.join(unknown)}.")
        if not users:
            raise forms.ValidationError("Name at least one person.")
        if len(users) > 100:
            raise forms.ValidationError("At most 100 turns in a rotation.")
        return users

    def clean(self):
        data = super().clean()
        kind, every = data.get("rotation"), data.get("every") or 1
        if kind in ("hours", "days"):
            if kind == "days" and every > MAX_ROTATION_DAYS:
                self.add_error("every", f"At most {MAX_ROTATION_DAYS} days.")
            data["rotation_value"] = format_rotation(kind, every)
        elif kind:
            data["rotation_value"] = kind
        if (data.get("restrict_start") is None) != (data.get("restrict_end") is None):
            self.add_error("restrict_end", "Give both times, or neither for whole days.")
        return data

    def spec(self):
        from .actions import LayerSpec

        data = self.cleaned_data
        return LayerSpec(
            name=data["name"], start=data["start"], rotation=data["rotation_value"],
            handoff_time=data["handoff_time"], participants=data["participants"],
            restrict_days=[int(d) for d in data["restrict_days"]],
            restrict_start=data["restrict_start"], restrict_end=data["restrict_end"],
        )

    @staticmethod
    def initial_for(layer, tz):
        unit, count = parse_rotation(layer.rotation)
        kind = layer.rotation if layer.rotation in ("daily", "weekly") else unit
        return {
            "name": layer.name, "start": naive_local(layer.start, tz), "rotation": kind,
            "every": count if kind in ("hours", "days") else 1,
            "handoff_time": layer.handoff_time,
            "participants": "\n".join(u.email for u in layer.participant_users()),
            "restrict_days": [str(d) for d in layer.restrict_days],
            "restrict_start": layer.restrict_start, "restrict_end": layer.restrict_end,
        }


class BaseLayerFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if len(self.layer_forms()) > 20:
            raise forms.ValidationError("At most 20 layers.")

    def layer_forms(self):
        """The filled-in forms that are not marked for deletion, bottom layer first."""
        return [f for f in self.forms if f.has_changed() and not (self.can_delete and self._should_delete_form(f))]


LayerFormSet = forms.formset_factory(LayerForm, formset=BaseLayerFormSet, extra=1, can_delete=True, max_num=20)


class OverrideForm(forms.Form):
    user = forms.ModelChoiceField(queryset=None, label="Who")
    start = local_datetime_field(label="From")
    end = local_datetime_field(label="Until")

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = candidates

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end"):
            if data["end"] <= data["start"]:
                self.add_error("end", "Must be after the start.")
            elif data["end"] - data["start"] > dt.timedelta(days=366):
                self.add_error("end", "An override lasts at most a year.")
            elif data["end"] <= timezone.now():
                self.add_error("end", "This is already over.")
        return data


class ShiftForm(forms.Form):
    """A shift from the schedule page ("take this shift", "cover for me"): instants as ISO strings."""

    start = forms.DateTimeField(widget=forms.HiddenInput)
    end = forms.DateTimeField(widget=forms.HiddenInput)
    user = forms.ModelChoiceField(queryset=None, required=False, label="Who covers")

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = candidates

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end"):
            # What is already over cannot be taken: the override starts now at the earliest.
            data["start"] = max(data["start"], timezone.now().replace(microsecond=0))
            if data["end"] <= data["start"]:
                raise forms.ValidationError("This shift is already over.")
            if data["end"] - data["start"] > dt.timedelta(days=366):
                raise forms.ValidationError("A shift to take lasts at most a year.")
        return data
