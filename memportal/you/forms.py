"""Forms for the "Your data" pages. None of them names a person or a tenant."""

from __future__ import annotations

from django import forms
from django.conf import settings

ERASE_ALL_PHRASE = "delete everything"
DELETE_ACCOUNT_PHRASE = "delete my account"


class MemoryEditForm(forms.Form):
    text = forms.CharField(
        label="Memory text",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=settings.MEMPORTAL["MAX_MEMORY_CHARS"],
        strip=True,
    )


class PhraseForm(forms.Form):
    """Typing a phrase proves the person means an irreversible erasure (not a stray click)."""

    confirm = forms.CharField(label="Type the phrase to confirm", strip=True)

    def __init__(self, *args, phrase: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.phrase = phrase
        self.fields["confirm"].label = f"Type “{phrase}” to confirm"
        self.fields["confirm"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"]
        if value.strip().lower() != self.phrase:
            raise forms.ValidationError(f"Type exactly “{self.phrase}”; nothing was erased.")
        return value
