"""docs/api.md served as a page, so the keys page links to a guide rather than naming a path."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET
from markdown_it import MarkdownIt

API_DOC = settings.BASE_DIR / "docs" / "api.md"


@lru_cache(maxsize=1)
def _api_html(mtime: float) -> str:
    # "commonmark" with html=False escapes any raw HTML in the file: the page shows text, never markup.
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    return md.render(API_DOC.read_text(encoding="utf-8"))


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    html = _api_html(API_DOC.stat().st_mtime)
    return render(request, "docs/page.html", {"title": "The memory API", "body": mark_safe(html)})  # noqa: S308
