""""What would the agent see?": the person asks a question as one of their apps would and sees
exactly what that app's API search (``POST /v1/memories/search/`` with their user_id) answers.

It calls the API's own selector, ``api_selectors.memory_search_where``, with the clause the API
builds for one person, so the scope (the tenant, and only people the app knows by its own id),
the ranking and any relevance floor can never drift from what the app gets. It is the person
looking, not the app: no key read is recorded.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from memportal import access
from memportal.memory import api_selectors
from memportal.memory.api_selectors import Clause
from memportal.memory.errors import InvalidInput
from memportal.memory.models import Membership

from . import selectors as you_selectors
from .views import person_required

#: The API's default top_k (memportal.agents.api.views.memories_search).
API_DEFAULT_TOP_K = 10


def agent_search(*, member: Membership, query: str, limit: int = API_DEFAULT_TOP_K) -> list:
    """What the app's API search returns for this person and query (InvalidInput as the API's 400)."""
    return api_selectors.memory_search_where(
        tenant=member.tenant, clauses=[Clause(subject_id=member.subject_id)], query=query, limit=limit,
    )


@person_required
@require_GET
def agent_view(request: HttpRequest, member: Membership) -> HttpResponse:
    members = you_selectors.member_choices(request=request)
    slug = (request.GET.get("app") or "").strip()
    # Only one of the person's own apps; any other slug is a 404 like a missing one.
    chosen = access.person_membership_choose(members=members, tenant_slug=slug) if slug else member
    query = (request.GET.get("q") or "").strip()
    context: dict[str, Any] = {
        "members": members, "chosen": chosen, "q": query, "results": None,
        "app_knows_you": bool(chosen.external_id),
    }
    status = 200
    if query:
        try:
            context["results"] = agent_search(member=chosen, query=query)
        except InvalidInput as exc:
            context["error"], status = f"{exc.field}: {exc.message}", 400
    return render(request, "you/agent_view.html", context, status=status)
