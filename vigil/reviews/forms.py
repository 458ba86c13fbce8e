from django import forms

from vigil.accounts.models import User

from .models import ActionItem, FactorCategory, FixType, RootCauseCategory, Technique

EXTRA_ROWS = 3


def team_people(team, also=None):
    """Active members of the team (and `also`, e.g. the service's project manager), by name."""
    people = User.objects.filter(is_active=True, memberships__team=team)
    if also is not None:
        people = people | User.objects.filter(pk=also.pk)
    return people.distinct().order_by("name", "email")


class ReviewForm(forms.Form):
    title = forms.CharField(max_length=255)
    root_cause_category = forms.ChoiceField(choices=RootCauseCategory.choices, required=False)
    root_cause = forms.CharField(max_length=500, required=False, label="Root cause in one line")
    fix_type = forms.ChoiceField(choices=FixType.choices, required=False, label="Fix applied")
    technique = forms.ChoiceField(choices=Technique.choices, label="Root cause technique")
    reviewers = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False,
                                               widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, review, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = team_people(review.team, review.incident.service.project_manager)
        self.section_keys = []
        for key, title, prompt, _text in review.section_list():
            name = f"section_{key}"
            self.section_keys.append((key, name))
            self.fields[name] = forms.CharField(label=title, help_text=prompt, required=False, max_length=100_000,
                                                widget=forms.Textarea(attrs={"rows": 5}))

    def section_fields(self):
        return [self[name] for _key, name in self.section_keys]


class WhyForm(forms.Form):
    node_id = forms.IntegerField(widget=forms.HiddenInput)
    parent = forms.IntegerField(required=False, min_value=1, label="Follows why #",
                                help_text="Empty for a first-level why; the same number on two whys makes a branch.")
    why = forms.CharField(required=False, max_length=2000, label="Why?")
    answer = forms.CharField(required=False, max_length=5000, label="Because", widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.CharField(required=False, max_length=20000, label="Evidence links (one per line)",
                               widget=forms.Textarea(attrs={"rows": 1}))


class FactorForm(forms.Form):
    category = forms.ChoiceField(choices=FactorCategory.choices)
    description = forms.CharField(required=False, max_length=5000)


class TimelineForm(forms.Form):
    at = forms.DateTimeField(required=False, label="Time")
    text = forms.CharField(required=False, max_length=5000, label="What happened")


WhyFormSet = forms.formset_factory(WhyForm, extra=0)
FactorFormSet = forms.formset_factory(FactorForm, extra=EXTRA_ROWS)
TimelineFormSet = forms.formset_factory(TimelineForm, extra=EXTRA_ROWS - 1)


def whys_formset(review, data=None):
    next_id = max((w["id"] for w in review.whys), default=0)
    initial = [{"node_id": w["id"], "parent": w["parent"], "why": w["why"], "answer": w["answer"],
                "evidence": "\n".join(w["evidence"])} for w in review.whys]
    initial += [{"node_id": next_id + n} for n in range(1, EXTRA_ROWS + 1)]
    return WhyFormSet(data, initial=initial, prefix="whys")


def whys_from(formset):
    return [{"id": f.cleaned_data["node_id"], "parent": f.cleaned_data.get("parent"), "why": f.cleaned_data["why"],
             "answer": f.cleaned_data.get("answer", ""),
             "evidence": [line.strip() for line in f.cleaned_data.get("evidence", "").splitlines() if line.strip()]}
            for f in formset if f.cleaned_data.get("why", "").strip()]


def factors_from(formset):
    return [{"category": f.cleaned_data["category"], "description": f.cleaned_data["description"]}
            for f in formset if f.cleaned_data.get("description", "").strip()]


def timeline_from(formset):
    return [{"at": f.cleaned_data["at"].isoformat(), "text": f.cleaned_data["text"]}
            for f in formset if f.cleaned_data.get("text", "").strip() and f.cleaned_data.get("at")]


class ActionItemForm(forms.ModelForm):
    external_url = forms.URLField(max_length=2000, required=False, assume_scheme="https", label="Ticket link")
    description = forms.CharField(max_length=20000, required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="Markdown.")

    class Meta:
        model = ActionItem
        fields = ["title", "kind", "owner", "due_date", "priority", "status", "wont_do_reason"]
        saved = [*fields, "external_url", "description"]
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"}), "wont_do_reason": forms.TextInput()}
        labels = {"wont_do_reason": "Reason (if won't do)"}

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = team_people(team)
        if self.instance.pk:
            self.initial.update(external_url=self.instance.external_url, description=self.instance.description)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(forms.Form):
    body = forms.CharField(max_length=20000, label="Comment", widget=forms.Textarea(attrs={"rows": 3}))


class SettingsForm(forms.Form):
    lead = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label="Team lead",
                                  help_text="Reviews post-incident reports and hears about overdue action items.")
    reviewers = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None chosen: the team lead and the service's project manager review.")
    remind_days_before = forms.IntegerField(min_value=0, max_value=60, label="Remind owners this many days before the due date")
    escalate_days_after = forms.IntegerField(min_value=0, max_value=60,
                                             label="Tell the team lead when an item is this many days overdue")

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = self.fields["reviewers"].queryset = team_people(team)


class SectionForm(forms.Form):
    key = forms.CharField(max_length=40, required=False, help_text="letters, digits and _")
    title = forms.CharField(max_length=100, required=False)
    prompt = forms.CharField(max_length=1000, required=False)


SectionFormSet = forms.formset_factory(SectionForm, extra=2)
