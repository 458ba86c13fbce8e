import zoneinfo

from django import forms
from django.core.validators import URLValidator

from vigil.accounts.models import Role, Team
from vigil.catalog.models import Service

from .models import Component, ComponentStatus, IncidentStatus, MaintenanceStatus, StatusPage, Subscriber

LOGO_MAX_BYTES = 200_000
# By their first bytes, not by what the browser says; no SVG (it can carry script).
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif"}


def teams_where(user, role):
    teams = Team.objects.order_by("name")
    if user.is_superuser:
        return teams
    roles = [Role.ADMIN] if role == Role.ADMIN else [Role.ADMIN, Role.RESPONDER]
    return teams.filter(memberships__user=user, memberships__role__in=roles)


class PageForm(forms.ModelForm):
    logo_file = forms.FileField(required=False, label="Logo", help_text="PNG, JPEG or GIF, at most 200 kB.")
    remove_logo = forms.BooleanField(required=False)

    class Meta:
        model = StatusPage
        fields = ["team", "name", "slug", "public", "accent_colour", "footer", "custom_domain", "time_zone"]
        widgets = {"accent_colour": forms.TextInput(attrs={"type": "color"}), "footer": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_where(user, Role.ADMIN)
        self.fields["team"].empty_label = None
        if not self.instance._state.adding:
            del self.fields["team"]
        else:
            del self.fields["remove_logo"]

    def clean_time_zone(self):
        name = self.cleaned_data["time_zone"]
        if name not in zoneinfo.available_timezones():
            raise forms.ValidationError("Not a time zone name such as Etc/UTC or Europe/Paris.")
        return name

    def clean_logo_file(self):
        upload = self.cleaned_data.get("logo_file")
        if not upload:
            return None
        if upload.size > LOGO_MAX_BYTES:
            raise forms.ValidationError("The logo is larger than 200 kB.")
        data = upload.read()
        kind = next((t for magic, t in LOGO_TYPES.items() if data.startswith(magic)), None)
        if kind is None:
            raise forms.ValidationError("The logo must be a PNG, JPEG or GIF image.")
        return data, kind

    def save(self, commit=True):
        page = super().save(commit=False)
        if self.cleaned_data.get("remove_logo"):
            page.logo, page.logo_type = None, ""
        if self.cleaned_data.get("logo_file"):
            page.logo, page.logo_type = self.cleaned_data["logo_file"]
        if commit:
            page.save()
        return page


class ComponentForm(forms.ModelForm):
    class Meta:
        model = Component
        fields = ["name", "description", "service", "is_group", "group", "position", "status_override",
                  "showcase", "only_show_if_degraded"]
        labels = {"status_override": "Status set by hand", "is_group": "This is a group of components"}
        help_texts = {"status_override": "Empty: the status follows the service's open incidents."}

    def __init__(self, *args, page, **kwargs):
        super().__init__(*args, **kwargs)
        self.page = page
        self.instance.page = page
        self.fields["service"].queryset = Service.objects.filter(team_id=page.team_id)
        self.fields["group"].queryset = page.components.filter(is_group=True).exclude(pk=self.instance.pk)
        self.fields["status_override"].choices = [("", "— follow incidents —"), *ComponentStatus.choices]

    def clean(self):
        data = super().clean()
        if data.get("is_group") and data.get("group"):
            self.add_error("group", "A group cannot sit inside another group.")
        if data.get("is_group") and data.get("service"):
            self.add_error("service", "A group takes its status from its components; map the service to a component.")
        name = data.get("name")
        if name and self.page.components.filter(name=name).exclude(pk=self.instance.pk).exists():
            self.add_error("name", "This page already has a component of that name.")
        return data


class PageComponentsField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple


class MaintenanceForm(forms.Form):
    name = forms.CharField(max_length=255, label="Title")
    components = PageComponentsField(queryset=Component.objects.none())
    scheduled_for = forms.DateTimeField(label="Starts", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    scheduled_until = forms.DateTimeField(label="Ends", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    body = forms.CharField(required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 3}),
                           label="What customers are told", help_text="Empty: a standard text naming the components.")

    def __init__(self, *args, page, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = page.components.filter(is_group=False)

    def clean(self):
        data = super().clean()
        if data.get("scheduled_for") and data.get("scheduled_until") and data["scheduled_until"] <= data["scheduled_for"]:
            self.add_error("scheduled_until", "The maintenance must end after it starts.")
        return data


class MaintenanceUpdateForm(forms.Form):
    status = forms.ChoiceField(choices=MaintenanceStatus.choices)
    body = forms.CharField(required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 2}))


class SubscriberForm(forms.Form):
    kind = forms.ChoiceField(choices=Subscriber.Kind.choices)
    address = forms.CharField(max_length=2000, help_text="An email address or an http(s) URL.")
    components = PageComponentsField(queryset=Component.objects.none(), required=False,
                                     help_text="None ticked: every component.")

    def __init__(self, *args, page, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["components"].queryset = page.components.filter(is_group=False)

    def clean(self):
        data = super().clean()
        address = data.get("address", "").strip()
        try:
            if data.get("kind") == Subscriber.Kind.EMAIL:
                forms.EmailField().clean(address)
                data["address"] = address.lower()
            elif data.get("kind") == Subscriber.Kind.WEBHOOK:
                URLValidator(schemes=["http", "https"])(address)
        except forms.ValidationError:
            self.add_error("address", "Enter an email address for email, an http(s) URL for a webhook.")
        return data


class PublicUpdateForm(forms.Form):
    page = forms.ModelChoiceField(queryset=StatusPage.objects.none(), empty_label=None, label="Status page")
    name = forms.CharField(max_length=255, required=False, label="Public title",
                           help_text="What customers see; empty keeps the current one (at first: the incident's title).")
    status = forms.ChoiceField(choices=IncidentStatus.choices)
    body = forms.CharField(required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 3}),
                           label="Message for customers",
                           help_text="Empty: the standard text for the status. Never paste the internal timeline.")

    def __init__(self, *args, pages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["page"].queryset = pages
