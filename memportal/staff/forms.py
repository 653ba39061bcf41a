"""The audit filter form. Its choices come from the tenant's own data, so a submitted value is
either one of those, "any", or rejected: no request value reaches a query unchecked."""

from __future__ import annotations

from django import forms

from memportal.memory.tenant_selectors import ANY, AuditFilter, FilterChoices
from memportal.memory.validation import MAX_PAGE

PAGE_SIZES = [25, 50, 100, 200]


def _choices(values: list[tuple[str, str]], noun: str) -> list[tuple[str, str]]:
    return [("", f"All (with or without {noun})"), ("any", f"Any {noun} (set)"), *values]


class AuditFilterForm(forms.Form):
    person = forms.ChoiceField(required=False)
    agent = forms.ChoiceField(required=False)
    session = forms.ChoiceField(required=False)
    q = forms.CharField(required=False, max_length=500, label="Search")
    mode = forms.ChoiceField(
        required=False, initial="text",
        choices=[("text", "Text contains"), ("semantic", "Meaning (semantic)")],
    )
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, initial=1)
    page_size = forms.TypedChoiceField(
        required=False, coerce=int, choices=[(n, str(n)) for n in PAGE_SIZES], initial=50, empty_value=50
    )

    def __init__(self, *args, choices: FilterChoices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [
            ("", "Everyone"), ("any", "Any person (set)"), *choices.people
        ]
        self.fields["agent"].choices = _choices([(a, a) for a in choices.agents], "agent")
        self.fields["session"].choices = _choices([(s, s) for s in choices.sessions], "session")

    def clean(self) -> dict:
        data = super().clean()
        # A widget reads only the last value of a repeated parameter, so "?person=a&person=b"
        # would filter by b while a link or a reviewer reads a: refuse the ambiguity instead.
        getlist = getattr(self.data, "getlist", None)
        if getlist is not None:
            for name in self.fields:
                if len(getlist(name)) > 1:
                    self.add_error(name, "Given more than once: choose one value.")
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("'From' must not be after 'To'.")
        return data

    def audit_filter(self, *, with_text: bool = True) -> AuditFilter:
        """The server-side filter; only valid after is_valid()."""
        data = self.cleaned_data

        def scope(name: str) -> str | None:
            value = data.get(name) or None
            return ANY if value == "any" else value

        text = (data.get("q") or "").strip() or None
        return AuditFilter(
            person=scope("person"), agent=scope("agent"), session=scope("session"),
            text=text if with_text and self.search_mode == "text" else None,
            date_from=data.get("date_from"), date_to=data.get("date_to"),
        )

    @property
    def search_mode(self) -> str:
        return self.cleaned_data.get("mode") or "text"

    @property
    def query(self) -> str:
        return (self.cleaned_data.get("q") or "").strip()
