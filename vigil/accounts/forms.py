from django import forms

from .models import Role, Team, User


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100, label="Team name")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Team.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("A team with this name exists.")
        return name


class AddMemberForm(forms.Form):
    email = forms.EmailField(help_text="The person must already have a Vigil account.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.RESPONDER)

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team

    def clean_email(self):
        email = self.cleaned_data["email"]
        self.user = User.objects.filter(email__iexact=email, is_active=True).first()
        if self.user is None:
            raise forms.ValidationError("No one has an account with this email. A site admin can create it.")
        if self.team.memberships.filter(user=self.user).exists():
            raise forms.ValidationError("Already a member of this team.")
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “deploy script”.")
