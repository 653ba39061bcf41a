from __future__ import annotations

from django import forms

from memportal.memory.validation import ID_PATTERN

AGENTS = [("travel_planner", "Travel planner"), ("chef_recommender", "Chef recommender")]


class AppKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which app server uses it, e.g. 'concierge web backend'.")
    can_read = forms.BooleanField(required=False, initial=True, label="Read")
    can_write = forms.BooleanField(required=False, initial=True, label="Write")
    can_admin = forms.BooleanField(
        required=False, label="Tenant admin",
        help_text="Allows deleting every memory of this tenant (offboarding). Give it to almost no key.",
    )
    expires_at = forms.DateTimeField(required=False, label="Expires (optional, UTC)",
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args, may_grant_admin: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_grant_admin:  # memportal.access.key_grant_check refuses it anyway
            del self.fields["can_admin"]

    def permissions(self) -> list[str]:
        d = self.cleaned_data
        return [p for p, on in (("read", d["can_read"]), ("write", d["can_write"]),
                                ("tenant_admin", d.get("can_admin", False))) if on]

    def clean(self) -> dict:
        data = super().clean()
        if not (data.get("can_read") or data.get("can_write") or data.get("can_admin")):
            raise forms.ValidationError("Choose at least one permission.")
        return data


class TurnForm(forms.Form):
    agent = forms.ChoiceField(choices=AGENTS)
    run_id = forms.RegexField(regex=ID_PATTERN, max_length=128)
    message = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
