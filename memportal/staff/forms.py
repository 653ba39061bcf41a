"""The audit filter form. Person, agent and session are text fields (with a searchable lookup when
JavaScript runs); a submitted value is resolved inside the tenant — a person's label or subject
id, an agent/session id that the tenant's memories carry — or "any", or it is a form error (400):
no request value reaches a query unchecked and an unknown value never widens the filter."""

from __future__ import annotations

from django import forms
from django.urls import reverse

from memportal.memory import tenant_selectors
from memportal.memory.errors import InvalidInput
from memportal.memory.models import Tenant
from memportal.memory.tenant_selectors import ANY, AuditFilter
from memportal.memory.validation import MAX_PAGE, clean_id

PAGE_SIZES = [25, 50, 100, 200]

#: form field -> the mem0 payload key its lookup and check use (person is resolved separately)
LOOKUPS = {"person": "user_id", "agent": "agent_id", "session": "run_id"}

_HELP = {
    "person": "Email, the app's id or a subject id; \"any\" = any person; empty = everyone.",
    "agent": "An agent id; \"any\" = any agent set; empty = with or without.",
    "session": "A session id; \"any\" = any session set; empty = with or without.",
}


def _lookup_field(name: str) -> forms.CharField:
    return forms.CharField(
        required=False, max_length=254, help_text=_HELP[name],
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class AuditFilterForm(forms.Form):
    person = _lookup_field("person")
    agent = _lookup_field("agent")
    session = _lookup_field("session")
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

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        for name in LOOKUPS:
            # Progressive enhancement: htmx fills the <datalist> with at most LOOKUP_LIMIT suggestions
            # as the staff member types; without JavaScript this is a plain text field.
            self.fields[name].widget.attrs.update({
                "list": f"{name}-suggestions",
                "hx-get": reverse("staff:lookup", args=[tenant.slug, name]),
                "hx-trigger": "input changed delay:250ms, focus once",
                "hx-target": f"#{name}-suggestions",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
            })

    def _clean_scope(self, name: str) -> str:
        """"" (no condition), "any", or a value checked against the tenant (one indexed query)."""
        value = (self.cleaned_data.get(name) or "").strip()
        if value == "" or value.lower() == "any":
            return value.lower()
        try:
            if name == "person":
                return tenant_selectors.person_resolve(tenant=self.tenant, value=value)
            value = clean_id(value, field=name)
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from exc
        if not tenant_selectors.scope_value_exists(tenant=self.tenant, key=LOOKUPS[name], value=value):
            raise forms.ValidationError(f"no memory of this tenant has this {name} id")
        return value

    def clean_person(self) -> str:
        return self._clean_scope("person")

    def clean_agent(self) -> str:
        return self._clean_scope("agent")

    def clean_session(self) -> str:
        return self._clean_scope("session")

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
