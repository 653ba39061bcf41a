"""Import into one app: upload a download file or paste a list of facts, see a preview, confirm.

The preview lives server-side in the person's session (never in the form), bound to the
signed-in user and the chosen membership, with a one-time token: the confirm stores exactly what
the preview showed, for the app it showed, and only once.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from memportal import access
from memportal.memory.errors import InvalidInput, MembershipEnded, MemoryPaused
from memportal.memory.imports import import_parse, limits, memory_import
from memportal.memory.models import Membership

from . import selectors as you_selectors
from .views import person_required

SESSION_KEY = "you_import_preview"


class ImportForm(forms.Form):
    tenant = forms.ChoiceField(label="Into which app")
    file = forms.FileField(label="A download file (JSON) or a text file with one fact per line", required=False)
    text = forms.CharField(label="Or paste facts, one per line", required=False, strip=False,
                           widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args, members: list[Membership], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tenant"].choices = [(m.tenant.slug, m.tenant.name) for m in members]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("file") and not (data.get("text") or "").strip():
            raise forms.ValidationError("Choose a file or paste some facts; nothing was imported.")
        if data.get("file") and (data.get("text") or "").strip():
            raise forms.ValidationError("Import a file or pasted facts, not both at once; nothing was imported.")
        return data


def _limits_context() -> dict[str, int]:
    max_bytes, max_facts, max_chars = limits()
    return {"max_kb": max_bytes // 1024, "max_facts": max_facts, "max_chars": max_chars}


@person_required
@require_http_methods(["GET", "POST"])
def import_start(request: HttpRequest, member: Membership) -> HttpResponse:
    members = you_selectors.member_choices(request=request)
    form = ImportForm(request.POST or None, request.FILES or None, members=members,
                      initial={"tenant": member.tenant.slug})
    context: dict[str, Any] = {"form": form, **_limits_context()}
    if request.method == "GET":
        # Opening the form (also "Cancel" on the preview) drops a pending preview: its facts are
        # the person's text and stay in the session no longer than needed.
        request.session.pop(SESSION_KEY, None)
        return render(request, "you/import.html", context)
    if not form.is_valid():
        return render(request, "you/import.html", context, status=400)
    chosen = access.person_membership_choose(members=members, tenant_slug=form.cleaned_data["tenant"])
    max_bytes = limits()[0]
    upload = form.cleaned_data.get("file")
    if upload is not None and upload.size > max_bytes:
        form.add_error("file", f"The file is {upload.size:,} bytes; the limit is {max_bytes:,}. Nothing was imported.")
        return render(request, "you/import.html", context, status=400)
    raw = upload.read(max_bytes + 1) if upload is not None else form.cleaned_data["text"].encode()
    try:
        preview = import_parse(member=chosen, raw=raw)
    except InvalidInput as exc:
        field = "file" if upload is not None else "text"
        what = "The file" if upload is not None else "The pasted text"
        form.add_error(field, f"{what} {exc.message}. Nothing was imported.")
        return render(request, "you/import.html", context, status=400)
    token = secrets.token_urlsafe(16)
    request.session[SESSION_KEY] = {
        "token": token, "user": request.user.pk, "membership": chosen.pk, "texts": preview.add,
    }
    return render(request, "you/import_preview.html", {
        "preview": preview, "member": chosen, "token": token, **_limits_context(),
    })


@person_required
@require_POST
def import_confirm(request: HttpRequest, member: Membership) -> HttpResponse:
    stored = request.session.get(SESSION_KEY)
    token = request.POST.get("token", "")
    if (not isinstance(stored, dict) or not token or not secrets.compare_digest(str(stored.get("token")), token)
            or stored.get("user") != request.user.pk):
        messages.error(request, "That preview has expired or was already imported; nothing was imported. "
                                "Start again.")
        return redirect("you:import")
    chosen = next((m for m in you_selectors.member_choices(request=request) if m.pk == stored.get("membership")), None)
    del request.session[SESSION_KEY]  # one use, whatever happens next
    if chosen is None:
        messages.error(request, "You no longer belong to that app; nothing was imported.")
        return redirect("you:import")
    try:
        result = memory_import(member=chosen, texts=list(stored.get("texts") or []))
    except MemoryPaused:
        messages.error(request, f"Memory is paused for {chosen.tenant.name}; nothing was imported. "
                                "Resume memory first, then import again.")
        return redirect("you:import")
    except MembershipEnded:
        messages.error(request, "That app no longer keeps memories about you; nothing was imported.")
        return redirect("you:import")
    except InvalidInput as exc:
        messages.error(request, f"{exc.message}; nothing was imported.")
        return redirect("you:import")
    n = len(result.added)
    skipped = f" {result.skipped} skipped as already remembered." if result.skipped else ""
    messages.success(request, f"Imported {n} memor{'y' if n == 1 else 'ies'} into {chosen.tenant.name}.{skipped}")
    request.session[you_selectors.TENANT_SESSION_KEY] = chosen.tenant.slug
    return redirect("you:list")
